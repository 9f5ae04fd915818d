"""What may be written where in a spec: keys and values by spec path, with their documentation.

The spec's own sections come from the pydantic models in :mod:`specforge.spec.models`;
node types, optimizers, datasets and preprocessors bring their parameter models,
and every name (activations, losses, ...) comes from the live registry, so a
plugin's additions are offered as soon as it is installed. Completion lists
these entries; hover shows their documentation. Nothing here knows LSP.
"""

from __future__ import annotations

import inspect
import types as pytypes
import typing
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from ..ir import history_keys
from ..registry import Registry
from ..spec.models import (
    DTYPES,
    CheckpointSpec,
    DataHeader,
    EarlyStoppingSpec,
    FeedSpec,
    InputSpec,
    NodeHeader,
    OutputSpec,
    SpecHeader,
    SplitSpec,
    TargetSpec,
    TrainSection,
)
from .cursor import Component

#: Registry kinds, as the words people read.
KIND_WORDS = {
    "node_type": "node type",
    "activation": "activation",
    "loss": "loss",
    "metric": "metric",
    "optimizer": "optimizer",
    "initializer": "initializer",
    "dataset": "dataset",
    "preprocessor": "preprocessor",
    "backend": "backend",
}


@dataclass(frozen=True)
class Entry:
    """One thing that may be written at a place: a key, a registry name, a spec name, a literal."""

    label: str
    #: "key", a registry kind ("node_type", "activation", ...), "input", "node", "literal".
    kind: str
    detail: str = ""
    documentation: str = ""


@dataclass
class Names:
    """The names a spec defines, for references: inputs (with shapes), nodes (with types), outputs."""

    inputs: dict[str, str] = field(default_factory=dict)
    nodes: dict[str, str] = field(default_factory=dict)
    outputs: list[tuple[str, list[str]]] = field(default_factory=list)
    validation: bool = True

    @classmethod
    def from_data(cls, data: Any, reg: Registry | None = None) -> Names:
        names = cls()
        if not isinstance(data, dict):
            return names
        for item in _dicts(data.get("inputs")):
            if isinstance(item.get("name"), str):
                names.inputs.setdefault(item["name"], f"shape {item.get('shape')}")
        for item in _dicts(data.get("nodes")):
            if isinstance(item.get("name"), str):
                names.nodes.setdefault(item["name"], str(item.get("type", "?")))
        for item in _dicts(data.get("outputs")):
            if isinstance(item.get("node"), str):
                metrics = item.get("metrics") if isinstance(item.get("metrics"), list) else []
                canon = [
                    (reg.canonical("metric", m) if reg else None) or str(m) for m in metrics or []
                ]
                names.outputs.append((item["node"], canon))
        split = data.get("data", {}).get("split") if isinstance(data.get("data"), dict) else None
        names.validation = not (isinstance(split, dict) and split.get("validation") == 0)
        return names


def _dicts(items: Any) -> Iterable[dict[str, Any]]:
    return (x for x in (items if isinstance(items, list) else []) if isinstance(x, dict))


def _match(path: tuple[Component, ...], pattern: tuple[str, ...]) -> bool:
    """``#`` matches a list index, ``*`` any key."""
    if len(path) != len(pattern):
        return False
    for c, p in zip(path, pattern, strict=True):
        if p == "#":
            if not isinstance(c, int):
                return False
        elif p != "*" and c != p:
            return False
    return True


# ------------------------------------------------------------------ field descriptions


def type_text(annotation: Any) -> str:
    """A field's type as people read it: ``int``, ``float | None``, ``'auto' | 'min'``."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        return type_text(args[0])
    if origin is typing.Literal:
        return " | ".join(repr(a) if isinstance(a, str) else str(a) for a in args)
    if origin in (typing.Union, pytypes.UnionType):
        return " | ".join("null" if a is type(None) else type_text(a) for a in args)
    if origin in (list, tuple):
        return f"list of {type_text(args[0])}" if args else "list"
    if origin is dict:
        return "mapping"
    if annotation is Any:
        return "any"
    if annotation is type(None):
        return "null"
    return getattr(annotation, "__name__", str(annotation))


def literal_values(annotation: Any) -> list[Any]:
    """The values a Literal (or bool, possibly optional) field accepts; [] for other types."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        return literal_values(args[0])
    if origin is typing.Literal:
        return list(args)
    if origin in (typing.Union, pytypes.UnionType):
        out: list[Any] = []
        for a in args:
            out += literal_values(a)
        return out
    if annotation is bool:
        return [True, False]
    return []


