"""`tensorlint translate` as a command (errors, FILE:LINE, -o, --layout native, TODOs) and the pure functions the
language server's code actions call."""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from translation_harness import assert_close, execute, np, random_input, run_keras, run_torch, torch
from tensorlint.migrations import translate as tr
from tensorlint.server import cli
from translation_models_loader import load

MODELS = Path(__file__).parent / "translation_models"

NET = textwrap.dedent('''\
    import torch
    from torch import nn


    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 2)
            self.block = nn.TransformerEncoderLayer(2, 1)

        def forward(self, x):
            return self.block(self.fc(x))
''')


def _run(argv, capsys):
    code = cli.main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize("target, message", [
    ("missing.py:Net", "no such file"),
    ("{models}/torch_models.py:Nope", "no model class, builder function or Sequential named 'Nope'"),
    ("{models}/torch_models.py", "expected FILE:SYMBOL or FILE:LINE"),
    ("{models}/torch_models.py:1", "no PyTorch or Keras layer call on line 1"),
])
def test_bad_requests_exit_2_with_one_line(target, message, capsys):
    code, out, err = _run(["translate", target.format(models=MODELS), "--to", "keras"], capsys)
    assert code == 2 and out == ""
    assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_syntax_error_is_a_clear_error(tmp_path, capsys):
    path = tmp_path / "broken.py"
    path.write_text("class Net(nn.Module:\n    pass\n")
    code, out, err = _run(["translate", f"{path}:Net", "--to", "keras"], capsys)
    # one line, where `check` puts its TL001: path:line:column
    assert code == 2 and f"{path}:1:20: SyntaxError:" in err and len(err.strip().splitlines()) == 1


def test_already_in_the_target_framework(capsys):
    code, _, err = _run(["translate", f"{MODELS}/torch_models.py:SmallCNN", "--to", "torch"], capsys)
    assert code == 2 and "already PyTorch" in err


def test_unmappable_layer_is_a_todo_at_its_line_and_counted(tmp_path, capsys):
    path = tmp_path / "net.py"
    path.write_text(NET)
    code, out, err = _run(["translate", f"{path}:Net", "--to", "keras"], capsys)
    assert code == 0
    ast.parse(out)
    lines = out.splitlines()
    todo = next(i for i, line in enumerate(lines) if "TODO(tensorlint)" in line)
    assert "TransformerEncoderLayer" in lines[todo] and "self.block = " in lines[todo + 1]
    assert "1 TODO" in err
    assert "self.fc = _tagged(keras.layers.Dense(2), " in out


def test_unmapped_keras_op_assigned_in_a_builder_is_a_todo_not_dropped():
    """`h = keras.ops.sort(h, axis=1)` is an op applied to a tensor, not a layer kept for later: it must stay in
    forward as a counted TODO (it used to be dropped with a note, so the translation silently returned `h` unchanged)."""
    source = textwrap.dedent("""\
        import keras
        from keras import layers


        def build():
            inputs = keras.Input((8,))
            h = layers.Dense(8)(inputs)
            h = keras.ops.sort(h, axis=1)
            return keras.Model(inputs, h)
        """)
    translation = tr.translate_symbol(source, "build", "torch")
    ast.parse(translation.module_text())
    assert translation.todos == 1, translation.source
    assert "keras.ops.sort" in translation.source
    assert not any("never applied" in note for note in translation.notes)


def test_compile_in_a_functional_builder_is_dropped_not_moved_into_forward():
    """`model.compile(...)` after `keras.Model(...)` configures training: it used to land in forward(), where
    `model` does not exist (0 TODOs, a NameError at run time)."""
    source = textwrap.dedent("""\
        import keras
        from keras import layers


        def build():
            inputs = keras.Input((8,))
            model = keras.Model(inputs, layers.Dense(4)(inputs))
            model.compile(optimizer="adam", loss=keras.losses.MeanSquaredError())
            return model
        """)
    translation = tr.translate_symbol(source, "build", "torch")
    assert translation.todos == 0 and "compile" not in translation.source, translation.source
    assert any("model.compile(...) is Keras-specific and was dropped" in note for note in translation.notes)
    module = execute(translation.module_text())["build"]()
    assert module(torch.zeros(2, 8)).shape == (2, 4)


# Chain, InPlace, Normalised, Pieces (and ConvUp, which the verify CLI tests use): one fixture file for both
TENSOR_METHODS_FILE = MODELS / "tensor_methods.py"
TENSOR_METHODS = TENSOR_METHODS_FILE.read_text()


def _todo_precedes(out: str, code: str) -> bool:
    """The line holding `code` is directly under a TODO comment (the TODOs of one statement stand together)."""
    lines = out.splitlines()
    index = next(i for i, line in enumerate(lines) if code in line and "TODO" not in line)
    return "# TODO(tensorlint):" in lines[index - 1]


