"""`tensorlint serve`: the language server. A thin pygls layer: documents in, engine results out as diagnostics,
code actions, hovers and code lenses. All analysis lives in analyzers/ and runs off the message loop."""

from __future__ import annotations

import ast
import asyncio
import functools
import logging
import os
import re
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Sequence
from urllib.parse import unquote

from lsprotocol import types
from pygls.exceptions import FeatureRequestError, JsonRpcContentModified, JsonRpcInvalidParams
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path
from pygls.workspace import TextDocument
from pygls.workspace.position_codec import PositionCodec, ServerTextPosition

from ..analyzers import CheckResult, ConfigError, Finding, Settings, all_rules, check_source, fix_source
from ..analyzers.config import DEPLOYMENT_SCENARIOS, KNOWN_KEYS, settings_with
from ..analyzers.engine import SYNTAX_ERROR, UNDECODABLE, suppression_comment
from ..analyzers.findings import Position, Range, Severity
from ..analyzers.incremental import IncrementalChecker
from ..analyzers.shapes import layer_shapes_at
from ..analyzers.symbols import import_table, name_at
from ..analyzers.workspace import TOO_LARGE, check_bytes
from . import installed_version, notebook_sync, translate_actions
from .documents import TensorlintProtocol, analysable, split_lines

# Deployment advice (analyzers/deployment.py) and the layer catalog (migrations/) are imported by the features that
# use them, translations by translate_actions: the server starts, and analyses the first document, without them.
if TYPE_CHECKING:
    from ..analyzers.deployment import Advice

log = logging.getLogger("tensorlint.server")

SOURCE = "tensorlint"
FIX_ALL_KIND = "source.fixAll.tensorlint"
EXPORT_SNIPPET_KIND = "refactor.tensorlint.exportSnippet"
SHOW_DEPLOYMENT_COMMAND = "tensorlint.showDeployment"
DEFAULT_DEBOUNCE_MS = 100
MIN_DEBOUNCE_MS = 20  # long enough to gather the changes an editor sends for one keystroke or one paste
KEPT_TREES = 3  # documents whose last parse (and per-statement findings) are kept for incremental re-checking
# Documents this large (a few seconds to analyse) are analysed on a thread of their own, so that the documents
# the user types in are never queued behind them.
LARGE_DOCUMENT_CHARS = 256 * 1024
SERVER_KEYS = {"debounce": (int, "the longest wait, in milliseconds, between two analyses of a document while typing")}
# Settings an editor keeps for itself (VS Code's tensorlint.path, .interpreter and .trace.server: how to start and
# trace the server) arrive with the rest of its `tensorlint` section; they are not unknown settings.
CLIENT_ONLY_KEYS = frozenset({"path", "interpreter", "trace"})
_CAMEL_HUMP = re.compile(r"(?<=[a-z0-9])[A-Z]")
_UNSUPPRESSIBLE = {SYNTAX_ERROR, UNDECODABLE, TOO_LARGE}
_SEVERITY = {
    Severity.ERROR: types.DiagnosticSeverity.Error,
    Severity.WARNING: types.DiagnosticSeverity.Warning,
    Severity.INFO: types.DiagnosticSeverity.Information,
}


def server_settings(table: dict[str, Any]) -> dict[str, Any]:
    """An editor's `tensorlint` settings in the server's key names: VS Code spells them as its settings are spelled
    (extendSelect, maxFileSizeKb), pyproject.toml and the other editors in kebab-case (extend-select). A key left
    unset (null) never hides the same key set under its other spelling."""
    settings: dict[str, Any] = {}
    for key, value in table.items():
        if key in CLIENT_ONLY_KEYS:
            continue
        name = _CAMEL_HUMP.sub(lambda hump: "-" + hump.group(0).lower(), key)
        if value is not None or name not in settings:
            settings[name] = value
    return settings


@dataclass(frozen=True)
class Snapshot:
    """One version of one document and the engine's result for it; every range sent out is built from it."""

    uri: str
    version: int
    text: str
    result: CheckResult
    settings: Settings | None
    notebook: str | None = None  # the notebook's uri when the document is one of its cells

    @functools.cached_property
    def lines(self) -> list[str]:
        return split_lines(self.text)

    @functools.cached_property
    def parses(self) -> bool:
        return _parses(self.text)

    @property
    def analysed(self) -> bool:
        """False for a document over the size limit: it has only its one TL004 finding, and every feature that
        would parse it (hover, deployment advice, translations) stays away, as the analysis did."""
        findings = self.result.findings
        return not (len(findings) == 1 and findings[0].code == TOO_LARGE)


class TensorlintServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("tensorlint", installed_version(), notebook_document_sync=notebook_sync.SYNC_OPTIONS,
                         protocol_cls=TensorlintProtocol)
        # One worker: a newer analysis queues behind an older one instead of competing with it for the GIL;
        # queued analyses that became stale are cancelled before they start.
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tensorlint-analysis")
        self.large_executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tensorlint-large-analysis")
        self.large_documents: set[str] = set()  # uris analysed on large_executor (for as long as they are open)
        # Requests that parse on their own (hover's imports, deployment advice, translations, fix-all) run on a
        # second worker: on a large document they take seconds, and the analyses of other documents (what the
        # user sees while typing) must not queue behind them.
        self.feature_executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tensorlint-features")
        self.init_options: dict[str, Any] = {}
        self.folder_config: dict[str, dict[str, Any]] = {}  # workspace folder uri ("" = global) -> settings
        self.config_ready = asyncio.Event()
        self.settings_cache: dict[str, Settings | None] = {}
        self.generation = 0  # bumped whenever settings may have changed; part of each cache key
        self.snapshots: dict[str, tuple[int, Snapshot]] = {}  # uri -> (generation, latest analysed version)
        self.inflight: dict[tuple[str, int, int], tuple[asyncio.Future, str, Settings | None]] = {}
        self.pending: dict[str, asyncio.Task] = {}
        self.warned: set[str] = set()
        self.advice_cache: dict[str, tuple[int, int, Advice]] = {}  # uri -> (version, generation, advice)
        self.imports_cache: dict[str, tuple[int, Any]] = {}  # uri -> (version, ImportTable or None)
        self.checkers: dict[str, IncrementalChecker] = {}  # used only on the analysis thread
        self.diagnostic_objects: dict[str, dict[tuple, types.Diagnostic]] = {}  # uri -> the last diagnostics made
        self.notebooks = notebook_sync.NotebookSync(self)
        self.last_edit: dict[str, float] = {}  # uri (document or notebook) -> time of its latest edit
        self.analysis_timing: dict[str, tuple[float, float]] = {}  # uri -> (start, seconds) of its latest analysis

    # -- settings ----------------------------------------------------------------------------------------------
    def client_table(self, uri: str) -> dict[str, Any]:
        folders = [f for f in self.folder_config if f and uri.startswith(f.rstrip("/") + "/")]
        table = dict(self.init_options)
        table.update(self.folder_config.get("", {}))
        if folders:
            table.update(self.folder_config[max(folders, key=len)])
        return table

    def debounce_seconds(self, uri: str) -> float:
        value = self.client_table(uri).get("debounce", DEFAULT_DEBOUNCE_MS)
        return max(int(value), 0) / 1000 if isinstance(value, int) else DEFAULT_DEBOUNCE_MS / 1000

    def edit_delay(self, uri: str) -> float:
        """How long to wait before analysing after an edit. A document whose analyses are timed is throttled:
        an analysis starts no sooner than one analysis' duration (at least MIN_DEBOUNCE_MS, at most the debounce)
        after the previous one started, so the first edit after a pause is analysed at once, a user typing slower
        than the analysis runs sees every keystroke's diagnostics without a wait, and a faster burst costs at
        most one analysis at a time, the burst's last edit analysed last. Waiting exists to save work that a
        newer keystroke would throw away, and work that finishes before the next keystroke is not worth saving.
        Without timings (notebooks), the plain debounce applies within a burst."""
        debounce = self.debounce_seconds(uri)
        now = time.monotonic()
        previous = self.last_edit.get(uri)
        self.last_edit[uri] = now
        timing = self.analysis_timing.get(uri)
        if timing is None:
            return debounce if previous is not None and now - previous < debounce else 0.0
        started, seconds = timing
        return max(0.0, started + min(debounce, max(seconds, MIN_DEBOUNCE_MS / 1000)) - now)

    def settings_for_uri(self, uri: str) -> Settings | None:
        """The merged settings for a document; None when the file is excluded from checking."""
        if uri in self.settings_cache:
            return self.settings_cache[uri]
        table = self.client_table(uri)
        unknown = sorted(k for k in table if k not in KNOWN_KEYS and k not in SERVER_KEYS)
        if unknown:
            self.warn_once(f"tensorlint: unknown setting{'s' if len(unknown) > 1 else ''} "
                           f"{', '.join(unknown)} ignored (known: {', '.join(sorted({*KNOWN_KEYS, *SERVER_KEYS}))})")
        table = {k: v for k, v in table.items() if k in KNOWN_KEYS}
        path = document_path(uri)
        try:
            settings = settings_with(path, table) if path else settings_with(os.getcwd(), table)
        except ConfigError as exc:
            self.warn_once(f"tensorlint: {exc}; using the defaults")
            settings = Settings()
        if path and settings.is_excluded(path):
            settings = None
        self.settings_cache[uri] = settings
        return settings

    def report_server_error(self, error: Exception, source) -> None:
        # pygls would pop these up; they are the client's mistakes or ours, never something the user can act on
        log.error("tensorlint: %s: %s", getattr(source, "__name__", source), error)
        if source is FeatureRequestError:
            return  # the request's own error response already says it
        try:
            self.window_log_message(types.LogMessageParams(types.MessageType.Error, f"tensorlint: {error}"))
        except Exception:  # no client to tell (the connection is gone)
            pass

    def warn_once(self, message: str) -> None:
        if message not in self.warned:
            self.warned.add(message)
            self.window_show_message(types.ShowMessageParams(types.MessageType.Warning, message))

    def settings_changed(self) -> None:
        self.settings_cache.clear()
        self.warned.clear()
        self.generation += 1

    # -- open documents ----------------------------------------------------------------------------------------
    # pygls files documents and notebooks under their *unquoted* uri, while clients send them quoted (VS Code's
    # cell uris end in a percent-encoded fragment, `#W0sZmlsZQ%3D%3D`; a path may hold `%20`): every lookup goes
    # through these, and every uri sent back is the one the client sent.
    def open_document(self, uri: str) -> TextDocument | None:
        return self.workspace.text_documents.get(unquote(uri))

    def open_document_uris(self) -> list[str]:
        return [document.uri for document in self.workspace.text_documents.values()]

    def open_notebook_uris(self) -> list[str]:
        return [notebook.uri for notebook in self.workspace.notebook_documents.values()]

    # -- analysis ----------------------------------------------------------------------------------------------
    async def snapshot(self, uri: str) -> Snapshot | None:
        """The analysed current version of ``uri`` (cached per (uri, version)); None for documents not ours."""
        if self.notebooks.notebook_of(uri) is not None:
            return await self.notebooks.cell_snapshot(uri)
        document = self.open_document(uri)
        if document is None or not is_python(document):
            return None
        version = document.version or 0
        generation = self.generation
        cached = self.snapshots.get(uri)
        if cached and cached[0] == generation and cached[1].version == version:
            return cached[1]
        key = (uri, version, generation)
        entry = self.inflight.get(key)
        if entry is None:
            text = analysable(document.source)
            settings = self.settings_for_uri(uri)
            path = document_path(uri) or uri
            executor = self.executor
            if uri in self.large_documents or len(text) > LARGE_DOCUMENT_CHARS:
                if uri not in self.large_documents:  # its checker may be in use on the other thread
                    self.large_documents.add(uri)
                    self.checkers.pop(uri, None)
                executor = self.large_executor
            # the most recently analysed documents keep their parsed tree (a few MB each): the ones being typed in
            checker = self.checkers.pop(uri, None) or IncrementalChecker()
            self.checkers[uri] = checker
            while len(self.checkers) > KEPT_TREES:
                self.checkers.pop(next(iter(self.checkers)))
            started = time.monotonic()
            future = asyncio.get_running_loop().run_in_executor(executor, analyse, text, path, settings, checker)
            entry = self.inflight[key] = (future, text, settings)
            self.analysis_timing[uri] = (started, self.analysis_timing.get(uri, (0.0, 0.0))[1])

            def done(finished: asyncio.Future) -> None:
                self.inflight.pop(key, None)
                if not finished.cancelled():  # a stale analysis cancelled before it ran says nothing of the cost
                    self.analysis_timing[uri] = (started, time.monotonic() - started)

            future.add_done_callback(done)
        future, text, settings = entry
        # shielded: a cancelled request (or a superseded lint) must not cancel an analysis others wait for
        result = await asyncio.shield(future)
        cached = self.snapshots.get(uri)
        if cached and cached[0] == generation and cached[1].version == version:
            return cached[1]
        snap = Snapshot(uri, version, text, result, settings)
        if result.errors:
            for error in result.errors:
                self.window_log_message(types.LogMessageParams(
                    types.MessageType.Error, f"tensorlint: rule crashed on {uri} (version {version}): {error}"))
        current = self.snapshots.get(uri)
        if self.open_document(uri) is not None and (current is None or current[1].version <= version):
            self.snapshots[uri] = (generation, snap)
        return snap

    def is_current(self, snap: Snapshot) -> bool:
        document = self.open_document(snap.uri)
        return document is not None and (document.version or 0) == snap.version

    async def lint(self, uri: str, delay: float = 0.0) -> None:
        if delay:
            await asyncio.sleep(delay)
        await self.wait_for_configuration()
        snap = await self.snapshot(uri)
        # an analysis that finished after a newer edit is dropped: the newer one publishes
        if snap is None or not self.is_current(snap) or self.pulls_diagnostics:
            return
        self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(
            uri=uri, version=snap.version, diagnostics=self.diagnostics(snap)))

    async def wait_for_configuration(self) -> None:
        if not self.config_ready.is_set():
            try:
                await asyncio.wait_for(self.config_ready.wait(), 5)
            except asyncio.TimeoutError:
                self.config_ready.set()

    def schedule(self, uri: str, delay: float = 0.0) -> None:
        previous = self.pending.pop(uri, None)
        if previous is not None:
            previous.cancel()
        document = self.open_document(uri)
        for (other, version, _), (future, _, _) in list(self.inflight.items()):
            if other == uri and document is not None and version < (document.version or 0):
                future.cancel()  # stale and not started yet: never runs (a running one finishes, unpublished)
        task = asyncio.ensure_future(self.lint(uri, delay))
        self.pending[uri] = task
        task.add_done_callback(lambda t: self.pending.get(uri) is t and self.pending.pop(uri, None))
        task.add_done_callback(_log_failure)

    def relint_all(self) -> None:
        for uri in self.open_document_uris():
            if self.notebooks.notebook_of(uri) is None:
                self.schedule(uri)
        for uri in self.open_notebook_uris():
            self.notebooks.schedule(uri)
        if self.pulls_diagnostics and _capability(self.client_capabilities, "workspace", "diagnostics",
                                                  "refresh_support"):
            self.workspace_diagnostic_refresh(None)

    @property
    def pulls_diagnostics(self) -> bool:
        return _capability(self.client_capabilities, "text_document", "diagnostic") is not None

    # -- conversions -------------------------------------------------------------------------------------------
    @property
    def codec(self) -> PositionCodec:
        return self.workspace.position_codec

    def to_client(self, lines: Sequence[str], position: Position) -> types.Position:
        line = min(max(position.line - 1, 0), len(lines) - 1)
        text = lines[line].rstrip("\r\n")
        column = min(max(position.column, 0), len(text))
        return self.codec.position_to_client_units(lines, ServerTextPosition(line, column))

    def range_to_client(self, lines: Sequence[str], rng: Range) -> types.Range:
        return types.Range(self.to_client(lines, rng.start), self.to_client(lines, rng.end))

    def from_client(self, lines: Sequence[str], position: types.Position) -> Position:
        server = self.codec.position_from_client_units(
            lines, types.Position(position.line, position.character))
        return Position(server.line + 1, server.character)

    def diagnostics(self, snap: Snapshot) -> list[types.Diagnostic]:
        """The document's diagnostics; those of findings unchanged since the last call (same finding, same lines
        around it) are the objects made then, so that publishing costs what the edit changed."""
        lines = snap.lines
        last = self.diagnostic_objects.get(snap.uri, {})
        made: dict[tuple, types.Diagnostic] = {}
        diagnostics = []
        for finding in snap.result.findings:
            start, end = finding.range.start.line - 1, finding.range.end.line - 1
            # a client's columns depend on the text before them (UTF-16 units): the lines are part of the key
            key = (finding, lines[start] if 0 <= start < len(lines) else None,
                   lines[end] if 0 <= end < len(lines) else None)
            diagnostic = last.get(key) or made.get(key) or self.diagnostic(lines, finding)
            made[key] = diagnostic
            diagnostics.append(diagnostic)
        self.diagnostic_objects[snap.uri] = made
        return diagnostics

    def diagnostic(self, lines: Sequence[str], finding: Finding) -> types.Diagnostic:
        return types.Diagnostic(
            range=self.range_to_client(lines, finding.range), message=finding.message,
            severity=_SEVERITY.get(finding.severity, types.DiagnosticSeverity.Warning), code=finding.code,
            source=SOURCE, data={"fixable": finding.fix is not None})

    def text_edits(self, lines: Sequence[str], edits) -> list[types.TextEdit]:
        return [types.TextEdit(self.range_to_client(lines, e.range), e.new_text) for e in edits]

    def workspace_edit(self, snap: Snapshot, edits: list[types.TextEdit]) -> types.WorkspaceEdit:
        # documentChanges name the version the edits were computed for, so a client refuses them once stale
        return types.WorkspaceEdit(document_changes=[types.TextDocumentEdit(
            text_document=types.OptionalVersionedTextDocumentIdentifier(uri=snap.uri, version=snap.version),
            edits=edits)])

    # -- code actions ------------------------------------------------------------------------------------------
    def code_actions(self, snap: Snapshot, params: types.CodeActionParams) -> list[types.CodeAction]:
        lines = snap.lines
        start = self.from_client(lines, params.range.start)
        end = self.from_client(lines, params.range.end)
        only = params.context.only
        actions: list[types.CodeAction] = []
        for finding in snap.result.findings:
            if finding.range.end < start or end < finding.range.start:
                continue
            diagnostic = self.diagnostic(lines, finding)
            if finding.fix is not None and _wanted(types.CodeActionKind.QuickFix, only):
                actions.append(types.CodeAction(
                    title=finding.fix.title, kind=types.CodeActionKind.QuickFix, diagnostics=[diagnostic],
                    is_preferred=finding.fix.safe or None,
                    edit=self.workspace_edit(snap, self.text_edits(lines, finding.fix.edits))))
            if finding.code not in _UNSUPPRESSIBLE and _wanted(types.CodeActionKind.QuickFix, only):
                edit = self.ignore_edit(snap, lines, finding)
                if edit is not None:
                    actions.append(types.CodeAction(
                        title=f"Ignore {finding.code} on this line", kind=types.CodeActionKind.QuickFix,
                        diagnostics=[diagnostic], edit=self.workspace_edit(snap, [edit])))
        if _wanted(FIX_ALL_KIND, only) and any(f.fix is not None and f.fix.safe for f in snap.result.findings):
            action = types.CodeAction(title="Fix all auto-fixable tensorlint problems", kind=FIX_ALL_KIND,
                                      data={"uri": snap.uri, "version": snap.version})
            if not self.resolves_edits:
                action.edit = self.fix_all_edit(snap)
                if action.edit is None:
                    action = None
            if action is not None:
                actions.append(action)
        return actions

    async def advice(self, snap: Snapshot) -> Advice:
        """The deployment advisor's verdicts for one analysed version (cached per (uri, version))."""
        cached = self.advice_cache.get(snap.uri)
        if cached and cached[:2] == (snap.version, self.generation):
            return cached[2]
        from ..analyzers.deployment import advise

        scenarios = (snap.settings.deployment if snap.settings and snap.settings.deployment
                     else DEPLOYMENT_SCENARIOS)
        path = document_path(snap.uri) or snap.uri
        advice = await asyncio.get_running_loop().run_in_executor(
            self.feature_executor, advise, snap.text, path, scenarios)
        self.advice_cache[snap.uri] = (snap.version, self.generation, advice)
        return advice

    def export_actions(self, snap: Snapshot, advice: Advice, params: types.CodeActionParams) -> list[types.CodeAction]:
        from ..analyzers.deployment import snippet_edit, snippet_title

        if not _wanted(EXPORT_SNIPPET_KIND, params.context.only):
            return []
        lines = snap.lines
        first = params.range.start.line + 1
        last = params.range.end.line + 1
        actions = []
        for model in advice.models:
            if not first <= model.line <= last:
                continue
            targets = dict.fromkeys(r.target for r in model.recommendations) or dict.fromkeys(
                v.target for v in model.targets)
            for target in targets:
                edit = snippet_edit(snap.text, model, target)
                actions.append(types.CodeAction(
                    title=snippet_title(model, target), kind=EXPORT_SNIPPET_KIND,
                    edit=self.workspace_edit(snap, self.text_edits(lines, [edit]))))
        return actions

    def code_lenses(self, snap: Snapshot, advice: Advice) -> list[types.CodeLens]:
        from ..analyzers.deployment import lens_title

        lines = snap.lines
        return [types.CodeLens(
            range=self.range_to_client(lines, Range(Position(m.line, m.column),
                                                    Position(m.line, m.column + len(m.name)))),
            command=types.Command(lens_title(m), SHOW_DEPLOYMENT_COMMAND, arguments=[snap.uri, m.name]))
            for m in advice.models]

    async def hover(self, snap: Snapshot, position: types.Position) -> types.Hover | None:
        from ..analyzers.deployment import Advice, target_explanation
        from ..migrations.catalog import card_for

        lines = snap.lines
        at = self.from_client(lines, position)
        sections: list[str] = []
        rules = all_rules()
        hover_range = None
        for finding in snap.result.findings:
            if finding.range.start <= at <= finding.range.end and finding.code in rules:
                rule = rules[finding.code]
                sections.append(f"### {rule.code} {rule.name}\n\n{rule.documentation()}")
                hover_range = hover_range or finding.range
        if snap.result.findings[:1] and snap.result.findings[0].code == SYNTAX_ERROR or not snap.analysed:
            pass  # half-typed code (imports and models are unknown until it parses again) or too large to parse
        else:
            imports = await self.imports(snap)
            name = name_at(snap.text, at, imports) if imports is not None else None
            card = card_for(name.canonical) if name is not None else None
            if card is not None:
                sections.append(card)
                hover_range = hover_range or name.range
            shapes = await asyncio.get_running_loop().run_in_executor(self.feature_executor, layer_shapes_at,
                                                                      snap.text, at)
            if shapes is not None:
                sections.append(shapes.markdown())
                hover_range = hover_range or shapes.range
            advice = await self.advice(snap) if _defines(snap, position.line, position.line) else Advice(())
            for model in advice.models:
                if model.line == at.line and model.column <= at.column <= model.column + len(model.name):
                    sections.extend(target_explanation(model, v.target) for v in model.targets)
                    hover_range = hover_range or Range(Position(model.line, model.column),
                                                       Position(model.line, model.column + len(model.name)))
        if not sections:
            return None
        return types.Hover(types.MarkupContent(types.MarkupKind.Markdown, "\n\n---\n\n".join(sections)),
                           self.range_to_client(lines, hover_range) if hover_range else None)

    async def imports(self, snap: Snapshot):
        cached = self.imports_cache.get(snap.uri)
        if cached and cached[0] == snap.version:
            return cached[1]
        table = await asyncio.get_running_loop().run_in_executor(self.feature_executor, import_table, snap.text)
        self.imports_cache[snap.uri] = (snap.version, table)
        return table

    def diagnostic_report(self, snap: Snapshot, previous: str | None):
        result_id = f"{snap.version}.{self.generation}"
        if previous == result_id:
            return types.RelatedUnchangedDocumentDiagnosticReport(result_id=result_id)
        return types.RelatedFullDocumentDiagnosticReport(items=self.diagnostics(snap), result_id=result_id)

    @property
    def resolves_edits(self) -> bool:
        support = _capability(self.client_capabilities, "text_document", "code_action", "resolve_support")
        return bool(support and "edit" in (support.properties or []))

    def ignore_edit(self, snap: Snapshot, lines: Sequence[str], finding: Finding) -> types.TextEdit | None:
        """Adds the suppression comment on the first line of the finding where the result still parses."""
        parses = snap.parses
        for line_no in dict.fromkeys((finding.range.start.line, finding.range.end.line)):
            if not 1 <= line_no <= len(lines):
                continue
            raw = lines[line_no - 1]
            body = raw.rstrip("\r\n")
            new_body = suppression_comment(body, finding.code)
            new_text = "".join(lines[:line_no - 1]) + new_body + raw[len(body):] + "".join(lines[line_no:])
            if parses and not _parses(new_text):
                continue
            rng = Range(Position(line_no, 0), Position(line_no, len(body)))
            return types.TextEdit(self.range_to_client(lines, rng), new_body)
        return None

    def fix_all_edit(self, snap: Snapshot) -> types.WorkspaceEdit | None:
        if snap.settings is None:
            return None
        if snap.notebook is not None:  # a cell: its fixes come from the whole notebook's analysis
            new_text = notebook_sync.fixed_cell_text(snap)
            if new_text is None:
                return None
        else:
            new_text, applied, _ = fix_source(snap.text, document_path(snap.uri) or snap.uri, snap.settings)
            if not applied or new_text == snap.text:
                return None
        return self.workspace_edit(snap, [self.replacement(snap, new_text)])

    def replacement(self, snap: Snapshot, new_text: str) -> types.TextEdit:
        """One edit from the old text to the new: the changed span of whole lines, so the cursor elsewhere stays."""
        old_lines, new_lines = split_lines(snap.text), split_lines(new_text)
        head = 0
        while head < min(len(old_lines), len(new_lines)) - 1 and old_lines[head] == new_lines[head]:
            head += 1
        tail = 0
        while (tail < min(len(old_lines), len(new_lines)) - head - 1
               and old_lines[-1 - tail] == new_lines[-1 - tail]):
            tail += 1
        start = Position(head + 1, 0)
        end_line = len(old_lines) - tail
        end = Position(end_line, len(old_lines[end_line - 1].rstrip("\r\n")))
        replaced_new = "".join(new_lines[head:len(new_lines) - tail])
        replaced_old = "".join(old_lines[head:end_line])
        # keep the last line's break outside the edit (the range ends before it)
        old_break = replaced_old[len(replaced_old.rstrip("\r\n")):]
        if old_break and replaced_new.endswith(old_break):
            replaced_new = replaced_new[: len(replaced_new) - len(old_break)]
        else:
            end = Position(end_line + 1, 0) if old_break else end
        return types.TextEdit(self.range_to_client(old_lines, Range(start, end)), replaced_new)


