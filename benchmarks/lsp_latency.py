"""Language server latency on real file shapes: edit -> diagnostics, start-up, import cost, RSS.

    .venv/bin/python benchmarks/lsp_latency.py                 # default: 40 edits per place, debounce 100 ms
    .venv/bin/python benchmarks/lsp_latency.py --edits 80 --debounce 50
    .venv/bin/python benchmarks/lsp_latency.py --ignore SH          # what the SH rules cost: compare with and without
    .venv/bin/python benchmarks/lsp_latency.py --shapes keras --documents 1   # one file shape only
    .venv/bin/python benchmarks/lsp_latency.py --engine --edits 20  # the engine alone, in process (see below)

Starts the real server (`python -m tensorlint.server serve`) and drives it over stdio with pygls's client, as an
editor would: each edit is one incremental didChange; its latency is the time from sending it to receiving the
publishDiagnostics that carries its version (so it includes the debounce). Edits are typed one at a time, each
waiting for its diagnostics, in two patterns: "typing on" sends the next edit as soon as the previous one's
diagnostics arrive (every edit but the first falls within the debounce window, as in a burst of typing), "after a
pause" waits the debounce plus 50 ms before each edit (what a user sees when they stop to look).

File shapes, ~2,600 lines each: "blocks" (residual blocks with training and evaluation loops, 2 findings),
"classes" (~150 small model classes under one import block, no findings), "scripts" (~120 copies of a
training script: imports, a model class, module-level `model = ...`, `criterion = ...`, 2 findings each) and
"keras" (~45 copies of Keras code: a subclassed layer with call(), a functional model builder that compiles, a
tf.function step and a module-level script that fits, freezes a base and saves a Sequential head; 10 findings
each, of ten TF rules). Places: a space typed at the end of a line and deleted again, inside a function or method
and on a module-level line; a line break typed between two module-level imports and deleted again (every later
line moves).

Also measured: process start -> first diagnostics (a fresh server process, the "scripts" file opened as soon as
the server is initialized; the median of ``--starts`` such starts); the CPU time of a fresh interpreter importing
the server next to one importing pygls, lsprotocol and libcst alone (alternated, median of 5); the server's VmRSS
after 20 documents of these shapes are open and analysed.

The package is byte-compiled first, as `pip install` does: where PYTHONDONTWRITEBYTECODE is set (this sandbox sets
it), an editable install would otherwise compile the server's modules from source at every start.

With --engine nothing of the server runs: each place's edit is typed and deleted in this process, every version
checked by one document's IncrementalChecker (what the server runs per version, without JSON-RPC, debounce or
publishing), and the table gives the top-level statements each edit walked and re-checked. The load average is
printed with the figures: the machine may be shared.
"""

from __future__ import annotations

import argparse
import asyncio
import compileall
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from lsprotocol import types
from pygls.lsp.client import LanguageClient

ROOT = Path(__file__).resolve().parent.parent

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


CLASS = '''

class Head{i}(nn.Module):
    """Classifier head {i}: projection, normalisation, dropout."""

    def __init__(self, width: int = 128, classes: int = 10):
        super().__init__()
        self.proj = nn.Linear(width, width)
        self.norm = nn.LayerNorm(width)
        self.drop = nn.Dropout(0.1)
        self.out = nn.Linear(width, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        hidden = self.norm(F.gelu(self.proj(x)))
        hidden = self.drop(hidden) + x
        return self.out(hidden)
'''

SCRIPT = '''
import torch
import torch.nn as nn
import torch.nn.functional as F


class Net{i}(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x):
        x = F.relu(self.fc1(x))
        return F.softmax(self.fc2(x))


model = Net{i}()
criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
state = torch.load("net{i}.pt")
'''

