"""What name is under the cursor: the dotted expression at a position, resolved through the file's imports to its
canonical name (``nn.Linear`` -> ``torch.nn.Linear``). Pure: source text in, a frozen answer out."""

from __future__ import annotations

import re
from dataclasses import dataclass

import libcst as cst

from .findings import Position, Range
from .frameworks import ImportTable, canonical
from .parsing import parse_module

_IDENTIFIER = re.compile(r"[^\W\d]\w*")
_DOTTED = re.compile(r"[^\W\d]\w*(?:\s*\.\s*[^\W\d]\w*)*")


@dataclass(frozen=True)
class NameAt:
    canonical: str  # e.g. "torch.nn.Linear"
    written: str  # as written up to the part under the cursor, e.g. "nn.Linear"
    range: Range  # of ``written`` (1-based lines, 0-based code-point columns, as findings)


def import_table(source: str) -> ImportTable | None:
    """The module-level imports of ``source``; None when it does not parse."""
    try:
        module = parse_module(source)
    except (cst.ParserSyntaxError, RecursionError):
        return None
    table = ImportTable()
    table.collect(module.body)
    return table


def name_at(source: str, position: Position, imports: ImportTable | None = None) -> NameAt | None:
    """The imported dotted name whose part under ``position`` the cursor is on, or None.

    On ``nn.Linear`` the cursor on ``Linear`` gives ``torch.nn.Linear`` and on ``nn`` gives ``torch.nn``.
    """
    lines = source.split("\n")
    if not 1 <= position.line <= len(lines):
        return None
    line = lines[position.line - 1]
    for match in _DOTTED.finditer(line):
        if not match.start() <= position.column <= match.end():
            continue
        if _in_string_or_comment(line, match.start()):
            return None
        end = next((part.end() for part in _IDENTIFIER.finditer(line, match.start(), match.end())
                    if part.end() >= position.column), match.end())
        written = line[match.start():end]
        if match.start() > 0 and line[:match.start()].rstrip().endswith("."):
            return None  # an attribute of something that is not a plain name (``f().x``)
        imports = imports if imports is not None else import_table(source)
        if imports is None:
            return None
        parts = [p.strip() for p in written.split(".")]
        target = imports.aliases.get(parts[0])
        if target is None:
            return None
        name = canonical(".".join([target, *parts[1:]]))
        return NameAt(name, ".".join(parts), Range(Position(position.line, match.start()),
                                                   Position(position.line, end)))
    return None


def _in_string_or_comment(line: str, column: int) -> bool:
    """A cheap single-line check: a quote or ``#`` left open before ``column``."""
    quote = None
    index = 0
    while index < column:
        char = line[index]
        if quote:
            if char == "\\":
                index += 1
            elif char == quote:
                quote = None
        elif char in "\"'":
            quote = char
        elif char == "#":
            return True
        index += 1
    return quote is not None
