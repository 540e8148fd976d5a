"""Parse once, walk once: every enabled rule runs in one batched traversal of one libcst tree."""

from __future__ import annotations

import ast
import logging
import re
import warnings
from dataclasses import dataclass, replace
from typing import Any, Callable, Sequence

import libcst as cst
from libcst._position import CodePosition, CodeRange

from .collection import collection_paused
from .config import Settings
from .context import Context
from .findings import Edit, Finding, Fix, Position, Range, Severity
from .lines import LINE_BREAK, line_text as source_line, line_texts
from .parsing import parse_module
from .positions import node_ranges, statement_node_ranges
from .rule import STATEMENT_SCOPE, PendingFix, Report, Rule
from .traversal import FIELD_TABLE, TRIVIA_TYPES, child_fields

log = logging.getLogger("tensorlint")

SYNTAX_ERROR = "TL001"
UNDECODABLE = "TL002"
RULE_CRASH = "TL003"
# The engine's own codes (TL004 is analyzers/workspace.py's TOO_LARGE, TL005 analyzers/notebook.py's
# MALFORMED_NOTEBOOK): they say that a file, or part of it, could not be checked, so no selection turns them off.
# `tensorlint rules TL001` prints these: (name, what it means and what to do).
ENGINE_CODES: dict[str, tuple[str, str]] = {
    SYNTAX_ERROR: ("syntax-error", "The file (or a notebook cell) does not parse, so no rule could check it. Fix the "
                                   "syntax: the file is checked again as soon as it parses."),
    UNDECODABLE: ("undecodable-file", "The file is not valid UTF-8, so it was not checked. Save it as UTF-8, or "
                                      "exclude it (`exclude` / `extend-exclude` in [tool.tensorlint])."),
    RULE_CRASH: ("rule-crash", "A rule raised an exception on this file; the other rules' findings stand. Please "
                               "report it with the file; `--ignore` the rule's own code to skip it meanwhile."),
    "TL004": ("file-too-large", "The file is larger than `max-file-size-kb` and was not analysed. Raise "
                                "`max-file-size-kb` in [tool.tensorlint], or exclude the file."),
    "TL005": ("malformed-notebook", "The .ipynb file is not a notebook that can be read (not JSON, no `cells` "
                                    "list, or nbformat 3), so it was not checked. Resave it with Jupyter, or exclude "
                                    "it."),
}


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
    cst.If: lambda ctx, n: ctx.enter_guard(n),
    cst.IfExp: lambda ctx, n: ctx.enter_guard(n),
    cst.Import: lambda ctx, n: ctx.add_import(n),
    cst.ImportFrom: lambda ctx, n: ctx.add_import(n),
}
_SCOPE_POP: dict[type, Callable[[Context, cst.CSTNode], None]] = {
    cst.ClassDef: lambda ctx, n: ctx.class_stack.pop(),
    cst.FunctionDef: lambda ctx, n: (ctx.function_stack.pop(), ctx.pop_scope()),
    cst.For: lambda ctx, n: ctx.loop_stack.pop(),
    cst.While: lambda ctx, n: ctx.loop_stack.pop(),
    cst.With: lambda ctx, n: ctx.leave_with(),
    cst.If: lambda ctx, n: ctx.leave_guard(),
    cst.IfExp: lambda ctx, n: ctx.leave_guard(),
    cst.Assign: lambda ctx, n: [ctx.bind(t.target, n.value) for t in n.targets],
    cst.AnnAssign: lambda ctx, n: n.value is not None and ctx.bind(n.target, n.value),
}