def _torch_vs_keras(module_text: str, source_module, symbol: str, x) -> None:
    namespace = execute(module_text)
    source = getattr(source_module, symbol)()
    target = namespace[symbol]()
    expected = run_torch(source, [x])
    run_keras(target, [x])
    namespace["copy_weights"](source, target)
    assert_close(run_keras(target, [x]), expected, symbol)


def test_tensor_methods_keras_can_spell_are_mapped_and_run(capsys):
    """`self.fc(x).clamp_min(0.1).cumsum(1)` used to be copied into the Keras call() unchanged with 0 TODOs."""
    code, out, err = _run(["translate", f"{TENSOR_METHODS_FILE}:Chain", "--to", "keras"], capsys)
    assert code == 0 and "0 TODOs" in err, err
    assert "return keras.ops.cumsum(keras.ops.maximum(self.fc(x), 0.1), axis=1)" in out
    _torch_vs_keras(out, load("tensor_methods"), "Chain", random_input((3, 4)))


def _as_module(text: str):
    import types

    module = types.ModuleType("methods")
    exec(compile(text, "<methods>", "exec"), module.__dict__)
    return module


@pytest.mark.parametrize("symbol, code, reason", [
    ("InPlace", "x.mul_(2)", "in-place Tensor.mul_()"),
    ("Normalised", "keras.ops.max(y).item()", "Tensor.item()"),
])
def test_unmapped_tensor_methods_are_todos_at_their_line_and_counted(capsys, symbol, code, reason):
    status, out, err = _run(["translate", f"{TENSOR_METHODS_FILE}:{symbol}", "--to", "keras"], capsys)
    assert status == 0 and "1 TODO," in err, err
    ast.parse(out)
    assert _todo_precedes(out, code) and reason in out


def test_tensor_methods_mixed_with_python_methods(tmp_path, capsys):
    """One-sided clamps and casts map; `narrow` is a counted TODO; list/str methods and the model's own methods are
    left alone (no TODO for `outs.append`, `",".join(...).split`, `self.scale`)."""
    translation = tr.translate_symbol(TENSOR_METHODS, "Pieces", "keras")
    assert translation.todos == 1, translation.source
    assert _todo_precedes(translation.source, "h.narrow(1, 0, 4)")
    assert "Tensor.narrow()" in translation.source
    assert "outs.append(keras.ops.maximum(h, 0.0))" in translation.source
    assert "keras.ops.cast(keras.ops.cast(keras.ops.minimum(h, 0.5), 'int64'), 'float32')" in translation.source
    assert 'label = ",".join(self.names).split(",")' in translation.source
    assert "h = self.scale(self.fc(x))" in translation.source


def test_unmapped_keras_and_tensorflow_functions_in_call_are_todos():
    """keras.activations.*, keras.random.*, tf.* and Keras-only layer methods used to be copied into forward()
    unchanged (the torch module then fails, or computes with TensorFlow) with 0 TODOs."""
    source = textwrap.dedent("""\
        import keras
        import tensorflow as tf
        from keras import layers


        class Block(keras.Model):
            def __init__(self):
                super().__init__()
                self.fc = layers.Dense(8)

            def call(self, x, training=None):
                h = self.fc(x)
                h = keras.activations.sparse_plus(h)
                h = tf.nn.relu(h)
                noise = keras.random.normal((2, 8))
                self.add_loss(keras.ops.sum(h))
                return keras.ops.relu(h + noise)
        """)
    translation = tr.translate_symbol(source, "Block", "torch")
    ast.parse(translation.module_text())
    for code in ("keras.activations.sparse_plus(h)", "tf.nn.relu(h)", "keras.random.normal((2, 8))", "self.add_loss("):
        assert _todo_precedes(translation.source, code), (code, translation.source)
    assert translation.todos == 4, translation.source
    assert "torch.relu(h + noise)" in translation.source


UPSAMPLE = textwrap.dedent("""\
    import torch
    from torch import nn


    class Up(nn.Module):
        def __init__(self):
            super().__init__()
            self.up = nn.Upsample(scale_factor=2)

        def forward(self, x):
            return self.up(x)


    up1d = nn.Sequential(nn.Conv1d(3, 4, 3), nn.Upsample(scale_factor=2))
    up2d = nn.Sequential(nn.Conv2d(3, 4, 3), nn.MaxPool2d(2), nn.Upsample(scale_factor=2))
    up3d = nn.Sequential(nn.Conv3d(3, 4, 3), nn.Upsample(scale_factor=(1, 2, 3)))
    fractional = nn.Sequential(nn.Conv2d(3, 4, 3), nn.Upsample(scale_factor=1.5))
""")


