"""PyTorch -> Keras of whole files as real code writes them (issue 13's repros): helpers, constants, classes and
layer classes passed as values, loops and factories, weight-init loops, name clashes. Each test runs
`tensorlint translate -o FILE`, imports that file as a fresh module (exactly what a user gets), copies the weights
with its runtime copy_weights and compares the numbers."""

from __future__ import annotations

import importlib.util
import textwrap
import uuid

import numpy as np
import pytest

from tensorlint.server import cli
from translation_harness import (
    import_file as _import, assert_close, assert_translation_matches, random_input, run_keras, run_torch,
)



def _translate(tmp_path, source: str, symbol: str, capsys):
    original = tmp_path / "model.py"
    original.write_text(textwrap.dedent(source))
    out = tmp_path / f"{symbol}_keras.py"
    code = cli.main(["translate", f"{original}:{symbol}", "--to", "keras", "-o", str(out)])
    err = capsys.readouterr().err
    assert code == 0, err
    return _import(original), _import(out), out.read_text(), err


def _equal(source_model, target_model, translated, shape):
    assert_translation_matches(source_model, target_model, translated.copy_weights, [random_input(shape)], "keras")


def test_module_level_helper_constants_and_classes_as_values_come_along(tmp_path, capsys):
    source = """\
        from typing import Callable, Optional
        import torch
        from torch import nn, Tensor

        cfgs = {"small": [4, "M", 8]}


        def conv3x3(i: int, o: int) -> nn.Conv2d:
            return nn.Conv2d(i, o, 3, padding=1, bias=False)


        class Block(nn.Module):
            def __init__(self, c: int, norm_layer: Optional[Callable[..., nn.Module]] = None) -> None:
                super().__init__()
                norm_layer = norm_layer or nn.BatchNorm2d
                self.conv = conv3x3(c, c)
                self.bn = norm_layer(c)

            def forward(self, x: Tensor) -> Tensor:
                return torch.relu(self.bn(self.conv(x)) + x)


        class Net(nn.Module):
            def __init__(self, block=Block, cfg="small"):
                super().__init__()
                layers = []
                c = 3
                for v in cfgs[cfg]:
                    if v == "M":
                        layers.append(nn.MaxPool2d(2))
                    else:
                        layers += [conv3x3(c, v), block(v)]
                        c = v
                self.features = nn.Sequential(*layers)

            def forward(self, x):
                return self.features(x)
        """
    original, translated, text, err = _translate(tmp_path, source, "Net", capsys)
    assert "0 TODO" in err and "import torch" not in text and "from torch" not in text
    assert "def conv3x3(i: int, o: int) -> 'nn.Conv2d':" in text and 'cfgs = {"small": [4, "M", 8]}' in text
    _equal(original.Net(), translated.Net(), translated, (2, 3, 8, 8))


def test_python_the_translator_does_not_own_is_kept(tmp_path, capsys):
    """super().__init__(6) keeps its argument (and the base's weights are copied); a parameter named `layers`
    does not hide the generated Keras names; a multi-line forward with a trailing comma stays valid; a
    self.modules() init loop is dropped with a note, not copied into Keras code."""
    source = """\
        import torch.nn as nn
        import torch.nn.functional as F


        class Base(nn.Module):
            def __init__(self, width):
                super().__init__()
                self.inp = nn.Linear(4, width)


        class Head(Base):
            def __init__(self, layers=2):
                super().__init__(6)
                self.blocks = nn.ModuleList([nn.Linear(6, 6) for _ in range(layers)])
                self.norms = nn.ModuleDict({"a": nn.LayerNorm(6)})
                for m in self.modules():
                    if isinstance(m, nn.Linear):
                        nn.init.zeros_(m.bias)

            def forward(
                self,
                x,
            ):
                x = self.inp(x)
                for block in self.blocks:
                    x = F.relu(block(x))
                if self.training:
                    x = F.dropout(x, 0.5)
                return self.norms["a"](x)
        """
    original, translated, text, err = _translate(tmp_path, source, "Head", capsys)
    assert "0 TODO" in err and "super().__init__(6)" in text and "self.modules()" not in text
    assert "torch weight initialisation is not translated" in text
    _equal(original.Head(), translated.Head(), translated, (2, 4))


