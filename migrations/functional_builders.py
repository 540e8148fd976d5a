"""Keras -> torch functional builders as Python runs them, before the graph walk: an `if` on the builder's own
arguments is decided with their defaults (each decision becomes a guard in the generated __init__, so a call with
other values fails loudly instead of building another model), and helper functions in functional style
(`def block(x, filters): x = layers.Conv2D(filters, 3)(x); return x`) are inlined at their call sites, their
non-tensor parameters replaced by the arguments given. What is left is one straight line of layer applications.
"""

from __future__ import annotations

import operator
import re

import libcst as cst

from .common import code_of, literal

_UNKNOWN = object()
_COMPARISONS = {cst.Equal: operator.eq, cst.NotEqual: operator.ne, cst.Is: operator.is_, cst.IsNot: operator.is_not,
                cst.LessThan: operator.lt, cst.GreaterThan: operator.gt, cst.LessThanEqual: operator.le,
                cst.GreaterThanEqual: operator.ge, cst.In: lambda a, b: a in b, cst.NotIn: lambda a, b: a not in b}
_ARITHMETIC = {cst.Add: operator.add, cst.Subtract: operator.sub, cst.Multiply: operator.mul,
               cst.Divide: operator.truediv, cst.FloorDivide: operator.floordiv, cst.Modulo: operator.mod}
_MAX_INLINING_DEPTH = 8


# functions whose value the translation fixes: it keeps Keras's default channels-last layout (layout preserve)
_KNOWN_CALLS = {"keras.backend.image_data_format": "channels_last", "keras.config.image_data_format": "channels_last"}


def static_value(node: cst.BaseExpression, known: dict[str, object], resolve=lambda node: None):
    """The value of a condition built from literals, names in ``known`` and the calls in _KNOWN_CALLS
    (comparisons, and/or/not), or _UNKNOWN."""
    if isinstance(node, cst.Call) and not node.args and resolve(node.func) in _KNOWN_CALLS:
        return _KNOWN_CALLS[resolve(node.func)]
    if isinstance(node, cst.Name) and node.value in known:
        return known[node.value]
    if isinstance(node, cst.Call) and code_of(node.func) == "len" and len(node.args) == 1 and not node.args[0].keyword:
        sized = static_value(node.args[0].value, known, resolve)  # `len(stackwise_num_filters)` of a given list
        return _UNKNOWN if sized is _UNKNOWN or not hasattr(sized, "__len__") else len(sized)
    if isinstance(node, cst.Call) and code_of(node.func) == "str" and len(node.args) == 1 and \
            not node.args[0].keyword and not node.args[0].star:
        # `name + "_block" + str(i)` of an unrolled loop: the layer's name is a string known when translating
        value = static_value(node.args[0].value, known, resolve)
        return str(value) if isinstance(value, (int, float, str)) else _UNKNOWN
    if isinstance(node, cst.Name) and node.value in ("True", "False", "None"):
        return {"True": True, "False": False, "None": None}[node.value]
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Not):
        value = static_value(node.expression, known, resolve)
        return _UNKNOWN if value is _UNKNOWN else not value
    if isinstance(node, cst.BooleanOperation):
        left = static_value(node.left, known, resolve)
        if left is _UNKNOWN:
            # `input_shape is not None and input_tensor is not None` with input_tensor=None: false whatever the
            # left side is (a truth value is all an `if` asks of it)
            right = static_value(node.right, known, resolve)
            decisive = False if isinstance(node.operator, cst.And) else True
            return right if isinstance(right, bool) and right is decisive else _UNKNOWN
        if isinstance(node.operator, cst.And) and not left or isinstance(node.operator, cst.Or) and left:
            return left
        return static_value(node.right, known, resolve)
    if isinstance(node, cst.IfExp):
        test = static_value(node.test, known, resolve)
        if test is _UNKNOWN:
            return _UNKNOWN
        return static_value(node.body if test else node.orelse, known, resolve)
    if isinstance(node, cst.BinaryOperation) and type(node.operator) in _ARITHMETIC:
        left, right = static_value(node.left, known, resolve), static_value(node.right, known, resolve)
        if left is _UNKNOWN or right is _UNKNOWN:
            return _UNKNOWN
        try:
            return _ARITHMETIC[type(node.operator)](left, right)
        except (TypeError, ValueError, ArithmeticError):
            return _UNKNOWN
    if isinstance(node, cst.Subscript) and len(node.slice) == 1 and isinstance(node.slice[0].slice, cst.Index):
        container = static_value(node.value, known, resolve)
        index = static_value(node.slice[0].slice.value, known, resolve)
        if container is _UNKNOWN or index is _UNKNOWN:
            return _UNKNOWN
        try:
            return container[index]
        except (TypeError, IndexError, KeyError):
            return _UNKNOWN
    if isinstance(node, (cst.List, cst.Tuple)) and all(isinstance(e, cst.Element) for e in node.elements):
        values = [static_value(e.value, known, resolve) for e in node.elements]
        if any(v is _UNKNOWN for v in values):
            return _UNKNOWN
        return values if isinstance(node, cst.List) else tuple(values)
    if isinstance(node, cst.Comparison):
        left = static_value(node.left, known, resolve)
        for target in node.comparisons:
            right = static_value(target.comparator, known, resolve)
            compare = _COMPARISONS.get(type(target.operator))
            if left is _UNKNOWN or right is _UNKNOWN or compare is None:
                return _UNKNOWN
            try:
                if not compare(left, right):
                    return False
            except TypeError:
                return _UNKNOWN
            left = right
        return True
    if isinstance(node, (cst.Name, cst.Attribute, cst.Call, cst.Subscript)):
        return _UNKNOWN
    ok, value = literal(code_of(node))
    return value if ok else _UNKNOWN


