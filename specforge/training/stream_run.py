"""``specforge train`` on a streamed file (``data.dataset: {type: csv or npz, stream: true}``).

The run directory is the one an in-memory run writes; what differs is how the
data flows: one pass fits the preprocessors (and counts the splits), then every
epoch reads the file again in chunks (:mod:`specforge.data.stream`,
:mod:`specforge.data.npz_stream`) and the backend trains on those batches: Keras
through a prefetched ``tf.data`` pipeline, NumPy one batch at a time.
Peak memory is a chunk plus a few batches, whatever the file's size.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from .. import __version__
from ..data.dataset import DataError
from ..data.stream import CsvStream, fit_streaming, transformer
from . import plots, rundir
from .callbacks import Guard, Progress, Recorder
from .prepare import DataInfo, make_preprocessors
from .speed_settings import stream_settings

#: Test rows drawn in the predictions plot (the first ones of the test split).
PLOT_ROWS = 5_000


def _columns(path: str, params: Any) -> tuple[list[str], list[int], list[int]]:
    """Header names, feature column indices and target column indices."""
    with open(path, encoding="utf-8-sig") as fh:
        first = fh.readline().rstrip("\r\n").split(params.delimiter)
    names = [c.strip() for c in first] if params.header else [str(i) for i in range(len(first))]

    def index(c: Any) -> int:
        if isinstance(c, int):
            return c % len(names)
        if c in names:
            return names.index(c)
        raise DataError(f"column {c!r} not found in {path}", help="columns: " + ", ".join(names))

    targets = [
        index(c) for c in (params.target if isinstance(params.target, list) else [params.target])
    ]
    if params.features is None:
        features = [j for j in range(len(names)) if j not in targets]
    elif isinstance(params.features, list):
        features = [index(c) for c in params.features]
    else:
        raise DataError(
            "a streamed csv takes features as a list of names or indices",
            help="write features: [a, b, c], or leave it out for every other column",
        )
    return names, features, targets


def _fraction(value: Any, what: str) -> float:
    if isinstance(value, int) and value != 0:
        raise DataError(
            f"data.split.{what} is a count; a streamed dataset splits by row hash, by fraction",
            help=f"write data.split.{what} as a fraction such as 0.2",
        )
    return float(value)


def _in_spec_order(values: dict[str, Any], graph: Any) -> dict[str, Any]:
    order = graph.history_keys()
    return {
        k: values[k]
        for k in [*(k for k in order if k in values), *(k for k in values if k not in order)]
    }


def _open_stream(
    result: Any, echo: Callable[[str], None], split_test_set: bool
) -> tuple[Any, list[str], list[str]]:
    """The dataset's :class:`~specforge.data.stream.RowStream`, feature and target names."""
    from ..default_plugins.datasets.files import data_file

    cfg = result.graph.data
    params = cfg.dataset_params
    path = data_file(params)
    if cfg.dataset == "npz":
        from ..data.npz_stream import NpzStream

        if params.y_key is None:
            raise DataError(
                f"{path}: a streamed npz needs targets (y_key)",
                help="name the targets array with y_key",
            )
        own_test = params.x_test_key is not None
        if own_test and split_test_set:
            echo("note: dataset 'npz' has its own test split; data.split.test is ignored")
        npz = NpzStream(
            path,
            x_key=params.x_key,
            y_key=params.y_key,
            x_test_key=params.x_test_key,
            y_test_key=params.y_test_key,
            test=0.0 if own_test else _fraction(cfg.split.test, "test"),
            validation=_fraction(cfg.split.validation, "validation"),
            seed=cfg.split.seed,
            chunk_rows=params.chunk_rows,
            task=params.task,
        )
        return npz, npz.feature_names(), [params.y_key]
    if cfg.dataset != "csv":
        raise DataError(
            f"dataset '{cfg.dataset}' cannot be streamed",
            help="stream: true works with the csv and npz datasets",
        )
    names, features, targets = _columns(path, params)
    csv = CsvStream(
        path,
        features,
        targets,
        delimiter=params.delimiter,
        header=params.header,
        test=_fraction(cfg.split.test, "test"),
        validation=_fraction(cfg.split.validation, "validation"),
        seed=cfg.split.seed,
        chunk_rows=params.chunk_rows,
    )
    return csv, [names[j] for j in features], [names[j] for j in targets]


