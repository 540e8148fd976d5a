"""The language server, driven through its real process with pytest-lsp's client."""

from __future__ import annotations

import ast
import asyncio
import contextlib
import os
import sys
import textwrap
from pathlib import Path
from typing import Union

import pytest
from hypothesis import HealthCheck, given, settings as hypothesis_settings, strategies as st
from lsprotocol import types
from pygls.protocol import default_converter
from pytest_lsp import LanguageClient
from pytest_lsp.client import DEFAULT_CLIENT_FEATURES, register_lsp_features

SERVER = [sys.executable, "-m", "tensorlint.server", "serve"]

SOURCE = textwrap.dedent('''\
    import torch
    x = torch.randn(2)
    x.to("cuda")
    y = torch.load("w.pt")
''')


class Session:
    """A client attached to a fresh server process; records every publish with its version."""

    def __init__(self, client):
        self.client = client
        self.published: list[types.PublishDiagnosticsParams] = []
        self.arrived = asyncio.Condition()

    async def publish(self, params: types.PublishDiagnosticsParams) -> None:
        async with self.arrived:
            self.published.append(params)
            self.arrived.notify_all()

    async def diagnostics(self, uri: str, version: int | None, timeout: float = 20.0) -> list[types.Diagnostic]:
        """The diagnostics published for ``uri`` at ``version`` (waits for them)."""

        def found():
            return next((p for p in reversed(self.published) if p.uri == uri and p.version == version), None)

        async with self.arrived:
            await asyncio.wait_for(self.arrived.wait_for(found), timeout)
        return list(found().diagnostics)

    def open(self, uri: str, text: str, version: int = 1, language: str = "python") -> None:
        self.client.text_document_did_open(types.DidOpenTextDocumentParams(
            types.TextDocumentItem(uri=uri, language_id=language, version=version, text=text)))

    def change(self, uri: str, version: int, start: tuple[int, int], end: tuple[int, int], text: str) -> None:
        self.client.text_document_did_change(types.DidChangeTextDocumentParams(
            types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            [types.TextDocumentContentChangePartial(
                range=types.Range(types.Position(*start), types.Position(*end)), text=text)]))

    async def actions(self, uri: str, start=(0, 0), end=(10_000, 0), only=None, diagnostics=()):
        return await self.client.text_document_code_action_async(types.CodeActionParams(
            types.TextDocumentIdentifier(uri), types.Range(types.Position(*start), types.Position(*end)),
            types.CodeActionContext(diagnostics=list(diagnostics), only=only))) or []


def capabilities(encodings=None, resolve=False, pull=False, configuration=True) -> types.ClientCapabilities:
    return types.ClientCapabilities(
        general=types.GeneralClientCapabilities(position_encodings=encodings) if encodings else None,
        workspace=types.WorkspaceClientCapabilities(configuration=configuration),
        text_document=types.TextDocumentClientCapabilities(
            code_action=types.CodeActionClientCapabilities(
                resolve_support=types.ClientCodeActionResolveOptions(properties=["edit"]) if resolve else None),
            diagnostic=types.DiagnosticClientCapabilities() if pull else None,
            publish_diagnostics=types.PublishDiagnosticsClientCapabilities(version_support=True)))


def client_converter():
    """lsprotocol's converter, except that a code action carrying a command stays a CodeAction: its union hook takes
    anything with a "command" key for a Command, while editors tell the two apart as the protocol says (a Command's
    `command` is a string, a CodeAction's an object)."""
    converter = default_converter()

    def code_action_or_command(value, _type):
        kind = types.Command if isinstance(value.get("command"), str) else types.CodeAction
        return converter.structure(value, kind)

    converter.register_structure_hook(Union[types.Command, types.CodeAction], code_action_or_command)
    return converter


@contextlib.asynccontextmanager
async def session(tmp_path: Path, *, options=None, caps=None, configuration=None, command=SERVER, env=None,
                  folders=None, features=None):
    client = LanguageClient(converter_factory=client_converter, configuration=configuration)
    recorder = Session(client)

    async def publish(_client: LanguageClient, params: types.PublishDiagnosticsParams):
        await recorder.publish(params)

    register_lsp_features(client, {**DEFAULT_CLIENT_FEATURES, types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS: publish,
                                   **(features or {})})
    await client.start_io(*command, env={**os.environ, **(env or {})}, cwd=str(tmp_path))
    result = await client.initialize_session(types.InitializeParams(
        capabilities=caps or capabilities(), initialization_options=options, root_uri=tmp_path.as_uri(),
        workspace_folders=folders or [types.WorkspaceFolder(uri=tmp_path.as_uri(), name="root")]))
    recorder.result = result
    try:
        yield recorder
    finally:
        await client.shutdown_session()
        await client.stop()


