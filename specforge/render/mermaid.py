"""The scene as a Mermaid flowchart (``.mmd``): GitHub renders it inside Markdown.

Mermaid node ids must be plain words, so boxes are ``n0``, ``n1``, ... in
scene order, and the spec's names appear in the labels; a class per kind of box
gives inputs and outputs the SVG's colours.
"""

from __future__ import annotations

from .scene import Scene
from .svg import STYLES


def _label(text: str) -> str:
    """Text inside a quoted Mermaid label: entity codes for what would end or break it."""
    return (
        text.replace("&", "#amp;").replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;")
    )


def render_mermaid(sc: Scene, rankdir: str = "TB") -> str:
    out = [f"flowchart {rankdir}", f"  %% {_label(sc.name)}: drawn by specforge graph"]
    for k, box in enumerate(sc.boxes):
        rows = []
        for line in (*box.lines, *box.footer):
            text = _label(line.text)
            rows.append(f"<b>{text}</b>" if line.style == "title" else text)
        out.append(f'  n{k}["{"<br/>".join(rows)}"]')
    for u, v in sc.edges:
        out.append(f"  n{u} --> n{v}")
    for kind, (fill, stroke, width) in STYLES.items():
        members = [f"n{k}" for k, box in enumerate(sc.boxes) if box.kind == kind]
        cls = "sf" + kind.capitalize()  # not bare words: Mermaid reserves some
        out.append(f"  classDef {cls} fill:{fill},stroke:{stroke},stroke-width:{width:g}px")
        if members:
            out.append(f"  class {','.join(members)} {cls}")
    return "\n".join(out) + "\n"
