"""The most frequent exactly mappable TODO causes of the translate sweep (benchmarks/translate_sweep.py, its "TODO
causes" table in docs/translate-sweep.md), each translated and run for real: a module written as timm and torchvision
write them, `tensorlint translate -o FILE`, the printed file imported, weights copied, outputs compared."""

from __future__ import annotations

import textwrap

import torch

from tensorlint.server import cli
from translation_harness import assert_translation_matches, import_file, random_input


def _translate(tmp_path, source: str, symbol: str, to: str, capsys):
    original = tmp_path / "model.py"
    original.write_text(textwrap.dedent(source))
    out = tmp_path / f"{symbol}_{to}.py"
    code = cli.main(["translate", f"{original}:{symbol}", "--to", to, "-o", str(out)])
    assert code == 0, capsys.readouterr().err
    return import_file(original), import_file(out), out.read_text()


def test_token_ops_of_vision_transformers_translate_without_todos_and_match(tmp_path, capsys):
    # timm/torchvision forms that each carried a TODO in the sweep: x.to(x_dtype) after `x_dtype = x.dtype`,
    # Tensor.expand with -1 (class tokens), F.linear with a parameter weight, torch.meshgrid's 'ij' default,
    # torch.linspace, Tensor.repeat (tile), expand_as, numel, torch.tensor, ceil/floor/sin, and `x.view(*shape)`
    source = """\
        import torch
        from torch import nn
        import torch.nn.functional as F


        class TokenMixer(nn.Module):
            def __init__(self, dim=8):
                super().__init__()
                self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
                self.weight = nn.Parameter(torch.zeros(dim, dim))
                self.bias = nn.Parameter(torch.zeros(dim))
                self.norm = nn.LayerNorm(dim)
                self.grid = (2, 3)

            def forward(self, x):
                B = x.shape[0]
                x_dtype = x.dtype
                shape = (B, -1, x.shape[-1])
                x = x.view(*shape)
                x = torch.cat([self.cls_token.expand(B, -1, -1), x], dim=1)
                x = F.linear(self.norm(x), self.weight, self.bias).to(x_dtype)
                rows, cols = torch.meshgrid(torch.linspace(-1, 1, self.grid[0]), torch.linspace(0, 1, self.grid[1]))
                position = torch.stack([rows, cols], dim=-1).reshape(-1, 2).repeat(1, x.shape[-1] // 2)
                x = x + F.pad(position, (0, 0, 1, 0)).expand_as(x)
                scale = torch.tensor(x.numel() / B, dtype=torch.float32)
                return (x / scale.sqrt()).ceil() + x.floor().sin()
        """
    original, translated, text = _translate(tmp_path, source, "TokenMixer", "keras", capsys)
    assert "TODO(tensorlint)" not in text, text
    assert "indexing='ij'" in text and "keras.ops.reshape(x, (*shape,))" in text
    model = original.TokenMixer()
    with torch.no_grad():  # parameters away from their zero initialisation
        for parameter in model.parameters():
            parameter.copy_(torch.randn(parameter.shape) * 0.5)
    assert_translation_matches(model, translated.TokenMixer(), translated.copy_weights,
                               [random_input((2, 2, 3, 8))], to="keras")


def test_timm_factory_keywords_known_from_their_dict_set_the_dtype_and_drop_the_device(tmp_path, capsys):
    # timm 1.0.31: `dd = {'device': device, 'dtype': dtype}` then `torch.empty(n, **dd)` in ~600 __init__s; each
    # was a TODO ("known only at run time"). The dict's keys are known: dtype= reads it, the device is dropped.
    source = """\
        import torch
        from torch import nn


        class ScaleNorm(nn.Module):
            def __init__(self, num_features=4, eps=1e-5, device=None, dtype=None):
                dd = {'device': device, 'dtype': dtype}
                super().__init__()
                self.eps = eps
                self.weight = nn.Parameter(torch.ones(num_features, **dd))
                self.bias = nn.Parameter(torch.zeros(num_features, **dd))
                self.register_buffer('scale', torch.full((num_features,), 2.0, **dd))

            def forward(self, x):
                return x * self.weight * self.scale + self.bias
        """
    original, translated, text = _translate(tmp_path, source, "ScaleNorm", "keras", capsys)
    assert "TODO(tensorlint)" not in text and "dtype=dd['dtype']" in text, text
    model = original.ScaleNorm()
    with torch.no_grad():
        model.weight.copy_(torch.randn(4))
        model.bias.copy_(torch.randn(4))
    assert_translation_matches(model, translated.ScaleNorm(), translated.copy_weights, [random_input((2, 3, 4))],
                               to="keras")


def test_a_keras_applications_style_builder_starting_with_rescaling_translates_and_matches(tmp_path, capsys):
    # keras.applications (EfficientNet, MobileNetV3, ConvNeXt...) start with `layers.Rescaling(...)`: 12 of 23
    # sampled symbols carried "keras.layers.Rescaling has no PyTorch equivalent in the catalog"
    source = """\
        import keras
        from keras import layers


        def Tiny(input_shape=(8, 8, 3), classes=4):
            inputs = layers.Input(shape=input_shape)
            x = layers.Rescaling(scale=1.0 / 127.5, offset=-1.0)(inputs)
            x = layers.Rescaling([0.5, 2.0, -1.0])(x)
            x = layers.Conv2D(6, 3, padding="same", activation="relu")(x)
            x = layers.GlobalAveragePooling2D()(x)
            outputs = layers.Dense(classes)(x)
            return keras.Model(inputs, outputs)
        """
    original, translated, text = _translate(tmp_path, source, "Tiny", "torch", capsys)
    assert "TODO(tensorlint)" not in text and "class Rescaling(nn.Module)" in text, text
    images = random_input((2, 8, 8, 3)) * 60 + 127
    assert_translation_matches(original.Tiny(), translated.Tiny(), translated.copy_weights, [images], to="torch")


