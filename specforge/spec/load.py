"""Read a YAML or JSON spec into plain data plus the source position of every value.

YAML: the loader builds values straight from the parser's event stream
(libyaml's C parser when available) instead of using a YAML constructor. That
one choice removes a family of hazards at once:

* no Python tags can ever be constructed: only the core YAML tags are known;
* the YAML 1.1 surprises are gone: scalars resolve by the YAML 1.2 core schema,
  so ``1e-3`` is the float 0.001, ``no``/``on`` stay strings, ``010`` is 10,
  dates stay strings and the non-specific tag (``! 12``) makes a string;
* duplicate keys are errors, with the position of both occurrences;
* aliases are counted and expanded sizes bounded (an alias bomb fails fast),
  self-referencing aliases are refused, and nesting depth is bounded, all
  without recursion, so no ``RecursionError`` is possible. libyaml 0.2.6 (in
  PyYAML 6.0.4's wheels) has a nesting limit of its own, 1,000 levels, which a
  line of brackets reaches before the builder sees its 65th: that error is turned
  into the same ``too-deep`` at the 65th level (see :func:`_too_deep_for_libyaml`).

JSON is read as JSON, not through the YAML parser. JSON is nearly YAML, but not
quite: YAML refuses characters JSON strings may hold (DEL, C1 controls, U+FFFF),
turns a raw U+0085 into a line break, limits keys to 1,024 characters and forbids
a line break before the colon, has no surrogate-pair escapes, and libyaml limits
nesting, while Python's ``json`` accepts ``NaN`` and ``Infinity``, which JSON
does not. Transliterating the text for the YAML parser would have to keep every
column (a raw DEL has no one-character YAML escape) or map positions back; a
JSON tokenizer (:func:`_build_json`, one regular expression plus ``json``'s C
string scanner) is shorter, exact and as fast. ``json.loads`` still checks the
text first, for its error messages. Both readers feed one :class:`_Builder`, so
limits, duplicate keys and positions work the same in both formats. Positions
are 1-based lines and columns counted in characters (not bytes); JSON lines end
at LF, CRLF or CR.

Errors are returned as :class:`~specforge.diagnostics.Diagnostic` objects, never
raised to the caller as tracebacks.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import json
import math
import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from json.decoder import scanstring
from pathlib import Path
from typing import Any, NamedTuple

import yaml
from yaml.events import (
    AliasEvent,
    DocumentStartEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
)

from ..diagnostics import Diagnostic, Related, Span

try:  # libyaml is an order of magnitude faster; the pure parser is the fallback.
    from yaml import CSafeLoader as _EventLoader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _EventLoader  # type: ignore[assignment]

Path_ = tuple[str | int, ...]

#: Largest spec file accepted, in bytes (override with SPECFORGE_MAX_SPEC_BYTES).
DEFAULT_MAX_BYTES = 2_000_000
#: Deepest nesting of mappings and sequences accepted.
MAX_DEPTH = 64
#: Most alias references (``*name``) in one document.
MAX_ALIASES = 1_000
#: Most values a document may expand to once aliases are followed.
MAX_VALUES = 1_000_000

#: The file name of diagnostics about a ``--set`` override (its line: the override's number).
OVERRIDE_FILE = "--set"

_CORE = "tag:yaml.org,2002:"
_INT = re.compile(r"^[-+]?[0-9]+$")
_OCT = re.compile(r"^0o[0-7]+$")
_HEX = re.compile(r"^0x[0-9a-fA-F]+$")
_FLOAT = re.compile(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")
_INF = re.compile(r"^[-+]?\.(inf|Inf|INF)$")
_NAN = re.compile(r"^\.(nan|NaN|NAN)$")
_NULL = {"", "~", "null", "Null", "NULL"}
_TRUE = {"true", "True", "TRUE"}
_FALSE = {"false", "False", "FALSE"}


class _SpanTree:
    """The positions inside one mapping or list, stored next to it.

    ``values[k]`` is the span of the value under key (or index) ``k``,
    ``keys[k]`` the span of the key itself, ``children[k]`` the tree of a
    nested collection. Small per-collection tables instead of one table keyed
    by full paths: nothing is allocated per value but the span itself, and
    lookups stay local, so loading stays linear for 10,000-node specs.
    """

    __slots__ = ("children", "keys", "values")

    def __init__(self) -> None:
        self.values: dict[Any, Span] = {}
        self.keys: dict[Any, Span] | None = None
        self.children: dict[Any, _SpanTree] | None = None


def _shifted(tree: _SpanTree, shift: Callable[[Span], Span]) -> _SpanTree:
    """A copy of ``tree`` with every span passed through ``shift``."""
    out = _SpanTree()
    out.values = {k: shift(v) for k, v in tree.values.items()}
    if tree.keys is not None:
        out.keys = {k: shift(v) for k, v in tree.keys.items()}
    if tree.children is not None:
        out.children = {k: _shifted(c, shift) for k, c in tree.children.items()}
    return out


class _SpanView(Mapping[Path_, Span]):
    """``Document.spans`` / ``Document.key_spans``: a read-only mapping of path -> span."""

    def __init__(self, doc: Document, keys: bool) -> None:
        self._doc, self._keys = doc, keys

    def __getitem__(self, path: Path_) -> Span:
        found = self._doc._lookup(tuple(path), self._keys)
        if found is None:
            raise KeyError(path)
        return found

    def __contains__(self, path: object) -> bool:
        return isinstance(path, tuple) and self._doc._lookup(path, self._keys) is not None

    def __iter__(self) -> Iterator[Path_]:
        doc = self._doc
        if doc._root is not None and not self._keys:
            yield ()
        stack: list[tuple[Path_, _SpanTree]] = [((), doc._tree)] if doc._tree is not None else []
        while stack:
            prefix, tree = stack.pop()
            table = tree.keys if self._keys else tree.values
            for k in table or ():
                yield (*prefix, k)
            for k, child in (tree.children or {}).items():
                stack.append(((*prefix, k), child))

    def __len__(self) -> int:
        return sum(1 for _ in self)


@dataclass
class Document:
    """A loaded spec: its data, its text, and where each value came from.

    ``spans[path]`` is the position of the value at ``path`` (a tuple of keys and
    list indexes, ``()`` for the whole document), ``key_spans[path]`` that of the
    key naming it; :meth:`span` falls back to the nearest ancestor.
    """

    data: Any
    file: str = "<spec>"
    source: str = ""
    format: str = "yaml"
    _root: Span | None = field(default=None, repr=False)
    _tree: _SpanTree | None = field(default=None, repr=False)
    #: The ``--set`` overrides applied to the data (:mod:`specforge.spec.overrides`).
    overrides: tuple[str, ...] = ()
    #: Overridden values are located on lines from this one on (0: no overrides);
    #: :meth:`repoint` moves diagnostics there to the ``--set`` argument.
    override_line: int = field(default=0, repr=False)

    @property
    def spans(self) -> Mapping[Path_, Span]:
        return _SpanView(self, keys=False)

    @property
    def key_spans(self) -> Mapping[Path_, Span]:
        return _SpanView(self, keys=True)

    def _lookup(self, path: Path_, keys: bool) -> Span | None:
        if not path:
            return None if keys else self._root
        tree = self._tree
        for k in path[:-1]:
            if tree is None or tree.children is None:
                return None
            try:
                tree = tree.children.get(k)
            except TypeError:  # an unhashable path element
                return None
        if tree is None:
            return None
        table = tree.keys if keys else tree.values
        try:
            return table.get(path[-1]) if table is not None else None
        except TypeError:
            return None

    def set_value(
        self,
        path: Path_,
        value: Any,
        span: Span,
        key_span: Span | None = None,
        positions: Document | None = None,
        shift: Callable[[Span], Span] | None = None,
    ) -> None:
        """Put ``value`` at ``path`` (its parent must exist) and locate it at ``span``.

        Used by overrides (:mod:`specforge.spec.overrides`): the positions inside
        ``value`` are those of the document ``positions`` it was read from, each
        passed through ``shift``, so diagnostics about it point where it was written.
        """
        if not path:
            raise ValueError("set_value needs a non-empty path")
        parent: Any = self.data
        for k in path[:-1]:
            parent = parent[k]
        last = path[-1]
        if isinstance(parent, list) and isinstance(last, int) and last == len(parent):
            parent.append(value)
        else:
            parent[last] = value
        if self._tree is None:
            self._tree = _SpanTree()
        tree = self._tree
        for k in path[:-1]:
            if tree.children is None:
                tree.children = {}
            tree = tree.children.setdefault(k, _SpanTree())
        tree.values[last] = span
        if key_span is not None and isinstance(last, str):
            if tree.keys is None:
                tree.keys = {}
            tree.keys[last] = key_span
        sub = positions._tree if positions is not None else None
        if tree.children is not None:
            tree.children.pop(last, None)
        if sub is not None:
            if tree.children is None:
                tree.children = {}
            tree.children[last] = _shifted(sub, shift or (lambda s: s))

    def span(self, path: Path_, *, key: bool = False) -> Span:
        """The span of the value (or key) at ``path``, else of its nearest ancestor."""
        p = tuple(path)
        if key:
            found = self._lookup(p, True)
            if found is not None:
                return found
        while p:
            found = self._lookup(p, False) or self._lookup(p, True)
            if found is not None:
                return found
            p = p[:-1]
        return self._root or Span(1, 1, 1, 2)

    def transformed(self, change: Callable[[Any], Any]) -> Document:
        """A document whose data is ``change(copy of the data)``, its positions carried over.

        ``change`` gets a fresh copy of every mapping and list (the scalars are
        shared) and may edit it in place (returning None) or return new data.
        Positions follow the values, not the paths: a mapping or list keeps its
        spans wherever it moves, a scalar moved to a new key of the same mapping
        (a renamed key) keeps its value's and its key's, a changed value keeps
        the old value's, and anything new falls back to its nearest ancestor.
        So diagnostics on a migrated spec point into the file as written.
        """
        keep: list[Any] = []  # the copies stay alive: ids are not reused while we map them
        origin: dict[int, tuple[Any, _SpanTree | None]] = {}

        def copy(value: Any, tree: _SpanTree | None) -> Any:
            root = _shallow(value)
            stack = [(root, value, tree)]
            while stack:
                new, old, t = stack.pop()
                keep.append(new)
                origin[id(new)] = (old, t)
                for k, v in new.items() if isinstance(new, dict) else enumerate(new):
                    if isinstance(v, (dict, list)):
                        child = _shallow(v)
                        new[k] = child
                        sub = t.children.get(k) if t is not None and t.children else None
                        stack.append((child, v, sub))
            return root

        data = copy(self.data, self._tree) if isinstance(self.data, (dict, list)) else self.data
        result = change(data)
        data = data if result is None else result
        out = Document(data, self.file, self.source, self.format, self._root)
        if isinstance(data, (dict, list)) and self._tree is not None:
            out._tree = _carry_spans(data, origin, self._tree)
        return out

    def diagnostic(
        self,
        code: str,
        message: str,
        path: Path_ = (),
        *,
        key: bool = False,
        help: str | None = None,
        severity: str = "error",
        related: tuple[tuple[Path_, str], ...] = (),
    ) -> Diagnostic:
        """A diagnostic at ``path``; ``related`` names other places it concerns: (path, message)."""
        return self.repoint(
            Diagnostic(
                code=code,
                message=message,
                severity=severity,  # type: ignore[arg-type]
                file=self.file,
                span=self.span(path, key=key),
                help=help,
                related=tuple(Related(self.span(p), m) for p, m in related),
            )
        )

    @property
    def sources(self) -> dict[str, str]:
        """The text of each file a diagnostic may name: the spec, and ``--set`` (one line each)."""
        out = {self.file: self.source}
        if self.overrides:
            out[OVERRIDE_FILE] = "\n".join(self.overrides)
        return out

    def repoint(self, d: Diagnostic) -> Diagnostic:
        """``d``, moved to the ``--set`` argument that wrote the value it is about."""
        start = self.override_line
        if not start or d.file != self.file or d.span.line < start:
            return d
        line = d.span.line - start + 1
        end_line = d.span.end_line - start + 1 if d.span.end_line >= start else line
        span = Span(line, d.span.column, end_line, d.span.end_column)
        return dataclasses.replace(d, file=OVERRIDE_FILE, span=span)


def _shallow(value: Any) -> Any:
    return dict(value) if isinstance(value, dict) else list(value)


def _carry_spans(
    data: Any, origin: dict[int, tuple[Any, _SpanTree | None]], root_tree: _SpanTree
) -> _SpanTree:
    """The span tree of ``data``, edited from copies recorded in ``origin`` (see transformed)."""
    root = _SpanTree()
    stack: list[tuple[Any, _SpanTree]] = [(data, root)]
    while stack:
        container, tree = stack.pop()
        old, old_tree = origin.get(id(container), (None, None))
        old_map = isinstance(old, dict)
        by_identity: dict[int, Any] | None = None
        is_map = isinstance(container, dict)
        for k, v in container.items() if is_map else enumerate(container):
            src = None
            if old_tree is not None:
                # the identity of the original value: a copied container stands for the one it copies
                ident = id(origin[id(v)][0]) if id(v) in origin else id(v)
                has_k = (k in old) if old_map else (isinstance(k, int) and 0 <= k < len(old))
                if has_k and id(old[k]) == ident:
                    src = k
                else:
                    if by_identity is None:
                        by_identity = {}
                        for j, w in old.items() if old_map else enumerate(old):
                            by_identity.setdefault(id(w), j)
                    j = by_identity.get(ident)
                    if j is not None and not (is_map and j in container):
                        src = j  # moved (a renamed key, a reordered item)
                    elif has_k:
                        src = k  # a new value in the old place
            if src is not None and old_tree is not None:
                span = old_tree.values.get(src)
                if span is not None:
                    tree.values[k] = span
                if old_tree.keys is not None and src in old_tree.keys:
                    if tree.keys is None:
                        tree.keys = {}
                    tree.keys[k] = old_tree.keys[src]
            if isinstance(v, (dict, list)):
                child = _SpanTree()
                if tree.children is None:
                    tree.children = {}
                tree.children[k] = child
                stack.append((v, child))
    return root


class _LoadError(Exception):
    def __init__(
        self,
        code: str,
        message: str,
        span: Span,
        help: str | None = None,
        related: tuple[Related, ...] = (),
    ):
        super().__init__(message)
        self.code, self.message, self.span, self.help = code, message, span, help
        self.related = related


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Pause CPython's cyclic garbage collector while a large acyclic structure is built.

    Loading and checking a spec allocate a few objects per YAML event and free
    nothing until the end, so the collector would traverse the growing heap
    again and again: for a 10,000-node spec that is a quarter of the time and
    makes it grow faster than linearly. Nothing built here forms reference
    cycles, so nothing is lost by collecting once, afterwards. Nested uses are
    fine; the collector is only re-enabled by the use that paused it.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _span(start: Any, end: Any) -> Span:
    return Span(start.line + 1, start.column + 1, end.line + 1, end.column + 1)


#: First characters of plain scalars that may resolve to something other than a string.
_NON_STRING_START = frozenset("0123456789+-.~nNtTfF")
#: Python refuses to convert longer digit strings to int (sys.int_info.str_digits_check_threshold).
_MAX_INT_DIGITS = 4000


def _resolve_plain(value: str) -> Any:
    """Resolve a plain (unquoted, untagged) scalar by the YAML 1.2 core schema."""
    if not value:
        return None
    if value[0] not in _NON_STRING_START:
        return value  # the common case: a name such as 'relu' or 'Dense'
    if value in _NULL:
        return None
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    if _INT.match(value):
        if len(value) > _MAX_INT_DIGITS:
            raise ValueError(f"integer with {len(value):,} digits")
        return int(value)
    if _OCT.match(value):
        return int(value[2:], 8)
    if _HEX.match(value):
        return int(value[2:], 16)
    if _FLOAT.match(value):
        return float(value)
    if _INF.match(value):
        return -math.inf if value.startswith("-") else math.inf
    if _NAN.match(value):
        return math.nan
    return value


def _tag_text(tag: str) -> str:
    """A tag as people write it: ``!!python/name:os.system``, not the expanded URI."""
    return "!!" + tag[len(_CORE) :] if tag.startswith(_CORE) else tag


def _forbidden_tag(tag: str, span: Span) -> _LoadError:
    return _LoadError(
        "forbidden-tag",
        f"tag '{_tag_text(tag)}' is not allowed in a spec",
        span,
        "specs are data: remove the tag (only !!str, !!int, !!float, !!bool and !!null are accepted)",
    )


_TAG_WORDS = {"int": "an integer", "float": "a number", "bool": "true or false", "null": "null"}


def _plain_value(value: str, span: Span) -> Any:
    try:
        return _resolve_plain(value)
    except ValueError:
        raise _LoadError(
            "invalid-value",
            f"the number '{value[:20]}...' has {len(value):,} digits, too many for a spec",
            span,
            "write a smaller number",
        ) from None


def _scalar(event: Any, span: Span) -> Any:
    tag = event.tag
    if tag is None:
        plain = event.implicit[0] and event.style in (None, "")
        return _plain_value(event.value, span) if plain else event.value
    if tag == "!":  # the non-specific tag: a string, whatever the text looks like
        return event.value
    if not tag.startswith(_CORE):
        raise _forbidden_tag(tag, span)
    kind = tag[len(_CORE) :]
    value = event.value
    if kind == "str":
        return value
    expected = {"int": int, "float": float, "bool": bool, "null": type(None)}.get(kind)
    if expected is None:
        raise _forbidden_tag(tag, span)
    converted = _plain_value(value, span)
    if expected is float and isinstance(converted, int) and not isinstance(converted, bool):
        converted = float(converted)
    if not isinstance(converted, expected) or (expected is int and isinstance(converted, bool)):
        raise _LoadError(
            "wrong-type",
            f"'{value}' is not a valid !!{kind}",
            span,
            f"write {_TAG_WORDS[kind]} or remove the tag",
        )
    return converted


class _Frame:
    """An open mapping or sequence while the event stream is turned into data."""

    __slots__ = ("anchor", "is_map", "key", "seen_keys", "size", "start", "tree", "value")

    def __init__(self, is_map: bool, start: Any, anchor: str | None) -> None:
        self.is_map = is_map
        self.value: Any = {} if is_map else []
        self.tree = _SpanTree()
        self.start = start
        self.anchor = anchor
        self.size = 1
        #: In a mapping: the key whose value comes next, in a 1-tuple (None: a key comes next).
        self.key: tuple[Any] | None = None
        self.seen_keys: dict[Any, tuple[Span, str]] = {}


def _events(text: str, loader_class: Any = None) -> Iterator[Any]:
    """The YAML parser's events for ``text`` (libyaml's unless ``loader_class`` is given)."""
    loader = (loader_class or _EventLoader)(text)
    try:
        while loader.check_event():
            yield loader.get_event()
    finally:
        loader.dispose()


def _key_not_plain(span: Span) -> _LoadError:
    return _LoadError(
        "wrong-type",
        "a mapping key must be a plain value, not a mapping or list",
        span,
        "write keys as plain names",
    )


class _Builder:
    """Data and span trees from a stream of values, opened and closed collections.

    The part shared by the YAML reader (:func:`_build`) and the JSON reader
    (:func:`_build_json`): nesting depth, duplicate keys, keys that are not
    plain, and the positions of every value. No recursion, constant work per
    value: a 10,000-node spec loads in linear time.
    """

    __slots__ = ("doc", "root", "stack")

    def __init__(self, doc: Document) -> None:
        self.doc = doc
        self.root: Any = None
        self.stack: list[_Frame] = []

    def add(
        self, value: Any, span: Span, size: int, tree: _SpanTree | None, text: str | None = None
    ) -> None:
        """Put a finished value (``size`` values, positions ``tree``) where it belongs."""
        stack = self.stack
        if not stack:
            self.root = value
            self.doc._root, self.doc._tree = span, tree
            return
        top = stack[-1]
        top.size += size
        table = top.tree
        if not top.is_map:
            index = len(top.value)
            table.values[index] = span
            if tree is not None:
                if table.children is None:
                    table.children = {}
                table.children[index] = tree
            top.value.append(value)
            return
        if top.key is None:  # this value is a key
            if isinstance(value, (dict, list)):
                raise _key_not_plain(span)
            shown = text if text is not None else str(value)
            first = top.seen_keys.get(value)
            if first is not None:
                first_span, first_text = first
                same = (
                    "" if first_text == shown else f", which means the same key as '{first_text}'"
                )
                raise _LoadError(
                    "duplicate-key",
                    f"duplicate key '{shown}'{same} (first defined at line {first_span.line})",
                    span,
                    "each key may appear once in a mapping: remove or rename one of them",
                    (Related(first_span, f"'{first_text}' first defined here"),),
                )
            top.seen_keys[value] = (span, shown)
            top.key = (value,)
            if table.keys is None:
                table.keys = {}
            table.keys[value] = span
            return
        key = top.key[0]
        table.values[key] = span
        if tree is not None:
            if table.children is None:
                table.children = {}
            table.children[key] = tree
        top.value[key] = value
        top.key = None

    def open(
        self, is_map: bool, start: Any, end: Any, anchor: str | None = None, tag: str | None = None
    ) -> None:
        """Start a mapping or sequence between the marks ``start`` and ``end`` of its opening."""
        stack = self.stack
        if len(stack) >= MAX_DEPTH:
            raise _LoadError(
                "too-deep",
                f"values are nested more than {MAX_DEPTH} levels deep",
                _span(start, end),
                "a spec needs only a few levels of nesting: flatten the structure",
            )
        if tag is not None and tag not in ("!", _CORE + ("map" if is_map else "seq")):
            raise _forbidden_tag(tag, _span(start, end))
        if stack and stack[-1].is_map and stack[-1].key is None:
            raise _key_not_plain(_span(start, end))
        stack.append(_Frame(is_map, start, anchor))

    def close(self, end: Any) -> _Frame:
        """End the innermost collection at the mark ``end``; return its frame."""
        frame = self.stack.pop()
        self.add(frame.value, _span(frame.start, end), frame.size, frame.tree)
        return frame


def _build(events: Iterable[Any], doc: Document) -> Any:
    """Turn a YAML event stream into data, filling ``doc``'s spans; raise _LoadError."""
    builder = _Builder(doc)
    add = builder.add
    anchors: dict[str, tuple[Any, int, _SpanTree | None]] = {}
    open_anchors: set[str] = set()
    aliases = 0
    total = 0
    documents = 0
    for event in events:
        cls = event.__class__
        if cls is ScalarEvent:
            total += 1
            span = _span(event.start_mark, event.end_mark)
            value = _scalar(event, span)
            if event.anchor:
                anchors[event.anchor] = (value, 1, None)
            add(value, span, 1, None, event.value)
            continue
        if cls is MappingStartEvent or cls is SequenceStartEvent:
            total += 1
            builder.open(
                cls is MappingStartEvent, event.start_mark, event.end_mark, event.anchor, event.tag
            )
            if event.anchor:
                open_anchors.add(event.anchor)
            continue
        if cls is MappingEndEvent or cls is SequenceEndEvent:
            frame = builder.close(event.end_mark)
            if frame.anchor:
                open_anchors.discard(frame.anchor)
                anchors[frame.anchor] = (frame.value, frame.size, frame.tree)
            continue
        if cls is AliasEvent:
            span = _span(event.start_mark, event.end_mark)
            aliases += 1
            if event.anchor in open_anchors:
                raise _LoadError(
                    "recursive-alias",
                    f"alias '*{event.anchor}' refers to a collection that contains it",
                    span,
                    "a spec must be a tree: remove the self-reference",
                )
            if event.anchor not in anchors:
                raise _LoadError(
                    "yaml-syntax",
                    f"alias '*{event.anchor}' refers to an undefined anchor",
                    span,
                    f"define '&{event.anchor}' before using it",
                )
            if aliases > MAX_ALIASES:
                raise _LoadError(
                    "alias-limit",
                    f"more than {MAX_ALIASES} aliases in one spec",
                    span,
                    "write the values out, or use fewer anchors",
                )
            value, size, tree = anchors[event.anchor]
            total += size
            if total > MAX_VALUES:
                raise _LoadError(
                    "alias-limit",
                    f"aliases expand the spec to more than {MAX_VALUES:,} values (an alias bomb?)",
                    span,
                    "nested aliases multiply: write the values out instead",
                )
            # Positions inside an aliased collection are those of the anchored original.
            add(value, span, size, tree)
            continue
        if cls is DocumentStartEvent:
            documents += 1
            if documents > 1:
                raise _LoadError(
                    "multiple-documents",
                    "the file holds more than one YAML document",
                    _span(event.start_mark, event.end_mark),
                    "put one spec per file (remove the '---' separator)",
                )
            continue
        # StreamStart, StreamEnd, DocumentEnd: nothing to build.
    if documents == 0:
        return None
    return builder.root


