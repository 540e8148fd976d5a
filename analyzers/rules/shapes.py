"""Shape rules (SH): a layer whose expected input differs from what reaches it, found by following tensor shapes
through the file's models (analyzers/shapes.py). Each rule reports one kind of mismatch; all of them share one
analysis per module."""

from __future__ import annotations

import libcst as cst

from ..findings import Severity
from ..rule import Invalid, PendingFix, Rule
from ..shapes import Memo, ShapeAnalysis, analyze

_TORCH = frozenset({"torch"})
_ANY = frozenset({"torch", "tensorflow", "keras"})
_TORCH_HEAD = "import torch\nimport torch.nn as nn\n"
_KERAS_HEAD = "import keras\nfrom keras import layers\n"


def shape_analysis(ctx) -> ShapeAnalysis:
    """The module's shape analysis, computed once per check for all SH rules; an editor's next version of the
    document reuses the pieces its edit did not touch (the memo lives in the document's memory)."""
    analysis = ctx.shared.get("shapes")
    if analysis is None:
        memo = Memo(ctx.document_memory.get("shapes"))
        analysis = ctx.shared["shapes"] = analyze(ctx.module, ctx.imports, ctx.source, memo=memo)
        ctx.document_memory["shapes"] = memo
    return analysis


class ShapeRule(Rule):
    """Reports the problems of one kind (:data:`~..shapes.KINDS`) that the module's shape analysis found. Module
    scope: an example input (``model(torch.randn(...))``) may be written in another statement than the model."""

    kind: str = ""
    severity = Severity.ERROR

    def leave_Module(self, node: cst.Module) -> None:
        for problem in shape_analysis(self.ctx).problems:
            if problem.kind != self.kind:
                continue
            fix = None
            if problem.fix_node is not None and problem.fix_text is not None:
                fix = PendingFix(f"Use {problem.fix_text}", (self.replace(problem.fix_node, problem.fix_text),),
                                 safe=False)
            self.report(problem.node, problem.message, fix)


class LinearFeaturesMismatch(ShapeRule):
    """## What it does
    Flags an `nn.Linear` whose `in_features` differs from the number of features that reaches it, following the
    shapes through `nn.Sequential`, `forward`, flattening and reshaping. Spatial sizes come from an example input
    in the same file (`model(torch.randn(4, 1, 28, 28))`, `summary(model, (1, 28, 28))`); without one only sizes
    that do not depend on the input are compared. The message shows the arithmetic (`1352 = 8*13*13`).

    ## Why is this bad
    The first batch fails with `mat1 and mat2 shapes cannot be multiplied`, often after minutes of data loading;
    the usual cause is a miscounted flatten size after convolutions and pooling.

    ## Example
    ```python
    model = nn.Sequential(nn.Conv2d(1, 8, 3), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(8 * 14 * 14, 10))
    model(torch.randn(4, 1, 28, 28))
    ```

    ## Use instead
    ```python
    model = nn.Sequential(nn.Conv2d(1, 8, 3), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(8 * 13 * 13, 10))
    ```

    The fix writes the incoming size; it is offered in the editor only, because the layer before may be the one
    that is wrong.
    """

    code = "SH001"
    name = "linear-in-features-mismatch"
    message = "`Linear` in_features differs from the features that reach it"
    kind = "linear-features"
    fixable = True
    needs_frameworks = _TORCH
    needs_any_of = ("Linear",)
    valid = (
        _TORCH_HEAD + "model = nn.Sequential(nn.Conv2d(1, 8, 3), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(1352, 10))\n"
                      "model(torch.randn(4, 1, 28, 28))\n",
        _TORCH_HEAD + "model = nn.Sequential(nn.Linear(16, 32), nn.ReLU(), nn.Linear(32, 1))\n",
        # the input size is unknown: the flatten size cannot be checked
        _TORCH_HEAD + "model = nn.Sequential(nn.Conv2d(1, 8, 3), nn.Flatten(), nn.Linear(1234, 10))\n",
    )
    invalid = (
        Invalid(_TORCH_HEAD + "model = nn.Sequential(nn.Linear(16, 32), nn.ReLU(), nn.Linear(64, 1))\n",
                _TORCH_HEAD + "model = nn.Sequential(nn.Linear(16, 32), nn.ReLU(), nn.Linear(32, 1))\n"),
        Invalid(_TORCH_HEAD + "import torch.nn.functional as F\n"
                "class Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
                "        self.conv = nn.Conv2d(1, 8, 3)\n        self.pool = nn.MaxPool2d(2)\n"
                "        self.fc = nn.Linear(1568, 10)\n\n    def forward(self, x):\n"
                "        x = self.pool(F.relu(self.conv(x)))\n        x = x.view(x.size(0), -1)\n"
                "        return self.fc(x)\n\nout = Net()(torch.randn(4, 1, 28, 28))\n"),
    )


