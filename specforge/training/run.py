"""Train a spec, evaluate a run, predict with a run: the API behind ``specforge train``,
``specforge evaluate`` and ``specforge predict``.

A run is deterministic: the same spec, seed, backend and machine give the same
``history.csv``, and :func:`evaluate_run` rebuilds the run's splits from its
resolved spec and reproduces ``metrics.json``'s figures exactly (the metrics of
a run are computed on the model as reloaded from the run directory, the very
code path ``evaluate`` takes).
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .. import __version__
from ..api import CheckResult, check_file
from ..diagnostics import SpecError
from ..ir import DataConfig
from ..plugin import Backend, BackendError
from ..registry import Registry, get_registry
from ..relay import framework_message
from ..render import write_graph
from ..spec.models import MAX_SEED
from . import checkpoint as ckpts
from . import chief, finetune, health, labels, plots, runcheck, rundir, staging, tensorboard
from .callbacks import (
    Checkpoint,
    EarlyStopping,
    Guard,
    Heartbeat,
    Progress,
    Recorder,
    sigint_stops,
)
from .distribute import Cluster, ClusterError, Watchdog, read_cluster
from .prepare import (
    DataInfo,
    DataMismatch,
    Prepared,
    features_to_inputs,
    make_preprocessors,
    prepare,
)
from .speed_settings import fit_settings

#: Exit status of ``specforge train`` for each run status.
EXIT_CODES = {"completed": 0, "early_stopped": 0, "diverged": 3, "interrupted": 130}
DEFAULT_BACKEND = "keras"


class TrainError(Exception):
    """A usage or environment problem (exit 2): no data section, no such backend, ..."""

    def __init__(self, message: str, help: str | None = None):
        super().__init__(message)
        self.message, self.help = message, help


@dataclass
class RunResult:
    """What :func:`train` returns: the run directory, its status and figures, and the model.

    ``history`` maps each history key (``loss``, ``val_accuracy``, ...) to one
    value per epoch, in the spec's order: ``pandas.DataFrame(run.history)`` is a
    table of it (:meth:`history_frame` adds the epoch index).
    """

    run_dir: Path
    status: str
    metrics: dict[str, Any]
    history: dict[str, list[float]]
    message: str | None = None
    artefacts: dict[str, Path] = field(default_factory=dict)
    #: What to try next, for a run that diverged.
    help: str | None = None
    #: The trained model as the backend holds it (a ``keras.Model``, a ``NumpyModel``).
    model: Any = field(default=None, repr=False)

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.status]

    def history_frame(self) -> Any:
        """The history as a ``pandas.DataFrame`` indexed by epoch (1, 2, ...); needs pandas."""
        import pandas as pd

        frame = pd.DataFrame(self.history)
        frame.index = pd.RangeIndex(1, len(frame) + 1, name="epoch")
        return frame


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def select_backend(name: str, reg: Registry) -> Backend:
    """The registered backend ``name``, with its framework importable; else a TrainError."""
    from ..builder import select_backend as select

    try:
        return select(name, reg)
    except BackendError as e:
        raise TrainError(e.message, e.help) from None


def _in_spec_order(history: dict[str, Any], graph: Any) -> dict[str, Any]:
    """History columns (or evaluation figures) in one order whatever the backend: loss,
    then output by output as the spec lists them, then validation; keys a backend
    adds come last."""
    order = graph.history_keys()
    known = [k for k in order if k in history]
    return {k: history[k] for k in [*known, *(k for k in history if k not in order)]}


def _mismatch(result: CheckResult, m: DataMismatch) -> SpecError:
    return SpecError([result.document.diagnostic(m.code, m.message, m.path, help=m.help)])


def _prepare(result: CheckResult, data_cfg: Any, reg: Registry, **kwargs: Any) -> Prepared:
    try:
        return prepare(result.graph, data_cfg, reg, **kwargs)
    except DataMismatch as m:
        raise _mismatch(result, m) from None


def _output_predictions(
    graph: Any, prepared: Prepared, preds: dict[str, Any], split: str
) -> list[plots.OutputPredictions]:
    out = []
    for o in graph.outputs:
        classes = labels.output_is_classes(o, prepared.info)
        predicted = np.asarray(preds[o.name])
        width = predicted.reshape(len(predicted), -1).shape[1]
        out.append(
            plots.OutputPredictions(
                o.name,
                "classification" if classes else "regression",
                prepared.y[split][o.name],
                predicted,
                labels.class_names_for(prepared.info, max(width, 2)) if classes else None,
            )
        )
    return out


def _spec_sets(result: CheckResult, path: tuple[str, ...]) -> bool:
    """Whether the spec as written (not its resolved defaults) sets the key at ``path``."""
    value: Any = result.document.data
    for key in path:
        if not isinstance(value, dict) or key not in value:
            return False
        value = value[key]
    return True


def _outcome(
    guard: Guard, early: EarlyStopping | None, epochs_run: int, graph: Any, data_cfg: DataConfig
) -> tuple[str, str | None, str | None]:
    """The run's status, its message, and (for a divergence) what to try next."""
    if guard.diverged is not None:
        hint = f"lower optimizer.learning_rate (it is {graph.optimizer.learning_rate:g})"
        if not any(s.applies_to == "features" for s in data_cfg.preprocess):
            hint += ", or scale the features: data.preprocess: [{type: standard_scaler}]"
        return "diverged", guard.message(), hint
    if guard.interrupted:
        epoch, batch = guard.interrupted_at or (epochs_run, None)
        return (
            "interrupted",
            f"interrupted by the user at epoch {epoch}" + (f", batch {batch}" if batch else ""),
            None,
        )
    if early is not None and early.stopped_epoch is not None:
        return (
            "early_stopped",
            f"stopped early at epoch {early.stopped_epoch}: {early.watch.monitor} did not improve for {early.patience} epoch(s)",
            None,
        )
    return "completed", None, None


