"""What the two whole-module translators (:mod:`.torch_to_keras`, :mod:`.keras_to_torch`) share: one libcst
transformer over a symbol's closure, built on the op translator, that writes each ``# TODO(tensorlint)`` directly
above the statement whose expression needed it (compound statements included), or drops it with the statement."""

from __future__ import annotations

import libcst as cst

from .common import TODO_TAG, ParsedSource
from .op_translator import OpTranslator


class ClosureRewriter(OpTranslator):
    def __init__(self, source: ParsedSource, to: str, layout: str):
        super().__init__(source, to, layout)
        self.pending: list[str] = []  # TODO reasons not yet written above a statement
        self.statement_marks: list[int] = []  # per open statement: len(pending) when it began

    def _todo(self, reason: str, node: cst.BaseExpression) -> cst.BaseExpression:
        self.todos.append(reason)
        self.pending.append(reason)
        return node

    def _statement_aliases(self, node: cst.CSTNode) -> dict | None:
        """The in-place updates of this top-level statement of the current function that may write into a shared
        tensor (tensor_aliases), or None when ``node`` is not one."""
        return None

    def _mark(self, node: cst.CSTNode) -> None:
        self.statement_marks.append(len(self.pending))
        updates = self._statement_aliases(node)
        if updates is not None:
            self.aliased_updates, self._name_updates = updates, 0

    def _place(self, updated):
        start = self.statement_marks.pop()
        reasons, self.pending[start:] = self.pending[start:], []
        if not reasons or not hasattr(updated, "leading_lines"):
            return updated
        comments = [cst.EmptyLine(comment=cst.Comment(f"{TODO_TAG} {reason}")) for reason in dict.fromkeys(reasons)]
        return updated.with_changes(leading_lines=[*updated.leading_lines, *comments])

    def _discard(self) -> None:
        """The statement is dropped whole: what its expressions would have needed is moot."""
        del self.pending[self.statement_marks.pop():]

    def visit_SimpleStatementLine(self, node) -> None:
        self._mark(node)

    def leave_SimpleStatementLine(self, original, updated):
        return self._place(super().leave_SimpleStatementLine(original, updated))

    def visit_If(self, node) -> None:
        self._mark(node)

    def leave_If(self, original, updated):
        return self._place(updated)

    def visit_For(self, node) -> None:
        self._mark(node)

    def leave_For(self, original, updated):
        return self._place(updated)

    def visit_While(self, node) -> None:
        self._mark(node)

    def leave_While(self, original, updated):
        return self._place(updated)

    def visit_With(self, node) -> None:
        self._mark(node)

    def leave_With(self, original, updated):
        return self._place(updated)

    def visit_Try(self, node) -> None:
        self._mark(node)

    def leave_Try(self, original, updated):
        return self._place(updated)