def given_arguments(function: cst.FunctionDef, init_args: str | None) -> dict[str, object]:
    """The builder's parameters bound to the argument list ``init_args`` (`include_top=False, classes=10`): literal
    values as values, anything else as unknown."""
    if not init_args:
        return {}
    call = cst.parse_expression(f"f({init_args}\n)")
    params = [*function.params.posonly_params, *function.params.params]
    names = {p.name.value for p in (*params, *function.params.kwonly_params)}
    given: dict[str, object] = {}
    for index, arg in enumerate(call.args):
        if arg.star:
            return {}  # `*args`/`**kwargs`: which parameter gets what is not known
        name = arg.keyword.value if arg.keyword is not None else (
            params[index].name.value if index < len(params) else None)
        if name in names:
            ok, value = literal(code_of(arg.value))
            given[name] = value if ok else _UNKNOWN
    return given


def _parameter_defaults(function: cst.FunctionDef) -> dict[str, object]:
    known = {}
    for param in (*function.params.posonly_params, *function.params.params, *function.params.kwonly_params):
        if param.default is not None:
            ok, value = literal(code_of(param.default))
            if ok:
                known[param.name.value] = value
    return known


def names_used(node: cst.CSTNode) -> set[str]:
    """The variables a node reads: `x.shape` reads x (not shape), `Dense(units=n)` reads n (not units)."""
    names: set[str] = set()

    class Names(cst.CSTVisitor):
        def visit_Name(self, name: cst.Name) -> None:
            names.add(name.value)

        def visit_Attribute(self, attribute: cst.Attribute) -> bool:
            attribute.value.visit(self)
            return False

        def visit_Arg(self, arg: cst.Arg) -> bool:
            arg.value.visit(self)
            return False

    node.visit(Names())
    return names


def assigned_names(statement: cst.CSTNode) -> set[str]:
    names: set[str] = set()

    class Targets(cst.CSTVisitor):
        def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
            names.update(_names_in(node.target))

        def visit_AugAssign(self, node: cst.AugAssign) -> None:
            names.update(_names_in(node.target))

        def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
            names.update(_names_in(node.target))

        def visit_For(self, node: cst.For) -> None:
            names.update(_names_in(node.target))

    statement.visit(Targets())
    return names


def _names_in(target: cst.BaseExpression) -> set[str]:
    if isinstance(target, cst.Name):
        return {target.value}
    if isinstance(target, (cst.Tuple, cst.List)):
        return {name for element in target.elements for name in _names_in(element.value)}
    if isinstance(target, cst.StarredElement):
        return _names_in(target.value)
    return set()


