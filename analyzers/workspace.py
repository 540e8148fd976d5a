"""Checking files on disk: discovery, per-file settings, the content-hash cache and the process pool."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import stat
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator

from .config import Settings, settings_for
from .engine import CheckResult, check_source, decode
from .findings import Edit, Finding, Fix, Position, Range, Severity
from .fixes import fix_source

CACHE_DIR = ".tensorlint_cache"
SOURCE_SUFFIXES = (".py", ".pyi")
NOTEBOOK_SUFFIXES = (".ipynb",)  # `check` reads these too (analyzers/notebook_job.py)
TOO_LARGE = "TL004"


@dataclass(frozen=True)
class FileResult:
    path: str
    findings: tuple[Finding, ...]
    errors: tuple[str, ...] = ()
    fixed: int = 0  # fixes applied (with --fix) or that would be applied (with --diff)
    new_source: str | None = None  # the fixed text, when it differs
    old_source: str | None = None
    # what kept this file from being checked or fixed as asked (cannot read, cannot write, crashed its worker):
    # an error line for the file, never the end of the run
    problems: tuple[str, ...] = ()


MISSING = "no such file or directory"
NOT_REGULAR = "not a regular file; skipped"


def discover(paths: Iterable[str], settings_lookup: Callable[[str], Settings], *,
             force_exclude: bool = False, suffixes: tuple[str, ...] = SOURCE_SUFFIXES,
             skipped: list[tuple[str, str]] | None = None) -> Iterator[str]:
    """Source files under ``paths``; excluded folders are never entered; files named explicitly are checked
    unless ``force_exclude``. Only regular files are read (a FIFO would block the run forever). With a
    ``skipped`` list, each path that does not exist or is not a regular file lands there as ``(path, reason)``
    and the others are still found; without one, a missing path raises ``FileNotFoundError``."""

    def skip(path: str, reason: str) -> None:
        if skipped is not None:
            skipped.append((path, reason))
        elif reason == MISSING:
            raise FileNotFoundError(path)

    for raw in paths:
        path = Path(raw)
        if path.is_file():
            if not (force_exclude and settings_lookup(str(path)).is_excluded(path)):
                yield str(path)
            continue
        if not path.is_dir():
            skip(raw, NOT_REGULAR if path.exists() else MISSING)
            continue
        for folder, dirs, files in os.walk(path):
            settings = settings_lookup(folder)
            dirs[:] = sorted(d for d in dirs if not settings.is_excluded(os.path.join(folder, d))
                             and not _is_virtualenv(os.path.join(folder, d)))
            for name in sorted(files):
                if name.endswith(suffixes):
                    full = os.path.normpath(os.path.join(folder, name))
                    if settings.is_excluded(full):
                        continue
                    if os.path.isfile(full):
                        yield full
                    else:  # a FIFO, socket or device, or a link to nothing
                        skip(full, NOT_REGULAR)


def _is_virtualenv(folder: str) -> bool:
    return os.path.isfile(os.path.join(folder, "pyvenv.cfg"))


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("tensorlint")
    except Exception:
        return "0"


_TOOL_FINGERPRINT: str | None = None


def tool_fingerprint() -> str:
    """The tool's version plus the size and modification time of every module the rules come from, so that a
    new release, an edited rule or an upgraded rule pack never reads findings cached by another one."""
    global _TOOL_FINGERPRINT
    if _TOOL_FINGERPRINT is None:
        from .rule import all_rules

        rules = all_rules()
        # the engine's own files plus the files of every module a rule is defined in (rule packs included)
        origins = {str(path) for path in Path(__file__).resolve().parent.rglob("*.py")}
        for cls in rules.values():
            origin = getattr(sys.modules.get(cls.__module__), "__file__", None)
            if origin:
                origins.add(str(Path(origin).resolve()))
        files = []
        for origin in sorted(origins):
            try:
                stat = os.stat(origin)
                files.append(f"{origin}:{stat.st_size}:{stat.st_mtime_ns}")
            except OSError:
                files.append(origin)
        digest = hashlib.sha256(f"{_version()}\0{','.join(rules)}\0{';'.join(files)}".encode())
        _TOOL_FINGERPRINT = digest.hexdigest()
    return _TOOL_FINGERPRINT


def _cache_key(data: bytes, path: str, settings: Settings) -> str:
    """Content hash + tool fingerprint + everything in the settings that can change this file's findings."""
    digest = hashlib.sha256(data)
    effective = (settings.fingerprint(), settings.max_file_size_kb, sorted(settings.file_ignores(path)),
                 [rule.code for rule in settings.enabled_rules(path)], os.path.abspath(path))
    digest.update(f"\0{tool_fingerprint()}\0{effective!r}".encode())
    return digest.hexdigest()


def _finding_to_json(finding: Finding) -> dict:
    return asdict(finding)