class ConvChannelsMismatch(ShapeRule):
    """## What it does
    Flags an `nn.Conv1d/2d/3d` or `nn.ConvTranspose*d` whose `in_channels` differs from the channels that reach
    it (from the convolution, normalisation or pooling before it).

    ## Why is this bad
    PyTorch raises `expected input[...] to have 32 channels, but got 16 channels instead` on the first batch.

    ## Example
    ```python
    nn.Sequential(nn.Conv2d(3, 16, 3), nn.ReLU(), nn.Conv2d(32, 64, 3))
    ```

    ## Use instead
    ```python
    nn.Sequential(nn.Conv2d(3, 16, 3), nn.ReLU(), nn.Conv2d(16, 64, 3))
    ```

    The fix writes the incoming channel count; it is offered in the editor only.
    """

    code = "SH002"
    name = "conv-in-channels-mismatch"
    message = "The convolution's in_channels differs from the channels that reach it"
    kind = "conv-channels"
    fixable = True
    needs_frameworks = _TORCH
    needs_any_of = ("Conv",)
    valid = (
        _TORCH_HEAD + "m = nn.Sequential(nn.Conv2d(3, 16, 3), nn.ReLU(), nn.Conv2d(16, 64, 3))\n",
        _TORCH_HEAD + "m = nn.Sequential(nn.Conv2d(3, 16, 3), make_block(), nn.Conv2d(99, 64, 3))\n",
    )
    invalid = (
        Invalid(_TORCH_HEAD + "m = nn.Sequential(nn.Conv2d(3, 16, 3), nn.ReLU(), nn.Conv2d(32, 64, 3))\n",
                _TORCH_HEAD + "m = nn.Sequential(nn.Conv2d(3, 16, 3), nn.ReLU(), nn.Conv2d(16, 64, 3))\n"),
        Invalid(_TORCH_HEAD + "class Up(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
                "        self.a = nn.Conv2d(64, 32, 1)\n        self.b = nn.ConvTranspose2d(64, 16, 2, stride=2)\n\n"
                "    def forward(self, x):\n        return self.b(self.a(x))\n"),
    )


class GroupsDoNotDivide(ShapeRule):
    """## What it does
    Flags a grouped convolution (`groups=` of `nn.Conv*d`, Keras `Conv*D`) whose groups do not divide its input
    channels or its output channels, and an `nn.GroupNorm` whose group count does not divide its channels.

    ## Why is this bad
    PyTorch refuses to build the layer (`in_channels must be divisible by groups`); Keras fails when the layer is
    built on its first input.

    ## Example
    ```python
    nn.Conv2d(3, 8, 3, groups=2)
    ```

    ## Use instead
    ```python
    nn.Conv2d(4, 8, 3, groups=2)
    ```
    """

    code = "SH003"
    name = "groups-do-not-divide-channels"
    message = "The group count does not divide the channels"
    kind = "groups"
    needs_frameworks = _ANY
    needs_any_of = ("groups", "GroupNorm")
    valid = (
        _TORCH_HEAD + "m = nn.Sequential(nn.Conv2d(4, 8, 3, groups=2), nn.GroupNorm(4, 8))\n",
        _KERAS_HEAD + "inputs = keras.Input(shape=(32, 32, 6))\nx = layers.Conv2D(12, 3, groups=3)(inputs)\n",
    )
    invalid = (
        Invalid(_TORCH_HEAD + "m = nn.Sequential(nn.Conv2d(3, 8, 3, groups=2))\n"),
        Invalid(_TORCH_HEAD + "m = nn.Sequential(nn.Conv2d(3, 12, 3), nn.GroupNorm(8, 12))\n"),
        Invalid(_KERAS_HEAD + "inputs = keras.Input(shape=(32, 32, 6))\nx = layers.Conv2D(12, 3, groups=4)(inputs)\n"),
    )