def train(
    spec: str | os.PathLike[str] | CheckResult | None = None,
    *,
    backend: str | None = None,
    out: str | os.PathLike[str] | None = None,
    epochs: int | None = None,
    seed: int | None = None,
    progress: str = "auto",
    runs_root: str | os.PathLike[str] = "runs",
    overwrite: bool = False,
    registry: Registry | None = None,
    echo: Callable[[str], None] = _stderr,
    callbacks: tuple[Any, ...] = (),
    overrides: tuple[str, ...] | list[str] = (),
    resume: str | os.PathLike[str] | None = None,
    weights: str | os.PathLike[str] | None = None,
) -> RunResult:
    """Train ``spec`` and write its run directory.

    :param spec: a spec file, or the :class:`CheckResult` of one (not with ``resume``).
    :param backend: a registered backend name (default ``keras``).
    :param out: the run directory (default ``runs_root/<spec name>-<time>``): a new or
        empty folder, or a run directory (a finished one only with ``overwrite``).
        The run is built beside it and moved into place once complete; a run that
        did not finish never replaces a finished one (see :mod:`.staging`).
    :param epochs: overrides ``train.epochs``; ``seed`` overrides ``train.seed``.
    :param progress: ``auto`` (a bar in a terminal, lines otherwise), ``bar``,
        ``lines`` or ``quiet``.
    :param callbacks: extra :class:`~specforge.plugin.TrainingCallback` objects.
    :param overrides: ``key.path=value`` strings applied to the spec (``--set``).
    :param resume: a run directory to continue from its last checkpoint, in place
        (``epochs`` then extends it; its spec, seed and backend are the run's).
    :param weights: a run directory or model file to start from (fine-tuning:
        nodes matched by name).
    :raises SpecError: the spec is invalid or does not fit its data.
    :raises DataError: a data file is missing or malformed.
    :raises TrainError: no data section, or the backend is not available.
    :raises RunDirError: ``out`` cannot be used (a user's folder, a finished run
        without ``overwrite``, another train writing it).
    """
    reg = registry or get_registry()
    last = None
    if resume is not None:
        if (
            spec is not None
            or overrides
            or weights is not None
            or out is not None
            or seed is not None
        ):
            raise TrainError(
                "--resume continues a run with its own spec: it takes no SPEC, --set, --weights, --seed or --out",
                "pass only --resume RUN_DIR, and --epochs N to extend a finished run",
            )
        try:
            spec, last = ckpts.for_resume(resume)
        except rundir.RunDirError as e:
            if not os.environ.get("TF_CONFIG"):
                raise
            raise rundir.RunDirError(
                e.message,
                f"{e.help}; every worker of a multi-worker run reads {resume}: put it on "
                "storage all workers can read, at the same path (docs/scale-out.md)",
            ) from None
        out = resume
    if spec is None:
        raise TrainError("nothing to train: give a spec file", "specforge train SPEC")
    result = (
        spec
        if isinstance(spec, CheckResult)
        else check_file(spec, registry=reg, overrides=tuple(overrides))
    )
    if not result.ok or result.graph is None:
        raise SpecError(result.diagnostics)
    graph = result.graph
    if graph.data is None:
        raise TrainError(
            f"{graph.file} has no 'data' section, so there is nothing to train on",
            "add one, e.g.\n    data:\n      dataset: {type: digits}\n      preprocess: [{type: standard_scaler}]\n"
            "  (docs/data.md lists every dataset and option)",
        )
    train_cfg = graph.train_config
    if epochs is not None:
        train_cfg = dataclasses.replace(train_cfg, epochs=epochs)
    if seed is not None:
        if not 0 <= seed <= MAX_SEED:
            raise TrainError(
                f"seed {seed} is out of range: NumPy and Keras take seeds from 0 to {MAX_SEED}",
                "pass a seed in that range",
            )
        train_cfg = dataclasses.replace(train_cfg, seed=seed)
    if last is not None:
        if backend is not None and backend != last.backend:
            raise TrainError(
                f"the run was trained on {last.backend}: it resumes on {last.backend}, not {backend}",
                "leave --backend out, or start a new run from its weights with --weights",
            )
        backend = last.backend
        if train_cfg.epochs <= last.epoch:
            raise TrainError(
                f"{resume} has trained {last.epoch} of {train_cfg.epochs} epoch(s) already",
                f"pass --epochs N with N > {last.epoch} to train it further",
            )
    be = select_backend(backend or train_cfg.backend or DEFAULT_BACKEND, reg)
    if not getattr(be, "can_train", True):
        trainable = sorted(n for n, b in reg.backends.items() if getattr(b, "can_train", True))
        raise TrainError(
            f"backend '{be.name}' runs inference only and cannot train",
            "train with --backend "
            + " or --backend ".join(trainable)
            + ", then export the trained model"
            if trainable
            else None,
        )

    if getattr(graph.data.dataset_params, "stream", False):
        from .stream_run import train_stream

        if not hasattr(be, "fit_stream"):
            streaming = sorted(n for n, b in reg.backends.items() if hasattr(b, "fit_stream"))
            raise TrainError(
                f"backend '{be.name}' cannot train on a streamed dataset",
                "train with --backend "
                + " or --backend ".join(streaming)
                + ", or drop stream: true"
                if streaming
                else "drop stream: true",
            )
        if train_cfg.distributed:
            raise TrainError(
                "a streamed dataset trains on one device for now",
                "drop train.distribution, or load the data in memory",
            )
        if (
            len(graph.inputs) != 1
            or len(graph.outputs) != 1
            or graph.data.feeds
            or graph.data.targets
        ):
            raise TrainError(
                "a streamed dataset feeds one input and one output",
                "drop data.feeds/data.targets, or load the data in memory",
            )
        return RunResult(
            *train_stream(
                result,
                be,
                train_cfg,
                reg,
                out=out,
                runs_root=runs_root,
                progress=progress,
                echo=echo,
                callbacks=callbacks,
                split_test_set=_spec_sets(result, ("data", "split", "test")),
            )
        )
    cluster = _cluster_of(result, be, train_cfg, reg)
    if cluster is not None:
        # The chief stages the run (a resumed one too) and publishes it whole; a run
        # stopped after an epoch is kept for --resume (see .chief).
        with chief.staged(out, runs_root, graph.name, be.name, cluster) as (stage, finish):
            return _train(
                result,
                be,
                train_cfg,
                reg,
                stage,
                progress,
                echo,
                callbacks,
                cluster,
                finish,
                out,
                runs_root,
                last=last,
                weights=weights,
            )
    if last is not None:  # a resume continues its own run directory in place
        place = None
    else:  # built aside and published whole (see .staging)
        place = (
            staging.claim_out_dir(out, overwrite=overwrite)
            if out is not None
            else staging.claim_new_run_dir(graph.name, runs_root)
        )
    with place if place is not None else contextlib.nullcontext():
        try:
            return _train(
                result,
                be,
                train_cfg,
                reg,
                None,
                progress,
                echo,
                callbacks,
                None,
                None,
                out,
                runs_root,
                last=last,
                weights=weights,
                place=place,
            )
        except (Exception, KeyboardInterrupt) as exc:
            if place is not None and place.published is None:
                _publish_unfinished(place, graph.name, be.name, exc)
            raise


