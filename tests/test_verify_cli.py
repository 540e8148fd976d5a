"""`tensorlint verify` through its public surface: exit codes, text and JSON reports, planted weight-layout bugs,
token inputs, clear one-line errors, the Keras torch backend on CPU, and the cuda path (skipped without CUDA)."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

import translation_harness  # noqa: F401  (keras imported here with the TensorFlow backend, as in other tests)
from tensorlint.server import cli
from verify_helpers import ZOO, cuda_available, devices, run_cli, verify_json

TORCH_ZOO, KERAS_ZOO = ZOO / "torch_zoo.py", ZOO / "keras_zoo.py"


@pytest.fixture(params=devices())
def device(request):
    return request.param


def _verify(capsys, *args: str) -> tuple[int, str, str]:
    code = cli.main(["verify", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _translate(tmp_path, source, symbol: str, to: str):
    out = tmp_path / f"{symbol}_{to}.py"
    assert cli.main(["translate", f"{source}:{symbol}", "--to", to, "-o", str(out)]) == 0
    return out


def test_text_report_passes_with_per_output_differences(capsys, device):
    code, out, err = _verify(capsys, f"{TORCH_ZOO}:TwoHeadNet", "--to", "keras", "--input-shape", "3,10",
                             "--device", device)
    assert code == 0, err
    assert "output 0 [3, 3]: max abs diff" in out and "output 1 [3, 1]: max abs diff" in out
    assert "timing: torch forward" in out and "keras forward" in out
    assert out.rstrip().endswith("PASS: TwoHeadNet and its translation agree")


def test_json_report_shape(capsys):
    code, out, _ = _verify(capsys, f"{KERAS_ZOO}:build_shared_multi_output", "--to", "torch", "--input-shape",
                           "2,10", "--format", "json")
    report = json.loads(out)
    assert code == 0 and report["passed"] is True and report["device"] == "cpu" and report["todos"] == 0
    assert [output["shape"] for output in report["outputs"]] == [[2, 3], [2, 1]]
    for output in report["outputs"]:
        assert set(output) >= {"shape", "max_abs_diff", "max_rel_diff"}
        assert 0 <= output["max_abs_diff"] <= 1e-4
    assert report["runs"][0]["keras_backend"] == "tensorflow"


@pytest.mark.parametrize("source,symbol,to,shape,good,planted", [
    # Linear (out, in) -> Dense (in, out): drop the transpose of the shared square Linear
    # Conv2d OIHW -> Conv2D HWIO: swap the 3x3 kernel's height and width (same shape, wrong values)
    (TORCH_ZOO, "VGGBN", "keras", "2,3,8,8", "t['weight'].transpose(2, 3, 1, 0)", "t['weight'].transpose(3, 2, 1, 0)"),
    # Conv2D HWIO -> Conv2d OIHW: swap the 3x3 kernel's height and width (same shape, wrong values)
    (KERAS_ZOO, "build_vgg_bn", "torch", "2,8,8,3", "k['kernel'].transpose(3, 2, 0, 1)",
     "k['kernel'].transpose(3, 2, 1, 0)"),
])
def test_planted_wrong_weight_layout_fails(tmp_path, capsys, source, symbol, to, shape, good, planted):
    generated = _translate(tmp_path, source, symbol, to)
    text = generated.read_text()
    assert good in text
    generated.write_text(text.replace(good, planted, 1))
    capsys.readouterr()
    code, out, err = _verify(capsys, f"{source}:{symbol}", "--to", to, "--input-shape", shape,
                             "--translation", str(generated))
    assert code == 1, out + err
    assert "FAIL" in out and "max abs diff" in out
    assert out.rstrip().endswith(f"FAIL: {symbol} and its translation differ")
    # the untouched translation passes, so the planted line is what fails
    generated.write_text(text)
    assert _verify(capsys, f"{source}:{symbol}", "--to", to, "--input-shape", shape,
                   "--translation", str(generated))[0] == 0


def test_copy_weights_shape_error_is_a_failure(tmp_path, capsys):
    generated = _translate(tmp_path, TORCH_ZOO, "VGGBN", "keras")
    text = generated.read_text()
    generated.write_text(text.replace("t['weight'].transpose(2, 3, 1, 0)", "t['weight']", 1))
    capsys.readouterr()
    code, out, _ = _verify(capsys, f"{TORCH_ZOO}:VGGBN", "--to", "keras", "--input-shape", "2,3,8,8",
                           "--translation", str(generated))
    assert code == 1
    assert "FAIL: copy_weights failed: ValueError" in out
    assert out.rstrip().endswith("FAIL: the translation of VGGBN could not be compared")


def test_translation_that_does_not_build_fails_with_its_todo_count(tmp_path, capsys):
    generated = _translate(tmp_path, TORCH_ZOO, "SharedLayerNet", "keras")
    text = generated.read_text()
    good = "self.shared = _tagged(keras.layers.Dense(width)"
    assert good in text
    generated.write_text(text.replace(good, "# TODO(tensorlint): planted\n        self.shared = _tagged(keras.layers.Dense("
                                            "width, planted=True)"))
    capsys.readouterr()
    code, out, _ = _verify(capsys, f"{TORCH_ZOO}:SharedLayerNet", "--to", "keras", "--input-shape", "2,8",
                           "--translation", str(generated))
    assert code == 1
    assert "  FAIL: building the translation SharedLayerNet() failed: ValueError: Unrecognized keyword arguments" \
        in out
    assert out.rstrip().endswith("FAIL: the translation of SharedLayerNet could not be compared (it has 1 TODO)")


def test_token_inputs_default_to_the_smallest_embedding_vocabulary(capsys):
    code, out, _ = _verify(capsys, f"{TORCH_ZOO}:BiLSTMTagger", "--to", "keras", "--input-shape", "2,7",
                           "--format", "json")
    run = json.loads(out)["runs"][0]
    assert code == 0 and run["input_dtype"] == "int64" and run["input_high"] == 40
    code, out, _ = _verify(capsys, f"{TORCH_ZOO}:BiLSTMTagger", "--to", "keras", "--input-shape", "2,7",
                           "--dtype", "int32", "--high", "3", "--format", "json")
    run = json.loads(out)["runs"][0]
    assert code == 0 and run["input_dtype"] == "int32" and run["input_high"] == 3


def test_integer_input_without_embedding_needs_high(capsys):
    code, out, err = _verify(capsys, f"{TORCH_ZOO}:TwoHeadNet", "--to", "keras", "--input-shape", "2,10",
                             "--dtype", "int64")
    assert code == 2 and out == ""
    assert err.strip() == "tensorlint: error: int64 inputs need --high N (the model has no Embedding to take it from)"


@pytest.fixture
def user_files(tmp_path):
    (tmp_path / "broken_import.py").write_text(textwrap.dedent("""\
        import torch
        import package_that_does_not_exist


        class Net(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = package_that_does_not_exist.Linear(3, 2)

            def forward(self, x):
                return self.fc(x)
        """))
    (tmp_path / "needs_args.py").write_text(textwrap.dedent("""\
        import torch


        class Net(torch.nn.Module):
            def __init__(self, width):
                super().__init__()
                self.fc = torch.nn.Linear(3, width)

            def forward(self, x):
                return self.fc(x)
        """))
    return tmp_path


@pytest.mark.parametrize("target,flags,message", [
    ("{zoo}:NoSuchModel", ["--input-shape", "2,8"],
     "tensorlint: error: {zoo}: no model class, builder function or Sequential named 'NoSuchModel' (translatable "
     "here: VGGBN, ProjectionBlock, IdentityBlock, ResNetBasic, InvertedResidual, MobileNetV2Tiny, "
     "LSTMTextClassifier, GRUClassifier, BiLSTMTagger, TransformerEncoderBlock, ConvTransposeAutoencoder, "
     "SignalNet1D, UNetSmall, TwoHeadNet, SharedLayerNet, FusedAttentionBlock)"),
    ("{tmp}/missing.py:Net", ["--input-shape", "2,3"], "tensorlint: error: no such file: {tmp}/missing.py"),
    ("{tmp}/broken_import.py:Net", ["--input-shape", "2,3"],
     "tensorlint: error: importing {tmp}/broken_import.py failed: ModuleNotFoundError: No module named "
     "'package_that_does_not_exist'"),
    ("{tmp}/needs_args.py:Net", ["--input-shape", "2,3"],
     "tensorlint: error: Net needs arguments without defaults (width); verify builds models with their default "
     "arguments: give them defaults or pass arguments with --init-args"),
    ("{zoo}:SharedLayerNet", ["--input-shape", "2,5"],
     "tensorlint: error: running the original SharedLayerNet on a float32 input of shape [2, 5] failed: "
     "RuntimeError: mat1 and mat2 shapes cannot be multiplied (2x5 and 8x8)"),
    ("no-colon", ["--input-shape", "2,3"], "tensorlint: error: expected FILE:SYMBOL, got 'no-colon'"),
])
def test_bad_requests_give_one_line_and_exit_2(capsys, user_files, target, flags, message):
    fill = {"zoo": TORCH_ZOO, "tmp": user_files}
    code, out, err = _verify(capsys, target.format(**fill), "--to", "keras", *flags)
    assert code == 2 and out == ""
    assert err.strip() == message.format(**fill)


@pytest.mark.parametrize("flags,complaint", [
    (["--input-shape", "2,x"], "argument --input-shape: expected comma-separated sizes such as 2,3,32,32"),
    (["--input-shape", "2,0"], "argument --input-shape: sizes must be positive integers"),
    (["--input-shape", "2,8", "--atol", "-1"], "argument --atol: tolerances are >= 0"),
    (["--input-shape", "2,8", "--high", "0"], "argument --high: expected a positive integer"),
    ([], "the following arguments are required: --input-shape"),
])
def test_bad_flags_are_usage_errors(capsys, flags, complaint):
    with pytest.raises(SystemExit) as exited:
        cli.main(["verify", f"{TORCH_ZOO}:SharedLayerNet", "--to", "keras", *flags])
    assert exited.value.code == 2
    assert complaint in capsys.readouterr().err


@pytest.mark.skipif(cuda_available(), reason="checks the message given when there is no CUDA device")
def test_device_cuda_without_cuda_is_a_usage_error(capsys):
    code, out, err = _verify(capsys, f"{TORCH_ZOO}:SharedLayerNet", "--to", "keras", "--input-shape", "2,8",
                             "--device", "cuda")
    assert code == 2 and out == ""
    assert err.strip() == "tensorlint: error: --device cuda: torch sees no CUDA device (use --device cpu)"


def test_device_all_runs_every_available_device(capsys):
    code, out, _ = _verify(capsys, f"{TORCH_ZOO}:SharedLayerNet", "--to", "keras", "--input-shape", "2,8",
                           "--device", "all", "--format", "json")
    report = json.loads(out)
    assert code == 0 and report["device"] == "all"
    ran = [run["device"] for run in report["runs"]]
    if cuda_available():
        assert ran == ["cpu", "cuda"] and report["skipped"] == []
    else:
        assert ran == ["cpu"] and report["skipped"] == ["cuda: no CUDA device visible to torch"]


def test_keras_on_the_torch_backend_on_cpu(capsys, monkeypatch):
    """This process imported Keras on TensorFlow, so KERAS_BACKEND=torch runs the job in a worker subprocess:
    both the torch backend and the worker path run for real."""
    monkeypatch.setenv("KERAS_BACKEND", "torch")
    code, out, err = _verify(capsys, f"{TORCH_ZOO}:ResNetBasic", "--to", "keras", "--input-shape", "2,3,9,9",
                             "--format", "json")
    report = json.loads(out)
    assert code == 0, err
    assert report["runs"][0]["keras_backend"] == "torch" and report["passed"]


def test_frameworks_missing_is_one_line(tmp_path):
    """With torch unimportable, verify says how to install the extra, in one line, no traceback."""
    (tmp_path / "torch.py").write_text("raise ModuleNotFoundError(\"No module named 'torch'\", name='torch')\n")
    completed = run_cli("verify", f"{TORCH_ZOO}:SharedLayerNet", "--to", "keras", "--input-shape", "2,8",
                        env={"PYTHONPATH": str(tmp_path)})
    assert completed.returncode == 2 and completed.stdout == ""
    assert completed.stderr.strip() == ("tensorlint: error: verify needs PyTorch and Keras 3 (torch is missing): "
                                        "pip install 'tensorlint[verify]'")


def test_user_prints_do_not_corrupt_json(tmp_path):
    source = tmp_path / "chatty.py"
    source.write_text(textwrap.dedent("""\
        import torch


        class Net(torch.nn.Module):
            def __init__(self):
                super().__init__()
                print("loading my model")
                self.fc = torch.nn.Linear(3, 2)

            def forward(self, x):
                print("forward!")
                return self.fc(x)
        """))
    code, report, stderr = verify_json(f"{source}:Net", "--to", "keras", "--input-shape", "2,3")
    assert code == 0 and report["passed"], stderr
    assert "loading my model" in stderr


@pytest.mark.skipif(not cuda_available(), reason="no CUDA device visible to torch")
def test_cuda_reports_the_keras_backend_it_used():
    code, report, stderr = verify_json(f"{TORCH_ZOO}:VGGBN", "--to", "keras", "--input-shape", "2,3,8,8",
                                       "--device", "cuda")
    assert code == 0, stderr
    assert report["device"] == "cuda" and report["runs"][0]["keras_backend"] in ("tensorflow", "torch", "jax")


def test_one_line_statements_verify(tmp_path, capsys):
    source = tmp_path / "compact.py"
    source.write_text(textwrap.dedent("""\
        import torch


        class Net(torch.nn.Module):
            def __init__(self): super().__init__(); self.fc = torch.nn.Linear(3, 2)
            def forward(self, x): return self.fc(x)
        """))
    code, out, err = _verify(capsys, f"{source}:Net", "--to", "keras", "--input-shape", "2,3")
    assert code == 0, err


@pytest.mark.parametrize("source,symbol,to,shape", [
    (TORCH_ZOO, "ConvTransposeAutoencoder", "keras", "2,2,8,8"),
    (KERAS_ZOO, "build_conv_autoencoder", "torch", "2,8,8,2"),
])
def test_native_layout_moves_channels_in_and_out(capsys, source, symbol, to, shape):
    """--layout native: the translation gets the input with channels moved to its framework's place, and its
    output is moved back before comparing; the shapes reported are the original's."""
    code, out, err = _verify(capsys, f"{source}:{symbol}", "--to", to, "--input-shape", shape, "--layout", "native",
                             "--format", "json")
    report = json.loads(out)
    assert code == 0, (report, err)
    assert report["outputs"][0]["shape"] == [int(size) for size in shape.split(",")]


def test_reruns_give_the_same_figures(capsys):
    runs = []
    for _ in range(2):
        code, out, _ = _verify(capsys, f"{TORCH_ZOO}:MobileNetV2Tiny", "--to", "keras", "--input-shape", "2,3,9,8",
                               "--format", "json")
        assert code == 0
        runs.append(json.loads(out)["outputs"])
    assert runs[0] == runs[1]


@pytest.mark.parametrize("planted,expected_line,shape_key", [
    ("return self.classify(h) + 0.0 * keras.ops.sum(self.regress(h))", "  output 1 [2, 1]: the translation returns no such output  FAIL", "missing_in"),
    ("return self.classify(h), self.regress(h)[:, :0]",
     "  output 1: shape [2, 0] but the original gives [2, 1]  FAIL", "expected_shape"),
])
def test_output_count_and_shape_mismatches_fail(tmp_path, capsys, planted, expected_line, shape_key):
    generated = _translate(tmp_path, TORCH_ZOO, "TwoHeadNet", "keras")
    good = "return self.classify(h), keras.ops.sigmoid(self.regress(h))"
    text = generated.read_text()
    assert good in text
    generated.write_text(text.replace(good, planted))
    capsys.readouterr()
    args = (f"{TORCH_ZOO}:TwoHeadNet", "--to", "keras", "--input-shape", "2,10", "--translation", str(generated))
    code, out, _ = _verify(capsys, *args)
    assert code == 1 and expected_line in out.splitlines()
    code, out, _ = _verify(capsys, *args, "--format", "json")
    output = json.loads(out)["outputs"][1]
    assert code == 1 and output["passed"] is False and output["max_abs_diff"] is None and shape_key in output


# Chain, InPlace and ConvUp live in the fixture file the translate CLI tests use too
TENSOR_METHOD_MODELS = Path(__file__).parent / "translation_models" / "tensor_methods.py"


@pytest.mark.parametrize("symbol,shape,code,passed,todos", [
    ("Chain", "2,4", 0, True, 0),  # clamp_min/cumsum: mapped to keras.ops.maximum/cumsum, and the numbers agree
    ("InPlace", "2,4", 1, False, 1),  # x.mul_(2) seen by y: a counted TODO (it used to be 0 TODOs and a crash)
    ("InPlaceOnFresh", "2,4", 0, True, 0),  # x.mul_(2) on a tensor nothing else sees: x = x * 2
    ("ConvUp", "2,3,5,6", 0, True, 0),  # nn.Upsample in a class (rank unknown): not UpSampling1D any more
])
def test_tensor_methods_and_upsample_verify_or_count_their_todos(capsys, symbol, shape, code, passed, todos):
    status, out, err = _verify(capsys, f"{TENSOR_METHOD_MODELS}:{symbol}", "--to", "keras", "--input-shape", shape,
                               "--format", "json")
    report = json.loads(out)
    assert (status, report["passed"], report["todos"]) == (code, passed, todos), out + err


# -- the original is the symbol's closure; the translation is imported as printed; --init-args ---------------------
# A hand-written Keras translation of the `Net(block, depth, width)` models below: verify's own behaviour is what these
# tests check, not the translator's.
KERAS_NET = textwrap.dedent("""\
    import keras


    class Block(keras.layers.Layer):
        def __init__(self, width):
            super().__init__()
            self.fc = keras.layers.Dense(width)

        def call(self, x):
            return keras.ops.relu(self.fc(x))


    class Net(keras.Model):
        def __init__(self, block=None, depth=1, width=4):
            super().__init__()
            self.blocks = [block(width) for _ in range(depth)]

        def call(self, x, training=None):
            for block in self.blocks:
                x = block(x)
            return x


    def copy_weights(source, target):
        for torch_block, keras_block in zip(source.blocks, target.blocks):
            keras_block.fc.set_weights([torch_block.fc.weight.detach().numpy().T,
                                        torch_block.fc.bias.detach().numpy()])
    """)
TORCH_NET = textwrap.dedent("""\
    import torch
    from .layers import make_linear


    class Block(torch.nn.Module):
        def __init__(self, width):
            super().__init__()
            self.fc = make_linear(width, width)

        def forward(self, x):
            return torch.relu(self.fc(x))


    class Net(torch.nn.Module):
        def __init__(self, block=None, depth=1, width=4):
            super().__init__()
            self.blocks = torch.nn.ModuleList(block(width) for _ in range(depth))

        def forward(self, x):
            for block in self.blocks:
                x = block(x)
            return x


    class Unrelated(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.net = this_name_is_never_defined()
    """)


@pytest.fixture
def package_model(tmp_path):
    """mypackage/model.py: Net uses a helper of a sibling file through a relative import; the package's
    __init__ cannot be imported and an unrelated class of the file would fail to build."""
    package = tmp_path / "mypackage"
    package.mkdir()
    (package / "__init__.py").write_text("import package_that_does_not_exist\n")
    (package / "layers.py").write_text("import torch\n\n\ndef make_linear(i, o):\n    return torch.nn.Linear(i, o)\n")
    (package / "model.py").write_text(TORCH_NET)
    translation = tmp_path / "Net_keras.py"
    translation.write_text(KERAS_NET)
    return package / "model.py", translation


def test_a_class_inside_a_package_file_verifies_from_its_closure(capsys, package_model):
    model, translation = package_model
    code, out, err = _verify(capsys, f"{model}:Net", "--to", "keras", "--input-shape", "2,3",
                             "--init-args", "Block, 2, width=3", "--translation", str(translation),
                             "--format", "json")
    report = json.loads(out)
    assert code == 0 and report["passed"], out + err
    assert report["init_args"] == "Block, 2, width=3"
    assert report["runs"][0]["missing_name"] is None


def test_init_args_names_each_sides_own_definitions(capsys, package_model):
    """`Block` is the torch class on the original side and the Keras class on the translated side: a translation
    without a `Block` fails to build and says which name is missing."""
    model, translation = package_model
    code, out, _ = _verify(capsys, f"{model}:Net", "--to", "keras", "--input-shape", "2,3",
                           "--init-args", "Block, 2, width=3", "--translation", str(translation))
    assert code == 0 and "built as Net(Block, 2, width=3)" in out.splitlines()[0]
    translation.write_text(KERAS_NET.replace("class Block(", "class KerasBlock("))
    code, out, _ = _verify(capsys, f"{model}:Net", "--to", "keras", "--input-shape", "2,3",
                           "--init-args", "Block, 2, width=3", "--translation", str(translation), "--format", "json")
    run = json.loads(out)["runs"][0]
    assert code == 1 and run["missing_name"] == "Block"
    assert run["failure"] == ("evaluating --init-args 'Block, 2, width=3' for the translation failed: NameError: "
                              "name 'Block' is not defined")


@pytest.mark.parametrize("init_args,message", [
    ("1), print(2", "--init-args '1), print(2' is not a Python argument list"),
    ("width=", "--init-args 'width=' is not a Python argument list (invalid syntax)"),
])
def test_init_args_must_be_an_argument_list(capsys, package_model, init_args, message):
    model, translation = package_model
    code, out, err = _verify(capsys, f"{model}:Net", "--to", "keras", "--input-shape", "2,3",
                             "--init-args", init_args, "--translation", str(translation))
    assert code == 2 and out == ""
    assert err.strip() == f"tensorlint: error: {message}"


def test_without_init_args_the_defaults_build_as_before(capsys):
    code, out, _ = _verify(capsys, f"{TORCH_ZOO}:SharedLayerNet", "--to", "keras", "--input-shape", "2,8",
                           "--format", "json")
    assert code == 0 and json.loads(out)["init_args"] is None


@pytest.mark.parametrize("planted,missing,where", [
    # an annotation naming an import the translation dropped: evaluated at import, as for the user
    ("def helper(x: Optional[int] = None):\n    return x\n", "Optional", "NameError: name 'Optional' is not defined"),
    ("from keras.layers import NoSuchLayer\n", "NoSuchLayer", "ImportError: cannot import name 'NoSuchLayer'"),
    ("import package_that_does_not_exist\n", "package_that_does_not_exist",
     "ModuleNotFoundError: No module named 'package_that_does_not_exist'"),
])
def test_a_translation_that_does_not_import_fails_with_the_missing_name(capsys, package_model, planted, missing,
                                                                        where):
    model, translation = package_model
    translation.write_text(KERAS_NET + "\n\n" + planted)
    line = len((KERAS_NET + "\n\n").splitlines()) + 1
    code, out, _ = _verify(capsys, f"{model}:Net", "--to", "keras", "--input-shape", "2,4",
                           "--init-args", "Block", "--translation", str(translation), "--format", "json")
    run = json.loads(out)["runs"][0]
    assert code == 1 and run["missing_name"] == missing
    assert run["failure"].startswith(f"the translation does not import: {where}")
    assert run["failure"].endswith(f"(line {line})")
    code, out, _ = _verify(capsys, f"{model}:Net", "--to", "keras", "--input-shape", "2,4",
                           "--init-args", "Block", "--translation", str(translation))
    assert code == 1 and out.rstrip().endswith("FAIL: the translation of Net could not be compared")


def test_a_module_of_the_files_own_package_imports_without_the_packages_init(capsys, package_model):
    """`from mypackage import layers` (a module, which the closure cannot inline) imports just that module: the
    package's __init__ (here failing, in keras-hub importing every model) does not run."""
    model, translation = package_model
    model.write_text(TORCH_NET.replace("from .layers import make_linear", "from mypackage import layers")
                     .replace("make_linear(width, width)", "layers.make_linear(width, width)"))
    code, out, err = _verify(capsys, f"{model}:Net", "--to", "keras", "--input-shape", "2,3",
                             "--init-args", "Block, 2, width=3", "--translation", str(translation))
    assert code == 0, out + err
