"""Whole models through `tensorlint translate` (the CLI, both directions): the generated module is executed, the
translation instantiated with the same constructor arguments, weights copied with the generated copy_weights,
and both models compared on the same random input (fp32, atol = rtol = 1e-4, norm statistics randomised)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from translation_harness import (assert_close, devices, execute, keras, random_input,
                                 randomize_keras_statistics, randomize_torch_statistics, run_keras, run_torch, torch)
from tensorlint.server import cli
from translation_models_loader import load

MODELS = Path(__file__).parent / "translation_models"
BATCH = 2


TORCH_MODELS = load("torch_models")
KERAS_MODELS = load("keras_models")


@pytest.fixture(params=devices())
def device(request):
    return request.param


def _input(spec, seed=0):
    if spec[0] == "tokens":
        return random_input((BATCH, spec[1]), seed, integers=spec[2])
    return random_input((BATCH,) + tuple(spec), seed)


def _translate(path: Path, symbol: str, to: str, tmp_path: Path, capsys) -> dict:
    out = tmp_path / f"{symbol}_{to}.py"
    code = cli.main(["translate", f"{path}:{symbol}", "--to", to, "-o", str(out)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "Translated" in captured.err
    text = out.read_text()
    ast.parse(text)
    assert "# TODO(tensorlint)" not in text, text
    return execute(text)


def _instance(module, symbol):
    value = getattr(module, symbol)
    return value() if callable(value) and not isinstance(value, (torch.nn.Module, keras.layers.Layer)) else value


@pytest.mark.parametrize("symbol", sorted(TORCH_MODELS.INPUTS))
def test_torch_model_to_keras(symbol, tmp_path, capsys, device):
    x = _input(TORCH_MODELS.INPUTS[symbol])
    source = _instance(TORCH_MODELS, symbol).to(device)
    randomize_torch_statistics(source)
    expected = run_torch(source, [x], device)
    generated = _translate(MODELS / "torch_models.py", symbol, "keras", tmp_path, capsys)
    target = _instance(type("ns", (), generated), symbol)
    run_keras(target, [x])
    generated["copy_weights"](source, target)
    assert_close(run_keras(target, [x]), expected, symbol)


@pytest.mark.parametrize("symbol", sorted(KERAS_MODELS.INPUTS))
def test_keras_model_to_torch(symbol, tmp_path, capsys, device):
    x = _input(KERAS_MODELS.INPUTS[symbol])
    source = _instance(KERAS_MODELS, symbol)
    source(x)
    randomize_keras_statistics(source)
    expected = run_keras(source, [x])
    generated = _translate(MODELS / "keras_models.py", symbol, "torch", tmp_path, capsys)
    target = _instance(type("ns", (), generated), symbol).to(device)
    run_torch(target, [x], device)  # materialises Lazy* modules
    generated["copy_weights"](source, target)
    assert_close(run_torch(target, [x], device), expected, symbol)
