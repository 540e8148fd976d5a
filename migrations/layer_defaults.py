"""Defaults that differ between PyTorch and Keras 3 for the same concept: one table that the translation
catalog's notes, the porting (XF) rules and hover cards all read.

Each value was checked against torch 2.13 and keras 3.15 (see ../shared/reference/translation.md for the
verified rows)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DefaultDifference:
    concept: str
    torch_layer: str  # canonical torch name, e.g. "torch.nn.BatchNorm2d"
    torch_arg: str
    torch_default: object
    keras_layer: str  # canonical keras name, e.g. "keras.layers.BatchNormalization"
    keras_arg: str
    keras_default: object
    consequence: str
    # how a value of one framework maps to the other ("1 - x" for momentum); None when it is the same number
    conversion: str | None = None


_BN_TORCH = ("torch.nn.BatchNorm1d", "torch.nn.BatchNorm2d", "torch.nn.BatchNorm3d")

DIFFERENCES: tuple[DefaultDifference, ...] = (
    *(DefaultDifference("batchnorm epsilon", t, "eps", 1e-5, "keras.layers.BatchNormalization", "epsilon", 1e-3,
                        "normalised outputs differ (by up to ~1.4 when running_var is small)") for t in _BN_TORCH),
    *(DefaultDifference("batchnorm momentum", t, "momentum", 0.1, "keras.layers.BatchNormalization", "momentum", 0.99,
                        "torch weighs the new batch, Keras the old average: keras = 1 - torch; torch's default is "
                        "Keras 0.9, not 0.99", "1 - x") for t in _BN_TORCH),
    DefaultDifference("layernorm epsilon", "torch.nn.LayerNorm", "eps", 1e-5, "keras.layers.LayerNormalization",
                      "epsilon", 1e-3, "small drift in normalised outputs"),
    DefaultDifference("groupnorm epsilon", "torch.nn.GroupNorm", "eps", 1e-5, "keras.layers.GroupNormalization",
                      "epsilon", 1e-3, "small drift in normalised outputs"),
    DefaultDifference("leaky relu slope", "torch.nn.LeakyReLU", "negative_slope", 0.01, "keras.layers.LeakyReLU",
                      "negative_slope", 0.3, "negative inputs are scaled 30x more in Keras"),
    DefaultDifference("adam epsilon", "torch.optim.Adam", "eps", 1e-8, "keras.optimizers.Adam", "epsilon", 1e-7,
                      "different training dynamics for small gradients"),
    DefaultDifference("adamw epsilon", "torch.optim.AdamW", "eps", 1e-8, "keras.optimizers.AdamW", "epsilon", 1e-7,
                      "different training dynamics for small gradients"),
    DefaultDifference("adamw weight decay", "torch.optim.AdamW", "weight_decay", 0.01, "keras.optimizers.AdamW",
                      "weight_decay", 0.004, "weaker regularisation in Keras"),
    # found while building the translation catalog (checked against torch 2.13 / keras 3.15 signatures)
    DefaultDifference("gelu approximation (functional)", "torch.nn.functional.gelu", "approximate", "none",
                      "keras.ops.gelu", "approximate", True,
                      "keras.ops.gelu uses the tanh approximation unless approximate=False (keras.activations.gelu "
                      "and Activation('gelu') are exact)", "'none' <-> False, 'tanh' <-> True"),
    DefaultDifference("leaky relu slope (functional)", "torch.nn.functional.leaky_relu", "negative_slope", 0.01,
                      "keras.ops.leaky_relu", "negative_slope", 0.2, "negative inputs are scaled 20x more in Keras"),
    DefaultDifference("prelu initial slope", "torch.nn.PReLU", "init", 0.25, "keras.layers.PReLU",
                      "alpha_initializer", "Zeros", "training starts from a different slope (copied weights agree)"),
    DefaultDifference("softmax axis", "torch.nn.Softmax", "dim", None, "keras.layers.Softmax", "axis", -1,
                      "torch's implicit dim is deprecated and picks an axis by rank; Keras always uses the last"),
    *(DefaultDifference("sequence layout", t, "batch_first", False, k, "(input layout)", "batch first",
                        "torch expects (time, batch, features) unless batch_first=True; Keras always takes "
                        "(batch, time, features)")
      for t, k in (("torch.nn.LSTM", "keras.layers.LSTM"), ("torch.nn.GRU", "keras.layers.GRU"),
                   ("torch.nn.RNN", "keras.layers.SimpleRNN"),
                   ("torch.nn.MultiheadAttention", "keras.layers.MultiHeadAttention"))),
)


def differences_for(layer: str) -> tuple[DefaultDifference, ...]:
    """Every difference that concerns a canonical torch or keras name."""
    return tuple(d for d in DIFFERENCES if layer in (d.torch_layer, d.keras_layer))


def convert(difference: DefaultDifference, value: float) -> float:
    """A value of one framework in the other framework's convention (the two conversions used are symmetric)."""
    if difference.conversion == "1 - x":
        return 1 - value
    return value


