"""Notebooks in the language server, through the real server process: the code cells are one program, diagnostics
arrive on each cell's URI in cell coordinates, and edits, new and removed cells, quick fixes and closing work."""

from __future__ import annotations

import asyncio

import pytest
from lsprotocol import types

from test_lsp import apply, session

CELLS = [
    (types.NotebookCellKind.Code, "import torch\nfrom torch import nn\n%matplotlib inline"),
    (types.NotebookCellKind.Markup, "# The model\nx.to('cuda') is prose here"),
    (types.NotebookCellKind.Code, "!pip install einops\nmodel = nn.Linear(2, 3)\nstate = torch.load('w.pt')"),
    (types.NotebookCellKind.Code, "x = torch.randn(2)\nx.to('cuda')"),
]


def cell_uri(tmp_path, index: int) -> str:
    """A cell's uri as VS Code writes it: the fragment is base64, its padding percent-encoded."""
    return f"vscode-notebook-cell:{tmp_path / 'train.ipynb'}#W{index}sZmlsZQ%3D%3D"


def open_notebook(s, tmp_path, cells=CELLS) -> str:
    notebook_uri = (tmp_path / "train.ipynb").as_uri()
    s.client.notebook_document_did_open(types.DidOpenNotebookDocumentParams(
        notebook_document=types.NotebookDocument(
            uri=notebook_uri, notebook_type="jupyter-notebook", version=1,
            cells=[types.NotebookCell(kind=kind, document=cell_uri(tmp_path, i)) for i, (kind, _) in enumerate(cells)]),
        cell_text_documents=[
            types.TextDocumentItem(uri=cell_uri(tmp_path, i), version=1, text=text,
                                   language_id="python" if kind == types.NotebookCellKind.Code else "markdown")
            for i, (kind, text) in enumerate(cells)]))
    return notebook_uri


async def published(s, uri: str, version: int | None, timeout: float = 20.0):
    """The latest diagnostics for ``uri`` once one with ``version`` arrived (``None``: a clearing publish)."""

    def found():
        return next((p for p in reversed(s.published) if p.uri == uri and p.version == version), None)

    async with s.arrived:
        await asyncio.wait_for(s.arrived.wait_for(found), timeout)
    return list(found().diagnostics)


def change_notebook(s, notebook_uri: str, version: int, cells: types.NotebookDocumentCellChanges) -> None:
    s.client.notebook_document_did_change(types.DidChangeNotebookDocumentParams(
        notebook_document=types.VersionedNotebookDocumentIdentifier(version=version, uri=notebook_uri),
        change=types.NotebookDocumentChangeEvent(cells=cells)))


@pytest.mark.asyncio
async def test_notebook_cells_are_one_program_with_per_cell_diagnostics(tmp_path):
    async with session(tmp_path) as s:
        notebook_uri = open_notebook(s, tmp_path)
        first = await published(s, cell_uri(tmp_path, 0), 1)
        load = await published(s, cell_uri(tmp_path, 2), 1)
        move = await published(s, cell_uri(tmp_path, 3), 1)
        assert first == []  # the magic is masked, not a syntax error
        assert [(d.code, d.range.start.line, d.range.start.character) for d in load] == [("PT006", 2, 8)]
        assert [(d.code, d.range.start.line, d.range.start.character) for d in move] == [("PT002", 1, 0)]
        assert not any(p.uri == cell_uri(tmp_path, 1) for p in s.published)  # markdown is not analysed

        # a quick fix on a cell edits that cell, in its own coordinates and version
        actions = await s.actions(cell_uri(tmp_path, 2), (2, 8), (2, 8), diagnostics=load)
        fix = next(a for a in actions if a.title == "Pass `weights_only=True`")
        [edit] = fix.edit.document_changes
        assert edit.text_document.uri == cell_uri(tmp_path, 2) and edit.text_document.version == 1
        assert apply(CELLS[2][1], edit.edits).splitlines()[2] == "state = torch.load('w.pt', weights_only=True)"
        fix_all = next(a for a in await s.actions(cell_uri(tmp_path, 3), only=["source.fixAll.tensorlint"]))
        assert fix_all.title == "Fix all auto-fixable tensorlint problems"

        # typing in a cell re-checks the notebook
        change_notebook(s, notebook_uri, 2, types.NotebookDocumentCellChanges(text_content=[
            types.NotebookDocumentCellContentChanges(
                document=types.VersionedTextDocumentIdentifier(uri=cell_uri(tmp_path, 3), version=2),
                changes=[types.TextDocumentContentChangePartial(
                    range=types.Range(types.Position(1, 0), types.Position(1, 0)), text="x = ")])]))
        assert await published(s, cell_uri(tmp_path, 3), 2) == []

        # a new cell sees the first cell's import; removing a cell clears its diagnostics
        added = cell_uri(tmp_path, 9)
        change_notebook(s, notebook_uri, 3, types.NotebookDocumentCellChanges(
            structure=types.NotebookDocumentCellChangeStructure(
                array=types.NotebookCellArrayChange(start=4, delete_count=0, cells=[
                    types.NotebookCell(kind=types.NotebookCellKind.Code, document=added)]),
                did_open=[types.TextDocumentItem(uri=added, language_id="python", version=1,
                                                 text="checkpoint = torch.load('last.pt')\n")])))
        assert [d.code for d in await published(s, added, 1)] == ["PT006"]
        change_notebook(s, notebook_uri, 4, types.NotebookDocumentCellChanges(
            structure=types.NotebookDocumentCellChangeStructure(
                array=types.NotebookCellArrayChange(start=2, delete_count=1),
                did_close=[types.TextDocumentIdentifier(uri=cell_uri(tmp_path, 2))])))
        assert await published(s, cell_uri(tmp_path, 2), None) == []

        s.client.notebook_document_did_close(types.DidCloseNotebookDocumentParams(
            notebook_document=types.NotebookDocumentIdentifier(uri=notebook_uri),
            cell_text_documents=[types.TextDocumentIdentifier(uri=cell_uri(tmp_path, i)) for i in (0, 1, 3)]
            + [types.TextDocumentIdentifier(uri=added)]))
        assert await published(s, added, None) == []


