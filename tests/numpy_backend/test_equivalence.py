"""The NumPy backend agrees with the Keras backend: the reason it exists.

With the same weights in both (transferred through each backend's get_weights /
set_weights, both ways), for every spec in specs/ and for random valid graphs:
forward outputs, the weighted total loss (and each output's loss), and the weights
after one training step agree to 1e-5 relative in float32.

Tolerances: ``rtol=1e-5`` everywhere, with an ``atol`` where values can be near 0
(outputs 1e-6, weights 1e-6 after SGD). Adam's first step divides each gradient
entry by its own magnitude (``m / (sqrt(v) + eps)``), so an entry that is itself at
the rounding level of the float32 sum producing it (two implementations summing in a
different order legitimately differ there) moves by a rounding-determined amount of
up to ~1e-3 of the learning rate; Adam's weights therefore get ``atol = 2e-3 * lr``.
The update rules themselves are compared exactly in test_kernels.py.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose

from specforge.registry import get_registry

from .conftest import graph_of, model_specs, strip_run_sections, targets_for

pytestmark = pytest.mark.keras

OUT_RTOL, OUT_ATOL = 1e-5, 1e-6
LOSS_RTOL = 1e-5
W_RTOL, W_ATOL = 1e-5, 1e-6


def _data(graph, n, seed):
    rng = np.random.default_rng(seed)
    x = {
        i.name: (rng.standard_normal((n, *i.shape)) * 0.8).astype(np.float32) for i in graph.inputs
    }
    y = {o.name: targets_for(graph, o, n, rng) for o in graph.outputs}
    return x, y


def _compare(
    numpy_backend,
    keras_backend,
    graph,
    *,
    n=48,
    seed=0,
    steps=1,
    direction="numpy->keras",
    must_move=True,
    evaluate=True,
):
    """Same weights in both; compare forward, loss, and weights after ``steps`` full-batch steps."""
    x, y = _data(graph, n, seed)
    nm = numpy_backend.build(graph, seed=seed, registry=get_registry())
    km = keras_backend.build(graph, seed=seed, registry=get_registry())
    if direction == "numpy->keras":
        keras_backend.set_weights(km, numpy_backend.get_weights(nm))
    else:
        numpy_backend.set_weights(nm, keras_backend.get_weights(km))
    start = numpy_backend.get_weights(nm)
    for name, ws in keras_backend.get_weights(km).items():
        for a, b in zip(ws, start[name], strict=True):
            np.testing.assert_array_equal(a, b)

    pn, pk = numpy_backend.predict(nm, x), keras_backend.predict(km, x)
    for name in pn:
        assert_allclose(pn[name], pk[name], rtol=OUT_RTOL, atol=OUT_ATOL, err_msg=f"output {name}")
    if not all(np.isfinite(v).all() for v in pn.values()):
        return None
    en = None
    if evaluate:
        en = numpy_backend.evaluate(nm, x, y, batch_size=n)
        ek = keras_backend.evaluate(km, x, y, batch_size=n)
        for key, value in en.items():
            if key == "loss" or key.endswith("_loss"):
                assert value == pytest.approx(ek[key], rel=LOSS_RTOL, abs=1e-7), key

    hn = numpy_backend.fit(nm, x, y, epochs=steps, batch_size=n, shuffle=False)
    hk = keras_backend.fit(km, x, y, epochs=steps, batch_size=n, shuffle=False)
    for key in hn:  # the first step's figures: computed before any update
        if key == "loss" or key.endswith("_loss"):
            assert hn[key][0] == pytest.approx(hk[key][0], rel=LOSS_RTOL, abs=1e-7), key
    lr = graph.optimizer.learning_rate
    atol = 2e-3 * lr if graph.optimizer.type in ("adam", "rmsprop") else W_ATOL
    wn, wk = numpy_backend.get_weights(nm), keras_backend.get_weights(km)
    assert sorted(wn) == sorted(wk)
    moved = 0.0
    for name in wn:
        for j, (a, b) in enumerate(zip(wn[name], wk[name], strict=True)):
            assert_allclose(
                a,
                b,
                rtol=W_RTOL,
                atol=atol,
                err_msg=f"{name}[{j}] after {steps} {graph.optimizer.type} step(s)",
            )
            moved = max(moved, float(np.abs(b - start[name][j]).max()))
    assert moved > 10 * atol or not must_move, (
        "the step moved nothing: the comparison would prove nothing"
    )
    return en


def _skip_numpy_only(graph):
    steps = [n.name for n in graph.nodes if n.param("activation") == "heaviside"]
    if steps:
        pytest.skip(
            f"step units ({', '.join(steps)}) exist only on the NumPy backend; test_perceptron.py checks them against scikit-learn"
        )


OPTIMIZERS = {
    "sgd": ({"type": "sgd", "learning_rate": 0.05}, 1),
    "adam": ({"type": "adam"}, 1),
}
MORE_OPTIMIZERS = {
    "sgd-nesterov": ({"type": "sgd", "learning_rate": 0.05, "momentum": 0.9, "nesterov": True}, 3),
    "rmsprop": ({"type": "rmsprop"}, 2),
    "adam-3-steps": ({"type": "adam", "learning_rate": 0.01}, 3),
}


@pytest.mark.parametrize("opt", sorted(OPTIMIZERS))
@pytest.mark.parametrize("path", model_specs(), ids=lambda p: p.name)
def test_every_spec_agrees_with_keras(numpy_backend, keras_backend, path, opt):
    import specforge

    config, steps = OPTIMIZERS[opt]
    _skip_numpy_only(specforge.resolve(path))
    graph = strip_run_sections(specforge.resolve(path), **config)
    _compare(
        numpy_backend,
        keras_backend,
        graph,
        steps=steps,
        direction="keras->numpy" if opt == "adam" else "numpy->keras",
    )


@pytest.mark.slow
@pytest.mark.parametrize("opt", sorted(MORE_OPTIMIZERS))
@pytest.mark.parametrize("path", model_specs(), ids=lambda p: p.name)
def test_every_spec_agrees_with_keras_over_several_steps(numpy_backend, keras_backend, path, opt):
    import specforge

    config, steps = MORE_OPTIMIZERS[opt]
    _skip_numpy_only(specforge.resolve(path))
    graph = strip_run_sections(specforge.resolve(path), **config)
    _compare(numpy_backend, keras_backend, graph, steps=steps)


# ---------------------------------------------------------------- every activation and loss at once


def kitchen_sink(optimizer: dict) -> dict:
    """Two inputs, Flatten, Concatenate, one Dense per shared activation, one output per loss case."""
    nodes = [
        {"name": "flat", "type": "Flatten", "inputs": ["b"]},
        {"name": "both", "type": "Concatenate", "inputs": ["a", "flat"]},
    ]
    for act in SHARED_ACTIVATIONS:
        nodes.append(
            {
                "name": f"act_{act}",
                "type": "Dense",
                "units": 3,
                "activation": act,
                "inputs": ["both"],
            }
        )
    nodes.append(
        {"name": "mix", "type": "Concatenate", "inputs": [f"act_{a}" for a in SHARED_ACTIVATIONS]}
    )
    heads = [
        ("mean_squared_error", "linear", 2),
        ("mean_absolute_error", "relu", 2),
        ("huber", "tanh", 2),
        ("mean_absolute_percentage_error", "softplus", 2),
        ("mean_squared_logarithmic_error", "softplus", 2),
        ("binary_crossentropy", "sigmoid", 2),  # fused
        ("binary_crossentropy", "softmax", 3),  # fused (Keras: sigmoid CE of softmax logits)
        ("categorical_crossentropy", "softmax", 4),  # fused
        ("categorical_crossentropy", "softplus", 4),  # renormalised probabilities
        ("sparse_categorical_crossentropy", "softmax", 4),  # fused
        ("sparse_categorical_crossentropy", "sigmoid", 4),  # fused (softmax CE of sigmoid logits)
    ]
    outputs = []
    for i, (loss, act, units) in enumerate(heads):
        nodes.append(
            {
                "name": f"head{i}",
                "type": "Dense",
                "units": units,
                "activation": act,
                "inputs": ["mix"],
            }
        )
        outputs.append({"node": f"head{i}", "loss": loss, "weight": [1.0, 0.5, 0.25, 2.0][i % 4]})
    # A crossentropy on probabilities that are not fused: a sigmoid layer, then Flatten.
    nodes += [
        {"name": "probs", "type": "Dense", "units": 2, "activation": "sigmoid", "inputs": ["mix"]},
        {"name": "probs_out", "type": "Flatten", "inputs": ["probs"]},
    ]
    outputs.append({"node": "probs_out", "loss": "binary_crossentropy", "weight": 0.3})
    return {
        "specforge": 1,
        "name": "kitchen_sink",
        "inputs": [{"name": "a", "shape": [3]}, {"name": "b", "shape": [2, 2]}],
        "nodes": nodes,
        "outputs": outputs,
        "optimizer": optimizer,
    }


@pytest.mark.parametrize("opt", sorted(OPTIMIZERS))
def test_kitchen_sink_graph_with_every_shared_activation_and_loss(
    numpy_backend, keras_backend, opt
):
    config, steps = OPTIMIZERS[opt]
    graph = graph_of(kitchen_sink(config))
    _compare(
        numpy_backend,
        keras_backend,
        graph,
        steps=steps,
        direction="keras->numpy" if opt == "adam" else "numpy->keras",
        evaluate=False,
    )


# ---------------------------------------------------------------- random graphs

hypothesis = pytest.importorskip("hypothesis")
st = hypothesis.strategies

#: Every activation both backends have (heaviside is NumPy-only).
SHARED_ACTIVATIONS = [
    "linear",
    "relu",
    "sigmoid",
    "tanh",
    "softmax",
    "elu",
    "selu",
    "softplus",
    "softsign",
    "silu",
    "gelu",
    "exponential",
    "hard_sigmoid",
    "leaky_relu",
    "relu6",
    "mish",
    "log_softmax",
]
REGRESSION = [
    "mean_squared_error",
    "mean_absolute_error",
    "huber",
    "mean_absolute_percentage_error",
    "mean_squared_logarithmic_error",
]
#: Output activations under which each crossentropy is well conditioned: fused with
#: softmax/sigmoid as Keras does, or on positive values (softplus) unfused.
CROSSENTROPY = {
    "binary_crossentropy": ["sigmoid", "softmax"],
    "categorical_crossentropy": ["softmax", "sigmoid", "softplus"],
    "sparse_categorical_crossentropy": ["softmax", "sigmoid", "softplus"],
}


@st.composite
def graphs(draw):
    """A valid spec mixing Dense, Flatten and Concatenate, with 1-3 inputs and 1-4 outputs.

    The structure comes from hypothesis draws; activations and losses from a NumPy
    generator seeded by a drawn integer, so that they spread evenly over the shared
    vocabulary instead of clustering on the first choices (test_kitchen_sink_graph
    covers every one of them deterministically anyway).
    """
    rnd = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    n_inputs = draw(st.integers(1, 3))
    inputs, values = [], []
    for i in range(n_inputs):
        shape = (
            [draw(st.integers(1, 5))]
            if draw(st.booleans())
            else [draw(st.integers(1, 3)), draw(st.integers(1, 3))]
        )
        inputs.append({"name": f"in{i}", "shape": shape})
        values.append((f"in{i}", tuple(shape)))
    nodes, reads = [], set()
    for k in range(draw(st.integers(2, 6))):
        name = f"n{k}"
        rank1 = [v for v in values if len(v[1]) == 1]
        rank2 = [v for v in values if len(v[1]) == 2]
        kinds = (
            (["Concatenate"] if len(rank1) >= 2 else [])
            + (["Flatten"] if rank2 else [])
            + ["Dense"]
        )
        kind = (
            "Concatenate"
            if kinds[0] == "Concatenate" and rnd.random() < 0.5
            else str(rnd.choice(kinds))
        )
        if kind == "Dense":
            src = values[int(rnd.integers(len(values)))]
            units = draw(st.integers(1, 4))
            node = {
                "name": name,
                "type": "Dense",
                "inputs": [src[0]],
                "units": units,
                "activation": str(rnd.choice(SHARED_ACTIVATIONS)),
                "use_bias": draw(st.booleans()),
            }
            srcs, shape = [src], (*src[1][:-1], units)
        elif kind == "Flatten":
            src = draw(st.sampled_from(rank2))
            node = {"name": name, "type": "Flatten", "inputs": [src[0]]}
            srcs, shape = [src], (math.prod(src[1]),)
        else:
            srcs = draw(st.lists(st.sampled_from(rank1), min_size=2, max_size=3, unique=True))
            node = {"name": name, "type": "Concatenate", "inputs": [s[0] for s in srcs]}
            shape = (sum(s[1][0] for s in srcs),)
        reads.update(s[0] for s in srcs)
        nodes.append(node)
        values.append((name, shape))
    shapes = dict(values)
    # Every input is read: an unread one gets a Dense of its own.
    for inp in inputs:
        if inp["name"] not in reads:
            name = f"r{inp['name']}"
            nodes.append(
                {
                    "name": name,
                    "type": "Dense",
                    "inputs": [inp["name"]],
                    "units": 2,
                    "activation": str(rnd.choice(SHARED_ACTIVATIONS)),
                }
            )
            shapes[name] = (*shapes[inp["name"]][:-1], 2)
            reads.add(inp["name"])
    outputs = []
    for node in nodes:
        if node["name"] in reads:
            continue
        shape, activation = shapes[node["name"]], node.get("activation")
        options = list(REGRESSION)
        if len(shape) == 1:
            options += [
                loss
                for loss, acts in CROSSENTROPY.items()
                if activation in acts and (shape[0] > 1 or loss == "binary_crossentropy")
            ] * 3
        outputs.append(
            {
                "node": node["name"],
                "loss": str(rnd.choice(options)),
                "weight": float(rnd.choice([1.0, 0.5, 0.25, 2.0])),
            }
        )
    optimizer = draw(
        st.sampled_from(
            [{"type": "sgd", "learning_rate": 0.05}, {"type": "adam", "learning_rate": 0.01}]
        )
    )
    return {
        "specforge": 1,
        "name": "random",
        "inputs": inputs,
        "nodes": nodes,
        "outputs": outputs,
        "optimizer": optimizer,
    }


@hypothesis.settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(hypothesis.HealthCheck),
)
@hypothesis.given(data=graphs(), direction=st.sampled_from(["numpy->keras", "keras->numpy"]))
def test_random_graphs_agree_with_keras(numpy_backend, keras_backend, data, direction):
    graph = graph_of(data)
    _compare(
        numpy_backend,
        keras_backend,
        graph,
        n=16,
        seed=1,
        direction=direction,
        must_move=False,
        evaluate=False,
    )