def _not_utf8(raw: bytes, err: UnicodeDecodeError) -> Span:
    before = raw[: err.start]
    line = before.count(b"\n") + 1
    col = err.start - (before.rfind(b"\n") + 1) + 1
    return Span(line, col, line, col + 1)


# ---------------------------------------------------------------- JSON


class _Mark(NamedTuple):
    """A position in a JSON text, 0-based like the YAML parser's marks."""

    line: int
    column: int


#: One JSON token, named by its kind. Spaces and tabs match nothing and are skipped;
#: line breaks are tokens (to count lines); any other character is ``other``, an error
#: (a string holding a raw control character, which JSON forbids, included).
_JSON_TOKEN = re.compile(
    r'(?P<string>"[^"\\\x00-\x1f]*(?:\\[^\x00-\x1f][^"\\\x00-\x1f]*)*")'
    r"|(?P<newline>\r\n?|\n)|(?P<comma>,)|(?P<colon>:)|(?P<open>[\[{])|(?P<close>[\]}])"
    r"|(?P<number>-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?)"
    r"|(?P<word>true|false|null)|(?P<constant>NaN|-?Infinity)|(?P<other>[^ \t])"
)
_SURROGATE = re.compile("[\ud800-\udfff]")
_JSON_HELP = "check for a missing comma, quote or bracket near here"
#: A string, or a constant that Python's json accepts and JSON does not (group 1).
_JSON_CONSTANT = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|(NaN|-?Infinity)')
#: What may come next. The text has passed ``json.loads`` (unless it nests too deeply for
#: its recursion), so this grammar is a safety net, not the source of error messages.
_VALUE, _FIRST_VALUE, _KEY, _FIRST_KEY, _COLON, _AFTER = range(6)
_VALUES = frozenset((_VALUE, _FIRST_VALUE))
_CLOSES = frozenset((_AFTER, _FIRST_KEY, _FIRST_VALUE))


