"""PyTorch <-> Keras 3 source translation: str in, frozen dataclasses out (never imports torch or keras).

Three granularities share one layer translator driven by :mod:`.catalog`:

* one layer constructor or functional call (:func:`translate_call`, :func:`translate_call_at`);
* a whole ``nn.Sequential`` / ``keras.Sequential`` (a module-level assignment or a builder returning one);
* a whole ``nn.Module`` class -> ``keras.Model`` subclass, and a ``keras.Model`` subclass or a functional/Sequential
  builder function -> ``nn.Module`` (:func:`translate_symbol`).

Layout ``preserve`` (default) keeps the source's tensor layout: a translated torch CNN takes NCHW input in Keras
(``data_format="channels_first"``, ``BatchNormalization(axis=1)``, plain ``Flatten()`` which then keeps torch's
order) and a translated Keras CNN takes NHWC input in torch (spatial modules wrapped in ``MoveChannels``).
``native`` writes idiomatic target-layout code and says how inputs must change.
"""

from __future__ import annotations

import keyword
import re
from dataclasses import dataclass, field

import libcst as cst

from ..analyzers.engine import parse
from ..analyzers.frameworks import ImportTable
from . import catalog
from .catalog import REQUIRED, LayerPair, OpPair, WeightMap, literal
from .generated_helpers import KERAS_HELPERS, TORCH_HELPERS, WEIGHT_HELPERS
from .layer_defaults import differences_for

KERAS, TORCH = "keras", "torch"
PRESERVE, NATIVE = "preserve", "native"
TODO_TAG = "# TODO(tensorlint):"


class TranslationError(ValueError):
    """The request cannot be served (no such symbol, nothing translatable at a position, syntax error)."""


@dataclass(frozen=True)
class Translation:
    """``source``: the translated code (a module for a symbol, an expression for one call); ``weight_transfer``:
    the ``copy_weights(source, target)`` code; ``notes``: defaults that differ and other things to know;
    ``todos``: how many ``# TODO(tensorlint)`` markers the code carries."""

    source: str
    weight_transfer: str
    notes: tuple[str, ...]
    todos: int
    imports: tuple[str, ...] = ()  # import lines the code needs
    helpers: str = ""  # helper definitions the code needs (module level)
    direction: str = ""  # "torch->keras" or "keras->torch"
    kind: str = "call"  # "call": `source` is one expression; "module": `source` is a whole module

    def module_text(self) -> str:
        """One self-contained module: imports, helpers, the translated code (as `layer = ...` for one call) and
        copy_weights."""
        if self.kind == "module":
            return self.source
        imports = sorted(set(self.imports) | {"import numpy as np"},
                         key=lambda line: (line.startswith("from"), line))
        parts = ["\n".join(imports), self.helpers.strip(), f"layer = {self.source}", self.weight_transfer]
        return "\n\n\n".join(p for p in parts if p) + "\n"


@dataclass(frozen=True)
class CallEdit:
    """Replace the call at ``range`` (1-based lines, 0-based columns) by ``new_text``; add ``imports`` (lines) and
    ``helpers`` (module-level definitions) when they are not there yet."""

    start_line: int
    start_column: int
    end_line: int
    end_column: int
    new_text: str
    imports: tuple[str, ...]
    helpers: str
    title: str
    translation: Translation


@dataclass(frozen=True)
class NewFile:
    name: str  # e.g. "Net_keras.py"
    text: str
    translation: Translation


@dataclass(frozen=True)
class Symbol:
    """A translatable top-level definition: a model class, a builder function or a Sequential assignment."""

    name: str
    kind: str  # "class" | "function" | "sequential"
    framework: str  # source framework
    line: int
    end_line: int


# -- small code helpers ------------------------------------------------------------------------------------------
_EMPTY = cst.Module([])


def _code(node: cst.CSTNode) -> str:
    return _EMPTY.code_for_node(node)


def _spell(canonical: str) -> str:
    if canonical.startswith("keras.layers."):
        return "layers." + canonical[len("keras.layers."):]
    if canonical.startswith("torch.nn.functional."):
        return "F." + canonical[len("torch.nn.functional."):]
    if canonical.startswith("torch.nn."):
        return "nn." + canonical[len("torch.nn."):]
    return canonical


_IMPORTS = {
    "layers.": "from keras import layers",
    "keras.": "import keras",
    "F.": "import torch.nn.functional as F",
    "nn.": "from torch import nn",
    "torch.": "import torch",
}


def _imports_for(code: str) -> set[str]:
    found = set()
    for prefix, line in _IMPORTS.items():
        if re.search(r"(?<![\w.])" + re.escape(prefix), code):
            found.add(line)
    return found


def _render_call(func: str, positional: list[str], keywords: list[tuple[str, str]]) -> str:
    parts = list(positional) + [f"{name}={value}" for name, value in keywords]
    return f"{func}({', '.join(parts)})"


def _with_todos(expr: str, todos: list[str]) -> str:
    """An expression carrying TODO comments that still parses wherever an expression may stand."""
    if not todos:
        return expr
    comments = "\n".join(f"    {TODO_TAG} {reason}" for reason in todos[1:])
    middle = f"\n{comments}" if comments else ""
    return f"(  {TODO_TAG} {todos[0]}{middle}\n    {expr}\n)"


def _value(code: str):
    ok, value = literal(code)
    return value if ok else None


def _is_literal(code: str) -> bool:
    return literal(code)[0]


def _as_tuple(code: str, rank: int):
    ok, value = literal(code)
    if not ok:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (value,) * rank
    if isinstance(value, (tuple, list)) and len(value) == rank:
        return tuple(value)
    if isinstance(value, (tuple, list)) and len(value) == 1:
        return tuple(value) * rank
    return None


def _snake(name: str) -> str:
    text = re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name)
    text = re.sub(r"(?<=[A-Z])([A-Z][a-z])", r"_\1", text).lower()
    text = re.sub(r"(\d)_?d\b", r"\1d", text)
    return text


# -- shapes known statically (per sample, in the source's layout) -----------------------------------------------
@dataclass(frozen=True)
class Shape:
    """What is known about a layer's input: the channel/feature count (the channel axis of the source layout)
    and the rank including the batch axis. None where unknown."""

    features: int | str | None = None
    rank: int | None = None
    dims: tuple | None = None  # per-sample dims when fully known

    @staticmethod
    def of(per_sample: tuple | None, channels_first: bool) -> "Shape":
        if not per_sample:
            return Shape()
        dims = tuple(per_sample)
        features = dims[0] if channels_first and len(dims) > 1 else dims[-1]
        return Shape(features, len(dims) + 1, dims)


UNKNOWN = Shape()


# -- one layer -----------------------------------------------------------------------------------------------------
@dataclass
class _Out:
    """A translated layer: the target expression, how to reach its weights, and what to copy."""

    expr: str
    target_access: str = ""  # appended to the target's path to reach the weighted layer, e.g. ".layers[1]"
    weights: tuple[WeightMap, ...] = ()
    todos: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    helpers: set[str] = field(default_factory=set)
    shape_out: Shape = UNKNOWN
    key: str = ""
    call_adapter: str | None = None  # model-level helper whose calling convention matches the source


@dataclass
class _Job:
    entry: LayerPair
    to: str
    bound: dict[str, str]
    kwargs: dict[str, str]  # target keyword arguments (ordered)
    leftover: dict[str, str]  # source arguments with no target counterpart, to be consumed by the strategy
    shape: Shape
    layout: str
    model_level: bool
    out: _Out


_IGNORED_TORCH = {"device", "dtype", "inplace"}
_IGNORED_KERAS = {"name", "dtype", "trainable", "kernel_initializer", "bias_initializer", "kernel_regularizer",
                  "bias_regularizer", "activity_regularizer", "kernel_constraint", "bias_constraint",
                  "recurrent_initializer", "recurrent_regularizer", "recurrent_constraint", "beta_initializer",
                  "gamma_initializer", "moving_mean_initializer", "moving_variance_initializer",
                  "beta_regularizer", "gamma_regularizer", "beta_constraint", "gamma_constraint",
                  "embeddings_initializer", "embeddings_regularizer", "embeddings_constraint", "unit_forget_bias",
                  "alpha_initializer", "alpha_regularizer", "alpha_constraint", "depthwise_initializer",
                  "depthwise_regularizer", "depthwise_constraint", "input_shape", "input_dim_hint", "seed",
                  "synchronized", "input_length"}

# keras activation names -> torch module code (Dense(activation=...), Activation("..."))
KERAS_ACTIVATIONS: dict[str, str] = {
    "relu": "nn.ReLU()", "relu6": "nn.ReLU6()", "sigmoid": "nn.Sigmoid()", "tanh": "nn.Tanh()",
    "softmax": "nn.Softmax(dim=-1)", "log_softmax": "nn.LogSoftmax(dim=-1)", "gelu": "nn.GELU()",
    "silu": "nn.SiLU()", "swish": "nn.SiLU()", "elu": "nn.ELU()", "selu": "nn.SELU()", "celu": "nn.CELU()",
    "softplus": "nn.Softplus()", "softsign": "nn.Softsign()", "mish": "nn.Mish()", "hard_swish": "nn.Hardswish()",
    "hard_silu": "nn.Hardswish()", "hard_sigmoid": "nn.Hardsigmoid()", "leaky_relu": "nn.LeakyReLU(0.2)",
    "linear": "nn.Identity()", "tanh_shrink": "nn.Tanhshrink()", "log_sigmoid": "nn.LogSigmoid()",
}