def apply(text: str, edits: list[types.TextEdit], encoding: str = "utf-16") -> str:
    """Apply LSP edits to text, counting columns in ``encoding`` code units as a client would."""
    lines = text.splitlines(keepends=True) + [""]

    def offset(position: types.Position) -> int:
        before = sum(len(line) for line in lines[:position.line])
        line = lines[position.line]
        codec, width = {"utf-8": ("utf-8", 1), "utf-16": ("utf-16-le", 2), "utf-32": ("utf-32-le", 4)}[encoding]
        units, index = 0, 0
        while index < len(line) and units < position.character:
            units += len(line[index].encode(codec)) // width
            index += 1
        return before + index

    spans = sorted(((offset(e.range.start), offset(e.range.end), e.new_text) for e in edits), reverse=True)
    for begin, end, new_text in spans:
        text = text[:begin] + new_text + text[end:]
    return text


def single_document_edits(action: types.CodeAction, uri: str, version: int) -> list[types.TextEdit]:
    (change,) = action.edit.document_changes
    assert change.text_document.uri == uri and change.text_document.version == version
    return list(change.edits)


async def test_open_change_close_publish_versioned_diagnostics(tmp_path):
    uri = (tmp_path / "model.py").as_uri()
    async with session(tmp_path) as s:
        s.open(uri, SOURCE)
        first = await s.diagnostics(uri, 1)
        assert [(d.code, d.range.start.line, d.source) for d in first] == [("PT002", 2, "tensorlint"),
                                                                             ("PT006", 3, "tensorlint")]
        # fix line 3 by hand: the PT002 diagnostic goes, the version travels with the publish
        s.change(uri, 2, (2, 0), (2, 0), "x = ")
        second = await s.diagnostics(uri, 2)
        assert [d.code for d in second] == ["PT006"]
        s.client.text_document_did_close(types.DidCloseTextDocumentParams(types.TextDocumentIdentifier(uri)))
        await s.diagnostics(uri, None)
        assert list(s.published[-1].diagnostics) == []


async def test_fast_edits_publish_only_the_newest_version(tmp_path):
    uri = (tmp_path / "model.py").as_uri()
    async with session(tmp_path, options={"debounce": 50}) as s:
        s.open(uri, SOURCE)
        await s.diagnostics(uri, 1)
        for version in range(2, 12):
            s.change(uri, version, (3, 0), (3, 0), "#")
        await s.diagnostics(uri, 11)
        versions = [p.version for p in s.published if p.uri == uri]
        assert versions == sorted(versions), "an older result was published after a newer one"
        # the burst's first edit is analysed at once (leading edge); the others wait for the burst's last one
        assert set(versions) <= {1, 2, 11}, f"debounced edits published intermediate versions: {versions}"


async def test_an_edit_after_a_quiet_spell_is_analysed_without_waiting_for_the_debounce(tmp_path):
    uri = (tmp_path / "model.py").as_uri()
    async with session(tmp_path, options={"debounce": 600_000}) as s:  # ten minutes: only the leading edge can publish
        s.open(uri, SOURCE)
        await s.diagnostics(uri, 1)
        s.change(uri, 2, (3, 0), (3, 0), "#")
        assert [d.code for d in await s.diagnostics(uri, 2)] == ["PT002"]


async def test_quickfix_and_fix_all_apply_and_reparse(tmp_path):
    uri = (tmp_path / "model.py").as_uri()
    async with session(tmp_path) as s:
        s.open(uri, SOURCE)
        diagnostics = await s.diagnostics(uri, 1)
        pt002 = next(d for d in diagnostics if d.code == "PT002")
        actions = await s.actions(uri, (2, 0), (2, 1), diagnostics=[pt002])
        quickfix = next(a for a in actions if a.title == "Assign the result back to `x`")
        assert quickfix.kind == types.CodeActionKind.QuickFix and quickfix.is_preferred
        fixed = apply(SOURCE, single_document_edits(quickfix, uri, 1))
        assert 'x = x.to("cuda")' in fixed
        ast.parse(fixed)

        (fix_all,) = await s.actions(uri, only=["source.fixAll"])
        assert fix_all.kind == "source.fixAll.tensorlint"
        edits = single_document_edits(fix_all, uri, 1)
        assert len(edits) == 1
        all_fixed = apply(SOURCE, edits)
        ast.parse(all_fixed)
        assert 'x = x.to("cuda")' in all_fixed and "weights_only=True" in all_fixed

        s.change(uri, 2, (0, 0), (4, 0), all_fixed)
        assert await s.diagnostics(uri, 2) == []


