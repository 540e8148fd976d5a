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


# Keras code repeated: a subclassed layer with call(), a functional model builder, a tf.function and a
# module-level script. The TF module-scope rules follow it across top-level statements: TF001/TF009/TF025 a
# model's output layer into its compile, TF003 a tf.keras layer into a Keras 3 model, TF007 a builder's model into
# `predict` in a loop, TF011 a tf.function called with a loop counter, TF013/TF026 a save anywhere in the file,
# TF015 a frozen base, TF016/TF022 a dataset, TF023 one-hot labels into a sparse loss compiled in another
# statement; XF006/XF013 are found statement by statement and reported once the walk is done.
KERAS = textwrap.dedent('''\
    import numpy as np
    import tensorflow as tf
    import keras
    from keras import layers


    class Residual{i}(keras.layers.Layer):
        def __init__(self, inner, **kwargs):
            super().__init__(**kwargs)
            self.inner = inner
            self.norm = layers.LayerNormalization()

        def call(self, inputs):
            return self.norm(self.inner(inputs) + inputs)


    def build{i}(classes=10):
        inputs = keras.Input(shape=(32,))
        x = layers.Dense(64, activation="relu")(inputs)
        x = layers.Conv1D(8, 3, padding=1)(x)
        x = layers.Flatten(data_format="channels_first")(x)
        outputs = layers.Dense(classes)(x)
        model = keras.Model(inputs, outputs)
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        return model


    @tf.function
    def step{i}(model, x, i):
        return model(x, training=True)


    model = build{i}()
    labels = keras.utils.to_categorical(y_train, 10)
    model.compile(loss="sparse_categorical_crossentropy")
    model.fit(x_train, labels)
    ds = tf.data.Dataset.from_tensor_slices((x_train, y_train)).batch(32)
    ds = ds.shuffle(100)
    model.fit(ds, validation_split=0.2)
    for i in range(5):
        step{i}(model, x_train, i)
    for image in images:
        print(model.predict(image[None]))
    base = keras.applications.ResNet50(include_top=False)
    base.trainable = False
    features = base(images)
    head = keras.Sequential([Residual{i}(layers.Dense(4)), layers.Lambda(lambda t: t * 2), layers.Dense(1, activation="softmax")])
    head.compile(loss="categorical_crossentropy")
    wide = keras.Sequential([layers.Dense(5, activation="softmax")])
    wide.compile(loss="binary_crossentropy")
    mixed = keras.Sequential([tf.keras.layers.Dense(4)])
    head.save("head.keras")
    ''')
KERAS_SCRIPTS = "".join(KERAS.format(i=i) + "\n\n" for i in range(3))
KERAS_RULES = {"TF001", "TF003", "TF007", "TF009", "TF011", "TF013", "TF015", "TF016", "TF022", "TF023", "TF025",
               "TF026", "XF006", "XF013"}


@pytest.mark.parametrize("seed_text", [
    pytest.param(SOURCE, id="blocks"),
    pytest.param(KERAS.format(i=0), id="keras"),
    *(pytest.param(path.read_text(encoding="utf-8"), id=path.name) for path in sorted(EXAMPLES.glob("*.py"))),
])
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


KERAS_MODULE_LINES = [
    'head.save("h.keras")\n', 'model.save("m")\n', "ds = ds.batch(8)\n", "ds = ds.shuffle(10)\n", "ds = np.zeros(3)\n",
    "labels = y_train\n", "labels = keras.utils.to_categorical(y_train)\n", "model.fit(x_train, labels)\n",
    'model.compile(loss="categorical_crossentropy")\n', 'model.compile(loss="sparse_categorical_crossentropy")\n',
    "base.trainable = True\n", "base = keras.applications.VGG16()\n", "base(images)\n", "inputs = keras.Input((4,))\n",
    "x = layers.Dense(1)(inputs)\n", "x = layers.Activation('linear')(x)\n", "model = keras.Model(inputs, x)\n",
    'model = keras.Sequential([layers.Dense(3, activation="softmax")])\n', "model.add(layers.Dense(1))\n",
    "opt = tf.keras.optimizers.Adam()\n", "model.compile(optimizer=opt)\n", "mixed = tf.keras.layers.Dense(2)\n",
    "@tf.function\ndef step0(model, x, i):\n    return x\n", "for i in range(3):\n    step1(model, x_train, i)\n",
    "for x in xs:\n    model.predict(x)\n", "model = build0()\n", "def build1():\n    return np.zeros(1)\n",
    'keras.config.set_image_data_format("channels_first")\n', "c = layers.Conv2D(4, 3, padding=0)\n",
    "y = Residual0(lambda t: t)\n", "from keras import layers as L\n", "import tensorflow as tf\n", "# note\n", "\n",
    "from torch.nn import CrossEntropyLoss\n", "loss = keras.losses.SparseCategoricalCrossentropy()\n",
]


