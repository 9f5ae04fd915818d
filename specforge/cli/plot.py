"""``specforge plot``: figures computed by specforge itself.

``specforge plot activations -o activations.png`` draws the chapter's two-panel
figure of activation functions and their derivatives from the NumPy backend's own
implementations (the derivatives are the ones it trains with). matplotlib is
imported only when a figure is drawn; the file is written atomically.
"""

from __future__ import annotations

from pathlib import Path

import click

from . import EXIT_USAGE, cli
from .common import plugin_warnings, usage_error

#: File suffixes matplotlib writes without extra dependencies.
FORMATS = {".png": "png", ".svg": "svg", ".pdf": "pdf"}


@cli.group()
def plot() -> None:
    """Draw figures (PNG, SVG or PDF)."""


@plot.command("activations")
@click.option(
    "-o",
    "--output",
    "output",
    required=True,
    type=click.Path(dir_okay=False),
    help="File to write (.png, .svg or .pdf).",
)
@click.option(
    "--activation",
    "activations",
    multiple=True,
    metavar="NAME",
    help="An activation to draw (repeat the option for several); default: the chapter's heaviside, sigmoid, tanh and relu.",
)
@click.option(
    "--all",
    "all_",
    is_flag=True,
    help="Draw every elementwise activation that has a NumPy lowering, one small panel each (function and derivative).",
)
def activations(output: str, activations: tuple[str, ...], all_: bool) -> None:
    """The activation functions and their derivatives, as the NumPy backend computes them.

    Any activation a plugin registers with a NumPy lowering can be drawn. The
    figure is 1000 × 500 pixels in PNG; with --all it is a grid of small panels,
    each with the function (solid) and its derivative (dashed).
    """
    from ..atomic import atomic_path
    from ..numpy_backend.plot import (
        DEFAULT_ACTIVATIONS,
        DPI,
        PlotError,
        activations_figure,
        activations_grid,
        plottable_activations,
    )
    from ..registry import get_registry

    plugin_warnings()
    fmt = FORMATS.get(Path(output).suffix.lower())
    if fmt is None:
        raise usage_error(
            f"cannot tell the image format of '{output}'",
            "end the file name with .png, .svg or .pdf",
        )
    if all_ and activations:
        raise usage_error("--all and --activation exclude each other", "give one of them")
    reg = get_registry()
    names = plottable_activations(reg) if all_ else (list(activations) or list(DEFAULT_ACTIVATIONS))
    try:
        fig = (activations_grid if all_ else activations_figure)(names, registry=reg)
    except PlotError as e:
        raise usage_error(
            str(e), "`specforge plot activations --all` draws every activation that can be drawn"
        ) from None
    try:
        with atomic_path(output) as tmp:
            fig.savefig(tmp, format=fmt, dpi=DPI)
    except OSError as e:
        click.echo(f"error: cannot write {output}: {e.strerror or e}", err=True)
        raise click.exceptions.Exit(EXIT_USAGE) from None
    click.echo(f"wrote {output} ({', '.join(dict.fromkeys(names))})")