def _finding_from_json(data: dict) -> Finding:
    def rng(r: dict) -> Range:
        return Range(Position(**r["start"]), Position(**r["end"]))

    fix = None
    if data["fix"] is not None:
        fix = Fix(data["fix"]["title"], tuple(Edit(rng(e["range"]), e["new_text"]) for e in data["fix"]["edits"]),
                  data["fix"]["safe"])
    return Finding(data["code"], data["message"], Severity(data["severity"]), rng(data["range"]), fix,
                   tuple((rng(r), m) for r, m in data.get("related", ())), data.get("cell"))


class Cache:
    """Findings per (content hash, tool version, effective settings), one small JSON file each."""

    def __init__(self, root: str | os.PathLike):
        self.folder = Path(root) / CACHE_DIR
        self._prepared = False

    def get(self, key: str) -> tuple[Finding, ...] | None:
        try:
            data = json.loads((self.folder / key[:2] / key).read_text(encoding="utf-8"))
            return tuple(_finding_from_json(f) for f in data)
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def put(self, key: str, findings: tuple[Finding, ...]) -> None:
        try:
            if not self._prepared:
                self.folder.mkdir(parents=True, exist_ok=True)
                ignore = self.folder / ".gitignore"
                if not ignore.exists():
                    ignore.write_text("# created by tensorlint\n*\n", encoding="utf-8")
                self._prepared = True
            target = self.folder / key[:2]
            target.mkdir(exist_ok=True)
            tmp = target / f".{key}.{os.getpid()}"
            tmp.write_text(json.dumps([_finding_to_json(f) for f in findings]), encoding="utf-8")
            os.replace(tmp, target / key)
        except OSError:
            pass  # a read-only tree still gets checked, just not cached


def check_bytes(data: bytes, path: str, settings: Settings) -> CheckResult:
    if len(data) > settings.max_file_size_kb * 1024:
        return CheckResult((Finding(TOO_LARGE, f"File is {len(data) // 1024} KB, over max-file-size-kb "
                                               f"({settings.max_file_size_kb}); not checked",
                                    Severity.INFO, Range.of(1, 0, 1, 0)),))
    text, undecodable = decode(data, path)
    if undecodable is not None:
        return CheckResult((undecodable,))
    return check_source(text, path, settings)


@dataclass(frozen=True)
class Job:
    path: str
    settings: Settings
    fix: bool = False
    diff: bool = False
    unsafe: bool = False
    cache_root: str | None = None


def _cached(job: Job, cache: Cache, data: bytes) -> tuple[str, tuple[Finding, ...] | None]:
    key = _cache_key(data, job.path, job.settings)
    return key, cache.get(key)


def run_job(job: Job) -> FileResult:
    if job.path.endswith(NOTEBOOK_SUFFIXES):
        from .notebook_job import run_notebook_job

        return run_notebook_job(job)
    try:
        data = Path(job.path).read_bytes()
    except OSError as exc:
        return FileResult(job.path, (), problems=(f"cannot read: {exc.strerror or exc}",))
    if job.fix or job.diff:
        text, undecodable = decode(data, job.path)
        if text is None or len(data) > job.settings.max_file_size_kb * 1024:
            result = check_bytes(data, job.path, job.settings)
            return FileResult(job.path, result.findings, result.errors)
        new_text, applied, remaining = fix_source(text, job.path, job.settings, unsafe=job.unsafe)
        if job.fix and new_text != text:
            problem = write_fixed(job.path, data, new_text)
            if problem is not None:  # the file is as it was: report what is in it
                result = check_source(text, job.path, job.settings)
                return FileResult(job.path, result.findings, result.errors, problems=(problem,))
        return FileResult(job.path, remaining, (), applied, new_text if new_text != text else None, text)
    cache = Cache(job.cache_root) if job.cache_root else None
    key = None
    if cache is not None:
        key, cached = _cached(job, cache, data)
        if cached is not None:
            return FileResult(job.path, cached)
    result = check_bytes(data, job.path, job.settings)
    if cache is not None and not result.errors:
        cache.put(key, result.findings)
    return FileResult(job.path, result.findings, result.errors)


UTF8_BOM = b"\xef\xbb\xbf"


def write_fixed(path: str, original: bytes, new_text: str) -> str | None:
    """Replace the file at ``path`` (whose bytes were ``original``) with ``new_text``, keeping its BOM, line breaks
    (``new_text`` has them), mode and links: written to a temporary file in the same folder, then renamed over
    the target, so an interrupted run leaves the old file or the new one, never half of one. A read-only file
    stays untouched (renaming over it would succeed). Returns why the file could not be written, or None."""
    target = os.path.realpath(path)  # through a symbolic link: the link stays a link to the fixed file
    try:
        mode = stat.S_IMODE(os.stat(target).st_mode)
        if not mode & 0o222:
            return "cannot write: the file is read-only; not fixed"
        data = (UTF8_BOM if original.startswith(UTF8_BOM) else b"") + new_text.encode("utf-8")
        handle, temporary = tempfile.mkstemp(prefix=f".{os.path.basename(target)}.", suffix=".tensorlint",
                                             dir=os.path.dirname(target))
    except OSError as exc:
        return f"cannot write: {exc.strerror or exc}; not fixed"
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.chmod(temporary, mode)
        os.replace(temporary, target)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        return f"cannot write: {exc.strerror or exc}; not fixed"
    return None


