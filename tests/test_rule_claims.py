"""The behaviour each rule's documentation claims, checked against the installed torch / keras / TensorFlow.

If a library release changes one of these facts, the rule that relies on it must change too: these tests say
which. They import the frameworks (the rules themselves never do)."""

import importlib
import warnings

import pytest

from tensorlint.migrations.layer_defaults import ARGUMENT_NAMES, DIFFERENCES

torch = pytest.importorskip("torch")


def _resolve(path: str):
    module, _, name = path.rpartition(".")
    return getattr(importlib.import_module(module), name)


# -- PyTorch -----------------------------------------------------------------------------------------------------
def test_pt021_checkpoint_still_defaults_to_reentrant_and_warns():
    from torch.utils.checkpoint import checkpoint

    layer, x = torch.nn.Linear(2, 2), torch.randn(1, 2, requires_grad=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        checkpoint(layer, x)
    assert any("use_reentrant" in str(w.message) for w in caught)


@pytest.mark.parametrize("name", ["solve", "symeig", "lstsq", "eig", "matrix_rank"])
def test_pt024_removed_functions_raise(name):
    with pytest.raises(RuntimeError, match="removed"):
        getattr(torch, name)(torch.eye(3), torch.eye(3)) if name in ("solve", "lstsq") else getattr(torch, name)(torch.eye(3))


def test_pt025_fixes_compute_the_same():
    a = torch.randn(4, 3)
    spd = a.T @ a + 3 * torch.eye(3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert all(torch.allclose(x, y) for x, y in zip(torch.qr(a), torch.linalg.qr(a)))
        assert torch.allclose(torch.cholesky(spd), torch.linalg.cholesky(spd))
        assert torch.allclose(torch.chain_matmul(spd, spd, spd), torch.linalg.multi_dot([spd, spd, spd]))


def test_pt018_fix_keeps_the_dtype():
    assert torch.Tensor([1, 2]).dtype == torch.tensor([1, 2], dtype=torch.get_default_dtype()).dtype
    assert torch.LongTensor([1, 2]).dtype == torch.tensor([1, 2], dtype=torch.int64).dtype


def test_pt030_bare_no_grad_changes_nothing():
    torch.no_grad()
    assert torch.is_grad_enabled()


def test_pt019_nan_never_compares_equal():
    assert not (torch.tensor([float("nan")]) == float("nan")).any()


def test_pt031_amp_aliases_are_deprecated():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        torch.cuda.amp.GradScaler(enabled=False)
    assert any("deprecated" in str(w.message) for w in caught)


def test_xf012_torch_refuses_strided_same_padding():
    with pytest.raises(ValueError, match="same"):
        torch.nn.Conv2d(3, 3, 3, stride=2, padding="same")


def test_numpy_is_seeded_per_worker_so_no_rule_flags_it():
    # Why tensorlint has no "numpy RNG in DataLoader workers" rule: since PyTorch 1.9 each worker seeds numpy.
    import inspect

    import torch.utils.data._utils.worker as worker

    assert "np.random.seed" in inspect.getsource(worker)


@pytest.mark.parametrize("pair", [p for p in ARGUMENT_NAMES if p.torch_arg != p.keras_arg],
                         ids=lambda p: f"{p.torch_arg}-{p.keras_arg}")
def test_xf014_torch_rejects_the_keras_spelling(pair):
    layer = _resolve(pair.torch_layers[0])
    with pytest.raises(TypeError):
        layer(**{pair.keras_arg: 1})


@pytest.mark.parametrize("difference", DIFFERENCES, ids=lambda d: f"{d.torch_layer}-{d.torch_arg}")
def test_layer_defaults_match_torch(difference):
    import inspect

    import torch

    target = _resolve(difference.torch_layer)
    try:
        parameters = inspect.signature(target).parameters
    except ValueError:  # a builtin such as F.gelu has no signature: the default must behave like the stated value
        x = torch.linspace(-3, 3, 7)
        assert torch.equal(target(x), target(x, **{difference.torch_arg: difference.torch_default}))
        return
    if difference.torch_arg in parameters:
        assert parameters[difference.torch_arg].default == difference.torch_default
    else:  # recurrent and attention modules take *args/**kwargs: read the attribute an instance keeps
        assert getattr(target(4, 2), difference.torch_arg) == difference.torch_default


# -- Keras 3 / TensorFlow -----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def keras():
    return pytest.importorskip("keras")


@pytest.mark.parametrize("difference", DIFFERENCES, ids=lambda d: f"{d.keras_layer}-{d.keras_arg}")
def test_layer_defaults_match_keras(keras, difference):
    import inspect

    target = _resolve(difference.keras_layer)
    parameters = inspect.signature(target).parameters
    if difference.keras_arg.startswith("("):
        # a convention, not an argument: Keras 3 sequence layers are always batch-major (no `time_major`)
        assert "time_major" not in parameters and "batch_first" not in parameters
        return
    assert parameters[difference.keras_arg].default == difference.keras_default


@pytest.mark.parametrize("pair", [p for p in ARGUMENT_NAMES if p.torch_arg != p.keras_arg],
                         ids=lambda p: f"{p.keras_arg}-{p.torch_arg}")
def test_xf014_keras_rejects_the_torch_spelling(keras, pair):
    layer = _resolve(pair.keras_layers[0])
    with pytest.raises((TypeError, ValueError)):
        layer(**{pair.torch_arg: 1})


def test_tf013_lambda_layers_do_not_reload(keras, tmp_path):
    model = keras.Sequential([keras.Input((2,)), keras.layers.Lambda(lambda x: x * 2)])
    model.save(tmp_path / "m.keras")
    with pytest.raises(ValueError, match="lambda"):
        keras.models.load_model(tmp_path / "m.keras")


def test_tf016_validation_split_rejects_datasets(keras):
    import numpy as np
    import tensorflow as tf

    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    ds = tf.data.Dataset.from_tensor_slices((np.zeros((4, 2)), np.zeros((4, 1)))).batch(2)
    with pytest.raises(ValueError, match="validation_split"):
        model.fit(ds, validation_split=0.5, verbose=0)


def test_tf017_generator_methods_are_gone(keras):
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    assert not any(hasattr(model, m) for m in ("fit_generator", "predict_generator", "predict_classes"))


def test_tf024_save_needs_an_extension(keras, tmp_path):
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    with pytest.raises(ValueError, match="extension"):
        model.save(tmp_path / "saved_model_dir")


def test_tf019_experimental_namespace_is_gone(keras):
    import tensorflow as tf

    assert not hasattr(keras.layers, "experimental")
    assert not hasattr(tf.keras.layers, "experimental")


def test_tf026_object_arguments_need_get_config(keras, tmp_path):
    class Wrap(keras.layers.Layer):
        def __init__(self, inner, **kwargs):
            super().__init__(**kwargs)
            self.inner = inner

        def call(self, x):
            return self.inner(x)

    model = keras.Sequential([keras.Input((2,)), Wrap(keras.layers.Dense(3))])
    with pytest.raises(NotImplementedError):
        model.save(tmp_path / "w.keras")


def test_xf013_keras_padding_is_a_mode(keras):
    with pytest.raises(AttributeError):
        keras.layers.Conv2D(2, 3, padding=1)


def test_tf009_softmax_over_one_unit_is_constant(keras):
    import numpy as np

    layer = keras.layers.Dense(1, activation="softmax")
    assert np.allclose(keras.ops.convert_to_numpy(layer(np.random.randn(5, 3).astype("float32"))), 1.0)


def test_xf005_same_padding_is_asymmetric_with_stride(keras):
    import numpy as np

    x = np.random.randn(1, 6, 6, 1).astype("float32")
    kernel = np.random.randn(3, 3, 1, 1).astype("float32")
    k_conv = keras.layers.Conv2D(1, 3, strides=2, padding="same", use_bias=False)
    k_conv.build((None, 6, 6, 1))
    k_conv.set_weights([kernel])
    t_conv = torch.nn.Conv2d(1, 1, 3, stride=2, padding=1, bias=False)
    with torch.no_grad():
        t_conv.weight.copy_(torch.from_numpy(kernel.transpose(3, 2, 0, 1)))
    keras_out = keras.ops.convert_to_numpy(k_conv(x))[0, :, :, 0]
    torch_out = t_conv(torch.from_numpy(x.transpose(0, 3, 1, 2))).detach().numpy()[0, 0]
    assert not np.allclose(keras_out, torch_out, atol=1e-4)