def test_layer_classes_passed_as_values_and_partials(tmp_path, capsys):
    source = """\
        from functools import partial
        import torch
        import torch.nn as nn


        class Mlp(nn.Module):
            def __init__(self, dim=8, act_layer=nn.GELU, norm_layer=partial(nn.LayerNorm, eps=1e-6)):
                super().__init__()
                self.norm = norm_layer(dim)
                self.fc = nn.Linear(dim, dim)
                self.act = act_layer()
                self.scale = nn.Parameter(torch.ones(dim) * 0.5)
                self.register_buffer("shift", torch.zeros(dim))

            def forward(self, x):
                return self.act(self.fc(self.norm(x))) * self.scale + self.shift
        """
    original, translated, text, err = _translate(tmp_path, source, "Mlp", capsys)
    assert "0 TODO" in err and "def torch_LayerNorm(" in text and "partial(torch_LayerNorm, eps=1e-6)" in text
    model = original.Mlp()
    with __import__("torch").no_grad():
        model.shift.uniform_(-1, 1)
    _equal(model, translated.Mlp(), translated, (2, 3, 8))


def test_copy_weights_fails_on_a_keras_weight_left_unpaired(tmp_path, capsys):
    source = """\
        import torch.nn as nn


        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(4, 3)

            def forward(self, x):
                return self.fc(x)
        """
    original, translated, text, _ = _translate(tmp_path, source, "Net", capsys)
    target = translated.Net()
    target.extra = __import__("keras").layers.Dense(2)
    x = random_input((2, 4))
    run_keras(target, [x])
    target.extra(np.zeros((1, 4), "float32"))
    with pytest.raises(ValueError, match="no torch tensor was copied into"):
        translated.copy_weights(original.Net(), target)


def test_unmappable_code_is_a_todo_above_its_statement_and_the_module_still_imports(tmp_path, capsys):
    source = """\
        import torch
        import torch.nn as nn


        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(4, 4)

            def forward(self, x):
                y = self.fc(x)
                z = torch.special.erfcx(y)
                return z
        """
    _, _, text, err = _translate(tmp_path, source, "Net", capsys)
    lines = text.splitlines()
    todo = next(i for i, line in enumerate(lines) if "TODO(tensorlint)" in line)
    assert "torch.special.erfcx" in lines[todo] and lines[todo + 1].strip().startswith("z = ")
    assert "1 TODO" in err


def test_relative_imports_are_followed_and_a_missing_one_is_a_todo_that_still_imports(tmp_path, capsys):
    name = f"pkg_{uuid.uuid4().hex}"  # a fresh package name: nothing cached in sys.modules
    package = tmp_path / name
    (package / "layers").mkdir(parents=True)
    for init in (package / "__init__.py", package / "layers" / "__init__.py"):
        init.write_text("")
    (package / "helpers.py").write_text("import torch.nn as nn\n\n\ndef conv3x3(i, o):\n"
                                        "    return nn.Conv2d(i, o, 3, padding=1)\n")
    (package / "layers" / "net.py").write_text(textwrap.dedent("""\
        import torch.nn as nn
        from ..helpers import conv3x3
        from ..missing import gone


        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = conv3x3(3, 4)

            def forward(self, x):
                return self.conv(x)

            def unused(self, x):
                return gone(x)
        """))
    out = tmp_path / "net_keras.py"
    assert cli.main(["translate", f"{package / 'layers' / 'net.py'}:Net", "--to", "keras", "-o", str(out)]) == 0
    assert "1 TODO" in capsys.readouterr().err
    text = out.read_text()
    assert "def conv3x3(i, o):" in text and "# TODO(tensorlint): `from ..missing import gone`" in text
    translated = _import(out)
    (package / "missing.py").write_text("def gone(x):\n    return x\n")  # now the original imports too
    import sys
    sys.path.insert(0, str(tmp_path))
    try:
        Net = importlib.import_module(f"{name}.layers.net").Net
    finally:
        sys.path.remove(str(tmp_path))
    _equal(Net(), translated.Net(), translated, (2, 3, 6, 6))


def test_functional_adaptive_pooling_of_any_literal_size(tmp_path, capsys):
    """GoogLeNet's InceptionAux: `F.adaptive_avg_pool2d(x, (4, 4))` in forward."""
    source = """\
        import torch
        import torch.nn as nn
        import torch.nn.functional as F


        class Aux(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(3 * 4 * 4, 5)

            def forward(self, x):
                x = F.adaptive_avg_pool2d(x, (4, 4))
                y = F.adaptive_max_pool2d(x, 1)
                return self.fc(torch.flatten(x, 1)) + y.mean()
        """
    original, translated, text, err = _translate(tmp_path, source, "Aux", capsys)
    assert "0 TODO" in err and "AdaptivePooling((4, 4), mode='avg')" in text
    _equal(original.Aux(), translated.Aux(), translated, (2, 3, 9, 7))


