"""Every rule proves itself on its own examples (the Fixit pattern): valid code stays quiet, invalid code is
flagged, and each stated fix produces exactly the stated text, which parses."""

import libcst as cst
import pytest

from tensorlint.analyzers import Settings, all_rules, apply_fixes, check_source
from tensorlint.analyzers.config import DEPLOYMENT_SCENARIOS

RULES = all_rules()
DOC_SECTIONS = ("## What it does", "## Why is this bad", "## Example", "## Use instead")


def _only(code: str) -> Settings:
    # every scenario declared, so the DP rules (quiet for undeclared scenarios) run on their examples
    return Settings(select=(code,), deployment=DEPLOYMENT_SCENARIOS)


def _cases(kind: str):
    for code, rule in RULES.items():
        for index, example in enumerate(getattr(rule, kind)):
            yield pytest.param(code, example, id=f"{code}-{kind}-{index}")


@pytest.mark.parametrize("code,source", list(_cases("valid")))
def test_valid_example_is_quiet(code, source):
    result = check_source(source, "example.py", _only(code))
    assert [f for f in result.findings if f.code == code] == []
    assert result.errors == ()


@pytest.mark.parametrize("code,example", list(_cases("invalid")))
def test_invalid_example_is_flagged_and_fixed(code, example):
    result = check_source(example.code, "example.py", _only(code))
    assert result.errors == ()
    flagged = [f for f in result.findings if f.code == code]
    assert flagged, f"{code} did not flag its own invalid example"
    for finding in flagged:
        assert finding.range.start <= finding.range.end
    if example.fixed is not None:
        fixes = [f.fix for f in flagged if f.fix is not None]
        assert fixes, f"{code} states a fixed text but offers no fix"
        fixed, applied = apply_fixes(example.code, fixes)
        assert fixed == example.fixed
        cst.parse_module(fixed)
        again = check_source(fixed, "example.py", _only(code)).findings
        assert not [f for f in again if f.code == code and f.fix is not None], "fix is not idempotent"


@pytest.mark.parametrize("code", list(RULES))
def test_rule_is_documented(code):
    rule = RULES[code]
    doc = rule.documentation()
    for section in DOC_SECTIONS:
        assert section in doc, f"{code} documentation lacks {section!r}"
    assert rule.name and rule.summary()
    assert rule.valid and rule.invalid
    assert rule.fixable == any(e.fixed is not None for e in rule.invalid) or rule.fixable
