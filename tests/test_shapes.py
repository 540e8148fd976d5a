"""Static shapes (issue 18): the SH rules through the CLI, the hover through the real language server, and the
engine's arithmetic checked against PyTorch and Keras themselves."""

from __future__ import annotations

import json
import os
import textwrap

import pytest
from lsprotocol import types

from tensorlint.analyzers import Settings, check_source
from tensorlint.analyzers.findings import Position
from tensorlint.analyzers.shapes import layer_shapes_at
from test_lsp import session

# a torchvision-style CNN (features / avgpool / classifier) with an example call that fixes the input size
CNN = textwrap.dedent('''\
    import torch
    import torch.nn as nn


    class SmallVGG(nn.Module):
        def __init__(self, num_classes: int = 10):
            super().__init__()
            self.features = nn.Sequential(
                nn.Conv2d(3, 32, kernel_size=3, padding=1),
                nn.BatchNorm2d(32),
                nn.ReLU(inplace=True),
                nn.MaxPool2d(kernel_size=2, stride=2),
                nn.Conv2d(32, 64, kernel_size=3, padding=1),
                nn.ReLU(inplace=True),
                nn.MaxPool2d(kernel_size=2, stride=2),
            )
            self.avgpool = nn.AdaptiveAvgPool2d((4, 4))
            self.classifier = nn.Sequential(
                nn.Dropout(),
                nn.Linear(64 * 4 * 4, 256),
                nn.ReLU(inplace=True),
                nn.Linear(256, num_classes),
            )
            self.head = nn.Linear(num_classes, 2)

        def forward(self, x):
            x = self.features(x)
            x = self.avgpool(x)
            x = torch.flatten(x, 1)
            x = self.classifier(x)
            return self.head(x)


    model = SmallVGG()
    logits = model(torch.randn(8, 3, 64, 64))
''')


def _line(text: str, needle: str) -> tuple[int, int]:
    """0-based line and column of ``needle``'s first occurrence."""
    for number, line in enumerate(text.splitlines()):
        if needle in line:
            return number, line.index(needle)
    raise AssertionError(needle)


def _check(source: str, select: str = "SH") -> list:
    return list(check_source(source, "model.py", Settings(select=(select,))).findings)


def test_the_issue_example_reports_the_arithmetic_and_fixes_the_number(cli, tmp_path):
    source = textwrap.dedent('''\
        import torch
        import torch.nn as nn
        import torch.nn.functional as F

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv1 = nn.Conv2d(1, 8, 3)
                self.pool = nn.MaxPool2d(2)
                self.fc = nn.Linear(1568, 10)

            def forward(self, x):
                x = self.pool(F.relu(self.conv1(x)))
                x = torch.flatten(x, 1)
                return self.fc(x)

        model = Net()
        out = model(torch.randn(4, 1, 28, 28))
    ''')
    path = tmp_path / "net.py"
    path.write_text(source)
    findings = json.loads(cli("check", "--select", "SH", "--format", "json", "--no-cache", "net.py",
                              cwd=tmp_path).stdout)
    assert [f["code"] for f in findings] == ["SH001"]
    assert findings[0]["message"] == ("`Linear` expects 1568 = 8*14*14 features, gets 1352 = 8*13*13 from "
                                      "`MaxPool2d(2)` on a 26x26 map")
    fixed = cli("check", "--select", "SH", "--fix", "--unsafe-fixes", "--no-cache", "net.py", cwd=tmp_path)
    assert fixed.returncode == 0, fixed.stdout
    assert "nn.Linear(1352, 10)" in path.read_text()


def test_without_an_example_input_only_sizes_independent_of_it_are_checked():
    base = "import torch\nimport torch.nn as nn\nm = nn.Sequential(nn.Conv2d(1, 8, 3), nn.Flatten(), nn.Linear(7, 2))\n"
    assert _check(base) == []
    assert [f.code for f in _check(base + "m(torch.randn(2, 1, 5, 5))\n")] == ["SH001"]
    # two different example inputs: neither is the input size
    assert _check(base + "m(torch.randn(2, 1, 5, 5))\nm(torch.randn(2, 1, 6, 6))\n") == []


