"""Spans (1-based, in characters) to LSP positions (0-based, in the client's code units) and back.

A :class:`~specforge.diagnostics.Span` counts columns in Unicode characters, as
Python strings do; LSP counts them in UTF-16 code units unless the client
negotiated UTF-8 or UTF-32. On an ASCII line they agree, so the conversion only
does work on lines that hold other characters.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from lsprotocol import types

from ..diagnostics import Span


def _units(text: str, encoding: str) -> int:
    if text.isascii() or encoding == types.PositionEncodingKind.Utf32:
        return len(text)
    if encoding == types.PositionEncodingKind.Utf8:
        return len(text.encode("utf-8", "surrogatepass"))
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def to_position(
    lines: Sequence[str], line: int, column: int, encoding: str = "utf-16"
) -> types.Position:
    """The LSP position of 1-based ``line``/``column`` (characters), clamped to the text."""
    if not lines:
        return types.Position(line=0, character=0)
    if line - 1 >= len(lines):  # past the last line (an error at the end of the file)
        row = len(lines) - 1
        return types.Position(line=row, character=_units(_strip_eol(lines[row]), encoding))
    row = max(line - 1, 0)
    text = _strip_eol(lines[row])
    col = min(max(column - 1, 0), len(text))
    return types.Position(line=row, character=_units(text[:col], encoding))


def to_range(lines: Sequence[str], span: Span, encoding: str = "utf-16") -> types.Range:
    start = to_position(lines, span.line, span.column, encoding)
    end = to_position(lines, span.end_line, span.end_column, encoding)
    if (end.line, end.character) < (start.line, start.character):
        end = start
    return types.Range(start=start, end=end)


def from_position(
    lines: Sequence[str], position: types.Position, encoding: str = "utf-16"
) -> tuple[int, int]:
    """The 0-based line and character index (Python string index) of an LSP position."""
    if not lines:
        return 0, 0
    row = min(max(position.line, 0), len(lines) - 1)
    text = _strip_eol(lines[row])
    want = max(position.character, 0)
    if text.isascii() or encoding == types.PositionEncodingKind.Utf32:
        return row, min(want, len(text))
    units = 0
    for i, ch in enumerate(text):
        if units >= want:
            return row, i
        units += _units(ch, encoding)
    return row, len(text)


_EOL = re.compile(r"\r\n|\r|\n")


def split_lines(text: str) -> list[str]:
    """The text's lines with their ends, numbered as LSP numbers them (only CR, LF, CRLF
    end a line; the empty line after a final line end is included)."""
    lines, start = [], 0
    for m in _EOL.finditer(text):
        lines.append(text[start : m.end()])
        start = m.end()
    lines.append(text[start:])
    return lines


def _strip_eol(line: str) -> str:
    return line.rstrip("\r\n")
