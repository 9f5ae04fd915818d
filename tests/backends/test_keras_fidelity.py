"""A spec builds the very model the chapter writes by hand in Keras.

For every spec in specs/ (globbed: new specs are tested too), the built model
has the IR's parameter count, one layer per node with the node's name and
output shape, and the compile settings of the spec. For the chapter's five
models, the built model's layers (class, configuration, wiring) equal those of
the chapter's hand-written Keras code, copied below as the chapter writes it.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import pytest

keras = pytest.importorskip("keras")

import specforge  # noqa: E402
from specforge.api import check_file  # noqa: E402

# ---------------------------------------------------------------- the chapter's models, by hand


def chapter_fashion_mnist() -> Any:
    model = keras.models.Sequential()
    model.add(keras.layers.Flatten(input_shape=[28, 28]))
    model.add(keras.layers.Dense(300, activation="relu", name="dense_1"))
    model.add(keras.layers.Dense(100, activation="relu", name="dense_2"))
    model.add(keras.layers.Dense(10, activation="softmax", name="dense_3"))
    model.compile(loss="sparse_categorical_crossentropy", optimizer="sgd", metrics=["accuracy"])
    return model


def chapter_california() -> Any:
    model = keras.models.Sequential(
        [
            keras.layers.Dense(30, activation="relu", input_shape=(8,)),
            keras.layers.Dense(100, activation="relu"),
            keras.layers.Dense(1, activation="relu"),
        ]
    )
    model.compile(loss="mean_squared_error", optimizer="sgd")
    return model


def chapter_wide_deep() -> Any:
    input_ = keras.layers.Input(shape=(8,))
    hidden1 = keras.layers.Dense(30, activation="relu")(input_)
    hidden2 = keras.layers.Dense(100, activation="relu")(hidden1)
    concat = keras.layers.Concatenate()([input_, hidden2])
    output = keras.layers.Dense(1, activation="relu")(concat)
    model = keras.Model(inputs=[input_], outputs=[output])
    model.compile(loss="mean_squared_error", optimizer="sgd")
    return model


def chapter_wide_deep_two_inputs() -> Any:
    input_A = keras.layers.Input(shape=[5], name="wide_input")
    input_B = keras.layers.Input(shape=[6], name="deep_input")
    hidden1 = keras.layers.Dense(30, activation="relu")(input_B)
    hidden2 = keras.layers.Dense(100, activation="relu")(hidden1)
    concat = keras.layers.concatenate([input_A, hidden2])
    output = keras.layers.Dense(1, name="output")(concat)
    model = keras.Model(inputs=[input_A, input_B], outputs=[output])
    # The chapter writes SGD(lr=1e-3): Keras 3 spells the argument learning_rate.
    model.compile(loss="mse", optimizer=keras.optimizers.SGD(learning_rate=1e-3))
    return model


def chapter_wide_deep_aux() -> Any:
    input_A = keras.layers.Input(shape=[5], name="wide_input")
    input_B = keras.layers.Input(shape=[6], name="deep_input")
    hidden1 = keras.layers.Dense(30, activation="relu")(input_B)
    hidden2 = keras.layers.Dense(100, activation="relu")(hidden1)
    concat = keras.layers.concatenate([input_A, hidden2])
    output = keras.layers.Dense(1, name="output")(concat)
    aux_output = keras.layers.Dense(1, name="aux_output")(hidden2)
    model = keras.Model(inputs=[input_A, input_B], outputs=[output, aux_output])
    model.compile(loss=["mse", "mse"], loss_weights=[0.9, 0.1], optimizer="sgd")
    return model


CHAPTER: dict[str, tuple[Callable[[], Any], int]] = {
    "fashion_mnist_mlp": (chapter_fashion_mnist, 266_610),
    "california_mlp": (chapter_california, 3_471),
    "wide_deep": (chapter_wide_deep, 3_479),
    "wide_deep_two_inputs": (chapter_wide_deep_two_inputs, 3_416),
    "wide_deep_aux": (chapter_wide_deep_aux, 3_517),
}


def hand_written(name: str) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Keras 3 prefers Input() over input_shape=, as the chapter writes it
        return CHAPTER[name][0]()


# ---------------------------------------------------------------- comparing models without their names


def _clean(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items() if k not in ("name", "shared_object_id")}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def _tensors(obj: Any) -> Iterator[dict[str, Any]]:
    if isinstance(obj, dict) and obj.get("class_name") == "__keras_tensor__":
        yield obj
    elif isinstance(obj, dict):
        for v in obj.values():
            yield from _tensors(v)
    elif isinstance(obj, list | tuple):
        for v in obj:
            yield from _tensors(v)


def structure(model: Any) -> tuple[Any, ...]:
    """Each output as a tree of (layer class, config without names, inputs): wiring included, names not."""
    config = json.loads(json.dumps(keras.saving.serialize_keras_object(model)["config"]))
    layers = config["layers"]
    if type(model).__name__ == "Sequential":
        sig: Any = ("Input", 0, tuple(layers[0]["config"]["batch_shape"]), layers[0]["config"]["dtype"])
        for layer in layers[1:]:
            sig = (layer["class_name"], json.dumps(_clean(layer["config"]), sort_keys=True), (sig,))
        return (sig,)
    by_name = {layer["name"]: layer for layer in layers}
    leaves = config["input_layers"]
    leaves = [leaves] if isinstance(leaves[0], str) else leaves
    input_order = [leaf[0] for leaf in leaves]

    def sig_of(name: str) -> Any:
        layer = by_name[name]
        if layer["class_name"] == "InputLayer":
            c = layer["config"]
            return ("Input", input_order.index(name), tuple(c["batch_shape"]), c["dtype"])
        (call,) = layer["inbound_nodes"]
        sources = [t["config"]["keras_history"][0] for t in _tensors(call["args"])]
        return (layer["class_name"], json.dumps(_clean(layer["config"]), sort_keys=True), tuple(sig_of(s) for s in sources))

    outs = config["output_layers"]
    outs = [outs] if isinstance(outs[0], str) else outs
    return tuple(sig_of(leaf[0]) for leaf in outs)


def compile_settings(model: Any) -> dict[str, Any]:
    """Optimizer, learning rate, loss per output, loss weights and metrics, in one comparable form."""
    config = model.get_compile_config()
    names = list(getattr(model, "output_names", None) or [model.layers[-1].name])

    def per_output(value: Any) -> Any:
        return dict(zip(names, value, strict=True)) if isinstance(value, list) and len(names) > 1 else value

    losses = per_output(config["loss"])
    if isinstance(losses, dict):
        losses = {k: keras.losses.get(v).__name__ for k, v in losses.items()}
    else:
        losses = keras.losses.get(losses).__name__
    return {
        "optimizer": type(model.optimizer).__name__,
        "learning_rate": round(float(model.optimizer.learning_rate), 7),
        "loss": losses,
        "loss_weights": per_output(config["loss_weights"]),
        "metrics": config["metrics"],
    }


# ---------------------------------------------------------------- tests


def test_the_chapter_table_covers_the_five_seed_models(seed_counts):
    assert {name: count for name, (_, count) in CHAPTER.items()} == seed_counts


@pytest.mark.parametrize("name", sorted(CHAPTER))
def test_built_model_has_the_layers_and_wiring_of_the_chapters_hand_written_model(name):
    built = specforge.build(_spec_file(name), seed=0)
    by_hand = hand_written(name)
    assert structure(built) == structure(by_hand)
    assert built.count_params() == by_hand.count_params() == CHAPTER[name][1]


@pytest.mark.parametrize("name", sorted(CHAPTER))
def test_built_model_compiles_like_the_chapter(name):
    built = specforge.build(_spec_file(name), seed=0)
    by_hand = hand_written(name)
    assert compile_settings(built) == compile_settings(by_hand)


def test_every_spec_builds_one_named_layer_per_node_with_the_irs_shapes_and_counts(spec_path):
    result = check_file(spec_path)
    assert result.ok, result.diagnostics
    graph = result.graph
    if graph.optimizer.type == "perceptron":  # the perceptron rule: a NumPy-backend spec
        with pytest.raises(specforge.SpecError) as info:
            specforge.build(result)
        assert {d.code for d in info.value.diagnostics} <= {"not-differentiable", "unsupported-by-backend"}
        assert any("--backend numpy" in (d.help or "") for d in info.value.diagnostics)
        return
    model = specforge.build(result, seed=0)
    assert model.count_params() == graph.total_params
    assert model.name == graph.name
    assert [t.name for t in model.inputs] == [i.name for i in graph.inputs]
    assert list(model.output_names) == [o.name for o in graph.outputs]
    for gi in graph.inputs:
        layer = model.get_layer(gi.name)
        assert tuple(layer.batch_shape[1:]) == gi.shape
    for node in graph.nodes:
        layer = model.get_layer(node.name)
        assert type(layer).__name__ == node.type
        assert tuple(layer.output.shape[1:]) == node.output_shape
        assert layer.count_params() == node.param_count.total
        sources = layer.input if isinstance(layer.input, list) else [layer.input]
        assert [_tensor_source(model, t) for t in sources] == list(node.inputs)
        if node.type == "Dense":
            config = layer.get_config()
            assert config["units"] == node.params.units
            assert config["activation"] == node.params.activation
            assert config["use_bias"] == node.params.use_bias


def test_the_seed_models_have_the_chapters_parameter_counts(seed_counts):
    for name, count in seed_counts.items():
        assert specforge.build(_spec_file(name)).count_params() == count


# ---------------------------------------------------------------- helpers


def _spec_file(name: str) -> str:
    from pathlib import Path

    return str(Path(__file__).resolve().parents[2] / "specs" / f"{name}.yaml")


def _tensor_source(model: Any, tensor: Any) -> str:
    """The name of the input or layer that produced ``tensor`` (a KerasTensor of ``model``)."""
    for layer in model.layers:
        if layer.output is tensor:
            return layer.name
    return tensor.name