class _Substitute(cst.CSTTransformer):
    """Names -> expressions (a helper's parameters -> its arguments, its locals -> fresh names); keywords and
    attribute names are not variables and stay."""

    def __init__(self, replacements: dict[str, str]):
        super().__init__()
        self.replacements = replacements
        self.fstring_quotes: list[str] = []  # the quotes of the f-strings around the current node

    def visit_FormattedString(self, node: cst.FormattedString) -> None:
        self.fstring_quotes.append(node.quote)

    def leave_FormattedString(self, original: cst.FormattedString,
                              updated: cst.FormattedString) -> cst.FormattedString:
        self.fstring_quotes.pop()
        return updated

    def leave_Name(self, original: cst.Name, updated: cst.Name) -> cst.BaseExpression:
        code = self.replacements.get(updated.value)
        if code is None:
            return updated
        expression = cst.parse_expression(code)
        if self.fstring_quotes:  # `f"{name}_1"` with name="conv2": no quote of the f-string inside it (Python < 3.12)
            expression = expression.visit(_Requoted(self.fstring_quotes))
        simple = isinstance(expression, (cst.Name, cst.Attribute, cst.Integer, cst.Float, cst.SimpleString,
                                         cst.Subscript, cst.Call, cst.Tuple, cst.List))
        return expression if simple else expression.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])

    def leave_Arg(self, original: cst.Arg, updated: cst.Arg) -> cst.Arg:
        value = updated.value
        if isinstance(original.value, cst.Name) and isinstance(value, cst.UnaryOperation) and value.lpar and \
                literal(code_of(value.with_changes(lpar=[], rpar=[])))[0]:
            value = value.with_changes(lpar=[], rpar=[])  # `axis=-1`, not `axis=(-1)`: an argument needs no parentheses
        return updated.with_changes(keyword=original.keyword, value=value)

    def leave_Attribute(self, original: cst.Attribute, updated: cst.Attribute) -> cst.Attribute:
        return updated.with_changes(attr=original.attr)


class _Requoted(cst.CSTTransformer):
    """String literals written with a quote character none of the enclosing f-strings uses (when their text
    allows it), so that they may stand inside those f-strings' replacement fields."""

    def __init__(self, enclosing_quotes: list[str]):
        super().__init__()
        self.taken = {quote[0] for quote in enclosing_quotes}

    def leave_SimpleString(self, original: cst.SimpleString, updated: cst.SimpleString) -> cst.SimpleString:
        if updated.quote[0] not in self.taken:
            return updated
        free = next((quote for quote in ("'", '"') if quote not in self.taken), None)
        text = updated.raw_value
        if free is None or free in text or "\\" in text or "\n" in text:
            return updated
        return updated.with_changes(value=f"{updated.prefix}{free * len(updated.quote)}{text}"
                                          f"{free * len(updated.quote)}")

    def leave_FormattedString(self, original: cst.FormattedString,
                              updated: cst.FormattedString) -> cst.FormattedString:
        # an inlined argument that is itself an f-string (`block_id=f"{i}"` in f"normal_A_block_{block_id}")
        quote = updated.end
        if quote[0] not in self.taken:
            return updated
        free = next((q for q in ("'", '"') if q not in self.taken), None)
        inner = cst.Module([]).code_for_node(updated)[len(updated.start):-len(quote)]
        if free is None or any(c in inner for c in ("'", '"', "\\", "\n")):
            return updated
        prefix = updated.start[:-len(quote)]
        return updated.with_changes(start=prefix + free * len(quote), end=free * len(quote))


class _FixedActivations(cst.CSTTransformer):
    """`Dense(classes, activation=classifier_activation)`: the parameter's value (given or default) written in, so the
    layer's activation is translated; the generated __init__ checks the parameter keeps that value."""

    def __init__(self, expansion: "BuilderExpansion"):
        super().__init__()
        self.expansion = expansion

    def leave_Arg(self, original: cst.Arg, updated: cst.Arg) -> cst.Arg:
        value = updated.value
        if not (updated.keyword is not None and updated.keyword.value == "activation" and isinstance(value, cst.Name)
                and value.value in self.expansion.parameters):
            return updated
        known = self.expansion.parameters[value.value]
        message = (f"translated for {value.value}={known!r} ({self.expansion.basis}): translate it again for "
                   "another activation")
        guard = f"if {value.value} != {known!r}:\n    raise ValueError({message!r})"
        if guard not in self.expansion.guards:
            self.expansion.guards.append(guard)
        return updated.with_changes(value=cst.parse_expression(repr(known)))