async def test_fix_all_edit_is_computed_on_resolve_for_the_version_asked(tmp_path):
    uri = (tmp_path / "model.py").as_uri()
    async with session(tmp_path, caps=capabilities(resolve=True)) as s:
        s.open(uri, SOURCE)
        await s.diagnostics(uri, 1)
        (fix_all,) = await s.actions(uri, only=[FIX_ALL])
        assert fix_all.edit is None
        resolved = await s.client.code_action_resolve_async(fix_all)
        assert "weights_only=True" in apply(SOURCE, single_document_edits(resolved, uri, 1))
        # a resolve for a version that is no longer current is refused, never built from the old text
        s.change(uri, 2, (0, 0), (0, 0), "# edited\n")
        with pytest.raises(Exception, match="changed"):
            await s.client.code_action_resolve_async(fix_all)


FIX_ALL = "source.fixAll.tensorlint"


async def test_ignore_action_inserts_a_suppression_comment(tmp_path):
    uri = (tmp_path / "model.py").as_uri()
    async with session(tmp_path) as s:
        s.open(uri, SOURCE)
        await s.diagnostics(uri, 1)
        actions = await s.actions(uri, (3, 5), (3, 5))
        ignore = next(a for a in actions if a.title == "Ignore PT006 on this line")
        ignored = apply(SOURCE, single_document_edits(ignore, uri, 1))
        assert 'y = torch.load("w.pt")  # tensorlint: ignore[PT006]\n' in ignored
        s.change(uri, 2, (0, 0), (4, 0), ignored)
        assert [d.code for d in await s.diagnostics(uri, 2)] == ["PT002"]


# one line with a surrogate pair (emoji), CJK and a combining mark before the finding
NON_ASCII = 'import torch\ns = "😀中é"; y = torch.load("w.pt")\n'


@pytest.mark.parametrize("offered, expected, column", [
    (None, "utf-16", 16),  # 😀 is 2 UTF-16 units, 中 1, e + U+0301 2
    (["utf-8"], "utf-8", 21),  # 😀 4 bytes, 中 3, e 1 + U+0301 2
    (["utf-32", "utf-16"], "utf-32", 15),
])
async def test_position_encodings_on_non_ascii_lines(tmp_path, offered, expected, column):
    uri = (tmp_path / "enc.py").as_uri()
    async with session(tmp_path, caps=capabilities(encodings=offered)) as s:
        assert (s.result.capabilities.position_encoding or "utf-16") == expected
        s.open(uri, NON_ASCII)
        (diagnostic,) = await s.diagnostics(uri, 1)
        assert diagnostic.code == "PT006"
        assert (diagnostic.range.start.line, diagnostic.range.start.character) == (1, column)
        # the quick fix's edit, applied with the same encoding, lands exactly on the call
        actions = await s.actions(uri, (1, column), (1, column))
        fix = next(a for a in actions if a.kind == types.CodeActionKind.QuickFix and a.is_preferred)
        fixed = apply(NON_ASCII, single_document_edits(fix, uri, 1), expected)
        assert fixed == 'import torch\ns = "😀中é"; y = torch.load("w.pt", weights_only=True)\n'


async def test_syntax_error_mid_edit_then_recovery(tmp_path):
    uri = (tmp_path / "model.py").as_uri()
    async with session(tmp_path) as s:
        s.open(uri, SOURCE)
        await s.diagnostics(uri, 1)
        s.change(uri, 2, (3, 22), (3, 22), "(((")
        broken = await s.diagnostics(uri, 2)
        assert [d.code for d in broken] == ["TL001"] and "SyntaxError" in broken[0].message
        hover = await s.client.text_document_code_action_async(types.CodeActionParams(
            types.TextDocumentIdentifier(uri), types.Range(types.Position(0, 0), types.Position(0, 0)),
            types.CodeActionContext(diagnostics=[])))
        assert hover is None or isinstance(hover, list)  # still answering
        s.change(uri, 3, (3, 22), (3, 25), "")
        assert [d.code for d in await s.diagnostics(uri, 3)] == ["PT002", "PT006"]


