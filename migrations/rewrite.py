"""What the two whole-module translators (:mod:`.torch_to_keras`, :mod:`.keras_to_torch`) share: one libcst
transformer over a symbol's closure, built on the op translator, that writes each ``# TODO(tensorlint)`` directly
above the statement whose expression needed it (compound statements included), or drops it with the statement;
the copy rules it registers; dropping the source framework's imports; assembling the module."""

from __future__ import annotations

from typing import Callable

import libcst as cst

from ..analyzers.traversal import nodes_of_type
from .common import TODO_TAG, ParsedSource, TranslationError, code_of, one_line, todo_lines
from .op_translator import OpTranslator


def register_copy_rule(rules: dict[str, str], statements: list[str], key: str) -> str:
    """The name of the function `def NAME(source, target):` with ``statements`` as its body, one per distinct body
    (``rules``: body -> name); the generated module defines each once."""
    body = "\n".join("    " + line if line else line for line in "\n".join(statements).splitlines())
    name = rules.get(body)
    if name is None:
        name = rules[body] = f"_copy_{key or 'layer'}_{len(rules)}"
    return name


def copy_rule_definitions(rules: dict[str, str]) -> list[str]:
    return [f"def {name}(source, target):\n{body}" for body, name in rules.items()]


def drop_imports(statement: cst.BaseStatement, roots: tuple[str, ...],
                 drop_name: Callable[[str], bool] = lambda qualified: False) -> cst.BaseStatement | None:
    """``statement`` without its imports of the packages ``roots`` (and of the names ``drop_name`` picks by their
    qualified name); None when nothing is left."""
    if not isinstance(statement, cst.SimpleStatementLine):
        return statement
    body = []
    for small in statement.body:
        if isinstance(small, cst.Import):
            names = [a for a in small.names if code_of(a.name).split(".")[0] not in roots]
            if not names:
                continue
            small = small.with_changes(names=[*names[:-1], names[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)])
        elif isinstance(small, cst.ImportFrom) and not small.relative and small.module is not None:
            if code_of(small.module).split(".")[0] in roots:
                continue
            if not isinstance(small.names, cst.ImportStar):
                names = [a for a in small.names if not drop_name(f"{code_of(small.module)}.{code_of(a.name)}")]
                if not names:
                    continue
                if len(names) < len(small.names):
                    small = small.with_changes(
                        names=[*names[:-1], names[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)])
        body.append(small)
    if not body:
        return None
    return statement.with_changes(body=[*body[:-1], body[-1].with_changes(semicolon=cst.MaybeSentinel.DEFAULT)])


def assemble(header: str, parts: list[str]) -> str:
    """The generated module: the docstring ``header``, then the source's `from __future__` imports (which must come
    first), then ``parts``; it must parse (anything else is a bug of ours, never handed out)."""
    text = "\n\n\n".join(p for p in parts if p) + "\n"
    futures = list(dict.fromkeys(line for line in text.splitlines() if line.startswith("from __future__ import")))
    if futures:
        text = "\n".join(line for line in text.splitlines() if not line.startswith("from __future__ import")) + "\n"
    text = header + ("\n" + "\n".join(futures) + "\n\n" if futures else "\n\n\n") + text
    try:
        module = cst.parse_module(text)
    except cst.ParserSyntaxError as exc:
        raise TranslationError(f"internal error: the translation does not parse ({exc.message})") from None
    if ":=" in text:
        module = module.visit(_BoundOutsideComprehensionIterables())
    if "from ." in text:
        module = module.visit(_RelativeImportsCommented())
    return module.code if module.code != text else text


class _RelativeImportsCommented(cst.CSTTransformer):
    """A relative import left in the generated module (a module of the package the closure could not inline, e.g.
    keras-hub's `from keras_hub.src.utils import tensor_utils`) fails when a standalone file is imported: it stays
    as a comment under a TODO, so the module imports and a use of what it names fails with that name."""

    def leave_SimpleStatementLine(self, original: cst.SimpleStatementLine,
                                  updated: cst.SimpleStatementLine) -> cst.SimpleStatementLine:
        if not any(isinstance(small, cst.ImportFrom) and small.relative for small in updated.body):
            return updated
        # `from .x import (\n    a,\n    b,\n)` on one line: a comment ends at a line break
        text = one_line(code_of(updated.with_changes(leading_lines=())).strip())
        comment = cst.EmptyLine(comment=cst.Comment(
            f"{TODO_TAG} `{text}`: a standalone module cannot import relatively: translate that module too and "
            "import it by its absolute name"))
        return cst.SimpleStatementLine(
            body=[cst.Pass()], leading_lines=[*updated.leading_lines, comment],
            trailing_whitespace=cst.TrailingWhitespace(whitespace=cst.SimpleWhitespace("  "),
                                                       comment=cst.Comment(f"# {text}")))


class _BoundOutsideComprehensionIterables(cst.CSTTransformer):
    """A translation binding a computed value once with `(name := value)` is illegal in a comprehension's iterable
    (`for x in torch.split(t, n)` -> `keras.ops.split((split_input := t), ...)`): there the values become the
    arguments of a lambda called at once, `(lambda split_input: keras.ops.split(split_input, ...))(t)`, which
    evaluates them first, as their first use did."""

    def leave_CompFor(self, original: cst.CompFor, updated: cst.CompFor) -> cst.CompFor:
        bindings = [node for node in nodes_of_type(updated.iter, cst.NamedExpr) if isinstance(node.target, cst.Name)]
        names = {binding.target.value for binding in bindings}
        if not bindings or len(names) != len(bindings) or any(
                names & {name.value for name in nodes_of_type(binding.value, cst.Name)} for binding in bindings):
            return updated  # a value reading another binding would read it unbound: left as it is
        body = updated.iter.visit(_NamedExprsAsNames())
        function = cst.Lambda(params=cst.Parameters(params=[cst.Param(cst.Name(b.target.value)) for b in bindings]),
                              body=body, lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
        return updated.with_changes(iter=cst.Call(func=function, args=[cst.Arg(b.value) for b in bindings]))


class _NamedExprsAsNames(cst.CSTTransformer):
    def leave_NamedExpr(self, original: cst.NamedExpr, updated: cst.NamedExpr) -> cst.BaseExpression:
        return updated.target


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
        comments = todo_lines(reasons)
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
