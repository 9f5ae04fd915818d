"""The ``data`` and ``train`` sections: models, checks, JSON Schema and resolved form.

Importing this module registers :func:`check_data_section` and
:func:`check_train_section` with the checker (``SECTION_CHECKS``) and their
schema builders with ``SECTION_SCHEMAS``; the built-in dataset plugin imports
it, so the checks are in place whenever the registry is. Everything here is
light (pydantic only): ``validate`` checks these sections without importing
numpy, scikit-learn or a framework.

Checks yield positioned diagnostics, like the rest of the checker: unknown keys
with did-you-mean, each dataset's and preprocessor's parameters through its own
pydantic model, and the cross-checks between data and model (feeds naming
unknown inputs, inputs without a feed, column counts that cannot fill an
input, targets naming unknown outputs, monitors naming no history key).
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError, field_validator
from pydantic_core import PydanticCustomError

from ..checker import SECTION_CHECKS, _unknown_name_help
from ..data import selectors
from ..diagnostics import Diagnostic, did_you_mean
from ..graph import _thaw
from ..loader import Document, Path_
from ..plugin import Params
from ..registry import Registry
from ..schema import SECTION_SCHEMAS, _model_schema
from ..spec import pydantic_diagnostics

#: Losses whose targets are class indices or one-hot rows.
CLASSIFICATION_LOSSES = frozenset(
    {"sparse_categorical_crossentropy", "categorical_crossentropy", "binary_crossentropy"}
)


# ---------------------------------------------------------------- models


def _fraction_or_count(value: Any, *, zero_ok: bool) -> float | int:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise PydanticCustomError(
            "fraction_or_count", "must be a fraction between 0 and 1 or a whole number of samples"
        )
    if isinstance(value, float):
        if not math.isfinite(value) or not 0 < value < 1:
            if value == 0 and zero_ok:
                return 0
            raise PydanticCustomError(
                "fraction_or_count",
                "must be a fraction strictly between 0 and 1, or a whole number of samples (no decimal point)",
            )
        return value
    if value < 0 or (value == 0 and not zero_ok):
        raise PydanticCustomError(
            "fraction_or_count",
            "must be a positive number of samples or a fraction between 0 and 1",
        )
    return value


class SplitSpec(Params):
    """How the data is split into training, validation and test sets."""

    test: Any = Field(
        0.25,
        description="Test set: a fraction of the samples (0 < f < 1) or a count; "
        "ignored when the dataset has its own test split.",
        json_schema_extra={
            "anyOf": [
                {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
                {"type": "integer", "minimum": 1},
            ]
        },
    )
    validation: Any = Field(
        0.25,
        description="Validation set, taken from what is left for training: a fraction or a count (0: none).",
        json_schema_extra={
            "anyOf": [
                {"type": "number", "minimum": 0, "exclusiveMaximum": 1},
                {"type": "integer", "minimum": 0},
            ]
        },
    )
    seed: int = Field(0, ge=0, description="Seed of the shuffles that make the splits.")
    stratify: bool = Field(
        False, description="Keep class proportions equal across the splits (classification)."
    )

    @field_validator("test", mode="plain")
    @classmethod
    def _test(cls, value: Any) -> float | int:
        return _fraction_or_count(value, zero_ok=False)

    @field_validator("validation", mode="plain")
    @classmethod
    def _validation(cls, value: Any) -> float | int:
        return _fraction_or_count(value, zero_ok=True)


def _selector(value: Any) -> Any:
    ok_item = lambda v: isinstance(v, str) or (isinstance(v, int) and not isinstance(v, bool))  # noqa: E731
    if ok_item(value) or (isinstance(value, list) and value and all(ok_item(v) for v in value)):
        return value
    raise PydanticCustomError(
        "selector",
        "must be a slice string such as '0:5', a column index or name, or a non-empty list of indices and names",
    )


_SELECTOR_SCHEMA = {
    "anyOf": [
        {"type": "string", "description": "a slice 'start:stop' or a column name"},
        {"type": "integer"},
        {
            "type": "array",
            "minItems": 1,
            "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
        },
    ]
}


class FeedSpec(Params):
    """Which feature columns reach one model input."""

    columns: Any = Field(
        description="Slice string ('0:5'), index, name or list of them, over the features of one sample flattened.",
        json_schema_extra=_SELECTOR_SCHEMA,
    )

    @field_validator("columns", mode="plain")
    @classmethod
    def _columns(cls, value: Any) -> Any:
        return _selector(value)


class TargetSpec(Params):
    """Which target column(s) reach one model output."""

    columns: Any = Field(
        description="Slice string, index, name or list of them, over the dataset's target columns.",
        json_schema_extra=_SELECTOR_SCHEMA,
    )

    @field_validator("columns", mode="plain")
    @classmethod
    def _columns(cls, value: Any) -> Any:
        return _selector(value)


class DataHeader(Params):
    """The keys of the data section; each part is validated on its own."""

    dataset: dict[str, Any] = Field(description="The dataset: {type: NAME, ...its parameters}.")
    split: dict[str, Any] = Field(default_factory=dict, description="Test/validation split.")
    preprocess: list[Any] = Field(
        default_factory=list, description="Preprocessors, applied in order."
    )
    feeds: dict[str, Any] = Field(
        default_factory=dict, description="Feature columns per model input."
    )
    targets: dict[str, Any] = Field(
        default_factory=dict, description="Target columns per model output."
    )


Mode = Literal["auto", "min", "max"]


class EarlyStoppingSpec(Params):
    monitor: str = Field(
        "val_loss", description="History key to watch, e.g. val_loss or val_accuracy."
    )
    patience: int = Field(5, ge=0, description="Epochs without improvement before stopping.")
    min_delta: float = Field(
        0.0, ge=0, allow_inf_nan=False, description="Smallest change that counts as an improvement."
    )
    restore_best: bool = Field(
        True, description="Restore the weights of the best epoch when stopping."
    )
    mode: Mode = Field(
        "auto", description="min or max; auto: max for accuracy-like keys, min otherwise."
    )


class CheckpointSpec(Params):
    monitor: str = Field("val_loss", description="History key that decides which epoch is best.")
    mode: Mode = Field(
        "auto", description="min or max; auto: max for accuracy-like keys, min otherwise."
    )


class TrainSection(Params):
    """The train section; early_stopping and checkpoint are validated on their own."""

    epochs: int = Field(10, gt=0, description="Number of passes over the training data.")
    batch_size: int = Field(32, gt=0, description="Samples per gradient step.")
    seed: int | None = Field(
        0, ge=0, description="Seed of the weights and the shuffling (null: not reproducible)."
    )
    shuffle: bool = Field(True, description="Shuffle the training data every epoch.")
    backend: str | None = Field(
        None,
        description="Backend to train on when --backend is not given (default keras); "
        "e.g. numpy for the perceptron, which only the NumPy backend can train.",
    )
    early_stopping: Any = Field(
        None,
        description="Stop when the monitored key stops improving: true or {monitor, patience, min_delta, restore_best}.",
    )
    checkpoint: Any = Field(
        None,
        description="Keep the best model in the run directory: true or {monitor, mode}.",
    )


# ---------------------------------------------------------------- helpers


def _validate(
    doc: Document,
    model: type[BaseModel],
    raw: Any,
    path: Path_,
    where: str,
    diags: list[Diagnostic],
    extra_fields: tuple[str, ...] = (),
) -> Any:
    try:
        return model.model_validate(raw)
    except ValidationError as e:
        diags.extend(
            pydantic_diagnostics(
                doc, e, path, where=where, fields=[*extra_fields, *model.model_fields]
            )
        )
        return None


def _typed_item(
    doc: Document,
    raw: Any,
    path: Path_,
    kind: str,
    what: str,
    reg: Registry,
    diags: list[Diagnostic],
) -> tuple[Any, BaseModel | None]:
    """Check a ``{type: NAME, ...params}`` mapping against a registry kind.

    Returns (registered item or None, validated params or None).
    """
    if not isinstance(raw, dict):
        diags.append(
            doc.diagnostic("wrong-type", f"{what} must be a mapping such as {{type: NAME}}", path)
        )
        return None, None
    if "type" not in raw:
        names = ", ".join(sorted(reg.names(kind)))
        diags.append(
            doc.diagnostic(
                "missing-field",
                f"{what} is missing required key 'type'",
                path,
                help=f"add 'type:', one of: {names}",
            )
        )
        return None, None
    name = raw["type"]
    if not isinstance(name, str):
        diags.append(
            doc.diagnostic("wrong-type", f"{what}: 'type' must be a string", (*path, "type"))
        )
        return None, None
    item = reg.get(kind, name)
    if item is None:
        diags.append(
            doc.diagnostic(
                f"unknown-{kind}",
                f"unknown {kind} '{name}'",
                (*path, "type"),
                help=_unknown_name_help(reg, kind, name),
            )
        )
        return None, None
    params = {k: v for k, v in raw.items() if k != "type"}
    return item, _validate(
        doc, item.params_model, params, path, f"{kind} '{item.name}'", diags, ("type",)
    )


def _model_inputs(doc: Document) -> dict[str, tuple[int, ...] | None]:
    """Model inputs by name with their shapes (None where the spec's shape is broken)."""
    out: dict[str, tuple[int, ...] | None] = {}
    items = doc.data.get("inputs") if isinstance(doc.data, dict) else None
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict) and isinstance(item.get("name"), str):
            shape = item.get("shape")
            ok = (
                isinstance(shape, list)
                and shape
                and all(isinstance(d, int) and not isinstance(d, bool) and d > 0 for d in shape)
            )
            out[item["name"]] = tuple(shape) if ok else None
    return out


