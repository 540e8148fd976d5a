"""What bug rules need to prove the path they claim: guards, a module's call graph, def-use in one function.

A rule that claims a bug (softmax fed to a loss that applies it again, gradients never cleared, dropout left on)
must establish the path it describes, not the mere co-occurrence of two names in a file. This module is the one
place for the pieces those proofs share (see ARCHITECTURE.md, "Bug rules: judge data flow"):

* guards: whether an ``if`` (or a conditional expression, or an early ``return``) around a node already holds
  the condition a rule asks for (``self.training``, ``args.cuda``, ``not self.built``, ``x is None``);
* :class:`ModuleIndex`: the module's functions, classes and methods, and which of them reach a given call
  through calls into the same module (``reset_grad()`` that calls ``opt.zero_grad()``);
* :class:`ScopeFlow`: the assignments of one function body (or the module's top level) in source order, so that
  a name's use finds the value that reaches it, tuple unpacking included;
* :class:`ValueTracer`: follows a value back through locals, returns, ``self.`` attributes, ``Sequential`` ends
  and the module's own ``nn.Module`` classes to the call that produced it.

Everything answers "unknown" (None, False) where the path leaves the module or what simple assignments say:
the rules then stay silent. Nothing here is computed unless a rule asks, and only for the functions it asks about.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Iterable

import libcst as cst

from .traversal import TRIVIA_TYPES, child_fields

if TYPE_CHECKING:
    from .context import Context

_NESTED_SCOPES = (cst.FunctionDef, cst.ClassDef, cst.Lambda)


# -- walking ------------------------------------------------------------------------------------------------------
def scope_nodes(root: cst.CSTNode) -> list[cst.CSTNode]:
    """Every node of ``root``'s subtree in source order, not entering nested functions, classes or lambdas
    (``root`` itself may be one)."""
    found: list[cst.CSTNode] = []

    def walk(node: cst.CSTNode) -> None:
        found.append(node)
        for name in child_fields(node):
            value = getattr(node, name)
            children = value if type(value) in (tuple, list) else (value,)
            for child in children:
                if isinstance(child, cst.CSTNode) and not isinstance(child, _NESTED_SCOPES):
                    walk(child)

    walk(root)
    return found


def contains(root: cst.CSTNode, node: cst.CSTNode) -> bool:
    """Whether ``node`` (by identity) lies in ``root``'s subtree."""
    if root is node:
        return True
    for name in child_fields(root):
        value = getattr(root, name)
        children = value if type(value) in (tuple, list) else (value,)
        for child in children:
            if isinstance(child, cst.CSTNode) and contains(child, node):
                return True
    return False


# -- guards -------------------------------------------------------------------------------------------------------
Atom = Callable[[cst.BaseExpression], bool]


def condition_holds(test: cst.BaseExpression, atom: Atom, positive: bool = True) -> bool:
    """Whether ``atom`` is true wherever ``test`` is ``positive``: ``self.training and p > 0`` holds
    ``self.training``; in the ``else`` branch of ``if not self.training`` it holds too."""
    if positive and atom(test):  # an atom may itself be a negation: `not self.built`
        return True
    if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
        return condition_holds(test.expression, atom, not positive)
    if isinstance(test, cst.BooleanOperation):
        both = (condition_holds(test.left, atom, positive), condition_holds(test.right, atom, positive))
        # `a and b` true: both are; `a or b` false: neither is
        joins_truths = isinstance(test.operator, cst.And) == positive
        return any(both) if joins_truths else all(both)
    return False


def _exits(block: cst.BaseSuite) -> bool:
    """A block that always leaves the function or loop: it ends in return, raise, continue or break."""
    body = block.body if isinstance(block, cst.IndentedBlock) else (block,)
    if not body:
        return False
    last = body[-1]
    small = last.body if isinstance(last, cst.SimpleStatementLine) else getattr(last, "body", None)
    if isinstance(small, (tuple, list)) and small:
        return isinstance(small[-1], (cst.Return, cst.Raise, cst.Continue, cst.Break))
    return False


