"""What a walk over a libcst tree needs to know: each node type's child fields, in libcst's visiting order.

``CSTNode.visit`` rebuilds every node it passes (``_visit_and_replace_children`` constructs and validates a new
node even for a read-only visitor), which makes a plain visitor pass cost about 0.4x the parse. Reading the
children straight from the fields costs a fraction of that. The field order is learned once per node type from
libcst itself (the attribute callbacks of one ``_visit_and_replace_children`` call) and checked on that first
instance, so the walk visits nodes in exactly the order ``CSTNode.visit`` does; a type whose fields do not
account for its children falls back to libcst's own ``children``.
"""

from __future__ import annotations

import inspect

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


def _learn(node: cst.CSTNode) -> tuple[str, ...]:
    recorder = _FieldRecorder()
    try:
        node._visit_and_replace_children(recorder)
    except Exception:
        return _FALLBACK
    fields = tuple(recorder.fields)
    walked = _children_through(node, fields)
    if len(walked) != len(recorder.children) or any(a is not b for a, b in zip(walked, recorder.children)):
        return _FALLBACK
    return fields


_FIELDS: dict[type, tuple[str, ...]] = {}


def child_fields(node: cst.CSTNode) -> tuple[str, ...]:
    """Names of ``node``'s fields that hold child nodes, in visiting order (``("children",)`` as a fallback)."""
    fields = _FIELDS.get(type(node))
    if fields is None:
        fields = _FIELDS[type(node)] = _learn(node)
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
