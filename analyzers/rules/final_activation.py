"""The base of the rules about a model whose output activation its loss applies again (PT001, PT013)."""

from __future__ import annotations

import libcst as cst

from ..flow import ModuleIndex, ValueTracer, Where, binding_key
from ..rule import Rule
from ._calls import argument


class FinalActivationRule(Rule):
    """Reports an activation (``final_functions``, a ``final_layers`` module, a tensor method in
    ``method_names``) whose output reaches the input of one of ``losses``: through locals, tuple returns,
    ``self.`` attributes, the last layer of a ``Sequential`` and the ``forward`` of the module's own classes.
    A path that leaves the module (a model passed in as a parameter, built by imported code) proves nothing, so
    the rule stays silent there."""

    final_layers: frozenset = frozenset()
    final_functions: frozenset = frozenset()
    method_names: frozenset = frozenset()  # ``x.sigmoid()`` style tensor methods that count as the activation
    losses: frozenset = frozenset()  # loss classes (called as instances) and loss functions
    accumulates = ("calls",)
    carries = ("loss_names",)

    def __init__(self, ctx):
        super().__init__(ctx)
        self.calls: list[tuple[cst.Call, Where]] = []  # calls that may compute a loss, where they are
        self.loss_names: set[str] = set()  # names and `self.` attributes some assignment binds to a loss object

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if not (self.ctx.callee(node) in self.losses or binding_key(func) is not None
                or (isinstance(func, cst.Call) and self.ctx.callee(func) in self.losses)):
            return
        function = self.ctx.enclosing_function()
        cls = self.ctx.enclosing_class()
        self.calls.append((node, Where(function, cls if function is not None else None)))

    def visit_Assign(self, node: cst.Assign) -> None:
        if isinstance(node.value, cst.Call) and self.ctx.callee(node.value) in self.losses:
            for target in node.targets:
                key = binding_key(target.target)
                if key is not None:
                    self.loss_names.add(key)

    def _produces(self, call: cst.Call) -> bool:
        callee = self.ctx.callee(call)
        if callee in self.final_functions:
            return True
        if callee is None and isinstance(call.func, cst.Attribute) and call.func.attr.value in self.method_names:
            return True
        # `nn.Softmax(dim=1)(x)`
        return isinstance(call.func, cst.Call) and self.ctx.callee(call.func) in self.final_layers

    def _is_loss(self, call: cst.Call, tracer: ValueTracer, where: Where) -> bool:
        if self.ctx.callee(call) in self.losses:
            return True
        if isinstance(call.func, cst.Call):
            return self.ctx.callee(call.func) in self.losses
        if binding_key(call.func) not in self.loss_names:
            return False
        found = tracer.module_value(call.func, call, where)
        return found is not None and self.ctx.callee(found[0]) in self.losses

    def leave_Module(self, node: cst.Module) -> None:
        calls = self.calls
        if not calls or not (self.loss_names or any(self.ctx.callee(c) in self.losses for c, _ in calls)):
            return
        index = ModuleIndex(node)
        tracer = ValueTracer(self.ctx, index, self._produces, self.final_layers)
        reported: set[int] = set()
        for call, where in calls:
            if not self._is_loss(call, tracer, where):
                continue
            first = argument(call, "input", 0)
            if first is None or first.star:
                continue
            source = tracer.source(first.value, where)
            if source is not None and id(source) not in reported:
                reported.add(id(source))
                self.report(source)
