"""Helpers shared by the commands: reading specs and printing diagnostics."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import click

from ..api import CheckResult, check_file
from ..diagnostics import count, render_text
from ..spec.load import SpecFileError

FORMATS = click.Choice(["text", "json"])


def usage_error(message: str, help: str | None = None) -> click.exceptions.Exit:
    """Print a usage/environment error and return the exit to raise (code 2)."""
    click.echo(f"error: {message}", err=True)
    if help:
        click.echo(f"  help: {help}", err=True)
    return click.exceptions.Exit(2)


def plugin_warnings() -> None:
    """Report broken plugins on every command (to stderr), without stopping it.

    Once per command, however often it is called; with ``--debug`` each
    problem's traceback follows it.
    """
    from ..registry import get_registry

    ctx = click.get_current_context(silent=True)
    root = ctx.find_root() if ctx is not None else None
    if root is not None:
        if root.meta.get("specforge.plugin_warnings_shown"):
            return
        root.meta["specforge.plugin_warnings_shown"] = True
    debug = (
        bool((root.obj or {}).get("debug"))
        if root is not None and isinstance(root.obj, dict)
        else False
    )
    problems = get_registry().problems
    for problem in problems:
        click.echo(f"warning: {problem.render()}", err=True)
        if debug and problem.traceback:
            click.echo("  " + problem.traceback.rstrip().replace("\n", "\n  "), err=True)
    if problems and not debug:
        click.echo(
            "  help: the other plugins still work; rerun with --debug for tracebacks, "
            "`specforge plugins` for details, or --no-plugins to load the built-ins only",
            err=True,
        )


#: ``--set key.path=value``, repeatable, on every command that reads a spec.
set_option = click.option(
    "--set",
    "overrides",
    multiple=True,
    metavar="KEY.PATH=VALUE",
    help="Override a spec value, e.g. --set optimizer.learning_rate=1e-3 "
    "--set nodes.hidden1.units=64 (repeatable; values are YAML).",
)


def load_checked(path: str, overrides: Sequence[str] = ()) -> CheckResult:
    """Check one spec file; an unreadable file is a usage error (exit 2)."""
    try:
        return check_file(Path(path), overrides=overrides)
    except SpecFileError as e:
        raise usage_error(str(e)) from None


def print_diagnostics(result: CheckResult) -> None:
    if result.diagnostics:
        click.echo(render_text(result.diagnostics, result.document.sources))


def require_valid(path: str, overrides: Sequence[str] = ()):
    """The graph of a valid spec; otherwise print its diagnostics and exit 1."""
    result = load_checked(path, overrides)
    if not result.ok:
        print_diagnostics(result)
        errors, _ = count(result.diagnostics)
        click.echo(f"{path}: invalid ({errors} error{'s' * (errors != 1)})", err=True)
        sys.stdout.flush()
        raise click.exceptions.Exit(1)
    return result
