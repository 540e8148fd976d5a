"""PyTorch training/evaluation flow rules: what happens across the statements of one function or loop."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import libcst as cst

from ..findings import Severity
from ..flow import ModuleIndex, ValueTracer, Where, scope_nodes
from ..traversal import nodes_of_type
from ..rule import STATEMENT_SCOPE, Invalid, PendingFix, Rule
from ._calls import argument, is_constant, method_name, positional, receiver, receiver_key
from .torch_training import is_optimizer

_GRAD_DISABLING = {"torch.no_grad", "torch.inference_mode", "torch.autograd.no_grad",
                   "torch.autograd.grad_mode.no_grad", "torch.autograd.grad_mode.inference_mode"}


@dataclass
class _Event:
    kind: str  # "eval" | "train" | "backward" | "zero_grad" | "step" | "call" | "optimizer" | "move"
    key: str | None
    node: cst.CSTNode
    loops: tuple  # enclosing loops inside the current function, outermost first
    guarded: bool = False  # inside a no_grad/inference_mode block


@dataclass
class _FunctionEvents:
    node: cst.CSTNode | None
    events: list[_Event] = field(default_factory=list)


class _FlowRule(Rule):
    """Collects the training-relevant calls of each function in source order, then judges the function as a whole."""

    accumulates = ("module_events",)

    def __init__(self, ctx):
        super().__init__(ctx)
        self.frames: list[_FunctionEvents] = [_FunctionEvents(None)]
        self.loop_depths: list[int] = [0]

    @property
    def module_events(self) -> list[_Event]:
        """The events of module-level code: judged when the walk leaves the module."""
        return self.frames[0].events

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.frames.append(_FunctionEvents(node))
        self.loop_depths.append(len(self.ctx.loop_stack))

    def leave_FunctionDef(self, node: cst.FunctionDef) -> None:
        frame = self.frames.pop()
        self.loop_depths.pop()
        if self._is_torch_module():
            self.judge(frame)

    def leave_Module(self, node: cst.Module) -> None:
        if self._is_torch_module():
            self.judge(self.frames[0])

    def _is_torch_module(self) -> bool:
        # method names alone (`backward`, `step`, `eval`) are not PyTorch's; the module must use torch
        return self.ctx.imports.imports_framework("torch")

    def _loops(self) -> tuple:
        return tuple(self.ctx.loop_stack[self.loop_depths[-1]:])

    def record(self, kind: str, key: str | None, node: cst.CSTNode, guarded: bool = False) -> None:
        self.frames[-1].events.append(_Event(kind, key, node, self._loops(), guarded))

    def judge(self, frame: _FunctionEvents) -> None:  # pragma: no cover - every subclass overrides it
        raise NotImplementedError


_CHAINABLE = {"to", "cuda", "cpu", "float", "half", "double", "bfloat16", "train", "eval", "requires_grad_"}


def _model_key(node: cst.BaseExpression | None) -> str | None:
    """``model`` for ``model``, ``self.model``, and through module-returning chains: ``model.to(device).train()``."""
    while isinstance(node, cst.Call) and method_name(node) in _CHAINABLE:
        node = receiver(node)
    return receiver_key(node)


def _train_mode(call: cst.Call) -> str | None:
    """"eval" / "train" for ``m.eval()``, ``m.train()``, ``m.train(False)``; None otherwise."""
    method = method_name(call)
    if method == "eval" and not call.args:
        return "eval"
    if method == "train":
        args = positional(call)
        if not call.args:
            return "train"
        if len(call.args) == 1 and args:
            if is_constant(args[0].value, "False"):
                return "eval"
            if is_constant(args[0].value, "True"):
                return "train"
    return None


_MODEL_WORDS = re.compile(r"(?:^|_)(?:model|net|network|classifier|encoder|decoder|generator|discriminator|"
                          r"backbone)s?(?:$|_)|^net[A-Z_]|^[a-z]*net$")


def is_evaluation_function(name: str, path: str = "") -> bool:
    """``evaluate``, ``validate``, ``test``, ``val_epoch``, ``run_validation``: a function that evaluates a model.
    Test code is not: pytest's ``test_*`` functions, helpers like ``run_backbone_test``, and whatever a test
    file (``test_*.py``, ``*_test.py``, a ``tests/`` folder) defines."""
    file_name = path.replace("\\", "/").rsplit("/", 1)[-1]
    if file_name.startswith("test_") or file_name.endswith("_test.py") or "/tests/" in path.replace("\\", "/"):
        return False
    name = name.lower().strip("_")
    if name == "test":  # pytorch/examples' `def test(model, device, test_loader)`
        return True
    return "test" not in name.split("_") and any(
        word in ("eval", "evaluate", "evaluation", "val", "validate", "validation", "valid", "inference")
        for word in name.split("_"))


def _looks_like_model(key: str) -> bool:
    return bool(_MODEL_WORDS.search(key.rsplit(".", 1)[-1]))


def _parameters_of(node: cst.CSTNode) -> set[str]:
    """Receivers whose ``.parameters()`` appear in an expression (``model`` for ``model.parameters()``)."""
    found: set[str] = set()
    for call in nodes_of_type(node, cst.Call):
        if method_name(call) in ("parameters", "named_parameters"):
            key = receiver_key(receiver(call))
            if key:
                found.add(key)
    return found


class EvalModeDuringTraining(_FlowRule):
    """## What it does
    Flags `backward()` that runs while a model that is being trained is still in `eval()` mode: after
    `model.eval()` with no `model.train()` in between, or in a loop that calls `model.eval()` (for validation)
    but never switches back with `model.train()` inside the loop.

    ## Why is this bad
    `eval()` turns off dropout and makes batch normalisation use (and stop updating) its running statistics.
    Training in eval mode after the first validation pass silently changes the model being trained: it
    overfits faster and batch-norm statistics freeze at their first-epoch values.

    ## Example
    ```python
    model.train()
    for epoch in range(epochs):
        for x, y in loader:
            optimizer.zero_grad()
            criterion(model(x), y).backward()
            optimizer.step()
        model.eval()
        validate(model)
    ```

    ## Use instead
    ```python
    for epoch in range(epochs):
        model.train()
        for x, y in loader:
            optimizer.zero_grad()
            criterion(model(x), y).backward()
            optimizer.step()
        model.eval()
        validate(model)
    ```

    Only models that are trained in the same function (`model.train()` is called) or whose parameters an
    optimizer in the file receives are considered, so a frozen teacher model kept in `eval()` is not flagged.
    """

    code = "PT014"
    name = "eval-mode-during-training"
    severity = Severity.WARNING
    message = "`{key}.eval()` is still in effect when `backward()` runs: call `{key}.train()` before training"
    valid = (
        "import torch\ndef fit(model, loader, opt):\n    for epoch in range(3):\n        model.train()\n"
        "        for x in loader:\n            opt.zero_grad()\n            model(x).sum().backward()\n"
        "            opt.step()\n        model.eval()\n",
        "import torch\ndef fit(model, loader, opt):\n    for x in loader:\n        opt.zero_grad()\n"
        "        model(x).sum().backward()\n        opt.step()\n        model.eval().cpu()\n        save(model)\n"
        "        model.to('cuda').train()\n",
        "import torch\ndef distill(student, teacher, loader, opt):\n    teacher.eval()\n    student.train()\n"
        "    for x in loader:\n        opt.zero_grad()\n        (student(x) - teacher(x)).pow(2).mean().backward()\n"
        "        opt.step()\n",
    )
    invalid = (
        Invalid("import torch\ndef fit(model, loader, opt):\n    model.train()\n    for epoch in range(3):\n"
                "        for x in loader:\n            opt.zero_grad()\n            model(x).sum().backward()\n"
                "            opt.step()\n        model.eval()\n"),
        Invalid("import torch\nmodel = torch.nn.Linear(2, 1)\nopt = torch.optim.SGD(model.parameters(), lr=0.1)\n"
                "model.eval()\nloss = model(x).sum()\nloss.backward()\n"),
    )

    carries = ("optimized",)

    def __init__(self, ctx):
        super().__init__(ctx)
        self.optimized: set[str] = set()

    def visit_Call(self, node: cst.Call) -> None:
        callee = self.ctx.callee(node)
        if callee and callee.startswith("torch.optim.") and ".lr_scheduler" not in callee:
            self.optimized |= _parameters_of(node)
            return
        mode = _train_mode(node)
        if mode is not None:
            key = _model_key(receiver(node))
            if key is not None:
                self.record(mode, key, node)
        elif method_name(node) == "backward":
            self.record("backward", None, node)

    def judge(self, frame: _FunctionEvents) -> None:
        events = frame.events
        if not any(e.kind == "backward" for e in events):
            return
        trained = self.optimized | {e.key for e in events if e.kind == "train"}
        in_eval: dict[str, _Event] = {}
        flagged_evals: set[int] = set()
        for event in events:
            if event.kind == "eval" and event.key in trained:
                in_eval[event.key] = event
            elif event.kind == "train":
                in_eval.pop(event.key, None)
            elif event.kind == "backward" and in_eval:
                key, stale = next(iter(in_eval.items()))
                flagged_evals.add(id(stale.node))
                self.report(event.node, self.message.format(key=key))
                in_eval.clear()
        # ``eval()`` after the training steps of a loop body: the next iteration trains in eval mode
        for index, event in enumerate(events):
            if event.kind != "eval" or event.key not in trained or id(event.node) in flagged_evals:
                continue
            for loop in event.loops:
                inside = [e for e in events if loop in e.loops]
                if (any(e.kind == "backward" for e in inside)
                        and not any(e.kind == "train" and e.key == event.key for e in inside)):
                    self.report(event.node, f"`{event.key}.eval()` inside the training loop is never undone: the next "
                                            f"iteration trains in eval mode; call `{event.key}.train()` at the top of "
                                            "the loop")
                    break


class ZeroGradBetweenBackwardAndStep(_FlowRule):
    """## What it does
    Flags `optimizer.zero_grad()` called after `loss.backward()` and before `optimizer.step()` of the same
    optimizer in the same iteration.

    ## Why is this bad
    `zero_grad()` clears the gradients `backward()` has just computed, so `step()` updates with zero (or
    `None`) gradients: the model never learns, and no error is raised.

    ## Example
    ```python
    for x, y in loader:
        loss = criterion(model(x), y)
        loss.backward()
        optimizer.zero_grad()
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

    code = "PT015"
    name = "zero-grad-between-backward-and-step"
    severity = Severity.ERROR
    message = "`{key}.zero_grad()` between `backward()` and `{key}.step()` discards the gradients just computed"
    valid = (
        "import torch\nopt = torch.optim.SGD(p, lr=0.1)\nfor x in data:\n    opt.zero_grad()\n"
        "    f(x).backward()\n    opt.step()\n",
        "import torch\nopt = torch.optim.SGD(p, lr=0.1)\nfor x in data:\n    f(x).backward()\n    opt.step()\n"
        "    opt.zero_grad()\n",
        "import torch\nfor x in data:\n    d_loss.backward()\n    opt_g.zero_grad()\n    opt_d.step()\n",
    )
    invalid = (
        Invalid("import torch\nopt = torch.optim.SGD(p, lr=0.1)\nfor x in data:\n    loss = f(x)\n"
                "    loss.backward()\n    opt.zero_grad()\n    opt.step()\n"),
        Invalid("import torch\ndef train_step(model, optimizer, x):\n    model(x).sum().backward()\n"
                "    optimizer.zero_grad()\n    optimizer.step()\n"),
    )

    def visit_Call(self, node: cst.Call) -> None:
        method = method_name(node)
        if method == "backward":
            self.record("backward", None, node)
        elif method in ("zero_grad", "step"):
            target = receiver(node)
            key = receiver_key(target)
            if key is not None and is_optimizer(self.ctx, target):
                self.record(method, key, node)

    def judge(self, frame: _FunctionEvents) -> None:
        pending: dict[str, _Event] = {}  # optimizer -> its zero_grad seen after a backward
        seen_backward = False
        for event in frame.events:
            if event.kind == "backward":
                seen_backward = True
                pending.clear()
            elif event.kind == "zero_grad" and seen_backward:
                pending[event.key] = event
            elif event.kind == "step":
                zero = pending.pop(event.key, None)
                if zero is not None and zero.loops == event.loops:
                    self.report(zero.node, self.message.format(key=event.key))
                seen_backward = False
                pending.clear()


class InferenceWithoutNoGrad(_FlowRule):
    """## What it does
    Flags a function that calls a model in a loop without `torch.no_grad()`/`torch.inference_mode()` (as a
    `with` block or a decorator) and never calls `backward()`, when the function evaluates: it puts the model in
    `eval()` mode first, or it is named like an evaluation (`evaluate`, `validate`, `test`, `val_epoch`; not
    test code: pytest's `test_*`, helpers like `run_backbone_test`, test files) and the called name is a
    model's (`model`, `net`, `self.encoder`...).

    ## Why is this bad
    `eval()` does not turn off autograd. Every forward pass still records its graph, so evaluation uses far more
    memory (often running out on large validation sets) and time than it needs to.

    ## Example
    ```python
    def evaluate(model, loader):
        model.eval()
        for x, y in loader:
            correct += (model(x).argmax(1) == y).sum().item()
    ```

    ## Use instead
    ```python
    @torch.no_grad()
    def evaluate(model, loader):
        model.eval()
        for x, y in loader:
            correct += (model(x).argmax(1) == y).sum().item()
    ```
    """

    code = "PT016"
    name = "inference-without-no-grad"
    severity = Severity.WARNING
    message = "`{key}` is evaluated in a loop with autograd on: wrap it in `torch.no_grad()` or `torch.inference_mode()`"
    valid = (
        "import torch\n@torch.no_grad()\ndef evaluate(model, loader):\n    model.eval()\n    for x in loader:\n"
        "        model(x)\n",
        "import torch\ndef evaluate(model, loader):\n    model.eval()\n    with torch.inference_mode():\n"
        "        for x in loader:\n            model(x)\n",
        "import torch\ndef evaluate(model, loader):\n    model.eval()\n    for x in loader:\n"
        "        with torch.no_grad():\n            model(x)\n",
        # a pytest test, or a test helper, is not an evaluation loop
        "import torch\ndef test_shapes(model):\n    for n in (1, 2):\n        assert model(torch.zeros(n, 4)).shape[0] == n\n",
        "import torch\ndef run_backbone_test(backbone, batches):\n    for batch in batches:\n        backbone(batch)\n",
    )
    invalid = (
        Invalid("import torch\ndef evaluate(model, loader):\n    model.eval()\n    total = 0\n    for x, y in loader:\n"
                "        total += (model(x).argmax(1) == y).sum().item()\n    return total\n"),
        Invalid("import torch\ndef validate(net, loader):\n    total = 0\n    for x, y in loader:\n"
                "        total += (net(x).argmax(1) == y).sum().item()\n    return total\n"),
    )

    def visit_Call(self, node: cst.Call) -> None:
        if len(self.frames) == 1:
            return  # module level: scripts are judged by the functions they call
        mode = _train_mode(node)
        if mode is not None:
            key = _model_key(receiver(node))
            if key is not None:
                self.record(mode, key, node)
            return
        method = method_name(node)
        callee = self.ctx.callee(node)
        if method == "backward" or callee in ("torch.autograd.grad", "torch.autograd.backward",
                                              "torch.set_grad_enabled", "torch.enable_grad"):
            self.record("backward", None, node)
            return
        key = receiver_key(node.func)
        if key is not None and self.ctx.loop_stack:
            guarded = any(isinstance(item.item, cst.Call) and self.ctx.callee(item.item) in _GRAD_DISABLING
                          for with_node in self.ctx.withs_in_function() for item in with_node.items)
            self.record("call", key, node, guarded)

    def judge(self, frame: _FunctionEvents) -> None:
        function = frame.node
        if function is None or any(e.kind == "backward" for e in frame.events):
            return
        if any(self.ctx.decorated_with(function, path) for path in _GRAD_DISABLING):
            return
        evaluation = (isinstance(function, cst.FunctionDef)
                      and is_evaluation_function(function.name.value, self.ctx.path))
        in_eval: set[str] = set()
        for event in frame.events:
            if event.kind == "eval":
                in_eval.add(event.key)
            elif event.kind == "train":
                in_eval.discard(event.key)
            elif event.kind == "call" and event.loops and not event.guarded and (
                    event.key in in_eval or (evaluation and _looks_like_model(event.key))):
                self.report(event.node, self.message.format(key=event.key))
                return


class EvaluationWithoutEvalMode(_FlowRule):
    """## What it does
    Flags an evaluation function (named like `evaluate`, `validate`, `test`, `val_epoch`; it never calls
    `backward()`) that calls a model in a loop without putting it in `eval()` mode, when a caller in the file
    that never calls `.eval()` hands it a model the file shows to have dropout or batch normalisation (a module
    class of the file, a `Sequential`, or a torchvision model). A function the file never calls, or a model
    built elsewhere, is not judged: what it contains is out of sight.

    ## Why is this bad
    In training mode dropout keeps zeroing activations at random and batch normalisation normalises with the
    statistics of each evaluation batch (and updates its running averages with them): the reported accuracy is
    noisy and lower than the model's, and evaluation changes the model.

    ## Example
    ```python
    def evaluate(model, loader):
        with torch.no_grad():
            for x, y in loader:
                correct += (model(x).argmax(1) == y).sum().item()

    for epoch in range(10):
        model.train()
        train_one_epoch(model, loader)
        evaluate(model, val_loader)
    ```

    ## Use instead
    ```python
    def evaluate(model, loader):
        model.eval()
        with torch.no_grad():
            for x, y in loader:
                correct += (model(x).argmax(1) == y).sum().item()
    ```
    """

    code = "PT034"
    name = "evaluation-without-eval-mode"
    severity = Severity.WARNING
    message = ("`{key}` is evaluated in training mode (no `{key}.eval()` here or in the caller): its dropout stays "
               "on and its batch normalisation uses and updates batch statistics")
    valid = (
        "import torch\ndef evaluate(model, loader):\n    model.eval()\n    with torch.no_grad():\n"
        "        for x in loader:\n            model(x)\nevaluate(net, val)\n",
        # the caller switches to eval mode
        "import torch\ndef evaluate(model, loader):\n    with torch.no_grad():\n        for x in loader:\n"
        "            model(x)\ndef main():\n    net.eval()\n    evaluate(net, val)\n",
        # never called in this file: its callers are out of sight
        "import torch\ndef validate(model, loader):\n    with torch.no_grad():\n        for x in loader:\n"
        "            model(x)\n",
        # a model without dropout or batch normalisation behaves the same in both modes
        "import torch\nimport torch.nn as nn\ndef evaluate(model, loader):\n    with torch.no_grad():\n"
        "        for x in loader:\n            model(x)\nnet = nn.Sequential(nn.Linear(4, 2), nn.ReLU())\n"
        "evaluate(net, val)\n",
        # built in another file: nothing shows what it holds
        "import torch\nfrom model import Net\ndef test():\n    with torch.no_grad():\n        for x in loader:\n"
        "            model(x)\nmodel = Net()\ntest()\n",
    )
    invalid = (
        Invalid("import torch\nimport torch.nn as nn\nclass Net(nn.Module):\n    def __init__(self):\n"
                "        super().__init__()\n        self.drop = nn.Dropout(0.5)\n"
                "def evaluate(model, loader):\n    with torch.no_grad():\n        for x, y in loader:\n"
                "            model(x)\nmodel = Net()\nfor epoch in range(3):\n    model.train()\n    train(model)\n"
                "    evaluate(model, val_loader)\n"),
        Invalid("import torch\nimport torchvision\nmodel = torchvision.models.resnet18()\ndef test():\n"
                "    with torch.no_grad():\n        for x in loader:\n            model(x)\ntest()\n"),
    )

    accumulates = ("module_events", "candidates")

    def __init__(self, ctx):
        super().__init__(ctx)
        self.candidates: list[tuple[cst.FunctionDef, _Event]] = []

    def visit_Call(self, node: cst.Call) -> None:
        mode = _train_mode(node)
        if mode is not None:
            self.record(mode, _model_key(receiver(node)), node)
            return
        if method_name(node) == "backward" or self.ctx.callee(node) in ("torch.autograd.grad",
                                                                        "torch.autograd.backward"):
            self.record("backward", None, node)
            return
        key = receiver_key(node.func)
        if key is not None and self.ctx.loop_stack:
            self.record("call", key, node)

    def judge(self, frame: _FunctionEvents) -> None:
        function = frame.node
        if not isinstance(function, cst.FunctionDef) or not is_evaluation_function(function.name.value, self.ctx.path):
            return
        if any(e.kind in ("backward", "eval", "train") for e in frame.events):
            return  # trains, or chooses the mode itself
        call = next((e for e in frame.events if e.kind == "call" and e.loops and _looks_like_model(e.key)), None)
        if call is not None:
            self.candidates.append((function, call))

    def leave_Module(self, node: cst.Module) -> None:
        super().leave_Module(node)
        if not self.candidates:
            return
        index = ModuleIndex(node)
        scopes: list[tuple[cst.CSTNode, cst.ClassDef | None]] = [(node, None)]
        scopes += [(f, None) for f in index.functions.values()]
        scopes += [(m, cls) for cls in index.classes.values() for m in index.methods(cls).values()]
        tracer = ValueTracer(self.ctx, index, lambda call: False, frozenset())
        for function, event in self.candidates:
            parameters = [p.name.value for p in function.params.params]
            cls = index.class_of(function)
            for scope, scope_class in scopes:
                where = Where(scope if isinstance(scope, cst.FunctionDef) else None, scope_class)
                calls = _scope_calls(scope)
                sites = [n for n in calls if isinstance(n, cst.Call) and function in index.callees(n, scope_class)]
                if not sites or any(isinstance(n, cst.Call) and _train_mode(n) == "eval" for n in calls):
                    continue
                if any(self._train_mode_model(tracer, index, site, where, event, function, cls, parameters)
                       for site in sites):
                    self.report(event.node, self.message.format(key=event.key))
                    break

    def _train_mode_model(self, tracer: ValueTracer, index: ModuleIndex, site: cst.Call, where: Where,
                          event: _Event, function: cst.FunctionDef, cls: cst.ClassDef | None,
                          parameters: list[str]) -> bool:
        """Whether the model the evaluation function calls, as this call site hands it over, has layers that
        behave differently in training mode."""
        if event.key in parameters:
            position = parameters.index(event.key) - (1 if cls is not None else 0)
            arg = argument(site, event.key, position if position >= 0 else None)
            found = tracer.module_value(arg.value, site, where) if arg is not None and not arg.star else None
        else:
            found = tracer.module_value(_key_expression(event.key), event.node, Where(function, cls))
        return found is not None and _has_training_behaviour(self.ctx, index, found[0])


def _key_expression(key: str) -> cst.BaseExpression:
    return cst.parse_expression(key)


_TRAINING_BEHAVIOUR = re.compile(r"^torch\.nn\.(?:functional\.)?(?:Dropout|AlphaDropout|FeatureAlphaDropout|dropout|"
                                 r"alpha_dropout|BatchNorm|SyncBatchNorm|LazyBatchNorm|batch_norm|InstanceNorm.*"
                                 r"track_running_stats)")


def _has_training_behaviour(ctx, index: ModuleIndex, constructor: cst.BaseExpression, seen: frozenset = frozenset()
                            ) -> bool:
    """Whether a module built by ``constructor`` holds dropout or batch normalisation, by what the file shows."""
    if not isinstance(constructor, cst.Call):
        return False
    callee = ctx.callee(constructor) or ""
    if callee.startswith("torchvision.models.") or _TRAINING_BEHAVIOUR.match(callee):
        return True
    if callee == "torch.nn.Sequential":
        return any(_has_training_behaviour(ctx, index, a.value, seen) for a in constructor.args)
    func = constructor.func
    if isinstance(func, cst.Name) and func.value in index.classes and func.value not in seen:
        cls = index.classes[func.value]
        classes = [cls, *index.local_bases(cls)]
        return any(isinstance(n, cst.Call) and (
            _TRAINING_BEHAVIOUR.match(ctx.callee(n) or "")
            or _has_training_behaviour(ctx, index, n, seen | {func.value}))
            for c in classes for n in nodes_of_type(c, cst.Call))
    return False


def _scope_calls(scope: cst.CSTNode) -> list[cst.CSTNode]:
    if isinstance(scope, cst.Module):
        return [n for statement in scope.body if not isinstance(statement, (cst.FunctionDef, cst.ClassDef))
                for n in scope_nodes(statement)]
    return scope_nodes(scope.body)


class OptimizerBeforeMove(_FlowRule):
    """## What it does
    Flags `model.to(device)` / `model.cuda()` after an optimizer was built from `model.parameters()` in the
    same function.

    ## Why is this bad
    PyTorch's documentation asks to move a model before constructing its optimizer. Today `Module.to` updates
    parameters in place, so the optimizer usually still sees the moved tensors; but optimizer state that already
    exists (a loaded `optimizer.state_dict()`) stays on the old device, and with
    `torch.__future__.set_overwrite_module_params_on_conversion(True)` (or parameter swapping) the optimizer
    keeps references to the old, unmoved parameters and trains nothing.

    ## Example
    ```python
    optimizer = torch.optim.Adam(model.parameters())
    model.to(device)
    ```

    ## Use instead
    ```python
    model.to(device)
    optimizer = torch.optim.Adam(model.parameters())
    ```
    """

    code = "PT027"
    name = "optimizer-before-move"
    severity = Severity.INFO
    message = "`{key}` is moved after its optimizer was built: build the optimizer after `.to(device)`"
    valid = ("import torch\nmodel.to('cuda')\nopt = torch.optim.Adam(model.parameters())\n",
             "import torch\nnet = Net().to('cuda')\nopt = torch.optim.Adam(net.parameters())\nnet.cpu()\nnet.to('cuda')\n",
             "import torch\nopt = torch.optim.Adam(model.parameters())\nx = x.to('cuda')\n")
    invalid = (
        Invalid("import torch\ndef setup(model):\n    opt = torch.optim.Adam(model.parameters(), lr=1e-3)\n"
                "    model.to('cuda')\n    return opt\n"),
        Invalid("import torch\nopt = torch.optim.SGD(net.parameters(), lr=0.1)\nnet = net.cuda()\n"),
    )

    def visit_Call(self, node: cst.Call) -> None:
        callee = self.ctx.callee(node)
        if callee and callee.startswith("torch.optim.") and ".lr_scheduler" not in callee:
            for key in _parameters_of(node):
                self.record("optimizer", key, node)
        elif method_name(node) in ("to", "cuda") and node.args or method_name(node) == "cuda":
            key = _model_key(receiver(node))
            if key is not None:
                self.record("move", key, node)

    def visit_Assign(self, node: cst.Assign) -> None:
        # `model = Net().to(device)`: the model starts on its device
        value = node.value
        if isinstance(value, cst.Call) and method_name(value) in ("to", "cuda"):
            for target in node.targets:
                key = receiver_key(target.target)
                if key is not None:
                    self.record("move", key, node)

    def judge(self, frame: _FunctionEvents) -> None:
        optimized: set[str] = set()
        placed: set[str] = set()  # moved before any optimizer: later moves are round trips (e.g. save on CPU)
        for event in frame.events:
            if event.kind == "optimizer":
                optimized.add(event.key)
            elif event.kind == "move" and event.key in optimized and event.key not in placed:
                self.report(event.node, self.message.format(key=event.key))
                optimized.discard(event.key)
            elif event.kind == "move":
                placed.add(event.key)


_UNCALLED = {"eval", "train", "zero_grad", "backward", "step"}


class MethodNotCalled(Rule):
    """## What it does
    Flags `model.eval`, `model.train`, `optimizer.zero_grad`, `optimizer.step` or `loss.backward` written as a
    statement without the call parentheses.

    ## Why is this bad
    The statement only looks the method up and throws it away: the model stays in training mode, gradients are
    never cleared or computed, the optimizer never steps. Python raises no error.

    ## Example
    ```python
    model.eval
    ```

    ## Use instead
    ```python
    model.eval()
    ```

    The fix adds the parentheses; it changes what the program does (that is the point), so it is offered in the
    editor only.
    """

    code = "PT029"
    scope = STATEMENT_SCOPE
    name = "method-not-called"
    severity = Severity.ERROR
    message = "`{code}` does nothing without parentheses: call `{code}()`"
    fixable = True
    valid = ("import torch\nmodel.eval()\n", "import torch\nfn = model.eval\n")
    invalid = (
        Invalid("import torch\nmodel.eval\n", "import torch\nmodel.eval()\n"),
        Invalid("import torch\nfor x in data:\n    loss.backward\n    opt.step()\n",
                "import torch\nfor x in data:\n    loss.backward()\n    opt.step()\n"),
    )

    def visit_Expr(self, node: cst.Expr) -> None:
        value = node.value
        if not isinstance(value, cst.Attribute) or value.attr.value not in _UNCALLED:
            return
        if not self.ctx.imports.imports_framework("torch") or self.ctx.qualname(value) is not None:
            return
        text = self.ctx.code(value)
        fix = PendingFix(f"Call `{text}()`", (self.replace(value, f"{text}()"),), safe=False)
        self.report(value, self.message.format(code=text), fix)


_GRAD_MODES = {
    "torch.no_grad": "False", "torch.autograd.no_grad": "False", "torch.enable_grad": "True",
    "torch.autograd.enable_grad": "True", "torch.inference_mode": None, "torch.autograd.grad_mode.no_grad": "False",
}


class GradModeNotEntered(Rule):
    """## What it does
    Flags `torch.no_grad()`, `torch.enable_grad()` or `torch.inference_mode()` called as a statement on its own.

    ## Why is this bad
    These are context managers (and decorators): calling one builds the object and discards it, so gradient
    tracking is unchanged. The code after it still records autograd graphs.

    ## Example
    ```python
    torch.no_grad()
    predictions = model(x)
    ```

    ## Use instead
    ```python
    with torch.no_grad():
        predictions = model(x)
    ```

    For `no_grad`/`enable_grad` the editor offers `torch.set_grad_enabled(False/True)`, which does switch the mode
    for the rest of the thread (until switched back).
    """

    code = "PT030"
    scope = STATEMENT_SCOPE
    name = "grad-mode-not-entered"
    severity = Severity.ERROR
    message = "`{code}` on its own does nothing: use it in a `with` statement or as a decorator"
    fixable = True
    valid = ("import torch\nwith torch.no_grad():\n    y = model(x)\n",
             "import torch\n@torch.no_grad()\ndef f(x):\n    return x\n",
             "import torch\ntorch.set_grad_enabled(False)\n")
    invalid = (
        Invalid("import torch\ntorch.no_grad()\ny = model(x)\n", "import torch\ntorch.set_grad_enabled(False)\ny = model(x)\n"),
        Invalid("from torch import inference_mode\ninference_mode()\n"),
    )

    def visit_Expr(self, node: cst.Expr) -> None:
        call = node.value
        if not isinstance(call, cst.Call):
            return
        callee = self.ctx.callee(call)
        if callee not in _GRAD_MODES:
            return
        fix = None
        enabled = _GRAD_MODES[callee]
        spelling = self.ctx.spelling("torch.set_grad_enabled")
        if enabled is not None and spelling is not None and not call.args:
            fix = PendingFix(f"Use `{spelling}({enabled})`", (self.replace(call, f"{spelling}({enabled})"),), safe=False)
        self.report(call, self.message.format(code=self.ctx.code(call)), fix)
