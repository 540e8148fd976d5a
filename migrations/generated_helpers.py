"""Source text of the small helpers a translation may need, copied into the generated module only when used.

They exist where one framework has no layer for what the other does in one (torch's explicit padding of pooling,
adaptive pooling to sizes other than 1, torch's recurrent/attention calling conventions in Keras; Keras's
channels-last layout and size-dependent 'same' padding in torch), plus the weight-copy helpers that
``copy_weights`` calls. Nothing here is imported by tensorlint at run time: it is text.
"""

from __future__ import annotations

# -- weight transfer (both directions) -----------------------------------------------------------------------------
WEIGHT_HELPERS = '''
def _torch_arrays(module):
    """Every parameter and buffer of a torch module, as numpy arrays, by state_dict name."""
    return {name: tensor.detach().cpu().numpy() for name, tensor in module.state_dict().items()}


def _keras_variables(layer):
    """A Keras layer's weights by path relative to the layer ("kernel", "query/kernel", "forward/bias")."""
    import keras

    if isinstance(layer, keras.layers.Bidirectional):
        found = {}
        for prefix, inner in (("forward/", layer.forward_layer), ("backward/", layer.backward_layer)):
            found.update({prefix + key: value for key, value in _keras_variables(inner).items()})
        return found
    found = {}
    for variable in layer.weights:
        path = variable.path
        relative = path[len(layer.path) + 1:] if path.startswith(layer.path + "/") else variable.name
        parts = [part for part in relative.split("/") if not part.endswith("_cell")]
        found["/".join(parts)] = variable
    return found


def _keras_arrays(layer):
    return {key: np.asarray(variable.numpy()) for key, variable in _keras_variables(layer).items()}


def _checked(kind, where, expected, arrays):
    arrays = {key: value for key, value in arrays.items() if value is not None}
    missing, unexpected = set(expected) - set(arrays), set(arrays) - set(expected)
    if missing or unexpected:
        raise ValueError(f"{kind} weights of {where}: missing {sorted(missing)}, unexpected {sorted(unexpected)}")
    return arrays


def _set_keras(layer, arrays, reshape=()):
    """Assign every weight of a (built) Keras layer; fails loudly when a weight is missing or a shape differs."""
    variables = _keras_variables(layer)
    for key, value in _checked("Keras", layer.name, variables, arrays).items():
        variable = variables[key]
        value = np.asarray(value)
        if key in reshape:
            value = value.reshape(tuple(variable.shape))
        if tuple(value.shape) != tuple(variable.shape):
            raise ValueError(f"{layer.name}/{key}: shape {value.shape} != {tuple(variable.shape)}")
        variable.assign(value.astype(variable.dtype))


def _set_torch(module, arrays, reshape=()):
    """Copy into every parameter and buffer of a (materialised) torch module, in place."""
    import torch

    state = module.state_dict()
    expected = [key for key in state if not key.endswith("num_batches_tracked")]
    with torch.no_grad():
        for key, value in _checked("torch", type(module).__name__, expected, arrays).items():
            target = state[key]
            value = np.asarray(value)
            if key in reshape:
                value = value.reshape(tuple(target.shape))
            if tuple(value.shape) != tuple(target.shape):
                raise ValueError(f"{type(module).__name__}.{key}: shape {value.shape} != {tuple(target.shape)}")
            target.copy_(torch.from_numpy(np.ascontiguousarray(value)).to(target.dtype))


def _gates(array, order):
    """Reorder the three gate blocks along axis 0 (GRU: torch r,z,n <-> Keras z,r,n)."""
    blocks = np.split(array, 3, axis=0)
    return np.concatenate([blocks[i] for i in order], axis=0)


def _matrix(array, rows=None):
    """An attention kernel (E, heads, head_dim) or (heads, head_dim, E) as a 2-D matrix."""
    return array.reshape(-1, array.shape[-1]) if rows == -1 else array.reshape(array.shape[0], -1)


def _at_path(root, path, renamed=()):
    """The object at a torch module path ("layer1.0.conv1") in a mirrored tree (attributes, list and dict items);
    a name in `renamed` was given a trailing underscore (Keras's Layer owns it)."""
    found = root
    for part in path.split(".") if path else ():
        if isinstance(found, dict):
            found = found[part]
        elif isinstance(found, (list, tuple)) or (part.isdigit() and not hasattr(found, part)):
            found = found[int(part)]
        else:
            found = getattr(found, part + "_" if part in renamed else part)
    return found


def _keras_layers_by_creation(model, class_name):
    """The layers of one class that Keras named itself in a functional model (conv2d, conv2d_1, ...: layers given
    a name are looked up by it), in the order they were created (the auto names count up)."""
    import re

    snake = re.sub(r"\\W+", "", class_name)
    snake = re.sub("(.)([A-Z][a-z]+)", r"\\1_\\2", snake)
    snake = re.sub("([a-z])([A-Z])", r"\\1_\\2", snake).lower()
    auto_name = re.escape(snake) + r"(?:_(\\d+))?"

    def order(layer):
        number = re.fullmatch(auto_name, layer.name).group(1)
        return int(number) if number else 0

    return sorted((layer for layer in model.layers if type(layer).__name__ == class_name and
                   re.fullmatch(auto_name, layer.name)), key=order)
'''

