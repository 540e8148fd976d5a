"""Translation in the editor: "Translate to Keras/PyTorch" on a layer call, "Translate NAME to ... in a new file" and
"Translate and verify NAME" on a model, and the `tensorlint.verify` command, which runs `tensorlint verify` in a
subprocess: the server process never imports torch, tensorflow or keras."""

from __future__ import annotations

import ast
import asyncio
import json
import os
import re
import sys
import tempfile
import uuid
from typing import TYPE_CHECKING, Any

from lsprotocol import types
from pygls.exceptions import JsonRpcContentModified, JsonRpcInvalidParams

from ..analyzers.findings import Edit, Position, Range
from ..analyzers.fixes import apply_edits

# The translators (migrations/) are imported by the functions that use them: the server starts, and analyses its
# first document, without them.
if TYPE_CHECKING:
    from ..migrations.translate import CallEdit
    from .lsp import Snapshot, TensorlintServer

TRANSLATE_CALL_KIND = types.CodeActionKind.RefactorRewrite
TRANSLATE_MODEL_KIND = "refactor.tensorlint.translate"
VERIFY_COMMAND = "tensorlint.verify"
SHOW_DOCUMENT_COMMAND = "tensorlint.showDocument"  # runs after the client created the new file: opens it
_FRAMEWORK_TITLE = {"keras": "Keras", "torch": "PyTorch"}
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_MARKER = "translate"  # in CodeAction.data: which resolver the action belongs to


# -- code actions ------------------------------------------------------------------------------------------------
async def translate_actions(ls: TensorlintServer, snap: Snapshot, params: types.CodeActionParams,
                            defines: bool) -> list[types.CodeAction]:
    """The translate actions at the request's range. ``defines``: the range holds a class or def header."""
    from .lsp import _wanted as wanted

    only = params.context.only
    if snap.result.findings[:1] and snap.result.findings[0].code == "TL001":
        return []  # half-typed code: nothing to translate until it parses again
    imports = await ls.imports(snap)
    if imports is None or not _mentions_framework(snap, params.range, imports):
        return []
    actions = []
    if wanted(TRANSLATE_CALL_KIND, only):
        action = await _call_action(ls, snap, params.range.start)
        if action is not None:
            actions.append(action)
    if defines and wanted(TRANSLATE_MODEL_KIND, only) and _creates_files(ls):
        actions += await _model_actions(ls, snap, params.range)
    return actions


def _mentions_framework(snap: Snapshot, rng: types.Range, imports) -> bool:
    """A cheap gate before any translation work: the range's lines name something imported from torch or keras."""
    lines = snap.lines[rng.start.line:rng.end.line + 1]
    for line in lines:
        for word in _IDENTIFIER.findall(line.split("#", 1)[0]):
            target = imports.aliases.get(word)
            if target is not None and target.split(".", 1)[0] in ("torch", "keras", "tensorflow"):
                return True
    return False


async def _call_action(ls: TensorlintServer, snap: Snapshot, position: types.Position) -> types.CodeAction | None:
    from ..migrations.translate import translate_call_at

    at = ls.from_client(snap.lines, position)
    call = await asyncio.get_running_loop().run_in_executor(
        ls.feature_executor, translate_call_at, snap.text, at.line, at.column)
    if call is None:
        return None
    edit = call_edit(ls, snap, call)
    if edit is None:
        return None
    return types.CodeAction(title=call.title, kind=TRANSLATE_CALL_KIND, edit=edit)