# Momentum values that can only be the other framework's convention: Keras weighs the old average (0.9-0.999),
# torch the new batch (0.01-0.1). A value on the wrong side of this line was almost surely copied across.
MOMENTUM_CONVENTION_SPLIT = 0.5


@dataclass(frozen=True)
class ArgumentName:
    """One argument spelt differently by the two frameworks, with the same meaning and units of value."""

    torch_layers: tuple[str, ...]
    torch_arg: str
    keras_layers: tuple[str, ...]
    keras_arg: str


_TORCH_CONV = ("torch.nn.Conv1d", "torch.nn.Conv2d", "torch.nn.Conv3d", "torch.nn.ConvTranspose1d",
               "torch.nn.ConvTranspose2d", "torch.nn.ConvTranspose3d")
_KERAS_CONV = ("keras.layers.Conv1D", "keras.layers.Conv2D", "keras.layers.Conv3D", "keras.layers.Conv1DTranspose",
               "keras.layers.Conv2DTranspose", "keras.layers.Conv3DTranspose", "keras.layers.DepthwiseConv2D",
               "keras.layers.SeparableConv2D")
_TORCH_NORMS = (*_BN_TORCH, "torch.nn.LayerNorm", "torch.nn.GroupNorm")
_KERAS_NORMS = ("keras.layers.BatchNormalization", "keras.layers.LayerNormalization", "keras.layers.GroupNormalization")

ARGUMENT_NAMES: tuple[ArgumentName, ...] = (
    ArgumentName(_TORCH_NORMS, "eps", _KERAS_NORMS, "epsilon"),
    ArgumentName(_TORCH_CONV, "stride", _KERAS_CONV, "strides"),
    ArgumentName(_TORCH_CONV, "dilation", _KERAS_CONV, "dilation_rate"),
    ArgumentName(_TORCH_CONV, "out_channels", _KERAS_CONV[:6], "filters"),
    ArgumentName(("torch.nn.Dropout", "torch.nn.Dropout1d", "torch.nn.Dropout2d", "torch.nn.Dropout3d"), "p",
                 ("keras.layers.Dropout", "keras.layers.SpatialDropout1D", "keras.layers.SpatialDropout2D",
                  "keras.layers.SpatialDropout3D"), "rate"),
    ArgumentName(("torch.nn.Softmax", "torch.nn.LogSoftmax"), "dim", ("keras.layers.Softmax",), "axis"),
    ArgumentName(("torch.nn.Linear",), "out_features", ("keras.layers.Dense",), "units"),
    ArgumentName(("torch.nn.Embedding",), "num_embeddings", ("keras.layers.Embedding",), "input_dim"),
    ArgumentName(("torch.nn.Embedding",), "embedding_dim", ("keras.layers.Embedding",), "output_dim"),
)

# Keras convolution/pooling `padding` is a mode string; torch's is a number of elements (or "same"/"valid").
KERAS_PADDING_MODES = ("valid", "same", "causal")


@dataclass(frozen=True)
class WeightLayout:
    """How one layer's weight tensor is laid out in each framework, and the numpy conversion torch -> Keras."""

    torch_layers: tuple[str, ...]
    keras_layers: tuple[str, ...]
    torch_layout: str
    keras_layout: str
    torch_to_keras: str  # a numpy expression of `w`
    bare_transpose_ok: bool  # whether `w.T` is the right conversion


WEIGHT_LAYOUTS: tuple[WeightLayout, ...] = (
    WeightLayout(("torch.nn.Linear",), ("keras.layers.Dense",), "(out, in)", "(in, out)", "w.T", True),
    WeightLayout(("torch.nn.Conv2d",), ("keras.layers.Conv2D",), "OIHW", "HWIO", "w.transpose(2, 3, 1, 0)", False),
    WeightLayout(("torch.nn.Conv1d",), ("keras.layers.Conv1D",), "OIW", "WIO", "w.transpose(2, 1, 0)", False),
    WeightLayout(("torch.nn.Conv3d",), ("keras.layers.Conv3D",), "OIDHW", "DHWIO", "w.transpose(2, 3, 4, 1, 0)", False),
)


def weight_layout_for(keras_layer: str) -> WeightLayout | None:
    return next((layout for layout in WEIGHT_LAYOUTS if keras_layer in layout.keras_layers), None)


# Recurrent gate order of the stacked weight matrices (torch `weight_ih_l0`, Keras `kernel`).
GATE_ORDERS = {
    "lstm": {"torch": ("i", "f", "g", "o"), "keras": ("i", "f", "c", "o")},  # same order; g is Keras's c
    "gru": {"torch": ("r", "z", "n"), "keras": ("z", "r", "h")},  # reset and update swapped
}
# torch keeps two bias vectors per recurrent layer (`bias_ih`, `bias_hh`); Keras LSTM keeps their sum, Keras GRU
# (reset_after=True) keeps both stacked as a (2, 3 * units) array.
RECURRENT_BIASES = ("bias_ih", "bias_hh")
