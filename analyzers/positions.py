"""Line/column ranges for a handful of nodes, without paying for ``PositionProvider`` over the whole module.

libcst has no offsets on its nodes: positions come from regenerating the source while counting lines and
columns. ``PositionProvider`` does that for every node (about 2.5x the cost of the parse on model code). Here the
same codegen runs with a state that records only the nodes asked for (and the children their ranges are hoisted
from), counts lines without a regex, keeps no tokens, and stops as soon as every requested node is done.
The ranges are PositionProvider's own (syntactic ranges: leading whitespace and comments excluded); a test
compares them node by node on real files.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterable, Iterator

import libcst as cst
from libcst._nodes.internal import CodegenState
from libcst._position import CodePosition, CodeRange

from .lines import LINE_BREAK



class _AllFound(Exception):
    """Raised from inside the codegen to stop it once every requested node has a range."""


class _Null:
    __slots__ = ()

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc) -> bool:
        return False


_NULL = _Null()


class _TargetedPositionState(CodegenState):
    """A codegen state that tracks line/column and records ranges only for the wanted nodes."""

    def __init__(self, module: cst.Module, targets: set[cst.CSTNode]) -> None:
        super().__init__(default_indent=module.default_indent, default_newline=module.default_newline)
        self.line = 1
        self.column = 0
        self.wanted: set[cst.CSTNode] = set(targets)  # targets plus nodes their ranges are hoisted from
        self.pending: set[cst.CSTNode] = set(targets)  # targets still without a range
        self.computed: dict[cst.CSTNode, CodeRange] = {}
        self._starts: dict[cst.CSTNode, CodePosition] = {}

    # -- token accounting (no token list: nothing reads the text back) ------------------------------------------
    def add_token(self, value: str) -> None:
        if not self.tokens:
            # Module codegen asks whether anything was emitted yet; one token is enough to answer it.
            self.tokens.append(value)
        if "\r" in value:
            segments = LINE_BREAK.split(value)
            if len(segments) == 1:
                self.column += len(value)
            else:
                self.line += len(segments) - 1
                self.column = len(segments[-1])
            return
        newlines = value.count("\n")
        if newlines:
            self.line += newlines
            self.column = len(value) - value.rfind("\n") - 1
        else:
            self.column += len(value)

    def add_indent_tokens(self) -> None:
        for token in self.indent_tokens:
            self.add_token(token)

    def pop_trailing_newline(self) -> None:
        return None  # only ever at the end of the module, after every node's range is known

    # -- ranges -------------------------------------------------------------------------------------------------
    def before_codegen(self, node: cst.CSTNode) -> None:
        if node in self.wanted:
            self._starts[node] = CodePosition(self.line, self.column)

    def after_codegen(self, node: cst.CSTNode) -> None:
        start = self._starts.pop(node, None)
        if start is not None and node not in self.computed:
            self._record(node, CodeRange(start, CodePosition(self.line, self.column)))

    def record_syntactic_position(self, node, *, start_node=None, end_node=None):
        if node not in self.wanted:
            return _NULL
        return self._syntactic(node, start_node, end_node)

    @contextmanager
    def _syntactic(self, node, start_node, end_node) -> Iterator[None]:
        # The hoisted children are generated inside this block, so wanting them now is early enough.
        if start_node is not None:
            self.wanted.add(start_node)
        if end_node is not None:
            self.wanted.add(end_node)
        start = CodePosition(self.line, self.column)
        yield
        end = CodePosition(self.line, self.column)
        if start_node is not None:
            start = self.computed[start_node].start
        if end_node is not None:
            end = self.computed[end_node].end
        self._record(node, CodeRange(start, end))

    def _record(self, node: cst.CSTNode, code_range: CodeRange) -> None:
        self.computed[node] = code_range
        if node in self.pending:
            self.pending.discard(node)
            if not self.pending:
                raise _AllFound


def node_ranges(module: cst.Module, nodes: Iterable[cst.CSTNode]) -> dict[cst.CSTNode, CodeRange]:
    """PositionProvider's range for each of ``nodes`` (nodes of ``module``); nodes not in it are left out."""
    targets = set(nodes)
    if not targets:
        return {}
    state = _TargetedPositionState(module, targets)
    try:
        module._codegen(state)
    except _AllFound:
        pass
    return {node: state.computed[node] for node in targets if node in state.computed}


def statement_node_ranges(module: cst.Module, statement: cst.CSTNode, nodes: Iterable[cst.CSTNode],
                          first_line: int) -> dict[cst.CSTNode, CodeRange]:
    """:func:`node_ranges` for nodes of one top-level ``statement`` of ``module`` whose own text (leading
    lines included) starts at column 0 of ``first_line``: a codegen of that statement alone."""
    targets = set(nodes)
    if not targets:
        return {}
    state = _TargetedPositionState(module, targets)
    state.line = first_line
    try:
        statement._codegen(state)
    except _AllFound:
        pass
    return {node: state.computed[node] for node in targets if node in state.computed}