STOCHASTIC_DEPTH_UPDATES = """\
    import torch.nn as nn
    from torchvision.ops import StochasticDepth, stochastic_depth
    from timm.layers import DropPath


    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 4)
            self.stochastic_depth = StochasticDepth(0.1, "row")
            self.drop_path = DropPath(0.1)

        def forward(self, input):
            result = self.fc(input)
            result = self.stochastic_depth(result)
            result += input
            kept = self.drop_path(input)
            kept += 1
            fresh = self.drop_path(self.fc(input))
            fresh *= 2
            same = stochastic_depth(input, 0.1, "row", training=False)
            same -= 1
            return result + kept + fresh + same
    """


def test_stochastic_depth_result_aliases_its_input_only(tmp_path, capsys):
    """ConvNeXt's `result = self.stochastic_depth(result); result += input`: torchvision's StochasticDepth and timm's
    DropPath (layers the catalog maps) keep no reference to their input and return it unchanged at inference, so
    `result` still holds the fresh tensor of the line before: no TODO. Where the input is the caller's tensor
    (`kept = self.drop_path(input); kept += 1`, the functional `stochastic_depth(input, ...)`) torch's `+=` changes
    the caller's tensor: the TODO stays."""
    original = tmp_path / "block.py"
    original.write_text(textwrap.dedent(STOCHASTIC_DEPTH_UPDATES))
    out = tmp_path / "block_keras.py"
    assert cli.main(["translate", f"{original}:Block", "--to", "keras", "-o", str(out)]) == 0
    assert "2 TODOs" in capsys.readouterr().err
    lines = out.read_text().splitlines()

    def todo_above(statement):
        index = next(i for i, line in enumerate(lines) if line.strip() == statement)
        return "TODO(tensorlint)" in lines[index - 1]

    assert not todo_above("result += input") and not todo_above("fresh *= 2")
    assert todo_above("kept += 1") and todo_above("same -= 1")
    x = random_input((2, 4))
    translated = _import(out).Block()
    # at inference both stochastic depths are the identity: (fc(x) + x) + (x + 1) + 2 fc(x) + (x - 1)
    outputs = run_keras(translated, [x])
    fc = np.asarray(translated.fc(x))
    assert_close(outputs, 3 * fc + 3 * x)


IN_PLACE_ON_FRESH_TENSORS = """\
    from typing import Optional
    import torch
    import torch.nn as nn


    def resolve_mask(n: int, x: torch.Tensor, mask: Optional[torch.Tensor] = None, causal: bool = False):
        if causal:
            bias = x.new_full((n, n), float('-inf')).triu_(1)
        elif mask is None:
            bias = None
        else:
            bias = torch.zeros_like(mask, dtype=x.dtype)
            bias.masked_fill_(~mask, float('-inf'))
        return bias


    class Causal(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(5, 5)

        def forward(self, x, mask):
            scores = self.fc(x)
            scores = scores.clamp_(-1.0, 1.0)
            return scores + resolve_mask(5, x, causal=True).exp() + resolve_mask(5, x, mask)


    class Shared(nn.Module):
        def forward(self, x):
            v = x.view(-1)
            v.mul_(2)
            y = x.view(-1).mul_(2)
            c = torch.zeros(3)
            kept = []
            for i in range(2):
                c.add_(1)
                kept.append(c)
            w = torch.ones(3)
            z = w.add_(1)
            return v, y, c, kept, z
    """


