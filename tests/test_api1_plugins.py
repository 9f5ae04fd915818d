"""Plugins written for plugin API 1 keep working: the registry wraps what they register, once.

The plugin below is written as API 1 had it: Keras lowerings ``fn(node, inputs)``
and import rules ``fn(layer)`` calling the module-level helpers of
``specforge.keras_backend``, a NumPy lowering without ``ctx`` calling
``specforge.numpy_backend.lookup()``, a backend whose ``build`` takes no
registry, and a node type declaring ``Params``. It lives in a custom registry
only, so each helper must see the registry of the model being built, not the
process-wide one.
"""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import Field

import specforge
from specforge.compat import LegacyBackend, LegacyNodeLowering
from specforge.plugin import (
    Backend,
    Initializer,
    NodeLowering,
    NodeType,
    ParamCount,
    Params,
    hookimpl,
)
from specforge.testing import registry_with


class AffineParams(Params):
    units: int = Field(gt=0)
    activation: str = "linear"
    kernel_initializer: str = "glorot_uniform"


class Affine(NodeType):
    name = "Affine"
    Params = AffineParams  # the API-1 name of params_model
    activation_params = ("activation",)
    initializer_params = ("kernel_initializer",)

    def output_shape(self, params, input_shapes):
        return (*input_shapes[0][:-1], params.units)

    def param_count(self, params, input_shapes):
        return ParamCount(input_shapes[0][-1] * params.units + params.units)


def lower_affine(node, inputs):
    import keras

    from specforge.keras_backend import activation, initializer

    p = node.params
    return keras.layers.Dense(
        p.units,
        activation=activation(p.activation),
        kernel_initializer=initializer(p.kernel_initializer),
        name=node.name,
    )(inputs[0])


class ActParams(Params):
    activation: str = "linear"


class Act(NodeType):
    """An activation on its own (Keras: the Activation layer)."""

    name = "Act"
    Params = ActParams
    activation_params = ("activation",)

    def output_shape(self, params, input_shapes):
        return tuple(input_shapes[0])


def lower_act(node, inputs):
    import keras

    from specforge.keras_backend import activation

    return keras.layers.Activation(activation(node.params.activation), name=node.name)(inputs[0])


def import_act(layer):
    from specforge.keras_backend import activation_name

    return {"type": "Act", "activation": activation_name(layer.get_config()["activation"])}


class ActLowering(NodeLowering):
    """The identity: the backend applies the node's activation."""

    def forward(self, node, weights, inputs, training):
        return inputs[0], None

    def backward(self, node, weights, cache, grad_output):
        return [grad_output], []


class AffineLowering(NodeLowering):
    def init(self, node, rng):
        from specforge.numpy_backend import lookup

        fan_in, units = node.input_shapes[0][-1], node.params.units
        kernel = lookup("initializer", node.params.kernel_initializer)((fan_in, units), rng, "f4")
        return [kernel, np.zeros(units, np.float32)]

    def forward(self, node, weights, inputs, training):
        return inputs[0] @ weights[0] + weights[1], inputs[0]

    def backward(self, node, weights, cache, grad_output):
        return [grad_output @ weights[0].T], [cache.T @ grad_output, grad_output.sum(axis=0)]


def halves(shape, rng, dtype):
    return np.full(shape, 0.5, dtype)


def keras_halves(name):
    import keras

    return keras.initializers.Constant(0.5)


class ViaNumpy(Backend):
    """An API-1 backend: ``build`` and ``load`` without ``registry``; it builds on the numpy backend."""

    name = "via_numpy"

    def build(self, graph, *, seed=None):
        return specforge.get_registry().backends["numpy"].build(graph, seed=seed)

    def predict(self, model, x, *, batch_size=32):
        return model.predict(x, batch_size=batch_size)


