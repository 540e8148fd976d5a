"""Applying fixes to text: non-overlapping edits, applied back to front, repeated until nothing changes."""

from __future__ import annotations

from typing import Iterable

from .config import Settings
from .findings import Edit, Finding, Fix, Position
from .lines import line_starts as _line_starts


def offset(starts: list[int], text: str, position: Position) -> int:
    line = min(max(position.line, 1), len(starts))
    return min(starts[line - 1] + position.column, len(text))


def apply_edits(text: str, edits: Iterable[Edit]) -> str:
    starts = _line_starts(text)
    spans = sorted(((offset(starts, text, e.range.start), offset(starts, text, e.range.end), e.new_text)
                    for e in edits), key=lambda s: (s[0], s[1]))
    out, cursor = [], 0
    for begin, end, new_text in spans:
        if begin < cursor:  # overlaps an earlier edit of the same fix: keep the first
            continue
        out.append(text[cursor:begin])
        out.append(new_text)
        cursor = end
    out.append(text[cursor:])
    return "".join(out)


def apply_fixes(text: str, fixes: Iterable[Fix]) -> tuple[str, int]:
    """Apply as many of ``fixes`` as do not overlap one another; returns the text and how many were applied."""
    starts = _line_starts(text)
    taken: list[tuple[int, int]] = []
    chosen: list[Edit] = []
    applied = 0
    for fix in fixes:
        spans = [(offset(starts, text, e.range.start), offset(starts, text, e.range.end)) for e in fix.edits]
        if any(b < t_end and t_begin < e or (b == e == t_begin == t_end) for b, e in spans for t_begin, t_end in taken):
            continue
        taken.extend(spans)
        chosen.extend(fix.edits)
        applied += 1
    return (apply_edits(text, chosen) if chosen else text), applied


def fix_source(text: str, path: str = "<string>", settings: Settings | None = None, *, unsafe: bool = False,
               max_passes: int = 10) -> tuple[str, int, tuple[Finding, ...]]:
    """Apply safe (or all) fixes until none is left; returns new text, fixes applied, remaining findings."""
    from .engine import check_source

    total = 0
    for _ in range(max_passes):
        result = check_source(text, path, settings)
        fixes = [f.fix for f in result.findings if f.fix is not None and (f.fix.safe or unsafe)]
        if not fixes:
            return text, total, result.findings
        new_text, applied = apply_fixes(text, fixes)
        if new_text == text or applied == 0:
            return text, total, result.findings
        text, total = new_text, total + applied
    return text, total, check_source(text, path, settings).findings