def _as_given(final: Path, out: Any, runs_root: Any) -> Path:
    """``final`` spelt as the caller gave it (``runs/iris``, not its absolute path)."""
    for given in (Path(out) if out is not None else None, Path(runs_root) / final.name):
        if given is not None and os.path.realpath(given) == str(final):
            return given
    return final


def _publish_unfinished(
    place: staging.RunPlace, name: str, backend: str, exc: BaseException
) -> None:
    """Keep what a failed or interrupted run wrote, under its own name, with a status.

    It replaces no finished run (:meth:`staging.RunPlace.publish` keeps it beside
    one); an empty staging directory is simply removed on leaving the place.
    """
    if not place.staging.is_dir() or not any(
        p.name != ".specforge-staging" for p in place.staging.iterdir()
    ):
        return
    status, message = chief.unfinished(exc, (place.staging / rundir.HISTORY).is_file())
    metrics_path = place.staging / rundir.METRICS
    with contextlib.suppress(OSError):
        if metrics_path.is_file():
            metrics = rundir.read_json(place.staging, rundir.METRICS)
            if metrics.get("status") in staging.FINISHED:
                metrics["status"] = status
        else:
            metrics = {"spec": name, "status": status, "backend": backend}
        metrics["message"] = message
        rundir.write_json(metrics_path, metrics)
    with contextlib.suppress(OSError):
        place.publish(status)