class _Dispatch:
    """Per rule set (computed once, reused for every file): which rule methods run for which node types."""

    __slots__ = ("visit", "leave", "prune")

    def __init__(self, rule_classes: Sequence[type[Rule]]):
        visit: dict[type, list[tuple[int, str]]] = {}
        leave: dict[type, list[tuple[int, str]]] = {}
        for index, rule_class in enumerate(rule_classes):
            for attr in dir(rule_class):
                if attr.startswith("visit_"):
                    table, type_name = visit, attr[len("visit_"):]
                elif attr.startswith("leave_"):
                    table, type_name = leave, attr[len("leave_"):]
                else:
                    continue
                node_type = getattr(cst, type_name, None)
                if isinstance(node_type, type):
                    table.setdefault(node_type, []).append((index, attr))
        self.visit = {t: tuple(h) for t, h in visit.items()}
        self.leave = {t: tuple(h) for t, h in leave.items()}
        # Whitespace, comments and punctuation make up about half of a tree; nobody asks for them unless a rule
        # does, so the walk does not descend into them.
        wanted = set(self.visit) | set(self.leave)
        self.prune = frozenset() if wanted & TRIVIA_TYPES else TRIVIA_TYPES


_DISPATCH_CACHE: dict[tuple, _Dispatch] = {}


def _bound(rules: Sequence[Rule], dispatch: _Dispatch) -> tuple[dict, dict]:
    """``dispatch``'s tables with each rule's handlers bound to its instance in ``rules``."""
    return tuple({t: tuple((rules[i], getattr(rules[i], name)) for i, name in handlers)
                  for t, handlers in table.items()} for table in (dispatch.visit, dispatch.leave))


def _joined(first: tuple[dict, dict], second: tuple[dict, dict]) -> tuple[dict, dict]:
    joined = []
    for base, extra in zip(first, second):
        table = dict(base)
        for node_type, handlers in extra.items():
            table[node_type] = table.get(node_type, ()) + handlers
        joined.append(table)
    return joined[0], joined[1]


def _dispatch_for(rule_classes: Sequence[type[Rule]]) -> _Dispatch:
    key = tuple(rule_classes)
    dispatch = _DISPATCH_CACHE.get(key)
    if dispatch is None:
        if len(_DISPATCH_CACHE) > 64:
            _DISPATCH_CACHE.clear()
        dispatch = _DISPATCH_CACHE[key] = _Dispatch(rule_classes)
    return dispatch