class BuilderExpansion:
    """Expands one builder's body (see the module docstring); ``guards`` are __init__ lines that check every `if`
    decided with the defaults; ``notes`` say what was decided and inlined."""

    def __init__(self, functions: dict[str, cst.FunctionDef], builds_layers, resolve):
        self.functions = dict(functions)  # the module's functions, then the builder's nested ones as they are defined
        self.resolve = resolve  # node -> canonical name (the source's imports)
        self.builds_layers = builds_layers  # node -> True when it creates (or applies) a source-framework layer
        self.guards: list[str] = []
        self.notes: list[str] = []
        self._inlined = 0
        self._returned = False  # an inlined helper's `return` was reached: its remaining statements do not run
        self.not_inlined: dict[str, str] = {}  # helper building layers -> why its calls were not inlined

    def expand(self, function: cst.FunctionDef, statements: list[cst.BaseStatement],
               given: dict[str, object] | None = None) -> list[cst.BaseStatement]:
        """``given``: the arguments the builder will be called with (`--init-args`), literal values only; a
        parameter given a value that is not a literal (None in ``given`` is a value) is not decided on."""
        self.parameters = _parameter_defaults(function)
        self.basis = "the arguments given" if given else "the builder's defaults"
        for name, value in (given or {}).items():
            if value is _UNKNOWN:
                self.parameters.pop(name, None)
            else:
                self.parameters[name] = value
        expanded = self._expand(statements, dict(self.parameters), {}, set(), 0)
        return [statement.visit(_FixedActivations(self)) for statement in expanded]

    def _expand(self, statements, known: dict[str, object], constants: dict[str, object], tensors: set[str],
                depth: int):
        """``known``: the values `if`s are decided with (parameters and constants); ``constants``: locals whose
        value needs no argument (literals, `backend.image_data_format()`), written into the statements that read
        them so that a layer's `axis=channel_axis` is the literal Keras uses."""
        result: list[cst.BaseStatement] = []
        for statement in statements:
            if isinstance(statement, cst.If):
                chosen = self._decide(statement, known)
                if chosen is not None:
                    result += self._expand(chosen, known, constants, tensors, depth)
                    if self._returned:
                        break
                    continue
            if isinstance(statement, cst.FunctionDef) and (self.builds_layers(statement) or
                                                            self._calls_helpers(statement)):
                # a nested helper (`def stack_fn(x): ...` passed to another builder): inlined where it is called
                self.functions[statement.name.value] = statement
                continue
            if isinstance(statement, cst.For):
                unrolled = self._unroll(statement, known)
                if unrolled is not None:
                    result += self._expand(unrolled, known, constants, tensors, depth)
                    if self._returned:
                        break
                    continue
            if _is_end_of_helper(statement):
                self._returned = True
                break
            statement = _with_constants(statement, constants, self.resolve)
            alias = self._function_alias(statement)
            if alias is not None:
                # `activation = hard_swish`: later `activation(x)` calls (and helpers given `activation`) call the
                # helper by its own name, so it is inlined there; the binding itself is not needed any more
                name, function = alias
                constants[name] = known[name] = _FunctionName(function)
                continue
            inlined = self._inline(statement, tensors, depth) if depth < _MAX_INLINING_DEPTH else None
            if inlined is not None:
                state = (len(self.guards), len(self.notes), dict(known), dict(constants), set(tensors),
                         dict(self.functions))
                expanded = self._expand(inlined, known, constants, tensors, depth + 1)
                self._returned = False
                if _ends_helper_inside(expanded):
                    expanded = _returns_as_branches(expanded)
                if expanded is not None and not _ends_helper_inside(expanded):
                    result += expanded
                    continue
                # a `return` under an `if` the arguments do not decide, not the helper's last: it stays a call
                self.not_inlined[statement.body[0].value.func.value] = (
                    "it returns under an `if` that the builder's arguments do not decide")
                guards, notes, known_before, constants_before, tensors_before, self.functions = state
                del self.guards[guards:], self.notes[notes - 1:]
                known.clear(), known.update(known_before), constants.clear(), constants.update(constants_before)
                tensors.clear(), tensors.update(tensors_before)
            assigned = assigned_names(statement)
            for name in assigned:
                known.pop(name, None)  # a parameter rebound in the body no longer holds its default
                constants.pop(name, None)
            constant = self._constant(statement, constants)
            if constant is not None:
                name, value = constant
                constants[name] = known[name] = value
                statement = statement.with_changes(body=[statement.body[0].with_changes(
                    value=cst.parse_expression(repr(value)))])
            if isinstance(statement, cst.SimpleStatementLine) and any(
                    isinstance(small, cst.Assign) and literal(code_of(small.value))[0] for small in statement.body):
                tensors.difference_update(assigned)
            else:
                tensors.update(assigned)
            result.append(statement)
        return result

    def _binds_layer_helpers(self, node: cst.If) -> bool:
        """`if minimalistic: activation = relu else: activation = hard_swish`: the branch picks the layers built."""
        from ..analyzers.traversal import nodes_of_type

        return any(self._function_alias(line) is not None for line in nodes_of_type(node, cst.SimpleStatementLine))

    def _function_alias(self, statement: cst.BaseStatement) -> tuple[str, str] | None:
        """`name = helper` where helper is a function that builds layers: (name, helper)."""
        if not (isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1 and
                isinstance(statement.body[0], cst.Assign) and len(statement.body[0].targets) == 1 and
                isinstance(statement.body[0].targets[0].target, cst.Name) and
                isinstance(statement.body[0].value, cst.Name)):
            return None
        function = self.functions.get(statement.body[0].value.value)
        if function is None or not (self.builds_layers(function) or self._calls_helpers(function)):
            return None
        return statement.body[0].targets[0].target.value, function.name.value

    def _constant(self, statement: cst.BaseStatement, constants: dict[str, object]) -> tuple[str, object] | None:
        """`channel_axis = 1 if backend.image_data_format() == "channels_first" else -1` -> ("channel_axis", -1)."""
        if not (isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1 and
                isinstance(statement.body[0], cst.Assign) and len(statement.body[0].targets) == 1 and
                isinstance(statement.body[0].targets[0].target, cst.Name)):
            return None
        value = static_value(statement.body[0].value, constants, self.resolve)
        if value is _UNKNOWN or literal(repr(value)) != (True, value) or _mutable(value):
            # a list written in at each use would be a new list each time (`stages = []; stages.append(stem)`)
            return None
        return statement.body[0].targets[0].target.value, value

    def _unroll(self, loop: cst.For, known: dict[str, object]) -> list[cst.BaseStatement] | None:
        """`for i in range(2, blocks + 1): x = block(x, name=f"b{i}")` with `blocks` known: one copy of the body per
        value, each after `i = <value>` (a loop that builds layers creates new ones on every pass)."""
        if not isinstance(loop.target, cst.Name) or loop.orelse is not None or not (
                self.builds_layers(loop) or self._calls_helpers_in(loop)) or _breaks(loop):
            return None
        iterable = loop.iter
        if isinstance(iterable, cst.Call) and isinstance(iterable.func, cst.Name) and iterable.func.value == "range" \
                and 1 <= len(iterable.args) <= 3 and not any(arg.keyword or arg.star for arg in iterable.args):
            bounds = [static_value(arg.value, known, self.resolve) for arg in iterable.args]
            if any(not isinstance(b, int) or isinstance(b, bool) for b in bounds):
                return None
            values = list(range(*bounds))
        else:
            values = static_value(iterable, known, self.resolve)
            if not isinstance(values, (list, tuple)):
                return None
        names = names_used(iterable) & set(self.parameters)
        if names:
            message = (f"translated for `{code_of(iterable).strip()}` = {list(values)!r} ({self.basis}): translate "
                       f"it again for other {', '.join(sorted(names))} (tensorlint translate --init-args)")
            self.guards.append(f"if list({code_of(iterable).strip()}) != {list(values)!r}:\n"
                               f"    raise ValueError({message!r})")
        body = list(loop.body.body) if isinstance(loop.body, cst.IndentedBlock) else []
        unrolled: list[cst.BaseStatement] = []
        for value in values:
            unrolled.append(cst.parse_statement(f"{loop.target.value} = {value!r}"))
            unrolled += body
        self.notes.append(f"`for {loop.target.value} in {code_of(iterable).strip()}:` builds layers and was unrolled "
                          f"({len(values)} passes)")
        return unrolled

    def _calls_helpers_in(self, node: cst.CSTNode) -> bool:
        return any(name in self.functions and self._builds(self.functions[name]) for name in calls_of(node))

    def _builds(self, function: cst.FunctionDef, seen: frozenset = frozenset()) -> bool:
        """Whether the function creates layers, itself or through the helpers it calls (`def depth(d): return
        _depth(d * alpha)` computes a number: it stays a function, called where it is)."""
        if self.builds_layers(function):
            return True
        seen = seen | {function.name.value}
        return any(name in self.functions and name not in seen and self._builds(self.functions[name], seen)
                   for name in calls_of(function.body))

    def _decide(self, node: cst.If, known: dict[str, object]) -> list[cst.BaseStatement] | None:
        """The statements Python runs for this `if` (elif/else included) with the defaults, or None."""
        value = static_value(node.test, known, self.resolve)
        if value is _UNKNOWN:
            return None
        condition = code_of(node.test).strip()
        names = sorted(n for n in known if re.search(rf"\b{re.escape(n)}\b", condition))
        # a guard for decisions about the graph, written only with the builder's arguments (it runs in __init__);
        # none for a condition on literals (a helper's `if strides != 1` once inlined) or a check of the arguments
        # that builds nothing (`if weights not in {...}: raise ValueError`)
        if names and names_used(node.test) <= set(self.parameters) | {"True", "False", "None", "len"} and \
                (self.builds_layers(node) or self._binds_layer_helpers(node)):
            message = (f"translated for `{condition}` = {bool(value)} ({self.basis}): translate it again "
                       f"for other {', '.join(names)} (tensorlint translate --init-args)")
            self.guards.append(f"if {'not ' if value else ''}({condition}):\n    raise ValueError({message!r})")
            self.notes.append(f"`if {condition}:` was decided with {self.basis} ({bool(value)}); the "
                              "generated __init__ raises ValueError for values that decide it otherwise")
        if value:
            return list(node.body.body)
        if isinstance(node.orelse, cst.If):
            chosen = self._decide(node.orelse, known)
            return [node.orelse] if chosen is None else chosen
        if isinstance(node.orelse, cst.Else):
            return list(node.orelse.body.body)
        return []

    def _calls_helpers(self, function: cst.FunctionDef) -> bool:
        return any(name in self.functions and name != function.name.value and
                   self._builds(self.functions[name], frozenset({function.name.value}))
                   for name in calls_of(function.body))

    def _inline(self, statement: cst.BaseStatement, tensors: set[str], depth: int):
        """`y = helper(x, 16)` -> the helper's statements, parameters bound, locals renamed, each `return v` as
        `y = v` followed by the end-of-helper marker (the rest of the body is skipped once a decided branch
        returns). `return other_builder(...)` inlines the builder it calls the same way."""
        if not isinstance(statement, cst.SimpleStatementLine) or len(statement.body) != 1:
            return None
        small = statement.body[0]
        if not isinstance(small, (cst.Assign, cst.Expr, cst.Return)) or not isinstance(small.value, cst.Call):
            return None
        call = small.value
        helper = self.functions.get(call.func.value) if isinstance(call.func, cst.Name) else None
        if helper is None or not (self.builds_layers(helper) or self._calls_helpers(helper)):
            return None
        body = list(helper.body.body) if isinstance(helper.body, cst.IndentedBlock) else []
        if body and isinstance(body[0], cst.SimpleStatementLine) and isinstance(body[0].body[0], cst.Expr) and \
                isinstance(body[0].body[0].value, cst.SimpleString):
            body = body[1:]  # the docstring
        last = body[-1] if body else None
        if not (isinstance(last, cst.SimpleStatementLine) and isinstance(last.body[-1], cst.Return)):
            self.not_inlined[helper.name.value] = "its body does not end with a `return`"
            return None
        arguments = _bind(helper, call)
        if arguments is None:
            self.not_inlined[helper.name.value] = "it takes *args/**kwargs or is called with them"
            return None
        self._inlined += 1
        suffix = f"_{helper.name.value}{self._inlined}"
        local = set().union(*(assigned_names(s) for s in body))
        replacements: dict[str, str] = {}
        prologue: list[cst.BaseStatement] = []
        for name, code in arguments.items():
            if code in tensors or name in local:
                # a tensor (or a parameter the helper rebinds): a fresh local bound once to the argument
                replacements[name] = name + suffix
                prologue.append(cst.parse_statement(f"{name}{suffix} = {code}"))
            else:
                replacements[name] = code
        for name in local:
            replacements.setdefault(name, name + suffix)
        renamed = [s.visit(_Substitute(replacements)) for s in body]
        returns_as = _ReturnsAs(small, statement.leading_lines)
        renamed = [line for s in renamed for line in _flattened(s.visit(returns_as))]
        self.notes.append(f"{helper.name.value}() was inlined into the builder at its call "
                          f"`{code_of(call).strip()}`")
        return prologue + renamed