def _defines(snap: Snapshot, first: int, last: int) -> bool:
    """Whether lines first..last (0-based) hold a class or def header: only there the (costly) deployment advice
    can matter, and editors ask for code actions on every cursor move."""
    lines = snap.lines
    return any(line.lstrip().startswith(("class ", "def ", "async def "))
               for line in lines[max(first, 0):min(last, len(lines) - 1) + 1])


def _parses(text: str) -> bool:
    try:
        compile(text, "<edit>", "exec", ast.PyCF_ONLY_AST, dont_inherit=True)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


def _wanted(kind: str, only: Sequence[str] | None) -> bool:
    if not only:
        return True
    return any(kind == o or kind.startswith(o + ".") for o in only)


def _capability(root: Any, *path: str) -> Any:
    for name in path:
        root = getattr(root, name, None)
        if root is None:
            return None
    return root


def _log_failure(task: asyncio.Task) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("tensorlint: analysis task failed", exc_info=task.exception())


def document_path(uri: str) -> str | None:
    return to_fs_path(uri) if uri.startswith("file:") else None


def is_python(document) -> bool:
    language = getattr(document, "language_id", None)
    if language:
        return language == "python"
    return document.uri.endswith((".py", ".pyi"))


def analyse(text: str, path: str, settings: Settings | None, checker: IncrementalChecker) -> CheckResult:
    """The engine's result for one document (runs in the analysis thread; ``checker`` holds the document's
    previous version, so an edit re-checks only the statements it touched)."""
    if settings is None:  # excluded by the project's configuration
        return CheckResult(())
    data = text.encode("utf-8", "surrogatepass")
    if len(data) > settings.max_file_size_kb * 1024:
        return check_bytes(data, path, settings)  # the one informational finding
    result = checker.check(text, path, settings)
    trim = _malloc_trim()
    if trim is not None and checker.parser.reparsed_statements < 0:
        # A whole-file parse allocates and frees tens of MB of small objects; glibc keeps the freed pages, so
        # the server's RSS would grow with every document opened. Trimming after a whole parse hands them back.
        trim(0)
    return result