class _Walker:
    """One depth-first walk in libcst's visiting order, dispatching each node to the rules that asked for its
    type and keeping the context's scopes current. It reads each node's children straight from its fields
    (:mod:`.traversal`), where ``CSTNode.visit`` would rebuild every node it passes.

    Module-scope rules see the whole walk. Statement-scope rules start afresh on each top-level statement that
    :meth:`walk_module` is told to check with them; their handlers join the module rules' for that statement
    only."""

    def __init__(self, ctx: Context, rules: Sequence[Rule], dispatch: _Dispatch,
                 statement_classes: Sequence[type[Rule]] = (), incremental_rules: Sequence[Rule] = ()):
        self.ctx = ctx
        self.prune = dispatch.prune
        self.statement_classes = tuple(statement_classes)
        self._statement_dispatch = _dispatch_for(self.statement_classes) if statement_classes else None
        incremental_dispatch = _dispatch_for([type(rule) for rule in incremental_rules])
        for extra in (self._statement_dispatch, incremental_dispatch):
            if extra is not None and not extra.prune:
                self.prune = frozenset()  # a rule asks for whitespace or comments
        # the rule instances' bound methods, so that each call is as cheap as a visitor's own
        self.visit, self.leave = _bound(rules, dispatch)
        # with the incremental module rules too (False: only the others; see Rule.incremental)
        self._module_tables = {False: (self.visit, self.leave)}
        if incremental_rules:
            self._module_tables[True] = _joined((self.visit, self.leave),
                                                _bound(incremental_rules, incremental_dispatch))
            self.visit, self.leave = self._module_tables[True]
        self.errors: list[str] = []
        self._disabled: set[int] = set()  # id() of crashed rule instances
        self._statement_rules: list[Rule] | None = None  # the statement rules' instances, made for the first
        self._statement_tables: dict[bool, tuple[dict, dict]] = {}  # statement that runs them (see tables)

    def _run(self, handlers: tuple[tuple[Rule, Callable], ...], node: cst.CSTNode) -> None:
        for rule, handler in handlers:
            if id(rule) in self._disabled:
                continue
            try:
                handler(node)
            except Exception as exc:  # one broken rule must not silence the others
                self._disabled.add(id(rule))
                self.errors.append(f"{rule.code}: {type(exc).__name__}: {exc}")
                log.exception("rule %s crashed on %s", rule.code, self.ctx.path)

    def tables(self, incremental: bool = True, statement: bool = True) -> tuple[dict, dict]:
        """The handler tables for one top-level statement: the module rules' (the incremental ones only if
        ``incremental``), joined by a fresh instance of every statement rule if ``statement``."""
        module_rules = incremental and True in self._module_tables
        if not statement or not self.statement_classes:
            return self._module_tables[module_rules]
        if self._statement_rules is None:
            self._statement_rules = [cls(self.ctx) for cls in self.statement_classes]
            statement_tables = _bound(self._statement_rules, self._statement_dispatch)
            self._statement_tables = {key: _joined(tables, statement_tables)
                                      for key, tables in self._module_tables.items()}
        else:
            # The same instances, emptied and initialised again, are fresh rules: binding their handlers into
            # the tables again for each of a file's thousand statements would cost more than walking them.
            for rule in self._statement_rules:
                rule.__dict__.clear()
                rule.__init__(self.ctx)
                self._disabled.discard(id(rule))
        return self._statement_tables[module_rules]

    def walk_module(self, module: cst.Module, on_statement: Callable[[int, cst.CSTNode], bool] | None = None,
                    after_statement: Callable[[int], None] | None = None) -> None:
        """Walk ``module``. Before each top-level statement, ``on_statement(index, statement)`` says which rules
        run on it: ``(incremental module rules?, statement rules?)``, or None to skip its walk (the callback then
        did what the walk would have done to the context); without the callback, all of them.
        ``after_statement(index)`` follows each statement, walked or not."""
        ctx = self.ctx
        module_visit, module_leave, prune = self.visit, self.leave, self.prune
        visit, leave = module_visit, module_leave
        push_table, pop_table = _SCOPE_PUSH, _SCOPE_POP
        run = self._run
        field_table = FIELD_TABLE
        learn_fields = child_fields
        sentinel = cst.MaybeSentinel

        def walk(node: cst.CSTNode) -> None:
            node_type = type(node)
            push = push_table.get(node_type)
            if push is not None:
                push(ctx, node)
            handlers = visit.get(node_type)
            if handlers:
                run(handlers, node)
            fields = field_table.get(node_type)
            if fields is None:
                fields = learn_fields(node)
            for name in fields:
                value = getattr(node, name)
                value_type = type(value)
                if value_type is tuple or value_type is list:
                    for child in value:
                        if type(child) not in prune:
                            walk(child)
                elif value is not None and value_type is not sentinel and value_type not in prune:
                    walk(value)
            handlers = leave.get(node_type)
            if handlers:
                run(handlers, node)
            pop = pop_table.get(node_type)
            if pop is not None:
                pop(ctx, node)

        handlers = module_visit.get(cst.Module)
        if handlers:
            run(handlers, module)
        for field in ("header", "body", "footer"):
            if field != "body":
                for line in getattr(module, field):
                    if type(line) not in prune:
                        walk(line)
                continue
            for index, statement in enumerate(module.body):
                plan = (True, True) if on_statement is None else on_statement(index, statement)
                if plan is not None:
                    visit, leave = self.tables(*plan)
                    ctx.statement = statement
                    walk(statement)
                    ctx.statement = None
                if after_statement is not None:
                    after_statement(index)
            visit, leave = module_visit, module_leave
        handlers = module_leave.get(cst.Module)
        if handlers:
            run(handlers, module)


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
    return parse_module(source)