def _model_outputs(doc: Document) -> list[dict[str, Any]]:
    items = doc.data.get("outputs") if isinstance(doc.data, dict) else None
    return [
        o
        for o in (items if isinstance(items, list) else [])
        if isinstance(o, dict) and isinstance(o.get("node"), str)
    ]


def history_keys(outputs: list[tuple[str, list[str]]], *, validation: bool = True) -> list[str]:
    """The keys a backend's history holds for these outputs ([(name, metric names)]).

    Keras's convention (see :class:`specforge.plugin.Backend`): one output gives
    ``loss`` and its metrics by name; several give ``loss``, ``<out>_loss`` and
    ``<out>_<metric>``; validation keys are prefixed with ``val_``.
    """
    keys = ["loss"]
    if len(outputs) == 1:
        keys += list(outputs[0][1])
    else:
        for name, metrics in outputs:
            keys += [f"{name}_loss", *(f"{name}_{m}" for m in metrics)]
    return keys + ([f"val_{k}" for k in keys] if validation else [])


def _spec_history_keys(doc: Document, reg: Registry, validation: bool) -> list[str]:
    outs = []
    for o in _model_outputs(doc):
        metrics = o.get("metrics") if isinstance(o.get("metrics"), list) else []
        outs.append((o["node"], [reg.canonical("metric", m) or str(m) for m in metrics]))
    return history_keys(outs, validation=validation)