# -- Keras helpers (torch -> Keras) ------------------------------------------------------------------------------
KERAS_HELPERS = {
    "ChannelsFirst": '''
class ChannelsFirst(keras.layers.Layer):
    """Run a channels-last Keras layer on channels-first (PyTorch-layout) tensors: move channels last, apply,
    move them back. (Keras's data_format="channels_first" is avoided: on TensorFlow/CPU, Keras 3.15 computes
    Conv2D wrongly with it for some input sizes.)"""

    def __init__(self, layer, **kwargs):
        super().__init__(**kwargs)
        self.layer = layer

    def call(self, x, training=None):
        rank = len(x.shape)
        y = keras.ops.transpose(x, (0, *range(2, rank), 1))
        y = self.layer(y, training=training) if _accepts_training(self.layer) else self.layer(y)
        rank = len(y.shape)
        return keras.ops.transpose(y, (0, rank - 1, *range(1, rank - 1)))


def _accepts_training(layer):
    import inspect

    return "training" in inspect.signature(layer.call).parameters
''',
    "Pad": '''
class Pad(keras.layers.Layer):
    """torch-style padding of the spatial axes of a channels-last tensor: `padding` lists (before, after) pairs
    last spatial axis first, as torch's F.pad does."""

    def __init__(self, padding, mode="constant", value=0.0, **kwargs):
        super().__init__(**kwargs)
        self.padding, self.mode, self.value = tuple(padding), mode, value

    def call(self, x):
        pairs = [(self.padding[i], self.padding[i + 1]) for i in range(0, len(self.padding), 2)][::-1]
        width = [(0, 0)] + pairs + [(0, 0)]
        if self.mode == "constant":
            return keras.ops.pad(x, width, mode="constant", constant_values=self.value)
        if self.mode == "reflect":
            return keras.ops.pad(x, width, mode="reflect")
        # edge (torch's replicate) and wrap (circular): not every backend pads so, slices do
        for axis, (before, after) in enumerate(width):
            if not before and not after:
                continue
            size = x.shape[axis]
            def take(start, stop):
                index = [slice(None)] * len(x.shape)
                index[axis] = slice(start, stop)
                return x[tuple(index)]
            if self.mode == "edge":
                head = keras.ops.repeat(take(0, 1), before, axis=axis) if before else None
                tail = keras.ops.repeat(take(size - 1, size), after, axis=axis) if after else None
            else:
                head = take(size - before, size) if before else None
                tail = take(0, after) if after else None
            x = keras.ops.concatenate([p for p in (head, x, tail) if p is not None], axis=axis)
        return x
''',
    "UpsampleNearest": '''
class UpsampleNearest(keras.layers.Layer):
    """torch's nn.Upsample(scale_factor=..., mode="nearest") on a channels-last tensor of any rank (3-D to 5-D):
    each spatial axis repeated by its integer factor. (Keras's UpSampling1D/2D/3D each take one rank; this one is
    used where the input's rank is not known statically.)"""

    def __init__(self, size, **kwargs):
        super().__init__(**kwargs)
        self.size = size

    def call(self, x):
        spatial = len(x.shape) - 2
        factors = tuple(self.size) if isinstance(self.size, (tuple, list)) else (self.size,) * spatial
        if spatial < 1 or len(factors) != spatial:
            raise ValueError(f"UpsampleNearest: {len(x.shape)}-D input for scale factors {factors}")
        for axis, factor in enumerate(factors, start=1):
            x = keras.ops.repeat(x, factor, axis=axis)
        return x
''',
    "TorchPReLU": '''
class TorchPReLU(keras.layers.Layer):
    """torch's nn.PReLU(num_parameters, init) on input of any rank: one slope per channel along `axis` (1 in
    PyTorch's layout, -1 channels-last), or one slope for every element when num_parameters is 1. (Keras's PReLU
    fixes its shared_axes, so the input's rank, when it is built; this one is used where the rank is not known
    statically.)"""

    def __init__(self, num_parameters=1, init=0.25, axis=1, **kwargs):
        super().__init__(**kwargs)
        self.num_parameters, self.init, self.axis = num_parameters, init, axis

    def build(self, input_shape):
        self.alpha = self.add_weight(name="alpha", shape=(self.num_parameters,),
                                     initializer=keras.initializers.Constant(self.init))

    def call(self, x):
        alpha = self.alpha
        if self.num_parameters != 1:
            rank = len(x.shape)
            axis = self.axis % rank if rank >= 2 else None
            if axis is None or x.shape[axis] not in (None, self.num_parameters):
                raise ValueError(f"TorchPReLU: {self.num_parameters} slopes for input of shape {tuple(x.shape)} "
                                 f"(channel axis {self.axis})")
            shape = [1] * rank
            shape[axis] = self.num_parameters
            alpha = keras.ops.reshape(alpha, shape)
        return keras.ops.relu(x) - alpha * keras.ops.relu(-x)
''',
    "Crop": '''
class Crop(keras.layers.Layer):
    """Remove (before, after) elements from each spatial axis of a channels-last tensor (torch's
    transposed-convolution padding)."""

    def __init__(self, crops, **kwargs):
        super().__init__(**kwargs)
        self.crops = tuple(tuple(pair) for pair in crops)

    def call(self, x):
        index = [slice(None)]
        for (before, after), size in zip(self.crops, x.shape[1:-1]):
            index.append(slice(before, size - after))
        return x[tuple(index + [slice(None)])]
''',
    "AdaptivePooling": '''
class AdaptivePooling(keras.layers.Layer):
    """torch's AdaptiveAvgPool/AdaptiveMaxPool on channels-last input: output bin i covers
    [floor(i * n / out), ceil((i + 1) * n / out)). The output size is one int for every spatial axis or one per
    axis, None keeping that axis's size (as torch takes it)."""

    def __init__(self, output_size, mode="avg", **kwargs):
        super().__init__(**kwargs)
        self.output_size = tuple(output_size) if isinstance(output_size, (tuple, list)) else output_size
        self.mode = mode

    def _pool(self, x, axis):
        n = x.shape[axis]
        out = self.output_size[axis - 1] if isinstance(self.output_size, tuple) else self.output_size
        out = n if out is None else out
        reduce = keras.ops.mean if self.mode == "avg" else keras.ops.max
        pieces = []
        for i in range(out):
            start, stop = (i * n) // out, -((-(i + 1) * n) // out)
            index = [slice(None)] * len(x.shape)
            index[axis] = slice(start, stop)
            pieces.append(reduce(x[tuple(index)], axis=axis, keepdims=True))
        return keras.ops.concatenate(pieces, axis=axis)

    def call(self, x):
        # bins of different axes are independent for both mean (equal-weight within a box) and max
        for axis in range(1, len(x.shape) - 1):
            x = self._pool(x, axis)
        return x
''',
    "TorchRecurrent": '''
class TorchRecurrent(keras.layers.Layer):
    """torch's nn.LSTM/GRU/RNN calling convention on Keras layers: (time, batch, features) unless batch_first,
    stacked layers, and the (output, h_n) / (output, (h_n, c_n)) result."""

    def __init__(self, kind, hidden_size, num_layers=1, bias=True, batch_first=False, bidirectional=False,
                 nonlinearity="tanh", **kwargs):
        super().__init__(**kwargs)
        self.kind, self.batch_first, self.bidirectional = kind, batch_first, bidirectional
        self.cells = []
        for _ in range(num_layers):
            if kind == "LSTM":
                layer = keras.layers.LSTM(hidden_size, use_bias=bias, return_sequences=True, return_state=True)
            elif kind == "GRU":
                layer = keras.layers.GRU(hidden_size, use_bias=bias, return_sequences=True, return_state=True,
                                         reset_after=True)
            else:
                layer = keras.layers.SimpleRNN(hidden_size, activation=nonlinearity, use_bias=bias,
                                               return_sequences=True, return_state=True)
            self.cells.append(keras.layers.Bidirectional(layer) if bidirectional else layer)

    def call(self, x):
        if not self.batch_first:
            x = keras.ops.swapaxes(x, 0, 1)
        hidden, cell = [], []
        per_direction = 2 if self.kind == "LSTM" else 1
        for layer in self.cells:
            result = layer(x)
            x, states = result[0], list(result[1:])
            for d in range(2 if self.bidirectional else 1):
                hidden.append(states[d * per_direction])
                if self.kind == "LSTM":
                    cell.append(states[d * per_direction + 1])
        output = x if self.batch_first else keras.ops.swapaxes(x, 0, 1)
        if self.kind == "LSTM":
            return output, (keras.ops.stack(hidden), keras.ops.stack(cell))
        return output, keras.ops.stack(hidden)
''',
    "TorchMultiheadAttention": '''
class TorchMultiheadAttention(keras.layers.Layer):
    """torch's nn.MultiheadAttention calling convention: attn(query, key, value) -> (output, weights), with its
    masks: torch's True (or -inf in a float mask) means *blocked*, Keras's attention_mask True *may attend*."""

    def __init__(self, embed_dim, num_heads, dropout=0.0, bias=True, batch_first=False, **kwargs):
        super().__init__(**kwargs)
        self.batch_first = batch_first
        self.attention = keras.layers.MultiHeadAttention(num_heads, embed_dim // num_heads, dropout=dropout,
                                                         use_bias=bias)

    def call(self, query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
             average_attn_weights=True, is_causal=False, training=None):
        if not self.batch_first:
            query, key, value = (keras.ops.swapaxes(t, 0, 1) for t in (query, key, value))
        allowed = self._allowed(attn_mask, key_padding_mask, query, key)
        output, scores = self.attention(query, value, key=key, attention_mask=allowed, use_causal_mask=is_causal,
                                        return_attention_scores=True, training=training)
        if not self.batch_first:
            output = keras.ops.swapaxes(output, 0, 1)
        if not need_weights:
            return output, None
        return output, keras.ops.mean(scores, axis=1) if average_attn_weights else scores

    @staticmethod
    def _allowed(attn_mask, key_padding_mask, query, key):
        """torch's attn_mask (L, S) and key_padding_mask (B, S) as one Keras attention_mask (B, L, S). A float
        torch mask is added to the logits: its 0 entries attend and its -inf entries are blocked (Keras's
        MultiHeadAttention has no additive mask, so other finite values count as 0)."""
        allowed = None
        for mask, expand in ((attn_mask, lambda m: m[None]), (key_padding_mask, lambda m: m[:, None, :])):
            if mask is None:
                continue
            if len(mask.shape) == 3:
                raise ValueError("a per-head attn_mask (batch * heads, L, S) has no Keras MultiHeadAttention form: "
                                 "Keras applies one mask to every head")
            if keras.backend.standardize_dtype(mask.dtype) == "bool":
                keep = keras.ops.logical_not(mask)
            else:
                keep = keras.ops.isfinite(mask)
            keep = expand(keep)
            allowed = keep if allowed is None else keras.ops.logical_and(allowed, keep)
        if allowed is None:
            return None
        shape = (keras.ops.shape(query)[0], keras.ops.shape(query)[1], keras.ops.shape(key)[1])
        return keras.ops.broadcast_to(allowed, shape)
''',
    "TorchPool": '''
class TorchPool(keras.layers.Layer):
    """torch's MaxPool/AvgPool{1,2,3}d on channels-first input with the padding known only at run time: pads the
    spatial axes (-inf for max, zeros for avg) and, for an average with count_include_pad=False, divides by the
    share of each window that is not padding (ceil_mode=False)."""

    def __init__(self, mode, kernel_size, stride=None, padding=0, count_include_pad=True, **kwargs):
        super().__init__(**kwargs)
        self.mode, self.kernel_size, self.stride, self.padding = mode, kernel_size, stride, padding
        self.count_include_pad = count_include_pad

    def call(self, x):
        n = len(x.shape) - 2

        def sizes(value):
            return tuple(value) if isinstance(value, (tuple, list)) else (value,) * n

        kernel = sizes(self.kernel_size)
        stride = sizes(self.kernel_size if self.stride is None or self.stride == [] else self.stride)
        padding = sizes(self.padding)
        x = keras.ops.transpose(x, (0, *range(2, n + 2), 1))  # the channels-last path of every backend
        width = ((0, 0), *((p, p) for p in padding), (0, 0))
        pool = keras.ops.max_pool if self.mode == "max" else keras.ops.average_pool
        padded = keras.ops.pad(x, width, constant_values=float("-inf") if self.mode == "max" else 0.0)
        out = pool(padded, kernel, stride, padding="valid")
        if self.mode == "avg" and not self.count_include_pad and any(padding):
            share = pool(keras.ops.pad(keras.ops.ones_like(x[:1, ..., :1]), width), kernel, stride, padding="valid")
            out = out / share
        return keras.ops.transpose(out, (0, n + 1, *range(1, n + 1)))
''',
    "CeilModePad": '''
class CeilModePad(keras.layers.Layer):
    """torch's ceil_mode=True for max pooling on a channels-last tensor: pad the end of each spatial axis with -inf
    so a 'valid' pooling gives torch's ceil((n - k) / s) + 1 windows (a window may not start in the padding)."""

    def __init__(self, kernel, stride, padding, **kwargs):
        super().__init__(**kwargs)
        self.kernel, self.stride, self.padding = tuple(kernel), tuple(stride), tuple(padding)

    def call(self, x):
        width = [(0, 0)]
        for axis, (k, s, p) in enumerate(zip(self.kernel, self.stride, self.padding), start=1):
            n = x.shape[axis]  # already padded by p on both sides
            out = -(-(n - k) // s) + 1
            if (out - 1) * s >= n - p:
                out -= 1
            width.append((0, max(0, (out - 1) * s + k - n)))
        width.append((0, 0))
        return keras.ops.pad(x, width, constant_values=float("-inf"))
''',
}