def rules_for_source(rule_classes: Sequence[type[Rule]], source: str) -> list[type[Rule]]:
    """The rules that can find anything in ``source``: a rule that needs a framework is dropped when the text
    never mentions it. Every name a rule resolves comes from an import written in the text, so a module without
    the word ``torch`` cannot import torch (or torchvision) and no PyTorch rule can fire on it. The same goes
    for a rule's ``needs_any_of`` words."""
    mentioned: dict[str, bool] = {}

    def mentions(word: str) -> bool:
        found = mentioned.get(word)
        if found is None:
            found = mentioned[word] = word in source
        return found

    selected = []
    for rule_class in rule_classes:
        needs = rule_class.required_frameworks()
        if needs and not any(mentions(fw) for fw in needs):
            continue
        if rule_class.needs_any_of and not any(mentions(word) for word in rule_class.needs_any_of):
            continue
        if any(not any(mentions(word) for word in group) for group in rule_class.needs_each_of):
            continue
        selected.append(rule_class)
    return selected


def check_source(source: str, path: str = "<string>", settings: Settings | None = None) -> CheckResult:
    """All findings for one module's text (the engine's main entry point)."""
    with collection_paused():
        return _check_source(source, path, settings or Settings())


def _check_source(source: str, path: str, settings: Settings) -> CheckResult:
    rule_classes = rules_for_source(settings.enabled_rules(path), source)
    if not rule_classes:
        # No rule can report anything here; the only finding left to give is a syntax error.
        return CheckResult(_syntax_check(source))
    try:
        module = parse(source)
    except cst.ParserSyntaxError as exc:
        return CheckResult((syntax_error_finding(exc, source),))
    except RecursionError:
        return CheckResult((_too_deep(),))
    return _check_parsed(module, source, path, settings, rule_classes)


def _too_deep() -> Finding:
    return Finding(SYNTAX_ERROR, "SyntaxError: nesting too deep to parse", Severity.ERROR, Range.of(1, 0, 1, 0))


def _syntax_check(source: str) -> tuple[Finding, ...]:
    # CPython's parser is about four times faster than libcst's; libcst is consulted only when CPython rejects
    # the text, so the finding is the same one a full check would give.
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. SyntaxWarning for "\d" in a string: not ours to report
            compile(source, "<tensorlint>", "exec", ast.PyCF_ONLY_AST)
        return ()
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        pass
    try:
        parse_module(source)
    except cst.ParserSyntaxError as exc:
        return (syntax_error_finding(exc, source),)
    except RecursionError:
        return (_too_deep(),)
    return ()


def check_module(module: cst.Module, source: str, path: str, settings: Settings,
                 rule_classes: Sequence[type[Rule]] | None = None, layout: "StatementLayout | None" = None,
                 cache: "StatementCache | None" = None) -> CheckResult:
    """All findings for an already parsed module (``source`` is its text). Every enabled rule runs unless
    ``rule_classes`` says which; a caller that checks a piece of a document gets the pre-filtered set from
    ``rules_for_source(settings.enabled_rules(path), whole_document_text)``: the piece alone may not mention
    the framework its names were imported from. With the ``layout`` of the module's statements and the
    document's ``cache``, the statement-scope rules run only on statements the cache has no findings for."""
    if rule_classes is None:
        rule_classes = settings.enabled_rules(path)
    return _check_parsed(module, source, path, settings, rule_classes, layout, cache)


