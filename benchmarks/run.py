"""Benchmark `tensorlint check` against the libcst floor and its peers on the same files; write RESULTS.md.

    python benchmarks/run.py --setup              # once: peer tools into benchmarks/.venv-*
    python benchmarks/run.py                      # whole corpus, every tool, 1 process and all cores
    python benchmarks/run.py --sample 4 --tools tensorlint,floor,torchfix

Every measurement is a fresh process started by a small wrapper that reports the CPU time (user + system) of
the process tree and the peak RSS of its largest process (``getrusage(RUSAGE_CHILDREN)``). On a shared machine
the CPU time is the steadier figure: it is what the ratios to the floor are computed from, and lines/s is given
for both wall and CPU time. ``--repeat`` takes the fastest of several runs.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import corpus  # noqa: E402  (benchmarks/corpus.py, beside this file)

TORCHFIX_VENV = HERE / ".venv-torchfix"
PEERS_VENV = HERE / ".venv-peers"
# TorchFix pins an older libcst than tensorlint's, so it gets a virtualenv of its own.
VENV_PACKAGES = {TORCHFIX_VENV: ["torchfix"], PEERS_VENV: ["ruff", "flake8", "pylint"]}
ALL_TOOLS = ("floor", "tensorlint", "balance", "torchfix", "ruff", "flake8", "pylint", "instructions")


@dataclass
class Measurement:
    name: str
    command: str
    processes: int
    wall_s: float
    cpu_s: float
    peak_rss_mb: float
    returncode: int
    note: str = ""


# -- measuring -------------------------------------------------------------------------------------------------
def _measure_child(argv: list[str]) -> int:
    """Wrapper mode: run ``argv``, then print the CPU time and peak RSS of everything it started, as JSON."""
    import resource

    started = time.perf_counter()
    completed = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wall = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(json.dumps({
        "wall_s": wall, "cpu_s": usage.ru_utime + usage.ru_stime, "peak_rss_mb": usage.ru_maxrss / 1024,
        "returncode": completed.returncode, "stderr": completed.stderr.decode(errors="replace")[-2000:],
    }))
    return 0


def measure(name: str, argv: list[str], processes: int, *, cwd: Path | None = None, env: dict | None = None,
            repeat: int = 1, display: str | None = None, ok_codes=(0, 1), note: str = "") -> Measurement:
    best = None
    for _ in range(repeat):
        wrapper = [sys.executable, str(Path(__file__).resolve()), "--measure-child", "--", *argv]
        completed = subprocess.run(wrapper, capture_output=True, text=True, cwd=cwd, env=env)
        if completed.returncode != 0:
            raise SystemExit(f"{name}: the measuring wrapper failed:\n{completed.stderr}")
        data = json.loads(completed.stdout.strip().splitlines()[-1])
        if data["returncode"] not in ok_codes:
            raise SystemExit(f"{name}: `{display or argv[0]}` exited {data['returncode']}:\n{data['stderr']}")
        if best is None or data["cpu_s"] < best["cpu_s"]:
            best = data
    result = Measurement(name, display or " ".join(argv[:3]), processes, best["wall_s"], best["cpu_s"],
                         best["peak_rss_mb"], best["returncode"], note)
    print(f"  {name:<44} {processes:>2} proc  wall {result.wall_s:7.2f}s  cpu {result.cpu_s:7.2f}s  "
          f"rss {result.peak_rss_mb:6.0f} MB", file=sys.stderr, flush=True)
    return result


# -- the floor: libcst alone, measured in-process by this same script -----------------------------------------------
def _floor_child(mode: str, jobs: int, list_file: str) -> int:
    files = [f for f in Path(list_file).read_text().split("\n") if f]
    if jobs <= 1:
        for path in files:
            _floor_one(mode, path)
        return 0
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=jobs) as pool:
        list(pool.map(_floor_one, [mode] * len(files), files, chunksize=4))
    return 0


def _floor_one(mode: str, path: str) -> None:
    import libcst as cst

    source = Path(path).read_bytes().decode("utf-8")
    try:
        module = cst.parse_module(source)
    except cst.ParserSyntaxError:
        return
    if mode == "parse+context":
        # what the engine computes besides the parse with no rule enabled: the import table, the scope stacks
        # and one walk over the tree
        from tensorlint.analyzers.context import Context
        from tensorlint.analyzers.engine import _dispatch_for, _Walker

        ctx = Context(module, source, path)
        _Walker(ctx, [], _dispatch_for(())).walk_module(module)


# -- how evenly `tensorlint check -j N` spreads the work (a figure other processes' load does not distort) -----
_UNTIMED_RUN_JOB = None


def _timed_run_job(job):
    started = time.process_time()
    _UNTIMED_RUN_JOB(job)
    return os.getpid(), time.process_time() - started


def _balance_child(jobs: int, list_file: str) -> int:
    """Run tensorlint's own scheduler (``workspace.run_jobs``) with every job timed in its worker; print the CPU
    seconds each worker spent checking files."""
    from tensorlint.analyzers import workspace
    from tensorlint.analyzers.config import Settings

    global _UNTIMED_RUN_JOB
    _UNTIMED_RUN_JOB = workspace.run_job
    workspace.run_job = _timed_run_job  # the pool forks after this, so the workers run the timed version
    settings = Settings()
    files = Path(list_file).read_text().split("\n")
    timings = workspace.run_jobs([workspace.Job(path, settings) for path in files], jobs)
    per_worker: dict[int, float] = {}
    for pid, seconds in timings:
        per_worker[pid] = per_worker.get(pid, 0.0) + seconds
    print(json.dumps(sorted(per_worker.values(), reverse=True)))
    return 0


def measure_balance(list_file: Path, jobs: int) -> str:
    me = str(Path(__file__).resolve())
    completed = subprocess.run([sys.executable, me, "--balance-child", str(jobs), str(list_file)],
                               capture_output=True, text=True)
    if completed.returncode != 0:
        raise SystemExit(f"balance: {completed.stderr}")
    per_worker = json.loads(completed.stdout.strip().splitlines()[-1])
    total, busiest = sum(per_worker), max(per_worker)
    line = (f"`tensorlint check -j {jobs}` work balance: the workers spent "
            + " + ".join(f"{s:.1f}" for s in per_worker) + f" = {total:.1f} CPU s checking files; the busiest "
            f"worker's {busiest:.1f} s bounds the wall time on {jobs} idle cores, a speed-up of at most "
            f"{total / busiest:.2f}x over one process ({total / busiest / jobs:.0%} of linear), before process "
            "start-up and the main process's share (discovery, cache look-ups, reporting).")
    print("  " + line, file=sys.stderr, flush=True)
    return line


# -- instruction counts: the ratio to the floor without the noise of a shared machine -------------------------
def _instructions(argv: list[str]) -> int:
    with tempfile.TemporaryDirectory() as scratch:
        completed = subprocess.run(
            ["valgrind", "--tool=callgrind", f"--callgrind-out-file={scratch}/out", *argv],
            capture_output=True, text=True, env=dict(os.environ, PYTHONMALLOC="malloc"))
    for line in completed.stderr.splitlines():
        if "Collected :" in line:
            return int(line.rsplit(":", 1)[1].strip())
    raise SystemExit(f"valgrind gave no instruction count for {argv[:4]}:\n{completed.stderr[-2000:]}")


def measure_instructions(files: list[Path], work: Path) -> str:
    """Instructions executed by one process: the floor and `tensorlint check` on the same few files, each minus
    the same program's start-up (run on an empty file)."""
    if shutil.which("valgrind") is None:
        return "Instruction counts: skipped (valgrind is not installed)."
    subset = files[:: max(1, len(files) // 24)]
    lines = sum(f.read_bytes().count(b"\n") for f in subset)
    empty = work / "empty.py"
    empty.write_text("")
    subset_list, empty_list = work / "subset.txt", work / "empty.txt"
    subset_list.write_text("\n".join(str(f) for f in subset))
    empty_list.write_text("")
    me = str(Path(__file__).resolve())
    floor = (_instructions([sys.executable, me, "--floor-child", "parse", "1", str(subset_list)])
             - _instructions([sys.executable, me, "--floor-child", "parse", "1", str(empty_list)]))
    check = [sys.executable, "-m", "tensorlint.server", "check", "--no-cache", "--exit-zero", "--quiet", "-j", "1"]
    tensorlint = (_instructions([*check, *map(str, subset)]) - _instructions([*check, str(empty)]))
    line = (f"Instruction counts (valgrind callgrind, one process, {len(subset)} files, {lines:,} lines, start-up "
            f"subtracted): libcst.parse_module {floor / lines:,.0f} instructions/line, `tensorlint check "
            f"--no-cache` {tensorlint / lines:,.0f} instructions/line: **{tensorlint / floor:.2f}x the floor**.")
    print("  " + line, file=sys.stderr, flush=True)
    return line


# -- setup -------------------------------------------------------------------------------------------------------
def setup_venvs() -> None:
    for venv, packages in VENV_PACKAGES.items():
        if not (venv / "bin" / "python").exists():
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", *packages], check=True)


def _tool_version(argv: list[str]) -> str:
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=60)
        return (out.stdout or out.stderr).strip().splitlines()[0]
    except (OSError, subprocess.TimeoutExpired, IndexError):
        return "not installed"


def _pip_version(venv: Path, package: str) -> str:
    try:
        out = subprocess.run([str(venv / "bin" / "python"), "-c",
                              f"import importlib.metadata as m; print(m.version({package!r}))"],
                             capture_output=True, text=True, timeout=60)
        return out.stdout.strip() or "not installed"
    except OSError:
        return "not installed"


# -- the run -----------------------------------------------------------------------------------------------------
def corpus_files(folder: Path, sample: int) -> tuple[list[Path], str]:
    """The files to benchmark, and how RESULTS.md names them. The pinned corpus (built on first use) when ``folder``
    is its default folder or already holds it; any other folder is the user's own code: its Python files are
    benchmarked as they are, and nothing is written into it."""
    if folder.resolve() == corpus.DEFAULT_DEST.resolve() or corpus.read_manifest(folder):
        manifest = corpus.build_corpus(folder)
        files: list[Path] = []
        for name, info in manifest["packages"].items():
            files.extend(sorted((folder / f"{name}-{info['version']}").rglob("*.py")))
        label = "`benchmarks/corpus.py`: " + ", ".join(f"{n} {v}" for n, v in corpus.PINNED_WHEELS.items())
    elif folder.is_dir():
        files = sorted(folder.rglob("*.py"))
        label = f"the Python files under `{folder}`"
    else:
        raise SystemExit(f"benchmarks/run.py: --corpus {folder}: no such folder")
    return (files[::sample] if sample > 1 else files), label


def machine_description() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, load average before the run {load}"


def run_benchmarks(files: list[Path], tools: list[str], jobs: int, repeat: int,
                   notes: list[str]) -> list[Measurement]:
    results: list[Measurement] = []
    work = Path(tempfile.mkdtemp(prefix="tensorlint-bench-"))
    list_file = work / "files.txt"
    list_file.write_text("\n".join(str(f) for f in files))
    paths = [str(f) for f in files]
    process_counts = [1] if jobs <= 1 else [1, jobs]
    me = str(Path(__file__).resolve())
    try:
        if "floor" in tools:
            for n in process_counts:
                results.append(measure("libcst.parse_module (the floor)",
                                       [sys.executable, me, "--floor-child", "parse", str(n), str(list_file)], n,
                                       repeat=repeat, display=f"benchmarks/run.py --floor-child parse {n} FILES"))
            for n in process_counts:
                results.append(measure("parse + engine context/walk, no rules",
                                       [sys.executable, me, "--floor-child", "parse+context", str(n), str(list_file)],
                                       n, repeat=repeat,
                                       display=f"benchmarks/run.py --floor-child parse+context {n} FILES"))
        if "tensorlint" in tools:
            tensorlint = [sys.executable, "-m", "tensorlint.server", "check", "--exit-zero", "--quiet"]
            for n in process_counts:
                results.append(measure("tensorlint check --no-cache", [*tensorlint, "--no-cache", "-j", str(n),
                                                                       *paths], n, repeat=repeat,
                                       display=f"tensorlint check --no-cache -j {n} FILES"))
            for n in process_counts:
                # cold: a fresh cache folder (the run writes it); warm: the same folder, nothing changed
                cache_home = work / f"cache-{n}"
                cache_home.mkdir()
                results.append(measure("tensorlint check, cold cache", [*tensorlint, "-j", str(n), *paths], n,
                                       cwd=cache_home, display=f"tensorlint check -j {n} FILES  (fresh cache dir)"))
                results.append(measure("tensorlint check, warm cache", [*tensorlint, "-j", str(n), *paths], n,
                                       cwd=cache_home, repeat=repeat,
                                       display=f"tensorlint check -j {n} FILES  (same cache dir again)"))
        if "balance" in tools and jobs > 1:
            notes.append(measure_balance(list_file, jobs))
        if "instructions" in tools:
            notes.append(measure_instructions(files, work))
        if "torchfix" in tools:
            torchfix = str(TORCHFIX_VENV / "bin" / "torchfix")
            if Path(torchfix).exists():
                for n in process_counts:
                    results.append(measure("TorchFix", [torchfix, "-j", str(n), *paths], n, repeat=repeat,
                                           display=f"torchfix -j {n} FILES", ok_codes=range(256),
                                           note="default rule selection"))
        if "ruff" in tools:
            ruff = str(PEERS_VENV / "bin" / "ruff")
            if Path(ruff).exists():
                for n in process_counts:
                    env = dict(os.environ, RAYON_NUM_THREADS=str(n))
                    results.append(measure("ruff check --select ALL", [ruff, "check", "--no-cache", "--exit-zero",
                                                                       "--select", "ALL", "--quiet", *paths], n,
                                           env=env, repeat=repeat,
                                           display=f"RAYON_NUM_THREADS={n} ruff check --no-cache --select ALL FILES"))
        if "flake8" in tools:
            flake8 = str(PEERS_VENV / "bin" / "flake8")
            if Path(flake8).exists():
                for n in process_counts:
                    results.append(measure("flake8", [flake8, "--exit-zero", "-j", str(n), *paths], n,
                                           repeat=repeat, display=f"flake8 --exit-zero -j {n} FILES"))
        if "pylint" in tools:
            pylint = str(PEERS_VENV / "bin" / "pylint")
            if Path(pylint).exists():
                for n in process_counts:
                    results.append(measure("pylint", [pylint, "--exit-zero", f"--jobs={n}", *paths], n,
                                           display=f"pylint --exit-zero --jobs={n} FILES", ok_codes=range(256)))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return results


def render(results: list[Measurement], files: list[Path], lines: int, args, versions: dict[str, str],
           machine: str, notes: list[str], corpus_label: str) -> str:
    floors = {m.processes: m for m in results if m.name.startswith("libcst.parse_module")}
    out = [
        "# Benchmark results",
        "",
        f"Written by `benchmarks/run.py` on {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC.",
        "",
        f"- Corpus: {len(files)} files, {lines:,} lines ({corpus_label}"
        + (f"; every {args.sample}th file" if args.sample > 1 else "") + ")",
        f"- Machine: {machine}",
        "- Versions: " + ", ".join(f"{k} {v}" for k, v in versions.items()),
        f"- Command: `{' '.join(['benchmarks/run.py', *sys.argv[1:]])}`",
        "",
    ]
    if results:
        out += [
            "CPU s is user + system time of the whole process tree; the ratio to the floor compares CPU time with "
            "`libcst.parse_module` over the same files with the same number of processes. Peak RSS is the largest "
            "single process.",
            "",
            "| tool | processes | wall s | CPU s | lines/s (wall) | lines/s (CPU) | peak RSS MB | x floor (CPU) |",
            "|---|---:|---:|---:|---:|---:|---:|---:|",
        ]
    for m in results:
        floor = floors.get(m.processes)
        ratio = f"{m.cpu_s / floor.cpu_s:.2f}" if floor and floor.cpu_s else ""
        name = m.name + (f" ({m.note})" if m.note else "")
        out.append(f"| {name} | {m.processes} | {m.wall_s:.2f} | {m.cpu_s:.2f} | {lines / m.wall_s:,.0f} | "
                   f"{lines / m.cpu_s:,.0f} | {m.peak_rss_mb:.0f} | {ratio} |")
    if notes:
        out += [""] + notes
    if results:
        out += ["", "Commands (FILES is the corpus file list):", ""]
        out += [f"- {m.name}, {m.processes} process(es): `{m.command}`" for m in results]
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--measure-child"]:
        return _measure_child(argv[2:] if argv[1:2] == ["--"] else argv[1:])
    if argv[:1] == ["--balance-child"]:
        return _balance_child(int(argv[1]), argv[2])
    if argv[:1] == ["--floor-child"]:
        return _floor_child(argv[1], int(argv[2]), argv[3])
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=corpus.DEFAULT_DEST,
                        help="the pinned corpus' folder (benchmarks/corpus.py --dest), or any folder of Python files "
                             "to benchmark instead (read only)")
    parser.add_argument("--sample", type=int, default=1, help="use every Nth file of the corpus (default: all)")
    parser.add_argument("--tools", default=",".join(ALL_TOOLS), help=f"comma separated subset of {','.join(ALL_TOOLS)}")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="processes for the all-cores runs")
    parser.add_argument("--repeat", type=int, default=1, help="runs per measurement; the fastest is kept")
    parser.add_argument("--output", type=Path, default=HERE / "RESULTS.md")
    parser.add_argument("--append", action="store_true", help="add this run's table to --output instead of "
                                                                   "replacing the file")
    parser.add_argument("--setup", action="store_true", help="create the peer tools' virtualenvs and exit")
    args = parser.parse_args(argv)
    if args.setup:
        setup_venvs()
        return 0
    tools = [t.strip() for t in args.tools.split(",") if t.strip()]
    unknown = sorted(set(tools) - set(ALL_TOOLS))
    if unknown:
        parser.error(f"unknown tool(s) {', '.join(unknown)}; choose from {', '.join(ALL_TOOLS)}")
    files, corpus_label = corpus_files(args.corpus, args.sample)
    lines = sum(f.read_bytes().count(b"\n") for f in files)
    machine = machine_description()
    print(f"{len(files)} files, {lines:,} lines; {machine}", file=sys.stderr)
    import libcst

    versions = {"tensorlint": _tool_version([sys.executable, "-m", "tensorlint.server", "--version"]).split()[-1],
                "libcst": libcst.__version__ if hasattr(libcst, "__version__") else _pip_version(Path(sys.prefix), "libcst"),
                "TorchFix": _pip_version(TORCHFIX_VENV, "torchfix"),
                "TorchFix's libcst": _pip_version(TORCHFIX_VENV, "libcst"),
                "ruff": _pip_version(PEERS_VENV, "ruff"), "flake8": _pip_version(PEERS_VENV, "flake8"),
                "pylint": _pip_version(PEERS_VENV, "pylint")}
    notes: list[str] = []
    results = run_benchmarks(files, tools, args.jobs, args.repeat, notes)
    report = render(results, files, lines, args, versions, machine, notes, corpus_label)
    if args.append and args.output.exists():
        report = args.output.read_text().rstrip("\n") + "\n\n" + report.replace(
            "# Benchmark results", f"## Run with `{' '.join(sys.argv[1:])}`", 1)
    args.output.write_text(report)
    print(report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
