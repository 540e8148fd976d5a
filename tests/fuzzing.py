"""Seeded, bounded fault injection against the public surface (issue 15): the language server's real process over
raw JSON-RPC and the `tensorlint check` command. tests/test_fuzz.py runs each campaign for a few seconds;
benchmarks/fuzz.py runs them longer. Every campaign returns nothing and raises AssertionError with the seed on
the first broken promise:

* ``edit_campaign``: random incremental edits (unicode, emoji, every line separator, lone surrogates, CR and CRLF)
  with hovers and code actions at random (also invalid) positions in between; the server stays up, every
  published range lies inside its version's text, and the last version's diagnostics equal those of the same text
  opened fresh (so the server's copy of the document is the client's).
* ``protocol_campaign``: requests with random params and notifications with random params; every request gets
  one answer, and the server still answers a good hover and exits 0 after shutdown.
* ``pathological_campaign``: random deep nestings of every kind through `tensorlint check`; it exits 0 or 1,
  never dies.
* ``fix_campaign``: `tensorlint check --fix` over files with random line breaks (LF, CRLF, CR, mixed), BOMs, tabs,
  form feeds and non-ASCII text; each file ends up byte for byte as the fixes alone would leave it.
"""

from __future__ import annotations

import json
import random
import re
import subprocess
import sys
import threading
from pathlib import Path

SERVER = [sys.executable, "-m", "tensorlint.server", "serve"]
CHECK = [sys.executable, "-m", "tensorlint.server", "check"]
LSP_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")  # LSP's line breaks: \n, \r\n, \r only