def test_in_place_ops_on_tensors_nothing_else_sees_are_rebindings(tmp_path, capsys):
    """timm's causal-mask helper: `x.new_full(...).triu_(1)` writes into a tensor just created, and `bias =
    torch.zeros_like(...); bias.masked_fill_(...)` into one no other name refers to, so the out-of-place op (and
    `bias = ...`) is the same: no TODO, torch's numbers. Where the write is seen elsewhere (a view of the parameter,
    a tensor stored in a list by the loop's first pass, `z = w.add_(1)` leaving w and z one tensor) it stays a TODO."""
    original, translated, text, err = _translate(tmp_path, IN_PLACE_ON_FRESH_TENSORS, "Causal", capsys)
    assert "0 TODO" in err, text
    assert "bias = keras.ops.where(~mask, float('-inf'), bias)" in text
    assert "keras.ops.full((n, n), fill_value=float('-inf'), dtype=x.dtype)" in text
    x = random_input((2, 5, 5))
    mask = np.tril(np.ones((5, 5), dtype=bool))
    source, target = original.Causal(), translated.Causal()
    expected = run_torch(source, [x, mask])
    run_keras(target, [x, mask])
    translated.copy_weights(source, target)
    assert_close(run_keras(target, [x, mask]), expected)

    _, _, text, err = _translate(tmp_path, IN_PLACE_ON_FRESH_TENSORS, "Shared", capsys)
    assert "4 TODOs" in err, text
    lines = text.splitlines()
    for statement in ("v.mul_(2)", "y = keras.ops.reshape(x, -1).mul_(2)", "c.add_(1)", "z = w.add_(1)"):
        index = next(i for i, line in enumerate(lines) if line.strip() == statement)
        assert "in-place Tensor." in lines[index - 1], (statement, text)


def test_patch_embedding_with_dynamic_padding(tmp_path, capsys):
    """timm's PatchEmbed: `try: from torch import _assert / except ImportError: def _assert(...)` (the fallback
    defines the name: no TODO), `F.pad(x, (0, pad_w, 0, pad_h))` with sizes computed at run time, and
    `x.flatten(2).transpose(1, 2)`, a flatten from axis 2."""
    source = """\
        import torch
        import torch.nn as nn
        import torch.nn.functional as F
        try:
            from torch import _assert
        except ImportError:
            def _assert(condition: bool, message: str):
                assert condition, message


        class PatchEmbed(nn.Module):
            def __init__(self, patch=4, dim=8):
                super().__init__()
                self.patch = patch
                self.proj = nn.Conv2d(3, dim, kernel_size=patch, stride=patch)

            def forward(self, x):
                B, C, H, W = x.shape
                _assert(C == 3, f"{C} channels")
                pad_h = (self.patch - H % self.patch) % self.patch
                pad_w = (self.patch - W % self.patch) % self.patch
                x = F.pad(x, (0, pad_w, 0, pad_h))
                x = self.proj(x)
                return x.flatten(2).transpose(1, 2)
        """
    original, translated, text, err = _translate(tmp_path, source, "PatchEmbed", capsys)
    assert "0 TODO" in err, text
    assert "keras.ops.pad(x, ((0, 0),) * (len(x.shape) - 2) + ((0, pad_h), (0, pad_w),))" in text
    _equal(original.PatchEmbed(), translated.PatchEmbed(), translated, (2, 3, 10, 7))


def test_a_class_deriving_from_a_catalogued_torch_layer(tmp_path, capsys):
    """timm's `LayerNorm(nn.LayerNorm)`: its `super().__init__(num_channels, eps=..., elementwise_affine=...)` builds
    the catalog's mapping of nn.LayerNorm (weights copied by the catalog's rule), torch's attributes read as torch
    has them (`self.normalized_shape`, `self.eps`, `self.weight`, `self.bias`), and a subclass that keeps torch's
    forward is the mapped layer."""
    source = """\
        import torch.nn as nn
        import torch.nn.functional as F


        class LayerNorm(nn.LayerNorm):
            def __init__(self, num_channels, eps=1e-6, affine=True, **kwargs):
                super().__init__(num_channels, eps=eps, elementwise_affine=affine, **kwargs)

            def forward(self, x):
                return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)


        class Plain(nn.LayerNorm):
            pass


        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.a = LayerNorm(8)
                self.fc = nn.Linear(8, 8)
                self.b = Plain(8, eps=1e-3, bias=False)

            def forward(self, x):
                return self.b(self.fc(self.a(x)))
        """
    original, translated, text, err = _translate(tmp_path, source, "Net", capsys)
    assert "0 TODO" in err and "class LayerNorm(torch_LayerNorm_base):" in text, text
    model = original.Net()
    import torch
    with torch.no_grad():
        for norm in (model.a, model.b):
            norm.weight.uniform_(0.5, 1.5)
        model.a.bias.uniform_(-1, 1)
    _equal(model, translated.Net(), translated, (2, 3, 8))