def test_upsample_of_unknown_rank_is_not_a_guessed_upsampling1d():
    """nn.Upsample(scale_factor=2) takes its number of spatial axes from the input: with no rank known statically
    it used to become UpSampling1D(2) (while the note said 4-D), wrong for images."""
    translation = tr.translate_symbol(UPSAMPLE, "Up", "keras")
    assert "layers.UpSampling" not in translation.source and "UpsampleNearest(2)" in translation.source
    assert any("rank is not known" in note for note in translation.notes)
    module = _as_module(UPSAMPLE)
    for shape in ((2, 3, 5), (2, 3, 4, 5), (2, 2, 3, 4, 5)):
        _torch_vs_keras(translation.module_text(), module, "Up", random_input(shape))


@pytest.mark.parametrize("symbol, layer, shape", [
    ("up1d", "UpsampleNearest(2)", (2, 3, 7)),
    ("up2d", "UpsampleNearest(2)", (2, 3, 8, 9)),
    ("up3d", "UpsampleNearest((1, 2, 3))", (2, 3, 5, 6, 7)),
])
def test_upsample_inside_a_sequential_translates_for_any_rank(symbol, layer, shape):
    """A whole-model translation maps each layer where it stands, without the rank of the layers before it: the
    nearest-neighbour helper works on every rank (the rank-specific spelling is what one-call translations with
    a known input shape give)."""
    translation = tr.translate_symbol(UPSAMPLE, symbol, "keras")
    assert translation.todos == 0 and layer in translation.source, translation.source
    namespace = execute(translation.module_text())
    source, target = getattr(_as_module(UPSAMPLE), symbol), namespace[symbol]
    x = random_input(shape)
    expected = run_torch(source, [x])
    run_keras(target, [x])
    namespace["copy_weights"](source, target)
    assert_close(run_keras(target, [x]), expected, symbol)


def test_upsample_with_a_fractional_factor_is_a_todo():
    translation = tr.translate_symbol(UPSAMPLE, "fractional", "keras")
    assert translation.todos == 1 and "scale_factor=1.5" in translation.source, translation.source


ITEM_ASSIGNMENT = textwrap.dedent("""\
    import torch
    from torch import nn


    class Writes(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 4)

        def forward(self, x, mask):
            h = self.fc(x)
            h[:, 0] = 0
            h[mask] = x[mask]
            for i in range(2):
                if i:
                    h[:, i] += 1
            return h


    class Containers(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 4)
            self.cache = {}

        def forward(self, x):
            h = self.fc(x)
            h += x
            outs = {}
            feats = []
            slots = [None] * 2
            outs["a"] = h
            feats += [h * 2]
            slots[0] = h + 1
            self.cache["h"] = h
            h = h * 3
            return h + outs["a"] + feats[0] + slots[0] + self.cache["h"]


    class NotContainers(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 4)

        def forward(self, x, feats):
            outs = {}
            outs = self.fc(x)
            outs[0] = 0
            feats["a"] = outs
            pairs = {"a": outs}
            pairs["a"][0] = 1
            first, rest = outs, x
            first[1] = 2
            return outs
""")


@pytest.mark.parametrize("line, reason", [
    ("h[:, 0] = 0", "`h[:, 0] = ...` assigns into a tensor in place"),
    ("h[mask] = x[mask]", "`h[mask] = ...` assigns into a tensor in place"),
    ("h[:, i] += 1", "`h[:, i] += ...` updates a tensor in place"),
])
def test_item_assignment_into_a_tensor_is_a_todo_at_its_statement(tmp_path, capsys, line, reason):
    """`x[:, 0] = 0`, `x[mask] = y` and `x[:, i] += 1` used to be copied into call() unchanged with 0 TODOs
    (TensorFlow tensors do not support item assignment): each is a counted TODO directly above its own statement,
    inside a loop or an `if` too."""
    path = tmp_path / "writes.py"
    path.write_text(ITEM_ASSIGNMENT)
    status, out, err = _run(["translate", f"{path}:Writes", "--to", "keras"], capsys)
    assert status == 0 and "3 TODOs" in err, err
    ast.parse(out)
    assert _todo_precedes(out, line), out
    todo = out.splitlines()[next(i for i, text in enumerate(out.splitlines()) if line in text and "TODO" not in text)
                            - 1]
    assert reason in todo and "Keras tensors are immutable" in todo


def test_item_assignment_on_python_containers_and_name_rebinding_is_not_flagged():
    """A dict/list display built in the same function (`outs = {}`, `feats = []`, `[None] * 2`), a `self.cache = {}`
    set in __init__, and `h += x` (a rebinding) are not tensor writes: no TODO, and the translation runs."""
    translation = tr.translate_symbol(ITEM_ASSIGNMENT, "Containers", "keras")
    assert translation.todos == 0, translation.source
    assert 'outs["a"] = h' in translation.source and 'self.cache["h"] = h' in translation.source
    assert "h += x" in translation.source
    _torch_vs_keras(translation.module_text(), _as_module(ITEM_ASSIGNMENT), "Containers", random_input((3, 4)))


