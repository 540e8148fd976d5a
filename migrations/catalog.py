"""The PyTorch <-> Keras 3 catalog: one entry per layer pair and per functional op, read by both translation
directions, the hover cards, the README table and the equivalence tests.

Everything here is data. An entry says how each constructor argument maps (with a named value converter from
:data:`CONVERTERS`), which target arguments are always written, how each parameter/buffer is copied (a numpy
expression over ``t`` = the torch tensors by state_dict name, or ``k`` = the Keras weights by path relative to the
layer), and an example with non-default arguments that the equivalence tests build. Layers whose structure needs
more than an argument map name a ``strategy`` that :mod:`.translate` implements once (conv padding, transposed-conv
cropping, recurrent layers, attention, ...). Defaults that differ come from :mod:`.layer_defaults`.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from .layer_defaults import differences_for

REQUIRED = "<required>"  # a parameter without a default


# -- value converters (source code in, source code out) ------------------------------------------------------------
def literal(code: str):
    """``(True, value)`` when ``code`` is a Python literal, else ``(False, None)``."""
    try:
        return True, ast.literal_eval(code)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return False, None


def _same(code: str) -> str:
    return code


def _one_minus(code: str) -> str:
    ok, value = literal(code)
    if ok and isinstance(value, (int, float)) and not isinstance(value, bool):
        return repr(round(1 - value, 12))
    return f"1 - ({code})"


def _gelu_to_keras(code: str) -> str:
    ok, value = literal(code)
    if ok:
        return repr(value == "tanh")
    return f"({code}) == 'tanh'"


def _gelu_to_torch(code: str) -> str:
    ok, value = literal(code)
    if ok:
        return repr("tanh" if value else "none")
    return f"'tanh' if ({code}) else 'none'"


def _scale_to_size(code: str) -> str:
    ok, value = literal(code)
    if ok and isinstance(value, float) and value.is_integer():
        return repr(int(value))
    if ok and isinstance(value, tuple):
        return repr(tuple(int(v) for v in value))
    return code


def _torch_pad_to_keras(code: str) -> str:
    """torch ZeroPadNd's (left, right, top, bottom, front, back) -> Keras's ((front, back), (top, bottom), ...)."""
    ok, value = literal(code)
    if ok and isinstance(value, tuple) and len(value) % 2 == 0:
        pairs = [(value[i], value[i + 1]) for i in range(0, len(value), 2)]
        return repr(tuple(reversed(pairs)))
    return code


def _keras_pad_to_torch(code: str) -> str:
    ok, value = literal(code)
    if ok and isinstance(value, tuple) and all(isinstance(v, tuple) for v in value):
        flat: list[int] = []
        for before, after in reversed(value):
            flat += [before, after]
        return repr(tuple(flat))
    if ok and isinstance(value, tuple):  # symmetric per axis: (ph, pw)
        flat = []
        for amount in reversed(value):
            flat += [amount, amount]
        return repr(tuple(flat))
    return code


# torch dtype objects <-> the dtype names keras.ops takes (torch.float is float32, torch.long int64, ...)
_TORCH_DTYPE_NAMES = {"float": "float32", "double": "float64", "half": "float16", "long": "int64", "int": "int32",
                      "short": "int16"}
KERAS_DTYPES = ("float16", "bfloat16", "float32", "float64", "uint8", "int8", "int16", "int32", "int64", "bool")


def keras_dtype_name(torch_dtype: str) -> str | None:
    """`torch.float32` / `torch.long` -> "float32" / "int64", the names Keras takes; None for anything else."""
    match = re.fullmatch(r"torch\.(\w+)", torch_dtype.strip())
    if match is None:
        return None
    name = _TORCH_DTYPE_NAMES.get(match.group(1), match.group(1))
    return name if name in KERAS_DTYPES else None


def _torch_dtype_to_keras(code: str) -> str:
    name = keras_dtype_name(code)  # None for `x.dtype`: keras.ops accepts the tensor's own dtype object
    return repr(name) if name else code


def _keras_dtype_to_torch(code: str) -> str:
    ok, value = literal(code)
    if ok and value in KERAS_DTYPES:
        return f"torch.{value}"
    return code


def _to_tuple(code: str) -> str:
    """torch.flip's dims must be a sequence; keras.ops.flip's axis may be one int."""
    ok, value = literal(code)
    if ok and isinstance(value, int):
        return repr((value,))
    return code


CONVERTERS = {
    "same": _same,
    "torch_dtype_to_keras": _torch_dtype_to_keras,
    "keras_dtype_to_torch": _keras_dtype_to_torch,
    "to_tuple": _to_tuple,
    "one_minus": _one_minus,
    "gelu_to_keras": _gelu_to_keras,
    "gelu_to_torch": _gelu_to_torch,
    "scale_to_size": _scale_to_size,
    "torch_pad_to_keras": _torch_pad_to_keras,
    "keras_pad_to_torch": _keras_pad_to_torch,
}


# -- data model ----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Arg:
    """One constructor argument: its name on each side (None: no counterpart), defaults, and converters."""

    torch: str | None
    keras: str | None
    torch_default: object = REQUIRED
    keras_default: object = REQUIRED
    to_keras: str = "same"
    to_torch: str = "same"


@dataclass(frozen=True)
class WeightMap:
    """How one target tensor is computed: ``expr`` is numpy code over ``t`` (torch arrays, by state_dict name)
    or ``k`` (Keras arrays, by weight path relative to the layer)."""

    target: str
    expr: str
    optional: bool = False  # only when the source has every tensor ``expr`` names (e.g. a bias)
    reshape: bool = False  # the target has the same elements in another shape (attention heads, PReLU)


@dataclass(frozen=True)
class Example:
    """Non-default arguments the equivalence tests build (input shapes are per sample, batch excluded)."""

    torch: str
    keras: str
    torch_input: tuple[int, ...]
    keras_input: tuple[int, ...]


@dataclass(frozen=True)
class LayerPair:
    key: str
    torch: str
    keras: str
    torch_signature: tuple[str, ...]
    keras_signature: tuple[str, ...]
    args: tuple[Arg, ...] = ()
    keras_positional: int = 0  # how many leading keras arguments are written positionally
    torch_positional: int = 0
    to_keras_weights: tuple[WeightMap, ...] = ()
    to_torch_weights: tuple[WeightMap, ...] = ()
    spatial: int = 0  # 1/2/3: a channels-first layer in torch (data_format / channel axis handling)
    torch_lazy: str | None = None  # the Lazy* class that infers the first (input-size) argument
    torch_input_arg: str | None = None  # the torch argument that is an input size (Keras infers it)
    keras_activation: str | None = None  # entries spelled keras.layers.Activation("<name>")
    keras_fixed: tuple[tuple[str, str], ...] = ()  # keras arguments always written (name, code)
    torch_fixed: tuple[tuple[str, str], ...] = ()
    features: str = "keep"  # channel count after the layer: "keep", "unknown", "arg:<keras argument>"
    strategy: str | None = None
    notes: tuple[str, ...] = ()
    examples: tuple[Example, ...] = ()
    torch_only: bool = False  # the reverse direction uses another entry (several torch layers, one Keras)
    keras_only: bool = False


@dataclass(frozen=True)
class OpPair:
    """A functional op: torch function/method <-> keras.ops function (and Keras merge layer, if any)."""

    key: str
    torch: tuple[str, ...]  # canonical function names, e.g. ("torch.cat", "torch.concat")
    torch_method: str | None  # tensor method spelling, e.g. "view"
    keras: str  # canonical keras.ops function
    torch_signature: tuple[str, ...]
    keras_signature: tuple[str, ...]
    args: tuple[Arg, ...] = ()
    keras_layer: str | None = None  # e.g. keras.layers.Concatenate (called on a list)
    torch_operator: str | None = None  # "+" when torch spells it as an operator
    strategy: str | None = None
    notes: tuple[str, ...] = ()
    example: tuple[str, str, tuple[tuple[int, ...], ...]] | None = None  # (torch code, keras code, input shapes)


# -- weight layouts ----------------------------------------------------------------------------------------------
def _w(*items) -> tuple[WeightMap, ...]:
    return tuple(WeightMap(*item) for item in items)


_KERNEL_TO_KERAS = {1: "(2, 1, 0)", 2: "(2, 3, 1, 0)", 3: "(2, 3, 4, 1, 0)"}
_KERNEL_TO_TORCH = {1: "(2, 1, 0)", 2: "(3, 2, 0, 1)", 3: "(4, 3, 0, 1, 2)"}


def _conv_weights(n: int):
    to_keras = _w(("kernel", f"t['weight'].transpose{_KERNEL_TO_KERAS[n]}"), ("bias", "t['bias']", True))
    to_torch = _w(("weight", f"k['kernel'].transpose{_KERNEL_TO_TORCH[n]}"), ("bias", "k['bias']", True))
    return to_keras, to_torch


_DENSE_WEIGHTS = (_w(("kernel", "t['weight'].T"), ("bias", "t['bias']", True)),
                  _w(("weight", "k['kernel'].T"), ("bias", "k['bias']", True)))
_NORM_WEIGHTS = (_w(("gamma", "t['weight']", True), ("beta", "t['bias']", True)),
                 _w(("weight", "k['gamma']", True), ("bias", "k['beta']", True)))
_BN_WEIGHTS = (_w(("gamma", "t['weight']", True), ("beta", "t['bias']", True),
                  ("moving_mean", "t['running_mean']"), ("moving_variance", "t['running_var']")),
               # Keras's center=False or scale=False leaves out beta or gamma; torch's affine has both: the absent
               # one is its identity (the translation freezes it)
               _w(("weight", "k['gamma'] if 'gamma' in k else np.ones_like(k['beta']) if 'beta' in k else None"),
                  ("bias", "k['beta'] if 'beta' in k else np.zeros_like(k['gamma']) if 'gamma' in k else None"),
                  ("running_mean", "k['moving_mean']"), ("running_var", "k['moving_variance']")))


def _rnn_weights(kind: str, suffix: str = "", prefix: str = ""):
    """Keras keeps one bias (GRU: two stacked); torch two. GRU gates are r,z,n in torch and z,r,n in Keras."""
    s, p = suffix, prefix
    if kind == "GRU":
        to_keras = _w((f"{p}kernel", f"_gates(t['weight_ih_l0{s}'], (1, 0, 2)).T"),
                      (f"{p}recurrent_kernel", f"_gates(t['weight_hh_l0{s}'], (1, 0, 2)).T"),
                      (f"{p}bias", f"np.stack([_gates(t['bias_ih_l0{s}'], (1, 0, 2)), "
                                   f"_gates(t['bias_hh_l0{s}'], (1, 0, 2))])", True))
        to_torch = _w((f"weight_ih_l0{s}", f"_gates(k['{p}kernel'].T, (1, 0, 2))"),
                      (f"weight_hh_l0{s}", f"_gates(k['{p}recurrent_kernel'].T, (1, 0, 2))"),
                      (f"bias_ih_l0{s}", f"_gates(k['{p}bias'][0], (1, 0, 2))", True),
                      (f"bias_hh_l0{s}", f"_gates(k['{p}bias'][1], (1, 0, 2))", True))
        return to_keras, to_torch
    to_keras = _w((f"{p}kernel", f"t['weight_ih_l0{s}'].T"), (f"{p}recurrent_kernel", f"t['weight_hh_l0{s}'].T"),
                  (f"{p}bias", f"t['bias_ih_l0{s}'] + t['bias_hh_l0{s}']", True))
    to_torch = _w((f"weight_ih_l0{s}", f"k['{p}kernel'].T"), (f"weight_hh_l0{s}", f"k['{p}recurrent_kernel'].T"),
                  (f"bias_ih_l0{s}", f"k['{p}bias']", True), (f"bias_hh_l0{s}", f"np.zeros_like(k['{p}bias'])", True))
    return to_keras, to_torch


_MHA_WEIGHTS = (
    _w(("query/kernel", "np.split(t['in_proj_weight'], 3)[0].T", False, True),
       ("key/kernel", "np.split(t['in_proj_weight'], 3)[1].T", False, True),
       ("value/kernel", "np.split(t['in_proj_weight'], 3)[2].T", False, True),
       ("query/bias", "np.split(t['in_proj_bias'], 3)[0]", True, True),
       ("key/bias", "np.split(t['in_proj_bias'], 3)[1]", True, True),
       ("value/bias", "np.split(t['in_proj_bias'], 3)[2]", True, True),
       ("attention_output/kernel", "t['out_proj.weight'].T", False, True),
       ("attention_output/bias", "t['out_proj.bias']", True)),
    _w(("in_proj_weight", "np.concatenate([_matrix(k['query/kernel']).T, _matrix(k['key/kernel']).T, "
                          "_matrix(k['value/kernel']).T])"),
       ("in_proj_bias", "np.concatenate([k['query/bias'].ravel(), k['key/bias'].ravel(), "
                        "k['value/bias'].ravel()])", True),
       ("out_proj.weight", "_matrix(k['attention_output/kernel'], rows=-1).T"),
       ("out_proj.bias", "k['attention_output/bias']", True)),
)


# -- layer pairs -------------------------------------------------------------------------------------------------
_DIMS = (1, 2, 3)
_SPATIAL_IN = {1: (3, 9), 2: (3, 7, 6), 3: (2, 5, 4, 5)}  # torch per-sample shapes (odd and even sizes)


def _keras_in(shape: tuple[int, ...]) -> tuple[int, ...]:
    return shape[1:] + shape[:1]


def _conv(n: int) -> LayerPair:
    to_keras, to_torch = _conv_weights(n)
    shape = _SPATIAL_IN[n]
    k = 3 if n < 3 else 2
    return LayerPair(
        f"conv{n}d", f"torch.nn.Conv{n}d", f"keras.layers.Conv{n}D",
        ("in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation", "groups", "bias",
         "padding_mode", "device", "dtype"),
        ("filters", "kernel_size", "strides", "padding", "data_format", "dilation_rate", "groups", "activation",
         "use_bias"),
        (Arg("in_channels", None), Arg("out_channels", "filters"), Arg("kernel_size", "kernel_size"),
         Arg("stride", "strides", 1, 1), Arg("padding", "padding", 0, "valid"),
         Arg("dilation", "dilation_rate", 1, 1), Arg("groups", "groups", 1, 1), Arg("bias", "use_bias", True, True),
         Arg("padding_mode", None, "zeros")),
        keras_positional=2, torch_positional=3, to_keras_weights=to_keras, to_torch_weights=to_torch, spatial=n,
        torch_lazy=f"torch.nn.LazyConv{n}d", torch_input_arg="in_channels", features="arg:filters",
        strategy="conv",
        notes=("Keras infers in_channels; the kernel is stored (*kernel, in, out) instead of (out, in, *kernel).",),
        examples=(Example(f"nn.Conv{n}d({shape[0]}, 4, {k}, stride=2, padding=1, bias=False)",
                          f"layers.Conv{n}D(4, {k}, strides=2, padding='same', use_bias=False)",
                          shape, _keras_in(shape)),
                  Example(f"nn.Conv{n}d({shape[0]}, {2 * shape[0]}, {k}, padding=2, dilation=2, groups={shape[0]})",
                          f"layers.Conv{n}D(4, {k}, padding='same', dilation_rate=2, activation='relu')", shape, _keras_in(shape))))


def _conv_transpose(n: int) -> LayerPair:
    to_keras, to_torch = _conv_weights(n)
    shape = _SPATIAL_IN[n]
    return LayerPair(
        f"conv_transpose{n}d", f"torch.nn.ConvTranspose{n}d", f"keras.layers.Conv{n}DTranspose",
        ("in_channels", "out_channels", "kernel_size", "stride", "padding", "output_padding", "groups", "bias",
         "dilation", "padding_mode", "device", "dtype"),
        ("filters", "kernel_size", "strides", "padding", "output_padding", "data_format", "dilation_rate",
         "activation", "use_bias"),
        (Arg("in_channels", None), Arg("out_channels", "filters"), Arg("kernel_size", "kernel_size"),
         Arg("stride", "strides", 1, 1), Arg("padding", "padding", 0, "valid"),
         Arg("output_padding", "output_padding", 0, None), Arg("groups", None, 1),
         Arg("bias", "use_bias", True, True), Arg("dilation", "dilation_rate", 1, 1),
         Arg("padding_mode", None, "zeros")),
        keras_positional=2, torch_positional=3, to_keras_weights=to_keras, to_torch_weights=to_torch, spatial=n,
        torch_lazy=f"torch.nn.LazyConvTranspose{n}d", torch_input_arg="in_channels", features="arg:filters",
        strategy="conv_transpose",
        notes=("torch's `padding` crops the full transposed output; the translation crops explicitly "
               "(Cropping / slicing) instead of relying on Keras's size-dependent 'same'.",),
        examples=(Example(f"nn.ConvTranspose{n}d({shape[0]}, 4, 3, stride=2, padding=1, output_padding=1)",
                          f"layers.Conv{n}DTranspose(4, 3, strides=2, padding='same')", shape, _keras_in(shape)),
                  Example(f"nn.ConvTranspose{n}d({shape[0]}, 4, 2, stride=2, bias=False)",
                          f"layers.Conv{n}DTranspose(4, 2, strides=2, use_bias=False)", shape, _keras_in(shape))))


def _depthwise(n: int) -> LayerPair:
    shape = _SPATIAL_IN[n]
    spatial = ", ".join(str(i + 2) for i in range(n))
    keras_kernel = f"t['weight'].reshape(src.groups, -1, *t['weight'].shape[2:]).transpose({spatial}, 0, 1)"
    kernel_axes = ", ".join(str(i) for i in range(n))
    torch_weight = f"k['kernel'].transpose({n}, {n + 1}, {kernel_axes}).reshape(-1, 1, *k['kernel'].shape[:{n}])"
    return LayerPair(
        f"depthwise_conv{n}d", f"torch.nn.Conv{n}d", f"keras.layers.DepthwiseConv{n}D",
        ("in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation", "groups", "bias",
         "padding_mode", "device", "dtype"),
        ("kernel_size", "strides", "padding", "depth_multiplier", "data_format", "dilation_rate", "activation",
         "use_bias"),
        (Arg("in_channels", None), Arg("out_channels", None), Arg("kernel_size", "kernel_size"),
         Arg("stride", "strides", 1, 1), Arg("padding", "padding", 0, "valid"),
         Arg("dilation", "dilation_rate", 1, 1), Arg("groups", None, 1), Arg("bias", "use_bias", True, True),
         Arg("padding_mode", None, "zeros")),
        keras_positional=1, torch_positional=3,
        to_keras_weights=_w(("kernel", keras_kernel), ("bias", "t['bias']", True)),
        to_torch_weights=_w(("weight", torch_weight), ("bias", "k['bias']", True)),
        spatial=n, torch_input_arg="in_channels", features="unknown", strategy="depthwise", keras_only=True,
        notes=("torch spells a depthwise conv as Conv(C, C*m, k, groups=C); Keras as DepthwiseConv(k, "
               "depth_multiplier=m).",),
        examples=(Example(f"nn.Conv{n}d({shape[0]}, {shape[0] * 2}, 3, padding=1, groups={shape[0]})",
                          f"layers.DepthwiseConv{n}D(3, depth_multiplier=2, strides=2, padding='same')", shape,
                          _keras_in(shape)),))


def _separable_conv(n: int) -> LayerPair:
    """Keras's SeparableConv (a depthwise conv, then a 1x1 conv with the bias) is two torch convs in a helper."""
    shape = _SPATIAL_IN[n]
    kernel_axes = ", ".join(str(i) for i in range(n))
    depthwise = (f"k['depthwise_kernel'].transpose({n}, {n + 1}, {kernel_axes})"
                 f".reshape(-1, 1, *k['depthwise_kernel'].shape[:{n}])")
    return LayerPair(
        f"separable_conv{n}d", "helper:SeparableConv", f"keras.layers.SeparableConv{n}D", (),
        ("filters", "kernel_size", "strides", "padding", "data_format", "dilation_rate", "depth_multiplier",
         "activation", "use_bias"),
        (Arg(None, "filters"), Arg(None, "kernel_size"), Arg(None, "strides", REQUIRED, 1),
         Arg(None, "padding", REQUIRED, "valid"), Arg(None, "dilation_rate", REQUIRED, 1),
         Arg(None, "depth_multiplier", REQUIRED, 1), Arg(None, "use_bias", REQUIRED, True)),
        keras_positional=2, spatial=n, strategy="separable", keras_only=True, features="arg:filters",
        to_torch_weights=_w(("depthwise.weight", depthwise),
                            ("pointwise.weight", f"k['pointwise_kernel'].transpose{_KERNEL_TO_TORCH[n]}"),
                            ("pointwise.bias", "k['bias']", True)),
        notes=("torch has no separable conv module: the translation's SeparableConv helper holds the depthwise "
               "Conv(C, C*m, k, groups=C) and the pointwise Conv(C*m, filters, 1) that carries the bias.",),
        examples=(Example("", f"layers.SeparableConv{n}D(5, 3, depth_multiplier=2, strides=2, padding='same')",
                          shape, _keras_in(shape)),))


