"""The ``data`` and ``train`` sections: their checks, and their resolution into the IR.

Checks yield positioned diagnostics, like every pass: unknown keys with
did-you-mean, each dataset's and preprocessor's parameters through its own
pydantic model, and the cross-checks between data and model (feeds naming
unknown inputs, inputs without a feed, column counts that cannot fill an
input, targets naming unknown outputs, monitors naming no history key). A
section that checks clean is resolved once into :class:`~specforge.ir.DataConfig`
/ :class:`~specforge.ir.TrainConfig`. Everything here is light (pydantic only):
``validate`` checks these sections without importing numpy or a framework.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ValidationError

from ...data import selectors
from ...diagnostics import Diagnostic, did_you_mean
from ...ir import DataConfig, Step, TrainConfig, history_keys
from ..errors import pydantic_diagnostics
from ..load import Document, Path_
from ..models import (
    CheckpointSpec,
    DataHeader,
    EarlyStoppingSpec,
    FeedSpec,
    SplitSpec,
    TargetSpec,
    TrainSection,
)
from .context import unknown_name_help

if TYPE_CHECKING:
    from ...registry import Registry


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
                help=unknown_name_help(reg, kind, name),
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


def _input_shape(doc: Document, name: str) -> tuple[tuple[Path_, str], ...]:
    """Where input ``name``'s shape is written, as a related location."""
    items = doc.data.get("inputs") if isinstance(doc.data, dict) else None
    for i, item in enumerate(items if isinstance(items, list) else []):
        if isinstance(item, dict) and item.get("name") == name:
            return ((("inputs", i, "shape"), f"input '{name}' has this shape"),)
    return ()


def _model_outputs(doc: Document) -> list[dict[str, Any]]:
    items = doc.data.get("outputs") if isinstance(doc.data, dict) else None
    return [
        o
        for o in (items if isinstance(items, list) else [])
        if isinstance(o, dict) and isinstance(o.get("node"), str)
    ]


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


def check_data_section(doc: Document, data: Any, reg: Registry) -> Iterator[Diagnostic]:
    """Diagnostics for the ``data`` section."""
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
        path = (*base, "dataset")
        item, params = _typed_item(
            doc, data["dataset"], path, "dataset", "data.dataset", reg, diags
        )
        if item is not None and params is not None:  # a valid dataset: does its file exist?
            diags.extend(_missing_files(doc, item.params_model, data["dataset"], path))

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
                related=_input_shape(doc, name),
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
    """Diagnostics for the ``train`` section."""
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


def base_dir(doc: Document) -> Path:
    """Where relative paths in the spec resolve: the spec file's folder (the working
    directory for a spec given as text or data)."""
    if doc.file.startswith("<") or doc.format == "python":
        return Path.cwd()
    return Path(doc.file).resolve().parent


def _missing_files(
    doc: Document, model: type[BaseModel], raw: Mapping[str, Any], path: Path_
) -> Iterator[Diagnostic]:
    """A warning for each path parameter naming no file: caught by ``validate``, not mid-``train``."""
    folder = base_dir(doc)
    for name in path_fields(model):
        value = raw.get(name)
        if not isinstance(value, str) or not value:
            continue
        full = Path(os.path.expanduser(value))
        full = full if full.is_absolute() else folder / full
        if not full.exists():
            where = "the spec file's folder" if folder != Path.cwd() else "the working directory"
            yield doc.diagnostic(
                "missing-file",
                f"{name} '{value}' names no file ({os.path.normpath(full)})",
                (*path, name),
                help=f"relative paths resolve against {where} ({folder}), "
                "not where specforge is run from",
                severity="warning",
            )


# ---------------------------------------------------------------- resolution


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
    data: Mapping[str, Any], reg: Registry, base_dir: str | os.PathLike[str]
) -> DataConfig:
    """A checked data section as a :class:`DataConfig`; relative paths resolve against ``base_dir``."""
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


def resolve_train(raw: Mapping[str, Any]) -> TrainConfig:
    """A checked train section as a :class:`TrainConfig`."""
    data = dict(raw)
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
        epochs=section.epochs,
        batch_size=section.batch_size,
        seed=section.seed,
        shuffle=section.shuffle,
        steps_per_execution=section.steps_per_execution,
        backend=section.backend,
        distribution=section.distribution,
        **subs,
    )
