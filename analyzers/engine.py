"""Parse once, walk once: every enabled rule runs in one batched traversal of one libcst tree."""

from __future__ import annotations

import ast
import logging
import re
from dataclasses import dataclass
from typing import Callable, Sequence

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from .config import Settings
from .context import Context
from .findings import Edit, Finding, Fix, Position, Range, Severity
from .rule import PendingFix, Report, Rule

log = logging.getLogger("tensorlint")

SYNTAX_ERROR = "TL001"
UNDECODABLE = "TL002"
RULE_CRASH = "TL003"


@dataclass(frozen=True)
class CheckResult:
    findings: tuple[Finding, ...]
    # rule crashes (``"PT001: ZeroDivisionError: ..."``): logged by the server, printed by the CLI; the other
    # rules' findings still stand
    errors: tuple[str, ...] = ()


_SCOPE_PUSH: dict[type, Callable[[Context, cst.CSTNode], None]] = {
    cst.ClassDef: lambda ctx, n: ctx.class_stack.append(n),
    cst.FunctionDef: lambda ctx, n: (ctx.function_stack.append(n), ctx.push_scope()),
    cst.For: lambda ctx, n: ctx.loop_stack.append(n),
    cst.While: lambda ctx, n: ctx.loop_stack.append(n),
    cst.With: lambda ctx, n: ctx.enter_with(n),
    cst.Import: lambda ctx, n: ctx.imports.add_import(n),
    cst.ImportFrom: lambda ctx, n: ctx.imports.add_import_from(n),
}
_SCOPE_POP: dict[type, Callable[[Context, cst.CSTNode], None]] = {
    cst.ClassDef: lambda ctx, n: ctx.class_stack.pop(),
    cst.FunctionDef: lambda ctx, n: (ctx.function_stack.pop(), ctx.pop_scope()),
    cst.For: lambda ctx, n: ctx.loop_stack.pop(),
    cst.While: lambda ctx, n: ctx.loop_stack.pop(),
    cst.With: lambda ctx, n: ctx.leave_with(),
    cst.Assign: lambda ctx, n: [ctx.bind(t.target, n.value) for t in n.targets],
    cst.AnnAssign: lambda ctx, n: n.value is not None and ctx.bind(n.target, n.value),
}


class _BatchedVisitor(cst.CSTVisitor):
    """Dispatches each node to the rules that asked for its type; keeps the context's scopes current."""

    def __init__(self, ctx: Context, rules: Sequence[Rule]):
        super().__init__()
        self.ctx = ctx
        self.errors: list[str] = []
        self._disabled: set[str] = set()
        self._visit: dict[type, list[tuple[Rule, Callable]]] = {}
        self._leave: dict[type, list[tuple[Rule, Callable]]] = {}
        for rule in rules:
            for attr in dir(type(rule)):
                if attr.startswith("visit_"):
                    table, type_name = self._visit, attr[len("visit_"):]
                elif attr.startswith("leave_"):
                    table, type_name = self._leave, attr[len("leave_"):]
                else:
                    continue
                node_type = getattr(cst, type_name, None)
                if isinstance(node_type, type):
                    table.setdefault(node_type, []).append((rule, getattr(rule, attr)))

    def _run(self, handlers: list[tuple[Rule, Callable]], node: cst.CSTNode) -> None:
        for rule, handler in handlers:
            if rule.code in self._disabled:
                continue
            try:
                handler(node)
            except Exception as exc:  # one broken rule must not silence the others
                self._disabled.add(rule.code)
                self.errors.append(f"{rule.code}: {type(exc).__name__}: {exc}")
                log.exception("rule %s crashed on %s", rule.code, self.ctx.path)

    def on_visit(self, node: cst.CSTNode) -> bool:
        node_type = type(node)
        push = _SCOPE_PUSH.get(node_type)
        if push is not None:
            push(self.ctx, node)
        handlers = self._visit.get(node_type)
        if handlers:
            self._run(handlers, node)
        return True

    def on_leave(self, original_node: cst.CSTNode) -> None:
        node_type = type(original_node)
        handlers = self._leave.get(node_type)
        if handlers:
            self._run(handlers, original_node)
        pop = _SCOPE_POP.get(node_type)
        if pop is not None:
            pop(self.ctx, original_node)

    # Attribute-level hooks are never used by rules; skipping them saves a call per field.
    def on_visit_attribute(self, node: cst.CSTNode, attribute: str) -> None:
        return None

    def on_leave_attribute(self, original_node: cst.CSTNode, attribute: str) -> None:
        return None


