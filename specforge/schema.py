"""The JSON Schema (draft 2020-12) of the spec format, generated from the pydantic models.

Node parameters come from each registered node type's ``Params`` model and
optimizer parameters from each optimizer's model, so the schema always matches
what the installed plugins accept. Editors use it for completion and
inline errors; the checker stays the authority (it also checks references,
cycles and shapes, which a schema cannot express).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel

from .registry import Registry, get_registry
from .spec import NAME_PATTERN, InputSpec, OutputSpec, SpecHeader

SCHEMA_ID = "urn:specforge:spec:1"

#: Schemas of the optional sections, filled in by the modules that own them.
SECTION_SCHEMAS: dict[str, Callable[[Registry], dict[str, Any]]] = {}


def _model_schema(model: type[BaseModel]) -> dict[str, Any]:
    schema = model.model_json_schema(mode="validation")
    schema.pop("title", None)
    for prop in schema.get("properties", {}).values():
        prop.pop("title", None)
    return schema


def _names(reg: Registry, kind: str) -> list[str]:
    return sorted(reg.names(kind, with_aliases=True))


def _node_schema(reg: Registry) -> dict[str, Any]:
    name = {"type": "string", "pattern": NAME_PATTERN}
    inputs = {
        "description": "Names this node reads; default: the node above (the first node reads the only input).",
        "anyOf": [
            {"type": "string"},
            {"type": "array", "items": {"type": "string"}, "minItems": 1},
        ],
    }
    branches = []
    for type_name, node_type in sorted(reg.node_types.items()):
        params = _model_schema(node_type.Params)
        props = {"name": name, "type": {"const": type_name}, "inputs": inputs}
        for pname, pschema in params.get("properties", {}).items():
            pschema = copy.deepcopy(pschema)
            if pname in node_type.activation_params:
                pschema["enum"] = _names(reg, "activation")
            if pname in node_type.initializer_params:
                pschema["enum"] = _names(reg, "initializer")
            props[pname] = pschema
        then: dict[str, Any] = {"properties": props, "additionalProperties": False}
        required = params.get("required", [])
        if required:
            then["required"] = ["name", "type", *required]
        if params.get("$defs"):
            then["$defs"] = params["$defs"]
        branches.append(
            {
                "if": {"properties": {"type": {"const": type_name}}, "required": ["type"]},
                "then": then,
                "description": node_type.description,
            }
        )
    return {
        "type": "object",
        "required": ["name", "type"],
        "properties": {
            "name": name,
            "type": {"enum": sorted(reg.node_types), "description": "Node type."},
            "inputs": inputs,
        },
        "allOf": branches,
    }


def _optimizer_schema(reg: Registry) -> dict[str, Any]:
    branches = []
    for opt_name, opt in sorted(reg.items["optimizer"].items()):
        params = _model_schema(opt.params)
        props = {"type": {"enum": [opt_name, *opt.aliases]}, **params.get("properties", {})}
        then: dict[str, Any] = {"properties": props, "additionalProperties": False}
        if params.get("required"):
            then["required"] = ["type", *params["required"]]
        if params.get("$defs"):
            then["$defs"] = params["$defs"]
        branches.append(
            {
                "if": {
                    "properties": {"type": {"enum": [opt_name, *opt.aliases]}},
                    "required": ["type"],
                },
                "then": then,
                "description": opt.description,
            }
        )
    return {
        "type": "object",
        "required": ["type"],
        "properties": {"type": {"enum": _names(reg, "optimizer")}},
        "allOf": branches,
    }


def json_schema(registry: Registry | None = None) -> dict[str, Any]:
    """The JSON Schema of spec format 1 for the installed plugins."""
    reg = registry or get_registry()
    header = _model_schema(SpecHeader)
    inputs = _model_schema(InputSpec)
    outputs = _model_schema(OutputSpec)
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
    props["optimizer"] = {**_optimizer_schema(reg), "description": about["optimizer"]}
    for section in ("data", "train"):
        builder = SECTION_SCHEMAS.get(section)
        props[section] = {
            **(builder(reg) if builder else {"type": "object"}),
            "description": about[section],
        }
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