def _cluster_of(result: CheckResult, be: Backend, train_cfg: Any, reg: Registry) -> Cluster | None:
    """Check a distributed run can start; its :class:`Cluster` for multi_worker, else None."""
    if not train_cfg.distributed:
        return None
    from ..lower import require_lowerable

    require_lowerable(result.graph, reg, be, result.document)  # located: NumPy refuses
    if not hasattr(be, "distribute"):
        raise TrainError(
            f"backend '{be.name}' cannot distribute training",
            "train on the keras backend, or remove train.distribution",
        )
    if train_cfg.distribution.strategy != "multi_worker":
        return None
    try:
        return read_cluster()
    except ClusterError as e:
        raise TrainError(e.message, e.help) from None


def _train(
    result: CheckResult,
    be: Backend,
    train_cfg: Any,
    reg: Registry,
    stage: Path | None,
    progress: str,
    echo: Callable[[str], None],
    callbacks: tuple[Any, ...],
    cluster: Cluster | None,
    finish: Callable[[str], Path] | None,
    out: Any = None,
    runs_root: Any = "runs",
    *,
    last: Any = None,
    weights: Any = None,
    place: staging.RunPlace | None = None,
) -> RunResult:
    graph = result.graph
    data_cfg = graph.data
    started = time.perf_counter()
    prepared = _prepare(result, data_cfg, reg)
    if prepared.info.own_test_split and _spec_sets(result, ("data", "split", "test")):
        echo(
            f"note: dataset '{data_cfg.dataset}' has its own test split; data.split.test is ignored"
        )
    strategy = None
    # The watchdog covers the cluster's start (a worker that never joins) and training.
    watching = contextlib.ExitStack()
    watchdog = (
        watching.enter_context(
            Watchdog(
                train_cfg.distribution.timeout,
                f"worker {cluster.rank} of {cluster.workers}",
                chief.clean_up,
            )
        )
        if cluster is not None
        else None
    )
    tuned: dict[str, Any] = {}
    try:
        if train_cfg.distributed:
            with be.distribute(train_cfg.distribution) as strategy:  # type: ignore[attr-defined]
                model = be.build(graph, seed=train_cfg.seed, registry=reg)
        else:
            prepare = getattr(be, "prepare_training", None)  # process-wide: train owns it
            if prepare is not None:
                tuned = prepare(graph, batch_size=train_cfg.batch_size) or {}
            model = be.build(graph, seed=train_cfg.seed, registry=reg)
    except BaseException:
        watching.close()
        raise

    if last is not None:  # under the strategy: its optimizer slots are distributed variables
        with strategy.scope() if strategy is not None else contextlib.nullcontext():
            ckpts.restore(be, model, last)
    elif weights is not None:
        finetune.apply(result, be, model, weights, reg, echo)

    suffix = be.file_suffix
    if stage is not None:
        run_dir = stage
    elif place is not None:
        run_dir = place.staging
    else:
        run_dir = (
            rundir.prepare_out_dir(out, (suffix,))
            if out is not None
            else rundir.new_run_dir(graph.name, runs_root)
        )
    if last is None:  # a new run in an old directory: its checkpoint is not ours
        (run_dir / ckpts.CHECKPOINT).unlink(missing_ok=True)
    resolved = graph.to_spec()
    # The backend actually used: rerunning the run's spec trains where this run did.
    resolved["train"] = dataclasses.replace(train_cfg, backend=be.name).as_dict()
    rundir.write_spec(run_dir, resolved, graph.file)
    write_graph(graph, run_dir / rundir.GRAPH)  # the picture of the model, before training
    rundir.write_json(run_dir / rundir.DATA, prepared.info.to_json())
    rundir.write_preprocessors(run_dir, prepared.preprocessors)

    outputs = [o.name for o in graph.outputs]
    recorder, guard = Recorder(), Guard(outputs)
    n_train = prepared.size("train")
    bar = (
        Progress(train_cfg.epochs, math.ceil(n_train / train_cfg.batch_size), mode=progress)
        if progress != "quiet"
        else None
    )
    early = (
        EarlyStopping(train_cfg.early_stopping, be, model, echo)
        if train_cfg.early_stopping
        else None
    )
    best_path = run_dir / rundir.best_file(suffix)
    checkpoint = (
        Checkpoint(train_cfg.checkpoint, be, model, best_path, echo)
        if train_cfg.checkpoint
        else None
    )
    saver = (
        ckpts.EpochCheckpoints(run_dir, be, model, last.history if last else None)
        if ckpts.supports_checkpoints(be)
        else None
    )
    cbs = [c for c in (recorder, bar, guard, early, checkpoint, saver) if c is not None]
    cbs += list(callbacks)
    resumed = {"initial_epoch": last.epoch} if last is not None else {}
    if watchdog is not None:
        cbs.append(Heartbeat(watchdog))
    validation = (
        (prepared.x["validation"], prepared.y["validation"]) if "validation" in prepared.x else None
    )

    history: dict[str, list[float]] | None = None
    # Overflow on the way to a NaN is what the guard reports, once, in words.
    with (
        sigint_stops(guard),
        np.errstate(over="ignore", invalid="ignore"),
        watching,
    ):
        try:
            history = be.fit(
                model,
                prepared.x["train"],
                prepared.y["train"],
                epochs=train_cfg.epochs,
                batch_size=train_cfg.batch_size,
                shuffle=train_cfg.shuffle,
                seed=train_cfg.seed,
                validation_data=validation,
                callbacks=cbs,
                **resumed,
                **fit_settings(be, train_cfg),
            )
        except KeyboardInterrupt:  # a second Ctrl-C: stop now, but keep what exists
            guard.interrupted = True
        except Exception as e:
            if cluster is None or not type(e).__module__.startswith("tensorflow"):
                raise
            first = str(e).strip().splitlines()[0] if str(e).strip() else ""
            raise TrainError(
                f"worker {cluster.rank} of {cluster.workers}: the cluster failed during training "
                f"({type(e).__name__}: {first[:300]})",
                "another worker failed or is unreachable: check every worker's log and "
                "restart all workers together",
            ) from None
        finally:
            if bar is not None:
                bar.close()
    history = {k: [float(v) for v in vs] for k, vs in (history or recorder.history).items()}
    if last is not None:
        history = ckpts.merge_history(last.history, history)
    epochs_run = max((len(v) for v in history.values()), default=0)
    status, message, hint = _outcome(guard, early, epochs_run, graph, data_cfg)
    restored = (
        status in ("completed", "early_stopped") and early is not None and early.restore(epochs_run)
    )

    metrics: dict[str, Any] = {
        "spec": graph.name,
        "status": status,
        "message": message,
        "backend": be.name,
        "seed": train_cfg.seed,
        "epochs_requested": train_cfg.epochs,
        "epochs_run": epochs_run,
        "batch_size": train_cfg.batch_size,
        "global_batch_size": train_cfg.batch_size,
        "replicas": getattr(strategy, "num_replicas_in_sync", 1),
        "samples": dict(prepared.info.sizes),
        "specforge": __version__,
        "overrides": list(result.document.overrides),
    }
    if last is not None:
        metrics["resumed_from_epoch"] = last.epoch
    if weights is not None:
        metrics["weights"] = str(weights)
    if saver is not None and saver.saved_epoch is not None:
        metrics["last_checkpoint"] = {"file": ckpts.CHECKPOINT, "epoch": saver.saved_epoch}
    if train_cfg.distributed:
        metrics["distribution"] = train_cfg.distribution.strategy
    metrics.update(tuned)
    if cluster is not None:
        metrics["workers"] = cluster.workers
        if not cluster.is_chief:  # the chief writes the run directory
            return RunResult(
                Path(out) if out is not None else Path(runs_root), status, metrics, history, message
            )
    artefacts = {"run_dir": run_dir, "spec": run_dir / rundir.SPEC, "graph": run_dir / rundir.GRAPH}
    if early is not None and early.watch.best_epoch is not None:
        metrics["best_epoch"] = early.watch.best_epoch
        metrics["restored_best"] = restored
    if checkpoint is not None and checkpoint.saved:
        metrics["checkpoint"] = {
            "file": best_path.name,
            "epoch": checkpoint.watch.best_epoch,
            checkpoint.watch.monitor: checkpoint.watch.best,
        }
        artefacts = {"run_dir": run_dir, "spec": run_dir / rundir.SPEC}
        if early is not None and early.watch.best_epoch is not None:
            metrics["best_epoch"] = early.watch.best_epoch
            metrics["restored_best"] = restored
        if checkpoint is not None and checkpoint.saved:
            metrics["checkpoint"] = {
                "file": best_path.name,
                "epoch": checkpoint.watch.best_epoch,
                checkpoint.watch.monitor: checkpoint.watch.best,
            }
            artefacts["best_model"] = best_path

    # A Ctrl-C while the history and the model are written waits until they are.
    with sigint_stops(guard) as interrupts, interrupts.deferred():
        rundir.write_history(run_dir, _in_spec_order(history, graph))
        artefacts["history"] = run_dir / rundir.HISTORY
        if status != "diverged":  # diverged weights are NaN: nothing worth keeping
            model_path = run_dir / rundir.model_file(suffix)
            be.save(model, str(model_path))
            artefacts["model"] = model_path
    if status in ("completed", "early_stopped") and guard.interrupted:
        raise KeyboardInterrupt  # kept as an interrupted run, model and history included
    if status in ("completed", "early_stopped"):
        # Evaluate the model as saved: exactly what `specforge evaluate` will load.
        saved = be.load(str(artefacts["model"]), graph, registry=reg)
        for split in ("train", "validation", "test"):
            if split in prepared.x:
                metrics[split] = _in_spec_order(
                    be.evaluate(
                        saved, prepared.x[split], prepared.y[split], batch_size=train_cfg.batch_size
                    ),
                    graph,
                )
        preds = be.predict(saved, prepared.x["test"], batch_size=train_cfg.batch_size)
        fig = plots.predictions(graph.name, _output_predictions(graph, prepared, preds, "test"))
        plots.save(fig, run_dir / rundir.PREDICTIONS)
        artefacts["predictions"] = run_dir / rundir.PREDICTIONS
    if epochs_run:
        plots.save(
            plots.learning_curves(
                _in_spec_order(history, graph), graph.name, outputs, plots.chosen_epochs(metrics)
            ),
            run_dir / rundir.LEARNING_CURVES,
        )
        artefacts["learning_curves"] = run_dir / rundir.LEARNING_CURVES
    flat = health.flat_loss(history.get("loss", []))
    if flat is not None:
        echo(f"warning: {flat}")
        metrics["warnings"] = [flat]
    artefacts["tensorboard"] = tensorboard.write_run(
        run_dir,
        _in_spec_order(history, graph),
        spec_text=(run_dir / rundir.SPEC).read_text(encoding="utf-8"),
        test=metrics.get("test"),
    )
    metrics["duration_s"] = round(time.perf_counter() - started, 3)
    rundir.write_json(
        run_dir / rundir.METRICS, metrics
    )  # last: its presence marks a finished write
    artefacts["metrics"] = run_dir / rundir.METRICS
    if finish is not None:  # the chief of a multi-worker run
        final = _as_given(finish(status), out, runs_root)
        artefacts = {
            k: final if k == "run_dir" else final / Path(v).relative_to(run_dir)
            for k, v in artefacts.items()
        }
        run_dir = final
    elif place is not None:  # the run moves into place whole, metrics.json included
        final = _as_given(place.publish(status), out, runs_root)
        artefacts = {
            k: final if k == "run_dir" else final / Path(v).relative_to(run_dir)
            for k, v in artefacts.items()
        }
        run_dir = final
    return RunResult(run_dir, status, metrics, history, message, artefacts, hint, model)


