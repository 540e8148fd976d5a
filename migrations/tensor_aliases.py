"""Augmented assignment on a name that may share its tensor with another live tensor (pure: libcst only).

`h += x` is in place on a torch tensor (`Tensor.__iadd__`) and a rebinding on a Keras/TensorFlow tensor (they are
immutable). The two agree only while no other name, container, attribute or view still refers to `h`'s tensor:
after `outs["a"] = h`, `y = h`, `self.cache = h`, `outs.append(h)`, `h = x[:, :2]`, `h = x.view(...)` or `h = x`,
torch's `h += x` changes the other tensor too and the other framework's does not. The translators turn such an
update into a counted TODO at its statement, in both directions (Keras -> torch: the copied `h += x` would become
in place and change the alias).

The criterion is a flow over one function body in source order, no type inference:

- a parameter holds the caller's tensor: it is shared from the start;
- `name = value` makes `name` fresh when `value` is certainly a new tensor (arithmetic, a literal, an op or a
  catalogued layer that never returns its input or a view of it), shared when `value` may refer to another name's
  tensor (a name, a subscript or attribute of one, a view op, `F.dropout`, `nn.Identity`/`Dropout`/`Flatten`, an
  `inplace=True` activation, a call the flow does not know) -- and marks those other names shared as well;
  `h = h.view(...)` keeps `h`'s own state (its old tensor is not reachable any more);
- a name stored into a container, an attribute or an unknown call's arguments (`outs.append(h)`) is shared;
- `if`/`try`/`match` branches are joined (shared on any path is shared), loop bodies run to a fixed point;
- a name declared `global`/`nonlocal`, or not bound before in the function, counts as shared.

The same flow says which in-place tensor methods (`m.masked_fill_(mask, v)`, `x.new_full(...).triu_(1)`) write
into a tensor nothing else refers to: on a name that shares its tensor with nothing (`m.op_(...)` as a statement,
or `m = m.op_(...)`) or on a call that certainly returns a new tensor. There the write is exactly the rebinding
`m = m.op(...)` (the out-of-place op), which is what the Keras translation writes; anywhere else it stays a TODO.

Names that certainly hold a Python list/dict/set (see op_translator.python_containers) are never flagged: `outs +=
[h]` is plain Python in both frameworks. `@=` is not in place on torch tensors and is never flagged.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst

from ..analyzers.traversal import nodes_of_type
from . import catalog
from .closure import target_names
from .common import KERAS, TORCH, ParsedSource, code_of
from .torch_tensor_methods import TENSOR_METHODS

FRESH, ALIAS, UNKNOWN = "fresh", "alias", "unknown"
_RANK = {FRESH: 0, ALIAS: 1, UNKNOWN: 2}

# torch functions and Tensor methods whose result may be the input itself or a view of it
_TORCH_ALIAS_FUNCTIONS = {
    "reshape", "flatten", "unflatten", "squeeze", "unsqueeze", "transpose", "permute", "t", "adjoint", "narrow",
    "select", "split", "split_with_sizes", "chunk", "unbind", "tensor_split", "hsplit", "vsplit", "dsplit",
    "movedim", "moveaxis", "swapaxes", "swapdims", "diagonal", "detach", "as_strided", "view_as_real",
    "view_as_complex", "real", "imag", "broadcast_to", "broadcast_tensors", "atleast_1d", "atleast_2d",
    "atleast_3d", "meshgrid", "as_tensor", "asarray", "from_numpy", "conj", "resolve_conj", "resolve_neg",
    "dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout", "feature_alpha_dropout", "identity",
}
_TORCH_ALIAS_METHODS = _TORCH_ALIAS_FUNCTIONS | {
    "view", "view_as", "reshape_as", "expand", "expand_as", "unfold", "contiguous", "to", "type", "type_as",
    "cpu", "cuda", "float", "double", "half", "bfloat16", "int", "long", "short", "bool", "byte", "char",
    "numpy", "as_subclass", "requires_grad_", "share_memory_", "pin_memory", "data", "unsafe_chunk",
    "unsafe_split", "unsafe_split_with_sizes", "ravel",
}
# torch.nn layers whose call may return the input itself (eval-mode dropout, Identity) or a view of it
_TORCH_ALIAS_LAYERS = {"Identity", "Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout",
                       "FeatureAlphaDropout", "Flatten", "Unflatten"}
# Keras layers / keras.ops whose torch translation may return the input itself or a view of it
_KERAS_ALIAS_LAYERS = {"Identity", "Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D",
                       "AlphaDropout", "GaussianDropout", "GaussianNoise", "Flatten", "Reshape", "Permute",
                       "Cropping1D", "Cropping2D", "Cropping3D", "Activation", "Masking", "ActivityRegularization",
                       "Lambda", "RepeatVector"}
_KERAS_ALIAS_OPS = {"reshape", "transpose", "squeeze", "expand_dims", "swapaxes", "moveaxis", "split", "unstack",
                    "ravel", "broadcast_to", "flatten", "convert_to_tensor", "cast", "stop_gradient", "real", "imag",
                    "diagonal", "slice", "array", "identity", "dropout"}
# builtins that neither keep their arguments nor return one of them
_PURE_BUILTINS = {"len", "isinstance", "issubclass", "hasattr", "callable", "range", "print", "int", "float",
                  "bool", "str", "repr", "type", "id", "abs", "round", "divmod", "hash", "format"}
# attributes of a tensor that are metadata, not its data
_METADATA = {"shape", "ndim", "dtype", "device", "is_cuda", "requires_grad", "training", "grad_fn", "layout"}
_DISPLAYS = (cst.List, cst.Tuple, cst.Set, cst.Dict)
_COMPREHENSIONS = (cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp)


@dataclass
class _State:
    shared: dict[str, str] = field(default_factory=dict)  # name -> why it may share its tensor
    bound: set[str] = field(default_factory=set)
    declared: set[str] = field(default_factory=set)  # global / nonlocal

    def copy(self) -> "_State":
        return _State(dict(self.shared), set(self.bound), set(self.declared))

    def join(self, other: "_State") -> "_State":
        shared = dict(other.shared)
        shared.update(self.shared)
        return _State(shared, self.bound | other.bound, self.declared | other.declared)

    def same(self, other: "_State") -> bool:
        return set(self.shared) == set(other.shared) and self.bound == other.bound and \
            self.declared == other.declared


def _short(node: cst.CSTNode) -> str:
    text = " ".join(code_of(node).strip().splitlines()[0].split()) if code_of(node).strip() else ""
    return text if len(text) <= 50 else text[:47] + "..."


def _root(node: cst.BaseExpression) -> str | None:
    while isinstance(node, (cst.Attribute, cst.Subscript, cst.Call)):
        node = node.func if isinstance(node, cst.Call) else node.value
    return node.value if isinstance(node, cst.Name) else None


class _Flow:
    """One function's flow (see the module docstring); `flagged` maps each AugAssign that may be an aliased
    in-place update to why."""

    def __init__(self, source: ParsedSource, to: str, layers: dict[str, str], containers: frozenset[str]):
        self.source, self.to, self.layers, self.containers = source, to, layers, containers
        self.flagged: dict[cst.AugAssign, str] = {}
        # in-place method calls -> whether each visit (loop bodies are visited more than once) found the tensor
        # they write into unshared
        self.in_place: dict[cst.Call, bool] = {}

    # -- what a value may refer to --
    def call_kind(self, call: cst.Call) -> str:
        func = call.func
        if any(arg.keyword is not None and arg.keyword.value == "inplace" and code_of(arg.value) != "False"
               for arg in call.args):
            return ALIAS
        canonical = self.source.resolve(func)
        if canonical:
            last = canonical.rsplit(".", 1)[-1]
            library = _library_kind(canonical)
            if library is not None:
                return library
            if canonical.startswith("torch"):
                if last in _TORCH_ALIAS_METHODS or (last.endswith("_") and not last.startswith("_")):
                    return ALIAS
                return FRESH
            if canonical.startswith("keras.ops.") or canonical.startswith("keras.random."):
                return ALIAS if last in _KERAS_ALIAS_OPS else FRESH
            if canonical.startswith("keras.layers.") or canonical.startswith("keras."):
                return FRESH if last[:1].isupper() else UNKNOWN  # a layer object; keras.activations.*: unknown
            return UNKNOWN
        if isinstance(func, cst.Name):
            return FRESH if func.value in _PURE_BUILTINS else UNKNOWN
        if not isinstance(func, cst.Attribute):
            return UNKNOWN  # self.blocks[i](h), make()(h)
        receiver, name = func.value, func.attr.value
        if isinstance(receiver, cst.Name) and receiver.value == "self":
            return self.layers.get(name, UNKNOWN)  # a layer built in __init__, or one of the model's own methods
        if isinstance(receiver, (*_DISPLAYS, *_COMPREHENSIONS, cst.SimpleString, cst.FormattedString)) or (
                isinstance(receiver, cst.Name) and receiver.value in self.containers):
            return UNKNOWN  # outs.append(h), outs.pop(), feats.get("a")
        if name in _TORCH_ALIAS_METHODS or (name.endswith("_") and name in TENSOR_METHODS):
            return ALIAS
        return FRESH if name in TENSOR_METHODS else UNKNOWN

    def refers(self, node: cst.BaseExpression | None) -> set[str]:
        """The names whose tensor the value of `node` may be, contain or be a view of."""
        if node is None or isinstance(node, (cst.BaseNumber, cst.SimpleString, cst.ConcatenatedString,
                                             cst.FormattedString, cst.Ellipsis)):
            return set()
        if isinstance(node, cst.Name):
            return set() if node.value in ("None", "True", "False") else {node.value}
        if isinstance(node, cst.Attribute):
            return set() if node.attr.value in _METADATA else self.refers(node.value)
        if isinstance(node, cst.Subscript):
            return self.refers(node.value)
        if isinstance(node, (cst.BinaryOperation, cst.UnaryOperation, cst.Comparison)):
            return self.contained(node)  # a new tensor; `outs + [h]` is a list holding h
        if isinstance(node, cst.BooleanOperation):
            return self.refers(node.left) | self.refers(node.right)
        if isinstance(node, cst.IfExp):
            return self.refers(node.body) | self.refers(node.orelse)
        if isinstance(node, cst.NamedExpr):
            return self.refers(node.value)
        if isinstance(node, _DISPLAYS):
            return self.contained(node)
        if isinstance(node, cst.Call):
            kind = self.call_kind(node)
            if kind == FRESH:
                return set()
            found = set().union(*(self.refers(arg.value) for arg in node.args))
            if isinstance(node.func, cst.Attribute) and self.source.resolve(node.func) is None:
                receiver = node.func.value  # a method of a value, not a module's function (torch.reshape)
                if not (isinstance(receiver, cst.Name) and receiver.value == "self" and
                        node.func.attr.value in self.layers):
                    found |= self.refers(receiver)  # x.view(...), outs.pop(), self.helper(h) may return self.x
            return found
        # comprehensions, lambdas, await, yield, starred: every name they mention
        return {name.value for name in _names(node)}

    def contained(self, node: cst.BaseExpression) -> set[str]:
        """The names a container display holds directly (`[h]`, `{"a": h}`, `outs + [h]`)."""
        if isinstance(node, (cst.List, cst.Tuple, cst.Set)):
            return set().union(*(self.refers(element.value) for element in node.elements))
        if isinstance(node, cst.Dict):
            return set().union(*(self.refers(element.value) for element in node.elements))
        if isinstance(node, cst.BinaryOperation):
            return self.contained(node.left) | self.contained(node.right)
        if isinstance(node, _COMPREHENSIONS):
            return {name.value for name in _names(node)}
        return set()

    # -- statements --
    def function(self, function: cst.FunctionDef, state: _State | None = None) -> None:
        state = state or _State()
        params = function.params
        for param in (*params.posonly_params, *params.params, *params.kwonly_params):
            self.bind_shared(state, param.name.value, f"`{param.name.value}` is a parameter: the caller's tensor")
        for star in (params.star_arg, params.star_kwarg):
            if isinstance(star, cst.Param):
                self.bind_shared(state, star.name.value, f"`{star.name.value}` is a parameter")
        self.body(function.body, state)

    @staticmethod
    def bind_shared(state: _State, name: str, why: str) -> None:
        state.bound.add(name)
        state.shared.setdefault(name, why)

    def block(self, statements, state: _State) -> _State:
        for statement in statements:
            state = self.statement(statement, state)
        return state

    def body(self, suite: cst.BaseSuite, state: _State) -> _State:
        if isinstance(suite, cst.SimpleStatementSuite):  # if c: y = h
            for small in suite.body:
                self.small(small, suite, state)
            return state
        return self.block(suite.body, state)

    def loop(self, suite: cst.BaseSuite, state: _State) -> _State:
        for _ in range(4):  # the states only grow: a few passes reach the fixed point
            after = state.join(self.body(suite, state.copy()))
            if after.same(state):
                break
            state = after
        return state

    def statement(self, node: cst.BaseStatement, state: _State) -> _State:
        if isinstance(node, cst.SimpleStatementLine):
            for small in node.body:
                self.small(small, node, state)
            return state
        if isinstance(node, cst.If):
            self.stores(node.test, node, state)
            taken = self.body(node.body, state.copy())
            other = state.copy()
            if isinstance(node.orelse, cst.If):
                other = self.statement(node.orelse, other)
            elif node.orelse is not None:
                other = self.body(node.orelse.body, other)
            return taken.join(other)
        if isinstance(node, cst.For):
            self.stores(node.iter, node, state)
            refers = self.refers(node.iter)
            looped = state.copy()
            for name in target_names(node.target):
                self.bind(looped, name, refers, node)
            state = self.loop(node.body, state.join(looped))
            return self.body(node.orelse.body, state) if node.orelse else state
        if isinstance(node, cst.While):
            self.stores(node.test, node, state)
            state = self.loop(node.body, state)
            return self.body(node.orelse.body, state) if node.orelse else state
        if isinstance(node, cst.With):
            for item in node.items:
                self.stores(item.item, node, state)
                if item.asname is not None:
                    for name in target_names(item.asname.name):
                        self.bind_shared(state, name, f"`{_short(item)}`")
            return self.body(node.body, state)
        if isinstance(node, (cst.Try, cst.TryStar)):
            tried = self.body(node.body, state.copy())
            entry = state.join(tried)
            ends = [self.body(node.orelse.body, tried.copy()) if node.orelse else tried]
            for handler in node.handlers:
                caught = entry.copy()
                if handler.name is not None:
                    self.bind_shared(caught, handler.name.name.value, "an exception")
                ends.append(self.body(handler.body, caught))
            joined = ends[0]
            for end in ends[1:]:
                joined = joined.join(end)
            joined = joined.join(entry)
            return self.body(node.finalbody.body, joined) if node.finalbody else joined
        if isinstance(node, cst.Match):
            self.stores(node.subject, node, state)
            joined = state.copy()
            for case in node.cases:
                matched = state.copy()
                for name in _names(case.pattern):
                    self.bind_shared(matched, name.value, f"`{_short(case.pattern)}`")
                joined = joined.join(self.body(case.body, matched))
            return joined
        if isinstance(node, (cst.FunctionDef, cst.ClassDef)):
            if isinstance(node, cst.FunctionDef):
                self.function(node)  # its own flow: its parameters are shared, unbound/nonlocal names are flagged
            for name in _names(node.body):  # the enclosing names it uses may be kept or changed when it runs
                if name.value in state.bound:
                    state.shared.setdefault(name.value, f"`{name.value}` is used in `{node.name.value}`")
            self.bind_shared(state, node.name.value, "a function or class")
            return state
        return state

    def unshared(self, name: str, state: _State) -> bool:
        """`name` holds a tensor no other name, container, attribute or view refers to."""
        return name in state.bound and name not in state.shared and name not in state.declared and \
            name not in self.containers

    def in_place_calls(self, node: cst.BaseSmallStatement, state: _State) -> None:
        """Record the in-place method calls of this statement that write into an unshared tensor: on a call that
        certainly returns a new tensor (anywhere in the statement), or on an unshared name when the statement is
        `m.op_(...)` or `m = m.op_(...)` (the write is then the rebinding of `m`)."""
        for call in nodes_of_type(node, cst.Call):
            if _in_place_method(call) and isinstance(call.func.value, cst.Call) and \
                    self.call_kind(call.func.value) == FRESH:
                self.in_place.setdefault(call, True)
        if isinstance(node, cst.Expr):
            call, target = node.value, None
        elif isinstance(node, cst.Assign) and len(node.targets) == 1 and isinstance(node.targets[0].target, cst.Name):
            call, target = node.value, node.targets[0].target.value
        else:
            return
        if not (isinstance(call, cst.Call) and _in_place_method(call) and isinstance(call.func.value, cst.Name)):
            return
        receiver = call.func.value.value
        unshared = (target is None or target == receiver) and self.unshared(receiver, state)
        self.in_place[call] = self.in_place.get(call, True) and unshared

    def small(self, node: cst.BaseSmallStatement, line: cst.CSTNode, state: _State) -> None:
        if self.to == KERAS:
            self.in_place_calls(node, state)
        if isinstance(node, cst.Assign):
            self.stores(node.value, line, state)
            refers = self.refers(node.value)
            names = [name for target in node.targets for name in target_names(target.target)]
            for target in node.targets:
                self.assign(target.target, refers, line, state)
            if len(node.targets) > 1:  # a = b = value: one tensor, two names
                for name in names:
                    state.shared.setdefault(name, f"`{_short(line)}`")
        elif isinstance(node, cst.AnnAssign) and node.value is not None:
            self.stores(node.value, line, state)
            self.assign(node.target, self.refers(node.value), line, state)
        elif isinstance(node, cst.AugAssign):
            self.stores(node.value, line, state)
            if isinstance(node.target, cst.Name):
                self.check(node, state)
            else:
                self.stores(node.target, line, state)
            for name in self.contained(node.value):  # outs += [h], self.feats += [h]
                state.shared.setdefault(name, f"`{_short(line)}`")
        elif isinstance(node, (cst.Expr, cst.Return, cst.Raise, cst.Assert)):
            for child in node.children:
                if isinstance(child, cst.BaseExpression):
                    self.stores(child, line, state)
        elif isinstance(node, (cst.Global, cst.Nonlocal)):
            for item in node.names:
                state.declared.add(item.name.value)
        elif isinstance(node, (cst.Import, cst.ImportFrom)) and not isinstance(node.names, cst.ImportStar):
            for alias in node.names:
                bound = alias.asname.name if alias.asname is not None else alias.name
                name = _root(bound) if isinstance(bound, cst.Attribute) else getattr(bound, "value", None)
                if name:
                    self.bind_shared(state, name, "an import")

    def check(self, node: cst.AugAssign, state: _State) -> None:
        name = node.target.value
        if name in self.containers or isinstance(node.operator, cst.MatrixMultiplyAssign):
            return
        if name in state.declared:
            why = f"`{name}` is declared global/nonlocal or comes from the enclosing function"
        elif name not in state.bound:
            why = f"`{name}` is not bound before this line in the function"
        elif name in state.shared:
            why = state.shared[name]
        else:
            return
        operator = code_of(node.operator).strip()
        rewrite = f"`{name} = {name} {operator[:-1]} ...`"
        if self.to == KERAS:
            reason = (f"`{name} {operator} ...` is in place in torch and `{name}` may share its tensor here ({why}): "
                      f"torch changes the other tensor too, the Keras translation only rebinds `{name}`; write "
                      f"{rewrite} if the other tensor must keep its value, or update it explicitly")
        else:
            reason = (f"`{name} {operator} ...` rebinds `{name}` in Keras but is in place in torch, and `{name}` may "
                      f"share its tensor here ({why}): the PyTorch translation would change the other tensor too; "
                      f"write {rewrite} if `{name}` holds a tensor")
        self.flagged.setdefault(node, reason)

    def assign(self, target: cst.BaseExpression, refers: set[str], line: cst.CSTNode, state: _State) -> None:
        if isinstance(target, cst.Name):
            self.bind(state, target.value, refers, line)
        elif isinstance(target, (cst.Tuple, cst.List)):
            for element in target.elements:
                self.assign(element.value, refers, line, state)  # unpacking: each part may be any element
        elif isinstance(target, cst.StarredElement):
            self.assign(target.value, refers, line, state)
        else:  # outs["a"] = h, self.cache = h: h is stored
            self.stores(target, line, state)
            for name in refers:
                state.shared.setdefault(name, f"`{_short(line)}`")

    def bind(self, state: _State, name: str, refers: set[str], line: cst.CSTNode) -> None:
        why = f"`{_short(line)}`"
        others = refers - {name}
        for other in others:
            state.shared.setdefault(other, why)
        was_shared = name in state.shared
        state.bound.add(name)
        if others:
            state.shared[name] = why
        elif name in refers and was_shared:
            pass  # h = h.view(...): as shared as h was
        else:
            state.shared.pop(name, None)  # a fresh tensor, or a view of h's old tensor that nothing else holds

    def stores(self, node: cst.CSTNode | None, line: cst.CSTNode, state: _State) -> None:
        """Calls that may keep their arguments (`outs.append(h)`, `self.remember(h)`, a custom module) share them;
        a walrus binds."""
        if node is None:
            return
        flow = self

        class Calls(cst.CSTVisitor):
            def visit_Call(self, call: cst.Call) -> None:
                if flow.call_kind(call) == UNKNOWN:
                    for arg in call.args:
                        for name in flow.refers(arg.value):
                            state.shared.setdefault(name, f"`{_short(line)}`")

            def visit_NamedExpr(self, walrus: cst.NamedExpr) -> None:
                if isinstance(walrus.target, cst.Name):
                    flow.bind(state, walrus.target.value, flow.refers(walrus.value), line)

        node.visit(Calls())


def _in_place_method(call: cst.Call) -> bool:
    """`x.masked_fill_(...)`: a torch in-place tensor method called on a value (not `self.reset_()`)."""
    func = call.func
    return isinstance(func, cst.Attribute) and func.attr.value.endswith("_") and \
        func.attr.value in TENSOR_METHODS and not (isinstance(func.value, cst.Name) and func.value.value == "self")


def _names(node: cst.CSTNode) -> list[cst.Name]:
    found: list[cst.Name] = []

    class Names(cst.CSTVisitor):
        def visit_Name(self, name: cst.Name) -> None:
            found.append(name)

        def visit_Attribute(self, attribute: cst.Attribute) -> bool:
            attribute.value.visit(self)
            return False  # x.attr mentions x, not attr

    node.visit(Names())
    return found


def layer_kinds(source: ParsedSource, klass: cst.ClassDef | None) -> dict[str, str]:
    """`self.<attr>` built in the class's __init__ from a call: FRESH when calling it always gives a new tensor
    (a catalogued layer that never returns its input or a view of it), ALIAS when it may (Identity, Dropout,
    Flatten, inplace=True, ...); a submodule the user's code builds (a class of this module, a helper, a factory
    argument) is FRESH unless its class's forward may return an argument; UNKNOWN otherwise."""
    kinds: dict[str, str] = {}
    if klass is None:
        return kinds
    for statement in klass.body.body:
        if not (isinstance(statement, cst.FunctionDef) and statement.name.value == "__init__"):
            continue
        for node in nodes_of_type(statement, cst.Assign):
            for target in node.targets:
                attr = target.target
                if not (isinstance(attr, cst.Attribute) and isinstance(attr.value, cst.Name) and
                        attr.value.value == "self"):
                    continue
                kind = _layer_kind(source, node.value, statement)
                name = attr.attr.value
                kinds[name] = kind if _RANK[kind] >= _RANK[kinds.get(name, FRESH)] else kinds[name]
    return kinds


