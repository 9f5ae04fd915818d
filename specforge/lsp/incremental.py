"""Re-parse only the lines that changed, when that provably equals parsing everything.

Most specs list nodes one per line as flow mappings (``  - {name: h, type: Dense,
units: 64}``), and most edits change, add or remove such lines. A flow mapping
on one line reads the same wherever it stands, so after such an edit the server
parses just the changed lines, splices their items into the previous document
and moves the positions of everything below by the number of lines added or
removed, instead of parsing 1,000 lines again. The check itself still runs on
the whole document: diagnostics are exactly those of ``validate``.

The splice is taken only when every condition for that sameness holds: YAML;
one contiguous run of changed lines, which before and after are all items of
the same block sequence holding one-line flow mappings with the same ``- ``
prefix, after an item of that sequence that ends on its own line (or replacing
items from the first one on, keeping at least one); no anchors, aliases or
tags on them; some text after them; no character that YAML, but not LSP, reads
as a line break; and the new lines parse alone without any diagnostic.
Anything else returns None and the caller parses the whole text.
``tests/lsp/test_incremental.py`` compares spliced documents with full parses.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from ..diagnostics import Span
from ..spec.load import Document, _SpanTree, loads, max_spec_bytes

#: A block-sequence item holding a flow mapping: indentation, "- ", then "{".
_ITEM = re.compile(r"( *- +)\{")
#: Deepest bracket nesting spliced: far below the loader's depth limit, whatever the context.
_MAX_NESTING = 16
#: Characters YAML reads as line breaks but LSP does not (NEL, LINE and PARAGRAPH SEPARATOR).
_YAML_ONLY_BREAKS = ("\x85", "\u2028", "\u2029")


def _changed_block(old: Sequence[str], new: Sequence[str]) -> tuple[int, int, int] | None:
    """(first changed line, end of the old run, end of the new run), 0-based, end-exclusive."""
    n = min(len(old), len(new))
    start = 0
    while start < n and old[start] == new[start]:
        start += 1
    if start == len(old) == len(new):
        return None
    tail = 0
    while tail < n - start and old[-1 - tail] == new[-1 - tail]:
        tail += 1
    return start, len(old) - tail, len(new) - tail


def _moved(span: Span, lines: int) -> Span:
    return Span(span.line + lines, span.column, span.end_line + lines, span.end_column)


def _shift(tree: _SpanTree, lines: int) -> _SpanTree:
    """A copy of ``tree`` with every span moved down by ``lines``."""
    out = _SpanTree()
    out.values = {k: _moved(s, lines) for k, s in tree.values.items()}
    if tree.keys is not None:
        out.keys = {k: _moved(s, lines) for k, s in tree.keys.items()}
    if tree.children is not None:
        out.children = {k: _shift(c, lines) for k, c in tree.children.items()}
    return out


def _shift_after(tree: _SpanTree, row: int, lines: int, skip: _SpanTree) -> None:
    """Move every position after 1-based line ``row`` down by ``lines``, in place (``skip``,
    the spliced sequence, is already done)."""
    children = tree.children or {}
    for key, span in list(tree.values.items()):
        child = children.get(key)
        if span.line > row:
            tree.values[key] = _moved(span, lines)
            if child is not None:
                children[key] = _shift(child, lines)
        elif span.end_line > row:  # a collection around the change: its end moves
            tree.values[key] = Span(span.line, span.column, span.end_line + lines, span.end_column)
            if child is not None and child is not skip:
                _shift_after(child, row, lines, skip)
    if tree.keys is not None:
        for key, span in list(tree.keys.items()):
            if span.line > row:
                tree.keys[key] = _moved(span, lines)


def _item_at(doc: Document, row: int) -> tuple[list[Any], _SpanTree, int] | None:
    """The block-sequence item whose value is a mapping exactly on 1-based line ``row``:
    (its list, the list's span tree, its index)."""
    data, tree = doc.data, doc._tree
    while tree is not None and isinstance(data, (dict, list)):
        found = next((k for k, s in tree.values.items() if s.line <= row <= s.end_line), None)
        if found is None:
            return None
        span = tree.values[found]
        child = tree.children.get(found) if tree.children else None
        if isinstance(data, list) and span.line == span.end_line == row:
            value = data[found]
            return (data, tree, found) if isinstance(value, dict) and child is not None else None
        if child is None:
            return None
        data, tree = data[found], child
    return None


def _items(lines: Sequence[str], prefix: str | None) -> str | None:
    """The common "- " prefix of ``lines`` if each is a one-line flow-mapping item, else None."""
    for raw in lines:
        line = raw.rstrip("\r\n")
        m = _ITEM.match(line)
        if not m or (prefix is not None and m.group(1) != prefix):
            return None
        if any(c in line for c in "&*!") or line.count("{") + line.count("[") > _MAX_NESTING:
            return None
        prefix = m.group(1)
    return prefix


def splice(
    previous: Document, old_lines: Sequence[str], text: str, lines: Sequence[str]
) -> Document | None:
    """``previous`` updated to ``text`` by parsing only its changed item lines, or None.

    ``old_lines``/``lines`` are the old and new texts split as
    :func:`.positions.split_lines` does. The previous document is updated in place
    (the caller drops it for the result).
    """
    if previous.format != "yaml" or not isinstance(previous.data, dict) or previous._tree is None:
        return None
    block = _changed_block(old_lines, lines)
    if block is None:
        return None
    start, old_end, new_end = block
    if not "".join(lines[new_end:]).strip():
        return None  # nothing after the change: the end of the collections could move
    old_block, new_block = old_lines[start:old_end], lines[start:new_end]
    prefix = _items(old_block, None)
    if old_block and prefix is None:
        return None
    prefix = _items(new_block, prefix)
    if prefix is None or (not new_block and not old_block):
        return None
    if any(c in text for c in _YAML_ONLY_BREAKS):
        return None  # YAML would number lines differently from LSP
    if len(text.encode("utf-8", "surrogatepass")) > max_spec_bytes():
        return None
    # Where the run sits: the first replaced item, or the item it is inserted after.
    if old_block:
        found = _item_at(previous, start + 1)
        if found is None:
            return None
        items, tree, first = found
    else:
        if start == 0 or _items(old_lines[start - 1 : start], prefix) is None:
            return None
        found = _item_at(previous, start)
        if found is None:
            return None
        items, tree, before = found
        first = before + 1
    removed, added = len(old_block), len(new_block)
    if first + removed > len(items) or (first == 0 and removed and not added):
        return None
    if removed == len(items) and not added:
        return None
    column = len(prefix) + 1  # where each mapping starts, 1-based
    for t in range(removed):
        span = tree.values[first + t]
        if span.line != span.end_line or span.line != start + 1 + t or span.column != column:
            return None
    if first > 0 and tree.values[first - 1].end_line > start:
        return None  # the item before ends inside the run (a block mapping item)
    parsed: list[Any] = []
    sub: _SpanTree | None = None
    if new_block:
        alone, diagnostics = loads("".join(new_block), previous.file, format="yaml")
        sub = alone._tree
        if diagnostics or not isinstance(alone.data, list) or len(alone.data) != added:
            return None
        if sub is None or sub.children is None:
            return None
        for t, value in enumerate(alone.data):
            span = sub.values[t]
            if not isinstance(value, dict) or t not in sub.children:
                return None
            if span.line != span.end_line or span.line != t + 1 or span.column != column:
                return None
        parsed = alone.data
    # Everything checks out: splice the items and move what follows.
    delta = added - removed
    old_values, old_children = tree.values, tree.children or {}
    values: dict[Any, Span] = {}
    children: dict[Any, _SpanTree] = {}
    for k in range(first):
        values[k] = old_values[k]
        if k in old_children:
            children[k] = old_children[k]
    for t in range(added):
        assert sub is not None and sub.children is not None
        values[first + t] = _moved(sub.values[t], start)
        children[first + t] = _shift(sub.children[t], start)
    for k in range(first + removed, len(items)):
        values[k + delta] = _moved(old_values[k], delta) if delta else old_values[k]
        if k in old_children:
            child = old_children[k]
            children[k + delta] = _shift(child, delta) if delta else child
    tree.values, tree.children = values, children
    if delta:
        _shift_after(previous._tree, old_end, delta, tree)
        root = previous._root
        if root is not None and root.end_line > old_end:
            previous._root = Span(root.line, root.column, root.end_line + delta, root.end_column)
    items[first : first + removed] = parsed
    previous.source = text
    return previous
