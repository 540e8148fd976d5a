"""PyTorch numerics rules: softmax placement and numerically stable forms."""

from __future__ import annotations

import libcst as cst

from ..context import TORCH_MODULE
from ..findings import Severity
from ..rule import STATEMENT_SCOPE, Invalid, PendingFix, Rule
from ._calls import keyword, positional

_SOFTMAX_LAYERS = frozenset({"torch.nn.Softmax", "torch.nn.LogSoftmax"})
_SOFTMAX_FUNCTIONS = frozenset({"torch.nn.functional.softmax", "torch.softmax", "torch.nn.functional.log_softmax",
                                "torch.log_softmax", "torch.special.softmax"})
_CROSS_ENTROPY = frozenset({"torch.nn.CrossEntropyLoss", "torch.nn.functional.cross_entropy"})


class _FinalActivationRule(Rule):
    """A model that ends in an activation its loss applies again: a ``Sequential`` whose last layer is one of
    ``final_layers`` (at module level, or the attribute a module's ``forward`` returns), or a ``forward`` that
    returns one of ``final_functions``, in a file that uses one of ``losses``."""

    final_layers: frozenset = frozenset()
    final_functions: frozenset = frozenset()
    method_names: frozenset = frozenset()  # ``x.sigmoid()`` style methods that count as the final function
    losses: frozenset = frozenset()

    def __init__(self, ctx):
        super().__init__(ctx)
        self.candidates: list[cst.CSTNode] = []
        self.attribute_heads: dict[tuple[str, str], cst.CSTNode] = {}  # (class, attribute) -> its final layer
        self.returned_attributes: set[tuple[str, str]] = set()
        self.uses_loss = False

    def visit_Call(self, node: cst.Call) -> None:
        callee = self.ctx.callee(node)
        if callee in self.losses:
            self.uses_loss = True
        elif callee == "torch.nn.Sequential":
            layers = positional(node)
            # inside a class, a Sequential ending in softmax/sigmoid is often a gate or an attention block: it is the
            # model's output only when ``forward`` returns it (see visit_Assign / visit_Return)
            if (not self.ctx.class_stack and layers and isinstance(layers[-1].value, cst.Call)
                    and self.ctx.callee(layers[-1].value) in self.final_layers):
                self.candidates.append(layers[-1].value)

    def visit_Assign(self, node: cst.Assign) -> None:
        cls = self.ctx.enclosing_class()
        if cls is None or not isinstance(node.value, cst.Call) or self.ctx.callee(node.value) != "torch.nn.Sequential":
            return
        layers = positional(node.value)
        if not (layers and isinstance(layers[-1].value, cst.Call) and self.ctx.callee(layers[-1].value) in self.final_layers):
            return
        for target in node.targets:
            t = target.target
            if isinstance(t, cst.Attribute) and isinstance(t.value, cst.Name) and t.value.value == "self":
                self.attribute_heads[(cls.name.value, t.attr.value)] = layers[-1].value

    def visit_Return(self, node: cst.Return) -> None:
        function = self.ctx.enclosing_function()
        if (function is None or function.name.value != "forward" or not self.ctx.in_method_of(TORCH_MODULE)
                or not isinstance(node.value, cst.Call)):
            return
        value = node.value
        callee = self.ctx.callee(value)
        if callee in self.final_functions or (
                callee is None and isinstance(value.func, cst.Attribute) and value.func.attr.value in self.method_names
                and not value.args):
            self.candidates.append(value)
            return
        func = value.func
        if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name) and func.value.value == "self":
            self.returned_attributes.add((self.ctx.enclosing_class().name.value, func.attr.value))

    def leave_Module(self, node: cst.Module) -> None:
        if not self.uses_loss:
            return
        for candidate in self.candidates:
            self.report(candidate)
        for key, final in self.attribute_heads.items():
            if key in self.returned_attributes:
                self.report(final)


class DoubleSoftmax(_FinalActivationRule):
    """## What it does
    Flags a model that ends in softmax (`nn.Softmax` as the last layer of `nn.Sequential`, or `forward`
    returning `F.softmax(...)`) in a file that trains it with `CrossEntropyLoss`/`F.cross_entropy`.

    ## Why is this bad
    `CrossEntropyLoss` applies `log_softmax` itself and expects raw logits. Feeding it probabilities applies
    softmax twice: gradients shrink, training stalls at a poor accuracy, and nothing raises an error.

    ## Example
    ```python
    model = nn.Sequential(nn.Linear(784, 10), nn.Softmax(dim=1))
    criterion = nn.CrossEntropyLoss()
    ```

    ## Use instead
    ```python
    model = nn.Sequential(nn.Linear(784, 10))
    criterion = nn.CrossEntropyLoss()  # apply softmax only when you need probabilities at inference
    ```
    """

    code = "PT001"
    name = "double-softmax-cross-entropy"
    severity = Severity.WARNING
    message = "Softmax output fed to CrossEntropyLoss, which applies log_softmax itself: return logits instead"
    valid = (
        "import torch.nn as nn\nmodel = nn.Sequential(nn.Linear(4, 3))\ncrit = nn.CrossEntropyLoss()\n",
        "import torch.nn as nn\nmodel = nn.Sequential(nn.Linear(4, 3), nn.Softmax(dim=1))\ncrit = nn.NLLLoss()\n",
        "import torch.nn as nn\nclass Attn(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
        "        self.weights = nn.Sequential(nn.Linear(4, 4), nn.Softmax(dim=-1))\n"
        "    def forward(self, x):\n        return x * self.weights(x)\ncrit = nn.CrossEntropyLoss()\n",
    )
    invalid = (
        Invalid("import torch.nn as nn\nmodel = nn.Sequential(nn.Linear(4, 3), nn.Softmax(dim=1))\n"
                "crit = nn.CrossEntropyLoss()\n"),
        Invalid("import torch.nn as nn\nimport torch.nn.functional as F\nclass Net(nn.Module):\n"
                "    def forward(self, x):\n        return F.softmax(self.fc(x), dim=1)\n"
                "loss = F.cross_entropy(Net()(x), y)\n"),
        Invalid("import torch.nn as nn\nclass Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
                "        self.head = nn.Sequential(nn.Linear(4, 3), nn.Softmax(dim=1))\n"
                "    def forward(self, x):\n        return self.head(x)\ncrit = nn.CrossEntropyLoss()\n"),
    )

    final_layers = _SOFTMAX_LAYERS
    final_functions = _SOFTMAX_FUNCTIONS
    losses = _CROSS_ENTROPY


