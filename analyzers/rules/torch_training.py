"""PyTorch training-loop rules: gradients, autograd graphs and device moves."""

from __future__ import annotations

import libcst as cst

from ..findings import Severity
from ..rule import STATEMENT_SCOPE, Invalid, PendingFix, Rule
from ..flow import ModuleIndex, scope_nodes
from ._calls import is_constant, method_name, receiver

_TENSOR_FACTORIES = {
    f"torch.{name}" for name in (
        "tensor", "as_tensor", "from_numpy", "Tensor", "FloatTensor", "LongTensor", "randn", "rand", "randint",
        "zeros", "ones", "empty", "full", "arange", "linspace", "eye", "stack", "cat", "randn_like", "rand_like",
        "zeros_like", "ones_like", "empty_like", "full_like", "randperm", "normal",
    )
}
_MOVES = {"to", "cuda", "cpu", "half", "float", "double", "bfloat16", "long", "int", "bool"}


def is_optimizer(ctx, node: cst.BaseExpression) -> bool:
    meaning = ctx.binding_of(node)
    if meaning:
        return (meaning.startswith("torch.optim.") and ".lr_scheduler." not in meaning) or "GradScaler" in meaning
    if isinstance(node, cst.Name):
        name = node.value.lower()
        return name in ("opt", "optim", "optimizer", "optimiser") or name.endswith(("optimizer", "_opt"))
    if isinstance(node, cst.Attribute):
        return node.attr.value.lower() in ("opt", "optim", "optimizer", "optimiser")
    return False


class TensorMoveDiscarded(Rule):
    """## What it does
    Flags `x.to(device)`, `x.cuda()`, `x.float()` and similar on a tensor used as a statement on its own, where
    `x` is known to be a tensor: made by a tensor factory, or a batch tensor (unpacked from a `DataLoader`, from an
    iterable named like a loader, from a name like `batch`, or unpacked together with a name that the code
    reassigns with `.to()`/`.cuda()`).

    ## Why is this bad
    Unlike `nn.Module.to`, which moves a module in place, tensor conversions return a new tensor. As a bare
    statement the result is thrown away and `x` stays on the old device or dtype: the classic
    "expected all tensors to be on the same device" error, or silent CPU training.

    ## Example
    ```python
    x = torch.randn(8, 3)
    x.to(device)
    ```

    ## Use instead
    ```python
    x = torch.randn(8, 3)
    x = x.to(device)
    ```
    """

    code = "PT002"
    scope = STATEMENT_SCOPE
    name = "tensor-move-discarded"
    severity = Severity.ERROR
    message = "`{name}.{method}()` returns a new tensor; the result is discarded and `{name}` is unchanged"
    fixable = True
    valid = (
        "import torch\nx = torch.randn(2)\nx = x.to('cuda')\n",
        "import torch\nmodel = torch.nn.Linear(2, 2)\nmodel.to('cuda')\n",
        "import torch\ndef f(model):\n    model.cuda()\n",
        # modules move in place
        "import torch\nfor name, module in model.named_children():\n    module.to(device)\n",
    )
    invalid = (
        Invalid("import torch\nx = torch.randn(2)\nx.to('cuda')\n", "import torch\nx = torch.randn(2)\nx = x.to('cuda')\n"),
        Invalid(
            "import torch\nfrom torch.utils.data import DataLoader\nloader = DataLoader(ds)\n"
            "for images, labels in loader:\n    images.cuda()\n",
            "import torch\nfrom torch.utils.data import DataLoader\nloader = DataLoader(ds)\n"
            "for images, labels in loader:\n    images = images.cuda()\n",
        ),
        # a loader passed in: the sibling `inputs` is moved, `labels` is not
        Invalid(
            "import torch\ndef train(model, data, device):\n    for inputs, labels in data:\n"
            "        inputs = inputs.to(device)\n        labels.to(device)\n",
            "import torch\ndef train(model, data, device):\n    for inputs, labels in data:\n"
            "        inputs = inputs.to(device)\n        labels = labels.to(device)\n",
        ),
        Invalid(
            "import torch\ndef step(batch, device):\n    x, y = batch\n    x.to(device)\n",
            "import torch\ndef step(batch, device):\n    x, y = batch\n    x = x.to(device)\n",
        ),
    )

    def __init__(self, ctx):
        super().__init__(ctx)
        self.batch_names: set[str] = set()
        self.sibling_groups: list[list[str]] = []  # names unpacked together from one iterable or value
        self.moved: set[str] = set()  # names reassigned as `x = x.to(...)`

    def visit_For(self, node: cst.For) -> None:
        iterable = node.iter
        if isinstance(iterable, cst.Call) and self.ctx.callee(iterable) in ("enumerate", None) and iterable.args:
            if isinstance(iterable.func, cst.Name) and iterable.func.value in ("enumerate", "tqdm"):
                iterable = iterable.args[0].value
        names = _target_names(node.target)
        if self.ctx.binding_of(iterable) == "torch.utils.data.DataLoader" or _named_like(iterable, "loader"):
            self.batch_names.update(names)
        elif len(names) > 1:
            self.sibling_groups.append(names)

    def visit_Assign(self, node: cst.Assign) -> None:
        value = node.value
        for target in node.targets:
            names = _target_names(target.target)
            if isinstance(target.target, (cst.Tuple, cst.List)) and _named_like(value, "batch"):
                self.batch_names.update(names)
            elif (isinstance(target.target, cst.Name) and isinstance(value, cst.Call) and method_name(value) in _MOVES
                  and isinstance(receiver(value), cst.Name) and receiver(value).value == target.target.value):
                self.moved.add(target.target.value)

    def _is_batch_tensor(self, name: str) -> bool:
        # `.to()` and `.cuda()` are generic method names: a batch is a tensor only in a file that uses torch
        if not self.ctx.imports.imports_framework("torch"):
            return False
        return name in self.batch_names or any(
            name in group and any(other in self.moved for other in group if other != name)
            for group in self.sibling_groups)

    def visit_Expr(self, node: cst.Expr) -> None:
        call = node.value
        if not isinstance(call, cst.Call) or method_name(call) not in _MOVES:
            return
        target = receiver(call)
        if not isinstance(target, cst.Name):
            return
        if self.ctx.binding_of(target) not in _TENSOR_FACTORIES and not self._is_batch_tensor(target.value):
            return
        if method_name(call) == "to" and not call.args:
            return
        name, method = target.value, method_name(call)
        fix = PendingFix(f"Assign the result back to `{name}`", (self.replace(call, f"{name} = {self.ctx.code(call)}"),))
        self.report(call, self.message.format(name=name, method=method), fix)


