"""The generated JSON Schema: valid, accepts every spec, rejects structural errors."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from pydantic import BaseModel, ConfigDict

from specforge.api import json_schema
from specforge.plugin import NodeType, ParamCount, Params, hookimpl
from specforge.registry import load_registry
from specforge.spec.load import load
from specforge.spec.schema import hoist_defs

INVALID = Path(__file__).resolve().parent / "fixtures" / "invalid"

#: Broken fixtures whose problem is structural, so a schema-aware editor flags it too.
STRUCTURAL = [
    "unknown_keys_every_level.yaml",
    "quoted_units.yaml",
    "bool_as_int.yaml",
    "yaml11_boolean_word.yaml",
    "missing_required_keys.yaml",
    "unknown_node_type.yaml",
    "unknown_activation.yaml",
    "unknown_initializer.yaml",
    "unknown_loss.yaml",
    "unknown_metric.yaml",
    "unknown_optimizer.yaml",
    "list_instead_of_mapping.yaml",
    "mapping_instead_of_list.yaml",
    "optimizer_as_string.yaml",
    "unsupported_version.yaml",
    "negative_units.yaml",
    "out_of_range_optimizer.yaml",
    "invalid_names_and_dtype.yaml",
    "empty_lists.yaml",
    "empty_inputs_of_node.yaml",
    "inputs_not_names.yaml",
    "top_level_list.yaml",
    "top_level_scalar.yaml",
    "json_wrong_type.json",
]

#: Broken fixtures that are structurally fine: only the checker can see the problem.
SEMANTIC = [
    "cycle_two_nodes.yaml",
    "unknown_reference.yaml",
    "concatenate_incompatible_shapes.yaml",
    "output_undefined_node.yaml",
    "duplicate_names.yaml",
]


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def data_of(path: Path):
    doc, diags = load(path)
    assert diags == [], diags
    return doc.data


def test_the_schema_is_a_valid_draft_2020_12_schema(validator):
    assert validator.schema["$id"] == "urn:specforge:spec:1"


def test_the_schema_accepts_every_spec(spec_path, validator):
    errors = [e.message for e in validator.iter_errors(data_of(spec_path))]
    assert errors == []


@pytest.mark.parametrize("name", STRUCTURAL)
def test_the_schema_rejects_structural_errors(name, validator):
    assert not validator.is_valid(data_of(INVALID / name))


@pytest.mark.parametrize("name", SEMANTIC)
def test_semantic_errors_need_the_checker(name, validator):
    assert validator.is_valid(data_of(INVALID / name))


def test_the_schema_knows_every_node_type_and_name(validator):
    props = validator.schema["properties"]
    assert {"Concatenate", "Dense", "Flatten"} <= set(
        props["nodes"]["items"]["properties"]["type"]["enum"]
    )
    assert {"mse", "mean_squared_error"} <= set(
        props["outputs"]["items"]["properties"]["loss"]["enum"]
    )
    assert {"sgd", "SGD", "adam"} <= set(props["optimizer"]["properties"]["type"]["enum"])


class Window(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    size: int
    stride: int = 1


class PoolParams(Params):
    window: Window
    fallback: Window | None = None


class Pool(NodeType):
    name = "Pool1D"
    Params = PoolParams
    description = "a third-party node type whose parameters nest a model"

    def output_shape(self, params, input_shapes):
        (shape,) = input_shapes
        return (shape[0] // params.window.stride, *shape[1:])

    def param_count(self, params, input_shapes):
        return ParamCount()


class PoolPlugin:
    @hookimpl
    def register_node_types(self, register):
        register(Pool())


def test_nested_parameter_models_of_a_plugin_get_resolvable_references():
    reg = load_registry(extra_plugins=[("specforge-pool", PoolPlugin())], entry_points=False)
    schema = json_schema(reg)
    jsonschema.Draft202012Validator.check_schema(schema)
    assert "Window" in schema["$defs"]
    validator = jsonschema.Draft202012Validator(schema)
    spec = {
        "specforge": 1,
        "name": "pooled",
        "inputs": [{"name": "x", "shape": [8, 2]}],
        "nodes": [{"name": "p", "type": "Pool1D", "window": {"size": 2, "stride": 2}}],
        "outputs": [{"node": "p", "loss": "mse"}],
        "optimizer": {"type": "sgd"},
    }
    assert list(validator.iter_errors(spec)) == []
    spec["nodes"][0]["window"] = {"size": "2"}
    assert not validator.is_valid(spec)


def test_hoisting_renames_clashing_definitions():
    schema = {
        "properties": {
            "a": {"$defs": {"W": {"type": "integer"}}, "properties": {"w": {"$ref": "#/$defs/W"}}},
            "b": {"$defs": {"W": {"type": "string"}}, "properties": {"w": {"$ref": "#/$defs/W"}}},
        }
    }
    out = hoist_defs(schema)
    assert out["$defs"] == {"W": {"type": "integer"}, "W_2": {"type": "string"}}
    assert out["properties"]["a"]["properties"]["w"] == {"$ref": "#/$defs/W"}
    assert out["properties"]["b"]["properties"]["w"] == {"$ref": "#/$defs/W_2"}
    assert "$defs" not in out["properties"]["a"]


def test_the_schema_uses_only_keywords_draft_7_editors_understand(spec_path):
    """yaml-language-server (VS Code's YAML extension) validates with draft-07 rules."""
    schema = json_schema()
    draft7 = {k: v for k, v in schema.items() if k != "$schema"}
    jsonschema.Draft7Validator.check_schema(draft7)
    newer_only = {
        "prefixItems",
        "unevaluatedProperties",
        "unevaluatedItems",
        "dependentRequired",
        "dependentSchemas",
        "$dynamicRef",
    }
    text = json.dumps(schema)
    assert not [k for k in newer_only if f'"{k}"' in text]
    validator = jsonschema.Draft7Validator(draft7)
    assert validator.is_valid(data_of(spec_path))
    assert not validator.is_valid(data_of(INVALID / "unknown_activation.yaml"))
