"""The porting (XF) rule pack: mistakes made when code or weights move between PyTorch and Keras.

The facts (defaults that differ, their conversions, argument names, weight layouts, gate orders) come from
:mod:`.layer_defaults`; the rules only decide where those facts apply. Registered with the engine through the
``tensorlint.rule_packs`` entry point, so the engine never imports this floor.
"""

from __future__ import annotations

import libcst as cst

from ..analyzers.findings import Severity
from ..analyzers.frameworks import KERAS, TENSORFLOW, TORCH
from ..analyzers.rule import PORTING_FILE, STATEMENT_SCOPE, Invalid, PendingFix, Rule
from ..analyzers.rules._calls import (argument, has_star_args, keyword, method_name, number_value, positional,
                                      receiver, string_value, with_keyword)
from ..analyzers.rules.keras_models import LayerFacts, ModelOutputTracker
from ..analyzers.traversal import nodes_of_type
from .layer_defaults import (ARGUMENT_NAMES, DIFFERENCES, GATE_ORDERS, KERAS_PADDING_MODES, MOMENTUM_CONVENTION_SPLIT,
                             DefaultDifference, convert, weight_layout_for)


_TORCH_CONVS = {"torch.nn.Conv1d", "torch.nn.Conv2d", "torch.nn.Conv3d"}


def _uses_torch(ctx) -> bool:
    return ctx.imports.imports_framework(TORCH)


def _uses_keras(ctx) -> bool:
    return ctx.imports.imports_framework(KERAS) or ctx.imports.imports_framework(TENSORFLOW)


def _porting_file(ctx) -> bool:
    """A file that speaks both frameworks: a port, a weight converter or an equivalence test."""
    return _uses_torch(ctx) and _uses_keras(ctx)


def _number_text(value: float) -> str:
    text = f"{value:.10g}"
    return text if any(c in text for c in ".e") else text + ".0"


def _difference(concept: str, layer: str) -> DefaultDifference | None:
    return next((d for d in DIFFERENCES if d.concept == concept and layer in (d.torch_layer, d.keras_layer)), None)


class _MomentumRule(Rule):
    side: str  # "torch" | "keras"

    def check(self, node: cst.Call, position: int) -> None:
        callee = self.ctx.callee(node)
        difference = _difference("batchnorm momentum", callee or "")
        if difference is None or (difference.torch_layer if self.side == "torch" else difference.keras_layer) != callee:
            return
        name = difference.torch_arg if self.side == "torch" else difference.keras_arg
        arg = argument(node, name, position)
        value = number_value(arg.value) if arg is not None else None
        if value is None:
            return
        # 0 and 1 are deliberate extremes (frozen or batch-only statistics) in either convention
        wrong = (MOMENTUM_CONVENTION_SPLIT < value < 1 if self.side == "torch" else 0 < value < MOMENTUM_CONVENTION_SPLIT)
        if not wrong:
            return
        converted = _number_text(convert(difference, value))
        fix = PendingFix(f"Use `{name}={converted}` ({difference.conversion})", (self.replace(arg.value, converted),),
                         safe=False)
        self.report(arg, self.message.format(value=self.ctx.code(arg.value), converted=converted), fix)


class KerasMomentumInTorch(_MomentumRule):
    """## What it does
    Flags `nn.BatchNorm1d/2d/3d(momentum=x)` with `x > 0.5`, a Keras-style momentum in PyTorch, and
    `nn.BatchNorm2d(n, x)` with `0.5 < x < 1`: the second positional argument is `eps`, not momentum, so a Keras
    momentum written there (`nn.BatchNorm2d(n, 0.8)`, as in many ports of Keras GANs) adds 0.8 to every variance.

    ## Why is this bad
    The two frameworks define momentum oppositely: torch's is the weight of the new batch (default 0.1), Keras's
    the weight of the old average (default 0.99; keras = 1 - torch). `momentum=0.99` in torch makes the running
    statistics follow the last batch almost exactly, so evaluation-mode outputs jump from batch to batch.

    ## Example
    ```python
    bn = nn.BatchNorm2d(64, momentum=0.99)
    ```

    ## Use instead
    ```python
    bn = nn.BatchNorm2d(64, momentum=0.01)
    ```

    The fix converts the value (`1 - x`), passing it as `momentum=` when it was written in `eps`'s place; it
    changes training, so it is offered in the editor only.
    """

    code = "XF001"
    scope = STATEMENT_SCOPE
    name = "keras-momentum-in-torch"
    severity = Severity.ERROR
    message = "torch `momentum={value}` weighs the new batch {value}: a Keras value? torch's equivalent is {converted}"
    fixable = True
    side = "torch"
    valid = ("import torch.nn as nn\nbn = nn.BatchNorm2d(8, momentum=0.01)\n", "import torch.nn as nn\nbn = nn.BatchNorm2d(8)\n")
    invalid = (
        Invalid("import torch.nn as nn\nbn = nn.BatchNorm2d(8, momentum=0.99)\n", "import torch.nn as nn\nbn = nn.BatchNorm2d(8, momentum=0.01)\n"),
        Invalid("import torch.nn as nn\nbn = nn.BatchNorm1d(8, 1e-3, 0.9)\n", "import torch.nn as nn\nbn = nn.BatchNorm1d(8, 1e-3, 0.1)\n"),
        # positional eps = 0.8: a Keras momentum in eps's place
        Invalid("import torch.nn as nn\nbn = nn.BatchNorm2d(64, 0.8)\n", "import torch.nn as nn\nbn = nn.BatchNorm2d(64, momentum=0.2)\n"),
    )
    epsilon_message = ("`{value}` is BatchNorm's `eps` (its second positional argument), added to every variance: a "
                       "Keras momentum? torch's equivalent is `momentum={converted}`")

    def visit_Call(self, node: cst.Call) -> None:
        self.check(node, 2)
        self.check_epsilon(node)

    def check_epsilon(self, node: cst.Call) -> None:
        callee = self.ctx.callee(node)
        difference = _difference("batchnorm momentum", callee or "")
        if difference is None or difference.torch_layer != callee or has_star_args(node):
            return
        args = positional(node)
        if len(args) < 2 or keyword(node, "eps") is not None:
            return
        value = number_value(args[1].value)
        if value is None or not MOMENTUM_CONVENTION_SPLIT < value < 1:
            return
        converted = _number_text(convert(difference, value))
        fix = None
        if len(args) == 2 and keyword(node, "momentum") is None:
            fix = PendingFix(f"Pass it as `momentum={converted}` ({difference.conversion})",
                             (self.replace(args[1].value, f"momentum={converted}"),), safe=False)
        self.report(args[1], self.epsilon_message.format(value=self.ctx.code(args[1].value), converted=converted), fix)