def test_summary_sizes_follow_the_library_convention():
    base = "import torch.nn as nn\nm = nn.Sequential(nn.Conv2d(1, 8, 3), nn.Flatten(), nn.Linear(200, 2))\n"
    # torchsummary's size leaves out the batch; torchinfo's includes it
    assert [f.message for f in _check("from torchsummary import summary\n" + base + "summary(m, (1, 9, 9))\n")] == [
        "`Linear` expects 200 = 8*5*5 features, gets 392 = 8*7*7 from `Conv2d(1, 8, 3)` on a 9x9 map"]
    assert _check("from torchsummary import summary\n" + base + "summary(m, (1, 7, 7))\n") == []
    assert _check("from torchinfo import summary\n" + base + "summary(m, (2, 1, 7, 7))\n") == []
    # (1, 9, 9) is then one unbatched 9x9 image: the flatten keeps the 8 channels apart
    assert [f.message for f in _check("from torchinfo import summary\n" + base + "summary(m, (1, 9, 9))\n")] == [
        "`Linear` expects 200 features, gets 49 = 7*7 from `Conv2d(1, 8, 3)` on a 9x9 map"]


DYNAMIC = [
    # a layer whose size is a variable, a helper, a loop-built list, a branch in forward, *args
    "import torch.nn as nn\ndef make(c):\n    return nn.Sequential(nn.Conv2d(3, c, 3), nn.Conv2d(16, 8, 3))\n",
    "import torch.nn as nn\nm = nn.Sequential(nn.Conv2d(3, 16, 3), block(16), nn.Conv2d(32, 8, 3))\n",
    "import torch.nn as nn\nm = nn.Sequential(*[nn.Conv2d(3, 3, 3) for _ in range(3)], nn.Conv2d(16, 8, 3))\n",
    "import torch.nn as nn\nclass M(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
    "        self.a = nn.Linear(4, 8)\n        self.b = nn.Linear(16, 2)\n"
    "    def forward(self, x):\n        if x.dim() > 2:\n            x = self.a(x)\n        return self.b(x)\n",
    "import torch.nn as nn\nclass M(nn.Module):\n    def __init__(self, cfg):\n        super().__init__()\n"
    "        self.a = nn.Linear(4, 8)\n        if cfg:\n            self.a = nn.Linear(4, 16)\n"
    "        self.b = nn.Linear(16, 2)\n    def forward(self, x):\n        return self.b(self.a(x))\n",
    "import torch.nn as nn\nclass Base(nn.Module):\n    pass\nclass M(Base):\n    def __init__(self):\n"
    "        super().__init__()\n        self.a = nn.Linear(4, 8)\n        self.b = nn.Linear(16, 2)\n"
    "    def forward(self, x):\n        return self.b(self.a(x))\n",
    # Keras 1 spelling: Convolution2D(32, 3, 3) is 3x3, not stride 3
    "import keras\nfrom keras.layers import Convolution2D, Flatten, Dense, Reshape\n"
    "m = keras.Sequential([keras.Input(shape=(8, 8, 1)), Convolution2D(4, 3, 3), Flatten(), Reshape((6, 6, 4))])\n",
    # a file that changes Keras' image data format: channels may come first
    "import keras\nfrom keras import layers\nkeras.backend.set_image_data_format('channels_first')\n"
    "m = keras.Sequential([keras.Input(shape=(1, 8, 8)), layers.Conv2D(4, 3), layers.Reshape((6, 6, 4))])\n",
]


@pytest.mark.parametrize("source", DYNAMIC)
def test_what_the_source_does_not_state_is_never_guessed(source):
    assert _check(source) == []


# -- the engine's arithmetic against the frameworks themselves ---------------------------------------------------------
TORCH_STACKS = [
    "nn.Conv2d(3, 8, 5, stride=2, padding=1), nn.MaxPool2d(3, stride=2, ceil_mode=True), nn.Flatten()",
    "nn.Conv2d(3, 8, 3, padding='same', dilation=2), nn.AvgPool2d(2, padding=1), nn.Flatten(start_dim=2)",
    "nn.ConvTranspose2d(3, 4, 3, stride=2, padding=1, output_padding=1), nn.AdaptiveAvgPool2d((5, None))",
    "nn.Conv1d(3, 6, 4, stride=3), nn.MaxPool1d(2, ceil_mode=True), nn.Upsample(scale_factor=2), nn.ZeroPad1d((1, 2))",
    "nn.Conv3d(3, 2, (1, 3, 3), padding=(0, 1, 1)), nn.BatchNorm3d(2), nn.MaxPool3d(2), nn.Flatten(1, 2)",
]
TORCH_INPUTS = [(2, 3, 33, 31), (2, 3, 17, 18), (2, 3, 7, 9), (2, 3, 40), (2, 3, 4, 10, 12)]


