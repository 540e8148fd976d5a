"""Static tensor shapes: what each layer of a model receives and gives, read from the source alone.

One engine for the SH rules, hover and the translator. Shapes flow through ``nn.Sequential(...)`` literals,
``nn.Module`` attributes composed in ``forward``, Keras ``Sequential`` models (list literals and ``.add``), Keras
functional graphs from ``keras.Input(shape=...)`` and ``keras.Model`` subclasses' ``call``. Input sizes come from an
example call in the same file (``model(torch.randn(4, 1, 28, 28))``, ``summary(model, (1, 28, 28))``), a Keras
``Input`` / ``input_shape=``, else the first layer's own expectation with symbolic sizes (``H``, ``W``), so that only
channel and feature checks can speak.

Precision first: anything this module cannot read (a variable argument, ``*args``, a loop that builds layers, a
helper call, control flow) makes the value *unknown*, and an unknown value is never checked. Pure: libcst nodes
in, frozen data out; no framework import.
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass, field, replace
from typing import Callable, Iterable, Union

import libcst as cst

from .findings import Position, Range
from .frameworks import ImportTable
from .parsing import parse_module
from .positions import node_ranges

Dim = Union[int, str, None]  # a known size, a symbolic one ("H", "H-2"), or unknown


@dataclass(frozen=True)
class Shape:
    """A tensor's shape. ``open`` means more (unknown) leading dimensions may come before ``dims``, as for a
    PyTorch layer that takes batched and unbatched input. ``explain`` says how a dimension was computed
    (``"8*13*13"`` after a flatten) and ``origin`` which layer produced the arrangement, for messages."""

    dims: tuple[Dim, ...]
    open: bool = False
    explain: tuple[str | None, ...] = ()
    origin: "str | Origin | None" = None
    # an input nobody has described: the first layer that consumes it states what it expects (symbolic sizes)
    seedable: bool = False

    @property
    def rank(self) -> int | None:
        return None if self.open else len(self.dims)

    def at(self, index: int) -> Dim:
        """The dimension at ``index`` (negative: from the end) when it is known to exist, else None."""
        if index < 0:
            return self.dims[index] if -index <= len(self.dims) else None
        return self.dims[index] if not self.open and index < len(self.dims) else None

    def explained(self, index: int) -> str | None:
        if not self.explain:
            return None
        try:
            return self.explain[index]
        except IndexError:
            return None

    def render(self) -> str:
        dims = [_render_dim(d) for d in self.dims]
        if self.open:
            dims.insert(0, "*")
        return "(" + ", ".join(dims) + ("," if len(dims) == 1 and not self.open else "") + ")"


UNKNOWN = Shape((), open=True)


def _render_dim(dim: Dim) -> str:
    return "?" if dim is None else str(dim)


@dataclass(frozen=True)
class TupleValue:
    items: tuple


@dataclass(frozen=True)
class Problem:
    """A mismatch the shape flow proved. ``kind`` is one of :data:`KINDS`; ``fix_node``/``fix_text`` replace the
    one number that can be right."""

    kind: str
    node: cst.CSTNode
    message: str
    fix_node: cst.CSTNode | None = None
    fix_text: str | None = None


KINDS = ("linear-features", "conv-channels", "groups", "norm-size", "rnn-input", "merge", "reshape", "rank",
         "empty-output", "pool-padding")


@dataclass(frozen=True)
class Applied:
    """One application of a layer: where, which layer, and what went in and came out."""

    node: cst.CSTNode
    layer: "Layer"
    input: Shape
    output: object


# -- literals -------------------------------------------------------------------------------------------------------
class _Dynamic:
    def __repr__(self) -> str:
        return "DYNAMIC"


DYNAMIC = _Dynamic()  # an argument whose value the source does not state


def literal(node: cst.BaseExpression | None):
    """The value of an int/float/str/bool/None literal or a tuple/list of them; DYNAMIC otherwise."""
    if node is None:
        return None
    if isinstance(node, cst.Integer):
        return int(node.evaluated_value)
    if isinstance(node, cst.Float):
        return float(node.evaluated_value)
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Minus):
        inner = literal(node.expression)
        return -inner if isinstance(inner, (int, float)) and not isinstance(inner, bool) else DYNAMIC
    if isinstance(node, cst.SimpleString):
        value = node.evaluated_value
        return value if isinstance(value, str) else DYNAMIC
    if isinstance(node, cst.Name) and node.value in ("True", "False", "None"):
        return {"True": True, "False": False, "None": None}[node.value]
    if isinstance(node, cst.BinaryOperation):
        # sizes written as arithmetic: `nn.Linear(64 * 4 * 4, 256)`
        operation = _INT_OPERATIONS.get(type(node.operator))
        left, right = literal(node.left), literal(node.right)
        if operation is None or not (_is_int(left) and _is_int(right)) or (right == 0 and operation is _floordiv):
            return DYNAMIC
        return operation(left, right)
    if isinstance(node, (cst.Tuple, cst.List)):
        values = []
        for element in node.elements:
            if isinstance(element, cst.StarredElement):
                return DYNAMIC
            value = literal(element.value)
            if value is DYNAMIC:
                return DYNAMIC
            values.append(value)
        return tuple(values)
    return DYNAMIC


def _floordiv(left: int, right: int) -> int:
    return left // right


_INT_OPERATIONS = {cst.Add: lambda a, b: a + b, cst.Subtract: lambda a, b: a - b, cst.Multiply: lambda a, b: a * b,
                   cst.FloorDivide: _floordiv}


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _ints(value, count: int) -> tuple | None:
    """``3`` or ``(3, 3)`` as ``count`` ints; None when it is anything else."""
    if _is_int(value):
        return (value,) * count
    if isinstance(value, tuple) and len(value) == count and all(_is_int(v) for v in value):
        return value
    return None


@dataclass(frozen=True)
class Arguments:
    """A layer call's arguments bound to its parameter names (nodes), or ``dynamic`` with ``*args``/``**kwargs``."""

    nodes: dict
    dynamic: bool = False
    extra: bool = False  # more positional arguments than the signature lists

    def node(self, name: str) -> cst.BaseExpression | None:
        return self.nodes.get(name)

    def value(self, name: str, default=None):
        node = self.nodes.get(name)
        return default if node is None else literal(node)

    def given(self, name: str) -> bool:
        return name in self.nodes


def bind(call: cst.Call, params: tuple[str, ...]) -> Arguments:
    nodes: dict = {}
    position = 0
    extra = False
    for arg in call.args:
        if arg.star:
            return Arguments({}, dynamic=True)
        if arg.keyword is not None:
            nodes[arg.keyword.value] = arg.value
        elif position < len(params):
            nodes[params[position]] = arg.value
            position += 1
        else:
            extra = True
    return Arguments(nodes, extra=extra)


# -- symbolic arithmetic --------------------------------------------------------------------------------------------
_TRAILING_CONSTANT = re.compile(r"^(?P<head>.*?)(?P<sign>[+-])(?P<value>\d+)$")


def _add(dim: Dim, delta: int) -> Dim:
    if dim is None:
        return None
    if isinstance(dim, int):
        return dim + delta
    if delta == 0:
        return dim
    match = _TRAILING_CONSTANT.match(dim)
    # a constant at the very end is a top-level term ("(H-2)//2+1"): `*` and `/` bind tighter than `+`
    if match and match.group("head") and match.group("head")[-1] not in "+-*/(":
        delta += int(match.group("value")) * (1 if match.group("sign") == "+" else -1)
        dim = match.group("head")
        if delta == 0:
            return dim
    return f"{dim}{delta:+d}"


def _wrap(dim: str) -> str:
    return dim if re.fullmatch(r"\w+", dim) else f"({dim})"