async def test_settings_from_initialization_options_and_unknown_keys(tmp_path):
    uri = (tmp_path / "model.py").as_uri()
    async with session(tmp_path, options={"ignore": ["PT006"], "colour": "blue"}) as s:
        s.open(uri, SOURCE)
        assert [d.code for d in await s.diagnostics(uri, 1)] == ["PT002"]
        assert any("colour" in m.message and m.type == types.MessageType.Warning for m in s.client.messages)


async def test_client_settings_merge_over_pyproject(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.tensorlint]\nignore = ["PT002"]\n')
    uri = (tmp_path / "model.py").as_uri()
    async with session(tmp_path, configuration={"": {"tensorlint": {"extend-select": ["PT002"],
                                                                     "max-file-size-kb": 1}}}) as s:
        s.open(uri, SOURCE)
        # pyproject ignores PT002 and the client adds nothing that re-enables it at a higher specificity
        assert [d.code for d in await s.diagnostics(uri, 1)] == ["PT006"]
        big = "x = 1\n" * 400  # 2.4 KB > 1 KB from workspace/configuration
        big_uri = (tmp_path / "big.py").as_uri()
        s.open(big_uri, big)
        (info,) = await s.diagnostics(big_uri, 1)
        assert info.code == "TL004" and info.severity == types.DiagnosticSeverity.Information


async def test_a_path_with_a_space_gets_its_diagnostics_and_fixes(tmp_path):
    folder = tmp_path / "my project"
    folder.mkdir()
    uri = (folder / "model.py").as_uri()
    assert "%20" in uri  # as every client writes it
    async with session(tmp_path) as s:
        s.open(uri, SOURCE)
        diagnostics = await s.diagnostics(uri, 1)
        assert [d.code for d in diagnostics] == ["PT002", "PT006"]
        fix = next(a for a in await s.actions(uri, diagnostics=diagnostics) if a.title == "Pass `weights_only=True`")
        assert single_document_edits(fix, uri, 1)


async def test_non_python_documents_are_ignored(tmp_path):
    uri = (tmp_path / "notes.md").as_uri()
    py_uri = (tmp_path / "model.py").as_uri()
    async with session(tmp_path) as s:
        s.open(uri, SOURCE, language="markdown")
        s.open(py_uri, SOURCE)
        await s.diagnostics(py_uri, 1)
        assert not any(p.uri == uri for p in s.published)
        assert await s.actions(uri) == []


FORBIDDEN = ("torch", "tensorflow", "keras", "jax")
# Runs the real server with an import hook that writes down every top-level package it imports.
RECORDING_SERVER = textwrap.dedent('''\
    import os, sys, runpy
    record = open(os.environ["TENSORLINT_IMPORT_RECORD"], "a")
    class Recorder:
        def find_spec(self, name, path=None, target=None):
            if "." not in name:
                record.write(name + "\\n"); record.flush()
            return None
    sys.meta_path.insert(0, Recorder())
    sys.argv = ["tensorlint", "serve"]
    runpy.run_module("tensorlint.server", run_name="__main__")
''')


async def test_server_never_imports_deep_learning_frameworks(tmp_path):
    record = tmp_path / "imports.txt"
    uri = (tmp_path / "model.py").as_uri()
    keras_uri = (tmp_path / "k.py").as_uri()
    command = [sys.executable, "-c", RECORDING_SERVER]
    async with session(tmp_path, command=command, env={"TENSORLINT_IMPORT_RECORD": str(record)}) as s:
        s.open(uri, SOURCE)
        await s.diagnostics(uri, 1)
        s.open(keras_uri, "import keras\nmodel = keras.Sequential([keras.layers.Dense(2)])\nmodel.save('m.h5')\n")
        await s.diagnostics(keras_uri, 1)
        await s.actions(uri)
    imported = set(record.read_text().split())
    assert {"libcst", "pygls", "lsprotocol"} <= imported  # the hook saw the server's imports
    assert not imported & set(FORBIDDEN), imported & set(FORBIDDEN)