def test_a_torch_base_class_without_keras_counterpart_is_one_todo_not_two(tmp_path, capsys):
    # timm's memory-efficient activations (SwishAutoFn, MishAutoFn...): every class deriving from
    # torch.autograd.Function carried "base class ... has no Keras counterpart" and, for the same base,
    # "torch.autograd.Function used as a value has no Keras counterpart" (121 of the sweep's symbols)
    source = """\
        import torch
        from torch import nn


        class SwishFn(torch.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * torch.sigmoid(x)


        class Swish(nn.Module):
            def forward(self, x):
                return SwishFn.apply(x)
        """
    _, translated, text = _translate(tmp_path, source, "Swish", "keras", capsys)
    todos = [line.strip() for line in text.splitlines() if "TODO(tensorlint)" in line]
    assert todos == ["# TODO(tensorlint): base class torch.autograd.Function has no Keras counterpart: its behaviour "
                     "is missing here"], todos
    assert translated.SwishFn is not None


def test_functional_group_norm_and_prelu_with_parameters_translate_and_match(tmp_path, capsys):
    # timm layers (GroupNorm1, GroupNormAct, the norm_act and PReLU forms): F.group_norm over self.weight/self.bias
    # (None without affine) and F.prelu carried "has no Keras equivalent in the catalog" in 90 and 116 symbols
    source = """\
        import torch
        from torch import nn
        import torch.nn.functional as F


        class GroupNormPReLU(nn.Module):
            def __init__(self, channels=4, groups=2, affine=True):
                super().__init__()
                self.num_groups, self.eps = groups, 1e-5
                self.weight = nn.Parameter(torch.ones(channels)) if affine else None
                self.bias = nn.Parameter(torch.zeros(channels)) if affine else None
                self.slope = nn.Parameter(torch.full((channels,), 0.25))

            def forward(self, x):
                x = F.group_norm(x, self.num_groups, self.weight, self.bias, self.eps)
                return F.prelu(x, self.slope)
        """
    original, translated, text = _translate(tmp_path, source, "GroupNormPReLU", "keras", capsys)
    assert "TODO(tensorlint)" not in text, text
    for affine in (True, False):
        model = original.GroupNormPReLU(affine=affine)
        with torch.no_grad():
            for parameter in model.parameters():
                parameter.copy_(torch.randn(parameter.shape))
        assert_translation_matches(model, translated.GroupNormPReLU(affine=affine), translated.copy_weights,
                                   [random_input((2, 4, 3, 5))], to="keras")


def test_keras_hub_moveaxis_and_logical_ops_translate_to_torch_and_match(tmp_path, capsys):
    # keras-hub (rotary embedding, attention masks): keras.ops.moveaxis with axis tuples and keras.ops.logical_and
    # carried "has no PyTorch equivalent in the catalog"
    source = """\
        import keras
        from keras import layers, ops


        class Rotate(layers.Layer):
            def __init__(self, **kwargs):
                super().__init__(**kwargs)
                self.dense = layers.Dense(5)

            def call(self, x):
                moved = ops.moveaxis(x, (1, 2), (-1, 1))
                keep = ops.logical_and(moved > -1.0, ops.logical_not(moved > 1.0))
                return self.dense(ops.where(keep, moved, ops.reciprocal(moved)))
        """
    original, translated, text = _translate(tmp_path, source, "Rotate", "torch", capsys)
    assert "TODO(tensorlint)" not in text and "torch.movedim(" in text, text
    assert_translation_matches(original.Rotate(), translated.Rotate(), translated.copy_weights,
                               [random_input((2, 3, 4, 6))], to="torch")


def test_in_place_methods_of_one_statement_are_one_todo(tmp_path, capsys):
    # timm layers/activations.py: `x.add_(3.).clamp_(0., 6.).div_(6.)` carried three TODOs of one cause
    source = """\
        import torch
        from torch import nn


        def hard_sigmoid(x, inplace: bool = False):
            if inplace:
                return x.add_(3.).clamp_(0., 6.).div_(6.)
            return torch.clamp(x + 3., 0., 6.) / 6.


        class HardSigmoid(nn.Module):
            def forward(self, x):
                return hard_sigmoid(x)
        """
    original, translated, text = _translate(tmp_path, source, "HardSigmoid", "keras", capsys)
    todos = [line.strip() for line in text.splitlines() if "TODO(tensorlint)" in line]
    assert todos == ["# TODO(tensorlint): in-place Tensor.add_(), Tensor.clamp_() and Tensor.div_() mutate their "
                     "tensors; Keras tensors are immutable: assign the result of the out-of-place op instead"], todos
    assert_translation_matches(original.HardSigmoid(), translated.HardSigmoid(), translated.copy_weights,
                               [random_input((2, 5))], to="keras")