def _floor_div_plus_one(numerator: Dim, stride: int, ceil: bool = False) -> Dim:
    """``floor(numerator / stride) + 1`` (or ceil)."""
    if numerator is None:
        return None
    if isinstance(numerator, int):
        return (-(-numerator // stride) if ceil else numerator // stride) + 1
    if stride == 1:
        return _add(numerator, 1)
    return f"{_wrap(numerator)}//{stride}+1" if not ceil else f"ceil({numerator}/{stride})+1"


def _scale(dim: Dim, factor: int) -> Dim:
    if dim is None:
        return None
    if isinstance(dim, int):
        return dim * factor
    return dim if factor == 1 else f"{_wrap(dim)}*{factor}"


def _product(dims: Iterable[Dim]) -> tuple[Dim, str | None]:
    """The product of ``dims`` and how it was formed (``"8*13*13"``); None when any factor is unknown."""
    dims = list(dims)
    if any(d is None for d in dims):
        return None, None
    text = "*".join(_wrap(str(d)) if isinstance(d, str) else str(d) for d in dims)
    if all(isinstance(d, int) for d in dims):
        return math.prod(dims), (text if len(dims) > 1 else None)
    return text, None


# -- layers ---------------------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class Layer:
    """A layer construction read from the source: canonical name, its call, and the bound arguments."""

    name: str
    call: cst.Call
    args: Arguments
    module: cst.Module
    inner: "Layer | None" = None  # the wrapped layer of Bidirectional / TimeDistributed
    label: str | None = None  # the name shown instead of the class's (``max_pool2d`` for the function)

    @property
    def short(self) -> str:
        return self.name.rsplit(".", 1)[-1]

    @functools.cached_property
    def text(self) -> str:
        """The call as written, e.g. ``MaxPool2d(2)``, for messages (a codegen: only when one is shown)."""
        return _text_of(self.module, self.call, self.label or self.short)


@dataclass(frozen=True, eq=False)
class Origin:
    """Which layer produced a shape (and from what map), rendered only when a message shows it."""

    layer: Layer
    spatial: tuple = ()

    def __str__(self) -> str:
        if self.spatial and all(_is_int(size) for size in self.spatial):
            return f"`{self.layer.text}` on a {_map(self.spatial)} map"
        return f"`{self.layer.text}`"


@dataclass(frozen=True)
class Stack:
    """A container applied in order: ``nn.Sequential(...)`` or ``keras.Sequential([...])``; None entries are
    layers that could not be read (they make the shape unknown)."""

    node: cst.CSTNode
    items: tuple
    framework: str  # "torch" | "keras"
    input: Shape | None = None  # a Keras Input / input_shape= at its start


def _text_of(module: cst.Module, call: cst.Call, short: str) -> str:
    code = module.code_for_node(call)
    func = module.code_for_node(call.func)
    text = " ".join((short + code[len(func):]).split())
    text = text.replace("( ", "(").replace(" )", ")")
    return text if len(text) <= 48 else text[:45] + "...)"


_CONV = {f"torch.nn.Conv{n}d": n for n in (1, 2, 3)}
_CONV_T = {f"torch.nn.ConvTranspose{n}d": n for n in (1, 2, 3)}
_MAXPOOL = {f"torch.nn.MaxPool{n}d": n for n in (1, 2, 3)}
_AVGPOOL = {f"torch.nn.AvgPool{n}d": n for n in (1, 2, 3)}
_ADAPTIVE = {f"torch.nn.Adaptive{k}Pool{n}d": n for n in (1, 2, 3) for k in ("Avg", "Max")}
_BATCHNORM = {f"torch.nn.BatchNorm{n}d": n for n in (1, 2, 3)}
_INSTANCENORM = {f"torch.nn.InstanceNorm{n}d": n for n in (1, 2, 3)}
_PADS = {f"torch.nn.{kind}Pad{n}d": n for n in (1, 2, 3)
         for kind in ("Zero", "Constant", "Reflection", "Replication", "Circular")}
_RNN = {"torch.nn.LSTM", "torch.nn.GRU", "torch.nn.RNN"}
_UPSAMPLE = {"torch.nn.Upsample", "torch.nn.UpsamplingNearest2d", "torch.nn.UpsamplingBilinear2d"}
_TORCH_SAME_SHAPE = {f"torch.nn.{n}" for n in (
    "ReLU", "ReLU6", "LeakyReLU", "PReLU", "ELU", "SELU", "CELU", "GELU", "SiLU", "Mish", "Sigmoid", "Tanh",
    "Hardtanh", "Hardswish", "Hardsigmoid", "Softplus", "Softsign", "Tanhshrink", "Threshold", "LogSigmoid",
    "Softmax", "LogSoftmax", "Softmin", "Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout",
    "FeatureAlphaDropout", "Identity", "LocalResponseNorm")} | {f"torch.nn.InstanceNorm{n}d" for n in (1, 2, 3)}

_CONV_PARAMS = ("in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation", "groups", "bias",
                "padding_mode")
_CONV_T_PARAMS = ("in_channels", "out_channels", "kernel_size", "stride", "padding", "output_padding", "groups",
                  "bias", "dilation", "padding_mode")
_TORCH_PARAMS: dict[str, tuple[str, ...]] = {
    "torch.nn.Linear": ("in_features", "out_features", "bias"),
    **{name: _CONV_PARAMS for name in _CONV},
    **{name: _CONV_T_PARAMS for name in _CONV_T},
    **{name: ("kernel_size", "stride", "padding", "dilation", "return_indices", "ceil_mode") for name in _MAXPOOL},
    **{name: ("kernel_size", "stride", "padding", "ceil_mode", "count_include_pad", "divisor_override")
       for name in _AVGPOOL},
    **{name: ("output_size", "return_indices") for name in _ADAPTIVE},
    **{name: ("num_features", "eps", "momentum", "affine", "track_running_stats") for name in _BATCHNORM},
    "torch.nn.GroupNorm": ("num_groups", "num_channels", "eps", "affine"),
    "torch.nn.LayerNorm": ("normalized_shape", "eps", "elementwise_affine", "bias"),
    "torch.nn.Flatten": ("start_dim", "end_dim"),
    "torch.nn.Unflatten": ("dim", "unflattened_size"),
    "torch.nn.Embedding": ("num_embeddings", "embedding_dim", "padding_idx"),
    # only the first three are read by position: RNN's fourth is `nonlinearity`, LSTM's and GRU's `bias`
    **{name: ("input_size", "hidden_size", "num_layers") for name in _RNN},
    **{name: ("size", "scale_factor", "mode", "align_corners") for name in _UPSAMPLE},
    **{name: ("padding", "value") for name in _PADS},
}

_KERAS = "keras.layers."
# not the Convolution{n}D aliases: Keras 1 code spells them Convolution2D(32, 3, 3) (filters, rows, columns), which
# Keras 2+ would read as a stride of 3
_KCONV = {f"keras.layers.Conv{n}D": n for n in (1, 2, 3)}
_KCONV_T = {f"keras.layers.Conv{n}DTranspose": n for n in (1, 2, 3)}
_KPOOL = {f"keras.layers.{k}Pooling{n}D": n for n in (1, 2, 3) for k in ("Max", "Average")} | {
    f"keras.layers.{k}Pool{n}D": n for n in (1, 2, 3) for k in ("Max", "Avg")}
_KGLOBAL = {f"keras.layers.Global{k}Pooling{n}D": n for n in (1, 2, 3) for k in ("Max", "Average")} | {
    f"keras.layers.Global{k}Pool{n}D": n for n in (1, 2, 3) for k in ("Max", "Avg")}
_KRNN = {"keras.layers.LSTM", "keras.layers.GRU", "keras.layers.SimpleRNN"}
_KMERGE = {f"keras.layers.{n}" for n in ("Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum")}
_KMERGE_FUNCTIONS = {f"keras.layers.{n}" for n in ("add", "subtract", "multiply", "average", "maximum", "minimum")}
_KERAS_SAME_SHAPE = {f"keras.layers.{n}" for n in (
    "Activation", "ReLU", "LeakyReLU", "PReLU", "ELU", "Softmax", "Dropout", "SpatialDropout1D", "SpatialDropout2D",
    "SpatialDropout3D", "GaussianNoise", "GaussianDropout", "AlphaDropout", "BatchNormalization",
    "LayerNormalization", "UnitNormalization", "Rescaling", "Normalization", "Identity", "ActivityRegularization")}
_KINPUT = {"keras.Input", "keras.layers.Input"}
_KERAS_PARAMS: dict[str, tuple[str, ...]] = {
    "keras.layers.Dense": ("units", "activation"),
    **{name: ("filters", "kernel_size", "strides", "padding", "data_format", "dilation_rate", "groups", "activation")
       for name in _KCONV},
    **{name: ("filters", "kernel_size", "strides", "padding", "output_padding", "data_format", "dilation_rate",
              "activation") for name in _KCONV_T},
    **{name: ("pool_size", "strides", "padding", "data_format") for name in _KPOOL},
    **{name: ("data_format", "keepdims") for name in _KGLOBAL},
    "keras.layers.Flatten": ("data_format",),
    "keras.layers.Reshape": ("target_shape",),
    "keras.layers.Concatenate": ("axis",),
    "keras.layers.Embedding": ("input_dim", "output_dim"),
    **{name: ("units", "activation") for name in _KRNN},
    "keras.layers.Bidirectional": ("layer", "merge_mode"),
    "keras.layers.ZeroPadding2D": ("padding", "data_format"),
    "keras.layers.UpSampling2D": ("size", "data_format"),
    "keras.layers.RepeatVector": ("n",),
    "keras.layers.InputLayer": ("shape", "batch_size"),
    **{name: () for name in _KMERGE},
    **{name: () for name in _KERAS_SAME_SHAPE},
}


def read_layer(call: cst.Call, name: str | None, module: cst.Module) -> Layer | None:
    """The layer a call constructs, when it is one this module knows."""
    if name is None:
        return None
    if name in _TORCH_SAME_SHAPE:
        params = ()
    else:
        params = _TORCH_PARAMS.get(name, _KERAS_PARAMS.get(name))
    if params is None:
        return None
    return Layer(name, call, bind(call, params), module)


# -- applying layers ------------------------------------------------------------------------------------------------
class Flow:
    """Applies layers to shapes, collecting problems and what each application saw."""

    def __init__(self, keras_default_layout: bool = True) -> None:
        # False when the file changes Keras' image data format: a layer without data_format is then unreadable
        self.keras_default_layout = keras_default_layout
        self.problems: list[Problem] = []
        self.applied: list[Applied] = []
        self.stacks_applied: set[int] = set()  # id() of the containers already followed
        self._reported: set = set()

    def problem(self, kind: str, node: cst.CSTNode, message: str, fix_node: cst.CSTNode | None = None,
                fix_text: str | None = None) -> None:
        key = (kind, id(node), message)
        if key not in self._reported:
            self._reported.add(key)
            self.problems.append(Problem(kind, node, message, fix_node, fix_text))

    def apply(self, layer, value, at: cst.CSTNode | None = None):
        """The output of ``layer`` (a Layer, a Stack or None for an unreadable one) applied to ``value``."""
        if isinstance(layer, Stack):
            self.stacks_applied.add(id(layer.node))
            if layer.input is not None and isinstance(value, Shape) and value.seedable:
                value = layer.input
            for item in layer.items:
                value = self.apply(item, value)
            return value
        if layer is None or not isinstance(value, Shape):
            return UNKNOWN
        shape = value
        if shape.seedable:
            shape = seed(layer)
        try:
            output = _APPLY.get(_family(layer.name), _unknown_output)(self, layer, shape)
        except (ZeroDivisionError, OverflowError, ValueError, TypeError, IndexError):
            output = UNKNOWN
        self.applied.append(Applied(layer.call, layer, shape, output))
        if at is not None and at is not layer.call:
            self.applied.append(Applied(at, layer, shape, output))
        return output


def _unknown_output(flow: Flow, layer: Layer, shape: Shape):
    return UNKNOWN


def _family(name: str) -> str:
    for family, names in _FAMILIES:
        if name in names:
            return family
    return name


def _described(shape: Shape, index: int) -> str:
    dim = shape.at(index)
    how = shape.explained(index)
    text = _render_dim(dim)
    return f"{text} = {how}" if how and how != text else text


def _from(shape: Shape) -> str:
    return f" from {shape.origin}" if shape.origin else ""


def _map(dims: Iterable[Dim]) -> str:
    return "x".join(_render_dim(d) for d in dims)


def _expected(expected: int, shape: Shape, index: int) -> str:
    """``1568 = 8*14*14`` when the incoming size was a flattened C*S*S map and ``expected`` factors the same way."""
    how = shape.explained(index)
    if not how:
        return str(expected)
    factors = how.split("*")
    if len(factors) < 2 or not factors[0].isdigit():
        return str(expected)
    channels, spatial = int(factors[0]), len(factors) - 1
    if channels == 0 or expected % channels:
        return str(expected)
    side = round((expected // channels) ** (1 / spatial))
    for candidate in (side - 1, side, side + 1):
        if candidate > 0 and candidate ** spatial == expected // channels:
            return f"{expected} = " + "*".join([str(channels)] + [str(candidate)] * spatial)
    return str(expected)


def _rank_problem(flow: Flow, layer: Layer, shape: Shape, ranks: tuple[int, ...], what: str) -> bool:
    """Report a closed shape of a rank the layer does not take; True when it did."""
    if shape.open or len(shape.dims) in ranks:
        return False
    wanted = " or ".join(f"{r}-D" for r in ranks)
    flow.problem("rank", layer.call, f"`{layer.short}` expects a {wanted} input ({what}), gets "
                                     f"{len(shape.dims)}-D {shape.render()}{_from(shape)}")
    return True


def _closed(shape: Shape, rank: int) -> Shape:
    """``shape`` known to have ``rank`` dimensions (an open one padded with unknown leading sizes)."""
    if not shape.open:
        return shape
    missing = rank - len(shape.dims)
    if missing < 0:
        return shape
    explain = (None,) * missing + shape.explain if shape.explain else ()
    return replace(shape, dims=(None,) * missing + shape.dims, open=False, explain=explain)


def _with_dims(shape: Shape, dims: tuple, origin: str | None = None, explain: tuple = ()) -> Shape:
    return Shape(tuple(dims), shape.open, explain, origin if origin is not None else shape.origin)


def _channel_mismatch(flow: Flow, kind: str, layer: Layer, argument: str, expected, got: Dim, shape: Shape,
                      index: int, what: str) -> None:
    if not (_is_int(expected) and _is_int(got)) or expected == got:
        return
    node = layer.args.node(argument)
    fix_text = None
    if isinstance(node, cst.Integer):
        fix_text = str(got)
    elif isinstance(node, cst.BinaryOperation):
        # arithmetic stays arithmetic: `8 * 14 * 14` becomes `8 * 13 * 13`
        how = shape.explained(index)
        fix_text = how.replace("*", " * ") if how and re.fullmatch(r"\d+(\*\d+)+", how) else str(got)
    flow.problem(kind, node if node is not None else layer.call,
                 f"`{layer.short}` expects {_expected(expected, shape, index)} {what}, gets "
                 f"{_described(shape, index)}{_from(shape)}",
                 node if fix_text else None, fix_text)


def _torch_linear(flow: Flow, layer: Layer, shape: Shape):
    features = layer.args.value("in_features")
    _channel_mismatch(flow, "linear-features", layer, "in_features", features, shape.at(-1), shape, -1, "features")
    out = layer.args.value("out_features")
    out = out if _is_int(out) else None
    if not shape.dims:
        return Shape((out,), open=True, origin=Origin(layer))
    return _with_dims(shape, shape.dims[:-1] + (out,), Origin(layer))


def _check_groups(flow: Flow, layer: Layer, groups_arg: str, channels, channel_word: str, filters,
                  filters_word: str) -> None:
    groups = layer.args.value(groups_arg, 1)
    if not _is_int(groups) or groups <= 1:
        return
    node = layer.args.node(groups_arg) or layer.call
    for count, word in ((channels, channel_word), (filters, filters_word)):
        if _is_int(count) and count % groups:
            flow.problem("groups", node, f"`{layer.short}` has groups={groups}, which does not divide its "
                                         f"{count} {word}")
            return


def _conv_spatial(size: Dim, kernel: int, stride: int, padding, dilation: int) -> Dim:
    if padding == "same":
        return size
    if padding == "valid":
        padding = 0
    return _floor_div_plus_one(_add(size, 2 * padding - dilation * (kernel - 1) - 1), stride)


def _torch_conv(flow: Flow, layer: Layer, shape: Shape):
    transposed = layer.name in _CONV_T
    n = _CONV_T[layer.name] if transposed else _CONV[layer.name]
    args = layer.args
    in_channels, out_channels = args.value("in_channels"), args.value("out_channels")
    _check_groups(flow, layer, "groups", in_channels, "input channels", out_channels, "output channels")
    if _rank_problem(flow, layer, shape, (n + 1, n + 2), "[batch,] channels, spatial"):
        return UNKNOWN
    _channel_mismatch(flow, "conv-channels", layer, "in_channels", in_channels, shape.at(-(n + 1)), shape,
                      -(n + 1), "input channels")
    out_channels = out_channels if _is_int(out_channels) else None
    kernel = _ints(args.value("kernel_size"), n)
    stride = _ints(args.value("stride", 1), n)
    dilation = _ints(args.value("dilation", 1), n)
    padding = args.value("padding", 0)
    padding = (padding,) * n if padding in ("same", "valid") else _ints(padding, n)
    output_padding = _ints(args.value("output_padding", 0), n) if transposed else (0,) * n
    spatial_in = tuple(shape.at(i) for i in range(-n, 0)) if len(shape.dims) >= n + 1 else (None,) * n
    if None in (kernel, stride, dilation, padding, output_padding) or args.dynamic or args.value(
            "padding_mode", "zeros") is DYNAMIC:
        spatial = (None,) * n
    elif transposed:
        spatial = tuple(_add(_scale(_add(size, -1), s), -2 * p + d * (k - 1) + op + 1)
                        for size, k, s, p, d, op in zip(spatial_in, kernel, stride, padding, dilation,
                                                        output_padding))
    else:
        spatial = tuple(_conv_spatial(size, k, s, p, d)
                        for size, k, s, p, d in zip(spatial_in, kernel, stride, padding, dilation))
    _check_positive(flow, layer, spatial_in, spatial)
    lead = shape.dims[:-(n + 1)] if len(shape.dims) >= n + 1 else ()
    open_ = shape.open
    origin = Origin(layer, spatial_in)
    return Shape(lead + (out_channels,) + spatial, open_, (), origin)


def _check_positive(flow: Flow, layer: Layer, spatial_in: tuple, spatial_out: tuple) -> None:
    if any(_is_int(size) and size <= 0 for size in spatial_out):
        flow.problem("empty-output", layer.call,
                     f"`{layer.text}` on a {_map(spatial_in)} map gives {_map(spatial_out)}: the output has no "
                     f"elements")


def _torch_pool(flow: Flow, layer: Layer, shape: Shape):
    is_max = layer.name in _MAXPOOL
    n = (_MAXPOOL if is_max else _AVGPOOL)[layer.name]
    args = layer.args
    kernel = _ints(args.value("kernel_size"), n)
    stride_value = args.value("stride")
    stride = kernel if stride_value is None else _ints(stride_value, n)
    padding = _ints(args.value("padding", 0), n)
    dilation = _ints(args.value("dilation", 1), n) if is_max else (1,) * n
    ceil_mode = args.value("ceil_mode", False)
    if kernel and padding and dilation:
        for k, p, d in zip(kernel, padding, dilation):
            effective = d * (k - 1) + 1
            if p * 2 > effective:
                flow.problem("pool-padding", args.node("padding") or layer.call,
                             f"`{layer.short}` pads by {p}, more than half its kernel of {effective}: PyTorch "
                             f"raises \"pad should be at most half of effective kernel size\"")
                break
    if _rank_problem(flow, layer, shape, (n + 1, n + 2), "[batch,] channels, spatial"):
        return UNKNOWN
    spatial_in = tuple(shape.at(i) for i in range(-n, 0)) if len(shape.dims) >= n + 1 else (None,) * n
    if None in (kernel, stride, padding, dilation) or ceil_mode not in (True, False) or args.dynamic:
        spatial = (None,) * n
    else:
        spatial = tuple(_pool_size(size, k, s, p, d, ceil_mode)
                        for size, k, s, p, d in zip(spatial_in, kernel, stride, padding, dilation))
    _check_positive(flow, layer, spatial_in, spatial)
    lead = shape.dims[:-n] if len(shape.dims) >= n + 1 else (None,)
    origin = Origin(layer, spatial_in) if all(_is_int(s) for s in spatial_in) else shape.origin
    return Shape(lead + spatial, shape.open or len(shape.dims) < n + 1, (), origin)


def _pool_size(size: Dim, kernel: int, stride: int, padding: int, dilation: int, ceil_mode: bool) -> Dim:
    numerator = _add(size, 2 * padding - dilation * (kernel - 1) - 1)
    out = _floor_div_plus_one(numerator, stride, ceil_mode)
    if ceil_mode and _is_int(out) and _is_int(size) and (out - 1) * stride >= size + padding:
        out -= 1
    return out


def _torch_adaptive(flow: Flow, layer: Layer, shape: Shape):
    n = _ADAPTIVE[layer.name]
    if _rank_problem(flow, layer, shape, (n + 1, n + 2), "[batch,] channels, spatial"):
        return UNKNOWN
    value = layer.args.value("output_size")
    sizes = value if isinstance(value, tuple) and len(value) == n else (value,) * n
    if not all(s is None or _is_int(s) for s in sizes) or value is DYNAMIC:
        sizes = (DYNAMIC,) * n
    if len(shape.dims) < n + 1:
        spatial_in = (None,) * n
        lead, open_ = (None,), True
    else:
        spatial_in = tuple(shape.at(i) for i in range(-n, 0))
        lead, open_ = shape.dims[:-n], shape.open
    spatial = tuple(None if s is DYNAMIC else (inp if s is None else s) for s, inp in zip(sizes, spatial_in))
    return Shape(lead + spatial, open_, (), Origin(layer))


def _torch_batchnorm(flow: Flow, layer: Layer, shape: Shape):
    n = _BATCHNORM[layer.name]
    ranks = (2, 3) if n == 1 else (n + 2,)
    if _rank_problem(flow, layer, shape, ranks, "batch, channels" + (", length" if n == 1 else ", spatial")):
        return UNKNOWN
    if n > 1:
        shape = _closed(shape, n + 2)
    features = layer.args.value("num_features")
    if not shape.open:
        _channel_mismatch(flow, "norm-size", layer, "num_features", features, shape.at(1), shape, 1, "channels")
    return shape


def _torch_groupnorm(flow: Flow, layer: Layer, shape: Shape):
    groups, channels = layer.args.value("num_groups"), layer.args.value("num_channels")
    if _is_int(groups) and _is_int(channels) and groups > 0 and channels % groups:
        flow.problem("groups", layer.args.node("num_groups") or layer.call,
                     f"`GroupNorm` splits {channels} channels into {groups} groups, which does not divide them")
    if not shape.open and len(shape.dims) >= 2:
        _channel_mismatch(flow, "norm-size", layer, "num_channels", channels, shape.at(1), shape, 1, "channels")
    return shape


def _torch_layernorm(flow: Flow, layer: Layer, shape: Shape):
    normalized = layer.args.value("normalized_shape")
    if _is_int(normalized):
        _channel_mismatch(flow, "norm-size", layer, "normalized_shape", normalized, shape.at(-1), shape, -1,
                          "features in the last dimension")
    elif isinstance(normalized, tuple) and normalized and all(_is_int(v) for v in normalized):
        got = tuple(shape.at(-len(normalized) + i) for i in range(len(normalized)))
        if all(_is_int(g) for g in got) and got != normalized and len(shape.dims) >= len(normalized):
            flow.problem("norm-size", layer.args.node("normalized_shape") or layer.call,
                         f"`LayerNorm` normalises the last dimensions {_map(normalized)}, gets {_map(got)} "
                         f"{shape.render()}{_from(shape)}")
    return shape


def _torch_flatten(flow: Flow, layer: Layer, shape: Shape):
    start, end = layer.args.value("start_dim", 1), layer.args.value("end_dim", -1)
    return _flatten(shape, start, end)


def _flatten(shape: Shape, start, end) -> Shape:
    if not (_is_int(start) and _is_int(end)):
        return UNKNOWN
    if shape.open:
        if start >= 0 or end >= 0:
            return UNKNOWN
        # negative bounds count from the end, which an open shape knows
        if -start > len(shape.dims):
            return UNKNOWN
        start, end = len(shape.dims) + start, len(shape.dims) + end
    else:
        rank = len(shape.dims)
        start, end = start % rank if rank else 0, end % rank if rank else 0
    if start > end:
        return UNKNOWN
    merged, how = _product(shape.dims[start:end + 1])
    explain = list(shape.explain) if shape.explain else [None] * len(shape.dims)
    dims = shape.dims[:start] + (merged,) + shape.dims[end + 1:]
    explain = tuple(explain[:start]) + (how,) + tuple(explain[end + 1:])
    return Shape(dims, shape.open, explain, shape.origin)


def _torch_unflatten(flow: Flow, layer: Layer, shape: Shape):
    dim, sizes = layer.args.value("dim"), layer.args.value("unflattened_size")
    if not _is_int(dim) or not isinstance(sizes, tuple) or not all(_is_int(s) for s in sizes):
        return UNKNOWN
    got = shape.at(dim)
    if dim >= 0 and shape.open:
        return UNKNOWN
    known = [s for s in sizes if s != -1]
    if _is_int(got) and -1 not in sizes and math.prod(sizes) != got:
        flow.problem("reshape", layer.args.node("unflattened_size") or layer.call,
                     f"`Unflatten` splits dimension {dim} into {_map(sizes)} = {math.prod(sizes)} elements, gets "
                     f"{_described(shape, dim)}{_from(shape)}")
        return UNKNOWN
    if -1 in sizes and _is_int(got) and known and got % math.prod(known) == 0:
        sizes = tuple(got // math.prod(known) if s == -1 else s for s in sizes)
    elif -1 in sizes:
        sizes = tuple(None if s == -1 else s for s in sizes)
    index = dim if dim >= 0 else len(shape.dims) + dim
    return Shape(shape.dims[:index] + tuple(sizes) + shape.dims[index + 1:], shape.open, (), shape.origin)


def _torch_embedding(flow: Flow, layer: Layer, shape: Shape):
    dim = layer.args.value("embedding_dim")
    return Shape(shape.dims + (dim if _is_int(dim) else None,), shape.open, (), Origin(layer))


def _torch_rnn(flow: Flow, layer: Layer, shape: Shape):
    args = layer.args
    if args.dynamic or args.extra:
        return TupleValue((UNKNOWN, UNKNOWN))
    if _rank_problem(flow, layer, shape, (2, 3), "sequence, batch, features"):
        return UNKNOWN
    _channel_mismatch(flow, "rnn-input", layer, "input_size", args.value("input_size"), shape.at(-1), shape, -1,
                      "input features")
    hidden = args.value("hidden_size")
    proj = args.value("proj_size", 0)
    bidirectional = args.value("bidirectional", False)
    size = None
    if _is_int(proj) and proj > 0:
        hidden = proj
    if _is_int(hidden) and bidirectional in (True, False) and _is_int(proj):
        size = hidden * (2 if bidirectional else 1)
    how = f"2x{hidden}" if size is not None and bidirectional else None  # not "*": no flatten factors
    dims = shape.dims[:-1] + (size,) if shape.dims else (size,)
    explain = (None,) * (len(dims) - 1) + (how,)
    return TupleValue((Shape(dims, shape.open, explain, Origin(layer)), UNKNOWN))


def _torch_upsample(flow: Flow, layer: Layer, shape: Shape):
    if shape.open or len(shape.dims) < 3:
        return UNKNOWN
    n = len(shape.dims) - 2
    size, factor = layer.args.value("size"), layer.args.value("scale_factor")
    if size is not None:
        sizes = _ints(size, n)
        spatial = sizes if sizes else (None,) * n
    else:
        factors = _ints(factor, n)
        spatial = tuple(_scale(d, f) for d, f in zip(shape.dims[2:], factors)) if factors else (None,) * n
    return Shape(shape.dims[:2] + tuple(spatial), False, (), Origin(layer))


def _torch_pad(flow: Flow, layer: Layer, shape: Shape):
    n = _PADS[layer.name]
    padding = layer.args.value("padding")
    if _is_int(padding):
        pairs = ((padding, padding),) * n
    elif isinstance(padding, tuple) and len(padding) == 2 * n and all(_is_int(p) for p in padding):
        # (left, right, top, bottom, front, back): the last dimension first
        pairs = tuple((padding[2 * i], padding[2 * i + 1]) for i in range(n))[::-1]
    else:
        return UNKNOWN
    if len(shape.dims) < n:
        return UNKNOWN
    spatial = tuple(_add(d, a + b) for d, (a, b) in zip(shape.dims[-n:], pairs))
    return Shape(shape.dims[:-n] + spatial, shape.open, (), Origin(layer))


def _same_shape(flow: Flow, layer: Layer, shape: Shape):
    return shape


# Keras (channels last unless data_format says otherwise) ------------------------------------------------------------
def _channels_first(flow: Flow, layer: Layer) -> bool | None:
    """Whether a Keras layer reads channels first; None when the source does not say (a variable, or a file that
    changes Keras' default image data format)."""
    value = layer.args.value("data_format")
    if value is None and not flow.keras_default_layout:
        return None
    if value is None or value == "channels_last":
        return False
    if value == "channels_first":
        return True
    return None


def _keras_dense(flow: Flow, layer: Layer, shape: Shape):
    units = layer.args.value("units")
    units = units if _is_int(units) else None
    if not shape.dims:
        return Shape((units,), True, (), Origin(layer))
    return Shape(shape.dims[:-1] + (units,), shape.open, (), Origin(layer))


def _keras_spatial(shape: Shape, n: int, first: bool) -> tuple[tuple, Dim]:
    if first:
        return shape.dims[2:2 + n], shape.dims[1]
    return shape.dims[1:1 + n], shape.dims[-1]


def _keras_rebuild(shape: Shape, spatial: tuple, channels: Dim, first: bool, origin: str) -> Shape:
    dims = (shape.dims[0], channels) + tuple(spatial) if first else (shape.dims[0],) + tuple(spatial) + (channels,)
    return Shape(dims, False, (), origin)


def _keras_rank(flow: Flow, layer: Layer, shape: Shape, rank: int, what: str) -> Shape | None:
    """The shape closed to ``rank``, or None after reporting a closed shape of another rank."""
    if shape.open:
        if len(shape.dims) > rank:
            return None
        return _closed(shape, rank)
    if len(shape.dims) != rank:
        flow.problem("rank", layer.call, f"`{layer.short}` expects a rank-{rank} input ({what}), gets rank "
                                         f"{len(shape.dims)} {shape.render()}{_from(shape)}")
        return None
    return shape


def _keras_conv(flow: Flow, layer: Layer, shape: Shape):
    transposed = layer.name in _KCONV_T
    n = _KCONV_T[layer.name] if transposed else _KCONV[layer.name]
    first = _channels_first(flow, layer)
    what = "batch, " + ("channels, spatial" if first else "spatial, channels")
    if not shape.open and len(shape.dims) > n + 2:
        return UNKNOWN  # Keras 3 convolutions take extra leading dimensions (min_ndim)
    checked = _keras_rank(flow, layer, shape, n + 2, what)
    if checked is None or first is None:
        return UNKNOWN
    args = layer.args
    spatial_in, channels = _keras_spatial(checked, n, first)
    filters = args.value("filters")
    filters = filters if _is_int(filters) else None
    if not transposed:
        _check_groups(flow, layer, "groups", channels, "input channels", filters, "filters")
    kernel = _ints(args.value("kernel_size"), n)
    stride = _ints(args.value("strides", 1), n)
    dilation = _ints(args.value("dilation_rate", 1), n)
    padding = args.value("padding", "valid")
    padding = padding.lower() if isinstance(padding, str) else padding
    if None in (kernel, stride, dilation) or padding not in ("valid", "same", "causal") or args.dynamic:
        spatial = (None,) * n
    elif transposed:
        output_padding = args.value("output_padding")
        spatial = tuple(_keras_deconv_size(size, k, s, d, padding, output_padding)
                        for size, k, s, d in zip(spatial_in, kernel, stride, dilation))
    else:
        spatial = tuple(_keras_conv_size(size, k, s, d, padding)
                        for size, k, s, d in zip(spatial_in, kernel, stride, dilation))
    _check_positive(flow, layer, spatial_in, spatial)
    origin = Origin(layer, spatial_in)
    return _keras_rebuild(checked, spatial, filters, first, origin)


def _keras_conv_size(size: Dim, kernel: int, stride: int, dilation: int, padding: str) -> Dim:
    if padding in ("same", "causal"):
        if stride == 1:
            return size
        return -(-size // stride) if _is_int(size) else None
    effective = dilation * (kernel - 1) + 1
    return _floor_div_plus_one(_add(size, -effective), stride) if stride > 1 or not _is_int(size) else size - effective + 1


def _keras_deconv_size(size: Dim, kernel: int, stride: int, dilation: int, padding: str, output_padding) -> Dim:
    if not _is_int(size):
        return None
    kernel = kernel + (kernel - 1) * (dilation - 1)
    if output_padding is None:
        return size * stride + max(kernel - stride, 0) if padding == "valid" else size * stride
    if not _is_int(output_padding):
        return None
    pad = 0 if padding == "valid" else kernel // 2
    return (size - 1) * stride + kernel - 2 * pad + output_padding


def _keras_pool(flow: Flow, layer: Layer, shape: Shape):
    n = _KPOOL[layer.name]
    first = _channels_first(flow, layer)
    checked = _keras_rank(flow, layer, shape, n + 2, "batch, spatial, channels")
    if checked is None or first is None:
        return UNKNOWN
    args = layer.args
    spatial_in, channels = _keras_spatial(checked, n, first)
    pool = _ints(args.value("pool_size", 2), n)
    stride_value = args.value("strides")
    stride = pool if stride_value is None else _ints(stride_value, n)
    padding = args.value("padding", "valid")
    padding = padding.lower() if isinstance(padding, str) else padding
    if None in (pool, stride) or padding not in ("valid", "same") or args.dynamic:
        spatial = (None,) * n
    elif padding == "same":
        spatial = tuple(-(-size // s) if _is_int(size) else (size if s == 1 else None)
                        for size, s in zip(spatial_in, stride))
    else:
        spatial = tuple(_floor_div_plus_one(_add(size, -k), s) for size, k, s in zip(spatial_in, pool, stride))
    _check_positive(flow, layer, spatial_in, spatial)
    origin = Origin(layer, spatial_in) if all(_is_int(s) for s in spatial_in) else checked.origin
    return _keras_rebuild(checked, spatial, channels, first, origin)


def _keras_global(flow: Flow, layer: Layer, shape: Shape):
    n = _KGLOBAL[layer.name]
    first = _channels_first(flow, layer)
    checked = _keras_rank(flow, layer, shape, n + 2, "batch, spatial, channels")
    if checked is None or first is None or layer.args.value("keepdims", False) is not False:
        return UNKNOWN
    _, channels = _keras_spatial(checked, n, first)
    return Shape((checked.dims[0], channels), False, (), Origin(layer))


def _keras_flatten(flow: Flow, layer: Layer, shape: Shape):
    if shape.open or len(shape.dims) < 2 or _channels_first(flow, layer) is not False:
        return UNKNOWN
    return _flatten(shape, 1, -1)


def _keras_reshape(flow: Flow, layer: Layer, shape: Shape):
    target = layer.args.value("target_shape")
    if isinstance(target, int) and not isinstance(target, bool):
        target = (target,)
    if not isinstance(target, tuple) or not all(_is_int(t) for t in target) or shape.open:
        return UNKNOWN
    count, how = _product(shape.dims[1:])
    known = [t for t in target if t != -1]
    if _is_int(count):
        wanted = math.prod(known)
        if (-1 not in target and wanted != count) or (-1 in target and (wanted == 0 or count % wanted)):
            got = f"{count} = {how}" if how else str(count)
            flow.problem("reshape", layer.args.node("target_shape") or layer.call,
                         f"`Reshape` to {_map(target)} needs {'a multiple of ' if -1 in target else ''}{wanted} "
                         f"elements per sample, gets {got} {shape.render()}{_from(shape)}")
            return UNKNOWN
        target = tuple(count // wanted if t == -1 else t for t in target)
    else:
        target = tuple(None if t == -1 else t for t in target)
    return Shape((shape.dims[0],) + tuple(target), False, (), Origin(layer))


def _keras_embedding(flow: Flow, layer: Layer, shape: Shape):
    dim = layer.args.value("output_dim")
    return Shape(shape.dims + (dim if _is_int(dim) else None,), shape.open, (), Origin(layer))


def _keras_rnn_output(flow: Flow, layer: Layer, shape: Shape, factor: int = 1):
    args = layer.args
    checked = _keras_rank(flow, layer, shape, 3, "batch, time, features")
    if checked is None or args.dynamic or args.value("return_state", False) is not False:
        return UNKNOWN
    units = args.value("units")
    units = units * factor if _is_int(units) else None
    sequences = args.value("return_sequences", False)
    if sequences not in (True, False):
        return UNKNOWN
    dims = (checked.dims[0], checked.dims[1], units) if sequences else (checked.dims[0], units)
    return Shape(dims, False, (), Origin(layer))


def _keras_rnn(flow: Flow, layer: Layer, shape: Shape):
    return _keras_rnn_output(flow, layer, shape)


def _keras_bidirectional(flow: Flow, layer: Layer, shape: Shape):
    inner = layer.inner
    mode = layer.args.value("merge_mode", "concat")
    if inner is None or inner.name not in _KRNN or mode not in ("concat", "sum", "mul", "ave"):
        return UNKNOWN
    output = _keras_rnn_output(flow, inner, shape, 2 if mode == "concat" else 1)
    return output


def _keras_zero_padding(flow: Flow, layer: Layer, shape: Shape):
    checked = _keras_rank(flow, layer, shape, 4, "batch, height, width, channels")
    first = _channels_first(flow, layer)
    if checked is None or first is None:
        return UNKNOWN
    value = layer.args.value("padding", 1)
    if _is_int(value):
        pairs = ((value, value),) * 2
    elif isinstance(value, tuple) and len(value) == 2 and all(_is_int(v) for v in value):
        pairs = tuple((v, v) for v in value)
    elif isinstance(value, tuple) and len(value) == 2 and all(_ints(v, 2) for v in value):
        pairs = value
    else:
        return UNKNOWN
    spatial_in, channels = _keras_spatial(checked, 2, first)
    spatial = tuple(_add(d, a + b) for d, (a, b) in zip(spatial_in, pairs))
    return _keras_rebuild(checked, spatial, channels, first, Origin(layer))


def _keras_upsampling(flow: Flow, layer: Layer, shape: Shape):
    checked = _keras_rank(flow, layer, shape, 4, "batch, height, width, channels")
    first = _channels_first(flow, layer)
    size = _ints(layer.args.value("size", 2), 2)
    if checked is None or first is None or size is None:
        return UNKNOWN
    spatial_in, channels = _keras_spatial(checked, 2, first)
    return _keras_rebuild(checked, tuple(_scale(d, s) for d, s in zip(spatial_in, size)), channels, first,
                          Origin(layer))


def _keras_repeat(flow: Flow, layer: Layer, shape: Shape):
    checked = _keras_rank(flow, layer, shape, 2, "batch, features")
    n = layer.args.value("n")
    if checked is None:
        return UNKNOWN
    return Shape((checked.dims[0], n if _is_int(n) else None, checked.dims[1]), False, (), Origin(layer))


def _keras_merge(flow: Flow, layer: Layer, value):
    return merge(flow, layer.short, layer.call, value, layer.args.value("axis", -1)
                 if layer.name == "keras.layers.Concatenate" else None)


def merge(flow: Flow, what: str, node: cst.CSTNode, value, axis) -> object:
    """Keras Concatenate (``axis`` an int) or an element-wise merge (``axis`` None) of a list of shapes."""
    if not isinstance(value, TupleValue) or len(value.items) < 2:
        return UNKNOWN
    shapes = value.items
    if not all(isinstance(s, Shape) and not s.open for s in shapes):
        return UNKNOWN
    ranks = {len(s.dims) for s in shapes}
    if axis is not None:
        if not _is_int(axis):
            return UNKNOWN
        if len(ranks) > 1:
            flow.problem("merge", node, f"`{what}` joins inputs of different ranks: "
                                        + ", ".join(s.render() for s in shapes))
            return UNKNOWN
        rank = ranks.pop()
        if not -rank <= axis < rank:
            return UNKNOWN
        axis %= rank
        for index in range(rank):
            if index == axis:
                continue
            sizes = {s.dims[index] for s in shapes if _is_int(s.dims[index])}
            if len(sizes) > 1:
                flow.problem("merge", node, f"`{what}` along axis {axis - rank} needs equal sizes in every other "
                                            f"axis, gets " + ", ".join(s.render() for s in shapes)
                             + f" (axis {index - rank} differs)")
                return UNKNOWN
        sizes = [s.dims[axis] for s in shapes]
        joined = sum(sizes) if all(_is_int(s) for s in sizes) else None
        dims = list(shapes[0].dims)
        dims[axis] = joined
        return Shape(tuple(dims), False, (), f"`{what}`")
    if len(ranks) > 1:
        return UNKNOWN  # Keras may broadcast across ranks
    rank = ranks.pop()
    for index in range(rank):
        sizes = {s.dims[index] for s in shapes if _is_int(s.dims[index]) and s.dims[index] != 1}
        if len(sizes) > 1:
            flow.problem("merge", node, f"`{what}` needs inputs of one shape, gets "
                                        + ", ".join(s.render() for s in shapes))
            return UNKNOWN
    dims = tuple(next((s.dims[i] for s in shapes if _is_int(s.dims[i]) and s.dims[i] != 1), shapes[0].dims[i])
                 for i in range(rank))
    return Shape(dims, False, (), f"`{what}`")


_FAMILIES: tuple[tuple[str, frozenset], ...] = tuple((family, frozenset(names)) for family, names in (
    ("torch-conv", set(_CONV) | set(_CONV_T)),
    ("torch-pool", set(_MAXPOOL) | set(_AVGPOOL)),
    ("torch-adaptive", set(_ADAPTIVE)),
    ("torch-batchnorm", set(_BATCHNORM)),
    ("torch-rnn", _RNN),
    ("torch-upsample", _UPSAMPLE),
    ("torch-pad", set(_PADS)),
    ("same", _TORCH_SAME_SHAPE | _KERAS_SAME_SHAPE),
    ("keras-conv", set(_KCONV) | set(_KCONV_T)),
    ("keras-pool", set(_KPOOL)),
    ("keras-global", set(_KGLOBAL)),
    ("keras-rnn", _KRNN),
    ("keras-merge", _KMERGE | {"keras.layers.Concatenate"}),
))

_APPLY: dict[str, Callable] = {
    "torch.nn.Linear": _torch_linear,
    "torch-conv": _torch_conv,
    "torch-pool": _torch_pool,
    "torch-adaptive": _torch_adaptive,
    "torch-batchnorm": _torch_batchnorm,
    "torch.nn.GroupNorm": _torch_groupnorm,
    "torch.nn.LayerNorm": _torch_layernorm,
    "torch.nn.Flatten": _torch_flatten,
    "torch.nn.Unflatten": _torch_unflatten,
    "torch.nn.Embedding": _torch_embedding,
    "torch-rnn": _torch_rnn,
    "torch-upsample": _torch_upsample,
    "torch-pad": _torch_pad,
    "same": _same_shape,
    "keras.layers.Dense": _keras_dense,
    "keras-conv": _keras_conv,
    "keras-pool": _keras_pool,
    "keras-global": _keras_global,
    "keras.layers.Flatten": _keras_flatten,
    "keras.layers.Reshape": _keras_reshape,
    "keras.layers.Embedding": _keras_embedding,
    "keras-rnn": _keras_rnn,
    "keras.layers.Bidirectional": _keras_bidirectional,
    "keras.layers.ZeroPadding2D": _keras_zero_padding,
    "keras.layers.UpSampling2D": _keras_upsampling,
    "keras.layers.RepeatVector": _keras_repeat,
}


def seed(layer: Layer) -> Shape:
    """What a layer that reads an undescribed input expects, with symbolic sizes (for hover and channel checks)."""
    name, args = layer.name, layer.args
    if name in _CONV or name in _CONV_T or name in _BATCHNORM:
        n = (_CONV.get(name) or _CONV_T.get(name) or _BATCHNORM.get(name))
        channels = args.value("num_features" if name in _BATCHNORM else "in_channels")
        spatial = ("L",) if n == 1 else ("H", "W") if n == 2 else ("D", "H", "W")
        if name in _BATCHNORM:
            # BatchNorm1d takes (N, C) and (N, C, L): which one is not the layer's to say
            return Shape(("N", channels if _is_int(channels) else None) + spatial) if n > 1 else UNKNOWN
        return Shape((channels if _is_int(channels) else None,) + spatial, True)
    if name == "torch.nn.Linear":
        features = args.value("in_features")
        return Shape((features if _is_int(features) else None,), True)
    if name in _RNN:
        features = args.value("input_size")
        return Shape((features if _is_int(features) else None,), True)
    if name in _KCONV or name in _KCONV_T or name in _KPOOL or name in _KGLOBAL:
        n = _KCONV.get(name) or _KCONV_T.get(name) or _KPOOL.get(name) or _KGLOBAL.get(name)
        spatial = ("L",) if n == 1 else ("H", "W") if n == 2 else ("D", "H", "W")
        if layer.args.value("data_format") == "channels_first":
            return Shape(("N", "C") + spatial)
        return Shape(("N",) + spatial + ("C",))
    if name in _KRNN:
        return Shape(("N", "T", "F"))
    return UNKNOWN


# -- reading the module ---------------------------------------------------------------------------------------------
_TORCH_FACTORIES = {f"torch.{n}" for n in ("randn", "rand", "zeros", "ones", "empty", "randint")}
# factories whose first argument (or `shape=`) is the whole shape, and numpy's that take the sizes one by one
_SHAPE_FACTORIES = {"tensorflow.zeros", "tensorflow.ones", "tensorflow.random.normal", "tensorflow.random.uniform",
                    "numpy.zeros", "numpy.ones", "numpy.empty", "numpy.random.random", "keras.ops.zeros",
                    "keras.ops.ones", "keras.random.normal", "keras.random.uniform"}
_SIZES_FACTORIES = {"numpy.random.rand", "numpy.random.randn"}
_TORCH_SEQUENTIAL = "torch.nn.Sequential"
_KERAS_SEQUENTIAL = {"keras.Sequential", "keras.models.Sequential"}
_TORCH_BASES = {"torch.nn.Module"}
_KERAS_BASES = {"keras.Model", "keras.models.Model", "keras.layers.Layer", "keras.Layer"}
_SUMMARY = {"torchsummary.summary": True, "torchinfo.summary": False}  # True: the size excludes the batch
_ELEMENTWISE = {f"torch.nn.functional.{n}" for n in (
    "relu", "relu6", "leaky_relu", "elu", "selu", "celu", "gelu", "silu", "mish", "sigmoid", "tanh", "hardtanh",
    "hardswish", "softplus", "dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout", "softmax",
    "log_softmax")} | {f"torch.{n}" for n in ("relu", "sigmoid", "tanh", "softmax", "log_softmax")}
_TENSOR_SAME = {"relu", "sigmoid", "tanh", "contiguous", "float", "double", "half", "to", "cuda", "cpu", "clone",
                "detach", "relu_", "softmax", "log_softmax", "sigmoid_", "tanh_", "exp", "abs", "neg"}
_FUNCTIONAL_POOLS = {
    **{f"torch.nn.functional.max_pool{n}d": f"torch.nn.MaxPool{n}d" for n in (1, 2, 3)},
    **{f"torch.nn.functional.avg_pool{n}d": f"torch.nn.AvgPool{n}d" for n in (1, 2, 3)},
    **{f"torch.nn.functional.adaptive_avg_pool{n}d": f"torch.nn.AdaptiveAvgPool{n}d" for n in (1, 2, 3)},
    **{f"torch.nn.functional.adaptive_max_pool{n}d": f"torch.nn.AdaptiveMaxPool{n}d" for n in (1, 2, 3)},
}
_FUNCTIONAL_PARAMS = {
    **{f"torch.nn.MaxPool{n}d": ("input", "kernel_size", "stride", "padding", "dilation", "ceil_mode",
                                 "return_indices") for n in (1, 2, 3)},
    **{f"torch.nn.AvgPool{n}d": ("input", "kernel_size", "stride", "padding", "ceil_mode", "count_include_pad",
                                 "divisor_override") for n in (1, 2, 3)},
    **{name: ("input", "output_size", "return_indices") for name in _ADAPTIVE},
}


@dataclass
class _ModelRef:
    """A model object in a block: a class instance (``key`` the class name) or a container (``key`` its node)."""

    key: object
    stack: Stack | None = None


@dataclass
class ShapeAnalysis:
    problems: list[Problem] = field(default_factory=list)
    applied: list[Applied] = field(default_factory=list)
    # model (a class or a module-level variable) -> the one input size the file applies it to
    inputs: dict[str, tuple] = field(default_factory=dict)


class _Reader:
    def __init__(self, module: cst.Module, imports: ImportTable, flow: Flow):
        self.module = module
        self.imports = imports
        self.flow = flow
        self.stacks: list[Stack] = []
        self._added: dict[int, list] = {}  # id(Sequential call) -> the layers `.add`-ed to it, in order
        self.classes: dict[str, _ClassModel] = {}

    def resolve(self, node: cst.BaseExpression) -> str | None:
        return self.imports.resolve(node)

    # layers and containers -----------------------------------------------------------------------------------------
    def layer_of(self, node: cst.BaseExpression | None, env: dict | None = None):
        """A Layer or Stack constructed by ``node`` (or bound to a name in ``env``), else None."""
        if node is None:
            return None
        if isinstance(node, cst.Name) and env is not None:
            value = env.get(node.value)
            return value if isinstance(value, (Layer, Stack)) else None
        if not isinstance(node, cst.Call):
            return None
        name = self.resolve(node.func)
        if name == _TORCH_SEQUENTIAL:
            if any(a.star or a.keyword is not None for a in node.args):
                return None
            return Stack(node, tuple(self.layer_of(a.value, env) for a in node.args), "torch")
        if name in _KERAS_SEQUENTIAL:
            return self.keras_sequential(node, env)
        layer = read_layer(node, name, self.module)
        if layer is not None and layer.name == "keras.layers.Bidirectional":
            inner = self.layer_of(layer.args.node("layer"), env)
            layer = replace(layer, inner=inner if isinstance(inner, Layer) else None)
        return layer

    def keras_sequential(self, node: cst.Call, env: dict | None) -> Stack | None:
        arg = node.args[0] if node.args and node.args[0].keyword in (None,) else None
        for a in node.args:
            if a.keyword is not None and a.keyword.value == "layers":
                arg = a
        if any(a.star for a in node.args):
            return None
        if arg is None:
            return Stack(node, (), "keras")
        if not isinstance(arg.value, cst.List) or any(isinstance(e, cst.StarredElement) for e in arg.value.elements):
            return None
        return self.keras_stack(node, [e.value for e in arg.value.elements], env)

    def keras_stack(self, node: cst.CSTNode, elements: list, env: dict | None) -> Stack:
        items: list = []
        start: Shape | None = None
        for index, element in enumerate(elements):
            if isinstance(element, cst.Call) and self.resolve(element.func) in _KINPUT and index == 0:
                start = self.keras_input(element)
                continue
            layer = self.layer_of(element, env)
            if index == 0 and isinstance(layer, Layer):
                start = self.keras_input_shape(layer)
                if layer.name == "keras.layers.InputLayer":
                    continue
            items.append(layer)
        return Stack(node, tuple(items), "keras", start)

    def keras_input(self, call: cst.Call) -> Shape | None:
        args = bind(call, ("shape", "batch_size"))
        return self._keras_shape(args.value("shape"), args.value("batch_size"))

    def keras_input_shape(self, layer: Layer) -> Shape | None:
        args = bind(layer.call, ())
        if layer.name == "keras.layers.InputLayer":
            args = layer.args
            shape = args.value("shape") if args.given("shape") else args.value("input_shape")
            return self._keras_shape(shape, args.value("batch_size"))
        if args.given("input_shape"):
            return self._keras_shape(args.value("input_shape"), None)
        if args.given("input_dim") and layer.name == "keras.layers.Dense":
            return self._keras_shape((args.value("input_dim"),), None)
        return None

    @staticmethod
    def _keras_shape(shape, batch) -> Shape | None:
        if _is_int(shape):
            shape = (shape,)
        if not isinstance(shape, tuple) or not all(s is None or _is_int(s) for s in shape):
            return None
        batch = batch if _is_int(batch) else "N"
        return Shape((batch,) + shape, origin="`Input`")

    # tensors from example calls ------------------------------------------------------------------------------------
    def example_tensor(self, node: cst.BaseExpression, env: dict) -> Shape | None:
        if isinstance(node, cst.Name):
            value = env.get(node.value)
            # only a tensor the block made from stated sizes (not an unknown value, not a graph tensor)
            if isinstance(value, Shape) and not value.open and value.dims and all(_is_int(d) for d in value.dims):
                return value
            return None
        if not isinstance(node, cst.Call):
            return None
        name = self.resolve(node.func)
        if name in _TORCH_FACTORIES:
            args = [a for a in node.args if a.keyword is None]
            if any(a.star for a in node.args):
                return None
            if name == "torch.randint":
                size = next((a.value for a in node.args if a.keyword and a.keyword.value == "size"), None)
                values = literal(size) if size is not None else (literal(args[-1].value) if args else DYNAMIC)
            elif len(args) == 1 and isinstance(args[0].value, (cst.Tuple, cst.List)):
                values = literal(args[0].value)
            else:
                values = tuple(literal(a.value) for a in args)
            return _example_shape(values)
        if name in _SHAPE_FACTORIES:
            return _example_shape(bind(node, ("shape",)).value("shape") if not any(a.star for a in node.args)
                                  else None)
        if name in _SIZES_FACTORIES:
            return _example_shape(tuple(literal(a.value) for a in node.args)
                                  if all(a.keyword is None and not a.star for a in node.args) else None)
        if isinstance(node.func, cst.Attribute) and node.func.attr.value in ("to", "cuda", "float", "double",
                                                                             "astype"):
            return self.example_tensor(node.func.value, env)
        return None

    # blocks --------------------------------------------------------------------------------------------------------
    def scan_block(self, statements: Iterable[cst.CSTNode], env: dict, examples: dict) -> None:
        """Follow a module or function body in order: models bound to names, Keras functional graphs, Keras
        ``.add`` calls, and the example inputs applied to models."""
        for statement in statements:
            if isinstance(statement, cst.SimpleStatementLine):
                for small in statement.body:
                    self.scan_small(small, env, examples)
            elif isinstance(statement, cst.If) and _is_main_guard(statement):
                self.scan_block(statement.body.body, env, examples)
            elif isinstance(statement, cst.With):
                self.scan_block(statement.body.body, env, examples)
            elif type(statement) in _DEFINITIONS:
                env.pop(statement.name.value, None)
            elif env:  # nothing known yet: nothing to forget
                for name in _assigned(statement)[0]:
                    env.pop(name, None)

    def scan_small(self, small: cst.CSTNode, env: dict, examples: dict) -> None:
        if isinstance(small, cst.Assign):
            value = self.eval_block_value(small.value, env, examples)
            for target in small.targets:
                self.assign(target.target, value, env)
        elif isinstance(small, cst.AnnAssign) and small.value is not None:
            self.assign(small.target, self.eval_block_value(small.value, env, examples), env)
        elif isinstance(small, cst.Expr):
            call = small.value
            if (isinstance(call, cst.Call) and isinstance(call.func, cst.Attribute)
                    and isinstance(call.func.value, cst.Name) and call.func.attr.value == "add"):
                model = env.get(call.func.value.value)
                if isinstance(model, _ModelRef) and model.stack is not None and model.stack.framework == "keras":
                    single = len(call.args) == 1 and call.args[0].keyword is None and not call.args[0].star
                    self._added.setdefault(id(model.key), []).append(call.args[0].value if single else None)
                    return
            self.eval_block_value(call, env, examples)
            arguments = call.args if isinstance(call, cst.Call) else ()
            for arg in arguments:
                model = env.get(arg.value.value) if isinstance(arg.value, cst.Name) else None
                if isinstance(model, _ModelRef) and model.stack is not None and model.stack.framework == "keras":
                    env.pop(arg.value.value, None)  # handed to code that may `.add` layers
            for name in _assigned(small)[0]:
                env.pop(name, None)
        else:
            for name in _assigned(small)[0]:
                env.pop(name, None)

    def assign(self, target: cst.BaseExpression, value, env: dict) -> None:
        if isinstance(target, cst.Name):
            env[target.value] = value
        elif isinstance(target, (cst.Tuple, cst.List)):
            items = value.items if isinstance(value, TupleValue) else ()
            for index, element in enumerate(target.elements):
                if isinstance(element, cst.StarredElement):
                    items = ()
                item = items[index] if len(items) == len(target.elements) else UNKNOWN
                self.assign(element.value, item, env)
        else:
            names: set[str] = set()
            _target_parts(target, names, set())
            for name in names:
                env.pop(name, None)

    def eval_block_value(self, node: cst.BaseExpression, env: dict, examples: dict):
        """The value of an expression in a module or function body (a graph tensor, a model, a layer)."""
        if isinstance(node, cst.Call):
            name = self.resolve(node.func)
            if name in _KINPUT:
                return self.keras_input(node) or UNKNOWN
            if name in _KERAS_SEQUENTIAL:
                stack = self.keras_sequential(node, env)
                if stack is not None:
                    self.stacks.append(stack)
                    return _ModelRef(node, stack)
                return UNKNOWN
            if name == _TORCH_SEQUENTIAL:
                stack = self.layer_of(node, env)
                return _ModelRef(node, stack) if isinstance(stack, Stack) else UNKNOWN
            if name in _SUMMARY:
                self.summary_call(node, env, examples, _SUMMARY[name])
                return UNKNOWN
            if isinstance(node.func, cst.Name) and node.func.value in self.classes:
                return _ModelRef(node.func.value)
            if isinstance(node.func, cst.Attribute) and node.func.attr.value in ("to", "cuda", "eval", "train",
                                                                                  "cpu", "float", "double"):
                inner = self.eval_block_value(node.func.value, env, examples)
                return inner
            # applying a model to an example input
            model = self.eval_block_value(node.func, env, examples) if isinstance(
                node.func, (cst.Name, cst.Call)) else None
            if isinstance(model, _ModelRef):
                args = [a for a in node.args if a.keyword is None and not a.star]
                if len(args) == 1 and len(node.args) == 1:
                    tensor = self.example_tensor(args[0].value, env)
                    if tensor is not None:
                        examples.setdefault(model.key, set()).add(tensor.dims)
                return UNKNOWN
            # a Keras functional application: Layer(...)(x) or layer(x)
            layer = self.layer_of(node.func, env)
            if layer is not None and len(node.args) >= 1 and node.args[0].keyword is None:
                if isinstance(layer, Layer) and (layer.name in _KMERGE or layer.name == "keras.layers.Concatenate"):
                    value = self.eval_block_value(node.args[0].value, env, examples)
                    return self.flow_apply_merge(layer, value, node)
                value = self.eval_block_value(node.args[0].value, env, examples)
                if isinstance(value, Shape) and not value.seedable and len(node.args) == 1:
                    return self.flow.apply(layer, value, node)
                return UNKNOWN
            if name in _KMERGE_FUNCTIONS or name == "keras.layers.concatenate":
                if node.args and node.args[0].keyword is None and not node.args[0].star:
                    value = self.eval_block_value(node.args[0].value, env, examples)
                    axis = bind(node, ("inputs", "axis")).value("axis", -1) if name.endswith("concatenate") else None
                    return merge(self.flow, name.rsplit(".", 1)[-1], node, value, axis)
                return UNKNOWN
            layer = self.layer_of(node, env)
            if layer is not None:
                return layer
            tensor = self.example_tensor(node, env)
            return tensor if tensor is not None else UNKNOWN
        if isinstance(node, cst.Name):
            return env.get(node.value, UNKNOWN)
        if isinstance(node, (cst.List, cst.Tuple)):
            return TupleValue(tuple(self.eval_block_value(e.value, env, examples) for e in node.elements))
        return UNKNOWN

    def flow_apply_merge(self, layer: Layer, value, node: cst.Call):
        output = _keras_merge(self.flow, layer, value)
        if isinstance(value, TupleValue) and all(isinstance(v, Shape) for v in value.items):
            self.flow.applied.append(Applied(node, layer, value.items[0], output))
        return output

    def _sequential_elements(self, node: cst.Call) -> list:
        for a in node.args:
            if a.keyword is None or a.keyword.value == "layers":
                if isinstance(a.value, cst.List):
                    return [e.value for e in a.value.elements]
        return []

    def summary_call(self, node: cst.Call, env: dict, examples: dict, without_batch: bool) -> None:
        args = bind(node, ("model", "input_size"))
        model_node, size_node = args.node("model"), args.node("input_size")
        if args.dynamic or model_node is None or size_node is None:
            return
        model = self.eval_block_value(model_node, env, examples)
        size = literal(size_node)
        if not isinstance(model, _ModelRef) or not isinstance(size, tuple) or not all(
                _is_int(s) and s > 0 for s in size):
            return
        dims = ((2,) + size) if without_batch else size  # torchsummary runs a batch of 2
        examples.setdefault(model.key, set()).add(dims)


def _example_shape(values) -> Shape | None:
    if isinstance(values, tuple) and values and all(_is_int(v) and v > 0 for v in values):
        return Shape(values, origin="the example input")
    return None


def _is_main_guard(statement: cst.If) -> bool:
    test = statement.test
    return (isinstance(test, cst.Comparison) and isinstance(test.left, cst.Name) and test.left.value == "__name__"
            and statement.orelse is None)


# -- classes --------------------------------------------------------------------------------------------------------
@dataclass
class _ClassModel:
    node: cst.ClassDef
    framework: str
    attributes: dict  # name -> Layer | Stack | None (None: assigned, unreadable)
    method: cst.FunctionDef | None  # forward / call


class _ClassReader:
    def __init__(self, reader: _Reader):
        self.reader = reader

    def model(self, node: cst.ClassDef) -> _ClassModel | None:
        bases = [self.reader.resolve(b.value) for b in node.bases]
        if len(node.bases) != 1 or node.bases[0].keyword is not None:
            return None
        if bases[0] in _TORCH_BASES:
            framework, entry = "torch", "forward"
        elif bases[0] in _KERAS_BASES:
            framework, entry = "keras", "call"
        else:
            return None
        methods = {s.name.value: s for s in node.body.body if isinstance(s, cst.FunctionDef)}
        init = methods.get("__init__")
        attributes: dict = {}
        if init is not None:
            env: dict = {}
            for statement in init.body.body:
                self._init_statement(statement, env, attributes)
        # an attribute that another method assigns again is not known
        for name, method in methods.items():
            if name == "__init__":
                continue
            for attribute in _assigned(method)[1]:
                attributes[attribute] = None
        return _ClassModel(node, framework, attributes, methods.get(entry))

    def _init_statement(self, statement: cst.CSTNode, env: dict, attributes: dict) -> None:
        if isinstance(statement, cst.SimpleStatementLine):
            for small in statement.body:
                if isinstance(small, cst.Assign) and len(small.targets) == 1:
                    target = small.targets[0].target
                    value = self.reader.layer_of(small.value, env)
                    if _is_self_attribute(target):
                        attributes[target.attr.value] = value
                    elif isinstance(target, cst.Name):
                        env[target.value] = value
                    else:
                        self._forget(small, env, attributes)
                else:
                    self._forget(small, env, attributes)
        else:
            self._forget(statement, env, attributes)

    @staticmethod
    def _forget(node: cst.CSTNode, env: dict, attributes: dict) -> None:
        names, assigned = _assigned(node)
        for attribute in assigned:
            attributes[attribute] = None
        for name in names:
            env.pop(name, None)


def _is_self_attribute(node: cst.BaseExpression) -> bool:
    return isinstance(node, cst.Attribute) and isinstance(node.value, cst.Name) and node.value.value == "self"


class _Forward:
    """Follows a ``forward``/``call`` body in straight-line order from a given input shape."""

    def __init__(self, reader: _Reader, model: _ClassModel):
        self.reader = reader
        self.model = model
        self.flow = reader.flow

    def run(self, input_shape: Shape) -> None:
        method = self.model.method
        params = list(method.params.params)
        if len(params) < 2 or params[0].name.value != "self":
            return
        env: dict = {params[1].name.value: input_shape}
        if not isinstance(method.body, cst.IndentedBlock):
            return
        for statement in method.body.body:
            if isinstance(statement, cst.SimpleStatementLine):
                for small in statement.body:
                    if isinstance(small, cst.Assign):
                        value = self.eval(small.value, env)
                        for target in small.targets:
                            self.reader.assign(target.target, value, env)
                    elif isinstance(small, cst.Return):
                        if small.value is not None:
                            self.eval(small.value, env)
                        return
                    elif isinstance(small, cst.Expr):
                        self.eval(small.value, env)
                        for name in _assigned(small)[0]:
                            env.pop(name, None)
                    else:
                        for name in _assigned(small)[0]:
                            env.pop(name, None)
            else:
                # control flow: whatever it assigns is unknown afterwards, and its body is not followed
                for name in _assigned(statement)[0]:
                    env.pop(name, None)

    def eval(self, node: cst.BaseExpression, env: dict):
        reader = self.reader
        if isinstance(node, cst.Name):
            return env.get(node.value, UNKNOWN)
        if isinstance(node, cst.Tuple):
            return TupleValue(tuple(self.eval(e.value, env) for e in node.elements))
        if isinstance(node, cst.Subscript):
            return self.subscript(self.eval(node.value, env), node)
        if isinstance(node, cst.BinaryOperation):
            left, right = self.eval(node.left, env), self.eval(node.right, env)
            if isinstance(left, Shape) and isinstance(right, Shape):
                return left if left.dims == right.dims and left.open == right.open else UNKNOWN
            return UNKNOWN
        if not isinstance(node, cst.Call):
            return UNKNOWN
        func = node.func
        positional = [a for a in node.args if a.keyword is None and not a.star]
        if _is_self_attribute(func):
            layer = self.model.attributes.get(func.attr.value)
            if layer is None or not positional or any(a.star for a in node.args):
                for arg in node.args:
                    self.eval(arg.value, env)
                return UNKNOWN
            value = self.eval(positional[0].value, env)
            if len(node.args) > 1 and not (isinstance(layer, Layer) and layer.name in _RNN | _KRNN):
                if not all(a.keyword is not None and a.keyword.value == "training" for a in node.args[1:]):
                    return UNKNOWN
            if isinstance(layer, Layer) and (layer.name in _KMERGE or layer.name == "keras.layers.Concatenate"):
                return reader.flow_apply_merge(layer, value, node)
            return self.flow.apply(layer, value, node)
        name = reader.resolve(func)
        if name in _ELEMENTWISE and positional:
            return self.eval(positional[0].value, env)
        if name in _FUNCTIONAL_POOLS and positional:
            layer_name = _FUNCTIONAL_POOLS[name]
            args = bind(node, _FUNCTIONAL_PARAMS[layer_name])
            layer = Layer(layer_name, node, Arguments({k: v for k, v in args.nodes.items() if k != "input"},
                                                      args.dynamic, args.extra),
                          reader.module, label=name.rsplit(".", 1)[-1])
            value = self.eval(positional[0].value, env)
            if not isinstance(value, Shape) or value.seedable:
                return UNKNOWN
            output = _APPLY[_family(layer_name)](self.flow, layer, value)
            self.flow.applied.append(Applied(node, layer, value, output))
            return output
        if name == "torch.flatten" and positional:
            args = bind(node, ("input", "start_dim", "end_dim"))
            value = self.eval(positional[0].value, env)
            if not isinstance(value, Shape) or value.seedable:
                return UNKNOWN
            return _flatten(value, args.value("start_dim", 0), args.value("end_dim", -1))
        if name == "torch.cat" and positional:
            value = self.eval(positional[0].value, env) if isinstance(positional[0].value, (cst.List, cst.Tuple)) \
                else UNKNOWN
            axis = bind(node, ("tensors", "dim")).value("dim", 0)
            if isinstance(value, TupleValue) and all(isinstance(v, Shape) and not v.seedable for v in value.items):
                return merge(self.flow, "torch.cat", node, value, axis)
            return UNKNOWN
        if isinstance(func, cst.Attribute) and name is None:
            method = func.attr.value
            receiver = self.eval(func.value, env)
            if not isinstance(receiver, Shape) or receiver.seedable:
                return UNKNOWN
            if method in _TENSOR_SAME:
                return receiver
            if method == "flatten":
                args = bind(node, ("start_dim", "end_dim"))
                return _flatten(receiver, args.value("start_dim", 0), args.value("end_dim", -1))
            if method in ("view", "reshape"):
                return self.view(receiver, node, func.value)
        if isinstance(func, cst.Call):
            layer = reader.layer_of(func)
            if layer is not None and positional:
                return self.flow.apply(layer, self.eval(positional[0].value, env), node)
        return UNKNOWN

    def view(self, shape: Shape, node: cst.Call, receiver: cst.BaseExpression):
        if shape.open or any(a.keyword is not None or a.star for a in node.args):
            return UNKNOWN
        args = [a.value for a in node.args]
        if len(args) == 1 and isinstance(args[0], (cst.Tuple, cst.List)):
            args = [e.value for e in args[0].elements]
        sizes: list = []
        for arg in args:
            value = literal(arg)
            if _is_int(value):
                sizes.append(value)
            elif _size_of(arg, receiver) is not None:
                sizes.append(shape.at(_size_of(arg, receiver)))
            else:
                return UNKNOWN
        count, how = _product(shape.dims)
        if sizes.count(-1) > 1:
            return UNKNOWN
        if -1 in sizes:
            rest = [s for s in sizes if s != -1]
            if not _is_int(count) or not all(_is_int(s) for s in rest):
                return Shape(tuple(None if s == -1 else s for s in sizes), False, (), shape.origin)
            known = math.prod(rest)
            if known == 0 or count % known:
                self.flow.problem("reshape", node, f"`{_text_of(self.reader.module, node, 'view')}` needs a "
                                                   f"multiple of {known} elements, gets {count} {shape.render()}"
                                                   f"{_from(shape)}")
                return UNKNOWN
            inferred = count // known
            explain = tuple(None for _ in sizes)
            if len(sizes) == 2 and sizes[1] == -1 and _is_int(shape.at(0)) and shape.at(0) == sizes[0]:
                # x.view(N, -1): the flattened features, as after a flatten
                _, inner = _product(shape.dims[1:])
                explain = (None, inner)
            return Shape(tuple(inferred if s == -1 else s for s in sizes), False, explain, shape.origin)
        if all(_is_int(s) for s in sizes) and _is_int(count) and math.prod(sizes) != count:
            self.flow.problem("reshape", node, f"`{_text_of(self.reader.module, node, 'view')}` needs "
                                               f"{math.prod(sizes)} elements, gets {count} {shape.render()}"
                                               f"{_from(shape)}")
            return UNKNOWN
        if len(sizes) == 2 and sizes[0] == shape.at(0) and len(shape.dims) > 2:
            flat = _flatten(shape, 1, -1)
            if flat.dims == tuple(sizes) or not _is_int(sizes[1]):
                return flat
        return Shape(tuple(sizes), False, (), shape.origin)

    @staticmethod
    def subscript(value, node: cst.Subscript):
        if isinstance(value, TupleValue):
            if len(node.slice) == 1 and isinstance(node.slice[0].slice, cst.Index):
                index = literal(node.slice[0].slice.value)
                if _is_int(index) and -len(value.items) <= index < len(value.items):
                    return value.items[index]
            return UNKNOWN
        if not isinstance(value, Shape) or value.open or value.seedable:
            return UNKNOWN
        dims: list = []
        position = 0
        for element in node.slice:
            if position >= len(value.dims):
                return UNKNOWN
            part = element.slice
            if isinstance(part, cst.Slice) and part.lower is None and part.upper is None and part.step is None:
                dims.append(value.dims[position])
            elif isinstance(part, cst.Index) and _is_int(literal(part.value)):
                pass  # an integer index drops the dimension
            else:
                return UNKNOWN
            position += 1
        dims.extend(value.dims[position:])
        return Shape(tuple(dims), False, (), value.origin)


def _size_of(node: cst.BaseExpression, receiver: cst.BaseExpression) -> int | None:
    """``x.size(0)`` / ``x.shape[0]`` of the reshaped tensor itself: the index."""
    if not isinstance(receiver, cst.Name):
        return None
    if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and node.func.attr.value == "size" \
            and isinstance(node.func.value, cst.Name) and node.func.value.value == receiver.value \
            and len(node.args) == 1 and _is_int(literal(node.args[0].value)):
        return literal(node.args[0].value)
    if isinstance(node, cst.Subscript) and isinstance(node.value, cst.Attribute) and node.value.attr.value == "shape" \
            and isinstance(node.value.value, cst.Name) and node.value.value.value == receiver.value \
            and len(node.slice) == 1 and isinstance(node.slice[0].slice, cst.Index):
        index = literal(node.slice[0].slice.value)
        return index if _is_int(index) else None
    return None


# -- what a block of statements assigns (a walk over statements only: expressions are not entered) ------------------
# statements with blocks under them (concrete types: an isinstance on libcst's abstract bases costs a lot more)
_BLOCKS = frozenset({cst.If, cst.For, cst.While, cst.With, cst.Try, cst.TryStar, cst.Else, cst.ExceptHandler,
                     cst.ExceptStarHandler, cst.Finally, cst.Match, cst.MatchCase})


def _nested_statements(statement: cst.CSTNode) -> Iterable[cst.CSTNode]:
    """``statement`` and every statement in the blocks under it (if/for/while/with/try bodies, small statements
    of simple lines), without entering nested functions or classes."""
    pending = [statement]
    while pending:
        node = pending.pop()
        yield node
        node_type = type(node)
        if node_type is cst.SimpleStatementLine:
            pending.extend(node.body)
        elif node_type in _BLOCKS or (node is statement and node_type in (cst.FunctionDef, cst.ClassDef)):
            body = getattr(node, "body", None)  # a `match` has only cases
            if type(body) is cst.IndentedBlock:
                pending.extend(body.body)
            for part in ("orelse", "finalbody"):
                other = getattr(node, part, None)
                if other is not None:
                    pending.append(other)
            pending.extend(getattr(node, "handlers", ()))
            pending.extend(getattr(node, "cases", ()))


def _target_parts(target: cst.CSTNode, names: set, attributes: set) -> None:
    if isinstance(target, cst.Name):
        names.add(target.value)
    elif _is_self_attribute(target):
        attributes.add(target.attr.value)
    elif isinstance(target, (cst.Tuple, cst.List)):
        for element in target.elements:
            _target_parts(element.value, names, attributes)
    elif isinstance(target, (cst.StarredElement, cst.Subscript, cst.Attribute)):
        inner = target.value
        while isinstance(inner, (cst.Subscript, cst.Attribute)):
            inner = inner.value
        if isinstance(inner, cst.Name):
            names.add(inner.value)  # `x[0] = ...`, `model.fc = ...`: the object changed


def _assigned(statement: cst.CSTNode) -> tuple[set[str], set[str]]:
    """The names and ``self.`` attributes that ``statement`` (and the blocks under it) may rebind or mutate:
    assignment, loop and ``with``/``except`` targets, ``del``, and receivers of ``.add(...)`` calls."""
    names: set[str] = set()
    attributes: set[str] = set()
    for node in _nested_statements(statement):
        node_type = type(node)
        if node_type is cst.Assign:
            for target in node.targets:
                _target_parts(target.target, names, attributes)
        elif node_type in _TARGETED:
            _target_parts(node.target, names, attributes)
        elif node_type is cst.With:
            for item in node.items:
                if item.asname is not None:
                    _target_parts(item.asname.name, names, attributes)
        elif node_type is cst.ExceptHandler and node.name is not None:
            _target_parts(node.name.name, names, attributes)
        elif node_type in _DEFINITIONS and node is not statement:
            names.add(node.name.value)
        elif node_type is cst.Expr and type(node.value) is cst.Call:
            func = node.value.func
            if type(func) is cst.Attribute and type(func.value) is cst.Name:
                names.add(func.value.value)  # `model.add(...)`, `x.mul_(2)`: the object may change
    return names, attributes


_TARGETED = frozenset({cst.AugAssign, cst.AnnAssign, cst.For, cst.Del})
_DEFINITIONS = frozenset({cst.FunctionDef, cst.ClassDef})
_SEQUENCES = frozenset({cst.List, cst.Tuple})
_VALUED = frozenset({cst.Assign, cst.AnnAssign, cst.Return, cst.Expr})


def _calls_near_top(expression: cst.BaseExpression | None) -> Iterable[cst.Call]:
    """Calls at the top of an expression: the expression itself, its arguments and the elements of a list or
    tuple there (``self.stem = nn.Sequential(...)``, ``blocks.append(nn.Sequential(...))``)."""
    expression_type = type(expression)
    if expression_type in _SEQUENCES:
        for element in expression.elements:
            yield from _calls_near_top(element.value)
    elif expression_type is cst.Call:
        yield expression
        for arg in expression.args:
            if type(arg.value) is cst.Call or type(arg.value) in _SEQUENCES:
                yield from _calls_near_top(arg.value)


def _container_candidates(statement: cst.CSTNode) -> Iterable[cst.Call]:
    """The calls in statement position anywhere in a top-level statement (its functions and classes included),
    where containers are built; expressions are not searched further."""
    pending = [statement]
    while pending:
        current = pending.pop(0)
        if type(current) in _DEFINITIONS:
            if type(current.body) is cst.IndentedBlock:
                pending[:0] = current.body.body
            continue
        for node in _nested_statements(current):
            node_type = type(node)
            if node_type in _DEFINITIONS and node is not current:
                pending.append(node)
            elif node_type in _VALUED:
                yield from _calls_near_top(node.value)


# -- the analysis ---------------------------------------------------------------------------------------------------
class Memo:
    """What the analysis of one version of a document worked out per piece (a class, a function, a container),
    for the next version: an edit re-parses only the statements it touched (analyzers/incremental.py) and keeps
    the other nodes, so a piece whose node and inputs are the same gives the same result. Holds one version's
    pieces only: entries the last analysis did not use are dropped."""

    def __init__(self, previous: "Memo | None" = None) -> None:
        self._previous = previous._entries if previous is not None else {}
        self._entries: dict[tuple, tuple] = {}

    def get(self, node: cst.CSTNode, key: tuple):
        entry = self._entries.get((id(node), *key)) or self._previous.get((id(node), *key))
        if entry is None or entry[0] is not node:  # the node must be the very one (ids are reused)
            return _MISSING
        self._entries[(id(node), *key)] = entry
        return entry[1]

    def put(self, node: cst.CSTNode, key: tuple, value) -> None:
        self._entries[(id(node), *key)] = (node, value)

    def done(self) -> None:
        self._previous = {}


_MISSING = object()


@dataclass(frozen=True)
class _Capture:
    """What running one piece added to a flow (and to the block facts, for a function body)."""

    problems: tuple
    applied: tuple
    stacks_applied: frozenset
    extra: object = None


def _captured(reader: _Reader, run: Callable[[], object]) -> _Capture:
    outer = reader.flow
    reader.flow = Flow(outer.keras_default_layout)
    try:
        extra = run()
        inner = reader.flow
    finally:
        reader.flow = outer
    return _Capture(tuple(inner.problems), tuple(inner.applied), frozenset(inner.stacks_applied), extra)


def _replay(flow: Flow, capture: _Capture) -> None:
    for problem in capture.problems:
        flow.problem(problem.kind, problem.node, problem.message, problem.fix_node, problem.fix_text)
    flow.applied.extend(capture.applied)
    flow.stacks_applied.update(capture.stacks_applied)


def _start_key(shape: Shape) -> tuple:
    return (shape.dims, shape.open, shape.seedable)


def analyze(module: cst.Module, imports: ImportTable, source: str,
            inputs: dict[str, tuple[int, ...]] | None = None, memo: Memo | None = None) -> ShapeAnalysis:
    """Every shape problem and layer application the module's models show (``source`` is the module's text).
    ``inputs`` states input sizes for models (class or module-level variable names), instead of the file's own
    example calls. ``memo``, from the analysis of the previous version of the same document, lets the pieces
    an edit did not touch be reused (it is updated for the next version)."""
    flow = Flow(keras_default_layout="image_data_format" not in source and "image_dim_ordering" not in source)
    memo = memo if memo is not None else Memo()
    context = (tuple(imports.aliases.items()), flow.keras_default_layout)
    reader = _Reader(module, imports, flow)
    classes: dict[str, _ClassModel] = {}
    class_reader = _ClassReader(reader)
    for statement in module.body:
        if type(statement) is cst.ClassDef:
            model = memo.get(statement, ("class", context))
            if model is _MISSING:
                model = class_reader.model(statement)
                memo.put(statement, ("class", context), model)
            if model is not None:
                classes[statement.name.value] = model
    reader.classes = classes
    examples: dict = {}
    env: dict = {}
    reader.scan_block(module.body, env, examples)
    class_names = tuple(sorted(classes))
    for statement in module.body:
        if type(statement) is cst.FunctionDef and type(statement.body) is cst.IndentedBlock:
            key = ("block", context, class_names)
            capture = memo.get(statement, key)
            if capture is _MISSING:
                capture = _captured(reader, lambda: _scan_function(reader, statement))
                memo.put(statement, key, capture)
            _replay(flow, capture)
            found, stacks, added = capture.extra
            for model_key, shapes in found.items():
                examples.setdefault(model_key, set()).update(shapes)
            reader.stacks.extend(stacks)
            for stack_id, layers in added.items():
                reader._added.setdefault(stack_id, []).extend(layers)
    named = {name: value.key for name, value in env.items() if isinstance(value, _ModelRef)}
    for symbol, dims in _declared_inputs(module).items():
        key = symbol if symbol in classes else named.get(symbol)
        if key is not None:
            examples[key] = {dims}
    for symbol, dims in (inputs or {}).items():
        key = symbol if symbol in classes else named.get(symbol)
        if key is not None:
            examples[key] = {tuple(dims)}
    stated = {name: next(iter(examples[key])) for name, key in [*((c, c) for c in classes), *named.items()]
              if len(examples.get(key, ())) == 1}
    covered: set[int] = set()

    def example_for(key) -> Shape | None:
        shapes = examples.get(key, set())
        if len(shapes) != 1:
            return None
        return Shape(next(iter(shapes)), origin="the example input")

    def follow(node: cst.CSTNode, key: tuple, run: Callable[[], object]) -> None:
        capture = memo.get(node, key)
        if capture is _MISSING:
            capture = _captured(reader, run)
            memo.put(node, key, capture)
        _replay(flow, capture)
        covered.update(id(a.node) for a in capture.applied)

    for name, model in classes.items():
        if model.method is None:
            continue
        start = example_for(name) or Shape((), open=True, seedable=True)
        follow(model.node, ("forward", context, _start_key(start)),
               lambda model=model, start=start: _Forward(reader, model).run(start))
    # Keras Sequential models seen in blocks (with their `.add` calls), then every other container literal
    for stack in reader.stacks:
        final = _final_stack(reader, stack)
        start = final.input or example_for(stack.node) or Shape((), open=True, seedable=True)
        added = tuple(reader._added.get(id(stack.node), ()))
        follow(stack.node, ("stack", context, _start_key(start), tuple(map(id, added)), added),
               lambda final=final, start=start: reader.flow.apply(replace(final, input=None), start))
        covered.add(id(stack.node))
    for statement in module.body:
        candidates = memo.get(statement, ("candidates",))
        if candidates is _MISSING:
            candidates = tuple(_container_candidates(statement))
            memo.put(statement, ("candidates",), candidates)
        for call in candidates:
            if id(call) in covered or id(call) in flow.stacks_applied:
                continue
            name = imports.resolve(call.func)
            if name != _TORCH_SEQUENTIAL and name not in _KERAS_SEQUENTIAL:
                continue
            start = example_for(call) or Shape((), open=True, seedable=True)
            follow(call, ("container", context, _start_key(start)),
                   lambda call=call, start=start: _follow_container(reader, call, start))
            covered.add(id(call))
    memo.done()
    return ShapeAnalysis(flow.problems, flow.applied, stated)


_DECLARED_INPUT = re.compile(r"#\s*tensorlint\s*:\s*input-shape\s*=\s*(?P<shape>\([^)]*\)|\[[^\]]*\])")


def _declared_inputs(module: cst.Module) -> dict[str, tuple[int, ...]]:
    """Input sizes the user wrote in a comment on a model's line: ``class Net(nn.Module):  # tensorlint:
    input-shape=(4, 1, 28, 28)`` or ``model = nn.Sequential(...)  # tensorlint: input-shape=(4, 16)``."""
    declared: dict[str, tuple[int, ...]] = {}
    for statement in module.body:
        comment, name = None, None
        if type(statement) is cst.ClassDef and type(statement.body) is cst.IndentedBlock:
            comment, name = statement.body.header.comment, statement.name.value
        elif type(statement) is cst.SimpleStatementLine and len(statement.body) == 1 \
                and type(statement.body[0]) is cst.Assign and len(statement.body[0].targets) == 1 \
                and type(statement.body[0].targets[0].target) is cst.Name:
            comment, name = statement.trailing_whitespace.comment, statement.body[0].targets[0].target.value
        match = _DECLARED_INPUT.search(comment.value) if comment is not None else None
        if match is None:
            continue
        try:
            shape = literal(cst.parse_expression(match.group("shape")))
        except cst.ParserSyntaxError:
            continue
        if _example_shape(shape) is not None:
            declared[name] = shape
    return declared


def _scan_function(reader: _Reader, function: cst.FunctionDef) -> tuple:
    """Follow one function body on its own: the example inputs, Keras Sequential models and `.add` calls it has."""
    stacks, added = reader.stacks, reader._added
    reader.stacks, reader._added = [], {}
    examples: dict = {}
    try:
        reader.scan_block(function.body.body, {}, examples)
        return examples, tuple(reader.stacks), dict(reader._added)
    finally:
        reader.stacks, reader._added = stacks, added


def _follow_container(reader: _Reader, call: cst.Call, start: Shape) -> None:
    stack = reader.layer_of(call)
    if isinstance(stack, Stack):
        reader.flow.apply(replace(stack, input=None), stack.input or start)


def _final_stack(reader: _Reader, stack: Stack) -> Stack:
    added = reader._added.get(id(stack.node))
    if not added:
        return stack
    elements = reader._sequential_elements(stack.node) + added
    return reader.keras_stack(stack.node, elements, None)


# -- hover ----------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LayerShapes:
    """The shapes one layer (or its application in ``forward``/``call``) takes and gives, for a hover."""

    layer: str
    range: Range
    shapes: tuple[tuple[str, str], ...]  # (input, output) as rendered, one pair per distinct application

    def markdown(self) -> str:
        rows = "\n".join(f"| `{given}` | `{produced}` |" for given, produced in self.shapes)
        return (f"**{self.layer}**: tensor shapes\n\n| input | output |\n|---|---|\n{rows}\n\n"
                "`?` unknown, `*` any leading dimensions, letters symbolic sizes")


def render(value) -> str:
    if isinstance(value, Shape):
        return value.render()
    if isinstance(value, TupleValue):
        return "(" + ", ".join(render(item) for item in value.items) + ")"
    return "?"


def _parsed_with_imports(source: str) -> tuple[cst.Module, ImportTable] | None:
    try:
        module = parse_module(source)
    except (cst.ParserSyntaxError, RecursionError):
        return None
    imports = ImportTable()
    imports.collect(module.body)
    return module, imports


def layer_shapes_at(source: str, position: Position) -> LayerShapes | None:
    """The shapes of the layer under ``position`` (1-based line, 0-based column), or None."""

    parsed = _parsed_with_imports(source)
    if parsed is None:
        return None
    module, imports = parsed
    applied = analyze(module, imports, source).applied
    if not applied:
        return None
    ranges = node_ranges(module, [a.node for a in applied])
    best, best_span = None, None
    for application in applied:
        code_range = ranges.get(application.node)
        if code_range is None:
            continue
        start = Position(code_range.start.line, code_range.start.column)
        end = Position(code_range.end.line, code_range.end.column)
        if not start <= position <= end:
            continue
        span = (end.line - start.line, end.column - start.column if end.line == start.line else end.column)
        if best_span is None or span < best_span:
            best, best_span = application, span
    if best is None:
        return None
    pairs = dict.fromkeys((render(a.input), render(a.output)) for a in applied if a.node is best.node)
    code_range = ranges[best.node]
    return LayerShapes(best.layer.text, Range(Position(code_range.start.line, code_range.start.column),
                                         Position(code_range.end.line, code_range.end.column)), tuple(pairs))


# -- input sizes for the translator ---------------------------------------------------------------------------------
def model_input(source: str, symbol: str, candidates: Iterable[tuple[int, ...]] = ()) -> tuple[int, ...] | None:
    """An input size (batch included) for the model ``symbol`` (a class or a module-level variable): the one the
    file applies it to (``model(torch.randn(4, 1, 28, 28))``, ``summary(...)``), else the first of ``candidates``
    for which the file's shape flow shows no problem; None when neither says."""
    parsed = _parsed_with_imports(source)
    if parsed is None:
        return None
    module, imports = parsed
    plain = analyze(module, imports, source)
    stated = plain.inputs.get(symbol)
    if stated is not None:
        return tuple(stated)
    # problems the file has whatever the input (other models, channel counts) do not count against a candidate
    known = {(p.kind, id(p.node)) for p in plain.problems}
    for candidate in candidates:
        analysis = analyze(module, imports, source, {symbol: tuple(candidate)})
        if analysis.inputs.get(symbol) == tuple(candidate) and all(
                (p.kind, id(p.node)) in known for p in analysis.problems):
            return tuple(candidate)
    return None