def _batchnorm(n: int) -> LayerPair:
    shapes = {1: (4, 7), 2: (4, 5, 6), 3: (4, 3, 4, 5)}
    return LayerPair(
        f"batchnorm{n}d", f"torch.nn.BatchNorm{n}d", "keras.layers.BatchNormalization",
        ("num_features", "eps", "momentum", "affine", "track_running_stats", "device", "dtype"),
        ("axis", "momentum", "epsilon", "center", "scale"),
        (Arg("num_features", None), Arg("eps", "epsilon", 1e-5, 1e-3), Arg("momentum", "momentum", 0.1, 0.99,
                                                                              "one_minus", "one_minus"),
         Arg("affine", "center", True, True), Arg("affine", "scale", True, True),
         Arg("track_running_stats", None, True)),
        torch_positional=1, to_keras_weights=_BN_WEIGHTS[0], to_torch_weights=_BN_WEIGHTS[1], spatial=n,
        torch_lazy=f"torch.nn.LazyBatchNorm{n}d", torch_input_arg="num_features", strategy="batchnorm",
        keras_only=False, torch_only=n != 2,
        notes=("Keras's momentum is the weight of the old average: keras = 1 - torch.",),
        examples=(Example(f"nn.BatchNorm{n}d(4, eps=1e-3, momentum=0.2)",
                          "layers.BatchNormalization(momentum=0.8, epsilon=1e-4)", shapes[n],
                          _keras_in(shapes[n])),))


def _pool(kind: str, n: int) -> LayerPair:
    torch_name = {"max": "MaxPool", "avg": "AvgPool"}[kind]
    keras_name = {"max": "MaxPooling", "avg": "AveragePooling"}[kind]
    shape = _SPATIAL_IN[n]
    extra = ("ceil_mode", "return_indices", "dilation") if kind == "max" else ("ceil_mode", "count_include_pad",
                                                                               "divisor_override")
    # Keras 3's MaxPooling pools 2 per axis by default; its AveragePooling requires pool_size (tf.keras 2's was 2:
    # the pool strategy writes kernel_size=2 for it)
    args = [Arg("kernel_size", "pool_size", REQUIRED, 2 if kind == "max" else REQUIRED),
            Arg("stride", "strides", None, None), Arg("padding", "padding", 0,
                                                                                       "valid"),
            Arg("ceil_mode", None, False)]
    if kind == "max":
        args += [Arg("return_indices", None, False), Arg("dilation", None, 1)]
    else:
        args += [Arg("count_include_pad", None, True), Arg("divisor_override", None, None)]
    padded = 1 if n < 3 else 0
    return LayerPair(
        f"{kind}_pool{n}d", f"torch.nn.{torch_name}{n}d", f"keras.layers.{keras_name}{n}D",
        ("kernel_size", "stride", "padding") + extra,
        ("pool_size", "strides", "padding", "data_format"),
        tuple(args), keras_positional=1, torch_positional=1, spatial=n, strategy="pool",
        notes=("torch pads max pooling with -inf and average pooling with zeros (count_include_pad=True); the "
               "translation pads explicitly instead of using Keras's size-dependent 'same'.",),
        examples=(Example(f"nn.{torch_name}{n}d(3, stride=2, padding={padded})",
                          f"layers.{keras_name}{n}D(2, strides=1)", shape, _keras_in(shape)),
                  Example(f"nn.{torch_name}{n}d(2)", f"layers.{keras_name}{n}D({'' if kind == 'max' else 2})", shape,
                          _keras_in(shape))))