def is_guarded(ctx: "Context", node: cst.CSTNode, atom: Atom) -> bool:
    """Whether ``atom`` holds wherever ``node`` runs, by what is visible in the enclosing function (or top-level
    statement): an ``if`` or conditional expression around it, or, in a function, an earlier ``if`` in a block
    that holds it whose body always exits (``if not self.training: return x``). Safe for statement-scope rules:
    it reads nothing outside the current top-level statement."""
    for guard, body, orelse in ctx.guards_in_function():
        if condition_holds(guard.test, atom, True) and contains(body, node):
            return True
        if orelse is not None and condition_holds(guard.test, atom, False) and contains(orelse, node):
            return True
    function = ctx.enclosing_function()
    if function is None:
        return False  # early exits are a function's; and a statement-scope rule must not read other statements
    for block in _blocks_around(function.body, node):
        for statement in block:
            if contains(statement, node):
                break
            if (isinstance(statement, cst.If) and statement.orelse is None and _exits(statement.body)
                    and condition_holds(statement.test, atom, False)):
                return True
    return False


def _blocks_around(root: cst.CSTNode, node: cst.CSTNode) -> Iterable[tuple[cst.BaseStatement, ...]]:
    """The statement lists from ``root`` down to the one that holds ``node``, outermost first."""
    current = root
    while True:
        statements = _statements_of(current)
        if statements is None:
            return
        yield statements
        inner = next((s for s in statements if contains(s, node)), None)
        if inner is None or inner is node:
            return
        current = inner


def _statements_of(node: cst.CSTNode) -> tuple | None:
    body = getattr(node, "body", None)
    if isinstance(body, cst.IndentedBlock):
        return tuple(body.body)
    if isinstance(node, cst.IndentedBlock):
        return tuple(node.body)
    return None


def is_self_attribute(node: cst.BaseExpression, *names: str) -> bool:
    """``self.training`` for ``is_self_attribute(node, "training")``."""
    return (isinstance(node, cst.Attribute) and isinstance(node.value, cst.Name) and node.value.value == "self"
            and node.attr.value in names)


def is_none_check(test: cst.BaseExpression) -> bool:
    """``x is None`` / ``x == None``."""
    return (isinstance(test, cst.Comparison) and len(test.comparisons) == 1
            and isinstance(test.comparisons[0].operator, (cst.Is, cst.Equal))
            and isinstance(test.comparisons[0].comparator, cst.Name)
            and test.comparisons[0].comparator.value == "None")