def _mutable(value) -> bool:
    if isinstance(value, (list, dict, set)):
        return True
    return isinstance(value, tuple) and any(_mutable(item) for item in value)


class _FunctionName(str):
    """A local bound to a helper function (`activation = hard_swish`): written back as the function's name."""

    def __repr__(self) -> str:
        return str(self)


# a helper's `return` once inlined: its value is assigned where the call was, and this ends the helper's statements
_END_OF_HELPER = "__tensorlint_end_of_inlined_helper__"


def _is_end_of_helper(statement: cst.BaseStatement) -> bool:
    return isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1 and isinstance(
        statement.body[0], cst.Return) and isinstance(statement.body[0].value, cst.Name) and \
        statement.body[0].value.value == _END_OF_HELPER


def _ends_helper_inside(statements: list[cst.BaseStatement]) -> bool:
    found = []

    class Markers(cst.CSTVisitor):
        def visit_Name(self, name: cst.Name) -> None:
            if name.value == _END_OF_HELPER:
                found.append(name)

    for statement in statements:
        statement.visit(Markers())
    return bool(found)


def _returns_as_branches(statements: list[cst.BaseStatement]) -> list[cst.BaseStatement] | None:
    """An inlined helper's `if c: ...; return a` that the arguments do not decide, followed by the rest of the helper:
    `if c: ... else: <the rest>` (`if in_channels == filters and stride == 1: return layers.Add()([inputs, x])` of
    MobileNetV2's block; the test is then computed when the model is built). None when the returns are elsewhere."""
    for index, statement in enumerate(statements):
        if not (isinstance(statement, cst.If) and statement.orelse is None and
                isinstance(statement.body, cst.IndentedBlock) and statement.body.body and
                _is_end_of_helper(statement.body.body[-1])):
            continue
        body = list(statement.body.body[:-1])
        rest = statements[index + 1:]
        if _ends_helper_inside([*body, *rest]):
            return None
        nothing = [cst.SimpleStatementLine([cst.Pass()])]
        branches = statement.with_changes(body=statement.body.with_changes(body=body or nothing),
                                          orelse=cst.Else(cst.IndentedBlock(rest or nothing)))
        return [*statements[:index], branches]
    return None