def _check_parsed(module: cst.Module, source: str, path: str, settings: Settings,
                  rule_classes: Sequence[type[Rule]], layout: "StatementLayout | None" = None,
                  cache: "StatementCache | None" = None) -> CheckResult:
    statement_classes = [cls for cls in rule_classes if cls.scope == STATEMENT_SCOPE]
    module_classes = [cls for cls in rule_classes if cls.scope != STATEMENT_SCOPE]
    ctx = Context(module, source, path, settings.options, cache.document_memory if cache is not None else None)
    if layout is not None and len(layout.starts) != len(module.body):
        layout = None  # not this module's layout: position and check everything afresh
    incremental_check = cache is not None and layout is not None
    rules = [cls(ctx) for cls in module_classes]
    # module rules an editor may skip on statements it walked before (see Rule.incremental); the CLI walks all
    incremental = [rule for rule in rules if incremental_check and type(rule).incremental()]
    always = [rule for rule in rules if not any(rule is other for other in incremental)]
    always_dispatch = _dispatch_for([type(rule) for rule in always])
    # whether the rules that are never skipped have anything to do inside a statement
    always_walk = any(t is not cst.Module for table in (always_dispatch.visit, always_dispatch.leave) for t in table)
    walker = _Walker(ctx, always, always_dispatch, statement_classes, incremental)
    stateful = [rule for rule in incremental if rule.accumulates or rule.carries]
    # the statements where a rule read other statements: never reused (Rule.reads_other_statements)
    unreusable: set[int] = set()
    # reports[bounds[k][0]:bounds[k][1]] were made while the walk was in top-level statement k
    bounds: list[tuple[int, int]] = []
    begin = [0]
    plans: list[_Plan] = []
    # the stateful rules' statement_key() between statements: recomputed only after a statement they walked
    state_key: list = []

    def on_statement(index: int, statement: cst.CSTNode) -> tuple[bool, bool] | None:
        begin[0] = len(ctx.reports)
        if not incremental_check:
            return True, True
        key = (source[layout.starts[index]:layout.ends[index]], ctx.module_facts())
        entry = cache.lookup(key, statement)
        if not state_key:  # after visit_Module
            state_key.append(tuple(rule.statement_key() for rule in stateful))
        rule_key = state_key[0]
        # the module rules' part is reused only for the very nodes it was made on (its state holds nodes)
        reuse_rules = (entry is not None and entry.rule_key is not None and entry.statement is statement
                       and entry.rule_key == rule_key)
        plan = _Plan(key, entry, entry is None, not reuse_rules, rule_key,
                     () if reuse_rules else tuple(rule.statement_mark() for rule in stateful))
        plans.append(plan)
        if reuse_rules:
            for position, effect in entry.effects:
                stateful[position].replay_statement(effect)
            state_key[0] = entry.key_after
            if not always_walk:
                ctx.restore_facts(entry.facts_after)
                return None
        cache.walked += 1
        ctx.read_other_statements = False
        return plan.module_rules, plan.statement_rules

    def after_statement(index: int) -> None:
        bounds.append((begin[0], len(ctx.reports)))
        if not incremental_check:
            return
        plan = plans[index]
        if ctx.read_other_statements:
            unreusable.add(index)
        if plan.module_rules:
            # every walked statement keeps the state after it: made of the objects of the state before it where
            # they are equal, so that a long module holds one copy of what most statements leave unchanged
            key_after = tuple(_shared(before, rule.statement_key()) for rule, before in zip(stateful, plan.rule_key))
            # only what changed is replayed
            plan.effects = tuple((position, rule.statement_effect(mark)) for position, (rule, mark, before, after)
                                 in enumerate(zip(stateful, plan.mark, plan.rule_key, key_after))
                                 if before != after or mark != rule.statement_mark())
            plan.key_after = state_key[0] = key_after
        plan.facts_after = ctx.module_facts()

    if cache is not None:
        cache.start(settings, path, rule_classes, module)
    try:
        walker.walk_module(module, on_statement, after_statement)
    except RecursionError:
        return CheckResult((_too_deep(),))
    if walker.errors and incremental_check:
        # a crashed rule is off for the rest of a walk: which statements that silenced depends on the walk order,
        # so this version is checked whole, and its statements afresh next time
        cache.reset()
        return _check_parsed(module, source, path, settings, rule_classes)
    if not incremental_check:
        findings = _positioned(module, ctx.reports, source) if ctx.reports else []
    else:
        findings = _positioned_by_statement(module, source, layout, ctx.reports, bounds, plans, cache,
                                            {id(rule) for rule in incremental}, unreusable)
    if findings:
        findings = _distinct(findings)
        lines = line_texts(source)
        findings = [f for f in findings if not is_suppressed(f, lines)]
    findings.sort(key=Finding.sort_key)
    return CheckResult(tuple(findings), tuple(walker.errors))