class RawServer:
    """The server process spoken to in raw JSON-RPC, so that malformed messages reach it as they are."""

    def __init__(self, cwd: Path):
        self.process = subprocess.Popen(SERVER, cwd=cwd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=subprocess.DEVNULL)
        self.messages: list[dict] = []
        self.arrived = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        stream = self.process.stdout
        while True:
            length = None
            while True:
                header = stream.readline()
                if not header:
                    return
                if header.lower().startswith(b"content-length:"):
                    length = int(header.split(b":")[1])
                if header == b"\r\n":
                    break
            message = json.loads(stream.read(length))
            with self.arrived:
                self.messages.append(message)
                self.arrived.notify_all()

    def send(self, message: dict) -> None:
        body = json.dumps({"jsonrpc": "2.0", **message}).encode()
        self.process.stdin.write(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
        self.process.stdin.flush()

    def wait_for(self, predicate, timeout: float = 60) -> dict:
        with self.arrived:
            assert self.arrived.wait_for(lambda: any(predicate(m) for m in self.messages), timeout), \
                f"no such message within {timeout}s; server alive: {self.process.poll() is None}"
            return next(m for m in self.messages if predicate(m))

    def request(self, msg_id, method: str, params, timeout: float = 60) -> dict:
        self.send({"id": msg_id, "method": method, "params": params})
        return self.wait_for(lambda m: m.get("id") == msg_id and "method" not in m, timeout)

    def initialize(self, root: Path, options: dict | None = None) -> None:
        reply = self.request(0, "initialize", {"processId": None, "rootUri": root.as_uri(), "capabilities": {},
                                               "initializationOptions": options})
        assert "result" in reply, reply
        self.send({"method": "initialized", "params": {}})

    def published(self, uri: str, version: int, timeout: float = 60) -> list[dict]:
        message = self.wait_for(lambda m: m.get("method") == "textDocument/publishDiagnostics"
                                and m["params"]["uri"] == uri and m["params"].get("version") == version, timeout)
        return message["params"]["diagnostics"]

    def close(self) -> int:
        try:
            self.process.stdin.close()
        except OSError:
            pass
        try:
            return self.process.wait(timeout=30)
        finally:
            if self.process.poll() is None:
                self.process.kill()


def lsp_lines(text: str) -> list[str]:
    return LSP_LINE.findall(text) + [""]


def utf16_units(text: str) -> int:
    return sum(2 if ord(char) > 0xFFFF else 1 for char in text)


def position_of(text: str, offset: int) -> dict:
    """The LSP position (UTF-16 columns, LSP line breaks) of a code-point offset."""
    before = LSP_LINE.findall(text[:offset])
    if not before:
        return {"line": 0, "character": 0}
    if before[-1].endswith(("\n", "\r")):
        return {"line": len(before), "character": 0}
    return {"line": len(before) - 1, "character": utf16_units(before[-1])}


def assert_inside(text: str, diagnostics: list[dict], where: str) -> None:
    lines = lsp_lines(text)
    for diagnostic in diagnostics:
        for end in ("start", "end"):
            position = diagnostic["range"][end]
            assert 0 <= position["line"] < len(lines), (where, diagnostic)
            body = lines[position["line"]].rstrip("\r\n")
            assert 0 <= position["character"] <= utf16_units(body), (where, diagnostic, body)


BASE = ("import torch\nfrom torch import nn\n\n\nclass Net(nn.Module):\n    def forward(self, x):\n"
        "        return x\n\nm = torch.load(p)\nx = torch.randn(2)\nx.to('cuda')\n")
FRAGMENTS = ["torch.load(p)", "\n", "x = 1", "import torch\n", "(", ")", "[", "]", " ", "    ", "\t", "é",
             "\u00e9t\u00e9", "😀", "中文", "\r\n", "\r", "\x0c", "\x0b", "\x1c", "\x85", "\u2028", "\u2029",
             "\ud800", "\udfff",
             "def f():\n    return 1\n", "# noqa\n", "'''", "\"", "x.to('cuda')\n", "nn.Linear(2, 3)", "\\\n"]


def _offsets(text: str) -> list[int]:
    """Offsets a client can address: not between the two characters of a CRLF."""
    return [i for i in range(len(text) + 1) if not (0 < i < len(text) and text[i - 1] == "\r" and text[i] == "\n")]


def edit_campaign(folder: Path, seed: int, edits: int) -> None:
    rng = random.Random(seed)
    server = RawServer(folder)
    try:
        server.initialize(folder, {"debounce": 0})
        uri = (folder / "fuzz.py").as_uri()
        text = BASE
        texts = {1: text}
        server.send({"method": "textDocument/didOpen", "params": {"textDocument": {
            "uri": uri, "languageId": "python", "version": 1, "text": text}}})
        request_id = 1
        for version in range(2, edits + 2):
            allowed = _offsets(text)
            start = rng.choice(allowed)
            end = min((o for o in allowed if o >= start + rng.randint(0, 6)), default=start) \
                if rng.random() < 0.4 else start
            new = "".join(rng.choice(FRAGMENTS) for _ in range(rng.randint(0, 3)))
            server.send({"method": "textDocument/didChange", "params": {
                "textDocument": {"uri": uri, "version": version},
                "contentChanges": [{"range": {"start": position_of(text, start), "end": position_of(text, end)},
                                    "text": new}]}})
            text = text[:start] + new + text[end:]
            texts[version] = text
            if rng.random() < 0.08:
                request_id += 1
                position = {"line": rng.randint(0, 40), "character": rng.randint(0, 90)}
                method, params = rng.choice([
                    ("textDocument/hover", {"textDocument": {"uri": uri}, "position": position}),
                    ("textDocument/codeAction", {"textDocument": {"uri": uri}, "range": {
                        "start": position, "end": position}, "context": {"diagnostics": []}}),
                    ("textDocument/codeLens", {"textDocument": {"uri": uri}})])
                reply = server.request(request_id, method, params)
                assert "result" in reply or reply["error"]["code"] == -32801, (seed, method, reply)
        last = edits + 1
        final = server.published(uri, last, timeout=120)
        for message in server.messages:
            if message.get("method") == "textDocument/publishDiagnostics" and message["params"]["uri"] == uri:
                version = message["params"]["version"]
                assert_inside(texts[version], message["params"]["diagnostics"], f"seed {seed}, version {version}")
        fresh_uri = (folder / "fresh.py").as_uri()
        server.send({"method": "textDocument/didOpen", "params": {"textDocument": {
            "uri": fresh_uri, "languageId": "python", "version": 1, "text": text}}})
        fresh = server.published(fresh_uri, 1, timeout=120)

        def key(diagnostics):
            return sorted((d["code"], json.dumps(d["range"], sort_keys=True), d["message"]) for d in diagnostics)

        assert key(final) == key(fresh), (seed, repr(text))
        assert "result" in server.request("bye", "shutdown", None)
        server.send({"method": "exit"})
        assert server.process.wait(timeout=30) == 0
    finally:
        server.close()


METHODS = ["textDocument/hover", "textDocument/codeAction", "textDocument/codeLens", "textDocument/diagnostic",
           "codeAction/resolve", "workspace/executeCommand", "workspace/diagnostic", "textDocument/didOpen",
           "textDocument/didChange", "textDocument/didClose", "workspace/didChangeConfiguration",
           "notebookDocument/didOpen", "notebookDocument/didChange"]


def _junk(rng: random.Random, depth: int = 0):
    kind = rng.randrange(9 if depth < 3 else 6)
    if kind == 0:
        return None
    if kind == 1:
        return rng.choice([-1, 0, 2**31, -2**40, 3.5, True])
    if kind == 2:
        return rng.choice(["", "file:///nowhere.py", "\ud800", "x" * 300, "tensorlint.verify"])
    if kind in (3, 4, 5):
        return rng.choice([{}, [], {"line": -1, "character": -5}, {"uri": None}])
    if kind == 6:
        return [_junk(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    keys = ["textDocument", "position", "range", "context", "uri", "version", "text", "contentChanges", "data",
            "command", "arguments", "start", "end", "line", "character", "settings", "kind", "title"]
    return {rng.choice(keys): _junk(rng, depth + 1) for _ in range(rng.randint(0, 4))}


def protocol_campaign(folder: Path, seed: int, messages: int) -> None:
    rng = random.Random(seed)
    server = RawServer(folder)
    try:
        server.initialize(folder)
        uri = (folder / "m.py").as_uri()
        server.send({"method": "textDocument/didOpen", "params": {"textDocument": {
            "uri": uri, "languageId": "python", "version": 1, "text": "import torch\nm = torch.load(p)\n"}}})
        asked = []
        for index in range(1, messages + 1):
            method = rng.choice(METHODS)
            params = _junk(rng)
            if isinstance(params, dict) and rng.random() < 0.5:
                params.setdefault("textDocument", {"uri": uri, "version": rng.randint(-2, 5)})
            if rng.random() < 0.6:
                asked.append(index)
                server.send({"id": index, "method": method, "params": params})
            else:
                server.send({"method": method, "params": params})
        for index in asked:
            server.wait_for(lambda m, i=index: m.get("id") == i and "method" not in m)
        answers = [m for m in server.messages if "method" not in m and m.get("id") in set(asked)]
        assert sorted(m["id"] for m in answers) == sorted(asked), f"seed {seed}: a request got no or two answers"
        server.send({"method": "textDocument/didOpen", "params": {"textDocument": {
            "uri": (folder / "after.py").as_uri(), "languageId": "python", "version": 1,
            "text": "import torch\nm = torch.load(p)\n"}}})
        hover = server.request("good", "textDocument/hover", {"textDocument": {"uri": (folder / "after.py").as_uri()},
                                                              "position": {"line": 1, "character": 6}})
        assert "PT006" in hover["result"]["contents"]["value"], (seed, hover)
        shown = [m for m in server.messages if m.get("method") == "window/showMessage"
                 and m["params"]["type"] == 1 and "Error in server" in m["params"]["message"]]
        assert not shown, (seed, shown)
        assert "result" in server.request("bye", "shutdown", None)
        server.send({"method": "exit"})
        assert server.process.wait(timeout=30) == 0
    finally:
        server.close()


OPENERS = ["(", "[", "{1: ", "-", "not ", "~", "lambda: ", "1 if a else ", "await ", "f(", "a[", "*"]
CHAINS = [".a", "[0]", "()", " + 1", " ** 2", " and b", " < c", " if d else e"]


def pathological_source(rng: random.Random) -> str:
    depth = rng.choice([50, 300, 800, 2500, 6000, 20000])
    if rng.random() < 0.5:
        opened = [rng.choice(OPENERS) for _ in range(depth)]
        closing = {"(": ")", "[": "]", "{1: ": "}", "f(": ")", "a[": "]"}
        body = "".join(opened) + "1" + "".join(closing.get(o, "") for o in reversed(opened))
    else:
        body = "x" + "".join(rng.choice(CHAINS) for _ in range(depth))
    if rng.random() < 0.3:
        body = body[:rng.randrange(len(body))]  # cut short: CPython rejects it for another reason first
    return f"import torch\nx = {body}\nm = torch.load(p)\n"


def pathological_campaign(folder: Path, seed: int, files: int) -> None:
    rng = random.Random(seed)
    for index in range(files):
        (folder / f"deep{index:03}.py").write_text(pathological_source(rng))
    result = subprocess.run([*CHECK, "--no-cache", "--format", "json", "-j", "2", "."], cwd=folder,
                            capture_output=True, timeout=600)
    assert result.returncode in (0, 1), (seed, result.returncode, result.stderr[-2000:])
    reported = {f["filename"] for f in json.loads(result.stdout)}
    assert reported == {f"deep{index:03}.py" for index in range(files)}, (seed, reported)


FILLERS = ["import torch", "", "# caf\u00e9 \u2014 \u4e2d\u6587 \U0001F600", "\x0c", "y = 1\t# tab", "def f(a):",
           "    return a", "s = '\x0c\u2028\x85'", "z = (1,", "     2)"]
FIXES = [("m = torch.load(p)", "m = torch.load(p, weights_only=True)"),
         ("t = torch.randn(2)\nt.to('cuda')", "t = torch.randn(2)\nt = t.to('cuda')")]


def fix_case(rng: random.Random) -> tuple[bytes, bytes]:
    """(file bytes, what --fix must leave): random lines, random breaks, maybe a BOM."""
    before, after = ["import torch"], ["import torch"]
    for _ in range(rng.randint(1, 12)):
        if rng.random() < 0.4:
            old, new = rng.choice(FIXES)
            before.extend(old.split("\n"))
            after.extend(new.split("\n"))
        else:
            line = rng.choice(FILLERS)
            if line == "def f(a):":
                before.extend([line, "    return a"])
                after.extend([line, "    return a"])
            elif line not in ("    return a", "z = (1,", "     2)"):
                before.append(line)
                after.append(line)
    breaks = [rng.choice(["\n", "\r\n", "\r"]) for _ in before]
    if rng.random() < 0.5:
        breaks = [breaks[0]] * len(breaks)
    bom = "\ufeff" if rng.random() < 0.3 else ""

    def join(lines):
        return (bom + "".join(line + brk for line, brk in zip(lines, breaks))).encode("utf-8")

    return join(before), join(after)


def fix_campaign(folder: Path, seed: int, files: int) -> None:
    rng = random.Random(seed)
    expected = {}
    for index in range(files):
        data, fixed = fix_case(rng)
        name = f"fix{index:03}.py"
        (folder / name).write_bytes(data)
        expected[name] = fixed
    result = subprocess.run([*CHECK, "--no-cache", "--fix", "-j", "2", "."], cwd=folder, capture_output=True,
                            timeout=600)
    assert result.returncode in (0, 1), (seed, result.stderr[-2000:])
    for name, fixed in expected.items():
        assert (folder / name).read_bytes() == fixed, (seed, name, (folder / name).read_bytes(), fixed)
    leftovers = [p.name for p in folder.iterdir() if p.name not in expected]
    assert not leftovers, (seed, leftovers)