# ---------------------------------------------------------------- evaluate / predict


@dataclass
class LoadedRun:
    """A run directory read back: its checked spec, data facts, backend and model."""

    run_dir: Path
    result: CheckResult
    metrics: dict[str, Any]
    info: DataInfo
    backend: Backend
    model: Any
    batch_size: int
    states: list[dict[str, Any]]
    data: DataConfig
    registry: Registry


def load_run(run_dir: str | os.PathLike[str], *, registry: Registry | None = None) -> LoadedRun:
    """Read a run directory (no code is executed: YAML, JSON, CSV and npz only)."""
    reg = registry or get_registry()
    path = rundir.check_run_dir(run_dir)
    result = check_file(path / rundir.SPEC, registry=reg)
    if not result.ok or result.graph is None:
        raise SpecError(result.diagnostics)
    metrics = runcheck.metrics(path / rundir.METRICS, rundir.read_json(path, rundir.METRICS))
    be = select_backend(str(metrics.get("backend", DEFAULT_BACKEND)), reg)
    model_path = path / rundir.model_file(be.file_suffix)
    if not model_path.is_file():
        raise rundir.RunDirError(
            f"{path} has no {model_path.name}: the run's status is '{metrics.get('status')}'",
            "a run that diverged keeps no model; train again with a lower learning rate",
        )
    info = runcheck.data_info(path / rundir.DATA, rundir.read_json(path, rundir.DATA))
    train_cfg = result.graph.train_config
    data_cfg = result.graph.data
    if data_cfg is None:
        raise rundir.RunDirError(
            f"{path / rundir.SPEC} has no 'data' section",
            "the run directory is damaged: train again",
        )
    entries = rundir.read_json(path, rundir.PREPROCESSORS)
    runcheck.preprocessor_entries(path / rundir.PREPROCESSORS, entries, len(data_cfg.preprocess))
    states = rundir.read_preprocessor_states(path)
    _check_states(path, result.graph, data_cfg, info, reg, states)
    model = be.load(str(model_path), result.graph, registry=reg)
    return LoadedRun(
        path, result, metrics, info, be, model, train_cfg.batch_size, states, data_cfg, reg
    )


