"""PyTorch module-definition rules: registration, construction and train/eval behaviour."""

from __future__ import annotations

import libcst as cst

from ..context import TORCH_MODULE
from ..findings import Severity
from ..flow import is_guarded, is_self_attribute
from ..rule import STATEMENT_SCOPE, Invalid, PendingEdit, PendingFix, Rule
from ..traversal import first_node
from ._calls import class_methods, keyword, positional, self_method_calls, with_keyword


def _is_module_constructor(ctx, node: cst.BaseExpression) -> bool:
    if not isinstance(node, cst.Call):
        return False
    callee = ctx.callee(node)
    if callee is not None:
        last = callee.rsplit(".", 1)[-1]
        return callee.startswith("torch.nn.") and last[:1].isupper() and callee != "torch.nn.Parameter"
    return isinstance(node.func, cst.Name) and ctx.class_kind(node.func.value) == TORCH_MODULE


def _elements_are_modules(ctx, node: cst.BaseExpression) -> str | None:
    """"list" / "dict" when ``node`` is a list/tuple/dict display or comprehension of module constructors."""
    if isinstance(node, (cst.List, cst.Tuple)):
        values = [e.value for e in node.elements if isinstance(e, cst.Element)]
        if values and all(_is_module_constructor(ctx, v) for v in values):
            return "list"
    elif isinstance(node, cst.ListComp) and _is_module_constructor(ctx, node.elt):
        return "list"
    elif isinstance(node, cst.Dict):
        values = [e.value for e in node.elements if isinstance(e, cst.DictElement)]
        if values and all(_is_module_constructor(ctx, v) for v in values):
            return "dict"
    elif isinstance(node, cst.DictComp) and _is_module_constructor(ctx, node.value):
        return "dict"
    return None


class UnregisteredSubmodules(Rule):
    """## What it does
    Flags sub-modules stored in a plain `list`, `tuple` or `dict` attribute of an `nn.Module`.

    ## Why is this bad
    PyTorch registers only sub-modules assigned directly or held in `nn.ModuleList`/`nn.ModuleDict`. Modules in
    a plain container are invisible to `parameters()` (so the optimizer never trains them), to `.to(device)`,
    to `state_dict()` (so checkpoints silently miss them) and to `train()`/`eval()`.

    ## Example
    ```python
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.blocks = [nn.Linear(8, 8) for _ in range(4)]
    ```

    ## Use instead
    ```python
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.blocks = nn.ModuleList([nn.Linear(8, 8) for _ in range(4)])
    ```
    """

    code = "PT003"
    scope = STATEMENT_SCOPE
    name = "unregistered-submodules"
    severity = Severity.ERROR
    message = "Sub-modules in a plain {kind} are not registered: their parameters are not trained, moved or saved"
    fixable = True
    valid = (
        "import torch.nn as nn\nclass Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
        "        self.blocks = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])\n",
        "import torch.nn as nn\nclass Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
        "        self.sizes = [1, 2, 3]\n",
        "class Plain:\n    def __init__(self):\n        self.items = [dict(a=1)]\n",
        "import torch.nn as nn\nclass Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
        "        self.layers = [nn.ReLU(), nn.Linear(2, 2)]\n        for i, layer in enumerate(self.layers):\n"
        "            self.add_module(str(i), layer)\n",
    )
    invalid = (
        Invalid(
            "import torch.nn as nn\nclass Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
            "        self.blocks = [nn.Linear(2, 2) for _ in range(3)]\n",
            "import torch.nn as nn\nclass Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
            "        self.blocks = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])\n",
        ),
        Invalid(
            "from torch import nn\nclass Heads(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
            "        self.heads = {'a': nn.Linear(4, 1), 'b': nn.Linear(4, 2)}\n",
            "from torch import nn\nclass Heads(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
            "        self.heads = nn.ModuleDict({'a': nn.Linear(4, 1), 'b': nn.Linear(4, 2)})\n",
        ),
    )

    def visit_Assign(self, node: cst.Assign) -> None:
        if not self.ctx.in_method_of(TORCH_MODULE):
            return
        if not any(isinstance(t.target, cst.Attribute) and isinstance(t.target.value, cst.Name)
                   and t.target.value.value == "self" for t in node.targets):
            return
        kind = _elements_are_modules(self.ctx, node.value)
        if kind is None:
            return
        function = self.ctx.enclosing_function()
        if function is not None and self_method_calls(function.body) & {"add_module", "register_module"}:
            return  # registered by hand, e.g. `for i, layer in enumerate(self.layers): self.add_module(str(i), layer)`
        container = "torch.nn.ModuleList" if kind == "list" else "torch.nn.ModuleDict"
        spelling = self.ctx.spelling(container)
        fix = None
        if spelling is not None:
            value_code = self.ctx.code(node.value)
            if isinstance(node.value, cst.Tuple) and not node.value.lpar:
                value_code = f"({value_code})"
            if kind == "list" and isinstance(node.value, cst.Tuple):
                value_code = f"list({value_code})"
            fix = PendingFix(f"Wrap in `{spelling}`", (self.replace(node.value, f"{spelling}({value_code})"),))
        self.report(node.value, self.message.format(kind=kind), fix)


