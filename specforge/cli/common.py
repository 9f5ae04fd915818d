"""Helpers shared by the commands: reading specs and printing diagnostics."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..api import CheckResult, check_file
from ..diagnostics import count, render_text
from ..loader import SpecFileError

FORMATS = click.Choice(["text", "json"])


def usage_error(message: str, hint: str | None = None) -> click.exceptions.Exit:
    """Print a usage/environment error and return the exit to raise (code 2)."""
    click.echo(f"error: {message}", err=True)
    if hint:
        click.echo(f"  help: {hint}", err=True)
    return click.exceptions.Exit(2)


def plugin_warnings() -> None:
    """Report broken plugins on every command (to stderr), without stopping it."""
    from ..plugins import get_registry

    for problem in get_registry().problems:
        click.echo(f"warning: {problem.render()}", err=True)


def load_checked(path: str) -> CheckResult:
    """Check one spec file; an unreadable file is a usage error (exit 2)."""
    try:
        return check_file(Path(path))
    except SpecFileError as e:
        raise usage_error(str(e)) from None


def print_diagnostics(result: CheckResult) -> None:
    if result.diagnostics:
        click.echo(render_text(result.diagnostics, result.document.source))


def require_valid(path: str):
    """The graph of a valid spec; otherwise print its diagnostics and exit 1."""
    result = load_checked(path)
    if not result.ok:
        print_diagnostics(result)
        errors, warnings = count(result.diagnostics)
        click.echo(f"{path}: invalid ({errors} error{'s' * (errors != 1)})", err=True)
        sys.stdout.flush()
        raise click.exceptions.Exit(1)
    return result