def _shared(before: tuple, after: tuple) -> tuple:
    """``after`` (a rule's ``statement_key``), with ``before``'s objects where they are equal."""
    if before == after:
        return before
    return tuple(old if old == new else new for old, new in zip(before, after))


def _positioned(module: cst.Module, reports: list[Report], source: str) -> list[Finding]:
    # Positions come from one codegen pass that records only the reported nodes (see positions.py).
    positions = node_ranges(module, _nodes_of(reports))
    return [_finding(report, positions, source) for report in reports]


def _nodes_of(reports: Sequence[Report]) -> list[cst.CSTNode]:
    wanted = [report.node for report in reports]
    wanted.extend(edit.node for report in reports if report.fix for edit in report.fix.edits)
    return wanted


def _finding(report: Report, positions: dict, source: str) -> Finding:
    def range_of(node: cst.CSTNode) -> Range:
        code_range = positions[node]
        return Range(Position(code_range.start.line, code_range.start.column),
                     Position(code_range.end.line, code_range.end.column))

    return Finding(report.rule.code, report.message, report.rule.severity, range_of(report.node),
                   _fix(report.fix, range_of, source) if report.fix else None)


def _distinct(findings: list[Finding]) -> list[Finding]:
    seen = set()
    kept = []
    for finding in findings:
        key = (finding.code, finding.range, finding.message)
        if key not in seen:
            seen.add(key)
            kept.append(finding)
    return kept


# -- re-checking only what an edit touched -------------------------------------------------------------------------
@dataclass(frozen=True)
class StatementLayout:
    """Where each top-level statement of a parsed document lies in its text: statement k's own text (its
    leading comment and blank lines included) is ``source[starts[k]:ends[k]]`` (the last one's includes the
    module's footer)."""

    starts: tuple[int, ...]
    ends: tuple[int, ...]


@dataclass(frozen=True)
class _StatementEntry:
    """What the last check learnt about one top-level statement (lines counted from the statement's first)."""

    findings: tuple[Finding, ...]  # the statement rules'
    facts_after: Any  # the module facts after it (ModuleFacts)
    # the incremental module rules' part, valid for this very node: their state before it (None: never reuse),
    # what its walk did to their state, and what they reported in it
    statement: cst.CSTNode
    rule_key: tuple | None
    effects: tuple  # ((index among the stateful rules, Rule.statement_effect), ...) for those it changed
    key_after: tuple
    rule_findings: tuple[Finding, ...]


@dataclass
class _Plan:
    """One top-level statement in an incremental check: what runs on it, and what it did."""

    key: tuple  # (its text, the module facts before it)
    entry: _StatementEntry | None  # the last check's, for the same key
    statement_rules: bool  # the statement rules run on it (nothing to reuse)
    module_rules: bool  # the incremental module rules run on it (their part cannot be reused)
    rule_key: tuple
    mark: tuple
    effects: tuple = ()
    key_after: tuple = ()
    facts_after: Any = None