_DROPOUTS = {f"torch.nn.functional.{n}" for n in
             ("dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout", "feature_alpha_dropout")}


def _means_training(test: cst.BaseExpression) -> bool:
    """``self.training``, or a ``training`` flag the method was given."""
    return is_self_attribute(test, "training", "is_training") or (
        isinstance(test, cst.Name) and test.value in ("training", "is_training"))


class FunctionalDropoutAlwaysOn(Rule):
    """## What it does
    Flags `F.dropout(x, p)` inside an `nn.Module` method without `training=self.training`, unless the call
    only runs in training mode (`if self.training:`, `... if self.training else x`, or after
    `if not self.training: return x`).

    ## Why is this bad
    The functional form defaults to `training=True`; it does not know about `model.eval()`. Dropout then stays
    on at evaluation and inference time: noisy predictions and worse metrics with no error.

    ## Example
    ```python
    def forward(self, x):
        return F.dropout(self.fc(x), p=0.5)
    ```

    ## Use instead
    ```python
    def forward(self, x):
        return F.dropout(self.fc(x), p=0.5, training=self.training)
    ```
    """

    code = "PT007"
    scope = STATEMENT_SCOPE
    name = "functional-dropout-always-on"
    severity = Severity.ERROR
    message = "`{name}` defaults to training=True and ignores `model.eval()`; pass `training=self.training`"
    fixable = True
    valid = (
        "import torch.nn as nn\nimport torch.nn.functional as F\nclass Net(nn.Module):\n    def forward(self, x):\n"
        "        return F.dropout(x, 0.5, training=self.training)\n",
        "import torch.nn.functional as F\ndef augment(x):\n    return F.dropout(x, 0.1)\n",
        "import torch.nn as nn\nimport torch.nn.functional as F\nclass Net(nn.Module):\n    def forward(self, x):\n"
        "        if self.training:\n            x = F.dropout(x, p=0.2)\n        return x\n",
        "import torch.nn as nn\nimport torch.nn.functional as F\nclass Net(nn.Module):\n    def forward(self, x):\n"
        "        return F.dropout(x, 0.2) if self.training and self.p > 0 else x\n",
        "import torch.nn as nn\nimport torch.nn.functional as F\nclass Net(nn.Module):\n    def forward(self, x):\n"
        "        if not self.training:\n            return x\n        return F.dropout(x, 0.2)\n",
    )
    invalid = (
        Invalid(
            "import torch.nn as nn\nimport torch.nn.functional as F\nclass Net(nn.Module):\n    def forward(self, x):\n"
            "        return F.dropout(x, p=0.5)\n",
            "import torch.nn as nn\nimport torch.nn.functional as F\nclass Net(nn.Module):\n    def forward(self, x):\n"
            "        return F.dropout(x, p=0.5, training=self.training)\n",
        ),
        # the `else` branch of a training guard runs at evaluation time
        Invalid(
            "import torch.nn as nn\nimport torch.nn.functional as F\nclass Net(nn.Module):\n    def forward(self, x):\n"
            "        if self.training:\n            return x\n        else:\n            return F.dropout(x, 0.1)\n",
            "import torch.nn as nn\nimport torch.nn.functional as F\nclass Net(nn.Module):\n    def forward(self, x):\n"
            "        if self.training:\n            return x\n        else:\n            return F.dropout(x, 0.1, training=self.training)\n",
        ),
    )

    def visit_Call(self, node: cst.Call) -> None:
        callee = self.ctx.callee(node)
        if callee not in _DROPOUTS or not self.ctx.in_method_of(TORCH_MODULE):
            return
        if keyword(node, "training") is not None or len(positional(node)) >= 3 or any(a.star for a in node.args):
            return
        if is_guarded(self.ctx, node, _means_training):
            return
        function = self.ctx.enclosing_function()
        params = function.params.params if function is not None else ()
        fix = None
        if params and params[0].name.value == "self":
            fix = PendingFix("Pass `training=self.training`",
                             (self.replace(node, self.ctx.code(with_keyword(node, "training", "self.training"))),))
        self.report(node, self.message.format(name=self.ctx.code(node.func)), fix)


def _calls_super_init(body: cst.BaseSuite) -> bool:
    # a nested function's calls do not initialise this module
    return first_node(body, _is_init_call, skip=(cst.FunctionDef,)) is not None


def _is_init_call(node: cst.CSTNode) -> bool:
    return type(node) is cst.Call and type(node.func) is cst.Attribute and node.func.attr.value == "__init__"


