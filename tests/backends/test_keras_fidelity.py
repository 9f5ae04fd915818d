"""A spec builds the very model the chapter writes by hand in Keras.

For every spec in specs/ (globbed: new specs are tested too), the built model
has the IR's parameter count, one layer per node with the node's name and
output shape, and the compile settings of the spec. For the chapter's five
models, the built model's layers (class, configuration, wiring) equal those of
the chapter's hand-written Keras code, copied below as the chapter writes it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

keras = pytest.importorskip("keras")

import specforge  # noqa: E402
from specforge.api import check_file  # noqa: E402
from specforge.testing import chapter, keras_structure  # noqa: E402

# ---------------------------------------------------------------- the chapter's models, by hand

# specforge.testing.chapter holds the chapter's Keras code, copied as the chapter writes it.
CHAPTER: dict[str, tuple[Callable[[], Any], int]] = {
    name: (build, chapter.PARAM_COUNTS[name]) for name, build in chapter.MODELS.items()
}
hand_written = chapter.hand_written


structure = keras_structure


def compile_settings(model: Any) -> dict[str, Any]:
    """Optimizer, learning rate, loss per output, loss weights and metrics, in one comparable form."""
    config = model.get_compile_config()
    names = list(getattr(model, "output_names", None) or [model.layers[-1].name])

    def per_output(value: Any) -> Any:
        return (
            dict(zip(names, value, strict=True))
            if isinstance(value, list) and len(names) > 1
            else value
        )

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
        assert {d.code for d in info.value.diagnostics} <= {
            "not-differentiable",
            "unsupported-by-backend",
        }
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