class StatementCache:
    """The statement-scope rules' findings per top-level statement of one document, keyed by the statement's
    text and the module-wide facts in force when the walk reaches it (:meth:`Context.module_facts`). Entries
    live for one version: those the last check did not use are dropped, so memory follows the document."""

    def __init__(self) -> None:
        # several entries for one key when the same statement text appears more than once (a script repeated):
        # the module rules' part of an entry is valid only for its own statement node
        self._entries: dict[tuple, list[_StatementEntry]] = {}
        self._next: dict[tuple, list[_StatementEntry]] = {}
        self._config: tuple | None = None
        self.document_memory: dict = {}  # Context.document_memory for every version of this document
        # statement -> {node: range counted from the statement's first line} for reports that name their
        # statement (Report.statement), so that a statement an edit did not touch is not generated again
        self.deferred_ranges: dict[cst.CSTNode, dict] = {}
        self.rechecked = 0  # top-level statements the statement rules ran on in the last check (tests, benchmarks)
        self.walked = 0  # top-level statements the last check walked at all

    def start(self, settings: Settings, path: str, rule_classes: Sequence[type[Rule]], module: cst.Module) -> None:
        config = (settings, path, tuple(rule_classes), module.default_indent, module.default_newline)
        if config != self._config:
            self._config, self._entries = config, {}
        else:
            self._entries.update(self._next)
        self._next = {}
        self.rechecked = 0
        self.walked = 0

    def reset(self) -> None:
        self._entries, self._next, self._config = {}, {}, None
        self.deferred_ranges = {}

    def lookup(self, key: tuple, statement: cst.CSTNode) -> _StatementEntry | None:
        """The entry made for ``statement`` itself, else one made for another statement of the same text."""
        entries = self._entries.get(key)
        if entries is None:
            self.rechecked += 1
            return None
        entry = next((entry for entry in entries if entry.statement is statement), entries[0])
        kept = self._next.setdefault(key, [])
        if not any(other is entry for other in kept):
            kept.append(entry)
        return entry

    def store(self, key: tuple, entry: _StatementEntry) -> None:
        kept = self._next.setdefault(key, [])
        kept[:] = [other for other in kept if other.statement is not entry.statement]
        kept.append(entry)

    def finish(self) -> None:
        self._entries, self._next = self._next, {}


def _positioned_by_statement(module: cst.Module, source: str, layout: StatementLayout, reports: list[Report],
                             bounds: list[tuple[int, int]], plans: list[_Plan], cache: StatementCache,
                             incremental: set[int], unreusable: set[int]) -> list[Finding]:
    """Findings with positions from a codegen of only the statements that hold them (a full codegen of a long
    file costs more than checking the statement an edit touched); cached findings of untouched statements
    shifted to where their statement lies now. Stores what can be reused next time (``incremental``: the
    ``id()`` of the module rules whose findings in a statement are cached with it)."""
    findings: list[Finding] = []
    # made outside every statement: by visit_Module and leave_Module handlers
    elsewhere: list[Report] = [*reports[:bounds[0][0]], *reports[bounds[-1][1]:]] if bounds else list(reports)
    deferred, elsewhere = _by_statement(module, elsewhere)
    deferred_ranges: dict[cst.CSTNode, dict] = {}
    line_at = _line_counter(source)
    for index, statement in enumerate(module.body):
        first, last = bounds[index]
        plan = plans[index]
        entry = plan.entry
        fresh = plan.statement_rules or plan.module_rules
        reused = (() if plan.statement_rules else entry.findings) + (() if plan.module_rules else entry.rule_findings)
        later = deferred.get(index)
        if first == last and not reused and not fresh and not later:
            continue
        first_line = line_at(layout.starts[index])
        if later:
            ranges = deferred_ranges[statement] = cache.deferred_ranges.get(statement, {})
            for report in later:
                finding = _deferred_finding(module, statement, report, ranges, first_line, source)
                if finding is None:
                    elsewhere.append(report)
                else:
                    findings.append(finding)
        here = reports[first:last]
        positions = statement_node_ranges(module, statement, _nodes_of(here), first_line) if here else {}
        statement_findings: list[Finding] = []
        rule_findings: list[Finding] = []
        statement_cached, rules_cached = True, index not in unreusable
        for report in here:
            nodes = [report.node, *(edit.node for edit in report.fix.edits)] if report.fix else [report.node]
            cached = report.rule.scope == STATEMENT_SCOPE or id(report.rule) in incremental
            if not all(node in positions for node in nodes):
                elsewhere.append(report)  # e.g. a fix that adds an import at the top: not this statement's
                if report.rule.scope == STATEMENT_SCOPE:
                    statement_cached = False  # nor can its findings be reused where the statement moves
                elif cached:
                    rules_cached = False
                continue
            finding = _finding(report, positions, source)
            findings.append(finding)
            if cached:
                (statement_findings if report.rule.scope == STATEMENT_SCOPE else rule_findings).append(
                    _shifted(finding, 1 - first_line))
        findings.extend(_shifted(finding, first_line - 1) for finding in reused)
        if fresh and statement_cached:
            cache.store(plan.key, _StatementEntry(
                tuple(statement_findings) if plan.statement_rules else entry.findings, plan.facts_after, statement,
                (plan.rule_key if rules_cached else None) if plan.module_rules else entry.rule_key,
                plan.effects if plan.module_rules else entry.effects,
                plan.key_after if plan.module_rules else entry.key_after,
                tuple(rule_findings) if plan.module_rules else entry.rule_findings))
    if elsewhere:
        findings.extend(_positioned(module, elsewhere, source))
    cache.deferred_ranges = deferred_ranges
    cache.finish()
    return findings


