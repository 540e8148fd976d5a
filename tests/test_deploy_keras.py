"""Truth tests for the Keras side of the deployment advisor: every `ready` below is a real SavedModel export, `.keras`
round trip or LiteRT conversion on CPU; every `blocked` a real one that fails (or an artifact that breaks) for the
reason the advisor names, at the lines marked `# BLOCKS` in tests/deploy_examples/keras_models.py."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
tf = pytest.importorskip("tensorflow", reason="the Keras truth tests need TensorFlow (the `test` extra)")
keras = pytest.importorskip("keras", reason="the Keras truth tests need Keras 3 (the `test` extra)")
import numpy as np  # noqa: E402

from deploy_truth import blocking_lines, load_examples, marked, run_snippet  # noqa: E402
from tensorlint.analyzers.deployment import BLOCKED, CAUTION, READY  # noqa: E402

X = np.linspace(-1.0, 1.0, 16, dtype="float32").reshape(2, 8)


@pytest.fixture(scope="module")
def examples():
    return load_examples("keras_models")


def _built(module, name):
    factory = getattr(module, name)
    model = factory()
    model(X)  # subclassed models build on their first call
    return model


def _serve(folder, x) -> np.ndarray:
    loaded = tf.saved_model.load(str(folder))  # keep the object alive: `serve` refers to its variables
    return loaded.serve(x).numpy()


def _assert_same_weights(reloaded, model) -> None:
    assert len(reloaded.get_weights()) == len(model.get_weights()) > 0
    for got, want in zip(reloaded.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(got, want)


def _tflite(model) -> bytes:
    return tf.lite.TFLiteConverter.from_keras_model(model).convert()


def _run_tflite(flatbuffer: bytes, x: np.ndarray) -> np.ndarray:
    interpreter = tf.lite.Interpreter(model_content=flatbuffer)
    detail = interpreter.get_input_details()[0]
    interpreter.resize_tensor_input(detail["index"], x.shape)
    interpreter.allocate_tensors()
    interpreter.set_tensor(detail["index"], x)
    interpreter.invoke()
    return interpreter.get_tensor(interpreter.get_output_details()[0]["index"])


def test_markers_are_exactly_the_blocking_lines(examples):
    _, models, lines = examples
    flagged = set()
    for model in models.values():
        for verdict in model.targets:
            if verdict.status == BLOCKED:
                flagged |= {b.line for b in verdict.blockers}
    assert flagged == marked(lines)


# -- ready ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["build_clean", "CleanSubclass"])
def test_clean_models_are_ready_and_export_everywhere(examples, tmp_path, name):
    module, models, _ = examples
    advice = models[name]
    for target in ("savedmodel", "keras", "litert"):
        assert advice.verdict(target).status == READY, target
    model = _built(module, name)
    expected = model(X).numpy()
    model.export(str(tmp_path / "serving"), verbose=False)
    np.testing.assert_allclose(_serve(tmp_path / "serving", X), expected, rtol=1e-5, atol=1e-6)
    model.save(tmp_path / "model.keras")
    reloaded = keras.saving.load_model(tmp_path / "model.keras")
    np.testing.assert_allclose(reloaded(X).numpy(), expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(_run_tflite(_tflite(model), X), expected, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name", ["build_clean", "CleanSubclass"])
@pytest.mark.parametrize("target", ["savedmodel", "keras", "litert"])
def test_keras_snippets_run(examples, tmp_path, monkeypatch, name, target):
    module, models, _ = examples
    namespace = run_snippet(models[name], target, module, tmp_path, monkeypatch)
    model = namespace["model"]
    x = np.asarray(namespace.get("example", X), dtype="float32")  # subclass snippets build with an example
    if target == "keras":
        np.testing.assert_allclose(namespace["reloaded"](x).numpy(), model(x).numpy(), rtol=1e-5, atol=1e-6)
    elif target == "savedmodel":
        (folder,) = [p for p in tmp_path.iterdir() if p.name.endswith("_serving")]
        np.testing.assert_allclose(_serve(folder / "1", x), model(x).numpy(), rtol=1e-5, atol=1e-6)
    else:
        (tflite,) = tmp_path.glob("*.tflite")
        quantized = _run_tflite(tflite.read_bytes(), x)  # dynamic-range quantized: close, not equal
        np.testing.assert_allclose(quantized, model(x).numpy(), atol=0.1)


@pytest.mark.parametrize("target,package", [("tfjs", "tensorflowjs"), ("onnx", "tf2onnx")])
def test_other_snippets_run_when_their_package_is_installed(examples, tmp_path, monkeypatch, target, package):
    module, models, _ = examples
    pytest.importorskip(package, reason=f"`{package}` (an optional deployment package) is not installed")
    run_snippet(models["build_clean"], target, module, tmp_path, monkeypatch)
    assert list(tmp_path.iterdir())
    if target == "onnx":
        import onnx

        exported = onnx.load(tmp_path / "build_clean.onnx")
        onnx.checker.check_model(exported)
        assert [d.dim_value for d in exported.graph.input[0].type.tensor_type.shape.dim][1:] == [8]


def test_plain_argument_layer_without_get_config_round_trips(examples, tmp_path):
    """Keras 3 records plain constructor arguments itself: a caution, not a blocker."""
    module, models, _ = examples
    verdict = models["build_with_plain_args_layer"].verdict("keras")
    assert verdict.status == CAUTION and {b.construct for b in verdict.blockers} == {"auto-config"}
    model = _built(module, "build_with_plain_args_layer")
    model.save(tmp_path / "plain.keras")
    np.testing.assert_allclose(keras.saving.load_model(tmp_path / "plain.keras")(X).numpy(), model(X).numpy(),
                               rtol=1e-5, atol=1e-6)


# -- blocked: .keras ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name,construct,error,match", [
    ("build_with_lambda", "lambda-layer", ValueError, "Lambda"),
    ("build_with_unregistered_layer", "unregistered-class", TypeError, "UnregisteredScale"),
])
def test_keras_reload_blocked(examples, tmp_path, name, construct, error, match):
    module, models, lines = examples
    advice = models[name]
    assert blocking_lines(advice, "keras") <= marked(lines)
    assert {b.construct for b in advice.verdict("keras").blockers} == {construct}
    assert advice.verdict("savedmodel").status == READY
    model = _built(module, name)
    model.export(str(tmp_path / "serving"), verbose=False)  # the SavedModel is fine
    np.testing.assert_allclose(_serve(tmp_path / "serving", X), model(X).numpy(), rtol=1e-5, atol=1e-6)
    model.save(tmp_path / "model.keras")
    with pytest.raises(error, match=match):
        keras.saving.load_model(tmp_path / "model.keras")


def test_layer_built_from_objects_without_get_config_cannot_be_saved(examples, tmp_path):
    module, models, lines = examples
    advice = models["build_with_configless_layer"]
    assert blocking_lines(advice, "keras") and blocking_lines(advice, "keras") <= marked(lines)
    model = _built(module, "build_with_configless_layer")
    with pytest.raises(NotImplementedError, match="get_config"):
        model.save(tmp_path / "model.keras")


# -- blocked: graph targets ------------------------------------------------------------------------------------------
def test_control_flow_on_tensor_values_blocks_export(examples, tmp_path):
    module, models, lines = examples
    advice = models["BranchOnValue"]
    for target in ("savedmodel", "litert", "tfjs", "onnx"):
        assert blocking_lines(advice, target) and blocking_lines(advice, target) <= marked(lines)
    model = _built(module, "BranchOnValue")  # eager calls work ...
    with pytest.raises(ValueError, match="never called"):  # ... but Keras never traced it, so no signature
        model.export(str(tmp_path / "serving"), verbose=False)
    with pytest.raises(ValueError, match="input shapes have not been set"):
        _tflite(model)
    control = _built(module, "CleanSubclass")  # the same steps on the clean twin work
    control.export(str(tmp_path / "control"), verbose=False)


def test_control_flow_on_tensor_values_loses_weights_in_keras_format(examples, tmp_path):
    module, models, lines = examples
    assert blocking_lines(models["BranchOnValue"], "keras") <= marked(lines)
    model = _built(module, "BranchOnValue")
    model.save(tmp_path / "branch.keras")
    reloaded = keras.saving.load_model(tmp_path / "branch.keras")  # no error ...
    assert len(reloaded.get_weights()) < len(model.get_weights())  # ... and no weights


def test_numpy_in_call_blocks_export(examples, tmp_path):
    module, models, lines = examples
    advice = models["NumpyInCall"]
    assert blocking_lines(advice, "savedmodel") <= marked(lines)
    assert {b.construct for b in advice.verdict("savedmodel").blockers} == {"keras-host-numpy"}
    model = _built(module, "NumpyInCall")
    with pytest.raises(Exception, match="numpy"):
        model.export(str(tmp_path / "serving"), verbose=False)


def test_numpy_random_in_call_is_baked_into_the_savedmodel(examples, tmp_path):
    module, models, lines = examples
    assert blocking_lines(models["RandomInCall"], "savedmodel") <= marked(lines)
    model = _built(module, "RandomInCall")
    model.export(str(tmp_path / "serving"), verbose=False)
    np.testing.assert_allclose(_serve(tmp_path / "serving", X), _serve(tmp_path / "serving", X))  # frozen draw
    assert not np.allclose(model(X).numpy(), model(X).numpy())  # eager draws each call


def test_py_function_blocks_litert_and_serving(examples, tmp_path):
    module, models, lines = examples
    advice = models["PyFunctionInCall"]
    for target in ("savedmodel", "litert", "tfjs", "onnx"):
        assert blocking_lines(advice, target) and blocking_lines(advice, target) <= marked(lines)
    model = _built(module, "PyFunctionInCall")
    with pytest.raises(Exception, match="EagerPyFunc"):
        _tflite(model)
    model.export(str(tmp_path / "serving"), verbose=False)
    # the SavedModel calls back into this process's Python: a fresh process (like TF Serving) cannot run it
    script = textwrap.dedent(f"""
        import os
        os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
        import numpy as np, tensorflow as tf
        served = tf.saved_model.load({str(tmp_path / "serving")!r})
        served.serve(np.ones((2, 8), "float32"))
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=240)
    assert result.returncode != 0
    assert "pyfunc" in result.stderr.lower()