def _named_like(node: cst.BaseExpression, word: str) -> bool:
    """``train_loader``, ``self.val_loader``, ``batch``: a name or attribute whose last identifier contains ``word``."""
    if isinstance(node, cst.Attribute):
        node = node.attr
    return isinstance(node, cst.Name) and word in node.value.lower()


def _target_names(target: cst.BaseExpression) -> list[str]:
    if isinstance(target, cst.Name):
        return [target.value]
    if isinstance(target, (cst.Tuple, cst.List)):
        names = []
        for element in target.elements:
            names.extend(_target_names(element.value))
        return names
    return []


def clears_gradients(node: cst.CSTNode) -> bool:
    """``optimizer.zero_grad()``, ``model.zero_grad()``, ``p.grad.zero_()``, ``p.grad.data.zero_()``,
    ``p.grad = None``."""
    if isinstance(node, cst.Assign):
        return is_constant(node.value, "None") and any(
            isinstance(t.target, cst.Attribute) and t.target.attr.value == "grad" for t in node.targets)
    if not isinstance(node, cst.Call):
        return False
    method = method_name(node)
    if method == "zero_grad":
        return True
    if method == "zero_":
        target = receiver(node)
        if isinstance(target, cst.Attribute) and target.attr.value == "data":
            target = target.value
        return isinstance(target, cst.Attribute) and target.attr.value == "grad"
    return False