class ModuleInitWithoutSuper(Rule):
    """## What it does
    Flags an `nn.Module` subclass whose `__init__` never calls `super().__init__()`.

    ## Why is this bad
    `nn.Module.__init__` creates the dictionaries that hold parameters, buffers and sub-modules. Without it the
    first `self.layer = nn.Linear(...)` raises "cannot assign module before Module.__init__() call".

    ## Example
    ```python
    class Net(nn.Module):
        def __init__(self):
            self.fc = nn.Linear(4, 2)
    ```

    ## Use instead
    ```python
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 2)
    ```
    """

    code = "PT009"
    scope = STATEMENT_SCOPE
    name = "module-init-without-super"
    severity = Severity.ERROR
    message = "`{cls}.__init__` does not call `super().__init__()`: assigning sub-modules or parameters will fail"
    fixable = True
    valid = (
        "import torch.nn as nn\nclass Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
        "        self.fc = nn.Linear(4, 2)\n",
        "import torch.nn as nn\nclass Net(nn.Module):\n    def __init__(self):\n        nn.Module.__init__(self)\n",
        "class Plain:\n    def __init__(self):\n        self.x = 1\n",
        "import torch.nn as nn\nclass E(nn.Embedding):\n    def __init__(self, n, d):\n        self.make(n, d)\n"
        "    def make(self, n, d):\n        super().__init__(n, d)\n",
    )
    invalid = (
        Invalid(
            "import torch.nn as nn\nclass Net(nn.Module):\n    def __init__(self, n):\n        self.fc = nn.Linear(n, 2)\n",
            "import torch.nn as nn\nclass Net(nn.Module):\n    def __init__(self, n):\n        super().__init__()\n"
            "        self.fc = nn.Linear(n, 2)\n",
        ),
        Invalid(
            "import torch\nclass Net(torch.nn.Module):\n    def __init__(self):\n        \"\"\"Doc.\"\"\"\n"
            "        self.w = 1\n",
            "import torch\nclass Net(torch.nn.Module):\n    def __init__(self):\n        \"\"\"Doc.\"\"\"\n"
            "        super().__init__()\n        self.w = 1\n",
        ),
    )

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        if node.name.value != "__init__" or len(self.ctx.function_stack) != 1:
            return
        cls = self.ctx.enclosing_class()
        if cls is None or self.ctx.kind_of_classdef(cls) != TORCH_MODULE:
            return
        if _calls_super_init(node.body):
            return
        methods = class_methods(cls)
        if any(name in methods and _calls_super_init(methods[name].body) for name in self_method_calls(node.body)):
            return  # initialised through a helper method, e.g. `self.make_weight(...)` calling `super().__init__`
        fix = None
        statements = node.body.body if isinstance(node.body, cst.IndentedBlock) else ()
        if statements:
            first = statements[0]
            if _is_docstring(first) and len(statements) > 1:
                first = statements[1]
            if not (_is_docstring(first) and first is statements[-1]):
                fix = PendingFix("Call `super().__init__()` first",
                                 (PendingEdit(first, "super().__init__()", "insert_line_before"),))
        self.report(node.name, self.message.format(cls=cls.name.value), fix)


def _is_docstring(statement: cst.CSTNode) -> bool:
    return (isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1
            and isinstance(statement.body[0], cst.Expr)
            and isinstance(statement.body[0].value, (cst.SimpleString, cst.ConcatenatedString)))


class RequireGradTypo(Rule):
    """## What it does
    Flags assignments to `.require_grad` (missing "s") on tensors and parameters.

    ## Why is this bad
    Python happily creates a new attribute named `require_grad`; the tensor's real `requires_grad` flag is
    unchanged, so layers meant to be frozen keep training (or the reverse).

    ## Example
    ```python
    for p in model.backbone.parameters():
        p.require_grad = False
    ```

    ## Use instead
    ```python
    for p in model.backbone.parameters():
        p.requires_grad = False
    ```
    """

    code = "PT011"
    scope = STATEMENT_SCOPE
    name = "require-grad-typo"
    severity = Severity.ERROR
    message = "`require_grad` is a typo: this sets a new attribute and leaves `requires_grad` unchanged"
    fixable = True
    valid = ("import torch\nfor p in model.parameters():\n    p.requires_grad = False\n",)
    invalid = (
        Invalid("import torch\nfor p in model.parameters():\n    p.require_grad = False\n",
                "import torch\nfor p in model.parameters():\n    p.requires_grad = False\n"),
    )

    def visit_Assign(self, node: cst.Assign) -> None:
        if not self.ctx.imports.imports_framework("torch"):
            return
        for target in node.targets:
            if isinstance(target.target, cst.Attribute) and target.target.attr.value == "require_grad":
                attr = target.target.attr
                self.report(attr, fix=PendingFix("Rename to `requires_grad`", (self.replace(attr, "requires_grad"),)))