def _check_states(
    path: Path,
    graph: Any,
    data_cfg: DataConfig,
    info: DataInfo,
    reg: Registry,
    states: list[dict[str, Any]],
) -> None:
    """Restore the fitted preprocessors and run one row of zeros through the feature steps,
    so that a damaged state is reported here, naming its file, not deep inside a transform."""
    steps = make_preprocessors(data_cfg.preprocess, reg)
    row = np.zeros((1, math.prod(info.sample_shape)), dtype=np.float32)
    for i, ((step, obj), state) in enumerate(zip(steps, states, strict=True)):
        try:
            obj.set_state(state)
            if step.applies_to == "features":
                row = np.asarray(obj.transform(row))
        except (KeyError, TypeError, ValueError, IndexError, AttributeError) as e:
            raise rundir.RunDirError(
                f"{path / rundir.PREPROCESSORS} (with {rundir.PREPROCESSOR_ARRAYS}): the fitted "
                f"state of step {i} ({step.type}) is damaged: {framework_message(e)}",
                "train the spec again",
            ) from None
    try:
        features_to_inputs(row, info, graph)
    except (KeyError, TypeError, ValueError, IndexError) as e:
        raise rundir.RunDirError(
            f"{path / rundir.DATA}: ['feeds'] do not fit the inputs of the run's spec "
            f"({framework_message(e)})",
            "train the spec again",
        ) from None