# The real server with one extra rule (registered as any plug-in rule is, by subclassing) that crashes.
CRASHING_RULE_SERVER = textwrap.dedent('''\
    import runpy, sys
    from tensorlint.analyzers.rule import Rule
    from tensorlint.analyzers.findings import Severity

    class Exploding(Rule):
        """Crashes on every call."""
        code = "ZZ901"
        name = "exploding"
        severity = Severity.WARNING
        message = "never reported"

        def visit_Call(self, node):
            raise ZeroDivisionError("boom")

    sys.argv = ["tensorlint", "serve"]
    runpy.run_module("tensorlint.server", run_name="__main__")
''')


async def test_a_crashing_rule_is_logged_and_the_others_still_report(tmp_path):
    uri = (tmp_path / "model.py").as_uri()
    async with session(tmp_path, command=[sys.executable, "-c", CRASHING_RULE_SERVER]) as s:
        s.open(uri, SOURCE)
        assert [d.code for d in await s.diagnostics(uri, 1)] == ["PT002", "PT006"]
        crash_logs = [m for m in s.client.log_messages if "ZZ901" in m.message]
        assert crash_logs and "ZeroDivisionError: boom" in crash_logs[0].message
        assert crash_logs[0].type == types.MessageType.Error


def test_serve_rejects_a_malformed_tcp_address():
    import subprocess

    done = subprocess.run([*SERVER, "--tcp", "nowhere"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "HOST:PORT" in done.stderr and "Traceback" not in done.stderr


# -- pull diagnostics, cancellation --------------------------------------------------------------------------------
async def test_pull_diagnostics_when_the_client_supports_them(tmp_path):
    uri = (tmp_path / "model.py").as_uri()
    async with session(tmp_path, caps=capabilities(pull=True)) as s:
        assert s.result.capabilities.diagnostic_provider.workspace_diagnostics
        s.open(uri, SOURCE)
        report = await s.client.text_document_diagnostic_async(types.DocumentDiagnosticParams(
            types.TextDocumentIdentifier(uri)))
        assert [d.code for d in report.items] == ["PT002", "PT006"]
        again = await s.client.text_document_diagnostic_async(types.DocumentDiagnosticParams(
            types.TextDocumentIdentifier(uri), previous_result_id=report.result_id))
        assert again.kind == "unchanged"
        s.change(uri, 2, (2, 0), (2, 0), "x = ")
        workspace = await s.client.workspace_diagnostic_async(types.WorkspaceDiagnosticParams(
            previous_result_ids=[types.PreviousResultId(uri, report.result_id)]))
        (item,) = workspace.items
        assert item.version == 2 and [d.code for d in item.items] == ["PT006"]
        assert not s.published, "a pull client must not also get pushed diagnostics"


async def test_cancel_request_is_honoured_for_pull_diagnostics(tmp_path):
    uri = (tmp_path / "big.py").as_uri()
    big = SOURCE + "".join(f"def f{i}(x):\n    return torch.relu(x) + {i}\n\n" for i in range(1500))
    async with session(tmp_path, caps=capabilities(pull=True)) as s:
        s.open(uri, big)
        future = s.client.protocol.send_request(types.TEXT_DOCUMENT_DIAGNOSTIC, types.DocumentDiagnosticParams(
            types.TextDocumentIdentifier(uri)), msg_id="cancel-me")
        s.client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id="cancel-me"))
        with pytest.raises(Exception, match="cancel"):
            await asyncio.wait_for(asyncio.wrap_future(future), 30)
        # the server goes on answering, with the analysis the cancelled request had started
        report = await s.client.text_document_diagnostic_async(types.DocumentDiagnosticParams(
            types.TextDocumentIdentifier(uri)))
        assert [d.code for d in report.items] == ["PT002", "PT006"]


# -- hover -------------------------------------------------------------------------------------------------------
async def test_hover_on_a_diagnostic_shows_the_rule_documentation(tmp_path):
    uri = (tmp_path / "model.py").as_uri()
    async with session(tmp_path) as s:
        s.open(uri, SOURCE)
        await s.diagnostics(uri, 1)
        hover = await s.client.text_document_hover_async(types.HoverParams(
            types.TextDocumentIdentifier(uri), types.Position(3, 12)))
        assert hover.contents.kind == types.MarkupKind.Markdown
        assert "PT006" in hover.contents.value and "## What it does" in hover.contents.value