class TorchMomentumInKeras(_MomentumRule):
    """## What it does
    Flags `keras.layers.BatchNormalization(momentum=x)` with `x < 0.5`, a PyTorch-style momentum in Keras.

    ## Why is this bad
    Keras's momentum is the weight of the old moving average (default 0.99); torch's is the weight of the new
    batch (default 0.1). `momentum=0.1` in Keras replaces 90% of the moving statistics with every batch, so the
    model behaves differently at inference than in training.

    ## Example
    ```python
    bn = layers.BatchNormalization(momentum=0.1)
    ```

    ## Use instead
    ```python
    bn = layers.BatchNormalization(momentum=0.9)
    ```

    The fix converts the value (`1 - x`); it changes training, so it is offered in the editor only.
    """

    code = "XF002"
    scope = STATEMENT_SCOPE
    name = "torch-momentum-in-keras"
    severity = Severity.ERROR
    message = "Keras `momentum={value}` keeps only {value} of the moving average: a torch value? Keras's equivalent is {converted}"
    fixable = True
    side = "keras"
    valid = ("import keras\nbn = keras.layers.BatchNormalization(momentum=0.9)\n",
             "import keras\nbn = keras.layers.BatchNormalization(momentum=0.0)\n")
    invalid = (Invalid("import keras\nbn = keras.layers.BatchNormalization(momentum=0.1)\n",
                       "import keras\nbn = keras.layers.BatchNormalization(momentum=0.9)\n"),)

    def visit_Call(self, node: cst.Call) -> None:
        self.check(node, 1)


_EPSILON_CONCEPTS = ("batchnorm epsilon", "layernorm epsilon", "groupnorm epsilon")


class NormEpsilonInWeightTransfer(Rule):
    """## What it does
    In a file that copies weights between the frameworks, flags normalisation layers of the receiving framework
    built without an explicit epsilon: Keras layers when the file calls `set_weights`, torch layers when it
    reads Keras weights (`get_weights`) into torch.

    ## Why is this bad
    The defaults differ (torch `eps=1e-5`, Keras `epsilon=1e-3` for BatchNorm, LayerNorm and GroupNorm). With
    the weights copied exactly, outputs still differ: by up to ~1.4 for a BatchNorm channel whose running
    variance is small, which an equivalence test then blames on the weights.

    ## Example
    ```python
    bn = keras.layers.BatchNormalization()
    bn.set_weights([t.weight.detach().numpy(), t.bias.detach().numpy(),
                    t.running_mean.numpy(), t.running_var.numpy()])
    ```

    ## Use instead
    ```python
    bn = keras.layers.BatchNormalization(epsilon=1e-5)
    bn.set_weights([t.weight.detach().numpy(), t.bias.detach().numpy(),
                    t.running_mean.numpy(), t.running_var.numpy()])
    ```

    The fix passes the source framework's default explicitly; it is offered in the editor only.
    """

    code = "XF003"
    needs_each_of = PORTING_FILE  # it compares the file's torch code with its Keras code
    name = "norm-epsilon-in-weight-transfer"
    severity = Severity.WARNING
    message = "Weights are copied from {source}, but this {layer} keeps its own epsilon default ({own} vs {other})"
    fixable = True
    valid = (
        "import torch\nimport keras\nbn = keras.layers.BatchNormalization(epsilon=1e-5)\nbn.set_weights(ws)\n",
        "import keras\nbn = keras.layers.BatchNormalization()\nbn.set_weights(ws)\n",
    )
    invalid = (
        Invalid("import torch\nimport keras\nbn = keras.layers.BatchNormalization()\nbn.set_weights(ws)\n",
                "import torch\nimport keras\nbn = keras.layers.BatchNormalization(epsilon=1e-05)\nbn.set_weights(ws)\n"),
        Invalid("import torch.nn as nn\nimport keras\nln = nn.LayerNorm(16)\nkernel = k_layer.get_weights()[0]\n"
                "ln.load_state_dict(sd)\n",
                "import torch.nn as nn\nimport keras\nln = nn.LayerNorm(16, eps=0.001)\nkernel = k_layer.get_weights()[0]\n"
                "ln.load_state_dict(sd)\n"),
    )

    def __init__(self, ctx):
        super().__init__(ctx)
        self.candidates: list[tuple[cst.Call, DefaultDifference, str]] = []
        self.sets_keras = False
        self.reads_keras = False

    def visit_Call(self, node: cst.Call) -> None:
        method = method_name(node)
        if method == "set_weights":
            self.sets_keras = True
        elif method == "get_weights":
            self.reads_keras = True
        callee = self.ctx.callee(node)
        if callee is None or has_star_args(node):
            return
        for concept in _EPSILON_CONCEPTS:
            difference = _difference(concept, callee)
            if difference is None:
                continue
            side = "torch" if callee == difference.torch_layer else "keras"
            name = difference.torch_arg if side == "torch" else difference.keras_arg
            # BatchNorm*d(num_features, eps, ...) and LayerNorm(shape, eps, ...) take eps second
            position = 1 if side == "torch" and concept != "groupnorm epsilon" else (2 if side == "torch" else None)
            if argument(node, name, position) is None:
                self.candidates.append((node, difference, side))
            return

    def leave_Module(self, node: cst.Module) -> None:
        if not _porting_file(self.ctx):
            return
        receiving = "keras" if self.sets_keras else ("torch" if self.reads_keras else None)
        for call, difference, side in self.candidates:
            if side != receiving:
                continue
            own, other = ((difference.torch_default, difference.keras_default) if side == "torch"
                          else (difference.keras_default, difference.torch_default))
            name = difference.torch_arg if side == "torch" else difference.keras_arg
            fix = PendingFix(f"Pass `{name}={other}`", (self.replace(call, self.ctx.code(with_keyword(call, name, repr(other)))),),
                             safe=False)
            self.report(call, self.message.format(source="Keras" if side == "torch" else "PyTorch",
                                                  layer=self.ctx.code(call.func), own=own, other=other), fix)


