"""From a data section to arrays keyed by input and output name, for every split.

dataset loader → split → preprocessors (fitted on the training split only) →
feeds (which feature columns reach which input) → targets (which target
reaches which output). The same functions turn new data into model inputs for
``specforge predict``, with the run's fitted preprocessors.

Problems that come from the spec not fitting the data (a feed picking a column
the data does not have, a target that cannot fill an output) are raised as
:class:`DataMismatch` with the spec path at fault, so the caller can show them
as positioned diagnostics; problems with the files are
:class:`~specforge.plugin.DataError`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from ..data import selectors
from ..data.dataset import DataError, Dataset
from ..ir import DataConfig, Graph, Step
from ..registry import Registry
from ..spec.load import Path_
from .split import split_indices

SPLITS = ("train", "validation", "test")


class DataMismatch(Exception):
    """The spec does not fit the loaded data; ``path`` points into the spec."""

    def __init__(self, code: str, message: str, path: Path_, help: str | None = None):
        super().__init__(message)
        self.code, self.message, self.path, self.help = code, message, path, help


@dataclass
class DataInfo:
    """What a run needs to know about its data later (saved as ``data.json``)."""

    dataset: str
    task: str
    #: The dataset's feature names, one per value of a sample flattened.
    feature_names: list[str]
    #: Shape of one sample as the dataset has it (e.g. [8, 8]).
    sample_shape: list[int]
    target_names: list[str]
    class_names: list[str] | None
    #: Flattened feature columns (after preprocessing) reaching each input.
    feeds: dict[str, list[int]] = field(default_factory=dict)
    #: Target columns reaching each output (None: the whole target).
    targets: dict[str, list[int] | None] = field(default_factory=dict)
    sizes: dict[str, int] = field(default_factory=dict)
    own_test_split: bool = False

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> DataInfo:
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})


@dataclass
class Prepared:
    """Model-ready arrays: ``x[split][input]`` and ``y[split][output]``."""

    x: dict[str, dict[str, np.ndarray]]
    y: dict[str, dict[str, np.ndarray]]
    info: DataInfo
    #: The fitted preprocessors, in order, with their spec.
    preprocessors: list[tuple[Step, Any]]

    def size(self, split: str) -> int:
        arrays = self.x.get(split) or {}
        return len(next(iter(arrays.values()))) if arrays else 0


def load_dataset(cfg: DataConfig, reg: Registry) -> Dataset:
    """Call the dataset plugin; a failing third-party loader is reported with its name."""
    dataset_type = reg.datasets[cfg.dataset]
    try:
        ds = dataset_type.load(cfg.dataset_params)
    except DataError:
        raise
    except Exception as exc:
        owner = reg.owner.get(("dataset", cfg.dataset), "?")
        raise DataError(
            f"dataset '{cfg.dataset}' (plugin '{owner}') failed to load: {type(exc).__name__}: {exc}",
            help="this is a bug in the dataset plugin; rerun with --debug for the traceback",
        ) from exc
    if not isinstance(ds, Dataset):
        raise DataError(
            f"dataset '{cfg.dataset}' returned {type(ds).__name__}, not a specforge Dataset"
        )
    if ds.y is None:
        raise DataError(
            f"dataset '{cfg.dataset}' has no targets; training needs them",
            help="name the target column(s) of the dataset (csv: target, npz: y_key)",
        )
    return ds


def _flat(x: np.ndarray) -> np.ndarray:
    return np.asarray(x).reshape(len(x), -1)


def make_preprocessors(
    steps: tuple[Step, ...], reg: Registry, states: list[dict[str, Any]] | None = None
) -> list[tuple[Step, Any]]:
    """Instantiate the preprocessors; with ``states``, restore their fitted state."""
    out = []
    for i, step in enumerate(steps):
        obj = reg.preprocessors[step.type].create(step.params)
        if states is not None:
            obj.set_state(states[i])
        out.append((step, obj))
    return out


def _run_steps(
    pre: list[tuple[Step, Any]], applies_to: str, arrays: dict[str, np.ndarray], *, fit: bool
) -> dict[str, np.ndarray]:
    """Fit (on ``arrays['train']``) and apply the steps of one kind to every split."""
    for step, obj in pre:
        if step.applies_to != applies_to:
            continue
        if fit:
            obj.fit(arrays["train"])
        arrays = {split: np.asarray(obj.transform(a)) for split, a in arrays.items()}
    return arrays


def features_to_inputs(flat: np.ndarray, info: DataInfo, graph: Graph) -> dict[str, np.ndarray]:
    """Preprocessed features (one flat row per sample) → arrays keyed by input name."""
    out = {}
    for inp in graph.inputs:
        cols = info.feeds[inp.name]
        part = flat if cols == list(range(flat.shape[1])) else flat[:, cols]
        out[inp.name] = np.ascontiguousarray(part.reshape(len(flat), *inp.shape), dtype=inp.dtype)
    return out


def _resolve_feeds(
    graph: Graph, cfg: DataConfig, names: list[str], width: int, ds: Dataset
) -> dict[str, list[int]]:
    feeds: dict[str, list[int]] = {}
    for i, inp in enumerate(graph.inputs):
        size = math.prod(inp.shape)
        if inp.name not in cfg.feeds:
            # The checker guarantees a single input here: all features reach it.
            if width != size:
                shape = "×".join(map(str, ds.x.shape[1:])) or "1"
                raise DataMismatch(
                    "feed-mismatch",
                    f"dataset '{cfg.dataset}' has {width} feature{'s' * (width != 1)} per sample ({shape}), "
                    f"but input '{inp.name}' has shape {list(inp.shape)} ({size} values)",
                    ("inputs", i, "shape"),
                    help=f"give the input shape [{width}] (or one whose product is {width}), "
                    "or pick columns with data.feeds",
                )
            feeds[inp.name] = list(range(width))
            continue
        path = ("data", "feeds", inp.name, "columns")
        try:
            cols = selectors.resolve(cfg.feeds[inp.name], names)
        except selectors.SelectorError as e:
            raise DataMismatch(
                "feed-mismatch", f"feed '{inp.name}': {e.message}", path, help=e.help
            ) from None
        if len(cols) != size:
            raise DataMismatch(
                "feed-mismatch",
                f"feed '{inp.name}' selects {len(cols)} column{'s' * (len(cols) != 1)} but input '{inp.name}' "
                f"has shape {list(inp.shape)} ({size} values per sample)",
                path,
                help=f"the data has {width} feature columns: {', '.join(names[:10])}{', ...' if width > 10 else ''}",
            )
        feeds[inp.name] = cols
    return feeds


def _resolve_targets(graph: Graph, cfg: DataConfig, ds: Dataset) -> dict[str, list[int] | None]:
    y = np.asarray(ds.y)
    width = 1 if y.ndim == 1 else math.prod(y.shape[1:])
    names = (
        list(ds.target_names)
        if len(ds.target_names) == width
        else [f"target_{k}" for k in range(width)]
    )
    out: dict[str, list[int] | None] = {}
    for o in graph.outputs:
        if o.name not in cfg.targets:
            out[o.name] = None
            continue
        try:
            out[o.name] = selectors.resolve(cfg.targets[o.name], names, what="targets")
        except selectors.SelectorError as e:
            raise DataMismatch(
                "target-mismatch",
                f"target of output '{o.name}': {e.message}",
                ("data", "targets", o.name, "columns"),
                help=e.help,
            ) from None
    return out


def _output_index(graph: Graph, name: str) -> int:
    return next(i for i, o in enumerate(graph.outputs) if o.name == name)


def shape_target(
    y: np.ndarray, output: Any, graph: Graph, class_names: list[str] | None
) -> np.ndarray:
    """One output's target array in the layout its loss expects."""
    i = _output_index(graph, output.name)
    units = math.prod(output.shape)
    per_sample = 1 if y.ndim == 1 else math.prod(y.shape[1:])
    at = ("outputs", i, "loss")
    if output.loss == "sparse_categorical_crossentropy":
        labels = y.reshape(len(y), -1)
        if per_sample != 1 or (
            labels.dtype.kind not in "iub" and not np.all(labels == np.round(labels))
        ):
            raise DataMismatch(
                "target-mismatch",
                f"output '{output.name}' uses sparse_categorical_crossentropy, which needs one class index per sample, "
                f"but its target has {per_sample} value(s) per sample{'' if per_sample != 1 else ' that are not integers'}",
                at,
                help="use a regression loss such as mse, or categorical_crossentropy for one-hot targets",
            )
        labels = labels[:, 0].astype(np.int64)
        top = int(labels.max()) if labels.size else 0
        if top >= units:
            n_classes = len(class_names) if class_names else top + 1
            raise DataMismatch(
                "target-mismatch",
                f"output '{output.name}' has {units} unit{'s' * (units != 1)}, but the targets hold class {top} "
                f"({n_classes} classes)",
                ("outputs", i, "node"),
                help=f"give node '{output.node}' units: {n_classes}",
            )
        return labels
    if output.loss == "categorical_crossentropy" and per_sample == 1 and units > 1:
        raise DataMismatch(
            "target-mismatch",
            f"output '{output.name}' uses categorical_crossentropy, which needs one-hot targets, but its target is one "
            "class index per sample",
            at,
            help="add {type: one_hot} to data.preprocess, or use loss: sparse_categorical_crossentropy",
        )
    if per_sample != units:
        raise DataMismatch(
            "target-mismatch",
            f"output '{output.name}' has {units} value{'s' * (units != 1)} per sample, but its target has {per_sample}",
            ("outputs", i, "node"),
            help="pick target columns with data.targets, or change the output node's units",
        )
    return np.ascontiguousarray(y.reshape(len(y), *output.shape), dtype=np.float32)