async def _model_actions(ls: TensorlintServer, snap: Snapshot, rng: types.Range) -> list[types.CodeAction]:
    from ..migrations.translate import symbols

    found = await asyncio.get_running_loop().run_in_executor(ls.feature_executor, symbols, snap.text)
    actions = []
    for symbol in found:
        if not rng.start.line + 1 <= symbol.line <= rng.end.line + 1:
            continue
        to = "keras" if symbol.framework == "torch" else "torch"
        suffix = f"{symbol.name}_{to}.py"
        data = {_MARKER: True, "uri": snap.uri, "version": snap.version, "symbol": symbol.name, "to": to}
        translate = types.CodeAction(
            title=f"Translate {symbol.name} to {_FRAMEWORK_TITLE[to]} in a new file ({suffix})",
            kind=TRANSLATE_MODEL_KIND, data=data)
        if _shows_documents(ls):
            translate.command = types.Command(f"Open {suffix}", SHOW_DOCUMENT_COMMAND,
                                              arguments=[_beside(snap.uri, suffix)])
        verify = types.CodeAction(
            title=f"Translate and verify {symbol.name} ({_FRAMEWORK_TITLE[to]}, {suffix})",
            kind=TRANSLATE_MODEL_KIND, data=data,
            command=types.Command(f"Verify {symbol.name}", VERIFY_COMMAND,
                                  arguments=[{"uri": snap.uri, "symbol": symbol.name, "to": to}]))
        for action in (translate, verify):
            if not ls.resolves_edits:
                action.edit = await _new_file_edit(ls, snap, symbol.name, to)
                if action.edit is None:
                    continue
            actions.append(action)
    return actions


async def resolve(ls: TensorlintServer, action: types.CodeAction) -> types.CodeAction:
    data = action.data
    if not (isinstance(data.get("uri"), str) and isinstance(data.get("symbol"), str)
            and data.get("to") in ("keras", "torch")):
        raise JsonRpcInvalidParams("codeAction/resolve: this action's data was not made by this server")
    snap = await ls.snapshot(data["uri"])
    if snap is None or snap.version != data.get("version") or not ls.is_current(snap):
        raise JsonRpcContentModified("the document changed since this action was offered")
    action.edit = await _new_file_edit(ls, snap, data["symbol"], data["to"])
    if not ls.is_current(snap):
        raise JsonRpcContentModified("the document changed while the translation was computed")
    return action


def is_translate_action(action: types.CodeAction) -> bool:
    return isinstance(action.data, dict) and bool(action.data.get(_MARKER))


def _shows_documents(ls: TensorlintServer) -> bool:
    from .lsp import _capability

    return bool(_capability(ls.client_capabilities, "window", "show_document", "support"))


async def show_document(ls: TensorlintServer, uri: Any) -> bool:
    """`tensorlint.showDocument`: the client opens ``uri`` (the file a translation just created) in an editor."""
    if not isinstance(uri, str) or not _shows_documents(ls):
        return False
    result = await ls.window_show_document_async(types.ShowDocumentParams(uri=uri, take_focus=True))
    return bool(result and result.success)


def _beside(uri: str, name: str) -> str:
    return uri.rsplit("/", 1)[0] + "/" + name


def _display_path(ls: TensorlintServer, uri: str) -> str:
    """How the generated file names its source: relative to the workspace folder holding it (the header is
    committed with the project; an absolute path would name one person's machine), else the file name."""
    from .lsp import document_path

    path = document_path(uri)
    if path is None:
        return ""
    folders = [document_path(folder) for folder in [*ls.workspace.folders, ls.workspace.root_uri or ""]]
    holding = [folder for folder in folders if folder and os.path.commonpath([folder, path]) == folder]
    if not holding:
        return os.path.basename(path)
    return os.path.relpath(path, max(holding, key=len)).replace(os.sep, "/")


def _creates_files(ls: TensorlintServer) -> bool:
    capability = getattr(getattr(ls.client_capabilities, "workspace", None), "workspace_edit", None)
    return bool(capability and capability.document_changes
                and types.ResourceOperationKind.Create in (capability.resource_operations or []))