# -- torch helpers (Keras -> torch) ------------------------------------------------------------------------------
TORCH_HELPERS = {
    "MoveChannels": '''
class MoveChannels(nn.Module):
    """Run a channels-first torch module on Keras-layout (channels-last) tensors: move `axis` to 1 and back.
    flatten=True folds the spatial axes into one (BatchNorm1d then serves inputs of any rank)."""

    def __init__(self, module, axis=-1, flatten=False):
        super().__init__()
        self.module, self.axis, self.flatten = module, axis, flatten

    def forward(self, x):
        y = x.movedim(self.axis, 1)
        shape = y.shape
        if self.flatten:
            y = y.reshape(shape[0], shape[1], -1)
        y = self.module(y)
        if self.flatten:
            y = y.reshape(shape)
        return y.movedim(1, self.axis)
''',
    "keras_padding": '''
def keras_padding(padding, rank):
    """Keras ZeroPaddingND's `padding` known only when the model runs (an int, one int per spatial axis, or one
    (before, after) pair per axis) in the order torch's ZeroPadNd reads: the pairs from the last axis to the first."""
    if isinstance(padding, int):
        pairs = [(padding, padding)] * rank
    elif rank == 1 and len(padding) == 2 and all(isinstance(amount, int) for amount in padding):
        pairs = [tuple(padding)]
    else:
        pairs = [(amount, amount) if isinstance(amount, int) else tuple(amount) for amount in padding]
    return tuple(int(amount) for pair in reversed(pairs) for amount in pair)
''',
    "TFSamePad": '''
class TFSamePad(nn.Module):
    """TensorFlow's 'same' (extra element after) or 'causal' padding of the trailing spatial axes."""

    def __init__(self, kernel_size, stride=1, dilation=1, mode="same", rank=2):
        super().__init__()
        def as_tuple(value):
            return tuple(value) if isinstance(value, (tuple, list)) else (value,) * rank
        self.kernel_size, self.stride, self.dilation = as_tuple(kernel_size), as_tuple(stride), as_tuple(dilation)
        self.mode = mode

    def forward(self, x):
        pads = []
        sizes = x.shape[-len(self.kernel_size):]
        for n, k, s, d in zip(sizes, self.kernel_size, self.stride, self.dilation):
            total = max((-(-n // s) - 1) * s + (k - 1) * d + 1 - n, 0)
            pads.append((total, 0) if self.mode == "causal" else (total // 2, total - total // 2))
        flat = [amount for pair in reversed(pads) for amount in pair]
        return nn.functional.pad(x, flat)
''',
    "FrozenAffine": '''
def FrozenAffine(norm, name):
    """A torch norm layer whose `name` parameter ("weight" or "bias") a Keras layer with scale=False or
    center=False does not have: kept at its identity (1 or 0) and out of training."""
    parameter = getattr(norm, name)
    if not isinstance(parameter, nn.parameter.UninitializedParameter):  # a Lazy* norm: copy_weights sets it
        with torch.no_grad():
            parameter.fill_(1.0 if name == "weight" else 0.0)
    parameter.requires_grad_(False)
    return norm
''',
    "SamePool": '''
class SamePool(nn.Module):
    """Keras's padding='same' pooling on channels-first tensors: padded by input size as TensorFlow does (the odd
    element after); max pooling ignores the padding, average pooling divides by the input elements it covers."""

    def __init__(self, kind, kernel_size, stride=None, rank=2):
        super().__init__()
        def as_tuple(value):
            return tuple(value) if isinstance(value, (tuple, list)) else (value,) * rank
        self.kind, self.rank = kind, rank
        self.kernel_size = as_tuple(kernel_size)
        self.stride = as_tuple(kernel_size if stride is None else stride)

    def forward(self, x):
        pads = []
        for n, k, s in zip(x.shape[-self.rank:], self.kernel_size, self.stride):
            total = max((-(-n // s) - 1) * s + k - n, 0)
            pads.append((total // 2, total - total // 2))
        flat = [amount for pair in reversed(pads) for amount in pair]
        pool = getattr(nn.functional, f"{self.kind}_pool{self.rank}d")
        if self.kind == "max":
            return pool(nn.functional.pad(x, flat, value=float("-inf")), self.kernel_size, self.stride)
        ones = torch.ones_like(x[:1, :1])
        counts = pool(nn.functional.pad(ones, flat), self.kernel_size, self.stride)
        return pool(nn.functional.pad(x, flat), self.kernel_size, self.stride) / counts
''',
    "SeparableConv": '''
class SeparableConv(nn.Module):
    """keras.layers.SeparableConv1D/2D on channels-first tensors: a depthwise conv (groups=in_channels, the
    depth multiplier's channels each), then a 1x1 conv that carries the bias."""

    def __init__(self, in_channels, filters, kernel_size, stride=1, dilation=1, depth_multiplier=1, bias=True,
                 padding=0, rank=2):
        super().__init__()
        conv = {1: nn.Conv1d, 2: nn.Conv2d}[rank]
        middle = in_channels * depth_multiplier
        self.depthwise = conv(in_channels, middle, kernel_size, stride=stride, padding=padding, dilation=dilation,
                              groups=in_channels, bias=False)
        self.pointwise = conv(middle, filters, 1, bias=bias)

    def forward(self, x):
        return self.pointwise(self.depthwise(x))
''',
    "Rescaling": '''
class Rescaling(nn.Module):
    """keras.layers.Rescaling: x * scale + offset in float32 (Keras casts the inputs to its compute dtype, integer
    images included); a per-channel scale or offset broadcasts on the last axis."""

    def __init__(self, scale, offset=0.0):
        super().__init__()
        self.scale, self.offset = scale, offset

    def forward(self, x):
        x = x.to(torch.float32)
        scale = torch.as_tensor(self.scale, dtype=x.dtype, device=x.device)
        return x * scale + torch.as_tensor(self.offset, dtype=x.dtype, device=x.device)
''',
    "Normalization": '''
class Normalization(nn.Module):
    """keras.layers.Normalization: (x - mean) / max(sqrt(variance), 1e-7), or mean + x * that with invert=True,
    the statistics kept along `axis`. Given mean/variance are constants (aligned with the kept axes from the
    right, as Keras does); otherwise Keras's adapted weights, buffers made on the first call (copy_weights fills
    them)."""

    def __init__(self, axis=-1, mean=None, variance=None, invert=False):
        super().__init__()
        self.axis = tuple(axis) if isinstance(axis, (tuple, list)) else (axis,)
        self.given = None if mean is None else (mean, variance)
        self.invert = invert

    def _statistic(self, value, x, keep):
        value = torch.as_tensor(value, dtype=x.dtype, device=x.device)
        shape = [1] * x.dim()
        for axis, size in zip(keep[len(keep) - value.dim():], value.shape):
            shape[axis] = size
        return value.reshape(shape)

    def forward(self, x):
        keep = tuple(sorted(axis % x.dim() for axis in self.axis if axis is not None))
        if self.given is not None:
            mean, variance = (self._statistic(value, x, keep) for value in self.given)
        else:
            if not hasattr(self, "mean"):
                sizes = tuple(x.shape[axis] for axis in keep)
                self.register_buffer("mean", torch.zeros(sizes, device=x.device))
                self.register_buffer("variance", torch.ones(sizes, device=x.device))
            mean, variance = self._statistic(self.mean, x, keep), self._statistic(self.variance, x, keep)
        scale = torch.clamp(torch.sqrt(variance), min=1e-7)
        return mean + x * scale if self.invert else (x - mean) / scale
''',
    "Crop": '''
class Crop(nn.Module):
    """Remove (before, after) elements from each trailing spatial axis."""

    def __init__(self, crops):
        super().__init__()
        self.crops = tuple(tuple(pair) for pair in crops)

    def forward(self, x):
        lead = x.dim() - len(self.crops)
        index = [slice(None)] * lead + [slice(b, size - a) for (b, a), size in zip(self.crops, x.shape[lead:])]
        return x[tuple(index)]
''',
    "Reshape": '''
class Reshape(nn.Module):
    """keras.layers.Reshape: reshape every sample to `shape` (the batch axis is kept)."""

    def __init__(self, shape):
        super().__init__()
        self.shape = tuple(shape)

    def forward(self, x):
        return x.reshape(x.shape[0], *self.shape)
''',
    "Permute": '''
class Permute(nn.Module):
    """keras.layers.Permute: `dims` numbers the axes from 1, the batch axis stays first."""

    def __init__(self, dims):
        super().__init__()
        self.dims = (0,) + tuple(dims)

    def forward(self, x):
        return x.permute(*self.dims)
''',
    "KerasRecurrent": '''
class KerasRecurrent(nn.Module):
    """Keras's recurrent-layer results on a torch nn.LSTM/GRU/RNN (batch first): the last output, or the
    sequence with return_sequences, followed by the final states with return_state."""

    def __init__(self, rnn, return_sequences=False, return_state=False):
        super().__init__()
        self.rnn, self.return_sequences, self.return_state = rnn, return_sequences, return_state

    def forward(self, x):
        output, state = self.rnn(x)
        hidden, cell = state if isinstance(state, tuple) else (state, None)
        if self.rnn.bidirectional:
            # Keras's backward layer ends at t=0: its final output is torch's h_n of the reverse direction
            last = torch.cat([hidden[-2], hidden[-1]], dim=-1)
        else:
            last = hidden[-1]
        result = output if self.return_sequences else last
        if not self.return_state:
            return result
        if self.rnn.bidirectional:
            states = [hidden[-2]] + ([cell[-2]] if cell is not None else []) + [hidden[-1]] + (
                [cell[-1]] if cell is not None else [])
        else:
            states = [hidden[-1]] + ([cell[-1]] if cell is not None else [])
        return [result, *states]
''',
    "LazyRecurrent": '''
class LazyRecurrent(nn.Module):
    """nn.LSTM/GRU/RNN whose input_size is read from the first input, as Keras's recurrent layers build
    themselves (torch has no LazyLSTM): run the model once before copying weights or building an optimizer."""

    def __init__(self, kind, hidden_size, **kwargs):
        super().__init__()
        self.kind, self.hidden_size, self.kwargs = kind, hidden_size, kwargs
        self.bidirectional = kwargs.get("bidirectional", False)
        self.rnn = None

    def forward(self, x):
        if self.rnn is None:
            rnn = getattr(nn, self.kind)(x.shape[-1], self.hidden_size, **self.kwargs)
            self.rnn = rnn.to(device=x.device, dtype=x.dtype)
        return self.rnn(x)
''',
    "LazyLayerNorm": '''
class LazyLayerNorm(nn.modules.lazy.LazyModuleMixin, nn.LayerNorm):
    """nn.LayerNorm over the last axis, its size read from the first input (as Keras's LayerNormalization
    builds itself); it becomes a plain nn.LayerNorm after that first call."""

    cls_to_become = nn.LayerNorm

    def __init__(self, eps=1e-05, elementwise_affine=True, bias=True):
        super().__init__(0, eps=eps, elementwise_affine=elementwise_affine, bias=bias)
        if self.elementwise_affine:
            self.weight = nn.UninitializedParameter()
            if self.bias is not None:
                self.bias = nn.UninitializedParameter()

    def reset_parameters(self):
        if not self.has_uninitialized_params():
            super().reset_parameters()

    def initialize_parameters(self, x):
        if self.has_uninitialized_params():
            with torch.no_grad():
                self.normalized_shape = (x.shape[-1],)
                self.weight.materialize(self.normalized_shape)
                if self.bias is not None:
                    self.bias.materialize(self.normalized_shape)
                self.reset_parameters()
''',
    "KerasMultiHeadAttention": '''
class KerasMultiHeadAttention(nn.Module):
    """Keras's MultiHeadAttention calling convention: attn(query, value, key=None) -> output, with its masks:
    Keras's True means *may attend*, torch's boolean True *blocked*. The masks become one additive float mask of
    Keras's own -1e9 (not -inf), so a row with nothing to attend averages every position, as Keras's fused
    attention does (with return_attention_scores Keras gives such a row zero weights instead)."""

    def __init__(self, attention):
        super().__init__()
        self.attention = attention

    def forward(self, query, value, key=None, query_mask=None, value_mask=None, key_mask=None,
                attention_mask=None, return_attention_scores=False, training=None, use_causal_mask=False):
        key = value if key is None else key
        allowed = None if attention_mask is None else attention_mask.bool()
        if use_causal_mask:
            causal = torch.ones(query.shape[1], key.shape[1], dtype=torch.bool, device=query.device).tril()
            allowed = causal[None] if allowed is None else allowed & causal
        for mask, expand in ((query_mask, lambda m: m[:, :, None]), (value_mask, lambda m: m[:, None, :]),
                             (key_mask, lambda m: m[:, None, :])):
            if mask is not None:
                allowed = expand(mask.bool()) if allowed is None else allowed & expand(mask.bool())
        attn_mask = None
        if allowed is not None:
            allowed = allowed.expand(query.shape[0], query.shape[1], key.shape[1])
            attn_mask = torch.zeros(allowed.shape, dtype=query.dtype, device=query.device).masked_fill(~allowed, -1e9)
            attn_mask = attn_mask.repeat_interleave(self.attention.num_heads, dim=0)
        output, weights = self.attention(query, key, value, attn_mask=attn_mask,
                                         need_weights=return_attention_scores, average_attn_weights=False)
        return (output, weights) if return_attention_scores else output
''',
}