def _adaptive(kind: str, n: int) -> LayerPair:
    torch_name = {"max": "AdaptiveMaxPool", "avg": "AdaptiveAvgPool"}[kind]
    keras_name = {"max": "GlobalMaxPooling", "avg": "GlobalAveragePooling"}[kind]
    shape = _SPATIAL_IN[n]
    out = {1: "3", 2: "(2, 3)", 3: "(1, 2, 2)"}[n]
    return LayerPair(
        f"adaptive_{kind}_pool{n}d", f"torch.nn.{torch_name}{n}d", f"keras.layers.{keras_name}{n}D",
        ("output_size",) + (("return_indices",) if kind == "max" else ()),
        ("data_format", "keepdims"),
        (Arg("output_size", None),) + ((Arg("return_indices", None, False),) if kind == "max" else ()),
        torch_positional=1, spatial=n, strategy="adaptive_pool",
        notes=("output size 1 is Keras's global pooling (keepdims=True keeps torch's shape); other sizes use a "
               "small AdaptivePooling helper layer that reproduces torch's bins.",),
        examples=(Example(f"nn.{torch_name}{n}d(1)", f"layers.{keras_name}{n}D()", shape, _keras_in(shape)),
                  Example(f"nn.{torch_name}{n}d({out})", f"layers.{keras_name}{n}D(keepdims=True)", shape,
                          _keras_in(shape))))


def _instance_norm(n: int) -> LayerPair:
    shapes = {1: (4, 7), 2: (4, 5, 6), 3: (4, 3, 4, 5)}
    return LayerPair(
        f"instance_norm{n}d", f"torch.nn.InstanceNorm{n}d", "keras.layers.GroupNormalization",
        ("num_features", "eps", "momentum", "affine", "track_running_stats", "device", "dtype"),
        ("groups", "axis", "epsilon", "center", "scale"),
        (Arg("num_features", None), Arg("eps", "epsilon", 1e-5, 1e-3), Arg("momentum", None, 0.1),
         Arg("affine", "center", False, True), Arg("affine", "scale", False, True),
         Arg("track_running_stats", None, False)),
        torch_positional=1, to_keras_weights=_NORM_WEIGHTS[0], to_torch_weights=_NORM_WEIGHTS[1],
        torch_input_arg="num_features", strategy="instance_norm", torch_only=True,
        notes=("instance normalisation is Keras's GroupNormalization(groups=-1) (one group per channel).",),
        examples=(Example(f"nn.InstanceNorm{n}d(4, affine=True, eps=1e-4)", "", shapes[n], _keras_in(shapes[n])),
                  Example(f"nn.InstanceNorm{n}d(4)", "", shapes[n], _keras_in(shapes[n]))))


def _cropping(n: int) -> LayerPair:
    shape = _SPATIAL_IN[n]
    crops = {1: "(1, 2)", 2: "((1, 0), (2, 1))", 3: "((1, 0), (0, 1), (1, 1))"}[n]
    return LayerPair(
        f"cropping{n}d", "helper:Crop", f"keras.layers.Cropping{n}D", (), ("cropping", "data_format"),
        (Arg(None, "cropping"),), keras_positional=1, spatial=n, strategy="cropping", keras_only=True,
        notes=("torch has no cropping module; the translation uses a small Crop helper (slicing).",),
        examples=(Example("", f"layers.Cropping{n}D({crops})", shape, _keras_in(shape)),))


def _zero_pad(n: int) -> LayerPair:
    shape = _SPATIAL_IN[n]
    torch_pad = {1: "(1, 2)", 2: "(1, 2, 0, 1)", 3: "(1, 0, 0, 1, 2, 1)"}[n]
    keras_pad = {1: "(1, 2)", 2: "((0, 1), (1, 2))", 3: "((2, 1), (0, 1), (1, 0))"}[n]
    return LayerPair(
        f"zero_pad{n}d", f"torch.nn.ZeroPad{n}d", f"keras.layers.ZeroPadding{n}D",
        ("padding",), ("padding", "data_format"),
        (Arg("padding", "padding", REQUIRED, 1, "torch_pad_to_keras", "keras_pad_to_torch"),),
        keras_positional=1, torch_positional=1, spatial=n, strategy="zero_pad",
        notes=("torch lists padding last axis first, (left, right, top, bottom); Keras first axis first.",),
        examples=(Example(f"nn.ZeroPad{n}d({torch_pad})", f"layers.ZeroPadding{n}D({keras_pad})", shape,
                          _keras_in(shape)),))


def _pad(mode: str, n: int) -> LayerPair:
    torch_name = {"constant": "ConstantPad", "reflect": "ReflectionPad", "replicate": "ReplicationPad"}[mode]
    shape = _SPATIAL_IN[n]
    torch_args = "(1, 2, 2, 1), 0.5" if mode == "constant" else "(1, 2, 2, 1)"
    return LayerPair(
        f"{mode}_pad{n}d", f"torch.nn.{torch_name}{n}d", "helper:Pad",
        ("padding",) + (("value",) if mode == "constant" else ()), ("pad_width", "mode", "constant_values"),
        (Arg("padding", None),) + ((Arg("value", None),) if mode == "constant" else ()),
        torch_positional=2, spatial=n, strategy="pad", torch_only=True,
        notes=(f"Keras has no {mode} padding layer; the translation uses a small Pad helper layer "
               "(keras.ops.pad).",),
        examples=(Example(f"nn.{torch_name}{n}d({torch_args if n == 2 else '(1, 2)'})", "", shape,
                          _keras_in(shape)),))


def _upsample(n: int, mode: str) -> LayerPair:
    shape = _SPATIAL_IN[n]
    key = f"upsample{n}d" if mode == "nearest" else f"upsample{n}d_{mode}"
    return LayerPair(
        key, "torch.nn.Upsample", f"keras.layers.UpSampling{n}D",
        ("size", "scale_factor", "mode", "align_corners", "recompute_scale_factor"),
        ("size", "data_format", "interpolation") if n == 2 else ("size", "data_format"),
        (Arg("scale_factor", "size", None, 2, "scale_to_size"),
         Arg("mode", "interpolation" if n == 2 else None, "nearest", "nearest"),
         Arg("align_corners", None, None), Arg("size", None, None)),
        keras_positional=1, spatial=n, strategy="upsample", torch_only=mode != "nearest" and n != 2,
        notes=("only integer scale factors map; bilinear matches torch's align_corners=False.",),
        examples=(Example(f"nn.Upsample(scale_factor=2, mode={mode!r})",
                          f"layers.UpSampling{n}D(2{', interpolation=' + repr(mode) if n == 2 else ''})",
                          shape, _keras_in(shape)),))


def _activation(key: str, torch_name: str, keras_activation: str | None, keras_layer: str | None = None,
                args: tuple[Arg, ...] = (), torch_signature: tuple[str, ...] = (), keras_signature=(),
                example: tuple[str, str] | None = None, keras_fixed=(), strategy=None, notes=(),
                torch_only=False, keras_only=False, weights=((), ())) -> LayerPair:
    shape = (4, 5, 6)
    torch_code, keras_code = example or (f"nn.{torch_name}()", f"layers.Activation({keras_activation!r})")
    return LayerPair(
        key, f"torch.nn.{torch_name}", keras_layer or "keras.layers.Activation", torch_signature,
        keras_signature or (("activation",) if keras_layer is None else ()), args,
        keras_activation=keras_activation if keras_layer is None else None, keras_fixed=keras_fixed,
        strategy=strategy or ("activation" if keras_layer is None else None), notes=notes, torch_only=torch_only,
        keras_only=keras_only, to_keras_weights=weights[0], to_torch_weights=weights[1],
        examples=(Example(torch_code, keras_code, shape, shape),))


_LSTM_ARGS = (Arg("input_size", None), Arg("hidden_size", "units"), Arg("num_layers", None, 1),
              Arg("bias", "use_bias", True, True), Arg("batch_first", None, False),
              Arg("dropout", None, 0.0), Arg("bidirectional", None, False), Arg("proj_size", None, 0))
_RNN_SIGNATURE = ("input_size", "hidden_size", "num_layers", "bias", "batch_first", "dropout", "bidirectional")


def _recurrent(kind: str, bidirectional: bool) -> LayerPair:
    torch_name = {"LSTM": "LSTM", "GRU": "GRU", "SimpleRNN": "RNN"}[kind]
    to_keras, to_torch = _rnn_weights(kind)
    if bidirectional:
        fk, ft = _rnn_weights(kind, "", "forward/")
        bk, bt = _rnn_weights(kind, "_reverse", "backward/")
        to_keras, to_torch = fk + bk, ft + bt
    signature = _RNN_SIGNATURE[:2] + (("nonlinearity",) if kind == "SimpleRNN" else ()) + _RNN_SIGNATURE[2:] + \
        (("proj_size",) if kind == "LSTM" else ())
    args = _LSTM_ARGS + ((Arg("nonlinearity", "activation", "tanh", "tanh"),) if kind == "SimpleRNN" else ())
    key = f"{kind.lower()}" + ("_bidirectional" if bidirectional else "")
    bi = ", bidirectional=True" if bidirectional else ""
    keras_code = f"layers.{kind}(5, return_sequences=True)"
    if bidirectional:
        keras_code = f"layers.Bidirectional({keras_code})"
    return LayerPair(
        key, f"torch.nn.{torch_name}", "keras.layers.Bidirectional" if bidirectional else f"keras.layers.{kind}",
        signature, ("units", "activation", "use_bias", "return_sequences", "return_state"), args,
        keras_positional=1, torch_positional=2, to_keras_weights=to_keras, to_torch_weights=to_torch,
        torch_input_arg="input_size", features="unknown", strategy="recurrent",
        notes=("torch returns (output, h_n) / (output, (h_n, c_n)) and takes (time, batch, features) unless "
               "batch_first=True; Keras takes (batch, time, features) and returns the last output unless "
               "return_sequences=True.",
               "Keras keeps one bias per gate (torch's bias_ih + bias_hh)." if kind != "GRU" else
               "GRU gates are ordered r, z, n in torch and z, r, n in Keras; Keras's reset_after=True (the Keras "
               "3 default) is torch's formulation."),
        examples=(Example(f"nn.{torch_name}(6, 5, batch_first=True{bi})", keras_code, (7, 6), (7, 6)),))


# stochastic depth ("DropPath"): drops whole residual branches per sample while training, the identity at inference
_STOCHASTIC_DEPTH = {"torchvision.ops.StochasticDepth": ("p", "mode"),
                     "torchvision.ops.stochastic_depth.StochasticDepth": ("p", "mode"),
                     "timm.layers.DropPath": ("drop_prob", "scale_by_keep"),
                     "timm.models.layers.DropPath": ("drop_prob", "scale_by_keep")}
STOCHASTIC_DEPTH_NOTE = ("stochastic depth (DropPath) drops whole residual branches per sample while training and "
                         "is the identity at inference: the translation keeps the inference behaviour (identity); "
                         "add a stochastic-depth layer of your own to train with it")


def _stochastic_depth(torch_name: str, signature: tuple[str, ...]) -> LayerPair:
    key = "stochastic_depth" if torch_name.startswith("torchvision") else \
        "drop_path" + ("_models" if ".models." in torch_name else "")
    # no runnable example: torchvision and timm are not test dependencies (tests/test_translation_layers.py checks
    # the Keras side is the identity, which is what both do at inference)
    return LayerPair(key, torch_name, "keras.layers.Identity", signature, (),
                     tuple(Arg(name, None, REQUIRED) for name in signature), torch_positional=len(signature),
                     strategy="stochastic_depth", torch_only=True, notes=(STOCHASTIC_DEPTH_NOTE,),
                     examples=(Example("", "", (3, 4), (3, 4)),))


_KERAS_RELU_SIGNATURE = ("max_value", "negative_slope", "threshold")