_OPTIMIZER_CONCEPTS = ("adam epsilon", "adamw epsilon", "adamw weight decay")


class OptimizerDefaultsDiffer(Rule):
    """## What it does
    In a file that builds the same optimizer in both frameworks, flags an Adam/AdamW whose `epsilon` (or AdamW
    `weight_decay`) is left at a default that differs from the other framework's.

    ## Why is this bad
    torch Adam uses `eps=1e-8`, Keras `epsilon=1e-7`; torch AdamW decays weights by 0.01, Keras by 0.004. A
    ported training recipe then trains differently (most visibly with small gradients and long schedules),
    and a side-by-side comparison never quite matches.

    ## Example
    ```python
    torch_opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    keras_opt = keras.optimizers.Adam(learning_rate=1e-3)
    ```

    ## Use instead
    ```python
    torch_opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    keras_opt = keras.optimizers.Adam(learning_rate=1e-3, epsilon=1e-8)
    ```

    The fix on the Keras side passes torch's value (the usual porting direction); it is offered in the editor
    only.
    """

    code = "XF004"
    needs_each_of = PORTING_FILE  # it compares the file's torch code with its Keras code
    name = "optimizer-defaults-differ"
    severity = Severity.INFO
    message = "`{name}` keeps its default `{arg}={own}`, but the {other_side} optimizer in this file uses {other}"
    fixable = True
    valid = ("import torch\nimport keras\nt = torch.optim.Adam(p, eps=1e-7)\nk = keras.optimizers.Adam()\n",
             "import keras\nk = keras.optimizers.Adam()\n")
    invalid = (
        Invalid("import torch\nimport keras\nt = torch.optim.Adam(p)\nk = keras.optimizers.Adam(learning_rate=1e-3)\n",
                "import torch\nimport keras\nt = torch.optim.Adam(p)\nk = keras.optimizers.Adam(learning_rate=1e-3, epsilon=1e-08)\n"),
    )

    def __init__(self, ctx):
        super().__init__(ctx)
        self.seen: dict[str, list[tuple[cst.Call, str, DefaultDifference, float | None]]] = {}

    def visit_Call(self, node: cst.Call) -> None:
        callee = self.ctx.callee(node)
        if callee is None or has_star_args(node):
            return
        for concept in _OPTIMIZER_CONCEPTS:
            difference = _difference(concept, callee)
            if difference is None or (callee != difference.torch_layer and callee != difference.keras_layer):
                continue
            side = "torch" if callee == difference.torch_layer else "keras"
            arg = keyword(node, difference.torch_arg if side == "torch" else difference.keras_arg)
            value = number_value(arg.value) if arg is not None else None
            self.seen.setdefault(concept, []).append((node, side, difference, value if arg is not None else None))

    def leave_Module(self, node: cst.Module) -> None:
        for concept, uses in self.seen.items():
            sides = {side for _, side, _, _ in uses}
            if sides != {"torch", "keras"}:
                continue
            for call, side, difference, value in uses:
                if value is not None:
                    continue
                others = [v if v is not None else (d.keras_default if s == "keras" else d.torch_default)
                          for _, s, d, v in uses if s != side]
                own = difference.torch_default if side == "torch" else difference.keras_default
                other = others[0]
                if other == own:
                    continue
                name = difference.torch_arg if side == "torch" else difference.keras_arg
                fix = None
                if side == "keras":
                    fix = PendingFix(f"Pass `{name}={other!r}`",
                                     (self.replace(call, self.ctx.code(with_keyword(call, name, repr(other)))),), safe=False)
                self.report(call, self.message.format(name=self.ctx.code(call.func), arg=name, own=own,
                                                      other_side="Keras" if side == "torch" else "PyTorch", other=other), fix)


def _stride_above_one(node: cst.BaseExpression | None) -> bool:
    if node is None:
        return False
    value = number_value(node)
    if value is not None:
        return value > 1
    if isinstance(node, (cst.Tuple, cst.List)):
        return any((number_value(e.value) or 0) > 1 for e in node.elements)
    return False


_KERAS_SAME_PADDING_LAYERS = {"keras.layers.Conv1D", "keras.layers.Conv2D", "keras.layers.Conv3D",
                              "keras.layers.DepthwiseConv2D", "keras.layers.SeparableConv2D",
                              "keras.layers.MaxPooling2D", "keras.layers.AveragePooling2D"}


