"""The one door to libcst's parser. libcst parses with native code that recurses once per nesting level and has
no limit of its own: 2,000 nested parentheses or a 20,000-link attribute chain overflow its stack and kill the
process (SIGSEGV), and a few thousand levels of any kind take seconds to minutes. CPython's own parser stops
such text cleanly ("too many nested parentheses", a recursion limit) and is about twenty times faster than
libcst's, so every text passes CPython's parser first, and what CPython accepts passes a bounded depth count
of its tree; what fails either becomes a ``ParserSyntaxError``, which every caller already turns into a TL001
finding, instead of a crash.
"""

from __future__ import annotations

import ast
import re
import warnings

import libcst as cst

from .lines import line_texts

# Deeper than any real program (CPython itself stops at 200 nested brackets and 100 indented blocks); libcst
# needs well under a second for a chain this deep.
MAX_DEPTH = 500
_BRACKET_OR_BREAK = re.compile(r"[()\[\]{}\r\n]")
# On the path where CPython has rejected the text, the longest logical line libcst is given: a chain of nested
# operators needs at least a character per level, and libcst parses 2,000 levels of any kind in about a second.
MAX_LOGICAL_LINE = 2000
_NESTING_MESSAGES = ("too many nested parentheses", "too many levels of indentation", "too many statically nested")


def parse_module(source: str, config: cst.PartialParserConfig | None = None) -> cst.Module:
    """``libcst.parse_module`` for text that cannot crash it; raises ``libcst.ParserSyntaxError`` otherwise."""
    check_parsable(source)
    return cst.parse_module(source, config) if config is not None else cst.parse_module(source)


def check_parsable(source: str) -> None:
    """Raise ``libcst.ParserSyntaxError`` for text nested too deeply for libcst's parser."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. SyntaxWarning for "\d" in a string: not ours to report
            tree = compile(source, "<tensorlint>", "exec", ast.PyCF_ONLY_AST, dont_inherit=True)
    except (RecursionError, MemoryError):
        _refuse(source, "too deeply nested to parse", 1, 0)
    except SyntaxError as exc:
        message = str(exc.msg or "")
        line, column = exc.lineno or 1, max((exc.offset or 1) - 1, 0)
        if message.startswith(_NESTING_MESSAGES):
            _refuse(source, message, line, column)
        # Any other syntax error: syntax newer than this Python's may still be libcst's, so libcst gets the text,
        # unless a logical line is long enough to hide a chain deep enough to hurt it; then CPython's own
        # error is the answer (the text does not run on this Python either way).
        if _longest_logical_line(source) > MAX_LOGICAL_LINE:
            _refuse(source, message or "invalid syntax", line, column)
        return
    except ValueError as exc:  # a NUL byte or a lone surrogate: CPython stops before parsing
        if _longest_logical_line(source) > MAX_LOGICAL_LINE:
            _refuse(source, str(exc), 1, 0)
        return
    deepest = _too_deep(tree)
    if deepest is not None:
        line, column = deepest
        _refuse(source, f"too deeply nested to analyse (more than {MAX_DEPTH} levels)", line, column)


def _too_deep(tree: ast.AST) -> tuple[int, int] | None:
    """Where ``tree`` first goes deeper than MAX_DEPTH, or None. A node on one line is not entered when its
    width leaves no room for that depth (each level of a chain takes at least one character of it), so a normal
    module costs a walk of its statements and multi-line expressions only."""
    stack: list[tuple[ast.AST, int]] = [(tree, 0)]
    pop, push, children = stack.pop, stack.append, ast.iter_child_nodes
    while stack:
        node, depth = pop()
        if depth > MAX_DEPTH:
            return getattr(node, "lineno", 1), getattr(node, "col_offset", 0)
        for child in children(node):
            line = getattr(child, "lineno", None)
            if line is not None and child.end_lineno == line and \
                    2 * (child.end_col_offset - child.col_offset) + 8 < MAX_DEPTH - depth:
                continue
            if child._fields:
                push((child, depth + 1))
    return None


def _longest_logical_line(source: str) -> int:
    """The length of the longest run of text between line breaks outside brackets (strings and comments are
    not told apart: a bracket in one only makes the estimate longer)."""
    if len(source) <= MAX_LOGICAL_LINE:
        return len(source)
    longest = depth = start = 0
    for match in _BRACKET_OR_BREAK.finditer(source):
        char = match.group()
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth = max(depth - 1, 0)
        elif not depth:
            longest = max(longest, match.start() - start)
            start = match.end()
    return max(longest, len(source) - start)


def _refuse(source: str, message: str, line: int, column: int) -> None:
    raise cst.ParserSyntaxError(message, lines=line_texts(source), raw_line=line, raw_column=column)