def test_keyword_dicts_empty_parameters_and_autocast_queries(tmp_path, capsys):
    """timm's `_create_attn(..., **kwargs)` writes `kwargs['depth'] = depth` (a dict, never a tensor),
    `nn.Parameter(torch.empty(dim))` is filled by copy_weights, `self.register_parameter(name, None)` is the
    attribute, and torch's autocast never runs in Keras code: `torch.is_autocast_enabled()` is False and a block
    under `autocast(enabled=False)` runs as it is. No TODO."""
    source = """\
        import torch
        import torch.nn as nn


        def make(layer, dim, deep=False, **kwargs):
            if deep:
                kwargs['bias'] = False
            return layer(dim, dim, **kwargs)


        class Scale(nn.Module):
            def __init__(self, dim=4):
                super().__init__()
                self.gamma = nn.Parameter(torch.empty(dim))
                self.fc = make(nn.Linear, dim, deep=True)
                self.register_parameter("beta", None)
                nn.init.ones_(self.gamma)

            def forward(self, x):
                if torch.is_autocast_enabled():
                    x = x.half()
                with torch.amp.autocast(device_type="cpu", enabled=False):
                    y = self.fc(x) * self.gamma
                return y if self.beta is None else y + self.beta
        """
    original, translated, text, err = _translate(tmp_path, source, "Scale", capsys)
    assert "0 TODO" in err and "keras.Variable(keras.ops.empty(dim))" in text, text
    assert "with contextlib.nullcontext():" in text and 'setattr(self, "beta", None)' in text
    model = original.Scale()
    import torch
    with torch.no_grad():
        model.gamma.uniform_(-1, 1)
    _equal(model, translated.Scale(), translated, (2, 4))


def test_a_relative_import_inside_a_block_is_a_todo_saying_so_unless_it_never_runs(tmp_path, capsys):
    """timm's `try: from torch.nn.functional import rms_norm / except ImportError: from .fast_norm import rms_norm`:
    the translation drops the torch import (F.rms_norm is mapped where it is called), so its `try` body cannot
    raise and the fallback never runs: no TODO (there used to be one). A relative import inside a block that may
    run (`if USE_FAST:`) is a TODO saying that the closure follows top-level relative imports only (not that the
    file is missing)."""
    (tmp_path / "fast_norm.py").write_text("def rms_norm(x):\n    return x\n\n\ndef scale(x):\n    return x\n")
    source = """\
        import torch.nn as nn
        try:
            from torch.nn.functional import rms_norm
        except ImportError:
            from .fast_norm import rms_norm

        USE_FAST = False
        if USE_FAST:
            from .fast_norm import scale


        class Net(nn.Module):
            def forward(self, x):
                return rms_norm(x, (4,), eps=1e-6)
        """
    original, translated, text, err = _translate(tmp_path, source, "Net", capsys)
    assert "`from .fast_norm import rms_norm`" not in text and "fallback of torch imports never runs" in text
    _equal(original.Net(), translated.Net(), translated, (2, 3, 4))  # F.rms_norm itself is mapped
    reached = source.replace("return rms_norm(x, (4,), eps=1e-6)", "return rms_norm(x, (4,), eps=1e-6) if not "
                             "USE_FAST else scale(x)")
    _, _, text, err = _translate(tmp_path, reached, "Net", capsys)
    assert "1 TODO" in err, text
    assert "`from .fast_norm import scale`: a relative import inside a block is not followed" in text


SEQUENTIAL_OF_A_BUILT_LIST = """\
    from typing import Callable, Optional
    import torch
    import torch.nn as nn


    class ConvNormActivation(torch.nn.Sequential):
        def __init__(self, i, o, norm_layer: Optional[Callable[..., nn.Module]] = nn.BatchNorm2d,
                     conv_layer: Callable[..., nn.Module] = nn.Conv2d):
            layers = [conv_layer(i, o, 3, padding=1, bias=norm_layer is None)]
            if norm_layer is not None:
                layers.append(norm_layer(o))
            super().__init__(*layers)


    class Conv2dNormActivation(ConvNormActivation):
        def __init__(self, i, o, norm_layer=nn.BatchNorm2d):
            super().__init__(i, o, norm_layer, nn.Conv2d)


    class Block(nn.Module):
        def __init__(self, c, expand=True, extra=True):
            super().__init__()
            layers: list[nn.Module] = []
            if expand:
                layers.append(nn.Identity())
                layers.append(Conv2dNormActivation(c, c))
            else:
                layers.extend([nn.Conv2d(c, c, 1)])
            layers += [nn.ReLU(inplace=True)]
            self.block = nn.Sequential(*layers)
            maybe: list[nn.Module] = []
            if extra:
                maybe.append(Conv2dNormActivation(c, c))
            self.maybe = nn.Sequential(*maybe)
            given = [nn.Conv2d(c, c, 1)]
            self.given = nn.Sequential(*extend(given))

        def forward(self, input):
            result = self.block(input)
            result += input
            other = self.maybe(input)
            other += 1
            third = self.given(input)
            third *= 2
            return result + other + third


    def extend(layers):
        return layers
    """