def prepare(
    graph: Graph,
    cfg: DataConfig,
    reg: Registry,
    *,
    states: list[dict[str, Any]] | None = None,
    splits: tuple[str, ...] = SPLITS,
) -> Prepared:
    """Load, split, preprocess and wire the data for ``graph``.

    Without ``states`` the preprocessors are fitted on the training split; with
    them (a saved run's), they are restored instead, so that evaluation sees
    exactly the arrays the run saw.
    """
    ds = load_dataset(cfg, reg)
    own_test = ds.x_test is not None
    labels = ds.y if ds.task == "classification" else None
    idx = split_indices(len(ds.x), cfg.split, labels, own_test=own_test)
    x_parts = {s: ds.x[i] for s, i in idx.items()}
    y_parts = {s: np.asarray(ds.y)[i] for s, i in idx.items()}
    if own_test:
        x_parts["test"], y_parts["test"] = ds.x_test, ds.y_test
    keep = [s for s in SPLITS if s in x_parts and (s in splits or s == "train")]
    x_parts = {s: _flat(x_parts[s]) for s in keep}
    y_parts = {s: y_parts[s] for s in keep}

    pre = make_preprocessors(cfg.preprocess, reg, states)
    fit = states is None
    x_parts = _run_steps(pre, "features", x_parts, fit=fit)
    y_parts = _run_steps(pre, "targets", y_parts, fit=fit)

    width = x_parts["train"].shape[1]
    raw_names = list(ds.feature_names)
    if len(raw_names) != math.prod(ds.x.shape[1:]):
        raw_names = [f"feature_{k}" for k in range(math.prod(ds.x.shape[1:]))]
    # Feeds pick among the preprocessed columns, which keep their names unless a
    # preprocessor changed how many there are.
    flat_names = raw_names if len(raw_names) == width else [f"feature_{k}" for k in range(width)]
    info = DataInfo(
        dataset=cfg.dataset,
        task=ds.task,
        feature_names=raw_names,
        sample_shape=list(ds.x.shape[1:]),
        target_names=list(ds.target_names),
        class_names=list(ds.class_names) if ds.class_names is not None else None,
        own_test_split=own_test,
        sizes={s: len(x_parts[s]) for s in keep},
    )
    info.feeds = _resolve_feeds(graph, cfg, flat_names, width, ds)
    info.targets = _resolve_targets(graph, cfg, ds)

    xs: dict[str, dict[str, np.ndarray]] = {}
    ys: dict[str, dict[str, np.ndarray]] = {}
    for s in keep:
        if s not in splits:
            continue
        xs[s] = features_to_inputs(x_parts[s], info, graph)
        y = np.asarray(y_parts[s])
        ys[s] = {}
        for o in graph.outputs:
            cols = info.targets[o.name]
            yo = y if cols is None else y.reshape(len(y), -1)[:, cols]
            if cols is not None and len(cols) == 1:
                yo = yo[:, 0]
            ys[s][o.name] = shape_target(yo, o, graph, info.class_names)
    return Prepared(xs, ys, info, pre)


def is_classification(output: Any) -> bool:
    return output.classification
