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
from ..atomic import atomic_path
from ..diagnostics import SpecError
from ..ir import DataConfig
from ..plugin import Backend, BackendError
from ..registry import Registry, get_registry
from ..spec.api import CheckResult, check_file
from . import plots, rundir, staging
from .callbacks import Checkpoint, EarlyStopping, Guard, Progress, Recorder, sigint_stops
from .prepare import (
    DataInfo,
    DataMismatch,
    Prepared,
    features_to_inputs,
    is_classification,
    make_preprocessors,
    prepare,
)
from .staging import FINISHED

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
    run_dir: Path
    status: str
    metrics: dict[str, Any]
    history: dict[str, list[float]]
    message: str | None = None
    artefacts: dict[str, Path] = field(default_factory=dict)
    #: What to try next, for a run that diverged.
    help: str | None = None

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.status]


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
        kind = "classification" if is_classification(o) else "regression"
        out.append(
            plots.OutputPredictions(
                o.name,
                kind,
                prepared.y[split][o.name],
                np.asarray(preds[o.name]),
                prepared.info.class_names if kind == "classification" else None,
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
    spec: str | os.PathLike[str] | CheckResult,
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
) -> RunResult:
    """Train ``spec`` and write its run directory.

    :param spec: a spec file, or the :class:`CheckResult` of one.
    :param backend: a registered backend name (default ``keras``).
    :param out: the run directory (default ``runs_root/<spec name>-<time>``): a new or
        empty folder, or a run directory (a finished one only with ``overwrite``).
        The run is built beside it and moved into place once complete; a run that
        did not finish never replaces a finished one (see :mod:`.staging`).
    :param epochs: overrides ``train.epochs``; ``seed`` overrides ``train.seed``.
    :param progress: ``auto`` (a bar in a terminal, lines otherwise), ``bar``,
        ``lines`` or ``quiet``.
    :param callbacks: extra :class:`~specforge.plugin.TrainingCallback` objects.
    :raises SpecError: the spec is invalid or does not fit its data.
    :raises DataError: a data file is missing or malformed.
    :raises TrainError: no data section, or the backend is not available.
    :raises RunDirError: ``out`` cannot be used (a user's folder, a finished run
        without ``overwrite``, another train writing it).
    """
    reg = registry or get_registry()
    result = spec if isinstance(spec, CheckResult) else check_file(spec, registry=reg)
    if not result.ok or result.graph is None:
        raise SpecError(result.diagnostics)
    graph = result.graph
    if graph.data is None:
        raise TrainError(
            f"{graph.file} has no 'data' section, so there is nothing to train on",
            "add one, e.g.\n    data:\n      dataset: {type: digits}\n      preprocess: [{type: standard_scaler}]\n"
            "  (docs/data.md lists every dataset and option)",
        )
    data_cfg = graph.data
    train_cfg = graph.train_config
    if epochs is not None:
        train_cfg = dataclasses.replace(train_cfg, epochs=epochs)
    if seed is not None:
        train_cfg = dataclasses.replace(train_cfg, seed=seed)
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

    place = (
        staging.claim_out_dir(out, overwrite=overwrite)
        if out is not None
        else staging.claim_new_run_dir(graph.name, runs_root)
    )
    with place:
        started = time.perf_counter()
        prepared = _prepare(result, data_cfg, reg)
        if prepared.info.own_test_split and _spec_sets(result, ("data", "split", "test")):
            echo(
                f"note: dataset '{data_cfg.dataset}' has its own test split; data.split.test is ignored"
            )
        model = be.build(graph, seed=train_cfg.seed)
        return _fit_and_publish(
            place,
            graph,
            be,
            model,
            prepared,
            train_cfg,
            data_cfg,
            progress,
            echo,
            callbacks,
            started,
        )


def _fit_and_publish(
    place: staging.RunPlace,
    graph: Any,
    be: Backend,
    model: Any,
    prepared: Prepared,
    train_cfg: Any,
    data_cfg: DataConfig,
    progress: str,
    echo: Callable[[str], None],
    callbacks: tuple[Any, ...],
    started: float,
) -> RunResult:
    """Train into the place's temporary directory, then publish it (see :mod:`.staging`).

    A run that fails (the backend raises, the disk fills up) is published with
    status ``failed`` and the error raised again; a Ctrl-C after ``fit`` skips
    what is left of the evaluation but never the model or ``metrics.json``.
    """
    run_dir = place.staging
    suffix = be.file_suffix
    resolved = graph.to_spec()
    resolved["train"] = train_cfg.as_dict()
    rundir.write_spec(run_dir, resolved, graph.file)
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
    cbs = [c for c in (recorder, bar, guard, early, checkpoint) if c is not None] + list(callbacks)
    validation = (
        (prepared.x["validation"], prepared.y["validation"]) if "validation" in prepared.x else None
    )

    history: dict[str, list[float]] | None = None
    failure: Exception | None = None
    # Overflow on the way to a NaN is what the guard reports, once, in words.
    with sigint_stops(guard) as interrupts, np.errstate(over="ignore", invalid="ignore"):
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
            )
        except KeyboardInterrupt:  # a second Ctrl-C: stop now, but keep what exists
            guard.interrupted = True
        except Exception as exc:  # kept as a failed run, then raised again
            failure = exc
        finally:
            if bar is not None:
                bar.close()
        history = {k: [float(v) for v in vs] for k, vs in (history or recorder.history).items()}
        epochs_run = max((len(v) for v in history.values()), default=0)
        status, message, hint = _outcome(guard, early, epochs_run, graph, data_cfg)
        if failure is not None:
            status, message, hint = "failed", _failure_message(failure), None
        restored = status in FINISHED and early is not None and early.restore(epochs_run)

        metrics: dict[str, Any] = {
            "spec": graph.name,
            "status": status,
            "message": message,
            "backend": be.name,
            "seed": train_cfg.seed,
            "epochs_requested": train_cfg.epochs,
            "epochs_run": epochs_run,
            "batch_size": train_cfg.batch_size,
            "samples": dict(prepared.info.sizes),
            "specforge": __version__,
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

        try:
            with interrupts.deferred():
                rundir.write_history(run_dir, _in_spec_order(history, graph))
                artefacts["history"] = run_dir / rundir.HISTORY
                if status not in ("diverged", "failed"):  # diverged weights are NaN
                    model_path = run_dir / rundir.model_file(suffix)
                    be.save(model, str(model_path))
                    artefacts["model"] = model_path
            if status in FINISHED and not guard.interrupted:
                try:
                    _evaluate_saved(be, graph, prepared, train_cfg, artefacts, metrics, guard)
                except KeyboardInterrupt:
                    guard.interrupted = True
            if status in FINISHED and guard.interrupted:
                status = metrics["status"] = "interrupted"
                message = metrics["message"] = (
                    "interrupted by the user after training, while evaluating the saved model"
                )
            if epochs_run:
                with contextlib.suppress(KeyboardInterrupt):
                    plots.save(
                        plots.learning_curves(history, graph.name, outputs),
                        run_dir / rundir.LEARNING_CURVES,
                    )
                    artefacts["learning_curves"] = run_dir / rundir.LEARNING_CURVES
        except Exception as exc:
            if failure is not None:
                raise
            failure = exc
            status = metrics["status"] = "failed"
            message = metrics["message"] = _failure_message(exc)
        metrics["duration_s"] = round(time.perf_counter() - started, 3)
        with interrupts.deferred():
            try:
                # Last: its presence marks a finished write.
                rundir.write_json(run_dir / rundir.METRICS, metrics)
                artefacts["metrics"] = run_dir / rundir.METRICS
            except OSError:
                if failure is None:
                    raise
            final = place.publish(status)
    if failure is not None:
        raise failure
    artefacts = {k: final if k == "run_dir" else final / p.name for k, p in artefacts.items()}
    return RunResult(final, status, metrics, history, message, artefacts, hint)


def _failure_message(exc: BaseException) -> str:
    return f"training failed: {getattr(exc, 'message', None) or f'{type(exc).__name__}: {exc}'}"


def _evaluate_saved(
    be: Backend,
    graph: Any,
    prepared: Prepared,
    train_cfg: Any,
    artefacts: dict[str, Path],
    metrics: dict[str, Any],
    guard: Guard,
) -> None:
    """Evaluate the model as saved, exactly what `specforge evaluate` will load; a first
    Ctrl-C stops after the split in progress."""
    saved = be.load(str(artefacts["model"]), graph)
    for split in ("train", "validation", "test"):
        if guard.interrupted:
            return
        if split in prepared.x:
            metrics[split] = _in_spec_order(
                be.evaluate(
                    saved, prepared.x[split], prepared.y[split], batch_size=train_cfg.batch_size
                ),
                graph,
            )
    preds = be.predict(saved, prepared.x["test"], batch_size=train_cfg.batch_size)
    fig = plots.predictions(graph.name, _output_predictions(graph, prepared, preds, "test"))
    path = artefacts["run_dir"] / rundir.PREDICTIONS
    plots.save(fig, path)
    artefacts["predictions"] = path


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
    metrics = rundir.read_json(path, rundir.METRICS)
    be = select_backend(str(metrics.get("backend", DEFAULT_BACKEND)), reg)
    model_path = path / rundir.model_file(be.file_suffix)
    if not model_path.is_file():
        raise rundir.RunDirError(
            f"{path} has no {model_path.name}: the run's status is '{metrics.get('status')}'",
            "a run that diverged keeps no model; train again with a lower learning rate",
        )
    info = DataInfo.from_json(rundir.read_json(path, rundir.DATA))
    states = rundir.read_preprocessor_states(path)
    train_cfg = result.graph.train_config
    data_cfg = result.graph.data
    if data_cfg is None:
        raise rundir.RunDirError(
            f"{path / rundir.SPEC} has no 'data' section",
            "the run directory is damaged: train again",
        )
    model = be.load(str(model_path), result.graph)
    return LoadedRun(
        path, result, metrics, info, be, model, train_cfg.batch_size, states, data_cfg, reg
    )


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
    from ..data.npz import read_npz

    try:
        with np.load(path, allow_pickle=False) as data:
            keys = list(data.files)
    except (ValueError, OSError) as e:
        raise InputError(f"cannot read {path} as an .npz archive: {e}") from None
    if key is None:
        key = "x" if "x" in keys or len(keys) != 1 else keys[0]
    try:
        return read_npz(path, x_key=key, y_key=None).x
    except DataError as e:
        raise InputError(e.message, e.help) from None


def predict_run(
    run_dir: str | os.PathLike[str],
    input_path: str | os.PathLike[str],
    output_path: str | os.PathLike[str],
    *,
    key: str | None = None,
    registry: Registry | None = None,
) -> tuple[int, list[str]]:
    """Predict with a run's model on new data; write one CSV column per output unit.

    ``input_path`` is a CSV (one sample per row, the dataset's features in
    columns, header optional: with a header naming the features they are picked
    by name) or an ``.npz`` (array ``key``, default ``x``). The run's fitted
    preprocessors are applied. A CSV is read, predicted and written
    :data:`PREDICT_CHUNK_ROWS` rows at a time, so memory does not grow with it;
    the output appears (atomically) only once every row is done. Returns (rows
    written, column names).
    """
    run = load_run(run_dir, registry=registry)
    graph = run.result.graph
    info = run.info
    src = Path(input_path)
    if not src.is_file():
        raise InputError(f"{src}: no such file", "pass a CSV or .npz file of features")
    if src.suffix.lower() == ".npz":
        x = _read_input_npz(src, key)
        chunks: Iterable[np.ndarray] = (
            x[i : i + PREDICT_CHUNK_ROWS] for i in range(0, max(len(x), 1), PREDICT_CHUNK_ROWS)
        )
    else:
        # Parsing the next chunk overlaps predicting and writing this one: pandas'
        # parser and NumPy release the GIL.
        chunks = _prefetched(_read_input_csv(src, info.feature_names))
    width = math.prod(info.sample_shape)
    steps = [
        obj
        for step, obj in make_preprocessors(run.data.preprocess, run.registry, run.states)
        if step.applies_to == "features"
    ]
    rows = 0
    columns: list[str] | None = None
    with atomic_path(output_path) as tmp, open(tmp, "w", encoding="utf-8", newline="") as out:
        for x in chunks:
            flat = x.reshape(len(x), -1) if x.ndim > 1 else x.reshape(len(x), 1)
            if flat.shape[1] != width:
                shape = "×".join(map(str, info.sample_shape))
                names = ", ".join(info.feature_names[:8]) + (", ..." if width > 8 else "")
                raise InputError(
                    f"{src} has {flat.shape[1]} value(s) per sample, but the run was trained on {width} features ({shape}: {names})",
                    "give exactly the dataset's features, in its order (or a CSV header naming them); leave the target out",
                )
            # Checked as float32, what the model gets: 1e39 is infinite there.
            features = flat.astype(np.float32, copy=False)
            del flat
            if not np.all(np.isfinite(features)):
                row = rows + int(np.argmax(~np.isfinite(features).all(axis=1)))
                raise InputError(
                    f"{src}: sample {row} (0-based) holds NaN or infinity",
                    "fill in or drop those values",
                )
            for obj in steps:
                features = np.asarray(obj.transform(features))
            inputs = features_to_inputs(features, info, graph)
            preds = run.backend.predict(run.model, inputs, batch_size=run.batch_size)
            blocks = []
            names_now: list[str] = []
            for o in graph.outputs:
                p = np.asarray(preds[o.name]).reshape(len(features), -1)
                names_now += (
                    [o.name] if p.shape[1] == 1 else [f"{o.name}_{k}" for k in range(p.shape[1])]
                )
                blocks.append(p)
            if columns is None:
                columns = names_now
                out.write(",".join(columns) + "\n")
            if len(features):
                table = np.concatenate(blocks, axis=1).astype(np.float64)
                # repr: the shortest text that reads back as exactly the same float;
                # formatted column by column, which is twice as fast as row by row.
                cells = [list(map(repr, column.tolist())) for column in table.T]
                rows_text = cells[0] if len(cells) == 1 else map(",".join, zip(*cells, strict=True))
                out.write("\n".join(rows_text) + "\n")
            rows += len(features)
    return rows, columns or []