def _layer_kind(source: ParsedSource, value: cst.BaseExpression, init: cst.FunctionDef | None = None) -> str:
    if not isinstance(value, cst.Call):
        return UNKNOWN
    canonical = source.resolve(value.func) or ""
    last = canonical.rsplit(".", 1)[-1]
    if canonical in ("torch.nn.Sequential", "keras.Sequential", "keras.models.Sequential"):
        return _sequential_kind(source, value.args, init)
    if any(arg.keyword is not None and arg.keyword.value == "inplace" and code_of(arg.value) != "False"
           for arg in value.args):
        return ALIAS
    if canonical.startswith("torch.nn."):
        if last in _TORCH_ALIAS_LAYERS or any(code_of(arg.value) == "True" for arg in value.args
                                              if arg.keyword is None):
            return ALIAS  # nn.ReLU(True) is inplace=True
        return FRESH if last[:1].isupper() else UNKNOWN
    if canonical.startswith("keras.layers.") or canonical.startswith("keras.") and last[:1].isupper():
        return ALIAS if last in _KERAS_ALIAS_LAYERS else FRESH
    library = _library_kind(canonical)
    if library is not None:
        return library
    if canonical:
        return UNKNOWN
    # A submodule built by the user's own code: a class of this module, a helper (`conv3x3(...)`) or a factory
    # argument (`norm_layer(planes)`). Modules compute new tensors; a class of this module whose forward/call can
    # return one of its arguments unchanged (a DropPath in eval mode) may alias it.
    klass = source.classes.get(value.func.value) if isinstance(value.func, cst.Name) else None
    if klass is not None:
        return ALIAS if _may_return_argument(klass, source) else FRESH
    return FRESH if isinstance(value.func, (cst.Name, cst.Attribute)) else UNKNOWN