class _ReturnsAs(cst.CSTTransformer):
    """`return v` in an inlined helper -> what its call site did with the value (`y = v`, `v`, `return v`), then
    the end-of-helper marker."""

    def __init__(self, call_site: cst.BaseSmallStatement, leading_lines):
        super().__init__()
        self.call_site = call_site
        self.leading_lines = leading_lines

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False  # a nested function's returns are its own

    def leave_SimpleStatementLine(self, original, updated):
        if not any(isinstance(small, cst.Return) for small in updated.body):
            return updated
        before = [small for small in updated.body if not isinstance(small, cst.Return)]
        value = next(small for small in updated.body if isinstance(small, cst.Return)).value
        lines = [updated.with_changes(body=before)] if before else []
        if value is not None and isinstance(self.call_site, cst.Assign):
            lines.append(cst.SimpleStatementLine([self.call_site.with_changes(value=value)],
                                                 leading_lines=self.leading_lines))
        elif value is not None:
            lines.append(cst.SimpleStatementLine([self.call_site.with_changes(value=value)]))
        lines.append(cst.SimpleStatementLine([cst.Return(cst.Name(_END_OF_HELPER))]))
        return cst.FlattenSentinel(lines)


def _flattened(node) -> list[cst.BaseStatement]:
    return list(node.nodes) if isinstance(node, cst.FlattenSentinel) else [node]