def test_keras_module_level_edits_give_the_same_results_as_a_full_check():
    # lines typed and deleted between the module-level statements of Keras scripts: they change what the TF
    # module-scope rules carry from one statement to the next and what they report at the end (a save, a dataset,
    # a model's output layer, a frozen base, a tf.function, the file's data format)
    rng = random.Random(11)
    checker = IncrementalChecker()
    text = KERAS_SCRIPTS
    first = same(checker, text, Settings())
    assert KERAS_RULES <= {f.code for f in first.findings}
    for step in range(80):
        starts = [0] + [i + 1 for i, c in enumerate(text) if c == "\n" and text[i + 1:i + 2] not in (" ", "")]
        where = rng.choice(starts)
        if rng.random() < 0.6:
            text = text[:where] + rng.choice(KERAS_MODULE_LINES) + text[where:]
        else:
            end = text.find("\n", where)
            text = text[:where] + text[end + 1:] if end >= 0 else text
        result = same(checker, text, Settings())
        if result.findings and result.findings[0].code == "TL001":
            text = KERAS_SCRIPTS
            same(checker, text, Settings())


@pytest.mark.parametrize("anchor, typed", [
    ("    x = layers.Flatten(", "    # flattened\n    x = layers.Flatten("),  # inside a function
    ("        return self.norm(", "        # residual\n        return self.norm("),  # inside a method
    ("features = base(images)\n", "features = base(images)  # frozen\n"),  # module level
    ("ds = ds.shuffle(100)\n", "ds = ds.shuffle(100)  \n"),
    ("    model.compile(optimizer=", "    model.compile( optimizer="),  # the compile of a builder
])
def test_a_keras_edit_that_keeps_the_module_facts_walks_only_its_statement(anchor, typed):
    checker = IncrementalChecker()
    checker.check(KERAS_SCRIPTS, "train.py")
    at = KERAS_SCRIPTS.index(anchor, len(KERAS_SCRIPTS) // 3)
    edited = KERAS_SCRIPTS[:at] + typed + KERAS_SCRIPTS[at + len(anchor):]
    result = checker.check(edited, "train.py")
    assert result == check_source(edited, "train.py")
    assert checker.cache.walked == 1
    assert KERAS_RULES <= {f.code for f in result.findings}
    assert checker.check(KERAS_SCRIPTS, "train.py") == check_source(KERAS_SCRIPTS, "train.py")
    assert checker.cache.walked == 1


def test_a_keras_save_added_at_the_end_reports_lambdas_and_custom_layers_before_it():
    # TF013 and TF026 report from leave_Module, for statements the edit did not touch: positioned from their own
    # statements, which moved
    checker = IncrementalChecker()
    unsaved = KERAS.format(i=0).replace('head.save("head.keras")\n', "")
    before = checker.check(unsaved, "train.py")
    assert not {"TF013", "TF026"} & {f.code for f in before.findings}
    saved = "# a comment that moves every line\n" + unsaved + 'head.save("head.keras")\n'
    after = checker.check(saved, "train.py")
    assert after == check_source(saved, "train.py")
    assert {"TF013", "TF026"} <= {f.code for f in after.findings}


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


DEPLOYED = textwrap.dedent('''\
    import keras
    import tensorflow as tf


    class Doubler(keras.layers.Layer):
        def call(self, inputs):
            return tf.py_function(lambda v: v * 2, [inputs], tf.float32)


    def build():
        inputs = keras.Input((4,))
        return keras.Model(inputs, Doubler()(inputs))


    model = keras.Sequential([keras.Input((4,)), Doubler()])
    ''')


def test_deployment_blockers_follow_an_edit_of_a_class_other_statements_use():
    # the builder and the module-level model carry the blockers of the class they use: the DP rules' per-statement
    # analysis is kept for the next version only while every class it looked up is the same
    settings = Settings(deployment=("server", "mobile", "web"))
    checker = IncrementalChecker()
    blocked = same(checker, DEPLOYED, settings)
    assert {f.message.split(":")[0] for f in blocked.findings if f.code == "DP001"} == {"Doubler", "build", "model"}
    exported = DEPLOYED.replace("tf.py_function(lambda v: v * 2, [inputs], tf.float32)", "inputs * 2")
    assert not [f for f in same(checker, exported, settings).findings if f.code.startswith("DP")]
    # the builder and the model now call a name the module does not define
    renamed = DEPLOYED.replace("class Doubler", "class Twice")
    assert {f.message.split(":")[0] for f in same(checker, renamed, settings).findings if f.code == "DP001"} == {"Twice"}
    moved = same(checker, "# moved\n" + DEPLOYED, settings)
    assert [f.range.start.line for f in moved.findings if f.code == "DP001"] == [8, 8, 8]
