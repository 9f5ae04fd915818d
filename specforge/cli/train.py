"""``specforge train``: from a spec to a trained model, its metrics and its plots.

Exit codes: 0 trained (early stopping included), 1 invalid spec (or a spec that
does not fit its data), 2 data or environment problem, 3 training diverged,
130 interrupted.
"""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import Iterator, Mapping
from typing import Any

import click

from ..spec.models import MAX_SEED
from . import EXIT_INTERRUPTED, EXIT_INVALID, EXIT_USAGE, cli
from .common import plugin_warnings, require_valid, set_option, usage_error


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
def run_errors(source: str | Mapping[str, str] | None = None) -> Iterator[None]:
    """Turn the training pipeline's exceptions into messages and exit codes, never tracebacks."""
    from ..data.dataset import DataError
    from ..diagnostics import SpecError, render_text
    from ..plugin import BackendError
    from ..training.finetune import FineTuneError
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
    except (TrainError, RunDirError, InputError, FineTuneError) as e:
        _error(e.message, e.help)
        raise click.exceptions.Exit(EXIT_USAGE) from None
    except BackendError as e:
        _error(e.message, e.help)
        raise click.exceptions.Exit(EXIT_USAGE) from None
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        raise click.exceptions.Exit(EXIT_INTERRUPTED) from None
    except OSError as e:
        _error(*os_error_message(e))
        raise click.exceptions.Exit(EXIT_USAGE) from None


def os_error_message(e: OSError) -> tuple[str, str | None]:
    """A file-system failure in words: which file, what happened, what to do."""
    where = e.filename if e.filename is not None else "a file"
    what = e.strerror or str(e)
    if e.errno == errno.ENOSPC:
        return f"cannot write {where}: the disk is full ({what})", "free some space and run again"
    if e.errno == errno.EDQUOT:
        return f"cannot write {where}: disk quota exceeded", "free some space and run again"
    if e.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        first = str(where).split(os.sep)[0] if not os.path.isabs(str(where)) else str(where)
        return (
            f"cannot write {where}: {what}",
            f"'{first}' is not writable here; pass --out DIR to write the run directory elsewhere"
            if first == "runs"
            else "check the permissions, or choose another output path",
        )
    return f"{where}: {what}", None


def _rel(path: Any) -> str:
    try:
        rel = os.path.relpath(path)
    except ValueError:  # another drive (Windows)
        return str(path)
    # Relative only inside the working directory (runs/digits_mlp-...): a path
    # that climbs out of it reads better, and copies better, as an absolute one.
    return str(path) if rel == os.pardir or rel.startswith(os.pardir + os.sep) else rel


@cli.command()
@click.argument("spec", type=click.Path(dir_okay=False), required=False)
@click.option(
    "--backend",
    default=None,
    help="Backend to train on: keras, numpy, or a plugin's [default: the spec's "
    "train.backend, else keras].",
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
    type=click.IntRange(min=0, max=MAX_SEED),
    default=None,
    help="Override train.seed (weights and shuffling).",
)
@click.option(
    "--workers",
    default=None,
    help="multi_worker: host:port of every worker, comma-separated (builds TF_CONFIG).",
)
@click.option(
    "--worker-index",
    type=click.IntRange(min=0),
    default=None,
    help="multi_worker: this process's place in --workers (0 is the chief).",
)
@click.option("-q", "--quiet", is_flag=True, help="Print only the final result.")
@set_option
@click.option(
    "--resume",
    type=click.Path(file_okay=False),
    default=None,
    help="Continue the run in this directory from its last checkpoint (no SPEC; "
    "--epochs N extends a finished run to N epochs; a multi-worker run: on every worker, "
    "with --workers/--worker-index).",
)
@click.option(
    "--weights",
    type=click.Path(),
    default=None,
    help="Start from trained weights: a run directory or model file (nodes matched by name).",
)
def train(
    spec: str | None,
    backend: str | None,
    out: str | None,
    overwrite: bool,
    epochs: int | None,
    seed: int | None,
    workers: str | None,
    worker_index: int | None,
    quiet: bool,
    overrides: tuple[str, ...],
    resume: str | None,
    weights: str | None,
) -> None:
    """Train SPEC on its data section; write the model, metrics and plots to a run directory.

    \b
    specforge train SPEC [--set key.path=value ...] [--weights RUN_DIR|MODEL]
    specforge train --resume RUN_DIR [--epochs N] [--workers ... --worker-index I]

    \b
    The run is built beside its directory and moved into place once complete,
    so an existing run is replaced only by a finished one, and only with
    --overwrite. A folder of other files is never used as --out.
    """
    from .streams import resilient_output

    # A closed stdout or stderr (`specforge train ... 2>&1 | head`) must not stop
    # training half-way: what cannot be shown is dropped, the run is finished.
    with resilient_output():
        _train(
            spec,
            backend,
            out,
            overwrite,
            epochs,
            seed,
            workers,
            worker_index,
            quiet,
            overrides,
            resume,
            weights,
        )


