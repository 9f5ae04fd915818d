"""``specforge upgrade``: rewrite a spec in the current format version, comments kept."""

from __future__ import annotations

import os
import stat
import sys

import click

from . import EXIT_INVALID, EXIT_USAGE, cli
from .common import plugin_warnings, usage_error


@cli.command()
@click.argument("spec", type=click.Path(dir_okay=False))
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    help="Write the upgraded spec here (default: print it).",
)
@click.option("--in-place", is_flag=True, help="Rewrite SPEC itself.")
def upgrade(spec: str, output: str | None, in_place: bool) -> None:
    """Rewrite SPEC in the current format version, through the format's migrations.

    YAML keeps its comments, key order and styles (ruamel.yaml round trip);
    JSON keeps its indentation. The file is written atomically and keeps its
    permissions. A spec already in the current format is left alone.
    """
    from ..api import check_text
    from ..atomic import atomic_write_text
    from ..diagnostics import render_text
    from ..registry import get_registry
    from ..spec.load import SpecFileError, load
    from ..spec.migrate import FORMAT_VERSION, MigrationError, version_of, version_problem
    from ..spec.upgrade import upgrade_text

    plugin_warnings()
    if output is not None and in_place:
        raise usage_error("-o and --in-place exclude each other", "give one of them")
    try:
        doc, diags = load(spec)
    except SpecFileError as e:
        raise usage_error(str(e)) from None
    problem = None if diags else version_problem(doc)
    if problem is None and not diags and version_of(doc.data) is None:
        problem = doc.diagnostic(
            "missing-field" if isinstance(doc.data, dict) else "not-a-mapping",
            "the spec has no 'specforge' format version to upgrade from",
            ("specforge",) if isinstance(doc.data, dict) else (),
            help=f"add 'specforge: N' with the version it was written for (the current is {FORMAT_VERSION})",
        )
    if diags or problem is not None:
        click.echo(render_text([*diags, *([problem] if problem else [])], doc.source))
        click.echo(f"{spec}: cannot be upgraded", err=True)
        raise click.exceptions.Exit(EXIT_INVALID)
    version = version_of(doc.data)
    if version == FORMAT_VERSION:
        click.echo(f"{spec}: already in format {FORMAT_VERSION}; nothing to do", err=True)
        return
    try:
        result = upgrade_text(doc.source, doc.format, version, get_registry())
    except MigrationError as e:
        click.echo(f"error: {e}", err=True)
        raise click.exceptions.Exit(EXIT_INVALID) from None
    target = spec if in_place else output
    changes = "; ".join(dict.fromkeys(m.description for m in result.applied)) or "no changes"
    summary = f"format {result.from_version} -> {result.to_version} ({changes})"
    if target is None:
        click.echo(result.text, nl=False)
        click.echo(f"{spec}: {summary}", err=True)
    else:
        mode = stat.S_IMODE(os.stat(spec).st_mode)
        try:
            atomic_write_text(target, result.text, mode=mode)
        except OSError as e:
            click.echo(f"error: cannot write {target}: {e.strerror or e}", err=True)
            raise click.exceptions.Exit(EXIT_USAGE) from None
        where = (
            "in place"
            if in_place or os.path.abspath(target) == os.path.abspath(spec)
            else f"-> {target}"
        )
        click.echo(f"upgraded {spec} {where}: {summary}")
    if result.reformatted:
        click.echo(
            f"note: the YAML round trip also re-indented {result.reformatted} line"
            f"{'s' * (result.reformatted != 1)} that no migration changed",
            err=True,
        )
    checked = check_text(result.text, target or spec, format=doc.format)
    if not checked.ok:
        click.echo(
            f"note: the upgraded spec is not valid ({len(checked.errors)} error"
            f"{'s' * (len(checked.errors) != 1)}): run `specforge validate` on it",
            err=True,
        )
    sys.stdout.flush()
