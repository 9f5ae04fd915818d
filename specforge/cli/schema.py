"""``specforge schema``: the JSON Schema of the spec format, for editors."""

from __future__ import annotations

import json

import click

from . import cli
from .common import plugin_warnings


@cli.command()
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False), help="Write to a file instead of stdout."
)
def schema(output: str | None) -> None:
    """Print the JSON Schema (draft 2020-12) of specs, with every registered node type."""
    from ..api import json_schema
    from ..atomic import atomic_write_text

    plugin_warnings()
    text = json.dumps(json_schema(), indent=2) + "\n"
    if output:
        atomic_write_text(output, text)
        click.echo(f"wrote {output}", err=True)
    else:
        click.echo(text, nl=False)