def warm_up() -> None:
    """One check of a small PyTorch file: what the first check in a process loads (the rule packs, libcst's
    parser, the rules' dispatch tables) is then loaded."""
    check_source("import torch\n\n\nclass Net(torch.nn.Module):\n    def forward(self, x):\n        return x\n",
                 "warm_up.py", Settings())


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    try:
        import ctypes

        return ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):  # not glibc: nothing to hand back this way
        return None


# -- the protocol ----------------------------------------------------------------------------------------------
def create_server() -> TensorlintServer:
    server = TensorlintServer()
    notebook_sync.register(server)

    @server.feature(types.INITIALIZE)
    def initialize(ls: TensorlintServer, params: types.InitializeParams) -> None:
        ls.protocol.adopt_workspace()
        options = params.initialization_options
        if isinstance(options, dict):
            if isinstance(options.get("tensorlint"), dict):
                options = options["tensorlint"]
            ls.init_options = server_settings(options)
        elif options is not None:
            ls.warn_once("tensorlint: initializationOptions must be an object of settings; ignored")
        # Scheduled to follow the answer: while the client reads it and opens its first document, the analysis
        # thread loads the rules and libcst's parser, which the first document's analysis would otherwise do.
        asyncio.get_running_loop().call_soon(ls.executor.submit, warm_up)

    @server.feature(types.INITIALIZED)
    async def initialized(ls: TensorlintServer, params: types.InitializedParams) -> None:
        await fetch_configuration(ls)
        ls.config_ready.set()
        if _capability(ls.client_capabilities, "workspace", "did_change_watched_files", "dynamic_registration"):
            try:
                await ls.client_register_capability_async(types.RegistrationParams([types.Registration(
                    id="tensorlint-pyproject", method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES,
                    register_options=types.DidChangeWatchedFilesRegistrationOptions(
                        [types.FileSystemWatcher(glob_pattern="**/pyproject.toml")]))]))
            except Exception as exc:  # the client then sends no pyproject changes; everything else works
                log.warning("tensorlint: could not register the pyproject.toml watcher: %s", exc)

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: TensorlintServer, params: types.DidOpenTextDocumentParams) -> None:
        ls.schedule(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: TensorlintServer, params: types.DidChangeTextDocumentParams) -> None:
        uri = params.text_document.uri
        ls.schedule(uri, ls.edit_delay(uri))

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: TensorlintServer, params: types.DidSaveTextDocumentParams) -> None:
        ls.schedule(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: TensorlintServer, params: types.DidCloseTextDocumentParams) -> None:
        uri = params.text_document.uri
        task = ls.pending.pop(uri, None)
        if task is not None:
            task.cancel()
        ls.snapshots.pop(uri, None)
        ls.settings_cache.pop(uri, None)
        ls.advice_cache.pop(uri, None)
        ls.imports_cache.pop(uri, None)
        ls.checkers.pop(uri, None)
        ls.large_documents.discard(uri)
        ls.diagnostic_objects.pop(uri, None)
        ls.last_edit.pop(uri, None)
        ls.analysis_timing.pop(uri, None)
        if not ls.pulls_diagnostics:
            ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=[]))

    @server.feature(types.TEXT_DOCUMENT_CODE_ACTION, types.CodeActionOptions(
        code_action_kinds=[types.CodeActionKind.QuickFix, FIX_ALL_KIND, EXPORT_SNIPPET_KIND,
                           translate_actions.TRANSLATE_CALL_KIND, translate_actions.TRANSLATE_MODEL_KIND],
        resolve_provider=True))
    async def code_action(ls: TensorlintServer, params: types.CodeActionParams):
        snap = await ls.snapshot(params.text_document.uri)
        if snap is None or not ls.is_current(snap):
            return None
        # quick fixes, suppressions and fix-all parse the document again: on a large one that takes seconds
        actions = await asyncio.get_running_loop().run_in_executor(ls.feature_executor, ls.code_actions, snap, params)
        if not snap.analysed:
            return actions or None
        defines = _defines(snap, params.range.start.line, params.range.end.line)
        if _wanted(EXPORT_SNIPPET_KIND, params.context.only) and defines:
            actions += ls.export_actions(snap, await ls.advice(snap), params)
        actions += await translate_actions.translate_actions(ls, snap, params, defines)
        if not ls.is_current(snap):
            return None  # typed on while the translations were computed: these edits are for an older version
        return actions or None

    @server.feature(types.CODE_ACTION_RESOLVE)
    async def code_action_resolve(ls: TensorlintServer, action: types.CodeAction) -> types.CodeAction:
        if translate_actions.is_translate_action(action):
            return await translate_actions.resolve(ls, action)
        data = action.data if isinstance(action.data, dict) else {}
        if action.kind != FIX_ALL_KIND or action.edit is not None or "uri" not in data:
            return action
        if not isinstance(data["uri"], str):
            raise JsonRpcInvalidParams("codeAction/resolve: this action's data was not made by this server")
        snap = await ls.snapshot(data["uri"])
        if snap is None or snap.version != data.get("version") or not ls.is_current(snap):
            raise JsonRpcContentModified("the document changed since this action was offered")
        action.edit = await asyncio.get_running_loop().run_in_executor(ls.feature_executor, ls.fix_all_edit, snap)
        if not ls.is_current(snap):
            raise JsonRpcContentModified("the document changed while the fixes were computed")
        return action

    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    async def did_change_configuration(ls: TensorlintServer, params: types.DidChangeConfigurationParams) -> None:
        settings = params.settings
        if isinstance(settings, dict) and isinstance(settings.get("tensorlint"), dict):
            ls.folder_config[""] = server_settings(settings["tensorlint"])
        await fetch_configuration(ls)
        ls.settings_changed()
        ls.relint_all()

    @server.feature(types.TEXT_DOCUMENT_HOVER)
    async def hover(ls: TensorlintServer, params: types.HoverParams) -> types.Hover | None:
        snap = await ls.snapshot(params.text_document.uri)
        if snap is None or not ls.is_current(snap):
            return None
        return await ls.hover(snap, params.position)

    @server.feature(types.TEXT_DOCUMENT_CODE_LENS)
    async def code_lens(ls: TensorlintServer, params: types.CodeLensParams) -> list[types.CodeLens] | None:
        snap = await ls.snapshot(params.text_document.uri)
        if snap is None or not ls.is_current(snap) or not snap.analysed:
            return None
        return ls.code_lenses(snap, await ls.advice(snap)) or None

    @server.command(SHOW_DEPLOYMENT_COMMAND)
    async def show_deployment(ls: TensorlintServer, uri: str, model_name: str) -> str | None:
        snap = await ls.snapshot(uri)
        if snap is None or not snap.analysed:
            return None
        for model in (await ls.advice(snap)).models:
            if model.name == model_name:
                from ..analyzers.deployment import target_explanation

                text = "\n\n".join(target_explanation(model, v.target) for v in model.targets)
                ls.window_show_message(types.ShowMessageParams(types.MessageType.Info, text))
                return text
        return None

    @server.command(translate_actions.SHOW_DOCUMENT_COMMAND)
    async def show_document(ls: TensorlintServer, *arguments: Any) -> bool:
        return await translate_actions.show_document(ls, arguments[0] if arguments else None)

    @server.command(translate_actions.VERIFY_COMMAND)
    async def verify_model(ls: TensorlintServer, *arguments: Any) -> dict:
        return await translate_actions.verify(ls, arguments[0] if arguments else None)

    @server.feature(types.TEXT_DOCUMENT_DIAGNOSTIC, types.DiagnosticOptions(
        inter_file_dependencies=False, workspace_diagnostics=True, identifier=SOURCE))
    async def document_diagnostic(ls: TensorlintServer, params: types.DocumentDiagnosticParams):
        snap = await ls.snapshot(params.text_document.uri)
        if snap is None:
            return types.RelatedFullDocumentDiagnosticReport(items=[])
        return ls.diagnostic_report(snap, params.previous_result_id)

    @server.feature(types.WORKSPACE_DIAGNOSTIC)
    async def workspace_diagnostic(ls: TensorlintServer, params: types.WorkspaceDiagnosticParams):
        previous = {p.uri: p.value for p in params.previous_result_ids or []}
        items = []
        for uri in ls.open_document_uris():  # notebook cells included
            snap = await ls.snapshot(uri)
            if snap is None:
                continue
            report = ls.diagnostic_report(snap, previous.get(uri))
            if isinstance(report, types.RelatedUnchangedDocumentDiagnosticReport):
                items.append(types.WorkspaceUnchangedDocumentDiagnosticReport(
                    uri=uri, version=snap.version, result_id=report.result_id))
            else:
                items.append(types.WorkspaceFullDocumentDiagnosticReport(
                    uri=uri, version=snap.version, items=report.items, result_id=report.result_id))
        return types.WorkspaceDiagnosticReport(items=items)

    @server.feature(types.WORKSPACE_DID_CHANGE_WORKSPACE_FOLDERS)
    async def did_change_workspace_folders(ls: TensorlintServer,
                                           params: types.DidChangeWorkspaceFoldersParams) -> None:
        for folder in params.event.removed or []:
            ls.folder_config.pop(folder.uri, None)
        await fetch_configuration(ls)  # the added folders' own settings
        ls.settings_changed()
        ls.relint_all()

    @server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    def did_change_watched_files(ls: TensorlintServer, params: types.DidChangeWatchedFilesParams) -> None:
        if any(change.uri.endswith("/pyproject.toml") for change in params.changes):
            ls.settings_changed()
            ls.relint_all()

    return server