def _library_kind(canonical: str) -> str | None:
    """A layer or op of a torch library other than torch itself (torchvision's StochasticDepth, timm's DropPath /
    drop_path) that the catalog maps: its code is known, it keeps no reference to its input, and its result is the
    input itself exactly when the catalog's counterpart is the identity (stochastic depth at inference or with
    p = 0), a new tensor otherwise. None for anything else."""
    if canonical.startswith("torch."):
        return None
    entries = catalog.torch_entries(canonical)
    if entries:
        return ALIAS if entries[0].keras == "keras.layers.Identity" else FRESH
    op = catalog.OPS_BY_TORCH.get(canonical) or catalog.ONE_WAY_BY_TORCH.get(canonical)
    if op is not None:
        return ALIAS if op.keras == "keras.ops.identity" else FRESH
    return None


def _sequential_kind(source: ParsedSource, args, init: cst.FunctionDef | None) -> str:
    """A Sequential of the given constructor arguments (layers, one list display of them, or `*layers` of a list
    that `init` builds): FRESH when a layer that gives a new tensor is there on every path (whatever follows
    returns that tensor or a new one), ALIAS when none is, UNKNOWN when a layer or the list is not known."""
    if any(arg.star == "**" for arg in args):
        return UNKNOWN
    elements = [arg.value for arg in args if not arg.star]
    if len(elements) == 1 and len(args) == 1 and isinstance(elements[0], cst.List):
        elements = [element.value for element in elements[0].elements]
    kinds = [_layer_kind(source, element, init) for element in elements]
    certain = FRESH in kinds
    for arg in args:
        if arg.star != "*":
            continue
        added = _list_layers(arg.value, init)
        if added is None:
            return UNKNOWN
        kinds += [_layer_kind(source, element, init) for element in added]
        certain = certain or _adds_fresh(source, init.body.body, arg.value.value, init)
    if UNKNOWN in kinds:
        return UNKNOWN
    return FRESH if certain else ALIAS


