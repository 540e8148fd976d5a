"""analyzers.incremental: re-parsing only what an edit touched gives exactly what a full check gives."""

import random
import textwrap

import libcst as cst

from tensorlint.analyzers import Settings, check_source
from tensorlint.analyzers.incremental import IncrementalParser, check_incremental

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
    BLOCK.format(i=i) for i in range(8)) + "\nw = torch.load('w.pt')\n"
SNIPPETS = ["x", " ", "\n", "(", ")", ":", "\t", "# note\n", "é😀中\u0301", "\n\n# c\n", "    ", "pass\n",
            "y = torch.load('z')\n", "import keras\n", "'", '"""', "\\\n", "def g():\n    return 1\n"]


def same(parser, source, settings):
    incremental = check_incremental(parser, source, "model.py", settings)
    full = check_source(source, "model.py", settings)
    assert incremental == full
    return incremental


def test_random_edits_give_the_same_results_as_a_full_check():
    rng = random.Random(7)
    settings = Settings()
    parser = IncrementalParser()
    text = SOURCE
    same(parser, text, settings)
    spliced = 0
    for step in range(150):
        previous = text
        where = rng.randrange(len(text) + 1)
        if rng.random() < 0.6:
            text = text[:where] + rng.choice(SNIPPETS) + text[where:]
        else:
            text = text[:where] + text[where + rng.randint(1, 12):]
        result = same(parser, text, settings)
        spliced += parser.reparsed_statements >= 0
        if result.findings and result.findings[0].code == "TL001":
            text = previous  # typing on: the next version parses again
            same(parser, text, settings)
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
    assert check_incremental(parser, edited, "m.py") == check_source(edited, "m.py")


def test_syntax_errors_then_recovery():
    parser = IncrementalParser()
    parser.parse(SOURCE)
    cut = SOURCE.index("def train3")
    broken = SOURCE[:cut] + "def train3(:\n" + SOURCE[cut:]
    assert check_incremental(parser, broken) == check_source(broken)
    assert check_incremental(parser, SOURCE) == check_source(SOURCE)
