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
                      "alpha_initializer", "zeros", "training starts from a different slope (copied weights agree)"),
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
