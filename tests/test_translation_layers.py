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
from tensorlint.migrations.translate import translate_call, translate_symbol

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


# torch -> Keras only (catalog.ONE_WAY_OPS, one-sided clamps, casts): function and method spellings
ONE_WAY_CASES = [
    ("torch.cumsum(a, dim=1)", (3, 4)), ("a.cumsum(1)", (3, 4)), ("a.cumsum(dim=-1)", (2, 3, 4)),
    ("torch.cumprod(a, dim=-1)", (3, 4)), ("a.cumprod(0)", (3, 4)),
    ("torch.clamp_min(a, 0.1)", (3, 4)), ("a.clamp_min(0.1)", (3, 4)),
    ("torch.clamp_max(a, -0.1)", (3, 4)), ("a.clamp_max(-0.1)", (3, 4)),
    ("torch.clamp(a, min=0.2)", (3, 4)), ("a.clamp(max=-0.2)", (3, 4)), ("a.clip(min=0.2)", (3, 4)),
    ("torch.max(a)", (3, 4)), ("a.max()", (3, 4)), ("torch.min(a)", (3, 4)), ("a.min()", (3, 4)),
]


@pytest.mark.parametrize("torch_code,shape", ONE_WAY_CASES, ids=[code for code, _ in ONE_WAY_CASES])
def test_torch_only_ops_and_methods_to_keras(torch_code, shape, device):
    a = random_input(shape) * 3
    expected = execute(TORCH_PRELUDE)
    expected["a"] = torch.from_numpy(a).to(device)
    exec(f"out = {torch_code}", expected)
    translation = translate_call(torch_code, "keras")
    assert translation.todos == 0, translation.source
    assert "keras.ops." in translation.source, translation.source
    namespace = execute("\n".join(translation.imports))
    namespace["a"] = keras.ops.convert_to_tensor(a)
    exec(f"out = {translation.source}", namespace)
    assert_close(to_numpy(namespace["out"]), to_numpy(expected["out"]), f"{torch_code} -> {translation.source}")


def test_every_one_way_op_example_runs_in_the_cases_above():
    covered = {code for code, _ in ONE_WAY_CASES}
    assert all(op.example[0] in covered for op in getattr(catalog, "ONE_WAY_OPS", ()))
    assert {op.key for op in catalog.ONE_WAY_OPS} >= {"cumsum", "clamp_min", "clamp_max", "max_all", "min_all"}


def _forward_module(expression: str) -> str:
    return (TORCH_PRELUDE + "\n\nclass M(nn.Module):\n    def forward(self, a, b):\n"
            f"        return {expression}\n")


@pytest.mark.parametrize("torch_code", ["a.long()", "a.double()", "a.int().float()", "a.bool()"])
def test_cast_methods_to_keras(torch_code, device):
    a = random_input((3, 4)) * 3
    source = execute(_forward_module(torch_code))["M"]()
    expected = to_numpy(source(torch.from_numpy(a).to(device), None))
    translation = translate_symbol(_forward_module(torch_code), "M", "keras")
    assert translation.todos == 0 and "keras.ops.cast(" in translation.source, translation.source
    actual = to_numpy(execute(translation.module_text())["M"]()(keras.ops.convert_to_tensor(a), None))
    assert actual.dtype == expected.dtype
    assert_close(actual, expected, f"{torch_code} -> {translation.source}")


@pytest.mark.parametrize("torch_code", ["a.max(1)", "torch.max(a, b)", "a.min(dim=0)",
                                        "a.cumsum(1, dtype=torch.float64)", "a.mul_(2)", "a.item()", "a.chunk(2)",
                                        "a.masked_fill(b > 0, 0.0)", "a.relu_()"])
def test_torch_forms_keras_cannot_spell_are_todos_in_forward(torch_code):
    translation = translate_symbol(_forward_module(torch_code), "M", "keras")
    lines = translation.source.splitlines()
    line = next(i for i, text in enumerate(lines) if text.strip().startswith("return "))
    assert translation.todos == 1 and "# TODO(tensorlint):" in lines[line - 1], translation.source


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
