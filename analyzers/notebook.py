"""Jupyter notebooks: the code cells, in order, analysed as one program; findings and fixes mapped back to cells.

Pure like the rest of the engine: text in, frozen dataclasses out. Notebooks are read with the standard library's
``json`` (nbformat is a test-only dependency). IPython syntax (line and cell magics, shell escapes, ``?`` help) is
masked with placeholders of the same length, so the masked program has the cells' line count and column positions
and a position maps back to a cell by line arithmetic alone (:class:`CellMapper`, also used by the language
server, where cells are keyed by their URI).
"""

from __future__ import annotations

import bisect
import difflib
import json
import re
from dataclasses import dataclass, replace
from json.decoder import scanstring
from typing import Generic, Hashable, Iterable, Mapping, Sequence, TypeVar

from .config import Settings
from .engine import SYNTAX_ERROR, check_source
from .findings import Edit, Finding, Fix, Position, Range, Severity
from .fixes import apply_fixes

NOTEBOOK_SUFFIX = ".ipynb"
MALFORMED_NOTEBOOK = "TL005"

Key = TypeVar("Key", bound=Hashable)

# Cell magics whose body IPython runs as Python in the notebook's namespace: only their first line is masked.
PYTHON_CELL_MAGICS = frozenset({"time", "timeit", "capture", "prun", "debug"})

# Line magics that run the rest of their line as a Python statement: `%time x = f()`, `%timeit -n 10 f(x)`.
_TIMED_STATEMENT = re.compile(r"%(?:time|timeit(?:\s+-(?:[nrp]\s*\d+|[tcqo]))*)[ \t]+(?=\S)")
_COMPOUND = re.compile(r"(?:async|class|def|elif|else|except|finally|for|if|match|try|while|with)\b")
_HELP = re.compile(r"^\s*(?:\?{1,2}[\w.*%]+|[\w.*%]+\?{1,2})\s*$")
_ASSIGN_FROM_MAGIC = re.compile(r"^\s*[A-Za-z_][\w.]*(?:\s*,\s*[A-Za-z_][\w.]*)*\s*=\s*(?=[!%])")
_CODE_TOKEN = re.compile(r"""[rRbBuUfF]{0,2}(?:'''|\"\"\"|'|")|#|[(\[{]|[)\]}]|\\$""")
_UNBOUNDED = 1 << 30  # a mask to the end of the line, whatever its length
# IPython's line magics and shell aliases (IPython 8), which its automagic runs without `%` when a cell is one
# line that is not Python: `ls ./data/`, `pip install x`, `cd ..`
AUTOMAGICS = frozenset("""
alias alias_magic autoawait autocall automagic bookmark cat cd colors conda config cp debug dhist dirs doctest_mode
ed edit env gui hist history killbgscripts ldir lf lk ll load load_ext loadpy logoff logon logstart logstate logstop
ls lsmagic lx macro magic man matplotlib mkdir mv notebook page pastebin pdb pdef pdoc pfile pinfo pinfo2 pip popd
pprint precision prun psearch psource pushd pwd pycat pylab quickref recall rehashx reload_ext rep rerun reset
reset_selective rm rmdir run save sc set_env store sx system tb time timeit unalias unload_ext who who_ls whos xdel
xmode""".split())
_AUTOMAGIC = re.compile(r"([A-Za-z_]\w*)(?:\s|$)")


# -- reading ------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Cell:
    index: int  # 0-based position among all cells of the notebook, markdown and raw cells included
    kind: str  # "code", "markdown" or "raw"
    source: str


@dataclass(frozen=True)
class Notebook:
    cells: tuple[Cell, ...]
    language: str = "python"

    @property
    def is_python(self) -> bool:
        return self.language.startswith(("python", "ipython"))

    @property
    def code_cells(self) -> tuple[Cell, ...]:
        return tuple(cell for cell in self.cells if cell.kind == "code")


class NotebookError(ValueError):
    """A notebook that cannot be read, with the place in the file where reading failed."""

    def __init__(self, message: str, line: int = 1, column: int = 0):
        super().__init__(message)
        self.line, self.column = line, column

    def finding(self) -> Finding:
        return Finding(MALFORMED_NOTEBOOK, f"Malformed notebook: {self}; not checked", Severity.ERROR,
                       Range.of(self.line, self.column, self.line, self.column))


