"""``specforge summary``: the Keras-style table of a spec, without importing Keras."""

from __future__ import annotations

import json

import click

from . import cli
from .common import FORMATS, plugin_warnings, require_valid, set_option


@cli.command()
@click.argument("spec", type=click.Path(dir_okay=False))
@click.option(
    "--format", "fmt", type=FORMATS, default="text", show_default=True, help="Output format."
)
@set_option
def summary(spec: str, fmt: str, overrides: tuple[str, ...]) -> None:
    """Print SPEC's nodes, output shapes and parameter counts."""
    from ..summary import summary_data, summary_text

    plugin_warnings()
    result = require_valid(spec, overrides)
    graph = result.graph
    if fmt == "json":
        click.echo(json.dumps(summary_data(graph), indent=2))
    else:
        click.echo(summary_text(graph))
