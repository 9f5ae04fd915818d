"""What a picture of a graph shows: one box per input and node, with its text lines.

This is the one place that decides the content (every output format draws the
same scene), in the spirit of Keras's ``plot_model(show_shapes=True)``: a box's
title is its name; below come its type and activation, its output shape with
the batch axis as ``None`` (as ``summary`` prints it) and its parameter count.
Inputs and outputs are marked by their colour, and an output's box ends with
its loss, loss weight and metrics.

Text is measured with the advance widths of DejaVu Sans (the font matplotlib
draws with, and the first one the SVG asks for), so boxes fit their text
without a font library; other fonts in the SVG's list are narrower.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..ir import Graph

FONT_FAMILY = "DejaVu Sans, Verdana, Arial, Helvetica, sans-serif"
FONT_SIZE = 11.0
TITLE_SIZE = 12.0
LINE_HEIGHT = 15.0
PAD_X, PAD_Y = 10.0, 7.0
#: Extra space above a box's footer (the output's loss), where a rule is drawn.
FOOTER_GAP = 6.0

#: Per-1000-em advance widths of DejaVu Sans (regular, bold) for ' '..'~'.
_ASCII = "".join(chr(c) for c in range(32, 127))
_REGULAR = (
    "318 401 460 838 636 950 780 275 390 390 500 838 318 361 318 337 636 636 636 636 636 636 "
    "636 636 636 636 337 337 838 838 838 531 1000 684 686 698 770 632 575 775 752 295 295 656 "
    "557 863 748 787 603 787 695 635 611 732 684 989 685 611 685 390 337 390 838 500 500 613 "
    "635 550 635 615 352 635 634 278 278 579 278 974 634 612 635 635 411 521 392 634 592 818 "
    "592 592 525 636 337 636 838"
)
_BOLD = (
    "348 456 521 838 696 1002 872 306 457 457 523 838 380 415 380 365 696 696 696 696 696 696 "
    "696 696 696 696 400 400 838 838 838 580 1000 774 762 734 830 683 683 821 837 372 372 775 "
    "637 995 837 850 733 850 770 720 682 812 774 1103 771 724 725 457 365 457 838 500 500 675 "
    "716 593 716 678 435 716 712 343 343 665 343 1042 712 687 716 716 493 595 478 712 652 924 "
    "645 652 582 712 365 712 838"
)
_WIDTHS = {
    False: dict(zip(_ASCII, map(int, _REGULAR.split()), strict=True)),
    True: dict(zip(_ASCII, map(int, _BOLD.split()), strict=True)),
}
_WIDTHS[False].update({"×": 838, "·": 318, "…": 1000, "→": 838})
_WIDTHS[True].update({"×": 838, "·": 380, "…": 1000, "→": 838})


def text_width(text: str, size: float = FONT_SIZE, *, bold: bool = False) -> float:
    """The width of ``text`` in DejaVu Sans at ``size`` (unknown characters count 1 em)."""
    table = _WIDTHS[bold]
    return sum(table.get(ch, 1000) for ch in text) * size / 1000


@dataclass(frozen=True)
class Line:
    text: str
    #: ``title`` (bold, larger), ``body`` or ``muted`` (grey).
    style: str = "body"

    @property
    def size(self) -> float:
        return TITLE_SIZE if self.style == "title" else FONT_SIZE

    @property
    def width(self) -> float:
        return text_width(self.text, self.size, bold=self.style == "title")


@dataclass(frozen=True)
class Box:
    """One drawn box: an input or a node of the graph."""

    name: str
    #: ``input``, ``node`` or ``output`` (a node that is a model output).
    kind: str
    lines: tuple[Line, ...]
    #: Lines under a rule at the bottom (an output's loss); empty for other boxes.
    footer: tuple[Line, ...] = ()

    @property
    def width(self) -> float:
        return max(line.width for line in (*self.lines, *self.footer)) + 2 * PAD_X

    @property
    def height(self) -> float:
        extra = FOOTER_GAP if self.footer else 0.0
        return (len(self.lines) + len(self.footer)) * LINE_HEIGHT + 2 * PAD_Y + extra


@dataclass(frozen=True)
class Scene:
    """The boxes (inputs first, then nodes in graph order) and the edges between them."""

    name: str
    boxes: tuple[Box, ...]
    edges: tuple[tuple[int, int], ...]
    index: dict[str, int] = field(default_factory=dict, compare=False)


def shape_text(shape: tuple[int, ...]) -> str:
    """A shape with its batch axis, as ``summary`` prints it: ``(None, 28, 28)``."""
    return "(" + ", ".join(["None", *(str(d) for d in shape)]) + ")"


def _params_text(node) -> str:
    count = node.param_count
    text = f"{count.total:,} param{'s' * (count.total != 1)}"
    if count.non_trainable:
        text += f" ({count.non_trainable:,} non-trainable)"
    return text


def _activation(node) -> str | None:
    value = node.param("activation")
    return value if isinstance(value, str) and value not in ("linear", "identity") else None


def scene(graph: Graph) -> Scene:
    """The boxes and edges that every renderer draws for ``graph``."""
    outputs = {o.node: o for o in graph.outputs}
    boxes: list[Box] = []
    for i in graph.inputs:
        boxes.append(
            Box(
                i.name,
                "input",
                (
                    Line(i.name, "title"),
                    Line(f"Input · {i.dtype}", "muted"),
                    Line(f"shape {shape_text(i.shape)}"),
                ),
            )
        )
    several = len(graph.outputs) > 1
    for node in graph.nodes:
        kind = node.type + (f" · {act}" if (act := _activation(node)) else "")
        lines = (
            Line(node.name, "title"),
            Line(kind, "muted"),
            Line(f"output {shape_text(node.output_shape)}"),
            Line(_params_text(node)),
        )
        footer: tuple[Line, ...] = ()
        out = outputs.get(node.name)
        if out is not None:
            loss = f"loss {out.loss}"
            if several or out.weight != 1.0:
                loss += f", weight {out.weight:g}"
            footer = (Line(f"output · {loss}"),)
            if out.metrics:
                footer += (Line("metrics " + ", ".join(out.metrics), "muted"),)
        boxes.append(Box(node.name, "output" if out else "node", lines, footer))
    index = {b.name: k for k, b in enumerate(boxes)}
    edges = tuple((index[src], index[node.name]) for node in graph.nodes for src in node.inputs)
    return Scene(graph.name, tuple(boxes), edges, index)