KERAS_HEADER = '''"""Keras experiments: models, custom layers and training scripts, for the language-server latency benchmark."""
import numpy as np
import tensorflow as tf
import keras
from keras import layers

x_train = np.random.rand(1024, 32).astype("float32")
y_train = np.random.randint(0, 10, size=(1024,))
images = np.random.rand(16, 224, 224, 3).astype("float32")
optimizer = keras.optimizers.Adam(learning_rate=1e-3)
scores = []
'''

KERAS_UNIT = '''

class Residual{i}(keras.layers.Layer):
    """Residual layer {i}: an inner layer and a projection around a skip connection."""

    def __init__(self, inner, units=64, **kwargs):
        super().__init__(**kwargs)
        self.inner = inner
        self.dense = layers.Dense(units, activation="relu")
        self.norm = layers.LayerNormalization()

    def call(self, inputs, training=False):
        hidden = self.dense(inputs)
        hidden = self.inner(hidden, training=training)
        return self.norm(hidden + inputs)


def build_model{i}(num_classes=10, width=64):
    inputs = keras.Input(shape=(32,))
    x = layers.Dense(width, activation="relu")(inputs)
    x = layers.Dropout(0.1)(x)
    x = layers.Dense(width, activation="relu")(x)
    outputs = layers.Dense(num_classes)(x)
    model = keras.Model(inputs, outputs, name="classifier_{i}")
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


@tf.function
def train_step{i}(model, x, y, step):
    with tf.GradientTape() as tape:
        logits = model(x, training=True)
        loss = keras.losses.sparse_categorical_crossentropy(y, logits, from_logits=True)
    grads = tape.gradient(loss, model.trainable_variables)
    optimizer.apply_gradients(zip(grads, model.trainable_variables))
    return loss


model{i} = build_model{i}()
train{i} = tf.data.Dataset.from_tensor_slices((x_train, y_train)).batch(32).shuffle(1000)
model{i}.fit(train{i}, epochs=3, validation_split=0.1)
for step in range(10):
    train_step{i}(model{i}, x_train[:32], y_train[:32], step)
for image in images:
    scores.append(model{i}.predict(image[None]))
base{i} = keras.applications.MobileNetV2(include_top=False)
base{i}.trainable = False
features{i} = base{i}(images)
head{i} = keras.Sequential([
    keras.Input((64,)),
    Residual{i}(layers.Dense(64)),
    layers.Lambda(lambda t: t * 2.0),
    layers.Dense(1, activation="softmax"),
])
head{i}.compile(optimizer="adam", loss="binary_crossentropy")
head{i}.save(f"head{i}.keras")
legacy{i} = keras.Sequential([tf.keras.layers.Dense(4)])
'''


def _repeated(head: str, template: str, lines: int) -> str:
    parts = [head]
    count = head.count("\n")
    i = 0
    while count < lines - template.count("\n"):
        parts.append(template.format(i=i))
        count += parts[-1].count("\n")
        i += 1
    return "".join(parts)


def classes_file(lines: int = 2600) -> str:
    """~150 small model classes under one import block: no findings."""
    return _repeated(HEADER.replace("A synthetic model zoo", "Many small model classes"), CLASS, lines)


def scripts_file(lines: int = 2600) -> str:
    """~120 copies of a training script, 2 findings each (PT008 in the model, PT006 at module level)."""
    return _repeated('"""Copies of a training script, for the language-server latency benchmark."""\n', SCRIPT, lines)


def keras_file(lines: int = 2600) -> str:
    """~45 copies of Keras code: a subclassed layer with call(), a functional model builder that compiles, a
    tf.function training step, and a module-level script (fit, a frozen base, a Sequential head that is saved);
    10 findings each, of ten TF rules, most of them module-scope."""
    return _repeated(KERAS_HEADER, KERAS_UNIT, lines)


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


def _line(lines: list[str], text: str, nth: int = 0) -> int:
    return [i for i, line in enumerate(lines) if line == text][nth]


