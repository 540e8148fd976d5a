"""Checking and fixing ``.ipynb`` files on disk (``workspace.run_job`` hands notebooks to :func:`run_notebook_job`)."""

from __future__ import annotations

from pathlib import Path

from .engine import decode
from .notebook import NOTEBOOK_SUFFIX, check_notebook, fix_notebook, notebook_findings
from .workspace import Cache, FileResult, Job, _cached, write_fixed


def is_notebook(path: str) -> bool:
    return path.endswith(NOTEBOOK_SUFFIX)


def run_notebook_job(job: Job) -> FileResult:
    try:
        data = Path(job.path).read_bytes()
    except OSError as exc:
        return FileResult(job.path, (), problems=(f"cannot read: {exc.strerror or exc}",))
    text, undecodable = decode(data, job.path)
    if undecodable is not None:
        return FileResult(job.path, (undecodable,))
    if job.fix or job.diff:
        new_text, applied, remaining = fix_notebook(text, job.path, job.settings, unsafe=job.unsafe)
        if new_text == text:
            return FileResult(job.path, remaining, (), applied)
        if job.fix:
            problem = write_fixed(job.path, data, new_text)
            if problem is not None:
                result = check_notebook(text, job.path, job.settings)
                return FileResult(job.path, notebook_findings(result), result.errors, problems=(problem,))
        return FileResult(job.path, remaining, (), applied, new_text, text)
    cache = Cache(job.cache_root) if job.cache_root else None
    key = None
    if cache is not None:  # the same key as a .py file's (its path is part of it), so run_jobs' early look-up hits
        key, cached = _cached(job, cache, data)
        if cached is not None:
            return FileResult(job.path, cached)
    result = check_notebook(text, job.path, job.settings)
    findings = notebook_findings(result)
    if cache is not None and not result.errors:
        cache.put(key, findings)
    return FileResult(job.path, findings, result.errors)
