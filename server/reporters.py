"""Output formats for `tensorlint check`: text, json (ruff-compatible), sarif 2.1.0, github annotations."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Iterable, TextIO

from ..analyzers import Finding, Position, all_rules
from ..analyzers.workspace import FileResult

DOCS_URL = "https://github.com/tensorlint/tensorlint/blob/main/README.md#rules"


def _location(line: int, column: int) -> dict:
    # 1-based rows and columns, as ruff prints them
    return {"row": line, "column": column + 1}


def location_text(path: str, finding: Finding) -> str:
    """``path:row:col``, or ``path:cell N:row:col`` in a notebook (rows relative to the cell), as ruff writes it."""
    start = finding.range.start
    cell = f"cell {finding.cell}:" if finding.cell is not None else ""
    return f"{path}:{cell}{start.line}:{start.column + 1}"


@lru_cache(maxsize=64)
def _notebook_layout(path: str):
    from ..analyzers.notebook import SourceLayout

    try:
        with open(path, encoding="utf-8-sig") as handle:
            return SourceLayout(handle.read())
    except (OSError, ValueError, KeyError, IndexError):
        return None


def file_range(path: str, finding: Finding) -> tuple[Position, Position]:
    """The finding's start and end in the file itself: for a notebook cell, where its source line sits in the
    ``.ipynb`` JSON (what code scanning and PR annotations show); the cell's own rows when the file is gone."""
    if finding.cell is None:
        return finding.range.start, finding.range.end
    layout = _notebook_layout(path)
    if layout is None:
        return finding.range.start, finding.range.end
    return (layout.file_position(finding.cell - 1, finding.range.start),
            layout.file_position(finding.cell - 1, finding.range.end))


def finding_json(path: str, finding: Finding) -> dict:
    fix = None
    if finding.fix is not None:
        fix = {
            "applicability": "safe" if finding.fix.safe else "unsafe",
            "message": finding.fix.title,
            "edits": [{"content": e.new_text, "location": _location(e.range.start.line, e.range.start.column),
                       "end_location": _location(e.range.end.line, e.range.end.column)} for e in finding.fix.edits],
        }
    return {
        "code": finding.code,
        "message": finding.message,
        "severity": str(finding.severity),
        "filename": path,
        "location": _location(finding.range.start.line, finding.range.start.column),
        "end_location": _location(finding.range.end.line, finding.range.end.column),
        "fix": fix,
        "url": f"{DOCS_URL}" if finding.code in all_rules() else None,
        "cell": finding.cell,  # notebooks: the cell's 1-based position among all cells; rows are relative to it
    }


def _pairs(results: Iterable[FileResult]):
    for result in results:
        for finding in result.findings:
            yield result.path, finding


def report_text(results: list[FileResult], out: TextIO, *, fixed: int = 0, show_fixes: bool = True,
                summary: bool = True) -> None:
    """ruff's text format: one line per finding (`[*]` marks a safe fix), internal errors, then the summary
    (`summary=False`, for --quiet: the findings only)."""
    count = fixable = 0
    for path, f in _pairs(results):
        count += 1
        marker = ""
        if f.fix is not None and f.fix.safe:
            fixable += 1
            marker = " [*]"
        out.write(f"{location_text(path, f)}: {f.code}{marker} {f.message}\n")
    for result in results:
        for error in result.errors:
            out.write(f"{result.path}: internal error in rule {error}\n")
    if not summary:
        return
    found = count + fixed  # as ruff counts: what was found, fixed or not
    if found:
        noun = "finding" if found == 1 else "findings"
        out.write(f"Found {found} {noun}" + (f" ({fixed} fixed, {count} remaining)" if fixed else "") + ".\n")
        if fixable and show_fixes:
            out.write(f"[*] {fixable} fixable with `tensorlint check --fix`.\n")
    else:
        out.write("All checks passed!\n")


def report_json(results: list[FileResult], out: TextIO) -> None:
    json.dump([finding_json(path, f) for path, f in _pairs(results)], out, indent=2)
    out.write("\n")


_SARIF_LEVEL = {"error": "error", "warning": "warning", "info": "note"}


def report_sarif(results: list[FileResult], out: TextIO, version: str) -> None:
    rules = all_rules()
    used = sorted({f.code for _, f in _pairs(results)} | set(rules))
    rule_index = {code: i for i, code in enumerate(used)}
    descriptors = []
    for code in used:
        rule = rules.get(code)
        descriptors.append({
            "id": code,
            "name": rule.name if rule else code,
            "shortDescription": {"text": rule.summary() if rule else code},
            "fullDescription": {"text": rule.documentation() if rule else code},
            "defaultConfiguration": {"level": _SARIF_LEVEL[str(rule.severity)] if rule else "error"},
            "helpUri": DOCS_URL,
        })
    sarif_results = []
    for path, f in _pairs(results):
        start, end = file_range(path, f)
        sarif_result = {
            "ruleId": f.code,
            "ruleIndex": rule_index[f.code],
            "level": _SARIF_LEVEL[str(f.severity)],
            "message": {"text": f.message},
            "locations": [{"physicalLocation": {
                "artifactLocation": {"uri": path.replace("\\", "/")},
                "region": {"startLine": start.line, "startColumn": start.column + 1,
                           "endLine": end.line, "endColumn": end.column + 1},
            }}],
        }
        if f.cell is not None:
            sarif_result["properties"] = {"cell": f.cell, "cellRow": f.range.start.line,
                                          "cellColumn": f.range.start.column + 1}
        sarif_results.append(sarif_result)
    document = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "tensorlint", "version": version, "informationUri": DOCS_URL,
                                "rules": descriptors}},
            "results": sarif_results,
        }],
    }
    json.dump(document, out, indent=2)
    out.write("\n")


def _escape_property(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A").replace(":", "%3A").replace(",", "%2C")


def _escape_data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def report_github(results: list[FileResult], out: TextIO) -> None:
    for path, f in _pairs(results):
        level = {"error": "error", "warning": "warning", "info": "notice"}[str(f.severity)]
        start, end = file_range(path, f)
        where = f" (cell {f.cell}, line {f.range.start.line})" if f.cell is not None else ""
        out.write(
            f"::{level} title={_escape_property('tensorlint (' + f.code + ')')},file={_escape_property(path)},"
            f"line={start.line},col={start.column + 1},endLine={end.line},"
            f"endColumn={end.column + 1}::{_escape_data(f'{f.code} {f.message}{where}')}\n"
        )
