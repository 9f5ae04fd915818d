"""The scene as SVG text, written directly (no drawing library).

Each box is a ``<g class="node input|node|output" id="node-NAME">`` holding a
``<title>`` with the name (a tooltip, as Graphviz writes it), a rounded
``<rect>`` and one ``<text>`` per line; each edge is a ``<g class="edge">``
with a ``<path>`` and an arrowhead ``<polygon>``. Colours and fonts are
attributes, not CSS, so any viewer draws it the same.
"""

from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

from .layout import EdgePath, Layout
from .scene import FONT_FAMILY, FOOTER_GAP, LINE_HEIGHT, PAD_Y, Box, Scene

#: (fill, stroke, stroke width) per kind of box.
STYLES = {
    "input": ("#e8f5e9", "#2e7d32", 1.4),
    "node": ("#e3f2fd", "#1565c0", 1.2),
    "output": ("#fff3e0", "#e65100", 2.2),
}
TEXT = "#1a1a1a"
MUTED = "#5f6368"
EDGE = "#455a64"
RADIUS = 6.0
ARROW = 8.0


def _n(x: float) -> str:
    return f"{x:.1f}".rstrip("0").rstrip(".")


def line_positions(box: Box, y: float) -> list[tuple[float, str, float, str]]:
    """(baseline y, text, font size, style) of each line of a box whose top is ``y``.

    Shared with the raster renderer so both place text identically.
    """
    out = []
    at = y + PAD_Y
    for line in box.lines:
        out.append((at + LINE_HEIGHT * 0.78, line.text, line.size, line.style))
        at += LINE_HEIGHT
    if box.footer:
        at += FOOTER_GAP
        for line in box.footer:
            out.append((at + LINE_HEIGHT * 0.78, line.text, line.size, line.style))
            at += LINE_HEIGHT
    return out


def footer_rule(box: Box, y: float) -> float:
    """The y of the rule above a box's footer (whose top is ``y``)."""
    return y + PAD_Y + len(box.lines) * LINE_HEIGHT + FOOTER_GAP / 2


def arrowhead(edge: EdgePath) -> list[tuple[float, float]]:
    (x, y), (dx, dy) = edge.tip, edge.direction
    half = ARROW * 0.45
    bx, by = x - dx * ARROW, y - dy * ARROW
    return [(x, y), (bx - dy * half, by + dx * half), (bx + dy * half, by - dx * half)]


def shortened(edge: EdgePath) -> tuple[tuple[float, float], list]:
    """The edge's segments with the last point pulled back so the line ends under the arrow."""
    (dx, dy) = edge.direction
    segs = list(edge.segments)
    last = segs[-1]
    end = (last.p[0] - dx * ARROW * 0.9, last.p[1] - dy * ARROW * 0.9)
    segs[-1] = type(last)(last.kind, end, last.c1, last.c2)
    return edge.start, segs


def render_svg(sc: Scene, lay: Layout) -> str:
    """The whole SVG document as text."""
    w, h = lay.width, lay.height
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_n(w)}" height="{_n(h)}" '
        f'viewBox="0 0 {_n(w)} {_n(h)}" font-family={quoteattr(FONT_FAMILY)}>',
        f"<title>{escape(sc.name)}</title>",
        f'<rect width="{_n(w)}" height="{_n(h)}" fill="#ffffff"/>',
    ]
    for edge in lay.edges:
        start, segs = shortened(edge)
        d = [f"M{_n(start[0])},{_n(start[1])}"]
        for s in segs:
            if s.kind == "C":
                d.append(
                    f"C{_n(s.c1[0])},{_n(s.c1[1])} {_n(s.c2[0])},{_n(s.c2[1])} "
                    f"{_n(s.p[0])},{_n(s.p[1])}"
                )
            else:
                d.append(f"L{_n(s.p[0])},{_n(s.p[1])}")
        src, dst = sc.boxes[edge.source].name, sc.boxes[edge.target].name
        pts = " ".join(f"{_n(x)},{_n(y)}" for x, y in arrowhead(edge))
        out.append(
            f'<g class="edge" data-source={quoteattr(src)} data-target={quoteattr(dst)}>'
            f"<title>{escape(src)} → {escape(dst)}</title>"
            f'<path d="{" ".join(d)}" fill="none" stroke="{EDGE}" stroke-width="1.3"/>'
            f'<polygon points="{pts}" fill="{EDGE}"/></g>'
        )
    for box, (x, y, bw, bh) in zip(sc.boxes, lay.boxes, strict=True):
        fill, stroke, sw = STYLES[box.kind]
        out.append(
            f'<g class="node {box.kind}" id={quoteattr("node-" + box.name)} '
            f"data-name={quoteattr(box.name)}>"
        )
        out.append(f"<title>{escape(box.name)}</title>")
        out.append(
            f'<rect x="{_n(x)}" y="{_n(y)}" width="{_n(bw)}" height="{_n(bh)}" '
            f'rx="{_n(RADIUS)}" fill="{fill}" stroke="{stroke}" stroke-width="{_n(sw)}"/>'
        )
        if box.footer:
            ry = footer_rule(box, y)
            out.append(
                f'<line x1="{_n(x)}" y1="{_n(ry)}" x2="{_n(x + bw)}" y2="{_n(ry)}" '
                f'stroke="{stroke}" stroke-width="1"/>'
            )
        for base, text, size, style in line_positions(box, y):
            weight = ' font-weight="bold"' if style == "title" else ""
            colour = MUTED if style == "muted" else TEXT
            out.append(
                f'<text x="{_n(x + bw / 2)}" y="{_n(base)}" font-size="{_n(size)}"{weight} '
                f'text-anchor="middle" '
                f'fill="{colour}">{escape(text)}</text>'
            )
        out.append("</g>")
    out.append("</svg>")
    return "\n".join(out) + "\n"
