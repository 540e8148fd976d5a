"""PyTorch layer and numerics rules: output activations against losses, parameters, NaN checks, layer order."""

from __future__ import annotations

import libcst as cst

from ..context import TORCH_MODULE
from ..findings import Severity
from ..rule import STATEMENT_SCOPE, Invalid, PendingFix, Rule
from ._calls import is_constant, keyword, positional, string_value, with_keyword
from .final_activation import FinalActivationRule

_SIGMOID_LAYERS = frozenset({"torch.nn.Sigmoid"})
_SIGMOID_FUNCTIONS = frozenset({"torch.sigmoid", "torch.nn.functional.sigmoid", "torch.special.expit"})
_WITH_LOGITS = frozenset({"torch.nn.BCEWithLogitsLoss", "torch.nn.functional.binary_cross_entropy_with_logits"})


class SigmoidBeforeBceWithLogits(FinalActivationRule):
    """## What it does
    Flags a sigmoid whose output reaches the input of `BCEWithLogitsLoss` / `F.binary_cross_entropy_with_logits`:
    a model that ends in `nn.Sigmoid` (the last layer of `nn.Sequential`) or whose `forward` returns
    `torch.sigmoid(...)`, followed through locals, tuple returns, `self.` attributes and the file's own
    `nn.Module` classes to the loss call. Where the path leaves the file, the rule is silent.

    ## Why is this bad
    The `WithLogits` losses apply the sigmoid themselves. Fed probabilities, they squash them a second time into
    (0.5, 0.73): gradients vanish, the model barely learns, and nothing raises.

    ## Example
    ```python
    model = nn.Sequential(nn.Linear(16, 1), nn.Sigmoid())
    criterion = nn.BCEWithLogitsLoss()
    loss = criterion(model(x), y)
    ```

    ## Use instead
    ```python
    model = nn.Sequential(nn.Linear(16, 1))
    criterion = nn.BCEWithLogitsLoss()  # apply torch.sigmoid only for predictions
    loss = criterion(model(x), y)
    ```
    """

    code = "PT013"
    name = "sigmoid-before-bce-with-logits"
    severity = Severity.WARNING
    message = "Sigmoid output fed to a `WithLogits` loss, which applies sigmoid itself: return logits instead"
    needs_any_of = ("BCEWithLogitsLoss", "binary_cross_entropy_with_logits")
    valid = (
        "import torch.nn as nn\nmodel = nn.Sequential(nn.Linear(4, 1))\ncrit = nn.BCEWithLogitsLoss()\n"
        "loss = crit(model(x), y)\n",
        "import torch.nn as nn\nmodel = nn.Sequential(nn.Linear(4, 1), nn.Sigmoid())\ncrit = nn.BCELoss()\n"
        "loss = crit(model(x), y)\n",
        "import torch.nn as nn\nclass SE(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
        "        self.gate = nn.Sequential(nn.Conv2d(8, 8, 1), nn.Sigmoid())\n"
        "    def forward(self, x):\n        return x * self.gate(x)\ncrit = nn.BCEWithLogitsLoss()\n"
        "loss = crit(SE()(x), y)\n",
    )
    invalid = (
        Invalid("import torch.nn as nn\nmodel = nn.Sequential(nn.Linear(4, 1), nn.Sigmoid())\n"
                "crit = nn.BCEWithLogitsLoss()\nloss = crit(model(x), y)\n"),
        Invalid("import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\nclass Net(nn.Module):\n"
                "    def forward(self, x):\n        return torch.sigmoid(self.fc(x))\n"
                "loss = F.binary_cross_entropy_with_logits(Net()(x), y)\n"),
    )

    final_layers = _SIGMOID_LAYERS
    final_functions = _SIGMOID_FUNCTIONS
    method_names = frozenset({"sigmoid"})
    losses = _WITH_LOGITS


_NAN_CONSTANTS = {"math.nan": "math", "numpy.nan": "numpy", "numpy.NaN": "numpy", "numpy.NAN": "numpy",
                  "torch.nan": "torch"}