def test_item_assignment_on_a_name_that_may_hold_a_tensor_is_flagged():
    """A name is a container only when every binding of it in the function is a container display: one rebound to
    a tensor, a parameter, an element of a container, an unpacked name are all flagged."""
    translation = tr.translate_symbol(ITEM_ASSIGNMENT, "NotContainers", "keras")
    assert translation.todos == 4, translation.source
    for line in ("outs[0] = 0", 'feats["a"] = outs', 'pairs["a"][0] = 1', "first[1] = 2"):
        assert _todo_precedes(translation.source, line), (line, translation.source)
    assert not _todo_precedes(translation.source, 'pairs = {"a": outs}')


ALIASED_UPDATES = textwrap.dedent("""\
    import torch
    from torch import nn


    class Aliased(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 4)

        def forward(self, x):
            outs = {}
            feats = []
            a = self.fc(x)
            outs["a"] = a
            a += x
            b = self.fc(x)
            feats.append(b)
            b *= 2
            c = self.fc(x)
            self.cache = c
            c -= 1
            d = self.fc(x)
            e = d
            d += 1
            v = x[:, :2]
            v += 1
            w = x.view(-1)
            w *= 2
            t = x.transpose(0, 1)
            t += 1
            u = x
            u /= 2
            if x.sum() > 0:
                m = self.fc(x)
            else:
                m = x
            m += 1
            n = self.fc(x)
            for i in range(2):
                n += 1
                feats.append(n)
            return a + outs["a"] + b + c + e + v.sum() + w.sum() + t.sum() + u + m + feats[0]


    class Residual(nn.Module):
        \"\"\"ResNet's basic block: `out += identity` on the fresh result of a layer call is safe.\"\"\"

        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(3, 3, 3, padding=1, bias=False)
            self.bn1 = nn.BatchNorm2d(3)
            self.conv2 = nn.Conv2d(3, 3, 3, padding=1, bias=False)
            self.bn2 = nn.BatchNorm2d(3)
            self.drop = nn.Dropout(0.1)

        def forward(self, x):
            identity = x
            out = torch.relu(self.bn1(self.conv1(x)))
            out = self.bn2(self.conv2(out))
            out += identity
            out = torch.relu(out)
            total = 0
            for i in range(2):
                total += out * (i + 1)
            scaled = out * 2
            scaled -= 1
            flat = self.drop(self.conv1(x)).view(x.size(0), -1)
            flat *= 0.5
            outs = [out]
            outs += [scaled]
            return out + total + outs[1] + flat.view(x.shape)
""")


@pytest.mark.parametrize("line, why", [
    ("a += x", '`outs["a"] = a`'),
    ("b *= 2", "`feats.append(b)`"),
    ("c -= 1", "`self.cache = c`"),
    ("d += 1", "`e = d`"),
    ("v += 1", "`v = x[:, :2]`"),
    ("w *= 2", "`w = x.view(-1)`"),
    ("t += 1", "`t = x.transpose(0, 1)`"),
    ("u /= 2", "`u = x`"),
    ("m += 1", "`m = x`"),
    ("n += 1", "`feats.append(n)`"),
])
def test_augmented_assignment_on_an_aliased_tensor_is_a_todo_at_its_statement(tmp_path, capsys, line, why):
    """`h += x` is in place in torch: after `outs["a"] = h`, `y = h`, `self.cache = h`, `outs.append(h)` or with `h`
    a view of another tensor (`x[:, :2]`, `x.view(...)`, `x.transpose(...)`, `x` itself) torch changes that tensor
    too, while the Keras `h += x` rebinds only `h`. It used to be copied with 0 TODOs: now each is a counted TODO
    directly above its own statement (on one branch of an `if`, or on a loop's second iteration, too)."""
    path = tmp_path / "aliased.py"
    path.write_text(ALIASED_UPDATES)
    status, out, err = _run(["translate", f"{path}:Aliased", "--to", "keras"], capsys)
    assert status == 0 and "10 TODOs" in err, err
    ast.parse(out)
    assert _todo_precedes(out, line), out
    lines = out.splitlines()
    todo = lines[next(i for i, text in enumerate(lines) if text.strip() == line) - 1]
    assert f"`{line.split()[0]} {line.split()[1]} ...` is in place in torch" in todo and why in todo, todo


