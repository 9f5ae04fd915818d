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

from .conftest import graph_of, model_specs, strip_run_sections, targets_for

pytestmark = pytest.mark.keras

OUT_RTOL, OUT_ATOL = 1e-5, 1e-6
LOSS_RTOL = 1e-5
W_RTOL, W_ATOL = 1e-5, 1e-6


def _data(graph, n, seed):
    rng = np.random.default_rng(seed)
    x = {i.name: (rng.standard_normal((n, *i.shape)) * 0.8).astype(np.float32) for i in graph.inputs}
    y = {o.name: targets_for(graph, o, n, rng) for o in graph.outputs}
    return x, y


def _compare(numpy_backend, keras_backend, graph, *, n=48, seed=0, steps=1, direction="numpy->keras", must_move=True):
    """Same weights in both; compare forward, loss, and weights after ``steps`` full-batch steps."""
    x, y = _data(graph, n, seed)
    nm = numpy_backend.build(graph, seed=seed)
    km = keras_backend.build(graph, seed=seed)
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
    en = numpy_backend.evaluate(nm, x, y, batch_size=n)
    ek = keras_backend.evaluate(km, x, y, batch_size=n)
    for key, value in en.items():
        if key == "loss" or key.endswith("_loss"):
            assert value == pytest.approx(ek[key], rel=LOSS_RTOL, abs=1e-7), key

    hn = numpy_backend.fit(nm, x, y, epochs=steps, batch_size=n, shuffle=False)
    hk = keras_backend.fit(km, x, y, epochs=steps, batch_size=n, shuffle=False)
    assert hn["loss"][0] == pytest.approx(hk["loss"][0], rel=LOSS_RTOL, abs=1e-7)
    lr = graph.optimizer.learning_rate
    atol = 2e-3 * lr if graph.optimizer.type in ("adam", "rmsprop") else W_ATOL
    wn, wk = numpy_backend.get_weights(nm), keras_backend.get_weights(km)
    assert sorted(wn) == sorted(wk)
    moved = 0.0
    for name in wn:
        for j, (a, b) in enumerate(zip(wn[name], wk[name], strict=True)):
            assert_allclose(a, b, rtol=W_RTOL, atol=atol, err_msg=f"{name}[{j}] after {steps} {graph.optimizer.type} step(s)")
            moved = max(moved, float(np.abs(b - start[name][j]).max()))
    assert moved > 10 * atol or not must_move, "the step moved nothing: the comparison would prove nothing"
    return en


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
    graph = strip_run_sections(specforge.resolve(path), **config)
    _compare(numpy_backend, keras_backend, graph, steps=steps, direction="keras->numpy" if opt == "adam" else "numpy->keras")


@pytest.mark.slow
@pytest.mark.parametrize("opt", sorted(MORE_OPTIMIZERS))
@pytest.mark.parametrize("path", model_specs(), ids=lambda p: p.name)
def test_every_spec_agrees_with_keras_over_several_steps(numpy_backend, keras_backend, path, opt):
    import specforge

    config, steps = MORE_OPTIMIZERS[opt]
    graph = strip_run_sections(specforge.resolve(path), **config)
    _compare(numpy_backend, keras_backend, graph, steps=steps)


# ---------------------------------------------------------------- random graphs

hypothesis = pytest.importorskip("hypothesis")
st = hypothesis.strategies

#: Every activation both backends have (heaviside is NumPy-only).
SHARED_ACTIVATIONS = (
    "linear relu sigmoid tanh softmax elu selu softplus softsign silu gelu exponential "
    "hard_sigmoid leaky_relu relu6 mish log_softmax"
).split()
REGRESSION = ["mean_squared_error", "mean_absolute_error", "huber", "mean_absolute_percentage_error", "mean_squared_logarithmic_error"]
#: Output activations under which each crossentropy is well conditioned: fused with
#: softmax/sigmoid as Keras does, or on positive values (softplus) unfused.
CROSSENTROPY = {
    "binary_crossentropy": ["sigmoid", "softmax"],
    "categorical_crossentropy": ["softmax", "sigmoid", "softplus"],
    "sparse_categorical_crossentropy": ["softmax", "sigmoid", "softplus"],
}


@st.composite
def graphs(draw):
    """A valid spec mixing Dense, Flatten and Concatenate, with 1-3 inputs and several outputs."""
    n_inputs = draw(st.integers(1, 3))
    inputs, values = [], []
    for i in range(n_inputs):
        shape = draw(st.sampled_from([[draw(st.integers(1, 5))], [draw(st.integers(1, 3)), draw(st.integers(1, 3))]]))
        inputs.append({"name": f"in{i}", "shape": shape})
        values.append((f"in{i}", tuple(shape)))
    unread = [name for name, _ in values]
    nodes, reads = [], set()
    for k in range(draw(st.integers(1, 5))):
        name = f"n{k}"
        rank1 = [v for v in values if len(v[1]) == 1]
        rank2 = [v for v in values if len(v[1]) == 2]
        kinds = ["Dense"] + (["Flatten"] if rank2 else []) + (["Concatenate"] if len(rank1) >= 2 else [])
        kind = draw(st.sampled_from(kinds))
        if kind == "Dense":
            src = next((v for v in values if v[0] in unread), None) or draw(st.sampled_from(values))
            units = draw(st.integers(1, 4))
            node = {
                "name": name,
                "type": "Dense",
                "inputs": [src[0]],
                "units": units,
                "activation": draw(st.sampled_from(SHARED_ACTIVATIONS)),
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
        for s in srcs:
            reads.add(s[0])
            if s[0] in unread:
                unread.remove(s[0])
        nodes.append(node)
        values.append((name, shape))
    # Every input is read: an unread one joins the last value through a Dense.
    for name in list(unread):
        if name.startswith("in"):
            nodes.append({"name": f"r{name}", "type": "Dense", "inputs": [name], "units": 2, "activation": "tanh"})
            values.append((f"r{name}", (*dict(values)[name][:-1], 2)))
            reads.add(name)
    sinks = [(n["name"], dict(values)[n["name"]], n) for n in nodes if n["name"] not in reads]
    outputs = []
    for name, shape, node in sinks:
        activation = node.get("activation")
        options = list(REGRESSION)
        if len(shape) == 1:
            options += [loss for loss, acts in CROSSENTROPY.items() if activation in acts and (shape[0] > 1 or loss == "binary_crossentropy")]
        loss = draw(st.sampled_from(options))
        outputs.append({"node": name, "loss": loss, "weight": draw(st.sampled_from([1.0, 0.5, 0.25, 2.0]))})
    optimizer = draw(st.sampled_from([{"type": "sgd", "learning_rate": 0.05}, {"type": "adam", "learning_rate": 0.01}]))
    return {"specforge": 1, "name": "random", "inputs": inputs, "nodes": nodes, "outputs": outputs, "optimizer": optimizer}


@hypothesis.settings(max_examples=30, deadline=None, derandomize=True, suppress_health_check=list(hypothesis.HealthCheck))
@hypothesis.given(data=graphs(), direction=st.sampled_from(["numpy->keras", "keras->numpy"]))
def test_random_graphs_agree_with_keras(numpy_backend, keras_backend, data, direction):
    graph = graph_of(data)
    _compare(numpy_backend, keras_backend, graph, n=16, seed=1, direction=direction, must_move=False)