class NanComparison(Rule):
    """## What it does
    Flags `x == float("nan")`, `x != np.nan`, `x is math.nan` and other comparisons with NaN.

    ## Why is this bad
    NaN compares unequal to everything, itself included: `x == nan` is always `False` (element-wise too, for
    tensors and arrays) and `x != nan` always `True`. A NaN check written this way never fires, so diverged losses
    go unnoticed.

    ## Example
    ```python
    if loss == float("nan"):
        raise RuntimeError("diverged")
    ```

    ## Use instead
    ```python
    if torch.isnan(loss):
        raise RuntimeError("diverged")
    ```

    The fix uses the `isnan` of the library the NaN came from (`torch`, `numpy` or `math`); it is offered in the
    editor only, because the compared value may be of another type.
    """

    code = "PT019"
    scope = STATEMENT_SCOPE
    name = "nan-comparison"
    severity = Severity.ERROR
    message = "Comparing with NaN is always {result}: use `isnan`"
    fixable = True
    valid = ("import torch\nif torch.isnan(loss).any():\n    pass\n", "import torch\nok = x == 0.0\n")
    invalid = (
        Invalid("import torch\nif loss == torch.nan:\n    pass\n", "import torch\nif torch.isnan(loss):\n    pass\n"),
        Invalid("import torch\nimport numpy as np\nmask = arr != np.nan\n", "import torch\nimport numpy as np\nmask = ~np.isnan(arr)\n"),
        Invalid("import torch\nbad = loss == float('nan')\n", "import torch\nbad = torch.isnan(loss)\n"),
    )

    def _origin(self, node: cst.BaseExpression) -> str | None:
        if isinstance(node, cst.Call) and isinstance(node.func, cst.Name) and node.func.value == "float" \
                and len(node.args) == 1 and (string_value(node.args[0].value) or "").strip().lower() == "nan":
            return "float"
        if isinstance(node, cst.Attribute):
            return _NAN_CONSTANTS.get(self.ctx.qualname(node) or "")
        return None

    def visit_Comparison(self, node: cst.Comparison) -> None:
        if len(node.comparisons) != 1:
            return
        target = node.comparisons[0]
        if not isinstance(target.operator, (cst.Equal, cst.NotEqual, cst.Is, cst.IsNot)):
            return
        origin, other = self._origin(target.comparator), node.left
        if origin is None:
            origin, other = self._origin(node.left), target.comparator
        if origin is None or not self.ctx.imports.imports_framework("torch"):
            return
        negated = isinstance(target.operator, (cst.NotEqual, cst.IsNot))
        module = "torch" if origin == "float" else origin
        spelling = self.ctx.spelling(f"{module}.isnan")
        fix = None
        if spelling is not None:
            check = f"{spelling}({self.ctx.code(other)})"
            if negated:
                check = f"not {check}" if module == "math" else f"~{check}"
            fix = PendingFix(f"Use `{spelling}`", (self.replace(node, check),), safe=False)
        self.report(node, self.message.format(result="True" if negated else "False"), fix)


_CONVS = {"torch.nn.Conv1d": 1, "torch.nn.Conv2d": 2, "torch.nn.Conv3d": 3}
_BATCHNORMS = {"torch.nn.BatchNorm1d": 1, "torch.nn.BatchNorm2d": 2, "torch.nn.BatchNorm3d": 3}


class BiasBeforeBatchNorm(Rule):
    """## What it does
    Flags a convolution with a bias (the default) directly followed by batch normalisation in `nn.Sequential`.

    ## Why is this bad
    Batch normalisation subtracts the per-channel mean, which cancels any per-channel bias exactly: the bias is
    a wasted parameter, costs an addition per output element, and its gradient is always zero.

    ## Example
    ```python
    nn.Sequential(nn.Conv2d(3, 16, 3), nn.BatchNorm2d(16), nn.ReLU())
    ```

    ## Use instead
    ```python
    nn.Sequential(nn.Conv2d(3, 16, 3, bias=False), nn.BatchNorm2d(16), nn.ReLU())
    ```

    The fix removes the `bias` entry from the model's `state_dict`, so old checkpoints no longer load strictly:
    it is offered in the editor only.
    """

    code = "PT022"
    scope = STATEMENT_SCOPE
    name = "bias-before-batchnorm"
    severity = Severity.INFO
    message = "The convolution's bias is cancelled by the `{bn}` that follows: pass `bias=False`"
    fixable = True
    valid = ("import torch.nn as nn\nm = nn.Sequential(nn.Conv2d(3, 8, 3, bias=False), nn.BatchNorm2d(8))\n",
             "import torch.nn as nn\nm = nn.Sequential(nn.Conv2d(3, 8, 3), nn.ReLU(), nn.BatchNorm2d(8))\n")
    invalid = (
        Invalid("import torch.nn as nn\nm = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8))\n",
                "import torch.nn as nn\nm = nn.Sequential(nn.Conv2d(3, 8, 3, bias=False), nn.BatchNorm2d(8))\n"),
    )

    def visit_Call(self, node: cst.Call) -> None:
        if self.ctx.callee(node) != "torch.nn.Sequential":
            return
        layers = [a.value for a in positional(node)]
        for conv, bn in zip(layers, layers[1:]):
            if not (isinstance(conv, cst.Call) and isinstance(bn, cst.Call)):
                continue
            conv_dims, bn_dims = _CONVS.get(self.ctx.callee(conv) or ""), _BATCHNORMS.get(self.ctx.callee(bn) or "")
            if conv_dims is None or conv_dims != bn_dims or any(a.star for a in conv.args):
                continue
            bias = keyword(conv, "bias")
            if bias is None and len(positional(conv)) > 7:
                bias = positional(conv)[7]
            if bias is not None and is_constant(bias.value, "False"):
                continue
            if bias is not None and not is_constant(bias.value, "True"):
                continue  # a variable: the caller decides
            fix = None
            if bias is None:
                fix = PendingFix("Pass `bias=False`", (self.replace(conv, self.ctx.code(with_keyword(conv, "bias", "False"))),),
                                 safe=False)
            self.report(conv, self.message.format(bn=self.ctx.code(bn.func)), fix)