class SamePaddingStridedInPort(Rule):
    """## What it does
    In a file that defines torch convolutions too (a port), flags Keras convolutions and poolings with
    `padding="same"` and a stride greater than 1.

    ## Why is this bad
    With stride > 1 and an even input, Keras/TensorFlow pads the extra row and column at the bottom/right only,
    while torch's `padding=k // 2` pads both sides equally. With identical weights the outputs are shifted by
    one pixel (a difference of 1.46 on a 6x6 input here), so a ported model does not match its source.

    ## Example
    ```python
    conv = layers.Conv2D(64, 3, strides=2, padding="same")  # ported from nn.Conv2d(.., 3, stride=2, padding=1)
    ```

    ## Use instead
    ```python
    pad = layers.ZeroPadding2D(1)
    conv = layers.Conv2D(64, 3, strides=2, padding="valid")
    ```
    """

    code = "XF005"
    needs_each_of = PORTING_FILE  # it compares the file's torch code with its Keras code
    name = "same-padding-strided-in-port"
    severity = Severity.WARNING
    message = "`padding=\"same\"` with stride > 1 pads asymmetrically in Keras, unlike torch: use `ZeroPadding2D` + `\"valid\"`"
    valid = ("import torch\nimport keras\nt = torch.nn.Conv2d(3, 8, 3, 2, 1)\nc = keras.layers.Conv2D(8, 3, strides=2, padding='valid')\n",
             "import torch\nimport keras\nc = keras.layers.Conv2D(8, 3, strides=2, padding='same')\n")
    invalid = (Invalid("import torch\nimport keras\nt = torch.nn.Conv2d(3, 8, 3, 2, 1)\n"
                       "c = keras.layers.Conv2D(8, 3, strides=2, padding='same')\n"),)

    def __init__(self, ctx):
        super().__init__(ctx)
        self.candidates: list[cst.Arg] = []
        self.torch_convs = False

    def visit_Call(self, node: cst.Call) -> None:
        callee = self.ctx.callee(node)
        if callee in _TORCH_CONVS:
            self.torch_convs = True
        if callee not in _KERAS_SAME_PADDING_LAYERS:
            return
        padding = keyword(node, "padding")
        if padding is None or string_value(padding.value) != "same":
            return
        if _stride_above_one((keyword(node, "strides") or cst.Arg(cst.Name("None"))).value):
            self.candidates.append(padding)

    def leave_Module(self, node: cst.Module) -> None:
        # a port: the file also defines the torch convolutions (Keras code that merely runs on the torch backend
        # imports torch too)
        if self.torch_convs:
            for padding in self.candidates:
                self.report(padding)


class FlattenChannelsFirst(Rule):
    """## What it does
    Flags `keras.layers.Flatten(data_format="channels_first")` in a model whose layers are channels-last.

    ## Why is this bad
    It is often added to reproduce torch's channel-major flatten order, but it does the opposite: it treats its
    input as channels-first and transposes it to channels-last before flattening. On a channels-last feature
    map the result matches neither Keras's nor torch's order, so the `Dense` weights copied from a torch
    `Linear` are applied to the wrong features.

    ## Example
    ```python
    x = layers.Conv2D(16, 3)(inputs)
    x = layers.Flatten(data_format="channels_first")(x)
    ```

    ## Use instead
    ```python
    x = layers.Conv2D(16, 3)(inputs)
    x = layers.Permute((3, 1, 2))(x)  # NHWC -> NCHW, then flatten in torch's order
    x = layers.Flatten()(x)
    ```
    """

    code = "XF006"
    needs_frameworks = frozenset({"keras", "tensorflow"})  # a Keras layer's argument
    name = "flatten-channels-first"
    severity = Severity.WARNING
    message = "`Flatten(data_format=\"channels_first\")` on channels-last data does not give torch's flatten order"
    valid = ("import keras\nx = keras.layers.Conv2D(8, 3, data_format='channels_first')(x)\n"
             "x = keras.layers.Flatten(data_format='channels_first')(x)\n",
             "import keras\nx = keras.layers.Flatten()(x)\n")
    invalid = (Invalid("import keras\nx = keras.layers.Conv2D(8, 3)(x)\nx = keras.layers.Flatten(data_format='channels_first')(x)\n"),)

    accumulates = ("flattens",)
    carries = ("channels_first_elsewhere",)

    def __init__(self, ctx):
        super().__init__(ctx)
        self.flattens: list[tuple[cst.Arg, cst.CSTNode | None]] = []  # with their top-level statement
        self.channels_first_elsewhere = False

    def visit_Call(self, node: cst.Call) -> None:
        callee = self.ctx.callee(node)
        if callee in ("keras.config.set_image_data_format", "keras.backend.set_image_data_format"):
            self.channels_first_elsewhere = True
            return
        data_format = keyword(node, "data_format")
        if data_format is None or string_value(data_format.value) != "channels_first":
            return
        if callee == "keras.layers.Flatten":
            self.flattens.append((data_format, self.ctx.statement))
        elif callee and callee.startswith("keras.layers."):
            self.channels_first_elsewhere = True

    def leave_Module(self, node: cst.Module) -> None:
        if not self.channels_first_elsewhere:
            for arg, statement in self.flattens:
                self.report(arg, statement=statement)


class _AssignmentMemory(Rule):
    """Remembers the last expression assigned to each simple name, to look one step through ``w = ...``."""

    needs_any_of = ("set_weights",)  # each subclass judges the weights handed to a Keras layer's set_weights

    def __init__(self, ctx):
        super().__init__(ctx)
        self.assigned: dict[str, cst.BaseExpression] = {}

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            if isinstance(target.target, cst.Name):
                self.assigned[target.target.value] = node.value

    def expand(self, node: cst.BaseExpression) -> cst.BaseExpression:
        if isinstance(node, cst.Name) and node.value in self.assigned:
            return self.assigned[node.value]
        return node

    def weight_list(self, call: cst.Call) -> list[cst.BaseExpression] | None:
        args = positional(call)
        if len(args) != 1:
            return None
        value = self.expand(args[0].value)
        if not isinstance(value, (cst.List, cst.Tuple)):
            return None
        return [self.expand(e.value) for e in value.elements if isinstance(e, cst.Element)]


_TRANSPOSES = {"T", "t", "transpose", "permute", "swapaxes", "moveaxis", "mT"}