def _added(statement: cst.SimpleStatementLine | cst.SimpleStatementSuite, name: str) -> list | None:
    """The layers a simple statement puts into the list `name` (`name = [...]`, `name.append(x)`,
    `name.extend([...])`, `name += [...]`); None when it binds or changes the list in another way."""
    added: list[cst.BaseExpression] = []
    for small in statement.body:
        if isinstance(small, (cst.Assign, cst.AnnAssign)):
            targets = [t.target for t in small.targets] if isinstance(small, cst.Assign) else [small.target]
            if any(isinstance(t, cst.Name) and t.value == name for t in targets):
                if len(targets) != 1 or not isinstance(small.value, cst.List):
                    return None
                added += [element.value for element in small.value.elements]
        elif isinstance(small, cst.AugAssign) and isinstance(small.target, cst.Name) and small.target.value == name:
            if not (isinstance(small.operator, cst.AddAssign) and isinstance(small.value, cst.List)):
                return None
            added += [element.value for element in small.value.elements]
        elif isinstance(small, cst.Expr) and isinstance(small.value, cst.Call) and \
                isinstance(small.value.func, cst.Attribute) and isinstance(small.value.func.value, cst.Name) and \
                small.value.func.value.value == name:
            method, arguments = small.value.func.attr.value, [arg.value for arg in small.value.args]
            if method == "append" and len(arguments) == 1:
                added.append(arguments[0])
            elif method == "extend" and len(arguments) == 1 and isinstance(arguments[0], cst.List):
                added += [element.value for element in arguments[0].elements]
            else:
                return None
    return added