LAYERS = textwrap.dedent('''\
    import torch.nn as nn
    from keras import layers
    norm = nn.BatchNorm2d(8)
    act = layers.LeakyReLU()
    lin = nn.Linear(2, 3)
''')


@pytest.mark.parametrize("position, expected", [
    ((2, 12), ["**nn.BatchNorm2d** ↔ **layers.BatchNormalization**", "`momentum=0.99`", "keras = 1 - torch"]),
    ((3, 15), ["**layers.LeakyReLU** ↔ **nn.LeakyReLU**", "`negative_slope=0.3`"]),
    ((4, 10), ["**nn.Linear** ↔ **layers.Dense**", "`kernel` = `t['weight'].T`"]),
])
async def test_hover_on_a_layer_shows_its_card(tmp_path, position, expected):
    uri = (tmp_path / "layers.py").as_uri()
    async with session(tmp_path) as s:
        s.open(uri, LAYERS)
        await s.diagnostics(uri, 1)
        hover = await s.client.text_document_hover_async(types.HoverParams(
            types.TextDocumentIdentifier(uri), types.Position(*position)))
        for text in expected:
            assert text in hover.contents.value
        # nothing under the cursor (the `=`): no hover
        assert await s.client.text_document_hover_async(types.HoverParams(
            types.TextDocumentIdentifier(uri), types.Position(2, 5))) is None


# -- settings: configuration changes, watched pyproject, multi-root --------------------------------------------------
async def test_configuration_change_and_pyproject_change_relint_open_documents(tmp_path):
    uri = (tmp_path / "model.py").as_uri()
    async with session(tmp_path, configuration={"": {"tensorlint": {}}}) as s:
        s.open(uri, SOURCE)
        assert [d.code for d in await s.diagnostics(uri, 1)] == ["PT002", "PT006"]
        count = len(s.published)
        s.client.set_configuration({"ignore": ["PT002"]}, section="tensorlint")
        s.client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings=None))
        async with s.arrived:
            await asyncio.wait_for(s.arrived.wait_for(lambda: len(s.published) > count), 20)
        assert [d.code for d in s.published[-1].diagnostics] == ["PT006"] and s.published[-1].version == 1

        count = len(s.published)
        (tmp_path / "pyproject.toml").write_text('[tool.tensorlint]\nper-file-ignores = {"model.py" = ["PT006"]}\n')
        s.client.workspace_did_change_watched_files(types.DidChangeWatchedFilesParams(
            [types.FileEvent((tmp_path / "pyproject.toml").as_uri(), types.FileChangeType.Created)]))
        async with s.arrived:
            await asyncio.wait_for(s.arrived.wait_for(lambda: len(s.published) > count), 20)
        assert [d.code for d in s.published[-1].diagnostics] == []  # the file's PT006 and the client's PT002


# What VS Code syncs: its own spelling (camelCase), unset settings as null, and the settings only the extension reads.
VSCODE_SECTION = {"path": [], "interpreter": [], "trace": {"server": "off"}, "select": None, "ignore": None,
                  "extendSelect": None, "perFileIgnores": None, "deployment": None, "debounce": None,
                  "maxFileSizeKb": None}


async def test_vscode_synced_settings_are_accepted_without_warning_and_apply_live(tmp_path):
    uri = (tmp_path / "model.py").as_uri()
    big_uri = (tmp_path / "big.py").as_uri()
    start = {**VSCODE_SECTION, "select": ["PT006"]}
    async with session(tmp_path, configuration={"": {"tensorlint": start}}) as s:
        s.open(uri, SOURCE)
        assert [d.code for d in await s.diagnostics(uri, 1)] == ["PT006"]
        s.open(big_uri, "import torch\n" + "x = torch.load('w.pt')\n" * 100)  # 2.3 KB
        assert {d.code for d in await s.diagnostics(big_uri, 1)} == {"PT006"}

        async def change(**settings) -> None:
            count = len(s.published)
            section = {**start, **settings}
            s.client.set_configuration(section, section="tensorlint")
            # VS Code's synchronize.configurationSection sends the section itself along with the notification
            s.client.workspace_did_change_configuration(types.DidChangeConfigurationParams(
                settings={"tensorlint": section}))
            async with s.arrived:
                await asyncio.wait_for(s.arrived.wait_for(lambda: len(s.published) >= count + 2), 20)

        def latest(document_uri: str) -> list[str]:
            return [d.code for d in next(p for p in reversed(s.published) if p.uri == document_uri).diagnostics]

        await change(extendSelect=["PT002"])
        assert latest(uri) == ["PT002", "PT006"]
        await change(extendSelect=["PT002"], perFileIgnores={"model.py": ["PT006"]})
        assert latest(uri) == ["PT002"]
        await change(maxFileSizeKb=1)
        assert latest(big_uri) == ["TL004"] and latest(uri) == ["PT006"]
        assert not [m.message for m in s.client.messages if m.type <= types.MessageType.Warning]