def _attributes_in(node: cst.CSTNode) -> tuple[set[str], bool]:
    """Attribute names used in an expression, and whether it indexes/slices/splits anything."""
    names: set[str] = set()
    reorders = [False]

    class Finder(cst.CSTVisitor):
        def visit_Attribute(self, attribute: cst.Attribute) -> None:
            names.add(attribute.attr.value)

        def visit_Name(self, name: cst.Name) -> None:
            names.add(name.value)

        def visit_Subscript(self, subscript: cst.Subscript) -> None:
            reorders[0] = True

    node.visit(Finder())
    if names & {"split", "chunk", "concatenate", "cat", "stack", "hstack", "vstack", "roll", "flip", "reshape"}:
        reorders[0] = True
    return names, reorders[0]


def _keras_kind(ctx, node: cst.BaseExpression | None) -> str | None:
    meaning = ctx.binding_of(node) if node is not None else None
    return meaning if meaning and meaning.startswith("keras.layers.") else None


class WeightLayoutNotConverted(_AssignmentMemory):
    """## What it does
    Flags `dense.set_weights([...])` / `conv.set_weights([...])` on a Keras `Dense`/`Conv*D` whose kernel comes
    from a torch `.weight` without the layout conversion: no transpose for `Dense`, or a bare `.T` for a
    convolution.

    ## Why is this bad
    torch stores a Linear weight as (out, in) and a Conv2d weight as OIHW; Keras expects (in, out) and HWIO.
    Square kernels load without a shape error and silently compute something else; `.T` on a 4-D conv weight
    reverses all axes (WHIO), which swaps the kernel's height and width.

    ## Example
    ```python
    dense = keras.layers.Dense(10)
    dense.set_weights([linear.weight.detach().numpy(), linear.bias.detach().numpy()])
    ```

    ## Use instead
    ```python
    dense = keras.layers.Dense(10)
    dense.set_weights([linear.weight.detach().numpy().T, linear.bias.detach().numpy()])
    ```
    """

    code = "XF007"
    name = "weight-layout-not-converted"
    severity = Severity.ERROR
    message = "torch `{source}` is {torch_layout} but Keras `{layer}` expects {keras_layout}: use `{conversion}`"
    valid = (
        "import keras\ndense = keras.layers.Dense(4)\ndense.set_weights([lin.weight.detach().numpy().T, b])\n",
        "import keras\nconv = keras.layers.Conv2D(4, 3)\nconv.set_weights([c.weight.detach().numpy().transpose(2, 3, 1, 0), b])\n",
    )
    invalid = (
        Invalid("import keras\ndense = keras.layers.Dense(4)\nw = lin.weight.detach().numpy()\ndense.set_weights([w, b])\n"),
        Invalid("import keras\nconv = keras.layers.Conv2D(4, 3)\nconv.set_weights([c.weight.detach().numpy().T, b])\n"),
    )

    def visit_Call(self, node: cst.Call) -> None:
        if method_name(node) != "set_weights":
            return
        kind = _keras_kind(self.ctx, receiver(node))
        layout = weight_layout_for(kind) if kind else None
        weights = self.weight_list(node)
        if layout is None or not weights:
            return
        kernel = weights[0]
        names, _ = _attributes_in(kernel)
        if "weight" not in names:
            return
        transposes = names & _TRANSPOSES
        bare_t_only = transposes <= {"T", "t", "mT"} and bool(transposes)
        if transposes and (layout.bare_transpose_ok or not bare_t_only):
            return
        self.report(kernel, self.message.format(source=self.ctx.code(kernel), torch_layout=layout.torch_layout,
                                                layer=kind.rsplit(".", 1)[-1], keras_layout=layout.keras_layout,
                                                conversion=layout.torch_to_keras))


class RecurrentBiasIncomplete(_AssignmentMemory):
    """## What it does
    Flags `set_weights([...])` that copies a torch recurrent layer's `bias_ih_l*` but never its `bias_hh_l*`
    (or the reverse).

    ## Why is this bad
    torch LSTM/GRU layers have two bias vectors; Keras LSTM has one bias equal to their sum, and Keras GRU
    (`reset_after=True`) stores both stacked. Copying only one drops half of every gate's offset: the layer
    loads without error and produces different sequences.

    ## Example
    ```python
    lstm.set_weights([w_ih.T, w_hh.T, torch_lstm.bias_ih_l0.detach().numpy()])
    ```

    ## Use instead
    ```python
    lstm.set_weights([w_ih.T, w_hh.T, (torch_lstm.bias_ih_l0 + torch_lstm.bias_hh_l0).detach().numpy()])
    ```
    """

    code = "XF008"
    name = "recurrent-bias-incomplete"
    severity = Severity.ERROR
    message = "Only `{present}` is copied: the Keras bias needs both `bias_ih` and `bias_hh` (summed for LSTM, stacked for GRU)"
    valid = ("import keras\nimport torch\nlstm.set_weights([a, b, (t.bias_ih_l0 + t.bias_hh_l0).detach().numpy()])\n",)
    invalid = (Invalid("import keras\nimport torch\nlstm.set_weights([a, b, t.bias_ih_l0.detach().numpy()])\n"),)

    def visit_Call(self, node: cst.Call) -> None:
        if method_name(node) != "set_weights" or not self.ctx.imports.imports_framework("torch"):
            return
        weights = self.weight_list(node)
        if not weights:
            return
        names: set[str] = set()
        for weight in weights:
            names |= _attributes_in(weight)[0]
        ih = {n for n in names if n.startswith("bias_ih_l")}
        hh = {n for n in names if n.startswith("bias_hh_l")}
        if bool(ih) != bool(hh):
            self.report(node, self.message.format(present=sorted(ih or hh)[0]))