# -- the module's functions and what they call --------------------------------------------------------------------
class ModuleIndex:
    """The module's top-level functions and classes (with their methods), and a memoised call graph over them."""

    def __init__(self, module: cst.Module, flows: dict[cst.CSTNode, "ScopeFlow"] | None = None):
        """``flows``: what :meth:`flows` said for an earlier version of the same document; the def-use flows of
        the functions and top-level statements that are still in ``module`` are taken from it."""
        self.module = module
        self.functions: dict[str, cst.FunctionDef] = {}
        self.classes: dict[str, cst.ClassDef] = {}
        self._class_of: dict[int, cst.ClassDef] = {}  # id(method) -> its class
        self._scopes: dict[int, ScopeFlow | ModuleFlow] = {}
        self._earlier_flows = flows or {}
        self._flows: dict[cst.CSTNode, ScopeFlow] = {}
        self._reaches: dict[tuple[int, object], bool] = {}
        for statement in module.body:
            if isinstance(statement, cst.FunctionDef):
                self.functions[statement.name.value] = statement
            elif isinstance(statement, cst.ClassDef):
                self.classes[statement.name.value] = statement
                for method in self.methods(statement).values():
                    self._class_of[id(method)] = statement

    @staticmethod
    def methods(cls: cst.ClassDef) -> dict[str, cst.FunctionDef]:
        body = cls.body.body if isinstance(cls.body, cst.IndentedBlock) else ()
        return {s.name.value: s for s in body if isinstance(s, cst.FunctionDef)}

    def is_top_level(self, function: cst.FunctionDef) -> bool:
        """A function of the module's top level or a method of one of its classes (not a nested function)."""
        return self.functions.get(function.name.value) is function or id(function) in self._class_of

    def class_of(self, function: cst.FunctionDef | None) -> cst.ClassDef | None:
        return self._class_of.get(id(function)) if function is not None else None

    def local_bases(self, cls: cst.ClassDef) -> list[cst.ClassDef]:
        return [self.classes[arg.value.value] for arg in cls.bases
                if isinstance(arg.value, cst.Name) and arg.value.value in self.classes]

    def method(self, cls: cst.ClassDef, name: str, _seen: frozenset = frozenset()) -> cst.FunctionDef | None:
        """``cls.name``, looked up through the module's own base classes."""
        found = self.methods(cls).get(name)
        if found is not None or cls.name.value in _seen:
            return found
        for base in self.local_bases(cls):
            found = self.method(base, name, _seen | {cls.name.value})
            if found is not None:
                return found
        return None

    def scope(self, node: cst.FunctionDef | cst.Module) -> "ScopeFlow | ModuleFlow":
        flow = self._scopes.get(id(node))
        if flow is None:
            if isinstance(node, cst.Module):
                flow = ModuleFlow([self._flow(statement) for statement in node.body
                                   if not isinstance(statement, _NESTED_SCOPES)])
            else:
                flow = self._flow(node)
            self._scopes[id(node)] = flow
        return flow

    def _flow(self, node: cst.CSTNode) -> "ScopeFlow":
        flow = self._flows.get(node)
        if flow is None:
            flow = self._flows[node] = self._earlier_flows.get(node) or ScopeFlow(node)
        return flow

    def flows(self) -> dict[cst.CSTNode, "ScopeFlow"]:
        """The def-use flows built or reused so far, by node: for the ``flows`` of the next version's index."""
        return dict(self._flows)

    def callees(self, call: cst.Call, caller_class: cst.ClassDef | None) -> list[cst.FunctionDef] | None:
        """The module's functions a call may run: ``helper()``, ``self.method()``, ``obj.method()`` when only the
        module's classes define ``method``; [] for calls into code the module does not define."""
        func = call.func
        if isinstance(func, cst.Name):
            if func.value in self.functions:
                return [self.functions[func.value]]
            if func.value in self.classes:
                init = self.method(self.classes[func.value], "__init__")
                return [init] if init is not None else []
            return []
        if isinstance(func, cst.Attribute):
            name = func.attr.value
            if isinstance(func.value, cst.Name) and func.value.value == "self" and caller_class is not None:
                found = self.method(caller_class, name)
                return [found] if found is not None else []
            return [m for cls in self.classes.values() for m in (self.methods(cls).get(name),) if m is not None]
        return []

    def reaches(self, function: cst.FunctionDef, key: object, predicate: Callable[[cst.CSTNode], bool]) -> bool:
        """Whether running ``function`` runs a node (a call, an assignment...) for which ``predicate`` is true,
        directly or through calls into the module's own functions and methods. ``key`` names the predicate for
        the memo."""
        memo_key = (id(function), key)
        if memo_key in self._reaches:
            return self._reaches[memo_key]
        self._reaches[memo_key] = False  # recursion: a cycle adds nothing
        cls = self.class_of(function)
        found = False
        for node in scope_nodes(function):
            if predicate(node) or (isinstance(node, cst.Call) and any(
                    self.reaches(callee, key, predicate) for callee in self.callees(node, cls))):
                found = True
                break
        self._reaches[memo_key] = found
        return found


# -- def-use in one scope -----------------------------------------------------------------------------------------
UNKNOWN = None  # a binding whose value cannot be followed (a loop target, `with ... as`, augmented assignment)