def _json_position(text: str, index: int) -> tuple[int, int]:
    """1-based line and column of ``text[index]``; JSON's line breaks are LF, CRLF and CR."""
    before = text[:index]
    line = before.count("\n") + before.count("\r") - before.count("\r\n") + 1
    col = index - (max(before.rfind("\n"), before.rfind("\r")) + 1) + 1
    return line, col


def _json_syntax(text: str, index: int, message: str) -> _LoadError:
    line, col = _json_position(text, index)
    return _LoadError(
        "json-syntax", f"invalid JSON: {message}", Span(line, col, line, col + 1), _JSON_HELP
    )


def _json_string(text: str, start: int, end: int, line: int, line_start: int) -> str:
    """The value of the string token ``text[start:end]``, which holds a backslash."""
    try:
        value, _ = scanstring(text, start + 1)
    except ValueError as e:  # json.JSONDecodeError: a bad escape
        raise _json_syntax(text, getattr(e, "pos", start), str(getattr(e, "msg", e))) from None
    half = _SURROGATE.search(value)
    if half is not None:  # "\ud800" alone: Python would keep it, and fail to print it later
        raise _LoadError(
            "json-syntax",
            f"invalid JSON: '\\u{ord(half.group()):04x}' is half of a surrogate pair,"
            " not a character",
            Span(line + 1, start - line_start + 1, line + 1, end - line_start + 1),
            "write the character itself, or both halves of its surrogate pair",
        )
    return value


