"""Fixes across the whole catalog: every fix yields code that parses, and applying every safe fix to a file and
checking again yields no new fixable finding (issue #5, item 2). Runs all rules together on the example files and
on every rule's own examples, so one rule's fix is also checked against every other rule."""

from pathlib import Path

import libcst as cst
import pytest

from tensorlint.analyzers import Settings, all_rules, apply_fixes, check_source

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def _sources():
    for path in sorted(EXAMPLES.glob("*.py")):
        yield pytest.param(path.read_text(encoding="utf-8"), id=f"examples/{path.name}")
    for code, rule in all_rules().items():
        for index, example in enumerate(rule.invalid):
            yield pytest.param(example.code, id=f"{code}-invalid-{index}")
        for index, example in enumerate(rule.valid):
            yield pytest.param(example, id=f"{code}-valid-{index}")


SOURCES = list(_sources())


def _safe_fixes(findings):
    return [f.fix for f in findings if f.fix is not None and f.fix.safe]


@pytest.mark.parametrize("source", SOURCES)
def test_fixes_parse_and_safe_fixes_are_idempotent(source):
    before = check_source(source, "example.py", Settings())
    assert before.errors == ()
    for finding in before.findings:
        if finding.fix is not None:  # every fix, safe or not, yields code that parses on its own
            alone, applied = apply_fixes(source, [finding.fix])
            assert applied == 1
            cst.parse_module(alone)
    fixes = _safe_fixes(before.findings)
    fixed, applied = apply_fixes(source, fixes)
    cst.parse_module(fixed)
    after = check_source(fixed, "example.py", Settings())
    assert after.errors == ()
    left = _safe_fixes(after.findings)
    # only fixes that overlapped an applied one may still be pending; nothing new may appear
    assert len(left) <= len(fixes) - applied, [f.title for f in left]


def test_examples_keep_showing_many_codes():
    codes = set()
    for path in EXAMPLES.glob("*.py"):
        codes |= {f.code for f in check_source(path.read_text(encoding="utf-8"), str(path), Settings()).findings}
    assert len(codes) >= 8, sorted(codes)