async def _new_file_edit(ls: TensorlintServer, snap: Snapshot, symbol: str, to: str) -> types.WorkspaceEdit | None:
    from ..migrations.translate import translate_to_new_file
    from .lsp import document_path

    origin = _display_path(ls, snap.uri)
    try:
        new_file = await asyncio.get_running_loop().run_in_executor(
            ls.feature_executor, lambda: translate_to_new_file(snap.text, symbol, to, origin=origin,
                                                               path=document_path(snap.uri)))
    except Exception as exc:  # a translation error is a message, never a broken edit
        ls.window_show_message(types.ShowMessageParams(
            types.MessageType.Warning, f"tensorlint: cannot translate {symbol}: {exc}"))
        return None
    uri = _beside(snap.uri, new_file.name)
    path = document_path(uri)
    # the file is (re)generated output: replacing an earlier translation is what the user asked for
    exists = bool(path and os.path.exists(path))
    return types.WorkspaceEdit(document_changes=[
        types.CreateFile(uri=uri, options=types.CreateFileOptions(overwrite=exists or None)),
        types.TextDocumentEdit(text_document=types.OptionalVersionedTextDocumentIdentifier(uri=uri, version=None),
                               edits=[types.TextEdit(types.Range(types.Position(0, 0), types.Position(0, 0)),
                                                     new_file.text)]),
    ])


def call_edit(ls: TensorlintServer, snap: Snapshot, call: CallEdit) -> types.WorkspaceEdit | None:
    """The call replaced, plus the imports and helper definitions it needs that the module lacks; None unless the
    result parses."""
    from .lsp import _parses

    tree = ast.parse(snap.text)
    insert_after, present_imports = _import_block(snap.text, tree)
    defined = {node.name for node in tree.body if isinstance(node, (ast.ClassDef, ast.FunctionDef))}
    header = [line for line in dict.fromkeys(call.imports) if line.strip() not in present_imports]
    helpers = _missing_definitions(call.helpers, defined)
    insertion = "\n".join(header) + "\n" if header else ""
    if helpers:
        insertion += "\n\n" + helpers.strip("\n") + "\n\n"
    changes = [Edit(Range(Position(call.start_line, call.start_column), Position(call.end_line, call.end_column)),
                    call.new_text)]
    if insertion:
        changes.insert(0, Edit(Range(Position(insert_after + 1, 0), Position(insert_after + 1, 0)), insertion))
    if not _parses(apply_edits(snap.text, changes)):
        return None
    return ls.workspace_edit(snap, ls.text_edits(snap.lines, changes))


def _import_block(text: str, tree: ast.Module) -> tuple[int, set[str]]:
    """The last line (1-based; 0 for the very top) of the module's leading docstring and imports, and the text of
    every top-level import."""
    end = 0
    for index, node in enumerate(tree.body):
        docstring = index == 0 and isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) \
            and isinstance(node.value.value, str)
        if not (docstring or isinstance(node, (ast.Import, ast.ImportFrom))):
            break
        end = node.end_lineno or end
    present = {ast.get_source_segment(text, node).strip() for node in tree.body
               if isinstance(node, (ast.Import, ast.ImportFrom)) and ast.get_source_segment(text, node)}
    return end, present


def _missing_definitions(helpers: str, defined: set[str]) -> str:
    if not helpers.strip():
        return ""
    tree = ast.parse(helpers)
    kept = [ast.get_source_segment(helpers, node, padded=True) for node in tree.body
            if not (isinstance(node, (ast.ClassDef, ast.FunctionDef)) and node.name in defined)]
    return "\n\n\n".join(segment for segment in kept if segment)