def test_a_sequential_of_a_list_built_in_init_gives_a_new_tensor(tmp_path, capsys):
    """torchvision's MBConv/FusedMBConv/MobileNetV3 InvertedResidual: `layers.append(Conv2dNormActivation(...))` on
    every path (or on each branch of an if/else), `self.block = nn.Sequential(*layers)`, then `result =
    self.block(input); result += input`. A layer that computes a new tensor is in the Sequential whatever the
    arguments, so `result` shares nothing: no TODO (a subclass of nn.Sequential without forward, such as
    Conv2dNormActivation, is the Sequential its __init__ passes to super().__init__). When that layer is added only
    under an `if` (`self.maybe` with extra=False is empty: `other` is the caller's tensor, which torch's `+=`
    changes) or the list passes through a call, the TODO stays."""
    original, translated, text, err = _translate(tmp_path, SEQUENTIAL_OF_A_BUILT_LIST, "Block", capsys)
    lines = text.splitlines()

    def todo_above(statement):
        index = next(i for i, line in enumerate(lines) if line.strip() == statement)
        return "TODO(tensorlint)" in lines[index - 1]

    assert not todo_above("result += input")
    assert todo_above("other += 1") and todo_above("third *= 2") and "2 TODOs" in err
    for expand in (True, False):  # each branch of the if/else
        _equal(original.Block(4, expand), translated.Block(4, expand), translated, (2, 4, 5, 5))


ORDERED_DICT_OF_LAYERS = """\
    import collections
    from collections import OrderedDict
    import torch.nn as nn


    class Transform(nn.Sequential):
        def __init__(self, c):
            layers: OrderedDict[str, nn.Module] = OrderedDict()
            layers["a"] = nn.Conv2d(c, c, 3, padding=1)
            layers["b"] = nn.BatchNorm2d(c)
            layers["c"] = nn.ReLU()
            super().__init__(layers)


    class Block(nn.Module):
        def __init__(self, c):
            super().__init__()
            self.f = Transform(c)
            named = collections.OrderedDict()
            named["proj"] = nn.Conv2d(c, c, 1)
            self.g = nn.Sequential(named)

        def forward(self, x):
            return self.g(self.f(x)) + x
    """


def test_item_assignment_into_an_ordered_dict_is_plain_python(tmp_path, capsys):
    """torchvision's RegNet BottleneckTransform: `layers: OrderedDict[str, nn.Module] = OrderedDict()` then
    `layers["a"] = Conv2dNormActivation(...)`. The name holds a dict, not a tensor: no TODO (it used to read as a
    tensor write, one TODO per layer)."""
    original, translated, text, err = _translate(tmp_path, ORDERED_DICT_OF_LAYERS, "Block", capsys)
    assert "0 TODO" in err, text
    _equal(original.Block(4), translated.Block(4), translated, (2, 4, 5, 5))


