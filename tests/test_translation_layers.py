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
    if op.key == "gather":  # b holds indices into a's axis 1
        (a_shape, b_shape) = op.example[2]
        return {"a": random_input(a_shape), "b": random_input(b_shape, integers=a_shape[1])}
    return {name: np.abs(random_input(shape, seed=i)) + 0.1 if op.key in ("log", "sqrt", "rsqrt") else
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
    ("torch.cumprod(a, dim=-1)", (3, 4)), ("a.cumprod(0)", (3, 4)), ("a.masked_fill(a > 0, -1.0)", (3, 4)),
    ("torch.chunk(a, 3, dim=1)", (3, 7)),
    ("torch.clamp_min(a, 0.1)", (3, 4)), ("a.clamp_min(0.1)", (3, 4)),
    ("torch.clamp_max(a, -0.1)", (3, 4)), ("a.clamp_max(-0.1)", (3, 4)),
    ("torch.clamp(a, min=0.2)", (3, 4)), ("a.clamp(max=-0.2)", (3, 4)), ("a.clip(min=0.2)", (3, 4)),
    ("torch.max(a)", (3, 4)), ("a.max()", (3, 4)), ("torch.min(a)", (3, 4)), ("a.min()", (3, 4)),
    ("a.new_zeros(2, 3)", (3, 4)), ("a.new_ones((2, 3))", (3, 4)), ("a.new_full((2, 3), -1.5)", (3, 4)),
    ("a.double().new_full([2], 7, dtype=torch.int64)", (3, 4)), ("a.double().new_zeros(3)", (3, 4)),
    ("F.pad(a, (1, 2, 0, 1), value=-1.0)", (2, 3, 4)), ("F.pad(a, [2, 0])", (2, 3)),
    ("torch.empty(0, 3)", (3, 4)), ("torch.empty((2, 0), dtype=torch.float64, device=a.device)", (3, 4)),
    ("F.rms_norm(a, (3, 4), a[0] * 2)", (2, 3, 4)), ("F.rms_norm(a * 1e-3, [4], eps=1e-6)", (2, 3, 4)),
    ("F.layer_norm(a, (3, 4), a[0] * 2, None, eps=1e-6)", (2, 3, 4)), ("F.layer_norm(a, [4])", (2, 3, 4)),
    ("F.layer_norm(a, a.shape[-1:], bias=a[0, 0])", (2, 3, 4)),
    ("F.pad(a, (1, 1, 2, 0), mode='reflect')", (1, 2, 4, 5)), ("F.pad(a * 2, tuple([1, 0, 0, 2]))", (2, 3, 4)),
    ("torch.flatten(a, 2)", (2, 3, 4, 5)), ("a.flatten(1, 2)", (2, 3, 4, 5)), ("a.flatten(-2)", (2, 3, 4, 5)),
    ("(a + 1).flatten(0, 1)", (2, 3, 4)), ("a.flatten(start_dim=1, end_dim=-2)", (2, 3, 4, 5)),
    # the second real-model zoo (timm BlurPool2d, Swin/BEiT attention): data, tiling, broadcasting, functional
    # linear and convolution layers
    ("torch.tensor([[1.0, 2.0], [3.0, 4.5]])", (3, 4)), ("torch.tensor([1.0, 2.0, 3.0, 4.0], device='cpu')", (3, 4)),
    ("a.repeat(2, 1, 3)", (3, 4)), ("a.repeat((2, 2))", (3, 4)),
    ("a.expand(2, -1, 4)", (3, 1)), ("a.expand((3, 2))", (3, 1)), ("a[:, :1].expand_as(a)", (3, 4)),
    ("F.linear(a, a[0, :4], a[0, :4, 0])", (2, 5, 3)), ("F.linear(a, a[0])", (2, 3, 3)),
    *((f"F.conv{n}d(a, a[:6, :2{', :3' * n}], a[{'0, ' * (n + 1)}:6], stride=2, padding=1, groups=2)",
       (6, 4, *(7,) * n)) for n in (1, 2, 3)),
    ("F.conv2d(a, a[:3, :, :2, :3], dilation=2, padding='same')", (2, 4, 7, 6)),
    ("F.conv2d(a, a[:4, :1, :3, :3], None, 1, (1, 0), 1, 4)", (4, 4, 6, 5)),
    ("torch.ceil(a)", (3, 4)), ("a.ceil()", (3, 4)), ("torch.floor(a)", (3, 4)), ("a.round()", (3, 4)),
    ("torch.round(a * 2, decimals=1)", (3, 4)), ("torch.divide(a, 3)", (3, 4)), ("a.numel()", (3, 4)), ("torch.numel(a)", (2, 3, 4)),
    ("torch.stack(torch.meshgrid([a[0], a[1, :3]]))", (2, 4)),
    ("torch.stack(torch.meshgrid(*[a[0], a[1]], indexing='xy'))", (2, 4)),
    ("torch.stack(torch.meshgrid(a[0], a[1, :2], indexing='ij'), 0)", (2, 4)),
    # the translate sweep's most frequent mappable causes
    ("a[:, None].expand(2, -1, 5, -1)", (3, 4)), ("a[:1].expand(3, 4)", (3, 4)), ("(a * 2)[0].expand(2, -1)", (3, 4)),
    ("a[:1].expand_as(a)", (3, 4)), ("a.numel()", (3, 4)), ("torch.numel(a[0])", (3, 4)),
    ("torch.tensor([[1.5, -2.0], [0.25, 3.0]], device=a.device)", (3, 4)),
    ("torch.as_tensor([1.0, 2.0], dtype=torch.float64)", (3, 4)),
    ("F.linear(a, a[:2] * 2, a[0, :2])", (3, 4)), ("F.linear(a, a[:2], bias=None)", (3, 4)),
    ("a.repeat(2, 1)", (3, 4)), ("a.repeat((1, 2, 2))", (3, 4)), ("a.repeat_interleave(3)", (3, 4)),
    ("torch.linspace(0, 1, steps=4, dtype=torch.float64)", (3, 4)), ("a.ceil()", (3, 4)), ("a.floor()", (3, 4)),
    ("a.sin()", (3, 4)), ("a.cos()", (3, 4)), ("a.sign()", (3, 4)), ("a.atan()", (3, 4)), ("a.round()", (3, 4)),
    ("torch.meshgrid([a[0], a[:, 0]], indexing='xy')", (3, 4)), ("a.swapaxes(0, 1)", (3, 4)),
    ("F.group_norm(a, 2, a[0, :, 0, 0] * 2, a[1, :, 0, 0], eps=1e-3)", (2, 4, 3, 5)), ("F.group_norm(a, 4)", (2, 4, 6)),
    ("F.group_norm(a + 1, 1, weight=None, bias=a[0, :, 0])", (2, 4, 6)),
    ("F.prelu(a, a[0, :, 0, 0])", (2, 4, 3, 5)), ("F.prelu(a * 2, a[0, :1, 0])", (2, 4, 6)),
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


@pytest.mark.parametrize("torch_code", ["a.double().new_zeros(3)", "a.long().new_ones((2, 2))", "a.new_full([2], 7)",
                                        "a.new_full([2], 7, dtype=torch.int64)", "torch.zeros_like(a, dtype=torch.int32)"])
def test_new_tensors_take_the_receivers_dtype(torch_code):
    """torch's x.new_*(...) is a tensor of x's dtype (keras.ops.zeros/full alone would be float32), unless dtype=
    says otherwise."""
    a = random_input((3, 4))
    expected = execute(TORCH_PRELUDE)
    expected["a"] = torch.from_numpy(a)
    exec(f"out = {torch_code}", expected)
    translation = translate_call(torch_code, "keras")
    assert translation.todos == 0, translation.source
    namespace = execute("\n".join(translation.imports))
    namespace["a"] = keras.ops.convert_to_tensor(a)
    exec(f"out = {translation.source}", namespace)
    actual, wanted = to_numpy(namespace["out"]), to_numpy(expected["out"])
    assert actual.dtype == wanted.dtype, translation.source
    assert_close(actual, wanted, f"{torch_code} -> {translation.source}")


def test_every_one_way_op_example_runs_in_the_cases_above():
    covered = {code for code, _ in ONE_WAY_CASES}
    # stochastic depth needs torchvision or timm to run in torch: test_stochastic_depth_is_the_identity covers it
    assert all(op.example[0] in covered for op in catalog.ONE_WAY_OPS if op.key != "stochastic_depth")
    assert {op.key for op in catalog.ONE_WAY_OPS} >= {"clamp_min", "clamp_max", "max_all", "min_all", "masked_fill",
                                                      "chunk"}


def _forward_module(expression: str) -> str:
    return (TORCH_PRELUDE + "\n\nclass M(nn.Module):\n    def forward(self, a, b):\n"
            f"        return {expression}\n")


@pytest.mark.parametrize("torch_code", ["a.long()", "a.double()", "a.int().float()", "a.bool()", "a.to(torch.float64)",
                                        "a.to(dtype=torch.int32)", "a.to('cpu').long()", "a.to(a.device, torch.float16)",
                                        "a.type_as(a.long())", "(a * 2).to(device=a.device, dtype=torch.long)"])
def test_cast_methods_to_keras(torch_code, device):
    a = random_input((3, 4)) * 3
    source = execute(_forward_module(torch_code))["M"]()
    expected = to_numpy(source(torch.from_numpy(a).to(device), None))
    translation = translate_symbol(_forward_module(torch_code), "M", "keras")
    assert translation.todos == 0 and "keras.ops.cast(" in translation.source, translation.source
    actual = to_numpy(execute(translation.module_text())["M"]()(keras.ops.convert_to_tensor(a), None))
    assert actual.dtype == expected.dtype
    assert_close(actual, expected, f"{torch_code} -> {translation.source}")


@pytest.mark.parametrize("torch_code", ["a.max(1)", "torch.max(a, b)", "a.min(dim=0)", "a.topk(2, dim=0)",
                                        "a.to(b, non_blocking=True)", "F.pad(a, (1, -1))",
                                        "F.pad(a, (1, 1), mode=b.mode, value=1.0)",
                                        "F.pad(a, (1, 2), 'replicate')", "torch.full(a.shape, 1.0, **b)",
                                        "a.mul_(2)", "a.item()", "a.masked_fill_(b > 0, 0.0)", "a.relu_()",
                                        "a.std(dim=b.ndim)", "F.scaled_dot_product_attention(a, b, b, dropout_p=0.1)",
                                        "torch.ones(2, requires_grad=True)"])
def test_torch_forms_keras_cannot_spell_are_todos_in_forward(torch_code):
    translation = translate_symbol(_forward_module(torch_code), "M", "keras")
    lines = translation.source.splitlines()
    line = next(i for i, text in enumerate(lines) if text.strip().startswith("return "))
    assert translation.todos == 1 and "# TODO(tensorlint):" in lines[line - 1], translation.source


@pytest.mark.parametrize("torch_code, b", [("a.to(b)", "float64"), ("a.to(b)", "cpu"), ("a.to(b)", "tensor"),
                                           ("F.pad(a, (1, 1), mode=b)", "reflect"),
                                           ("F.pad(a, (1, 1), mode=b)", "constant"),
                                           ("torch.ones(a.shape, **b) * a", {"dtype": None, "device": "cpu"})])
def test_values_known_only_at_run_time_are_read_there(torch_code, b):
    """`x.to(b)`: a dtype, a device or a tensor, which only the run time tells (these used to be TODOs);
    `F.pad(..., mode=b)`; timm's `torch.ones(..., **dd)`."""
    a = random_input((2, 3, 4))
    torch_b = {"float64": torch.float64, "tensor": torch.zeros(1, dtype=torch.int32)}.get(b, b) \
        if isinstance(b, str) else b
    keras_b = keras.ops.zeros(1, dtype="int32") if b == "tensor" else b
    source = execute(_forward_module(torch_code))["M"]()
    expected = to_numpy(source(torch.from_numpy(a), b=torch_b))
    translation = translate_symbol(_forward_module(torch_code), "M", "keras")
    assert translation.todos == 0, translation.source
    actual = to_numpy(execute(translation.module_text())["M"]()(keras.ops.convert_to_tensor(a), b=keras_b))
    assert actual.dtype == expected.dtype
    assert_close(actual, expected, f"{torch_code} -> {translation.source}")


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


# -- semantic traps: the same name means something else in the other framework (issue 13, item 5) ---------------
def _outputs(value) -> list:
    """Every tensor of a result (split/chunk give a sequence of pieces, topk a pair)."""
    items = value if isinstance(value, (tuple, list)) else [value]
    return [item.detach().cpu().numpy() if isinstance(item, torch.Tensor) else keras.ops.convert_to_numpy(item)
            for item in items]


def _assert_all_close(actual, expected, what: str) -> None:
    assert len(actual) == len(expected), f"{what}: {len(actual)} results != {len(expected)}"
    for got, want in zip(actual, expected):
        assert_close(got, want, what)


def _torch_forward_to_keras(expression: str, a, b=None, device="cpu", todos=0):
    """Translate `forward(self, a, b): return <expression>` to Keras, run both, compare every result."""
    module = _forward_module(expression)
    source = execute(module)["M"]()
    tensors = [None if x is None else torch.from_numpy(x).to(device) for x in (a, b)]
    expected = _outputs(source(*tensors))
    translation = translate_symbol(module, "M", "keras")
    assert translation.todos == todos, translation.source
    model = execute(translation.module_text())["M"]()
    actual = _outputs(model(*[None if x is None else keras.ops.convert_to_tensor(x) for x in (a, b)]))
    _assert_all_close(actual, expected, f"{expression} -> {translation.source}")
    return translation


def _keras_op_to_torch(keras_code: str, inputs: dict, device="cpu"):
    expected = execute(KERAS_PRELUDE)
    expected.update({k: keras.ops.convert_to_tensor(v) for k, v in inputs.items()})
    exec(f"out = {keras_code}", expected)
    translation = translate_call(keras_code, "torch")
    assert translation.todos == 0, translation.source
    namespace = execute("\n".join(translation.imports))
    namespace.update({k: torch.from_numpy(v).to(device) for k, v in inputs.items()})
    exec(f"out = {translation.source}", namespace)
    _assert_all_close(_outputs(namespace["out"]), _outputs(expected["out"]), f"{keras_code} -> {translation.source}")
    return translation


@pytest.mark.parametrize("expression", [
    "torch.std(a, dim=1)", "a.var()", "a.std(dim=(1, 2), keepdim=True)", "torch.var(a, 1, False)",
    "a.var(-1, correction=2)", "torch.std(a * 2, dim=0)", "a.std(1, unbiased=True)", "torch.var(a, dim=-1, correction=0)",
])
def test_torch_std_var_are_unbiased_and_stay_so_in_keras(expression, device):
    translation = _torch_forward_to_keras(expression, random_input((3, 4, 5)) * 2, device=device)
    assert "keras.ops." in translation.source


@pytest.mark.parametrize("keras_code", ["keras.ops.std(a, axis=1)", "keras.ops.var(a)",
                                        "keras.ops.var(a, axis=(0, 2), keepdims=True)"])
def test_keras_std_var_are_population_statistics_in_torch(keras_code, device):
    translation = _keras_op_to_torch(keras_code, {"a": random_input((3, 4, 5))}, device)
    assert "correction=0" in translation.source


@pytest.mark.parametrize("expression", [
    "torch.split(a, 2, dim=1)", "a.split([1, 3, 1], dim=1)", "a.split(2)", "torch.split(a * 1, 3, -1)",
    "torch.split(a, b.shape[0], 1)", "torch.split(a, [2, 3], 1)", "a.split(5, dim=1)",
    "torch.chunk(a, 3, dim=1)", "a.chunk(4, dim=1)", "a.chunk(2)", "torch.chunk(a + 1, 2, -1)",
])
def test_torch_split_cuts_pieces_of_a_size_and_chunk_rounds_up(expression, device):
    """torch.split(x, 2) on 5 columns gives 2, 2, 1; torch.chunk(x, 4) on 5 gives 3 pieces (2, 2, 1)."""
    _torch_forward_to_keras(expression, random_input((3, 5, 7)), random_input((2,)), device=device)


@pytest.mark.parametrize("keras_code", ["keras.ops.split(a, 2, axis=1)", "keras.ops.split(a, [1, 3], axis=1)",
                                        "keras.ops.split(a, 3)"])
def test_keras_split_takes_sections_or_indices_in_torch(keras_code, device):
    _keras_op_to_torch(keras_code, {"a": random_input((3, 4, 5))}, device)


def test_string_split_in_forward_is_left_alone():
    translation = translate_symbol(_forward_module('a if "x,y".split(",") else b'), "M", "keras")
    assert translation.todos == 0 and '"x,y".split(",")' in translation.source


_SDPA_MODULE = TORCH_PRELUDE + """

class M(nn.Module):
    def forward(self, q, k, mask):
        p = 0.1 if self.training else 0.0  # bound once: read as its value (timm's DiffAttention)
        return {call}
"""


@pytest.mark.parametrize("call", [
    "F.scaled_dot_product_attention(q, k, k)",
    "F.scaled_dot_product_attention(q, k, k, is_causal=True)",
    "F.scaled_dot_product_attention(q, k, k, attn_mask=mask > 0, scale=0.3)",
    "F.scaled_dot_product_attention(q, k, k, attn_mask=mask)",
    "F.scaled_dot_product_attention(q * 2, k, k, mask > 0, 0.0)",
    "F.scaled_dot_product_attention(q, k, k, dropout_p=0.1 if self.training else 0.0)",
    "F.scaled_dot_product_attention(q, k, k, dropout_p=p)",
    "F.scaled_dot_product_attention(q, k, k, attn_mask=None if mask is None else mask)",
    "F.scaled_dot_product_attention(q, k, k, attn_mask=None)",
])
def test_scaled_dot_product_attention_to_keras_keeps_layout_and_mask_meaning(call, device):
    """torch (B, H, L, D) vs Keras (B, L, H, D); a boolean mask is *may attend* in both, a float one is added."""
    q, k = random_input((2, 3, 5, 4), seed=1), random_input((2, 3, 5, 4), seed=2)
    mask = random_input((2, 1, 5, 5), seed=3)
    mask[..., 0] = 1.0  # every query may attend somewhere
    module = _SDPA_MODULE.format(call=call)
    source = execute(module)["M"]().eval()
    expected = _outputs(source(*[torch.from_numpy(x).to(device) for x in (q, k, mask)]))
    translation = translate_symbol(module, "M", "keras")
    assert translation.todos == 0 and "keras.ops.dot_product_attention" in translation.source, translation.source
    model = execute(translation.module_text())["M"]()
    actual = _outputs(model(*[keras.ops.convert_to_tensor(x) for x in (q, k, mask)]))
    _assert_all_close(actual, expected, f"{call} -> {translation.source}")


@pytest.mark.parametrize("keras_code", [
    "keras.ops.dot_product_attention(a, b, b)", "keras.ops.dot_product_attention(a, b, b, is_causal=True)",
    "keras.ops.dot_product_attention(a, b, b, mask=m > 0, scale=0.4)",
    "keras.ops.dot_product_attention(a, b, b, bias=m)",
    "keras.ops.dot_product_attention(a, b, b, bias=m, mask=m > -0.5)",
])
def test_dot_product_attention_to_torch_keeps_layout_and_mask_meaning(keras_code, device):
    m = random_input((2, 1, 5, 5), seed=3)
    m[..., 0] = 1.0
    _keras_op_to_torch(keras_code, {"a": random_input((2, 5, 3, 4), seed=1), "b": random_input((2, 5, 3, 4), seed=2),
                                    "m": m}, device)


@pytest.mark.parametrize("expression", [
    "torch.ones(3, 4) + a", "torch.zeros((3, 4), device=a.device, dtype=torch.float32) - a",
    "torch.full((3, 4), 0.5) * a", "torch.arange(4, dtype=torch.float32) + a", "torch.arange(4).float()", "torch.arange(1, 5, dtype=torch.float32) * a",
    "torch.eye(3, 4) + a", "a.triu(1)", "torch.tril(a, diagonal=-1)", "torch.where(a > 0, a, b)",
    "a.masked_fill(a > 0.5, float('-inf'))", "torch.masked_fill(a, b > 0, 0.0)",
    "torch.einsum('ij,ij->i', a, b)", "a.flip(1)", "torch.flip(a, dims=(0, 1))", "torch.roll(a, shifts=1, dims=0)",
    "a.roll(-2, 1)", "torch.topk(a, 2)", "a.topk(3, dim=-1, largest=True)", "a.cumsum(dim=0)",
    "torch.cumsum(a, 1, dtype=torch.float64)", "torch.gather(a, 1, (b > 0).long())", "a.unbind(1)",
    "torch.stack(a.unbind(0)[::-1])",
])
def test_creation_and_indexing_ops_real_models_use_translate_to_keras(expression, device):
    _torch_forward_to_keras(expression, random_input((3, 4)), random_input((3, 4), seed=5), device=device)


@pytest.mark.parametrize("keras_code,torch_pool", [
    ("layers.MaxPooling2D()", "nn.MaxPool2d(2)"), ("layers.MaxPooling1D(strides=1)", "nn.MaxPool1d(2, stride=1)"),
    ("layers.MaxPooling3D()", "nn.MaxPool3d(2)"), ("layers.AveragePooling2D(padding='valid')", "nn.AvgPool2d(2)"),
])
def test_keras_pooling_default_pool_size_is_torch_kernel_size_2(keras_code, torch_pool):
    """Keras 3's MaxPooling pools 2 per axis by default (tf.keras 2's AveragePooling too); torch's pools need
    kernel_size: it used to come out as `nn.MaxPool2d()` (a TypeError)."""
    translation = translate_call(keras_code, "torch")
    assert translation.todos == 0 and torch_pool in translation.source, translation.source
    execute(translation.module_text())


# -- attention masks: torch's True means blocked, Keras's True may attend -------------------------------------------
_TORCH_MASKED_ATTENTION = TORCH_PRELUDE + """

class Block(nn.Module):
    def __init__(self, batch_first):
        super().__init__()
        self.attn = nn.MultiheadAttention(8, 2, batch_first=batch_first)

    def forward(self, x, pad):
        {body}
"""


@pytest.mark.parametrize("batch_first", [True, False])
@pytest.mark.parametrize("body", [
    "causal = torch.triu(torch.ones(x.shape[1], x.shape[1]), 1) > 0\n"
    "        return self.attn(x, x, x, key_padding_mask=pad, attn_mask=causal, need_weights=False)[0]",
    "future = torch.triu(torch.full((x.shape[1], x.shape[1]), float('-inf')), 1)\n"
    "        return self.attn(x, x, x, attn_mask=future)[0]",
    "return self.attn(x, x, x, key_padding_mask=pad)[1]",
])
def test_multihead_attention_masks_are_inverted_for_keras(body, batch_first, device):
    """torch's attn_mask/key_padding_mask (True or -inf: blocked) become Keras's attention_mask (True: attend)."""
    if not batch_first:
        body = body.replace("x.shape[1]", "x.shape[0]").replace("key_padding_mask=pad", "key_padding_mask=pad")
    x = random_input((2, 5, 8) if batch_first else (5, 2, 8))
    pad = np.zeros((2, 5), dtype=bool)
    pad[0, 3:] = pad[1, 4:] = True  # padding at the end: no query is left without a key
    module = _TORCH_MASKED_ATTENTION.replace("{body}", body)
    source = execute(module)["Block"](batch_first).to(device)
    randomize_torch_statistics(source)
    source.eval()
    with torch.no_grad():
        expected = to_numpy(source(torch.from_numpy(x).to(device), torch.from_numpy(pad).to(device)))
    translation = translate_symbol(module, "Block", "keras")
    assert translation.todos == 0, translation.source
    generated = execute(translation.module_text())
    target = generated["Block"](batch_first)
    target(x, pad)
    generated["copy_weights"](source, target)
    assert_close(to_numpy(target(x, pad)), expected, translation.source)


_KERAS_MASKED_ATTENTION = KERAS_PRELUDE + """

class Block(keras.Model):
    def __init__(self):
        super().__init__()
        self.mha = layers.MultiHeadAttention(2, 4)

    def call(self, x, allowed):
        {body}
"""


@pytest.mark.parametrize("body", [
    "return self.mha(x, x, attention_mask=allowed)",
    "return self.mha(x, x, use_causal_mask=True)",
    "return self.mha(x, x, attention_mask=allowed, use_causal_mask=True)",
    "return self.mha(x, x, x, attention_mask=allowed, return_attention_scores=True)[1]",
])
def test_keras_attention_mask_is_inverted_for_torch(body, device):
    x = random_input((2, 5, 8))
    allowed = random_input((2, 5, 5), seed=4) > 0
    allowed[:, :, 0] = True
    if "return_attention_scores" not in body:
        # a query with nothing to attend: Keras's fused path averages every position (its scores path, which
        # return_attention_scores takes, gives zero weights instead: Keras disagrees with itself there)
        allowed[1, 2] = False
    module = _KERAS_MASKED_ATTENTION.replace("{body}", body)
    source = execute(module)["Block"]()
    expected = to_numpy(source(x, allowed))
    translation = translate_symbol(module, "Block", "torch")
    assert translation.todos == 0, translation.source
    generated = execute(translation.module_text())
    target = generated["Block"]().to(device)
    tensors = (torch.from_numpy(x).to(device), torch.from_numpy(allowed).to(device))
    target.eval()
    with torch.no_grad():
        target(*tensors)
        generated["copy_weights"](source, target)
        actual = to_numpy(target(*tensors))
    assert_close(actual, expected, translation.source)


@pytest.mark.parametrize("context,code,todos", [
    ("import torchvision", "torchvision.ops.StochasticDepth(0.2, 'row')", 0),
    ("from timm.layers import DropPath", "DropPath(0.1)", 0),
    ("from timm.models.layers import DropPath", "DropPath(drop_prob=0.1, scale_by_keep=False)", 0),
    ("from torchvision.ops import stochastic_depth", "stochastic_depth(a, 0.2, 'row', training=False)", 0),
    ("from timm.layers import drop_path", "drop_path(a, 0.3, self.training)", 0),
    ("from timm.layers import drop_path", "drop_path(a, 0.3)", 0),
    ("from torchvision.ops import stochastic_depth", "stochastic_depth(a, 0.2, 'row')", 1),
])
def test_stochastic_depth_is_the_identity_at_inference_with_a_note(context, code, todos):
    """torchvision's StochasticDepth / stochastic_depth and timm's DropPath / drop_path return their input at
    inference (`if not training or p == 0: return input`); Keras has none of them: the identity, with a note.
    torchvision's functional form defaults to training=True, so without training= it is a TODO."""
    translation = translate_call(code, "keras", context=context + "\nimport torch\nfrom torch import nn\n")
    assert translation.todos == todos, translation.source
    if todos:
        return
    assert any("stochastic depth" in note for note in translation.notes)
    a = random_input((3, 4))
    if "(a," in code:
        namespace = execute("\n".join(translation.imports))
        namespace.update(a=keras.ops.convert_to_tensor(a), training=False)
        exec(f"out = {translation.source}", namespace)
    else:
        namespace = execute(translation.module_text())
        namespace["out"] = namespace["layer"](a)
    assert_close(to_numpy(namespace["out"]), a, f"{code} -> {translation.source}")


def test_scaled_dot_product_attention_optional_mask_may_be_none_at_run_time(device):
    """timm's Attention passes its optional `attn_mask` parameter through: None, boolean or float at run time."""
    module = TORCH_PRELUDE + """

class M(nn.Module):
    def forward(self, q, k, attn_mask=None):
        return F.scaled_dot_product_attention(q, k, k, attn_mask=attn_mask)
"""
    q, k = random_input((2, 3, 5, 4), seed=1), random_input((2, 3, 5, 4), seed=2)
    translation = translate_symbol(module, "M", "keras")
    assert translation.todos == 0, translation.source
    source, target = execute(module)["M"](), execute(translation.module_text())["M"]()
    boolean = np.tril(np.ones((5, 5), dtype=bool))
    additive = np.where(boolean, 0.0, -np.inf).astype("float32")
    for mask in (None, boolean, additive):
        expected = to_numpy(source(*[torch.from_numpy(x).to(device) for x in (q, k)],
                                   None if mask is None else torch.from_numpy(mask).to(device)))
        actual = to_numpy(target(q, k, mask))
        assert_close(actual, expected, f"mask {None if mask is None else mask.dtype}")
