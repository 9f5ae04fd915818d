"""Names across a spec: go to definition, find references, rename, and the outline.

An input or node name is *defined* by ``inputs[i].name`` / ``nodes[i].name`` and
*referenced* by a node's ``inputs`` (one name or a list), an output's ``node``,
and the keys of ``data.feeds`` (inputs) and ``data.targets`` (outputs, which are
node names). Positions come from the parsed document's spans. When the current
text does not parse, the last good parse is used, keeping only the places whose
text still reads the same name, so a stale position is never edited.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from lsprotocol import types

from ..diagnostics import Span
from ..spec.load import Document, Path_
from ..spec.models import NAME_PATTERN
from .analysis import Analysis
from .positions import to_range

_NAME = re.compile(NAME_PATTERN)
_NAME_CHAR = re.compile(r"[A-Za-z0-9_.\-]")


@dataclass(frozen=True)
class Occurrence:
    """One place a name is written: its definition or a reference."""

    name: str
    #: "input" or "node": what the name is defined as (for references: what it resolves to).
    kind: str
    definition: bool
    #: The name's own characters (without quotes), 1-based and end-exclusive.
    span: Span
    path: Path_


def _inner(span: Span, lines: Sequence[str], name: str) -> Span | None:
    """The span of ``name``'s characters: without quotes, and None if the text differs
    (a stale span from an older parse)."""
    if span.line != span.end_line or not 1 <= span.line <= len(lines):
        return None
    text = lines[span.line - 1]
    raw = text[span.column - 1 : span.end_column - 1]
    if raw == name:
        before = text[span.column - 2 : span.column - 1] if span.column > 1 else ""
        after = text[span.end_column - 1 : span.end_column]
        if _NAME_CHAR.match(before) or _NAME_CHAR.match(after):
            return None  # the name has grown or shrunk since: not this name any more
        return span
    if len(raw) == len(name) + 2 and raw[0] in "\"'" and raw[-1] == raw[0] and raw[1:-1] == name:
        return Span(span.line, span.column + 1, span.end_line, span.end_column - 1)
    return None


def occurrences(doc: Document, lines: Sequence[str]) -> list[Occurrence]:
    """Every definition of and reference to an input or node name, in document order."""
    data = doc.data
    if not isinstance(data, dict):
        return []
    found: list[tuple[str, str, bool, Path_, bool]] = []  # name, kind, definition, path, is key
    inputs: set[str] = set()
    for i, item in enumerate(_list(data.get("inputs"))):
        if isinstance(item, dict) and isinstance(item.get("name"), str):
            inputs.add(item["name"])
            found.append((item["name"], "input", True, ("inputs", i, "name"), False))
    for i, item in enumerate(_list(data.get("nodes"))):
        if not isinstance(item, dict):
            continue
        if isinstance(item.get("name"), str):
            found.append((item["name"], "node", True, ("nodes", i, "name"), False))
        refs = item.get("inputs")
        if isinstance(refs, str):
            found.append((refs, "?", False, ("nodes", i, "inputs"), False))
        for j, ref in enumerate(_list(refs)):
            if isinstance(ref, str):
                found.append((ref, "?", False, ("nodes", i, "inputs", j), False))
    for i, item in enumerate(_list(data.get("outputs"))):
        if isinstance(item, dict) and isinstance(item.get("node"), str):
            found.append((item["node"], "node", False, ("outputs", i, "node"), False))
    section = data.get("data")
    if isinstance(section, dict):
        for key, kind in (("feeds", "input"), ("targets", "node")):
            table = section.get(key)
            if isinstance(table, dict):
                for name in table:
                    if isinstance(name, str):
                        found.append((name, kind, False, ("data", key, name), True))
    out = []
    for name, kind, definition, path, is_key in found:
        span = (doc.key_spans if is_key else doc.spans).get(path)
        inner = _inner(span, lines, name) if span is not None else None
        if inner is not None:
            if kind == "?":
                kind = "input" if name in inputs else "node"
            out.append(Occurrence(name, kind, definition, inner, path))
    return out


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _contains(span: Span, line: int, col: int) -> bool:
    """Whether 0-based ``line``/``col`` is on the span (its end included: the cursor after a name)."""
    return span.line - 1 == line and span.column - 1 <= col <= span.end_column - 1


def occurrence_at(
    analysis: Analysis, line: int, col: int
) -> tuple[Occurrence | None, list[Occurrence]]:
    """The occurrence under the cursor (0-based line, character index) and all occurrences."""
    doc = analysis.parsed
    if doc is None:
        return None, []
    every = occurrences(doc, [ln.rstrip("\r\n") for ln in analysis.lines])
    for occ in every:
        if _contains(occ.span, line, col):
            return occ, every
    return None, every


def _location(analysis: Analysis, span: Span, encoding: str) -> types.Location:
    return types.Location(uri=analysis.uri, range=to_range(analysis.lines, span, encoding))


def definition(analysis: Analysis, line: int, col: int, encoding: str) -> list[types.Location]:
    occ, every = occurrence_at(analysis, line, col)
    if occ is None:
        return []
    return [
        _location(analysis, o.span, encoding) for o in every if o.definition and o.name == occ.name
    ]


def references(
    analysis: Analysis, line: int, col: int, encoding: str, include_declaration: bool
) -> list[types.Location]:
    occ, every = occurrence_at(analysis, line, col)
    if occ is None:
        return []
    return [
        _location(analysis, o.span, encoding)
        for o in every
        if o.name == occ.name and (include_declaration or not o.definition)
    ]


def prepare_rename(analysis: Analysis, line: int, col: int, encoding: str) -> types.Range | None:
    occ, _ = occurrence_at(analysis, line, col)
    return to_range(analysis.lines, occ.span, encoding) if occ is not None else None


class RenameError(ValueError):
    """The rename cannot be done; the message says why (shown by the editor)."""


def rename(
    analysis: Analysis, line: int, col: int, new_name: str, encoding: str
) -> types.WorkspaceEdit | None:
    """Every occurrence of the name under the cursor, renamed; None when it is not a name."""
    occ, every = occurrence_at(analysis, line, col)
    if occ is None:
        return None
    if not _NAME.match(new_name) or len(new_name) > 128:
        raise RenameError(
            f"'{new_name}' is not a valid name: start with a letter or '_' and use only "
            "letters, digits, '_', '-' and '.'"
        )
    if new_name != occ.name and any(o.definition and o.name == new_name for o in every):
        raise RenameError(f"'{new_name}' is already the name of an input or node")
    edits = [
        types.TextEdit(range=to_range(analysis.lines, o.span, encoding), new_text=new_name)
        for o in every
        if o.name == occ.name
    ]
    return types.WorkspaceEdit(changes={analysis.uri: edits})


# ------------------------------------------------------------------ outline


def _symbol(
    name: str,
    detail: str,
    kind: types.SymbolKind,
    span: Span,
    select: Span,
    analysis: Analysis,
    encoding: str,
    children: list[types.DocumentSymbol] | None = None,
) -> types.DocumentSymbol:
    rng = to_range(analysis.lines, span, encoding)
    sel = to_range(analysis.lines, select, encoding)
    if not _inside(sel, rng):
        sel = types.Range(start=rng.start, end=rng.start)
    return types.DocumentSymbol(
        name=name,
        detail=detail or None,
        kind=kind,
        range=rng,
        selection_range=sel,
        children=children,
    )


def _inside(inner: types.Range, outer: types.Range) -> bool:
    def key(p: types.Position) -> tuple[int, int]:
        return p.line, p.character

    return key(outer.start) <= key(inner.start) and key(inner.end) <= key(outer.end)


def _section_span(doc: Document, key: str) -> Span:
    start = doc.key_spans.get((key,)) or doc.span((key,))
    end = doc.span((key,))
    return Span(start.line, start.column, end.end_line, end.end_column)


def document_symbols(analysis: Analysis, encoding: str) -> list[types.DocumentSymbol]:
    """The outline: the top-level sections; inputs, nodes and outputs with one child each."""
    doc = analysis.parsed
    if doc is None or not isinstance(doc.data, dict):
        return []
    data = doc.data
    graph = analysis.graph
    shapes = {n.name: n for n in graph.nodes} if graph is not None else {}
    out = []
    for key, value in data.items():
        if not isinstance(key, str) or (key,) not in doc.spans:
            continue
        children: list[types.DocumentSymbol] = []
        if key in ("inputs", "nodes", "outputs"):
            for i, item in enumerate(_list(value)):
                if not isinstance(item, dict):
                    continue
                field = "node" if key == "outputs" else "name"
                name = item.get(field)
                if not isinstance(name, str) or not name:
                    continue
                path = (key, i)
                select = doc.spans.get((*path, field)) or doc.span(path)
                if key == "inputs":
                    detail, kind = f"shape {item.get('shape')}", types.SymbolKind.Variable
                elif key == "nodes":
                    node = shapes.get(name)
                    detail = str(item.get("type", ""))
                    if node is not None:
                        detail += (
                            f" → {_shape(node.output_shape)}, {node.param_count.total:,} params"
                        )
                    kind = types.SymbolKind.Function
                else:
                    detail, kind = f"loss {item.get('loss')}", types.SymbolKind.Event
                children.append(
                    _symbol(name, detail, kind, doc.span(path), select, analysis, encoding)
                )
        detail = f"{len(value)}" if isinstance(value, list) else ""
        if key in ("specforge", "name") and not isinstance(value, (dict, list)):
            detail = str(value)
        out.append(
            _symbol(
                key,
                detail,
                types.SymbolKind.Module
                if isinstance(value, (dict, list))
                else types.SymbolKind.Property,
                _section_span(doc, key),
                doc.key_spans.get((key,)) or doc.span((key,)),
                analysis,
                encoding,
                children or None,
            )
        )
    return out


def _shape(shape: tuple[int, ...]) -> str:
    return "(" + ", ".join(["None", *(str(d) for d in shape)]) + ")"
