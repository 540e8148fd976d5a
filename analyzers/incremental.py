"""Incremental checking for an editor: each new version of a document re-parses only the top-level statements an edit
touched and reuses the libcst nodes of all the others (ARCHITECTURE.md, "What things cost": a full parse of a
2,600-line file is ~190 ms; one function is a few ms); the statement-scope rules then run only on the statements
whose text (or the module-wide facts they read) changed, and the other statements' findings are reused.

The result is the module a full parse would give, as far as the engine can tell: the same text, the same statements,
the same positions. Whenever that cannot be guaranteed cheaply (the edit touches the header, the first indented
block that fixes the module's default indentation, or leaves comment lines that a full parse would attach
elsewhere), it parses the whole text again.
"""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst
from libcst import PartialParserConfig

from .collection import collection_paused
from .config import Settings
from .lines import lines_with_breaks
from .parsing import parse_module
from .engine import (CheckResult, StatementCache, StatementLayout, check_module, check_source, rules_for_source,
                     syntax_error_finding)


@dataclass(frozen=True)
class _Parsed:
    source: str
    module: cst.Module
    ends: tuple[int, ...]  # chunk k is source[ends[k-1]:ends[k]]: statement k (chunk 0 also holds the header,
    # the last chunk also the footer)
    first_block: int  # index of the first statement with an indented body (it fixes the default indentation)
    header_length: int  # characters before statement 0's own text (an edit there is never spliced)
    # the statements print back exactly their text (libcst does not round-trip some backslash continuations,
    # and then offsets in the text are not offsets in what positions are computed from)
    exact: bool

    def layout(self) -> StatementLayout | None:
        if not self.exact:
            return None
        return StatementLayout((self.header_length, *self.ends[:-1]) if self.ends else (), self.ends)


class IncrementalParser:
    """Parses successive versions of one document. Not thread-safe: one document, one caller at a time."""

    def __init__(self) -> None:
        self._last: _Parsed | None = None
        self.reparsed_statements = 0  # of the last parse (``-1`` for a full parse): for tests and benchmarks

    def layout(self) -> StatementLayout | None:
        """Where the statements of the last parsed version lie in its text (None when that is not known)."""
        return self._last.layout() if self._last is not None else None

    def parse(self, source: str) -> cst.Module:
        """The module for ``source`` (raises ``libcst.ParserSyntaxError`` as ``libcst.parse_module`` does)."""
        last = self._last
        parsed = self._splice(last, source) if last is not None and last.module.body else None
        if parsed is None:
            self.reparsed_statements = -1
            parsed = _full(source)  # on a syntax error this raises and the last good version stays the base
        self._last = parsed
        return parsed.module

    def _splice(self, last: _Parsed, source: str) -> _Parsed | None:
        old = last.source
        if old == source:
            self.reparsed_statements = 0
            return last
        prefix = _common_prefix(old, source)
        suffix = _common_suffix(old, source, min(len(old), len(source)) - prefix)
        changed_end = len(old) - suffix
        ends = last.ends
        starts = (0, *ends[:-1])
        # the chunks the changed span touches, including a neighbour it merely borders
        first = next((k for k, end in enumerate(ends) if end >= prefix), len(ends) - 1)
        final = max((k for k, start in enumerate(starts) if start <= changed_end), default=0)
        if first <= last.first_block:
            return None
        body = last.module.body
        at_end = final == len(body) - 1
        delta = len(source) - len(old)
        region_start, region_end = starts[first], ends[final] + delta
        module = last.module
        try:
            region = parse_module(source[region_start:region_end], PartialParserConfig(
                default_indent=module.default_indent, default_newline=module.default_newline))
        except (cst.ParserSyntaxError, RecursionError):
            return None
        statements = list(region.body)
        if not statements or (region.footer and not at_end) or region.default_indent != module.default_indent:
            return None
        if region.header:  # in a whole-file parse these lines lead the statement that follows them
            statements[0] = statements[0].with_changes(leading_lines=(*region.header, *statements[0].leading_lines))
        new_module = module.with_changes(
            body=(*body[:first], *statements, *body[final + 1:]),
            footer=region.footer if at_end else module.footer,
            has_trailing_newline=region.has_trailing_newline if at_end else module.has_trailing_newline)
        codes = [new_module.code_for_node(statement) for statement in statements]
        lengths = [len(code) for code in codes]
        if at_end:
            lengths[-1] += sum(len(new_module.code_for_node(line)) for line in region.footer)
            if not region.has_trailing_newline:
                lengths[-1] -= len(module.default_newline)
        new_ends = list(ends[:first])
        cursor = region_start
        for length in lengths:
            cursor += length
            new_ends.append(cursor)
        if cursor != region_end:  # the pieces do not add up to the text: do not guess
            return None
        new_ends.extend(end + delta for end in ends[final + 1:])
        self.reparsed_statements = len(statements)
        exact = last.exact and source.startswith("".join(codes), region_start)
        return _Parsed(source, new_module, tuple(new_ends), _first_block(new_module), last.header_length, exact)


# A whole document is parsed a chunk of top-level statements at a time: libcst's parser holds on to memory in
# proportion to the text it is given (a 1 MB file peaks at ~600 MB in one parse, ~100 MB in chunks of this size).
CHUNK_LINES = 400
_STATEMENT_STARTS = ("def ", "class ", "async def ", "@")