# -- the verify command --------------------------------------------------------------------------------------------
async def verify(ls: TensorlintServer, request: Any) -> dict:
    """`tensorlint.verify` with ``{"uri", "symbol", "to"?, "inputShape"?, "device"?}``: runs `tensorlint verify` on
    the saved file in a subprocess, with work-done progress, shows PASS/FAIL and returns verify's json (or
    ``{"passed": false, "error": ...}``)."""
    from ..migrations.common import TranslationError
    from ..migrations.input_shape import example_input_shape
    from ..migrations.translate import symbols
    from .lsp import document_path

    if not isinstance(request, dict) or not isinstance(request.get("uri"), str) or not request.get("symbol"):
        return _verify_error(ls, "tensorlint.verify needs {\"uri\": ..., \"symbol\": ...}")
    uri, symbol = request["uri"], str(request["symbol"])
    path = document_path(uri)
    if path is None or not os.path.isfile(path):
        return _verify_error(ls, f"tensorlint.verify: {uri} is not a saved file")
    with open(path, encoding="utf-8", errors="replace") as handle:
        saved = handle.read()
    try:
        found = symbols(saved)
    except TranslationError as exc:  # the saved file does not parse: nothing to verify, and verify says so
        return _verify_error(ls, f"tensorlint.verify: {os.path.basename(path)} does not parse: {exc}")
    to = request.get("to") or next((("keras" if s.framework == "torch" else "torch")
                                    for s in found if s.name == symbol), None)
    if to not in ("keras", "torch"):
        return _verify_error(ls, f"tensorlint.verify: no PyTorch or Keras model named `{symbol}` in {path}")
    shape = request.get("inputShape") or example_input_shape(saved, symbol)
    if isinstance(shape, (list, tuple)):
        shape = ",".join(str(size) for size in shape)
    if not shape:
        return _verify_error(ls, f"tensorlint.verify: the input shape of `{symbol}` is not written in its first "
                                 "layer; pass \"inputShape\": [batch, ...] in the command's arguments")
    command = [sys.executable, "-m", "tensorlint.server", "verify", f"{path}:{symbol}", "--to", to,
               "--input-shape", str(shape), "--format", "json"]
    if request.get("device") in ("cpu", "cuda", "all"):
        command += ["--device", request["device"]]
    document = ls.open_document(uri)
    if document is not None and document.source != saved:
        ls.window_show_message(types.ShowMessageParams(
            types.MessageType.Info, f"tensorlint.verify checks the saved {os.path.basename(path)}, not the unsaved "
                                    "edits"))
    token = await _begin_progress(ls, f"Verifying {symbol} ({to})", f"input shape {shape}")
    try:
        # from an empty folder: `python -m` imports from its working folder first, and a `tensorlint.py` beside
        # the model would stand in for the package (verify puts the model's folder on the path itself, later)
        with tempfile.TemporaryDirectory(prefix="tensorlint-verify-") as folder:
            process = await asyncio.create_subprocess_exec(
                *command, cwd=folder, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
            out, err = await process.communicate()
    finally:
        if token is not None:
            ls.work_done_progress.end(token, types.WorkDoneProgressEnd(message="done"))
    try:
        report = json.loads(out.decode("utf-8", "replace")) if process.returncode in (0, 1) else None
    except json.JSONDecodeError:
        report = None
    if not isinstance(report, dict):
        lines = err.decode("utf-8", "replace").strip().splitlines()
        return _verify_error(ls, lines[-1] if lines else f"tensorlint verify exited with {process.returncode}")
    worst = max((o.get("max_abs_diff") or 0.0 for o in report.get("outputs", [])), default=0.0)
    verdict = "PASS" if report.get("passed") else "FAIL"
    ls.window_show_message(types.ShowMessageParams(
        types.MessageType.Info if report.get("passed") else types.MessageType.Error,
        f"tensorlint verify {symbol} -> {_FRAMEWORK_TITLE[to]}: {verdict} (input {shape}, "
        f"{len(report.get('outputs', []))} output(s), max abs diff {worst:.3g}, {report.get('todos', 0)} TODO(s))"))
    return report


def _verify_error(ls: TensorlintServer, message: str) -> dict:
    ls.window_show_message(types.ShowMessageParams(types.MessageType.Error, message))
    return {"passed": False, "error": message}


async def _begin_progress(ls: TensorlintServer, title: str, message: str) -> str | None:
    if not getattr(getattr(ls.client_capabilities, "window", None), "work_done_progress", False):
        return None
    token = f"tensorlint-verify-{uuid.uuid4()}"
    try:
        await ls.work_done_progress.create_async(token)
    except Exception:  # the client refused a progress token: verify still runs and reports
        return None
    ls.work_done_progress.begin(token, types.WorkDoneProgressBegin(title=title, message=message))
    return token
