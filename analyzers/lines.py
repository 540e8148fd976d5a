"""Lines as Python's tokenizer, libcst and LSP count them: only ``\\n``, ``\\r\\n`` and ``\\r`` end a line.

``str.splitlines()`` also breaks at ``\\x0b``, ``\\x0c``, ``\\x1c``-``\\x1e``, ``\\x85``, ``\\u2028`` and ``\\u2029``,
which Python treats as ordinary characters (a form feed is whitespace), so line numbers taken from it drift
away from the engine's after such a character. Everything that maps a line number to text goes through here.
"""

from __future__ import annotations

import re

LINE_BREAK = re.compile(r"\r\n|\r|\n")
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")


def lines_with_breaks(text: str) -> list[str]:
    """The lines of ``text``, each with its own line break (the last one may have none)."""
    return _LINE.findall(text)


def line_texts(text: str) -> list[str]:
    """The lines of ``text`` without their breaks; a final line break is followed by an empty line."""
    if "\r" not in text:
        return text.split("\n")
    return LINE_BREAK.split(text)


def line_starts(text: str) -> list[int]:
    """The offset where each line of ``text`` starts."""
    if "\r" not in text:
        starts = [0]
        index = text.find("\n")
        while index != -1:
            starts.append(index + 1)
            index = text.find("\n", index + 1)
        return starts
    return [0, *(match.end() for match in LINE_BREAK.finditer(text))]


def line_text(text: str, line_no: int) -> str:
    """Line ``line_no`` (1-based) of ``text`` without its break; ``""`` past the end."""
    if "\r" in text:
        lines = line_texts(text)
        return lines[line_no - 1] if 1 <= line_no <= len(lines) else ""
    start = 0
    for _ in range(line_no - 1):
        start = text.find("\n", start) + 1
        if start == 0:
            return ""
    end = text.find("\n", start)
    return text[start:] if end == -1 else text[start:end]
