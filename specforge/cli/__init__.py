"""The ``specforge`` command line: a thin layer over :mod:`specforge.spec.api`.

Each command lives in its own module and adds itself to :data:`cli`. Command
modules import nothing heavy at module level: ``validate``, ``summary``,
``schema`` and ``plugins`` never import TensorFlow or Keras.

Exit codes (README.md has the table): 0 success (a closed stdout included),
1 invalid spec, 2 usage or environment problem, 3 training diverged (NaN/inf
loss), 130 interrupted.
"""

from __future__ import annotations

import importlib
import os
import sys

import click

from .. import __version__

EXIT_OK, EXIT_INVALID, EXIT_USAGE, EXIT_DIVERGED, EXIT_INTERRUPTED = 0, 1, 2, 3, 130

#: Set by ``--debug`` (or SPECFORGE_DEBUG) for this invocation.
_debug = False

#: Command modules, imported when the CLI is built.
COMMANDS = (
    "validate",
    "summary",
    "schema",
    "plugins",
    "train",
    "evaluate",
    "predict",
    "build",
    "import_",
    "plot",
    "graph",
    "upgrade",
    "lsp",
    "runs",
)


class ClosedOutput(Exception):
    """Stdout or stderr was closed under a running command (``specforge ... | head``)."""


class SpecforgeGroup(click.Group):
    """Click exits 1 on a closed pipe, which means "invalid spec" here: report it instead."""

    def invoke(self, ctx: click.Context):  # type: ignore[no-untyped-def]
        try:
            return super().invoke(ctx)
        except BrokenPipeError:
            raise ClosedOutput() from None


@click.group(
    cls=SpecforgeGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(__version__, "--version", prog_name="specforge")
@click.option(
    "--debug",
    is_flag=True,
    envvar="SPECFORGE_DEBUG",
    help="Show Python tracebacks for internal errors, and TensorFlow's own log lines.",
)
@click.option(
    "--no-plugins",
    is_flag=True,
    help="Load the built-in plugins only (like SPECFORGE_DISABLE_PLUGINS=1), to rule out a broken plugin.",
)
@click.pass_context
def cli(ctx: click.Context, debug: bool, no_plugins: bool) -> None:
    """specforge: compile declarative model specs (YAML/JSON) to Keras or NumPy models.

    \b
    Exit codes: 0 ok (also when stdout is closed early, as by `| head`),
    1 invalid spec, 2 usage or environment error, 3 training diverged,
    130 interrupted.
    """
    global _debug
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug
    _debug = debug  # read by main() for internal errors; never leaks into os.environ
    from .. import quiet
    from ..registry import disable_third_party

    # Before any command can import TensorFlow: its log lines stay off stderr unless --debug.
    quiet.set_debug(debug)
    quiet.quiet_environment()
    disable_third_party(no_plugins)


for _name in COMMANDS:
    importlib.import_module(f"{__name__}.{_name}")


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: no traceback reaches the user unless --debug."""
    from .streams import silence_stdout

    try:
        rv = cli.main(args=argv, prog_name="specforge", standalone_mode=False)
        sys.stdout.flush()  # a closed pipe shows here, not in the interpreter's last flush
    except (ClosedOutput, BrokenPipeError):
        # Nobody reads any more (`specforge ... | head`): end quietly, like `git log | head`.
        silence_stdout()
        sys.exit(EXIT_OK)
    except click.exceptions.Abort:
        click.echo("interrupted", err=True)
        sys.exit(EXIT_INTERRUPTED)
    except click.ClickException as e:
        e.show()
        sys.exit(EXIT_USAGE if e.exit_code == 2 else e.exit_code)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(EXIT_INTERRUPTED)
    except click.exceptions.Exit as e:
        _flush_or_silence()
        sys.exit(e.exit_code)
    except OSError as e:  # a full disk, a read-only folder: the environment, not a bug
        from .train import os_error_message

        message, help = os_error_message(e)
        click.echo(f"error: {message}", err=True)
        if help:
            click.echo(f"  help: {help}", err=True)
        sys.exit(EXIT_USAGE)
    except Exception as e:  # the last line of defence: a clear message, exit 2
        if _debug or os.environ.get("SPECFORGE_DEBUG") or "--debug" in (argv or sys.argv):
            raise
        click.echo(f"specforge: internal error: {type(e).__name__}: {e}", err=True)
        click.echo("  help: rerun with --debug for the traceback, and report it as a bug", err=True)
        sys.exit(EXIT_USAGE)
    sys.exit(rv if isinstance(rv, int) else EXIT_OK)


def _flush_or_silence() -> None:
    from .streams import silence_stdout

    try:
        sys.stdout.flush()
    except (BrokenPipeError, OSError, ValueError, AttributeError):
        silence_stdout()