def _joined(source: object, where: str) -> str:
    if isinstance(source, str):
        return source
    if isinstance(source, list) and all(isinstance(part, str) for part in source):
        return "".join(source)
    raise NotebookError(f"{where} `source` must be a string or a list of strings")


def read_notebook(text: str) -> Notebook:
    """The cells of an nbformat 4 notebook; raises :class:`NotebookError` for anything else."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise NotebookError(f"invalid JSON ({exc.msg})", exc.lineno, exc.colno - 1) from None
    except RecursionError:
        raise NotebookError("invalid JSON (nested too deeply)") from None
    if not isinstance(data, dict):
        raise NotebookError("the top level is not a JSON object")
    if "cells" not in data:
        if "worksheets" in data:
            raise NotebookError("nbformat 3 notebooks are not supported (convert with "
                                "`jupyter nbconvert --to notebook --nbformat 4`)")
        raise NotebookError("no `cells` list")
    raw_cells = data["cells"]
    if not isinstance(raw_cells, list):
        raise NotebookError("`cells` is not a list")
    cells = []
    for index, raw in enumerate(raw_cells):
        where = f"cell {index + 1}"
        if not isinstance(raw, dict):
            raise NotebookError(f"{where} is not a JSON object")
        kind = raw.get("cell_type")
        if not isinstance(kind, str):
            raise NotebookError(f"{where} has no `cell_type`")
        cells.append(Cell(index, kind, _joined(raw.get("source", ""), where)))
    return Notebook(tuple(cells), _language(data.get("metadata")))


def _language(metadata: object) -> str:
    if not isinstance(metadata, dict):
        return "python"
    for section, key in (("language_info", "name"), ("kernelspec", "language")):
        value = metadata.get(section)
        if isinstance(value, dict) and isinstance(value.get(key), str):
            return value[key].lower()
    return "python"


# -- masking IPython syntax ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class MaskedCell:
    text: str  # the cell with IPython syntax replaced by same-length Python
    masks: tuple[tuple[int, int, int], ...]  # (0-based row, start column, end column) of each masked span
    complete: bool  # False when the cell ends inside a bracket, a string or a line continuation


def _placeholder(length: int) -> str:
    # `...` is a statement that does nothing; the rest is padding so that later columns do not move
    return ("..." + " " * (length - 3)) if length >= 3 else ("0" + " " * (length - 1))


@dataclass(frozen=True)
class Dedent:
    """The common indentation IPython strips from a cell before running it: the first non-blank line's leading
    whitespace, removed from every line that starts with it (``IPython.core.inputtransformer2.leading_indent``)."""

    prefix: str = ""
    rows: frozenset[int] = frozenset()  # the rows it was removed from

    def shift(self, row: int) -> int:
        """Columns removed from 0-based ``row``."""
        return len(self.prefix) if row in self.rows else 0


def dedent_cell(source: str) -> tuple[str, Dedent]:
    """The cell as IPython runs it, indentation-wise, and what was removed (row and column counts unchanged
    otherwise: leading blank lines stay, as blank lines)."""
    lines = source.split("\n")
    first = next((line for line in lines if line.strip()), "")
    prefix = first[: len(first) - len(first.lstrip(" \t"))]
    if not prefix:
        return source, Dedent()
    rows = frozenset(row for row, line in enumerate(lines) if line.startswith(prefix))
    return "\n".join(line[len(prefix):] if row in rows else line for row, line in enumerate(lines)), Dedent(prefix, rows)


def prepare_cell(source: str) -> tuple[MaskedCell, Dedent]:
    """The cell as the engine checks it: dedented as IPython does, then with IPython syntax masked."""
    dedented, dedent = dedent_cell(source)
    return mask_ipython(dedented), dedent


def _automagic_row(lines: list[str]) -> int | None:
    """The row of a one-line cell (blank lines before it aside) that IPython's automagic runs as a line magic
    (``ls ./data/``): it names a magic or alias, is not an assignment, and is not Python. IPython applies
    automagic to one-line cells only; in a longer cell such a line is a syntax error in Jupyter too."""
    first = next((row for row, line in enumerate(lines) if line.strip()), None)
    if first is None:
        return None
    rest = lines[first:]
    if not (len(rest) == 1 or (len(rest) == 2 and rest[1] == "")):  # IPython counts `cell.splitlines()`
        return None
    line = lines[first].strip()
    match = _AUTOMAGIC.match(line)
    if match is None or match.group(1) not in AUTOMAGICS:
        return None
    rest = line[match.end(1):].lstrip()
    if rest.startswith("=") and not rest.startswith("=="):
        return None  # `ls = 5`
    try:
        compile(line, "<cell>", "exec")
    except (SyntaxError, ValueError):
        return first
    return None  # `pwd`, `time`: Python as written


def mask_ipython(source: str) -> MaskedCell:
    """Replace magics (``%x``, ``%%x``), shell escapes (``!x``, ``y = !x``) and help (``x?``) at the start of a
    logical line, and the line of a one-line cell that automagic runs (``ls ./data/``), with placeholders of
    the same length; strings and bracketed continuations are left alone."""
    lines = source.split("\n")
    masks: list[tuple[int, int, int]] = []
    automagic = _automagic_row(lines)
    if automagic is not None:
        body = lines[automagic].rstrip("\r")
        start = len(body) - len(body.lstrip(" \t"))
        lines[automagic] = body[:start] + _placeholder(len(body) - start) + lines[automagic][len(body):]
        return MaskedCell("\n".join(lines), ((automagic, start, _UNBOUNDED),), True)

    def blank(row: int) -> None:
        body = lines[row].rstrip("\r")
        lines[row] = " " * len(body) + lines[row][len(body):]
        masks.append((row, 0, _UNBOUNDED))

    first = lines[0].lstrip()
    if lines[0].startswith("%%"):
        magic = first[2:].split(maxsplit=1)[0] if first[2:].strip() else ""
        if magic not in PYTHON_CELL_MAGICS:  # %%bash, %%html, %%writefile...: not Python, nothing to check
            for row in range(len(lines)):
                blank(row)
            return MaskedCell("\n".join(lines), tuple(masks), True)
        blank(0)
        rows = range(1, len(lines))
    else:
        rows = range(len(lines))

    quote: str | None = None  # the open string's delimiter
    depth = 0
    continued = magic_continues = False
    for row in rows:
        line = lines[row]
        body = line.rstrip("\r")
        if magic_continues:  # the next physical line of a magic that ended with a backslash
            blank(row)
            magic_continues = body.endswith("\\")
            continue
        if quote is None and depth == 0 and not continued:
            start = _magic_start(body)
            statement = _timed_statement(body, start) if start is not None else None
            if statement is not None:
                # the magic becomes `if 1:` padded to its length, and its statement is checked where it stands
                lines[row] = line = body[:start] + "if 1:".ljust(statement - start) + line[statement:]
                body = line.rstrip("\r")
                masks.append((row, start, statement - start))
            elif start is not None:
                lines[row] = body[:start] + _placeholder(len(body) - start) + line[len(body):]
                masks.append((row, start, _UNBOUNDED))
                magic_continues = body.endswith("\\")
                continue
        quote, depth, continued = _scan(body, quote, depth)
    complete = quote is None and depth == 0 and not continued and not magic_continues
    return MaskedCell("\n".join(lines), tuple(masks), complete)


def _timed_statement(line: str, start: int) -> int | None:
    """Column of the Python statement that a `%time`/`%timeit` line magic at ``start`` runs, or None."""
    match = _TIMED_STATEMENT.match(line, start)
    if match is None or _COMPOUND.match(line, match.end()) or match.end() - start < len("if 1:") + 1:
        return None
    return match.end()


def _magic_start(line: str) -> int | None:
    """Column where IPython syntax starts on a line that begins a statement, or None for plain Python."""
    stripped = line.lstrip(" \t")
    if not stripped:
        return None
    if stripped[0] in "%!":
        return len(line) - len(stripped)
    if stripped[0] == "?" or stripped.rstrip().endswith("?"):
        if _HELP.match(line):
            return len(line) - len(stripped)
    match = _ASSIGN_FROM_MAGIC.match(line)
    return match.end() if match else None


def _scan(line: str, quote: str | None, depth: int) -> tuple[str | None, int, bool]:
    """Lexer state after one physical line: open string delimiter, bracket depth, backslash continuation."""
    position = 0
    while True:
        if quote is not None:
            end = _string_end(line, position, quote)
            if end is None:
                # an unterminated one-line string ends with its line (a syntax error the parser will report)
                if len(quote) == 1 and not line.endswith("\\"):
                    quote = None
                return quote, depth, False
            quote, position = None, end
            continue
        match = _CODE_TOKEN.search(line, position)
        if match is None:
            return None, depth, False
        token = match.group()
        if token == "#":
            return None, depth, False
        if token == "\\":
            return None, depth, True
        if token in "([{":
            depth += 1
        elif token in ")]}":
            depth = max(depth - 1, 0)
        else:
            quote = token.lstrip("rRbBuUfF")
        position = match.end()


def _string_end(line: str, position: int, quote: str) -> int | None:
    while True:
        index = line.find(quote, position)
        backslash = line.find("\\", position)
        if backslash != -1 and (index == -1 or backslash < index):
            position = backslash + 2
            continue
        return None if index == -1 else index + len(quote)


# -- one program, many cells --------------------------------------------------------------------------------------
class CellMapper(Generic[Key]):
    """The code cells, masked and joined into one program, and the position arithmetic between the two.

    Each cell contributes its lines followed by one newline, so a cell of ``n`` newlines spans ``n + 1`` lines of
    the program and a range that ends at column 0 of the next cell's first line still belongs to its cell. Cells
    are identified by any hashable key: the cell's index in the CLI, its URI in the language server.
    """

    def __init__(self, cells: Sequence[tuple[Key, str]], blanked: Iterable[Key] = ()):
        blanked = set(blanked)
        self.keys: tuple[Key, ...] = tuple(key for key, _ in cells)
        self._index: dict[Key, int] = {key: index for index, key in enumerate(self.keys)}
        self.originals: dict[Key, str] = {key: text for key, text in cells}
        self.masked: dict[Key, MaskedCell] = {}
        self.dedents: dict[Key, Dedent] = {}  # the indentation IPython strips from each cell
        self._starts: list[int] = []  # 1-based program line of each cell's first line
        self._masks: dict[int, list[tuple[int, int]]] = {}  # program line -> masked column spans
        parts, line = [], 1
        for key, text in cells:
            masked, dedent = prepare_cell(text)
            if key in blanked:  # a cell that does not parse on its own: keep its lines, drop its code
                masked = MaskedCell("\n".join(" " * len(row) for row in text.split("\n")),
                                    tuple((row, 0, _UNBOUNDED) for row in range(text.count("\n") + 1)), True)
                dedent = Dedent()
            self.masked[key] = masked
            self.dedents[key] = dedent
            self._starts.append(line)
            for row, start, end in masked.masks:
                self._masks.setdefault(line + row, []).append((start, end))
            parts.append(masked.text + "\n")
            line += masked.text.count("\n") + 1
        self._end_line = line  # the line just after the program
        self.source = "".join(parts)

    def line_count(self, key: Key) -> int:
        return self.masked[key].text.count("\n") + 1

    def _cell_at(self, line: int) -> int:
        return max(bisect.bisect_right(self._starts, line) - 1, 0)

    # positions
    def to_cell(self, position: Position) -> tuple[Key, Position]:
        """A program position as (cell key, position in the cell); lines stay 1-based."""
        if not self.keys:
            raise ValueError("no code cells")
        index = self._cell_at(position.line)
        key = self.keys[index]
        row = position.line - self._starts[index] + 1
        return key, Position(row, position.column + self.dedents[key].shift(row - 1))

    def to_program(self, key: Key, position: Position) -> Position:
        """A position in a cell as a position in the program (a column inside the indentation IPython strips
        maps to the line's start)."""
        index = self._index[key]
        column = max(position.column - self.dedents[key].shift(position.line - 1), 0)
        return Position(self._starts[index] + position.line - 1, column)

    def cell_range(self, rng: Range) -> tuple[Key, Range, bool]:
        """The range in the cell where it starts, and whether it had to be cut at that cell's end."""
        key, start = self.to_cell(rng.start)
        index = self._index[key]
        dedent = self.dedents[key]
        next_start = self._starts[index + 1] if index + 1 < len(self.keys) else self._end_line
        if rng.end.line < next_start or (rng.end.line == next_start and rng.end.column == 0):
            end_row = rng.end.line - self._starts[index] + 1
            return key, Range(start, Position(end_row, rng.end.column + dedent.shift(end_row - 1))), False
        last_row = self.line_count(key)
        return key, Range(start, Position(last_row, self._row_length(key, last_row))), True

    def _row_length(self, key: Key, row: int) -> int:
        """Length of 1-based ``row`` of the cell as written."""
        return len(self.masked[key].text.split("\n")[row - 1]) + self.dedents[key].shift(row - 1)

    def touches_mask(self, rng: Range) -> bool:
        for line in range(rng.start.line, rng.end.line + 1):
            low = rng.start.column if line == rng.start.line else 0
            high = rng.end.column if line == rng.end.line else _UNBOUNDED
            for start, end in self._masks.get(line, ()):
                if start < high and low < end or start <= low < end:
                    return True
        return False

    def inside_mask(self, rng: Range) -> bool:
        """The whole range lies in masked text: it is about a placeholder, not the user's code."""
        if rng.start.line != rng.end.line:
            return False
        return any(start <= rng.start.column and rng.end.column <= end
                   for start, end in self._masks.get(rng.start.line, ()))

    # findings and fixes
    def cell_finding(self, finding: Finding) -> tuple[Key, Finding] | None:
        """The finding in its cell's coordinates; None when it only concerns masked IPython syntax. A fix that
        crosses cells or touches masked text is dropped (the finding stays)."""
        if self.inside_mask(finding.range) and finding.code != SYNTAX_ERROR:
            return None
        key, rng, _ = self.cell_range(finding.range)
        end_row = min(rng.end.line, self.line_count(key))
        if end_row != rng.end.line:  # a range that ends just after its cell's last line ends on that line
            rng = Range(rng.start, Position(end_row, self._row_length(key, end_row)))
        fix = None
        if finding.fix is not None:
            edits = self._cell_edits(key, finding.fix.edits)
            if edits is not None:
                fix = Fix(finding.fix.title, edits, finding.fix.safe)
        related = tuple((self.cell_range(r)[1], message) for r, message in finding.related
                        if self.to_cell(r.start)[0] == key)
        return key, replace(finding, range=rng, fix=fix, related=related)

    def _cell_edits(self, key: Key, edits: Sequence[Edit]) -> tuple[Edit, ...] | None:
        cell_edits = []
        for edit in edits:
            if self.touches_mask(edit.range):
                return None
            edit_key, rng, cut = self.cell_range(edit.range)
            if edit_key != key or cut:
                return None
            # new lines of an edit are written at the program's indentation: put back what IPython strips
            prefix = self.dedents[key].prefix
            cell_edits.append(Edit(rng, edit.new_text.replace("\n", "\n" + prefix) if prefix else edit.new_text))
        return tuple(cell_edits)

    def apply(self, fixes_by_cell: Mapping[Key, Sequence[Fix]]) -> dict[Key, tuple[str, int]]:
        """Apply fixes (in cell coordinates) to the cells' original text: the changed cells' new text and how
        many fixes each took."""
        changed = {}
        for key, fixes in fixes_by_cell.items():
            new_text, count = fix_cell(self.originals[key], fixes)
            if count and new_text != self.originals[key]:
                changed[key] = (new_text, count)
        return changed


def fix_cell(text: str, fixes: Sequence[Fix]) -> tuple[str, int]:
    """One cell's text with the (non-overlapping) fixes in cell coordinates applied, and how many were."""
    # the program's copy of the cell ends with the newline the program adds; fixes may touch it
    new_text, count = apply_fixes(text + "\n", fixes)
    return (new_text[:-1] if new_text.endswith("\n") else new_text), count



# -- checking and fixing ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CellsResult(Generic[Key]):
    findings: tuple[tuple[Key, Finding], ...]  # in cell coordinates, in cell order
    errors: tuple[str, ...] = ()


def _parses(text: str) -> bool:
    from .engine import parse

    try:
        parse(text)
    except Exception:  # libcst's ParserSyntaxError, RecursionError
        return False
    return True


def _parse_failure(text: str, path: str, settings: Settings) -> Finding | None:
    # only reached on the error path (a cell that may not parse on its own); the engine words the error
    if _parses(text):
        return None
    result = check_source(text, path, settings)
    return next((f for f in result.findings if f.code == SYNTAX_ERROR), None)


def check_cells(cells: Sequence[tuple[Key, str]], path: str = "<notebook>",
                settings: Settings | None = None) -> CellsResult[Key]:
    """All findings for a notebook's code cells (in order), each in its cell's coordinates.

    The cells are one program (an import in one cell gives meaning to a model in a later one). A cell that does
    not parse on its own (Jupyter would reject it too) gets its syntax error and is left out, so one broken cell
    does not hide the findings of the others.
    """
    settings = settings or Settings()
    cell_errors: list[tuple[Key, Finding]] = []
    broken: set[Key] = set()
    mapper = CellMapper(cells)
    for key in mapper.keys:
        if not mapper.masked[key].complete:  # an open bracket or string would swallow the next cell
            _mark_broken(key, mapper, path, settings, broken, cell_errors)
    while True:
        if broken:
            mapper = CellMapper(cells, broken)
        result = check_source(mapper.source, path, settings)
        if not any(f.code == SYNTAX_ERROR for f in result.findings):
            break
        newly_broken = 0
        for key in mapper.keys:
            if key not in broken:
                newly_broken += _mark_broken(key, mapper, path, settings, broken, cell_errors)
        if not newly_broken:  # the cells parse alone but not together: report where the program fails
            break
    mapped = [pair for pair in (mapper.cell_finding(f) for f in result.findings) if pair is not None]
    order = {key: index for index, key in enumerate(mapper.keys)}
    findings = sorted(cell_errors + mapped, key=lambda pair: (order[pair[0]], pair[1].sort_key()))
    return CellsResult(tuple(findings), result.errors)


def _mark_broken(key, mapper: CellMapper, path: str, settings: Settings, broken: set, cell_errors: list) -> int:
    failure = _parse_failure(mapper.masked[key].text, path, settings)
    if failure is None:  # the lexer's doubt was unfounded: the parser has the last word
        return 0
    broken.add(key)
    dedent = mapper.dedents[key]
    start, end = failure.range.start, failure.range.end
    located = Range(Position(start.line, start.column + dedent.shift(start.line - 1)),
                    Position(end.line, end.column + dedent.shift(end.line - 1)))
    cell_errors.append((key, replace(failure, range=located, message=failure.message + _automagic_hint(
        mapper.masked[key].text.split("\n")[start.line - 1] if start.line >= 1 else ""))))
    return 1


def _automagic_hint(line: str) -> str:
    """For a line that automagic would run in a one-line cell (``ls ./data/`` in a longer cell): how to write it."""
    stripped = line.strip()
    match = _AUTOMAGIC.match(stripped)
    if match is None or match.group(1) not in AUTOMAGICS or _automagic_row([stripped]) is None:
        return ""
    return (f" (IPython runs `{match.group(1)}` as a magic only in a one-line cell; "
            f"write `%{stripped}` or `!{stripped}`)")


def fix_cells(cells: Sequence[tuple[Key, str]], path: str = "<notebook>", settings: Settings | None = None, *,
              unsafe: bool = False, max_passes: int = 10) -> tuple[dict[Key, str], int, CellsResult[Key]]:
    """Apply safe (or all) fixes until none is left; returns the changed cells' new text, the number of fixes
    applied and the findings that remain."""
    current = dict(cells)
    order = [key for key, _ in cells]
    total = 0
    for _ in range(max_passes):
        result = check_cells([(key, current[key]) for key in order], path, settings)
        fixes: dict[Key, list[Fix]] = {}
        for key, finding in result.findings:
            if finding.fix is not None and (finding.fix.safe or unsafe):
                fixes.setdefault(key, []).append(finding.fix)
        if not fixes:
            break
        changed = CellMapper([(key, current[key]) for key in order]).apply(fixes)
        # a fix must never turn a cell that parsed into one that does not; such a cell keeps its text
        changed = {key: (text, count) for key, (text, count) in changed.items()
                   if _parses(prepare_cell(text)[0].text) or not _parses(prepare_cell(current[key])[0].text)}
        if not changed:
            break
        current.update((key, text) for key, (text, _) in changed.items())
        total += sum(count for _, count in changed.values())
    else:
        result = check_cells([(key, current[key]) for key in order], path, settings)
    originals = dict(cells)
    return {key: text for key, text in current.items() if text != originals[key]}, total, result


# -- notebooks as files -------------------------------------------------------------------------------------------
def check_notebook(text: str, path: str = "<notebook>", settings: Settings | None = None) -> CellsResult[int]:
    """Findings for a notebook's JSON text; each carries ``cell`` (1-based among all cells) and cell-relative
    positions. A notebook that cannot be read is one TL005 finding; a non-Python notebook has none."""
    try:
        notebook = read_notebook(text)
    except NotebookError as exc:
        return CellsResult(((-1, exc.finding()),))
    if not notebook.is_python:
        return CellsResult(())
    settings = settings or Settings()
    code_size = sum(len(cell.source.encode("utf-8")) for cell in notebook.code_cells)
    if code_size > settings.max_file_size_kb * 1024:  # outputs (images...) do not count: only the code is analysed
        from .workspace import TOO_LARGE

        return CellsResult(((-1, Finding(TOO_LARGE, f"Notebook code is {code_size // 1024} KB, over "
                                                    f"max-file-size-kb ({settings.max_file_size_kb}); not checked",
                                         Severity.INFO, Range.of(1, 0, 1, 0))),))
    return check_cells([(cell.index, cell.source) for cell in notebook.code_cells], path, settings)


def notebook_findings(result: CellsResult[int]) -> tuple[Finding, ...]:
    """The findings of :func:`check_notebook`, numbered with their cell (a malformed notebook has no cell)."""
    return tuple(finding if index < 0 else replace(finding, cell=index + 1) for index, finding in result.findings)


def fix_notebook(text: str, path: str = "<notebook>", settings: Settings | None = None, *,
                 unsafe: bool = False) -> tuple[str, int, tuple[Finding, ...]]:
    """The notebook's JSON text with fixes applied to the changed cells only (every other byte kept), the number
    of fixes applied and the remaining findings."""
    try:
        notebook = read_notebook(text)
    except NotebookError as exc:
        return text, 0, (exc.finding(),)
    if not notebook.is_python:
        return text, 0, ()
    changed, applied, result = fix_cells([(cell.index, cell.source) for cell in notebook.code_cells], path,
                                         settings, unsafe=unsafe)
    new_text = replace_sources(text, changed) if changed else text
    return new_text, applied, notebook_findings(result)


# -- rewriting cells without touching the rest of the file ---------------------------------------------------------
_WHITESPACE = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()


def _skip(text: str, index: int) -> int:
    return _WHITESPACE.match(text, index).end()


def _members(text: str, start: int) -> dict[str, tuple[int, int]]:
    """Key -> (start, end) of each value of the JSON object at ``start`` (the last of duplicate keys wins)."""
    members: dict[str, tuple[int, int]] = {}
    index = _skip(text, start + 1)
    if text[index] == "}":
        return members
    while True:
        key, index = scanstring(text, index + 1)
        index = _skip(text, _skip(text, index) + 1)  # past the colon
        _, end = _DECODER.raw_decode(text, index)
        members[key] = (index, end)
        index = _skip(text, end)
        if text[index] == "}":
            return members
        index = _skip(text, index + 1)  # past the comma


def _elements(text: str, start: int) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    index = _skip(text, start + 1)
    if text[index] == "]":
        return spans
    while True:
        _, end = _DECODER.raw_decode(text, index)
        spans.append((index, end))
        index = _skip(text, end)
        if text[index] == "]":
            return spans
        index = _skip(text, index + 1)


def _line_indent(text: str, index: int) -> str:
    line_start = text.rfind("\n", 0, index) + 1
    line = text[line_start:index]
    return line[: len(line) - len(line.lstrip(" \t"))]


def split_source_lines(source: str) -> list[str]:
    """A cell's source as nbformat stores it: lines with their newline, the last one without."""
    parts = source.split("\n")
    lines = [part + "\n" for part in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


def replace_sources(text: str, sources: Mapping[int, str]) -> str:
    """The notebook's JSON text with the ``source`` of the cells at the given indices replaced, written in the
    style of the value it replaces (a list of lines or one string, same indentation and escaping); unchanged
    lines keep their exact bytes and nothing outside those values changes."""
    top = _skip(text, 0)
    cells_start, _ = _members(text, top)["cells"]
    cell_spans = _elements(text, cells_start)
    ascii_only = _escapes_non_ascii(text)
    replacements = []
    for index, source in sources.items():
        cell_start, _ = cell_spans[index]
        members = _members(text, cell_start)
        if "source" in members:
            start, end = members["source"]
            replacements.append((start, end, _render_source(text, start, end, cell_start, source, ascii_only)))
    out, cursor = [], 0
    for start, end, new in sorted(replacements):
        out.append(text[cursor:start])
        out.append(new)
        cursor = end
    out.append(text[cursor:])
    return "".join(out)


def _render_source(text: str, start: int, end: int, cell_start: int, source: str, ascii_only: bool) -> str:
    def dump(value: str) -> str:
        return json.dumps(value, ensure_ascii=ascii_only)

    if text[start] == '"':
        return dump(source)
    new_lines = split_source_lines(source)
    if not new_lines:
        return "[]"
    spans = _elements(text, start)
    old_tokens = [text[s:e] for s, e in spans]
    old_lines = [json.loads(token) for token in old_tokens]
    if spans:
        opening = text[start + 1: spans[0][0]]
        closing = text[spans[-1][1]: end - 1]
        separator = text[spans[0][1]: spans[1][0]] if len(spans) > 1 else "," + opening
    elif "\n" in text[cell_start:start]:  # `"source": []` in an indented file: indent as the file does
        key_indent = _line_indent(text, start)
        unit = key_indent[len(_line_indent(text, cell_start)):] or " "
        opening, closing, separator = "\n" + key_indent + unit, "\n" + key_indent, ",\n" + key_indent + unit
    else:
        opening, closing, separator = "", "", ","
    tokens = []
    matcher = difflib.SequenceMatcher(None, old_lines, new_lines, autojunk=False)
    for tag, old_from, old_to, new_from, new_to in matcher.get_opcodes():
        if tag == "equal":
            tokens.extend(old_tokens[old_from:old_to])
        else:
            tokens.extend(dump(line) for line in new_lines[new_from:new_to])
    return "[" + opening + separator.join(tokens) + closing + "]"



class SourceLayout:
    """Where each cell's source lines sit in the notebook's JSON text, for reports that point into the file
    itself (SARIF, GitHub annotations): a cell position becomes a line and column of the ``.ipynb`` file."""

    def __init__(self, text: str):
        self._text = text
        self._ascii = _escapes_non_ascii(text)
        # cell index -> per row: (offset of the JSON string holding the row's start, its text before the row)
        self._rows: dict[int, list[tuple[int, str]]] = {}
        cells_start, _ = _members(text, _skip(text, 0))["cells"]
        for index, (cell_start, _) in enumerate(_elements(text, cells_start)):
            source = _members(text, cell_start).get("source")
            if source is None:
                continue
            start, end = source
            tokens = [(start, end)] if text[start] == '"' else _elements(text, start)
            rows: list[tuple[int, str]] = []
            row_open = False
            for token_start, token_end in tokens:
                value = json.loads(text[token_start:token_end])
                pieces = value.split("\n")
                if len(pieces) > 1 and not pieces[-1]:
                    pieces.pop()  # the row after a final newline starts in the next string
                consumed = 0
                for number, piece in enumerate(pieces):
                    if number > 0 or not row_open:
                        rows.append((token_start, value[:consumed]))
                    consumed += len(piece) + 1
                row_open = not value.endswith("\n")
            self._rows[index] = rows

    def file_position(self, cell_index: int, position: Position) -> Position:
        rows = self._rows.get(cell_index)
        if not rows:
            return position
        token_start, before = rows[min(max(position.line, 1), len(rows)) - 1]
        line = self._text.count("\n", 0, token_start) + 1
        column = token_start - (self._text.rfind("\n", 0, token_start) + 1)
        value = json.loads(self._text[token_start:_DECODER.raw_decode(self._text, token_start)[1]])
        prefix = value[: len(before) + position.column]
        # one column for the opening quote, then the escaped length of the text before the position
        return Position(line, column + 1 + len(json.dumps(prefix, ensure_ascii=self._ascii)) - 2)


def _escapes_non_ascii(text: str) -> bool:
    """Whether the file writes non-ASCII characters as \\u escapes (nbformat writes them as they are)."""
    return text.isascii() and re.search(r"\\u00[89a-fA-F]|\\u0[1-9a-fA-F]|\\u[1-9a-fA-F]", text) is not None
