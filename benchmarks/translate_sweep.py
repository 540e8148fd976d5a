"""The translate sweep: every translatable symbol of the pinned zoo wheels through `tensorlint translate`, checking
that no output fails to parse or to import (issue 13's guarantee), honestly counted; writes docs/translate-sweep.md.

    nice -n 10 python benchmarks/translate_sweep.py                       # every symbol, table in docs/
    python benchmarks/translate_sweep.py --only-package timm --limit 20 --out /tmp/sweep.md

For each ``.py`` file under the swept folders of the wheels benchmarks/real_zoo.py caches (torchvision/models,
timm/layers + timm/models, keras_hub/src/layers + keras_hub/src/models, keras/src/applications), the translator's
own listing (`tensorlint.migrations.translate.symbols`) names the translatable symbols; each one runs through
`tensorlint translate FILE:SYMBOL --to X -o OUT` in this process (the CLI's entry point, X the other framework,
no constructor arguments: only translation and import are checked, not building) under a per-symbol time limit.
The printed file is parsed, then imported exactly as written by one long-lived worker process that imported torch
and Keras once (a fresh module per file, as Python imports any file; the worker is restarted when an import
hangs or kills it). Outcomes per symbol:

* ok: the output parses and imports (TODOs counted apart),
* refused: `translate` exited 2 with a message (a clear error is a valid answer),
* crash: `translate` raised (traceback kept), or ran past the time limit (timeout),
* does not parse / does not import: the guarantee is broken (the exception kept).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import re
import select
import signal
import subprocess
import sys
import tempfile
import time
import traceback
import warnings
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from real_zoo import DEFAULT_CACHE, WHEELS, wheel_root  # noqa: E402

DEFAULT_OUT = ROOT / "docs" / "translate-sweep.md"
TODO_TAG = "# TODO(tensorlint)"
# The folders swept in each wheel (the packages' model code; the rest is training, data and export machinery).
SWEPT = {
    "torchvision": ("torchvision/models",),
    "timm": ("timm/layers", "timm/models"),
    "keras-hub": ("keras_hub/src/layers", "keras_hub/src/models"),
    "keras": ("keras/src/applications",),
}
OK, REFUSED, CRASH, TIMEOUT, NO_PARSE, NO_IMPORT = ("ok", "refused", "crash", "timeout", "does not parse",
                                                    "does not import")
OUTCOMES = (OK, REFUSED, CRASH, TIMEOUT, NO_PARSE, NO_IMPORT)
FAILURES = (CRASH, TIMEOUT, NO_PARSE, NO_IMPORT)


@dataclass(frozen=True)
class Case:
    package: str
    file: str  # relative to the wheel root
    symbol: str
    to: str  # "keras" | "torch"

    @property
    def direction(self) -> str:
        return "torch->keras" if self.to == "keras" else "keras->torch"

    @property
    def target(self) -> str:
        return f"{self.file}:{self.symbol}"


@dataclass
class Result:
    case: Case
    outcome: str
    todos: int | None = None
    seconds: float = 0.0
    detail: str = ""  # the message, exception or last traceback line
    cause: str = ""  # the grouping key of a failure
    todo_reasons: tuple[str, ...] = ()  # the text after each TODO tag of the output, in order


# -- listing -------------------------------------------------------------------------------------------------------
def files_of(package: str, root: Path) -> list[Path]:
    return sorted(path for folder in SWEPT[package] for path in (root / folder).rglob("*.py"))


def cases_of(package: str, root: Path, only_files: set[str] | None = None) -> tuple[list[Case], list[Result]]:
    """The translatable symbols of the package's swept files (the translator's own listing), and a crash result
    per file whose listing raised."""
    from tensorlint.migrations.translate import symbols

    cases, listing_crashes = [], []
    for path in files_of(package, root):
        relative = path.relative_to(root).as_posix()
        if only_files is not None and relative not in only_files:
            continue
        try:
            listed = symbols(path.read_text(encoding="utf-8"))
        except Exception as exc:  # noqa: BLE001 - a listing that raises is a crash to report, not to stop on
            case = Case(package, relative, "<listing>", "")
            listing_crashes.append(Result(case, CRASH, detail=_last_frame(exc), cause=_crash_cause(exc)))
            continue
        for symbol in listed:
            cases.append(Case(package, relative, symbol.name, "keras" if symbol.framework == "torch" else "torch"))
    return cases, listing_crashes


# -- translating, in this process ----------------------------------------------------------------------------------
class _TimeLimit(BaseException):  # not an Exception: the translator's own `except Exception` must not swallow it
    pass


def _on_alarm(signum, frame):
    raise _TimeLimit()


def _crash_cause(exc: BaseException) -> str:
    """``Type at file:function`` of the innermost tensorlint frame: one bug, one key."""
    where = ""
    for frame in traceback.extract_tb(exc.__traceback__):
        if "tensorlint" in frame.filename or f"{os.sep}migrations{os.sep}" in frame.filename:
            where = f"{Path(frame.filename).name}:{frame.name}"
    return f"{type(exc).__name__} at {where or '?'}"


def _last_frame(exc: BaseException) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    place = f" ({Path(frames[-1].filename).name}:{frames[-1].lineno})" if frames else ""
    return f"{type(exc).__name__}: {_one_line(str(exc))}{place}"


def _one_line(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def translate_case(case: Case, root: Path, out: Path, time_limit: float) -> tuple[str, str, str]:
    """(outcome so far: "" when a file was written, else refused/crash/timeout; detail; cause)."""
    from tensorlint.server import cli

    stderr = io.StringIO()
    signal.signal(signal.SIGALRM, _on_alarm)
    signal.setitimer(signal.ITIMER_REAL, time_limit)
    try:
        with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(io.StringIO()):
            code = cli.main(["translate", f"{root / case.file}:{case.symbol}", "--to", case.to, "-o", str(out)])
    except _TimeLimit:
        return TIMEOUT, f"translate ran past {time_limit:.0f} s", "timeout"
    except SystemExit as exc:
        code = exc.code
    except Exception as exc:  # noqa: BLE001 - the crash is the finding
        return CRASH, _last_frame(exc), _crash_cause(exc)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    message = _one_line(stderr.getvalue().strip().splitlines()[0] if stderr.getvalue().strip() else "")
    message = message.removeprefix("tensorlint: error: ").replace(f"{root}{os.sep}", "")
    if code != 0:
        reason = message.split(": ", 1)[-1]
        if reason.startswith("internal error"):  # the translator caught its own bug: a crash, not a refusal
            return CRASH, message, _normalized(reason)
        return REFUSED, message, _normalized(reason)
    if not out.is_file():
        return CRASH, "exit 0 without writing the output", "exit 0 without output"
    return "", "", ""


def _normalized(message: str) -> str:
    """A message with its quoted names and numbers blanked: messages that differ only by name share a cause."""
    return re.sub(r"\d+", "N", re.sub(r"'[^']*'|\"[^\"]*\"|`[^`]*`", "'…'", message))


# -- importing, in one long-lived worker ---------------------------------------------------------------------------
class Importer:
    """A worker process with torch and Keras imported once; imports one file per request (JSON lines)."""

    def __init__(self, time_limit: float):
        self.time_limit = time_limit
        self.process: subprocess.Popen | None = None

    def _start(self) -> None:
        environment = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONWARNINGS": "ignore"}
        self.process = subprocess.Popen([sys.executable, __file__, "--worker"], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, bufsize=1,
                                        env=environment)
        ready = self._reply(600)
        if ready is None or not ready.get("ready"):
            raise RuntimeError("the import worker did not start")

    def _reply(self, timeout: float) -> dict | None:
        assert self.process is not None and self.process.stdout is not None
        readable, _, _ = select.select([self.process.stdout], [], [], timeout)
        line = self.process.stdout.readline() if readable else ""
        return json.loads(line) if line else None

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None

    def import_file(self, path: Path) -> dict:
        """{"ok": True} or {"ok": False, "error": ..., "cause": ...}."""
        if self.process is None or self.process.poll() is not None:
            self._start()
        assert self.process is not None and self.process.stdin is not None
        self.process.stdin.write(json.dumps({"path": str(path)}) + "\n")
        self.process.stdin.flush()
        reply = self._reply(self.time_limit)
        if reply is None:  # hung or died: a fresh worker for the next file
            died = self.process.poll() is not None
            self.stop()
            what = "the import killed the worker" if died else f"the import ran past {self.time_limit:.0f} s"
            return {"ok": False, "error": what, "cause": what}
        return reply


def _worker() -> int:
    """Reads {"path"} lines, imports each file as a fresh module, answers one JSON line per file."""
    import uuid

    import keras  # noqa: F401 - imported once, as every translation needs one of them
    import torch  # noqa: F401

    from tensorlint.migrations.verify import _import_file, _missing_name, _where

    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        path = Path(json.loads(line)["path"])
        name = f"tensorlint_sweep_{uuid.uuid4().hex}"
        try:
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                _import_file(path, name)
            reply = {"ok": True}
        except BaseException as exc:  # noqa: BLE001 - SystemExit in a module is an import failure too
            missing = _missing_name(exc)
            error = f"{type(exc).__name__}: {_one_line(str(exc))}{_where(exc, path)}"
            cause = f"{type(exc).__name__}: missing {missing}" if missing else \
                f"{type(exc).__name__}: {_normalized(_one_line(str(exc), 120))}"
            reply = {"ok": False, "error": error, "cause": cause}
        finally:
            sys.modules.pop(name, None)
        print(json.dumps(reply), flush=True)
    return 0


# -- one symbol ------------------------------------------------------------------------------------------------------
def check_case(case: Case, root: Path, importer: Importer, work: Path, time_limit: float) -> Result:
    started = time.perf_counter()
    out = work / f"{Path(case.file).stem}_{case.symbol}_{case.to}.py"
    out.unlink(missing_ok=True)
    outcome, detail, cause = translate_case(case, root, out, time_limit)
    if outcome:
        return Result(case, outcome, None, time.perf_counter() - started, detail, cause)
    text = out.read_text(encoding="utf-8")
    todos = text.count(TODO_TAG)
    reasons = todo_reasons(text)
    try:
        with warnings.catch_warnings():  # SyntaxWarnings (`"a" is None`) are the source's style, not failures
            warnings.simplefilter("ignore")
            compile(text, str(out), "exec", flags=0, dont_inherit=True)
    except SyntaxError as exc:
        line = (exc.text or "").strip()
        return Result(case, NO_PARSE, todos, time.perf_counter() - started,
                      f"{exc.msg} (line {exc.lineno}: {_one_line(line, 120)})", f"SyntaxError: {exc.msg}", reasons)
    reply = importer.import_file(out)
    seconds = time.perf_counter() - started
    if reply["ok"]:
        return Result(case, OK, todos, seconds, todo_reasons=reasons)
    return Result(case, NO_IMPORT, todos, seconds, reply["error"], reply["cause"], reasons)


# -- TODO causes -----------------------------------------------------------------------------------------------------
def todo_reasons(text: str) -> tuple[str, ...]:
    """The reason written after each TODO tag of a translation (a line may carry the tag after code or a paren)."""
    reasons = []
    for line in text.splitlines():
        at = line.find(TODO_TAG)
        if at >= 0:
            reasons.append(line[at + len(TODO_TAG):].lstrip(":").strip())
    return tuple(reasons)


_QUOTED_CODE = re.compile(r"`[^`]*`")
_QUOTED_TEXT = re.compile(r"'[^']*'|\"[^\"]*\"")
_DECORATOR = re.compile(r"@[A-Za-z_][\w.]*(?:\([^()]*\))?")
_KEYWORD_VALUE = re.compile(r"\b([A-Za-z_]\w*)=(?!=)[^\s,;:()]+")
_DOTTED_NAME = re.compile(r"\b[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+")
_CALL_ARGUMENTS = re.compile(r"NAME\([^()]+\)")
_NUMBER = re.compile(r"\b\d+(?:\.\d+)?\b")
_LIST = re.compile(r"\[[^\[\]]*\]")


def todo_cause(reason: str) -> tuple[str, tuple[str, ...]]:
    """(the reason with names, quoted code, values and numbers stripped: reasons that differ only by what they name
    share a cause; the names stripped: quoted code and dotted names such as ``torch.no_grad``)."""
    names = [match.strip("`") for match in _QUOTED_CODE.findall(reason)]
    text = _QUOTED_CODE.sub("`…`", reason)
    text = _QUOTED_TEXT.sub("'…'", text)
    names += _DECORATOR.findall(text)
    text = _DECORATOR.sub("@NAME", text)
    text = _KEYWORD_VALUE.sub(r"\1=…", text)
    names += _DOTTED_NAME.findall(text)
    text = _DOTTED_NAME.sub("NAME", text)
    text = _CALL_ARGUMENTS.sub("NAME(…)", text)
    text = _LIST.sub("[…]", _NUMBER.sub("N", text))
    return _one_line(text, 200), tuple(names)


def sweep(packages: list[str], cache: Path, limit: int | None, time_limit: float, echo=print,
          only_files: dict[str, set[str]] | None = None, listed: dict[str, int] | None = None,
          keep: Path | None = None) -> list[Result]:
    """Each package's symbols (``limit`` of them, evenly spaced, when given) checked; ``listed`` receives how many
    symbols each package lists in all; the outputs are written under ``keep`` (one folder per package) when given,
    else to a temporary folder."""
    results: list[Result] = []
    importer = Importer(max(time_limit, 60.0))
    try:
        with contextlib.ExitStack() as stack:
            work = keep or Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="tensorlint-sweep-")))
            for package in packages:
                root = wheel_root(package, cache)
                cases, listing_crashes = cases_of(package, root, (only_files or {}).get(package))
                results += listing_crashes
                if listed is not None:
                    listed[package] = len(cases)
                for case in evenly_spaced(cases, limit):
                    (Path(work) / package).mkdir(parents=True, exist_ok=True)
                    result = check_case(case, root, importer, Path(work) / package, time_limit)
                    results.append(result)
                    echo(f"{case.package:11} {case.target:70} {case.to:5} {result.outcome:15} "
                         f"{result.seconds:5.1f}s {result.detail[:100]}")
    finally:
        importer.stop()
    return results


def evenly_spaced(cases: list[Case], limit: int | None) -> list[Case]:
    """At most ``limit`` cases spread evenly over the listing (every file region, not the first files only)."""
    if limit is None or limit >= len(cases):
        return cases
    return [cases[index * len(cases) // limit] for index in range(limit)]


# -- the table -------------------------------------------------------------------------------------------------------
def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def write_table(results: list[Result], out: Path, command: str, seconds: float,
                listed: dict[str, int] | None = None) -> str:
    lines = ["# The translate sweep", "", f"`{command}`", "",
             f"Measured {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC in {seconds / 60:.1f} min. Every "
             "translatable symbol (the translator's own listing) of the model folders of the pinned wheels ("
             + ", ".join(f"{name} {version}: {', '.join(SWEPT[name])}" for name, version in WHEELS.items()) +
             ") through `tensorlint translate FILE:SYMBOL --to X` (X the other framework, no constructor arguments: "
             "only translation and import are checked, not building); the printed module is parsed and imported "
             "exactly as written. *ok*: parses and imports (TODOs counted apart); *refused*: a clear error, exit 2; "
             "*crash*: `translate` raised; *timeout*: past the per-symbol limit; *does not parse* / *does not "
             "import*: the guarantee broken. The script is `benchmarks/translate_sweep.py`.", "",
             *(_sample_note(results, listed) if listed else []),
             "## Totals", "",
             "| package | direction | symbols | " + " | ".join(OUTCOMES) + " | ok with TODOs | TODOs |",
             "|---|---|---|" + "---|" * (len(OUTCOMES) + 2)]
    groups: dict[tuple[str, str], list[Result]] = defaultdict(list)
    for result in results:
        groups[(result.case.package, result.case.direction or "(listing)")].append(result)
    for (package, direction), chosen in sorted(groups.items()) + [(("all", ""), results)]:
        counts = Counter(r.outcome for r in chosen)
        todos = sum(r.todos or 0 for r in chosen if r.outcome == OK)
        with_todos = sum(1 for r in chosen if r.outcome == OK and r.todos)
        lines.append(f"| {package} | {direction} | {len(chosen)} | " +
                     " | ".join(str(counts[o]) for o in OUTCOMES) + f" | {with_todos} | {todos} |")
    failures = [r for r in results if r.outcome in FAILURES]
    lines += ["", "## Failures by cause", ""]
    if not failures:
        lines.append("None: every output parses and imports.")
    by_cause: dict[tuple[str, str], list[Result]] = defaultdict(list)
    for result in failures:
        by_cause[(result.outcome, result.cause)].append(result)
    for (outcome, cause), chosen in sorted(by_cause.items(), key=lambda item: (-len(item[1]), item[0])):
        lines += [f"### {outcome}: {_cell(cause)} ({len(chosen)})", ""]
        for r in chosen:
            lines.append(f"- `{r.case.package} {r.case.target}` --to {r.case.to}: {_cell(r.detail)}")
        lines.append("")
    lines += todo_histogram(results)
    refusals = Counter(r.cause for r in results if r.outcome == REFUSED)
    if refusals:
        lines += ["## Refusals by message", "", "| message | symbols |", "|---|---|"]
        lines += [f"| {_cell(message)} | {count} |" for message, count in refusals.most_common()]
    text = "\n".join(lines).rstrip() + "\n"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    return text


def todo_histogram(results: list[Result], top: int = 25) -> list[str]:
    """Per direction, the ``top`` most frequent TODO causes of the outputs that were written (normalised reasons),
    with how many TODOs and symbols each, the names most often stripped from it and one example symbol."""
    lines = ["## TODO causes", "",
             "Every `# TODO(tensorlint)` reason of the written outputs, its names, quoted code, values and numbers "
             "stripped (`NAME`, `` `…` ``, `=…`, `N`), counted per direction: the most frequent first, with the "
             "names most often stripped from it and one symbol whose output carries it.", ""]
    for direction in ("torch->keras", "keras->torch"):
        todos: Counter = Counter()
        symbols: dict[str, set[str]] = defaultdict(set)
        names: dict[str, Counter] = defaultdict(Counter)
        example: dict[str, str] = {}
        for result in results:
            if result.case.direction != direction:
                continue
            for reason in result.todo_reasons:
                cause, stripped = todo_cause(reason)
                todos[cause] += 1
                symbols[cause].add(f"{result.case.package} {result.case.target}")
                names[cause].update(stripped)
                example.setdefault(cause, f"{result.case.package} {result.case.target}")
        if not todos:
            continue
        lines += [f"### {direction}: {sum(todos.values())} TODOs, {len(todos)} causes", "",
                  "| # | TODOs | symbols | cause | names most often stripped | example |", "|---|---|---|---|---|---|"]
        for rank, (cause, count) in enumerate(todos.most_common(top), 1):
            frequent = ", ".join(f"`{_one_line(name, 60)}` {n}" for name, n in names[cause].most_common(4))
            lines.append(f"| {rank} | {count} | {len(symbols[cause])} | {_cell(cause)} | {_cell(frequent)} | "
                         f"`{_cell(example[cause])}` |")
        lines.append("")
    return lines


def _sample_note(results: list[Result], listed: dict[str, int]) -> list[str]:
    checked = Counter(r.case.package for r in results if r.case.symbol != "<listing>")
    if all(checked[package] == count for package, count in listed.items()):
        return []
    return ["A sample (`--limit`, evenly spaced over each package's listing): " + ", ".join(
        f"{package} {checked[package]} of {count}" for package, count in listed.items()) +
        f" symbols ({sum(checked.values())} of {sum(listed.values())}).", ""]


def files_by_package(paths: list[str]) -> dict[str, set[str]]:
    """``--only-file`` paths grouped by the package whose swept folders hold them."""
    chosen: dict[str, set[str]] = defaultdict(set)
    for path in paths:
        owners = [package for package, folders in SWEPT.items()
                  if any(path.startswith(folder + "/") for folder in folders)]
        if not owners:
            folders = ", ".join(folder for chosen_folders in SWEPT.values() for folder in chosen_folders)
            raise SystemExit(f"--only-file {path}: not under a swept folder ({folders})")
        chosen[owners[0]].add(path)
    return dict(chosen)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--only-package", choices=sorted(SWEPT), action="append",
                        help="sweep only this wheel (repeatable; default: all four)")
    parser.add_argument("--limit", type=int, help="at most N symbols per package, evenly spaced over its listing (a sample)")
    parser.add_argument("--time-limit", type=float, default=30.0, help="seconds per symbol (default: 30)")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help=f"wheel cache (default: {DEFAULT_CACHE})")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"the table (default: {DEFAULT_OUT})")
    parser.add_argument("--only-file", action="append", metavar="PATH",
                        help="sweep only this file, its path inside its wheel as the table prints it, e.g. "
                             "timm/layers/mlp.py (repeatable; the package is the one whose swept folders hold it)")
    parser.add_argument("--keep", type=Path, metavar="DIR",
                        help="write the translated modules under DIR/<package>/ and keep them (default: a temporary "
                             "folder, removed)")
    parser.add_argument("--json", type=Path, metavar="PATH",
                        help="also write every symbol's result (outcome, TODO count and reasons, detail) as JSON")
    args = parser.parse_args(argv)
    if args.worker:
        return _worker()
    packages = args.only_package or list(SWEPT)
    only_files = None
    if args.only_file:
        only_files = files_by_package(args.only_file)
        packages = [package for package in packages if package in only_files]
    started = time.perf_counter()
    listed: dict[str, int] = {}
    results = sweep(packages, args.cache, args.limit, args.time_limit, listed=listed, only_files=only_files,
                    keep=args.keep)
    seconds = time.perf_counter() - started
    command = "python benchmarks/translate_sweep.py" + "".join(f" --only-package {p}" for p in args.only_package or ()) \
        + "".join(f" --only-file {f}" for f in args.only_file or ()) \
        + (f" --limit {args.limit}" if args.limit is not None else "")
    write_table(results, args.out, command, seconds, listed)
    if args.json:
        args.json.write_text(json.dumps([{**asdict(r.case), **{k: v for k, v in asdict(r).items() if k != "case"}}
                                         for r in results], indent=1), encoding="utf-8")
    counts = Counter(r.outcome for r in results)
    print(", ".join(f"{o}: {counts[o]}" for o in OUTCOMES) + f" ({len(results)} symbols, {seconds:.0f} s)")
    print(f"wrote {args.out}")
    return 1 if any(r.outcome in FAILURES for r in results) else 0


if __name__ == "__main__":
    raise SystemExit(main())