def _build_json(text: str, doc: Document) -> Any:
    """Turn a JSON text into data, filling ``doc``'s spans; raise _LoadError.

    JSON is read as JSON, not as YAML: YAML refuses characters that JSON allows
    in strings (DEL, C1 controls, U+FFFF), turns a raw U+0085 into a line break,
    limits keys to 1,024 characters, has no surrogate-pair escapes, and libyaml
    limits nesting on its own. One regular expression finds the tokens, ``json``'s
    C string scanner decodes strings with escapes, numbers and words resolve as
    the same plain YAML scalars would, and :class:`_Builder` does the rest, as
    for YAML.
    """
    builder = _Builder(doc)
    add, stack = builder.add, builder.stack
    line = line_start = 0
    expect = _VALUE
    for m in _JSON_TOKEN.finditer(text):
        kind = m.lastgroup
        start, end = m.span()
        if kind == "newline":
            line += 1
            line_start = end
            continue
        if kind == "string":
            token = m.group()
            value = (
                _json_string(text, start, end, line, line_start) if "\\" in token else token[1:-1]
            )
            if expect in _VALUES:
                expect = _AFTER
            elif expect in (_KEY, _FIRST_KEY):
                expect = _COLON
            else:
                raise _json_syntax(text, start, "unexpected string")
            add(
                value,
                Span(line + 1, start - line_start + 1, line + 1, end - line_start + 1),
                1,
                None,
                value,
            )
        elif kind == "comma":
            if expect != _AFTER or not stack:
                raise _json_syntax(text, start, "unexpected ','")
            expect = _KEY if stack[-1].is_map else _VALUE
        elif kind == "colon":
            if expect != _COLON:
                raise _json_syntax(text, start, "unexpected ':'")
            expect = _VALUE
        elif kind == "number" or kind == "word":
            if expect not in _VALUES:
                raise _json_syntax(text, start, f"unexpected {m.group()!r}")
            expect = _AFTER
            token = m.group()
            span = Span(line + 1, start - line_start + 1, line + 1, end - line_start + 1)
            add(_plain_value(token, span), span, 1, None, token)
        elif kind == "open":
            if expect not in _VALUES:
                raise _json_syntax(text, start, f"unexpected {m.group()!r}")
            is_map = m.group() == "{"
            builder.open(is_map, _Mark(line, start - line_start), _Mark(line, end - line_start))
            expect = _FIRST_KEY if is_map else _FIRST_VALUE
        elif kind == "close":
            is_map = m.group() == "}"
            if not stack or stack[-1].is_map is not is_map or expect not in _CLOSES:
                raise _json_syntax(text, start, f"unexpected {m.group()!r}")
            builder.close(_Mark(line, end - line_start))
            expect = _AFTER
        elif kind == "constant":
            raise _not_finite(text, start, m.group())
        else:
            raise _json_syntax(text, start, f"unexpected character {m.group()!r}")
    if stack or expect != _AFTER:
        raise _json_syntax(text, len(text), "unexpected end of the file")
    return builder.root


