"""The data that leaves the engine: findings, fixes and edits (frozen, plain, picklable)."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class Severity(str, enum.Enum):
    ERROR = "error"  # almost surely a bug
    WARNING = "warning"  # likely a bug
    INFO = "info"  # advice

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True, order=True)
class Position:
    """A place in the text: 1-based line, 0-based column counted in code points."""

    line: int
    column: int


@dataclass(frozen=True, order=True)
class Range:
    start: Position
    end: Position

    @classmethod
    def of(cls, start_line: int, start_col: int, end_line: int, end_col: int) -> "Range":
        return cls(Position(start_line, start_col), Position(end_line, end_col))


@dataclass(frozen=True)
class Edit:
    range: Range
    new_text: str


@dataclass(frozen=True)
class Fix:
    title: str
    edits: tuple[Edit, ...]
    safe: bool = True


@dataclass(frozen=True)
class Finding:
    code: str
    message: str
    severity: Severity
    range: Range
    fix: Fix | None = None
    related: tuple[tuple[Range, str], ...] = field(default=())
    # In a notebook: the cell's 1-based position among all cells (as ruff numbers them); ``range`` and the fix's
    # edits are then relative to that cell. None for plain source files.
    cell: int | None = None

    def sort_key(self) -> tuple:
        return (self.range.start.line, self.range.start.column, self.code)
