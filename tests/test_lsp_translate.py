"""Translation in the editor, through the real server process: the translate code actions, "Translate and verify",
the `tensorlint.verify` command and the catalog's hover cards."""

from __future__ import annotations

import ast
import textwrap

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException

from test_lsp import apply, capabilities, session

MODEL = textwrap.dedent('''\
    """A small classifier."""
    import torch
    from torch import nn


    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 4, 3, padding=1)
            self.fc = nn.Linear(4, 2)

        def forward(self, x):
            x = torch.relu(self.conv(x))
            return self.fc(x.mean(dim=(2, 3)))


    head = nn.BatchNorm1d(8)
''')


def creating_files(resolve: bool) -> types.ClientCapabilities:
    caps = capabilities(resolve=resolve)
    caps.workspace.workspace_edit = types.WorkspaceEditClientCapabilities(
        document_changes=True, resource_operations=[types.ResourceOperationKind.Create])
    caps.window = types.WindowClientCapabilities(
        work_done_progress=True, show_document=types.ShowDocumentClientCapabilities(support=True))
    return caps


def line_of(text: str, needle: str) -> int:
    return next(number for number, line in enumerate(text.splitlines()) if needle in line)


async def open_model(s, tmp_path, text=MODEL):
    path = tmp_path / "model.py"
    path.write_text(text)
    uri = path.as_uri()
    s.open(uri, text)
    await s.diagnostics(uri, 1)
    return uri


@pytest.mark.asyncio
async def test_translate_a_layer_call_in_place(tmp_path):
    async with session(tmp_path) as s:
        uri = await open_model(s, tmp_path)
        line = line_of(MODEL, "nn.BatchNorm1d")
        actions = await s.actions(uri, (line, 10), (line, 10), only=[types.CodeActionKind.RefactorRewrite])
        action = next(a for a in actions if a.title == "Translate to Keras")
        assert action.kind == types.CodeActionKind.RefactorRewrite
        [change] = action.edit.document_changes
        assert change.text_document.version == 1
        translated = apply(MODEL, change.edits)
        ast.parse(translated)
        assert "from keras import layers" in translated.splitlines()[1:4]  # with the other imports, after the docstring
        head = next(line for line in translated.splitlines() if line.startswith("head = "))
        assert "BatchNormalization(" in head and "epsilon=1e-05" in head and "momentum=0.9" in head
        assert "self.conv = nn.Conv2d(3, 4, 3, padding=1)" in translated  # nothing else touched


@pytest.mark.asyncio
async def test_no_translate_action_away_from_framework_code(tmp_path):
    async with session(tmp_path) as s:
        uri = await open_model(s, tmp_path)
        line = line_of(MODEL, "x.mean(")
        actions = await s.actions(uri, (line, 4), (line, 4), only=[types.CodeActionKind.RefactorRewrite])
        assert not [a for a in actions if a.title.startswith("Translate")]


@pytest.mark.asyncio
async def test_translate_a_model_into_a_new_file_builds_in_keras(tmp_path):
    async with session(tmp_path, caps=creating_files(resolve=True)) as s:
        uri = await open_model(s, tmp_path)
        line = line_of(MODEL, "class Net")
        actions = await s.actions(uri, (line, 0), (line, 0))
        titles = [a.title for a in actions]
        assert "Translate Net to Keras in a new file (Net_keras.py)" in titles
        assert "Translate and verify Net (Keras, Net_keras.py)" in titles
        offered = next(a for a in actions if a.title.startswith("Translate Net to Keras"))
        assert offered.edit is None  # computed in codeAction/resolve
        resolved = await s.client.code_action_resolve_async(offered)
        create, fill = resolved.edit.document_changes
        assert isinstance(create, types.CreateFile) and create.uri == (tmp_path / "Net_keras.py").as_uri()
        text = fill.edits[0].new_text
        assert "class Net(keras.layers.Layer)" in text and "def copy_weights(" in text
        # the header names the source as the project sees it, not by this machine's absolute path
        assert text.startswith('"""model.py:Net: translated by tensorlint') and str(tmp_path) not in text
        # after applying the edit the client runs the action's command, which opens the new file
        new_uri = (tmp_path / "Net_keras.py").as_uri()
        assert (resolved.command.command, list(resolved.command.arguments)) == ("tensorlint.showDocument", [new_uri])
        assert await s.client.workspace_execute_command_async(types.ExecuteCommandParams(
            resolved.command.command, resolved.command.arguments)) is True
        [shown] = s.client.shown_documents
        assert shown.uri == new_uri and shown.take_focus
        namespace: dict = {}
        exec(compile(text, "Net_keras.py", "exec"), namespace)  # the generated module runs
        model = namespace["Net"]()
        import numpy as np

        assert tuple(model(np.zeros((1, 3, 8, 8), "float32")).shape) == (1, 2)

        verify = next(a for a in actions if a.title.startswith("Translate and verify"))
        assert verify.command.command == "tensorlint.verify"
        assert list(verify.command.arguments) == [{"uri": uri, "symbol": "Net", "to": "keras"}]


@pytest.mark.asyncio
async def test_a_resolve_for_an_older_version_is_refused(tmp_path):
    async with session(tmp_path, caps=creating_files(resolve=True)) as s:
        uri = await open_model(s, tmp_path)
        line = line_of(MODEL, "class Net")
        offered = next(a for a in await s.actions(uri, (line, 0), (line, 0)) if a.title.startswith("Translate Net"))
        s.change(uri, 2, (0, 0), (0, 0), "# edited\n")
        await s.diagnostics(uri, 2)
        with pytest.raises(JsonRpcException):
            await s.client.code_action_resolve_async(offered)


@pytest.mark.asyncio
async def test_hover_on_a_layer_shows_its_counterpart_and_differing_defaults(tmp_path):
    async with session(tmp_path) as s:
        uri = await open_model(s, tmp_path)
        line = line_of(MODEL, "nn.BatchNorm1d")
        column = MODEL.splitlines()[line].index("BatchNorm1d") + 2
        hover = await s.client.text_document_hover_async(types.HoverParams(
            types.TextDocumentIdentifier(uri), types.Position(line, column)))
        text = hover.contents.value
        assert "BatchNormalization" in text and "momentum" in text and "eps" in text


@pytest.mark.asyncio
async def test_verify_command_runs_verify_in_a_subprocess(tmp_path):
    progress: list = []

    async def record(*args):  # (params) or (client, params), as pytest-lsp registers it
        progress.append(args[-1].value)

    async with session(tmp_path, caps=creating_files(resolve=False),
                       features={types.PROGRESS: record}) as s:
        uri = await open_model(s, tmp_path)
        result = await s.client.workspace_execute_command_async(types.ExecuteCommandParams(
            "tensorlint.verify", [{"uri": uri, "symbol": "Net"}]))
        assert result["passed"] is True, result
        assert result["outputs"][0]["shape"] == [2, 2] and result["outputs"][0]["max_abs_diff"] < 1e-4
        kinds = [value.get("kind") if isinstance(value, dict) else getattr(value, "kind", None) for value in progress]
        assert kinds[0] == "begin" and kinds[-1] == "end"

        missing = await s.client.workspace_execute_command_async(types.ExecuteCommandParams(
            "tensorlint.verify", [{"uri": uri, "symbol": "Missing"}]))
        assert missing["passed"] is False and "Missing" in missing["error"]
        # the server is still serving
        assert await s.actions(uri, (0, 0), (0, 0)) is not None
