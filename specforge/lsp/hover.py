"""Hover: a node's inferred shape and size, a type's or parameter's documentation.

On an input or node name (defined or referenced) the hover shows what the
checker inferred: output shape, parameter count, what the node reads. These
come from the last graph that resolved, and say so when the current text does
not check clean. On a key it shows the key's description from the parameter
model; on a registry name (a node type, an activation, a loss, ...) the item's
own documentation, parameters included.
"""

from __future__ import annotations

from lsprotocol import types

from ..registry import Registry
from .analysis import Analysis
from .catalog import Names, item_doc, key_doc, registry_kind_at
from .cursor import Cursor
from .navigation import occurrence_at


def _shape(shape: tuple[int, ...]) -> str:
    return "(" + ", ".join(["None", *(str(d) for d in shape)]) + ")"


def name_doc(analysis: Analysis, name: str, kind: str, names: Names) -> str:
    """What the checker knows about input or node ``name``."""
    if kind == "input":
        for inp in analysis.result.graph.inputs if analysis.result.graph is not None else ():
            if inp.name == name:
                return f"**{name}**: input\n\nshape `{_shape(inp.shape)}`, dtype `{inp.dtype}`"
        return f"**{name}**: input\n\n{names.inputs.get(name, '')}".rstrip()
    node, current = analysis.node(name)
    if node is None:
        return f"**{name}**: node\n\nits shape is not known: an error in it, or in a node it reads, stops shape inference"
    pc = node.param_count
    counts = f"{pc.total:,} params"
    if pc.non_trainable:
        counts += f" ({pc.trainable:,} trainable, {pc.non_trainable:,} non-trainable)"
    reads = ", ".join(f"`{r}`" for r in node.inputs)
    return (
        f"**{name}**: node `{node.type}`\n\n"
        f"output shape `{_shape(node.output_shape)}`, {counts}\n\nreads {reads}"
        + ("" if current else _STALE)
    )


_STALE = "\n\n_(from the last version of the spec that checked clean)_"


def hover(
    analysis: Analysis, cursor: Cursor | None, reg: Registry, encoding_range: types.Range | None
) -> types.Hover | None:
    """The hover for the cursor; ``encoding_range`` is the word's range in client units."""
    if cursor is None or not cursor.word:
        return None
    text = _hover_text(analysis, cursor, reg)
    if not text:
        return None
    return types.Hover(
        contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=text),
        range=encoding_range,
    )


def _hover_text(analysis: Analysis, cursor: Cursor, reg: Registry) -> str | None:
    occ, _ = occurrence_at(analysis, cursor.line, cursor.start)
    if occ is not None and occ.name == cursor.word:
        return name_doc(analysis, occ.name, occ.kind, analysis.names(reg))
    names = analysis.names(reg)
    if cursor.role == "key":
        return key_doc(cursor.path, cursor.word, cursor.siblings, reg, names)
    kind = registry_kind_at(cursor.path, cursor.siblings, reg)
    if kind is not None:
        item = reg.get(kind, cursor.word)
        return item_doc(kind, item, reg) if item is not None else None
    path = cursor.path
    while path and isinstance(path[-1], int):  # a list item: document the list's key
        path = path[:-1]
    if path and isinstance(path[-1], str):
        return key_doc(path[:-1], path[-1], cursor.siblings, reg, names)
    return None
