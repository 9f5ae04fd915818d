"""``specforge train``: from a spec to a trained model, its metrics and its plots.

Exit codes: 0 trained (early stopping included), 1 invalid spec (or a spec that
does not fit its data), 2 data or environment problem, 3 training diverged,
130 interrupted.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping
from typing import Any

import click

from . import EXIT_INTERRUPTED, EXIT_INVALID, EXIT_USAGE, cli
from .common import plugin_warnings, require_valid


def format_metrics(values: Mapping[str, Any]) -> str:
    from ..training.callbacks import format_value

    return ", ".join(
        f"{k} {format_value(v)}" if isinstance(v, (int, float)) else f"{k} {v}"
        for k, v in values.items()
    )


def _error(message: str, help: str | None = None, looked_in: list[str] | None = None) -> None:
    click.echo(f"error: {message}", err=True)
    missing = [p for p in looked_in or [] if p not in message]
    if missing:
        click.echo("  looked in: " + ", ".join(missing), err=True)
    if help:
        click.echo(f"  help: {help}", err=True)


@contextlib.contextmanager
def run_errors(source: str | None = None) -> Iterator[None]:
    """Turn the training pipeline's exceptions into messages and exit codes, never tracebacks."""
    from ..data.dataset import DataError
    from ..diagnostics import SpecError, render_text
    from ..plugin import BackendError
    from ..training.run import InputError, TrainError
    from ..training.rundir import RunDirError

    try:
        yield
    except SpecError as e:
        click.echo(render_text(e.diagnostics, source))
        click.echo(
            "the spec does not fit its data (or the run's spec is no longer valid)", err=True
        )
        raise click.exceptions.Exit(EXIT_INVALID) from None
    except DataError as e:
        _error(e.message, e.help, e.looked_in)
        raise click.exceptions.Exit(EXIT_USAGE) from None
    except (TrainError, RunDirError, InputError) as e:
        _error(e.message, e.help)
        raise click.exceptions.Exit(EXIT_USAGE) from None
    except BackendError as e:
        _error(e.message, e.help)
        raise click.exceptions.Exit(EXIT_USAGE) from None
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        raise click.exceptions.Exit(EXIT_INTERRUPTED) from None


def _rel(path: Any) -> str:
    try:
        rel = os.path.relpath(path)
    except ValueError:  # another drive (Windows)
        return str(path)
    # Relative only inside the working directory (runs/digits_mlp-...): a path
    # that climbs out of it reads better, and copies better, as an absolute one.
    return str(path) if rel == os.pardir or rel.startswith(os.pardir + os.sep) else rel


@cli.command()
@click.argument("spec", type=click.Path(dir_okay=False))
@click.option(
    "--backend", default=None, help="Backend to train on: keras (default), numpy, or a plugin's."
)
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    default=None,
    help="Run directory [default: runs/<spec name>-<time>]: a new or empty folder, or a run directory.",
)
@click.option(
    "--overwrite",
    is_flag=True,
    help="Replace the finished run in --out (only once the new run has finished).",
)
@click.option("--epochs", type=click.IntRange(min=1), default=None, help="Override train.epochs.")
@click.option(
    "--seed",
    type=click.IntRange(min=0),
    default=None,
    help="Override train.seed (weights and shuffling).",
)
@click.option("-q", "--quiet", is_flag=True, help="Print only the final result.")
def train(
    spec: str,
    backend: str | None,
    out: str | None,
    overwrite: bool,
    epochs: int | None,
    seed: int | None,
    quiet: bool,
) -> None:
    """Train SPEC on its data section; write the model, metrics and plots to a run directory.

    \b
    The run is built beside its directory and moved into place once complete,
    so an existing run is replaced only by a finished one, and only with
    --overwrite. A folder of other files is never used as --out.
    """
    from .streams import resilient_output

    # A closed stdout or stderr (`specforge train ... 2>&1 | head`) must not stop
    # training half-way: what cannot be shown is dropped, the run is finished.
    with resilient_output():
        _train(spec, backend, out, overwrite, epochs, seed, quiet)


def _train(
    spec: str,
    backend: str | None,
    out: str | None,
    overwrite: bool,
    epochs: int | None,
    seed: int | None,
    quiet: bool,
) -> None:
    from ..training.run import train as run_train

    plugin_warnings()
    result = require_valid(spec)
    with run_errors(result.document.source):
        run = run_train(
            result,
            backend=backend,
            out=out,
            overwrite=overwrite,
            epochs=epochs,
            seed=seed,
            progress="quiet" if quiet else "auto",
        )
    m = run.metrics
    if run.status in ("completed", "early_stopped"):
        what = f"trained {m['epochs_run']} epoch{'s' * (m['epochs_run'] != 1)} on {m['backend']} in {m['duration_s']:.1f} s"
        if run.status == "early_stopped":
            what += f" ({run.message})"
        click.echo(f"{m['spec']}: {what}")
        click.echo(f"  test: {format_metrics(m['test'])}")
    elif run.status == "diverged":
        _error(f"{run.message}; the history up to there is kept", run.help)
    else:
        click.echo(f"{m['spec']}: {run.message}", err=True)
    click.echo(f"  run directory: {_rel(run.run_dir)}")
    for key, label in (("learning_curves", "learning curves"), ("predictions", "predictions")):
        if key in run.artefacts:
            click.echo(f"  {label}: {_rel(run.artefacts[key])}")
    if run.exit_code:
        raise click.exceptions.Exit(run.exit_code)
