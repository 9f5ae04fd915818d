"""``specforge lsp``: the language server, over stdio, for editors (see docs/editors.md)."""

from __future__ import annotations

import logging
import sys

import click

from . import cli
from .common import plugin_warnings, usage_error


@cli.command()
@click.option(
    "--stdio",
    is_flag=True,
    help="Talk LSP over stdin/stdout (the default and only transport; accepted for clients that pass it).",
)
@click.option(
    "--debounce-ms",
    type=click.IntRange(min=0),
    default=150,
    show_default=True,
    help="How long a burst of edits must pause before it is checked (a lone edit is checked at once).",
)
@click.option(
    "--log-file",
    type=click.Path(dir_okay=False),
    help="Also write the server's log to this file.",
)
@click.option("--verbose", is_flag=True, help="Log every message (to stderr and --log-file).")
def lsp(stdio: bool, debounce_ms: int, log_file: str | None, verbose: bool) -> None:
    """Run the specforge language server: validate's diagnostics as you type, completion,
    hover, go to definition, references, rename, outline and quick fixes for spec files."""
    from ..lsp import REQUIREMENT, missing_dependency

    missing = missing_dependency()
    if missing is not None:
        raise usage_error(
            f"the language server needs the '{missing}' package, which is not installed",
            help=f"install it with: pip install 'specforge[lsp]'  (or: pip install '{REQUIREMENT}')",
        )
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_file:
        handlers.append(logging.FileHandler(log_file, encoding="utf-8"))
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        format="%(asctime)s %(name)s %(levelname)s: %(message)s",
        handlers=handlers,
        force=True,
    )
    plugin_warnings()  # to stderr: editors show it in the server's log
    from ..lsp.server import create_server

    server = create_server(debounce=debounce_ms / 1000)
    # The protocol owns stdout: anything a plugin prints goes to stderr instead.
    out = sys.stdout.buffer
    sys.stdout = sys.stderr
    server.start_io(sys.stdin.buffer, out)