def test_augmented_assignment_on_a_fresh_tensor_is_not_flagged_and_matches_torch():
    """The safe pattern: `out = self.bn2(self.conv2(out)); out += identity` (out is the fresh result of a layer call,
    stored nowhere before), a Python number accumulating tensors, `x * 2` then `-=`, a view of a fresh result, and
    `outs += [h]` on a list: no TODO, and the Keras translation gives torch's numbers."""
    translation = tr.translate_symbol(ALIASED_UPDATES, "Residual", "keras")
    assert translation.todos == 0, translation.source
    for line in ("out += identity", "total += out * (i + 1)", "scaled -= 1", "flat *= 0.5", "outs += [scaled]"):
        assert line in translation.source and not _todo_precedes(translation.source, line), line
    _torch_vs_keras(translation.module_text(), _as_module(ALIASED_UPDATES), "Residual", random_input((2, 3, 5, 6)))


def test_augmented_assignment_keras_to_torch_is_a_todo_when_the_name_is_aliased():
    """Keras `h += 1` rebinds `h`; copied into torch it is in place and would change `y = h` too: a counted TODO.
    On a fresh layer result it stays as is."""
    source = textwrap.dedent("""\
        import keras
        from keras import layers


        class Shared(keras.Model):
            def __init__(self):
                super().__init__()
                self.fc = layers.Dense(4)

            def call(self, x):
                h = self.fc(x)
                y = h
                h += 1
                g = self.fc(x)
                g += x
                return h + y + g
        """)
    translation = tr.translate_symbol(source, "Shared", "torch")
    assert translation.todos == 1, translation.source
    assert _todo_precedes(translation.source, "h += 1") and "`y = h`" in translation.source
    assert not _todo_precedes(translation.source, "g += x")


PRELU = textwrap.dedent("""\
    import torch
    from torch import nn


    class Shared(nn.Module):
        def __init__(self):
            super().__init__()
            self.act = nn.PReLU()

        def forward(self, x):
            return self.act(x)


    class PerChannel(nn.Module):
        def __init__(self):
            super().__init__()
            self.act = nn.PReLU(3, init=0.1)

        def forward(self, x):
            return self.act(x)


    after_conv1d = nn.Sequential(nn.Conv1d(2, 3, 3), nn.BatchNorm1d(3), nn.PReLU(3))
    after_conv3d = nn.Sequential(nn.Conv3d(2, 3, 3), nn.PReLU())
    after_linear = nn.Sequential(nn.Linear(5, 3), nn.PReLU(3))
""")


def _prelu_matches(module_text: str, symbol: str, x, native: bool = False) -> None:
    from translation_harness import randomize_torch_statistics

    namespace = execute(module_text)
    source = getattr(_as_module(PRELU), symbol)
    source = source() if isinstance(source, type) else source
    randomize_torch_statistics(source)  # slopes away from their initial value, one per channel
    target = namespace[symbol]() if isinstance(namespace[symbol], type) else namespace[symbol]
    expected = run_torch(source, [x])
    moved = np.ascontiguousarray(np.moveaxis(x, 1, -1)) if native else x
    run_keras(target, [moved])
    namespace["copy_weights"](source, target)
    actual = run_keras(target, [moved])
    assert_close(np.moveaxis(actual, -1, 1) if native else actual, expected, f"{symbol} {x.shape}")


@pytest.mark.parametrize("symbol", ["Shared", "PerChannel"])
def test_prelu_of_unknown_rank_is_not_a_guessed_4d_layer(symbol):
    """nn.PReLU takes any rank; with none known statically it used to become layers.PReLU(shared_axes=[2, 3]) (a
    4-D assumption said only in a note, wrong for 2-D/3-D input): now a helper right for every rank."""
    translation = tr.translate_symbol(PRELU, symbol, "keras")
    assert translation.todos == 0 and "layers.PReLU" not in translation.source, translation.source
    assert "TorchPReLU(" in translation.source and not any("4-D" in note for note in translation.notes)
    for shape in ((2, 3), (2, 3, 5), (2, 3, 4, 5)):
        _prelu_matches(translation.module_text(), symbol, random_input(shape))


def test_prelu_of_unknown_rank_in_native_layout_puts_the_slopes_last():
    translation = tr.translate_symbol(PRELU, "PerChannel", "keras", "native")
    assert translation.todos == 0 and "TorchPReLU(3, 0.1, axis=-1)" in translation.source, translation.source
    for shape in ((2, 3), (2, 3, 5), (2, 3, 4, 5)):
        _prelu_matches(translation.module_text(), "PerChannel", random_input(shape), native=True)