def _with_constants(statement: cst.BaseStatement, constants: dict[str, object], resolve) -> cst.BaseStatement:
    """The constants a simple statement reads written in as literals (targets, keywords and attributes stay), and
    its conditional expressions decided where their test is constant (`padding="same" if (1, 1) == (1, 1) else
    "valid"` of an inlined helper -> `"same"`)."""
    if not isinstance(statement, cst.SimpleStatementLine):
        return statement
    shadowed = _bound_inside(statement)  # `[f(i) for i in ...]`, `lambda i: ...`: that `i` is another variable
    substitute = _Substitute({name: repr(value) for name, value in constants.items() if name not in shadowed})
    fold = _FoldConditionals(resolve)
    body = []
    for small in statement.body:
        value = getattr(small, "value", None)
        if isinstance(small, (cst.Assign, cst.AnnAssign, cst.AugAssign, cst.Expr, cst.Return)) and value is not None:
            small = small.with_changes(value=value.visit(substitute).visit(fold))
        body.append(small)
    return statement.with_changes(body=body)


def _bound_inside(node: cst.CSTNode) -> set[str]:
    """Names a comprehension or a lambda inside ``node`` binds."""
    names: set[str] = set()

    class Binders(cst.CSTVisitor):
        def visit_CompFor(self, comp: cst.CompFor) -> None:
            names.update(_names_in(comp.target))

        def visit_Lambda(self, function: cst.Lambda) -> None:
            names.update(param.name.value for param in (*function.params.params, *function.params.kwonly_params,
                                                        *function.params.posonly_params))

    node.visit(Binders())
    return names