class Api1Plugin:
    SPECFORGE_API = 1

    @hookimpl
    def register_node_types(self, register):
        register(Affine())
        register(Act())

    @hookimpl
    def register_initializers(self, register):
        register(Initializer("halves", description="every weight 0.5"))

    @hookimpl
    def register_backends(self, register):
        register(ViaNumpy())

    @hookimpl
    def register_lowerings(self, register):
        register("keras", "node", "Affine", lower_affine)
        register("keras", "node", "Act", lower_act)
        register("keras", "import", "Activation", import_act)
        register("keras", "initializer", "halves", keras_halves)
        register("numpy", "node", "Affine", AffineLowering())
        register("numpy", "node", "Act", ActLowering())
        register("numpy", "initializer", "halves", halves)


SPEC = {
    "specforge": 1,
    "name": "api1",
    "inputs": [{"name": "x", "shape": [3]}],
    "nodes": [
        {"name": "affine", "type": "Affine", "units": 2, "kernel_initializer": "halves"},
        {"name": "out", "type": "Act", "activation": "logistic"},
    ],
    "outputs": [{"node": "out", "loss": "mse"}],
    "optimizer": {"type": "sgd"},
}
X = {"x": np.array([[1.0, 2.0, -1.0], [0.0, 0.5, 0.25]], np.float32)}


def expected(x):
    return 1 / (1 + np.exp(-(x @ np.full((3, 2), 0.5))))


@pytest.fixture(scope="module")
def registry():
    reg = registry_with(("api1", Api1Plugin()))
    assert reg.problems == [], [p.render() for p in reg.problems]
    assert "Affine" not in specforge.get_registry().node_types
    return reg


def test_what_an_api1_plugin_registers_is_wrapped_once_at_registration(registry):
    assert isinstance(registry.lowering("numpy", "node", "Affine"), LegacyNodeLowering)
    assert isinstance(registry.backends["via_numpy"], LegacyBackend)
    assert registry.node_types["Affine"].params_model is AffineParams
    # Name lowerings and the built-ins' own (API 2) lowerings are left as they are.
    assert registry.lowering("numpy", "initializer", "halves") is halves


def test_an_api1_numpy_lowering_looks_names_up_in_the_registry_of_the_build(registry):
    model = specforge.build(SPEC, backend="numpy", registry=registry, seed=0)
    kernel, bias = model.get_weights()["affine"]
    assert (kernel == 0.5).all() and (bias == 0).all()
    np.testing.assert_allclose(model.predict(X)["out"], expected(X["x"]), rtol=1e-6)
    model.fit(X, {"out": np.zeros((2, 2), np.float32)}, epochs=1, batch_size=2)


def test_an_api1_backend_gets_the_registry_of_the_build(registry):
    model = specforge.build(SPEC, backend="via_numpy", registry=registry, seed=0)
    np.testing.assert_allclose(model.predict(X)["out"], expected(X["x"]), rtol=1e-6)


@pytest.mark.keras
def test_api1_keras_lowerings_and_import_rules_work_through_the_helpers(registry, tmp_path):
    keras = pytest.importorskip("keras")
    from specforge.keras_backend.decompile import decompile

    model = specforge.build(SPEC, backend="keras", registry=registry, seed=0)
    assert isinstance(model.get_layer("affine"), keras.layers.Dense)
    np.testing.assert_allclose(model.get_layer("affine").get_weights()[0], 0.5)
    assert model.get_layer("out").get_config()["activation"] == "sigmoid"
    np.testing.assert_allclose(model.predict(X["x"], verbose=0), expected(X["x"]), rtol=1e-5)
    path = tmp_path / "api1.keras"
    registry.backends["keras"].save(model, str(path))
    dense, act = decompile(path, registry=registry).spec["nodes"]
    assert (dense["type"], dense["kernel_initializer"]) == ("Dense", "halves")
    assert act == {"name": "out", "type": "Act", "activation": "sigmoid"}


def test_the_api1_helpers_outside_a_lowering_say_what_to_do_instead():
    from specforge.keras_backend import activation
    from specforge.numpy_backend import lookup

    with pytest.raises(RuntimeError, match=r"ctx\.activation\(name\)"):
        activation("relu")
    with pytest.raises(RuntimeError, match="plugin API 1"):
        lookup("activation", "relu")