def _not_finite(text: str, index: int, word: str) -> _LoadError:
    line, col = _json_position(text, index)
    return _LoadError(
        "json-syntax",
        f"invalid JSON: {word} is not a JSON value (JSON has no NaN or infinity)",
        Span(line, col, line, col + len(word)),
        "write a number, or null",
    )


class _NotFinite(ValueError):
    """NaN, Infinity or -Infinity, which ``json.loads`` accepts and JSON does not."""


def _refuse_constant(name: str) -> Any:
    raise _NotFinite(name)


def _check_json(text: str) -> None:
    """Raise the first JSON syntax error in ``text`` as a _LoadError, at its position.

    ``json.loads`` words the errors; numbers are not converted (a 5,000-digit
    integer is :func:`_build_json`'s to report). A text too deep for
    ``json.loads``'s recursion is left to :func:`_build_json`, which checks the
    grammar too and stops at :data:`MAX_DEPTH`.
    """
    try:
        json.loads(text, parse_int=str, parse_float=str, parse_constant=_refuse_constant)
    except _NotFinite:  # the text is valid JSON up to the constant: find it
        found = next((m for m in _JSON_CONSTANT.finditer(text) if m.group(1)), None)
        if found is None:  # pragma: no cover - json.loads met one, so there is one
            raise _json_syntax(text, 0, "NaN or infinity") from None
        raise _not_finite(text, found.start(), found.group(1)) from None
    except json.JSONDecodeError as e:
        raise _json_syntax(text, e.pos, e.msg) from None
    except RecursionError:
        pass


