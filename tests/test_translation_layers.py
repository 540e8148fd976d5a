"""Every catalog entry, both directions, numerically: build the source layer from the entry's example (non-default
arguments), translate it through the public API, execute the generated code, copy the weights with the generated
copy_weights, run both on the same random input and compare (fp32, atol = rtol = 1e-4)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from translation_harness import (KERAS_PRELUDE, TORCH_PRELUDE, assert_close, devices, execute, keras, np,
                                 random_input, randomize_keras_statistics, randomize_torch_statistics, run_keras,
                                 run_torch, to_numpy, torch)
from tensorlint.migrations import catalog
from tensorlint.migrations.translate import translate_call

BATCH = 2


def _grown(example, direction: str):
    """The example with every spatial size one larger, so even and odd sizes both run (padding asymmetry)."""
    torch_shape = example.torch_input[:1] + tuple(n + 1 for n in example.torch_input[1:])
    keras_shape = tuple(n + 1 for n in example.keras_input[:-1]) + example.keras_input[-1:]
    return replace(example, torch_input=torch_shape, keras_input=keras_shape)


def _cases(direction: str):
    for entry in catalog.LAYERS:
        if direction == "keras" and entry.keras_only or direction == "torch" and entry.torch_only:
            continue
        for index, example in enumerate(entry.examples):
            code = example.torch if direction == "keras" else example.keras
            if code:
                yield pytest.param(entry, example, id=f"{entry.key}-{index}")
                if entry.spatial:
                    yield pytest.param(entry, _grown(example, direction), id=f"{entry.key}-{index}-grown")


@pytest.fixture(params=devices())
def device(request):
    return request.param


def _integers(entry):
    return 11 if entry.key == "embedding" else None


@pytest.mark.parametrize("entry,example", list(_cases("keras")))
def test_torch_layer_to_keras(entry, example, device):
    x = random_input((BATCH,) + example.torch_input, integers=_integers(entry))
    source = execute(TORCH_PRELUDE + f"layer = {example.torch}")["layer"].to(device)
    randomize_torch_statistics(source)
    translation = translate_call(example.torch, "keras", input_shape=example.torch_input)
    assert translation.todos == 0, translation.source
    generated = execute(translation.module_text())
    target = generated["layer"]
    if entry.strategy == "attention":
        source.eval()
        with torch.no_grad():
            q = torch.from_numpy(x).to(device)
            expected = to_numpy(source(q, q, q, need_weights=False))
        target(x, x)
        generated["copy_weights"](source, target)
        actual = to_numpy(target(x, x))
    else:
        expected = run_torch(source, [x], device)
        run_keras(target, [x])
        generated["copy_weights"](source, target)
        actual = run_keras(target, [x])
    assert_close(actual, expected, f"{example.torch} -> {translation.source}")


@pytest.mark.parametrize("entry,example", list(_cases("torch")))
def test_keras_layer_to_torch(entry, example, device):
    x = random_input((BATCH,) + example.keras_input, integers=_integers(entry))
    inputs = [x, x] if entry.strategy == "attention" else [x]
    source = execute(KERAS_PRELUDE + f"layer = {example.keras}")["layer"]
    source(*inputs)
    randomize_keras_statistics(source)
    expected = run_keras(source, inputs)
    translation = translate_call(example.keras, "torch", input_shape=example.keras_input)
    assert translation.todos == 0, translation.source
    generated = execute(translation.module_text())
    target = generated["layer"].to(device)
    run_torch(target, inputs, device)  # materialises Lazy* modules
    generated["copy_weights"](source, target)
    actual = run_torch(target, inputs, device)
    assert_close(actual, expected, f"{example.keras} -> {translation.source}")


def _op_cases(direction: str):
    for op in catalog.OPS:
        if op.example:
            yield pytest.param(op, id=op.key)


def _op_inputs(op):
    return {name: np.abs(random_input(shape, seed=i)) + 0.1 if op.key in ("log", "sqrt") else
            random_input(shape, seed=i) for i, (name, shape) in enumerate(zip("ab", op.example[2]))}


@pytest.mark.parametrize("op", list(_op_cases("keras")))
def test_torch_op_to_keras(op, device):
    torch_code, _, _ = op.example
    inputs = _op_inputs(op)
    expected = execute(TORCH_PRELUDE)
    expected.update({k: torch.from_numpy(v).to(device) for k, v in inputs.items()})
    exec(f"out = {torch_code}", expected)
    translation = translate_call(torch_code, "keras")
    assert translation.todos == 0, translation.source
    namespace = execute("\n".join(translation.imports))
    namespace.update({k: keras.ops.convert_to_tensor(v) for k, v in inputs.items()})
    exec(f"out = {translation.source}", namespace)
    assert_close(to_numpy(namespace["out"]), to_numpy(expected["out"]), f"{torch_code} -> {translation.source}")


@pytest.mark.parametrize("op", list(_op_cases("torch")))
def test_keras_op_to_torch(op, device):
    _, keras_code, _ = op.example
    inputs = _op_inputs(op)
    expected = execute(KERAS_PRELUDE)
    expected.update({k: keras.ops.convert_to_tensor(v) for k, v in inputs.items()})
    exec(f"out = {keras_code}", expected)
    translation = translate_call(keras_code, "torch")
    assert translation.todos == 0, translation.source
    namespace = execute("\n".join(translation.imports))
    namespace.update({k: torch.from_numpy(v).to(device) for k, v in inputs.items()})
    exec(f"out = {translation.source}", namespace)
    assert_close(to_numpy(namespace["out"]), to_numpy(expected["out"]), f"{keras_code} -> {translation.source}")


def test_catalog_is_large_enough_and_every_entry_has_an_example():
    pairs, ops = catalog.counts()
    assert pairs >= 50 and ops >= 30
    assert all(entry.examples for entry in catalog.LAYERS)
    assert all(op.example for op in catalog.OPS)


def test_unmapped_layer_becomes_a_todo_that_parses():
    import ast

    translation = translate_call("nn.TransformerEncoderLayer(8, 2)", "keras")
    assert translation.todos == 1
    assert "# TODO(tensorlint):" in translation.source
    ast.parse(translation.source)


def test_defaults_that_differ_are_kept_and_noted():
    translation = translate_call("nn.BatchNorm2d(8)", "keras")
    assert "epsilon=1e-05" in translation.source and "momentum=0.9" in translation.source
    assert any("momentum" in note for note in translation.notes)
    back = translate_call("layers.BatchNormalization()", "torch")
    assert "eps=0.001" in back.source and "momentum=0.01" in back.source


def test_hover_card_names_the_equivalent_and_the_differences():
    card = catalog.card_for("torch.nn.BatchNorm2d")
    assert "BatchNormalization" in card and "epsilon" in card
    assert "Conv2d" in catalog.card_for("keras.layers.Conv2D")
    assert catalog.card_for("torch.cat") and catalog.card_for("not.a.layer") is None
    assert "`gelu` \u2192 `nn.GELU`" in catalog.card_for("keras.layers.Activation")
    assert "nn.ReLU6" in catalog.card_for("keras.layers.ReLU")


def test_catalog_document_is_current():
    from pathlib import Path

    document = Path(__file__).resolve().parent.parent / "docs" / "translation-catalog.md"
    assert document.read_text(encoding="utf-8") == catalog.catalog_document(), \
        "regenerate docs/translation-catalog.md (see its first lines)"
