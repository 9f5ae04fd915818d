"""Pictures of a resolved graph: SVG, PNG, PDF, Graphviz DOT and Mermaid.

``specforge graph`` and ``specforge train`` (which adds ``graph.svg`` to the
run directory) draw through :func:`write_graph`. The pipeline is
:mod:`.scene` (what each box says) → :mod:`.layout` (a layered layout in pure
Python) → one writer per format: :mod:`.svg` writes text directly,
:mod:`.raster` draws the same layout with matplotlib, :mod:`.dot` and
:mod:`.mermaid` hand the graph to other tools, which lay it out themselves.
Nothing here needs a system package or imports a deep-learning framework.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..ir import Graph

#: File suffix -> format.
SUFFIXES = {
    ".svg": "svg",
    ".png": "png",
    ".pdf": "pdf",
    ".dot": "dot",
    ".gv": "dot",
    ".mmd": "mmd",
    ".mermaid": "mmd",
}
FORMATS = ("svg", "png", "pdf", "dot", "mmd")
TEXT_FORMATS = ("svg", "dot", "mmd")
RANKDIRS = ("TB", "LR")


def format_of(path: str | os.PathLike[str]) -> str | None:
    """The format a file name asks for, from its suffix; None if unknown."""
    return SUFFIXES.get(Path(path).suffix.lower())


def render_text(graph: Graph, fmt: str = "svg", *, rankdir: str = "TB") -> str:
    """The graph as SVG, DOT or Mermaid text."""
    from .scene import scene

    sc = scene(graph)
    if fmt == "dot":
        from .dot import render_dot

        return render_dot(sc, rankdir)
    if fmt == "mmd":
        from .mermaid import render_mermaid

        return render_mermaid(sc, rankdir)
    if fmt == "svg":
        from .layout import layout
        from .svg import render_svg

        return render_svg(sc, layout([(b.width, b.height) for b in sc.boxes], sc.edges, rankdir))
    raise ValueError(f"{fmt!r} is not a text format (one of {', '.join(TEXT_FORMATS)})")


def write_graph(
    graph: Graph,
    path: str | os.PathLike[str],
    fmt: str | None = None,
    *,
    rankdir: str = "TB",
) -> Path:
    """Write the picture of ``graph`` to ``path`` atomically; the format defaults to the suffix's.

    Raises ValueError for an unknown format, OSError when the file cannot be written.
    """
    from ..atomic import atomic_path, atomic_write_text

    fmt = fmt or format_of(path)
    if fmt not in FORMATS:
        raise ValueError(f"cannot tell the picture format of '{path}'")
    if rankdir not in RANKDIRS:
        raise ValueError(f"rankdir must be one of {', '.join(RANKDIRS)}, not {rankdir!r}")
    if fmt in TEXT_FORMATS:
        atomic_write_text(path, render_text(graph, fmt, rankdir=rankdir))
        return Path(path)
    from .layout import layout
    from .raster import write_raster
    from .scene import scene

    sc = scene(graph)
    lay = layout([(b.width, b.height) for b in sc.boxes], sc.edges, rankdir)
    with atomic_path(path) as tmp:
        write_raster(sc, lay, tmp, fmt)
    return Path(path)


__all__ = ["FORMATS", "RANKDIRS", "SUFFIXES", "format_of", "render_text", "write_graph"]