class MissingZeroGrad(Rule):
    """## What it does
    Flags a loop that calls `backward()` and `optimizer.step()` but never clears gradients in that loop or a loop
    around it: no `zero_grad()`, no `p.grad = None` or `p.grad.zero_()`, directly or through the file's own
    functions and methods (`reset_grad()` that calls `optimizer.zero_grad()`). A loop that hands the optimizer to
    code in another file, which may clear it, is not flagged.

    ## Why is this bad
    PyTorch accumulates gradients into `.grad` on every `backward()`. Without `zero_grad()` each step uses the
    sum of all previous gradients: training diverges or crawls, with no error.

    ## Example
    ```python
    for x, y in loader:
        loss = criterion(model(x), y)
        loss.backward()
        optimizer.step()
    ```

    ## Use instead
    ```python
    for x, y in loader:
        optimizer.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        optimizer.step()
    ```
    """

    code = "PT004"
    name = "missing-zero-grad"
    severity = Severity.ERROR
    message = "`step()` runs in a loop that never calls `zero_grad()`: gradients accumulate across iterations"
    # recognises optimizers by name too, so a training loop in a file that imports nothing from torch counts;
    # it needs a `.step()` call, though
    needs_frameworks = frozenset()
    needs_any_of = ("step",)
    valid = (
        "import torch\nopt = torch.optim.SGD(p, lr=0.1)\nfor x in data:\n    opt.zero_grad()\n"
        "    loss = f(x)\n    loss.backward()\n    opt.step()\n",
        "import torch\nopt = torch.optim.SGD(p, lr=0.1)\nfor epoch in range(3):\n    opt.zero_grad()\n"
        "    for x in data:\n        f(x).backward()\n    opt.step()\n",
        "import torch\nfor x in data:\n    f(x).backward()\n",
        "import torch\nsched = torch.optim.lr_scheduler.StepLR(opt, 1)\nfor e in range(3):\n    sched.step()\n",
        # gradients cleared through a helper of the same file
        "import torch\nopt = torch.optim.SGD(p, lr=0.1)\ndef reset_grad():\n    opt.zero_grad()\n"
        "for x in data:\n    f(x).backward()\n    opt.step()\n    reset_grad()\n",
        "import torch\nclass Trainer:\n    def clear(self):\n        for p in self.params:\n            p.grad = None\n"
        "    def fit(self, data):\n        for x in data:\n            self.clear()\n            f(x).backward()\n"
        "            self.optimizer.step()\n",
        # the optimizer goes to code in another file, which may clear it
        "import torch\nfrom utils import step_schedule\nfor x in data:\n    f(x).backward()\n    optimizer.step()\n"
        "    step_schedule(optimizer, x)\n",
    )
    invalid = (
        Invalid("import torch\nopt = torch.optim.Adam(model.parameters())\nfor x, y in loader:\n"
                "    loss = crit(model(x), y)\n    loss.backward()\n    opt.step()\n"),
        Invalid("import torch\nwhile True:\n    loss.backward()\n    optimizer.step()\n"),
        # a helper of the same file that does not clear anything
        Invalid("import torch\ndef log(loss):\n    print(loss.item())\nfor x in data:\n    loss = f(x)\n"
                "    loss.backward()\n    optimizer.step()\n    log(loss)\n"),
    )

    carries = ()  # the loop tables below are emptied when the outermost loop ends

    def __init__(self, ctx):
        super().__init__(ctx)
        # per loop node: [has_backward, step call or None, has_zero_grad]
        self.loops: dict[cst.CSTNode, list] = {}
        self.parents: dict[cst.CSTNode, cst.CSTNode | None] = {}
        self._index: ModuleIndex | None = None  # built on the first loop that looks uncleared

    def _clears_elsewhere(self, loop: cst.CSTNode, step: cst.Call) -> bool:
        """Whether the loop clears gradients through a call: into the module's own functions that clear them,
        or into code of another file that receives the optimizer."""
        self.reads_other_statements()
        if self._index is None:
            self._index = ModuleIndex(self.ctx.module)
        index, cls = self._index, self.ctx.enclosing_class()
        optimizer = self.ctx.code(receiver(step))
        for node in scope_nodes(loop):
            if not isinstance(node, cst.Call) or node is step:
                continue
            callees = index.callees(node, cls)
            if any(index.reaches(function, "clears-grad", clears_gradients) for function in callees):
                return True
            if (not callees and self.ctx.framework(node.func) is None
                    and any(self.ctx.code(arg.value) == optimizer for arg in node.args)):
                return True
        return False

    def _enter(self, node: cst.CSTNode) -> None:
        self.parents[node] = self.ctx.loop_stack[-2] if len(self.ctx.loop_stack) > 1 else None
        self.loops[node] = [False, None, False]

    visit_For = _enter
    visit_While = _enter

    def visit_Call(self, node: cst.Call) -> None:
        if not self.ctx.loop_stack:
            return
        method = method_name(node)
        loop = self.loops.get(self.ctx.loop_stack[-1])
        if loop is None:
            return
        if method == "backward":
            for enclosing in self.ctx.loop_stack:
                self.loops[enclosing][0] = True
        elif method == "step" and is_optimizer(self.ctx, receiver(node)):
            loop[1] = loop[1] or node
        elif clears_gradients(node):
            for enclosing in self.ctx.loop_stack:
                self.loops[enclosing][2] = True

    def visit_Assign(self, node: cst.Assign) -> None:
        # `p.grad = None` clears a gradient as `zero_grad(set_to_none=True)` does
        if self.ctx.loop_stack and clears_gradients(node):
            for enclosing in self.ctx.loop_stack:
                self.loops[enclosing][2] = True

    def _leave(self, node: cst.CSTNode) -> None:
        if self.parents.get(node) is not None:
            return
        # outermost loop finished: every nested loop's facts are known
        for loop, (has_backward, step, has_zero) in self.loops.items():
            if not has_backward or step is None:
                continue
            cleared, around = has_zero, loop
            while not cleared and around is not None:
                cleared = self.loops[around][2] or self._clears_elsewhere(around, step)
                around = self.parents.get(around)
            if not cleared:
                self.report(step)
        self.loops.clear()
        self.parents.clear()

    leave_For = _leave
    leave_While = _leave