async def test_multi_root_folders_get_their_own_settings(tmp_path):
    first, second = tmp_path / "first", tmp_path / "second"
    for folder in (first, second):
        folder.mkdir()
    (second / "pyproject.toml").write_text('[tool.tensorlint]\nignore = ["PT002"]\n')
    folders = [types.WorkspaceFolder(first.as_uri(), "first"), types.WorkspaceFolder(second.as_uri(), "second")]
    configuration = {"": {"tensorlint": {}}, first.as_uri(): {"tensorlint": {"ignore": ["PT006"]}}}
    async with session(tmp_path, folders=folders, configuration=configuration) as s:
        uri_1, uri_2 = (first / "a.py").as_uri(), (second / "b.py").as_uri()
        s.open(uri_1, SOURCE)
        s.open(uri_2, SOURCE)
        assert [d.code for d in await s.diagnostics(uri_1, 1)] == ["PT002"]
        assert [d.code for d in await s.diagnostics(uri_2, 1)] == ["PT006"]


# -- deployment: code lens and export snippet ----------------------------------------------------------------------
MODEL = textwrap.dedent('''\
    import torch
    import torch.nn as nn


    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 2)

        def forward(self, x):
            if x.sum() > 0:
                return self.fc(x)
            return self.fc(-x)
''')


async def test_code_lens_per_model_and_export_snippet_action(tmp_path):
    uri = (tmp_path / "net.py").as_uri()
    async with session(tmp_path) as s:
        s.open(uri, MODEL)
        await s.diagnostics(uri, 1)
        (lens,) = await s.client.text_document_code_lens_async(types.CodeLensParams(types.TextDocumentIdentifier(uri)))
        assert lens.range.start.line == 4 and lens.command.title.startswith("Deploy: ")
        assert "blocked (line 11)" in lens.command.title
        shown = await s.client.workspace_execute_command_async(types.ExecuteCommandParams(
            lens.command.command, lens.command.arguments))
        assert "line 11" in shown

        actions = await s.actions(uri, (4, 6), (4, 6), only=["refactor"])
        assert actions and all(a.title.startswith("Insert export snippet for ") for a in actions)
        with_snippet = apply(MODEL, single_document_edits(actions[0], uri, 1))
        ast.parse(with_snippet)
        assert with_snippet.startswith(MODEL) and 'if __name__ == "__main__":' in with_snippet


# -- random edits --------------------------------------------------------------------------------------------------
FRAGMENTS = st.text(alphabet="()[]{}:,.=+ \t\n#'\"xyzdefimport torch.load(é😀中\u0301", min_size=1, max_size=6)
EDITS = st.lists(st.tuples(st.booleans(), st.integers(0, 10**6), FRAGMENTS, st.integers(1, 6)),
                 min_size=500, max_size=500)


def utf16_position(text: str, offset: int) -> tuple[int, int]:
    before = text[:offset]
    line = before.count("\n")
    column_text = before[before.rfind("\n") + 1:]
    return line, len(column_text.encode("utf-16-le")) // 2


def assert_inside(text: str, diagnostics) -> None:
    lines = text.split("\n")
    for diagnostic in diagnostics:
        for position in (diagnostic.range.start, diagnostic.range.end):
            assert 0 <= position.line < len(lines), (position, len(lines))
            assert 0 <= position.character <= len(lines[position.line].encode("utf-16-le")) // 2, position
        assert (diagnostic.range.start.line, diagnostic.range.start.character) <= (
            diagnostic.range.end.line, diagnostic.range.end.character)