def _validation_off(doc: Document) -> bool:
    data = doc.data.get("data") if isinstance(doc.data, dict) else None
    split = data.get("split") if isinstance(data, dict) else None
    return isinstance(split, dict) and split.get("validation") == 0


# ---------------------------------------------------------------- checks


def check_data_section(doc: Document, data: Any, reg: Registry) -> Iterator[Diagnostic]:
    """Diagnostics for the ``data`` section (registered in ``SECTION_CHECKS``)."""
    diags: list[Diagnostic] = []
    base: Path_ = ("data",)
    try:
        DataHeader.model_validate(data)
    except ValidationError as e:
        diags.extend(
            pydantic_diagnostics(
                doc, e, base, where="the data section", fields=list(DataHeader.model_fields)
            )
        )

    if isinstance(data.get("dataset"), dict):  # anything else is reported by the header check
        _typed_item(doc, data["dataset"], (*base, "dataset"), "dataset", "data.dataset", reg, diags)

    if isinstance(data.get("split"), dict):
        _validate(doc, SplitSpec, data["split"], (*base, "split"), "data.split", diags)

    preprocess = data.get("preprocess")
    losses = {o["node"]: reg.canonical("loss", o.get("loss")) for o in _model_outputs(doc)}
    for i, item in enumerate(preprocess if isinstance(preprocess, list) else []):
        path = (*base, "preprocess", i)
        pre, _ = _typed_item(doc, item, path, "preprocessor", f"data.preprocess[{i}]", reg, diags)
        if pre is not None and pre.name == "one_hot":
            sparse = [n for n, loss in losses.items() if loss == "sparse_categorical_crossentropy"]
            if sparse:
                diags.append(
                    doc.diagnostic(
                        "one-hot-sparse",
                        f"one_hot turns targets into one-hot rows, but output '{sparse[0]}' uses "
                        "sparse_categorical_crossentropy, which expects class indices",
                        (*path, "type"),
                        help="remove one_hot, or use loss: categorical_crossentropy",
                        severity="warning",
                    )
                )

    diags.extend(_check_feeds(doc, data, reg))
    diags.extend(_check_targets(doc, data))
    yield from diags