def _by_statement(module: cst.Module, reports: list[Report]) -> tuple[dict[int, list[Report]], list[Report]]:
    """The reports that name their top-level statement (``Report.statement``), by the statement's index in
    ``module``; and the others."""
    if not any(report.statement is not None for report in reports):
        return {}, reports
    index_of = {id(statement): index for index, statement in enumerate(module.body)}
    located: dict[int, list[Report]] = {}
    others = []
    for report in reports:
        index = index_of.get(id(report.statement)) if report.statement is not None else None
        if index is None:
            others.append(report)
        else:
            located.setdefault(index, []).append(report)
    return located, others


def _deferred_finding(module: cst.Module, statement: cst.CSTNode, report: Report, ranges: dict,
                      first_line: int, source: str) -> Finding | None:
    """The finding of a report made outside its statement's walk, positioned from that statement alone (the
    ranges of its nodes relative to the statement's first line are kept in ``ranges`` for the next version,
    where the statement may have moved); None when a node of it is not in that statement."""
    nodes = _nodes_of([report])
    missing = [node for node in nodes if node not in ranges]
    if missing:
        ranges.update(statement_node_ranges(module, statement, missing, 1))
        if any(node not in ranges for node in missing):
            return None
    shift = first_line - 1
    positions = {node: _moved(ranges[node], shift) for node in nodes}
    return _finding(report, positions, source)


def _moved(code_range: CodeRange, lines: int) -> CodeRange:
    if not lines:
        return code_range
    start, end = code_range.start, code_range.end
    return CodeRange(CodePosition(start.line + lines, start.column), CodePosition(end.line + lines, end.column))


def _line_counter(source: str) -> Callable[[int], int]:
    """The line at each of increasing offsets, counting only the text since the previous one."""
    counted = [0, 1]  # offset, line there
    lone_carriage_returns = "\r" in source

    def line_at(offset: int) -> int:
        start, line = counted
        if lone_carriage_returns:
            line += len(LINE_BREAK.findall(source[start:offset]))
        else:
            line += source.count("\n", start, offset)
        counted[:] = offset, line
        return line

    return line_at



def _shifted(finding: Finding, lines: int) -> Finding:
    if not lines:
        return finding

    def move(rng: Range) -> Range:
        return Range(Position(rng.start.line + lines, rng.start.column), Position(rng.end.line + lines, rng.end.column))

    fix = finding.fix
    if fix is not None:
        fix = replace(fix, edits=tuple(replace(edit, range=move(edit.range)) for edit in fix.edits))
    return replace(finding, range=move(finding.range), fix=fix)


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
            line_text = source_line(source, rng.start.line)
            indent = line_text[: len(line_text) - len(line_text.lstrip())]
            rng = Range(Position(rng.start.line, 0), Position(rng.start.line, 0))
            text = f"{indent}{text}\n"
        edits.append(Edit(rng, text))
    return Fix(pending.title, tuple(edits), pending.safe)


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
