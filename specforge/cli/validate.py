"""``specforge validate``: check specs like a compiler, reporting every problem."""

from __future__ import annotations

import json

import click

from ..diagnostics import Diagnostic, Span, count, render_text
from ..spec.load import SpecFileError
from . import cli
from .common import FORMATS, plugin_warnings, set_option


@cli.command()
@click.argument("specs", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option(
    "--format", "fmt", type=FORMATS, default="text", show_default=True, help="Output format."
)
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
@set_option
def validate(specs: tuple[str, ...], fmt: str, strict: bool, overrides: tuple[str, ...]) -> None:
    """Check SPECS; exit 0 if all are valid, 1 if any is invalid, 2 if one cannot be read."""
    from ..api import check_file

    plugin_warnings()
    all_diags: list[Diagnostic] = []
    invalid = unreadable = False
    for path in specs:
        try:
            result = check_file(path, overrides=overrides)
        except SpecFileError as e:
            unreadable = True
            all_diags.append(
                Diagnostic(
                    "file-not-readable", str(e).split(": ", 1)[-1], "error", path, Span(1, 1, 1, 1)
                )
            )
            if fmt == "text":
                click.echo(f"error: {e}", err=True)
            continue
        errors, warnings = count(result.diagnostics)
        bad = errors > 0 or (strict and warnings > 0)
        invalid |= bad
        all_diags.extend(result.diagnostics)
        if fmt == "text":
            if result.diagnostics:
                click.echo(render_text(result.diagnostics, result.document.sources))
            if bad:
                click.echo(
                    f"{path}: invalid ({errors} error{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)})"
                )
            else:
                graph = result.graph
                extra = f", {warnings} warning{'s' * (warnings != 1)}" if warnings else ""
                click.echo(f"{path}: valid ({graph.total_params:,} params{extra})")
    if fmt == "json":
        click.echo(json.dumps([d.to_dict() for d in all_diags], indent=2))
    if unreadable:
        raise click.exceptions.Exit(2)
    if invalid:
        raise click.exceptions.Exit(1)
