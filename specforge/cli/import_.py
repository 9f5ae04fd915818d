"""``specforge import``: decompile a saved Keras model into a spec.

Exit codes: 0 written, 1 the model uses layers or settings a spec cannot
express (every one is listed), 2 not a readable ``.keras`` file, Keras not
installed, or an unwritable output, 130 interrupted.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from . import EXIT_INVALID, cli
from .common import FORMATS, plugin_warnings, usage_error


@cli.command(name="import")
@click.argument("model", type=click.Path(dir_okay=False))
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    help="The spec to write (.yaml, or .json); default: stdout.",
)
@click.option("--name", help="The spec's name (default: the model's name).")
@click.option(
    "--loss",
    "default_loss",
    help="The loss of each output, for a model saved without compile settings.",
)
@click.option(
    "--format",
    "fmt",
    type=FORMATS,
    default="text",
    show_default=True,
    help="Format of the report (problems, notes).",
)
def import_(
    model: str, output: str | None, name: str | None, default_loss: str | None, fmt: str
) -> None:
    """Turn the Keras model file MODEL (.keras) into a spec.

    \b
    The file is read in safe mode: layers that would run code (Lambda) or need
    custom classes are refused, never loaded. Supported: Sequential and
    functional models of Input, Dense, Flatten, Concatenate and every layer a
    plugin provides an import rule for; the compile settings (optimizer,
    losses, loss weights, metrics) come along.
    """
    from ..atomic import atomic_write_text
    from ..keras_backend.decompile import DecompileError, decompile
    from ..plugin import BackendError

    plugin_warnings()
    try:
        result = decompile(model, name=name, default_loss=default_loss)
    except DecompileError as e:
        if fmt == "json":
            click.echo(json.dumps({"model": model, "ok": False, "problems": e.problems}, indent=2))
        else:
            click.echo(f"error: {e}", err=True)
        sys.stdout.flush()
        raise click.exceptions.Exit(EXIT_INVALID) from None
    except BackendError as e:
        raise usage_error(e.message, e.help) from None

    text = (
        result.to_json() if output and Path(output).suffix.lower() == ".json" else result.to_yaml()
    )
    if output:
        try:
            atomic_write_text(output, text)
        except OSError as e:
            raise usage_error(f"cannot write {output}: {e.strerror or e}") from None
    elif fmt == "text":
        click.echo(text, nl=False)
    if fmt == "json":
        report = {
            "model": model,
            "ok": True,
            "output": output,
            "notes": result.notes,
            "total_params": result.total_params,
        }
        if not output:
            report["spec"] = result.spec
        click.echo(json.dumps(report, indent=2))
    else:
        for note in result.notes:
            click.echo(f"note: {note}", err=True)
        n = len(result.spec["nodes"])
        where = f"wrote {output}" if output else "imported"
        click.echo(
            f"{where}: spec '{result.spec['name']}', {n} node{'s' * (n != 1)}, {result.total_params:,} params",
            err=True,
        )