class NormSizeMismatch(ShapeRule):
    """## What it does
    Flags an `nn.BatchNorm1d/2d/3d` (`num_features`), `nn.GroupNorm` (`num_channels`) or `nn.LayerNorm`
    (`normalized_shape`) whose size differs from the channels or trailing dimensions that reach it.

    ## Why is this bad
    PyTorch raises `running_mean should contain 64 elements not 32` (or a LayerNorm shape error) on the first
    batch: the normalisation was sized for another layer.

    ## Example
    ```python
    nn.Sequential(nn.Conv2d(3, 64, 3), nn.BatchNorm2d(32))
    ```

    ## Use instead
    ```python
    nn.Sequential(nn.Conv2d(3, 64, 3), nn.BatchNorm2d(64))
    ```

    The fix writes the incoming size; it is offered in the editor only.
    """

    code = "SH004"
    name = "norm-size-mismatch"
    message = "The normalisation's size differs from what reaches it"
    kind = "norm-size"
    fixable = True
    needs_frameworks = _TORCH
    needs_any_of = ("Norm",)
    valid = (
        _TORCH_HEAD + "m = nn.Sequential(nn.Conv2d(3, 64, 3), nn.BatchNorm2d(64), nn.GroupNorm(8, 64))\n",
        _TORCH_HEAD + "m = nn.Sequential(nn.Linear(16, 32), nn.LayerNorm(32))\n",
    )
    invalid = (
        Invalid(_TORCH_HEAD + "m = nn.Sequential(nn.Conv2d(3, 64, 3), nn.BatchNorm2d(32))\n",
                _TORCH_HEAD + "m = nn.Sequential(nn.Conv2d(3, 64, 3), nn.BatchNorm2d(64))\n"),
        Invalid(_TORCH_HEAD + "m = nn.Sequential(nn.Linear(16, 32), nn.LayerNorm(16))\n",
                _TORCH_HEAD + "m = nn.Sequential(nn.Linear(16, 32), nn.LayerNorm(32))\n"),
        Invalid(_TORCH_HEAD + "m = nn.Sequential(nn.Conv2d(3, 64, 3), nn.GroupNorm(8, 32))\n"
                "m(torch.randn(2, 3, 32, 32))\n",
                _TORCH_HEAD + "m = nn.Sequential(nn.Conv2d(3, 64, 3), nn.GroupNorm(8, 64))\n"
                "m(torch.randn(2, 3, 32, 32))\n"),
    )