class GruGateOrder(_AssignmentMemory):
    """## What it does
    Flags `gru.set_weights([...])` on a Keras `GRU` fed with torch `weight_ih_l*` / `weight_hh_l*` tensors that
    are only transposed, never split and reordered.

    ## Why is this bad
    torch stacks the GRU gates as (reset, update, new); Keras as (update, reset, candidate). Transposing alone
    loads without a shape error but swaps the reset and update gates, so the layer computes a different
    recurrence.

    ## Example
    ```python
    gru.set_weights([t.weight_ih_l0.detach().numpy().T, t.weight_hh_l0.detach().numpy().T, bias])
    ```

    ## Use instead
    ```python
    def reorder(w):  # torch (r, z, n) -> Keras (z, r, h)
        r, z, n = np.split(w, 3, axis=0)
        return np.concatenate([z, r, n], axis=0)

    gru.set_weights([reorder(t.weight_ih_l0.detach().numpy()).T, reorder(t.weight_hh_l0.detach().numpy()).T, bias])
    ```
    """

    code = "XF009"
    name = "gru-gate-order"
    severity = Severity.ERROR
    message = "torch GRU gates are ({torch}) but Keras expects ({keras}): split and reorder `{source}` before copying"
    valid = ("import keras\ngru = keras.layers.GRU(4)\ngru.set_weights([reorder(t.weight_ih_l0.numpy()).T, b, c])\n",
             "import keras\nlstm = keras.layers.LSTM(4)\nlstm.set_weights([t.weight_ih_l0.numpy().T, b, c])\n")
    invalid = (Invalid("import keras\ngru = keras.layers.GRU(4)\ngru.set_weights([t.weight_ih_l0.detach().numpy().T, b, c])\n"),)

    def visit_Call(self, node: cst.Call) -> None:
        if method_name(node) != "set_weights" or _keras_kind(self.ctx, receiver(node)) != "keras.layers.GRU":
            return
        for weight in self.weight_list(node) or ():
            names, reorders = _attributes_in(weight)
            sources = sorted(n for n in names if n.startswith(("weight_ih_l", "weight_hh_l")))
            called_helper = any(isinstance(n, cst.Call) and isinstance(n.func, cst.Name) for n in nodes_of_type(weight, cst.Call))
            if sources and not reorders and not called_helper:
                orders = GATE_ORDERS["gru"]
                self.report(weight, self.message.format(torch=", ".join(orders["torch"]), keras=", ".join(orders["keras"]),
                                                        source=sources[0]))
                return


_TORCH_CROSS_ENTROPY = {"torch.nn.CrossEntropyLoss", "torch.nn.functional.cross_entropy"}
_KERAS_CROSSENTROPY_CLASSES = {"keras.losses.SparseCategoricalCrossentropy", "keras.losses.CategoricalCrossentropy"}


class CrossEntropyPortedWithoutLogits(ModelOutputTracker):
    """## What it does
    In a file that uses torch's `CrossEntropyLoss`, flags a Keras `SparseCategoricalCrossentropy` /
    `CategoricalCrossentropy` built without `from_logits`, unless the Keras model it compiles is known to end in
    a softmax.

    ## Why is this bad
    torch's `CrossEntropyLoss` takes logits; Keras's crossentropy losses take probabilities unless
    `from_logits=True`. A port that keeps the model's raw outputs and translates the loss literally trains on
    clipped logits and learns little.

    ## Example
    ```python
    criterion = torch.nn.CrossEntropyLoss()          # the original
    loss = keras.losses.SparseCategoricalCrossentropy()  # the port
    ```

    ## Use instead
    ```python
    criterion = torch.nn.CrossEntropyLoss()
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    ```

    The fix adds `from_logits=True`, which is wrong if the ported model does end in a softmax: it is offered in
    the editor only.
    """

    code = "XF010"
    needs_each_of = PORTING_FILE  # it compares the file's torch code with its Keras code
    name = "cross-entropy-ported-without-logits"
    severity = Severity.WARNING
    message = "torch's CrossEntropyLoss takes logits but this Keras loss expects probabilities: pass `from_logits=True`"
    fixable = True
    valid = (
        "import torch\nimport keras\nc = torch.nn.CrossEntropyLoss()\nl = keras.losses.SparseCategoricalCrossentropy(from_logits=True)\n",
        "import torch\nimport keras\nc = torch.nn.CrossEntropyLoss()\nm = keras.Sequential([keras.layers.Dense(3, activation='softmax')])\n"
        "m.compile(loss=keras.losses.SparseCategoricalCrossentropy())\n",
    )
    invalid = (
        Invalid("import torch\nimport keras\nc = torch.nn.CrossEntropyLoss()\nl = keras.losses.SparseCategoricalCrossentropy()\n",
                "import torch\nimport keras\nc = torch.nn.CrossEntropyLoss()\nl = keras.losses.SparseCategoricalCrossentropy(from_logits=True)\n"),
    )

    accumulates = ("losses", "explained")
    carries = (*ModelOutputTracker.carries, "torch_ce")

    def __init__(self, ctx):
        super().__init__(ctx)
        self.torch_ce = False
        self.losses: list[tuple[cst.Call, cst.CSTNode | None]] = []  # with their top-level statement
        self.explained: list[cst.CSTNode] = []

    def visit_Call(self, node: cst.Call) -> None:
        super().visit_Call(node)
        callee = self.ctx.callee(node)
        if callee in _TORCH_CROSS_ENTROPY:
            self.torch_ce = True
        elif callee in _KERAS_CROSSENTROPY_CLASSES and keyword(node, "from_logits") is None and not has_star_args(node):
            self.losses.append((node, self.ctx.statement))

    def check_compile(self, loss: cst.BaseExpression, layer: LayerFacts) -> None:
        if layer.activation is not None:
            self.explained.append(loss)  # the model's last activation is known: TF001 judges this pair

    def leave_Module(self, node: cst.Module) -> None:
        if not self.torch_ce:
            return
        explained = {id(loss) for loss in self.explained}
        for loss, statement in self.losses:
            if id(loss) in explained:
                continue
            fix = PendingFix("Pass `from_logits=True`",
                             (self.replace(loss, self.ctx.code(with_keyword(loss, "from_logits", "True"))),), safe=False)
            self.report(loss, fix=fix, statement=statement)