@pytest.mark.asyncio
async def test_a_broken_cell_reports_its_syntax_error_and_the_others_still_report(tmp_path):
    cells = [(types.NotebookCellKind.Code, "import torch"),
             (types.NotebookCellKind.Code, "def broken(:\n    pass"),
             (types.NotebookCellKind.Code, "torch.load('w.pt')")]
    async with session(tmp_path) as s:
        open_notebook(s, tmp_path, cells)
        assert [d.code for d in await published(s, cell_uri(tmp_path, 1), 1)] == ["TL001"]
        assert [d.code for d in await published(s, cell_uri(tmp_path, 2), 1)] == ["PT006"]
        hover = await s.client.text_document_hover_async(types.HoverParams(
            types.TextDocumentIdentifier(cell_uri(tmp_path, 2)), types.Position(0, 3)))
        assert "PT006" in hover.contents.value


@pytest.mark.asyncio
async def test_a_pull_client_gets_the_cells_diagnostics_from_workspace_diagnostic(tmp_path):
    """VS Code pulls: after notebookDocument/didOpen it sends only workspace/diagnostic (never
    textDocument/diagnostic for a cell), so the cells' reports must be in that answer, each with its version and a
    result id that makes the next poll cheap."""
    from test_lsp import capabilities

    async with session(tmp_path, caps=capabilities(pull=True)) as s:
        open_notebook(s, tmp_path)
        report = await s.client.workspace_diagnostic_async(types.WorkspaceDiagnosticParams(previous_result_ids=[]))
        by_uri = {item.uri: item for item in report.items}
        assert set(by_uri) == {cell_uri(tmp_path, i) for i in (0, 2, 3)}  # code cells only
        assert [(d.code, d.range.start.line, d.range.start.character)
                for d in by_uri[cell_uri(tmp_path, 2)].items] == [("PT006", 2, 8)]
        assert [d.code for d in by_uri[cell_uri(tmp_path, 3)].items] == ["PT002"]
        assert list(by_uri[cell_uri(tmp_path, 0)].items) == [] and by_uri[cell_uri(tmp_path, 3)].version == 1
        assert not s.published  # a pull client is never pushed to

        again = await s.client.workspace_diagnostic_async(types.WorkspaceDiagnosticParams(previous_result_ids=[
            types.PreviousResultId(uri=uri, value=item.result_id) for uri, item in by_uri.items()]))
        assert {item.kind for item in again.items} == {"unchanged"}

        change_notebook(s, (tmp_path / "train.ipynb").as_uri(), 2, types.NotebookDocumentCellChanges(text_content=[
            types.NotebookDocumentCellContentChanges(
                document=types.VersionedTextDocumentIdentifier(uri=cell_uri(tmp_path, 3), version=2),
                changes=[types.TextDocumentContentChangePartial(
                    range=types.Range(types.Position(1, 0), types.Position(1, 0)), text="x = ")])]))
        after = await s.client.workspace_diagnostic_async(types.WorkspaceDiagnosticParams(previous_result_ids=[
            types.PreviousResultId(uri=uri, value=item.result_id) for uri, item in by_uri.items()]))
        changed = {item.uri: item for item in after.items if item.kind == "full"}
        assert cell_uri(tmp_path, 3) in changed and list(changed[cell_uri(tmp_path, 3)].items) == []
        assert changed[cell_uri(tmp_path, 3)].version == 2