def _reader_error(e: yaml.reader.ReaderError, text: str) -> _LoadError:
    """A character YAML refuses (a control character): point at it, not at 1:1."""
    pos = max(0, int(e.position))
    if _EventLoader.__name__.startswith("C"):  # libyaml counts UTF-8 bytes, not characters
        pos = len(text.encode("utf-8", "surrogatepass")[:pos].decode("utf-8", "ignore"))
    pos = min(pos, len(text))
    line = text.count("\n", 0, pos) + 1
    col = pos - (text.rfind("\n", 0, pos) + 1) + 1
    char = e.character
    what = f"U+{char:04X}" if isinstance(char, int) else repr(char)
    return _LoadError(
        "yaml-syntax",
        f"invalid YAML: character {what} is not allowed ({e.reason})",
        Span(line, col, line, col + 1),
        "the file contains bytes that are not text: is this really a spec file?",
    )


def _yaml_error(e: yaml.YAMLError, text: str) -> _LoadError:
    if isinstance(e, yaml.reader.ReaderError):
        return _reader_error(e, text)
    mark = getattr(e, "problem_mark", None) or getattr(e, "context_mark", None)
    problem = getattr(e, "problem", None) or str(e)
    context = getattr(e, "context", None)
    span = Span(mark.line + 1, mark.column + 1, mark.line + 1, mark.column + 2) if mark else Span()
    message = f"invalid YAML: {problem}"
    if context:
        cmark = getattr(e, "context_mark", None)
        same_place = (
            cmark is None or mark is None or (cmark.line, cmark.column) == (mark.line, mark.column)
        )
        where = "" if same_place else f" at line {cmark.line + 1}, column {cmark.column + 1}"
        message += f" ({context}{where})"
    lines = text.splitlines()
    line = lines[mark.line] if mark is not None and 0 <= mark.line < len(lines) else ""
    at = line[mark.column : mark.column + 1] if mark is not None else ""
    help_ = "check the indentation and the brackets and quotes near here"
    if at == "\t" or "\t" in problem or "'\\t'" in problem:
        help_ = "YAML does not allow tab characters for indentation: use spaces"
    elif "special characters" in problem or "control characters" in problem:
        help_ = "the file contains bytes that are not text: is this really a spec file?"
    return _LoadError("yaml-syntax", message, span, help_)