# -- every non-blocked verdict on every example model -------------------------------------------------------------
def _keras_claims():
    _, models, _ = load_examples("keras_models")
    for name, advice in models.items():
        if advice.kind == "keras.layers.Layer":
            continue  # a layer deploys inside a model: the builders above use each one
        for target in ("savedmodel", "keras", "litert"):
            # blocked verdicts are proven by the failure tests above, one reason each
            if advice.verdict(target).status != BLOCKED:
                yield pytest.param(name, target, id=f"{name}-{target}")


@pytest.mark.parametrize("name,target", list(_keras_claims()))
def test_every_non_blocked_verdict_exports(examples, tmp_path, name, target):
    module, _, _ = examples
    model = _built(module, name)
    expected = model(X).numpy()
    if target == "savedmodel":
        model.export(str(tmp_path / "serving"), verbose=False)
        got = _serve(tmp_path / "serving", X)
    elif target == "keras":
        model.save(tmp_path / "model.keras")
        reloaded = keras.saving.load_model(tmp_path / "model.keras")
        _assert_same_weights(reloaded, model)
        reloaded(X)  # compare weights, not outputs: RandomInCall draws anew on every call
        return
    else:
        got = _run_tflite(_tflite(model), X)
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)


def test_numpy_in_call_blocks_litert(examples):
    module, models, _ = examples
    assert models["NumpyInCall"].verdict("litert").status == BLOCKED
    with pytest.raises(ValueError, match="input shapes have not been set"):  # `.numpy()` broke the symbolic build
        _tflite(_built(module, "NumpyInCall"))