def _build_layers() -> tuple[LayerPair, ...]:
    entries: list[LayerPair] = [
        LayerPair("linear", "torch.nn.Linear", "keras.layers.Dense",
                  ("in_features", "out_features", "bias", "device", "dtype"), ("units", "activation", "use_bias"),
                  (Arg("in_features", None), Arg("out_features", "units"), Arg("bias", "use_bias", True, True)),
                  keras_positional=1, torch_positional=2, to_keras_weights=_DENSE_WEIGHTS[0],
                  to_torch_weights=_DENSE_WEIGHTS[1], torch_lazy="torch.nn.LazyLinear",
                  torch_input_arg="in_features", features="arg:units",
                  notes=("Keras infers in_features; the kernel is (in, out), torch's weight (out, in).",),
                  examples=(Example("nn.Linear(6, 3, bias=False)", "layers.Dense(3, use_bias=False)", (5, 6),
                                    (5, 6)),
                            Example("nn.Linear(6, 4)", "layers.Dense(4, activation='relu')", (6,), (6,)))),
    ]
    entries += [_conv(n) for n in _DIMS]
    entries += [_conv_transpose(n) for n in _DIMS]
    entries += [_depthwise(n) for n in (1, 2)]
    entries += [_batchnorm(n) for n in _DIMS]
    entries += [
        LayerPair("layer_norm", "torch.nn.LayerNorm", "keras.layers.LayerNormalization",
                  ("normalized_shape", "eps", "elementwise_affine", "bias", "device", "dtype"),
                  ("axis", "epsilon", "center", "scale"),
                  (Arg("normalized_shape", None), Arg("eps", "epsilon", 1e-5, 1e-3),
                   Arg("elementwise_affine", "scale", True, True), Arg("bias", "center", True, True)),
                  torch_positional=1, to_keras_weights=_NORM_WEIGHTS[0], to_torch_weights=_NORM_WEIGHTS[1],
                  torch_input_arg="normalized_shape", strategy="layer_norm",
                  examples=(Example("nn.LayerNorm(6, eps=1e-6)", "layers.LayerNormalization(epsilon=1e-4)", (5, 6),
                                    (5, 6)),
                            Example("nn.LayerNorm((5, 6))", "layers.LayerNormalization(axis=(-2, -1))", (5, 6),
                                    (5, 6)))),
        LayerPair("group_norm", "torch.nn.GroupNorm", "keras.layers.GroupNormalization",
                  ("num_groups", "num_channels", "eps", "affine", "device", "dtype"),
                  ("groups", "axis", "epsilon", "center", "scale"),
                  (Arg("num_groups", "groups", REQUIRED, 32), Arg("num_channels", None),
                   Arg("eps", "epsilon", 1e-5, 1e-3), Arg("affine", "center", True, True),
                   Arg("affine", "scale", True, True)),
                  keras_positional=1, torch_positional=2, to_keras_weights=_NORM_WEIGHTS[0],
                  to_torch_weights=_NORM_WEIGHTS[1], spatial=2, torch_input_arg="num_channels",
                  strategy="group_norm",
                  examples=(Example("nn.GroupNorm(2, 4, eps=1e-4)", "layers.GroupNormalization(2, epsilon=1e-4)",
                                    (4, 5, 6), (5, 6, 4)),
                            Example("nn.GroupNorm(4, 4, affine=False)",
                                    "layers.GroupNormalization(groups=-1, center=False, scale=False)",
                                    (4, 7), (7, 4)))),
        LayerPair("dropout", "torch.nn.Dropout", "keras.layers.Dropout", ("p", "inplace"), ("rate",),
                  (Arg("p", "rate", 0.5, REQUIRED), Arg("inplace", None, False)), keras_positional=1,
                  torch_positional=1, keras_fixed=(),
                  examples=(Example("nn.Dropout(0.3)", "layers.Dropout(0.3)", (5, 6), (5, 6)),)),
        LayerPair("alpha_dropout", "torch.nn.AlphaDropout", "keras.layers.AlphaDropout", ("p", "inplace"),
                  ("rate",), (Arg("p", "rate", 0.5, REQUIRED), Arg("inplace", None, False)), keras_positional=1,
                  torch_positional=1,
                  examples=(Example("nn.AlphaDropout(0.2)", "layers.AlphaDropout(0.2)", (5, 6), (5, 6)),)),
    ]
    entries += [LayerPair(f"dropout{n}d", f"torch.nn.Dropout{n}d", f"keras.layers.SpatialDropout{n}D",
                          ("p", "inplace"), ("rate", "data_format") if n > 1 else ("rate",),
                          (Arg("p", "rate", 0.5, REQUIRED), Arg("inplace", None, False)), keras_positional=1,
                          torch_positional=1, spatial=n,
                          notes=("drops whole channels; identity at inference in both.",),
                          examples=(Example(f"nn.Dropout{n}d(0.25)", f"layers.SpatialDropout{n}D(0.25)",
                                            _SPATIAL_IN[n], _keras_in(_SPATIAL_IN[n])),))
                for n in _DIMS]
    entries += [
        LayerPair("embedding", "torch.nn.Embedding", "keras.layers.Embedding",
                  ("num_embeddings", "embedding_dim", "padding_idx", "max_norm", "norm_type", "scale_grad_by_freq",
                   "sparse"), ("input_dim", "output_dim", "mask_zero"),
                  (Arg("num_embeddings", "input_dim"), Arg("embedding_dim", "output_dim"),
                   Arg("padding_idx", None, None), Arg("max_norm", None, None), Arg("scale_grad_by_freq", None, False),
                   Arg("sparse", None, False)),
                  keras_positional=2, torch_positional=2,
                  to_keras_weights=_w(("embeddings", "t['weight']")), to_torch_weights=_w(("weight", "k['embeddings']")),
                  features="arg:output_dim", strategy="embedding",
                  notes=("torch's padding_idx keeps that row's gradient at zero; Keras has no equivalent (the "
                         "copied weights give the same forward pass).",),
                  examples=(Example("nn.Embedding(11, 4)", "layers.Embedding(11, 4)", (7,), (7,)),)),
    ]
    entries += [_recurrent(kind, bi) for kind in ("LSTM", "GRU", "SimpleRNN") for bi in (False, True)]
    entries += [
        LayerPair("multihead_attention", "torch.nn.MultiheadAttention", "keras.layers.MultiHeadAttention",
                  ("embed_dim", "num_heads", "dropout", "bias", "add_bias_kv", "add_zero_attn", "kdim", "vdim",
                   "batch_first"),
                  ("num_heads", "key_dim", "value_dim", "dropout", "use_bias", "output_shape"),
                  (Arg("embed_dim", None), Arg("num_heads", "num_heads"), Arg("dropout", "dropout", 0.0, 0.0),
                   Arg("bias", "use_bias", True, True), Arg("add_bias_kv", None, False),
                   Arg("add_zero_attn", None, False), Arg("kdim", None, None), Arg("vdim", None, None),
                   Arg("batch_first", None, False)),
                  keras_positional=1, torch_positional=2, to_keras_weights=_MHA_WEIGHTS[0],
                  to_torch_weights=_MHA_WEIGHTS[1], torch_input_arg="embed_dim", strategy="attention",
                  notes=("torch calls attn(query, key, value) and returns (output, weights); Keras calls "
                         "attn(query, value, key) and returns the output (return_attention_scores=True for both).",
                         "key_dim is embed_dim // num_heads.",
                         "torch's attn_mask/key_padding_mask mean *blocked* where True (a float mask is added to the "
                         "logits: -inf blocks); Keras's attention_mask means *may attend* where True: the generated "
                         "call adapters (TorchMultiheadAttention, KerasMultiHeadAttention) invert and combine them."),
                  examples=(Example("nn.MultiheadAttention(8, 2, batch_first=True)",
                                    "layers.MultiHeadAttention(2, 4)", (5, 8), (5, 8)),)),
    ]
    entries += [_pool(kind, n) for kind in ("max", "avg") for n in _DIMS]
    entries += [_adaptive(kind, n) for kind in ("avg", "max") for n in _DIMS]
    entries += [
        LayerPair("flatten", "torch.nn.Flatten", "keras.layers.Flatten", ("start_dim", "end_dim"),
                  ("data_format",), (Arg("start_dim", None, 1), Arg("end_dim", None, -1)), strategy="flatten",
                  features="unknown",
                  notes=("on channels-first tensors plain Flatten() keeps torch's order; Flatten(data_format="
                         "'channels_first') does not (it moves channels last first).",),
                  examples=(Example("nn.Flatten()", "layers.Flatten()", (3, 4, 5), (4, 5, 3)),)),
        LayerPair("unflatten", "torch.nn.Unflatten", "keras.layers.Reshape", ("dim", "unflattened_size"),
                  ("target_shape",), (Arg("dim", None), Arg("unflattened_size", "target_shape")),
                  keras_positional=1, torch_positional=2, strategy="reshape", features="unknown",
                  notes=("Keras's Reshape takes the whole per-sample shape; torch's Unflatten one axis.",),
                  examples=(Example("nn.Unflatten(1, (3, 4))", "layers.Reshape((3, 4))", (12,), (12,)),)),
        LayerPair("permute", "helper:Permute", "keras.layers.Permute", ("dims",), ("dims",),
                  (Arg("dims", "dims"),), keras_positional=1, strategy="permute", keras_only=True,
                  notes=("Keras numbers axes from 1 without the batch axis; torch has no Permute module (the "
                         "translation uses a small Permute helper module).",),
                  examples=(Example("", "layers.Permute((2, 1))", (3, 4), (3, 4)),)),
        LayerPair("rescaling", "helper:Rescaling", "keras.layers.Rescaling", (), ("scale", "offset"),
                  (Arg(None, "scale"), Arg(None, "offset", REQUIRED, 0.0)), keras_positional=1,
                  strategy="rescaling", keras_only=True,
                  notes=("x * scale + offset; a per-channel scale or offset broadcasts on the last axis.",),
                  examples=(Example("", "layers.Rescaling([0.5, 2.0, -1.0], offset=0.25)", (4, 5, 3),
                                    (4, 5, 3)),)),
        LayerPair("normalization", "helper:Normalization", "keras.layers.Normalization", (),
                  ("axis", "mean", "variance", "invert"),
                  (Arg(None, "axis", REQUIRED, -1), Arg(None, "mean", REQUIRED, None),
                   Arg(None, "variance", REQUIRED, None), Arg(None, "invert", REQUIRED, False)),
                  strategy="normalization", keras_only=True,
                  to_torch_weights=_w(("mean", "k['mean']", True), ("variance", "k['variance']", True)),
                  notes=("(x - mean) / max(sqrt(variance), 1e-7) along the kept axes: given mean/variance are "
                         "constants, adapted ones weights (the helper's buffers, filled by copy_weights).",),
                  examples=(Example("", "layers.Normalization()", (4, 3), (4, 3)),
                            Example("", "layers.Normalization(mean=[1.0, 2.0, 3.0], variance=[4.0, 0.25, 1.0])",
                                    (4, 5, 3), (4, 5, 3)))),
        LayerPair("identity", "torch.nn.Identity", "keras.layers.Identity", (), (), (),
                  examples=(Example("nn.Identity()", "layers.Identity()", (3, 4), (3, 4)),)),
    ]
    entries += [_stochastic_depth(name, signature) for name, signature in _STOCHASTIC_DEPTH.items()]
    entries += [_instance_norm(n) for n in _DIMS]
    entries += [_zero_pad(n) for n in _DIMS]
    entries += [_separable_conv(n) for n in (1, 2)]
    entries += [_cropping(n) for n in _DIMS]
    entries += [_pad(mode, 2) for mode in ("constant", "reflect", "replicate")]
    entries += [_upsample(n, "nearest") for n in _DIMS] + [_upsample(2, "bilinear")]
    entries += [
        _activation("relu", "ReLU", "relu", "keras.layers.ReLU", (Arg("inplace", None, False),), ("inplace",),
                    _KERAS_RELU_SIGNATURE, example=("nn.ReLU()", "layers.ReLU()")),
        _activation("relu6", "ReLU6", None, "keras.layers.ReLU", (Arg("inplace", None, False),), ("inplace",),
                    _KERAS_RELU_SIGNATURE, keras_fixed=(("max_value", "6.0"),), strategy="relu6",
                    example=("nn.ReLU6()", "layers.ReLU(max_value=6.0)")),
        _activation("leaky_relu", "LeakyReLU", None, "keras.layers.LeakyReLU",
                    (Arg("negative_slope", "negative_slope", 0.01, 0.3), Arg("inplace", None, False)),
                    ("negative_slope", "inplace"), ("negative_slope",),
                    example=("nn.LeakyReLU(0.2)", "layers.LeakyReLU(0.2)")),
        _activation("prelu", "PReLU", None, "keras.layers.PReLU",
                    (Arg("num_parameters", None, 1), Arg("init", None, 0.25)), ("num_parameters", "init"),
                    ("alpha_initializer", "shared_axes"), strategy="prelu",
                    example=("nn.PReLU(4)", "layers.PReLU(shared_axes=[1, 2])"),
                    weights=(_w(("alpha", "t['weight']", False, True)), _w(("weight", "k['alpha'].ravel()"))),
                    notes=("torch's PReLU(C) has one slope per channel (axis 1); Keras shares alpha over the axes "
                           "in shared_axes, which fix the input's rank: where the layers before do not give the "
                           "rank, torch -> Keras uses a TorchPReLU helper that takes any rank.",)),
        _activation("elu", "ELU", None, "keras.layers.ELU", (Arg("alpha", "alpha", 1.0, 1.0),
                                                             Arg("inplace", None, False)),
                    ("alpha", "inplace"), ("alpha",), example=("nn.ELU(0.5)", "layers.ELU(0.5)")),
        _activation("selu", "SELU", "selu", args=(Arg("inplace", None, False),), torch_signature=("inplace",)),
        _activation("celu", "CELU", "celu", args=(Arg("alpha", None, 1.0), Arg("inplace", None, False)),
                    torch_signature=("alpha", "inplace")),
        _activation("gelu", "GELU", "gelu", args=(Arg("approximate", None, "none"),),
                    torch_signature=("approximate",), strategy="gelu",
                    example=("nn.GELU(approximate='tanh')", "layers.Activation('gelu')"),
                    notes=("Keras 3's gelu is exact by default, as torch's; approximate='tanh' is "
                           "keras.activations.gelu(x, approximate=True).",)),
        _activation("silu", "SiLU", "silu", args=(Arg("inplace", None, False),), torch_signature=("inplace",)),
        _activation("sigmoid", "Sigmoid", "sigmoid"),
        _activation("tanh", "Tanh", "tanh"),
        _activation("softmax", "Softmax", None, "keras.layers.Softmax", (Arg("dim", "axis", None, -1),),
                    ("dim",), ("axis",), example=("nn.Softmax(dim=1)", "layers.Softmax(axis=1)"),
                    notes=("torch's implicit dim (None) is deprecated; Keras's axis defaults to -1.",)),
        _activation("log_softmax", "LogSoftmax", "log_softmax", args=(Arg("dim", None, None),),
                    torch_signature=("dim",), strategy="log_softmax",
                    example=("nn.LogSoftmax(dim=-1)", "layers.Activation('log_softmax')")),
        _activation("hardswish", "Hardswish", "hard_swish", args=(Arg("inplace", None, False),),
                    torch_signature=("inplace",)),
        _activation("hardsigmoid", "Hardsigmoid", "hard_sigmoid", args=(Arg("inplace", None, False),),
                    torch_signature=("inplace",)),
        _activation("softplus", "Softplus", "softplus", args=(Arg("beta", None, 1.0), Arg("threshold", None, 20.0)),
                    torch_signature=("beta", "threshold")),
        _activation("softsign", "Softsign", "softsign"),
        _activation("mish", "Mish", "mish", args=(Arg("inplace", None, False),), torch_signature=("inplace",)),
        _activation("tanhshrink", "Tanhshrink", "tanh_shrink"),
        _activation("log_sigmoid", "LogSigmoid", "log_sigmoid"),
    ]
    return tuple(entries)


