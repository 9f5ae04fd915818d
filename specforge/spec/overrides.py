"""``--set key.path=value``: change a loaded spec's values from the command line.

An override is applied to the :class:`~specforge.spec.load.Document` before it
is checked, so an overridden value is validated exactly like one in the file.
Path parts are mapping keys, list indexes (``nodes.0.units``) or, in a list of
named items, the item's ``name`` (or an output's ``node``): ``nodes.hidden1.units``.
Values are YAML 1.2 scalars read by the spec loader (``1e-3`` a float, ``true``
a bool, ``null`` None) or flow collections (``[64, 32]``).

Overridden values are located on lines after the file's last one (override
``i`` on line ``override_line + i - 1``); :meth:`Document.repoint` moves any
diagnostic there to the file ``--set``, line ``i``, the column inside the
argument, so a bad value is shown under the argument that wrote it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..diagnostics import Diagnostic, Span, did_you_mean
from .load import OVERRIDE_FILE, Document, loads

#: Keys that name the items of a list, in the order they are tried.
_NAME_KEYS = ("name", "node")


class _OverrideError(Exception):
    def __init__(self, code: str, message: str, start: int, end: int, help: str | None = None):
        super().__init__(message)
        self.code, self.message, self.start, self.end, self.help = code, message, start, end, help


def _parts(text: str) -> tuple[list[tuple[str, int, int]], str, int]:
    """``key.path=value`` -> ([(part, start, end)], value text, value start); 0-based columns."""
    eq = text.find("=")
    if eq < 0:
        raise _OverrideError(
            "override-syntax",
            f"'{text}' is not an override: expected key.path=value",
            0,
            len(text),
            "write e.g. --set optimizer.learning_rate=1e-3",
        )
    parts, start = [], 0
    for piece in text[:eq].split("."):
        end = start + len(piece)
        if not piece.strip():
            raise _OverrideError(
                "override-syntax",
                "an empty key in the override's path",
                start,
                max(end, start + 1),
                "separate keys with single dots: nodes.hidden1.units=64",
            )
        parts.append((piece.strip(), start, end))
        start = end + 1
    return parts, text[eq + 1 :], eq + 1


def _describe(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return "a value"
    if isinstance(value, (int, float)):
        return "a number"
    return "a string" if isinstance(value, str) else "a value"


def _item_names(items: list[Any]) -> list[str]:
    names = []
    for item in items:
        if isinstance(item, dict):
            names.extend(str(item[k]) for k in _NAME_KEYS if isinstance(item.get(k), str))
    return names


def _find_item(items: list[Any], part: str, where: str, start: int, end: int) -> int:
    if part.lstrip("-").isdigit():
        index = int(part)
        if 0 <= index < len(items):
            return index
        raise _OverrideError(
            "override-path",
            f"'{where}' has {len(items)} item(s): there is no index {index}",
            start,
            end,
            f"use an index from 0 to {len(items) - 1}, or an item's name"
            if items
            else "the list is empty",
        )
    for key in _NAME_KEYS:
        for i, item in enumerate(items):
            if isinstance(item, dict) and item.get(key) == part:
                return i
    names = _item_names(items)
    raise _OverrideError(
        "override-path",
        f"'{where}' has no item named '{part}'",
        start,
        end,
        did_you_mean(part, names) or ("items: " + ", ".join(names) if names else None),
    )


def _value(text: str) -> tuple[Any, Document | None, Diagnostic | None]:
    """The YAML value written after ``=`` (None for nothing), its positions, or its error."""
    if not text.strip():
        return None, None, None
    doc, diags = loads(text, OVERRIDE_FILE, format="yaml")
    if diags:
        # ``null`` and ``~`` load as an empty document: the value None.
        return None, None, None if diags[0].code == "empty-file" else diags[0]
    value = doc.data
    if isinstance(value, (dict, list)) and not text.lstrip().startswith(("[", "{")):
        return text, None, None  # 'a: b' is a string here, not a block mapping
    return value, doc, None


def _apply_one(doc: Document, text: str, line: int) -> None:
    parts, value_text, value_col = _parts(text)

    def at(start: int, end: int) -> Span:
        return Span(line, start + 1, line, max(end, start + 1) + 1)

    value, positions, error = _value(value_text)
    if error is not None:
        s = error.span
        raise _OverrideError(
            error.code,
            error.message,
            value_col + s.column - 1,
            value_col + (s.end_column - 1 if s.end_line == s.line else len(value_text)),
            error.help,
        )
    path: list[str | int] = []
    cur: Any = doc.data
    for i, (part, start, end) in enumerate(parts):
        last = i == len(parts) - 1
        where = ".".join(p for p, _, _ in parts[:i]) or "the spec"
        if isinstance(cur, dict):
            if part not in cur and not last:
                doc.set_value((*path, part), {}, at(start, end), at(start, end))
            path.append(part)
        elif isinstance(cur, list):
            path.append(_find_item(cur, part, where, start, end))
        else:
            raise _OverrideError(
                "override-path",
                f"'{where}' is {_describe(cur)} ({cur!r}), so it has no '{part}'",
                start,
                end,
                f"set '{where}' itself: --set {where}=VALUE",
            )
        if not last:
            cur = cur[path[-1]]
    key_start, key_end = parts[-1][1], parts[-1][2]
    value_end = len(text)

    def shift(s: Span) -> Span:
        if s.line != 1:
            return s
        end_col = s.end_column if s.end_line == 1 else len(value_text) + 1
        return Span(line, value_col + s.column, line, value_col + end_col)

    doc.set_value(
        tuple(path),
        value,
        at(value_col, value_end) if value_end > value_col else at(key_start, key_end),
        at(key_start, key_end),
        positions,
        shift,
    )


def apply_overrides(doc: Document, overrides: Sequence[str]) -> list[Diagnostic]:
    """Apply ``overrides`` (``key.path=value`` strings) to ``doc`` in order; later ones win.

    Returns the diagnostics of those that cannot be applied (located in ``--set``);
    the others are applied. ``doc.overrides`` records all of them.
    """
    if not overrides:
        return []
    doc.overrides = tuple(overrides)
    doc.override_line = max(
        doc.source.count("\n") + 2, (doc._root.end_line if doc._root else 0) + 1
    )
    diags: list[Diagnostic] = []
    if not isinstance(doc.data, dict):
        return diags  # the checker reports the document itself
    for i, text in enumerate(overrides):
        try:
            _apply_one(doc, text, doc.override_line + i)
        except _OverrideError as e:
            span = Span(i + 1, e.start + 1, i + 1, max(e.end, e.start + 1) + 1)
            diags.append(Diagnostic(e.code, e.message, "error", OVERRIDE_FILE, span, e.help))
    return diags
