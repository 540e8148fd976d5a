"""The engine: name resolution through imports, positions, suppressions, fault isolation, bad input."""

import gc

import libcst as cst
import pytest

from tensorlint.analyzers import Settings, check_source, decode
from tensorlint.analyzers.collection import collection_paused
from tensorlint.analyzers.engine import SYNTAX_ERROR, UNDECODABLE, _check_parsed, suppression_comment
from tensorlint.analyzers.frameworks import ImportTable
from tensorlint.analyzers.incremental import IncrementalChecker
from tensorlint.analyzers.rule import STATEMENT_SCOPE, Invalid, Rule, _REGISTRY
from tensorlint.analyzers.findings import Severity


@pytest.mark.parametrize("imports,expr,expected", [
    ("import torch.nn as nn", "nn.Linear", "torch.nn.Linear"),
    ("from torch import nn", "nn.Conv2d", "torch.nn.Conv2d"),
    ("from torch.nn import functional as F", "F.softmax", "torch.nn.functional.softmax"),
    ("import torch", "torch.nn.functional.relu", "torch.nn.functional.relu"),
    ("import torch.nn", "torch.nn.Linear", "torch.nn.Linear"),
    ("import tensorflow as tf", "tf.keras.layers.Dense", "keras.layers.Dense"),
    ("from tensorflow import keras", "keras.layers.Dense", "keras.layers.Dense"),
    ("import keras", "keras.layers.Dense", "keras.layers.Dense"),
    ("from keras import layers", "layers.Dense", "keras.layers.Dense"),
    ("from keras.src.layers.core.dense import Dense", "Dense", "keras.layers.Dense"),
    ("from torch.nn.modules.linear import Linear", "Linear", "torch.nn.Linear"),
    ("import numpy as np", "np.random.rand", "numpy.random.rand"),
    ("", "nn.Linear", None),
])
def test_import_table_resolves_aliases(imports, expr, expected):
    table = ImportTable()
    table.collect(cst.parse_module(imports + "\n").body)
    assert table.resolve(cst.parse_expression(expr)) == expected


@pytest.mark.parametrize("imports,expr,flavor", [
    ("import tensorflow as tf", "tf.keras.layers.Dense", "tf.keras"),
    ("from tensorflow import keras", "keras.Model", "tf.keras"),
    ("import keras", "keras.Model", "keras"),
    ("import torch", "torch.nn.Linear", None),
])
def test_keras_flavor(imports, expr, flavor):
    table = ImportTable()
    table.collect(cst.parse_module(imports + "\n").body)
    assert table.keras_flavor(cst.parse_expression(expr)) == flavor


def test_local_name_shadowing_import_is_not_resolved_as_framework():
    source = "def f(torch):\n    torch.load('x')\n"
    assert check_source(source, "a.py").findings == ()


def test_findings_have_exact_ranges_on_non_ascii_lines():
    source = "import torch\ns = '日本語🙂'; sd = torch.load('m.pt')\n"
    (finding,) = check_source(source, "a.py", Settings(select=("PT006",))).findings
    line = source.splitlines()[finding.range.start.line - 1]
    assert line[finding.range.start.column:finding.range.end.column] == "torch.load('m.pt')"


@pytest.mark.parametrize("comment,suppressed", [
    ("# tensorlint: ignore[PT006]", True),
    ("# tensorlint: ignore[PT001, PT006]", True),
    ("# tensorlint: ignore[PT001]", False),
    ("# tensorlint: ignore", True),
    ("# noqa: PT006", True),
    ("# noqa: PT001", False),
    ("# noqa", True),
    ("# NOQA:PT006", True),
    ("# unrelated comment", False),
])
def test_suppression_comments(comment, suppressed):
    source = f"import torch\nsd = torch.load('m.pt')  {comment}\n"
    codes = [f.code for f in check_source(source, "a.py").findings]
    assert ("PT006" not in codes) is suppressed


def test_suppression_comment_helper_adds_codes():
    assert suppression_comment("x = 1", "PT001") == "x = 1  # tensorlint: ignore[PT001]"
    assert suppression_comment("x = 1  # tensorlint: ignore[PT001]", "PT002") == "x = 1  # tensorlint: ignore[PT001, PT002]"


def test_syntax_error_is_a_finding():
    (finding,) = check_source("import torch\ndef f(:\n    pass\n", "a.py").findings
    assert finding.code == SYNTAX_ERROR and finding.severity is Severity.ERROR
    assert finding.range.start.line == 2


def test_undecodable_bytes_are_a_finding():
    text, finding = decode(b"x = 1\ny = '\xff'\n", "a.py")
    assert text is None and finding.code == UNDECODABLE and finding.range.start.line == 2


def test_bom_is_stripped():
    text, finding = decode("\ufeffimport torch\n".encode(), "a.py")
    assert finding is None and text == "import torch\n"