def test_a_derived_torch_layer_whose_forward_changes_the_layout_gets_torch_sized_weights(tmp_path, capsys):
    """torchvision's ConvNeXt `LayerNorm2d(nn.LayerNorm)`: its forward permutes NCHW to NHWC, normalises over C with
    F.layer_norm and permutes back. The Keras base used to build its LayerNormalization from the NCHW input shape,
    so gamma took W's size (a build error at the classifier's 1x1 map); the weights now take the size torch's
    constructor was given (`normalized_shape`; `num_features` at axis 1 for a BatchNorm2d). `super().forward(x)`
    in a subclass is the base's call."""
    source = """\
        import torch.nn as nn
        import torch.nn.functional as F


        class LayerNorm2d(nn.LayerNorm):
            def forward(self, x):
                x = x.permute(0, 2, 3, 1)
                x = F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)
                x = x.permute(0, 3, 1, 2)
                return x


        class ScaledBatchNorm(nn.BatchNorm2d):
            def forward(self, x):
                return super().forward(x) * 2


        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.norm = LayerNorm2d(6, eps=1e-6)
                self.bn = ScaledBatchNorm(6)

            def forward(self, x):
                return self.bn(self.norm(x))
        """
    original, translated, text, err = _translate(tmp_path, source, "Net", capsys)
    assert "0 TODO" in err, text
    model = original.Net()
    import torch
    with torch.no_grad():
        model.norm.weight.uniform_(0.5, 1.5)
        model.norm.bias.uniform_(-1, 1)
    _equal(model, translated.Net(), translated, (2, 6, 3, 5))


def test_adaptive_pooling_to_a_size_known_only_at_run_time(tmp_path, capsys):
    """timm's SelectAdaptivePool2d: `F.adaptive_avg_pool2d(x, output_size)` in a module-level helper and
    `nn.AdaptiveMaxPool2d(output_size)` with the size a constructor argument. Both used to be TODOs (the layer's
    even printed `AdaptivePooling('output_size', ...)`, a string); AdaptivePooling now reads the size at run time
    (an int, a tuple, None keeping an axis)."""
    source = """\
        import torch
        import torch.nn as nn
        import torch.nn.functional as F


        def avgmax(x, output_size=1):
            return 0.5 * (F.adaptive_avg_pool2d(x, output_size) + F.adaptive_max_pool2d(x, output_size))


        class Pool(nn.Module):
            def __init__(self, output_size=1, size=(2, None)):
                super().__init__()
                self.output_size = output_size
                self.pool = nn.AdaptiveMaxPool2d(output_size)
                self.keep = nn.AdaptiveAvgPool2d(size)

            def forward(self, x):
                return torch.cat([avgmax(x, self.output_size), self.pool(x)], 1) + self.keep(x).mean()
        """
    original, translated, text, err = _translate(tmp_path, source, "Pool", capsys)
    assert "0 TODO" in err and "'output_size'" not in text, text
    for output_size in (1, 3, (2, 3)):
        _equal(original.Pool(output_size), translated.Pool(output_size), translated, (2, 4, 7, 5))


def test_tensor_creation_with_factory_keywords_known_at_run_time(tmp_path, capsys):
    """timm 1.0's `dd = {'device': device, 'dtype': dtype}` threaded through every layer: `torch.ones(1, **dd)` in
    MetaFormer's StarReLU used to be a TODO and the printed module kept `torch.ones` (a NameError when built). The
    Keras op now takes the dtype from those keywords when one is given."""
    source = """\
        import torch
        import torch.nn as nn


        class StarReLU(nn.Module):
            def __init__(self, scale_value=1.0, bias_value=0.0, device=None, dtype=None):
                dd = {'device': device, 'dtype': dtype}
                super().__init__()
                self.relu = nn.ReLU()
                self.scale = nn.Parameter(scale_value * torch.ones(1, **dd))
                self.bias = nn.Parameter(bias_value * torch.ones(1, **dd))
                self.register_buffer("offset", torch.zeros(2, 3, **dd))

            def forward(self, x):
                return self.scale * self.relu(x) ** 2 + self.bias + self.offset.sum()
        """
    original, translated, text, err = _translate(tmp_path, source, "StarReLU", capsys)
    assert "0 TODO" in err and "torch." not in text.split("def copy_weights")[0], text
    model = original.StarReLU(0.8, -0.5)
    _equal(model, translated.StarReLU(0.8, -0.5), translated, (2, 3, 4))
    assert translated.StarReLU(dtype="float64").scale.dtype == "float64"


