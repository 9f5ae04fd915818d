"""``specforge import``'s decompiler: Keras model → spec, with its compile settings.

Round trip: every spec in specs/ → build → save → import → check → build gives
the same layers and parameter counts; a model a spec cannot express is refused
with every reason listed, and unsupported layers are never deserialized.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import pytest
import yaml

keras = pytest.importorskip("keras")

import specforge  # noqa: E402
from specforge.api import check_data, check_file, check_text  # noqa: E402
from specforge.keras_backend import check as keras_check  # noqa: E402
from specforge.keras_backend.decompile import DecompileError, decompile, spec_to_yaml  # noqa: E402
from specforge.plugin import BackendError  # noqa: E402
from specforge.registry import get_registry  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
SPECS = ROOT / "specs"


@pytest.fixture(scope="module")
def backend():
    return get_registry().backends["keras"]


def model_part(graph) -> dict[str, Any]:
    """The resolved spec without what a model file does not carry (name, description, data, train)."""
    spec = graph.to_spec()
    return {k: spec[k] for k in ("inputs", "nodes", "outputs", "optimizer")}


def layer_configs(model) -> dict[str, Any]:
    out = {}
    for layer in model.layers:
        config = json.loads(json.dumps(keras.saving.serialize_keras_object(layer)["config"]))
        config.get("dtype", {}).pop("shared_object_id", None) if isinstance(
            config.get("dtype"), dict
        ) else None
        out[layer.name] = (type(layer).__name__, config, layer.count_params())
    return out


def save(model, path: Path) -> Path:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.save(path)
    return path


# ---------------------------------------------------------------- round trip


def test_every_spec_round_trips_through_a_keras_file(spec_path, tmp_path, backend):
    result = check_file(spec_path)
    assert result.ok
    if keras_check(result.graph, registry=get_registry()):
        pytest.skip(f"{spec_path.name} is not a Keras model (test_keras_fidelity checks why)")
    model = specforge.build(result, seed=0)
    path = tmp_path / "model.keras"
    backend.save(model, path)

    imported = decompile(path)
    text = imported.to_yaml()
    again = check_text(text, "imported.yaml")
    assert again.ok, again.diagnostics
    assert [d for d in again.diagnostics] == []  # not even a warning
    assert again.graph.name == result.graph.name
    assert model_part(again.graph) == model_part(result.graph)
    assert imported.total_params == result.graph.total_params

    rebuilt = specforge.build(again, seed=0)
    assert layer_configs(rebuilt) == layer_configs(model)
    assert rebuilt.count_params() == model.count_params()


def test_the_yaml_reads_like_a_hand_written_spec(tmp_path, backend):
    path = tmp_path / "aux.keras"
    backend.save(specforge.build(SPECS / "wide_deep_aux.yaml"), path)
    text = decompile(path).to_yaml()
    assert text == (
        "specforge: 1\n"
        "name: wide_deep_aux\n"
        "description: Imported from aux.keras by specforge import.\n"
        "\n"
        "inputs:\n"
        "  - {name: wide_input, shape: [5]}\n"
        "  - {name: deep_input, shape: [6]}\n"
        "\n"
        "nodes:\n"
        "  - {name: hidden1, type: Dense, units: 30, activation: relu, inputs: [deep_input]}\n"
        "  - {name: hidden2, type: Dense, units: 100, activation: relu}\n"
        "  - {name: concat, type: Concatenate, inputs: [wide_input, hidden2]}\n"
        "  - {name: output, type: Dense, units: 1}\n"
        "  - {name: aux_output, type: Dense, units: 1, inputs: [hidden2]}\n"
        "\n"
        "outputs:\n"
        "  - {node: output, loss: mean_squared_error, weight: 0.9}\n"
        "  - {node: aux_output, loss: mean_squared_error, weight: 0.1}\n"
        "\n"
        "optimizer: {type: sgd, learning_rate: 0.01}\n"
    )
    assert yaml.safe_load(text)["optimizer"]["learning_rate"] == 0.01


def test_the_chapters_hand_written_models_import(tmp_path):
    from specforge.testing import chapter, keras_structure

    for name in chapter.MODELS:
        model = chapter.hand_written(name)
        imported = decompile(save(model, tmp_path / f"{name}.keras"))
        result = check_data(imported.spec)
        assert result.ok, result.diagnostics
        assert result.graph.total_params == chapter.PARAM_COUNTS[name]
        assert keras_structure(specforge.build(result)) == keras_structure(model)
    aux = decompile(tmp_path / "wide_deep_aux.keras").spec
    assert [(o["node"], o.get("weight")) for o in aux["outputs"]] == [
        ("output", 0.9),
        ("aux_output", 0.1),
    ]
    two = decompile(tmp_path / "wide_deep_two_inputs.keras").spec
    assert two["optimizer"] == {"type": "sgd", "learning_rate": 0.001}
    fashion = decompile(tmp_path / "fashion_mnist_mlp.keras").spec
    assert fashion["outputs"] == [
        {"node": "dense_3", "loss": "sparse_categorical_crossentropy", "metrics": ["accuracy"]}
    ]


def test_compile_settings_come_along(tmp_path):
    inputs = keras.Input((4,), name="x")
    hidden = keras.layers.Dense(
        8, activation="tanh", kernel_initializer="he_normal", name="hidden"
    )(inputs)
    a = keras.layers.Dense(1, use_bias=False, name="a")(hidden)
    b = keras.layers.Dense(3, activation="softmax", name="b")(hidden)
    model = keras.Model(inputs, [a, b], name="two_heads")
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=3e-4, beta_1=0.8, amsgrad=True),
        loss={"a": keras.losses.MeanAbsoluteError(), "b": "sparse_categorical_crossentropy"},
        loss_weights={"a": 2.0, "b": 0.5},
        metrics={"a": ["mse"], "b": ["accuracy"]},
    )
    spec = decompile(save(model, tmp_path / "m.keras")).spec
    assert spec["nodes"][0] == {
        "name": "hidden",
        "type": "Dense",
        "units": 8,
        "activation": "tanh",
        "kernel_initializer": "he_normal",
    }
    assert spec["nodes"][1] == {"name": "a", "type": "Dense", "units": 1, "use_bias": False}
    assert spec["nodes"][2] == {
        "name": "b",
        "type": "Dense",
        "units": 3,
        "activation": "softmax",
        "inputs": ["hidden"],
    }
    assert spec["outputs"] == [
        {
            "node": "a",
            "loss": "mean_absolute_error",
            "weight": 2.0,
            "metrics": ["mean_squared_error"],
        },
        {
            "node": "b",
            "loss": "sparse_categorical_crossentropy",
            "weight": 0.5,
            "metrics": ["accuracy"],
        },
    ]
    assert spec["optimizer"] == {
        "type": "adam",
        "learning_rate": 0.0003,
        "beta_1": 0.8,
        "amsgrad": True,
    }
    assert check_data(spec).ok


# ---------------------------------------------------------------- what a spec cannot express


def test_unsupported_layers_are_all_listed_and_never_loaded(tmp_path):
    inputs = keras.Input((5, 3), name="seq")
    x = keras.layers.LSTM(4, name="lstm")(inputs)
    x = keras.layers.Lambda(lambda t: t * 2, name="double")(x)
    out = keras.layers.Dense(1, name="out")(x)
    model = keras.Model(inputs, out)
    model.compile("sgd", "mse")
    path = save(model, tmp_path / "bad.keras")
    with pytest.raises(DecompileError) as info:
        decompile(path)
    problems = info.value.problems
    assert len(problems) == 2
    assert "layer 'lstm' (LSTM)" in problems[0] and "import rule" in problems[0]
    assert "layer 'double' (Lambda)" in problems[1]
    assert "2 problems" in str(info.value)


def test_a_custom_layer_class_is_refused_before_keras_sees_it(tmp_path, monkeypatch):
    @keras.saving.register_keras_serializable(package="evil")
    class Dense(keras.layers.Dense):  # same class name as a built-in: the module gives it away
        pass

    inputs = keras.Input((2,), name="x")
    model = keras.Model(inputs, Dense(1, name="out")(inputs))
    model.compile("sgd", "mse")
    path = save(model, tmp_path / "custom.keras")
    monkeypatch.setattr(
        keras.models, "load_model", lambda *a, **k: pytest.fail("the model was loaded")
    )
    with pytest.raises(DecompileError, match="custom class"):
        decompile(path)


def test_settings_no_rule_translates_are_reported_not_dropped(tmp_path):
    inputs = keras.Input((5,), name="x")
    x = keras.layers.Dense(2, kernel_regularizer="l2", trainable=False, name="reg")(inputs)
    out = keras.layers.Dense(
        1, kernel_initializer=keras.initializers.RandomNormal(stddev=0.5), name="out"
    )(x)
    model = keras.Model(inputs, out)
    model.compile(keras.optimizers.Adam(clipnorm=1.0), "mse", weighted_metrics=["mae"])
    with pytest.raises(DecompileError) as info:
        decompile(save(model, tmp_path / "m.keras"))
    text = "\n".join(info.value.problems)
    assert "layer 'reg' (Dense): kernel_regularizer=L2(l2=0.01), trainable=False" in text
    assert "RandomNormal(" in text and "stddev=0.5" in text
    assert "clipnorm=1.0" in text
    assert "weighted_metrics" in text


def test_shared_layers_and_fixed_batch_sizes_are_reported(tmp_path):
    inputs = keras.Input((3,), batch_size=8, name="x")
    shared = keras.layers.Dense(3, name="shared")
    out = shared(shared(inputs))
    model = keras.Model(inputs, out)
    model.compile("sgd", "mse")
    with pytest.raises(DecompileError) as info:
        decompile(save(model, tmp_path / "m.keras"))
    text = "\n".join(info.value.problems)
    assert "called 2 times" in text
    assert "fixed batch size (8)" in text


def test_a_model_saved_without_compile_settings_needs_a_loss(tmp_path):
    inputs = keras.Input((3,), name="x")
    model = keras.Model(inputs, keras.layers.Dense(1, name="out")(inputs))
    path = save(model, tmp_path / "m.keras")
    with pytest.raises(DecompileError, match="--loss"):
        decompile(path)
    imported = decompile(path, default_loss="mse", name="given")
    assert imported.spec["name"] == "given"
    assert imported.spec["outputs"] == [{"node": "out", "loss": "mean_squared_error"}]
    assert imported.spec["optimizer"]["type"] == "rmsprop"
    assert any("--loss" in note for note in imported.notes)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("nothing.keras", None, "no such file"),
        ("text.keras", b"hello", "not a Keras model file"),
        ("empty.zip.keras", b"PK\x05\x06" + b"\x00" * 18, "without config.json"),
        ("legacy.h5", b"\x89HDF\r\n", "HDF5"),
    ],
)
def test_files_that_are_not_keras_models_are_environment_errors(tmp_path, name, content, message):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(BackendError, match=message):
        decompile(path)


def test_spec_to_yaml_quotes_what_needs_quoting():
    spec = {
        "specforge": 1,
        "name": "x",
        "inputs": [{"name": "on", "shape": [1]}],
        "nodes": [],
        "outputs": [],
        "optimizer": {"type": "sgd", "learning_rate": 1e-05},
    }
    back = yaml.safe_load(spec_to_yaml(spec))
    assert back["inputs"][0]["name"] == "on"
    assert back["optimizer"]["learning_rate"] == 1e-05