def _check_feeds(doc: Document, data: Any, reg: Registry) -> Iterator[Diagnostic]:
    inputs = _model_inputs(doc)
    feeds = data.get("feeds")
    path: Path_ = ("data", "feeds")
    if feeds is not None and not isinstance(feeds, dict):
        return  # reported by the header check
    feeds = feeds or {}
    for name, raw in feeds.items():
        if name not in inputs:
            yield doc.diagnostic(
                "unknown-input",
                f"data.feeds names '{name}', which is not a model input",
                (*path, name),
                key=True,
                help=did_you_mean(name, list(inputs)) or "model inputs: " + ", ".join(inputs),
            )
            continue
        diags: list[Diagnostic] = []
        feed = _validate(doc, FeedSpec, raw, (*path, name), f"feed '{name}'", diags)
        yield from diags
        shape = inputs[name]
        if feed is None or shape is None:
            continue
        count, size = selectors.static_count(feed.columns), math.prod(shape)
        if count is not None and count != size:
            yield doc.diagnostic(
                "feed-mismatch",
                f"feed '{name}' selects {count} column{'s' * (count != 1)}, but input '{name}' has shape "
                f"{list(shape)} ({size} value{'s' * (size != 1)} per sample)",
                (*path, name, "columns"),
                help=f'select {size} columns, e.g. columns: "0:{size}", or change the input\'s shape',
            )
    missing = [n for n in inputs if n not in feeds]
    if missing and (feeds or len(inputs) > 1):
        example = ", ".join(f'{n}: {{columns: "a:b"}}' for n in missing)
        where = path if "feeds" in data else ("data",)
        for n in missing:
            yield doc.diagnostic(
                "missing-feed",
                f"model input '{n}' has no feed: with {'several inputs' if len(inputs) > 1 else 'feeds given'}, "
                "data.feeds must say which columns reach each input",
                where,
                key="feeds" in data,
                help=f"add to data.feeds: {example}",
            )


def _check_targets(doc: Document, data: Any) -> Iterator[Diagnostic]:
    targets = data.get("targets")
    if not isinstance(targets, dict):
        return
    names = [o["node"] for o in _model_outputs(doc)]
    for name, raw in targets.items():
        path = ("data", "targets", name)
        if name not in names:
            yield doc.diagnostic(
                "unknown-output",
                f"data.targets names '{name}', which is not a model output",
                path,
                key=True,
                help=did_you_mean(name, names) or "model outputs: " + ", ".join(names),
            )
            continue
        diags: list[Diagnostic] = []
        _validate(doc, TargetSpec, raw, path, f"target '{name}'", diags)
        yield from diags