def train_stream(
    result: Any,
    be: Any,
    train_cfg: Any,
    reg: Any,
    *,
    out: Any,
    runs_root: Any,
    progress: str,
    echo: Callable[[str], None],
    callbacks: tuple[Any, ...] = (),
    split_test_set: bool = False,
) -> Any:
    """Train on a streamed file; (run_dir, status, metrics, history, message, artefacts).

    The caller (:func:`specforge.training.run.train`) has checked that the backend
    streams, that the run is not distributed and the graph has one input and output;
    ``split_test_set`` says whether the spec sets ``data.split.test`` (a note when
    the data set has its own test split).
    """
    graph = result.graph
    cfg = graph.data
    stream, feature_names, target_names = _open_stream(result, echo, split_test_set)
    started = time.perf_counter()
    steps = make_preprocessors(cfg.preprocess, reg)
    sizes = fit_streaming(steps, stream)
    apply = transformer(steps)
    out_node = graph.outputs[0]
    sparse = out_node.loss == "sparse_categorical_crossentropy"

    def shaped(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        x, y = apply(x, y)
        y = y[:, 0].astype(np.int64) if sparse else y.reshape(len(y), *out_node.shape)
        return x.reshape(len(x), *graph.inputs[0].shape), y.astype(y.dtype, copy=False)

    bs, seed = train_cfg.batch_size, train_cfg.seed

    def train_batches(epoch: int) -> Any:
        shuffle_seed = (0 if seed is None else seed) + epoch if train_cfg.shuffle else None
        return stream.batches("train", bs, shaped, shuffle_seed=shuffle_seed)

    def split_batches(split: str) -> Callable[[], Any]:
        return lambda: stream.batches(split, bs, shaped)

    info = DataInfo(
        dataset=cfg.dataset,
        task="classification" if out_node.classification else "regression",
        feature_names=feature_names,
        sample_shape=list(getattr(stream, "sample_shape", (stream.n_features,))),
        target_names=target_names,
        class_names=None,
        feeds={graph.inputs[0].name: list(range(stream.n_features))},
        targets={out_node.name: None},
        sizes={k: v for k, v in sizes.items() if v},
    )
    model = be.build(graph, seed=seed, registry=reg)
    suffix = be.file_suffix
    run_dir = (
        rundir.prepare_out_dir(out, (suffix,))
        if out is not None
        else rundir.new_run_dir(graph.name, runs_root)
    )
    resolved = graph.to_spec()
    resolved["train"] = train_cfg.as_dict()
    rundir.write_spec(run_dir, resolved, graph.file)
    rundir.write_json(run_dir / rundir.DATA, info.to_json())
    rundir.write_preprocessors(run_dir, steps)

    recorder, guard = Recorder(), Guard([out_node.name])
    steps_per_epoch = -(-sizes["train"] // bs)
    bar = (
        Progress(train_cfg.epochs, steps_per_epoch, mode=progress) if progress != "quiet" else None
    )
    cbs = [c for c in (recorder, bar, guard) if c is not None] + list(callbacks)
    try:
        history = be.fit_stream(
            model,
            train_batches,
            epochs=train_cfg.epochs,
            validation=split_batches("validation") if sizes["validation"] else None,
            seed=seed,
            callbacks=cbs,
            **stream_settings(be, train_cfg, sizes["train"]),
        )
    finally:
        if bar is not None:
            bar.close()
    epochs_run = max((len(v) for v in history.values()), default=0)
    status = "diverged" if guard.diverged is not None else "completed"
    metrics: dict[str, Any] = {
        "spec": graph.name,
        "status": status,
        "message": guard.message() if guard.diverged is not None else None,
        "backend": be.name,
        "seed": seed,
        "epochs_requested": train_cfg.epochs,
        "epochs_run": epochs_run,
        "batch_size": bs,
        "global_batch_size": bs,
        "replicas": 1,
        "samples": info.sizes,
        "stream": True,
        "specforge": __version__,
    }
    rundir.write_history(run_dir, _in_spec_order(history, graph))
    artefacts = {"run_dir": run_dir, "history": run_dir / rundir.HISTORY}
    if status == "completed":
        model_path = run_dir / rundir.model_file(suffix)
        be.save(model, str(model_path))
        artefacts["model"] = model_path
        saved = be.load(str(model_path), graph, registry=reg)
        for split in ("train", "validation", "test"):
            if sizes[split]:
                metrics[split] = _in_spec_order(
                    be.evaluate_stream(saved, split_batches(split)), graph
                )
        if sizes["test"]:
            xs, ys, held = [], [], 0
            for x, y in stream.batches("test", bs, shaped):
                xs.append(x)
                ys.append(y)
                held += len(x)
                if held >= PLOT_ROWS:
                    break
            x, y = np.concatenate(xs)[:PLOT_ROWS], np.concatenate(ys)[:PLOT_ROWS]
            preds = be.predict(saved, {graph.inputs[0].name: x}, batch_size=bs)
            kind = "classification" if out_node.classification else "regression"
            fig = plots.predictions(
                graph.name,
                [
                    plots.OutputPredictions(
                        out_node.name, kind, y, np.asarray(preds[out_node.name]), None
                    )
                ],
            )
            plots.save(fig, run_dir / rundir.PREDICTIONS)
            artefacts["predictions"] = run_dir / rundir.PREDICTIONS
    if epochs_run:
        plots.save(
            plots.learning_curves(history, graph.name, [out_node.name]),
            run_dir / rundir.LEARNING_CURVES,
        )
        artefacts["learning_curves"] = run_dir / rundir.LEARNING_CURVES
    metrics["duration_s"] = round(time.perf_counter() - started, 3)
    rundir.write_json(run_dir / rundir.METRICS, metrics)
    artefacts["metrics"] = run_dir / rundir.METRICS
    return Path(run_dir), status, metrics, history, metrics["message"], artefacts


__all__ = ["PLOT_ROWS", "train_stream"]