class ScopeFlow:
    """The bindings of one function body (or a module's top level, or one top-level statement) in source order,
    not looking into nested functions or classes: for each name (``x``, ``self.x``) the values assigned to it and
    where."""

    def __init__(self, node: cst.FunctionDef | cst.Module | cst.BaseStatement):
        self.node = node
        self.order: dict[int, int] = {}
        self.bindings: dict[str, list[tuple[int, cst.BaseExpression | None, tuple[int, ...]]]] = {}
        self.returns: list[cst.Return] = []
        self.parameters: set[str] = set()
        if isinstance(node, cst.FunctionDef):
            params = node.params
            for param in (*params.posonly_params, *params.params, *params.kwonly_params):
                self.parameters.add(param.name.value)
            for star in (params.star_arg, params.star_kwarg):
                if isinstance(star, cst.Param):
                    self.parameters.add(star.name.value)
            nodes = [n for child in (node.body,) for n in scope_nodes(child)]
        elif isinstance(node, cst.Module):
            nodes = [n for statement in node.body if not isinstance(statement, _NESTED_SCOPES)
                     for n in scope_nodes(statement)]
        else:
            nodes = scope_nodes(node)
        for index, item in enumerate(nodes):
            if type(item) in TRIVIA_TYPES:
                continue  # whitespace and punctuation are never a use (a kept flow holds no entry for them)
            self.order[id(item)] = index
            if isinstance(item, cst.Assign):
                for target in item.targets:
                    self._bind(target.target, item.value, (), index)
            elif isinstance(item, cst.AnnAssign) and item.value is not None:
                self._bind(item.target, item.value, (), index)
            elif isinstance(item, cst.AugAssign):
                self._bind(item.target, UNKNOWN, (), index)
            elif isinstance(item, (cst.For, cst.CompFor)):
                self._bind(item.target, UNKNOWN, (), index)
            elif isinstance(item, cst.AsName):
                self._bind(item.name, UNKNOWN, (), index)
            elif isinstance(item, cst.NamedExpr):
                self._bind(item.target, item.value, (), index)
            elif isinstance(item, cst.Return):
                self.returns.append(item)

    def _bind(self, target: cst.BaseExpression, value: cst.BaseExpression | None, path: tuple[int, ...],
              index: int) -> None:
        if isinstance(target, (cst.Tuple, cst.List)):
            starred = any(isinstance(e, cst.StarredElement) for e in target.elements)
            for position, element in enumerate(target.elements):
                self._bind(element.value, UNKNOWN if starred else value, path + (position,), index)
            return
        key = binding_key(target)
        if key is not None:
            self.bindings.setdefault(key, []).append((index, value, path))

    def reaching(self, key: str, use: cst.CSTNode) -> tuple[cst.BaseExpression | None, tuple[int, ...]] | None:
        """The value (and tuple path into it) of the last binding of ``key`` before ``use``; None when the scope
        never binds ``key`` before it. A value of None means bound to something that cannot be followed."""
        position = self.order.get(id(use))
        if position is None:
            return None
        last = None
        for index, value, path in self.bindings.get(key, ()):
            if index < position:
                last = (value, path)
        return last

    def values_of(self, key: str) -> list[tuple[cst.BaseExpression | None, tuple[int, ...]]]:
        return [(value, path) for _, value, path in self.bindings.get(key, ())]


class ModuleFlow:
    """A module's top level as :class:`ScopeFlow` sees it, made of one flow per top-level statement (in order),
    so that each statement's flow can be reused while its node is: the same answers as ``ScopeFlow(module)``."""

    def __init__(self, pieces: list[ScopeFlow]):
        self.pieces = pieces
        self.parameters: set[str] = set()
        self.returns: list[cst.Return] = []
        self._bindings: dict | None = None
        self._piece_of: dict[int, int] | None = None  # id(node) -> the number of the piece that holds it

    @property
    def bindings(self) -> dict[str, list[tuple[tuple[int, int], cst.BaseExpression | None, tuple[int, ...]]]]:
        if self._bindings is None:
            merged: dict[str, list] = {}
            for number, piece in enumerate(self.pieces):
                for key, found in piece.bindings.items():
                    merged.setdefault(key, []).extend(((number, index), value, path) for index, value, path in found)
            self._bindings = merged
        return self._bindings

    def reaching(self, key: str, use: cst.CSTNode) -> tuple[cst.BaseExpression | None, tuple[int, ...]] | None:
        """See :meth:`ScopeFlow.reaching`."""
        if self._piece_of is None:
            self._piece_of = {}
            for number, piece in enumerate(self.pieces):
                self._piece_of.update(dict.fromkeys(piece.order, number))
        number = self._piece_of.get(id(use))
        if number is None:
            return None
        piece = self.pieces[number]
        found = piece.reaching(key, use)
        if found is not None:
            return found
        for earlier in reversed(self.pieces[:number]):
            values = earlier.bindings.get(key)
            if values:
                return values[-1][1], values[-1][2]
        return None

    def values_of(self, key: str) -> list[tuple[cst.BaseExpression | None, tuple[int, ...]]]:
        return [(value, path) for piece in self.pieces for _, value, path in piece.bindings.get(key, ())]