_LOSS_FUNCTIONS = {
    f"torch.nn.functional.{name}" for name in (
        "cross_entropy", "nll_loss", "mse_loss", "l1_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits",
        "smooth_l1_loss", "huber_loss", "kl_div", "cosine_embedding_loss", "ctc_loss", "margin_ranking_loss",
    )
}


def _is_loss_value(meaning: str | None) -> bool:
    if not meaning:
        return False
    if meaning in _LOSS_FUNCTIONS:
        return True
    return meaning.startswith("torch.nn.") and meaning.endswith("Loss()")


class LossAccumulatedWithGraph(Rule):
    """## What it does
    Flags `total += loss` inside a loop when `loss` is the tensor a loss function returned.

    ## Why is this bad
    The running sum keeps a reference to every iteration's autograd graph: memory grows each step until the
    epoch ends (or the GPU runs out), and the number you log is a tensor, not a float.

    ## Example
    ```python
    total = 0.0
    for x, y in loader:
        loss = criterion(model(x), y)
        loss.backward()
        total += loss
    ```

    ## Use instead
    ```python
    total = 0.0
    for x, y in loader:
        loss = criterion(model(x), y)
        loss.backward()
        total += loss.item()
    ```

    The fix is safe when the accumulator starts as a number and is never used as a tensor; otherwise it is
    offered in the editor only. Summing losses on purpose before one `backward()` (gradient accumulation) is
    not flagged.
    """

    code = "PT005"
    name = "loss-accumulated-with-graph"
    severity = Severity.WARNING
    message = "`{total} += {loss}` keeps every iteration's autograd graph alive; accumulate `{loss}.item()`"
    fixable = True
    valid = (
        "import torch\ncrit = torch.nn.CrossEntropyLoss()\ntotal = 0.0\nfor x, y in data:\n"
        "    loss = crit(x, y)\n    total += loss.item()\n",
        "import torch\ncrit = torch.nn.MSELoss()\nacc = 0\nfor x, y in data:\n    loss = crit(x, y)\n"
        "    acc += loss\nacc.backward()\n",
    )
    invalid = (
        Invalid(
            "import torch\ncrit = torch.nn.CrossEntropyLoss()\ntotal = 0.0\nfor x, y in data:\n"
            "    loss = crit(x, y)\n    loss.backward()\n    total += loss\n",
            "import torch\ncrit = torch.nn.CrossEntropyLoss()\ntotal = 0.0\nfor x, y in data:\n"
            "    loss = crit(x, y)\n    loss.backward()\n    total += loss.item()\n",
        ),
        Invalid(
            "import torch.nn.functional as F\ndef train(data, total):\n    for x, y in data:\n"
            "        loss = F.mse_loss(x, y)\n        total += loss\n    return total\n",
        ),
    )

    # module-level code's scope, judged when the walk leaves the module
    accumulates = ("module_candidates",)
    carries = ("module_numeric", "module_tensor_use")

    def __init__(self, ctx):
        super().__init__(ctx)
        self.scopes: list[dict] = [self._new_scope()]

    @property
    def module_candidates(self) -> list[cst.AugAssign]:
        return self.scopes[0]["candidates"]

    @property
    def module_numeric(self) -> set[str]:
        return self.scopes[0]["numeric"]

    @module_numeric.setter
    def module_numeric(self, names: set[str]) -> None:
        self.scopes[0]["numeric"] = names

    @property
    def module_tensor_use(self) -> set[str]:
        return self.scopes[0]["tensor_use"]

    @module_tensor_use.setter
    def module_tensor_use(self, names: set[str]) -> None:
        self.scopes[0]["tensor_use"] = names

    @staticmethod
    def _new_scope() -> dict:
        return {"candidates": [], "numeric": set(), "tensor_use": set()}

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.scopes.append(self._new_scope())

    def visit_Assign(self, node: cst.Assign) -> None:
        if isinstance(node.value, (cst.Integer, cst.Float)):
            for target in node.targets:
                if isinstance(target.target, cst.Name):
                    self.scopes[-1]["numeric"].add(target.target.value)

    def visit_Attribute(self, node: cst.Attribute) -> None:
        if isinstance(node.value, cst.Name):
            self.scopes[-1]["tensor_use"].add(node.value.value)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        if not self.ctx.loop_stack or not isinstance(node.operator, cst.AddAssign):
            return
        if not isinstance(node.target, cst.Name) or not isinstance(node.value, cst.Name):
            return
        if _is_loss_value(self.ctx.binding_of(node.value)):
            self.scopes[-1]["candidates"].append(node)

    def _finish(self) -> None:
        scope = self.scopes.pop()
        for node in scope["candidates"]:
            total, loss = node.target.value, node.value.value
            if total in scope["tensor_use"]:
                continue  # the sum is used as a tensor (e.g. `total.backward()`): accumulation on purpose
            safe = total in scope["numeric"]
            fix = PendingFix(f"Accumulate `{loss}.item()`", (self.replace(node.value, f"{loss}.item()"),), safe=safe)
            self.report(node, self.message.format(total=total, loss=loss), fix)

    def leave_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._finish()

    def leave_Module(self, node: cst.Module) -> None:
        self._finish()