LAYERS: tuple[LayerPair, ...] = _build_layers()


# -- functional ops ------------------------------------------------------------------------------------------------
def _axis(default=None, keras_default=None) -> Arg:
    return Arg("dim", "axis", default, keras_default)


def _keepdim() -> Arg:
    return Arg("keepdim", "keepdims", False, False)


def _unary(key: str, torch_names: tuple[str, ...], method: str | None, keras: str, shape=(3, 4)) -> OpPair:
    first = torch_names[0].replace("torch.nn.functional.", "F.")
    return OpPair(key, torch_names, method, keras, ("input",), ("x",), (Arg("input", "x"),),
                  example=(f"{first}(a)", f"{keras}(a)", (shape,)))


def _reduce(key: str, torch_name: str, keras: str) -> OpPair:
    return OpPair(key, (torch_name,), key if key not in ("amax", "amin") else key, keras,
                  ("input", "dim", "keepdim"), ("x", "axis", "keepdims"),
                  (Arg("input", "x"), _axis(), _keepdim()),
                  example=(f"{torch_name}(a, dim=1, keepdim=True)", f"{keras}(a, axis=1, keepdims=True)",
                           ((3, 4, 5),)))


def _binary(key: str, torch_name: str, keras: str, operator: str | None, layer: str | None = None) -> OpPair:
    return OpPair(key, (torch_name,), key if key != "matmul" else "matmul", keras, ("input", "other"), ("x1", "x2"),
                  (Arg("input", "x1"), Arg("other", "x2")), keras_layer=layer, torch_operator=operator,
                  example=(f"{torch_name}(a, b)", f"{keras}(a, b)", ((3, 4), (3, 4)) if key != "matmul"
                           else ((3, 4), (4, 5))))


def _dtype() -> Arg:
    return Arg("dtype", "dtype", None, None, "torch_dtype_to_keras", "keras_dtype_to_torch")


def _like(key: str, torch_name: str, keras: str) -> OpPair:
    return OpPair(key, (torch_name,), None, keras, ("input",), ("x", "dtype"), (Arg("input", "x"), _dtype()),
                  example=(f"{torch_name}(a, dtype=torch.float64)", f"{keras}(a, dtype='float64')", ((3, 4),)))


def _new_tensor(method: str, keras: str, signature: tuple[str, ...], example: tuple[str, str]) -> OpPair:
    """`x.new_zeros(size)`, `x.new_full(size, v)`: a new tensor of x's dtype (unless dtype= says otherwise) and
    nothing else of x's."""
    args = (Arg("size", "shape"), *((Arg("fill_value", "fill_value"),) if "fill_value" in signature else ()),
            _dtype())
    return OpPair(method, (), method, keras, ("input", *signature), (*(a.keras for a in args),), args,
                  strategy="new_tensor", notes=(f"x.{method}(...) is {keras}(..., dtype=x.dtype): torch's new tensor "
                                                "takes the receiver's dtype; keras.ops's would be float32.",),
                  example=(*example, ((3, 4),)))


def _creation(key: str, torch_name: str, keras: str, example: tuple[str, str]) -> OpPair:
    return OpPair(key, (torch_name,), None, keras, ("size",), ("shape", "dtype"), (Arg("size", "shape"), _dtype()),
                  strategy="shape_varargs", example=(*example, ()))


def _moment(key: str, torch_name: str, keras: str) -> OpPair:
    return OpPair(key, (torch_name,), key, keras, ("input", "dim", "unbiased", "keepdim"), ("x", "axis", "keepdims"),
                  (Arg("input", "x"), _axis(), _keepdim(), Arg("unbiased", None, True), Arg("correction", None, 1)),
                  strategy="moment",
                  notes=(f"{torch_name} is unbiased by default (correction=1); {keras} is the population statistic: "
                         "the translation scales by n / (n - correction) (its square root for std), and Keras -> "
                         "torch writes correction=0.",),
                  example=(f"{torch_name}(a, dim=1, keepdim=True)", f"{keras}(a, axis=-1)", ((3, 4, 5),)))