@pytest.mark.parametrize("stack, input_shape", list(zip(TORCH_STACKS, TORCH_INPUTS)))
def test_torch_shapes_match_pytorch(stack, input_shape):
    torch = pytest.importorskip("torch")
    nn = torch.nn
    source = f"import torch\nimport torch.nn as nn\nm = nn.Sequential({stack})\nm(torch.randn{input_shape})\n"
    model = eval(f"nn.Sequential({stack})", {"nn": nn})
    expected = tuple(model(torch.randn(*input_shape)).shape)
    last = source.splitlines()[2].rindex("nn.")
    shapes = layer_shapes_at(source, Position(3, last + 3))
    assert shapes is not None and shapes.shapes[0][1] == str(expected).replace(",)", ")")


KERAS_GRAPHS = [
    ("(30, 30, 3)", "layers.Conv2D(8, 3, strides=2), layers.MaxPooling2D(3, strides=2, padding='same'), "
                    "layers.Conv2DTranspose(4, 3, strides=2), layers.ZeroPadding2D(((1, 0), (2, 1)))"),
    ("(40, 6)", "layers.Conv1D(5, 4, strides=3, padding='same'), layers.Bidirectional(layers.GRU(7, "
                "return_sequences=True)), layers.LSTM(3)"),
    ("(12, 12, 2)", "layers.UpSampling2D(), layers.AveragePooling2D(5), layers.Flatten(), layers.Reshape((-1, 8))"),
]


@pytest.mark.parametrize("input_shape, stack", KERAS_GRAPHS)
def test_keras_shapes_match_keras(input_shape, stack):
    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras")
    layers = keras.layers
    source = (f"import keras\nfrom keras import layers\n"
              f"m = keras.Sequential([keras.Input(shape={input_shape}), {stack}])\n")
    model = eval(f"keras.Sequential([keras.Input(shape={input_shape}), {stack}])",
                 {"keras": keras, "layers": layers})
    expected = "(N, " + ", ".join(str(d) for d in model.output_shape[1:]) + ")"
    last = source.splitlines()[2].rindex("layers.")
    shapes = layer_shapes_at(source, Position(3, last + 3))
    assert shapes is not None and shapes.shapes[0][1] == expected


# -- hover through the language server ---------------------------------------------------------------------------------
@pytest.mark.parametrize("needle, offset, expected", [
    # a layer in a Sequential literal
    ("nn.MaxPool2d(kernel_size=2, stride=2),", 5, ("(8, 32, 64, 64)", "(8, 32, 32, 32)")),
    # a `self.x = nn.X(...)` attribute
    ("nn.AdaptiveAvgPool2d((4, 4))", 5, ("(8, 64, 16, 16)", "(8, 64, 4, 4)")),
    # its call in forward
    ("self.avgpool(x)", 6, ("(8, 64, 16, 16)", "(8, 64, 4, 4)")),
    ("nn.Linear(64 * 4 * 4, 256)", 5, ("(8, 1024)", "(8, 256)")),
])
async def test_hover_shows_a_layers_input_and_output_shapes(tmp_path, needle, offset, expected):
    uri = (tmp_path / "cnn.py").as_uri()
    async with session(tmp_path) as s:
        s.open(uri, CNN)
        assert [d.code for d in await s.diagnostics(uri, 1) if str(d.code).startswith("SH")] == []
        line, column = _line(CNN, needle)
        hover = await s.client.text_document_hover_async(types.HoverParams(
            types.TextDocumentIdentifier(uri), types.Position(line, column + offset)))
        assert hover is not None and hover.contents.kind == types.MarkupKind.Markdown
        given, produced = expected
        assert f"| `{given}` | `{produced}` |" in hover.contents.value


async def test_hover_shows_symbolic_shapes_without_an_example_input(tmp_path):
    source = CNN[:CNN.index("model = SmallVGG()")]
    uri = (tmp_path / "cnn.py").as_uri()
    async with session(tmp_path) as s:
        s.open(uri, source)
        await s.diagnostics(uri, 1)
        line, column = _line(source, "nn.Conv2d(32, 64")
        hover = await s.client.text_document_hover_async(types.HoverParams(
            types.TextDocumentIdentifier(uri), types.Position(line, column + 5)))
        assert "| `(?, 32, (H-2)//2+1, (W-2)//2+1)` | `(?, 64, (H-2)//2+1, (W-2)//2+1)` |" in hover.contents.value


