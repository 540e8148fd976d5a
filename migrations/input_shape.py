"""A plausible example input for a model, read statically, so an editor can offer "Translate and verify" without
asking for an input shape first: the input the file itself applies the model to (the shape engine,
analyzers/shapes.py, reads ``model(torch.randn(...))`` and ``summary(...)``), else the one its first layer implies.
Conservative: None unless the first layer states its input size as a literal (``nn.Linear(16, ...)``,
``nn.Conv2d(3, ...)``, ``keras.Input(shape=(32, 32, 3))``, a Keras layer's ``input_shape=``); an image size the
first layer leaves open is one the shape flow accepts (a ``Linear`` after a flatten fixes it). The user can always
pass the shape explicitly."""

from __future__ import annotations

import ast

import libcst as cst

from ..analyzers.shapes import model_input
from ..analyzers.traversal import nodes_of_type
from .common import ParsedSource, TranslationError, code_of

BATCH = 2
SPATIAL = 16  # per spatial dimension: big enough for a few stride-2 stages
STEPS = 5  # sequence length for recurrent and embedding inputs

_CONV_DIMS = {f"torch.nn.{kind}{n}d": n for n in (1, 2, 3)
              for kind in ("Conv", "ConvTranspose", "BatchNorm", "InstanceNorm")}
_RECURRENT = {"torch.nn.LSTM", "torch.nn.GRU", "torch.nn.RNN"}
_CONTAINERS = {"torch.nn.Sequential", "torch.nn.ModuleList", "torch.nn.ModuleDict", "torch.nn.Module"}


# spatial sizes tried, in order, when the first layer's guess does not fit the model's later layers
_SPATIAL_CANDIDATES = (SPATIAL, 28, 32, 64, 224, 8)


def example_input_shape(source_text: str, symbol: str) -> tuple[int, ...] | None:
    """The input shape (batch included) for ``symbol``: the one the file applies the model to (an example call,
    ``summary(...)``), else the one its first layer implies, with a spatial size the static shape flow accepts
    (a ``Linear`` after a flatten fixes it) where the first layer leaves it open."""
    stated = model_input(source_text, symbol)
    if stated is not None:
        return stated
    guess = _first_layer_shape(source_text, symbol)
    if guess is None or not _has_free_spatial(source_text, symbol, guess):
        return guess
    candidates = [guess[:-spatial] + (size,) * spatial
                  for spatial in (_spatial_rank(guess),) for size in _SPATIAL_CANDIDATES]
    return model_input(source_text, symbol, candidates) or guess


def _spatial_rank(shape: tuple[int, ...]) -> int:
    return sum(1 for size in shape[2:] if size == SPATIAL)


def _has_free_spatial(source_text: str, symbol: str, shape: tuple[int, ...]) -> bool:
    """Whether ``shape``'s trailing sizes are this module's SPATIAL placeholder (a torch image input)."""
    spatial = _spatial_rank(shape)
    return spatial > 0 and shape[-spatial:] == (SPATIAL,) * spatial and len(shape) == spatial + 2


def _first_layer_shape(source_text: str, symbol: str) -> tuple[int, ...] | None:
    """The input shape (batch included) the first layer of ``symbol`` implies, or None when it does not say."""
    try:
        source = ParsedSource(source_text)
    except TranslationError:
        return None
    definition = source.classes.get(symbol) or source.functions.get(symbol) or _assignment(source.module, symbol)
    if definition is None:
        return None
    # source order: an application `Dense(4)(x)` comes just before its layer
    for call in nodes_of_type(definition, cst.Call):
        name = source.resolve(call.func) or ""
        if name in ("keras.Input", "keras.layers.Input"):
            return _keras_shape(_argument(call, "shape", 0))
        if name.startswith("keras.layers."):
            return _keras_shape(_argument(call, "input_shape", None))
        if name.startswith("torch.nn.") and name[len("torch.nn."):][:1].isupper() and name not in _CONTAINERS:
            return _torch_shape(name, call)
    return None


def _assignment(module: cst.Module, symbol: str) -> cst.CSTNode | None:
    for statement in module.body:
        if isinstance(statement, cst.SimpleStatementLine):
            for small in statement.body:
                if isinstance(small, cst.Assign) and any(
                        isinstance(t.target, cst.Name) and t.target.value == symbol for t in small.targets):
                    return small
    return None




def _argument(call: cst.Call, keyword: str, position: int | None) -> cst.BaseExpression | None:
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == keyword:
            return arg.value
    positional = [arg.value for arg in call.args if arg.keyword is None and not arg.star]
    return positional[position] if position is not None and position < len(positional) else None


def _literal(node: cst.BaseExpression | None):
    if node is None:
        return None
    try:
        return ast.literal_eval(code_of(node))
    except (ValueError, SyntaxError, TypeError):
        return None


def _keras_shape(node: cst.BaseExpression | None) -> tuple[int, ...] | None:
    shape = _literal(node)
    if isinstance(shape, int):
        shape = (shape,)
    if not isinstance(shape, (tuple, list)) or not all(s is None or isinstance(s, int) for s in shape):
        return None
    return (BATCH, *(SPATIAL if s is None else s for s in shape))


def _torch_shape(name: str, call: cst.Call) -> tuple[int, ...] | None:
    if name == "torch.nn.Linear":
        features = _literal(_argument(call, "in_features", 0))
        return (BATCH, features) if isinstance(features, int) else None
    if name == "torch.nn.Embedding":
        return (BATCH, STEPS)
    if name in _RECURRENT:
        size = _literal(_argument(call, "input_size", 0))
        batch_first = _literal(_argument(call, "batch_first", 4)) is True
        if not isinstance(size, int):
            return None
        return (BATCH, STEPS, size) if batch_first else (STEPS, BATCH, size)
    if name in _CONV_DIMS:
        keyword = "num_features" if "Norm" in name else "in_channels"
        channels = _literal(_argument(call, keyword, 0))
        return (BATCH, channels, *(SPATIAL,) * _CONV_DIMS[name]) if isinstance(channels, int) else None
    return None