OPS: tuple[OpPair, ...] = (
    OpPair("cat", ("torch.cat", "torch.concat", "torch.concatenate"), None, "keras.ops.concatenate",
           ("tensors", "dim"), ("xs", "axis"), (Arg("tensors", "xs"), Arg("dim", "axis", 0, 0)),
           keras_layer="keras.layers.Concatenate",
           notes=("keras.layers.Concatenate's axis defaults to -1, torch.cat's dim to 0.",),
           example=("torch.cat([a, b], dim=1)", "keras.ops.concatenate([a, b], axis=1)", ((3, 4), (3, 2)))),
    OpPair("stack", ("torch.stack",), None, "keras.ops.stack", ("tensors", "dim"), ("x", "axis"),
           (Arg("tensors", "x"), Arg("dim", "axis", 0, 0)),
           example=("torch.stack([a, b], dim=1)", "keras.ops.stack([a, b], axis=1)", ((3, 4), (3, 4)))),
    _binary("add", "torch.add", "keras.ops.add", "+", "keras.layers.Add"),
    _binary("sub", "torch.sub", "keras.ops.subtract", "-", "keras.layers.Subtract"),
    _binary("mul", "torch.mul", "keras.ops.multiply", "*", "keras.layers.Multiply"),
    _binary("div", "torch.div", "keras.ops.divide", "/"),
    _binary("matmul", "torch.matmul", "keras.ops.matmul", "@"),
    _binary("maximum", "torch.maximum", "keras.ops.maximum", None, "keras.layers.Maximum"),
    _binary("minimum", "torch.minimum", "keras.ops.minimum", None, "keras.layers.Minimum"),
    OpPair("bmm", ("torch.bmm",), "bmm", "keras.ops.matmul", ("input", "mat2"), ("x1", "x2"),
           (Arg("input", "x1"), Arg("mat2", "x2")), example=("torch.bmm(a, b)", "keras.ops.matmul(a, b)",
                                                              ((2, 3, 4), (2, 4, 5)))),
    OpPair("reshape", ("torch.reshape",), "reshape", "keras.ops.reshape", ("input", "shape"), ("x", "newshape"),
           (Arg("input", "x"), Arg("shape", "newshape")), strategy="shape_varargs",
           example=("torch.reshape(a, (3, 2, 2))", "keras.ops.reshape(a, (3, 2, 2))", ((3, 4),))),
    OpPair("view", (), "view", "keras.ops.reshape", ("input", "shape"), ("x", "newshape"),
           (Arg("input", "x"), Arg("shape", "newshape")), strategy="shape_varargs",
           example=("a.view(3, 2, 2)", "keras.ops.reshape(a, (3, 2, 2))", ((3, 4),))),
    OpPair("permute", ("torch.permute",), "permute", "keras.ops.transpose", ("input", "dims"), ("x", "axes"),
           (Arg("input", "x"), Arg("dims", "axes")), strategy="shape_varargs",
           example=("torch.permute(a, (0, 2, 1))", "keras.ops.transpose(a, (0, 2, 1))", ((2, 3, 4),))),
    OpPair("transpose", ("torch.transpose",), "transpose", "keras.ops.swapaxes", ("input", "dim0", "dim1"),
           ("x", "axis1", "axis2"), (Arg("input", "x"), Arg("dim0", "axis1"), Arg("dim1", "axis2")),
           example=("torch.transpose(a, 1, 2)", "keras.ops.swapaxes(a, 1, 2)", ((2, 3, 4),))),
    OpPair("squeeze", ("torch.squeeze",), "squeeze", "keras.ops.squeeze", ("input", "dim"), ("x", "axis"),
           (Arg("input", "x"), _axis()),
           example=("torch.squeeze(a, 1)", "keras.ops.squeeze(a, axis=1)", ((3, 1, 4),))),
    OpPair("unsqueeze", ("torch.unsqueeze",), "unsqueeze", "keras.ops.expand_dims", ("input", "dim"),
           ("x", "axis"), (Arg("input", "x"), _axis(REQUIRED, REQUIRED)),
           example=("torch.unsqueeze(a, 1)", "keras.ops.expand_dims(a, 1)", ((3, 4),))),
    OpPair("flatten", ("torch.flatten",), "flatten", "keras.ops.reshape", ("input", "start_dim", "end_dim"),
           ("x", "newshape"), (Arg("input", "x"), Arg("start_dim", None, 0), Arg("end_dim", None, -1)),
           strategy="flatten_op", notes=("torch.flatten(x, 1) is keras.ops.reshape(x, (keras.ops.shape(x)[0], -1))."
                                         ,),
           example=("torch.flatten(a, 1)", "keras.ops.reshape(a, (keras.ops.shape(a)[0], -1))", ((2, 3, 4),))),
    _reduce("mean", "torch.mean", "keras.ops.mean"),
    _reduce("sum", "torch.sum", "keras.ops.sum"),
    _reduce("amax", "torch.amax", "keras.ops.max"),
    _reduce("amin", "torch.amin", "keras.ops.min"),
    _reduce("prod", "torch.prod", "keras.ops.prod"),
    OpPair("softmax", ("torch.softmax", "torch.nn.functional.softmax"), "softmax", "keras.ops.softmax",
           ("input", "dim"), ("x", "axis"), (Arg("input", "x"), _axis(REQUIRED, -1)),
           example=("F.softmax(a, dim=1)", "keras.ops.softmax(a, axis=1)", ((3, 4, 2),))),
    OpPair("log_softmax", ("torch.log_softmax", "torch.nn.functional.log_softmax"), "log_softmax",
           "keras.ops.log_softmax", ("input", "dim"), ("x", "axis"), (Arg("input", "x"), _axis(REQUIRED, -1)),
           example=("F.log_softmax(a, dim=1)", "keras.ops.log_softmax(a, axis=1)", ((3, 4, 2),))),
    _unary("relu", ("torch.relu", "torch.nn.functional.relu"), "relu", "keras.ops.relu"),
    _unary("relu6", ("torch.nn.functional.relu6",), None, "keras.ops.relu6"),
    _unary("sigmoid", ("torch.sigmoid", "torch.nn.functional.sigmoid"), "sigmoid", "keras.ops.sigmoid"),
    _unary("tanh", ("torch.tanh", "torch.nn.functional.tanh"), "tanh", "keras.ops.tanh"),
    _unary("silu", ("torch.nn.functional.silu",), None, "keras.ops.silu"),
    _unary("elu", ("torch.nn.functional.elu",), None, "keras.ops.elu"),
    _unary("selu", ("torch.selu", "torch.nn.functional.selu"), None, "keras.ops.selu"),
    _unary("softplus", ("torch.nn.functional.softplus",), None, "keras.ops.softplus"),
    _unary("hardswish", ("torch.nn.functional.hardswish",), None, "keras.ops.hard_swish"),
    _unary("exp", ("torch.exp",), "exp", "keras.ops.exp"),
    _unary("log", ("torch.log",), "log", "keras.ops.log"),
    _unary("sqrt", ("torch.sqrt",), "sqrt", "keras.ops.sqrt"),
    _unary("rsqrt", ("torch.rsqrt",), "rsqrt", "keras.ops.rsqrt"),
    _unary("square", ("torch.square",), "square", "keras.ops.square"),
    _unary("abs", ("torch.abs",), "abs", "keras.ops.abs"),
    _unary("erf", ("torch.erf",), "erf", "keras.ops.erf"),
    _unary("ceil", ("torch.ceil",), "ceil", "keras.ops.ceil"),
    _unary("floor", ("torch.floor",), "floor", "keras.ops.floor"),
    _unary("sign", ("torch.sign",), "sign", "keras.ops.sign"),
    _unary("sin", ("torch.sin",), "sin", "keras.ops.sin"),
    _unary("cos", ("torch.cos",), "cos", "keras.ops.cos"),
    _unary("atan", ("torch.atan", "torch.arctan"), "atan", "keras.ops.arctan"),
    OpPair("round", ("torch.round",), "round", "keras.ops.round", ("input", "decimals"), ("x", "decimals"),
           (Arg("input", "x"), Arg("decimals", "decimals", 0, 0)),
           notes=("both round halves to even (torch.round(2.5) is 2.0, as keras.ops.round).",),
           example=("torch.round(a * 4, decimals=1)", "keras.ops.round(a * 4, decimals=1)", ((3, 4),))),
    OpPair("swapaxes", ("torch.swapaxes", "torch.swapdims"), "swapaxes", "keras.ops.swapaxes",
           ("input", "axis0", "axis1"), ("x", "axis1", "axis2"),
           (Arg("input", "x"), Arg("axis0", "axis1"), Arg("axis1", "axis2")),
           example=("torch.swapaxes(a, 0, 2)", "keras.ops.swapaxes(a, 0, 2)", ((2, 3, 4),))),
    OpPair("tile", ("torch.tile",), "repeat", "keras.ops.tile", ("input", "dims"), ("x", "repeats"),
           (Arg("input", "x"), Arg("dims", "repeats")), strategy="shape_varargs",
           notes=("Tensor.repeat(*sizes) is torch.tile / keras.ops.tile (whole copies); torch.repeat_interleave is "
                  "keras.ops.repeat (each element repeated).",),
           example=("a.repeat(2, 1, 3)", "keras.ops.tile(a, (2, 1, 3))", ((3, 4),))),
    OpPair("repeat_interleave", ("torch.repeat_interleave",), "repeat_interleave", "keras.ops.repeat",
           ("input", "repeats", "dim"), ("x", "repeats", "axis"),
           (Arg("input", "x"), Arg("repeats", "repeats"), Arg("dim", "axis", None, None)),
           notes=("without dim/axis both repeat the elements of the flattened tensor.",),
           example=("torch.repeat_interleave(a, 2, dim=1)", "keras.ops.repeat(a, 3, axis=0)", ((3, 4),))),
    OpPair("moveaxis", ("torch.movedim", "torch.moveaxis"), "movedim", "keras.ops.moveaxis",
           ("input", "source", "destination"), ("x", "source", "destination"),
           (Arg("input", "x"), Arg("source", "source"), Arg("destination", "destination")),
           example=("torch.movedim(a, 0, -1)", "keras.ops.moveaxis(a, [0, 1], [2, 0])", ((2, 3, 4),))),
    _binary("logical_and", "torch.logical_and", "keras.ops.logical_and", None),
    _binary("logical_or", "torch.logical_or", "keras.ops.logical_or", None),
    _unary("logical_not", ("torch.logical_not",), "logical_not", "keras.ops.logical_not"),
    _unary("reciprocal", ("torch.reciprocal",), "reciprocal", "keras.ops.reciprocal"),
    OpPair("meshgrid", ("torch.meshgrid",), None, "keras.ops.meshgrid", ("tensors",), ("x",), strategy="meshgrid",
           notes=("torch.meshgrid's indexing defaults to 'ij', keras.ops.meshgrid's to 'xy': the translation always "
                  "writes the source's indexing.",),
           example=("torch.meshgrid(a, b)", "keras.ops.meshgrid(a, b)", ((3,), (4,)))),
    OpPair("linspace", ("torch.linspace",), None, "keras.ops.linspace", ("start", "end", "steps"),
           ("start", "stop", "num"), (Arg("start", "start"), Arg("end", "stop"), Arg("steps", "num", REQUIRED, 50),
                                      _dtype()),
           example=("torch.linspace(-1.5, 2, 7)", "keras.ops.linspace(0, 3)", ())),
    OpPair("gelu", ("torch.nn.functional.gelu",), None, "keras.ops.gelu", ("input", "approximate"),
           ("x", "approximate"), (Arg("input", "x"), Arg("approximate", "approximate", "none", True,
                                                          "gelu_to_keras", "gelu_to_torch")),
           example=("F.gelu(a, approximate='tanh')", "keras.ops.gelu(a, approximate=True)", ((3, 4),))),
    OpPair("leaky_relu", ("torch.nn.functional.leaky_relu",), None, "keras.ops.leaky_relu",
           ("input", "negative_slope"), ("x", "negative_slope"),
           (Arg("input", "x"), Arg("negative_slope", "negative_slope", 0.01, 0.2)),
           example=("F.leaky_relu(a, 0.1)", "keras.ops.leaky_relu(a, negative_slope=0.1)", ((3, 4),))),
    OpPair("clamp", ("torch.clamp", "torch.clip"), "clamp", "keras.ops.clip", ("input", "min", "max"),
           ("x", "x_min", "x_max"), (Arg("input", "x"), Arg("min", "x_min"), Arg("max", "x_max")),
           example=("torch.clamp(a, -0.5, 0.5)", "keras.ops.clip(a, -0.5, 0.5)", ((3, 4),))),
    OpPair("pow", ("torch.pow",), "pow", "keras.ops.power", ("input", "exponent"), ("x1", "x2"),
           (Arg("input", "x1"), Arg("exponent", "x2")), torch_operator="**",
           example=("torch.pow(a, 2)", "keras.ops.power(a, 2)", ((3, 4),))),
    OpPair("einsum", ("torch.einsum",), None, "keras.ops.einsum", ("equation", "operands"),
           ("subscripts", "operands"), (Arg("equation", "subscripts"),), strategy="varargs_after_first",
           example=("torch.einsum('ij,jk->ik', a, b)", "keras.ops.einsum('ij,jk->ik', a, b)", ((3, 4), (4, 2)))),
    OpPair("where", ("torch.where",), None, "keras.ops.where", ("condition", "input", "other"), ("condition", "x1",
                                                                                               "x2"),
           (Arg("condition", "condition"), Arg("input", "x1"), Arg("other", "x2")),
           example=("torch.where(a > 0, a, b)", "keras.ops.where(a > 0, a, b)", ((3, 4), (3, 4)))),
    OpPair("dropout", ("torch.nn.functional.dropout",), None, "keras.random.dropout",
           ("input", "p", "training", "inplace"), ("inputs", "rate"), strategy="dropout_op",
           notes=("F.dropout's training defaults to True (it drops at inference unless given self.training).",),
           example=("F.dropout(a, 0.3, training=False)", "keras.random.dropout(a, 0.0)", ((3, 4),))),
    _like("zeros_like", "torch.zeros_like", "keras.ops.zeros_like"),
    _like("ones_like", "torch.ones_like", "keras.ops.ones_like"),
    # tensor creation: torch takes the sizes as separate arguments or one sequence, keras.ops one shape
    _creation("zeros", "torch.zeros", "keras.ops.zeros", example=("torch.zeros(2, 3)", "keras.ops.zeros((2, 3))")),
    _creation("ones", "torch.ones", "keras.ops.ones",
              example=("torch.ones((2, 3), dtype=torch.float64)", "keras.ops.ones((2, 3), dtype='float64')")),
    OpPair("full", ("torch.full",), None, "keras.ops.full", ("size", "fill_value"), ("shape", "fill_value", "dtype"),
           (Arg("size", "shape"), Arg("fill_value", "fill_value"), _dtype()),
           notes=("torch.full infers an integer dtype from an integer fill value; keras.ops.full is float32 unless "
                  "dtype= is given.",),
           example=("torch.full((2, 3), 1.5)", "keras.ops.full((2, 3), 1.5)", ())),
    OpPair("arange", ("torch.arange",), None, "keras.ops.arange", ("start", "end", "step"),
           ("start", "stop", "step", "dtype"),
           (Arg("start", "start"), Arg("end", "stop", None, None), Arg("step", "step", 1, 1), _dtype()),
           notes=("one positional argument is the end in both (torch.arange(5) is keras.ops.arange(5)); integer "
                  "ranges are int64 in torch, int32 in Keras.",),
           example=("torch.arange(1, 9, 2, dtype=torch.float32)", "keras.ops.arange(1, 9, 2, dtype='float32')",
                    ())),
    OpPair("eye", ("torch.eye",), None, "keras.ops.eye", ("n", "m"), ("N", "M", "k", "dtype"),
           (Arg("n", "N"), Arg("m", "M", None, None), Arg(None, "k", REQUIRED, 0), _dtype()),
           example=("torch.eye(3, 4)", "keras.ops.eye(3, 4)", ())),
    OpPair("triu", ("torch.triu",), "triu", "keras.ops.triu", ("input", "diagonal"), ("x", "k"),
           (Arg("input", "x"), Arg("diagonal", "k", 0, 0)),
           example=("torch.triu(a, 1)", "keras.ops.triu(a, k=1)", ((4, 5),))),
    OpPair("tril", ("torch.tril",), "tril", "keras.ops.tril", ("input", "diagonal"), ("x", "k"),
           (Arg("input", "x"), Arg("diagonal", "k", 0, 0)),
           example=("torch.tril(a, -1)", "keras.ops.tril(a, k=-1)", ((2, 4, 5),))),
    OpPair("gather", ("torch.gather",), "gather", "keras.ops.take_along_axis", ("input", "dim", "index"),
           ("x", "indices", "axis"), (Arg("input", "x"), Arg("dim", "axis", REQUIRED, None), Arg("index", "indices")),
           notes=("torch.gather(x, dim, index) is keras.ops.take_along_axis(x, index, axis=dim) where index has x's "
                  "shape off `dim` (torch also takes a smaller index; Keras broadcasts instead).",),
           example=("torch.gather(a, 1, b)", "keras.ops.take_along_axis(a, b, axis=1)", ((3, 4), (3, 2)))),
    OpPair("flip", ("torch.flip",), "flip", "keras.ops.flip", ("input", "dims"), ("x", "axis"),
           (Arg("input", "x"), Arg("dims", "axis", REQUIRED, None, "same", "to_tuple")),
           example=("torch.flip(a, [0, 2])", "keras.ops.flip(a, axis=1)", ((2, 3, 4),))),
    OpPair("roll", ("torch.roll",), "roll", "keras.ops.roll", ("input", "shifts", "dims"), ("x", "shift", "axis"),
           (Arg("input", "x"), Arg("shifts", "shift"), Arg("dims", "axis", None, None)),
           notes=("without dims/axis both roll the flattened tensor.",),
           example=("torch.roll(a, 2, 1)", "keras.ops.roll(a, -1, axis=0)", ((3, 4),))),
    OpPair("topk", ("torch.topk",), "topk", "keras.ops.top_k", ("input", "k", "dim", "largest", "sorted"),
           ("x", "k", "sorted"),
           (Arg("input", "x"), Arg("k", "k"), Arg("dim", None, -1), Arg("largest", None, True),
            Arg("sorted", "sorted", True, True)),
           notes=("both return (values, indices) over the last axis; keras.ops.top_k has no dim or largest=False.",),
           example=("torch.topk(a, 2)", "keras.ops.top_k(a, 2)", ((3, 5),))),
    OpPair("cumsum", ("torch.cumsum",), "cumsum", "keras.ops.cumsum", ("input", "dim"), ("x", "axis", "dtype"),
           (Arg("input", "x"), Arg("dim", "axis", REQUIRED, None), _dtype()), strategy="cumulative",
           notes=("keras.ops.cumsum's axis defaults to None (the flattened tensor); torch.cumsum needs dim.",),
           example=("torch.cumsum(a, dim=1)", "keras.ops.cumsum(a)", ((3, 4),))),
    OpPair("cumprod", ("torch.cumprod",), "cumprod", "keras.ops.cumprod", ("input", "dim"), ("x", "axis", "dtype"),
           (Arg("input", "x"), Arg("dim", "axis", REQUIRED, None), _dtype()), strategy="cumulative",
           example=("torch.cumprod(a, dim=-1)", "keras.ops.cumprod(a, axis=0)", ((3, 4),))),
    OpPair("unbind", ("torch.unbind",), "unbind", "keras.ops.unstack", ("input", "dim"), ("x", "num", "axis"),
           (Arg("input", "x"), Arg("dim", "axis", 0, 0), Arg(None, "num", REQUIRED, None)),
           notes=("q, k, v = qkv.unbind(0) is keras.ops.unstack(qkv, axis=0) (a list in Keras, a tuple in torch).",),
           example=("torch.unbind(a, 1)", "keras.ops.unstack(a, axis=1)", ((2, 3, 4),))),
    # the semantic traps: same names, other meanings
    _moment("std", "torch.std", "keras.ops.std"),
    _moment("var", "torch.var", "keras.ops.var"),
    OpPair("split", ("torch.split",), "split", "keras.ops.split", ("tensor", "split_size_or_sections", "dim"),
           ("x", "indices_or_sections", "axis"),
           (Arg("tensor", "x"), Arg("split_size_or_sections", "indices_or_sections"), Arg("dim", "axis", 0, 0)),
           strategy="split",
           notes=("torch.split(x, k) cuts pieces *of size* k (the last may be smaller) and takes a list of piece "
                  "sizes; keras.ops.split(x, n) cuts n equal *sections* and takes a list of cut indices. Keras -> "
                  "torch is torch.tensor_split (sections or indices, as Keras).",),
           example=("torch.split(a, 2, dim=1)", "keras.ops.split(a, [1, 3], axis=1)", ((3, 5),))),
    OpPair("scaled_dot_product_attention", ("torch.nn.functional.scaled_dot_product_attention",), None,
           "keras.ops.dot_product_attention",
           ("query", "key", "value", "attn_mask", "dropout_p", "is_causal", "scale", "enable_gqa"),
           ("query", "key", "value", "bias", "mask", "scale", "is_causal", "flash_attention", "attn_logits_soft_cap"),
           (Arg("query", "query"), Arg("key", "key"), Arg("value", "value"), Arg("attn_mask", "mask", None, None),
            Arg("is_causal", "is_causal", False, False), Arg("scale", "scale", None, None),
            Arg("dropout_p", None, 0.0)),
           strategy="attention_op",
           notes=("torch takes (batch, heads, length, head_dim), Keras (batch, length, heads, head_dim): the "
                  "translation swaps axes 1 and 2 around the call. A boolean mask means *may attend* in both; "
                  "torch adds a float attn_mask to the logits, which is Keras's bias=.",),
           example=("F.scaled_dot_product_attention(a, b, b, is_causal=True)",
                    "keras.ops.dot_product_attention(a, b, b, scale=0.5)", ((2, 3, 5, 4), (2, 3, 5, 4)))),
)