def _list_layers(value: cst.BaseExpression, init: cst.FunctionDef | None) -> list | None:
    """Every layer that a local list of `init` may collect (`layers = [...]`, `layers: list[nn.Module] = []`,
    `layers.append(x)`, `layers.extend([...])`, `layers += [...]`, anywhere in the function); None when the list
    may hold anything else (a parameter, bound to another value, passed to a call, changed otherwise)."""
    if not (isinstance(value, cst.Name) and init is not None) or not isinstance(init.body, cst.IndentedBlock):
        return None
    name = value.value
    if any(param.name.value == name for param in nodes_of_type(init.params, cst.Param)):
        return None
    found: list = []
    for statement in nodes_of_type(init.body, (cst.SimpleStatementLine, cst.SimpleStatementSuite)):
        added = _added(statement, name)
        if added is None:
            return None
        found += added
    # the list must be built here, and any other use of it (passed to a helper, stored) may add to it
    bound = any(isinstance(node.target, cst.Name) and node.target.value == name
                for node in nodes_of_type(init.body, (cst.AssignTarget, cst.AnnAssign)))
    read = _list_reads(init.body, name)
    if not bound or any(node.value == name and node not in read for node in nodes_of_type(init.body, cst.Name)):
        return None
    return found


def _adds_fresh(source: ParsedSource, statements, name: str, init: cst.FunctionDef) -> bool:
    """Whether running `statements` certainly puts into the list `name` a layer that gives a new tensor: one
    statement directly in the block does, or an `if` does on each of its branches (loops may run zero times)."""
    for statement in statements:
        if isinstance(statement, cst.SimpleStatementLine):
            if any(_layer_kind(source, element, init) == FRESH for element in _added(statement, name) or ()):
                return True
        elif isinstance(statement, cst.If) and statement.orelse is not None:
            orelse = statement.orelse
            other = [orelse] if isinstance(orelse, cst.If) else orelse.body.body
            if _adds_fresh(source, statement.body.body, name, init) and _adds_fresh(source, other, name, init):
                return True
        elif isinstance(statement, cst.With) and _adds_fresh(source, statement.body.body, name, init):
            return True
    return False