def check_train_section(doc: Document, train: Any, reg: Registry) -> Iterator[Diagnostic]:
    """Diagnostics for the ``train`` section (registered in ``SECTION_CHECKS``)."""
    diags: list[Diagnostic] = []
    _validate(doc, TrainSection, train, ("train",), "the train section", diags)
    backend = train.get("backend")
    if isinstance(backend, str) and backend not in reg.backends:
        diags.append(
            doc.diagnostic(
                "unknown-backend",
                f"train.backend names '{backend}', which is not an installed backend",
                ("train", "backend"),
                help=did_you_mean(backend, sorted(reg.backends))
                or reg.failed_plugins_hint("backend", backend)
                or "installed backends: " + ", ".join(sorted(reg.backends)),
            )
        )
    keys = _spec_history_keys(doc, reg, validation=not _validation_off(doc))
    for name, model in (("early_stopping", EarlyStoppingSpec), ("checkpoint", CheckpointSpec)):
        raw = train.get(name)
        if raw is None or isinstance(raw, bool):
            raw = {} if raw is True else None
        elif not isinstance(raw, dict):
            diags.append(
                doc.diagnostic(
                    "wrong-type",
                    f"train.{name} must be true, false or a mapping, not {type(raw).__name__}",
                    ("train", name),
                    help=f"write {name}: true for the defaults, or {name}: {{monitor: val_loss}}",
                )
            )
            continue
        if raw is None:
            continue
        spec = _validate(doc, model, raw, ("train", name), f"train.{name}", diags)
        if spec is not None and spec.monitor not in keys:
            at = ("train", name, "monitor") if "monitor" in raw else ("train", name)
            if spec.monitor.startswith("val_") and _validation_off(doc):
                msg = f"train.{name} monitors '{spec.monitor}', but data.split.validation is 0: there is no validation set"
                help_ = "monitor a training key such as 'loss', or keep a validation split"
            else:
                msg = f"train.{name} monitors '{spec.monitor}', which the training history will not have"
                help_ = did_you_mean(spec.monitor, keys) or "history keys: " + ", ".join(keys)
            diags.append(doc.diagnostic("unknown-monitor", msg, at, help=help_))
    yield from diags


SECTION_CHECKS["data"] = check_data_section
SECTION_CHECKS["train"] = check_train_section


# ---------------------------------------------------------------- schema


def _typed_schema(reg: Registry, kind: str, items: Mapping[str, Any]) -> dict[str, Any]:
    branches = []
    for name, item in sorted(items.items()):
        params = _model_schema(item.params_model)
        props = {"type": {"const": name}, **params.get("properties", {})}
        then: dict[str, Any] = {"properties": props, "additionalProperties": False}
        if params.get("required"):
            then["required"] = ["type", *params["required"]]
        if params.get("$defs"):
            then["$defs"] = params["$defs"]
        branches.append(
            {
                "if": {"properties": {"type": {"const": name}}, "required": ["type"]},
                "then": then,
                "description": item.description,
            }
        )
    return {
        "type": "object",
        "required": ["type"],
        "properties": {"type": {"enum": sorted(items), "description": f"A registered {kind}."}},
        "allOf": branches,
    }


def data_schema(reg: Registry) -> dict[str, Any]:
    """JSON Schema of the data section for the installed dataset and preprocessor plugins."""
    header = _model_schema(DataHeader)
    props = header["properties"]
    props["dataset"] = {
        **_typed_schema(reg, "dataset", reg.datasets),
        "description": props["dataset"].get("description", ""),
    }
    props["split"] = {**_model_schema(SplitSpec), "additionalProperties": False}
    props["preprocess"] = {
        "type": "array",
        "items": _typed_schema(reg, "preprocessor", reg.preprocessors),
    }
    feed = {**_model_schema(FeedSpec), "additionalProperties": False}
    target = {**_model_schema(TargetSpec), "additionalProperties": False}
    props["feeds"] = {
        "type": "object",
        "additionalProperties": feed,
        "description": props["feeds"].get("description", ""),
    }
    props["targets"] = {
        "type": "object",
        "additionalProperties": target,
        "description": props["targets"].get("description", ""),
    }
    return {
        "type": "object",
        "required": ["dataset"],
        "properties": props,
        "additionalProperties": False,
    }


def train_schema(reg: Registry) -> dict[str, Any]:
    """JSON Schema of the train section."""
    schema = {**_model_schema(TrainSection), "additionalProperties": False}
    for name, model in (("early_stopping", EarlyStoppingSpec), ("checkpoint", CheckpointSpec)):
        block = {**_model_schema(model), "additionalProperties": False}
        prop = schema["properties"][name]
        schema["properties"][name] = {
            "description": prop.get("description", ""),
            "anyOf": [{"type": "boolean"}, {"type": "null"}, block],
        }
    return schema


SECTION_SCHEMAS["data"] = data_schema
SECTION_SCHEMAS["train"] = train_schema


# ---------------------------------------------------------------- resolved form


@dataclass(frozen=True)
class Step:
    """One preprocessor of the data section, validated."""

    type: str
    params: BaseModel
    applies_to: str = "features"

    def as_dict(self) -> dict[str, Any]:
        return {"type": self.type, **self.params.model_dump(mode="json")}


