"""What the cursor is on, worked out from the text alone, so it works on text that does not parse.

While someone types, the spec is often not valid YAML (``    uni`` has no colon
yet), so completion cannot rely on the parser's spans. This module reads the
text the way the YAML grammar nests it, tolerantly: block structure by
indentation and ``- `` markers, flow collections (``{...}``, ``[...]``, and
whole JSON files) by brackets, commas and colons, skipping quoted strings,
comments and block scalars. The answer is a :class:`Cursor`: the spec path of
the mapping or value under the cursor (``("nodes", 2, "type")``), whether a key
or a value goes there, the word under the cursor, and the keys already present
in the enclosing mapping (read past the cursor too, so a node's ``type`` is
known wherever in the node the cursor is).

Everything here is plain Python on strings and 0-based (line, character) indexes;
the protocol layer converts LSP positions before calling :func:`cursor_at`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

Component = str | int
Role = Literal["key", "value"]

#: Characters of a name (an input or node name, a key, a registry name).
_WORD = re.compile(r"[A-Za-z0-9_.\-]*")
_WORD_BACK = re.compile(r"[A-Za-z0-9_.\-]*$")
#: A block mapping key at the start of the (indentation-stripped) text, and its colon.
_KEY = re.compile(
    r"""(?:"((?:[^"\\]|\\.)*)"|'((?:[^']|'')*)'|([^\s#'"{}\[\],&*!|>%@`](?:[^:#\n]|:(?![\s]|$))*?))"""
    r"""[ \t]*:(?:[ \t]+|$)"""
)
_ITEM = re.compile(r"-(?:[ \t]+|$)")


@dataclass
class Cursor:
    """Where the cursor is in the spec's structure.

    ``path`` is the path of the mapping a key is being written in (``role ==
    "key"``), or of the value under the cursor (``role == "value"``; a list item's
    path ends with its index). The word is ``line[start:end]``; ``prefix`` is its
    part before the cursor. ``quote`` is the quote character when the cursor is
    inside a quoted string. ``siblings`` maps the keys of the enclosing mapping to
    their scalar values (None for collections).
    """

    path: tuple[Component, ...]
    role: Role
    line: int
    start: int
    end: int
    word: str
    prefix: str
    quote: str | None = None
    siblings: dict[str, str | None] = field(default_factory=dict)
    #: True when a list item (``- ``) starts here with nothing after it yet: a mapping
    #: or a scalar may follow, so completion decides by the path.
    bare_item: bool = False


# ------------------------------------------------------------------ flow collections


class _Frame:
    __slots__ = ("component", "index", "is_map", "key", "keys", "state")

    def __init__(self, is_map: bool, component: Component | None) -> None:
        self.is_map = is_map
        self.component = component
        self.keys: dict[str, str | None] = {}
        self.key: str | None = None
        self.state = "key"  # in a mapping: whether a key or a value comes next
        self.index = 0  # in a sequence: the index of the current item


@dataclass
class _FlowAt:
    components: tuple[Component, ...]
    role: Role
    quote: str | None
    siblings: dict[str, str | None]


def _flow_scan(text: str, cursor: int, yaml: bool = True) -> _FlowAt | None:
    """Scan flow text (from an opening bracket) up to ``cursor`` and on to the end of the
    collection that holds it; None when the cursor is outside every collection."""
    frames: list[_Frame] = []
    snap: _FlowAt | None = None
    target: _Frame | None = None
    token: list[str] = []
    quoted = False
    i, n = 0, len(text)

    def take_snapshot(quote: str | None) -> None:
        nonlocal snap, target
        if not frames:
            return
        comps = tuple(f.component for f in frames[1:])  # type: ignore[misc]
        top = frames[-1]
        if top.is_map:
            if top.state == "value" and top.key is not None:
                snap = _FlowAt((*comps, top.key), "value", quote, top.keys)
            else:
                snap = _FlowAt(comps, "key", quote, top.keys)
        elif len(frames) > 1 and frames[-2].is_map:
            # An item of a list in a mapping (a node's inputs): the mapping's keys tell which
            # node it is, so read on to the mapping's end.
            snap = _FlowAt((*comps, top.index), "value", quote, frames[-2].keys)
            target = frames[-2]
            return
        else:
            snap = _FlowAt((*comps, top.index), "value", quote, {})
        target = top

    def finish_token() -> None:
        nonlocal quoted
        if frames and frames[-1].is_map:
            top = frames[-1]
            word = "".join(token).strip()
            if top.state == "value" and top.key is not None:
                top.keys.setdefault(top.key, word if (word or quoted) else None)
            elif word:
                top.keys.setdefault(word, None)
        token.clear()
        quoted = False

    while i < n:
        if i == cursor and snap is None:
            take_snapshot(None)
        c = text[i]
        if c in "\"'":
            j = i + 1
            chars: list[str] = []
            while j < n:
                d = text[j]
                if c == '"' and d == "\\" and j + 1 < n:
                    chars.append(text[j + 1])
                    j += 2
                    continue
                if d == c:
                    if c == "'" and j + 1 < n and text[j + 1] == "'":
                        chars.append("'")
                        j += 2
                        continue
                    break
                chars.append(d)
                j += 1
            if snap is None and i < cursor <= j:
                take_snapshot(c)
            token[:] = chars
            quoted = True
            i = j + 1
            continue
        if c == "#" and yaml and (i == 0 or text[i - 1] in " \t\r\n"):
            while i < n and text[i] not in "\r\n":
                i += 1
            continue
        if c in "{[":
            component: Component | None = None
            if frames:
                top = frames[-1]
                component = top.key if top.is_map else top.index
            token.clear()
            frames.append(_Frame(c == "{", component))
        elif c in "}]":
            finish_token()
            if frames:
                closed = frames.pop()
                if closed is target:
                    break
                if frames and frames[-1].is_map and frames[-1].key is not None:
                    frames[-1].keys.setdefault(frames[-1].key, None)
            if not frames and snap is not None:
                break
        elif c == ",":
            finish_token()
            if frames:
                top = frames[-1]
                if top.is_map:
                    top.state, top.key = "key", None
                else:
                    top.index += 1
        elif (
            c == ":"
            and frames
            and frames[-1].is_map
            and frames[-1].state == "key"
            and (quoted or i + 1 >= n or text[i + 1] in " \t\r\n,]}" or not yaml)
        ):
            top = frames[-1]
            top.key = "".join(token).strip()
            top.state = "value"
            token.clear()
            quoted = False
        elif c not in " \t\r\n" or token:
            token.append(c)
        i += 1
    if snap is None and cursor >= n:
        take_snapshot(None)
    return snap


# ------------------------------------------------------------------ block structure


class _Entry:
    """An open block collection entry: a key or a list item, with what is known of its value."""

    __slots__ = ("component", "indent", "items", "keys")

    def __init__(self, indent: int, component: Component | None) -> None:
        self.indent = indent
        self.component = component
        self.keys: dict[str, str | None] = {}
        self.items = 0

    @property
    def is_item(self) -> bool:
        return isinstance(self.component, int)


def _strip_comment(text: str) -> str:
    """``text`` without a trailing ``# comment`` (quotes respected)."""
    quote = None
    for i, c in enumerate(text):
        if quote:
            if c == quote:
                quote = None
        elif c in "\"'":
            quote = c
        elif c == "#" and (i == 0 or text[i - 1] in " \t"):
            return text[:i]
    return text


def _flow_depth(text: str, depth: int = 0) -> int:
    """Bracket depth after ``text`` (quotes and comments skipped), starting from ``depth``."""
    quote = None
    for i, c in enumerate(text):
        if quote:
            if c == quote:
                quote = None
        elif c in "\"'" and (depth > 0 or i == 0 or text[i - 1] in " \t[{,:"):
            quote = c
        elif c == "#" and (i == 0 or text[i - 1] in " \t"):
            break
        elif c in "[{":
            depth += 1
        elif c in "]}":
            depth -= 1
            if depth <= 0:
                return 0
    return depth


def _key_text(m: re.Match[str]) -> str:
    if m.group(1) is not None:
        return m.group(1)
    if m.group(2) is not None:
        return m.group(2).replace("''", "'")
    return m.group(3).rstrip()


class _Block:
    """The block-structure reader: feed it lines; it keeps the stack of open entries."""

    def __init__(self) -> None:
        self.root = _Entry(-1, None)
        self.stack: list[_Entry] = [self.root]
        #: An unclosed flow collection: (its parent entry's stack depth, text so far, depth).
        self.flow: tuple[int, str, int] | None = None
        #: Indentation that ends a block scalar (|, >) being skipped; None when not in one.
        self.scalar_indent: int | None = None

    def path(self) -> tuple[Component, ...]:
        return tuple(e.component for e in self.stack[1:])  # type: ignore[misc]

    def _pop_for_key(self, col: int) -> None:
        while len(self.stack) > 1 and self.stack[-1].indent >= col:
            self.stack.pop()

    def _pop_for_item(self, col: int) -> None:
        while len(self.stack) > 1 and (
            self.stack[-1].indent > col or (self.stack[-1].indent == col and self.stack[-1].is_item)
        ):
            self.stack.pop()

    def push_item(self, col: int) -> _Entry:
        self._pop_for_item(col)
        parent = self.stack[-1]
        entry = _Entry(col, parent.items)
        parent.items += 1
        self.stack.append(entry)
        return entry

    def push_key(self, col: int, key: str, value: str | None) -> _Entry:
        self._pop_for_key(col)
        parent = self.stack[-1]
        parent.keys.setdefault(key, value)
        entry = _Entry(col, key)
        self.stack.append(entry)
        return entry

    def feed(self, line: str) -> None:
        """Read one whole line (not the cursor's)."""
        body = line.rstrip("\r\n")
        if self.flow is not None:
            depth, text, level = self.flow
            level = _flow_depth(body, level)
            self.flow = None if level <= 0 else (depth, text + "\n" + body, level)
            return
        stripped = body.lstrip(" ")
        col = len(body) - len(stripped)
        if self.scalar_indent is not None:
            if not stripped.strip() or col > self.scalar_indent:
                return
            self.scalar_indent = None
        if not stripped.strip() or stripped.startswith("#") or stripped.startswith(("---", "...")):
            return
        rest = stripped
        while True:
            m = _ITEM.match(rest)
            if not m:
                break
            self.push_item(col)
            col += m.end()
            rest = rest[m.end() :]
        if not rest.strip():
            return
        key = _KEY.match(rest)
        if key:
            value = _strip_comment(rest[key.end() :]).strip()
            scalar = value if value and value[0] not in "[{|>&*!" else None
            if scalar and scalar[0] in "\"'" and len(scalar) > 1 and scalar[-1] == scalar[0]:
                scalar = scalar[1:-1]
            entry = self.push_key(col, _key_text(key), scalar)
            if value[:1] in ("|", ">"):
                self.scalar_indent = entry.indent  # its lines are indented further
            elif value[:1] in ("[", "{"):
                level = _flow_depth(value)
                if level > 0:
                    self.flow = (len(self.stack), value, level)
            return
        if rest[:1] in ("[", "{"):
            level = _flow_depth(rest)
            if level > 0:
                self.flow = (len(self.stack), rest, level)


def _word_at(line: str, col: int) -> tuple[int, int]:
    before = _WORD_BACK.search(line[:col])
    start = before.start() if before else col
    after = _WORD.match(line, col)
    end = after.end() if after else col
    return start, end


def _make(
    path: tuple[Component, ...],
    role: Role,
    line_no: int,
    line: str,
    col: int,
    quote: str | None,
    siblings: dict[str, str | None],
    bare_item: bool = False,
) -> Cursor:
    start, end = _word_at(line, col)
    return Cursor(
        path=path,
        role=role,
        line=line_no,
        start=start,
        end=end,
        word=line[start:end],
        prefix=line[start:col],
        quote=quote,
        siblings=dict(siblings),
        bare_item=bare_item,
    )


def _in_comment(line: str, col: int) -> bool:
    return len(_strip_comment(line[:col])) < col


def cursor_at(lines: Sequence[str], line_no: int, col: int, *, json: bool = False) -> Cursor | None:
    """What is at 0-based ``line_no``/``col`` (a character index) of the text split in
    ``lines`` (with or without line ends); None in a comment or outside the structure."""
    if not lines or line_no >= len(lines):
        return None
    line = lines[line_no].rstrip("\r\n")
    col = min(col, len(line))
    if json:
        return _cursor_in_flow(lines, line_no, col, line, (), 0, json=True)
    if _in_comment(line, col):
        return None
    block = _Block()
    for raw in lines[:line_no]:
        block.feed(raw)
    if block.flow is not None:  # the cursor is inside a flow collection opened above
        depth, text, _ = block.flow
        del block.stack[depth:]
        return _cursor_in_flow(lines, line_no, col, line, block.path(), 0, prefix_text=text)
    if block.scalar_indent is not None:
        stripped = line.lstrip(" ")
        if not stripped.strip() or len(line) - len(stripped) > block.scalar_indent:
            return None  # inside a block scalar (a description)
        block.scalar_indent = None
    before = line[:col]
    stripped = before.lstrip(" ")
    pos = len(before) - len(stripped)
    bare_item = False
    while True:
        m = _ITEM.match(line, pos)
        if not m or m.end() > col:
            break
        block.push_item(pos)
        bare_item = True
        pos = m.end()
    rest = line[pos:col]
    key = _KEY.match(line[pos:])
    if key and pos + key.end() <= col:
        value_start = pos + key.end()
        value = line[value_start:]
        block.push_key(pos, _key_text(key), None)
        lead = len(value) - len(value.lstrip())
        if value.lstrip()[:1] in ("[", "{") and value_start + lead < col:
            base = block.path()
            start = value_start + lead
            found = _cursor_in_flow(lines, line_no, col, line, base, start)
            if found is not None and not found.siblings and value.lstrip()[0] == "[":
                # A flow list as a key's value (`inputs: [a, b]` in a block node): the keys
                # around it are the block mapping's.
                found.siblings = dict(_block_siblings(block, lines, line_no, line, block.stack[-2]))
            return found
        path = block.path()
        sibs = _block_siblings(block, lines, line_no, line, container=block.stack[-2])
        return _make(path, "value", line_no, line, col, _open_quote(line[value_start:col]), sibs)
    if rest.lstrip()[:1] in ("[", "{"):
        start = pos + (len(rest) - len(rest.lstrip()))
        return _cursor_in_flow(lines, line_no, col, line, block.path(), start)
    if bare_item and not key:
        # `- word`: a list item (a name in a list, or the first key of a mapping item). The
        # mapping that holds the list says what it is for (whose inputs these are).
        path = block.path()
        outer = block.stack[-3] if len(block.stack) >= 3 and not block.stack[-2].is_item else None
        sibs = _block_siblings(block, lines, line_no, line, outer) if outer is not None else {}
        return _make(path, "value", line_no, line, col, _open_quote(rest), sibs, bare_item=True)
    if not bare_item:  # a key being written (or hovered) in the mapping at this indentation
        block._pop_for_key(pos)
    path = block.path()
    sibs = _block_siblings(block, lines, line_no, line)
    return _make(path, "key", line_no, line, col, _open_quote(rest), sibs)


def _open_quote(text: str) -> str | None:
    """The quote character if ``text`` ends inside a quoted string."""
    quote = None
    for c in text:
        if quote:
            if c == quote:
                quote = None
        elif c in "\"'":
            quote = c
    return quote


def _block_siblings(
    block: _Block,
    lines: Sequence[str],
    line_no: int,
    line: str,
    container: _Entry | None = None,
) -> dict[str, str | None]:
    """The keys of the block mapping that holds the cursor (``container``, else the top
    entry): those above, on the cursor's line, and below, read on until the mapping ends.

    Reads on with the same block reader, so ``block`` is used up: take its path first.
    """
    container = container or block.stack[-1]
    m = re.match(r"[ \t]*(?:-(?:[ \t]+|$))*", line)
    key = _KEY.match(line[m.end() if m else 0 :])
    if key:
        value = _strip_comment(line[(m.end() if m else 0) + key.end() :]).strip()
        container.keys.setdefault(_key_text(key), value or None)
    for raw in lines[line_no + 1 :]:
        block.feed(raw)
        if container not in block.stack:
            break
    return container.keys


def _cursor_in_flow(
    lines: Sequence[str],
    line_no: int,
    col: int,
    line: str,
    base: tuple[Component, ...],
    start: int,
    *,
    prefix_text: str | None = None,
    json: bool = False,
) -> Cursor | None:
    """The cursor inside a flow collection that starts at ``start`` on this line, or in
    ``prefix_text`` (the part on the lines above)."""
    if json:
        head = "".join(lines[:line_no])
        text = head + line + "".join(lines[line_no + 1 :])
        cursor = len(head) + col
        # A JSON file's top level is the spec: skip anything before the first bracket.
        first = min((i for i in (text.find("{"), text.find("[")) if i >= 0), default=-1)
        if first < 0 or first >= cursor:
            return None
        found = _flow_scan(text[first:], cursor - first, yaml=False)
    else:
        if prefix_text is not None:
            head = prefix_text + "\n"
            text = head + line + "\n" + "".join(lines[line_no + 1 :])
            cursor = len(head) + col
        else:
            text = line[start:] + "\n" + "".join(lines[line_no + 1 :])
            cursor = col - start
        found = _flow_scan(text, cursor)
    if found is None:
        return None
    return _make(
        (*base, *found.components), found.role, line_no, line, col, found.quote, found.siblings
    )