class LeakyReluSlopeInPort(Rule):
    """## What it does
    In a file that builds layers of both frameworks (a port), flags `LeakyReLU()` (torch or Keras) built without an
    explicit slope.

    ## Why is this bad
    The defaults differ thirtyfold: torch `negative_slope=0.01`, Keras 3 `negative_slope=0.3`. A ported
    `LeakyReLU()` scales negative activations differently, so outputs drift layer after layer even with
    identical weights.

    ## Example
    ```python
    act = keras.layers.LeakyReLU()  # ported from nn.LeakyReLU()
    ```

    ## Use instead
    ```python
    act = keras.layers.LeakyReLU(negative_slope=0.01)
    ```

    The fix passes the other framework's default on Keras layers (the usual porting direction); it is offered in
    the editor only.
    """

    code = "XF011"
    needs_each_of = PORTING_FILE  # it compares the file's torch code with its Keras code
    name = "leaky-relu-slope-in-port"
    severity = Severity.WARNING
    message = "`{name}()` uses its framework's slope {own}; the other framework's default is {other}: pass it explicitly"
    fixable = True
    valid = ("import torch\nimport keras\nt = torch.nn.Linear(2, 2)\na = keras.layers.LeakyReLU(negative_slope=0.01)\n",
             "import torch\nimport keras\na = keras.layers.LeakyReLU()\n")
    invalid = (Invalid("import torch\nimport keras\nt = torch.nn.LeakyReLU(0.01)\na = keras.layers.LeakyReLU()\n",
                       "import torch\nimport keras\nt = torch.nn.LeakyReLU(0.01)\na = keras.layers.LeakyReLU(negative_slope=0.01)\n"),
               Invalid("import torch.nn as nn\nimport tensorflow as tf\na = nn.LeakyReLU()\nd = tf.keras.layers.Dense(2)\n"))

    def __init__(self, ctx):
        super().__init__(ctx)
        self.candidates: list[tuple[cst.Call, str, DefaultDifference]] = []
        self.builds: set[str] = set()  # frameworks whose layers this file constructs

    def visit_Call(self, node: cst.Call) -> None:
        callee = self.ctx.callee(node) or ""
        if callee.startswith("torch.nn.") and callee.rsplit(".", 1)[-1][:1].isupper():
            self.builds.add("torch")
        elif callee.startswith("keras.layers."):
            self.builds.add("keras")
        difference = _difference("leaky relu slope", callee)
        if difference is None or has_star_args(node):
            return
        side = "torch" if callee == difference.torch_layer else "keras"
        if positional(node) or keyword(node, difference.torch_arg if side == "torch" else difference.keras_arg) \
                or keyword(node, "alpha"):
            return
        self.candidates.append((node, side, difference))

    def leave_Module(self, node: cst.Module) -> None:
        if self.builds != {"torch", "keras"}:
            return  # not a port: the file builds layers of one framework only
        for call, side, difference in self.candidates:
            own, other = ((difference.torch_default, difference.keras_default) if side == "torch"
                          else (difference.keras_default, difference.torch_default))
            fix = None
            if side == "keras":
                fix = PendingFix(f"Pass `negative_slope={other}`",
                                 (self.replace(call, self.ctx.code(with_keyword(call, difference.keras_arg, repr(other)))),),
                                 safe=False)
            self.report(call, self.message.format(name=self.ctx.code(call.func), own=own, other=other), fix)


class TorchSamePaddingStrided(Rule):
    """## What it does
    Flags `nn.Conv1d/2d/3d(..., padding="same", stride=s)` with `s > 1`.

    ## Why is this bad
    PyTorch supports `padding="same"` only for stride 1: building the layer raises
    "padding='same' is not supported for strided convolutions". It is a common leftover of porting Keras's
    `padding="same", strides=2`.

    ## Example
    ```python
    conv = nn.Conv2d(32, 64, 3, stride=2, padding="same")
    ```

    ## Use instead
    ```python
    conv = nn.Conv2d(32, 64, 3, stride=2, padding=1)  # symmetric; Keras pads the extra row at the bottom/right
    ```
    """

    code = "XF012"
    scope = STATEMENT_SCOPE
    name = "torch-same-padding-strided"
    severity = Severity.ERROR
    message = "torch refuses `padding=\"same\"` with stride > 1: pass explicit padding (e.g. `kernel_size // 2`)"
    valid = ("import torch.nn as nn\nc = nn.Conv2d(3, 8, 3, stride=1, padding='same')\n",
             "import torch.nn as nn\nc = nn.Conv2d(3, 8, 3, stride=2, padding=1)\n")
    invalid = (Invalid("import torch.nn as nn\nc = nn.Conv2d(3, 8, 3, stride=2, padding='same')\n"),
               Invalid("import torch.nn as nn\nc = nn.Conv1d(3, 8, 5, 2, 'same')\n"))

    def visit_Call(self, node: cst.Call) -> None:
        if self.ctx.callee(node) not in _TORCH_CONVS:
            return
        padding = argument(node, "padding", 4)
        if padding is None or string_value(padding.value) != "same":
            return
        stride = argument(node, "stride", 3)
        if stride is not None and _stride_above_one(stride.value):
            self.report(padding)


_KERAS_PADDED = {"keras.layers.Conv1D": "kernel", "keras.layers.Conv2D": "kernel", "keras.layers.Conv3D": "kernel",
                 "keras.layers.SeparableConv2D": "kernel", "keras.layers.DepthwiseConv2D": "depthwise",
                 "keras.layers.MaxPooling1D": "pool", "keras.layers.MaxPooling2D": "pool",
                 "keras.layers.AveragePooling1D": "pool", "keras.layers.AveragePooling2D": "pool"}