@dataclass(frozen=True)
class DataConfig:
    """The data section with its defaults filled in and its paths made absolute."""

    dataset: str
    dataset_params: BaseModel
    split: SplitSpec
    preprocess: tuple[Step, ...] = ()
    feeds: Mapping[str, Any] = field(default_factory=dict)
    targets: Mapping[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "dataset": {"type": self.dataset, **self.dataset_params.model_dump(mode="json")},
            "split": self.split.model_dump(mode="json"),
            "preprocess": [s.as_dict() for s in self.preprocess],
        }
        if self.feeds:
            out["feeds"] = {k: {"columns": v} for k, v in self.feeds.items()}
        if self.targets:
            out["targets"] = {k: {"columns": v} for k, v in self.targets.items()}
        return out


@dataclass(frozen=True)
class TrainConfig:
    """The train section with its defaults filled in."""

    epochs: int = 10
    batch_size: int = 32
    seed: int | None = 0
    shuffle: bool = True
    backend: str | None = None
    early_stopping: EarlyStoppingSpec | None = None
    checkpoint: CheckpointSpec | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "epochs": self.epochs,
            "batch_size": self.batch_size,
            "seed": self.seed,
            "shuffle": self.shuffle,
        }
        if self.backend is not None:
            out["backend"] = self.backend
        if self.early_stopping is not None:
            out["early_stopping"] = self.early_stopping.model_dump(mode="json")
        if self.checkpoint is not None:
            out["checkpoint"] = self.checkpoint.model_dump(mode="json")
        return out


def path_fields(model: type[BaseModel]) -> list[str]:
    """Parameters of a dataset/preprocessor model that hold file paths (``format: path``)."""
    out = []
    for name, info in model.model_fields.items():
        extra = info.json_schema_extra
        if isinstance(extra, dict) and extra.get("format") == "path":
            out.append(name)
    return out


def absolute_paths(params: BaseModel, base_dir: str | os.PathLike[str]) -> BaseModel:
    """``params`` with every path parameter made absolute, relative ones against ``base_dir``."""
    updates = {}
    for name in path_fields(type(params)):
        value = getattr(params, name)
        if isinstance(value, str):
            value = os.path.expanduser(value)
            updates[name] = os.path.normpath(os.path.join(os.fspath(base_dir), value))
    return params.model_copy(update=updates) if updates else params


def resolve_data(
    raw: Mapping[str, Any], reg: Registry, base_dir: str | os.PathLike[str]
) -> DataConfig:
    """The checked data section of a graph (``graph.data``) as a :class:`DataConfig`."""
    data = _thaw(raw)
    ds = dict(data["dataset"])
    dataset = reg.get("dataset", ds.pop("type"))
    params = absolute_paths(dataset.params_model.model_validate(ds), base_dir)
    steps = []
    for item in data.get("preprocess") or []:
        item = dict(item)
        pre = reg.get("preprocessor", item.pop("type"))
        steps.append(
            Step(
                pre.name,
                absolute_paths(pre.params_model.model_validate(item), base_dir),
                pre.applies_to,
            )
        )
    return DataConfig(
        dataset=dataset.name,
        dataset_params=params,
        split=SplitSpec.model_validate(data.get("split") or {}),
        preprocess=tuple(steps),
        feeds={k: FeedSpec.model_validate(v).columns for k, v in (data.get("feeds") or {}).items()},
        targets={
            k: TargetSpec.model_validate(v).columns for k, v in (data.get("targets") or {}).items()
        },
    )


def resolve_train(
    raw: Mapping[str, Any] | None,
    *,
    epochs: int | None = None,
    seed: int | Literal[False] | None = False,
) -> TrainConfig:
    """The checked train section as a :class:`TrainConfig`; ``epochs``/``seed`` override it."""
    data = _thaw(raw) if raw is not None else {}
    subs = {}
    for name, model in (("early_stopping", EarlyStoppingSpec), ("checkpoint", CheckpointSpec)):
        value = data.pop(name, None)
        subs[name] = (
            model.model_validate({} if value is True else value)
            if value not in (None, False)
            else None
        )
    section = TrainSection.model_validate(data)
    return TrainConfig(
        epochs=epochs if epochs is not None else section.epochs,
        batch_size=section.batch_size,
        seed=section.seed if seed is False else seed,
        shuffle=section.shuffle,
        backend=section.backend,
        **subs,
    )