def _list_reads(body: cst.CSTNode, name: str) -> set[cst.Name]:
    """The uses of the list `name` that _list_layers reads: binding targets, the receiver of append/extend,
    `*name` and `len(name)`."""
    read: set[cst.Name] = set()
    for node in nodes_of_type(body, (cst.AssignTarget, cst.AnnAssign, cst.AugAssign, cst.Attribute, cst.Arg,
                                     cst.Call)):
        if isinstance(node, (cst.AssignTarget, cst.AnnAssign, cst.AugAssign)):
            read.add(node.target)
        elif isinstance(node, cst.Attribute):
            read.add(node.attr)  # `self.layers`: an attribute's name, not the local
            if node.attr.value in ("append", "extend"):
                read.add(node.value)
        elif isinstance(node, cst.Arg):
            read.update(part for part in (node.keyword, node.value if node.star == "*" else None) if part)
        elif isinstance(node, cst.Call) and isinstance(node.func, cst.Name) and node.func.value == "len":
            read.update(arg.value for arg in node.args)
    return {node for node in read if isinstance(node, cst.Name) and node.value == name}


def _may_return_argument(klass: cst.ClassDef, source: ParsedSource | None = None) -> bool:
    """Whether calling an instance of `klass` may return one of its arguments unchanged: its forward/call returns
    a parameter; without a forward of its own, its base's (a class of this module), or, for a subclass of
    torch.nn.Sequential, the Sequential of the layers its __init__ passes to `super().__init__` (torchvision's
    ConvNormActivation); anything else may."""
    for method in klass.body.body:
        if isinstance(method, cst.FunctionDef) and method.name.value in ("forward", "call"):
            params = {param.name.value for param in method.params.params[1:]}
            return any(isinstance(node.value, cst.Name) and node.value.value in params
                       for node in nodes_of_type(method, cst.Return))
    if source is None or len(klass.bases) != 1:
        return True
    base = klass.bases[0].value
    base_class = source.classes.get(base.value) if isinstance(base, cst.Name) else None
    if base_class is not None and base_class is not klass:
        return _may_return_argument(base_class, source)
    if source.resolve(base) != "torch.nn.Sequential":
        return True
    init = next((method for method in klass.body.body if isinstance(method, cst.FunctionDef) and
                 method.name.value == "__init__"), None)
    calls = [call for call in nodes_of_type(init, cst.Call) if _is_super_init(call)] if init is not None else []
    return len(calls) != 1 or _sequential_kind(source, calls[0].args, init) != FRESH