async def test_a_mismatch_is_published_with_its_quick_fix(tmp_path):
    source = CNN.replace("nn.Linear(64 * 4 * 4, 256)", "nn.Linear(64 * 4, 256)").replace(
        "nn.Linear(64 * 4 * 4", "nn.Linear(64 * 4")
    source = source.replace("nn.Linear(64 * 4, 256)", "nn.Linear(1000, 256)")
    uri = (tmp_path / "cnn.py").as_uri()
    async with session(tmp_path) as s:
        s.open(uri, source)
        diagnostics = [d for d in await s.diagnostics(uri, 1) if d.code == "SH001"]
        assert len(diagnostics) == 1
        assert diagnostics[0].message == "`Linear` expects 1000 features, gets 1024 = 64*4*4 from " \
                                         "`AdaptiveAvgPool2d((4, 4))`"


def test_an_unknown_value_passed_to_a_model_is_no_example_input():
    source = textwrap.dedent('''\
        import tensorflow as tf
        class Native(tf.keras.layers.Layer):
            def __init__(self):
                super().__init__()
                self.conv = tf.keras.layers.Conv2D(3, 3)
            def call(self, inputs):
                return self.conv(inputs)
        layer = Native()
        inputs = tf.random.normal(shape=(10, 5, 5, 5))
        out = layer(inputs)
    ''')
    assert _check(source) == []


def test_a_container_followed_from_forward_reports_once():
    source = textwrap.dedent('''\
        import torch
        import torch.nn as nn
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.features = nn.Sequential(nn.Conv2d(1, 8, 3), nn.ReLU(), nn.Conv2d(16, 8, 3))
            def forward(self, x):
                return self.features(x)
        Net()(torch.randn(2, 1, 12, 12))
    ''')
    assert [f.message for f in _check(source)] == [
        "`Conv2d` expects 16 input channels, gets 8 from `Conv2d(1, 8, 3)` on a 12x12 map"]


MNIST_CNN = textwrap.dedent('''\
    import torch
    import torch.nn as nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(1, 8, 3)
            self.pool = nn.MaxPool2d(2)
            self.fc = nn.Linear(8 * 13 * 13, 10)

        def forward(self, x):
            x = self.pool(torch.relu(self.conv(x)))
            return self.fc(torch.flatten(x, 1))
''')


def test_the_translator_takes_the_input_size_from_the_shape_flow():
    from tensorlint.migrations.input_shape import example_input_shape

    # the first layer alone would say (2, 1, 16, 16), which the Linear after the flatten rejects
    assert example_input_shape(MNIST_CNN, "Net") == (2, 1, 28, 28)
    # an example call in the file is the input size
    assert example_input_shape(MNIST_CNN + "Net()(torch.randn(5, 1, 28, 28))\n", "Net") == (5, 1, 28, 28)
    # nothing fixes the size: the first layer's guess stands
    assert example_input_shape(MNIST_CNN.replace("8 * 13 * 13", "n_features"), "Net") == (2, 1, 16, 16)


def test_the_chosen_input_verifies_for_real():
    torch = pytest.importorskip("torch")
    from tensorlint.migrations.input_shape import example_input_shape

    namespace: dict = {}
    exec(compile(MNIST_CNN, "mnist.py", "exec"), namespace)
    assert tuple(namespace["Net"]()(torch.randn(*example_input_shape(MNIST_CNN, "Net"))).shape) == (2, 10)


def test_sizes_written_as_arithmetic_are_read_and_fixed_as_arithmetic():
    source = MNIST_CNN.replace("8 * 13 * 13", "8 * 14 * 14") + "Net()(torch.randn(4, 1, 28, 28))\n"
    findings = _check(source)
    assert [f.message for f in findings] == [
        "`Linear` expects 1568 = 8*14*14 features, gets 1352 = 8*13*13 from `MaxPool2d(2)` on a 26x26 map"]
    assert [e.new_text for e in findings[0].fix.edits] == ["8 * 13 * 13"]


@pytest.mark.parametrize("example", [
    "tf.zeros((2, 8, 8, 1))", "tf.random.normal(shape=(2, 8, 8, 1))", "np.zeros((2, 8, 8, 1)).astype('float32')",
    "np.random.rand(2, 8, 8, 1)",
])
def test_keras_models_take_their_size_from_an_example_array(example):
    source = textwrap.dedent(f'''\
        import numpy as np
        import tensorflow as tf
        from tensorflow import keras
        model = keras.Sequential([keras.layers.Conv2D(4, 3), keras.layers.Conv2D(4, 5)])
        model({example})
    ''')
    assert _check(source) == []  # 8 -> 6 -> 2
    findings = _check(source.replace("Conv2D(4, 5)", "Conv2D(4, 7)"))
    assert [f.message for f in findings] == ["`Conv2D(4, 7)` on a 6x6 map gives 0x0: the output has no elements"]