def evaluate_run(
    run_dir: str | os.PathLike[str], split: str = "test", *, registry: Registry | None = None
) -> dict[str, float]:
    """Recompute a run's split from its resolved spec and evaluate its model on it."""
    run = load_run(run_dir, registry=registry)
    prepared = _prepare(run.result, run.data, run.registry, states=run.states, splits=(split,))
    if split not in prepared.x:
        raise TrainError(
            f"the run has no {split} split (data.split.{split} is 0)", "use --split test"
        )
    results = run.backend.evaluate(
        run.model, prepared.x[split], prepared.y[split], batch_size=run.batch_size
    )
    return _in_spec_order(results, run.result.graph)


class InputError(Exception):
    """An input file for ``predict`` that cannot be used (exit 2)."""

    def __init__(self, message: str, help: str | None = None):
        super().__init__(message)
        self.message, self.help = message, help


#: Rows read, preprocessed, predicted and written at a time by ``predict``: memory
#: stays at one chunk (about 32 MB for 64 features) whatever the input's size.
PREDICT_CHUNK_ROWS = 65536


def _read_input_csv(path: Path, names: list[str]) -> Iterator[np.ndarray]:
    """The CSV's features, chunk by chunk (pandas' C parser; see :mod:`specforge.data.csv`)."""
    from ..data.csv import read_feature_chunks
    from ..data.dataset import DataError

    chunks = read_feature_chunks(path, names, chunk_rows=PREDICT_CHUNK_ROWS)
    try:
        yield from chunks
    except DataError as e:
        raise InputError(e.message, e.help) from None


def _prefetched(items: Iterator[np.ndarray], depth: int = 2) -> Iterator[np.ndarray]:
    """``items``, produced by a background thread up to ``depth`` ahead; its
    exceptions are raised here, in order, and closing this generator stops it."""
    import queue
    import threading

    done = object()
    q: queue.Queue[Any] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: Any) -> bool:
        while not stop.is_set():
            try:
                q.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put(("item", item)):
                    return
        except BaseException as exc:
            put(("error", exc))
            return
        finally:
            if stop.is_set():
                items.close()  # type: ignore[attr-defined]
        put(("done", done))

    thread = threading.Thread(target=produce, name="specforge-csv-reader", daemon=True)
    thread.start()
    try:
        while True:
            kind, value = q.get()
            if kind == "item":
                yield value
            elif kind == "error":
                raise value
            else:
                return
    finally:
        stop.set()
        thread.join()


