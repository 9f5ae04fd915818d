"""The NumPy lowering contract, exercised by a third-party plugin defined here.

The plugin adds three node types the way ``specforge-layers`` would: ``Noise`` (a
Dropout: randomness through the ``rng`` keyword, identity outside training),
``Sum`` (an Add: several inputs) and ``RunningNorm`` (a BatchNormalization: trainable
gamma/beta, non-trainable moving mean/variance updated by ``update_state`` in training
mode only). The built-ins register through the very same hook. Every method
receives the lowering context first (plugin API 2); API-1 lowerings, without it,
are covered by ``tests/test_api1_plugins.py``.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from pydantic import Field

from specforge.numpy_backend import NodeLowering
from specforge.plugin import NodeType, ParamCount, Params, hookimpl

from .conftest import graph_of, spec


class NoiseParams(Params):
    rate: float = Field(0.5, ge=0, lt=1)


class Noise(NodeType):
    name = "Noise"
    Params = NoiseParams

    def output_shape(self, params, input_shapes):
        return input_shapes[0]


class Sum(NodeType):
    name = "Sum"
    min_inputs, max_inputs = 2, None

    def output_shape(self, params, input_shapes):
        return input_shapes[0]


class RunningNormParams(Params):
    momentum: float = 0.9
    epsilon: float = 1e-3


class RunningNorm(NodeType):
    name = "RunningNorm"
    Params = RunningNormParams

    def output_shape(self, params, input_shapes):
        return input_shapes[0]

    def param_count(self, params, input_shapes):
        d = input_shapes[0][-1]
        return ParamCount(2 * d, 2 * d)


class NoiseLowering(NodeLowering):
    def forward(self, ctx, node, weights, inputs, training, rng=None):
        x = inputs[0]
        if not training or node.params.rate == 0:
            return x, None
        keep = (rng.random(x.shape) >= node.params.rate).astype(x.dtype) / (1 - node.params.rate)
        return x * keep, keep

    def backward(self, ctx, node, weights, cache, grad_output):
        return [grad_output if cache is None else grad_output * cache], []


class SumLowering(NodeLowering):
    def forward(self, ctx, node, weights, inputs, training):
        out = inputs[0].copy()
        for x in inputs[1:]:
            out += x
        return out, len(inputs)

    def backward(self, ctx, node, weights, cache, grad_output):
        return [grad_output] * cache, []


class RunningNormLowering(NodeLowering):
    def init(self, ctx, node, rng):
        d = node.input_shapes[0][-1]
        return [
            np.ones(d, np.float32),
            np.zeros(d, np.float32),
            np.zeros(d, np.float32),
            np.ones(d, np.float32),
        ]

    def trainable(self, ctx, node):
        return [True, True, False, False]

    def forward(self, ctx, node, weights, inputs, training):
        gamma, beta, mean, var = weights
        x = inputs[0]
        if training:
            mean, var = x.mean(axis=0), x.var(axis=0)
        inv = 1.0 / np.sqrt(var + node.params.epsilon)
        xhat = (x - mean) * inv
        return gamma * xhat + beta, (xhat, inv, training, mean, var)

    def backward(self, ctx, node, weights, cache, grad_output):
        xhat, inv, training, _, _ = cache
        g = grad_output
        grad_gamma, grad_beta = (g * xhat).sum(axis=0), g.sum(axis=0)
        gx = g * weights[0]
        if training:
            gx = inv * (gx - gx.mean(axis=0) - xhat * (gx * xhat).mean(axis=0))
        else:
            gx = gx * inv
        return [gx], [grad_gamma, grad_beta, None, None]

    def update_state(self, ctx, node, weights, cache):
        _, _, _, mean, var = cache
        m = node.params.momentum
        weights[2][...] = weights[2] * m + mean * (1 - m)
        weights[3][...] = weights[3] * m + var * (1 - m)


class LayersPlugin:
    SPECFORGE_API = 2

    @hookimpl
    def register_node_types(self, register):
        for node_type in (Noise(), Sum(), RunningNorm()):
            register(node_type)

    @hookimpl
    def register_lowerings(self, register):
        register("numpy", "node", "Noise", NoiseLowering())
        register("numpy", "node", "Sum", SumLowering())
        register("numpy", "node", "RunningNorm", RunningNormLowering())


@pytest.fixture(scope="module")
def reg():
    from specforge.registry import load_registry

    registry = load_registry([("specforge-test-layers", LayersPlugin())], entry_points=False)
    assert not registry.problems, [p.render() for p in registry.problems]
    return registry


GRAPH = spec(
    [
        {"name": "h", "type": "Dense", "units": 6, "activation": "tanh"},
        {"name": "norm", "type": "RunningNorm"},
        {"name": "drop", "type": "Noise", "rate": 0.3},
        {"name": "skip", "type": "Dense", "units": 6, "inputs": ["x"]},
        {"name": "sum", "type": "Sum", "inputs": ["drop", "skip"]},
        {"name": "out", "type": "Dense", "units": 2},
    ],
    [{"node": "out", "loss": "mse"}],
)


def _data(n=32, seed=0):
    rng = np.random.default_rng(seed)
    return {"x": rng.standard_normal((n, 4)).astype(np.float32)}, {
        "out": rng.standard_normal((n, 2)).astype(np.float32)
    }


def _model(reg, seed=0, dtype="float32", graph=GRAPH):
    from specforge.numpy_backend import NumpyModel

    return NumpyModel(graph_of(graph, registry=reg), seed=seed, registry=reg, dtype=dtype)


def test_plugin_nodes_build_and_report_non_trainable_weights(reg):
    model = _model(reg)
    assert model.trainable["norm"] == [True, True, False, False]
    assert [w.shape for w in model.get_weights()["norm"]] == [(6,)] * 4
    assert model.count_params() == model.graph.total_params


def test_non_trainable_state_changes_only_in_training_and_only_through_update_state(reg):
    model = _model(reg)
    x, y = _data()
    before = model.get_weights()["norm"]
    model.predict(x)
    model.evaluate(x, y)
    model.loss_and_gradients(x, y)  # forward + backward, no step
    assert all(
        np.array_equal(a, b) for a, b in zip(before, model.get_weights()["norm"], strict=True)
    )
    model.train_on_batch(x, y)
    after = model.get_weights()["norm"]
    assert not np.array_equal(after[2], before[2]) and not np.array_equal(after[3], before[3])


def test_moving_mean_is_the_momentum_average_of_batch_means(reg):
    model = _model(reg)
    x, y = _data()
    w = model.get_weights()
    hidden = np.tanh(x["x"] @ w["h"][0] + w["h"][1])
    model.train_on_batch(x, y)
    moving_mean, moving_var = model.get_weights()["norm"][2:]
    assert_allclose(moving_mean, 0.1 * hidden.mean(axis=0), rtol=1e-5, atol=1e-7)
    assert_allclose(moving_var, 0.9 + 0.1 * hidden.var(axis=0), rtol=1e-5)


def test_the_rng_keyword_makes_dropout_random_in_training_and_reproducible(reg):
    x, y = _data(64)

    def trained(fit_seed):
        model = _model(reg, seed=0)
        model.fit(x, y, epochs=2, batch_size=16, seed=fit_seed)
        return model.get_weights()["out"][0]

    assert_array_equal(trained(1), trained(1))
    assert not np.array_equal(trained(1), trained(2))
    model = _model(reg)
    assert_array_equal(
        model.predict(x)["out"], model.predict(x)["out"]
    )  # no noise outside training


def test_gradients_of_plugin_nodes_match_finite_differences(reg):
    # Noise at rate 0 is deterministic, so the training-mode graph has a derivative.
    graph = {
        **GRAPH,
        "nodes": [dict(n, rate=0.0) if n["type"] == "Noise" else n for n in GRAPH["nodes"]],
    }
    model = _model(reg, dtype="float64", graph=graph)
    x, y = _data(8)
    x = {k: v.astype(np.float64) for k, v in x.items()}
    _, grads = model.loss_and_gradients(x, y)
    for node in ("h", "norm", "skip", "out"):
        for j, w in enumerate(model.weights[node]):
            if not model.trainable[node][j]:
                assert grads[node][j] is None
                continue
            numeric = np.zeros_like(w)
            for idx in np.ndindex(w.shape):
                old = w[idx]
                w[idx] = old + 1e-6
                up = model.loss_and_gradients(x, y)[0]["loss"]
                w[idx] = old - 1e-6
                down = model.loss_and_gradients(x, y)[0]["loss"]
                w[idx] = old
                numeric[idx] = (up - down) / 2e-6
            assert_allclose(grads[node][j], numeric, rtol=1e-5, atol=1e-8, err_msg=f"{node}[{j}]")


def test_non_trainable_weights_survive_save_and_load(reg, tmp_path):
    from specforge.numpy_backend.io import load, save

    model = _model(reg)
    x, y = _data()
    model.fit(x, y, epochs=2, batch_size=8, seed=0)
    save(model, tmp_path / "m.npz")
    back = load(tmp_path / "m.npz", registry=reg)
    for a, b in zip(model.get_weights()["norm"], back.get_weights()["norm"], strict=True):
        assert_array_equal(a, b)
    assert_array_equal(model.predict(x)["out"], back.predict(x)["out"])


def test_builtins_are_registered_through_the_same_hook_by_their_plugin(registry):
    owner = registry.owner[("lowering", "numpy:node:Dense")]
    assert owner == "specforge.default_plugins.dense"
    plugin = next(p for p in registry.plugins if p.name == owner)
    assert plugin.builtin and "node:Dense" in plugin.provides["lowerings[numpy]"]
    names = next(p for p in registry.plugins if p.name == "specforge.default_plugins.numpy_names")
    assert "activation:heaviside" in names.provides["lowerings[numpy]"]


def test_every_builtin_name_has_a_numpy_lowering(registry):
    from specforge.default_plugins.vocabulary import (
        ACTIVATIONS,
        INITIALIZERS,
        LOSSES,
        METRICS,
        OPTIMIZERS,
    )

    for kind, items in (
        ("activation", ACTIVATIONS),
        ("loss", LOSSES),
        ("metric", METRICS),
        ("optimizer", OPTIMIZERS),
        ("initializer", INITIALIZERS),
    ):
        for item in items:
            impl = registry.lowering("numpy", kind, item.name)
            assert impl is not None, (kind, item.name)
            # The kernel behind it exists (looked up when a model first uses it).
            parts = {"activation": ("forward", "backward"), "loss": ("value", "grad")}
            for attr in parts.get(kind, ()):
                assert callable(getattr(impl, attr)), (kind, item.name, attr)
            assert callable(impl) or kind in parts
    for node_type in ("Dense", "Flatten", "Concatenate"):
        assert registry.lowering("numpy", "node", node_type) is not None


def test_the_plugin_modules_import_no_numpy():
    code = (
        "import sys, specforge; from specforge.numpy_backend.backend import NumpyBackend; "
        "NumpyBackend(); specforge.get_registry(); print('numpy' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def _sig(fn: Any) -> Sequence[str]:
    import inspect

    return list(inspect.signature(fn).parameters)


def test_the_contract_signatures_are_the_documented_ones():
    from specforge.default_plugins.dense import DenseLowering

    assert _sig(NodeLowering.init) == ["self", "ctx", "node", "rng"]
    assert _sig(NodeLowering.trainable) == ["self", "ctx", "node"]
    assert _sig(NodeLowering.forward) == ["self", "ctx", "node", "weights", "inputs", "training"]
    assert _sig(NodeLowering.backward) == [
        "self",
        "ctx",
        "node",
        "weights",
        "cache",
        "grad_output",
    ]
    assert _sig(DenseLowering.backward)[-1] == "needs_input_grad"


def test_a_lowering_that_withholds_a_needed_gradient_is_named():
    from specforge.numpy_backend import NumpyModel
    from specforge.registry import load_registry

    class Opaque(NodeType):
        name = "Opaque"

        def output_shape(self, params, input_shapes):
            return input_shapes[0]

    class OpaqueLowering(NodeLowering):
        def forward(self, ctx, node, weights, inputs, training):
            return inputs[0], None

        def backward(self, ctx, node, weights, cache, grad_output):
            return [None], []

    class Plugin:
        SPECFORGE_API = 2

        @hookimpl
        def register_node_types(self, register):
            register(Opaque())

        @hookimpl
        def register_lowerings(self, register):
            register("numpy", "node", "Opaque", OpaqueLowering())

    reg = load_registry([("opaque", Plugin())], entry_points=False)
    graph = graph_of(
        spec(
            [
                {"name": "h", "type": "Dense", "units": 3},
                {"name": "o", "type": "Opaque"},
                {"name": "out", "type": "Dense", "units": 1},
            ],
            [{"node": "out", "loss": "mse"}],
        ),
        registry=reg,
    )
    model = NumpyModel(graph, seed=0, registry=reg)
    x, y = _data(8)
    with pytest.raises(RuntimeError, match="no gradient reached the weights of h"):
        model.train_on_batch(x, {"out": y["out"][:, :1]})