def shapes() -> list[tuple[str, str, list[tuple[str, int, str]]]]:
    """(shape, text, [(place, line, what is typed at the end of that line and deleted again)])."""
    blocks, classes, scripts, keras = model_file(), classes_file(), scripts_file(), keras_file()
    b, c, s, k = blocks.split("\n"), classes.split("\n"), scripts.split("\n"), keras.split("\n")
    middle = scripts.count("\nimport torch\n") // 2
    unit = keras.count("\ndef build_model") // 2
    return [
        ("blocks", blocks, [
            ("inside a function", _line(b, "    total = 0.0", 10), " "),
            ("end of file", len(b) - 1, " ")]),
        ("classes", classes, [
            ("inside a method", _line(c, "        hidden = self.drop(hidden) + x", classes.count("class ") // 2), " ")]),
        ("scripts", scripts, [
            ("inside a method", _line(s, "        x = F.relu(self.fc1(x))", middle), " "),
            ("module level", _line(s, "criterion = nn.CrossEntropyLoss()", middle), " "),
            ("between two imports", _line(s, "import torch", middle), "\n")]),
        ("keras", keras, [
            ("inside a function", _line(k, "    x = layers.Dropout(0.1)(x)", unit), " "),
            ("inside a method", _line(k, "        hidden = self.dense(inputs)", unit), " "),
            ("module level", _line(k, f"features{unit} = base{unit}(images)"), " ")]),
    ]


async def start_server(debounce: int, folder: Path, ignore: tuple[str, ...] = ()) -> Client:
    client = Client()
    await client.start_io(sys.executable, "-m", "tensorlint.server", "serve")
    await client.initialize_async(types.InitializeParams(
        capabilities=types.ClientCapabilities(workspace=types.WorkspaceClientCapabilities(configuration=True)),
        initialization_options={"debounce": debounce, **({"ignore": list(ignore)} if ignore else {})},
        root_uri=folder.as_uri()))
    client.initialized(types.InitializedParams())
    return client


async def open_document(client: Client, uri: str, text: str) -> types.PublishDiagnosticsParams:
    waiter = client.expect(uri, 1)
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        types.TextDocumentItem(uri=uri, language_id="python", version=1, text=text)))
    return await asyncio.wait_for(waiter, 120)


async def stop_server(client: Client) -> None:
    await client.shutdown_async(None)
    client.exit(None)
    await client.stop()


async def type_and_delete(client: Client, uri: str, version: int, line_no: int, column: int, typed: str,
                          pause: float) -> tuple[int, list[float], int]:
    """Types ``typed`` at (line_no, column), waits for its diagnostics, deletes it, waits again."""
    latencies = []
    end = (line_no + 1, 0) if typed == "\n" else (line_no, column + len(typed))
    counts = []
    for start, stop, new in (((line_no, column), (line_no, column), typed), ((line_no, column), end, "")):
        version += 1
        if pause:
            await asyncio.sleep(pause)
        waiter = client.expect(uri, version)
        sent = time.perf_counter()
        client.text_document_did_change(types.DidChangeTextDocumentParams(
            types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            [types.TextDocumentContentChangePartial(
                range=types.Range(types.Position(*start), types.Position(*stop)), text=new)]))
        published = await asyncio.wait_for(waiter, 60)
        latencies.append((time.perf_counter() - sent) * 1000)
        counts.append(len(published.diagnostics))
    return version, latencies, min(counts)


async def run(edits: int, debounce: int, documents: int, ignore: tuple[str, ...] = (),
              only: tuple[str, ...] = (), starts: int = 5) -> dict:
    folder = Path(tempfile.mkdtemp(prefix="lsp-latency-"))
    cases = shapes()
    scripts = next(text for shape, text, _ in cases if shape == "scripts")
    cases = [case for case in cases if not only or case[0] in only]

    # cold start: process start -> first diagnostics of a document opened as soon as the server is initialized
    start_times = []
    for _ in range(starts):
        started = time.perf_counter()
        client = await start_server(debounce, folder, ignore)
        first = await open_document(client, (folder / "cold.py").as_uri(), scripts)
        start_times.append((time.perf_counter() - started) * 1000)
        start_findings = len(first.diagnostics)
        await stop_server(client)
    start_ms = statistics.median(start_times)

    client = await start_server(debounce, folder, ignore)
    results: dict[tuple[str, str, str], list[float]] = {}
    files: dict[str, dict] = {}
    for shape, text, places in cases:
        uri = (folder / f"{shape}.py").as_uri()
        sent = time.perf_counter()
        opened = await open_document(client, uri, text)
        files[shape] = {"lines": text.count("\n"), "findings": len(opened.diagnostics),
                        "first_ms": (time.perf_counter() - sent) * 1000}
        lines = text.split("\n")
        version = 1
        for pattern, pause in (("typing on", 0.0), ("after a pause", debounce / 1000 + 0.05)):
            for place, line_no, typed in places:
                latencies: list[float] = []
                for _ in range(edits):
                    version, pair, findings = await type_and_delete(client, uri, version, line_no,
                                                                    len(lines[line_no]), typed, pause)
                    # every version is analysed in full: the same findings, the same file afterwards
                    assert findings == files[shape]["findings"], (shape, place, findings)
                    latencies += pair
                results[(shape, place, pattern)] = latencies

    pid = client._server.pid
    texts = [text for _, text, _ in cases]
    for index in range(documents - len(cases)):
        await open_document(client, (folder / f"other_{index}.py").as_uri(), texts[index % len(texts)])
    rss = rss_mb(pid)
    await stop_server(client)
    return {"files": files, "start_ms": start_ms, "start_times": start_times, "start_findings": start_findings,
            "latencies": results,
            "rss_mb": rss, "documents": documents, "imports": import_cpu()}


_IMPORT_PROBE = ("import resource\n{imports}\n"
                 "usage = resource.getrusage(resource.RUSAGE_SELF)\nprint(usage.ru_utime + usage.ru_stime)")
BASELINE_IMPORTS = "import pygls.lsp.server, lsprotocol.types, libcst"
SERVER_IMPORTS = "import tensorlint.server.cli, tensorlint.server.lsp"  # what `tensorlint serve` imports to start


def import_cpu(rounds: int = 5) -> dict[str, float]:
    """CPU seconds of a fresh interpreter that imports pygls, lsprotocol and libcst, and of one that imports the
    server (interpreter start-up included in both), alternated; the median of each."""
    times: dict[str, list[float]] = {"baseline": [], "server": []}
    for _ in range(rounds):
        for name, imports in (("baseline", BASELINE_IMPORTS), ("server", SERVER_IMPORTS)):
            out = subprocess.run([sys.executable, "-c", _IMPORT_PROBE.format(imports=imports)], check=True,
                                 capture_output=True, text=True).stdout
            times[name].append(float(out.strip()))
    return {name: statistics.median(values) for name, values in times.items()}


def engine_latency(edits: int, only: tuple[str, ...] = (), ignore: tuple[str, ...] = ()) -> dict:
    """The engine alone, in this process: each place's edit typed and deleted ``edits`` times, each version
    checked by one document's ``IncrementalChecker`` (what the server runs per version, without JSON-RPC,
    debounce or publishing). Per place: latencies, the top-level statements walked and re-checked per edit."""
    from tensorlint.analyzers import Settings
    from tensorlint.analyzers.incremental import IncrementalChecker

    settings = Settings(ignore=ignore) if ignore else Settings()
    figures: dict[tuple[str, str], dict] = {}
    for shape, text, places in shapes():
        if only and shape not in only:
            continue
        lines = text.split("\n")
        for place, line_no, typed in places:
            checker = IncrementalChecker()
            findings = len(checker.check(text, f"{shape}.py", settings).findings)
            offset = sum(len(line) + 1 for line in lines[:line_no]) + len(lines[line_no])
            edited = text[:offset] + typed + text[offset:]
            latencies, walked, rechecked = [], [], []
            for _ in range(edits):
                for version in (edited, text):
                    started = time.perf_counter()
                    result = checker.check(version, f"{shape}.py", settings)
                    latencies.append((time.perf_counter() - started) * 1000)
                    walked.append(checker.cache.walked)
                    rechecked.append(checker.cache.rechecked)
                    assert version is edited or len(result.findings) == findings, (shape, place)
            figures[(shape, place)] = {"latencies": latencies, "walked": statistics.median(walked),
                                       "rechecked": statistics.median(rechecked), "findings": findings,
                                       "statements": len(checker.parser.parse(text).body)}
    return figures


def print_engine(figures: dict) -> None:
    print("| file | edit | edits | p50 ms | p95 ms | statements walked / re-checked (of) | findings |")
    print("|---|---|---|---|---|---|---|")
    for (shape, place), figure in figures.items():
        values = figure["latencies"]
        print(f"| {shape} | {place} | {len(values)} | {statistics.median(values):.1f} | "
              f"{percentile(values, 0.95):.1f} | {figure['walked']:.0f} / {figure['rechecked']:.0f} "
              f"({figure['statements']}) | {figure['findings']} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edits", type=int, default=40, help="edits per place (each is typed and deleted: 2x)")
    parser.add_argument("--debounce", type=int, default=100, help="the server's debounce setting in ms")
    parser.add_argument("--documents", type=int, default=20, help="open documents for the RSS figure")
    parser.add_argument("--starts", type=int, default=5, help="fresh server starts for the start-up figure (median)")
    parser.add_argument("--ignore", default="", help="rule codes or prefixes turned off (comma separated), to "
                                                     "measure what they cost")
    parser.add_argument("--engine", action="store_true",
                        help="time the engine in this process instead of the server (no JSON-RPC, no debounce)")
    parser.add_argument("--shapes", default="", help="only these file shapes (comma separated): blocks, classes, "
                                                     "scripts, keras")
    args = parser.parse_args()
    ignore = tuple(code.strip() for code in args.ignore.split(",") if code.strip())
    only = tuple(shape.strip() for shape in args.shapes.split(",") if shape.strip())
    if args.engine:
        load = os.getloadavg()[0]
        figures = engine_latency(args.edits, only, ignore)
        print(f"engine in process; load average {load:.1f} before, {os.getloadavg()[0]:.1f} after")
        print_engine(figures)
        return
    load = os.getloadavg()[0]
    for package in ("server", "analyzers", "migrations"):
        compileall.compile_dir(ROOT / package, quiet=1)
    figures = asyncio.run(run(args.edits, args.debounce, args.documents, ignore, only, args.starts))
    imports = figures["imports"]
    print(f"debounce {args.debounce} ms" + (f"; ignored {', '.join(ignore)}" if ignore else "")
          + f"; load average {load:.1f} before, {os.getloadavg()[0]:.1f} after")
    print(f"process start -> first diagnostics (scripts file, {figures['start_findings']} diagnostics): "
          f"median {figures['start_ms']:.0f} ms of {', '.join(f'{t:.0f}' for t in figures['start_times'])}")
    print(f"import CPU: pygls + lsprotocol + libcst {imports['baseline']:.2f} s, server {imports['server']:.2f} s, "
          f"difference {imports['server'] - imports['baseline']:.2f} s")
    for shape, file in figures["files"].items():
        print(f"file {shape}: {file['lines']} lines, {file['findings']} diagnostics, first diagnostics after "
              f"didOpen {file['first_ms']:.0f} ms")
    print("| file | edit | pattern | edits | p50 ms | p95 ms | max ms |")
    print("|---|---|---|---|---|---|---|")
    for (shape, place, pattern), values in figures["latencies"].items():
        print(f"| {shape} | {place} | {pattern} | {len(values)} | {statistics.median(values):.0f} | "
              f"{percentile(values, 0.95):.0f} | {max(values):.0f} |")
    print(f"server RSS with {figures['documents']} open documents: {figures['rss_mb']:.0f} MB")


if __name__ == "__main__":
    main()