#: What libyaml >= 0.2.6 says when a text nests more than its own limit (1,000 levels).
_LIBYAML_NESTING = "exceeded maximum nesting depth"


def _load_yaml(text: str, doc: Document) -> Any:
    """Build a YAML text with libyaml's parser; its errors become ``yaml-syntax``."""
    try:
        return _build(_events(text), doc)
    except yaml.YAMLError as e:
        if _LIBYAML_NESTING in str(getattr(e, "problem", None) or ""):
            raise _too_deep_for_libyaml(text, e, doc) from None
        raise _yaml_error(e, text) from None


def _too_deep_for_libyaml(text: str, err: yaml.YAMLError, doc: Document) -> _LoadError:
    """The ``too-deep`` error, where the 65th level starts, for a text libyaml refused.

    libyaml 0.2.6 (in the wheels of PyYAML 6.0.4 and later) refuses 1,000 nested
    levels itself. Nesting on one line is read ahead by its scanner (any ``[`` may
    start a key) before ``_build`` sees a single event of it, so that error comes
    first, at the 1,000th level. Parse again: the text up to the refused bracket
    with libyaml (within its limit now, and fast), else the whole text with the
    pure-Python parser (no limit; slower, but it streams). Either reaches
    :data:`MAX_DEPTH` first and raises ``too-deep`` as with an older libyaml.
    """
    mark = getattr(err, "problem_mark", None)
    index = getattr(mark, "index", -1)  # libyaml counts characters here (not bytes)
    attempts: list[tuple[str, Any]] = [(text, yaml.SafeLoader)]
    if 0 < index < len(text) and text[index] in "[{":
        attempts.insert(0, (text[:index], _EventLoader))
    for part, loader_class in attempts:
        try:
            _build(_events(part, loader_class), doc)
        except _LoadError as e:
            return e
        except yaml.YAMLError as e:
            if part is text:  # a real syntax error before the 65th level
                return _yaml_error(e, text)
    span = _span(mark, mark) if mark is not None else Span()
    return _LoadError(
        "too-deep",
        f"values are nested more than {MAX_DEPTH} levels deep",
        Span(span.line, span.column, span.line, span.column + 1),
        "a spec needs only a few levels of nesting: flatten the structure",
    )