class SoftmaxWithoutDim(Rule):
    """## What it does
    Flags `F.softmax`, `F.log_softmax`, `F.softmin` and `nn.Softmax`/`nn.LogSoftmax` called without `dim`.

    ## Why is this bad
    The implicit dimension is deprecated and chosen by the input's rank (dim 0 for 0-D, 1-D and 3-D inputs):
    for a batch of sequences `(batch, seq, classes)` it normalises across the batch, which is almost never meant.

    ## Example
    ```python
    probs = F.softmax(logits)
    ```

    ## Use instead
    ```python
    probs = F.softmax(logits, dim=-1)
    ```
    """

    code = "PT008"
    scope = STATEMENT_SCOPE
    name = "softmax-without-dim"
    severity = Severity.WARNING
    message = "`{name}` without `dim`: the implicit dimension is deprecated and depends on the input's rank"
    valid = (
        "import torch.nn.functional as F\np = F.softmax(x, dim=-1)\n",
        "import torch.nn.functional as F\np = F.softmax(x, 1)\n",
        "import torch.nn as nn\nm = nn.Softmax(dim=1)\n",
    )
    invalid = (
        Invalid("import torch.nn.functional as F\np = F.softmax(x)\n"),
        Invalid("import torch.nn as nn\nm = nn.LogSoftmax()\n"),
    )

    _FUNCTIONS = {"torch.nn.functional.softmax", "torch.nn.functional.log_softmax", "torch.nn.functional.softmin"}
    _LAYERS = {"torch.nn.Softmax", "torch.nn.LogSoftmax", "torch.nn.Softmin"}

    def visit_Call(self, node: cst.Call) -> None:
        callee = self.ctx.callee(node)
        if callee is None or any(a.star for a in node.args) or keyword(node, "dim") is not None:
            return
        needed = 2 if callee in self._FUNCTIONS else 1 if callee in self._LAYERS else None
        if needed is not None and len(positional(node)) < needed:
            self.report(node, self.message.format(name=self.ctx.code(node.func)))


class LogOfSoftmax(Rule):
    """## What it does
    Flags `torch.log(F.softmax(x, dim))` and `F.softmax(x, dim).log()`.

    ## Why is this bad
    Softmax can underflow to exactly 0 for very negative logits, and `log(0)` is `-inf`: losses become NaN.
    `log_softmax` computes the same function with the log-sum-exp trick and stays finite.

    ## Example
    ```python
    log_probs = torch.log(F.softmax(logits, dim=-1))
    ```

    ## Use instead
    ```python
    log_probs = F.log_softmax(logits, dim=-1)
    ```
    """

    code = "PT010"
    scope = STATEMENT_SCOPE
    name = "log-of-softmax"
    severity = Severity.WARNING
    message = "log of softmax is unstable (log(0) = -inf); use `log_softmax`"
    fixable = True
    valid = ("import torch.nn.functional as F\ny = F.log_softmax(x, dim=1)\n",
             "import torch\ny = torch.log(x)\n")
    invalid = (
        Invalid("import torch\nimport torch.nn.functional as F\ny = torch.log(F.softmax(x, dim=1))\n",
                "import torch\nimport torch.nn.functional as F\ny = F.log_softmax(x, dim=1)\n"),
        Invalid("import torch\ny = torch.softmax(x, -1).log()\n", "import torch\ny = torch.log_softmax(x, -1)\n"),
    )

    _SOFTMAX = {"torch.nn.functional.softmax", "torch.softmax"}

    def _fix_for(self, outer: cst.Call, softmax: cst.Call) -> None:
        func = softmax.func
        if isinstance(func, cst.Attribute):
            new_func = func.with_changes(attr=cst.Name("log_softmax"))
        elif isinstance(func, cst.Name):
            return self.report(outer)  # `from torch.nn.functional import softmax`: no spelling to reuse
        else:
            return None
        replacement = softmax.with_changes(func=new_func)
        self.report(outer, fix=PendingFix("Use `log_softmax`", (self.replace(outer, self.ctx.code(replacement)),)))

    def visit_Call(self, node: cst.Call) -> None:
        callee = self.ctx.callee(node)
        if callee == "torch.log" and len(node.args) == 1 and isinstance(node.args[0].value, cst.Call):
            inner = node.args[0].value
            if self.ctx.callee(inner) in self._SOFTMAX:
                self._fix_for(node, inner)
        elif (isinstance(node.func, cst.Attribute) and node.func.attr.value == "log" and not node.args
              and isinstance(node.func.value, cst.Call) and self.ctx.callee(node.func.value) in self._SOFTMAX):
            self._fix_for(node, node.func.value)
