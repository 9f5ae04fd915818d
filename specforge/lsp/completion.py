"""Completion: the keys and values that fit where the cursor is, from the live registry.

:mod:`.cursor` says where the cursor is (tolerantly, on text that does not parse),
:mod:`.catalog` what may be written there; this module turns the entries into
completion items that replace the word under the cursor. Keys are inserted with
their colon (``units: ``; ``"units": `` in JSON), names as they are written
(quoted in JSON unless the cursor is already inside quotes).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from lsprotocol import types

from ..registry import Registry
from .analysis import Analysis
from .catalog import Entry, is_mapping_slot, keys_at, values_at
from .cursor import Cursor
from .positions import to_position

_KIND = {
    "key": types.CompletionItemKind.Property,
    "node_type": types.CompletionItemKind.Class,
    "activation": types.CompletionItemKind.Function,
    "initializer": types.CompletionItemKind.Function,
    "loss": types.CompletionItemKind.Function,
    "metric": types.CompletionItemKind.Function,
    "optimizer": types.CompletionItemKind.Module,
    "dataset": types.CompletionItemKind.Module,
    "preprocessor": types.CompletionItemKind.Module,
    "backend": types.CompletionItemKind.Module,
    "input": types.CompletionItemKind.Variable,
    "node": types.CompletionItemKind.Reference,
    "literal": types.CompletionItemKind.EnumMember,
}
_BARE = re.compile(r"^(true|false|null|-?[0-9][0-9.eE+-]*)$")


def entries_at(cursor: Cursor, analysis: Analysis, reg: Registry) -> tuple[list[Entry], bool]:
    """The entries for the cursor, and whether they are keys."""
    names = analysis.names(reg)
    if cursor.role == "key":
        present = {k for k in cursor.siblings if k != cursor.word}
        keys = keys_at(cursor.path, cursor.siblings, reg, names) or []
        return [e for e in keys if e.label not in present], True
    if cursor.bare_item and is_mapping_slot(cursor.path):
        return keys_at(cursor.path, {}, reg, names) or [], True
    return values_at(cursor.path, cursor.siblings, reg, names) or [], False


def completion(
    analysis: Analysis, cursor: Cursor | None, reg: Registry, encoding: str
) -> types.CompletionList:
    if cursor is None:
        return types.CompletionList(is_incomplete=False, items=[])
    entries, are_keys = entries_at(cursor, analysis, reg)
    json = analysis.format == "json"
    line = analysis.lines[cursor.line].rstrip("\r\n") if cursor.line < len(analysis.lines) else ""
    start, end = cursor.start, cursor.end
    quote = cursor.quote
    if json and quote and start > 0 and line[start - 1] == quote:
        start -= 1  # JSON: replace the whole string, quotes included
        if end < len(line) and line[end] == quote:
            end += 1
        quote = None
    rng = types.Range(
        start=to_position(analysis.lines, cursor.line + 1, start + 1, encoding),
        end=to_position(analysis.lines, cursor.line + 1, end + 1, encoding),
    )
    typed = line[start : cursor.start] + cursor.prefix
    items = []
    for i, entry in enumerate(entries):
        text = _insert_text(entry, are_keys, json, quote)
        items.append(
            types.CompletionItem(
                label=entry.label,
                kind=_KIND.get(entry.kind, types.CompletionItemKind.Value),
                detail=entry.detail or None,
                documentation=types.MarkupContent(
                    kind=types.MarkupKind.Markdown, value=entry.documentation
                )
                if entry.documentation
                else None,
                sort_text=f"{i:04d}",
                filter_text=(typed[:1] if typed[:1] in "\"'" and typed else "") + entry.label,
                text_edit=types.TextEdit(range=rng, new_text=text),
            )
        )
    return types.CompletionList(is_incomplete=False, items=items)


def _insert_text(entry: Entry, is_key: bool, json: bool, quote: str | None) -> str:
    if quote:  # inside a quoted string: the name alone
        return entry.label
    if is_key:
        return f'"{entry.label}": ' if json else f"{entry.label}: "
    if json and not _BARE.match(entry.label):
        return f'"{entry.label}"'
    return entry.label


def trigger_characters() -> Sequence[str]:
    """Characters after which editors ask for completion without a word typed."""
    return [" ", ":", "[", ",", '"']
