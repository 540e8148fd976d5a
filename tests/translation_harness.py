"""Shared machinery for the translation equivalence tests: build a source layer/model, translate it through the
public API, execute the generated code, copy weights, run both on the same input and compare."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import numpy as np
import torch
import keras  # noqa: E402  (imported once per worker)

TOLERANCE = dict(atol=1e-4, rtol=1e-4)
TORCH_PRELUDE = "import torch\nfrom torch import nn\nimport torch.nn.functional as F\n"
KERAS_PRELUDE = "import keras\nfrom keras import layers\n"


def random_input(shape, seed=0, integers: int | None = None):
    rng = np.random.default_rng(seed)
    if integers:
        return rng.integers(0, integers, size=shape).astype("int64")
    return rng.standard_normal(shape).astype("float32")


def randomize_torch_statistics(module: torch.nn.Module, seed: int = 1) -> None:
    """Norm statistics and affine parameters away from their initial 0/1 so no mapping hides behind them."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for sub in module.modules():
            if isinstance(sub, torch.nn.modules.batchnorm._NormBase) and sub.running_mean is not None:
                sub.running_mean.copy_(torch.randn(sub.running_mean.shape, generator=generator) * 0.5)
                sub.running_var.copy_(torch.rand(sub.running_var.shape, generator=generator) * 1.5 + 0.2)
            for name, param in sub.named_parameters(recurse=False):
                if name in ("weight", "bias") and isinstance(sub, (torch.nn.modules.batchnorm._NormBase,
                                                                   torch.nn.LayerNorm, torch.nn.GroupNorm)):
                    param.copy_(torch.randn(param.shape, generator=generator) * 0.5 + (1 if name == "weight" else 0))
                elif isinstance(sub, torch.nn.PReLU):
                    param.copy_(torch.rand(param.shape, generator=generator))


def randomize_keras_statistics(layer, seed: int = 1) -> None:
    rng = np.random.default_rng(seed)
    for variable in layer.weights:
        name = variable.path.rsplit("/", 1)[-1]
        shape = tuple(variable.shape)
        if name == "moving_mean" or name == "beta":
            variable.assign(rng.standard_normal(shape).astype("float32") * 0.5)
        elif name in ("moving_variance",):
            variable.assign((rng.random(shape) * 1.5 + 0.2).astype("float32"))
        elif name == "gamma":
            variable.assign((rng.standard_normal(shape) * 0.5 + 1).astype("float32"))
        elif name == "alpha" or name == "bias":
            variable.assign(rng.standard_normal(shape).astype("float32") * 0.3)


def execute(module_text: str) -> dict:
    namespace: dict = {"__name__": "translated"}
    exec(compile(module_text, "<translation>", "exec"), namespace)
    return namespace


def to_numpy(value):
    if isinstance(value, (tuple, list)):
        value = value[0]
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().numpy()
    return keras.ops.convert_to_numpy(value)


def run_torch(module, inputs, device="cpu"):
    module.eval()
    with torch.no_grad():
        tensors = [torch.from_numpy(x).to(device) for x in inputs]
        return to_numpy(module.to(device)(*tensors))


def run_keras(layer, inputs):
    return to_numpy(layer(*inputs, training=False)) if _takes_training(layer) else to_numpy(layer(*inputs))


def _takes_training(layer) -> bool:
    import inspect

    try:
        return "training" in inspect.signature(layer.call).parameters
    except (TypeError, ValueError):
        return False


def assert_close(actual, expected, what: str = "") -> None:
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    np.testing.assert_allclose(actual, expected, err_msg=what, **TOLERANCE)


def import_file(path):
    """A module imported from ``path`` under a fresh name (translations of one symbol must not share a module)."""
    import importlib.util
    import uuid

    spec = importlib.util.spec_from_file_location(f"m_{uuid.uuid4().hex}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def translate_keras_file(source: str, symbol: str, tmp_path, capsys, init_args: str | None = None,
                         name: str | None = None):
    """``source`` written to a file and translated to torch as a user would (`tensorlint translate FILE:SYMBOL --to
    torch -o OUT [--init-args ...]`, exit 0 asserted): (the source file, the printed file, stderr)."""
    from tensorlint.server import cli

    path = tmp_path / (name or f"{symbol.lower()}_keras.py")
    path.write_text(source)
    out = tmp_path / f"{symbol}_torch.py"
    extra = ["--init-args", init_args] if init_args else []
    code = cli.main(["translate", f"{path}:{symbol}", "--to", "torch", "-o", str(out), *extra])
    err = capsys.readouterr().err
    assert code == 0, err
    return path, out, err


def assert_translation_matches(source_model, translated_model, copy_weights, inputs, to: str) -> None:
    """Give the source model random norm statistics, build the translation on ``inputs``, copy the source's weights
    into it and compare both outputs."""
    if to == "keras":
        randomize_torch_statistics(source_model)
        run_source, run_translated = run_torch, run_keras
    else:
        source_model(*inputs)  # Keras builds its weights on the first call
        randomize_keras_statistics(source_model)
        run_source, run_translated = run_keras, run_torch
    expected = run_source(source_model, inputs)
    run_translated(translated_model, inputs)  # builds, materialises Lazy* modules
    copy_weights(source_model, translated_model)
    assert_close(run_translated(translated_model, inputs), expected)


def devices():
    """`cpu` always; `cuda` when torch sees a GPU (skipped with the reason otherwise)."""
    import pytest

    cuda = pytest.param("cuda", marks=pytest.mark.skipif(not torch.cuda.is_available(),
                                                         reason="no CUDA device visible to torch"))
    return ["cpu", cuda]