def _chunks(source: str) -> list[str]:
    """``source`` cut before top-level ``def``/``class``/decorator lines (with the comment and blank lines that
    lead them, which a whole parse gives to that statement too), every ``CHUNK_LINES`` lines or more."""
    lines = lines_with_breaks(source)
    cuts = [0]
    for index in range(1, len(lines)):
        if index - cuts[-1] < CHUNK_LINES or not lines[index].startswith(_STATEMENT_STARTS):
            continue
        cut = index
        while cut - 1 > cuts[-1] and (not lines[cut - 1].strip() or lines[cut - 1].startswith("#")):
            cut -= 1
        if lines[cut - 1].startswith("@"):
            continue  # the decorator's line was the place to cut
        if lines[cut - 1].startswith((" ", "\t")) and lines[cut - 1].strip().startswith("#"):
            continue  # a comment indented under the statement before: which one owns it is the parser's call
        cuts.append(cut)
    cuts.append(len(lines))
    return ["".join(lines[start:end]) for start, end in zip(cuts, cuts[1:])]


def _parse_in_chunks(source: str) -> cst.Module | None:
    """The module a whole parse of ``source`` gives, parsed chunk by chunk; None when that cannot be done
    exactly (one chunk, or a chunk that does not parse on its own or ends in lines it does not own)."""
    chunks = _chunks(source)
    if len(chunks) < 2:
        return None
    try:
        first = parse_module(chunks[0])
        while _first_block(first) == len(first.body) and len(chunks) > 2:
            # the file's first indented block sets its default indentation: the first chunk must hold it
            chunks[:2] = [chunks[0] + chunks[1]]
            first = parse_module(chunks[0])
        if _first_block(first) == len(first.body):
            return None
        modules = [first] + [parse_module(chunk) for chunk in chunks[1:]]
    except (cst.ParserSyntaxError, RecursionError):
        return None  # e.g. a cut inside a string: the whole parse decides, and names the error if there is one
    for module in modules[1:]:
        # libcst records an indentation or a line break only where it differs from the one it detected in the
        # text it parsed: a chunk that detects others than the whole file would is not the file's tree
        if module.default_newline != first.default_newline or (
                module.default_indent != first.default_indent and _first_block(module) < len(module.body)):
            return None
    body = []
    for index, module in enumerate(modules):
        statements = list(module.body)
        if not statements or (module.footer and index < len(modules) - 1):
            return None
        if index and module.header:  # in a whole parse these lines lead the statement that follows them
            statements[0] = statements[0].with_changes(leading_lines=(*module.header, *statements[0].leading_lines))
        body.extend(statements)
    last = modules[-1]
    return first.with_changes(body=tuple(body), footer=last.footer, has_trailing_newline=last.has_trailing_newline)


def _full(source: str) -> _Parsed:
    module = _parse_in_chunks(source) or parse_module(source)
    codes = [module.code_for_node(statement) for statement in module.body]
    lengths = [len(code) for code in codes]
    ends: list[int] = []
    header = "".join(module.code_for_node(line) for line in module.header)
    header_length = len(header)
    exact = source.startswith(header + "".join(codes))
    if lengths:
        cursor = header_length
        for length in lengths:
            cursor += length
            ends.append(cursor)
        ends[-1] = len(source)
    return _Parsed(source, module, tuple(ends), _first_block(module), header_length, exact)


def _first_block(module: cst.Module) -> int:
    for index, statement in enumerate(module.body):
        if isinstance(getattr(statement, "body", None), cst.IndentedBlock):
            return index
    return len(module.body)


def _common_prefix(a: str, b: str) -> int:
    low, high = 0, min(len(a), len(b))
    while low < high:  # binary search on slices: C-speed comparisons instead of a Python loop per character
        middle = (low + high + 1) // 2
        if a[:middle] == b[:middle]:
            low = middle
        else:
            high = middle - 1
    return low


def _common_suffix(a: str, b: str, limit: int) -> int:
    low, high = 0, max(limit, 0)
    while low < high:
        middle = (low + high + 1) // 2
        if a[len(a) - middle:] == b[len(b) - middle:]:
            low = middle
        else:
            high = middle - 1
    return low


class IncrementalChecker:
    """``check_source`` for successive versions of one document, re-doing only what an edit touched. Not
    thread-safe: one document, one caller at a time."""

    def __init__(self) -> None:
        self.parser = IncrementalParser()
        self.cache = StatementCache()

    def check(self, source: str, path: str = "<string>", settings: Settings | None = None) -> CheckResult:
        """What ``check_source(source, path, settings)`` gives."""
        with collection_paused():
            return self._check(source, path, settings or Settings())

    def _check(self, source: str, path: str, settings: Settings) -> CheckResult:
        try:
            module = self.parser.parse(source)
        except cst.ParserSyntaxError as exc:
            return CheckResult((syntax_error_finding(exc, source),))  # the finding a full check gives, unparsed twice
        except RecursionError:
            return check_source(source, path, settings)
        rule_classes = rules_for_source(settings.enabled_rules(path), source)
        return check_module(module, source, path, settings, rule_classes, self.parser.layout(), self.cache)
