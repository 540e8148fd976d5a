"""The language server against faults and bad input (issue 15), through its real process: raw JSON-RPC for what a
well-behaved client library refuses to send, pytest-lsp's client for the rest."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from lsprotocol import types

from fuzzing import LSP_LINE, RawServer
from test_lsp import session

@pytest.fixture
def raw(tmp_path):
    server = RawServer(tmp_path)
    yield server
    server.close()


def test_requests_before_initialize_answer_32002_and_exit_without_shutdown_is_1(raw, tmp_path):
    reply = raw.request(1, "textDocument/hover", {"textDocument": {"uri": "file:///x.py"},
                                                  "position": {"line": 0, "character": 0}})
    assert reply["error"]["code"] == -32002
    raw.initialize(tmp_path)
    raw.send({"method": "exit"})
    assert raw.process.wait(timeout=30) == 1


def test_invalid_params_are_answered_with_32602_and_the_server_keeps_serving(raw, tmp_path):
    raw.initialize(tmp_path)
    uri = (tmp_path / "m.py").as_uri()
    raw.send({"method": "textDocument/didOpen", "params": {"textDocument": {
        "uri": uri, "languageId": "python", "version": 1, "text": "import torch\nm = torch.load(p)\n"}}})
    bad = [{"textDocument": {"uri": uri}, "position": {"line": -1, "character": 0}},
           {"textDocument": {"uri": uri}, "position": {"line": "zero", "character": 0}},
           None, [], {"textDocument": 7}]
    for msg_id, params in enumerate(bad, start=1):
        assert raw.request(msg_id, "textDocument/hover", params)["error"]["code"] == -32602, params
    good = raw.request(99, "textDocument/hover", {"textDocument": {"uri": uri},
                                                  "position": {"line": 1, "character": 6}})
    assert "PT006" in good["result"]["contents"]["value"]


def test_client_mistakes_in_notifications_are_logged_not_shown(raw, tmp_path):
    raw.initialize(tmp_path)
    raw.send({"method": "textDocument/didChange", "params": {
        "textDocument": {"uri": (tmp_path / "never_opened.py").as_uri(), "version": 2},
        "contentChanges": [{"text": "x = 1\n"}]}})
    raw.send({"method": "textDocument/didOpen", "params": {"textDocument": 5}})
    assert "result" in raw.request(1, "shutdown", None)
    assert not [m for m in raw.messages if m.get("method") == "window/showMessage"], raw.messages


def test_second_initialize_and_requests_after_shutdown_are_refused(raw, tmp_path):
    raw.initialize(tmp_path)
    uri = (tmp_path / "m.py").as_uri()
    raw.send({"method": "textDocument/didOpen", "params": {"textDocument": {
        "uri": uri, "languageId": "python", "version": 1, "text": "import torch\nm = torch.load(p)\n"}}})
    again = raw.request(1, "initialize", {"processId": None, "rootUri": tmp_path.as_uri(), "capabilities": {}})
    assert again["error"]["code"] == -32600
    hover = raw.request(2, "textDocument/hover", {"textDocument": {"uri": uri},
                                                  "position": {"line": 1, "character": 6}})
    assert "PT006" in hover["result"]["contents"]["value"]  # the open document was not forgotten
    assert "result" in raw.request(3, "shutdown", None)
    assert raw.request(4, "textDocument/hover", {"textDocument": {"uri": uri},
                                                 "position": {"line": 1, "character": 6}})["error"]["code"] == -32600
    raw.send({"method": "exit"})
    assert raw.process.wait(timeout=30) == 0


def test_verify_on_a_file_that_does_not_parse_answers_passed_false(raw, tmp_path):
    model = tmp_path / "model.py"
    model.write_text("import torch\nclass Net(torch.nn.Module:\n")
    raw.initialize(tmp_path)
    reply = raw.request(1, "workspace/executeCommand", {"command": "tensorlint.verify", "arguments": [
        {"uri": model.as_uri(), "symbol": "Net"}]})
    assert reply["result"]["passed"] is False and "parse" in reply["result"]["error"], reply


def lsp_apply(text: str, start: tuple[int, int], end: tuple[int, int], new: str) -> str:
    """Apply one edit as an LSP client does (ASCII columns; LSP's line breaks)."""
    lines = LSP_LINE.findall(text) + [""]

    def offset(position):
        return sum(len(line) for line in lines[:position[0]]) + position[1]

    return text[:offset(start)] + new + text[offset(end):]


SEPARATORS = ["\x0c", "\x0b", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"]


async def test_the_issue_repro_with_a_form_feed_line(tmp_path):
    uri = (tmp_path / "m.py").as_uri()
    text = "import torch\n\x0c\nx = torch.load(p)\ny = 1\n"
    async with session(tmp_path, options={"debounce": 0}) as s:
        s.open(uri, text)
        await s.diagnostics(uri, 1)
        s.change(uri, 2, (3, 0), (3, 0), "z = 2\n")
        assert [(d.code, d.range.start.line) for d in await s.diagnostics(uri, 2)] == [("PT006", 2)]


@pytest.mark.parametrize("separator", SEPARATORS, ids=[f"U+{ord(s):04X}" for s in SEPARATORS])
async def test_line_separators_lsp_does_not_know_keep_edits_and_fixes_on_their_line(tmp_path, separator):
    uri = (tmp_path / "m.py").as_uri()
    text = f"import torch\n# one{separator}line\nx = torch.load(p)\ny = 1\n"
    async with session(tmp_path, options={"debounce": 0}) as s:
        s.open(uri, text)
        await s.diagnostics(uri, 1)
        s.change(uri, 2, (3, 0), (3, 0), "z = 2\n")
        text = lsp_apply(text, (3, 0), (3, 0), "z = 2\n")
        diagnostics = await s.diagnostics(uri, 2)
        assert [(d.code, d.range.start.line) for d in diagnostics] == [("PT006", 2)]
        fix = next(a for a in await s.actions(uri, (2, 0), (2, 99)) if a.title.startswith("Pass"))
        (edit,) = fix.edit.document_changes[0].edits
        fixed = lsp_apply(text, (edit.range.start.line, edit.range.start.character),
                          (edit.range.end.line, edit.range.end.character), edit.new_text)
        assert fixed == f"import torch\n# one{separator}line\nx = torch.load(p, weights_only=True)\nz = 2\ny = 1\n"


async def test_a_lone_surrogate_is_analysed_and_answered(tmp_path):
    uri = (tmp_path / "m.py").as_uri()
    async with session(tmp_path, options={"debounce": 0}) as s:
        s.open(uri, "import torch\ns = '\ud800'\nm = torch.load(p)\n")
        assert [(d.code, d.range.start.line) for d in await s.diagnostics(uri, 1)] == [("PT006", 2)]
        hover = await s.client.text_document_hover_async(types.HoverParams(
            types.TextDocumentIdentifier(uri), types.Position(2, 6)))
        assert "PT006" in hover.contents.value
        assert await s.actions(uri)
        s.change(uri, 2, (1, 5), (1, 6), "\udc00\ud801")
        assert [d.code for d in await s.diagnostics(uri, 2)] == ["PT006"]


PATHOLOGICAL = {
    "parentheses": "x = " + "(" * 2000 + "1" + ")" * 2000,
    "brackets": "x = " + "[" * 5000,
    "unary": "x = " + "-" * 10000 + "1",
    "attributes": "x = torch" + ".a" * 20000,
    "sum": "x = " + "+".join(["1"] * 100_000),
    "subscripts": "x = a" + "[0]" * 2900,  # CPython accepts it; libcst would take minutes
}


async def test_pathological_sources_are_findings_and_the_server_survives(tmp_path):
    async with session(tmp_path, options={"debounce": 0}) as s:
        for name, body in PATHOLOGICAL.items():
            uri = (tmp_path / f"{name}.py").as_uri()
            s.open(uri, f"import torch\n{body}\n")
            assert [d.code for d in await s.diagnostics(uri, 1, timeout=60)] == ["TL001"], name
            await s.client.text_document_hover_async(types.HoverParams(
                types.TextDocumentIdentifier(uri), types.Position(1, 2)))
            await s.actions(uri)
            # an edit spliced into the deep statement goes through the same guard
            s.change(uri, 2, (1, 4), (1, 4), "(")
            assert [d.code for d in await s.diagnostics(uri, 2, timeout=60)] == ["TL001"], name
        uri = (tmp_path / "fine.py").as_uri()
        s.open(uri, "import torch\nm = torch.load(p)\n")
        assert [d.code for d in await s.diagnostics(uri, 1)] == ["PT006"]


def peak_memory_kb(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1))


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads the server's peak memory from /proc")
async def test_every_feature_respects_the_size_limit_of_a_10_mb_document(tmp_path):
    uri = (tmp_path / "huge.py").as_uri()
    model = "import torch\nclass Net(torch.nn.Module):\n    def forward(self, x):\n        return x\n"
    text = model + "m = torch.load(p)\n" * (10 * 1024 * 1024 // 18)
    async with session(tmp_path, options={"debounce": 0}) as s:
        s.open(uri, text)
        assert [d.code for d in await s.diagnostics(uri, 1, timeout=120)] == ["TL004"]
        before = peak_memory_kb(s.client._server.pid)
        for line, character in ((1, 7), (5, 6), (100_000, 6)):
            assert await s.client.text_document_hover_async(types.HoverParams(
                types.TextDocumentIdentifier(uri), types.Position(line, character))) is None
        assert [a.title for a in await s.actions(uri, (0, 0), (600_000, 0))] == []
        assert await s.client.text_document_code_lens_async(
            types.CodeLensParams(types.TextDocumentIdentifier(uri))) is None
        s.change(uri, 2, (5, 0), (5, 0), "y = 1\n")
        assert [d.code for d in await s.diagnostics(uri, 2, timeout=120)] == ["TL004"]
        grown = peak_memory_kb(s.client._server.pid) - before
        assert grown < 300 * 1024, f"the server's peak memory grew by {grown // 1024} MB"


@pytest.mark.parametrize("data", [{"translate": True, "uri": 5, "symbol": None, "to": "jax"},
                                  {"translate": True}, {"uri": ["not", "a", "uri"], "version": "one"}])
def test_code_action_resolve_with_malformed_data_is_invalid_params(raw, tmp_path, data):
    raw.initialize(tmp_path)
    reply = raw.request(1, "codeAction/resolve", {"title": "x", "kind": "source.fixAll.tensorlint", "data": data})
    assert reply["error"]["code"] == -32602, reply
    assert "result" in raw.request(2, "shutdown", None)


async def test_fix_all_on_a_cr_only_document_keeps_its_line_breaks(tmp_path):
    uri = (tmp_path / "cr.py").as_uri()
    text = "import torch\rm = torch.load(p)\rx = torch.randn(2)\rx.to('cuda')\r"
    async with session(tmp_path, options={"debounce": 0}) as s:
        s.open(uri, text)
        assert [d.code for d in await s.diagnostics(uri, 1)] == ["PT006", "PT002"]
        fix_all = next(a for a in await s.actions(uri, only=["source.fixAll.tensorlint"]))
        for edit in reversed(fix_all.edit.document_changes[0].edits):
            text = lsp_apply(text, (edit.range.start.line, edit.range.start.character),
                             (edit.range.end.line, edit.range.end.character), edit.new_text)
        assert text == ("import torch\rm = torch.load(p, weights_only=True)\rx = torch.randn(2)\r"
                        "x = x.to('cuda')\r")


async def test_verify_is_not_shadowed_by_a_tensorlint_module_beside_the_model(tmp_path):
    from test_lsp_translate import MODEL

    models = tmp_path / "models"
    models.mkdir()
    (models / "tensorlint.py").write_text("raise SystemExit('the wrong tensorlint was imported')\n")
    model = models / "model.py"
    model.write_text(MODEL)
    async with session(tmp_path) as s:
        result = await s.client.workspace_execute_command_async(types.ExecuteCommandParams(
            "tensorlint.verify", [{"uri": model.as_uri(), "symbol": "Net"}]))
        assert result["passed"] is True, result


async def test_a_slow_hover_on_a_large_document_does_not_hold_up_the_analysis_of_another(tmp_path):
    import asyncio

    large_uri, small_uri = (tmp_path / "large.py").as_uri(), (tmp_path / "small.py").as_uri()
    block = "class Net{0}(nn.Module):\n    def forward(self, x):\n        return torch.relu(self.fc(x)) + {0}\n\n"
    large = "import torch\nfrom torch import nn\n\n" + "".join(block.format(i) for i in range(1000))
    async with session(tmp_path, options={"debounce": 0}) as s:
        s.open(large_uri, large)
        await s.diagnostics(large_uri, 1, timeout=300)
        # on `torch.relu`: hover parses the whole document again for its imports, one long job
        hover = asyncio.ensure_future(s.client.text_document_hover_async(types.HoverParams(
            types.TextDocumentIdentifier(large_uri), types.Position(5, 22))))
        await asyncio.sleep(0.05)
        s.open(small_uri, "import torch\nm = torch.load(p)\n")
        assert [d.code for d in await s.diagnostics(small_uri, 1, timeout=300)] == ["PT006"]
        assert not hover.done(), "the hover finished first: this document is too small to show anything"
        await asyncio.wait_for(hover, 300)


def large_document(blocks: int = 2800) -> str:
    """Model code, one safe fix; ~300 KB by default (over the server's LARGE_DOCUMENT_CHARS): seconds to analyse."""
    block = ("class Net{0}(nn.Module):\n    def forward(self, x):\n        hidden = torch.relu(self.fc(x)) + {0}\n"
             "        return self.out(hidden)\n\n\n")
    return "import torch\nfrom torch import nn\n\nstate = torch.load(p)\n\n\n" + "".join(
        block.format(i) for i in range(blocks))


async def test_a_large_documents_analysis_does_not_hold_up_the_analysis_of_another(tmp_path):
    large_uri, small_uri = (tmp_path / "large.py").as_uri(), (tmp_path / "small.py").as_uri()
    async with session(tmp_path, options={"debounce": 0}) as s:
        s.open(large_uri, large_document())
        s.open(small_uri, "import torch\nm = torch.load(p)\n")
        assert [d.code for d in await s.diagnostics(small_uri, 1, timeout=300)] == ["PT006"]
        assert not [p for p in s.published if p.uri == large_uri], "the large document was analysed first"
        assert [d.code for d in await s.diagnostics(large_uri, 1, timeout=300)] == ["PT006"]


async def test_fix_all_does_not_hold_up_the_analysis_of_another_document(tmp_path):
    import asyncio

    large_uri, small_uri = (tmp_path / "large.py").as_uri(), (tmp_path / "small.py").as_uri()
    async with session(tmp_path, options={"debounce": 0}) as s:
        s.open(large_uri, large_document(1000))
        await s.diagnostics(large_uri, 1, timeout=300)
        # the hover leaves the document's imports known, so the code action below waits for nothing but itself
        await s.client.text_document_hover_async(types.HoverParams(
            types.TextDocumentIdentifier(large_uri), types.Position(0, 8)))
        # this client takes the fix-all edit with the action (no codeAction/resolve): the fixes are computed
        # for the whole document, one long job. The request's future is settled as its answer is read, in the
        # order the server's messages arrive.
        fix_all = s.client.protocol.send_request(types.TEXT_DOCUMENT_CODE_ACTION, types.CodeActionParams(
            types.TextDocumentIdentifier(large_uri), types.Range(types.Position(2, 0), types.Position(2, 0)),
            types.CodeActionContext(diagnostics=[], only=["source.fixAll.tensorlint"])))
        await asyncio.sleep(0.05)
        s.open(small_uri, "import torch\nm = torch.load(p)\n")
        assert [d.code for d in await s.diagnostics(small_uri, 1, timeout=300)] == ["PT006"]
        assert not fix_all.done(), "the fix-all finished first: it held up everything else, or it was too quick"
        actions = await asyncio.wait_for(asyncio.wrap_future(fix_all), 300)
        assert "weights_only=True" in actions[0].edit.document_changes[0].edits[0].new_text


async def test_reused_diagnostics_follow_a_change_of_utf16_width_before_them(tmp_path):
    # the finding keeps its range in code points when "😀" becomes "a"; in UTF-16 units it moves one left
    uri = (tmp_path / "m.py").as_uri()
    async with session(tmp_path, options={"debounce": 0}) as s:
        s.open(uri, 'import torch\nx = "😀"; m = torch.load(p)\n')
        before = (await s.diagnostics(uri, 1))[0].range
        s.change(uri, 2, (1, 5), (1, 7), "a")
        after = (await s.diagnostics(uri, 2))[0].range
        assert (before.start.character, after.start.character) == (14, 13)