_NO_GRAD = {"torch.no_grad", "torch.inference_mode", "torch.autograd.no_grad", "torch.autograd.grad_mode.no_grad"}


class BackwardUnderNoGrad(Rule):
    """## What it does
    Flags `backward()` called inside `with torch.no_grad():` or `with torch.inference_mode():`.

    ## Why is this bad
    No graph is recorded under these contexts, so the loss has no `grad_fn`: `backward()` raises
    "element 0 of tensors does not require grad", or, when part of the graph was built outside, silently
    computes gradients for only that part.

    ## Example
    ```python
    with torch.no_grad():
        loss = criterion(model(x), y)
        loss.backward()
    ```

    ## Use instead
    ```python
    loss = criterion(model(x), y)
    loss.backward()
    ```
    """

    code = "PT012"
    scope = STATEMENT_SCOPE
    name = "backward-under-no-grad"
    severity = Severity.ERROR
    message = "`backward()` inside `{context}`: no autograd graph is recorded here"
    valid = (
        "import torch\nwith torch.no_grad():\n    y = model(x)\nloss.backward()\n",
        "import torch\nwith torch.enable_grad():\n    loss.backward()\n",
    )
    invalid = (
        Invalid("import torch\nwith torch.no_grad():\n    loss = crit(model(x), y)\n    loss.backward()\n"),
        Invalid("from torch import inference_mode\nwith inference_mode():\n    model(x).sum().backward()\n"),
    )

    def visit_Call(self, node: cst.Call) -> None:
        if method_name(node) != "backward":
            return
        for with_node in self.ctx.withs_in_function():
            for item in with_node.items:
                expr = item.item
                if isinstance(expr, cst.Call) and self.ctx.callee(expr) in _NO_GRAD:
                    self.report(node, self.message.format(context=self.ctx.code(expr)))
                    return
