"""The scene as Graphviz DOT, for people who render with ``dot`` or another tool.

Labels are HTML-like (``label=<...>``) so that the name is bold, as in the SVG;
the rank direction and the colours are the SVG's.
"""

from __future__ import annotations

from xml.sax.saxutils import escape

from .scene import Scene
from .svg import MUTED, STYLES


def _id(name: str) -> str:
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def render_dot(sc: Scene, rankdir: str = "TB") -> str:
    out = [
        f"digraph {_id(sc.name)} {{",
        f'  graph [rankdir={rankdir}, fontname="DejaVu Sans", nodesep=0.35, ranksep=0.45];',
        '  node [shape=box, style="rounded,filled", fontname="DejaVu Sans", fontsize=11];',
        '  edge [color="#455a64", arrowsize=0.7];',
    ]
    for box in sc.boxes:
        fill, stroke, width = STYLES[box.kind]
        rows = []
        for line in box.lines:
            text = escape(line.text)
            if line.style == "title":
                text = f"<b>{text}</b>"
            elif line.style == "muted":
                text = f'<font color="{MUTED}">{text}</font>'
            rows.append(text)
        if box.footer:
            rows.append("<i>" + "<br/>".join(escape(f.text) for f in box.footer) + "</i>")
        label = "<br/>".join(rows)
        out.append(
            f'  {_id(box.name)} [label=<{label}>, fillcolor="{fill}", color="{stroke}", '
            f"penwidth={width:g}];"
        )
    for u, v in sc.edges:
        out.append(f"  {_id(sc.boxes[u].name)} -> {_id(sc.boxes[v].name)};")
    out.append("}")
    return "\n".join(out) + "\n"