BLUR_POOL = """\
    from math import comb
    import torch
    import torch.nn as nn
    import torch.nn.functional as F


    class BlurPool2d(nn.Module):
        def __init__(self, channels=None, filt_size=3, stride=2, pad_mode='reflect'):
            super().__init__()
            self.channels, self.filt_size, self.stride, self.pad_mode = channels, filt_size, stride, pad_mode
            self.padding = [(filt_size - 1) // 2] * 4
            self.register_buffer('filt', torch.empty((channels or 1, 1, filt_size, filt_size)), persistent=False)
            self.register_buffer('scale', torch.ones(1))
            self.bias = nn.Parameter(torch.zeros(channels or 1))
            self._init_buffers()

        def _init_buffers(self):
            coeffs = torch.tensor([comb(self.filt_size - 1, k) for k in range(self.filt_size)],
                                  dtype=torch.float32) / (2 ** (self.filt_size - 1))
            blur_filter = (coeffs[:, None] * coeffs[None, :])[None, None, :, :]
            if self.channels is not None:
                blur_filter = blur_filter.repeat(self.channels, 1, 1, 1)
            self.filt.copy_(blur_filter)
            self.scale.data.copy_(2)

        def forward(self, x):
            x = F.pad(x, self.padding, mode=self.pad_mode)
            if self.channels is None:
                channels = x.shape[1]
                weight = self.filt.expand(channels, -1, self.filt_size, self.filt_size)
                bias = None
            else:
                channels = self.channels
                weight = self.filt
                bias = self.bias
            return F.conv2d(x, weight, bias, stride=self.stride, groups=channels) * self.scale
    """


def test_a_blur_filter_built_in_init_and_applied_with_the_functional_convolution(tmp_path, capsys):
    """timm's BlurPool2d: `torch.tensor(...)`, `Tensor.repeat`, `self.filt.copy_(...)` into a non-persistent
    buffer (a keras.Variable: assign), `F.pad` with the mode an attribute, `Tensor.expand` with a -1 and
    `F.conv2d(..., groups=channels)` with a bias that may be None. Each was a TODO (6 in the real file)."""
    original, translated, text, err = _translate(tmp_path, BLUR_POOL, "BlurPool2d", capsys)
    assert "0 TODO" in err, text
    for args in ((), (4,), (4, 5, 1, "constant")):
        model = original.BlurPool2d(*args)
        import torch
        with torch.no_grad():
            model.bias.uniform_(-1, 1)
        _equal(model, translated.BlurPool2d(*args), translated, (2, 4, 9, 8))


RUN_TIME_VALUES = """\
    import torch
    import torch.nn as nn


    def get_autocast_dtype(device: str = 'cuda'):
        try:
            return torch.get_autocast_dtype(device)
        except (AttributeError, TypeError):
            if device == 'cpu':
                return torch.get_autocast_cpu_dtype()
            return torch.get_autocast_gpu_dtype()


    def scaled(x, weight, dt=None):
        if torch.is_autocast_enabled():
            dt = get_autocast_dtype(x.device.type)
        elif dt is None:
            dt = x.dtype
        return x.to(dt) * weight.to(dt)


    class Pooling(nn.Module):
        def __init__(self, pool_size=3, include=False, stride=1):
            super().__init__()
            self.pool = nn.AvgPool2d(pool_size, stride=stride, padding=pool_size // 2, count_include_pad=include)
            self.max = nn.MaxPool2d(pool_size, stride, pool_size // 2)
            self.weight = nn.Parameter(torch.ones(1))

        def forward(self, x):
            y = self.pool(x) - x if self.pool.stride == 1 else self.pool(x)
            return scaled(y, self.weight).to(x) + self.max(x).to(x.device)
    """


def test_values_known_only_at_run_time_pooling_padding_casts_and_autocast_dtypes(tmp_path, capsys):
    """MetaFormer's Pooling: `nn.AvgPool2d(pool_size, stride=1, padding=pool_size // 2, count_include_pad=False)`
    (a padding that is no literal: TorchPool pads at run time and averages over the unpadded share); timm's
    fast_norm: `x.to(dt)` with dt a dtype, a tensor or a device only at run time, and autocast dtype queries
    (torch's defaults: the translation never runs under autocast). Each was a TODO."""
    original, translated, text, err = _translate(tmp_path, RUN_TIME_VALUES, "Pooling", capsys)
    assert "0 TODO" in err, text
    for args in ((), (3, True), (5, False, 2), (2, False, 2)):
        _equal(original.Pooling(*args), translated.Pooling(*args), translated, (2, 3, 7, 6))
    assert translated.get_autocast_dtype("cpu") == "bfloat16" and translated.get_autocast_dtype() == "float16"
    x = np.ones((2, 3), "float32")
    assert np.asarray(translated._tensor_to(x, "float64")).dtype == np.float64
    assert translated._tensor_to(x, "cuda:0") is x
    assert np.asarray(translated._tensor_to(x, np.zeros(1, "int32"))).dtype == np.int32
