"""``specforge plugins``: what is installed, what each plugin adds, and what failed."""

from __future__ import annotations

import json

import click

from . import cli
from .common import FORMATS


def plugins_data() -> dict:
    from ..plugins import get_registry

    reg = get_registry()
    return {
        "plugins": [
            {
                "name": p.name,
                "distribution": p.distribution,
                "version": p.version,
                "builtin": p.builtin,
                "provides": {k: sorted(v) for k, v in sorted(p.provides.items())},
            }
            for p in reg.plugins
        ],
        "failed": [
            {"plugin": p.plugin, "stage": p.stage, "message": p.message} for p in reg.problems
        ],
    }


@cli.command("plugins")
@click.option("--format", "fmt", type=FORMATS, default="text", show_default=True, help="Output format.")
@click.pass_context
def plugins_command(ctx: click.Context, fmt: str) -> None:
    """List loaded plugins (built-in and third-party), what each adds, and failures."""
    from ..plugins import get_registry

    data = plugins_data()
    if fmt == "json":
        click.echo(json.dumps(data, indent=2))
        return
    for p in data["plugins"]:
        origin = "built-in" if p["builtin"] else f"{p['distribution']} {p['version']}"
        click.echo(f"{p['name']} ({origin})")
        for kind, names in p["provides"].items():
            click.echo(f"  {kind}: {', '.join(names)}")
    if data["failed"]:
        click.echo("")
        click.echo("failed:")
        debug = (ctx.obj or {}).get("debug")
        for problem in get_registry().problems:
            click.echo(f"  {problem.render()}")
            if debug and problem.traceback:
                click.echo("    " + problem.traceback.replace("\n", "\n    "))