class KerasNumericPadding(Rule):
    """## What it does
    Flags Keras convolution and pooling layers given a number (or tuple) as `padding`, torch style.

    ## Why is this bad
    Keras's `padding` is a mode, one of "valid", "same" or "causal"; a number fails when the layer is built or
    called (`'int' object has no attribute 'lower'`).

    ## Example
    ```python
    conv = layers.Conv2D(64, 3, padding=1)
    ```

    ## Use instead
    ```python
    conv = layers.Conv2D(64, 3, padding="same")  # equal to torch's padding=1 for a 3x3 kernel at stride 1
    ```

    The fix is safe where the mode computes exactly the same: `padding=0` is "valid", and `padding=(k - 1) // 2`
    with an odd kernel `k` at stride 1 is "same".
    """

    code = "XF013"
    needs_frameworks = frozenset({"keras", "tensorflow"})  # a Keras layer's padding
    name = "keras-numeric-padding"
    severity = Severity.ERROR
    message = "Keras `padding` is a mode ({modes}), not a number: this fails when the layer runs"
    fixable = True
    valid = ("import keras\nc = keras.layers.Conv2D(8, 3, padding='same')\n",)
    invalid = (
        Invalid("import keras\nc = keras.layers.Conv2D(8, 3, padding=1)\n", "import keras\nc = keras.layers.Conv2D(8, 3, padding=\"same\")\n"),
        Invalid("import keras\np = keras.layers.MaxPooling2D(2, padding=0)\n", "import keras\np = keras.layers.MaxPooling2D(2, padding=\"valid\")\n"),
        Invalid("import keras\nc = keras.layers.Conv2D(8, 3, strides=2, padding=1)\n"),
    )

    # Found statement by statement; reported once the walk is done, because the fix quotes its mode the way the
    # whole file mostly does.
    accumulates = ("paddings",)
    carries = ()

    def __init__(self, ctx):
        super().__init__(ctx)
        # (the padding argument, the mode that computes the same or None, its top-level statement)
        self.paddings: list[tuple[cst.Arg, str | None, cst.CSTNode | None]] = []

    def visit_Call(self, node: cst.Call) -> None:
        kind = _KERAS_PADDED.get(self.ctx.callee(node) or "")
        if kind is None:
            return
        padding = keyword(node, "padding")
        if padding is None:
            return
        value = padding.value
        amount = number_value(value)
        if amount is None and not (isinstance(value, (cst.Tuple, cst.List))
                                   and all(number_value(e.value) is not None for e in value.elements)):
            return
        mode = None
        if amount == 0:
            mode = "valid"
        elif amount is not None and kind != "pool":
            size_arg = argument(node, "kernel_size", 1 if kind == "kernel" else 0)
            size = number_value(size_arg.value) if size_arg is not None else None
            strides = keyword(node, "strides")
            stride_one = strides is None or number_value(strides.value) == 1
            if size is not None and size % 2 == 1 and amount == (size - 1) // 2 and stride_one:
                mode = "same"
        self.paddings.append((padding, mode, self.ctx.statement))

    def leave_Module(self, node: cst.Module) -> None:
        if not self.paddings:
            return
        source = self.ctx.source
        quote = "'" if source.count("'") > source.count('"') else '"'
        message = self.message.format(modes=", ".join(f'"{m}"' for m in KERAS_PADDING_MODES))
        for padding, mode, statement in self.paddings:
            fix = None
            if mode is not None:
                fix = PendingFix(f'Use padding="{mode}"', (self.replace(padding.value, f"{quote}{mode}{quote}"),))
            self.report(padding, message, fix, statement=statement)


class OtherFrameworkArgument(Rule):
    """## What it does
    Flags a layer given the other framework's name for an argument: `eps=` on a Keras normalisation layer,
    `epsilon=` on a torch one, `strides=`/`stride=`, `rate=`/`p=`, `dim=`/`axis=`, `units=`/`out_features=` and
    the other pairs in the porting catalog.

    ## Why is this bad
    Neither framework accepts the other's spelling: torch raises `TypeError: unexpected keyword argument`,
    Keras raises `ValueError: Unrecognized keyword arguments`. The arguments mean the same thing, so the rename
    is all a port needs.

    ## Example
    ```python
    bn = nn.BatchNorm2d(64, epsilon=1e-3)
    ```

    ## Use instead
    ```python
    bn = nn.BatchNorm2d(64, eps=1e-3)
    ```

    The rename is safe: the original call cannot run.
    """

    code = "XF014"
    scope = STATEMENT_SCOPE
    name = "other-framework-argument"
    severity = Severity.ERROR
    message = "`{layer}` has no `{wrong}=` argument ({framework} spelling): use `{right}=`"
    fixable = True
    valid = ("import torch.nn as nn\nbn = nn.BatchNorm2d(8, eps=1e-3)\n", "import keras\nd = keras.layers.Dropout(rate=0.5)\n")
    invalid = (
        Invalid("import torch.nn as nn\nbn = nn.BatchNorm2d(8, epsilon=1e-3)\n", "import torch.nn as nn\nbn = nn.BatchNorm2d(8, eps=1e-3)\n"),
        Invalid("from keras import layers\nc = layers.Conv2D(8, 3, stride=2)\n", "from keras import layers\nc = layers.Conv2D(8, 3, strides=2)\n"),
        Invalid("import keras\nd = keras.layers.Dropout(p=0.5)\n", "import keras\nd = keras.layers.Dropout(rate=0.5)\n"),
    )

    def visit_Call(self, node: cst.Call) -> None:
        callee = self.ctx.callee(node)
        if callee is None or not callee.startswith(("torch.nn.", "keras.layers.")):
            return
        for pair in ARGUMENT_NAMES:
            if callee in pair.torch_layers:
                wrong, right, framework = pair.keras_arg, pair.torch_arg, "Keras"
            elif callee in pair.keras_layers:
                wrong, right, framework = pair.torch_arg, pair.keras_arg, "PyTorch"
            else:
                continue
            arg = keyword(node, wrong)
            if arg is None:
                continue
            fix = None if keyword(node, right) else PendingFix(f"Rename to `{right}=`", (self.replace(arg.keyword, right),))
            self.report(arg, self.message.format(layer=self.ctx.code(node.func), wrong=wrong, framework=framework,
                                                 right=right), fix)
