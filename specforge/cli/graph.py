"""``specforge graph``: a picture of a spec's graph (SVG, PNG, PDF) or its text (DOT, Mermaid).

Drawn by :mod:`specforge.render` from the resolved graph, without Keras and
without Graphviz: each node with its type, activation, output shape and
parameter count, inputs and outputs marked, outputs with their loss.
"""

from __future__ import annotations

import click

from . import EXIT_USAGE, cli
from .common import plugin_warnings, require_valid, usage_error

_FORMATS = ("svg", "png", "pdf", "dot", "mmd")


@cli.command()
@click.argument("spec", type=click.Path(dir_okay=False))
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    help="File to write: .svg, .png, .pdf, .dot (Graphviz) or .mmd (Mermaid). "
    "Without it, the SVG, DOT or Mermaid text goes to stdout.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(_FORMATS),
    help="Format, when the file name does not say it (default: from the suffix; svg on stdout).",
)
@click.option(
    "--rankdir",
    type=click.Choice(["TB", "LR"], case_sensitive=False),
    default="TB",
    show_default=True,
    help="Direction of the layers: top to bottom, or left to right.",
)
def graph(spec: str, output: str | None, fmt: str | None, rankdir: str) -> None:
    """Draw SPEC's graph as Keras's plot_model(show_shapes=True) does.

    Each box is an input or a node: its name, type and activation, output shape
    (the batch axis as None) and parameter count; inputs are green, outputs
    orange with their loss and loss weight. PNG and PDF are drawn with
    matplotlib; nothing needs Graphviz.
    """
    from ..render import format_of, render_text, write_graph

    plugin_warnings()
    rankdir = rankdir.upper()
    if output is not None and fmt is None:
        fmt = format_of(output)
        if fmt is None:
            raise usage_error(
                f"cannot tell the picture format of '{output}'",
                "end the file name with .svg, .png, .pdf, .dot or .mmd, or give --format",
            )
    if output is None and fmt in ("png", "pdf"):
        raise usage_error(f"{fmt.upper()} is binary: it needs a file", "give one with -o FILE")
    result = require_valid(spec)
    if output is None:
        click.echo(render_text(result.graph, fmt or "svg", rankdir=rankdir), nl=False)
        return
    try:
        write_graph(result.graph, output, fmt, rankdir=rankdir)
    except OSError as e:
        click.echo(f"error: cannot write {output}: {e.strerror or e}", err=True)
        raise click.exceptions.Exit(EXIT_USAGE) from None
    graph_ = result.graph
    click.echo(
        f"wrote {output} ({len(graph_.inputs)} input{'s' * (len(graph_.inputs) != 1)}, "
        f"{len(graph_.nodes)} node{'s' * (len(graph_.nodes) != 1)}, {fmt})"
    )