def _resumed_distribution(run_dir: str) -> Any:
    """The ``train.distribution`` of the run to resume; None where its spec cannot be read
    (training then reports why)."""
    from pathlib import Path

    from ..api import check_file

    path = Path(run_dir) / "spec.yaml"
    if not path.is_file():
        return None
    try:
        result = check_file(path)
    except Exception:  # reported, located, by training itself
        return None
    return result.graph.train_config.distribution if result.ok and result.graph else None


def _train(
    spec: str | None,
    backend: str | None,
    out: str | None,
    overwrite: bool,
    epochs: int | None,
    seed: int | None,
    workers: str | None,
    worker_index: int | None,
    quiet: bool,
    overrides: tuple[str, ...],
    resume: str | None,
    weights: str | None,
) -> None:
    from ..training.run import train as run_train

    plugin_warnings()
    if (spec is None) == (resume is None):
        raise usage_error(
            "give a SPEC to train, or --resume RUN_DIR to continue a run (not both)",
            "specforge train specs/digits_mlp.yaml, or specforge train --resume runs/digits_mlp-...",
        )
    if (workers is None) != (worker_index is None):
        _error(
            "--workers and --worker-index go together",
            "e.g. --workers 10.0.0.1:2222,10.0.0.2:2222 --worker-index 0",
        )
        raise click.exceptions.Exit(EXIT_USAGE)
    from ..training.distribute import ClusterError

    if workers is not None:
        from ..training.distribute import tf_config_for

        try:
            os.environ["TF_CONFIG"] = tf_config_for(workers.split(","), int(worker_index or 0))
        except ClusterError as e:
            _error(e.message, e.help)
            raise click.exceptions.Exit(EXIT_USAGE) from None
    result = require_valid(spec, overrides) if spec is not None else None
    if result is not None and result.graph is not None:
        dist = result.graph.train_config.distribution
    else:
        dist = _resumed_distribution(resume) if resume is not None else None
    if resume and workers is not None and dist is not None and dist.strategy != "multi_worker":
        _error(
            f"--workers: the run in {resume} trains in one process "
            f"(its train.distribution.strategy is '{dist.strategy}')",
            "resume it without --workers, or start a multi-worker run from its weights: "
            "specforge train SPEC --weights RUN_DIR --workers ... --worker-index I",
        )
        raise click.exceptions.Exit(EXIT_USAGE)
    if dist is not None and dist.strategy == "multi_worker":
        from ..training.chief import salvage_entry
        from ..training.distribute import HEARTBEAT_ENV, read_cluster, supervise

        if HEARTBEAT_ENV in os.environ:
            from ..training.distribute import beat_while_local

            beat_while_local()
        else:
            # The worker runs in a child process this one can end if it hangs.
            with run_errors(result.document.sources if result is not None else None):
                try:
                    cluster = read_cluster()
                except ClusterError as e:
                    _error(e.message, e.help)
                    raise click.exceptions.Exit(EXIT_USAGE) from None
            argv = ["train", spec] if spec is not None else ["train", "--resume", str(resume)]
            argv += ["--backend", backend] if backend else []
            argv += ["--out", out] if out else []
            argv += ["--epochs", str(epochs)] if epochs is not None else []
            argv += ["--seed", str(seed)] if seed is not None else []
            argv += ["-q"] if quiet else []
            argv += [part for value in overrides for part in ("--set", value)]
            argv += ["--weights", weights] if weights else []
            code = supervise(
                argv, dist.timeout, f"worker {cluster.rank} of {cluster.workers}", salvage_entry
            )
            if code:
                raise click.exceptions.Exit(code)
            return
    with run_errors(result.document.sources if result is not None else None):
        run = run_train(
            result,
            backend=backend,
            out=out,
            overwrite=overwrite,
            epochs=epochs,
            seed=seed,
            progress="quiet" if quiet else "auto",
            overrides=overrides if result is None else (),
            resume=resume,
            weights=weights,
        )
    m = run.metrics
    if "workers" in m and "test" not in m and run.status in ("completed", "early_stopped"):
        click.echo(f"{m['spec']}: worker done ({m['epochs_run']} epochs); the chief writes the run")
        return
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
    for key, label in (
        ("learning_curves", "learning curves"),
        ("predictions", "predictions"),
        ("tensorboard", "tensorboard"),
    ):
        if key in run.artefacts:
            click.echo(f"  {label}: {_rel(run.artefacts[key])}")
    if run.exit_code:
        raise click.exceptions.Exit(run.exit_code)
