"""A plugin that only a custom registry has works wherever that registry is passed.

``specforge.build(spec, backend="numpy", registry=reg)`` used to work while
``training.train(spec, backend="numpy", registry=reg)`` failed with "node type
... has no NumPy lowering": train built the model without the registry, so the
backend looked the lowering up in the process-wide one. The registry is now
part of the backend contract (``Backend.build(graph, *, seed, registry)``).
"""

from __future__ import annotations

from pathlib import Path

import pytest

import specforge
from specforge.diagnostics import SpecError
from specforge.plugin import NodeLowering, NodeType, hookimpl
from specforge.testing import registry_with

ROOT = Path(__file__).resolve().parents[1]


class Halve(NodeType):
    name = "Halve"
    description = "x / 2"

    def output_shape(self, params, input_shapes):
        return tuple(input_shapes[0])


def lower_keras(ctx, node, inputs):
    import keras

    return keras.layers.Rescaling(0.5, name=node.name)(inputs[0])


class HalveLowering(NodeLowering):
    def forward(self, ctx, node, weights, inputs, training):
        return inputs[0] * inputs[0].dtype.type(0.5), None

    def backward(self, ctx, node, weights, cache, grad_output):
        return [grad_output * grad_output.dtype.type(0.5)], []


class HalvePlugin:
    SPECFORGE_API = 2

    @hookimpl
    def register_node_types(self, register):
        register(Halve())

    @hookimpl
    def register_lowerings(self, register):
        register("keras", "node", "Halve", lower_keras)
        register("numpy", "node", "Halve", HalveLowering())


@pytest.fixture(scope="module")
def registry():
    reg = registry_with(("halve", HalvePlugin()))
    assert not reg.problems, [p.render() for p in reg.problems]
    assert "Halve" not in specforge.get_registry().node_types  # only this registry has it
    return reg


@pytest.fixture
def spec(tmp_path):
    text = (ROOT / "specs" / "digits_mlp.yaml").read_text(encoding="utf-8")
    text = text.replace(
        "  - {name: output,", "  - {name: halve, type: Halve}\n  - {name: output,"
    ).replace("train: {epochs: 15,", "train: {epochs: 1,")
    path = tmp_path / "halved.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _backend(name):
    if name == "keras":
        pytest.importorskip("keras")
    return name


@pytest.mark.parametrize("backend", ["numpy", pytest.param("keras", marks=pytest.mark.keras)])
def test_build_train_and_evaluate_see_the_custom_registry(backend, registry, spec, tmp_path):
    from specforge.training import evaluate_run, train

    backend = _backend(backend)
    model = specforge.build(spec, backend=backend, registry=registry, seed=0)
    assert model is not None
    result = train(
        spec,
        backend=backend,
        registry=registry,
        out=tmp_path / "run",
        progress="quiet",
        echo=lambda line: None,
    )
    assert result.status == "completed", result.message
    assert "accuracy" in result.metrics["test"]
    again = evaluate_run(result.run_dir, registry=registry)
    assert again["loss"] == pytest.approx(result.metrics["test"]["loss"], rel=1e-5)


def test_without_the_registry_the_node_type_is_unknown(spec):
    with pytest.raises(SpecError) as info:
        specforge.build(spec, backend="numpy")
    assert [d.code for d in info.value.diagnostics] == ["unknown-node-type"]