class _FoldConditionals(cst.CSTTransformer):
    def __init__(self, resolve):
        super().__init__()
        self.resolve = resolve

    def leave_IfExp(self, original: cst.IfExp, updated: cst.IfExp) -> cst.BaseExpression:
        test = static_value(updated.test, {}, self.resolve)
        if test is _UNKNOWN:
            return updated
        chosen = updated.body if test else updated.orelse
        if updated.lpar and not chosen.lpar:
            chosen = chosen.with_changes(lpar=updated.lpar, rpar=updated.rpar)
        return chosen

    # a layer name built from constants (`"conv_dw_%d" % 2`, `f"{'conv2'}_block{1}"`) written as the string it is,
    # so the layer is looked up by its Keras name
    def leave_BinaryOperation(self, original, updated) -> cst.BaseExpression:
        value = static_value(updated, {}, self.resolve)
        return _string_literal(value, updated)

    def leave_FormattedString(self, original, updated) -> cst.BaseExpression:
        text = ""
        for part in updated.parts:
            if isinstance(part, cst.FormattedStringText):
                text += part.value
                continue
            value = static_value(part.expression, {}, self.resolve)
            if value is _UNKNOWN or part.conversion is not None or part.format_spec is not None or \
                    not isinstance(value, (str, int)) or isinstance(value, bool):
                return updated
            text += str(value)
        if "{" in text or "}" in text or "\\" in text or not updated.prefix.lower() == "f":
            return updated
        return _string_literal(text, updated)


def _string_literal(value, node: cst.BaseExpression) -> cst.BaseExpression:
    if not isinstance(value, str):
        return node
    return cst.SimpleString(repr(value), lpar=node.lpar, rpar=node.rpar)


def _breaks(loop: cst.For) -> bool:
    found = []

    class Jumps(cst.CSTVisitor):
        def visit_Break(self, node: cst.Break) -> None:
            found.append(node)

        def visit_Continue(self, node: cst.Continue) -> None:
            found.append(node)

        def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
            return False

    loop.body.visit(Jumps())
    return bool(found)


def called_builder(function: cst.FunctionDef, functions: dict[str, cst.FunctionDef]) -> cst.FunctionDef | None:
    """The function ``function`` ends by returning a call of (`def ResNet50(...): return ResNet(stack_fn, ...)`),
    when it is one of ``functions``: a builder written as a wrapper of another, which is inlined into it."""
    body = function.body.body if isinstance(function.body, cst.IndentedBlock) else ()
    last = body[-1] if body else None
    if not (isinstance(last, cst.SimpleStatementLine) and isinstance(last.body[-1], cst.Return)):
        return None
    value = last.body[-1].value
    if isinstance(value, cst.Call) and isinstance(value.func, cst.Name) and value.func.value != function.name.value:
        return functions.get(value.func.value)
    return None


def calls_of(node: cst.CSTNode) -> set[str]:
    """The functions a node calls by plain name (`block(x)`, not `layers.Dense(8)`)."""
    names: set[str] = set()

    class Calls(cst.CSTVisitor):
        def visit_Call(self, call: cst.Call) -> None:
            if isinstance(call.func, cst.Name):
                names.add(call.func.value)

    node.visit(Calls())
    return names


def _bind(helper: cst.FunctionDef, call: cst.Call) -> dict[str, str] | None:
    """Parameter -> argument code (defaults filled in), or None for what this does not model (*args, **kwargs)."""
    params = helper.params
    if params.star_arg not in (None, cst.MaybeSentinel.DEFAULT) or params.star_kwarg is not None:
        return None
    positional = [*params.posonly_params, *params.params]
    bound: dict[str, str] = {}
    for index, arg in enumerate(call.args):
        if arg.star:
            return None
        if arg.keyword is not None:
            bound[arg.keyword.value] = code_of(arg.value)
        elif index < len(positional):
            bound[positional[index].name.value] = code_of(arg.value)
        else:
            return None
    for param in (*positional, *params.kwonly_params):
        if param.name.value not in bound:
            if param.default is None:
                return None
            bound[param.name.value] = code_of(param.default)
    return bound
