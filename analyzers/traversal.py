"""What a walk over a libcst tree needs to know: each node type's child fields, in libcst's visiting order.

``CSTNode.visit`` rebuilds every node it passes (``_visit_and_replace_children`` constructs and validates a new
node even for a read-only visitor), which makes a plain visitor pass cost about 0.4x the parse. Reading the
children straight from the fields costs a fraction of that. The field order is learned once per node type from
libcst itself (the ``visit_*(self, "field", ...)`` calls in its ``_visit_and_replace_children``) and checked
against one real call on the first instance, so the walk visits nodes in exactly the order ``CSTNode.visit``
does; a type whose fields do not account for its children falls back to libcst's own ``children``.
"""

from __future__ import annotations

import ast
import inspect
import textwrap
from typing import Callable

import libcst as cst

_FALLBACK = ("children",)


class _FieldRecorder(cst.CSTVisitor):
    """Records the attribute names and the direct children one ``_visit_and_replace_children`` call visits."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: list[str] = []
        self.children: list[cst.CSTNode] = []

    def on_visit(self, node: cst.CSTNode) -> bool:
        self.children.append(node)
        return False  # direct children only

    def on_leave(self, original_node: cst.CSTNode) -> None:
        return None

    def on_visit_attribute(self, node: cst.CSTNode, attribute: str) -> None:
        if attribute not in self.fields:
            self.fields.append(attribute)

    def on_leave_attribute(self, original_node: cst.CSTNode, attribute: str) -> None:
        return None


def _children_through(node: cst.CSTNode, fields: tuple[str, ...]) -> list[cst.CSTNode]:
    found = []
    for name in fields:
        value = getattr(node, name)
        if isinstance(value, (tuple, list)):
            found.extend(child for child in value if isinstance(child, cst.CSTNode))
        elif isinstance(value, cst.CSTNode):
            found.append(value)
    return found


def _declared_fields(node_type: type) -> list[str]:
    """The field names ``_visit_and_replace_children`` passes to libcst's ``visit_*`` helpers, in source order,
    including those it visits only sometimes (``format_spec=visit_sequence(...) if ... else None``)."""
    try:
        source = textwrap.dedent(inspect.getsource(node_type._visit_and_replace_children))
        tree = ast.parse(source)
    except (OSError, TypeError, SyntaxError):
        return []
    names = []
    for call in ast.walk(tree):
        if (isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id.startswith("visit_")
                and len(call.args) >= 2 and isinstance(call.args[1], ast.Constant)
                and isinstance(call.args[1].value, str)):
            names.append((call.lineno, call.col_offset, call.args[1].value))
    return [name for _, _, name in sorted(names)]


def _learn(node: cst.CSTNode) -> tuple[str, ...]:
    recorder = _FieldRecorder()
    try:
        node._visit_and_replace_children(recorder)
    except Exception:
        return _FALLBACK
    declared = list(dict.fromkeys(_declared_fields(type(node))))
    if not set(recorder.fields) <= set(declared):
        return _FALLBACK
    # the declared order must agree with the order this instance was actually visited in
    visited_order = [name for name in declared if name in recorder.fields]
    if visited_order != recorder.fields:
        return _FALLBACK
    fields = tuple(declared)
    walked = _children_through(node, fields)
    if len(walked) != len(recorder.children) or any(a is not b for a, b in zip(walked, recorder.children)):
        return _FALLBACK
    return fields


# node type -> its child fields in visiting order; filled as types are met (walkers read it directly)
FIELD_TABLE: dict[type, tuple[str, ...]] = {}


def child_fields(node: cst.CSTNode) -> tuple[str, ...]:
    """Names of ``node``'s fields that hold child nodes, in visiting order (``("children",)`` as a fallback)."""
    fields = FIELD_TABLE.get(type(node))
    if fields is None:
        fields = FIELD_TABLE[type(node)] = _learn(node)
    return fields


def _trivia_types() -> frozenset[type]:
    """Whitespace, comments, punctuation and operator tokens: nodes that hold no code a rule reasons about."""
    found = {cst.LeftParen, cst.RightParen, cst.LeftSquareBracket, cst.RightSquareBracket, cst.LeftCurlyBrace,
             cst.RightCurlyBrace}
    for _, value in inspect.getmembers(cst, inspect.isclass):
        if (issubclass(value, cst.CSTNode) and not inspect.isabstract(value)
                and value.__module__ in ("libcst._nodes.op", "libcst._nodes.whitespace")):
            found.add(value)
    return frozenset(found)


TRIVIA_TYPES = _trivia_types()


def nodes_of_type(root: cst.CSTNode, types: type | tuple[type, ...]) -> list:
    """Every node of ``types`` in ``root``'s subtree (``root`` included), in visiting order, which is source
    order: read from the fields as the engine's walk reads them, without ``CSTNode.visit``'s rebuilding."""
    found: list = []

    def walk(node: cst.CSTNode) -> None:
        if isinstance(node, types):
            found.append(node)
        for name in child_fields(node):
            value = getattr(node, name)
            if type(value) is tuple or type(value) is list:
                for child in value:
                    if isinstance(child, cst.CSTNode):
                        walk(child)
            elif isinstance(value, cst.CSTNode):
                walk(value)

    walk(root)
    return found


def first_node(root: cst.CSTNode, accepts: Callable[[cst.CSTNode], bool],
               skip: tuple[type, ...] = ()) -> cst.CSTNode | None:
    """The first node of ``root``'s subtree (``root`` included, in visiting order) that ``accepts``, without
    entering nodes of the ``skip`` types below ``root`` nor whitespace and punctuation."""
    pending = [root]
    while pending:
        node = pending.pop()
        if accepts(node):
            return node
        children = []
        for name in child_fields(node):
            value = getattr(node, name)
            if type(value) is tuple or type(value) is list:
                children.extend(value)
            else:
                children.append(value)
        pending.extend(child for child in reversed(children) if isinstance(child, cst.CSTNode)
                       and type(child) not in TRIVIA_TYPES and not isinstance(child, skip))
    return None
