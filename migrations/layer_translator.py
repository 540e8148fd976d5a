"""One layer constructor call -> its counterpart, read from the catalog (argument map, converters, strategies for
layers that need more than an argument map: padding, transposed-conv cropping, recurrent layers, attention, ...)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import libcst as cst

from . import catalog
from .catalog import REQUIRED, LayerPair, WeightMap
from .common import (
    KERAS, NATIVE, PRESERVE, TORCH, UNKNOWN, as_tuple, bind_arguments, code_of, is_literal, literal_value,
    render_call, Shape, spell, TranslationError,
)
from .layer_defaults import differences_for


# -- one layer -----------------------------------------------------------------------------------------------------
@dataclass
class LayerOut:
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
class LayerJob:
    entry: LayerPair
    to: str
    bound: dict[str, str]
    kwargs: dict[str, str]  # target keyword arguments (ordered)
    leftover: dict[str, str]  # source arguments with no target counterpart, to be consumed by the strategy
    shape: Shape
    layout: str
    model_level: bool
    out: LayerOut


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

def _keras_padding(code: str):
    """A Keras layer's padding value: Keras reads the mode case-insensitively (`padding="SAME"` in keras.applications'
    ResNet)."""
    value = literal_value(code)
    return value.lower() if isinstance(value, str) else value


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
                        mode = literal_value(code_of(arg.value))
                for c in candidates:
                    if (mode in (None, "nearest")) == (c.strategy == "upsample" and "_" not in c.key):
                        return c
            return candidates[0]
        if canonical == "keras.layers.Activation":
            name = None
            if call.args:
                first = call.args[0]
                name = literal_value(code_of(first.value))
            for c in catalog.LAYERS:
                if c.keras_activation and c.keras_activation == name and not c.torch_only:
                    return c
            return _ACTIVATION_ENTRY if isinstance(name, str) and name in KERAS_ACTIVATIONS else None
        candidates = catalog.keras_entries(canonical)
        if not candidates:
            return None
        if canonical == "keras.layers.ReLU":
            bound, _ = bind_arguments(call, candidates[0].keras_signature)  # `ReLU(6.0)` is `ReLU(max_value=6.0)`
            max_value = literal_value(bound["max_value"]) if "max_value" in bound else None
            return next(c for c in candidates if (c.key == "relu6") == (max_value == 6))
        if canonical == "keras.layers.Bidirectional":
            inner = call.args[0].value if call.args else None
            inner_name = code_of(inner.func) if isinstance(inner, cst.Call) else ""
            kind = inner_name.rsplit(".", 1)[-1]
            for c in candidates:
                if c.key == f"{kind.lower()}_bidirectional":
                    return c
            return None
        if canonical == "keras.layers.BatchNormalization":
            return catalog.entry("batchnorm2d")
        return candidates[0]

    def translate(self, call: cst.Call, canonical: str, shape: Shape = UNKNOWN) -> LayerOut:
        entry = self.entry_for(canonical, call)
        if entry is None:
            return self.unmapped(call, canonical)
        if entry is _ACTIVATION_ENTRY:
            name = literal_value(code_of(call.args[0].value))
            return LayerOut(KERAS_ACTIVATIONS[name], shape_out=shape, key=f"activation:{name}")
        if canonical == "keras.layers.Bidirectional":
            inner = call.args[0].value
            bound, errors = bind_arguments(inner, entry.keras_signature)
            for arg in call.args[1:]:
                if arg.keyword and arg.keyword.value in ("merge_mode",):
                    bound["merge_mode"] = code_of(arg.value)
        else:
            signature = entry.torch_signature if self.to == KERAS else entry.keras_signature
            bound, errors = bind_arguments(call, signature)
        if errors:
            out = self.unmapped(call, canonical)
            out.todos[:] = errors
            return out
        job = LayerJob(entry, self.to, bound, {}, {}, shape, self.layout, self.model_level, LayerOut("", key=entry.key))
        self._map_args(job)
        strategy = getattr(self, f"_s_{entry.strategy}", None) if entry.strategy else None
        if strategy is not None:
            result = strategy(job)
            if result is not None:
                return result
        else:
            self._default(job)
        return self._finish(job)

    def unmapped(self, call: cst.Call, canonical: str) -> LayerOut:
        return LayerOut(code_of(call), todos=[f"{canonical} has no {'Keras' if self.to == KERAS else 'PyTorch'} "
                                         f"equivalent in the catalog"], key="")

    # -- argument mapping (generic, from the catalog) --
    def _map_args(self, job: LayerJob) -> None:
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
                    if src == "inplace" and to == KERAS:
                        job.out.notes.append("inplace=True: the Keras layer returns a new tensor and leaves its "
                                             "input unchanged (as torch does for `x = act(x)`)")
                        continue
                    if src_default is REQUIRED or not is_literal(code) or literal_value(code) != src_default:
                        job.leftover[src] = code
                    continue
                converted = convert(code)
                if is_literal(converted) and tgt_default is not REQUIRED and literal_value(converted) == tgt_default \
                        and tgt not in job.kwargs:
                    continue
                job.kwargs[tgt] = converted
            elif tgt is not None and src_default is not REQUIRED and tgt not in job.kwargs:
                converted = convert(repr(src_default))
                if tgt_default is REQUIRED or literal_value(converted) != tgt_default:
                    # keep the source's default: the defaults differ, or the target has none (Keras's
                    # MaxPooling2D() pools 2x2; torch's MaxPool2d needs kernel_size)
                    job.kwargs[tgt] = converted
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
            if (difference.torch_arg if to == KERAS else difference.keras_arg) in job.bound:
                continue  # the source states its value: nothing rides on a default
            job.out.notes.append(f"{difference.concept}: PyTorch {difference.torch_arg}={difference.torch_default}, "
                                 f"Keras {difference.keras_arg}={difference.keras_default} "
                                 f"({difference.consequence}); the translation keeps the source's value")

    def _leftover_todos(self, job: LayerJob, handled: tuple[str, ...] = ()) -> None:
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

    def _target_class(self, job: LayerJob) -> str:
        return job.entry.keras if job.to == KERAS else job.entry.torch

    def _render(self, job: LayerJob, func: str | None = None, positional_count: int | None = None) -> str:
        entry = job.entry
        func = func or spell(self._target_class(job))
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
        return render_call(func, positional, list(kwargs.items()))

    def _weights(self, job: LayerJob) -> tuple[WeightMap, ...]:
        return job.entry.to_keras_weights if job.to == KERAS else job.entry.to_torch_weights

    def _default(self, job: LayerJob) -> None:
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

    def _finish(self, job: LayerJob) -> LayerOut:
        out = job.out
        if not out.expr:
            out.expr = self._render(job)
        if not out.weights:
            out.weights = self._weights(job)
        if job.to == TORCH and "activation" in job.bound and not job.entry.keras_activation:
            self._keras_activation(job)
        if out.shape_out is UNKNOWN:
            out.shape_out = self._shape_after(job)
        if job.to == KERAS and out.shape_out.rank is None and _FIXED_RANK.fullmatch(job.entry.torch):
            # a torch Conv2d/MaxPool2d/... takes and returns (N, C, H, W): later layers (Upsample, PReLU) know the rank
            out.shape_out = Shape(out.shape_out.features, job.entry.spatial + 2)
        return out

    def _shape_after(self, job: LayerJob) -> Shape:
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
            value = literal_value(code) if code is not None else None
            if isinstance(value, int):
                return Shape(value, job.shape.rank)
            return Shape(code, job.shape.rank) if code is not None else Shape(None, job.shape.rank)
        return Shape()

    # -- layout --
    def _channels_first(self, job: LayerJob) -> None:
        """torch -> Keras, preserve: run the (channels-last) Keras layer on channels-first tensors.

        Not data_format="channels_first": Keras 3.15 on TensorFlow (CPU) computes Conv2D wrongly with it for some
        input sizes (e.g. width 8), so the translation transposes around the well-trodden channels-last path."""
        if job.layout == NATIVE:
            job.out.notes.append("native layout: this layer takes channels-last (N, ..., C) input")
            return
        job.out.expr = f"ChannelsFirst({job.out.expr})"
        job.out.target_access = ".layer" + job.out.target_access
        job.out.helpers.add("ChannelsFirst")

    def _keras_channels_first(self, job: LayerJob) -> bool:
        return literal_value(job.bound.get("data_format", "None")) == "channels_first"

    def _channels_last(self, job: LayerJob) -> None:
        """Keras -> torch: a spatial torch module runs channels-first; in preserve layout wrap it."""
        if job.layout == NATIVE or self._keras_channels_first(job):
            if job.layout == NATIVE and not self._keras_channels_first(job):
                job.out.notes.append("native layout: this module takes channels-first (N, C, ...) input")
            return
        job.out.expr = f"MoveChannels({job.out.expr})"
        job.out.target_access = ".module" + job.out.target_access
        job.out.helpers.add("MoveChannels")

    def _input_size(self, job: LayerJob) -> bool:
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

    def _torch_func(self, job: LayerJob) -> str:
        if job.entry.torch_input_arg and job.shape.features is None and job.entry.torch_lazy:
            return spell(job.entry.torch_lazy)
        return spell(job.entry.torch)

    def _keras_activation(self, job: LayerJob) -> None:
        code = job.bound["activation"]
        if not is_literal(code):
            job.out.todos.append(f"activation={code} is not a literal: which torch activation follows is not known")
            return
        name = literal_value(code)
        if name in (None, "linear"):
            return
        torch_code = KERAS_ACTIVATIONS.get(name) if isinstance(name, str) else None
        if torch_code is None:
            job.out.todos.append(f"activation={code} has no PyTorch module in the catalog")
            return
        job.out.expr = f"nn.Sequential({job.out.expr}, {torch_code})"
        job.out.target_access = "[0]" + job.out.target_access

    # -- strategies --
    def _s_conv(self, job: LayerJob):
        n = job.entry.spatial
        if job.to == KERAS:
            kernel = as_tuple(job.bound.get("kernel_size", "None"), n)
            stride = as_tuple(job.bound.get("stride", "1"), n)
            dilation = as_tuple(job.bound.get("dilation", "1"), n)
            padding_code = job.leftover.pop("padding", None) or job.kwargs.pop("padding", None)
            job.kwargs.pop("padding", None)
            mode = literal_value(job.leftover.pop("padding_mode", "'zeros'"))
            pairs = None
            if padding_code is None or literal_value(padding_code) == "valid":
                pairs = ((0, 0),) * n
            elif literal_value(padding_code) == "same":
                if kernel and dilation:
                    totals = [(k - 1) * d for k, d in zip(kernel, dilation)]
                    pairs = tuple((t // 2, t - t // 2) for t in totals)
                else:
                    job.out.todos.append("padding='same' with a non-literal kernel: pad explicitly")
            else:
                pad = as_tuple(padding_code, n)
                if pad is None and not is_literal(padding_code) and mode in ("zeros", None):
                    # an int or a tuple of n ints known only at run time: ZeroPaddingND reads both the way torch
                    # does (symmetric per axis)
                    self._leftover_todos(job)
                    job.out.target_access = ".layers[1]"
                    job.out.expr = f"keras.Sequential([layers.ZeroPadding{n}D({padding_code}), {self._render(job)}])"
                    self._channels_first(job)
                    return None
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
        kernel = as_tuple(job.bound.get("kernel_size", "None"), n)
        stride = as_tuple(job.bound.get("strides", "1"), n) or (1,) * n
        dilation = as_tuple(job.bound.get("dilation_rate", "1"), n) or (1,) * n
        padding = _keras_padding(job.bound.get("padding", "'valid'"))
        job.kwargs.pop("padding", None)
        if "pool_size" not in job.bound and "kernel_size" not in job.kwargs:
            # tf.keras 2's AveragePooling pooled 2 per axis by default (Keras 3 requires pool_size)
            job.kwargs = {"kernel_size": "2", **job.kwargs}
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

    def _same_pad(self, job: LayerJob, mode: str) -> str:
        job.out.helpers.add("TFSamePad")
        args = [job.bound.get("kernel_size", "1"), f"stride={job.bound.get('strides', '1')}",
                f"dilation={job.bound.get('dilation_rate', '1')}", f"mode={mode!r}", f"rank={job.entry.spatial}"]
        return f"TFSamePad({', '.join(args)})"

    def _padded(self, job: LayerJob, pairs: tuple, mode: str, layer: str) -> str:
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

    def _s_conv_transpose(self, job: LayerJob):
        n = job.entry.spatial
        if job.to == KERAS:
            pad = as_tuple(job.kwargs.pop("padding", "0"), n)
            job.leftover.pop("padding", None)
            out_pad = as_tuple(job.kwargs.pop("output_padding", "0"), n)
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
        kernel = as_tuple(job.bound.get("kernel_size", "None"), n)
        stride = as_tuple(job.bound.get("strides", "1"), n) or (1,) * n
        dilation = as_tuple(job.bound.get("dilation_rate", "1"), n) or (1,) * n
        padding = _keras_padding(job.bound.get("padding", "'valid'"))
        job.kwargs.pop("padding", None)
        if "pool_size" not in job.bound and "kernel_size" not in job.kwargs:
            # tf.keras 2's AveragePooling pooled 2 per axis by default (Keras 3 requires pool_size)
            job.kwargs = {"kernel_size": "2", **job.kwargs}
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

    def _s_depthwise(self, job: LayerJob):
        """Keras DepthwiseConv -> torch Conv(C, C*m, k, groups=C)."""
        n = job.entry.spatial
        multiplier = job.leftover.pop("depth_multiplier", "1")
        channels = job.shape.features
        self._leftover_todos(job, ("data_format",))
        kernel = as_tuple(job.bound.get("kernel_size", "None"), n)
        stride = as_tuple(job.bound.get("strides", "1"), n) or (1,) * n
        dilation = as_tuple(job.bound.get("dilation_rate", "1"), n) or (1,) * n
        padding = _keras_padding(job.bound.get("padding", "'valid'"))
        job.kwargs.pop("padding", None)
        if "pool_size" not in job.bound and "kernel_size" not in job.kwargs:
            # tf.keras 2's AveragePooling pooled 2 per axis by default (Keras 3 requires pool_size)
            job.kwargs = {"kernel_size": "2", **job.kwargs}
        known = channels is not None
        if not known:
            job.out.todos.append("the channel count is not known statically: set in_channels and groups")
            channels = "None"
        out_channels = f"{channels} * {multiplier}" if not isinstance(channels, int) or not is_literal(multiplier) \
            else str(channels * literal_value(multiplier))
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
        features = (int(out_channels) if out_channels.isdigit() else out_channels) if known else None
        job.out.shape_out = Shape(features, job.shape.rank)  # unknown stays unknown: later layers go lazy
        self._channels_last(job)
        return None

    def _s_batchnorm(self, job: LayerJob):
        if job.to == KERAS:
            if "momentum" in job.bound and literal_value(job.bound["momentum"]) is None and is_literal(job.bound["momentum"]):
                job.out.todos.append("momentum=None (cumulative average) has no Keras equivalent")
                job.kwargs.pop("momentum", None)
            if job.leftover.pop("track_running_stats", "True") not in ("True",):
                job.out.todos.append("track_running_stats=False: Keras always keeps moving statistics")
            self._leftover_todos(job)
            if job.layout == PRESERVE:
                job.kwargs = {"axis": "1", **job.kwargs}
            return None
        axis = literal_value(job.bound.get("axis", "-1"))
        self._leftover_todos(job, ("axis",))  # the axis is the one MoveChannels moves (below)
        if job.shape.features is None:
            func = "nn.LazyBatchNorm1d"
        else:
            func = "nn.BatchNorm1d"
            job.kwargs = {"num_features": str(job.shape.features), **job.kwargs}
        center, scale = literal_value(job.bound.get("center", "True")), literal_value(job.bound.get("scale", "True"))
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

    def _s_layer_norm(self, job: LayerJob):
        if job.to == KERAS:
            shape_code = job.leftover.pop("normalized_shape", None)
            value = literal_value(shape_code) if shape_code else None
            if isinstance(value, (tuple, list)) and len(value) > 1:
                job.kwargs = {"axis": str(tuple(range(-len(value), 0))), **job.kwargs}
            elif not isinstance(value, (int, tuple, list)):
                job.out.notes.append(f"normalized_shape={shape_code} is taken to be one size (the last axis)")
            if job.kwargs.get("scale") == "False":
                job.kwargs["center"] = "False"
            self._leftover_todos(job)
            return None
        axis = literal_value(job.bound.get("axis", "-1"))
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
        extra = []
        if scale == "False" and center == "False":
            extra.append(("elementwise_affine", "False"))
        elif center == "False":
            extra.append(("bias", "False"))
        elif scale == "False":
            job.out.todos.append("scale=False with center=True has no torch LayerNorm form")
        if size is None and axes == (-1,):  # the last axis's size comes with the first input, as in Keras
            job.out.helpers.add("LazyLayerNorm")
            job.out.expr = render_call("LazyLayerNorm", [], list(job.kwargs.items()) + extra)
            return None
        if size is None:
            job.out.todos.append("normalized_shape is not known statically: set it to the normalised axes' sizes")
            size = "None"
        job.out.expr = render_call("nn.LayerNorm", [size], list(job.kwargs.items()) + extra)
        return None

    def _s_group_norm(self, job: LayerJob):
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
        if literal_value(job.kwargs["num_groups"]) == -1:  # Keras's instance normalisation: a group per channel
            job.kwargs["num_groups"] = str(channels)
        center = job.kwargs.pop("affine", "True")
        job.kwargs = {"num_groups": job.kwargs.pop("num_groups"), "num_channels": str(channels), **job.kwargs}
        if center == "False":
            job.kwargs["affine"] = "False"
        job.out.expr = self._render(job, func="nn.GroupNorm", positional_count=2)
        if literal_value(job.bound.get("axis", "-1")) == -1 and job.layout == PRESERVE:
            job.out.expr = f"MoveChannels({job.out.expr})"
            job.out.target_access = ".module"
            job.out.helpers.add("MoveChannels")
        return None

    def _s_instance_norm(self, job: LayerJob):
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

    def _s_cropping(self, job: LayerJob):
        """Keras Cropping -> the torch Crop helper (slices the spatial axes of channels-first tensors)."""
        n = job.entry.spatial
        self._leftover_todos(job, ("data_format", "cropping"))
        value = literal_value(job.bound.get("cropping", "1"))
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

    def _s_embedding(self, job: LayerJob):
        if job.to == KERAS:
            if "padding_idx" in job.leftover:
                job.out.notes.append("padding_idx only freezes that row's gradient in torch; Keras trains it "
                                     "(the forward pass is the same with the copied weights)")
                job.leftover.pop("padding_idx")
            self._leftover_todos(job)
            return None
        if literal_value(job.leftover.pop("mask_zero", "False")):
            job.out.notes.append("mask_zero=True: torch layers take no mask; pass padding masks explicitly")
        self._leftover_todos(job)
        return None

    def _s_recurrent(self, job: LayerJob):
        kind = job.entry.key.split("_")[0]
        torch_class = {"lstm": "LSTM", "gru": "GRU", "simplernn": "RNN"}[kind]
        keras_class = {"lstm": "LSTM", "gru": "GRU", "simplernn": "SimpleRNN"}[kind]
        bidirectional = job.entry.key.endswith("bidirectional")
        if job.to == KERAS:
            bi = literal_value(job.leftover.pop("bidirectional", "False"))
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
                if literal_value(dropout) not in (0, 0.0):
                    job.out.notes.append(f"dropout={dropout} between stacked layers (training only) is not "
                                         "translated")
                job.out.helpers.add("TorchRecurrent")
                job.out.expr = render_call("TorchRecurrent", args, kw)
                job.out.call_adapter = "TorchRecurrent"
                job.out.weights = self._weights(job) if (bi is True) == bidirectional else \
                    catalog.entry(f"{kind}_bidirectional" if bi else kind).to_keras_weights
                job.out.target_access = ".cells[{layer}]"
                job.out.shape_out = Shape()
                return job.out
            if literal_value(layers_count) != 1:
                job.out.todos.append(f"num_layers={layers_count}: stack {layers_count} Keras layers (the "
                                     "model-level translation does this)")
            if batch_first != "True":
                job.out.notes.append("torch's input is (time, batch, features) unless batch_first=True; Keras "
                                     "takes (batch, time, features)")
            if literal_value(dropout) not in (0, 0.0):
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
        return_sequences = literal_value(job.leftover.pop("return_sequences", "False"))
        return_state = literal_value(job.leftover.pop("return_state", "False"))
        job.leftover.pop("merge_mode", None)
        if job.bound.get("merge_mode") not in (None, "'concat'"):
            job.out.todos.append(f"merge_mode={job.bound['merge_mode']}: torch concatenates both directions")
        for name in ("go_backwards", "stateful", "unroll", "dropout", "recurrent_dropout", "reset_after",
                     "recurrent_activation"):
            if name in job.leftover:
                code = job.leftover.pop(name)
                if name == "reset_after" and literal_value(code) is True:
                    continue
                if name in ("dropout", "recurrent_dropout") and literal_value(code) in (0, 0.0):
                    continue
                job.out.todos.append(f"`{name}={code}` has no torch nn.{torch_class} equivalent")
        activation = job.kwargs.pop("activation", None) if kind == "simplernn" else job.bound.get("activation")
        if kind != "simplernn" and activation not in (None, "'tanh'"):
            job.out.todos.append(f"activation={activation}: torch's {torch_class} uses tanh")
        self._leftover_todos(job, ("activation",))
        size = job.shape.features
        kw = [("batch_first", "True")]
        if "use_bias" in job.bound and job.kwargs.get("bias") == "False":
            kw.append(("bias", "False"))
        if kind == "simplernn" and activation not in (None, "'tanh'"):
            kw.append(("nonlinearity", activation))
        if bidirectional:
            kw.append(("bidirectional", "True"))
        hidden = job.kwargs.get("hidden_size", "None")
        if size is None:
            # torch has no LazyLSTM: the helper creates the nn.LSTM/GRU/RNN from the first input's feature count
            rnn = render_call("LazyRecurrent", [repr(torch_class), hidden], kw)
            job.out.helpers.add("LazyRecurrent")
            job.out.notes.append(f"the input size of {torch_class} is not known statically: LazyRecurrent reads it "
                                 "from the first input (run the model once before copying weights or building an "
                                 "optimizer, as for torch's Lazy* modules)")
            inner_access = ".rnn"
        else:
            rnn = render_call(f"nn.{torch_class}", [str(size), hidden], kw)
            inner_access = ""
        units = literal_value(hidden)
        if job.model_level:
            adapter_kw = [(k, "True") for k, v in (("return_sequences", return_sequences),
                                                     ("return_state", return_state)) if v]
            job.out.helpers.add("KerasRecurrent")
            job.out.expr = render_call("KerasRecurrent", [rnn], adapter_kw)
            job.out.target_access = ".rnn" + inner_access
            job.out.call_adapter = "KerasRecurrent"
        else:
            job.out.expr = rnn
            job.out.target_access = inner_access
            job.out.notes.append("torch returns (output, state): take output for return_sequences=True, "
                                 "output[:, -1] (or h_n) for the last step")
        if isinstance(units, int):
            features = units * (2 if bidirectional else 1)
        else:  # a size given by name (`LSTM(units)`): the next layer's input size is that expression
            features = None if hidden == "None" else f"2 * {hidden}" if bidirectional else hidden
        job.out.shape_out = Shape(features, job.shape.rank)
        return None

    def _s_attention(self, job: LayerJob):
        if job.to == KERAS:
            embed = job.leftover.pop("embed_dim", None) or "None"
            heads = job.kwargs.get("num_heads", job.bound.get("num_heads", "1"))
            batch_first = job.leftover.pop("batch_first", "False")
            self._leftover_todos(job)
            if job.model_level:
                kw = [(k, v) for k, v in (("dropout", job.bound.get("dropout")), ("bias", job.bound.get("bias")),
                                          ("batch_first", batch_first)) if v is not None and v != "False"]
                job.out.helpers.add("TorchMultiheadAttention")
                job.out.expr = render_call("TorchMultiheadAttention", [embed, heads], kw)
                job.out.target_access = ".attention"
                job.out.call_adapter = "TorchMultiheadAttention"
                return None
            e, h = literal_value(embed), literal_value(heads)
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
        h, d = literal_value(heads), literal_value(key_dim)
        embed = str(h * d) if isinstance(h, int) and isinstance(d, int) else f"({heads}) * ({key_dim})"
        if job.shape.features is not None and str(job.shape.features) != embed:
            job.out.todos.append(f"torch needs num_heads * key_dim ({embed}) == the query's size "
                                 f"({job.shape.features})")
        job.out.notes.append("assumes the query's size equals num_heads * key_dim (torch's embed_dim)")
        kw = [(k, v) for k, v in job.kwargs.items() if k not in ("num_heads", "embed_dim")]
        attention = render_call("nn.MultiheadAttention", [embed, heads], kw + [("batch_first", "True")])
        job.out.helpers.add("KerasMultiHeadAttention")
        job.out.expr = f"KerasMultiHeadAttention({attention})"
        job.out.target_access = ".attention"
        return None

    def _s_stochastic_depth(self, job: LayerJob):
        """torchvision's StochasticDepth / timm's DropPath -> Keras's Identity: what they do at inference."""
        job.leftover.clear()
        job.out.notes.append(catalog.STOCHASTIC_DEPTH_NOTE)
        job.out.expr = "layers.Identity()"
        return job.out

    def _s_pool(self, job: LayerJob):
        n = job.entry.spatial
        kind = "max" if job.entry.key.startswith("max") else "avg"
        if job.to == KERAS:
            pad = as_tuple(job.kwargs.pop("padding", "0"), n)
            ceil_mode = job.leftover.pop("ceil_mode", "False")
            kernel = as_tuple(job.bound.get("kernel_size", "None"), n)
            stride = as_tuple(job.bound.get("stride", job.bound.get("kernel_size", "None")), n)
            if literal_value(ceil_mode) is True and kind == "max" and kernel and stride and pad is not None:
                job.out.helpers.add("CeilModePad")
                ceil_pad = f"CeilModePad({kernel!r}, {stride!r}, {pad!r})"
            elif literal_value(ceil_mode) is False:
                ceil_pad = None
            else:
                ceil_pad = None
                job.out.todos.append(f"`ceil_mode={ceil_mode}` has no Keras pooling equivalent")
            for name in ("return_indices", "dilation", "divisor_override"):
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
                job.out.expr = f"keras.Sequential([Pad({flat!r}, value={value}), " \
                               f"{ceil_pad + ', ' if ceil_pad else ''}{job.out.expr}])"
            elif ceil_pad:
                job.out.expr = f"keras.Sequential([{ceil_pad}, {job.out.expr}])"
            self._channels_first(job)
            return None
        padding = _keras_padding(job.bound.get("padding", "'valid'"))
        job.kwargs.pop("padding", None)
        if "pool_size" not in job.bound and "kernel_size" not in job.kwargs:
            # tf.keras 2's AveragePooling pooled 2 per axis by default (Keras 3 requires pool_size)
            job.kwargs = {"kernel_size": "2", **job.kwargs}
        self._leftover_todos(job, ("data_format",))
        if padding == "same":
            job.out.todos.append("padding='same' pooling: TensorFlow pads by input size; pad explicitly "
                                 "(Keras's average excludes the padding)")
        job.out.expr = self._render(job)
        self._channels_last(job)
        return None

    def _s_adaptive_pool(self, job: LayerJob):
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
            size = as_tuple(size_code, n)
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
        keepdims = literal_value(job.bound.get("keepdims", "False"))
        self._leftover_todos(job, ("data_format", "keepdims"))
        job.out.expr = f"nn.{torch_name}{n}d(1)"
        self._channels_last(job)
        if not keepdims:
            job.out.expr = f"nn.Sequential({job.out.expr}, nn.Flatten())"
        return None

    def _s_flatten(self, job: LayerJob):
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
        if literal_value(job.bound.get("data_format", "None")) == "channels_first":
            job.out.todos.append("Flatten(data_format='channels_first') moves channels last before "
                                 "flattening: permute before nn.Flatten()")
        elif job.layout == NATIVE:
            job.out.todos.append("native layout: nn.Flatten of channels-first tensors orders features unlike "
                                 "Keras's channels-last Flatten; the next Linear's weights need reordering")
        self._leftover_todos(job, ("data_format",))
        job.out.expr = "nn.Flatten()"
        return None

    def _s_reshape(self, job: LayerJob):
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

    def _s_permute(self, job: LayerJob):
        self._leftover_todos(job)
        job.out.helpers.add("Permute")
        job.out.expr = f"Permute({job.kwargs.get('dims', job.bound.get('dims', 'None'))})"
        return None

    def _s_rescaling(self, job: LayerJob):
        self._leftover_todos(job)
        job.out.helpers.add("Rescaling")
        offset = job.bound.get("offset")
        job.out.expr = f"Rescaling({job.bound.get('scale', 'None')}" + (f", {offset})" if offset else ")")
        return None

    def _s_zero_pad(self, job: LayerJob):
        n = job.entry.spatial
        if job.to == KERAS:
            self._leftover_todos(job)
            code = job.kwargs.get("padding", job.bound.get("padding", "0"))
            value = literal_value(job.bound.get("padding", "0"))
            if isinstance(value, int):
                code = str(value)
            elif n == 1 and isinstance(value, tuple) and len(value) == 2:
                code = repr(tuple(value))
            job.kwargs["padding"] = code
            job.out.expr = self._render(job)
            self._channels_first(job)
            return None
        self._leftover_todos(job, ("data_format",))
        code = job.bound.get("padding", "1")
        value = literal_value(code)
        if isinstance(value, int):
            job.kwargs["padding"] = str(value) if n > 1 else str((value, value))
        elif n == 1 and isinstance(value, tuple) and len(value) == 2 and all(isinstance(v, int) for v in value):
            job.kwargs["padding"] = str(tuple(value))
        elif not is_literal(code):
            # a value known when the model runs (`padding=correct_pad(x, 3)`): Keras's per-axis pairs become
            # torch's flat last-axis-first tuple then
            job.out.helpers.add("keras_padding")
            job.kwargs["padding"] = f"keras_padding({code}, {n})"
        job.out.expr = self._render(job)
        self._channels_last(job)
        return None

    def _s_pad(self, job: LayerJob):
        mode = job.entry.key.split("_")[0]
        padding = job.leftover.pop("padding", "0")
        value = job.leftover.pop("value", "0.0")
        self._leftover_todos(job)
        n = job.entry.spatial
        pad = literal_value(padding)
        if isinstance(pad, int):
            padding = repr((pad,) * (2 * n))
        keras_mode = {"constant": "constant", "reflect": "reflect", "replicate": "edge"}[mode]
        args = [padding, f"mode={keras_mode!r}"] + ([f"value={value}"] if mode == "constant" else [])
        job.out.helpers.add("Pad")
        job.out.expr = f"Pad({', '.join(args)})"
        self._channels_first(job)
        return None

    def _s_upsample(self, job: LayerJob):
        if job.to == KERAS:
            mode = literal_value(job.bound.get("mode", "'nearest'"))
            # torch takes the number of spatial axes from the input: the rank when known, else what the mode implies
            implied = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}.get(mode)
            rank = job.shape.rank
            n = rank - 2 if rank is not None else implied
            if rank is not None and n not in (1, 2, 3):
                job.out.todos.append(f"nn.Upsample takes 3-D to 5-D input; its input here is {rank}-D")
                n = implied or 2
            if job.leftover.get("align_corners") not in (None, "None", "False"):
                job.out.todos.append("align_corners=True has no Keras equivalent")
            job.leftover.pop("align_corners", None)
            if "size" in job.leftover:
                job.out.todos.append("Upsample(size=...): Keras's UpSampling takes integer factors")
                job.leftover.pop("size")
            job.kwargs.pop("interpolation", None)
            self._leftover_todos(job)
            factor = job.kwargs.setdefault("size", "2")
            value = literal_value(factor)
            if is_literal(factor) and not (isinstance(value, int) or isinstance(value, tuple) and all(
                    isinstance(v, int) for v in value)):
                job.out.todos.append(f"scale_factor={factor}: Keras's UpSampling takes integer factors")
            if n is None:
                # nearest on an input of unknown rank: a helper that repeats every spatial axis, whatever their
                # number, rather than a guessed UpSampling1D/2D/3D
                job.out.notes.append("nn.Upsample: the input's rank is not known statically, so the translation "
                                     "repeats every spatial axis (UpsampleNearest works on 3-D to 5-D input)")
                job.out.helpers.add("UpsampleNearest")
                job.out.expr = render_call("UpsampleNearest", [job.kwargs.pop("size")], list(job.kwargs.items()))
                self._channels_first(job)
                return None
            if mode not in ("nearest", None) and not (n == 2 and mode == "bilinear"):
                job.out.todos.append(f"mode={mode!r} has no Keras UpSampling{n}D equivalent")
            if n == 2 and mode == "bilinear":
                job.kwargs["interpolation"] = "'bilinear'"
            job.out.expr = self._render(job, func=f"layers.UpSampling{n}D", positional_count=1)
            self._channels_first(job)
            return None
        size = job.kwargs.pop("size", "2")
        self._leftover_todos(job, ("data_format",))
        mode = literal_value(job.bound.get("interpolation", "'nearest'"))
        args = [("scale_factor", size)]
        if mode not in ("nearest", None):
            args.append(("mode", repr(mode)))
        job.kwargs = {}
        job.out.expr = render_call("nn.Upsample", [], args)
        self._channels_last(job)
        return None

    def _s_activation(self, job: LayerJob):
        if job.to == KERAS:
            self._leftover_todos(job)
            job.out.expr = f"layers.Activation({job.entry.keras_activation!r})"
            return None
        job.out.expr = f"nn.{job.entry.torch.rsplit('.', 1)[1]}()"
        return None

    def _s_relu6(self, job: LayerJob):
        self._leftover_todos(job, ("max_value",))
        job.out.expr = "layers.ReLU(max_value=6.0)" if job.to == KERAS else "nn.ReLU6()"
        return None

    def _s_gelu(self, job: LayerJob):
        if job.to == KERAS:
            approximate = literal_value(job.leftover.pop("approximate", "'none'"))
            self._leftover_todos(job)
            if approximate == "tanh":
                job.out.expr = "layers.Activation(lambda x: keras.activations.gelu(x, approximate=True))"
            else:
                job.out.expr = "layers.Activation('gelu')"
            return None
        job.out.expr = "nn.GELU()"
        return None

    def _s_log_softmax(self, job: LayerJob):
        if job.to == KERAS:
            dim = job.leftover.pop("dim", "None")
            self._leftover_todos(job)
            if literal_value(dim) == -1:
                job.out.expr = "layers.Activation('log_softmax')"
            elif dim == "None":
                job.out.todos.append("LogSoftmax without dim: give the axis explicitly")
                job.out.expr = "layers.Activation('log_softmax')"
            else:
                job.out.expr = f"layers.Activation(lambda x: keras.ops.log_softmax(x, axis={dim}))"
            return None
        job.out.expr = "nn.LogSoftmax(dim=-1)"
        return None

    def _s_prelu(self, job: LayerJob):
        if job.to == KERAS:
            count_code = job.leftover.pop("num_parameters", "1")
            count = literal_value(count_code)
            init = job.leftover.pop("init", "0.25")
            self._leftover_todos(job)
            rank = job.shape.rank
            if rank is None:
                # Keras's PReLU fixes shared_axes (so the rank) when built; torch's takes any rank: with the rank
                # not known from the layers before, a helper that puts the slopes on the channel axis of any rank
                job.out.notes.append("nn.PReLU: the input's rank is not known statically, so the translation "
                                     "applies the slopes along the channel axis of any rank (TorchPReLU)")
                job.out.helpers.add("TorchPReLU")
                args = [count_code, init]
                if job.layout == NATIVE:
                    args.append("axis=-1")
                    job.out.notes.append("native layout: this layer takes channels-last (N, ..., C) input")
                job.out.expr = f"TorchPReLU({', '.join(args)})"
                return None
            if job.layout == NATIVE:
                shared = list(range(1, rank - 1)) if count != 1 else list(range(1, rank))
            else:
                shared = list(range(2, rank)) if count != 1 else list(range(1, rank))
            args = [f"alpha_initializer=keras.initializers.Constant({init})"]
            if shared:
                args.append(f"shared_axes={shared}")
            job.out.expr = f"layers.PReLU({', '.join(args)})"
            return None
        shared = literal_value(job.bound.get("shared_axes", "None"))
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


# torch layers whose (batched) input and output rank is their number of spatial axes + 2
_FIXED_RANK = re.compile(r"torch\.nn\.(Conv|ConvTranspose|MaxPool|AvgPool|AdaptiveAvgPool|AdaptiveMaxPool|ZeroPad|"
                         r"ConstantPad|ReflectionPad|ReplicationPad|CircularPad)[123]d")

_ACTIVATION_ENTRY = LayerPair("activation", "torch.nn.Module", "keras.layers.Activation", (), ())
