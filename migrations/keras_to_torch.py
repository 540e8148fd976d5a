"""Keras 3 -> PyTorch for a Keras Layer/Model *subclass*, as a transformation of the user's module (the mirror of
:mod:`.torch_to_keras`; functional and Sequential builders stay with :mod:`.model_translator`).

1. *Closure*: the class and every top-level definition it reaches (:mod:`.closure`); relative imports, and absolute
   imports of the source's own package (``from keras_hub.src.x import y`` inside keras_hub), are followed.
2. *Rewrite*: one libcst transformer. Each Keras Layer/Model subclass derives from the generated ``KerasLayer``
   (an ``nn.Module`` with the Keras Layer API the user's code relies on: ``build`` on the first call,
   ``self.built``, ``add_weight``, ``call`` with ``training``), Keras layer constructors go through the catalog,
   ``keras.ops`` calls through :class:`.op_translator.OpTranslator`, plain Python stays as it is, and registration
   decorators, ``get_config`` and shape inference are dropped with a note.
3. *Mirror*: attribute names stay the source's, so
4. ``copy_weights(source, target)`` walks the torch module tree at run time (``named_modules()``), finds the Keras
   object at the same attribute path and copies each layer with the catalog's weight rule for it (tagged on the torch
   module when it is built) and each ``add_weight`` variable by its attribute name, failing on anything unpaired.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import libcst as cst

from . import catalog
from .closure import bound_names, closure, used_names
from .common import KERAS, PRESERVE, TODO_TAG, TORCH, ParsedSource, TranslationError, code_of, weight_statements
from .generated_helpers import TORCH_HELPERS, WEIGHT_HELPERS
from .layer_translator import LayerOut, LayerTranslator
from .op_translator import _is_self_or_super, python_containers
from .rewrite import ClosureRewriter, assemble, copy_rule_definitions, drop_imports, register_copy_rule
from .tensor_aliases import aliased_updates
from .torch_to_keras import ModuleTranslation

_KERAS_BASES = {"keras.layers.Layer", "keras.Layer", "keras.Model", "keras.models.Model", "keras.src.layers.Layer",
                "keras.src.models.Model", "keras.layers.Wrapper"}
# Keras serialisation and shape inference: torch has no counterpart and nothing calls them there
_DROPPED_METHODS = {"get_config", "from_config", "compute_output_shape", "compute_output_spec", "get_build_config",
                    "build_from_config"}
_KERAS_IMPORT_ROOTS = ("keras", "tensorflow", "tf_keras")

RUNTIME = '''
class KerasLayer(nn.Module):
    """The Keras Layer API the translated classes use, on torch: Keras's constructor keywords, build() run on the
    first call with the first input's shape, self.built, add_weight() returning an nn.Parameter (registered when
    assigned to an attribute, as Keras tracks it), lists of layers tracked, and call() given `training` when it
    takes it."""

    compute_dtype = variable_dtype = "float32"
    supports_masking = False

    def __init__(self, *args, name=None, dtype=None, trainable=True, **kwargs):
        super().__init__()
        self.built = False
        self.name = name or re.sub(r"(?<!^)(?=[A-Z])", "_", type(self).__name__).lower()
        self.trainable = trainable
        self.dtype_policy = dtype  # passed on to sublayers as `dtype=self.dtype_policy`; torch modules are float32

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        init = cls.__dict__.get("__init__")
        if init is not None:
            def __init__(self, *args, _init=init, **kwargs):
                _init(self, *args, **kwargs)
                self._track_lists()
            __init__.__doc__ = init.__doc__
            cls.__init__ = __init__

    def __setattr__(self, name, value):
        if isinstance(value, (list, tuple)) and value and all(isinstance(item, nn.Module) for item in value):
            value = nn.ModuleList(value)  # Keras tracks the layers of a list attribute; torch needs a ModuleList
        super().__setattr__(name, value)

    def _track_lists(self):
        """Lists filled after they were assigned (`self.blocks = []`, then `self.blocks.append(block)` in a loop):
        Keras tracks their layers too, torch once they are a ModuleList."""
        for name, value in list(vars(self).items()):
            if isinstance(value, list) and value and all(isinstance(item, nn.Module) for item in value):
                setattr(self, name, value)

    def build(self, input_shape=None):
        self.built = True

    def _flatten_layers(self, include_self=True, recursive=True):
        modules = self.modules() if recursive else [self, *self.children()]
        return [module for module in modules if include_self or module is not self]

    def add_weight(self, shape=(), initializer="glorot_uniform", dtype=None, trainable=True, name=None, **kwargs):
        tensor = torch.empty(tuple(int(size) for size in shape or ()))
        _initialize(tensor, initializer)
        return nn.Parameter(tensor, requires_grad=bool(trainable))

    def forward(self, *args, **kwargs):
        if not self.built:
            first = args[0] if args else next(iter(kwargs.values()))
            self.build(_shape_of(first))
            self.built = True
            self._track_lists()
        parameters = inspect.signature(self.call).parameters
        if "training" in parameters and kwargs.get("training") is None:
            kwargs["training"] = self.training
        accepts_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())
        kwargs = {key: value for key, value in kwargs.items()
                  if accepts_any or key in parameters or key not in ("training", "mask")}
        return self.call(*args, **kwargs)


def _shape_of(value):
    if isinstance(value, (list, tuple)):
        return [_shape_of(item) for item in value]
    if isinstance(value, dict):
        return {key: _shape_of(item) for key, item in value.items()}
    return tuple(value.shape) if hasattr(value, "shape") else None


def _initialize(tensor, initializer):
    """Keras initializer names, best effort (copy_weights overwrites every weight anyway)."""
    name = initializer if isinstance(initializer, str) else type(initializer).__name__
    name = re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()
    with torch.no_grad():
        if callable(initializer) and not isinstance(initializer, str) and not hasattr(initializer, "get_config"):
            tensor.copy_(torch.as_tensor(np.asarray(initializer(tuple(tensor.shape))), dtype=tensor.dtype))
        elif name in ("zeros", "zero"):
            tensor.zero_()
        elif name in ("ones", "one"):
            tensor.fill_(1.0)
        elif tensor.dim() >= 2 and "uniform" in name:
            nn.init.xavier_uniform_(tensor)
        elif tensor.dim() >= 2:
            nn.init.xavier_normal_(tensor)
        else:
            nn.init.normal_(tensor, std=0.05)


class DTypePolicy:
    """keras.DTypePolicy (and keras.dtype_policies.get): the policy's name; translated modules compute in
    float32."""

    def __init__(self, name="float32"):
        self.name = getattr(name, "name", name)


class KerasReversibleEmbedding(KerasLayer):
    """keras.layers.ReversibleEmbedding: an embedding whose call(x, reverse=True) projects back onto the
    vocabulary (with the transposed embeddings, or separate reverse_embeddings when tie_weights=False)."""

    def __init__(self, input_dim, output_dim, tie_weights=True, embeddings_initializer="uniform",
                 embeddings_regularizer=None, embeddings_constraint=None, mask_zero=False, reverse_dtype=None,
                 logit_soft_cap=None, **kwargs):
        super().__init__(**kwargs)
        self.input_dim, self.output_dim, self.tie_weights = input_dim, output_dim, tie_weights
        self.embeddings_initializer, self.mask_zero = embeddings_initializer, mask_zero
        self.reverse_dtype, self.logit_soft_cap = reverse_dtype, logit_soft_cap

    def build(self, input_shape=None):
        self.embeddings = self.add_weight(shape=(self.input_dim, self.output_dim),
                                          initializer=self.embeddings_initializer, name="embeddings")
        if not self.tie_weights:
            self.reverse_embeddings = self.add_weight(shape=(self.output_dim, self.input_dim),
                                                      initializer=self.embeddings_initializer,
                                                      name="reverse_embeddings")
        self.built = True

    def call(self, inputs, reverse=False):
        if not reverse:
            return nn.functional.embedding(inputs.long(), self.embeddings)
        kernel = self.embeddings.T if self.tie_weights else self.reverse_embeddings
        if self.reverse_dtype is not None:
            inputs, kernel = inputs.to(_torch_dtype(self.reverse_dtype)), kernel.to(_torch_dtype(self.reverse_dtype))
        logits = torch.matmul(inputs, kernel)
        if self.logit_soft_cap is not None:
            logits = torch.tanh(logits / self.logit_soft_cap) * self.logit_soft_cap
        return logits


class _EinsumProjection(KerasLayer):
    """A projection of keras.layers.MultiHeadAttention (Keras's EinsumDense over the trailing axes): the input's
    last len(input_dims) axes contract with a `kernel` of shape (*input_dims, *output_dims), plus a `bias` of shape
    output_dims; Keras's names and shapes, so copy_weights pairs them by attribute."""

    def __init__(self, input_dims, output_dims, use_bias=True, activation=None, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", **kwargs):
        super().__init__(**kwargs)
        self.contracted = len(input_dims)
        self.activation = _activation(activation)
        self.kernel = self.add_weight(shape=(*input_dims, *output_dims), initializer=kernel_initializer)
        self.bias = self.add_weight(shape=tuple(output_dims), initializer=bias_initializer) if use_bias else None
        self.built = True

    def call(self, inputs):
        outputs = torch.tensordot(inputs, self.kernel, dims=self.contracted)
        return self.activation(outputs if self.bias is None else outputs + self.bias)


class KerasMultiHeadAttentionLayer(KerasLayer):
    """keras.layers.MultiHeadAttention with its Keras API, as a base for the classes that subclass it:
    build(query_shape, value_shape, key_shape) creates _query_dense, _key_dense, _value_dense (and _gate_dense),
    _output_dense and _dropout_layer; call() computes the attention mask from query/value/key masks, the
    attention_mask and use_causal_mask (Keras's True: *may attend*) and hands the projections to
    _compute_attention(query, key, value, attention_mask, training, return_attention_scores), which a subclass may
    override or call, as _masked_softmax and _compute_causal_mask. Inputs are (batch, sequence, features) attending
    over the sequence axis (Keras's default attention_axes)."""

    def __init__(self, num_heads, key_dim, value_dim=None, dropout=0.0, use_bias=True, output_shape=None,
                 attention_axes=None, sliding_window=None, flash_attention=None, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None, use_gate=False, seed=None,
                 **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True
        self._num_heads, self._key_dim = num_heads, key_dim
        self._value_dim = value_dim if value_dim else key_dim
        self._dropout, self._use_bias, self._use_gate = dropout, use_bias, use_gate
        self._output_shape = (output_shape,) if isinstance(output_shape, int) else (
            tuple(output_shape) if output_shape else None)
        self._attention_axes = (attention_axes,) if isinstance(attention_axes, int) else attention_axes
        self._sliding_window = sliding_window
        self._flash_attention = flash_attention
        self._kernel_initializer, self._bias_initializer = kernel_initializer, bias_initializer
        self.seed = seed
        self._inverse_sqrt_key_dim = 1.0 / float(key_dim) ** 0.5

    num_heads = property(lambda self: self._num_heads)
    key_dim = property(lambda self: self._key_dim)
    value_dim = property(lambda self: self._value_dim)
    dropout = property(lambda self: self._dropout)
    use_bias = property(lambda self: self._use_bias)
    attention_axes = property(lambda self: self._attention_axes)
    query_dense = property(lambda self: self._query_dense)
    key_dense = property(lambda self: self._key_dense)
    value_dense = property(lambda self: self._value_dense)
    output_dense = property(lambda self: self._output_dense)

    def build(self, query_shape, value_shape=None, key_shape=None):
        value_shape = query_shape if value_shape is None else value_shape
        key_shape = value_shape if key_shape is None else key_shape
        if len(query_shape) != 3 or tuple(self._attention_axes or (1,)) not in ((1,), (-2,)):
            raise NotImplementedError("the torch MultiHeadAttention base takes (batch, sequence, features) inputs "
                                      f"attending over the sequence axis; got query shape {tuple(query_shape)}, "
                                      f"attention_axes={self._attention_axes}")
        self._attention_axes = (1,)

        def projection(input_dims, output_dims, activation=None):
            return _EinsumProjection(input_dims, output_dims, self._use_bias, activation,
                                     self._kernel_initializer, self._bias_initializer)

        self._query_dense = projection((query_shape[-1],), (self._num_heads, self._key_dim))
        self._key_dense = projection((key_shape[-1],), (self._num_heads, self._key_dim))
        if self._use_gate:
            self._gate_dense = projection((query_shape[-1],), (self._num_heads, self._value_dim), "sigmoid")
        self._value_dense = projection((value_shape[-1],), (self._num_heads, self._value_dim))
        self._dropout_layer = nn.Dropout(self._dropout)
        self._output_dense = projection((self._num_heads, self._value_dim),
                                        self._output_shape or (query_shape[-1],))
        self.built = True

    def forward(self, *args, **kwargs):
        if not self.built:
            shapes = [_shape_of(value) for value in args[:3]]
            shapes += [_shape_of(kwargs[name]) for name in ("query", "value", "key")[len(shapes):]
                       if kwargs.get(name) is not None]
            self.build(*shapes)
        return super().forward(*args, **kwargs)

    def _masked_softmax(self, attention_scores, attention_mask=None):
        """Keras's Softmax with a mask: masked scores become -1e9 and masked weights 0."""
        if attention_mask is None:
            return torch.softmax(attention_scores, dim=-1)
        mask = _attention_mask(attention_mask, attention_scores.dim(), threshold=0.5)
        weights = torch.softmax(attention_scores.masked_fill(~mask, -1e9), dim=-1)
        return weights.masked_fill(~mask, 0.0)

    def _compute_attention(self, query, key, value, attention_mask=None, training=None,
                           return_attention_scores=False, use_causal_mask=False):
        if use_causal_mask:
            causal = self._compute_causal_mask(query, value)
            attention_mask = causal if attention_mask is None else attention_mask.bool() & causal
        scores = torch.einsum("aecd,abcd->acbe", key, query * self._inverse_sqrt_key_dim)
        if not (self._dropout > 0.0 or return_attention_scores):
            # Keras's fused dot_product_attention: masked scores -1e9, weights of a fully masked row not zeroed
            if attention_mask is not None:
                scores = scores.masked_fill(~_attention_mask(attention_mask, scores.dim()), -1e9)
            return torch.einsum("acbe,aecd->abcd", torch.softmax(scores, dim=-1), value), None
        weights = self._masked_softmax(scores, attention_mask)
        dropped = self._dropout_layer(weights) if self._dropout > 0.0 else weights
        return torch.einsum("acbe,aecd->abcd", dropped, value), weights

    def _compute_causal_mask(self, query, value=None):
        query_length = query.shape[1]
        value_length = query_length if value is None else value.shape[1]
        return torch.ones(query_length, value_length, dtype=torch.bool, device=query.device).tril()[None]

    def _compute_sliding_window_mask(self, query, value=None):
        query_length = query.shape[1]
        value_length = query_length if value is None else value.shape[1]
        rows = torch.arange(query_length, device=query.device)[:, None]
        columns = torch.arange(value_length, device=query.device)[None, :]
        return ((rows - columns).abs() < self._sliding_window)[None]

    def _compute_attention_mask(self, query, value, query_mask=None, value_mask=None, key_mask=None,
                                attention_mask=None, use_causal_mask=False):
        masks = [mask for mask in (
            None if query_mask is None else query_mask.bool()[:, :, None],
            None if value_mask is None else value_mask.bool()[:, None, :],
            None if key_mask is None else key_mask.bool()[:, None, :],
            self._compute_causal_mask(query, value) if use_causal_mask else None,
            None if self._sliding_window is None else self._compute_sliding_window_mask(query, value),
            None if attention_mask is None else attention_mask.bool()) if mask is not None]
        if not masks:
            return None
        combined = masks[0]
        for mask in masks[1:]:
            combined = combined & mask
        return combined

    def call(self, query, value, key=None, query_mask=None, value_mask=None, key_mask=None, attention_mask=None,
             return_attention_scores=False, training=None, use_causal_mask=False):
        key = value if key is None else key
        attention_mask = self._compute_attention_mask(query, value, query_mask, value_mask, key_mask,
                                                      attention_mask, use_causal_mask)
        gate = self._gate_dense(query) if self._use_gate else None
        query, key, value = self._query_dense(query), self._key_dense(key), self._value_dense(value)
        attention_output, attention_scores = self._compute_attention(query, key, value, attention_mask, training,
                                                                     return_attention_scores)
        attention_output = self._output_dense(attention_output if gate is None else attention_output * gate)
        return (attention_output, attention_scores) if return_attention_scores else attention_output


def _attention_mask(mask, rank, threshold=0.0):
    """A Keras attention mask (True or > threshold: *may attend*) as booleans broadcast to the scores' rank
    (batch, heads, query, key): the heads axis is inserted."""
    mask = mask if mask.dtype == torch.bool else mask > threshold
    while mask.dim() < rank:
        mask = mask.unsqueeze(-3)
    return mask


def _slice_update(inputs, start_indices, updates):
    """keras.ops.slice_update: a copy of `inputs` with the block starting at `start_indices` set to `updates`."""
    result = inputs.clone()
    result[tuple(slice(int(start), int(start) + size) for start, size in zip(start_indices, updates.shape))] = updates
    return result


def _build(layer, *args, **kwargs):
    """`sublayer.build(shape)` of the Keras code: a translated Keras layer builds; a torch module (lazy or sized at
    construction) has nothing to do."""
    if isinstance(layer, KerasLayer) and not layer.built:
        layer.build(*args, **kwargs)
        layer.built = True


def _output_shape(layer, input_shape):
    """`sublayer.compute_output_shape(shape)` of the Keras code (mostly to build the next sublayer)."""
    if hasattr(layer, "compute_output_shape"):
        return layer.compute_output_shape(input_shape)
    if hasattr(layer, "out_features"):  # Linear, LazyLinear
        return tuple(input_shape[:-1]) + (layer.out_features,)
    if isinstance(layer, nn.Sequential):  # Dense(..., activation=...)
        for module in layer:
            input_shape = _output_shape(module, input_shape)
        return input_shape
    if isinstance(layer, (nn.LayerNorm, nn.Dropout, nn.Identity, nn.GELU, nn.ReLU, nn.Tanh, nn.Sigmoid, nn.SiLU,
                          _Activation)):
        return input_shape
    raise NotImplementedError(f"compute_output_shape of {type(layer).__name__} is not translated")


def _take(x, indices, axis=None):
    """keras.ops.take: numpy's take (indices of any rank; axis None takes from the flattened tensor)."""
    indices = torch.as_tensor(indices, device=x.device).long()
    if axis is None:
        return torch.take(x, indices)
    axis = axis % x.dim()
    picked = torch.index_select(x, axis, indices.reshape(-1))
    return picked.reshape(x.shape[:axis] + indices.shape + x.shape[axis + 1:])


def _slice(x, start_indices, shape):
    """keras.ops.slice: the block of `shape` starting at `start_indices`."""
    return x[tuple(slice(int(start), int(start) + int(size)) for start, size in zip(start_indices, shape))]


def _activation(identifier):
    """keras.activations.get: a Keras activation name (or a callable, kept) as a torch function."""
    if callable(identifier):
        return identifier
    functions = {None: lambda x: x, "linear": lambda x: x, "relu": torch.relu, "sigmoid": torch.sigmoid,
                 "tanh": torch.tanh, "gelu": nn.functional.gelu, "silu": nn.functional.silu,
                 "swish": nn.functional.silu, "elu": nn.functional.elu, "selu": nn.functional.selu,
                 "softplus": nn.functional.softplus, "relu6": nn.functional.relu6,
                 "softmax": lambda x: torch.softmax(x, dim=-1), "exponential": torch.exp}
    if identifier not in functions:
        raise NotImplementedError(f"Keras activation {identifier!r} is not translated")
    return functions[identifier]


class _Activation(nn.Module):
    """A Keras layer's `activation=` argument known at run time only (a name or a callable)."""

    def __init__(self, identifier):
        super().__init__()
        self.function = _activation(identifier)

    def forward(self, x):
        return self.function(x)


def _torch_dtype(dtype):
    """A Keras dtype (a name, Python's float/int/bool, or a torch dtype) as a torch dtype."""
    if isinstance(dtype, torch.dtype):
        return dtype
    names = {float: "float32", int: "int32", bool: "bool"}
    return getattr(torch, names.get(dtype, dtype if isinstance(dtype, str) else str(dtype)))


def _fft2(pair):
    """keras.ops.fft2: a (real, imaginary) pair in, the 2-D FFT over the last two axes out, as a pair."""
    result = torch.fft.fft2(torch.complex(pair[0], pair[1]))
    return result.real, result.imag


def _tagged(module, copy_rule):
    """Remember which weight rule copies a Keras layer into this torch module (read by copy_weights)."""
    module._tensorlint_copy = copy_rule
    return module
'''

COPY_WEIGHTS = '''
def copy_weights(source, target):
    """Copy every weight of the Keras `source` into its translation `target`, walking both layer trees by attribute
    path. Call both once on an input first so lazily built weights exist. Fails on any torch tensor or Keras weight
    left unpaired."""
    import keras

    done, assigned, used = [], set(), set()
    for path, module in target.named_modules():
        if any(not prefix or path.startswith(prefix + ".") for prefix in done) or not module.state_dict():
            continue  # copied with its tagged ancestor, or no tensors (a pooling Sequential, an activation)
        layer = _at_path(source, path)
        rule = getattr(module, "_tensorlint_copy", None)
        if rule is not None:
            globals()[rule](layer, module)
            assigned.update(id(tensor) for tensor in module.state_dict(keep_vars=True).values())
            used.update(id(variable) for variable in layer.weights)
            done.append(path)
            continue
        own = dict(module.named_parameters(recurse=False)) | dict(module.named_buffers(recurse=False))
        for name, tensor in own.items():
            variable = getattr(layer, name, None)
            if not isinstance(variable, keras.Variable):
                raise ValueError(f"{path + '.' if path else ''}{name}: no Keras variable at that path")
            value = np.asarray(keras.ops.convert_to_numpy(variable))
            if tuple(value.shape) != tuple(tensor.shape):
                raise ValueError(f"{path}.{name}: shape {value.shape} != {tuple(tensor.shape)}")
            with torch.no_grad():
                tensor.copy_(torch.from_numpy(np.ascontiguousarray(value)).to(tensor.dtype))
            assigned.add(id(tensor))
            used.add(id(variable))
    unpaired = [name for name, tensor in target.state_dict(keep_vars=True).items()
                if id(tensor) not in assigned and not name.endswith("num_batches_tracked")]
    if unpaired:
        raise ValueError(f"torch tensors no Keras weight was copied into: {unpaired}")
    left = [variable.path for variable in source.weights if id(variable) not in used]
    if left:
        raise ValueError(f"Keras weights not copied into the torch translation: {left}")

'''

_WEIGHT_HELPERS_MODULE = cst.parse_module(WEIGHT_HELPERS)
_RUNTIME_MODULE = cst.parse_module(RUNTIME)
# keras.ops calls the catalog's two-way op table does not hold (Keras -> torch only): argument code -> torch code
_PYTHON_DTYPES = {"float": "torch.float32", "int": "torch.int32", "bool": "torch.bool"}
# Keras layers outside the catalog with a runtime torch counterpart taking the Keras signature (constructed and
# subclassed as they are; their weights are add_weight parameters, copied by attribute name)
_RUNTIME_LAYERS = {"keras.layers.ReversibleEmbedding": "KerasReversibleEmbedding"}
# every Keras name with a runtime counterpart, called or used as a value: those layers, and dtype policies (a Layer's
# `dtype=` argument, which KerasLayer keeps as given)
_RUNTIME_NAMES = {**_RUNTIME_LAYERS, "keras.DTypePolicy": "DTypePolicy", "keras.dtype_policies.DTypePolicy":
                  "DTypePolicy", "keras.dtype_policies.get": "DTypePolicy"}
# Keras layers the catalog maps when constructed that user classes subclass: the catalog's torch module has another
# API, so a subclass derives from a runtime torch base with the Keras layer's own (its build signature, the private
# sublayers and methods a subclass overrides or calls)
_RUNTIME_BASES = {"keras.layers.MultiHeadAttention": "KerasMultiHeadAttentionLayer"}
_KERAS_MASKS = {"keras.backend.get_keras_mask", "keras.backend.set_keras_mask", "keras.src.backend.get_keras_mask",
                "keras.src.backend.set_keras_mask"}
# keras.ops element-wise functions that torch spells torch.<name> with the same meaning (NaN/inf and rounding
# included: both round half to even)
_SAME_UNARY_OPS = {"sin": "sin", "cos": "cos", "tan": "tan", "arcsin": "asin", "arccos": "acos", "arctan": "atan",
                   "sinh": "sinh", "cosh": "cosh", "floor": "floor", "ceil": "ceil", "round": "round", "sign": "sign",
                   "negative": "neg", "reciprocal": "reciprocal", "log1p": "log1p", "expm1": "expm1", "log2": "log2",
                   "log10": "log10", "logical_not": "logical_not", "isnan": "isnan", "isinf": "isinf",
                   "isfinite": "isfinite"}
# and those of two arguments (keras.ops.mod is numpy's floored modulo, torch.remainder)
_SAME_BINARY_OPS = {"equal": "eq", "not_equal": "ne", "greater": "gt", "greater_equal": "ge", "less": "lt",
                    "less_equal": "le", "logical_and": "logical_and", "logical_or": "logical_or",
                    "logical_xor": "logical_xor", "floor_divide": "floor_divide", "mod": "remainder",
                    "arctan2": "atan2"}
_KERAS_ONLY_OPS = {
    **{f"keras.ops.{name}": (lambda torch_name: lambda x: f"torch.{torch_name}({x})")(torch_name)
       for name, torch_name in _SAME_UNARY_OPS.items()},
    **{f"keras.ops.{name}": (lambda torch_name: lambda x1, x2: f"torch.{torch_name}({x1}, {x2})")(torch_name)
       for name, torch_name in _SAME_BINARY_OPS.items()},
    "keras.ops.moveaxis": lambda x, source, destination: f"torch.movedim({x}, {source}, {destination})",
    "keras.ops.tile": lambda x, repeats: f"torch.tile({x}, tuple({repeats}))",
    # a dtype given by keyword or known at run time only (the positional literal forms are handled before)
    "keras.ops.cast": lambda x, dtype: f"torch.as_tensor({x}, dtype=_torch_dtype({dtype}))",
    "keras.ops.convert_to_tensor": lambda x, dtype=None, sparse=None, ragged=None:
        None if sparse not in (None, "None", "False") or ragged not in (None, "None", "False") else
        f"torch.as_tensor({x})" if dtype in (None, "None") else f"torch.as_tensor({x}, dtype=_torch_dtype({dtype}))",
    # Keras's gelu is exact unless approximate=True (torch's approximate='tanh')
    "keras.activations.gelu": lambda x, approximate="False":
        f"torch.nn.functional.gelu({x})" if approximate == "False" else
        f"torch.nn.functional.gelu({x}, approximate='tanh' if {approximate} else 'none')",
    "keras.ops.broadcast_to": lambda x, shape: f"torch.broadcast_to({x}, tuple({shape}))",
    "keras.ops.take": lambda x, indices, axis=None: f"_take({x}, {indices}, axis={axis})",
    "keras.ops.slice": lambda inputs, start_indices, shape: f"_slice({inputs}, {start_indices}, {shape})",
    "keras.ops.fft2": lambda x: f"_fft2({x})",
    "keras.ops.slice_update": lambda inputs, start_indices, updates:
        f"_slice_update({inputs}, {start_indices}, {updates})",
}


@dataclass
class _State:
    helpers: set[str] = field(default_factory=set)  # TORCH_HELPERS names
    copy_rules: dict[str, str] = field(default_factory=dict)  # rule body -> rule name
    notes: list[str] = field(default_factory=list)


class _KerasToTorch(ClosureRewriter):
    """The rewrite of the closure's statements: the op translator's mapping of keras.ops, plus Keras classes,
    layer constructors, build() of sublayers, dropped methods, decorators and imports."""

    def __init__(self, source: ParsedSource, layout: str, state: _State):
        super().__init__(source, TORCH, layout)
        self.state = state
        self.layers = LayerTranslator(TORCH, layout, model_level=True)
        self.keras_classes: set[str] = set()
        self.class_stack: list[tuple[cst.ClassDef, bool]] = []
        self.call_funcs: set[int] = set()
        self.chain_parts: set[int] = set()
        # per function: the augmented assignments that would write in place into a shared tensor in torch
        self.function_stack: list[dict] = []
        self.generated: set[int] = set()  # ids of nodes already translated (functional subclasses' graphs)

    def on_visit(self, node: cst.CSTNode) -> bool:
        return id(node) not in self.generated and super().on_visit(node)

    def on_leave(self, original: cst.CSTNode, updated: cst.CSTNode):
        return updated if id(original) in self.generated else super().on_leave(original, updated)

    def _statement_aliases(self, node: cst.CSTNode) -> dict | None:
        return self.function_stack[-1].get(node) if self.function_stack else None

    # -- classes and methods --
    def _is_keras_class(self, node: cst.ClassDef) -> bool:
        return any(self.source.resolve(base.value) in {*_KERAS_BASES, *_RUNTIME_LAYERS, *_RUNTIME_BASES} or (
            isinstance(base.value, cst.Name) and base.value.value in self.keras_classes) for base in node.bases)

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        keras_class = self._is_keras_class(node)
        self.chain_parts.update(id(base.value) for base in node.bases)  # mapped in leave_ClassDef
        if keras_class:
            self.keras_classes.add(node.name.value)
        self.class_stack.append((node, keras_class))
        # `self.dropout(x, training=training)`: torch modules take no training/mask arguments (OpTranslator drops
        # them for these attributes); translated Keras classes take them (KerasLayer.forward)
        self.layer_attrs = _torch_module_attributes(self.source, node) if keras_class else {}
        self._mark(node)

    def leave_ClassDef(self, original: cst.ClassDef, updated: cst.ClassDef):
        _, keras_class = self.class_stack.pop()
        bases = []
        for original_base, base in zip(original.bases, updated.bases):
            canonical = self.source.resolve(original_base.value)
            if canonical in _KERAS_BASES:
                base = base.with_changes(value=cst.Name("KerasLayer"))
            elif canonical in _RUNTIME_LAYERS or canonical in _RUNTIME_BASES:
                base = base.with_changes(value=cst.Name({**_RUNTIME_LAYERS, **_RUNTIME_BASES}[canonical]))
            elif canonical and catalog.keras_entries(canonical):
                self._todo(f"base class {canonical}: the catalog maps constructing it, not subclassing it (a torch "
                           "base with its Keras API, build() and the sublayers and methods a subclass uses, is "
                           "missing)", base.value)
                base = base.with_changes(value=cst.Name("KerasLayer"))
            elif canonical and canonical.startswith(_KERAS_IMPORT_ROOTS):
                # the module must still import (no Keras there): the runtime base stands in, the TODO says what the
                # Keras base class did that is missing
                self._todo(f"base class {canonical} has no PyTorch counterpart: its behaviour is missing here",
                           base.value)
                base = base.with_changes(value=cst.Name("KerasLayer"))
            bases.append(base)
        decorators = list(updated.decorators)
        if keras_class and decorators:
            self.state.notes.append(_registration_note(
                code_of(d.decorator.func if isinstance(d.decorator, cst.Call) else d.decorator)
                for d in original.decorators))
            decorators = []
        return self._place(updated.with_changes(bases=bases, decorators=decorators))

    def _in_keras_class(self) -> bool:
        return bool(self.class_stack) and self.class_stack[-1][1]

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.chain_parts.add(id(node.name))
        klass = self.class_stack[-1][0] if self.class_stack else None
        self.containers = python_containers(node, klass)
        self.function_stack.append(aliased_updates(self.source, node, TORCH, klass, self.containers))

    def leave_FunctionDef(self, original: cst.FunctionDef, updated: cst.FunctionDef):
        self.function_stack.pop()
        if self._in_keras_class() and original.name.value in _DROPPED_METHODS:
            self.state.notes.append(f"{original.name.value}() is Keras serialisation / shape inference: dropped")
            return cst.RemoveFromParent()
        return updated

    # -- Keras objects used as values: their imports are gone, so each is mapped or a counted TODO --
    def visit_Call(self, node: cst.Call) -> None:
        self.call_funcs.add(id(node.func))

    def visit_Attribute(self, node: cst.Attribute) -> None:
        # `keras.layers` in `keras.layers.Dense`: judged with the whole chain; `.layers` is an attribute name
        self.chain_parts.update((id(node.value), id(node.attr)))

    def visit_Param(self, node: cst.Param) -> None:
        self.chain_parts.add(id(node.name))  # a parameter's own name binds, it does not read the import

    def leave_Param(self, original: cst.Param, updated: cst.Param) -> cst.Param:
        """A default still naming Keras (`act_layer=keras.activations.gelu`, its TODO already written) would fail
        when the module is imported, as defaults are evaluated there: None stands in, under one more TODO."""
        if updated.default is None or not self.source.names_from(updated.default, _KERAS_IMPORT_ROOTS):
            return updated
        self._todo(f"the default `{original.name.value}={' '.join(code_of(original.default).split())}` has no "
                   "PyTorch counterpart: None stands in for it", updated.default)
        return updated.with_changes(default=cst.Name("None"))

    def visit_ImportAlias(self, node: cst.ImportAlias) -> bool:
        return False  # `import tensorflow as tf` names a module, it reads no value

    def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
        if isinstance(node.target, cst.Name):
            self.chain_parts.add(id(node.target))  # `tf = None` binds the name, it does not read the import

    def visit_Arg(self, node: cst.Arg) -> None:
        if node.keyword is not None:
            self.chain_parts.add(id(node.keyword))

    def leave_Attribute(self, original: cst.Attribute, updated: cst.Attribute) -> cst.BaseExpression:
        return self._value(original, super().leave_Attribute(original, updated))

    def leave_Name(self, original: cst.Name, updated: cst.Name) -> cst.BaseExpression:
        return self._value(original, super().leave_Name(original, updated))

    def _value(self, original: cst.BaseExpression, updated: cst.BaseExpression) -> cst.BaseExpression:
        if id(original) in self.call_funcs or id(original) in self.chain_parts:
            return updated
        canonical = self.source.resolve(original)
        if not canonical or not canonical.startswith(_KERAS_IMPORT_ROOTS):
            return updated
        if canonical == "keras.initializers.Initializer":
            # initializers are names in the translation (add_weight takes them): nothing is an Initializer object
            return cst.Tuple([])
        if canonical in _RUNTIME_NAMES:
            return cst.Name(_RUNTIME_NAMES[canonical])
        if not self.function_stack:  # module or class level: evaluated at import, where no Keras is
            return self._todo(f"{canonical} used as a value has no PyTorch counterpart: None stands in for it",
                              cst.Name("None"))
        return self._todo(f"{canonical} used as a value has no PyTorch counterpart", updated)

    # -- calls: layers, initializers, sublayer builds; everything else is the op translator's --
    def leave_Call(self, original: cst.Call, updated: cst.Call) -> cst.BaseExpression:
        canonical = self.source.resolve(original.func)
        func = original.func
        if isinstance(func, cst.Attribute) and func.attr.value == "build" and canonical is None and \
                not _is_self_or_super(func.value):
            # `self.dense.build(shape)`: torch modules are sized at construction or lazily
            return cst.Call(func=cst.Name("_build"), args=[cst.Arg(updated.func.value), *updated.args])
        if isinstance(func, cst.Attribute) and func.attr.value == "compute_output_shape" and canonical is None and \
                not _is_self_or_super(func.value):
            return cst.Call(func=cst.Name("_output_shape"), args=[cst.Arg(updated.func.value), *updated.args])
        if canonical == "keras.initializers.get" and len(updated.args) == 1:
            return updated.args[0].value  # add_weight takes the name or the object
        if canonical and canonical.startswith("keras.initializers."):
            self.state.notes.append("Keras initializers become their names for add_weight (best effort: "
                                    "copy_weights sets every weight)")
            return cst.SimpleString(repr(re.sub(r"(?<!^)(?=[A-Z])", "_", canonical.rsplit(".", 1)[-1]).lower()))
        if canonical and catalog.keras_entries(canonical):
            return self._layer(updated, canonical)
        if canonical == "keras.ops.cast" and len(updated.args) == 2 and \
                code_of(updated.args[1].value) in _PYTHON_DTYPES:
            # ops.cast(x, float): Keras reads Python's float as float32
            return cst.parse_expression(f"torch.as_tensor({code_of(updated.args[0].value)}, "
                                        f"dtype={_PYTHON_DTYPES[code_of(updated.args[1].value)]})")
        if canonical == "keras.ops.cast" and len(updated.args) == 2 and not any(a.keyword for a in updated.args) \
                and not isinstance(updated.args[1].value, (cst.SimpleString, cst.ConcatenatedString)):
            # a dtype known at run time only (`ops.cast(y, input_dtype)`, `self.compute_dtype`)
            return cst.parse_expression(f"torch.as_tensor({code_of(updated.args[0].value)}, dtype=_torch_dtype("
                                        f"{code_of(updated.args[1].value)}))")
        if canonical == "keras.activations.get" and len(updated.args) == 1:
            return updated.with_changes(func=cst.Name("_activation"))
        if canonical in _KERAS_MASKS:
            # Keras attaches masks to tensors; torch tensors carry none (pass masks explicitly)
            self.state.notes.append(f"{canonical}: torch tensors carry no Keras mask (None)")
            return cst.Name("None")
        if canonical in _RUNTIME_NAMES:
            return updated.with_changes(func=cst.Name(_RUNTIME_NAMES[canonical]))
        if canonical and canonical.startswith("keras.layers.") and canonical[len("keras.layers."):][:1].isupper():
            return self._todo(f"{canonical} has no PyTorch counterpart in the catalog", updated)
        if canonical in _KERAS_ONLY_OPS and not any(arg.star for arg in updated.args):
            positional = [code_of(a.value) for a in updated.args if a.keyword is None]
            keywords = {a.keyword.value: code_of(a.value) for a in updated.args if a.keyword is not None}
            try:
                text = _KERAS_ONLY_OPS[canonical](*positional, **keywords)
            except TypeError:
                text = None
            if text is not None:
                return cst.parse_expression(text)
        if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name) and func.value.value == "self" and \
                func.attr.value in ("add_weight", "build"):
            return updated  # KerasLayer's
        before = len(self.todos)
        result = super().leave_Call(original, updated)
        self.pending += self.todos[before:]
        return result

    def _layer(self, updated: cst.Call, canonical: str) -> cst.BaseExpression:
        activation = next((a for a in updated.args if a.keyword and a.keyword.value == "activation"), None)
        if activation is not None and (isinstance(activation.value, (cst.SimpleString, cst.ConcatenatedString)) or
                                       code_of(activation.value) == "None"):
            activation = None  # a literal name: the catalog maps it
        if activation is not None:
            # `Dense(d, activation=self.activation)`: known at run time only, applied by the _Activation module
            args = [a for a in updated.args if a is not activation]
            if args:
                args[-1] = args[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
            updated = updated.with_changes(args=args)
        try:
            out = self.layers.translate(updated, canonical)
        except TranslationError as exc:
            return self._todo(f"{canonical}: {exc}", updated)
        if activation is not None:
            out.expr = f"nn.Sequential({out.expr}, _Activation({code_of(activation.value)}))"
            out.target_access = "[0]" + out.target_access
        self.state.helpers |= out.helpers
        self.state.notes += out.notes
        for reason in out.todos:
            self._todo(reason, updated)
        rule = self._copy_rule(out)
        expr = f"_tagged({out.expr}, {rule!r})" if rule else out.expr
        return cst.parse_expression(expr)

    def _copy_rule(self, out: LayerOut) -> str | None:
        if not out.weights or "{layer}" in out.target_access:
            return None
        statements = weight_statements(out.weights, TORCH, "source", f"target{out.target_access}")
        return register_copy_rule(self.state.copy_rules, statements, out.key)


# -- functional Model subclasses: `__init__` builds a graph from keras.Input and ends in super().__init__(inputs,
# outputs) -------------------------------------------------------------------------------------------------------
def _model_super_init(statement: cst.BaseStatement) -> cst.Call | None:
    """`super().__init__(inputs=..., outputs=..., **kwargs)` (or with two positional arguments): the call, else
    None."""
    if not (isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1 and
            isinstance(statement.body[0], cst.Expr) and isinstance(statement.body[0].value, cst.Call)):
        return None
    call = statement.body[0].value
    func = call.func
    if not (isinstance(func, cst.Attribute) and func.attr.value == "__init__" and isinstance(func.value, cst.Call)
            and code_of(func.value.func) == "super"):
        return None
    keywords = {arg.keyword.value for arg in call.args if arg.keyword is not None}
    positional = [arg for arg in call.args if arg.keyword is None and not arg.star]
    return call if "outputs" in keywords or len(positional) >= 2 else None


def _init_of(klass: cst.ClassDef) -> cst.FunctionDef | None:
    return next((s for s in klass.body.body if isinstance(s, cst.FunctionDef) and s.name.value == "__init__"), None)


@dataclass
class _FunctionalClass:
    """The graph part of a functional subclass's __init__, translated once by the functional-builder translator:
    the replacement methods (their nodes are left alone by the rewrite) and the copy function of its layers."""

    methods: list[cst.FunctionDef]
    generated: set[int]  # ids of the generated statements and methods
    copy_function: str
    copy_name: str


def _functional_class(source: ParsedSource, klass: cst.ClassDef, layout: str, init_args: str | None,
                      state: _State) -> tuple[cst.ClassDef, _FunctionalClass] | None:
    """``klass`` with its __init__ replaced by the functional-builder translation of the graph it builds (an
    __init__ creating the layers, a forward replaying the graph) when it is a functional Model subclass, else
    None. The statements after the super().__init__ call stay in __init__, for the rewrite."""
    from .model_translator import ModelTranslator

    init = _init_of(klass)
    if init is None or not isinstance(init.body, cst.IndentedBlock):
        return None
    statements = list(init.body.body)
    index = next((i for i, s in enumerate(statements) if _model_super_init(s) is not None), None)
    if index is None:
        return None
    super_call = _model_super_init(statements[index])
    params = init.params
    positional = list(params.params)
    if positional and positional[0].name.value == "self":
        params = params.with_changes(params=positional[1:])
    builder = init.with_changes(params=params, body=init.body.with_changes(body=statements[:index + 1]))
    model = ModelTranslator(source, TORCH, layout)
    model.init_args = init_args
    model.custom_copier = lambda class_name: "copy_weights"  # the class's sublayers: walked by attribute path
    text, records, kind = model.builder(builder)
    if kind != "functional":
        return None
    generated_class = next(s for s in cst.parse_module(text).body if isinstance(s, cst.ClassDef))
    new_init, forward = [s for s in generated_class.body.body if isinstance(s, cst.FunctionDef)]
    # the base class gets what the Keras base got besides the graph (`**kwargs`: name, dtype, trainable)
    base_args = [arg for index_, arg in enumerate(super_call.args)
                 if not (arg.keyword is not None and arg.keyword.value in ("inputs", "outputs")) and
                 not (arg.keyword is None and not arg.star and index_ < 2)]
    # each argument without its comma and the line break after it (`dtype=dtype,\n    **kwargs,\n`)
    written = [code_of(arg.with_changes(comma=cst.MaybeSentinel.DEFAULT)).strip() for arg in base_args]
    base_init = cst.parse_statement(f"super().__init__({', '.join(written)})")
    init_body = [base_init, *[s for s in new_init.body.body if "super().__init__()" not in code_of(s)]]
    generated = {id(s) for s in init_body} | {id(forward)}
    new_init = init.with_changes(body=init.body.with_changes(body=[*init_body, *statements[index + 1:]]))
    copy_name = f"_copy_{klass.name.value}"
    copy_function = model.copy_function(klass.name.value, records)
    state.helpers |= model.helpers
    state.notes += model.notes
    state.notes.append(f"{klass.name.value} builds a functional Keras model in __init__: its torch __init__ creates "
                       "the layers and forward() replays the graph")
    attribute = cst.parse_statement(f"_tensorlint_copy = {copy_name!r}  # copy_weights copies its layers with it")
    body = []
    for statement in klass.body.body:
        if statement is init:
            body += [attribute, new_init, forward]
        else:
            body.append(statement)
    generated.add(id(attribute))
    klass = klass.with_changes(body=klass.body.with_changes(body=body))
    return klass, _FunctionalClass([new_init, forward], generated, copy_function, copy_name)


def _torch_module_attributes(source: ParsedSource, klass: cst.ClassDef) -> dict[str, str]:
    """`self.NAME = <catalogued Keras layer>(...)` anywhere in the class: NAME -> the Keras layer."""
    from ..analyzers.traversal import nodes_of_type

    found = {}
    for assign in nodes_of_type(klass, cst.Assign):
        if not isinstance(assign.value, cst.Call):
            continue
        canonical = source.resolve(assign.value.func)
        if not canonical or not catalog.keras_entries(canonical):
            continue
        for target in assign.targets:
            if isinstance(target.target, cst.Attribute) and code_of(target.target.value) == "self":
                found[target.target.attr.value] = canonical
    return found


def _without_class_decorators(module: cst.Module, source: ParsedSource) -> tuple[cst.Module, list[str]]:
    """Registration decorators of Keras classes (`@keras_hub_export(...)`, `@register_keras_serializable()`) are
    dropped before the closure is taken, so the registry code they name does not come along."""
    body, dropped = [], []
    for statement in module.body:
        if isinstance(statement, cst.ClassDef) and statement.decorators and any(
                (source.resolve(base.value) or "").startswith(_KERAS_IMPORT_ROOTS) for base in statement.bases):
            dropped += [code_of(d.decorator.func if isinstance(d.decorator, cst.Call) else d.decorator)
                        for d in statement.decorators]
            statement = statement.with_changes(decorators=[], leading_lines=[
                *statement.leading_lines, *(cst.EmptyLine(comment=cst.Comment(
                    f"# tensorlint: @{code_of(d.decorator.func if isinstance(d.decorator, cst.Call) else d.decorator)}"
                    " (Keras registration) dropped")) for d in statement.decorators)])
        elif isinstance(statement, cst.FunctionDef) and statement.decorators:
            # keras-hub's `@keras.saving.register_keras_serializable(...)` on an activation function: applied at import
            named = [d for d in statement.decorators if (source.resolve(
                d.decorator.func if isinstance(d.decorator, cst.Call) else d.decorator) or "").startswith("keras.")]
            dropped += [code_of(d.decorator.func if isinstance(d.decorator, cst.Call) else d.decorator) for d in named]
            statement = statement.with_changes(
                decorators=[d for d in statement.decorators if d not in named], leading_lines=[
                    *statement.leading_lines, *(cst.EmptyLine(comment=cst.Comment(
                        f"# tensorlint: @{code_of(d.decorator.func if isinstance(d.decorator, cst.Call) else d.decorator)}"
                        " (Keras) dropped")) for d in named)])
        body.append(statement)
    return module.with_changes(body=body), dropped


def _registration_note(decorators) -> str:
    return (f"Keras registration decorators ({', '.join(dict.fromkeys(decorators))}) dropped: torch has no "
            "serialisation registry")


def _own_package_relative(module: cst.Module, path: Path | None) -> cst.Module:
    """`from keras_hub.src.x import y` inside keras_hub's own files: a relative import, so the closure follows it
    into the package (when the file is there)."""
    if path is None:
        return module
    path = Path(path).resolve()
    body = []
    for statement in module.body:
        if isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1 and isinstance(
                statement.body[0], cst.ImportFrom) and not statement.body[0].relative and statement.body[0].module:
            dotted = code_of(statement.body[0].module)
            top = dotted.split(".")[0]
            root = next((folder.parent for folder in path.parents if folder.name == top), None)
            if root is not None and top not in _KERAS_IMPORT_ROOTS:
                target = root.joinpath(*dotted.split("."))
                if target.with_suffix(".py").is_file() or (target / "__init__.py").is_file():
                    level = len(path.parent.relative_to(root).parts) + 1
                    statement = statement.with_changes(body=[statement.body[0].with_changes(
                        relative=[cst.Dot()] * level)])
        body.append(statement)
    return module.with_changes(body=body)


def _prepared(module: cst.Module, path: Path, used: frozenset[str] | None = None) -> cst.Module:
    """A package file the closure follows, rewritten as the source's own file is; with ``used`` (the attribute
    names the source reads), its Keras classes reduced to what a torch module needs (_reduced_keras_classes)."""
    module, _ = _without_class_decorators(module, ParsedSource(module.code))
    if used is not None:
        module = _reduced_keras_classes(module, used)
    return _own_package_relative(module, path)


# what every translated Keras class keeps: torch builds it, sizes it and runs it through these
_TORCH_NEEDS = {"__init__", "build", "call"}


def _attribute_names(node: cst.CSTNode) -> set[str]:
    from ..analyzers.traversal import nodes_of_type

    return {attribute.attr.value for attribute in nodes_of_type(node, cst.Attribute)}


def _reduced_keras_classes(module: cst.Module, used: frozenset[str]) -> cst.Module:
    """The Keras classes of a package file the closure follows (base classes such as keras-hub's Backbone, layers
    the source uses) keep __init__, build, call and the methods and properties read as attributes by the source
    or by what is kept; the rest is the Keras Model API (presets, saving, LoRA, Keras's attribute tracking),
    which a torch module does not need and whose code would only come along as TODOs."""
    source = ParsedSource(module.code)
    body = []
    for statement in module.body:
        if isinstance(statement, cst.ClassDef) and source.class_framework(statement.name.value) == KERAS:
            methods = [s for s in statement.body.body if isinstance(s, cst.FunctionDef)]
            wanted, kept = set(used) | _TORCH_NEEDS, set()
            while True:
                now = {id(m) for m in methods if m.name.value in wanted}
                if now == kept:
                    break
                kept = now
                wanted |= set().union(*(_attribute_names(m) for m in methods if id(m) in kept))
            dropped = [m.name.value for m in methods if id(m) not in kept]
            if dropped:
                statement = statement.with_changes(
                    body=statement.body.with_changes(body=[
                        s for s in statement.body.body if not isinstance(s, cst.FunctionDef) or id(s) in kept]),
                    leading_lines=[*statement.leading_lines, cst.EmptyLine(comment=cst.Comment(
                        f"# tensorlint: Keras API a torch module does not use, dropped: "
                        f"{', '.join(dict.fromkeys(dropped))}"))])
        body.append(statement)
    return module.with_changes(body=body)


def subclasses_keras_elsewhere(source_text: str, symbol: str, path: str | Path) -> bool:
    """Whether the class ``symbol`` is a Keras Layer/Model through a base class defined in another file of its
    package (`class VGGBackbone(Backbone)`, Backbone in keras_hub's backbone.py), followed as the translation
    follows it."""
    module = cst.parse_module(source_text)
    module = _own_package_relative(_without_class_decorators(module, ParsedSource(source_text))[0], Path(path))
    reached = closure(module, {symbol}, path, prepare=_prepared)
    return ParsedSource(reached.module().code).class_framework(symbol) == KERAS

def _drop_keras_imports(statement: cst.BaseStatement) -> cst.BaseStatement | None:
    return drop_imports(statement, _KERAS_IMPORT_ROOTS)


def _header(symbol: str, origin: str, layout: str) -> str:
    where = f"{origin}:{symbol}" if origin else symbol
    return (f'"""{where}: translated by tensorlint (Keras -> PyTorch, layout {layout}).\n\n'
            "Every Keras layer became a torch module with the same attributes, so copy_weights(source, target)\n"
            "copies an instance of the original into an instance of this translation by attribute path; call both\n"
            'once on an input first so lazily built weights exist.\n"""')


def translate_keras_symbol(source_text: str, symbol: str, layout: str = PRESERVE, origin: str = "",
                           path: str | Path | None = None, init_args: str | None = None) -> ModuleTranslation:
    """The module translating the Keras Layer/Model subclass ``symbol`` and all it reaches into PyTorch.
    ``init_args``: the arguments ``symbol`` will be built with, which decide a functional subclass's graph (its
    `if`s on the constructor's arguments) as they decide a functional builder's."""
    try:
        module = cst.parse_module(source_text)
    except cst.ParserSyntaxError as exc:
        raise TranslationError(f"syntax error at line {exc.raw_line}") from None
    module, decorators = _without_class_decorators(module, ParsedSource(source_text))
    module = _own_package_relative(module, Path(path) if path else None)
    used = frozenset(_attribute_names(module))
    reached = closure(module, {symbol}, path, prepare=lambda module, path: _prepared(module, path, used))
    source = ParsedSource(reached.module().code)
    state = _State(notes=[_registration_note(decorators)] if decorators else [])
    transformer = _KerasToTorch(source, layout, state)
    replaced, functional = [], []
    for statement in source.module.body:
        if isinstance(statement, cst.ClassDef) and source.class_framework(statement.name.value) == KERAS:
            found = _functional_class(source, statement, layout,
                                      init_args if statement.name.value == symbol else None, state)
            if found is not None:
                statement, graph = found
                functional.append(graph)
                transformer.generated |= graph.generated
        replaced.append(statement)
    if functional:  # the helpers a graph was built with are inlined into it: what is left reaches less
        replaced = list(closure(cst.Module(body=replaced), {symbol}).statements)
    statements = []
    for statement in replaced:
        kept = _drop_keras_imports(statement)
        if kept is not None:
            statements.append(kept.visit(transformer))
    body = cst.Module(body=statements).code.strip()
    helpers = [TORCH_HELPERS[name].strip() for name in sorted(state.helpers)]
    copying = "\n\n\n".join([*copy_rule_definitions(state.copy_rules),
                              *(graph.copy_function.strip() for graph in functional), COPY_WEIGHTS.strip()])
    weight_helpers = closure(_WEIGHT_HELPERS_MODULE, used_names(cst.parse_module(copying))).code().strip()
    imports = ["import inspect", "import re", "", "import numpy as np", "import torch", "from torch import nn"]
    runtime = closure(_RUNTIME_MODULE, used_names(cst.parse_module(body + "\n" + copying)) & {
        name for statement in _RUNTIME_MODULE.body for name in bound_names(statement)}).code().strip()
    text = assemble(_header(symbol, origin, layout), ["\n".join(imports), runtime, *helpers, body, copying,
                                                      weight_helpers])
    return ModuleTranslation(text, tuple(dict.fromkeys(state.notes + transformer.notes)), text.count(TODO_TAG),
                             reached.unresolved)
