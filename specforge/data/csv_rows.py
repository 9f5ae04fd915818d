"""Rows of a CSV file as the stdlib ``csv`` module sees them, for what pandas cannot say.

pandas' C parser reads the numbers (:mod:`specforge.data.csv`); this module
reads the first row (the header, or the width of a headerless file) and, only
when something is wrong, walks the rows again to say which line and column it
is. A row here is a non-blank row: lines that are empty or hold only
whitespace are skipped, as pandas skips them, so row ``i`` here is row ``i``
of pandas' table.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterator
from typing import TextIO

from .dataset import DataError

#: Longest line read while looking for the header: a "CSV" of gigabytes with
#: no newline is refused instead of being read into memory.
MAX_LINE = 64 * 1024 * 1024


def _blank(row: list[str]) -> bool:
    return not row or (len(row) == 1 and not row[0].strip())


def _bounded_lines(fh: TextIO, path: str) -> Iterator[str]:
    line_no = 0
    while True:
        line = fh.readline(MAX_LINE + 1)
        if not line:
            return
        line_no += 1
        if len(line) > MAX_LINE and not line.endswith("\n"):
            raise DataError(
                f"{path}: line {line_no} is longer than {MAX_LINE // (1024 * 1024)} MiB",
                help="check that the file really is a CSV table (one row per line)",
            )
        yield line


def _open(path: str) -> TextIO:
    try:
        return open(path, newline="", encoding="utf-8-sig")
    except OSError as exc:
        raise DataError(
            f"cannot read {path}: {exc.strerror or exc}", looked_in=[os.path.abspath(path)]
        ) from exc


def iter_rows(path: str, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """Every non-blank row with its 1-based physical line, read with the ``csv`` module."""
    with _open(path) as fh:
        reader = csv.reader(_bounded_lines(fh, path), delimiter=delimiter)
        try:
            for row in reader:
                if not _blank(row):
                    yield reader.line_num, row
        except UnicodeDecodeError as exc:
            raise not_utf8(path, exc) from exc
        except csv.Error as exc:
            raise DataError(f"{path} is not valid CSV: {exc}") from exc
        except OSError as exc:
            raise DataError(
                f"cannot read {path}: {exc.strerror or exc}", looked_in=[os.path.abspath(path)]
            ) from exc


def first_row(path: str, delimiter: str) -> tuple[int, list[str]] | None:
    """The first non-blank row and its line, or None for a file without one."""
    rows = iter_rows(path, delimiter)
    try:
        return next(rows, None)
    finally:
        rows.close()


def not_utf8(path: str, exc: UnicodeDecodeError) -> DataError:
    return DataError(
        f"{path} is not UTF-8 text ({exc.reason} at byte {exc.start})",
        help="convert the file to UTF-8, or check that it really is a CSV file",
    )


def line_of(path: str, delimiter: str, row: int, *, header: bool) -> int:
    """The physical line of data row ``row`` (0-based, after the header if there is one)."""
    for i, (line, _) in enumerate(iter_rows(path, delimiter)):
        if i == row + header:
            return line
    return -1
