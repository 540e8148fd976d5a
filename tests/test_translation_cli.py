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
    assert code == 2 and "syntax error at line" in err and len(err.strip().splitlines()) == 1


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
    assert "TransformerEncoderLayer" in lines[todo] + lines[todo + 1] and "self.block" in lines[todo]
    assert "1 TODO" in err
    assert "self.fc = layers.Dense(2)" in out


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