def _cache_hit(job: Job, caches: dict[str, Cache]) -> FileResult | None:
    """The cached result of a plain check, looked up before any worker is started; None on a miss."""
    if job.fix or job.diff or not job.cache_root:
        return None
    cache = caches.get(job.cache_root)
    if cache is None:
        cache = caches[job.cache_root] = Cache(job.cache_root)
    try:
        data = Path(job.path).read_bytes()
    except OSError:
        return None
    _, cached = _cached(job, cache, data)
    return FileResult(job.path, cached) if cached is not None else None


def _size(path: str) -> int:
    try:
        return os.stat(path).st_size
    except OSError:
        return 0


def run_jobs(jobs: list[Job], processes: int, progress: Callable[[int, int], None] | None = None) -> list[FileResult]:
    """Results in the order of ``jobs``. Cache hits are answered here; the rest go to a process pool when there
    is enough of it to pay for the workers, largest files first so that no worker is left with a big file at
    the end while the others idle."""
    results: list[FileResult | None] = [None] * len(jobs)
    done = 0
    caches: dict[str, Cache] = {}
    pending: list[int] = []
    for index, job in enumerate(jobs):
        hit = _cache_hit(job, caches)
        if hit is None:
            pending.append(index)
            continue
        results[index] = hit
        done += 1
        if progress:
            progress(done, len(jobs))
    if processes <= 1 or len(pending) < 8:
        for index in pending:
            results[index] = run_job(jobs[index])
            done += 1
            if progress:
                progress(done, len(jobs))
        return results  # type: ignore[return-value]
    # process pools only when they are used: the language server imports this module and never uses them
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    pending.sort(key=lambda index: _size(jobs[index].path), reverse=True)
    chunk = max(1, min(8, len(pending) // (processes * 8)))
    finished: set[int] = set()
    try:
        with ProcessPoolExecutor(max_workers=min(processes, len(pending))) as pool:
            for index, result in zip(pending, pool.map(run_job, [jobs[i] for i in pending], chunksize=chunk)):
                results[index] = result
                finished.add(index)
                done += 1
                if progress:
                    progress(done, len(jobs))
    except BrokenProcessPool:
        # A worker died (a crash in native code, the OOM killer): the files it did not report go to workers
        # that check one file each, so the file that kills a worker is named and every other one is checked.
        for index, result in _run_isolated(jobs, [i for i in pending if i not in finished], processes):
            results[index] = result
            done += 1
            if progress:
                progress(done, len(jobs))
    return results  # type: ignore[return-value]


def _run_isolated(jobs: list[Job], indices: list[int], processes: int) -> Iterator[tuple[int, FileResult]]:
    """``(index, result)`` for each job, each run alone in one of ``processes`` single-worker pools; a job whose
    worker dies gets a problem instead of findings, and its pool is replaced."""
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
    from concurrent.futures.process import BrokenProcessPool

    queue = list(reversed(indices))
    running: dict = {}  # future -> (index, pool)
    idle: list[ProcessPoolExecutor] = []
    try:
        while queue or running:
            while queue and len(running) < max(processes, 1):
                pool = idle.pop() if idle else ProcessPoolExecutor(max_workers=1)
                index = queue.pop()
                running[pool.submit(run_job, jobs[index])] = (index, pool)
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                index, pool = running.pop(future)
                try:
                    yield index, future.result()
                    idle.append(pool)
                except BrokenProcessPool:
                    pool.shutdown(wait=False)
                    yield index, FileResult(jobs[index].path, (), problems=(
                        "crashed the worker process checking it; not checked",))
    finally:
        for pool in idle + [pool for _, pool in running.values()]:
            pool.shutdown(wait=False, cancel_futures=True)


def default_jobs() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return os.cpu_count() or 1


def settings_lookup_factory(config: Settings | None) -> Callable[[str], Settings]:
    """Per-path settings: a `--config` file governs everything; otherwise each file's nearest pyproject."""
    cache: dict = {}
    if config is not None:
        return lambda path: config

    def lookup(path: str) -> Settings:
        folder = path if os.path.isdir(path) else os.path.dirname(os.path.abspath(path))
        if folder not in cache:
            cache[folder] = settings_for(folder, cache)
        return cache[folder]

    return lookup