_REQUIRES_GRAD_FACTORIES = {
    f"torch.{n}" for n in ("randn", "rand", "zeros", "ones", "empty", "full", "tensor", "eye", "arange", "randint",
                           "normal", "linspace")
}


class TensorAttributeNotParameter(Rule):
    """## What it does
    Flags `self.w = torch.randn(..., requires_grad=True)` (or another factory) in an `nn.Module` method.

    ## Why is this bad
    A plain tensor attribute is not a parameter: `model.parameters()` does not return it (so the optimizer
    never updates it), `model.to(device)` does not move it and `state_dict()` does not save it, even though it
    requires grad.

    ## Example
    ```python
    class Scale(nn.Module):
        def __init__(self):
            super().__init__()
            self.gain = torch.ones(1, requires_grad=True)
    ```

    ## Use instead
    ```python
    class Scale(nn.Module):
        def __init__(self):
            super().__init__()
            self.gain = nn.Parameter(torch.ones(1))
    ```

    The fix registers the parameter, which adds an entry to `state_dict()` (old checkpoints then miss it): it is
    offered in the editor only.
    """

    code = "PT026"
    scope = STATEMENT_SCOPE
    name = "tensor-attribute-not-parameter"
    severity = Severity.ERROR
    message = "`self.{attr}` requires grad but is a plain tensor: wrap it in `nn.Parameter` so it is trained and saved"
    fixable = True
    valid = (
        "import torch\nimport torch.nn as nn\nclass M(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
        "        self.w = nn.Parameter(torch.ones(1))\n",
        "import torch\nclass Plain:\n    def __init__(self):\n        self.w = torch.ones(1, requires_grad=True)\n",
    )
    invalid = (
        Invalid(
            "import torch\nimport torch.nn as nn\nclass M(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
            "        self.w = torch.ones(1, requires_grad=True)\n",
            "import torch\nimport torch.nn as nn\nclass M(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
            "        self.w = nn.Parameter(torch.ones(1))\n",
        ),
    )

    def visit_Assign(self, node: cst.Assign) -> None:
        if len(node.targets) != 1 or not self.ctx.in_method_of(TORCH_MODULE):
            return
        target = node.targets[0].target
        if not (isinstance(target, cst.Attribute) and isinstance(target.value, cst.Name) and target.value.value == "self"):
            return
        value = node.value
        if not isinstance(value, cst.Call) or self.ctx.callee(value) not in _REQUIRES_GRAD_FACTORIES:
            return
        flag = keyword(value, "requires_grad")
        if flag is None or not is_constant(flag.value, "True"):
            return
        fix = None
        spelling = self.ctx.spelling("torch.nn.Parameter")
        if spelling is not None:
            args = [a for a in value.args if a is not flag]
            if args:
                args[-1] = args[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
            inner = self.ctx.code(value.with_changes(args=args))
            fix = PendingFix(f"Wrap in `{spelling}`", (self.replace(value, f"{spelling}({inner})"),), safe=False)
        self.report(value, self.message.format(attr=target.attr.value), fix)