@pytest.mark.parametrize("symbol, layer, shape", [
    ("after_conv1d", "TorchPReLU(3, 0.25)", (2, 2, 7)),
    ("after_conv3d", "TorchPReLU(1, 0.25)", (2, 2, 5, 6, 7)),
    ("after_linear", "TorchPReLU(3, 0.25)", (2, 5)),
])
def test_prelu_inside_a_sequential_translates_for_any_rank(symbol, layer, shape):
    translation = tr.translate_symbol(PRELU, symbol, "keras")
    assert translation.todos == 0 and layer in translation.source, translation.source
    _prelu_matches(translation.module_text(), symbol, random_input(shape))


def test_prelu_call_without_an_input_shape_uses_the_helper():
    translation = tr.translate_call("nn.PReLU(4)", "keras")
    assert translation.source == "TorchPReLU(4, 0.25)" and "class TorchPReLU" in translation.module_text()


def test_file_line_translates_the_call_on_that_line(tmp_path, capsys):
    path = tmp_path / "net.py"
    path.write_text(NET)
    code, out, err = _run(["translate", f"{path}:8", "--to", "keras"], capsys)
    assert code == 0 and "layer = layers.Dense(2)" in out
    namespace = execute(out)
    source = torch.nn.Linear(4, 2)
    x = random_input((3, 4))
    namespace["layer"](x)
    namespace["copy_weights"](source, namespace["layer"])
    assert_close(run_keras(namespace["layer"], [x]), run_torch(source, [x]))


def test_output_file_and_summary(tmp_path, capsys):
    out_path = tmp_path / "cnn_keras.py"
    code, out, err = _run(["translate", f"{MODELS}/torch_models.py:SmallCNN", "--to", "keras", "-o",
                           str(out_path)], capsys)
    assert code == 0 and out == ""
    assert f"-> {out_path}" in err and "0 TODOs" in err
    assert "def copy_weights(source, target):" in out_path.read_text()


def test_native_layout_takes_channels_last_input(tmp_path, capsys):
    code, out, err = _run(["translate", f"{MODELS}/torch_models.py:ConvAutoencoder", "--to", "keras",
                           "--layout", "native"], capsys)
    assert code == 0 and "native layout" in err and "ChannelsFirst" not in out
    source = load("torch_models").ConvAutoencoder()
    x = random_input((2, 1, 8, 8))
    expected = run_torch(source, [x])
    x_last = np.ascontiguousarray(x.transpose(0, 2, 3, 1))
    namespace = execute(out)
    target = namespace["ConvAutoencoder"]()
    run_keras(target, [x_last])
    namespace["copy_weights"](source, target)
    assert_close(run_keras(target, [x_last]).transpose(0, 3, 1, 2), expected)


def test_native_layout_keras_to_torch_takes_channels_first_input(capsys):
    code, out, err = _run(["translate", f"{MODELS}/keras_models.py:build_upsampler", "--to", "torch",
                           "--layout", "native"], capsys)
    assert code == 0 and "MoveChannels" not in out
    source = load("keras_models").build_upsampler()
    x = random_input((2, 6, 5, 2))
    expected = run_keras(source, [x])
    namespace = execute(out)
    target = namespace["build_upsampler"]()
    x_first = np.ascontiguousarray(x.transpose(0, 3, 1, 2))
    run_torch(target, [x_first])
    namespace["copy_weights"](source, target)
    assert_close(run_torch(target, [x_first]).transpose(0, 2, 3, 1), expected)


def test_native_layout_flags_flatten_order():
    translation = tr.translate_symbol((MODELS / "torch_models.py").read_text(), "SmallCNN", "keras", "native")
    assert translation.todos >= 1 and "TODO(tensorlint): native layout: the axes of view" in translation.source


# -- the code-action functions --------------------------------------------------------------------------------
def test_translate_call_at_gives_replacement_and_imports():
    edit = tr.translate_call_at(NET, 8, 25)
    assert edit is not None
    assert (edit.start_line, edit.start_column, edit.end_line, edit.end_column) == (8, 18, 8, 33)
    assert edit.new_text == "layers.Dense(2)" and "from keras import layers" in edit.imports
    assert edit.title == "Translate to Keras"
    assert tr.translate_call_at(NET, 1, 0) is None


def test_translate_call_at_keras_helpers_are_returned():
    source = "import keras\nfrom keras import layers\nx = layers.Conv2D(8, 3, strides=2, padding='same')\n"
    edit = tr.translate_call_at(source, 3, 10)
    assert edit.title == "Translate to PyTorch"
    assert "TFSamePad" in edit.new_text and "class TFSamePad" in edit.helpers
    assert "from torch import nn" in edit.imports


def test_translate_to_new_file_and_symbols():
    text = (MODELS / "torch_models.py").read_text()
    names = {s.name: s for s in tr.symbols(text)}
    assert names["SmallCNN"].kind == "class" and names["mlp"].kind == "sequential"
    assert names["SmallCNN"].framework == "torch"
    new = tr.translate_to_new_file(text, "SmallCNN")
    assert new.name == "SmallCNN_keras.py"
    ast.parse(new.text)
    keras_text = (MODELS / "keras_models.py").read_text()
    assert tr.translate_to_new_file(keras_text, "build_cnn").name == "build_cnn_torch.py"


