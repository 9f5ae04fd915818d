"""Backpropagation against finite differences, through whole small graphs, in float64.

Every activation and every loss of the NumPy backend is checked inside a graph
(so the node lowerings, the activation plumbing, the softmax/sigmoid + crossentropy
fusion and the loss weights are checked together): the gradient the backend trains
with must be the slope of the loss it reports.
"""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

from specforge.default_plugins.numpy_names import names
from specforge.registry import get_registry

from .conftest import graph_of, spec, targets_for

STEP = 1e-6


def numeric_gradients(model, x, y):
    out = {}
    for node, weights in model.weights.items():
        out[node] = []
        for w in weights:
            g = np.zeros_like(w)
            for idx in np.ndindex(w.shape):
                old = w[idx]
                w[idx] = old + STEP
                up = model.loss_and_gradients(x, y)[0]["loss"]
                w[idx] = old - STEP
                down = model.loss_and_gradients(x, y)[0]["loss"]
                w[idx] = old
                g[idx] = (up - down) / (2 * STEP)
            out[node].append(g)
    return out


def check_graph(data, n=6, seed=0, rtol=1e-5, atol=1e-8):
    from specforge.numpy_backend import NumpyModel

    graph = graph_of(data)
    model = NumpyModel(graph, seed=seed, registry=get_registry(), dtype="float64")
    rng = np.random.default_rng(seed)
    x = {i.name: rng.standard_normal((n, *i.shape)) * 1.5 for i in graph.inputs}
    y = {o.name: targets_for(graph, o, n, rng, np.float64) for o in graph.outputs}
    _, analytic = model.loss_and_gradients(x, y)
    numeric = numeric_gradients(model, x, y)
    for node in numeric:
        for j, (a, b) in enumerate(zip(analytic[node], numeric[node], strict=True)):
            assert_allclose(a, b, rtol=rtol, atol=atol, err_msg=f"d loss / d {node}[{j}]")
    return model


# heaviside has no derivative to check: its backward is defined as zero and gradient
# optimizers refuse it (test_perceptron.py); the plot test checks its flat derivative.
DIFFERENTIABLE = [a for a in names("activation") if a != "heaviside"]


@pytest.mark.parametrize("activation", DIFFERENTIABLE)
def test_each_activation_backpropagates_its_derivative(activation):
    check_graph(
        spec(
            [
                {"name": "h", "type": "Dense", "units": 5, "activation": activation},
                {"name": "out", "type": "Dense", "units": 3},
            ],
            [{"node": "out", "loss": "mse"}],
            inputs=[{"name": "x", "shape": [3]}],
        )
    )


LOSS_CASES = [
    # (loss, output activation, units, through Flatten: the crossentropy sees probabilities, not fused)
    ("mean_squared_error", "linear", 2, False),
    ("mean_absolute_error", "linear", 2, False),
    ("mean_absolute_percentage_error", "softplus", 2, False),
    ("mean_squared_logarithmic_error", "softplus", 2, False),
    ("huber", "linear", 2, False),
    ("binary_crossentropy", "sigmoid", 2, False),  # fused with the sigmoid, like Keras
    ("binary_crossentropy", "sigmoid", 2, True),  # on probabilities, clipped
    ("binary_crossentropy", "softmax", 3, False),  # Keras fuses this too (sigmoid CE of the logits)
    ("categorical_crossentropy", "softmax", 3, False),
    ("categorical_crossentropy", "softmax", 3, True),
    ("categorical_crossentropy", "sigmoid", 3, False),  # Keras: softmax CE of the sigmoid's logits
    ("categorical_crossentropy", "softplus", 3, False),  # renormalised probabilities
    ("sparse_categorical_crossentropy", "softmax", 4, False),
    ("sparse_categorical_crossentropy", "softmax", 4, True),
    ("sparse_categorical_crossentropy", "sigmoid", 4, False),
]


@pytest.mark.parametrize(("loss", "activation", "units", "through_flatten"), LOSS_CASES)
def test_each_loss_backpropagates_its_gradient(loss, activation, units, through_flatten):
    nodes = [
        {"name": "h", "type": "Dense", "units": 4, "activation": "tanh"},
        {"name": "probs", "type": "Dense", "units": units, "activation": activation},
    ]
    if through_flatten:
        nodes.append({"name": "out", "type": "Flatten"})
    model = check_graph(
        spec(
            nodes, [{"node": nodes[-1]["name"], "loss": loss}], inputs=[{"name": "x", "shape": [3]}]
        )
    )
    fused = model._outputs[0].fused
    assert fused == (
        not through_flatten and "crossentropy" in loss and activation in ("sigmoid", "softmax")
    )


def test_loss_weights_scale_each_output_gradient_through_a_shared_trunk():
    check_graph(
        spec(
            [
                {"name": "h", "type": "Dense", "units": 4, "activation": "elu", "inputs": ["a"]},
                {"name": "cat", "type": "Concatenate", "inputs": ["b", "h"]},
                {"name": "main", "type": "Dense", "units": 1},
                {
                    "name": "aux",
                    "type": "Dense",
                    "units": 3,
                    "activation": "softmax",
                    "inputs": ["h"],
                },
            ],
            [
                {"node": "main", "loss": "mse", "weight": 0.9},
                {"node": "aux", "loss": "sparse_categorical_crossentropy", "weight": 0.1},
            ],
            inputs=[{"name": "a", "shape": [3]}, {"name": "b", "shape": [2]}],
        )
    )


def test_dense_and_flatten_on_rank_3_inputs():
    check_graph(
        spec(
            [
                {"name": "d", "type": "Dense", "units": 3, "activation": "swish"},
                {"name": "f", "type": "Flatten"},
                {"name": "out", "type": "Dense", "units": 2},
            ],
            [{"node": "out", "loss": "huber"}],
            inputs=[{"name": "x", "shape": [2, 4]}],
        )
    )


def test_an_output_that_also_feeds_another_node_sums_both_gradients():
    check_graph(
        spec(
            [
                {"name": "p", "type": "Dense", "units": 3, "activation": "softmax"},
                {"name": "q", "type": "Dense", "units": 1, "inputs": ["p"]},
            ],
            [
                {"node": "p", "loss": "categorical_crossentropy"},
                {"node": "q", "loss": "mse", "weight": 0.5},
            ],
        )
    )