class LayerTranslator:
    """Translates one resolved layer constructor call, reading the catalog."""

    def __init__(self, to: str, layout: str = PRESERVE, model_level: bool = False):
        if to not in (KERAS, TORCH):
            raise TranslationError(f"unknown target {to!r}: use 'keras' or 'torch'")
        if layout not in (PRESERVE, NATIVE):
            raise TranslationError(f"unknown layout {layout!r}: use 'preserve' or 'native'")
        self.to, self.layout, self.model_level = to, layout, model_level

    # which entry serves a call
    def entry_for(self, canonical: str, call: cst.Call) -> LayerPair | None:
        if self.to == KERAS:
            candidates = catalog.torch_entries(canonical)
            if not candidates:
                return None
            if canonical == "torch.nn.Upsample":
                mode = None
                for arg in call.args:
                    if arg.keyword and arg.keyword.value == "mode":
                        mode = _value(_code(arg.value))
                for c in candidates:
                    if (mode in (None, "nearest")) == (c.strategy == "upsample" and "_" not in c.key):
                        return c
            return candidates[0]
        if canonical == "keras.layers.Activation":
            name = None
            if call.args:
                first = call.args[0]
                name = _value(_code(first.value))
            for c in catalog.LAYERS:
                if c.keras_activation and c.keras_activation == name and not c.torch_only:
                    return c
            return _ACTIVATION_ENTRY if isinstance(name, str) and name in KERAS_ACTIVATIONS else None
        candidates = catalog.keras_entries(canonical)
        if not candidates:
            return None
        if canonical == "keras.layers.ReLU":
            max_value = None
            for arg in call.args:
                if arg.keyword and arg.keyword.value == "max_value":
                    max_value = _value(_code(arg.value))
            return next(c for c in candidates if (c.key == "relu6") == (max_value == 6))
        if canonical == "keras.layers.Bidirectional":
            inner = call.args[0].value if call.args else None
            inner_name = _code(inner.func) if isinstance(inner, cst.Call) else ""
            kind = inner_name.rsplit(".", 1)[-1]
            for c in candidates:
                if c.key == f"{kind.lower()}_bidirectional":
                    return c
            return None
        if canonical == "keras.layers.BatchNormalization":
            return catalog.entry("batchnorm2d")
        return candidates[0]

    def translate(self, call: cst.Call, canonical: str, shape: Shape = UNKNOWN) -> _Out:
        entry = self.entry_for(canonical, call)
        if entry is None:
            return self.unmapped(call, canonical)
        if entry is _ACTIVATION_ENTRY:
            name = _value(_code(call.args[0].value))
            return _Out(KERAS_ACTIVATIONS[name], shape_out=shape, key=f"activation:{name}")
        if canonical == "keras.layers.Bidirectional":
            inner = call.args[0].value
            bound, errors = _bind(inner, entry.keras_signature)
            for arg in call.args[1:]:
                if arg.keyword and arg.keyword.value in ("merge_mode",):
                    bound["merge_mode"] = _code(arg.value)
        else:
            signature = entry.torch_signature if self.to == KERAS else entry.keras_signature
            bound, errors = _bind(call, signature)
        if errors:
            out = self.unmapped(call, canonical)
            out.todos[:] = errors
            return out
        job = _Job(entry, self.to, bound, {}, {}, shape, self.layout, self.model_level, _Out("", key=entry.key))
        self._map_args(job)
        strategy = getattr(self, f"_s_{entry.strategy}", None) if entry.strategy else None
        if strategy is not None:
            result = strategy(job)
            if result is not None:
                return result
        else:
            self._default(job)
        return self._finish(job)

    def unmapped(self, call: cst.Call, canonical: str) -> _Out:
        return _Out(_code(call), todos=[f"{canonical} has no {'Keras' if self.to == KERAS else 'PyTorch'} "
                                         f"equivalent in the catalog"], key="")

    # -- argument mapping (generic, from the catalog) --
    def _map_args(self, job: _Job) -> None:
        entry, to = job.entry, job.to
        used: set[str] = set()
        for arg in entry.args:
            src = arg.torch if to == KERAS else arg.keras
            tgt = arg.keras if to == KERAS else arg.torch
            src_default = arg.torch_default if to == KERAS else arg.keras_default
            tgt_default = arg.keras_default if to == KERAS else arg.torch_default
            convert = catalog.CONVERTERS[arg.to_keras if to == KERAS else arg.to_torch]
            if src is None:
                continue
            if src in job.bound:
                used.add(src)
                code = job.bound[src]
                if tgt is None:
                    if src_default is REQUIRED or not _is_literal(code) or _value(code) != src_default:
                        job.leftover[src] = code
                    continue
                converted = convert(code)
                if _is_literal(converted) and tgt_default is not REQUIRED and _value(converted) == tgt_default \
                        and tgt not in job.kwargs:
                    continue
                job.kwargs[tgt] = converted
            elif tgt is not None and src_default is not REQUIRED and tgt_default is not REQUIRED:
                converted = convert(repr(src_default))
                if _value(converted) != tgt_default and tgt not in job.kwargs:
                    job.kwargs[tgt] = converted  # keep the source's default: the defaults differ
        ignored = _IGNORED_TORCH if to == KERAS else _IGNORED_KERAS
        for name, code in job.bound.items():
            if name in used:
                continue
            if name in ignored:
                if name not in ("inplace", "name"):
                    job.out.notes.append(f"`{name}={code}` is not translated (weights are copied by copy_weights)")
                continue
            job.leftover[name] = code
        for name, code in (entry.keras_fixed if to == KERAS else entry.torch_fixed):
            job.kwargs.setdefault(name, code)
        for difference in differences_for(entry.torch):
            job.out.notes.append(f"{difference.concept}: PyTorch {difference.torch_arg}={difference.torch_default}, "
                                 f"Keras {difference.keras_arg}={difference.keras_default} "
                                 f"({difference.consequence}); the translation keeps the source's value")

    def _leftover_todos(self, job: _Job, handled: tuple[str, ...] = ()) -> None:
        for name, code in job.leftover.items():
            if name in handled or (name == "activation" and job.to == TORCH):
                continue
            if job.entry.torch_input_arg == name and job.to == KERAS:
                continue
            if name in ("in_channels", "num_features", "in_features", "embed_dim", "normalized_shape",
                        "input_size", "num_channels"):
                continue
            target = "Keras" if job.to == KERAS else "PyTorch"
            job.out.todos.append(f"`{name}={code}` has no {target} equivalent here")

    def _target_class(self, job: _Job) -> str:
        return job.entry.keras if job.to == KERAS else job.entry.torch

    def _render(self, job: _Job, func: str | None = None, positional_count: int | None = None) -> str:
        entry = job.entry
        func = func or _spell(self._target_class(job))
        signature = entry.keras_signature if job.to == KERAS else entry.torch_signature
        if job.to == TORCH and entry.torch_input_arg and entry.torch_input_arg not in job.kwargs:
            signature = tuple(name for name in signature if name != entry.torch_input_arg)
        count = (entry.keras_positional if job.to == KERAS else entry.torch_positional) \
            if positional_count is None else positional_count
        positional: list[str] = []
        kwargs = dict(job.kwargs)
        for name in signature[:count]:
            if name in kwargs:
                positional.append(kwargs.pop(name))
            else:
                break
        return _render_call(func, positional, list(kwargs.items()))

    def _weights(self, job: _Job) -> tuple[WeightMap, ...]:
        return job.entry.to_keras_weights if job.to == KERAS else job.entry.to_torch_weights

    def _default(self, job: _Job) -> None:
        self._leftover_todos(job)
        if job.to == KERAS and job.entry.spatial:
            job.out.expr = self._render(job)
            self._channels_first(job)
            return
        if job.to == TORCH:
            job.leftover.pop("activation", None)
            self._input_size(job)
            count = job.entry.torch_positional
            if job.entry.torch_input_arg and job.shape.features is None and job.entry.torch_lazy:
                count -= 1
            job.out.expr = self._render(job, func=self._torch_func(job), positional_count=count)
            if job.entry.spatial:
                self._channels_last(job)
            return
        job.out.expr = self._render(job)

    def _finish(self, job: _Job) -> _Out:
        out = job.out
        if not out.expr:
            out.expr = self._render(job)
        if not out.weights:
            out.weights = self._weights(job)
        if job.to == TORCH and "activation" in job.bound and not job.entry.keras_activation:
            self._keras_activation(job)
        if out.shape_out is UNKNOWN:
            out.shape_out = self._shape_after(job)
        return out

    def _shape_after(self, job: _Job) -> Shape:
        rule = job.entry.features
        if rule == "keep":
            return job.shape
        if rule.startswith("arg:"):
            name = rule[4:]
            if job.to == KERAS:
                keras_name = name
                torch_name = next((a.torch for a in job.entry.args if a.keras == keras_name), None)
                code = job.bound.get(torch_name) if torch_name else None
            else:
                code = job.bound.get(name)
            value = _value(code) if code is not None else None
            if isinstance(value, int):
                return Shape(value, job.shape.rank)
            return Shape(code, job.shape.rank) if code is not None else Shape(None, job.shape.rank)
        return Shape()

    # -- layout --
    def _channels_first(self, job: _Job) -> None:
        """torch -> Keras, preserve: run the (channels-last) Keras layer on channels-first tensors.

        Not data_format="channels_first": Keras 3.15 on TensorFlow (CPU) computes Conv2D wrongly with it for some
        input sizes (e.g. width 8), so the translation transposes around the well-trodden channels-last path."""
        if job.layout == NATIVE:
            job.out.notes.append("native layout: this layer takes channels-last (N, ..., C) input")
            return
        job.out.expr = f"ChannelsFirst({job.out.expr})"
        job.out.target_access = ".layer" + job.out.target_access
        job.out.helpers.add("ChannelsFirst")

    def _keras_channels_first(self, job: _Job) -> bool:
        return _value(job.bound.get("data_format", "None")) == "channels_first"

    def _channels_last(self, job: _Job) -> None:
        """Keras -> torch: a spatial torch module runs channels-first; in preserve layout wrap it."""
        if job.layout == NATIVE or self._keras_channels_first(job):
            if job.layout == NATIVE and not self._keras_channels_first(job):
                job.out.notes.append("native layout: this module takes channels-first (N, C, ...) input")
            return
        job.out.expr = f"MoveChannels({job.out.expr})"
        job.out.target_access = ".module" + job.out.target_access
        job.out.helpers.add("MoveChannels")

    def _input_size(self, job: _Job) -> bool:
        """Keras -> torch: fill the torch input-size argument, or use the Lazy class; False when neither works."""
        name = job.entry.torch_input_arg
        if name is None:
            return True
        features = job.shape.features
        if features is not None:
            job.kwargs = {name: str(features), **job.kwargs}
            return True
        if job.entry.torch_lazy:
            return True
        job.kwargs = {name: "None", **job.kwargs}
        job.out.todos.append(f"`{name}` is not known statically (Keras infers it): set it to the input's "
                             f"{'channel' if job.entry.spatial else 'feature'} count")
        return True

    def _torch_func(self, job: _Job) -> str:
        if job.entry.torch_input_arg and job.shape.features is None and job.entry.torch_lazy:
            return _spell(job.entry.torch_lazy)
        return _spell(job.entry.torch)

    def _keras_activation(self, job: _Job) -> None:
        code = job.bound["activation"]
        name = _value(code)
        if name in (None, "linear"):
            return
        torch_code = KERAS_ACTIVATIONS.get(name) if isinstance(name, str) else None
        if torch_code is None:
            job.out.todos.append(f"activation={code} has no PyTorch module in the catalog")
            return
        job.out.expr = f"nn.Sequential({job.out.expr}, {torch_code})"
        job.out.target_access = "[0]" + job.out.target_access

    # -- strategies --
    def _s_conv(self, job: _Job):
        n = job.entry.spatial
        if job.to == KERAS:
            kernel = _as_tuple(job.bound.get("kernel_size", "None"), n)
            stride = _as_tuple(job.bound.get("stride", "1"), n)
            dilation = _as_tuple(job.bound.get("dilation", "1"), n)
            padding_code = job.leftover.pop("padding", None) or job.kwargs.pop("padding", None)
            job.kwargs.pop("padding", None)
            mode = _value(job.leftover.pop("padding_mode", "'zeros'"))
            pairs = None
            if padding_code is None or _value(padding_code) == "valid":
                pairs = ((0, 0),) * n
            elif _value(padding_code) == "same":
                if kernel and dilation:
                    totals = [(k - 1) * d for k, d in zip(kernel, dilation)]
                    pairs = tuple((t // 2, t - t // 2) for t in totals)
                else:
                    job.out.todos.append("padding='same' with a non-literal kernel: pad explicitly")
            else:
                pad = _as_tuple(padding_code, n)
                if pad is None:
                    job.out.todos.append(f"padding={padding_code} is not a literal: pad explicitly")
                else:
                    pairs = tuple((p, p) for p in pad)
            self._leftover_todos(job)
            if pairs is not None and any(any(p) for p in pairs):
                # TF's 'same' puts the odd element after and depends on the input size for strides > 1; it equals
                # torch's symmetric padding only for stride 1 and an even total. Otherwise pad explicitly.
                symmetric_same = (stride == (1,) * n and kernel and dilation
                                  and all(b == a and (k - 1) * d == 2 * b
                                          for (b, a), k, d in zip(pairs, kernel, dilation)))
                if symmetric_same and mode == "zeros":
                    job.kwargs["padding"] = "'same'"
                    job.out.expr = self._render(job)
                else:
                    job.out.expr = self._padded(job, pairs, mode, self._render(job))
            else:
                job.out.expr = self._render(job)
            self._channels_first(job)
            return None
        # Keras -> torch
        kernel = _as_tuple(job.bound.get("kernel_size", "None"), n)
        stride = _as_tuple(job.bound.get("strides", "1"), n) or (1,) * n
        dilation = _as_tuple(job.bound.get("dilation_rate", "1"), n) or (1,) * n
        padding = _value(job.bound.get("padding", "'valid'"))
        job.kwargs.pop("padding", None)
        self._leftover_todos(job, ("data_format",))
        self._input_size(job)
        pre = None
        if padding == "same":
            if kernel and stride == (1,) * n and all(((k - 1) * d) % 2 == 0 for k, d in zip(kernel, dilation)):
                pads = tuple((k - 1) * d // 2 for k, d in zip(kernel, dilation))
                job.kwargs["padding"] = str(pads[0]) if len(set(pads)) == 1 else str(pads)
            else:
                pre = self._same_pad(job, padding)
        elif padding == "causal":
            pre = self._same_pad(job, padding)
        elif padding != "valid":
            job.out.todos.append(f"padding={job.bound['padding']} is not a literal")
        job.out.expr = self._render(job, func=self._torch_func(job),
                                    positional_count=3 if job.shape.features is not None else 2)
        if pre:
            job.out.expr = f"nn.Sequential({pre}, {job.out.expr})"
            job.out.target_access = "[1]"
        self._channels_last(job)
        return None

    def _same_pad(self, job: _Job, mode: str) -> str:
        job.out.helpers.add("TFSamePad")
        args = [job.bound.get("kernel_size", "1"), f"stride={job.bound.get('strides', '1')}",
                f"dilation={job.bound.get('dilation_rate', '1')}", f"mode={mode!r}", f"rank={job.entry.spatial}"]
        return f"TFSamePad({', '.join(args)})"

    def _padded(self, job: _Job, pairs: tuple, mode: str, layer: str) -> str:
        """torch -> Keras: explicit (before, after) padding per spatial axis before a 'valid' layer."""
        n = job.entry.spatial
        job.out.target_access = ".layers[1]"
        if mode in ("zeros", None):
            spec = tuple(pairs[0]) if n == 1 else tuple(pairs)
            return f"keras.Sequential([layers.ZeroPadding{n}D({spec!r}), {layer}])"
        keras_mode = {"zeros": "constant", "reflect": "reflect", "replicate": "edge", "circular": "wrap"}.get(mode)
        flat = tuple(v for pair in reversed(pairs) for v in pair)
        job.out.helpers.add("Pad")
        return f"keras.Sequential([Pad({flat!r}, mode={keras_mode!r}), {layer}])"

    def _s_conv_transpose(self, job: _Job):
        n = job.entry.spatial
        if job.to == KERAS:
            pad = _as_tuple(job.kwargs.pop("padding", "0"), n)
            job.leftover.pop("padding", None)
            out_pad = _as_tuple(job.kwargs.pop("output_padding", "0"), n)
            if job.leftover.get("groups") not in (None, "1"):
                job.out.todos.append("grouped transposed convolutions have no Keras layer")
            job.leftover.pop("groups", None)
            self._leftover_todos(job)
            if pad is None or out_pad is None:
                job.out.todos.append("padding/output_padding are not literals: crop explicitly")
                job.out.expr = self._render(job)
                self._channels_first(job)
                return None
            job.out.expr = self._render(job)
            if any(pad) or any(out_pad):
                if any(o > p for o, p in zip(out_pad, pad)):
                    job.out.todos.append("output_padding larger than padding: pad the Keras output explicitly")
                else:
                    crops = tuple((p, p - o) for p, o in zip(pad, out_pad))
                    job.out.helpers.add("Crop")
                    job.out.expr = f"keras.Sequential([{job.out.expr}, Crop({crops!r})])"
                    job.out.target_access = ".layers[0]"
            self._channels_first(job)
            return None
        kernel = _as_tuple(job.bound.get("kernel_size", "None"), n)
        stride = _as_tuple(job.bound.get("strides", "1"), n) or (1,) * n
        dilation = _as_tuple(job.bound.get("dilation_rate", "1"), n) or (1,) * n
        padding = _value(job.bound.get("padding", "'valid'"))
        job.kwargs.pop("padding", None)
        if job.kwargs.get("output_padding") == "None":
            job.kwargs.pop("output_padding")
        if "output_padding" in job.bound:
            job.out.todos.append("Keras output_padding: check torch's output_padding/padding by hand")
        self._leftover_todos(job, ("data_format",))
        self._input_size(job)
        crop = None
        if padding == "same":
            if kernel is None:
                job.out.todos.append("kernel_size is not a literal")
            else:
                pads, extra = [], []
                for k, s, d in zip(kernel, stride, dilation):
                    total = (k - 1) * d + 1 - s
                    if total < 0:
                        pads.append((0, 0))
                        extra.append(-total)
                    else:
                        pads.append((total // 2, total - total // 2))
                        extra.append(0)
                if all(b == a for b, a in pads):
                    job.kwargs["padding"] = str(tuple(b for b, _ in pads)) if n > 1 else str(pads[0][0])
                    if any(extra):
                        job.kwargs["output_padding"] = str(tuple(extra)) if n > 1 else str(extra[0])
                elif not any(extra):
                    crop = tuple(pads)
                else:
                    job.out.todos.append("mixed 'same' padding cases per axis")
        elif padding != "valid":
            job.out.todos.append(f"padding={job.bound['padding']} is not a literal")
        job.out.expr = self._render(job, func=self._torch_func(job),
                                    positional_count=3 if job.shape.features is not None else 2)
        if crop:
            job.out.helpers.add("Crop")
            job.out.expr = f"nn.Sequential({job.out.expr}, Crop({crop!r}))"
            job.out.target_access = "[0]"
        self._channels_last(job)
        return None

    def _s_depthwise(self, job: _Job):
        """Keras DepthwiseConv -> torch Conv(C, C*m, k, groups=C)."""
        n = job.entry.spatial
        multiplier = job.leftover.pop("depth_multiplier", "1")
        channels = job.shape.features
        self._leftover_todos(job, ("data_format",))
        kernel = _as_tuple(job.bound.get("kernel_size", "None"), n)
        stride = _as_tuple(job.bound.get("strides", "1"), n) or (1,) * n
        dilation = _as_tuple(job.bound.get("dilation_rate", "1"), n) or (1,) * n
        padding = _value(job.bound.get("padding", "'valid'"))
        job.kwargs.pop("padding", None)
        if channels is None:
            job.out.todos.append("the channel count is not known statically: set in_channels and groups")
            channels = "None"
        out_channels = f"{channels} * {multiplier}" if not isinstance(channels, int) or not _is_literal(multiplier) \
            else str(channels * _value(multiplier))
        pre = None
        if padding == "same":
            if kernel and stride == (1,) * n and all(((k - 1) * d) % 2 == 0 for k, d in zip(kernel, dilation)):
                pads = tuple((k - 1) * d // 2 for k, d in zip(kernel, dilation))
                job.kwargs["padding"] = str(pads[0]) if len(set(pads)) == 1 else str(pads)
            else:
                pre = self._same_pad(job, "same")
        job.kwargs = {"in_channels": str(channels), "out_channels": out_channels, **job.kwargs,
                      "groups": str(channels)}
        job.out.expr = self._render(job, func=f"nn.Conv{n}d", positional_count=3)
        if pre:
            job.out.expr = f"nn.Sequential({pre}, {job.out.expr})"
            job.out.target_access = "[1]"
        job.out.shape_out = Shape(out_channels if not out_channels.isdigit() else int(out_channels), job.shape.rank)
        self._channels_last(job)
        return None

    def _s_batchnorm(self, job: _Job):
        if job.to == KERAS:
            if "momentum" in job.bound and _value(job.bound["momentum"]) is None and _is_literal(job.bound["momentum"]):
                job.out.todos.append("momentum=None (cumulative average) has no Keras equivalent")
                job.kwargs.pop("momentum", None)
            if job.leftover.pop("track_running_stats", "True") not in ("True",):
                job.out.todos.append("track_running_stats=False: Keras always keeps moving statistics")
            self._leftover_todos(job)
            if job.layout == PRESERVE:
                job.kwargs = {"axis": "1", **job.kwargs}
            return None
        axis = _value(job.bound.get("axis", "-1"))
        self._leftover_todos(job)
        if job.shape.features is None:
            func = "nn.LazyBatchNorm1d"
        else:
            func = "nn.BatchNorm1d"
            job.kwargs = {"num_features": str(job.shape.features), **job.kwargs}
        center, scale = _value(job.bound.get("center", "True")), _value(job.bound.get("scale", "True"))
        job.kwargs.pop("affine", None)
        if center is False and scale is False:
            job.kwargs["affine"] = "False"
        elif center is False or scale is False:
            job.out.todos.append("center and scale differ: torch's affine covers both")
        job.out.expr = self._render(job, func=func, positional_count=1 if job.shape.features is not None else 0)
        if axis in (1,) and job.shape.rank == 2 or job.layout == NATIVE:
            if job.layout == NATIVE:
                job.out.notes.append("native layout: BatchNorm normalises axis 1 (channels first)")
                job.out.expr = job.out.expr.replace("BatchNorm1d", f"BatchNorm{max((job.shape.rank or 4) - 2, 1)}d")
            return None
        if not isinstance(axis, int):
            job.out.todos.append(f"axis={job.bound.get('axis')} is not a single literal axis")
            axis = -1
        job.out.helpers.add("MoveChannels")
        job.out.expr = f"MoveChannels({job.out.expr}, axis={axis}, flatten=True)"
        job.out.target_access = ".module"
        return None

    def _s_layer_norm(self, job: _Job):
        if job.to == KERAS:
            shape_code = job.leftover.pop("normalized_shape", None)
            value = _value(shape_code) if shape_code else None
            if isinstance(value, (tuple, list)) and len(value) > 1:
                job.kwargs = {"axis": str(tuple(range(-len(value), 0))), **job.kwargs}
            elif not isinstance(value, (int, tuple, list)):
                job.out.notes.append(f"normalized_shape={shape_code} is taken to be one size (the last axis)")
            if job.kwargs.get("scale") == "False":
                job.kwargs["center"] = "False"
            self._leftover_todos(job)
            return None
        axis = _value(job.bound.get("axis", "-1"))
        if job.leftover.pop("rms_scaling", "False") != "False":
            job.out.todos.append("rms_scaling=True is torch's nn.RMSNorm, not LayerNorm")
        self._leftover_todos(job, ("axis",))
        scale, center = job.kwargs.pop("elementwise_affine", "True"), job.kwargs.pop("bias", "True")
        axes = (axis,) if isinstance(axis, int) else tuple(axis) if isinstance(axis, (tuple, list)) else None
        size = None
        if axes == (-1,) and job.shape.features is not None:
            size = str(job.shape.features)
        elif axes and job.shape.dims and all(a < 0 for a in axes) and sorted(axes) == list(range(-len(axes), 0)):
            size = str(tuple(job.shape.dims[len(job.shape.dims) + a] for a in sorted(axes)))
        if size is None:
            job.out.todos.append("normalized_shape is not known statically: set it to the normalised axes' sizes")
            size = "None"
        extra = []
        if scale == "False" and center == "False":
            extra.append(("elementwise_affine", "False"))
        elif center == "False":
            extra.append(("bias", "False"))
        elif scale == "False":
            job.out.todos.append("scale=False with center=True has no torch LayerNorm form")
        job.out.expr = _render_call("nn.LayerNorm", [size], list(job.kwargs.items()) + extra)
        return None

    def _s_group_norm(self, job: _Job):
        if job.to == KERAS:
            job.leftover.pop("num_channels", None)
            self._leftover_todos(job)
            job.kwargs.setdefault("groups", job.bound.get("num_groups", "32"))
            if job.kwargs.get("scale") == "False":
                job.kwargs["center"] = "False"
            job.kwargs = {"groups": job.kwargs.pop("groups"),
                          **({"axis": "1"} if job.layout == PRESERVE else {}), **job.kwargs}
            job.out.expr = self._render(job, positional_count=1)
            return None
        self._leftover_todos(job, ("axis",))
        channels = job.shape.features
        if channels is None:
            job.out.todos.append("num_channels is not known statically")
            channels = "None"
        job.kwargs.setdefault("num_groups", "32")
        center = job.kwargs.pop("affine", "True")
        job.kwargs = {"num_groups": job.kwargs.pop("num_groups"), "num_channels": str(channels), **job.kwargs}
        if center == "False":
            job.kwargs["affine"] = "False"
        job.out.expr = self._render(job, func="nn.GroupNorm", positional_count=2)
        if _value(job.bound.get("axis", "-1")) == -1 and job.layout == PRESERVE:
            job.out.expr = f"MoveChannels({job.out.expr})"
            job.out.target_access = ".module"
            job.out.helpers.add("MoveChannels")
        return None

    def _s_instance_norm(self, job: _Job):
        """torch InstanceNorm -> Keras GroupNormalization(groups=-1): one group per channel."""
        job.leftover.pop("num_features", None)
        job.leftover.pop("momentum", None)
        if job.leftover.pop("track_running_stats", "False") != "False":
            job.out.todos.append("track_running_stats=True (running statistics at inference) has no Keras "
                                 "equivalent")
        self._leftover_todos(job)
        axis = {"axis": "1"} if job.layout == PRESERVE else {}
        job.kwargs = {"groups": "-1", **axis, **job.kwargs}
        job.out.expr = self._render(job, positional_count=0)
        return None

    def _s_cropping(self, job: _Job):
        """Keras Cropping -> the torch Crop helper (slices the spatial axes of channels-first tensors)."""
        n = job.entry.spatial
        self._leftover_todos(job, ("data_format", "cropping"))
        value = _value(job.bound.get("cropping", "1"))
        crops = None
        if isinstance(value, int):
            crops = ((value, value),) * n
        elif n == 1 and isinstance(value, tuple) and len(value) == 2 and all(isinstance(v, int) for v in value):
            crops = (tuple(value),)
        elif isinstance(value, tuple) and len(value) == n:
            crops = tuple((v, v) if isinstance(v, int) else tuple(v) for v in value)
        if crops is None:
            job.out.todos.append(f"cropping={job.bound.get('cropping')} is not a literal")
            crops = ((0, 0),) * n
        job.out.helpers.add("Crop")
        job.out.expr = f"Crop({crops!r})"
        self._channels_last(job)
        return None

    def _s_embedding(self, job: _Job):
        if job.to == KERAS:
            if "padding_idx" in job.leftover:
                job.out.notes.append("padding_idx only freezes that row's gradient in torch; Keras trains it "
                                     "(the forward pass is the same with the copied weights)")
                job.leftover.pop("padding_idx")
            self._leftover_todos(job)
            return None
        if _value(job.leftover.pop("mask_zero", "False")):
            job.out.notes.append("mask_zero=True: torch layers take no mask; pass padding masks explicitly")
        self._leftover_todos(job)
        return None

    def _s_recurrent(self, job: _Job):
        kind = job.entry.key.split("_")[0]
        torch_class = {"lstm": "LSTM", "gru": "GRU", "simplernn": "RNN"}[kind]
        keras_class = {"lstm": "LSTM", "gru": "GRU", "simplernn": "SimpleRNN"}[kind]
        bidirectional = job.entry.key.endswith("bidirectional")
        if job.to == KERAS:
            bi = _value(job.leftover.pop("bidirectional", "False"))
            layers_count = job.leftover.pop("num_layers", "1")
            batch_first = job.leftover.pop("batch_first", "False")
            dropout = job.leftover.pop("dropout", "0.0")
            job.leftover.pop("input_size", None)
            nonlinearity = job.kwargs.pop("activation", None)
            if job.model_level:
                self._leftover_todos(job)
                args = [repr(torch_class if kind != "simplernn" else "RNN"), job.bound.get("hidden_size", "None")]
                kw = [(k, v) for k, v in (("num_layers", layers_count), ("bias", job.bound.get("bias")),
                                          ("batch_first", batch_first), ("bidirectional", job.bound.get(
                                              "bidirectional")), ("nonlinearity", nonlinearity)) if v not in
                      (None, "1", "False") or (k == "bias" and v == "False")]
                kw = [(k, v) for k, v in kw if not (k == "bias" and v == "True")]
                if _value(dropout) not in (0, 0.0):
                    job.out.notes.append(f"dropout={dropout} between stacked layers (training only) is not "
                                         "translated")
                job.out.helpers.add("TorchRecurrent")
                job.out.expr = _render_call("TorchRecurrent", args, kw)
                job.out.call_adapter = "TorchRecurrent"
                job.out.weights = self._weights(job) if (bi is True) == bidirectional else \
                    catalog.entry(f"{kind}_bidirectional" if bi else kind).to_keras_weights
                job.out.target_access = ".cells[{layer}]"
                job.out.shape_out = Shape()
                return job.out
            if _value(layers_count) != 1:
                job.out.todos.append(f"num_layers={layers_count}: stack {layers_count} Keras layers (the "
                                     "model-level translation does this)")
            if batch_first != "True":
                job.out.notes.append("torch's input is (time, batch, features) unless batch_first=True; Keras "
                                     "takes (batch, time, features)")
            if _value(dropout) not in (0, 0.0):
                job.out.notes.append("inter-layer dropout is not translated")
            if nonlinearity:
                job.kwargs["activation"] = nonlinearity
            self._leftover_todos(job)
            job.kwargs["return_sequences"] = "True"
            inner = self._render(job, func=f"layers.{keras_class}")
            if bi:
                job.out.expr = f"layers.Bidirectional({inner})"
                job.out.weights = catalog.entry(f"{kind}_bidirectional").to_keras_weights
            else:
                job.out.expr = inner
                job.out.weights = catalog.entry(kind).to_keras_weights
            job.out.notes.append(job.entry.notes[0])
            job.out.shape_out = Shape()
            return job.out
        # Keras -> torch
        return_sequences = _value(job.leftover.pop("return_sequences", "False"))
        return_state = _value(job.leftover.pop("return_state", "False"))
        job.leftover.pop("merge_mode", None)
        if job.bound.get("merge_mode") not in (None, "'concat'"):
            job.out.todos.append(f"merge_mode={job.bound['merge_mode']}: torch concatenates both directions")
        for name in ("go_backwards", "stateful", "unroll", "dropout", "recurrent_dropout", "reset_after",
                     "recurrent_activation"):
            if name in job.leftover:
                code = job.leftover.pop(name)
                if name == "reset_after" and _value(code) is True:
                    continue
                if name in ("dropout", "recurrent_dropout") and _value(code) in (0, 0.0):
                    continue
                job.out.todos.append(f"`{name}={code}` has no torch nn.{torch_class} equivalent")
        activation = job.kwargs.pop("activation", None) if kind == "simplernn" else job.bound.get("activation")
        if kind != "simplernn" and activation not in (None, "'tanh'"):
            job.out.todos.append(f"activation={activation}: torch's {torch_class} uses tanh")
        self._leftover_todos(job, ("activation",))
        size = job.shape.features
        if size is None:
            job.out.todos.append("input_size is not known statically: set it to the input's feature count")
            size = "None"
        kw = [("batch_first", "True")]
        if "use_bias" in job.bound and job.kwargs.get("bias") == "False":
            kw.append(("bias", "False"))
        if kind == "simplernn" and activation not in (None, "'tanh'"):
            kw.append(("nonlinearity", activation))
        if bidirectional:
            kw.append(("bidirectional", "True"))
        rnn = _render_call(f"nn.{torch_class}", [str(size), job.kwargs.get("hidden_size", "None")], kw)
        units = _value(job.kwargs.get("hidden_size", "None"))
        if job.model_level:
            adapter_kw = [(k, "True") for k, v in (("return_sequences", return_sequences),
                                                     ("return_state", return_state)) if v]
            job.out.helpers.add("KerasRecurrent")
            job.out.expr = _render_call("KerasRecurrent", [rnn], adapter_kw)
            job.out.target_access = ".rnn"
            job.out.call_adapter = "KerasRecurrent"
        else:
            job.out.expr = rnn
            job.out.notes.append("torch returns (output, state): take output for return_sequences=True, "
                                 "output[:, -1] (or h_n) for the last step")
        job.out.shape_out = Shape(units * (2 if bidirectional else 1) if isinstance(units, int) else None,
                                  job.shape.rank)
        return None

    def _s_attention(self, job: _Job):
        if job.to == KERAS:
            embed = job.leftover.pop("embed_dim", None) or "None"
            heads = job.kwargs.get("num_heads", job.bound.get("num_heads", "1"))
            batch_first = job.leftover.pop("batch_first", "False")
            self._leftover_todos(job)
            if job.model_level:
                kw = [(k, v) for k, v in (("dropout", job.bound.get("dropout")), ("bias", job.bound.get("bias")),
                                          ("batch_first", batch_first)) if v is not None and v != "False"]
                job.out.helpers.add("TorchMultiheadAttention")
                job.out.expr = _render_call("TorchMultiheadAttention", [embed, heads], kw)
                job.out.target_access = ".attention"
                job.out.call_adapter = "TorchMultiheadAttention"
                return None
            e, h = _value(embed), _value(heads)
            key_dim = str(e // h) if isinstance(e, int) and isinstance(h, int) else f"({embed}) // ({heads})"
            job.kwargs = {"num_heads": heads, "key_dim": key_dim, **{k: v for k, v in job.kwargs.items()
                                                                     if k != "num_heads"}}
            job.out.notes += list(job.entry.notes)
            if batch_first != "True":
                job.out.notes.append("torch's input is (time, batch, embed) unless batch_first=True")
            job.out.expr = self._render(job, positional_count=2)
            return None
        heads = job.kwargs.get("num_heads", "1")
        key_dim = job.leftover.pop("key_dim", "None")
        for name in ("value_dim", "output_shape", "attention_axes"):
            if name in job.leftover:
                job.out.todos.append(f"`{name}={job.leftover.pop(name)}` has no nn.MultiheadAttention equivalent")
        self._leftover_todos(job)
        h, d = _value(heads), _value(key_dim)
        embed = str(h * d) if isinstance(h, int) and isinstance(d, int) else f"({heads}) * ({key_dim})"
        if job.shape.features is not None and str(job.shape.features) != embed:
            job.out.todos.append(f"torch needs num_heads * key_dim ({embed}) == the query's size "
                                 f"({job.shape.features})")
        job.out.notes.append("assumes the query's size equals num_heads * key_dim (torch's embed_dim)")
        kw = [(k, v) for k, v in job.kwargs.items() if k not in ("num_heads", "embed_dim")]
        attention = _render_call("nn.MultiheadAttention", [embed, heads], kw + [("batch_first", "True")])
        job.out.helpers.add("KerasMultiHeadAttention")
        job.out.expr = f"KerasMultiHeadAttention({attention})"
        job.out.target_access = ".attention"
        return None

    def _s_pool(self, job: _Job):
        n = job.entry.spatial
        kind = "max" if job.entry.key.startswith("max") else "avg"
        if job.to == KERAS:
            pad = _as_tuple(job.kwargs.pop("padding", "0"), n)
            for name in ("ceil_mode", "return_indices", "dilation", "divisor_override"):
                if name in job.leftover:
                    job.out.todos.append(f"`{name}={job.leftover.pop(name)}` has no Keras pooling equivalent")
            include = job.leftover.pop("count_include_pad", "True")
            self._leftover_todos(job)
            job.out.expr = self._render(job)
            if pad is None:
                job.out.todos.append("padding is not a literal")
            elif any(pad):
                if kind == "avg" and include != "True":
                    job.out.todos.append("count_include_pad=False with padding: Keras averages padded zeros")
                value = "float('-inf')" if kind == "max" else "0.0"
                flat = tuple(v for p in reversed(pad) for v in (p, p))
                job.out.helpers.add("Pad")
                job.out.expr = f"keras.Sequential([Pad({flat!r}, value={value}), {job.out.expr}])"
            self._channels_first(job)
            return None
        padding = _value(job.bound.get("padding", "'valid'"))
        job.kwargs.pop("padding", None)
        self._leftover_todos(job, ("data_format",))
        if padding == "same":
            job.out.todos.append("padding='same' pooling: TensorFlow pads by input size; pad explicitly "
                                 "(Keras's average excludes the padding)")
        job.out.expr = self._render(job)
        self._channels_last(job)
        return None

    def _s_adaptive_pool(self, job: _Job):
        n = job.entry.spatial
        kind = "max" if "max" in job.entry.key else "avg"
        keras_name = {"max": "GlobalMaxPooling", "avg": "GlobalAveragePooling"}[kind]
        torch_name = {"max": "AdaptiveMaxPool", "avg": "AdaptiveAvgPool"}[kind]
        if job.to == KERAS:
            size_code = job.leftover.pop("output_size", "1")
            if "return_indices" in job.leftover:
                job.out.todos.append("return_indices has no Keras equivalent")
                job.leftover.pop("return_indices")
            self._leftover_todos(job)
            size = _as_tuple(size_code, n)
            if size is not None and all(s == 1 for s in size):
                job.out.expr = f"layers.{keras_name}{n}D(keepdims=True)"
                self._channels_first(job)
                return None
            if size is None or any(s is None for s in size):
                job.out.todos.append(f"output_size={size_code} is not a literal tuple of sizes")
            job.out.helpers.add("AdaptivePooling")
            job.out.expr = f"AdaptivePooling({size_code if size is None else size!r}, mode={kind!r})"
            self._channels_first(job)
            return None
        keepdims = _value(job.bound.get("keepdims", "False"))
        self._leftover_todos(job, ("data_format", "keepdims"))
        job.out.expr = f"nn.{torch_name}{n}d(1)"
        self._channels_last(job)
        if not keepdims:
            job.out.expr = f"nn.Sequential({job.out.expr}, nn.Flatten())"
        return None

    def _s_flatten(self, job: _Job):
        if job.to == KERAS:
            start, end = job.leftover.pop("start_dim", "1"), job.leftover.pop("end_dim", "-1")
            self._leftover_todos(job)
            if start != "1" or end != "-1":
                job.out.todos.append(f"Flatten(start_dim={start}, end_dim={end}): Keras flattens all "
                                     "non-batch axes; reshape explicitly")
            if job.layout == NATIVE:
                job.out.todos.append("native layout: Flatten of channels-last tensors orders features "
                                     "differently; the next Dense's weights need reordering")
            job.out.expr = "layers.Flatten()"
            return None
        if _value(job.bound.get("data_format", "None")) == "channels_first":
            job.out.todos.append("Flatten(data_format='channels_first') moves channels last before "
                                 "flattening: permute before nn.Flatten()")
        elif job.layout == NATIVE:
            job.out.todos.append("native layout: nn.Flatten of channels-first tensors orders features unlike "
                                 "Keras's channels-last Flatten; the next Linear's weights need reordering")
        self._leftover_todos(job, ("data_format",))
        job.out.expr = "nn.Flatten()"
        return None

    def _s_reshape(self, job: _Job):
        if job.to == KERAS:
            dim = job.leftover.pop("dim", "1")
            self._leftover_todos(job)
            if dim != "1":
                job.out.todos.append(f"Unflatten(dim={dim}): Keras's Reshape takes the whole per-sample shape")
            else:
                job.out.notes.append("Unflatten(1, ...) equals Reshape only for (batch, features) input")
            job.out.expr = self._render(job)
            return None
        self._leftover_todos(job)
        job.out.helpers.add("Reshape")
        job.out.expr = f"Reshape({job.kwargs.get('unflattened_size', 'None')})"
        return None

    def _s_permute(self, job: _Job):
        self._leftover_todos(job)
        job.out.helpers.add("Permute")
        job.out.expr = f"Permute({job.kwargs.get('dims', job.bound.get('dims', 'None'))})"
        return None

    def _s_zero_pad(self, job: _Job):
        n = job.entry.spatial
        if job.to == KERAS:
            self._leftover_todos(job)
            code = job.kwargs.get("padding", job.bound.get("padding", "0"))
            value = _value(job.bound.get("padding", "0"))
            if isinstance(value, int):
                code = str(value)
            elif n == 1 and isinstance(value, tuple) and len(value) == 2:
                code = repr(tuple(value))
            job.kwargs["padding"] = code
            job.out.expr = self._render(job)
            self._channels_first(job)
            return None
        self._leftover_todos(job, ("data_format",))
        value = _value(job.bound.get("padding", "1"))
        if isinstance(value, int):
            job.kwargs["padding"] = str(value) if n > 1 else str((value, value))
        elif n == 1 and isinstance(value, tuple) and len(value) == 2 and all(isinstance(v, int) for v in value):
            job.kwargs["padding"] = str(tuple(value))
        job.out.expr = self._render(job)
        self._channels_last(job)
        return None

    def _s_pad(self, job: _Job):
        mode = job.entry.key.split("_")[0]
        padding = job.leftover.pop("padding", "0")
        value = job.leftover.pop("value", "0.0")
        self._leftover_todos(job)
        n = job.entry.spatial
        pad = _value(padding)
        if isinstance(pad, int):
            padding = repr((pad,) * (2 * n))
        keras_mode = {"constant": "constant", "reflect": "reflect", "replicate": "edge"}[mode]
        args = [padding, f"mode={keras_mode!r}"] + ([f"value={value}"] if mode == "constant" else [])
        job.out.helpers.add("Pad")
        job.out.expr = f"Pad({', '.join(args)})"
        self._channels_first(job)
        return None

    def _s_upsample(self, job: _Job):
        n = job.entry.spatial
        if job.to == KERAS:
            if job.shape.rank is not None and job.shape.rank - 2 in (1, 2, 3):
                n = job.shape.rank - 2
            elif job.shape.rank is None:
                job.out.notes.append("nn.Upsample works on any rank: assumed 2 spatial axes (4-D input)")
            mode = _value(job.bound.get("mode", "'nearest'"))
            if job.leftover.get("align_corners") not in (None, "None", "False"):
                job.out.todos.append("align_corners=True has no Keras equivalent")
            job.leftover.pop("align_corners", None)
            if "size" in job.leftover:
                job.out.todos.append("Upsample(size=...): Keras's UpSampling takes integer factors")
                job.leftover.pop("size")
            job.kwargs.pop("interpolation", None)
            self._leftover_todos(job)
            if mode not in ("nearest", None) and not (n == 2 and mode == "bilinear"):
                job.out.todos.append(f"mode={mode!r} has no Keras UpSampling{n}D equivalent")
            if n == 2 and mode == "bilinear":
                job.kwargs["interpolation"] = "'bilinear'"
            job.kwargs.setdefault("size", "2")
            job.out.expr = self._render(job, func=f"layers.UpSampling{n}D", positional_count=1)
            self._channels_first(job)
            return None
        size = job.kwargs.pop("size", "2")
        self._leftover_todos(job, ("data_format",))
        mode = _value(job.bound.get("interpolation", "'nearest'"))
        args = [("scale_factor", size)]
        if mode not in ("nearest", None):
            args.append(("mode", repr(mode)))
        job.kwargs = {}
        job.out.expr = _render_call("nn.Upsample", [], args)
        self._channels_last(job)
        return None

    def _s_activation(self, job: _Job):
        if job.to == KERAS:
            self._leftover_todos(job)
            job.out.expr = f"layers.Activation({job.entry.keras_activation!r})"
            return None
        job.out.expr = f"nn.{job.entry.torch.rsplit('.', 1)[1]}()"
        return None

    def _s_relu6(self, job: _Job):
        self._leftover_todos(job, ("max_value",))
        job.out.expr = "layers.ReLU(max_value=6.0)" if job.to == KERAS else "nn.ReLU6()"
        return None

    def _s_gelu(self, job: _Job):
        if job.to == KERAS:
            approximate = _value(job.leftover.pop("approximate", "'none'"))
            self._leftover_todos(job)
            if approximate == "tanh":
                job.out.expr = "layers.Activation(lambda x: keras.activations.gelu(x, approximate=True))"
            else:
                job.out.expr = "layers.Activation('gelu')"
            return None
        job.out.expr = "nn.GELU()"
        return None

    def _s_log_softmax(self, job: _Job):
        if job.to == KERAS:
            dim = job.leftover.pop("dim", "None")
            self._leftover_todos(job)
            if _value(dim) == -1:
                job.out.expr = "layers.Activation('log_softmax')"
            elif dim == "None":
                job.out.todos.append("LogSoftmax without dim: give the axis explicitly")
                job.out.expr = "layers.Activation('log_softmax')"
            else:
                job.out.expr = f"layers.Activation(lambda x: keras.ops.log_softmax(x, axis={dim}))"
            return None
        job.out.expr = "nn.LogSoftmax(dim=-1)"
        return None

    def _s_prelu(self, job: _Job):
        if job.to == KERAS:
            count = _value(job.leftover.pop("num_parameters", "1"))
            init = job.leftover.pop("init", "0.25")
            self._leftover_todos(job)
            rank = job.shape.rank
            if rank is None:
                job.out.notes.append("PReLU: assumed a 4-D (N, C, H, W) input")
                rank = 4
            if job.layout == NATIVE:
                shared = list(range(1, rank - 1)) if count != 1 else list(range(1, rank))
            else:
                shared = list(range(2, rank)) if count != 1 else list(range(1, rank))
            args = [f"alpha_initializer=keras.initializers.Constant({init})"]
            if shared:
                args.append(f"shared_axes={shared}")
            job.out.expr = f"layers.PReLU({', '.join(args)})"
            return None
        shared = _value(job.bound.get("shared_axes", "None"))
        self._leftover_todos(job, ("shared_axes",))
        rank = job.shape.rank
        channels = job.shape.features
        if rank is not None and shared is not None and sorted(shared) == list(range(1, rank)):
            job.out.expr = "nn.PReLU(1)"
            return None
        if rank is not None and (shared is None and rank == 2 or shared is not None and
                                 sorted(shared) == list(range(1, rank - 1))):
            if channels is None:
                job.out.todos.append("the channel count is not known statically")
            job.out.expr = f"nn.PReLU({channels})"
            if rank > 2:
                self._channels_last(job)
            return None
        job.out.todos.append("this PReLU shares alpha in a way torch's per-channel PReLU cannot express")
        job.out.expr = "nn.PReLU()"
        return None


_ACTIVATION_ENTRY = LayerPair("activation", "torch.nn.Module", "keras.layers.Activation", (), ())


def _bind(call: cst.Call, signature: tuple[str, ...]) -> tuple[dict[str, str], list[str]]:
    """Arguments by parameter name (as source code)."""
    bound: dict[str, str] = {}
    errors: list[str] = []
    position = 0
    for arg in call.args:
        if arg.star:
            errors.append(f"`{arg.star}{_code(arg.value)}` cannot be mapped statically")
            continue
        if arg.keyword is not None:
            bound[arg.keyword.value] = _code(arg.value)
            continue
        if position >= len(signature):
            errors.append(f"unexpected positional argument `{_code(arg.value)}`")
            continue
        bound[signature[position]] = _code(arg.value)
        position += 1
    return bound, errors


# -- weight transfer code ----------------------------------------------------------------------------------------
def _names_in(expr: str, table: str) -> list[str]:
    return re.findall(table + r"\['([^']+)'\]", expr)


def weight_statements(weights: tuple[WeightMap, ...], to: str, source: str, target: str,
                      layer_index: int | None = None) -> list[str]:
    """Statements copying one layer's tensors from ``source`` (expression) into ``target`` (expression)."""
    if not weights:
        return []
    table = "t" if to == KERAS else "k"
    lines = [f"{table} = {'_torch_arrays' if to == KERAS else '_keras_arrays'}({source})"]
    entries, reshape = [], []
    for weight in weights:
        expr = weight.expr.replace("src.", f"{source}.")
        name = weight.target
        if layer_index is not None:
            expr = expr.replace("_l0", f"_l{layer_index}")
            name = name.replace("_l0", f"_l{layer_index}")
        if weight.optional:
            needed = _names_in(expr, table)
            condition = " and ".join(f"{n!r} in {table}" for n in dict.fromkeys(needed))
            expr = f"{expr} if {condition} else None"
        entries.append(f"{name!r}: {expr}")
        if weight.reshape:
            reshape.append(name)
    setter = "_set_keras" if to == KERAS else "_set_torch"
    body = ",\n    ".join(entries)
    extra = f", reshape={tuple(reshape)!r}" if reshape else ""
    lines.append(f"{setter}({target}, {{\n    {body},\n}}{extra})")
    return lines


def _indent(lines: list[str], prefix: str = "    ") -> list[str]:
    return [prefix + line if line else line for line in "\n".join(lines).splitlines()]


# -- module assembly ---------------------------------------------------------------------------------------------
def _header(symbol: str, to: str, layout: str) -> str:
    direction = "PyTorch -> Keras" if to == KERAS else "Keras -> PyTorch"
    return f'"""{symbol}: translated by tensorlint ({direction}, layout {layout}).\n\n' \
           f'copy_weights(source, target) copies every parameter and buffer from an instance of the original ' \
           f'into an\ninstance of this translation; call both once on an input first so lazily built weights ' \
           f'exist.\n"""'


def _module(symbol: str, to: str, layout: str, body: str, copy: str, helpers: set[str], extra_imports=()) -> str:
    imports = {"import numpy as np"} | set(extra_imports)
    imports |= _imports_for(body)
    if to == KERAS:
        imports |= {"import keras"}
        helper_text = [KERAS_HELPERS[name].strip() for name in sorted(helpers)]
    else:
        imports |= {"import torch", "from torch import nn"}
        helper_text = [TORCH_HELPERS[name].strip() for name in sorted(helpers)]
    ordered = sorted(imports, key=lambda line: (line.startswith("from"), line))
    parts = [_header(symbol, to, layout), "\n".join(ordered), *helper_text, body.strip(), copy.strip(),
             WEIGHT_HELPERS.strip()]
    return "\n\n\n".join(p for p in parts if p) + "\n"


# -- resolution context ------------------------------------------------------------------------------------------
class _Source:
    def __init__(self, text: str):
        try:
            self.module = parse(text)
        except cst.ParserSyntaxError as exc:
            raise TranslationError(f"syntax error at line {exc.raw_line}: "
                                   f"{(exc.message or 'invalid syntax').strip().splitlines()[0]}") from None
        self.text = text
        self.imports = ImportTable()
        self.imports.collect(self.module.body)
        # imports local to builders and methods (`import tensorflow as tf` inside a function) name things too
        for statement in self.module.body:
            bodies = [statement] if isinstance(statement, cst.FunctionDef) else [
                s for s in statement.body.body if isinstance(s, cst.FunctionDef)] if isinstance(
                statement, cst.ClassDef) else []
            for function in bodies:
                if isinstance(function.body, cst.IndentedBlock):
                    self.imports.collect(function.body.body)
        self.classes = {s.name.value: s for s in self.module.body if isinstance(s, cst.ClassDef)}
        self.functions = {s.name.value: s for s in self.module.body if isinstance(s, cst.FunctionDef)}

    def resolve(self, node: cst.BaseExpression) -> str | None:
        return self.imports.resolve(node)

    def class_framework(self, name: str, seen=()) -> str | None:
        node = self.classes.get(name)
        if node is None or name in seen:
            return None
        for base in node.bases:
            resolved = self.resolve(base.value)
            if resolved in ("torch.nn.Module",):
                return TORCH
            if resolved in ("keras.Model", "keras.models.Model", "keras.layers.Layer", "keras.Layer"):
                return KERAS
            if isinstance(base.value, cst.Name):
                inherited = self.class_framework(base.value.value, (*seen, name))
                if inherited:
                    return inherited
        return None


def _framework_of(canonical: str | None) -> str | None:
    if not canonical:
        return None
    if canonical.startswith("torch"):
        return TORCH
    if canonical.startswith("keras"):
        return KERAS
    return None


# -- public: one call --------------------------------------------------------------------------------------------
def translate_call(code: str, to: str, layout: str = PRESERVE, input_shape: tuple | None = None,
                   context: str = "") -> Translation:
    """Translate one layer constructor call or functional op (``code``, an expression) to ``to``.

    ``context`` is source text whose imports say what the names mean (defaults: the usual spellings);
    ``input_shape`` is the per-sample input shape in the source's layout when known (it fills sizes Keras infers
    and torch needs). The Translation's ``weight_transfer`` defines ``copy_weights(source, target)`` for one layer.
    """
    preamble = context or "import torch\nfrom torch import nn\nimport torch.nn.functional as F\nimport keras\n" \
                          "from keras import layers\nimport tensorflow as tf\n"
    source = _Source(preamble + "\n" + code.strip() + "\n")
    statement = source.module.body[-1]
    expr = statement.body[0].value if isinstance(statement, cst.SimpleStatementLine) and isinstance(
        statement.body[0], cst.Expr) else None
    if not isinstance(expr, cst.Call):
        raise TranslationError("expected one call expression, e.g. nn.Linear(3, 4)")
    return _translate_call_node(source, expr, to, layout, input_shape)


def _translate_call_node(source: _Source, call: cst.Call, to: str, layout: str,
                         input_shape: tuple | None) -> Translation:
    canonical = source.resolve(call.func)
    if _framework_of(canonical) == to or (to == TORCH and canonical and canonical.startswith("tensorflow")):
        if not (canonical or "").startswith("tensorflow"):
            raise TranslationError(f"{canonical} is already {'Keras' if to == KERAS else 'PyTorch'}")
    shape = Shape.of(input_shape, channels_first=(to == KERAS))
    op = _op_for(source, call, to)
    if op is not None:
        translator = _OpTranslator(source, to, layout)
        new = translator.translate(call)
        text = _code(new)
        todos = translator.todos
        return Translation(_with_todos(text, todos), "", tuple(dict.fromkeys(translator.notes)), len(todos),
                           tuple(sorted(_imports_for(text))), "", _direction(to))
    if canonical is None or _framework_of(canonical) is None:
        raise TranslationError(f"`{_code(call.func)}` is not a PyTorch or Keras name this module imports")
    out = LayerTranslator(to, layout).translate(call, canonical, shape)
    helpers = KERAS_HELPERS if to == KERAS else TORCH_HELPERS
    helper_text = "\n\n".join(helpers[name].strip() for name in sorted(out.helpers))
    copy = _layer_copy(out, to)
    text = _with_todos(out.expr, out.todos)
    imports = _imports_for(text + helper_text)
    return Translation(text, copy, tuple(dict.fromkeys(out.notes)), len(out.todos), tuple(sorted(imports)),
                       helper_text, _direction(to))


def _direction(to: str) -> str:
    return "torch->keras" if to == KERAS else "keras->torch"


def _layer_copy(out: _Out, to: str) -> str:
    lines = ['def copy_weights(source, target):',
             '    """Copy the source layer\'s tensors into the translated layer (both called once)."""']
    if out.call_adapter or "{layer}" in out.target_access:
        access = out.target_access.replace("{layer}", "0")
    else:
        access = out.target_access
    statements = weight_statements(out.weights, to, "source", f"target{access}")
    lines += _indent(statements) if statements else ["    pass  # no parameters or buffers"]
    return "\n".join(lines) + "\n\n\n" + WEIGHT_HELPERS.strip() + "\n"


def _top_level_spans(module: cst.Module):
    """(statement, first line of its code incl. leading comments, its code) for each top-level statement,
    without computing positions for the whole module (that costs twice a parse)."""
    line = 1 + len(module.header)
    spans = []
    for statement in module.body:
        code = module.code_for_node(statement)
        spans.append((statement, line, code))
        line += code.count("\n")
    return spans


def _positions_near(source: _Source, line: int):
    """(node, start, end) with absolute (line, column) pairs for the nodes of the top-level statement holding
    `line`; positions are computed for that statement only."""
    for statement, first, code in _top_level_spans(source.module):
        last = first + code.count("\n") - 1
        if first <= line <= last:
            snippet = cst.parse_module(code)
            positions = cst.metadata.MetadataWrapper(snippet, unsafe_skip_copy=True).resolve(
                cst.metadata.PositionProvider)
            offset = first - 1
            return [(node, (span.start.line + offset, span.start.column), (span.end.line + offset, span.end.column))
                    for node, span in positions.items()]
    return []


def translate_call_at(source_text: str, line: int, column: int, to: str | None = None,
                      layout: str = PRESERVE) -> CallEdit | None:
    """The code action on a layer call or op at (line 1-based, column 0-based): None when there is none there.
    ``to`` defaults to the other framework."""
    source = _Source(source_text)
    best = None
    for node, start, end in _positions_near(source, line):
        if not isinstance(node, cst.Call):
            continue
        if start <= (line, column) <= end:
            framework = _framework_of(source.resolve(node.func))
            if framework is None and not (isinstance(node.func, cst.Attribute)
                                          and node.func.attr.value in catalog.OPS_BY_METHOD):
                continue
            if best is None or start >= best[1]:
                best = (node, start, end, framework)
    if best is None:
        return None
    node, start, end, framework = best
    target = to or (KERAS if framework == TORCH else TORCH)
    try:
        translation = _translate_call_node(source, node, target, layout, None)
    except TranslationError:
        return None
    title = f"Translate to {'Keras' if target == KERAS else 'PyTorch'}"
    return CallEdit(start[0], start[1], end[0], end[1], translation.source,
                    translation.imports, translation.helpers, title, translation)


def translate_line(source_text: str, line: int, to: str | None = None, layout: str = PRESERVE) -> Translation:
    """``FILE:LINE``: the (outermost) layer call on that line as a self-contained module."""
    source = _Source(source_text)
    calls = [(start[1], node) for node, start, _ in _positions_near(source, line)
             if isinstance(node, cst.Call) and start[0] == line
             and _framework_of(source.resolve(node.func)) and not _is_op_call(source, node)]
    if not calls:
        raise TranslationError(f"no PyTorch or Keras layer call on line {line}")
    _, node = min(calls, key=lambda item: item[0])
    framework = _framework_of(source.resolve(node.func))
    target = to or (KERAS if framework == TORCH else TORCH)
    return _translate_call_node(source, node, target, layout, None)


def _is_op_call(source: _Source, call: cst.Call) -> bool:
    canonical = source.resolve(call.func) or ""
    return canonical in catalog.OPS_BY_TORCH or canonical.startswith("keras.ops.") or (
        _framework_of(canonical) == TORCH and not canonical.startswith("torch.nn.") or
        canonical.startswith("torch.nn.functional."))


# -- functional ops inside forward/call ----------------------------------------------------------------------------
def _op_for(source: _Source, call: cst.Call, to: str) -> OpPair | None:
    canonical = source.resolve(call.func)
    if to == KERAS:
        if canonical in catalog.OPS_BY_TORCH:
            return catalog.OPS_BY_TORCH[canonical]
        if canonical is None and isinstance(call.func, cst.Attribute):
            return catalog.OPS_BY_METHOD.get(call.func.attr.value)
        return None
    if canonical in catalog.OPS_BY_KERAS and canonical.startswith(("keras.ops.", "keras.random.")):
        return catalog.OPS_BY_KERAS[canonical]
    return None


class _OpTranslator(cst.CSTTransformer):
    """Rewrites functional calls, tensor methods and training flags inside forward/call bodies."""

    def __init__(self, source: _Source, to: str, layout: str, layer_attrs: dict[str, str] | None = None):
        super().__init__()
        self.source, self.to, self.layout = source, to, layout
        self.todos: list[str] = []
        self.notes: list[str] = []
        self.layer_attrs = layer_attrs or {}

    def translate(self, node: cst.CSTNode) -> cst.CSTNode:
        return node.visit(self)

    def leave_Arg(self, original: cst.Arg, updated: cst.Arg) -> cst.Arg:
        return updated.with_changes(keyword=original.keyword)

    def leave_Param(self, original: cst.Param, updated: cst.Param) -> cst.Param:
        return updated.with_changes(name=original.name)

    def leave_Attribute(self, original: cst.Attribute, updated: cst.Attribute) -> cst.BaseExpression:
        updated = updated.with_changes(attr=original.attr)
        if isinstance(updated.value, cst.Name) and updated.value.value == "self" and updated.attr.value == "training" \
                and self.to == KERAS:
            return cst.Name("training")
        return updated

    def leave_Name(self, original: cst.Name, updated: cst.Name) -> cst.BaseExpression:
        if self.to == TORCH and updated.value == "training" and getattr(self, "_training_param", False):
            return cst.parse_expression("self.training")
        return updated

    def leave_Call(self, original: cst.Call, updated: cst.Call) -> cst.BaseExpression:
        canonical = self.source.resolve(original.func)
        if self.to == KERAS:
            return self._to_keras(original, updated, canonical)
        return self._to_torch(original, updated, canonical)

    def _todo(self, reason: str, node: cst.BaseExpression) -> cst.BaseExpression:
        self.todos.append(reason)
        return node

    def _args(self, updated: cst.Call, signature: tuple[str, ...], method_receiver: cst.BaseExpression | None):
        bound: dict[str, str] = {}
        extra: list[str] = []
        names = list(signature)
        if method_receiver is not None:
            bound[names.pop(0)] = _code(method_receiver)
        position = 0
        for arg in updated.args:
            if arg.star:
                extra.append(_code(arg.value) if arg.star == "*" else "")
                continue
            if arg.keyword is not None:
                bound[arg.keyword.value] = _code(arg.value)
            elif position < len(names):
                bound[names[position]] = _code(arg.value)
                position += 1
            else:
                extra.append(_code(arg.value))
        return bound, extra

    def _to_keras(self, original: cst.Call, updated: cst.Call, canonical: str | None) -> cst.BaseExpression:
        func = updated.func
        receiver = None
        if canonical in catalog.OPS_BY_TORCH:
            op = catalog.OPS_BY_TORCH[canonical]
        elif canonical is None and isinstance(func, cst.Attribute):
            name = func.attr.value
            if name in ("contiguous", "clone") and not updated.args:
                return func.value
            if name == "size":
                shape = f"keras.ops.shape({_code(func.value)})"
                if updated.args:
                    return cst.parse_expression(f"{shape}[{_code(updated.args[0].value)}]")
                return cst.parse_expression(shape)
            if name == "float" and not updated.args:
                return cst.parse_expression(f"keras.ops.cast({_code(func.value)}, 'float32')")
            if name == "detach" and not updated.args:
                return cst.parse_expression(f"keras.ops.stop_gradient({_code(func.value)})")
            if _is_layer_call(func, self.layer_attrs):
                return updated
            op = catalog.OPS_BY_METHOD.get(name)
            if op is None:
                return updated
            receiver = func.value
        else:
            if _framework_of(canonical) == TORCH:
                return self._todo(f"{canonical} has no Keras equivalent in the catalog", updated)
            return updated
        bound, extra = self._args(updated, op.torch_signature, receiver)
        return self._emit_op(op, bound, extra, updated, KERAS)

    def _emit_op(self, op: OpPair, bound: dict[str, str], extra: list[str], node: cst.Call, to: str):
        for name in (*op.torch, op.keras):
            for d in differences_for(name):
                self.notes.append(f"{d.concept}: PyTorch {d.torch_arg}={d.torch_default}, Keras {d.keras_arg}="
                                  f"{d.keras_default} ({d.consequence}); the translation keeps the source's value")
        result = self._emit_op_plain(op, bound, extra, node, to)
        layout_bound = op.key in _LAYOUT_OPS or any(name in bound for name in ("dim", "axis", "dim0", "dims", "axes"))
        if self.layout == NATIVE and layout_bound and result is not node:
            self.todos.append(f"native layout: the axes of {op.key} refer to the source's layout "
                              f"({'NCHW' if to == KERAS else 'NHWC'}); check them")
        return result

    def _emit_op_plain(self, op: OpPair, bound: dict[str, str], extra: list[str], node: cst.Call, to: str):
        src_names = op.torch_signature if to == KERAS else op.keras_signature
        strategy = op.strategy
        if strategy == "shape_varargs":
            shape_name = src_names[1]
            if extra:
                parts = [bound.pop(shape_name)] + extra if shape_name in bound else extra
                bound[shape_name] = f"({', '.join(parts)},)" if len(parts) == 1 else f"({', '.join(parts)})"
                extra = []
        if strategy == "varargs_after_first" and to == KERAS:
            operands = [bound.pop(k) for k in list(bound) if k != "equation"]
            return cst.parse_expression(f"keras.ops.einsum({bound['equation']}, {', '.join(operands + extra)})")
        if strategy == "varargs_after_first" and to == TORCH:
            operands = [bound.pop(k) for k in list(bound) if k != "subscripts"]
            return cst.parse_expression(f"torch.einsum({bound['subscripts']}, {', '.join(operands + extra)})")
        if strategy == "dropout_op" and to == KERAS:
            x, rate = bound.get("input"), bound.get("p", "0.5")
            training = bound.get("training", "True")
            dropped = f"keras.random.dropout({x}, {rate})"
            if training == "True":
                self.notes.append("F.dropout defaults to training=True: it drops at inference too")
                return cst.parse_expression(dropped)
            if training == "False":
                return cst.parse_expression(x)
            return cst.parse_expression(f"({dropped} if {training} else {x})")
        if strategy == "dropout_op" and to == TORCH:
            return cst.parse_expression(f"F.dropout({bound.get('inputs')}, {bound.get('rate')}, training=True)")
        if strategy == "flatten_op" and to == KERAS:
            x = bound.get("input")
            start, end = bound.get("start_dim", "0"), bound.get("end_dim", "-1")
            if end != "-1":
                return self._todo("flatten with end_dim is not translated", node)
            if start == "0":
                return cst.parse_expression(f"keras.ops.reshape({x}, (-1,))")
            if start == "1":
                if not re.fullmatch(r"[\w.]+", x):  # evaluate a computed tensor once
                    return cst.parse_expression(f"keras.ops.reshape((flat := {x}), (keras.ops.shape(flat)[0], -1))")
                return cst.parse_expression(f"keras.ops.reshape({x}, (keras.ops.shape({x})[0], -1))")
            return self._todo(f"flatten(start_dim={start}) is not translated", node)
        if extra:
            return self._todo("variadic arguments are not translated", node)
        target_args: list[str] = []
        keywords: list[tuple[str, str]] = []
        for arg in op.args:
            src = arg.torch if to == KERAS else arg.keras
            tgt = arg.keras if to == KERAS else arg.torch
            convert = catalog.CONVERTERS[arg.to_keras if to == KERAS else arg.to_torch]
            if src in bound:
                code = bound.pop(src)
                if tgt is None:
                    return self._todo(f"`{src}={code}` has no counterpart", node)
                keywords.append((tgt, convert(code)))
            elif tgt is not None:
                src_default = arg.torch_default if to == KERAS else arg.keras_default
                tgt_default = arg.keras_default if to == KERAS else arg.torch_default
                if src_default is not REQUIRED and tgt_default is not REQUIRED and src_default != tgt_default:
                    keywords.append((tgt, convert(repr(src_default))))
        if bound:
            return self._todo(f"arguments {sorted(bound)} are not translated", node)
        target_signature = op.keras_signature if to == KERAS else op.torch_signature
        # the leading arguments go positionally, in the target's order
        by_name = dict(keywords)
        positional_count = 3 if op.key in ("transpose",) else 1
        if to == TORCH and op.key in ("clamp", "where", "einsum"):
            positional_count = 3
        if to == KERAS and op.key in ("clamp", "where", "unsqueeze"):
            positional_count = 3
        if len(target_signature) > 1 and target_signature[1] in ("x2", "other", "mat2", "exponent", "newshape",
                                                                 "shape", "axes", "dims", "axis2"):
            positional_count = max(positional_count, 2)
        for name in target_signature[:positional_count]:
            if name in by_name:
                target_args.append(by_name.pop(name))
            else:
                break
        function = op.keras if to == KERAS else (op.torch[0] if op.torch else None)
        if function is None:  # a method-only op (view): spell it as a method on the first argument
            receiver = target_args.pop(0)
            text = _render_call(f"{receiver}.{op.torch_method}", target_args, list(by_name.items()))
            return cst.parse_expression(text)
        return cst.parse_expression(_render_call(_spell(function), target_args, list(by_name.items())))

    def _to_torch(self, original: cst.Call, updated: cst.Call, canonical: str | None) -> cst.BaseExpression:
        if isinstance(updated.func, cst.Attribute) and _is_layer_call(updated.func, self.layer_attrs):
            # torch modules take no training/mask arguments (self.training says which mode)
            kept = [a for a in updated.args if not (a.keyword and a.keyword.value in ("training", "mask"))]
            if len(kept) != len(updated.args):
                if kept:
                    kept[-1] = kept[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
                return updated.with_changes(args=kept)
            return updated
        if canonical == "keras.ops.shape" and len(updated.args) == 1:
            return cst.parse_expression(f"{_code(updated.args[0].value)}.shape")
        if canonical == "keras.ops.cast" and len(updated.args) == 2:
            dtype = _value(_code(updated.args[1].value))
            if isinstance(dtype, str):
                return cst.parse_expression(f"{_code(updated.args[0].value)}.to(torch.{dtype})")
        if canonical == "keras.ops.stop_gradient" and len(updated.args) == 1:
            return cst.parse_expression(f"{_code(updated.args[0].value)}.detach()")
        if canonical in catalog.OPS_BY_KERAS and canonical.startswith(("keras.ops.", "keras.random.")):
            op = catalog.OPS_BY_KERAS[canonical]
            if op.key == "view":
                op = next(o for o in catalog.OPS if o.key == "reshape")
            bound, extra = self._args(updated, op.keras_signature, None)
            return self._emit_op(op, bound, extra, updated, TORCH)
        if _framework_of(canonical) == KERAS and canonical and canonical.startswith("keras.ops."):
            return self._todo(f"{canonical} has no PyTorch equivalent in the catalog", updated)
        # a merge layer applied at once: layers.Add()([a, b])
        if isinstance(updated.func, cst.Call):
            merged = self.merge_call(updated.func, updated.args)
            if merged is not None:
                return merged
            if _framework_of(self.source.resolve(updated.func.func)) == KERAS:
                return self._todo("a Keras layer created inside call(): create it in __init__", updated)
        return updated

    def merge_call(self, layer_call: cst.Call, call_args) -> cst.BaseExpression | None:
        canonical = self.source.resolve(layer_call.func)
        op = catalog.OPS_BY_KERAS.get(canonical or "")
        if op is None or not canonical.startswith("keras.layers.") or not call_args:
            return None
        inputs = call_args[0].value
        items = [_code(e.value) for e in inputs.elements] if isinstance(inputs, (cst.List, cst.Tuple)) else None
        if op.key == "cat":
            axis = "-1"
            for arg in layer_call.args:
                if arg.keyword is None or arg.keyword.value == "axis":
                    axis = _code(arg.value)
            return cst.parse_expression(f"torch.cat({_code(inputs)}, dim={axis})")
        if items is None:
            return None
        if op.torch_operator:
            return cst.parse_expression("(" + f" {op.torch_operator} ".join(items) + ")")
        text = items[0]
        for item in items[1:]:
            text = f"{op.torch[0]}({text}, {item})"
        return cst.parse_expression(text)


_LAYOUT_OPS = {"reshape", "view", "flatten", "permute", "transpose", "cat", "stack", "squeeze", "unsqueeze"}


def _is_layer_call(func: cst.Attribute, layer_attrs: dict[str, str]) -> bool:
    return isinstance(func.value, cst.Name) and func.value.value == "self" and func.attr.value in layer_attrs


# -- whole models --------------------------------------------------------------------------------------------------
@dataclass
class _Record:
    """One weighted thing to copy: a catalog layer, a local custom class, or a loop over a list of either."""

    source_path: str  # appended to "source", e.g. ".features[0]"
    target_path: str  # appended to "target", e.g. ".features.layers[0]"
    out: _Out | None = None
    custom: str | None = None  # local class name (copied by its own _copy_<name>)
    keras_lookup: str | None = None  # functional models: expression finding the Keras layer in `source`
    layers_count: int = 1
    loop: "_Record | None" = None


def _indent_block(text: str, prefix: str = "    ") -> str:
    return "\n".join(prefix + line if line.strip() else line for line in text.splitlines())


def _dedent_code(node: cst.CSTNode) -> str:
    import textwrap

    return textwrap.dedent(_code(node))


def _leading_todos(statement: cst.BaseStatement, reasons: list[str]) -> cst.BaseStatement:
    if not reasons:
        return statement
    comments = [cst.EmptyLine(comment=cst.Comment(f"{TODO_TAG} {reason}")) for reason in dict.fromkeys(reasons)]
    return statement.with_changes(leading_lines=[*statement.leading_lines, *comments])


def _self_attr(node: cst.BaseExpression) -> str | None:
    if isinstance(node, cst.Attribute) and isinstance(node.value, cst.Name) and node.value.value == "self":
        return node.attr.value
    return None


class _ModelTranslator:
    def __init__(self, source: _Source, to: str, layout: str):
        self.source, self.to, self.layout = source, to, layout
        self.layers = LayerTranslator(to, layout, model_level=True)
        self.helpers: set[str] = set()
        self.notes: list[str] = []
        self.todos = 0
        self.copy_functions: list[str] = []
        self.translated_classes: list[str] = []
        self.done_classes: set[str] = set()
        self.source_framework = KERAS if to == TORCH else TORCH
        self.renames: dict[str, str] = {}

    # -- layers --
    def _layer(self, call: cst.Call, shape: Shape = UNKNOWN) -> _Out | None:
        canonical = self.source.resolve(call.func)
        if canonical is None or _framework_of(canonical) != self.source_framework:
            return None
        if canonical in ("torch.nn.Sequential", "keras.Sequential", "keras.models.Sequential", "torch.nn.ModuleList"):
            return None
        out = self.layers.translate(call, canonical, shape)
        self.helpers |= out.helpers
        self.notes += out.notes
        return out

    def _expr_with_todos(self, out: _Out) -> str:
        self.todos += len(out.todos)
        return _with_todos(out.expr, out.todos)

    def _layers_count(self, call: cst.Call) -> int:
        for arg in call.args:
            if arg.keyword and arg.keyword.value == "num_layers":
                value = _value(_code(arg.value))
                return value if isinstance(value, int) else 1
        if len(call.args) > 2 and call.args[2].keyword is None:
            value = _value(_code(call.args[2].value))
            return value if isinstance(value, int) else 1
        return 1

    def sequential(self, call: cst.Call, records: list[_Record], source_prefix: str, target_prefix: str,
                   shape: Shape = UNKNOWN) -> tuple[str, Shape]:
        """nn.Sequential(a, b) <-> keras.Sequential([a, b]); fills `records` for copy_weights."""
        if self.to == KERAS:
            items = [arg.value for arg in call.args if not arg.keyword]
            if any(arg.star for arg in call.args):
                self.todos += 1
                return _with_todos(_code(call), ["nn.Sequential(*...) is not translated statically"]), UNKNOWN
        else:
            items = []
            if call.args and isinstance(call.args[0].value, (cst.List, cst.Tuple)):
                items = [element.value for element in call.args[0].value.elements]
            elif call.args:
                self.todos += 1
                return _with_todos(_code(call), ["keras.Sequential(...) without a literal list"]), UNKNOWN
        texts: list[str] = []
        index = 0
        for item in items:
            if self.to == TORCH and isinstance(item, cst.Call) and self.source.resolve(item.func) in (
                    "keras.Input", "keras.layers.Input", "keras.layers.InputLayer"):
                shape = self._input_shape(item)
                continue
            if self.to == TORCH and isinstance(item, cst.Call):
                shape = self._shape_hint(item, shape)
            text, shape = self.item(item, records, f"{source_prefix}{self._source_index(index)}",
                                    f"{target_prefix}{self._target_index(index)}", shape)
            texts.append(text)
            index += 1
        if self.to == KERAS:
            body = ",\n".join(_indent_block(t) for t in texts)
            return (f"keras.Sequential([\n{body},\n])" if texts else "keras.Sequential()"), shape
        body = ",\n".join(_indent_block(t) for t in texts)
        return (f"nn.Sequential(\n{body},\n)" if texts else "nn.Sequential()"), shape

    def _source_index(self, index: int) -> str:
        return f"[{index}]" if self.to == KERAS else f".layers[{index}]"

    def _target_index(self, index: int) -> str:
        return f".layers[{index}]" if self.to == KERAS else f"[{index}]"

    def _shape_hint(self, call: cst.Call, shape: Shape) -> Shape:
        for arg in call.args:
            if arg.keyword and arg.keyword.value == "input_shape":
                value = _value(_code(arg.value))
                if isinstance(value, tuple):
                    return Shape.of(value, channels_first=False)
        return shape

    def _input_shape(self, call: cst.Call) -> Shape:
        for arg in call.args:
            if arg.keyword is None or arg.keyword.value == "shape":
                value = _value(_code(arg.value))
                if isinstance(value, tuple):
                    return Shape.of(value, channels_first=False)
                break
        return UNKNOWN

    def item(self, node: cst.BaseExpression, records: list[_Record], source_path: str, target_path: str,
             shape: Shape = UNKNOWN) -> tuple[str, Shape]:
        """A module/layer-valued expression: a catalog layer, a Sequential, a local model class, or a TODO."""
        if isinstance(node, cst.Call):
            canonical = self.source.resolve(node.func)
            if canonical in ("torch.nn.Sequential", "keras.Sequential", "keras.models.Sequential"):
                return self.sequential(node, records, source_path, target_path, shape)
            if isinstance(node.func, cst.Name) and node.func.value in self.source.classes and \
                    self.source.class_framework(node.func.value) == self.source_framework:
                self.translate_class(node.func.value)
                records.append(_Record(source_path, target_path, custom=node.func.value))
                return self._translate_expression(node), UNKNOWN
            out = self._layer(node, shape)
            if out is not None:
                count = self._layers_count(node) if out.call_adapter == "TorchRecurrent" else 1
                if out.weights:
                    records.append(_Record(source_path, target_path, out, layers_count=count))
                return self._expr_with_todos(out), out.shape_out
        self.todos += 1
        return _with_todos(_code(node), [f"`{_code(node)[:60]}` is not a layer the catalog knows"]), UNKNOWN

    def _translate_expression(self, node: cst.CSTNode, layer_attrs=None) -> str:
        translator = _OpTranslator(self.source, self.to, self.layout, layer_attrs)
        new = node.visit(translator)
        self.todos += len(translator.todos)
        return _with_todos(_code(new), translator.todos)

    # -- copy code --
    def copy_lines(self, records: list[_Record], source: str = "source", target: str = "target") -> list[str]:
        lines: list[str] = []
        for record in records:
            src = record.keras_lookup or f"{source}{record.source_path}"
            dst = f"{target}{record.target_path}"
            if record.loop is not None:
                inner = self.copy_lines([record.loop], "source_item", "target_item")
                lines.append(f"for source_item, target_item in zip({src}, {dst}):")
                lines += _indent(inner)
            elif record.custom:
                lines.append(f"_copy_{record.custom}({src}, {dst})")
            elif record.out is not None:
                access = record.out.target_access
                if "{layer}" in access:
                    for index in range(record.layers_count):
                        lines += weight_statements(record.out.weights, self.to, src,
                                                   dst + access.replace("{layer}", str(index)), index)
                else:
                    lines += weight_statements(record.out.weights, self.to, src, dst + access)
        return lines

    def copy_function(self, name: str, records: list[_Record]) -> str:
        lines = self.copy_lines(records)
        body = "\n".join(_indent(lines)) if lines else "    pass  # no parameters or buffers"
        what = "torch module" if self.to == KERAS else "Keras model"
        return (f"def _copy_{name}(source, target):\n"
                f'    """Copy every parameter and buffer of a {what} `{name}` into its translation."""\n{body}\n')

    # -- classes --
    def translate_class(self, name: str) -> None:
        if name in self.done_classes:
            return
        self.done_classes.add(name)
        node = self.source.classes[name]
        reserved = _KERAS_MODEL_ATTRIBUTES if self.to == KERAS else _TORCH_MODULE_ATTRIBUTES
        outer = self.renames
        self.renames = {attr: f"{attr}_" for attr in self._layer_attrs(self._methods(node)) if attr in reserved}
        if self.renames:
            self.notes.append(f"{name}: attributes {sorted(self.renames)} are reserved by the target framework "
                              f"and were renamed with a trailing underscore")
        if self.to == KERAS:
            text, records = self._torch_class_to_keras(node)
        else:
            text, records = self._keras_class_to_torch(node)
        self.renames = outer
        self.translated_classes.append(text)
        self.copy_functions.append(self.copy_function(name, records))

    def _class_header(self, node: cst.ClassDef) -> str:
        base = "keras.Model" if self.to == KERAS else "nn.Module"
        bases = []
        for arg in node.bases:
            resolved = self.source.resolve(arg.value)
            if resolved in ("torch.nn.Module", "keras.Model", "keras.models.Model", "keras.layers.Layer",
                            "keras.Layer"):
                bases.append(base)
            elif isinstance(arg.value, cst.Name) and arg.value.value in self.source.classes:
                self.translate_class(arg.value.value)
                bases.append(arg.value.value)
            else:
                bases.append(_code(arg.value))
        return f"class {node.name.value}({', '.join(bases)}):"

    def _methods(self, node: cst.ClassDef) -> dict[str, cst.FunctionDef]:
        return {s.name.value: s for s in node.body.body if isinstance(s, cst.FunctionDef)}

    def _init_statements(self, init: cst.FunctionDef, records: list[_Record],
                         shapes: dict[str, Shape]) -> list[str]:
        lines: list[str] = []
        for statement in init.body.body:
            lines.append(self._init_statement(statement, records, shapes))
        return lines

    def _init_statement(self, statement: cst.BaseStatement, records: list[_Record],
                        shapes: dict[str, Shape]) -> str:
        if isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1:
            small = statement.body[0]
            if isinstance(small, cst.Expr) and isinstance(small.value, cst.Call) and _is_super_init(small.value):
                return _comments(statement) + "super().__init__()"
            if isinstance(small, cst.Assign) and len(small.targets) == 1:
                attr = _self_attr(small.targets[0].target)
                if attr is not None:
                    new_attr = self.renames.get(attr, attr)
                    value = self._module_value(small.value, records, f".{attr}", f".{new_attr}",
                                               shapes.get(attr, UNKNOWN))
                    if value is not None:
                        return _comments(statement) + f"self.{new_attr} = {value}"
        if isinstance(statement, (cst.If, cst.For)) and self._contains_layers(statement):
            self.todos += 1
            return f"{TODO_TAG} layers built under control flow are not translated\n" + _dedent_code(statement)
        return self._translate_statement(statement)

    def _contains_layers(self, node: cst.CSTNode) -> bool:
        found = []

        class Finder(cst.CSTVisitor):
            def visit_Call(inner, call: cst.Call) -> None:
                if _framework_of(self.source.resolve(call.func)) == self.source_framework and \
                        self.source.resolve(call.func).split(".")[1] in ("nn", "layers"):
                    found.append(call)

        node.visit(Finder())
        return bool(found)

    def _module_value(self, value: cst.BaseExpression, records: list[_Record], source_path: str,
                      target_path: str, shape: Shape) -> str | None:
        if isinstance(value, cst.Call):
            canonical = self.source.resolve(value.func)
            if canonical == "torch.nn.ModuleList":
                inner = value.args[0].value if value.args else cst.List([])
                return self._list_value(inner, records, source_path, target_path)
            if canonical in ("torch.nn.Sequential", "keras.Sequential", "keras.models.Sequential") or \
                    self._layer_like(value):
                text, _ = self.item(value, records, source_path, target_path, shape)
                return text
        if isinstance(value, (cst.List, cst.ListComp)) and self._contains_layers(value):
            text = self._list_value(value, records, source_path, target_path)
            if self.to == KERAS:
                self.notes.append(f"`{source_path.lstrip('.')}` is a plain list of torch modules (not an "
                                  "nn.ModuleList): torch does not register them, Keras tracks them")
            return f"nn.ModuleList({text})" if self.to == TORCH else text
        return None

    def _layer_like(self, call: cst.Call) -> bool:
        canonical = self.source.resolve(call.func)
        if _framework_of(canonical) == self.source_framework:
            return True
        return isinstance(call.func, cst.Name) and call.func.value in self.source.classes

    def _list_value(self, node: cst.BaseExpression, records: list[_Record], source_path: str,
                    target_path: str) -> str:
        if isinstance(node, (cst.List, cst.Tuple)):
            texts = []
            for index, element in enumerate(node.elements):
                text, _ = self.item(element.value, records, f"{source_path}[{index}]", f"{target_path}[{index}]")
                texts.append(text)
            return "[\n" + ",\n".join(_indent_block(t) for t in texts) + ",\n]" if texts else "[]"
        if isinstance(node, cst.ListComp):
            inner_records: list[_Record] = []
            text, _ = self.item(node.elt, inner_records, "", "")
            if len(inner_records) == 1:
                records.append(_Record(source_path, target_path, loop=inner_records[0]))
            elif inner_records:
                self.todos += 1
                text = _with_todos(text, ["several weighted layers per list element: copy them by hand"])
            return f"[{text} {_code(node.for_in).strip()}]"
        self.todos += 1
        return _with_todos(_code(node), ["a module list that is not a literal list or comprehension"])

    def _translate_statement(self, statement: cst.BaseStatement, layer_attrs=None, training_param=False) -> str:
        if _imports_source_framework(statement, self.source_framework):
            return ""  # the translation's own imports are at the top of the module
        translator = _OpTranslator(self.source, self.to, self.layout, layer_attrs)
        translator._training_param = training_param
        if self.renames:
            statement = statement.visit(_RenameSelfAttributes(self.renames))
        new = statement.visit(translator)
        self.todos += len(translator.todos)
        self.notes += translator.notes
        new = _leading_todos(new, translator.todos)
        return _dedent_code(new).rstrip("\n")

    def _function(self, header: str, body_lines: list[str]) -> str:
        body = "\n".join(_indent_block(line) for line in body_lines if line.strip()) or "    pass"
        return f"{header}\n{body}"

    def _torch_class_to_keras(self, node: cst.ClassDef) -> tuple[str, list[_Record]]:
        methods = self._methods(node)
        records: list[_Record] = []
        parts: list[str] = []
        for statement in node.body.body:
            if isinstance(statement, cst.FunctionDef):
                name = statement.name.value
                if name == "__init__":
                    header = _code(statement.params)
                    lines = self._init_statements(statement, records, {})
                    parts.append(self._function(f"def __init__({header}):", lines))
                elif name == "forward":
                    params = _code(statement.params)
                    extra = "" if "training" in params else ", training=None"
                    lines = [self._translate_statement(s, self._layer_attrs(methods)) for s in statement.body.body]
                    parts.append(self._function(f"def call({params}{extra}):", lines))
                else:
                    lines = [self._translate_statement(s, self._layer_attrs(methods)) for s in statement.body.body]
                    parts.append(self._function(f"def {name}({_code(statement.params)}):", lines))
            else:
                parts.append(self._translate_statement(statement))
        body = "\n\n".join(_indent_block(p) for p in parts if p.strip())
        return f"{self._class_header(node)}\n{body}\n", records

    def _layer_attrs(self, methods: dict[str, cst.FunctionDef]) -> dict[str, str]:
        attrs: dict[str, str] = {}
        init = methods.get("__init__")
        if init is None:
            return attrs
        for statement in init.body.body:
            if isinstance(statement, cst.SimpleStatementLine):
                for small in statement.body:
                    if isinstance(small, cst.Assign) and len(small.targets) == 1:
                        attr = _self_attr(small.targets[0].target)
                        if attr and isinstance(small.value, cst.Call):
                            attrs[attr] = _code(small.value.func)
        return attrs

    def _keras_class_to_torch(self, node: cst.ClassDef) -> tuple[str, list[_Record]]:
        methods = self._methods(node)
        call = methods.get("call")
        shapes = self._attr_input_shapes(call, methods) if call is not None else {}
        records: list[_Record] = []
        parts: list[str] = []
        attrs = self._layer_attrs(methods)
        for statement in node.body.body:
            if isinstance(statement, cst.FunctionDef):
                name = statement.name.value
                if name == "__init__":
                    params = _drop_param(_code(statement.params), "**kwargs")
                    lines = self._init_statements(statement, records, shapes)
                    parts.append(self._function(f"def __init__({params}):", lines))
                elif name == "call":
                    params = _drop_param(_drop_param(_code(statement.params), "training"), "mask")
                    lines = [self._translate_statement(s, attrs, training_param=True) for s in statement.body.body]
                    parts.append(self._function(f"def forward({params}):", lines))
                elif name in ("build", "get_config", "compute_output_shape"):
                    self.notes.append(f"{name}() is Keras-specific and was dropped")
                else:
                    lines = [self._translate_statement(s, attrs, training_param=True) for s in statement.body.body]
                    parts.append(self._function(f"def {name}({_code(statement.params)}):", lines))
            else:
                parts.append(self._translate_statement(statement))
        body = "\n\n".join(_indent_block(p) for p in parts if p.strip())
        return f"{self._class_header(node)}\n{body}\n", records

    def _attr_input_shapes(self, call: cst.FunctionDef, methods) -> dict[str, Shape]:
        """Keras -> torch: the feature count reaching each layer attribute, followed through `call` in order."""
        init = methods.get("__init__")
        constructors: dict[str, cst.Call] = {}
        if init is not None:
            for statement in init.body.body:
                if isinstance(statement, cst.SimpleStatementLine):
                    for small in statement.body:
                        if isinstance(small, cst.Assign) and len(small.targets) == 1:
                            attr = _self_attr(small.targets[0].target)
                            if attr and isinstance(small.value, cst.Call):
                                constructors[attr] = small.value
        env: dict[str, Shape] = {}
        result: dict[str, Shape] = {}
        probe = LayerTranslator(TORCH, self.layout, model_level=True)
        for statement in call.body.body:
            if not isinstance(statement, cst.SimpleStatementLine):
                continue
            for small in statement.body:
                if not isinstance(small, cst.Assign) or len(small.targets) != 1:
                    continue
                target = small.targets[0].target
                value = small.value
                shape = UNKNOWN
                if isinstance(value, cst.Call) and _self_attr(value.func) in constructors and value.args:
                    attr = _self_attr(value.func)
                    first = value.args[0].value
                    incoming = env.get(first.value, UNKNOWN) if isinstance(first, cst.Name) else UNKNOWN
                    result.setdefault(attr, incoming)
                    constructor = constructors[attr]
                    canonical = self.source.resolve(constructor.func)
                    if canonical and _framework_of(canonical) == KERAS:
                        shape = probe.translate(constructor, canonical, incoming).shape_out
                elif isinstance(value, cst.BinaryOperation) and isinstance(value.left, cst.Name):
                    shape = env.get(value.left.value, UNKNOWN)
                if isinstance(target, cst.Name):
                    env[target.value] = shape
        return result

    # -- builders and assignments --
    def builder(self, function: cst.FunctionDef) -> tuple[str, list[_Record], str]:
        """A function building a model: returns (code, records, how copy addresses the model)."""
        body = function.body.body
        functional = any(isinstance(s, cst.SimpleStatementLine) and any(
            isinstance(small, (cst.Assign, cst.Return, cst.Expr)) and self._is_input_call(
                getattr(small, "value", None)) for small in s.body) for s in body)
        if self.to == TORCH and functional:
            return self._functional_builder(function)
        return self._sequential_builder(function)

    def _is_input_call(self, node) -> bool:
        return isinstance(node, cst.Call) and self.source.resolve(node.func) in ("keras.Input", "keras.layers.Input")

    def _sequential_builder(self, function: cst.FunctionDef) -> tuple[str, list[_Record], str]:
        records: list[_Record] = []
        lines: list[str] = []
        sequential_vars: dict[str, list[int]] = {}
        shape = UNKNOWN
        for statement in function.body.body:
            handled = False
            if isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1:
                small = statement.body[0]
                value = getattr(small, "value", None)
                if isinstance(value, cst.Call) and self.source.resolve(value.func) in (
                        "torch.nn.Sequential", "keras.Sequential", "keras.models.Sequential"):
                    text, shape = self.sequential(value, records, "", "", shape)
                    if isinstance(small, cst.Assign) and isinstance(small.targets[0].target, cst.Name):
                        sequential_vars[small.targets[0].target.value] = [len(records)]
                        lines.append(f"{small.targets[0].target.value} = {text}")
                    elif isinstance(small, cst.Return):
                        lines.append(f"return {text}")
                    else:
                        lines.append(text)
                    handled = True
                elif isinstance(small, cst.Expr) and isinstance(value, cst.Call) and isinstance(
                        value.func, cst.Attribute) and value.func.attr.value in ("add", "append") and isinstance(
                        value.func.value, cst.Name) and value.func.value.value in sequential_vars and value.args:
                    owner = value.func.value.value
                    layer = value.args[0].value
                    if self.to == TORCH and self._is_input_call(layer):
                        shape = self._input_shape(layer)
                        handled = True
                    else:
                        position = self._next_position(owner)
                        if self.to == TORCH and isinstance(layer, cst.Call):
                            shape = self._shape_hint(layer, shape)
                        text, shape = self.item(layer, records, self._source_index(position),
                                                self._target_index(position), shape)
                        method = "append" if self.to == TORCH else "add"
                        lines.append(f"{owner}.{method}({text})")
                        handled = True
                elif isinstance(small, cst.Expr) and isinstance(value, cst.Call) and isinstance(
                        value.func, cst.Attribute) and value.func.attr.value in ("compile", "summary", "build"):
                    self.notes.append(f"{_code(value.func)}(...) is Keras-specific and was dropped")
                    handled = True
            if not handled:
                lines.append(self._translate_statement(statement))
        params = _code(function.params)
        return self._function(f"def {function.name.value}({params}):", lines) + "\n", records, "sequential"

    def _next_position(self, owner: str) -> int:
        counters = self.__dict__.setdefault("_positions", {})
        counters[owner] = counters.get(owner, -1) + 1
        return counters[owner]

    def _functional_builder(self, function: cst.FunctionDef) -> tuple[str, list[_Record], str]:
        """keras.Input ... keras.Model(inputs, outputs) -> an nn.Module class plus the builder returning it."""
        class_name = "".join(part.capitalize() for part in function.name.value.split("_")) or "Model"
        if class_name in self.source.classes or class_name == function.name.value:
            class_name += "Module"
        env: dict[str, Shape] = {}
        init_lines = ["super().__init__()"]
        forward_lines: list[str] = []
        inputs: list[str] = []
        outputs = "None"
        records: list[_Record] = []
        layer_vars: dict[str, str] = {}
        used_names: set[str] = set()
        creation_counts: dict[str, int] = {}

        def attribute_for(call: cst.Call, preferred: str | None) -> str:
            name = preferred or _snake(_code(call.func).rsplit(".", 1)[-1])
            name = re.sub(r"\W", "_", name)
            if keyword.iskeyword(name):
                name += "_"
            candidate, n = name, 1
            while candidate in used_names:
                candidate, n = f"{name}_{n}", n + 1
            used_names.add(candidate)
            return candidate

        def lookup(call: cst.Call) -> str:
            for arg in call.args:
                if arg.keyword and arg.keyword.value == "name" and isinstance(_value(_code(arg.value)), str):
                    return f"source.get_layer({_code(arg.value)})"
            class_short = _code(call.func).rsplit(".", 1)[-1]
            index = creation_counts.get(class_short, 0)
            creation_counts[class_short] = index + 1
            return f"_keras_layers_by_creation(source, {class_short!r})[{index}]"

        def new_layer(call: cst.Call, shape: Shape, preferred: str | None) -> tuple[str, Shape]:
            attr = attribute_for(call, preferred)
            lookup_expr = lookup(call)
            sub: list[_Record] = []
            text, out_shape = self.item(call, sub, "", f".{attr}", shape)
            for record in sub:
                record.keras_lookup = lookup_expr + record.source_path
                records.append(record)
            init_lines.append(f"self.{attr} = {text}")
            return attr, out_shape

        def shape_of(node: cst.BaseExpression) -> Shape:
            if isinstance(node, cst.Name):
                return env.get(node.value, UNKNOWN)
            if isinstance(node, (cst.List, cst.Tuple)) and node.elements:
                return shape_of(node.elements[0].value)
            if isinstance(node, cst.BinaryOperation):  # residual sums keep the feature count
                left, right = shape_of(node.left), shape_of(node.right)
                return left if left.features is not None else right
            if isinstance(node, cst.Arg):
                return shape_of(node.value)
            return UNKNOWN

        def merged_shape(call: cst.Call) -> Shape:
            canonical = self.source.resolve(call.func.func)
            inputs_node = call.args[0].value if call.args else None
            shapes = [shape_of(e.value) for e in inputs_node.elements] if isinstance(
                inputs_node, (cst.List, cst.Tuple)) else []
            if not shapes:
                return UNKNOWN
            if canonical != "keras.layers.Concatenate":
                return shapes[0]
            axis = next((_value(_code(a.value)) for a in call.func.args if a.keyword is None or
                         a.keyword.value == "axis"), -1)
            if axis != -1 or any(s.features is None for s in shapes):
                return Shape(None, shapes[0].rank)
            if all(isinstance(s.features, int) for s in shapes):
                return Shape(sum(s.features for s in shapes), shapes[0].rank)
            return Shape(" + ".join(str(s.features) for s in shapes), shapes[0].rank)

        def call_arguments(args) -> str:
            texts = []
            for arg in args:
                text = self._translate_expression(arg.value.visit(InlineLayers()))
                texts.append(f"{arg.keyword.value}={text}" if arg.keyword else text)
            return ", ".join(texts)

        translator = self

        class InlineLayers(cst.CSTTransformer):
            """Layers created and applied inside a larger expression: `x + layers.Dense(8)(h)`."""

            def leave_Call(self, original: cst.Call, updated: cst.Call) -> cst.BaseExpression:
                if not (isinstance(updated.func, cst.Call) and translator._layer_like(updated.func)):
                    return updated
                merged = _OpTranslator(translator.source, TORCH, translator.layout).merge_call(updated.func,
                                                                                              updated.args)
                if merged is not None:
                    return merged
                attr, _ = new_layer(updated.func, shape_of(updated.args[0].value) if updated.args else UNKNOWN,
                                    None)
                return cst.parse_expression(f"self.{attr}({call_arguments(updated.args)})")

        layer_attrs: dict[str, str] = {}
        docstring = None
        body_statements = list(function.body.body)
        if body_statements and isinstance(body_statements[0], cst.SimpleStatementLine) and isinstance(
                body_statements[0].body[0], cst.Expr) and isinstance(body_statements[0].body[0].value,
                                                                     cst.SimpleString):
            docstring = _code(body_statements[0].body[0].value)
            body_statements = body_statements[1:]
        for statement in body_statements:
            small = statement.body[0] if isinstance(statement, cst.SimpleStatementLine) and len(
                statement.body) == 1 else None
            value = getattr(small, "value", None)
            target = small.targets[0].target if isinstance(small, cst.Assign) and len(small.targets) == 1 else None
            target_name = target.value if isinstance(target, cst.Name) else None
            if self._is_input_call(value) and target_name:
                inputs.append(target_name)
                env[target_name] = self._input_shape(value)
                continue
            if isinstance(value, cst.Call) and self.source.resolve(value.func) in ("keras.Model", "keras.models.Model"):
                model_inputs, model_outputs = None, None
                for position, arg in enumerate(value.args):
                    key = arg.keyword.value if arg.keyword else ("inputs", "outputs")[min(position, 1)]
                    if key == "inputs":
                        model_inputs = arg.value
                    elif key == "outputs":
                        model_outputs = arg.value
                if model_inputs is not None:
                    names = [e.value for e in model_inputs.elements] if isinstance(
                        model_inputs, (cst.List, cst.Tuple)) else [model_inputs]
                    inputs = [_code(n) for n in names]
                if model_outputs is not None:
                    outputs = _code(model_outputs)
                continue
            if isinstance(small, cst.Return):
                continue
            # a layer created and kept (shared): `dense = layers.Dense(8)`
            if target_name and isinstance(value, cst.Call) and self._layer_like(value) and \
                    self.source.resolve(value.func) not in catalog.OPS_BY_KERAS:
                layer_vars[target_name] = value
                continue
            # a layer created and applied at once: `x = layers.Dense(8)(x)`; or a shared one applied: `a = dense(x)`
            if isinstance(value, cst.Call) and isinstance(value.func, cst.Call) and self._layer_like(value.func):
                merged = _OpTranslator(self.source, TORCH, self.layout).merge_call(value.func, value.args)
                if merged is not None:
                    merged_text = self._translate_expression(merged)
                    forward_lines.append(f"{_code(target)} = {merged_text}" if target is not None else merged_text)
                    if target_name:
                        env[target_name] = merged_shape(value)
                    continue
                preferred = None
                for arg in value.func.args:
                    if arg.keyword and arg.keyword.value == "name" and isinstance(_value(_code(arg.value)), str):
                        preferred = _value(_code(arg.value))
                attr, out_shape = new_layer(value.func, shape_of(value.args[0].value) if value.args else UNKNOWN,
                                            preferred)
                layer_attrs[attr] = ""
                call_args = call_arguments(value.args)
                forward_lines.append(f"{_code(target)} = self.{attr}({call_args})" if target is not None
                                     else f"self.{attr}({call_args})")
                if target_name:
                    env[target_name] = out_shape
                continue
            if isinstance(value, cst.Call) and isinstance(value.func, cst.Name) and value.func.value in layer_vars:
                name = value.func.value
                if name not in layer_attrs:
                    attr, out_shape = new_layer(layer_vars[name], shape_of(value.args[0].value) if value.args
                                                else UNKNOWN, name)
                    layer_attrs[name] = attr
                    env[f"<layer>{name}"] = out_shape
                call_args = call_arguments(value.args)
                forward_lines.append(f"{_code(target)} = self.{layer_attrs[name]}({call_args})" if target is not None
                                     else f"self.{layer_attrs[name]}({call_args})")
                if target_name:
                    env[target_name] = env.get(f"<layer>{name}", UNKNOWN)
                continue
            statement = statement.visit(InlineLayers())
            text = self._translate_statement(statement, training_param=False)
            forward_lines.append(text)
            if target_name:
                env[target_name] = shape_of(value.left) if isinstance(value, cst.BinaryOperation) else UNKNOWN
        for name, call in layer_vars.items():
            if name not in layer_attrs:
                self.notes.append(f"layer `{name}` is created but never applied; it was dropped")
        params = _code(function.params)
        init = self._function(f"def __init__(self{', ' + params if params.strip() else ''}):", init_lines)
        forward = self._function(f"def forward(self, {', '.join(inputs)}):", forward_lines + [f"return {outputs}"])
        doc = f"    {docstring}\n\n" if docstring else ""
        class_text = f"class {class_name}(nn.Module):\n{doc}{_indent_block(init)}\n\n{_indent_block(forward)}\n"
        call_args = ", ".join(_param_forwarding(function.params))
        builder = f"def {function.name.value}({params}):\n    return {class_name}({call_args})\n"
        return class_text + "\n\n" + builder, records, "functional"


# attribute names a translated class may not assign (properties or methods of keras.Model / nn.Module)
_KERAS_MODEL_ATTRIBUTES = {"layers", "weights", "variables", "trainable_weights", "non_trainable_weights",
                           "trainable_variables", "losses", "metrics", "name", "input", "output", "inputs",
                           "outputs", "built", "dtype", "trainable", "optimizer", "path", "dtype_policy",
                           "input_spec", "compute_dtype", "variable_dtype", "supports_masking"}
_TORCH_MODULE_ATTRIBUTES = {"training", "modules", "children", "parameters", "buffers", "apply", "to", "cuda",
                            "cpu", "type", "float", "double", "half", "train", "eval", "forward", "state_dict",
                            "named_modules", "register_buffer", "add_module", "zero_grad"}


class _RenameSelfAttributes(cst.CSTTransformer):
    def __init__(self, renames: dict[str, str]):
        super().__init__()
        self.renames = renames

    def leave_Attribute(self, original: cst.Attribute, updated: cst.Attribute) -> cst.Attribute:
        attr = _self_attr(updated)
        if attr in self.renames:
            return updated.with_changes(attr=cst.Name(self.renames[attr]))
        return updated


def _imports_source_framework(statement: cst.BaseStatement, framework: str) -> bool:
    if not isinstance(statement, cst.SimpleStatementLine):
        return False
    paths = []
    for small in statement.body:
        if isinstance(small, cst.Import):
            paths += [_code(alias.name) for alias in small.names]
        elif isinstance(small, cst.ImportFrom) and small.module is not None:
            paths.append(_code(small.module))
        else:
            return False
    roots = {TORCH: ("torch",), KERAS: ("keras", "tensorflow", "tf_keras")}[framework]
    return bool(paths) and all(path.split(".")[0] in roots for path in paths)


def _param_forwarding(params: cst.Parameters) -> list[str]:
    names = [p.name.value for p in params.params] + [p.name.value for p in params.kwonly_params]
    return [f"{n}={n}" for n in names]


def _drop_param(params: str, name: str) -> str:
    parts = [p.strip() for p in _split_params(params)]
    kept = [p for p in parts if p and p.split("=")[0].split(":")[0].strip() != name]
    return ", ".join(kept)


def _split_params(params: str) -> list[str]:
    parts, depth, current = [], 0, ""
    for char in params:
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return parts


def _comments(statement: cst.BaseStatement) -> str:
    lines = [line.comment.value for line in getattr(statement, "leading_lines", ()) if line.comment]
    return "".join(f"{c}\n" for c in lines)


def _is_super_init(call: cst.Call) -> bool:
    func = call.func
    return isinstance(func, cst.Attribute) and func.attr.value == "__init__" and (
        isinstance(func.value, cst.Call) and _code(func.value.func) == "super" or _code(func.value).endswith("Module")
        or _code(func.value).endswith("Model"))


# -- public: a whole symbol ----------------------------------------------------------------------------------------
def symbols(source_text: str) -> tuple[Symbol, ...]:
    """The translatable top-level definitions of a module (for code actions and `tensorlint translate`)."""
    source = _Source(source_text)
    found = []
    for statement, first, code in _top_level_spans(source.module):
        kind, framework, name = _symbol_kind(source, statement)
        if kind:
            leading = len(getattr(statement, "leading_lines", ()))
            found.append(Symbol(name, kind, framework, first + leading, first + code.rstrip("\n").count("\n")))
    return tuple(found)


def _symbol_kind(source: _Source, statement) -> tuple[str | None, str | None, str]:
    if isinstance(statement, cst.ClassDef):
        framework = source.class_framework(statement.name.value)
        return ("class", framework, statement.name.value) if framework else (None, None, statement.name.value)
    if isinstance(statement, cst.FunctionDef):
        framework = _builder_framework(source, statement)
        return ("function", framework, statement.name.value) if framework else (None, None, statement.name.value)
    if isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1 and isinstance(
            statement.body[0], cst.Assign) and isinstance(statement.body[0].value, cst.Call):
        assign = statement.body[0]
        target = assign.targets[0].target
        canonical = source.resolve(assign.value.func)
        if isinstance(target, cst.Name) and canonical in ("torch.nn.Sequential", "keras.Sequential",
                                                          "keras.models.Sequential"):
            return "sequential", _framework_of(canonical), target.value
    return None, None, ""


def _builder_framework(source: _Source, function: cst.FunctionDef) -> str | None:
    found: list[str] = []

    class Finder(cst.CSTVisitor):
        def visit_Call(self, call: cst.Call) -> None:
            canonical = source.resolve(call.func)
            if canonical in ("keras.Model", "keras.models.Model", "keras.Sequential", "keras.models.Sequential",
                             "keras.Input", "keras.layers.Input"):
                found.append(KERAS)
            elif canonical == "torch.nn.Sequential":
                found.append(TORCH)

    function.visit(Finder())
    return found[0] if found else None


def translate_symbol(source_text: str, symbol: str, to: str | None = None, layout: str = PRESERVE,
                     origin: str = "") -> Translation:
    """Translate a model class, a builder function or a Sequential assignment into one self-contained module:
    imports, helpers, the translation under the same name, and copy_weights(source, target)."""
    source = _Source(source_text)
    statement = next((s for s in source.module.body if _symbol_kind(source, s)[2] == symbol), None)
    if statement is None:
        names = ", ".join(s.name for s in symbols(source_text)) or "none"
        raise TranslationError(f"no model class, builder function or Sequential named {symbol!r} "
                               f"(translatable here: {names})")
    kind, framework, _ = _symbol_kind(source, statement)
    if kind is None:
        raise TranslationError(f"{symbol!r} is neither a torch nn.Module / Keras Model class, a builder function "
                               "nor a Sequential assignment")
    to = to or (KERAS if framework == TORCH else TORCH)
    if to not in (KERAS, TORCH):
        raise TranslationError(f"unknown target {to!r}: use 'keras' or 'torch'")
    if framework == to:
        raise TranslationError(f"{symbol!r} is already {'Keras' if to == KERAS else 'PyTorch'}")
    if layout not in (PRESERVE, NATIVE):
        raise TranslationError(f"unknown layout {layout!r}: use 'preserve' or 'native'")
    model = _ModelTranslator(source, to, layout)
    if kind == "class":
        model.translate_class(symbol)
        body = "\n\n".join(model.translated_classes)
    elif kind == "function":
        text, records, _ = model.builder(statement)
        model.copy_functions.append(model.copy_function(symbol, records))
        body = "\n\n".join(model.translated_classes + [text])
    else:
        assign = statement.body[0]
        records: list[_Record] = []
        text, _ = model.sequential(assign.value, records, "", "")
        model.copy_functions.append(model.copy_function(symbol, records))
        body = "\n\n".join(model.translated_classes + [f"{symbol} = {text}\n"])
    what = "torch" if to == KERAS else "Keras"
    copy_weights = (f"def copy_weights(source, target):\n"
                    f'    """Copy every parameter and buffer (norm statistics included) from the {what} `{symbol}` '
                    f'into its\n    translation. Call both models once on an input first so lazily built weights '
                    f'exist."""\n    _copy_{symbol}(source, target)\n')
    copy = "\n\n".join([copy_weights] + model.copy_functions)
    module_text = _module(f"{origin + ':' if origin else ''}{symbol}", to, layout, body, copy, model.helpers)
    if layout == NATIVE:
        model.notes.append("native layout: inputs must be channels-last (N, H, W, C) for Keras / channels-first "
                           "(N, C, H, W) for torch; transpose them before calling the translation")
    todos = module_text.count(TODO_TAG)
    return Translation(module_text, copy, tuple(dict.fromkeys(model.notes)), todos,
                       tuple(line for line in module_text.splitlines() if line.startswith(("import ", "from "))),
                       "", _direction(to), "module")


def translate_to_new_file(source_text: str, symbol: str, to: str | None = None, layout: str = PRESERVE,
                          origin: str = "") -> NewFile:
    """The code action "Translate NAME to Keras/PyTorch in a new file": the file name (NAME_keras.py or
    NAME_torch.py, to be created beside the source) and its text."""
    translation = translate_symbol(source_text, symbol, to, layout, origin)
    suffix = "keras" if translation.direction == "torch->keras" else "torch"
    return NewFile(f"{symbol}_{suffix}.py", translation.source, translation)


def hover_at(source_text: str, line: int, column: int) -> str | None:
    """Markdown for a hover on a catalogued layer or op name at (line 1-based, column 0-based), else None."""
    try:
        source = _Source(source_text)
    except TranslationError:
        return None
    best = None
    for node, start, end in _positions_near(source, line):
        if not isinstance(node, (cst.Name, cst.Attribute)):
            continue
        if start <= (line, column) < end:
            canonical = source.resolve(node)
            if canonical and (best is None or len(canonical) > len(best)):
                best = canonical
    return catalog.card_for(best) if best else None