def test_translation_machinery_imports_no_framework():
    code = ("import sys; import tensorlint.migrations.translate, tensorlint.migrations.catalog, "
            "tensorlint.server.translate_command; "
            "bad = [m for m in ('torch', 'keras', 'tensorflow') if m in sys.modules]; print(bad); "
            "sys.exit(1 if bad else 0)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_hover_at_a_layer_name():
    card = tr.hover_at(NET, 8, 22)
    assert card is not None and "Linear" in card and "Dense" in card
    assert tr.hover_at(NET, 1, 0) is None


def test_generated_modules_import_only_the_target_framework_at_top_level():
    keras_text = tr.translate_symbol((MODELS / "torch_models.py").read_text(), "SmallCNN", "keras").source
    torch_text = tr.translate_symbol((MODELS / "keras_models.py").read_text(), "build_cnn", "torch").source

    def top_level_imports(text):
        return {alias.name.split(".")[0] for node in ast.parse(text).body if isinstance(node, ast.Import)
                for alias in node.names} | {node.module.split(".")[0] for node in ast.parse(text).body
                                            if isinstance(node, ast.ImportFrom)}

    assert top_level_imports(keras_text) == {"keras", "numpy"}
    assert top_level_imports(torch_text) == {"torch", "numpy"}


# -- Keras -> torch functional builders as Python runs them (issue 13) ------------------------------------------
HEADLESS = textwrap.dedent('''\
    import keras
    from keras import layers


    def build(include_top=False, pooling="max", classes=3):
        if include_top:
            inputs = keras.Input(shape=(6, 6, 2))
        else:
            inputs = keras.Input(shape=(5, 5, 2))
        x = layers.Conv2D(4, 3)(inputs)
        if include_top:
            x = layers.Dense(classes)(layers.Flatten()(x))
        elif pooling == "avg":
            x = layers.GlobalAveragePooling2D()(x)
        elif pooling == "max":
            x = layers.GlobalMaxPooling2D()(x)
        return keras.Model(inputs, x)
''')


def test_builder_ifs_on_its_arguments_are_decided_with_the_defaults_and_guarded(tmp_path, capsys):
    """The Input and the head under `if`s on the builder's arguments: decided with the defaults (elif chain
    included), the numbers agree, and calling the translation with values that decide otherwise raises."""
    path = tmp_path / "headless.py"
    path.write_text(HEADLESS)
    code, out, err = _run(["translate", f"{path}:build", "--to", "torch"], capsys)
    assert code == 0 and "0 TODOs" in err, err
    assert "AdaptiveMaxPool2d" in out and "AdaptiveAvgPool2d" not in out and "nn.Linear" not in out, out
    source_namespace = execute(HEADLESS)
    source = source_namespace["build"]()
    x = random_input((2, 5, 5, 2))
    expected = run_keras(source, [x])
    generated = execute(out)
    target = generated["build"]()
    run_torch(target, [x])
    generated["copy_weights"](source, target)
    assert_close(run_torch(target, [x]), expected, "headless builder")
    with pytest.raises(ValueError, match="include_top"):
        generated["build"](include_top=True)
    with pytest.raises(ValueError, match="pooling"):
        generated["build"](pooling="avg")


def test_builder_if_on_a_run_time_value_is_a_counted_todo_at_its_line():
    source = textwrap.dedent('''\
        import keras
        from keras import layers


        def build(width=4):
            inputs = keras.Input(shape=(6,))
            x = layers.Dense(width)(inputs)
            if keras.config.backend() == "jax":
                x = layers.Dense(width)(x)
            for _ in range(len(keras.config.backend())):
                x = layers.Dense(width)(x)
            return keras.Model(inputs, x)
        ''')
    translation = tr.translate_symbol(source, "build", "torch")
    ast.parse(translation.module_text())
    assert translation.todos == 2, translation.source
    lines = translation.source.splitlines()
    # (a loop over a range known from literals and arguments is unrolled: tests/test_translation_keras_builders.py)
    for statement in ('if keras.config.backend() == "jax":', "for _ in range(len(keras.config.backend())):"):
        index = next(i for i, line in enumerate(lines) if line.strip() == statement)
        assert "# TODO(tensorlint): layers created under run-time control flow" in lines[index - 1], translation.source


def test_translate_reports_a_syntax_error_where_check_does_and_names_a_line_target(cli, tmp_path):
    source = ("import torch\nfrom torch import nn\n\n\nclass Net(nn.Module):\n    def __init__(self):\n"
              "        super().__init__()\n        self.fc = nn.Linear(4, 2)\n\n\nhead = nn.Linear(4, 2)\n")
    (tmp_path / "m.py").write_text(source + "bad = (\n")
    check = cli("check", "m.py", "-q", "--no-cache", cwd=tmp_path).stdout.decode().strip()
    assert check.startswith("m.py:12:7: TL001 SyntaxError:")
    translate = cli("translate", "m.py:Net", "--to", "keras", cwd=tmp_path)
    assert translate.returncode == 2
    assert translate.stderr.decode().strip() == "tensorlint: error: " + check.replace(" TL001", "")
    (tmp_path / "m.py").write_text(source)
    line = cli("translate", "m.py:11", "--to", "keras", cwd=tmp_path)
    assert line.returncode == 0, line.stderr
    assert line.stderr.decode().startswith("Translated the call on line 11 (torch->keras, layout preserve)")


def _with_defaults(source: str, function: str, **defaults) -> str:
    """`source` with new default values for some parameters of `function` (as a user would call it)."""
    import libcst as cst

    class Defaults(cst.CSTTransformer):
        def leave_Param(self, original, updated):
            if updated.name.value in defaults:
                return updated.with_changes(default=cst.parse_expression(repr(defaults[updated.name.value])))
            return updated

    module = cst.parse_module(source)
    body = [statement.visit(Defaults()) if isinstance(statement, cst.FunctionDef) and statement.name.value == function
            else statement for statement in module.body]
    return module.with_changes(body=body).code


@pytest.mark.parametrize("include_top", [False, True])
def test_real_keras_applications_vgg16_builder_translates_and_agrees(include_top):
    """keras.applications' VGG16, read from the installed Keras: the Input under `if input_tensor is None`, the head
    under `if include_top`, argument checks, weight loading. Defaults as a user calls it (no download)."""
    import keras

    text = (Path(keras.__file__).parent / "src" / "applications" / "vgg16.py").read_text()
    defaults = dict(weights=None, include_top=include_top, input_shape=(32, 32, 3), pooling="avg", classes=5,
                    classifier_activation=None)
    source_text = _with_defaults(text, "VGG16", **defaults)
    translation = tr.translate_symbol(source_text, "VGG16", "torch")
    assert translation.todos == 0, translation.source
    source = execute(source_text)["VGG16"]()
    x = random_input((2, 32, 32, 3))
    expected = run_keras(source, [x])
    generated = execute(translation.module_text())
    target = generated["VGG16"]()
    run_torch(target, [x])
    generated["copy_weights"](source, target)
    assert_close(run_torch(target, [x]), expected, "keras.applications.VGG16")
    with pytest.raises(ValueError, match="include_top"):
        generated["VGG16"](include_top=not include_top)


def test_init_args_decide_a_builders_ifs_and_fix_a_parameter_activation(tmp_path, capsys):
    """`--init-args` translates a builder for the arguments it will be built with (not its defaults): the head under
    `if include_top` comes along, and `activation=head_activation` gets that parameter's value (it was silently
    dropped before: a Dense without its softmax)."""
    source = HEADLESS.replace("def build(include_top=False, pooling=\"max\", classes=3):",
                              "def build(include_top=False, pooling=\"max\", classes=3, head_activation=\"softmax\"):")
    source = source.replace("x = layers.Dense(classes)(layers.Flatten()(x))",
                            "x = layers.Dense(classes, activation=head_activation)(layers.Flatten()(x))")
    path = tmp_path / "headless.py"
    path.write_text(source)
    code, out, err = _run(["translate", f"{path}:build", "--to", "torch", "--init-args", "include_top=True, classes=4"],
                          capsys)
    assert code == 0 and "0 TODOs" in err and "decided with the arguments given" in err, err
    assert "Linear(classes)" in out and "nn.Softmax(dim=-1)" in out, out
    source_model = execute(source)["build"](include_top=True, classes=4)
    x = random_input((2, 6, 6, 2))
    expected = run_keras(source_model, [x])
    generated = execute(out)
    target = generated["build"](include_top=True, classes=4)
    run_torch(target, [x])
    generated["copy_weights"](source_model, target)
    assert_close(run_torch(target, [x]), expected, "builder for the arguments given")
    with pytest.raises(ValueError, match="head_activation"):
        generated["build"](include_top=True, classes=4, head_activation=None)
    code, _, err = _run(["translate", f"{path}:build", "--to", "torch", "--init-args", "a), print(b"], capsys)
    assert code == 2 and "not a Python argument list" in err


def test_a_layer_activation_that_is_not_a_literal_is_a_todo():
    translation = tr.translate_call("layers.Dense(4, activation=act)", "torch")
    assert translation.todos == 1 and "activation=act is not a literal" in translation.source