def _read_input_npz(path: Path, key: str | None) -> np.ndarray:
    from ..data.dataset import DataError
    from ..data.npz import array_names, read_npz

    try:
        keys = array_names(path)
        if key is None:
            key = "x" if "x" in keys or len(keys) != 1 else keys[0]
        x = read_npz(path, x_key=key, y_key=None).x
    except DataError as e:
        raise InputError(e.message, e.help) from None
    if len(x) == 0:
        raise InputError(
            f"array {key!r} in {path} holds no samples (its shape is {tuple(x.shape)})",
            "give at least one row of features",
        )
    return x


def predict_run(
    run_dir: str | os.PathLike[str],
    input_path: str | os.PathLike[str],
    output_path: str | os.PathLike[str],
    *,
    key: str | None = None,
    format: str | None = None,
    registry: Registry | None = None,
) -> tuple[int, list[str]]:
    """Predict with a run's model on new data; write a table named after the classes and
    targets (:mod:`.labels`) as CSV, JSON or npz (``format``, default from the suffix).

    ``input_path`` is a CSV (one sample per row, the dataset's features in
    columns, header optional: with a header naming the features they are picked
    by name) or an ``.npz`` (array ``key``, default ``x``). The run's fitted
    preprocessors are applied. Features are read, scaled and predicted
    :data:`PREDICT_CHUNK_ROWS` rows at a time (a CSV by pandas' C parser), so
    memory holds a few chunks and the predictions; the output appears
    (atomically) only once every row is done. Returns (rows written, column names).
    """
    run = load_run(run_dir, registry=registry)
    graph = run.result.graph
    info = run.info
    src = Path(input_path)
    if src.exists() and not src.is_file():
        raise InputError(
            f"{src} is not a regular file (a directory, pipe or device)",
            "pass a CSV or .npz file of features",
        )
    if not src.is_file():
        raise InputError(f"{src}: no such file", "pass a CSV or .npz file of features")
    if src.suffix.lower() == ".npz":
        x = _read_input_npz(src, key)
        chunks: Iterable[np.ndarray] = (
            x[i : i + PREDICT_CHUNK_ROWS] for i in range(0, max(len(x), 1), PREDICT_CHUNK_ROWS)
        )
    else:
        # pandas' C parser, chunk by chunk: the next chunk is parsed in a background
        # thread while this one is scaled and predicted, so memory holds a few chunks
        # of features and the (small) predictions only.
        chunks = _prefetched(_read_input_csv(src, info.feature_names))
    width = math.prod(info.sample_shape)
    steps = [
        obj
        for step, obj in make_preprocessors(run.data.preprocess, run.registry, run.states)
        if step.applies_to == "features"
    ]
    parts: dict[str, list[np.ndarray]] = {}
    done = 0
    for x in chunks:
        flat = x.reshape(len(x), -1) if x.ndim > 1 else x.reshape(len(x), 1)
        if flat.shape[1] != width:
            shape = "×".join(map(str, info.sample_shape))
            names = ", ".join(info.feature_names[:8]) + (", ..." if width > 8 else "")
            raise InputError(
                f"{src} has {flat.shape[1]} value(s) per sample, but the run was trained on {width} features ({shape}: {names})",
                "give exactly the dataset's features, in its order (or a CSV header naming them); leave the target out",
            )
        if not np.all(np.isfinite(flat)):
            row = done + int(np.argmax(~np.isfinite(flat).all(axis=1)))
            raise InputError(
                f"{src}: sample {row} (0-based) holds NaN or infinity",
                "fill in or drop those values",
            )
        if not len(flat):
            continue
        features = flat.astype(np.float32)
        for obj in steps:
            features = np.asarray(obj.transform(features))
        inputs = features_to_inputs(features, info, graph)
        for name, value in run.backend.predict(
            run.model, inputs, batch_size=run.batch_size
        ).items():
            parts.setdefault(name, []).append(np.asarray(value))
        done += len(flat)
    if not done:
        raise InputError(f"{src} has no samples", "write one row of feature values per sample")
    preds = {name: np.concatenate(values) for name, values in parts.items()}
    table = labels.prediction_columns(graph, info, preds, done)
    labels.write_table(output_path, table, labels.format_of(str(output_path), format))
    return done, [c.name for c in table]