def binding_key(node: cst.BaseExpression) -> str | None:
    """``x`` for a name, ``self.x`` for an attribute of ``self``; None for anything else."""
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute) and isinstance(node.value, cst.Name) and node.value.value == "self":
        return "self." + node.attr.value
    return None


# -- following values ---------------------------------------------------------------------------------------------
# methods that return the same values in another shape, dtype or device: a probability stays a probability
_SAME_VALUES = frozenset({"view", "reshape", "squeeze", "unsqueeze", "permute", "transpose", "contiguous", "flatten",
                          "float", "double", "half", "to", "cuda", "cpu", "clone", "t", "view_as", "reshape_as"})
# calls that return the module they are given or called on
_SAME_MODULE_METHODS = frozenset({"to", "cuda", "cpu", "float", "double", "half", "train", "eval",
                                  "requires_grad_", "share_memory"})
_MODULE_WRAPPERS = frozenset({"torch.nn.DataParallel", "torch.nn.parallel.DistributedDataParallel",
                              "torch.compile"})
_MAX_DEPTH = 24


class Where:
    """A place in the module: the function (or module top level) a node is in, and the class of that method."""

    __slots__ = ("function", "cls")

    def __init__(self, function: cst.FunctionDef | None, cls: cst.ClassDef | None):
        self.function, self.cls = function, cls