class RnnInputSizeMismatch(ShapeRule):
    """## What it does
    Flags an `nn.LSTM`, `nn.GRU` or `nn.RNN` whose `input_size` differs from the features that reach it: an
    `nn.Embedding`'s `embedding_dim`, a `Linear`'s output, or another recurrent layer's output (twice its
    `hidden_size` when it is bidirectional).

    ## Why is this bad
    PyTorch raises `input.size(-1) must be equal to input_size. Expected 128, got 64` on the first batch.

    ## Example
    ```python
    class Tagger(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(10000, 64)
            self.lstm = nn.LSTM(128, 32, batch_first=True)

        def forward(self, tokens):
            out, _ = self.lstm(self.embed(tokens))
            return out
    ```

    ## Use instead
    ```python
            self.lstm = nn.LSTM(64, 32, batch_first=True)
    ```

    The fix writes the incoming size; it is offered in the editor only.
    """

    code = "SH005"
    name = "rnn-input-size-mismatch"
    message = "The recurrent layer's input_size differs from the features that reach it"
    kind = "rnn-input"
    fixable = True
    needs_frameworks = _TORCH
    needs_any_of = ("LSTM", "GRU", "RNN")
    valid = (
        _TORCH_HEAD + "class T(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
        "        self.embed = nn.Embedding(100, 64)\n        self.lstm = nn.LSTM(64, 32)\n\n"
        "    def forward(self, x):\n        out, _ = self.lstm(self.embed(x))\n        return out\n",
        _TORCH_HEAD + "class T(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
        "        self.a = nn.GRU(8, 16, bidirectional=True)\n        self.b = nn.GRU(32, 16)\n\n"
        "    def forward(self, x):\n        out, _ = self.a(x)\n        out, _ = self.b(out)\n        return out\n",
    )
    invalid = (
        Invalid(_TORCH_HEAD + "class T(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
                "        self.embed = nn.Embedding(100, 64)\n        self.lstm = nn.LSTM(128, 32)\n\n"
                "    def forward(self, x):\n        out, _ = self.lstm(self.embed(x))\n        return out\n",
                _TORCH_HEAD + "class T(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
                "        self.embed = nn.Embedding(100, 64)\n        self.lstm = nn.LSTM(64, 32)\n\n"
                "    def forward(self, x):\n        out, _ = self.lstm(self.embed(x))\n        return out\n"),
        Invalid(_TORCH_HEAD + "class T(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
                "        self.a = nn.GRU(8, 16, bidirectional=True)\n        self.b = nn.GRU(16, 16)\n\n"
                "    def forward(self, x):\n        out, _ = self.a(x)\n        out, _ = self.b(out)\n"
                "        return out\n"),
    )


class MergeShapeMismatch(ShapeRule):
    """## What it does
    Flags a Keras `Concatenate` / `concatenate` whose inputs differ outside the joined axis, an element-wise
    merge (`Add`, `Subtract`, `Multiply`, `Average`, `Maximum`, `Minimum` and their functions) of inputs of
    different shapes, and a `torch.cat` in `forward` of tensors that differ outside `dim`.

    ## Why is this bad
    Keras fails while building the model (`A Concatenate layer requires inputs with matching shapes except for
    the concatenation axis`); `torch.cat` raises `Sizes of tensors must match except in dimension 1` on the
    first batch. Usually a skip connection misses a projection or a pooling step.

    ## Example
    ```python
    inputs = keras.Input(shape=(32,))
    x = layers.Dense(64)(inputs)
    y = layers.Add()([inputs, x])
    ```

    ## Use instead
    ```python
    inputs = keras.Input(shape=(32,))
    x = layers.Dense(32)(inputs)
    y = layers.Add()([inputs, x])
    ```
    """

    code = "SH006"
    name = "merge-shape-mismatch"
    message = "The merged tensors have incompatible shapes"
    kind = "merge"
    needs_frameworks = _ANY
    valid = (
        _KERAS_HEAD + "inputs = keras.Input(shape=(32,))\nx = layers.Dense(32)(inputs)\n"
                      "y = layers.Add()([inputs, x])\nz = layers.Concatenate()([inputs, layers.Dense(8)(inputs)])\n",
        _KERAS_HEAD + "a = keras.Input(shape=(8, 8, 3))\nb = keras.Input(shape=(8, 8, 5))\n"
                      "c = layers.concatenate([a, b], axis=-1)\n",
    )
    invalid = (
        Invalid(_KERAS_HEAD + "inputs = keras.Input(shape=(32,))\nx = layers.Dense(64)(inputs)\n"
                              "y = layers.Add()([inputs, x])\n"),
        Invalid(_KERAS_HEAD + "a = keras.Input(shape=(8, 8, 3))\nb = keras.Input(shape=(4, 4, 3))\n"
                              "c = layers.Concatenate()([a, b])\n"),
    )