def _default_text(info: FieldInfo) -> str | None:
    if info.is_required():
        return None
    default = info.default
    if default is PydanticUndefined and info.default_factory is not None:
        try:
            default = info.default_factory()  # type: ignore[call-arg]
        except Exception:
            return None
    return yaml_text(default)


def yaml_text(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def field_entry(name: str, info: FieldInfo, owner: str = "") -> Entry:
    default = _default_text(info)
    detail = type_text(info.annotation) + (" (required)" if default is None else f" = {default}")
    doc = info.description or ""
    if owner:
        doc = (doc + "\n\n" if doc else "") + f"Parameter of {owner}."
    return Entry(name, "key", detail, doc)


def _fields(model: type[BaseModel] | None, owner: str = "") -> list[Entry]:
    if model is None:
        return []
    try:
        return [field_entry(n, f, owner) for n, f in model.model_fields.items()]
    except Exception:  # a plugin's broken model: offer nothing rather than fail
        return []


# ------------------------------------------------------------------ registry items


def item_doc(kind: str, item: Any, reg: Registry) -> str:
    """Markdown documentation of a registry item: a node type's parameters, a loss's targets."""
    name = getattr(item, "name", "?")
    owner = reg.owner.get((kind, name))
    head = (
        f"**{name}** ({KIND_WORDS.get(kind, kind)}" + (f", plugin `{owner}`" if owner else "") + ")"
    )
    parts = [head]
    description = getattr(item, "description", "") or ""
    if description:
        parts.append(description)
    cls = item if isinstance(item, type) else type(item)
    own_doc = cls.__dict__.get("__doc__")
    if own_doc and kind in ("node_type", "backend"):
        parts.append(inspect.cleandoc(own_doc))
    aliases = getattr(item, "aliases", ())
    if aliases:
        parts.append("Also written: " + ", ".join(f"`{a}`" for a in aliases))
    if kind == "node_type":
        lo, hi = getattr(item, "min_inputs", 1), getattr(item, "max_inputs", 1)
        want = (
            f"exactly {lo}" if lo == hi else (f"at least {lo}" if hi is None else f"{lo} to {hi}")
        )
        parts.append(f"Inputs: {want}.")
    if kind == "loss" and getattr(item, "targets", None):
        parts.append(f"Targets: {item.targets}.")
    model = _params_of(kind, item)
    if model is not None:
        table = parameter_table(model)
        if table:
            parts.append(table)
    return "\n\n".join(parts)


def params_model(item: Any) -> Any:
    """An item's parameter model: ``params_model`` (plugin API 2) or ``Params`` (API 1)."""
    return getattr(item, "params_model", None) or getattr(item, "Params", None)


def _params_of(kind: str, item: Any) -> type[BaseModel] | None:
    if kind not in ("node_type", "optimizer", "dataset", "preprocessor"):
        return None
    model = params_model(item)
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def parameter_table(model: type[BaseModel]) -> str:
    try:
        fields = list(model.model_fields.items())
    except Exception:
        return ""
    if not fields:
        return "No parameters."
    rows = ["| parameter | type | default | |", "| --- | --- | --- | --- |"]
    for name, info in fields:
        default = _default_text(info)
        desc = (info.description or "").replace("|", "\\|").replace("\n", " ")
        rows.append(
            f"| `{name}` | {type_text(info.annotation).replace('|', '∣')} | "
            f"{'required' if default is None else f'`{default}`'} | {desc} |"
        )
    return "\n".join(rows)


def registry_entries(kind: str, reg: Registry) -> list[Entry]:
    out = []
    for name, item in reg.items.get(kind, {}).items():
        out.append(
            Entry(
                name, kind, _first_line(getattr(item, "description", "")), item_doc(kind, item, reg)
            )
        )
    for alias, canon in reg.aliases.get(kind, {}).items():
        out.append(
            Entry(alias, kind, f"alias of {canon}", item_doc(kind, reg.items[kind][canon], reg))
        )
    return out


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text and text.strip() else ""


# ------------------------------------------------------------------ keys by path


def _typed(kind: str, siblings: Mapping[str, Any], reg: Registry) -> tuple[Any, list[Entry]]:
    """A ``{type: NAME, ...params}`` mapping: its item (if the type is known) and its keys."""
    item = reg.get(kind, siblings.get("type")) if isinstance(siblings.get("type"), str) else None
    keys = [Entry("type", "key", f"{KIND_WORDS[kind]} name (required)", f"The {KIND_WORDS[kind]}.")]
    if item is not None:
        keys += _fields(_params_of(kind, item), f"{KIND_WORDS[kind]} {item.name}")
    return item, keys


def keys_at(
    path: tuple[Component, ...], siblings: Mapping[str, Any], reg: Registry, names: Names
) -> list[Entry] | None:
    """The keys a mapping at ``path`` may hold (None: not a mapping the spec knows)."""
    if path == ():
        return _fields(SpecHeader)
    if _match(path, ("inputs", "#")):
        return _fields(InputSpec)
    if _match(path, ("nodes", "#")):
        keys = _fields(NodeHeader)
        node_type = (
            reg.get("node_type", siblings.get("type"))
            if isinstance(siblings.get("type"), str)
            else None
        )
        if node_type is not None:
            keys += _fields(_params_of("node_type", node_type), f"{node_type.name}")
        return keys
    if _match(path, ("outputs", "#")):
        return _fields(OutputSpec)
    if path == ("optimizer",):
        return _typed("optimizer", siblings, reg)[1]
    if path == ("data",):
        return _fields(DataHeader)
    if path == ("data", "dataset"):
        return _typed("dataset", siblings, reg)[1]
    if path == ("data", "split"):
        return _fields(SplitSpec)
    if _match(path, ("data", "preprocess", "#")):
        return _typed("preprocessor", siblings, reg)[1]
    if path == ("data", "feeds"):
        return [Entry(n, "input", d, f"Model input `{n}` ({d}).") for n, d in names.inputs.items()]
    if path == ("data", "targets"):
        return [Entry(n, "node", "output", f"Model output `{n}`.") for n, _ in names.outputs]
    if _match(path, ("data", "feeds", "*")):
        return _fields(FeedSpec)
    if _match(path, ("data", "targets", "*")):
        return _fields(TargetSpec)
    if path == ("train",):
        return _fields(TrainSection)
    if path == ("train", "early_stopping"):
        return _fields(EarlyStoppingSpec)
    if path == ("train", "checkpoint"):
        return _fields(CheckpointSpec)
    return None


def is_mapping_slot(path: tuple[Component, ...]) -> bool:
    """Whether the item at ``path`` is a mapping (``- `` under nodes starts a node's keys)."""
    return any(
        _match(path, p)
        for p in (("inputs", "#"), ("nodes", "#"), ("outputs", "#"), ("data", "preprocess", "#"))
    )


# ------------------------------------------------------------------ values by path


def _reference_entries(names: Names, exclude: object = None) -> list[Entry]:
    out = [
        Entry(n, "input", f"input, {d}", f"Model input `{n}` ({d}).")
        for n, d in names.inputs.items()
    ]
    out += [
        Entry(n, "node", f"node, {t}", f"Node `{n}` ({t}).")
        for n, t in names.nodes.items()
        if n != exclude
    ]
    return out


def _field_values(model: type[BaseModel] | None, key: Component) -> list[Entry]:
    if model is None or not isinstance(key, str):
        return []
    try:
        info = model.model_fields.get(key)
    except Exception:
        return []
    if info is None:
        return []
    return [Entry(yaml_text(v), "literal", key) for v in literal_values(info.annotation)]


def values_at(
    path: tuple[Component, ...], siblings: Mapping[str, Any], reg: Registry, names: Names
) -> list[Entry] | None:
    """The values that may be written at ``path`` (None: nothing to offer)."""
    if path == ("specforge",):
        return [Entry("1", "literal", "format version")]
    if _match(path, ("inputs", "#", "dtype")):
        return [Entry(d, "literal", "dtype") for d in DTYPES]
    if _match(path, ("nodes", "#", "type")):
        return registry_entries("node_type", reg)
    if _match(path, ("nodes", "#", "inputs")) or _match(path, ("nodes", "#", "inputs", "#")):
        return _reference_entries(names, exclude=siblings.get("name"))
    if _match(path, ("nodes", "#", "*")):
        key = path[-1]
        node_type = (
            reg.get("node_type", siblings.get("type"))
            if isinstance(siblings.get("type"), str)
            else None
        )
        if node_type is not None:
            if key in node_type.activation_params:
                return registry_entries("activation", reg)
            if key in node_type.initializer_params:
                return registry_entries("initializer", reg)
            return _field_values(_params_of("node_type", node_type), key) or None
        if isinstance(key, str) and key.endswith("activation"):
            return registry_entries("activation", reg)
        if isinstance(key, str) and key.endswith("initializer"):
            return registry_entries("initializer", reg)
        return None
    if _match(path, ("outputs", "#", "node")):
        return [
            Entry(n, "node", f"node, {t}", f"Node `{n}` ({t}).") for n, t in names.nodes.items()
        ]
    if _match(path, ("outputs", "#", "loss")):
        return registry_entries("loss", reg)
    if _match(path, ("outputs", "#", "metrics")) or _match(path, ("outputs", "#", "metrics", "#")):
        return registry_entries("metric", reg)
    if path == ("optimizer", "type"):
        return registry_entries("optimizer", reg)
    if path == ("data", "dataset", "type"):
        return registry_entries("dataset", reg)
    if _match(path, ("data", "preprocess", "#", "type")):
        return registry_entries("preprocessor", reg)
    if path == ("train", "backend"):
        return registry_entries("backend", reg)
    if _match(path, ("train", "*", "monitor")):
        keys = history_keys(names.outputs, validation=names.validation) if names.outputs else []
        return [Entry(k, "literal", "history key") for k in keys]
    if len(path) >= 1 and isinstance(path[-1], str):
        parent = path[:-1]
        model = _section_model(parent, siblings, reg)
        values = _field_values(model, path[-1])
        return values or None
    return None


def _section_model(
    path: tuple[Component, ...], siblings: Mapping[str, Any], reg: Registry
) -> type[BaseModel] | None:
    """The pydantic model of the mapping at ``path`` (a registry item's parameters included)."""
    fixed = {
        (): SpecHeader,
        ("data",): DataHeader,
        ("data", "split"): SplitSpec,
        ("train",): TrainSection,
        ("train", "early_stopping"): EarlyStoppingSpec,
        ("train", "checkpoint"): CheckpointSpec,
    }
    if path in fixed:
        return fixed[path]
    if _match(path, ("inputs", "#")):
        return InputSpec
    if _match(path, ("outputs", "#")):
        return OutputSpec
    if _match(path, ("data", "feeds", "*")):
        return FeedSpec
    if _match(path, ("data", "targets", "*")):
        return TargetSpec
    for pattern, kind in (
        (("nodes", "#"), "node_type"),
        (("optimizer",), "optimizer"),
        (("data", "dataset"), "dataset"),
        (("data", "preprocess", "#"), "preprocessor"),
    ):
        if _match(path, pattern):
            name = siblings.get("type")
            item = reg.get(kind, name) if isinstance(name, str) else None
            return _params_of(kind, item) if item is not None else None
    return None


def key_doc(
    path: tuple[Component, ...], key: str, siblings: Mapping[str, Any], reg: Registry, names: Names
) -> str | None:
    """Markdown documentation of ``key`` in the mapping at ``path`` (for hover)."""
    for entry in keys_at(path, siblings, reg, names) or []:
        if entry.label == key:
            head = f"**{key}**: {entry.detail}" if entry.kind == "key" else f"**{key}**"
            return head + (f"\n\n{entry.documentation}" if entry.documentation else "")
    return None


def registry_kind_at(
    path: tuple[Component, ...], siblings: Mapping[str, Any], reg: Registry
) -> str | None:
    """The registry kind whose names are written at value ``path`` (None: not a registry name)."""
    if _match(path, ("nodes", "#", "type")):
        return "node_type"
    if _match(path, ("outputs", "#", "loss")):
        return "loss"
    if _match(path, ("outputs", "#", "metrics", "#")) or _match(path, ("outputs", "#", "metrics")):
        return "metric"
    if path == ("optimizer", "type"):
        return "optimizer"
    if path == ("data", "dataset", "type"):
        return "dataset"
    if _match(path, ("data", "preprocess", "#", "type")):
        return "preprocessor"
    if path == ("train", "backend"):
        return "backend"
    if _match(path, ("nodes", "#", "*")):
        node_type = (
            reg.get("node_type", siblings.get("type"))
            if isinstance(siblings.get("type"), str)
            else None
        )
        if node_type is not None and path[-1] in node_type.activation_params:
            return "activation"
        if node_type is not None and path[-1] in node_type.initializer_params:
            return "initializer"
    return None