# torch -> Keras only. The reverse direction cannot use these: keras.ops.maximum/max already stand for
# torch.maximum/amax, keras.ops.where for torch.where, keras.ops.split for torch.split, and Keras has no chunk. They are
# kept out of OPS (and so out of the reverse lookups); the catalog document lists them on their own;
# tests/test_translation_layers.py runs every example numerically, as it does OPS.
ONE_WAY_OPS: tuple[OpPair, ...] = (
    OpPair("rms_norm", ("torch.nn.functional.rms_norm",), None, "keras.ops.rms_normalization",
           ("input", "normalized_shape", "weight", "eps"), ("x", "scale", "axis", "epsilon"), strategy="rms_norm",
           notes=("F.rms_norm over the trailing len(normalized_shape) axes; its eps=None is the machine epsilon of "
                  "the input's dtype, which the translation passes (Keras's None would be 1e-7).",),
           example=("F.rms_norm(a, (3, 4), a[0] * 2)",
                    "keras.ops.rms_normalization(a, scale=a[0] * 2, axis=(-2, -1), epsilon=1.1920928955078125e-07)",
                    ((2, 3, 4),))),
    # uninitialised in both (an empty example: there are no values to compare)
    _creation("empty", "torch.empty", "keras.ops.empty", example=("torch.empty(0, 3)", "keras.ops.empty((0, 3))")),
    OpPair("layer_norm", ("torch.nn.functional.layer_norm",), None, "keras.ops.layer_normalization",
           ("input", "normalized_shape", "weight", "bias", "eps"), ("x", "gamma", "beta", "axis", "epsilon"),
           strategy="layer_norm",
           notes=("F.layer_norm normalises over the trailing len(normalized_shape) axes: keras.ops.layer_normalization"
                  " over those axes, with torch's eps (1e-5 by default).",),
           example=("F.layer_norm(a, (3, 4), a[0] * 2, None, eps=1e-6)",
                    "keras.ops.layer_normalization(a, gamma=a[0] * 2, beta=None, axis=(-2, -1), epsilon=1e-6)",
                    ((2, 3, 4),))),
    OpPair("pad", ("torch.nn.functional.pad",), None, "keras.ops.pad", ("input", "pad", "mode", "value"),
           ("x", "pad_width", "mode", "constant_values"), strategy="pad",
           notes=("F.pad's pairs run from the last axis backwards; keras.ops.pad takes one (before, after) pair per "
                  "axis. Modes: constant and reflect (replicate and circular are not translated: TensorFlow's pad has "
                  "neither); a negative pad (cropping) is an error in keras.ops.pad.",),
           example=("F.pad(a, (1, 2, 0, 1), value=-1.0)",
                    "keras.ops.pad(a, ((0, 0),) * (len(a.shape) - 2) + ((0, 1), (1, 2)), constant_values=-1.0)",
                    ((2, 3, 4),))),
    _new_tensor("new_zeros", "keras.ops.zeros", ("size",), ("a.new_zeros(2, 3)", "keras.ops.zeros((2, 3), dtype=a.dtype)")),
    _new_tensor("new_ones", "keras.ops.ones", ("size",), ("a.new_ones((2, 3))", "keras.ops.ones((2, 3), dtype=a.dtype)")),
    _new_tensor("new_full", "keras.ops.full", ("size", "fill_value"),
                ("a.new_full((2, 3), -1.5)", "keras.ops.full((2, 3), -1.5, dtype=a.dtype)")),
    OpPair("stochastic_depth", ("torchvision.ops.stochastic_depth", "timm.layers.drop_path",
                                "timm.models.layers.drop_path"), None, "keras.ops.identity",
           ("input", "p", "mode", "training"), ("x",), (Arg("input", "x"),), strategy="stochastic_depth_op",
           notes=(STOCHASTIC_DEPTH_NOTE + "; torchvision's stochastic_depth() defaults to training=True",),
           example=("torchvision.ops.stochastic_depth(a, 0.2, 'row', training=False)", "a", ((3, 4),))),
    OpPair("masked_fill", ("torch.masked_fill",), "masked_fill", "keras.ops.where", ("input", "mask", "value"),
           ("condition", "x1", "x2"), (Arg("input", "x2"), Arg("mask", "condition"), Arg("value", "x1")),
           strategy="masked_fill", notes=("x.masked_fill(mask, v) is keras.ops.where(mask, v, x).",),
           example=("a.masked_fill(a > 0, -1.0)", "keras.ops.where(a > 0, -1.0, a)", ((3, 4),))),
    OpPair("chunk", ("torch.chunk",), "chunk", "keras.ops.split", ("input", "chunks", "dim"),
           ("x", "indices_or_sections", "axis"), (Arg("input", "x"), Arg("chunks", None), Arg("dim", "axis", 0, 0)),
           strategy="chunk",
           notes=("torch.chunk(x, n) cuts pieces of ceil(size / n) (the last smaller, maybe fewer than n); "
                  "keras.ops.split(x, n) needs n equal sections: the translation passes the cut indices.",),
           example=("torch.chunk(a, 3, dim=1)", "keras.ops.split(a, [3, 6], axis=1)", ((3, 7),))),
    OpPair("expand", (), "expand", "keras.ops.broadcast_to", ("input", "size"), ("x", "shape"),
           (Arg("input", "x"), Arg("size", "shape")), strategy="expand",
           notes=("x.expand(..., -1, ...): torch's -1 keeps that axis's size; the translation reads it from x's "
                  "shape (counted from the end: new axes come first).",),
           example=("a[:, None].expand(2, -1, 5, -1)",
                    "keras.ops.broadcast_to(a[:, None], (2, 3, 5, 4))", ((3, 4),))),
    OpPair("expand_as", (), "expand_as", "keras.ops.broadcast_to", ("input", "other"), ("x", "shape"),
           (Arg("input", "x"), Arg("other", "shape")), strategy="expand_as",
           example=("a[:1].expand_as(a)", "keras.ops.broadcast_to(a[:1], keras.ops.shape(a))", ((3, 4),))),
    OpPair("numel", ("torch.numel",), "numel", "keras.ops.shape", ("input",), ("x",), strategy="numel",
           notes=("x.numel() is a Python int: math.prod(keras.ops.shape(x)).",),
           example=("a.numel()", "math.prod(keras.ops.shape(a))", ((3, 4),))),
    OpPair("tensor", ("torch.tensor", "torch.as_tensor"), None, "keras.ops.convert_to_tensor", ("data", "dtype"),
           ("x", "dtype"), (Arg("data", "x"), _dtype()),
           notes=("a tensor of Python ints is int64 in torch, int32 in Keras (floats are float32 in both); dtype= "
                  "is carried over.",),
           example=("torch.tensor([[1.5, -2.0], [0.25, 3.0]], device=a.device)",
                    "keras.ops.convert_to_tensor([[1.5, -2.0], [0.25, 3.0]])", ((3, 4),))),
    OpPair("linear", ("torch.nn.functional.linear",), None, "keras.ops.matmul", ("input", "weight", "bias"),
           ("x1", "x2"), strategy="linear",
           notes=("F.linear(x, weight, bias) is x @ weight.T + bias (torch's weight is (out, in)).",),
           example=("F.linear(a, a[:2] * 2, a[0, :2])",
                    "keras.ops.matmul(a, keras.ops.transpose(a[:2] * 2)) + a[0, :2]", ((3, 4),))),
    OpPair("group_norm", ("torch.nn.functional.group_norm",), None, "keras.ops.var",
           ("input", "num_groups", "weight", "bias", "eps"), ("x",), strategy="group_norm",
           notes=("keras.ops has no group normalisation: the translation reshapes (N, C, ...) into (N, groups, -1), "
                  "normalises by each group's population mean and variance (as torch does) with torch's eps "
                  "(1e-5 by default), and applies weight and bias per channel (axis 1).",),
           example=("F.group_norm(a, 2, a[0, :, 0, 0] * 2, a[1, :, 0, 0], eps=1e-3)",
                    "keras.ops.reshape(...)", ((2, 4, 3, 5),))),
    OpPair("prelu", ("torch.nn.functional.prelu",), None, "keras.ops.where", ("input", "weight"), ("x",),
           strategy="prelu", notes=("F.prelu(x, w) is keras.ops.where(x >= 0, x, x * w) with w along axis 1.",),
           example=("F.prelu(a, a[0, :, 0, 0])", "keras.ops.where(a >= 0, a, a * w)", ((2, 4, 3, 5),))),
    OpPair("clamp_min", ("torch.clamp_min",), "clamp_min", "keras.ops.maximum", ("input", "min"), ("x1", "x2"),
           (Arg("input", "x1"), Arg("min", "x2")),
           example=("torch.clamp_min(a, 0.1)", "keras.ops.maximum(a, 0.1)", ((3, 4),))),
    OpPair("clamp_max", ("torch.clamp_max",), "clamp_max", "keras.ops.minimum", ("input", "max"), ("x1", "x2"),
           (Arg("input", "x1"), Arg("max", "x2")),
           example=("torch.clamp_max(a, -0.1)", "keras.ops.minimum(a, -0.1)", ((3, 4),))),
    # the functional convolution
    *(OpPair(f"conv{n}d", (f"torch.nn.functional.conv{n}d",), None, "keras.ops.conv",
             ("input", "weight", "bias", "stride", "padding", "dilation", "groups"),
             ("inputs", "kernel", "strides", "padding", "data_format", "dilation_rate"), strategy="conv_op",
             notes=(f"F.conv{n}d on channels-first input with an (out, in / groups, *kernel) weight: keras.ops.conv "
                    "with data_format='channels_first' and the kernel moved to (*kernel, in / groups, out); the "
                    "groups are the input's channels over the kernel's, in both.",),
             example=(f"F.conv{n}d(a, a[:6, :2{', :3' * n}], a[{'0, ' * (n + 1)}:6], stride=2, padding=1, groups=2)",
                      f"keras.ops.conv(keras.ops.pad(a, ...), keras.ops.transpose(a[:6, :2{', :3' * n}], "
                      f"{_KERNEL_TO_KERAS[n]}), ...)", ((6, 4, *(7,) * n),)))
      for n in (1, 2, 3)),
    OpPair("divide", ("torch.divide", "torch.true_divide"), None, "keras.ops.divide", ("input", "other"),
           ("x1", "x2"), (Arg("input", "x1"), Arg("other", "x2")),
           notes=("torch.divide(x, y, rounding_mode=...) (floor or trunc division) is not translated.",),
           example=("torch.divide(a, 3)", "keras.ops.divide(a, 3)", ((3, 4),))),
    # the whole-tensor reductions only: with dim, torch.max/min return (values, indices); with a tensor they are
    # torch.maximum/minimum (the op translator gives those forms a TODO)
    OpPair("max_all", ("torch.max",), "max", "keras.ops.max", ("input",), ("x",), (Arg("input", "x"),),
           example=("torch.max(a)", "keras.ops.max(a)", ((3, 4),))),
    OpPair("min_all", ("torch.min",), "min", "keras.ops.min", ("input",), ("x",), (Arg("input", "x"),),
           example=("torch.min(a)", "keras.ops.min(a)", ((3, 4),))),
)

