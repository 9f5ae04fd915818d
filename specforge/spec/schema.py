"""The JSON Schema (draft 2020-12) of the spec format, generated from the pydantic models.

Node, optimizer, dataset and preprocessor parameters come from each registered
item's parameter model, through one builder (:func:`typed_union_schema`: a
``type`` key selects the branch), so the schema always matches what the
installed plugins accept. Editors use it for completion and
inline errors; the checker stays the authority (it also checks references,
cycles and shapes, which a schema cannot express).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from .models import (
    NAME_PATTERN,
    CheckpointSpec,
    DataHeader,
    EarlyStoppingSpec,
    FeedSpec,
    InputSpec,
    OutputSpec,
    SpecHeader,
    SplitSpec,
    TargetSpec,
    TrainSection,
)

if TYPE_CHECKING:
    from ..registry import Registry

SCHEMA_ID = "urn:specforge:spec:1"


def model_schema(model: type[BaseModel]) -> dict[str, Any]:
    """A pydantic model's validation schema without pydantic's titles."""
    schema = model.model_json_schema(mode="validation")
    schema.pop("title", None)
    for prop in schema.get("properties", {}).values():
        prop.pop("title", None)
    return schema


def _names(reg: Registry, kind: str) -> list[str]:
    return sorted(reg.names(kind, with_aliases=True))


def typed_union_schema(
    items: Mapping[str, Any],
    *,
    kind: str,
    common: Mapping[str, Any] | None = None,
    required: tuple[str, ...] = (),
    prop: Callable[[Any, str, dict[str, Any]], dict[str, Any]] | None = None,
    aliases: bool = False,
    type_description: str | None = None,
) -> dict[str, Any]:
    """The schema of a ``{type: NAME, ...parameters}`` mapping over registered ``items``.

    One ``if type is NAME then its parameters`` branch per item, so editors
    complete each item's own parameters. ``common`` are keys every branch
    shares (a node's name and inputs) and ``required`` the common keys that
    must be present; ``prop(item, name, schema)`` may refine a parameter's
    schema; with ``aliases`` an item's aliases select its branch too.
    """
    common = dict(common or {})
    branches = []
    for name, item in sorted(items.items()):
        names = [name, *getattr(item, "aliases", ())] if aliases else [name]
        selector: dict[str, Any] = {"enum": names} if aliases else {"const": name}
        params = model_schema(item.params_model)
        props: dict[str, Any] = {**common, "type": selector}
        for pname, pschema in params.get("properties", {}).items():
            props[pname] = prop(item, pname, copy.deepcopy(pschema)) if prop else pschema
        then: dict[str, Any] = {"properties": props, "additionalProperties": False}
        if params.get("required"):
            then["required"] = [*required, "type", *params["required"]]
        if params.get("$defs"):
            then["$defs"] = params["$defs"]
        for key in ("oneOf", "anyOf", "allOf"):  # a model's own constraints across its keys
            if key in params:
                then[key] = params[key]
        branches.append(
            {
                "if": {"properties": {"type": selector}, "required": ["type"]},
                "then": then,
                "description": getattr(item, "description", ""),
            }
        )
    every = sorted(
        n for name, item in items.items() for n in ([name, *item.aliases] if aliases else [name])
    )
    return {
        "type": "object",
        "required": [*required, "type"],
        "properties": {
            **common,
            "type": {"enum": every, "description": type_description or f"A registered {kind}."},
        },
        "allOf": branches,
    }


def _node_schema(reg: Registry) -> dict[str, Any]:
    inputs = {
        "description": "Names this node reads; default: the node above (the first node reads the only input).",
        "anyOf": [
            {"type": "string"},
            {"type": "array", "items": {"type": "string"}, "minItems": 1},
        ],
    }

    def names_of(node_type: Any, pname: str, pschema: dict[str, Any]) -> dict[str, Any]:
        if pname in node_type.activation_params:
            pschema["enum"] = _names(reg, "activation")
        if pname in node_type.initializer_params:
            pschema["enum"] = _names(reg, "initializer")
        return pschema

    return typed_union_schema(
        reg.node_types,
        kind="node type",
        common={"name": {"type": "string", "pattern": NAME_PATTERN}, "inputs": inputs},
        required=("name",),
        prop=names_of,
        type_description="Node type.",
    )


def data_schema(reg: Registry) -> dict[str, Any]:
    """JSON Schema of the data section for the installed dataset and preprocessor plugins."""
    header = model_schema(DataHeader)
    props = header["properties"]
    props["dataset"] = {
        **typed_union_schema(reg.datasets, kind="dataset"),
        "description": props["dataset"].get("description", ""),
    }
    props["split"] = {**model_schema(SplitSpec), "additionalProperties": False}
    props["preprocess"] = {
        "type": "array",
        "items": typed_union_schema(reg.preprocessors, kind="preprocessor"),
    }
    for key, model in (("feeds", FeedSpec), ("targets", TargetSpec)):
        props[key] = {
            "type": "object",
            "additionalProperties": {**model_schema(model), "additionalProperties": False},
            "description": props[key].get("description", ""),
        }
    return {
        "type": "object",
        "required": ["dataset"],
        "properties": props,
        "additionalProperties": False,
    }


def train_schema() -> dict[str, Any]:
    """JSON Schema of the train section."""
    schema = {**model_schema(TrainSection), "additionalProperties": False}
    for name, model in (("early_stopping", EarlyStoppingSpec), ("checkpoint", CheckpointSpec)):
        block = {**model_schema(model), "additionalProperties": False}
        prop = schema["properties"][name]
        schema["properties"][name] = {
            "description": prop.get("description", ""),
            "anyOf": [{"type": "boolean"}, {"type": "null"}, block],
        }
    return schema


def json_schema(registry: Registry) -> dict[str, Any]:
    """The JSON Schema of spec format 1 for the installed plugins."""
    reg = registry
    header = model_schema(SpecHeader)
    inputs = model_schema(InputSpec)
    outputs = model_schema(OutputSpec)
    outputs["properties"]["loss"]["enum"] = _names(reg, "loss")
    outputs["properties"]["metrics"]["items"]["enum"] = _names(reg, "metric")
    props = header["properties"]
    about = {key: prop.get("description", "") for key, prop in props.items()}
    props["specforge"] = {"const": 1, "description": about["specforge"]}
    props["description"] = {"type": "string", "description": about["description"]}
    props["inputs"] = {
        "type": "array",
        "minItems": 1,
        "items": inputs,
        "description": about["inputs"],
    }
    props["nodes"] = {
        "type": "array",
        "minItems": 1,
        "items": _node_schema(reg),
        "description": about["nodes"],
    }
    props["outputs"] = {
        "type": "array",
        "minItems": 1,
        "items": outputs,
        "description": about["outputs"],
    }
    optimizer = typed_union_schema(reg.items["optimizer"], kind="optimizer", aliases=True)
    optimizer["properties"]["type"] = {"enum": _names(reg, "optimizer")}
    props["optimizer"] = {**optimizer, "description": about["optimizer"]}
    props["data"] = {**data_schema(reg), "description": about["data"]}
    props["train"] = {**train_schema(), "description": about["train"]}
    schema: dict[str, Any] = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "specforge model spec, format 1",
        "type": "object",
        "required": header.get("required", []),
        "properties": props,
        "additionalProperties": False,
    }
    return hoist_defs(schema)


_LOCAL_REF = "#/$defs/"


def hoist_defs(schema: dict[str, Any]) -> dict[str, Any]:
    """Move every nested ``$defs`` to the root and rewrite the references to them.

    pydantic writes each model's schema as if it were a whole document: its
    nested models go in its own ``$defs`` and are referenced as
    ``#/$defs/Name``, which is relative to the *root*. Once a parameter model's
    schema is embedded in the spec schema, those references would point at
    nothing, so each nested ``$defs`` is merged into the root one (a name taken
    by a different definition gets a numeric suffix) and the references under
    it are rewritten.
    """
    root_defs: dict[str, Any] = dict(schema.pop("$defs", {}))

    def unique(name: str, definition: Any) -> str:
        candidate, n = name, 1
        while candidate in root_defs and root_defs[candidate] != definition:
            n += 1
            candidate = f"{name}_{n}"
        return candidate

    def rewrite(node: Any, renames: dict[str, str]) -> Any:
        if isinstance(node, list):
            return [rewrite(v, renames) for v in node]
        if not isinstance(node, dict):
            return node
        if "$defs" in node:
            local = node["$defs"]
            scope = dict(renames)
            # Names first (definitions may refer to each other), then bodies.
            for name in local:
                scope[name] = unique(name, None) if name in root_defs else name
                root_defs.setdefault(scope[name], None)
            for name, definition in local.items():
                root_defs[scope[name]] = rewrite(definition, scope)
            renames = scope
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key == "$defs":
                continue
            if key == "$ref" and isinstance(value, str) and value.startswith(_LOCAL_REF):
                name = value[len(_LOCAL_REF) :]
                out[key] = _LOCAL_REF + renames.get(name, name)
            else:
                out[key] = rewrite(value, renames)
        return out

    top_scope = {name: name for name in root_defs}
    result = rewrite(schema, top_scope)
    if root_defs:
        result["$defs"] = dict(sorted(root_defs.items()))
    return result
