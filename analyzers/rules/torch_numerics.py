"""PyTorch numerics rules: softmax placement and numerically stable forms."""

from __future__ import annotations

import libcst as cst

from ..findings import Severity
from ..rule import STATEMENT_SCOPE, Invalid, PendingFix, Rule
from ._calls import keyword, positional
from .final_activation import FinalActivationRule

# log_softmax is not among them: CrossEntropyLoss of log-probabilities equals that of the logits
# (log_softmax(log_softmax(x)) == log_softmax(x)), so it wastes work but trains the same
_SOFTMAX_LAYERS = frozenset({"torch.nn.Softmax"})
_SOFTMAX_FUNCTIONS = frozenset({"torch.nn.functional.softmax", "torch.softmax", "torch.special.softmax"})
_CROSS_ENTROPY = frozenset({"torch.nn.CrossEntropyLoss", "torch.nn.functional.cross_entropy"})


class DoubleSoftmax(FinalActivationRule):
    """## What it does
    Flags a softmax whose output reaches the input of `CrossEntropyLoss`/`F.cross_entropy`: a model that ends in
    `nn.Softmax` (the last layer of `nn.Sequential`) or whose `forward` returns `F.softmax(...)`, followed through
    locals, tuple returns, `self.` attributes and the file's own `nn.Module` classes to the loss call. A model the
    path cannot follow (passed in as a parameter, built by code in another file) is not flagged, nor a softmax
    that never reaches the loss (attention weights, gates).

    ## Why is this bad
    `CrossEntropyLoss` applies `log_softmax` itself and expects raw logits. Feeding it probabilities applies
    softmax twice: gradients shrink, training stalls at a poor accuracy, and nothing raises an error.

    ## Example
    ```python
    model = nn.Sequential(nn.Linear(784, 10), nn.Softmax(dim=1))
    criterion = nn.CrossEntropyLoss()
    loss = criterion(model(x), y)
    ```

    ## Use instead
    ```python
    model = nn.Sequential(nn.Linear(784, 10))
    criterion = nn.CrossEntropyLoss()  # apply softmax only when you need probabilities at inference
    loss = criterion(model(x), y)
    ```
    """

    code = "PT001"
    name = "double-softmax-cross-entropy"
    severity = Severity.WARNING
    message = "Softmax output fed to CrossEntropyLoss, which applies log_softmax itself: return logits instead"
    needs_any_of = ("CrossEntropyLoss", "cross_entropy")
    valid = (
        "import torch.nn as nn\nmodel = nn.Sequential(nn.Linear(4, 3))\ncrit = nn.CrossEntropyLoss()\n"
        "loss = crit(model(x), y)\n",
        "import torch.nn as nn\nmodel = nn.Sequential(nn.Linear(4, 3), nn.Softmax(dim=1))\ncrit = nn.NLLLoss()\n"
        "loss = crit(model(x), y)\n",
        "import torch.nn as nn\nclass Attn(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
        "        self.weights = nn.Sequential(nn.Linear(4, 4), nn.Softmax(dim=-1))\n"
        "    def forward(self, x):\n        return x * self.weights(x)\ncrit = nn.CrossEntropyLoss()\n"
        "loss = crit(Attn()(x), y)\n",
        # softmax attention weights in a file that also trains a classifier: they never reach the loss
        "import torch\nimport torch.nn as nn\nclass Attention(nn.Module):\n    def __init__(self, n):\n"
        "        super().__init__()\n        self.v = nn.Linear(n, 1)\n    def forward(self, h):\n"
        "        return torch.softmax(self.v(h).squeeze(2), dim=1)\nclass Net(nn.Module):\n"
        "    def __init__(self):\n        super().__init__()\n        self.attn = Attention(8)\n"
        "        self.out = nn.Linear(8, 3)\n    def forward(self, h):\n        w = self.attn(h)\n"
        "        return self.out(torch.bmm(w.unsqueeze(1), h).squeeze(1))\n"
        "model = Net()\ncriterion = nn.CrossEntropyLoss()\nloss = criterion(model(h), y)\n",
        # the model comes from elsewhere: nothing proves what it returns
        "import torch.nn as nn\ndef train(model, x, y):\n    return nn.CrossEntropyLoss()(model(x), y)\n",
        # log_softmax before CrossEntropyLoss is redundant but trains the same (log_softmax is idempotent)
        "import torch.nn as nn\nmodel = nn.Sequential(nn.Linear(4, 3), nn.LogSoftmax(dim=1))\n"
        "loss = nn.CrossEntropyLoss()(model(x), y)\n",
    )
    invalid = (
        Invalid("import torch.nn as nn\nmodel = nn.Sequential(nn.Linear(4, 3), nn.Softmax(dim=1))\n"
                "crit = nn.CrossEntropyLoss()\nfor x, y in loader:\n    loss = crit(model(x), y)\n"),
        Invalid("import torch.nn as nn\nimport torch.nn.functional as F\nclass Net(nn.Module):\n"
                "    def forward(self, x):\n        return F.softmax(self.fc(x), dim=1)\n"
                "loss = F.cross_entropy(Net()(x), y)\n"),
        Invalid("import torch.nn as nn\nclass Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
                "        self.head = nn.Sequential(nn.Linear(4, 3), nn.Softmax(dim=1))\n"
                "    def forward(self, x):\n        return self.head(x)\ncrit = nn.CrossEntropyLoss()\n"
                "def train(x, y):\n    model = Net().to('cpu')\n    out = model(x)\n    return crit(out, y)\n"),
        # the GAN discriminators of PyTorch-GAN: an auxiliary classifier ending in nn.Softmax, returned as the
        # second element of a tuple and fed to CrossEntropyLoss
        Invalid("import torch.nn as nn\nclass Discriminator(nn.Module):\n    def __init__(self):\n"
                "        super().__init__()\n        self.adv_layer = nn.Sequential(nn.Linear(128, 1), nn.Sigmoid())\n"
                "        self.output_layer = nn.Sequential(nn.Linear(128, 10), nn.Softmax())\n"
                "    def forward(self, x):\n        validity = self.adv_layer(x)\n"
                "        label = self.output_layer(x)\n        return validity, label\n"
                "discriminator = Discriminator()\nauxiliary_loss = nn.CrossEntropyLoss()\n"
                "for imgs, labels in loader:\n    real_pred, real_aux = discriminator(imgs)\n"
                "    d_loss = auxiliary_loss(real_aux, labels)\n"),
        Invalid("import torch\nimport torch.nn as nn\nclass Classifier(nn.Module):\n    def __init__(self):\n"
                "        super().__init__()\n        self.output_layer = nn.Sequential(nn.Linear(512, 10), nn.Softmax())\n"
                "    def forward(self, x):\n        label = self.output_layer(x)\n        return label\n"
                "classifier = Classifier()\ntask_loss = torch.nn.CrossEntropyLoss()\n"
                "loss = task_loss(classifier(imgs), labels)\n"),
    )

    final_layers = _SOFTMAX_LAYERS
    final_functions = _SOFTMAX_FUNCTIONS
    method_names = frozenset({"softmax"})
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
