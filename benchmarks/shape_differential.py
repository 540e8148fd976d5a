"""The shape engine against PyTorch itself, on real code: every static shape problem must be a real failure.

    .venv/bin/python benchmarks/shape_differential.py FOLDER [FOLDER ...]

For each ``.py`` file, the imports, classes and functions are executed (nothing else: no training, no downloads);
every ``nn.Module`` class that builds without arguments is run on inputs of several sizes, and the same sizes are
given to the static analysis (``analyze(..., inputs={class: size})``). A run the analysis finds a problem in must
raise in PyTorch (a false positive otherwise); runs that raise without a static problem are counted (the engine
stays silent where it cannot see). This executes third-party code: run it on corpora you trust, never in CI.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import signal
import warnings
from pathlib import Path

import libcst as cst

from tensorlint.analyzers.frameworks import ImportTable
from tensorlint.analyzers.parsing import parse_module
from tensorlint.analyzers.shapes import analyze

SIZES = [(2, 3, 32, 32), (2, 1, 28, 28), (2, 3, 64, 64), (2, 3, 224, 224), (2, 3, 8, 8), (2, 1, 16, 16), (2, 100),
         (2, 784), (2, 10, 8)]


def _timeout(signum, frame):
    raise TimeoutError()


def _definitions(module: cst.Module) -> str:
    keep = [s for s in module.body if isinstance(s, (cst.ClassDef, cst.FunctionDef)) or (
        isinstance(s, cst.SimpleStatementLine) and all(isinstance(b, (cst.Import, cst.ImportFrom)) for b in s.body))]
    return module.with_changes(body=keep).code


def _raises(call, seconds: int) -> BaseException | None:
    signal.alarm(seconds)
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            call()
        return None
    except BaseException as exc:  # noqa: BLE001 (third-party code: anything may go wrong)
        return exc
    finally:
        signal.alarm(0)


def main() -> None:
    import torch

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folders", nargs="+", type=Path)
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    signal.signal(signal.SIGALRM, _timeout)
    classes = runs = flagged = agreed = unflagged = 0
    wrong = []
    for folder in args.folders:
        for path in sorted(folder.rglob("*.py")):
            try:
                source = path.read_text(encoding="utf-8")
                module = parse_module(source)
            except (UnicodeDecodeError, cst.ParserSyntaxError, RecursionError, OSError):
                continue
            if "torch" not in source or "Module" not in source:
                continue
            namespace: dict = {"__name__": "shape_differential"}
            if _raises(lambda: exec(compile(_definitions(module), str(path), "exec"), namespace), 10):
                continue
            imports = ImportTable()
            imports.collect(module.body)
            for statement in module.body:
                cls = namespace.get(statement.name.value) if isinstance(statement, cst.ClassDef) else None
                if not (isinstance(cls, type) and issubclass(cls, torch.nn.Module)):
                    continue
                built: list = []
                if _raises(lambda: built.append(cls().eval()), 10):
                    continue
                classes += 1
                for size in SIZES:
                    problems = analyze(module, imports, source, {statement.name.value: size}).problems
                    with torch.no_grad():
                        failure = _raises(lambda: built[0](torch.randn(*size)), 20)
                    runs += 1
                    if problems and failure is None:
                        wrong.append(f"{path}: {statement.name.value} {size}: {problems[0].message}")
                    flagged += bool(problems)
                    agreed += bool(problems) and failure is not None
                    unflagged += not problems and failure is not None
    print(f"{classes} classes built without arguments, {runs} runs ({len(SIZES)} input sizes each)")
    print(f"{flagged} runs with a static problem: {agreed} raise in PyTorch, {len(wrong)} do not (false positives)")
    print(f"{unflagged} runs raise without a static problem (out of the engine's sight)")
    for line in wrong:
        print("  FALSE POSITIVE " + line)


if __name__ == "__main__":
    main()
