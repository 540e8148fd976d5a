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


# A script repeated: module-level code that the module-scope rules follow across statements (PT001 softmax into a
# loss defined later, PT014 eval() before a module-level backward, PT027/PT028 the move after the optimizer,
# PT032 the loader, PT005 the accumulated loss).
SCRIPT = textwrap.dedent('''\
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    from torch.utils.data import DataLoader


    class Net{i}(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 2)
            self.drop = nn.Dropout(0.5)

        def forward(self, x):
            return F.softmax(self.drop(self.fc(x)), dim=1)


    def evaluate{i}(model, loader):
        total = 0
        for x, y in loader:
            total += (model(x).argmax(1) == y).sum()
        return total


    model = Net{i}()
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    model.cuda()
    loader = DataLoader(data, batch_size=4)
    model.eval()
    total = 0
    for x, y in loader:
        optimizer.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        optimizer.step()
        total += loss
    print(evaluate{i}(model, loader))
    ''')
SCRIPTS = "".join(SCRIPT.format(i=i) + "\n\n" for i in range(4))
MODULE_LINES = ["model.train()\n", "model.eval()\n", "optimizer = torch.optim.Adam(model.parameters())\n",
                "model.to('cuda')\n", "import torch.nn as nn\n", "import keras\n", "criterion = nn.NLLLoss()\n",
                "loader = DataLoader(data, num_workers=2)\n", "if torch.cuda.is_available():\n    model.cuda()\n",
                "total = 0.0\n", "total += loss\n", "loss.backward()\n", "x = torch.randn(2).to('cuda', non_blocking=True)\n",
                "with torch.no_grad():\n    print(model(x))\n", "def fit(model, opt):\n    model.eval()\n    model(x).sum()"
                ".backward()\n    opt.step()\n", "# note\n", "\n"]


def test_module_level_edits_give_the_same_results_as_a_full_check():
    # lines typed and deleted between the module-level statements of scripts: they change what the module-scope
    # rules carry from one statement to the next (an optimizer, a mode, a loss name, a device check)
    rng = random.Random(11)
    checker = IncrementalChecker()
    text = SCRIPTS
    first = same(checker, text, Settings())
    assert {"PT001", "PT005", "PT014", "PT027", "PT028", "PT032"} <= {f.code for f in first.findings}
    for step in range(120):
        starts = [0] + [i + 1 for i, c in enumerate(text) if c == "\n" and text[i + 1:i + 2] not in (" ", "")]
        where = rng.choice(starts)
        if rng.random() < 0.6:
            text = text[:where] + rng.choice(MODULE_LINES) + text[where:]
        else:
            end = text.find("\n", where)
            text = text[:where] + text[end + 1:] if end >= 0 else text
        result = same(checker, text, Settings())
        if result.findings and result.findings[0].code == "TL001":
            text = SCRIPTS
            same(checker, text, Settings())


def test_an_edit_that_keeps_the_module_facts_walks_only_its_statement():
    checker = IncrementalChecker()
    checker.check(SCRIPTS, "train.py")
    # between two module-level imports, on a module-level line, inside a method: one statement walked each time
    for anchor, typed in (("import torch.nn as nn\n", "import torch.nn as nn  \n"),
                          ("criterion = nn.CrossEntropyLoss()\n", "criterion = nn.CrossEntropyLoss()  # CE\n"),
                          ("        return F.softmax(", "        # logits\n        return F.softmax(")):
        at = SCRIPTS.index(anchor, len(SCRIPTS) // 2)
        edited = SCRIPTS[:at] + typed + SCRIPTS[at + len(anchor):]
        result = checker.check(edited, "train.py")
        assert result == check_source(edited, "train.py")
        assert checker.cache.walked == 1, anchor
        assert len(result.findings) == len(check_source(SCRIPTS, "train.py").findings)
        assert checker.check(SCRIPTS, "train.py") == check_source(SCRIPTS, "train.py")
        assert checker.cache.walked == 1


def test_a_module_level_edit_that_changes_a_rules_state_reaches_the_statements_after_it():
    checker = IncrementalChecker()
    checker.check(SCRIPTS, "train.py")
    # `torch.cuda.is_available()` anywhere silences PT028 everywhere (a flag the rule carries)
    at = SCRIPTS.index("model = Net2()")
    edited = SCRIPTS[:at] + "use_gpu = torch.cuda.is_available()\n" + SCRIPTS[at:]
    result = checker.check(edited, "train.py")
    assert result == check_source(edited, "train.py")
    assert "PT028" in {f.code for f in check_source(SCRIPTS, "train.py").findings}
    assert "PT028" not in {f.code for f in result.findings}


PROJECT = Path(__file__).resolve().parent.parent
CHUNKY = textwrap.dedent('''\
    """Two-space indentation, decorators, comments owned by either side of a cut."""
    import torch
    from torch import nn


    def first():
      return 1
    x = 1


    # leads Small
    @torch.no_grad()
    class Small(nn.Module):
      def forward(self, x):
        return x
      # indented under Small: the block's own comment

    # dedented: leads the next statement
    def helper():
      return 2
    ''')
# a line that looks like a statement inside a string: the cut there does not parse, the whole parse decides
STRING_CUT = CHUNKY + 'text = """\ndef not_a_statement():\n  pass\n"""\n'
# four spaces after two (timm's mobilenetv5.py): libcst's tree depends on the indentation detected first
MIXED = CHUNKY + "\n\nclass Wide(nn.Module):\n    def forward(self, x):\n        return x\n"


@pytest.mark.parametrize("path", [
    *sorted(EXAMPLES.glob("*.py")), *sorted((PROJECT / "analyzers").glob("*.py")),
    *sorted((PROJECT / "tests" / "zoo").rglob("*.py")), "chunky", "string-cut", "mixed"], ids=str)
def test_a_document_parsed_in_chunks_is_the_module_a_whole_parse_gives(path, monkeypatch):
    from tensorlint.analyzers import incremental

    text = {"chunky": CHUNKY, "string-cut": STRING_CUT, "mixed": MIXED}.get(path) or Path(path).read_text(encoding="utf-8")
    monkeypatch.setattr(incremental, "CHUNK_LINES", 1)  # cut before every top-level def and class it can
    chunked = incremental._parse_in_chunks(text)
    whole = cst.parse_module(text)
    if chunked is not None:
        assert chunked.code == text
        assert chunked.deep_equals(whole)
    assert (chunked is None) == (path == "string-cut") or path not in ("chunky", "string-cut")
    assert IncrementalChecker().check(text, "model.py") == check_source(text, "model.py")