def _is_super_init(call: cst.Call) -> bool:
    func = call.func
    return isinstance(func, cst.Attribute) and func.attr.value == "__init__" and isinstance(func.value, cst.Call) \
        and isinstance(func.value.func, cst.Name) and func.value.func.value == "super"


@dataclass(frozen=True)
class FunctionAliases:
    """What the flow found in one function: ``updates`` as :func:`aliased_updates` returns them; ``out_of_place``:
    the in-place tensor method calls that write into a tensor nothing else refers to (torch -> Keras only), which
    the translation may write as the out-of-place op (and a rebinding of the receiver, for `m.op_(...)`)."""

    updates: dict[cst.BaseStatement, dict[int, str]]
    out_of_place: frozenset[cst.Call]


def function_aliases(source: ParsedSource, function: cst.FunctionDef, to: str, klass: cst.ClassDef | None = None,
                     containers: frozenset[str] = frozenset()) -> FunctionAliases:
    if to not in (KERAS, TORCH):
        return FunctionAliases({}, frozenset())
    flow = _Flow(source, to, layer_kinds(source, klass), containers)
    flow.function(function)
    result: dict[cst.BaseStatement, dict[int, str]] = {}
    for statement in function.body.body if flow.flagged else ():
        found = {index: flow.flagged[node] for index, node in enumerate(name_updates(statement))
                 if node in flow.flagged}
        if found:
            result[statement] = found
    return FunctionAliases(result, frozenset(call for call, unshared in flow.in_place.items() if unshared))


def aliased_updates(source: ParsedSource, function: cst.FunctionDef, to: str, klass: cst.ClassDef | None = None,
                    containers: frozenset[str] = frozenset()) -> dict[cst.BaseStatement, dict[int, str]]:
    """For each top-level statement of `function`: the augmented assignments on a name (numbered in source order
    within that statement, as OpTranslator meets them) that may change a tensor shared with another live tensor,
    with the TODO reason."""
    return function_aliases(source, function, to, klass, containers).updates


def name_updates(node: cst.CSTNode) -> list[cst.AugAssign]:
    """The augmented assignments on a plain name in `node`, in source order."""
    return [update for update in nodes_of_type(node, cst.AugAssign) if isinstance(update.target, cst.Name)]
