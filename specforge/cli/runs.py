"""``specforge runs``: the runs under a folder, with status, backend, epochs and final figures."""

from __future__ import annotations

import json

import click

from . import cli
from .common import usage_error


@cli.command()
@click.argument("directory", default="runs", type=click.Path(file_okay=False))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
    help="A table for people, JSON for scripts.",
)
def runs(directory: str, fmt: str) -> None:
    """List the runs in DIRECTORY [default: runs].

    \b
    One line per run directory: status, backend, epochs run (of those asked
    for) and the final figures (the test split's, else the validation split's,
    else the last epoch's history). `tensorboard --logdir DIRECTORY` draws them.
    """
    from pathlib import Path

    from ..training.callbacks import format_value
    from ..training.runs import list_runs

    if not Path(directory).is_dir():
        raise usage_error(
            f"{directory}: no such folder", "give the folder that holds the run directories"
        )
    found = list_runs(directory)
    if fmt == "json":
        click.echo(json.dumps([r.to_json() for r in found], indent=2))
        return
    if not found:
        click.echo(f"no runs in {directory}")
        return
    rows = [("run", "status", "backend", "epochs", "final")]
    for r in found:
        epochs = "-" if r.epochs_run is None else f"{r.epochs_run}/{r.epochs_requested}"
        final = ", ".join(f"{k} {format_value(v)}" for k, v in r.final.items())
        final = f"{r.split}: {final}" if final else "-"
        if r.warnings:
            final += " (warning)"
        rows.append((r.run, r.status, r.backend or "-", epochs, final))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    for row in rows:
        click.echo(
            "  ".join(c.ljust(w) for c, w in zip(row[:4], widths, strict=True)) + "  " + row[4]
        )