class ValueTracer:
    """Follows a value back to the call that produced it, through the module's code only.

    ``produces(call)`` says whether a call's result is the value sought (``F.softmax(...)``); ``final_layers``
    are the ``nn.Module`` classes whose output is (``nn.Softmax``). :meth:`source` answers the producing node
    when every step of the path is visible, else None."""

    def __init__(self, ctx: "Context", index: ModuleIndex, produces: Callable[[cst.Call], bool],
                 final_layers: frozenset[str]):
        self.ctx, self.index, self.produces, self.final_layers = ctx, index, produces, final_layers

    def _scope(self, where: Where) -> ScopeFlow:
        return self.index.scope(where.function if where.function is not None else self.index.module)

    def _lookup(self, key: str, use: cst.CSTNode, where: Where) -> tuple[cst.BaseExpression | None, tuple, Where] | None:
        """The value that reaches ``use`` of ``key`` (a local, a module global, or a ``self.`` attribute that the
        class assigns once)."""
        scope = self._scope(where)
        found = scope.reaching(key, use)
        if found is not None:
            return found[0], found[1], where
        if key.startswith("self."):
            if where.cls is None:
                return None
            values = []
            for method in ModuleIndex.methods(where.cls).values():
                for value, path in self.index.scope(method).values_of(key):
                    values.append((value, path, Where(method, where.cls)))
            return values[0] if len(values) == 1 else None
        if where.function is None or key in scope.parameters or key in scope.bindings:
            return None
        if not self.index.is_top_level(where.function):
            return None  # a nested function's free names may be its enclosing function's: out of sight
        module_values = self.index.scope(self.index.module).values_of(key)
        if len(module_values) != 1:
            return None
        value, path = module_values[0]
        return value, path, Where(None, None)

    def source(self, expr: cst.BaseExpression, where: Where, path: tuple[int, ...] = (), depth: int = 0
               ) -> cst.CSTNode | None:
        """The producing call (or final layer) of ``expr``'s value, or of the element at ``path`` of a tuple."""
        if depth > _MAX_DEPTH or expr is None:
            return None
        if isinstance(expr, (cst.Tuple, cst.List)) and path:
            elements = expr.elements
            if any(isinstance(e, cst.StarredElement) for e in elements) or path[0] >= len(elements):
                return None
            return self.source(elements[path[0]].value, where, path[1:], depth + 1)
        key = binding_key(expr)
        if key is not None:
            found = self._lookup(key, expr, where)
            if found is None or found[0] is None:
                return None
            value, value_path, value_where = found
            return self.source(value, value_where, value_path + path, depth + 1)
        if isinstance(expr, cst.Subscript) and not path:
            return self.source(expr.value, where, path, depth + 1)
        if not isinstance(expr, cst.Call):
            return None
        if not path and self.produces(expr):
            return expr
        func = expr.func
        if (not path and isinstance(func, cst.Attribute) and func.attr.value in _SAME_VALUES
                and self.ctx.callee(expr) is None):
            return self.source(func.value, where, path, depth + 1)
        if isinstance(func, cst.Attribute) and is_self_attribute(func) and where.cls is not None:
            method = self.index.method(where.cls, func.attr.value)
            if method is not None:  # `self.forward(x)`, `self.head(x)` when `head` is a method
                return self._returned(method, where.cls, path, depth)
        return self.output_of(func, expr, where, path, depth)

    def _returned(self, function: cst.FunctionDef, cls: cst.ClassDef | None, path: tuple, depth: int
                  ) -> cst.CSTNode | None:
        """What ``function`` returns, when every ``return`` of it returns the value sought."""
        returns = [r for r in self.index.scope(function).returns]
        if not returns:
            return None
        found = None
        for ret in returns:
            source = self.source(ret.value, Where(function, cls), path, depth + 1) if ret.value else None
            if source is None:
                return None
            found = found or source
        return found

    def module_value(self, expr: cst.BaseExpression, use: cst.CSTNode, where: Where, depth: int = 0
                     ) -> tuple[cst.BaseExpression, Where] | None:
        """The constructor call of the module a callable expression holds (``model`` -> ``Net().to(device)``
        -> ``Net()``), or None."""
        if depth > _MAX_DEPTH:
            return None
        key = binding_key(expr)
        if key is not None:
            found = self._lookup(key, use, where)
            if found is None or found[0] is None or found[1]:
                return None
            return self.module_value(found[0], found[0], found[2], depth + 1)
        if not isinstance(expr, cst.Call):
            return None
        callee = self.ctx.callee(expr)
        if callee in _MODULE_WRAPPERS:
            args = [a for a in expr.args if a.keyword is None and not a.star]
            return self.module_value(args[0].value, use, where, depth + 1) if args else None
        func = expr.func
        if callee is None and isinstance(func, cst.Attribute) and func.attr.value in _SAME_MODULE_METHODS:
            return self.module_value(func.value, use, where, depth + 1)
        return expr, where

    def output_of(self, module: cst.BaseExpression, use: cst.CSTNode, where: Where, path: tuple, depth: int
                  ) -> cst.CSTNode | None:
        """The producing node of what calling ``module`` returns: a final layer itself, a ``Sequential`` that
        ends in one, or a module class of this file whose ``forward`` returns the value."""
        found = self.module_value(module, use, where, depth + 1)
        if found is None:
            return None
        constructor, constructor_where = found
        callee = self.ctx.callee(constructor)
        if callee in self.final_layers:
            return constructor if not path else None
        if callee == "torch.nn.Sequential":
            layers = [a for a in constructor.args if a.keyword is None]
            if not layers or layers[-1].star:
                return None
            return self.output_of(layers[-1].value, layers[-1].value, constructor_where, path, depth + 1)
        func = constructor.func
        if isinstance(func, cst.Name) and func.value in self.index.classes:
            cls = self.index.classes[func.value]
            forward = self.index.method(cls, "forward")
            return self._returned(forward, cls, path, depth) if forward is not None else None
        return None
