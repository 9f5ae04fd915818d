"""The scene as PNG or PDF, drawn with matplotlib from the same layout as the SVG.

matplotlib is already a dependency (for the run directory's plots) and brings
its own fonts and rasteriser, so PNG and PDF need nothing from the system.
One layout unit is one point: the PDF has the SVG's size, and the PNG is drawn
at ``scale`` pixels per unit (2 by default, for sharp text), less for graphs so
big that the image would pass matplotlib's 2^16-pixel limit.
"""

from __future__ import annotations

import os

from .layout import Layout
from .scene import Scene
from .svg import (
    EDGE,
    MUTED,
    RADIUS,
    STYLES,
    TEXT,
    arrowhead,
    footer_rule,
    line_positions,
    shortened,
)

#: The largest side of a PNG, in pixels (matplotlib's Agg refuses 2^16 and more).
MAX_PIXELS = 32_000


def write_raster(
    sc: Scene, lay: Layout, path: str | os.PathLike[str], fmt: str, *, scale: float = 2.0
) -> None:
    """Draw the scene into ``path`` as ``png`` or ``pdf`` (the caller makes it atomic)."""
    from matplotlib.collections import LineCollection, PatchCollection
    from matplotlib.figure import Figure
    from matplotlib.patches import FancyBboxPatch, PathPatch, Polygon
    from matplotlib.path import Path

    w, h = max(lay.width, 1.0), max(lay.height, 1.0)
    dpi = 72.0 * min(scale, MAX_PIXELS / max(w, h))
    fig = Figure(figsize=(w / 72.0, h / 72.0), dpi=dpi)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, w)
    ax.set_ylim(h, 0)
    ax.axis("off")
    # Collections, not one artist per patch: drawing 1,000 boxes stays a few calls.
    lines, heads, boxes, rules, rule_colours = [], [], [], [], []
    for edge in lay.edges:
        start, segs = shortened(edge)
        verts, codes = [start], [Path.MOVETO]
        for s in segs:
            if s.kind == "C":
                verts += [s.c1, s.c2, s.p]
                codes += [Path.CURVE4] * 3
            else:
                verts.append(s.p)
                codes.append(Path.LINETO)
        lines.append(PathPatch(Path(verts, codes), fill=False, edgecolor=EDGE, linewidth=1.3))
        heads.append(Polygon(arrowhead(edge), closed=True, facecolor=EDGE, edgecolor="none"))
    for box, (x, y, bw, bh) in zip(sc.boxes, lay.boxes, strict=True):
        fill, stroke, sw = STYLES[box.kind]
        boxes.append(
            FancyBboxPatch(
                (x, y),
                bw,
                bh,
                boxstyle=f"round,pad=0,rounding_size={RADIUS}",
                facecolor=fill,
                edgecolor=stroke,
                linewidth=sw,
            )
        )
        if box.footer:
            ry = footer_rule(box, y)
            rules.append([(x, ry), (x + bw, ry)])
            rule_colours.append(stroke)
        for base, text, size, style in line_positions(box, y):
            ax.text(
                x + bw / 2,
                base,
                text,
                fontsize=size,
                fontfamily="DejaVu Sans",
                fontweight="bold" if style == "title" else "normal",
                color=MUTED if style == "muted" else TEXT,
                ha="center",
                va="baseline",
            )
    for patches in (lines, heads, boxes):
        ax.add_collection(PatchCollection(patches, match_original=True), autolim=False)
    ax.add_collection(LineCollection(rules, colors=rule_colours, linewidths=1.0), autolim=False)
    fig.savefig(path, format=fmt, dpi=dpi, facecolor="white")