# -- lookups -------------------------------------------------------------------------------------------------------
# names from PyTorch libraries other than torch that the catalog maps (timm's DropPath / drop_path)
TORCH_LIBRARY_NAMES = frozenset(name for name in (*(entry.torch for entry in LAYERS),
                                                  *(name for op in (*OPS, *ONE_WAY_OPS) for name in op.torch))
                                if name.startswith("timm."))
_BY_TORCH: dict[str, list[LayerPair]] = {}
_BY_KERAS: dict[str, list[LayerPair]] = {}
for _entry in LAYERS:
    if not _entry.keras_only and not _entry.torch.startswith("helper:"):
        _BY_TORCH.setdefault(_entry.torch, []).append(_entry)
    if not _entry.torch_only:
        _BY_KERAS.setdefault(_entry.keras, []).append(_entry)

OPS_BY_TORCH: dict[str, OpPair] = {name: op for op in OPS for name in op.torch}
OPS_BY_METHOD: dict[str, OpPair] = {op.torch_method: op for op in OPS if op.torch_method}
ONE_WAY_BY_TORCH: dict[str, OpPair] = {name: op for op in ONE_WAY_OPS for name in op.torch}
ONE_WAY_BY_METHOD: dict[str, OpPair] = {op.torch_method: op for op in ONE_WAY_OPS if op.torch_method}
OPS_BY_KERAS: dict[str, OpPair] = {}
for _op in OPS:
    OPS_BY_KERAS.setdefault(_op.keras, _op)
    if _op.keras_layer:
        OPS_BY_KERAS.setdefault(_op.keras_layer, _op)
OPS_BY_KERAS["keras.layers.Concatenate"] = OPS[0]


def torch_entries(name: str) -> list[LayerPair]:
    return _BY_TORCH.get(name, [])


def keras_entries(name: str) -> list[LayerPair]:
    return _BY_KERAS.get(name, [])


def entry(key: str) -> LayerPair:
    for candidate in LAYERS:
        if candidate.key == key:
            return candidate
    raise KeyError(key)


def counts() -> tuple[int, int]:
    """(layer pairs, functional ops) in the catalog."""
    return len(LAYERS), len(OPS)


# -- hover cards and docs ------------------------------------------------------------------------------------------
def _short(name: str) -> str:
    return name.replace("torch.nn.functional.", "F.").replace("torch.nn.", "nn.").replace("keras.layers.", "layers.")


def card_for(canonical_name: str) -> str | None:
    """Markdown for a hover on a layer or op (canonical torch or keras name), or None when it is not catalogued."""
    if canonical_name == "keras.layers.Activation":
        names = ", ".join(f"`{p.keras_activation}` \u2192 `{_short(p.torch)}`" for p in LAYERS if p.keras_activation)
        return f"**layers.Activation** \u2194 one torch module per activation name\n\n{names}"
    pairs = _BY_TORCH.get(canonical_name) or _BY_KERAS.get(canonical_name)
    if pairs:
        pair = pairs[0]
        from_torch = canonical_name.startswith("torch")

        def counterpart(entry: LayerPair) -> str:
            if entry.keras_activation and from_torch:
                return f"layers.Activation({entry.keras_activation!r})"
            name = entry.keras if from_torch else entry.torch
            return f"{name.split(':', 1)[1]} (generated helper)" if name.startswith("helper:") else _short(name)

        others = " / ".join(dict.fromkeys(counterpart(entry) for entry in pairs))
        lines = [f"**{_short(canonical_name)}** \u2194 **{others}**", ""]
        mapped = [f"`{a.torch}` \u2192 `{a.keras}`" + (f" ({a.to_keras})" if a.to_keras != "same" else "")
                  for a in pair.args if a.torch and a.keras]
        if mapped:
            lines.append("Arguments: " + ", ".join(mapped))
        weights = [f"`{w.target}` = `{w.expr}`" for w in pair.to_keras_weights]
        if weights:
            lines.append("Weights (torch \u2192 Keras): " + ", ".join(weights))
        differences = [d for layer in (pair.torch, pair.keras) for d in differences_for(layer)]
        seen = set()
        for d in differences:
            if d.concept in seen:
                continue
            seen.add(d.concept)
            lines.append(f"- Default differs: {d.concept}: torch `{d.torch_arg}={d.torch_default}` vs Keras "
                         f"`{d.keras_arg}={d.keras_default}` ({d.consequence})")
        lines += [f"- {note}" for note in pair.notes]
        return "\n".join(lines)
    op = OPS_BY_TORCH.get(canonical_name) or OPS_BY_KERAS.get(canonical_name)
    if op is None:
        return None
    lines = [f"**{_short(op.torch[0]) if op.torch else 'Tensor.' + str(op.torch_method)}** \u2194 **{op.keras}**"]
    mapped = [f"`{a.torch}` \u2192 `{a.keras}`" for a in op.args if a.torch and a.keras and a.torch != a.keras]
    if mapped:
        lines += ["", "Arguments: " + ", ".join(mapped)]
    lines += [f"- {note}" for note in op.notes]
    return "\n".join(lines)


def markdown_table() -> str:
    """The catalog as Markdown tables (layers, then ops)."""
    def cell(text: str) -> str:
        return text.replace("|", "\\|")

    rows = ["| PyTorch | Keras 3 | arguments (torch \u2192 Keras) | weights (torch \u2192 Keras) | notes |",
            "|---|---|---|---|---|"]
    for pair in LAYERS:
        keras = f"Activation({pair.keras_activation!r})" if pair.keras_activation else _short(pair.keras)
        if pair.keras.startswith("helper:"):
            keras = f"{pair.keras.split(':', 1)[1]} (generated helper)"
        torch = _short(pair.torch) if pair.torch.startswith("torch.nn.") else \
            f"{pair.torch.split(':', 1)[-1]} (generated helper)"
        arguments = ", ".join(f"{a.torch}\u2192{a.keras}" + (f" ({a.to_keras})" if a.to_keras != "same" else "")
                              for a in pair.args if a.torch and a.keras and a.torch != a.keras)
        weights = ", ".join(f"{w.target} = {w.expr}" for w in pair.to_keras_weights)
        notes = [f"default {d.torch_arg}={d.torch_default} vs {d.keras_arg}={d.keras_default}"
                 for d in differences_for(pair.torch) if d.keras_layer == pair.keras]
        notes += list(pair.notes[:1])
        rows.append(f"| {torch} | {keras} | {cell(arguments)} | {cell(weights)} | {cell('; '.join(notes))} |")
    rows += ["", "| PyTorch | Keras 3 | arguments | notes |", "|---|---|---|---|"]
    for op in OPS:
        torch = ", ".join(_short(n) for n in op.torch) + (f", Tensor.{op.torch_method}" if op.torch_method else "")
        keras = op.keras + (f", {_short(op.keras_layer)}" if op.keras_layer else "")
        arguments = ", ".join(f"{a.torch}\u2192{a.keras}" for a in op.args if a.torch and a.keras and
                              a.torch != a.keras)
        rows.append(f"| {torch.lstrip(', ')} | {keras} | {arguments} | {cell(op.notes[0]) if op.notes else ''} |")
    rows += ["", "PyTorch \u2192 Keras only (the reverse lookup would be wrong: see `ONE_WAY_OPS`):", "",
             "| PyTorch | Keras 3 | arguments |", "|---|---|---|"]
    for op in ONE_WAY_OPS:
        torch = (", ".join(_short(n) for n in op.torch) + (f", Tensor.{op.torch_method}" if op.torch_method else "")
                 ).lstrip(", ")
        arguments = ", ".join(f"{a.torch}\u2192{a.keras}" for a in op.args if a.torch and a.keras and a.torch != a.keras)
        rows.append(f"| {torch} | {op.keras} | {arguments} |")
    return "\n".join(rows)


def catalog_document() -> str:
    """docs/translation-catalog.md: the whole catalog as Markdown (a test keeps the file in step)."""
    pairs, ops = counts()
    return (f"# Translation catalog (PyTorch <-> Keras 3)\n\n"
            f"Generated from `migrations/catalog.py`: {pairs} layer pairs and {ops} functional ops, each exercised "
            f"in both directions by\n`tests/test_translation_layers.py`, which also checks that this file matches "
            f"the catalog. Regenerate with\n`python -c \"from tensorlint.migrations.catalog import "
            f"catalog_document as d; print(d(), end='')\" > docs/translation-catalog.md`.\n\n"
            f"{markdown_table()}\n")


__all__ = ["catalog_document", "Arg", "CONVERTERS", "Example", "LAYERS", "LayerPair", "OPS", "OpPair", "REQUIRED", "WeightMap",
           "card_for", "counts", "entry", "keras_entries", "literal", "markdown_table", "torch_entries"]
