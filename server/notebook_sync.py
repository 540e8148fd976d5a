"""Jupyter notebooks in the language server: the code cells of a notebook, in order, are analysed as one program
(analyzers/notebook.py's ``check_cells``, the same as the CLI) and the findings are published on each cell's own
URI in cell coordinates. Code actions, hover and pull diagnostics on a cell go through the server's usual paths
with a :class:`Snapshot` of that cell."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING

from lsprotocol import types

from ..analyzers import CheckResult, Settings
from ..analyzers.findings import Finding
from .documents import analysable

if TYPE_CHECKING:
    from .lsp import Snapshot, TensorlintServer

SYNC_OPTIONS = types.NotebookDocumentSyncOptions(
    notebook_selector=[types.NotebookDocumentFilterWithCells(
        notebook="jupyter-notebook", cells=[types.NotebookCellLanguage(language="python")])],
    save=True)


@dataclass(frozen=True)
class CellState:
    text: str
    version: int
    findings: tuple[Finding, ...]


@dataclass(frozen=True)
class NotebookAnalysis:
    key: tuple  # (notebook uri, notebook version, settings generation, the code cells' (uri, version))
    cells: dict[str, CellState]  # code cell uri -> its text, version and findings, in notebook order
    settings: Settings | None
    errors: tuple[str, ...]


class NotebookSync:
    def __init__(self, ls: TensorlintServer) -> None:
        self.ls = ls
        self.analyses: dict[str, NotebookAnalysis] = {}  # notebook uri -> its latest analysis
        self.inflight: dict[tuple, asyncio.Future] = {}
        self.pending: dict[str, asyncio.Task] = {}
        self.published: dict[str, set[str]] = {}  # notebook uri -> cell uris holding our diagnostics

    def notebook_of(self, cell_uri: str) -> types.NotebookDocument | None:
        return self.ls.workspace.get_notebook_document(cell_uri=cell_uri)

    def _code_cells(self, notebook: types.NotebookDocument) -> list[tuple[str, str, int]]:
        cells = []
        for cell in notebook.cells:
            document = self.ls.open_document(cell.document)
            if cell.kind == types.NotebookCellKind.Code and document is not None \
                    and (document.language_id or "python") == "python":
                cells.append((cell.document, analysable(document.source), document.version or 0))
        return cells

    async def analysis(self, notebook_uri: str) -> NotebookAnalysis | None:
        """The analysis of the notebook's current version (cached; shared by every request that waits for it)."""
        from .lsp import document_path

        notebook = self.ls.workspace.get_notebook_document(notebook_uri=notebook_uri)
        if notebook is None:
            return None
        cells = self._code_cells(notebook)
        key = (notebook_uri, notebook.version, self.ls.generation, tuple((uri, version) for uri, _, version in cells))
        cached = self.analyses.get(notebook_uri)
        if cached is not None and cached.key == key:
            return cached
        future = self.inflight.get(key)
        settings = self.ls.settings_for_uri(notebook_uri)
        if future is None:
            path = document_path(notebook_uri) or notebook_uri
            future = asyncio.get_running_loop().run_in_executor(
                self.ls.executor, _check, [(uri, text) for uri, text, _ in cells], path, settings)
            self.inflight[key] = future
            future.add_done_callback(lambda _f: self.inflight.pop(key, None))
        result = await asyncio.shield(future)
        by_cell: dict[str, list[Finding]] = {uri: [] for uri, _, _ in cells}
        for uri, finding in result.findings:
            by_cell[uri].append(finding)
        analysis = NotebookAnalysis(key, {uri: CellState(text, version, tuple(by_cell[uri]))
                                          for uri, text, version in cells}, settings, result.errors)
        if self.ls.workspace.get_notebook_document(notebook_uri=notebook_uri) is not None:
            self.analyses[notebook_uri] = analysis
        return analysis

    def is_current(self, analysis: NotebookAnalysis) -> bool:
        notebook = self.ls.workspace.get_notebook_document(notebook_uri=analysis.key[0])
        return notebook is not None and notebook.version == analysis.key[1] and all(
            (document := self.ls.open_document(uri)) is not None and (document.version or 0) == state.version
            for uri, state in analysis.cells.items())

    # -- push diagnostics --------------------------------------------------------------------------------------
    def schedule(self, notebook_uri: str, delay: float = 0.0) -> None:
        from .lsp import _log_failure

        previous = self.pending.pop(notebook_uri, None)
        if previous is not None:
            previous.cancel()
        task = asyncio.ensure_future(self.lint(notebook_uri, delay))
        self.pending[notebook_uri] = task
        task.add_done_callback(lambda t: self.pending.get(notebook_uri) is t and self.pending.pop(notebook_uri, None))
        task.add_done_callback(_log_failure)

    async def lint(self, notebook_uri: str, delay: float) -> None:
        if delay:
            await asyncio.sleep(delay)
        await self.ls.wait_for_configuration()
        analysis = await self.analysis(notebook_uri)
        # an analysis overtaken by a newer edit is dropped: the newer one publishes
        if analysis is None or not self.is_current(analysis) or self.ls.pulls_diagnostics:
            return
        for error in analysis.errors:
            self.ls.window_log_message(types.LogMessageParams(
                types.MessageType.Error, f"tensorlint: rule crashed on {notebook_uri}: {error}"))
        for uri, state in analysis.cells.items():
            snap = self.cell_snapshot_of(analysis, uri)
            self.ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(
                uri=uri, version=state.version, diagnostics=self.ls.diagnostics(snap)))
        gone = self.published.get(notebook_uri, set()) - set(analysis.cells)
        for uri in gone:  # removed cells, or cells turned into markdown
            self.ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=[]))
        self.published[notebook_uri] = set(analysis.cells)

    def close(self, notebook_uri: str) -> None:
        task = self.pending.pop(notebook_uri, None)
        if task is not None:
            task.cancel()
        self.analyses.pop(notebook_uri, None)
        for uri in self.published.pop(notebook_uri, set()):
            if not self.ls.pulls_diagnostics:
                self.ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=[]))

    # -- a cell as a document ----------------------------------------------------------------------------------
    async def cell_snapshot(self, cell_uri: str) -> Snapshot | None:
        notebook = self.notebook_of(cell_uri)
        if notebook is None:
            return None
        analysis = await self.analysis(notebook.uri)
        if analysis is None or cell_uri not in analysis.cells:
            return None  # a markdown cell
        return self.cell_snapshot_of(analysis, cell_uri)

    def cell_snapshot_of(self, analysis: NotebookAnalysis, cell_uri: str) -> Snapshot:
        from .lsp import Snapshot

        state = analysis.cells[cell_uri]
        return Snapshot(cell_uri, state.version, state.text, CheckResult(state.findings, analysis.errors),
                        analysis.settings, notebook=analysis.key[0])