class ReshapeElementCount(ShapeRule):
    """## What it does
    Flags a Keras `Reshape`, an `nn.Unflatten` or a `view`/`reshape` in `forward` whose target shape holds a
    different number of elements than the tensor that reaches it (or, with `-1`, a number that does not divide
    it).

    ## Why is this bad
    Keras fails while building the model (`total size of new array must be unchanged`); PyTorch raises
    `shape '[-1, 1568]' is invalid for input of size 43264`.

    ## Example
    ```python
    inputs = keras.Input(shape=(784,))
    x = layers.Reshape((28, 28, 3))(inputs)
    ```

    ## Use instead
    ```python
    inputs = keras.Input(shape=(784,))
    x = layers.Reshape((28, 28, 1))(inputs)
    ```
    """

    code = "SH007"
    name = "reshape-element-count-mismatch"
    message = "The reshape's target holds a different number of elements"
    kind = "reshape"
    needs_frameworks = _ANY
    needs_any_of = ("Reshape", "view", "reshape", "Unflatten")
    valid = (
        _KERAS_HEAD + "inputs = keras.Input(shape=(784,))\nx = layers.Reshape((28, 28, 1))(inputs)\n",
        _KERAS_HEAD + "inputs = keras.Input(shape=(784,))\nx = layers.Reshape((-1, 28))(inputs)\n",
    )
    invalid = (
        Invalid(_KERAS_HEAD + "inputs = keras.Input(shape=(784,))\nx = layers.Reshape((28, 28, 3))(inputs)\n"),
        Invalid(_TORCH_HEAD + "class Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
                "        self.conv = nn.Conv2d(1, 8, 3)\n\n    def forward(self, x):\n"
                "        return self.conv(x).view(-1, 1568)\n\nNet()(torch.randn(4, 1, 28, 28))\n"),
    )


class InputRankMismatch(ShapeRule):
    """## What it does
    Flags a layer applied to a tensor of a rank it does not take: a Keras `Conv2D` or `MaxPooling2D` after a
    `Dense`/`Flatten` (rank 2), an `LSTM` on a rank-2 tensor (a recurrent layer without `return_sequences=True`
    before it), an `nn.Conv2d` on a flattened tensor, an `nn.BatchNorm2d` on a rank-2 tensor.

    ## Why is this bad
    Keras fails while building the model (`Input 0 of layer "conv2d" is incompatible with the layer: expected
    ndim=4, found ndim=2`); PyTorch raises on the first batch.

    ## Example
    ```python
    model = keras.Sequential([keras.Input(shape=(20, 8)), layers.LSTM(32), layers.LSTM(16)])
    ```

    ## Use instead
    ```python
    model = keras.Sequential([keras.Input(shape=(20, 8)), layers.LSTM(32, return_sequences=True), layers.LSTM(16)])
    ```
    """

    code = "SH008"
    name = "input-rank-mismatch"
    message = "The layer does not take a tensor of this rank"
    kind = "rank"
    needs_frameworks = _ANY
    valid = (
        _KERAS_HEAD + "model = keras.Sequential([keras.Input(shape=(20, 8)), layers.LSTM(32, return_sequences=True),"
                      " layers.LSTM(16)])\n",
        _KERAS_HEAD + "model = keras.Sequential([keras.Input(shape=(28, 28, 1)), layers.Conv2D(8, 3), "
                      "layers.Flatten(), layers.Dense(10)])\n",
    )
    invalid = (
        Invalid(_KERAS_HEAD + "model = keras.Sequential([keras.Input(shape=(20, 8)), layers.LSTM(32), "
                              "layers.LSTM(16)])\n"),
        Invalid(_KERAS_HEAD + "inputs = keras.Input(shape=(784,))\nx = layers.Dense(64)(inputs)\n"
                              "x = layers.Conv2D(8, 3)(x)\n"),
        Invalid(_TORCH_HEAD + "m = nn.Sequential(nn.Flatten(), nn.Linear(784, 64), nn.BatchNorm2d(64))\n"
                              "m(torch.randn(8, 1, 28, 28))\n"),
    )