def _sh_examples():
    from tensorlint.analyzers import all_rules

    for code, rule in all_rules().items():
        if code.startswith("SH"):
            for index, example in enumerate(rule.invalid):
                yield pytest.param(example.code, True, id=f"{code}-invalid-{index}")
            for index, example in enumerate(rule.valid):
                if "make_block" not in example:  # a helper the example leaves undefined on purpose
                    yield pytest.param(example, False, id=f"{code}-valid-{index}")


@pytest.mark.parametrize("source, invalid", list(_sh_examples()))
def test_the_rule_examples_do_what_the_rules_claim(source, invalid):
    """Run for real: a valid example builds and runs; an invalid one that states its input size (or breaks a rule
    the constructor checks) raises. The others make claims about every input (channel counts), shown by their
    message."""
    pytest.importorskip("torch")
    pytest.importorskip("keras")
    try:
        exec(compile(source, "example.py", "exec"), {"__name__": "__main__"})
    except (RuntimeError, ValueError) as exc:
        assert invalid, f"a valid example raised {exc!r}"
        return
    assert not invalid or ("randn(" not in source and "Input(" not in source and "groups" not in source), \
        "an invalid example with a stated input ran without error"


def test_an_editor_gets_the_findings_a_fresh_check_gives_after_each_edit():
    """The analysis reuses the pieces an edit did not touch (per document): each version must still get exactly
    the findings of a check from scratch."""
    from tensorlint.analyzers.incremental import IncrementalChecker

    base = MNIST_CNN + "\n\ndef helper():\n    return 1\n\n\nmodel = Net()\nmodel(torch.randn(4, 1, 28, 28))\n"
    versions = [
        base,
        base.replace("torch.randn(4, 1, 28, 28)", "torch.randn(4, 1, 32, 32)"),  # another statement's example
        base.replace("torch.randn(4, 1, 28, 28)", "torch.randn(4, 1, 32, 32)").replace("return 1", "return 2"),
        base.replace("nn.MaxPool2d(2)", "nn.MaxPool2d(3)"),  # inside the class
        base.replace("nn.Linear(8 * 13 * 13, 10)", "nn.Linear(8 * 12 * 12, 10)"),
        base,
        base.replace("import torch.nn as nn", "import torch.nn as nn\nimport torch.nn.functional as F"),
    ]
    checker = IncrementalChecker()
    codes = []
    for number, text in enumerate(versions):
        incremental = [(f.code, f.message) for f in checker.check(text, "model.py", Settings(select=("SH",))).findings]
        fresh = [(f.code, f.message) for f in check_source(text, "fresh.py", Settings(select=("SH",))).findings]
        assert incremental == fresh, f"version {number}"
        codes.append([code for code, _ in incremental])
    assert codes == [[], ["SH001"], ["SH001"], ["SH001"], ["SH001"], [], []]


def test_an_input_shape_comment_states_the_input_size():
    source = MNIST_CNN.replace("class Net(nn.Module):", "class Net(nn.Module):  # tensorlint: input-shape=(4, 1, 32, 32)")
    assert [f.message for f in _check(source)] == [
        "`Linear` expects 1352 = 8*13*13 features, gets 1800 = 8*15*15 from `MaxPool2d(2)` on a 30x30 map"]
    # the comment wins over an example call
    assert len(_check(source + "Net()(torch.randn(4, 1, 28, 28))\n")) == 1
    sequential = ("import torch.nn as nn\n"
                  "m = nn.Sequential(nn.Conv2d(1, 8, 3), nn.Flatten(), nn.Linear(392, 2))  # tensorlint: input-shape=[2, 1, 9, 9]\n")
    assert _check(sequential) == []
    assert [f.code for f in _check(sequential.replace("[2, 1, 9, 9]", "[2, 1, 8, 8]"))] == ["SH001"]


def test_a_match_statement_is_followed_as_control_flow():
    source = textwrap.dedent('''\
        import torch
        import torch.nn as nn
        class M(nn.Module):
            def __init__(self):
                super().__init__()
                self.a = nn.Linear(4, 8)
                self.b = nn.Linear(16, 2)
            def forward(self, x, mode: str = "a"):
                x = self.a(x)
                match mode:
                    case "wide":
                        x = torch.cat([x, x], dim=1)
                    case _:
                        pass
                return self.b(x)
        M()(torch.randn(2, 4))
    ''')
    result = check_source(source, "model.py", Settings(select=("SH",)))
    assert result.errors == () and result.findings == ()
    assert [f.code for f in _check(source.replace("match mode:", "y = 0\n        match mode:").replace(
        "x = torch.cat([x, x], dim=1)", "y = 1"))] == ["SH001"]