def _check(cells, path: str, settings: Settings | None):
    from ..analyzers.notebook import check_cells  # only once a notebook is open: not at start-up

    if settings is None:  # excluded by the project's configuration
        return check_cells([], path)
    return check_cells(cells, path, settings)


def fixed_cell_text(snap: Snapshot) -> str | None:
    """The cell's text with every safe fix of its findings applied, or None when nothing changes."""
    from ..analyzers.notebook import fix_cell

    fixes = [finding.fix for finding in snap.result.findings if finding.fix is not None and finding.fix.safe]
    new_text, applied = fix_cell(snap.text, fixes)
    return new_text if applied and new_text != snap.text else None


def register(server: TensorlintServer) -> None:
    @server.feature(types.NOTEBOOK_DOCUMENT_DID_OPEN)
    def did_open(ls: TensorlintServer, params: types.DidOpenNotebookDocumentParams) -> None:
        ls.notebooks.schedule(params.notebook_document.uri)

    @server.feature(types.NOTEBOOK_DOCUMENT_DID_CHANGE)
    def did_change(ls: TensorlintServer, params: types.DidChangeNotebookDocumentParams) -> None:
        uri = params.notebook_document.uri
        ls.notebooks.schedule(uri, ls.edit_delay(uri))

    @server.feature(types.NOTEBOOK_DOCUMENT_DID_SAVE)
    def did_save(ls: TensorlintServer, params: types.DidSaveNotebookDocumentParams) -> None:
        ls.notebooks.schedule(params.notebook_document.uri)

    @server.feature(types.NOTEBOOK_DOCUMENT_DID_CLOSE)
    def did_close(ls: TensorlintServer, params: types.DidCloseNotebookDocumentParams) -> None:
        ls.notebooks.close(params.notebook_document.uri)
        ls.last_edit.pop(params.notebook_document.uri, None)