class SpatialSizeCollapses(ShapeRule):
    """## What it does
    Flags a convolution or pooling layer (PyTorch or Keras) whose output has a spatial size of zero or less for
    the input size the file states (an example input, a Keras `Input`).

    ## Why is this bad
    PyTorch raises `Output size is too small` / `Kernel size can't be greater than actual input size`; Keras
    fails while building the model with a negative dimension. Usually one downsampling stage too many for the
    input resolution.

    ## Example
    ```python
    model = keras.Sequential([keras.Input(shape=(8, 8, 1)), layers.Conv2D(8, 3), layers.MaxPooling2D(),
                              layers.Conv2D(16, 5)])
    ```

    ## Use instead
    ```python
    model = keras.Sequential([keras.Input(shape=(8, 8, 1)), layers.Conv2D(8, 3, padding="same"),
                              layers.MaxPooling2D(), layers.Conv2D(16, 3, padding="same")])
    ```
    """

    code = "SH009"
    name = "spatial-size-collapses"
    message = "The layer's output has no elements for this input size"
    kind = "empty-output"
    needs_frameworks = _ANY
    valid = (
        _KERAS_HEAD + "model = keras.Sequential([keras.Input(shape=(8, 8, 1)), layers.Conv2D(8, 3, padding='same'), "
                      "layers.MaxPooling2D(), layers.Conv2D(16, 3, padding='same')])\n",
        _TORCH_HEAD + "m = nn.Sequential(nn.Conv2d(1, 8, 5), nn.MaxPool2d(2))\nm(torch.randn(1, 1, 8, 8))\n",
    )
    invalid = (
        Invalid(_KERAS_HEAD + "model = keras.Sequential([keras.Input(shape=(8, 8, 1)), layers.Conv2D(8, 3), "
                              "layers.MaxPooling2D(), layers.Conv2D(16, 5)])\n"),
        Invalid(_TORCH_HEAD + "m = nn.Sequential(nn.Conv2d(1, 8, 5), nn.MaxPool2d(2), nn.Conv2d(8, 8, 3))\n"
                              "m(torch.randn(1, 1, 8, 8))\n"),
    )


class PoolPaddingTooLarge(ShapeRule):
    """## What it does
    Flags an `nn.MaxPool*d` / `nn.AvgPool*d` (or `F.max_pool2d` / `F.avg_pool2d` in `forward`) whose padding is
    more than half its (dilated) kernel size.

    ## Why is this bad
    PyTorch raises `pad should be at most half of effective kernel size` on the first batch.

    ## Example
    ```python
    nn.MaxPool2d(2, padding=2)
    ```

    ## Use instead
    ```python
    nn.MaxPool2d(3, stride=2, padding=1)
    ```
    """

    code = "SH010"
    name = "pool-padding-too-large"
    message = "The pooling pads by more than half its kernel"
    kind = "pool-padding"
    needs_frameworks = _TORCH
    needs_any_of = ("ool",)
    valid = (
        _TORCH_HEAD + "m = nn.Sequential(nn.Conv2d(3, 8, 3), nn.MaxPool2d(3, stride=2, padding=1))\n",
        _TORCH_HEAD + "m = nn.Sequential(nn.Conv2d(3, 8, 3), nn.MaxPool2d(3, padding=2, dilation=2))\n",
    )
    invalid = (
        Invalid(_TORCH_HEAD + "m = nn.Sequential(nn.Conv2d(3, 8, 3), nn.MaxPool2d(2, padding=2))\n"),
        Invalid(_TORCH_HEAD + "import torch.nn.functional as F\nclass N(nn.Module):\n"
                "    def __init__(self):\n        super().__init__()\n        self.conv = nn.Conv2d(3, 8, 3)\n\n"
                "    def forward(self, x):\n        return F.avg_pool2d(self.conv(x), 2, padding=2)\n"),
    )
