"""analyzers.incremental: re-parsing only what an edit touched gives exactly what a full check gives."""

import random
import textwrap

from pathlib import Path

import libcst as cst
import pytest

from tensorlint.analyzers import Settings, check_source
from tensorlint.analyzers.incremental import IncrementalChecker, IncrementalParser

BLOCK = textwrap.dedent('''\

    # block {i}
    class Block{i}(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 4)
            self.parts = [nn.Linear(4, 4)]

        def forward(self, x):
            y = F.dropout(x, 0.5)
            x.to("cuda")
            return F.softmax(self.fc(y))


    def train{i}(model, loader, optimizer):
        total = 0
        for inputs, targets in loader:
            loss = F.cross_entropy(model(inputs), targets)
            loss.backward()
            optimizer.step()
            total += loss
        return total
    ''')
SOURCE = "import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n" + "".join(
    BLOCK.format(i=i) for i in range(8)) + "\nw = torch.load('w.pt')\n" + textwrap.dedent('''

    class Gate(nn.Module):
        def forward(self, x):
            if x.sum() > 0:
                return x.item()
            return x
    ''')
SNIPPETS = ["x", " ", "\n", "(", ")", ":", "\t", "# note\n", "é😀中\u0301", "\n\n# c\n", "    ", "pass\n",
            "y = torch.load('z')\n", "import keras\n", "'", '"""', "\\\n", "def g():\n    return 1\n"]


def same(checker, source, settings):
    incremental = checker.check(source, "model.py", settings)
    full = check_source(source, "model.py", settings)
    assert incremental == full
    return incremental


EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@pytest.mark.parametrize("seed_text", [
    SOURCE,
    *(pytest.param(path.read_text(encoding="utf-8"), id=path.name) for path in sorted(EXAMPLES.glob("*.py"))),
], ids=lambda text: "blocks" if text is SOURCE else None)
def test_random_edits_give_the_same_results_as_a_full_check(seed_text):
    # The examples are scripts: module-level bindings, imports and models that rules follow across statements.
    # Declared deployment scenarios bring in the DP rules, which report from visit_Module.
    rng = random.Random(7)
    settings = Settings(deployment=("server", "mobile", "web"))
    checker = IncrementalChecker()
    parser = checker.parser
    text = seed_text
    same(checker, text, settings)
    spliced = 0
    for step in range(150):
        previous = text
        where = rng.randrange(len(text) + 1)
        if rng.random() < 0.6:
            text = text[:where] + rng.choice(SNIPPETS) + text[where:]
        else:
            text = text[:where] + text[where + rng.randint(1, 12):]
        result = same(checker, text, settings)
        spliced += parser.reparsed_statements >= 0
        if result.findings and result.findings[0].code == "TL001":
            text = previous  # typing on: the next version parses again
            same(checker, text, settings)
        else:
            # the reused nodes print back what a whole-file parse prints (the text itself, but for the rare
            # backslash continuations that libcst itself does not round-trip)
            assert parser.parse(text).code == cst.parse_module(text).code
        spliced += parser.reparsed_statements >= 0
    assert spliced > 50, spliced  # most edits were spliced, not parsed whole


def test_an_edit_inside_one_function_reparses_only_that_function():
    parser = IncrementalParser()
    parser.parse(SOURCE)
    line = SOURCE.index("    total = 0", SOURCE.index("def train5"))
    edited = SOURCE[:line] + "    count = 1\n" + SOURCE[line:]
    module = parser.parse(edited)
    assert parser.reparsed_statements == 1
    assert module.code == edited


def test_syntax_errors_then_recovery():
    checker = IncrementalChecker()
    checker.check(SOURCE)
    cut = SOURCE.index("def train3")
    broken = SOURCE[:cut] + "def train3(:\n" + SOURCE[cut:]
    assert checker.check(broken) == check_source(broken)
    assert checker.check(SOURCE) == check_source(SOURCE)


def test_an_edit_inside_one_function_rechecks_only_that_function():
    checker = IncrementalChecker()
    checker.check(SOURCE, "model.py")
    assert checker.cache.rechecked == len(cst.parse_module(SOURCE).body)
    line = SOURCE.index("    return total", SOURCE.index("def train5"))
    edited = SOURCE[:line] + "    state = torch.load('state.pt')\n" + SOURCE[line:]
    result = checker.check(edited, "model.py")
    assert checker.cache.rechecked == 1
    assert result == check_source(edited, "model.py")
    assert "PT006" in {f.code for f in result.findings if f.range.start.line == edited[:line].count("\n") + 1}
    # every later statement moved one line down, and its reused findings with it
    assert checker.check(SOURCE, "model.py") == check_source(SOURCE, "model.py")
    assert checker.cache.rechecked == 1


def test_a_new_import_rechecks_every_statement():
    checker = IncrementalChecker()
    source = SOURCE.replace("import torch.nn.functional as F\n", "")
    before = checker.check(source, "model.py")
    assert not any(f.code == "PT007" for f in before.findings)  # `F` means nothing yet
    cut = source.index("# block 4")
    edited = source[:cut] + "import torch.nn.functional as F\n" + source[cut:]
    after = checker.check(edited, "model.py")
    assert after == check_source(edited, "model.py")
    # a module-level import gives its name to the whole module, the blocks before it included
    assert len([f for f in after.findings if f.code == "PT007"]) == 8
    assert checker.cache.rechecked == len(cst.parse_module(edited).body)


def test_a_module_level_binding_reaches_later_statements():
    # PT002 follows `batch = torch.randn(...)` from one top-level statement into a function defined later
    checker = IncrementalChecker()
    head = "import torch\n"
    tail = "\n\ndef move():\n    batch.to('cuda')\n"
    unbound = head + "batch = load()\n" + tail
    bound = head + "batch = torch.randn(2)\n" + tail
    assert checker.check(unbound, "s.py") == check_source(unbound, "s.py")
    result = checker.check(bound, "s.py")
    assert result == check_source(bound, "s.py")
    assert [f.code for f in result.findings] == ["PT002"]