def test_a_crashing_rule_is_isolated():
    class Exploding(Rule):
        """## What it does
        Crashes (test only).
        ## Why is this bad
        -
        ## Example
        -
        ## Use instead
        -
        """

        code = "PT999"
        name = "exploding"
        severity = Severity.INFO
        message = "boom"

        def visit_Call(self, node):
            raise ZeroDivisionError("boom")

    try:
        result = check_source("import torch\nsd = torch.load('m.pt')\n", "a.py", Settings(select=("PT006", "PT999")))
        assert [f.code for f in result.findings] == ["PT006"]
        assert result.errors and result.errors[0].startswith("PT999: ZeroDivisionError")
    finally:
        _REGISTRY.pop("PT999", None)


def test_deeply_nested_input_does_not_crash():
    source = "x = " + "(" * 200 + "1" + ")" * 200 + "\n"
    result = check_source(source, "a.py")
    assert all(f.code == SYNTAX_ERROR for f in result.findings)


def test_statement_rules_get_a_fresh_instance_per_top_level_statement():
    class CountsCalls(Rule):  # no `code` in its body: not registered
        scope = STATEMENT_SCOPE
        severity = Severity.INFO

        def __init__(self, ctx):
            super().__init__(ctx)
            self.calls = 0

        def visit_Call(self, node):
            self.calls += 1
            self.report(node, f"call {self.calls}")

    CountsCalls.code = "ZZ900"
    module = cst.parse_module("f()\ng()\ndef h():\n    a()\n    b()\n")
    result = _check_parsed(module, module.code, "x.py", Settings(), [CountsCalls])
    assert [(f.range.start.line, f.message) for f in result.findings] == [
        (1, "call 1"), (2, "call 1"), (4, "call 1"), (5, "call 2")]


def test_statement_rule_state_set_outside_init_does_not_reach_the_next_statement():
    class RemembersLazily(Rule):  # keeps state it never declared in __init__
        scope = STATEMENT_SCOPE
        severity = Severity.INFO

        def visit_Call(self, node):
            self.report(node, "again" if getattr(self, "seen", False) else "first")
            self.seen = True

    RemembersLazily.code = "ZZ902"
    module = cst.parse_module("f()\ng()\ndef h():\n    a()\n    b()\n")
    result = _check_parsed(module, module.code, "x.py", Settings(), [RemembersLazily])
    assert [(f.range.start.line, f.message) for f in result.findings] == [
        (1, "first"), (2, "first"), (4, "first"), (5, "again")]


def test_a_statement_rule_that_crashed_runs_again_on_the_next_statement():
    class CrashesOnF(Rule):
        scope = STATEMENT_SCOPE
        severity = Severity.INFO

        def visit_Call(self, node):
            if node.func.value == "f":
                raise ZeroDivisionError("boom")
            self.report(node, "seen")

    CrashesOnF.code = "ZZ903"
    module = cst.parse_module("f(); g()\nh()\n")
    result = _check_parsed(module, module.code, "x.py", Settings(), [CrashesOnF])
    assert [(f.range.start.line, f.message) for f in result.findings] == [(2, "seen")]
    assert len(result.errors) == 1 and result.errors[0].startswith("ZZ903: ZeroDivisionError")


def test_the_collector_is_paused_only_while_a_check_runs():
    seen = []

    class Observes(Rule):
        """## What it does
        Records whether the cyclic collector runs (test only).
        ## Why is this bad
        -
        ## Example
        -
        ## Use instead
        -
        """

        code = "PT998"
        name = "observes-the-collector"
        severity = Severity.INFO
        message = "-"

        def visit_Call(self, node):
            seen.append(gc.isenabled())

    source = "import torch\nx = torch.load('m.pt')\n"
    try:
        assert gc.isenabled()
        check_source(source, "a.py", Settings(select=("PT998",)))
        IncrementalChecker().check(source, "a.py", Settings(select=("PT998",)))
        assert seen == [False, False] and gc.isenabled()
        with pytest.raises(RuntimeError):
            with collection_paused():
                raise RuntimeError("a check that fails")
        assert gc.isenabled()
        gc.disable()  # a program that runs without the collector keeps it off
        check_source(source, "a.py", Settings(select=("PT998",)))
        assert not gc.isenabled()
    finally:
        gc.enable()
        _REGISTRY.pop("PT998", None)


def test_a_statement_rule_cannot_visit_the_module():
    with pytest.raises(ValueError, match="one top-level statement at a time"):
        class SeesEverything(Rule):
            code = "ZZ901"
            scope = STATEMENT_SCOPE

            def leave_Module(self, node):
                pass
    assert "ZZ901" not in _REGISTRY


def test_threads_reading_the_rules_while_the_packs_load_see_every_rule():
    # the server loads the packs on its analysis thread while its main thread reads settings naming rule codes:
    # every reader used to get an empty registry until the first loader finished (settings then fell back)
    import subprocess
    import sys

    probe = ("import threading\n"
             "from tensorlint.analyzers.rule import all_rules\n"
             "counts = []\n"
             "threads = [threading.Thread(target=lambda: counts.append(len(all_rules()))) for _ in range(4)]\n"
             "[t.start() for t in threads]\n[t.join() for t in threads]\nprint(*counts)\n")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    counts = [int(n) for n in done.stdout.split()]
    assert len(counts) == 4 and len(set(counts)) == 1 and counts[0] > 50, done.stdout + done.stderr