async def random_edit_session(tmp_path: Path, edits) -> None:
    uri = (tmp_path / "fuzz.py").as_uri()
    async with session(tmp_path, options={"debounce": 0}) as s:
        text = SOURCE
        texts = {1: text}
        s.open(uri, text)
        for version, (insert, where, fragment, length) in enumerate(edits, start=2):
            offset = where % (len(text) + 1)
            end = offset if insert else min(offset + length, len(text))
            new = fragment if insert else ""
            s.change(uri, version, utf16_position(text, offset), utf16_position(text, end), new)
            text = text[:offset] + new + text[end:]
            texts[version] = text
            if version % 50 == 0:
                await asyncio.sleep(0.05)  # let some analyses finish mid-stream, so older results race newer edits
            if version % 125 == 0:
                actions = await s.actions(uri)  # still answering, for the version it has now
                for action in actions:
                    if action.edit is not None:
                        assert action.edit.document_changes[0].text_document.version == version
        last = len(edits) + 1
        await s.diagnostics(uri, last, timeout=60)
        published = [p for p in s.published if p.uri == uri]
        assert published and published[-1].version == last
        assert [p.version for p in published] == sorted(p.version for p in published)
        for params in published:
            assert_inside(texts[params.version], params.diagnostics)
        assert s.client.error is None


@hypothesis_settings(max_examples=4, deadline=None, derandomize=True,
                     suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                            HealthCheck.large_base_example, HealthCheck.function_scoped_fixture])
@given(edits=EDITS)
def test_random_edits_keep_the_server_alive_and_ranges_inside_their_document(tmp_path, edits):
    asyncio.run(random_edit_session(tmp_path, edits))


def test_serve_over_tcp():
    import json
    import socket
    import subprocess
    import time

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([*SERVER, "--tcp", f"127.0.0.1:{port}"], stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                connection = socket.create_connection(("127.0.0.1", port), timeout=30)
                break
            except OSError:
                assert time.monotonic() < deadline and server.poll() is None, "the server did not listen"
                time.sleep(0.2)
        with connection:
            body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "initialize",
                               "params": {"processId": None, "rootUri": None, "capabilities": {}}}).encode()
            connection.sendall(b"Content-Length: %d\r\n\r\n" % len(body) + body)
            received = b""
            while b'"capabilities"' not in received or not received.rstrip().endswith(b"}"):
                chunk = connection.recv(65536)
                assert chunk, received
                received += chunk
        reply = json.loads(received.split(b"\r\n\r\n", 1)[1])
        assert reply["id"] == 1 and "codeActionProvider" in reply["result"]["capabilities"]
    finally:
        server.terminate()
        server.wait(30)


async def test_a_folder_added_later_brings_its_settings(tmp_path):
    first, later = tmp_path / "first", tmp_path / "later"
    for folder in (first, later):
        folder.mkdir()
    configuration = {"": {"tensorlint": {}}, later.as_uri(): {"tensorlint": {"ignore": ["PT002"]}}}
    async with session(tmp_path, folders=[types.WorkspaceFolder(first.as_uri(), "first")],
                       configuration=configuration) as s:
        assert s.result.capabilities.workspace.workspace_folders.change_notifications
        uri = (later / "c.py").as_uri()
        s.open(uri, SOURCE)
        assert [d.code for d in await s.diagnostics(uri, 1)] == ["PT002", "PT006"]  # not in a folder yet
        count = len(s.published)
        s.client.workspace_did_change_workspace_folders(types.DidChangeWorkspaceFoldersParams(
            types.WorkspaceFoldersChangeEvent(added=[types.WorkspaceFolder(later.as_uri(), "later")], removed=[])))
        async with s.arrived:
            await asyncio.wait_for(s.arrived.wait_for(lambda: len(s.published) > count), 20)
        assert [d.code for d in s.published[-1].diagnostics] == ["PT006"]


async def test_the_pyproject_watcher_is_registered_when_the_client_allows(tmp_path):
    caps = capabilities()
    caps.workspace.did_change_watched_files = types.DidChangeWatchedFilesClientCapabilities(dynamic_registration=True)
    registrations = []

    def register(_client: LanguageClient, params: types.RegistrationParams):
        registrations.extend(params.registrations)

    async with session(tmp_path, caps=caps, features={types.CLIENT_REGISTER_CAPABILITY: register}) as s:
        uri = (tmp_path / "model.py").as_uri()
        s.open(uri, SOURCE)
        await s.diagnostics(uri, 1)  # sent after initialized's registration
    (registration,) = registrations
    assert registration.method == types.WORKSPACE_DID_CHANGE_WATCHED_FILES
    assert registration.register_options["watchers"][0]["globPattern"] == "**/pyproject.toml"
