"""Small questions rules ask about calls (keywords, positional arguments, method receivers)."""

from __future__ import annotations

import functools

import libcst as cst


def keyword(call: cst.Call, name: str) -> cst.Arg | None:
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == name:
            return arg
    return None


def positional(call: cst.Call) -> list[cst.Arg]:
    return [a for a in call.args if a.keyword is None and not a.star]


def has_star_args(call: cst.Call) -> bool:
    return any(a.star for a in call.args)


def method_name(call: cst.Call) -> str | None:
    """``backward`` for ``loss.backward()``."""
    return call.func.attr.value if isinstance(call.func, cst.Attribute) else None


def receiver(call: cst.Call) -> cst.BaseExpression | None:
    return call.func.value if isinstance(call.func, cst.Attribute) else None


def string_value(node: cst.BaseExpression | None) -> str | None:
    if isinstance(node, cst.SimpleString):
        value = node.evaluated_value
        return value if isinstance(value, str) else None
    return None


@functools.lru_cache(maxsize=256)
def _expression(code: str) -> cst.BaseExpression:
    # fixes add the same few values (`True`, `-1`, `self.training`) again and again; libcst nodes are immutable
    return cst.parse_expression(code)


def with_keyword(call: cst.Call, name: str, value_code: str) -> cst.Call:
    """The call with ``name=value`` appended (keeping a trailing comma style intact)."""
    args = list(call.args)
    new_arg = cst.Arg(value=_expression(value_code), keyword=cst.Name(name),
                      equal=cst.AssignEqual(whitespace_before=cst.SimpleWhitespace(""),
                                            whitespace_after=cst.SimpleWhitespace("")))
    if args:
        last = args[-1]
        if last.comma is cst.MaybeSentinel.DEFAULT or isinstance(last.comma, cst.MaybeSentinel):
            args[-1] = last.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
            args.append(new_arg)
        else:
            args.append(new_arg.with_changes(comma=last.comma))
            args[-2] = last.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
    else:
        args.append(new_arg)
    return call.with_changes(args=args)


def number_value(node: cst.BaseExpression | None) -> float | None:
    """The value of an int/float literal (with an optional sign), else None."""
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, (cst.Minus, cst.Plus)):
        inner = number_value(node.expression)
        if inner is None:
            return None
        return -inner if isinstance(node.operator, cst.Minus) else inner
    if isinstance(node, (cst.Integer, cst.Float)):
        try:
            return float(node.evaluated_value)
        except (ValueError, OverflowError):
            return None
    return None


def is_constant(node: cst.BaseExpression | None, name: str) -> bool:
    """``True`` / ``False`` / ``None`` literal check."""
    return isinstance(node, cst.Name) and node.value == name


def argument(call: cst.Call, name: str, position: int | None = None) -> cst.Arg | None:
    """The argument bound to parameter ``name``: by keyword, or at ``position`` among the positional ones."""
    found = keyword(call, name)
    if found is not None or position is None:
        return found
    args = positional(call)
    return args[position] if len(args) > position else None


def chain_root(node: cst.BaseExpression) -> cst.BaseExpression:
    """The start of a method chain: ``ds`` for ``ds.map(f).batch(8).shuffle(4)``."""
    while True:
        if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute):
            node = node.func.value
        elif isinstance(node, cst.Attribute) and isinstance(node.value, cst.Call):
            node = node.value
        else:
            return node


def chain_methods(node: cst.BaseExpression) -> list[str]:
    """Method names of a call chain in call order: ``["map", "batch", "shuffle"]``."""
    names: list[str] = []
    while isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute):
        names.append(node.func.attr.value)
        node = node.func.value
    return list(reversed(names))


def receiver_key(node: cst.BaseExpression | None) -> str | None:
    """A stable name for a simple receiver: ``model`` or ``self.model``; None for anything else."""
    if isinstance(node, cst.Name):
        return node.value
    if (isinstance(node, cst.Attribute) and isinstance(node.value, cst.Name) and node.value.value == "self"):
        return "self." + node.attr.value
    return None


def self_method_calls(body: cst.CSTNode) -> set[str]:
    """Names of methods called on ``self`` in a function body (``{"add_module"}`` for ``self.add_module(...)``),
    not looking into nested functions or classes."""
    found: set[str] = set()

    class Finder(cst.CSTVisitor):
        def visit_Call(self, call: cst.Call) -> None:
            func = call.func
            if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name) and func.value.value == "self":
                found.add(func.attr.value)

        def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
            return False

        def visit_ClassDef(self, node: cst.ClassDef) -> bool:
            return False

    body.visit(Finder())
    return found


def class_methods(cls: cst.ClassDef) -> dict[str, cst.FunctionDef]:
    """The functions defined directly in a class body, by name."""
    body = cls.body.body if isinstance(cls.body, cst.IndentedBlock) else ()
    return {s.name.value: s for s in body if isinstance(s, cst.FunctionDef)}