def max_spec_bytes() -> int:
    """The size limit: ``SPECFORGE_MAX_SPEC_BYTES`` if set, else :data:`DEFAULT_MAX_BYTES`.

    A value that is not a positive integer raises :class:`SpecFileError` (an
    environment error: the CLI exits with code 2).
    """
    raw = os.environ.get("SPECFORGE_MAX_SPEC_BYTES", "").strip()
    if not raw:
        return DEFAULT_MAX_BYTES
    try:
        value = int(raw.replace("_", ""))
    except ValueError:
        value = 0
    if value <= 0:
        raise SpecFileError(f"SPECFORGE_MAX_SPEC_BYTES={raw!r} is not a positive number of bytes")
    return value


def loads(
    text: str | bytes,
    file: str = "<spec>",
    *,
    format: str | None = None,
    max_bytes: int | None = None,
) -> tuple[Document, list[Diagnostic]]:
    """Parse spec text. Returns the document and any load diagnostics.

    Problems in the text are diagnostics, never exceptions; only an invalid
    ``SPECFORGE_MAX_SPEC_BYTES`` setting raises :class:`SpecFileError`.
    """
    if max_bytes is None:
        max_bytes = max_spec_bytes()
    fmt = format or ("json" if str(file).lower().endswith(".json") else "yaml")
    doc = Document(data=None, file=str(file), format=fmt)

    def fail(err: _LoadError) -> tuple[Document, list[Diagnostic]]:
        return doc, [
            Diagnostic(err.code, err.message, "error", doc.file, err.span, err.help, err.related)
        ]

    raw = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else bytes(text)
    if len(raw) > max_bytes:
        return fail(
            _LoadError(
                "too-large",
                f"spec is {len(raw):,} bytes, more than the limit of {max_bytes:,}",
                Span(1, 1, 1, 2),
                "set SPECFORGE_MAX_SPEC_BYTES to raise the limit if this is intended",
            )
        )
    if isinstance(text, str):
        decoded = text
    else:
        try:
            decoded = raw.decode("utf-8-sig")
        except UnicodeDecodeError as e:
            return fail(
                _LoadError(
                    "not-utf8",
                    "the file is not UTF-8 text",
                    _not_utf8(raw, e),
                    "a spec must be a UTF-8 YAML or JSON text file",
                )
            )
    doc.source = decoded
    if not decoded.strip():
        return fail(
            _LoadError(
                "empty-file",
                "the spec is empty",
                Span(1, 1, 1, 1),
                "a spec starts with 'specforge: 2'; run 'specforge schema' for the format",
            )
        )
    if "\x00" in decoded:
        i = decoded.index("\x00")
        line = decoded.count("\n", 0, i) + 1
        col = i - (decoded.rfind("\n", 0, i) + 1) + 1
        return fail(
            _LoadError(
                "not-utf8",
                "the file contains NUL bytes: it is binary, not text",
                Span(line, col, line, col + 1),
                "a spec must be a UTF-8 YAML or JSON text file",
            )
        )
    try:
        with gc_paused():
            if fmt == "json":
                _check_json(decoded)
                doc.data = _build_json(decoded, doc)
            else:
                doc.data = _load_yaml(decoded, doc)
    except _LoadError as e:
        return fail(e)
    except (RecursionError, MemoryError) as e:  # pragma: no cover - bounded above
        return fail(_LoadError("too-deep", f"could not load the spec: {type(e).__name__}", Span()))
    if doc.data is None:
        return fail(
            _LoadError(
                "empty-file",
                "the spec is empty",
                Span(1, 1, 1, 1),
                "a spec starts with 'specforge: 2'; run 'specforge schema' for the format",
            )
        )
    return doc, []


class SpecFileError(OSError):
    """The spec file cannot be read at all (a usage/environment error, exit code 2)."""


def load(
    path: str | os.PathLike[str], *, max_bytes: int | None = None
) -> tuple[Document, list[Diagnostic]]:
    """Read and parse a spec file; an unreadable file raises :class:`SpecFileError`."""
    p = Path(path)
    try:
        if p.is_dir():
            raise SpecFileError(f"{p}: is a directory, not a spec file")
        limit = max_bytes if max_bytes is not None else max_spec_bytes()
        size = p.stat().st_size
        if size > limit:
            doc = Document(data=None, file=str(path))
            return doc, [
                Diagnostic(
                    "too-large",
                    f"spec is {size:,} bytes, more than the limit of {limit:,}",
                    "error",
                    str(path),
                    Span(1, 1, 1, 2),
                    "set SPECFORGE_MAX_SPEC_BYTES to raise the limit if this is intended",
                )
            ]
        raw = p.read_bytes()
    except FileNotFoundError:
        raise SpecFileError(f"{path}: no such file") from None
    except PermissionError:
        raise SpecFileError(f"{path}: permission denied") from None
    except SpecFileError:
        raise
    except OSError as e:
        raise SpecFileError(f"{path}: {e.strerror or e}") from None
    return loads(raw, str(path), max_bytes=max_bytes)