def test_numpy_random_in_call_is_baked_into_the_tflite_file(examples):
    module, models, _ = examples
    assert models["RandomInCall"].verdict("litert").status == BLOCKED
    model = _built(module, "RandomInCall")
    flatbuffer = _tflite(model)
    np.testing.assert_allclose(_run_tflite(flatbuffer, X), _run_tflite(flatbuffer, X))  # one frozen draw
    assert not np.allclose(model(X).numpy(), model(X).numpy())


def test_a_module_level_sequential_exports_with_its_snippets(tmp_path, monkeypatch):
    """`model = keras.Sequential([...])` at module level, beginners' style: advised, and its snippets run."""
    import types

    from tensorlint.analyzers.deployment import advise

    source = ("import keras\nfrom keras import layers\n\n"
              "model = keras.Sequential([keras.Input(shape=(8,)), layers.Dense(4, activation='relu'), layers.Dense(2)])\n")
    module = types.ModuleType("sequential_example")
    exec(compile(source, "sequential_example.py", "exec"), module.__dict__)
    [advice] = advise(source).models
    assert {v.target: v.status for v in advice.targets}["keras"] == READY
    namespace = run_snippet(advice, "keras", module, tmp_path, monkeypatch)
    np.testing.assert_allclose(namespace["reloaded"](X), module.model(X), rtol=1e-6)
    run_snippet(advice, "savedmodel", module, tmp_path, monkeypatch)
    np.testing.assert_allclose(_serve(tmp_path / "model_serving" / "1", X), module.model(X), rtol=1e-5)