async def fetch_configuration(ls: TensorlintServer) -> None:
    """Pulls the `tensorlint` section of the client's settings, globally and for each workspace folder."""
    if not _capability(ls.client_capabilities, "workspace", "configuration"):
        return
    folders = list(ls.workspace.folders)
    items = [types.ConfigurationItem(section="tensorlint")]
    items += [types.ConfigurationItem(scope_uri=uri, section="tensorlint") for uri in folders]
    try:
        values = await asyncio.wait_for(ls.workspace_configuration_async(types.ConfigurationParams(items)), 5)
    except Exception as exc:  # a client that cannot answer leaves the other settings in force
        log.warning("tensorlint: workspace/configuration failed: %s", exc)
        return
    for scope, value in zip(["", *folders], values or []):
        if isinstance(value, dict):
            ls.folder_config[scope] = server_settings(value)
        elif value is not None:
            ls.warn_once("tensorlint: the `tensorlint` settings must be an object; ignored")
    ls.settings_changed()


def serve(tcp: str | None = None) -> int:
    server = create_server()
    if tcp:
        host, _, port = tcp.rpartition(":")
        server.start_tcp(host or "127.0.0.1", int(port))
    else:
        server.start_io()
    # as the spec asks: 0 after a shutdown request, 1 when the client left (exit or end of input) without one
    return 0 if server.protocol._shutdown else 1
