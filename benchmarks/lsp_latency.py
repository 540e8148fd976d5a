"""Language server latency: edit -> diagnostics on a ~2,600-line model file, first diagnostics, RSS.

    .venv/bin/python benchmarks/lsp_latency.py                 # default: 40 edits per place, debounce 100 ms
    .venv/bin/python benchmarks/lsp_latency.py --edits 80 --debounce 50
    .venv/bin/python benchmarks/lsp_latency.py --ignore SH          # what the SH rules cost: compare with and without

Starts the real server (`python -m tensorlint.server serve`) and drives it over stdio with pygls's client, as an
editor would: each edit is one incremental didChange; its latency is the time from sending it to receiving the
publishDiagnostics that carries its version (so it includes the debounce). Edits are typed one at a time, each
waiting for its diagnostics, in two patterns: "typing on" sends the next edit as soon as the previous one's
diagnostics arrive (every edit but the first falls within the debounce window, as in a burst of typing), "after a
pause" waits the debounce plus 50 ms before each edit (what a user sees when they stop to look). RSS is the server's
VmRSS after 20 documents of that size are open and analysed.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

from lsprotocol import types
from pygls.lsp.client import LanguageClient

TEMPLATE = '''

class Block{i}(nn.Module):
    """Residual block {i}: conv, norm, activation, dropout."""

    def __init__(self, channels: int = 64, dropout: float = 0.1):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, kernel_size=3, padding=1)
        self.norm1 = nn.BatchNorm2d(channels)
        self.conv2 = nn.Conv2d(channels, channels, kernel_size=3, padding=1)
        self.norm2 = nn.BatchNorm2d(channels)
        self.drop = nn.Dropout(dropout)
        self.scale = nn.Parameter(torch.ones(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        residual = x
        out = self.conv1(x)
        out = self.norm1(out)
        out = F.relu(out)
        out = self.drop(out)
        out = self.conv2(out)
        out = self.norm2(out)
        out = out * self.scale
        return F.relu(out + residual)


def train_block{i}(model, loader, optimizer, device="cpu"):
    model.train()
    total = 0.0
    for inputs, targets in loader:
        inputs = inputs.to(device)
        targets = targets.to(device)
        optimizer.zero_grad()
        outputs = model(inputs)
        loss = F.cross_entropy(outputs.mean(dim=(2, 3)), targets)
        loss.backward()
        optimizer.step()
        total += loss.item()
    return total / max(len(loader), 1)


def evaluate_block{i}(model, loader):
    model.eval()
    correct = 0
    with torch.no_grad():
        for inputs, targets in loader:
            outputs = model(inputs).mean(dim=(2, 3))
            correct += (outputs.argmax(dim=1) == targets).sum().item()
    return correct / max(len(loader.dataset), 1)
'''

HEADER = '''"""A synthetic model zoo for the language-server latency benchmark."""
import torch
import torch.nn as nn
import torch.nn.functional as F
'''


def model_file(lines: int = 2600) -> str:
    parts = [HEADER]
    i = 0
    while sum(p.count("\n") for p in parts) < lines - 40:
        parts.append(TEMPLATE.format(i=i))
        i += 1
    # two findings so that positions and fixes are computed, as on a real file
    parts.append('\n\nweights = torch.load("weights.pt")\nextra = torch.randn(2)\nextra.to("cpu")\n')
    return "".join(parts)


class Client(LanguageClient):
    def __init__(self) -> None:
        super().__init__("lsp-latency", "1")
        self.arrivals: dict[tuple[str, int], float] = {}
        self.waiters: dict[tuple[str, int], asyncio.Future] = {}

        @self.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        def published(params: types.PublishDiagnosticsParams) -> None:
            key = (params.uri, params.version)
            self.arrivals[key] = time.perf_counter()
            waiter = self.waiters.pop(key, None)
            if waiter is not None and not waiter.done():
                waiter.set_result(params)

        @self.feature(types.WORKSPACE_CONFIGURATION)
        def configuration(params: types.ConfigurationParams):
            return [None for _ in params.items]

    def expect(self, uri: str, version: int) -> asyncio.Future:
        future = asyncio.get_running_loop().create_future()
        self.waiters[(uri, version)] = future
        return future


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def run(edits: int, debounce: int, documents: int, ignore: tuple[str, ...] = ()) -> dict:
    text = model_file()
    folder = Path(tempfile.mkdtemp(prefix="lsp-latency-"))
    client = Client()
    await client.start_io(sys.executable, "-m", "tensorlint.server", "serve")
    await client.initialize_async(types.InitializeParams(
        capabilities=types.ClientCapabilities(workspace=types.WorkspaceClientCapabilities(configuration=True)),
        initialization_options={"debounce": debounce, **({"ignore": list(ignore)} if ignore else {})},
        root_uri=folder.as_uri()))
    client.initialized(types.InitializedParams())

    uri = (folder / "zoo.py").as_uri()
    waiter = client.expect(uri, 1)
    started = time.perf_counter()
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        types.TextDocumentItem(uri=uri, language_id="python", version=1, text=text)))
    first = await asyncio.wait_for(waiter, 120)
    first_ms = (time.perf_counter() - started) * 1000

    lines = text.split("\n")
    # inside one function: the line `total = 0.0` of train_block10; at the end: after the last line
    inside_line = [i for i, line in enumerate(lines) if line.strip() == "def train_block10(model, loader, optimizer, "
                   'device="cpu"):'][0] + 2
    end_line = len(lines) - 1
    version = 1
    results: dict[str, list[float]] = {}
    scenarios = [(f"{place}, {pattern}", line_no, pause)
                 for pattern, pause in (("typing on", 0.0), ("after a pause", debounce / 1000 + 0.05))
                 for place, line_no in (("inside one function", inside_line), ("end of file", end_line))]
    for name, line_no, pause in scenarios:
        latencies = []
        for n in range(edits):
            # type one character, then delete it again: the file stays the same size and stays valid
            column = len(lines[line_no])
            for start, end, new in (((line_no, column), (line_no, column), " "),
                                    ((line_no, column), (line_no, column + 1), "")):
                version += 1
                if pause:
                    await asyncio.sleep(pause)
                waiter = client.expect(uri, version)
                sent = time.perf_counter()
                client.text_document_did_change(types.DidChangeTextDocumentParams(
                    types.VersionedTextDocumentIdentifier(uri=uri, version=version),
                    [types.TextDocumentContentChangePartial(
                        range=types.Range(types.Position(*start), types.Position(*end)), text=new)]))
                await asyncio.wait_for(waiter, 60)
                latencies.append((time.perf_counter() - sent) * 1000)
        results[name] = latencies

    pid = client._server.pid
    for index in range(documents - 1):
        other = (folder / f"zoo_{index}.py").as_uri()
        waiter = client.expect(other, 1)
        client.text_document_did_open(types.DidOpenTextDocumentParams(
            types.TextDocumentItem(uri=other, language_id="python", version=1, text=text)))
        await asyncio.wait_for(waiter, 120)
    rss = rss_mb(pid)
    await client.shutdown_async(None)
    client.exit(None)
    await client.stop()
    return {"lines": text.count("\n"), "findings": len(first.diagnostics), "first_ms": first_ms,
            "latencies": results, "rss_mb": rss, "documents": documents}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edits", type=int, default=40, help="edits per place (each is typed and deleted: 2x)")
    parser.add_argument("--debounce", type=int, default=100, help="the server's debounce setting in ms")
    parser.add_argument("--documents", type=int, default=20, help="open documents for the RSS figure")
    parser.add_argument("--ignore", default="", help="rule codes or prefixes turned off (comma separated), to "
                                                     "measure what they cost")
    args = parser.parse_args()
    ignore = tuple(code.strip() for code in args.ignore.split(",") if code.strip())
    figures = asyncio.run(run(args.edits, args.debounce, args.documents, ignore))
    print(f"file: {figures['lines']} lines, {figures['findings']} diagnostics; debounce {args.debounce} ms"
          + (f"; ignored {', '.join(ignore)}" if ignore else ""))
    print(f"first diagnostics after didOpen: {figures['first_ms']:.0f} ms")
    print("| edit | edits | p50 ms | p95 ms | max ms |")
    print("|---|---|---|---|---|")
    for place, values in figures["latencies"].items():
        print(f"| {place} | {len(values)} | {statistics.median(values):.0f} | {percentile(values, 0.95):.0f} | "
              f"{max(values):.0f} |")
    print(f"server RSS with {figures['documents']} open documents: {figures['rss_mb']:.0f} MB")


if __name__ == "__main__":
    main()