def decode(data: bytes, path: str = "<bytes>") -> tuple[str | None, Finding | None]:
    """Source text, or an undecodable-file finding (never an exception)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        return None, Finding(
            UNDECODABLE,
            f"File is not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start}); not checked",
            Severity.ERROR,
            Range.of(line, 0, line, 0),
        )
    if text.startswith("\ufeff"):
        text = text[1:]
    return text, None


def syntax_error_finding(exc: cst.ParserSyntaxError, source: str) -> Finding:
    # CPython's parser pinpoints errors better than libcst's; it runs only on text that already failed to parse.
    try:
        ast.parse(source)
    except SyntaxError as py_exc:
        line = py_exc.lineno or 1
        column = max((py_exc.offset or 1) - 1, 0)
        message = py_exc.msg
    except (ValueError, RecursionError, MemoryError):
        line, column, message = exc.raw_line, exc.raw_column, exc.message
    else:
        line, column, message = exc.raw_line, exc.raw_column, exc.message
    message = (message or "invalid syntax").strip().splitlines()[0]
    return Finding(SYNTAX_ERROR, f"SyntaxError: {message}", Severity.ERROR, Range.of(line, column, line, column))


def parse(source: str) -> cst.Module:
    return cst.parse_module(source)


def check_source(source: str, path: str = "<string>", settings: Settings | None = None) -> CheckResult:
    """All findings for one module's text (the engine's main entry point)."""
    settings = settings or Settings()
    try:
        module = parse(source)
    except cst.ParserSyntaxError as exc:
        return CheckResult((syntax_error_finding(exc, source),))
    except RecursionError:
        return CheckResult((Finding(SYNTAX_ERROR, "SyntaxError: nesting too deep to parse", Severity.ERROR,
                                    Range.of(1, 0, 1, 0)),))
    return check_module(module, source, path, settings)


def check_module(module: cst.Module, source: str, path: str, settings: Settings) -> CheckResult:
    rule_classes = settings.enabled_rules(path)
    ctx = Context(module, source, path, settings.options)
    visitor = _BatchedVisitor(ctx, [cls(ctx) for cls in rule_classes])
    module.visit(visitor)
    findings = _positioned(module, ctx.reports, source) if ctx.reports else []
    if findings:
        lines = source.splitlines()
        findings = [f for f in findings if not is_suppressed(f, lines)]
    findings.sort(key=Finding.sort_key)
    return CheckResult(tuple(findings), tuple(visitor.errors))


def _positioned(module: cst.Module, reports: list[Report], source: str) -> list[Finding]:
    # Positions cost twice the parse, so they are computed only for modules that have something to report.
    positions = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)

    def range_of(node: cst.CSTNode) -> Range:
        code_range = positions[node]
        return Range(Position(code_range.start.line, code_range.start.column),
                     Position(code_range.end.line, code_range.end.column))

    findings = []
    seen = set()
    for report in reports:
        rng = range_of(report.node)
        key = (report.rule.code, rng, report.message)
        if key in seen:
            continue
        seen.add(key)
        findings.append(Finding(report.rule.code, report.message, report.rule.severity, rng,
                                _fix(report.fix, range_of, source) if report.fix else None))
    return findings


def _fix(pending: PendingFix, range_of: Callable[[cst.CSTNode], Range], source: str) -> Fix:
    edits = []
    for edit in pending.edits:
        rng = range_of(edit.node)
        text = edit.new_text
        if edit.mode == "insert_before":
            rng = Range(rng.start, rng.start)
        elif edit.mode == "insert_after":
            rng = Range(rng.end, rng.end)
        elif edit.mode == "insert_line_before":
            # a new statement on its own line, indented like the node's line
            line_text = _line(source, rng.start.line)
            indent = line_text[: len(line_text) - len(line_text.lstrip())]
            rng = Range(Position(rng.start.line, 0), Position(rng.start.line, 0))
            text = f"{indent}{text}\n"
        edits.append(Edit(rng, text))
    return Fix(pending.title, tuple(edits), pending.safe)


def _line(source: str, line_no: int) -> str:
    start = 0
    for _ in range(line_no - 1):
        start = source.find("\n", start) + 1
        if start == 0:
            return ""
    end = source.find("\n", start)
    return source[start:] if end == -1 else source[start:end]


_SUPPRESSION = re.compile(
    r"#\s*(?:tensorlint\s*:\s*ignore(?:\[(?P<tl>[A-Za-z0-9_,\s]*)\])?|noqa(?:\s*:\s*(?P<noqa>[A-Za-z0-9_,\s]+))?)",
    re.IGNORECASE,
)


def suppressed_codes(line_text: str) -> set[str] | None:
    """Codes a line's suppression comment names; an empty set means all codes; None means no comment."""
    if "#" not in line_text:
        return None
    match = _SUPPRESSION.search(line_text)
    if match is None:
        return None
    listed = match.group("tl") or match.group("noqa") or ""
    return {code.strip().upper() for code in listed.replace(",", " ").split() if code.strip()}


def is_suppressed(finding: Finding, lines: Sequence[str]) -> bool:
    if finding.code in (SYNTAX_ERROR, UNDECODABLE):
        return False
    for line_no in {finding.range.start.line, finding.range.end.line}:
        if 1 <= line_no <= len(lines):
            codes = suppressed_codes(lines[line_no - 1])
            if codes is not None and (not codes or finding.code in codes):
                return True
    return False


def suppression_comment(line_text: str, code: str) -> str:
    """The line with ``code`` added to its suppression comment (or a new ``# tensorlint: ignore[CODE]``)."""
    match = re.search(r"#\s*tensorlint\s*:\s*ignore\[(?P<codes>[^\]]*)\]", line_text)
    if match:
        codes = [c.strip() for c in match.group("codes").split(",") if c.strip()]
        if code not in codes:
            codes.append(code)
        return line_text[: match.start("codes")] + ", ".join(codes) + line_text[match.end("codes"):]
    return line_text.rstrip() + f"  # tensorlint: ignore[{code}]"
