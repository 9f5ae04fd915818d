"""The NumPy kernels against Keras 3 (TF backend), finite differences and scikit-learn.

Keras-dependent tests request the ``tf``/``keras`` fixtures, which skip when Keras or
TensorFlow is missing; the finite-difference, statistics and sklearn tests run anyway.
"""

from __future__ import annotations

import os
import warnings
import zlib

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np
import pytest
from numpy.testing import assert_allclose

from specforge.default_plugins import vocabulary
from specforge.numpy_backend.kernels import (
    ACTIVATIONS,
    EPSILON,
    INITIALIZERS,
    LOGIT_LOSSES,
    LOSSES,
    METRICS,
    OPTIMIZERS,
    compute_fans,
    erf,
    erfc,
    perceptron_update,
)
from specforge.numpy_backend.kernels.metrics import accuracy_kind

RTOL, ATOL = 1e-5, 1e-6


@pytest.fixture(scope="module")
def keras():
    keras = pytest.importorskip("keras")
    if keras.backend.backend() != "tensorflow":
        pytest.skip("these comparisons need the tensorflow Keras backend")
    return keras


@pytest.fixture(scope="module")
def tf(keras):
    return pytest.importorskip("tensorflow")


def _rng(tag: str) -> np.random.Generator:
    """A generator seeded from the test's tag: deterministic across runs and processes."""
    return np.random.default_rng(zlib.crc32(tag.encode()))


def _close(actual, desired, rtol: float = RTOL, atol: float = ATOL) -> None:
    assert_allclose(np.asarray(actual), np.asarray(desired), rtol=rtol, atol=atol)


# ---------------------------------------------------------------------------
# The tables hold canonical names only: the registry resolves aliases
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("table", "vocab"),
    [
        (ACTIVATIONS, vocabulary.ACTIVATIONS),
        (LOSSES, vocabulary.LOSSES),
        (METRICS, vocabulary.METRICS),
        (INITIALIZERS, vocabulary.INITIALIZERS),
        (OPTIMIZERS, [o for o in vocabulary.OPTIMIZERS if o.name != "perceptron"]),
    ],
    ids=["activations", "losses", "metrics", "initializers", "optimizers"],
)
def test_kernel_tables_are_keyed_by_the_vocabularys_canonical_names(table, vocab):
    assert set(table) == {item.name for item in vocab}


# ---------------------------------------------------------------------------
# erf
# ---------------------------------------------------------------------------


def test_erf_erfc_match_math_module():
    import math

    x = np.linspace(-9.0, 9.0, 4001)
    _close(erf(x), [math.erf(v) for v in x], rtol=1e-14, atol=1e-15)
    ref = np.array([math.erfc(v) for v in x])
    assert np.max(np.abs(erfc(x) - ref) / ref) < 1e-13
    x32 = x.astype(np.float32)
    assert erf(x32).dtype == np.float32 and erfc(x32).dtype == np.float32
    _close(erf(x32), [math.erf(v) for v in x32.astype(float)], rtol=0, atol=3e-7)


# ---------------------------------------------------------------------------
# Activations
# ---------------------------------------------------------------------------

KERAS_ACTIVATIONS = sorted(set(ACTIVATIONS) - {"heaviside"})
KINKS = {
    "relu": [0.0],
    "relu6": [0.0, 6.0],
    "leaky_relu": [0.0],
    "hard_sigmoid": [-3.0, 3.0],
    "elu": [0.0],
    "selu": [0.0],
    "heaviside": [0.0],
}


def _act_input(name: str, shape=(4, 7), scale: float = 4.0) -> np.ndarray:
    x = _rng(name).uniform(-scale, scale, shape)
    if name == "relu6":
        x = x * 2.0 + 2.0  # reach the upper kink at 6 too
    for k in KINKS.get(name, []):  # keep finite differences off the kinks
        near = np.abs(x - k) < 1e-2
        x[near] += 0.05
    return x.astype(np.float32)


@pytest.mark.keras
@pytest.mark.parametrize("name", KERAS_ACTIVATIONS)
def test_activation_matches_keras(name, keras, tf):
    act = ACTIVATIONS[name]
    x = _act_input(name)
    g = _rng("g" + name).standard_normal(x.shape).astype(np.float32)
    xt = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(xt)
        yt = keras.activations.get(name)(xt)
    gt = tape.gradient(yt, xt, output_gradients=tf.constant(g))
    y = act.forward(x)
    gx = act.backward(x, y, g)
    assert y.dtype == np.float32 and gx.dtype == np.float32
    _close(y, yt.numpy())
    _close(gx, gt.numpy())


@pytest.mark.keras
@pytest.mark.parametrize(
    "name",
    [
        "sigmoid",
        "softplus",
        "softmax",
        "log_softmax",
        "silu",
        "mish",
        "gelu",
        "tanh",
        "elu",
        "selu",
    ],
)
def test_activation_saturated_inputs_match_keras_without_warnings(name, keras, tf):
    x = np.array([[-1e4, -90.0, -20.0, -1e-3, 0.0, 1e-3, 20.0, 90.0, 1e4]], np.float32)
    act = ACTIVATIONS[name]
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        y = act.forward(x)
        gx = act.backward(x, y, np.ones_like(x))
    xt = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(xt)
        yt = keras.activations.get(name)(xt)
    _close(y, yt.numpy())
    _close(gx, tape.gradient(yt, xt).numpy())


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_backward_matches_finite_differences(name):
    act = ACTIVATIONS[name]
    x = _act_input(name, shape=(3, 5)).astype(np.float64)
    g = _rng("fd" + name).standard_normal(x.shape)
    y = act.forward(x)
    assert y.dtype == np.float64  # no silent downcast either
    analytic = act.backward(x, y, g)
    h = 1e-6
    numeric = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        xp, xm = x.copy(), x.copy()
        xp[idx] += h
        xm[idx] -= h
        numeric[idx] = np.sum(g * (act.forward(xp) - act.forward(xm))) / (2 * h)
    _close(analytic, numeric, rtol=1e-6, atol=1e-7)


def test_heaviside_is_the_perceptron_step():
    act = ACTIVATIONS["heaviside"]
    x = np.array([-2.0, -1e-9, 0.0, 1e-9, 3.0], np.float32)
    assert_allclose(act.forward(x), [0, 0, 1, 1, 1])
    assert act.forward(x).dtype == np.float32
    assert not act.backward(x, act.forward(x), np.ones_like(x)).any()


def test_activation_keras3_definitions():
    # Keras 3 hard_sigmoid is relu6(x + 3) / 6, not Keras 2's 0.2 x + 0.5
    assert_allclose(ACTIVATIONS["hard_sigmoid"].forward(np.float32([1.5])), [0.75])
    assert_allclose(ACTIVATIONS["leaky_relu"].forward(np.float32([-1.0])), [-0.2])


# ---------------------------------------------------------------------------
# Losses
# ---------------------------------------------------------------------------


def _probs(rng: np.random.Generator, shape) -> np.ndarray:
    p = rng.uniform(0.05, 1.0, shape)
    return p / p.sum(axis=-1, keepdims=True)


def _loss_case(name: str, batch: int = 6, dim: int = 5):
    """(y_true, y_pred) away from clipping bounds and kinks, so FD checks are valid too."""
    rng = _rng("loss" + name)
    f32 = np.float32
    if name == "binary_crossentropy":
        t = rng.integers(0, 2, (batch, dim)).astype(f32)
        return t, rng.uniform(0.05, 0.95, (batch, dim)).astype(f32)
    if name == "categorical_crossentropy":
        t = np.eye(dim, dtype=f32)[rng.integers(0, dim, batch)]
        return t, _probs(rng, (batch, dim)).astype(f32)
    if name == "sparse_categorical_crossentropy":
        return rng.integers(0, dim, batch), _probs(rng, (batch, dim)).astype(f32)
    t = rng.standard_normal((batch, dim))
    # |p - t| kept off 0 (mae's kink) and off 1 (huber's delta)
    p = t + rng.choice([-1, 1], t.shape) * rng.uniform(0.1, 2.0, t.shape)
    p[np.abs(np.abs(p - t) - 1.0) < 0.05] += 0.2
    if name == "mean_absolute_percentage_error":
        t = np.where(np.abs(t) < 0.3, 0.5, t)
    if name == "mean_squared_logarithmic_error":
        t, p = np.abs(t), np.abs(p) + 0.01  # plus one negative pred: clipped by maximum(eps)
        p[0, 0] = -0.5
    return t.astype(np.float32), p.astype(np.float32)


KERAS_LOSS_CLASSES = {
    "mean_squared_error": "MeanSquaredError",
    "mean_absolute_error": "MeanAbsoluteError",
    "binary_crossentropy": "BinaryCrossentropy",
    "categorical_crossentropy": "CategoricalCrossentropy",
    "sparse_categorical_crossentropy": "SparseCategoricalCrossentropy",
    "huber": "Huber",
    "mean_squared_logarithmic_error": "MeanSquaredLogarithmicError",
    "mean_absolute_percentage_error": "MeanAbsolutePercentageError",
}


def _keras_loss_and_grad(keras, tf, name, y_true, y_pred, **kwargs):
    loss_obj = getattr(keras.losses, KERAS_LOSS_CLASSES[name])(**kwargs)
    pv = tf.Variable(y_pred)
    with tf.GradientTape() as tape:
        value = loss_obj(tf.constant(y_true), pv)
    return value.numpy(), tape.gradient(value, pv).numpy()


def test_every_loss_has_a_keras_counterpart():
    assert set(LOSSES) == set(KERAS_LOSS_CLASSES)


@pytest.mark.keras
@pytest.mark.parametrize("name", sorted(LOSSES))
def test_loss_matches_keras(name, keras, tf):
    t, p = _loss_case(name)
    loss = LOSSES[name]
    per_sample = loss.value(t, p)
    assert per_sample.shape == (p.shape[0],) and per_sample.dtype == np.float32
    _close(per_sample, keras.losses.get(name)(t, p).numpy())
    k_value, k_grad = _keras_loss_and_grad(keras, tf, name, t, p)
    _close(loss(t, p), k_value)
    grad = loss.grad(t, p)
    assert grad.shape == p.shape and grad.dtype == np.float32
    _close(grad, k_grad)


@pytest.mark.keras
@pytest.mark.parametrize(
    "name",
    [
        "binary_crossentropy",
        "categorical_crossentropy",
        "sparse_categorical_crossentropy",
        "mean_squared_logarithmic_error",
    ],
)
def test_clipping_boundaries_match_keras(name, keras, tf):
    """Exact 0/1, the clip bounds themselves and just inside them: value and gradient."""
    eps = np.float32(EPSILON)
    hi = np.float32(1.0 - EPSILON)
    if name == "mean_squared_logarithmic_error":  # maximum(p, eps): gradient passes at p == eps
        p = np.array(
            [[eps, 0.0, -0.5, 1e-9], [np.nextafter(eps, np.float32(1)), 0.5, 2.0, eps]], np.float32
        )
        t = np.array([[0.5, 1.0, 0.0, 2.0], [0.0, 0.5, 1.0, 3.0]], np.float32)
    elif name == "binary_crossentropy":
        p = np.array(
            [[0.0, eps, 1e-9, 0.3], [1.0, hi, np.nextafter(hi, np.float32(0)), 0.7]], np.float32
        )
        t = np.array([[1, 1, 0, 1], [0, 1, 1, 0]], np.float32)
    else:
        p = np.array(
            [[0.0, 0.25, 0.75], [1.0, 0.0, 0.0], [eps, hi, 0.0], [0.2, 0.3, 0.4]], np.float32
        )
        labels = np.array([0, 1, 1, 2])
        t = labels if name.startswith("sparse") else np.eye(3, dtype=np.float32)[labels]
    k_value, k_grad = _keras_loss_and_grad(keras, tf, name, t, p)
    _close(LOSSES[name](t, p), k_value)
    _close(LOSSES[name].grad(t, p), k_grad)


@pytest.mark.keras
def test_sparse_labels_shapes_and_rank_alignment(keras, tf):
    t, p = _loss_case("sparse_categorical_crossentropy")
    scce = LOSSES["sparse_categorical_crossentropy"]
    _close(scce.grad(t[:, None], p), scce.grad(t, p))
    _close(scce.value(t[:, None].astype(np.float32), p), scce.value(t, p))
    # (batch,) targets against (batch, 1) predictions are expanded, as Keras does
    rng = _rng("align")
    t1, p1 = (
        rng.integers(0, 2, 8).astype(np.float32),
        rng.uniform(0.1, 0.9, (8, 1)).astype(np.float32),
    )
    for name in ("binary_crossentropy", "mean_squared_error"):
        k_value, k_grad = _keras_loss_and_grad(keras, tf, name, t1, p1)
        _close(LOSSES[name](t1, p1), k_value)
        _close(LOSSES[name].grad(t1, p1), k_grad)
    with pytest.raises(ValueError, match="sparse labels"):
        scce.value(np.array([0, 5]), p[:2])


@pytest.mark.keras
@pytest.mark.parametrize("name", sorted(LOGIT_LOSSES))
def test_logit_losses_match_keras_from_logits(name, keras, tf):
    rng = _rng("logits" + name)
    t, _ = _loss_case(name)
    z = (rng.standard_normal((t.shape[0], 5)) * 4).astype(np.float32)
    k_value, k_grad = _keras_loss_and_grad(keras, tf, name, t, z, from_logits=True)
    loss = LOGIT_LOSSES[name]
    _close(loss(t, z), k_value)
    _close(loss.grad(t, z), k_grad)


def _fd_loss_grad(loss, t, p, h=1e-6):
    numeric = np.zeros_like(p)
    for idx in np.ndindex(p.shape):
        pp, pm = p.copy(), p.copy()
        pp[idx] += h
        pm[idx] -= h
        numeric[idx] = (loss(t, pp) - loss(t, pm)) / (2 * h)
    return numeric


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_loss_grad_matches_finite_differences(name):
    t, p = _loss_case(name, batch=4, dim=3)
    t = t if name.startswith("sparse") else t.astype(np.float64)
    p = p.astype(np.float64)
    loss = LOSSES[name]
    assert loss.grad(t, p).dtype == np.float64
    _close(loss.grad(t, p), _fd_loss_grad(loss, t, p), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("name", sorted(LOGIT_LOSSES))
def test_logit_loss_grad_matches_finite_differences(name):
    t, _ = _loss_case(name, batch=4, dim=3)
    z = _rng("fdz" + name).standard_normal((4, 3)) * 3
    loss = LOGIT_LOSSES[name]
    _close(loss.grad(t, z), _fd_loss_grad(loss, t, z), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize(
    "logits,name", [(True, n) for n in sorted(LOGIT_LOSSES)] + [(False, n) for n in sorted(LOSSES)]
)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_value_and_grad_equals_value_then_grad(logits, name, dtype):
    """A training step's one-pass form (where a loss has one) changes nothing but speed."""
    loss = (LOGIT_LOSSES if logits else LOSSES)[name]
    t, _ = _loss_case(name, batch=5, dim=4)
    z = (_rng("vg" + name).standard_normal((5, 4)) * 3).astype(dtype)
    if not logits and "crossentropy" in name:
        z = np.abs(z) / np.abs(z).sum(axis=-1, keepdims=True)  # probabilities
    value, grad = loss.value_and_grad(t, z)
    assert value.dtype == grad.dtype == dtype
    assert_allclose(value, loss.value(t, z), rtol=1e-6)
    assert_allclose(grad, loss.grad(t, z), rtol=1e-6, atol=1e-12)


# ---------------------------------------------------------------------------
# Optimizers
# ---------------------------------------------------------------------------

OPT_CASES = [
    ("sgd", {}),
    ("sgd", {"learning_rate": 0.1, "momentum": 0.9}),
    ("sgd", {"learning_rate": 0.1, "momentum": 0.9, "nesterov": True}),
    ("sgd", {"learning_rate": 0.1, "clipnorm": 0.5}),
    ("sgd", {"learning_rate": 0.1, "global_clipnorm": 0.5}),
    ("sgd", {"learning_rate": 0.1, "clipvalue": 0.3}),
    ("adam", {}),
    ("adam", {"learning_rate": 0.05, "beta_1": 0.8, "amsgrad": True}),
    ("rmsprop", {}),
    ("rmsprop", {"learning_rate": 0.01, "rho": 0.8, "momentum": 0.5, "centered": True}),
    ("adam", {"learning_rate": 0.01, "weight_decay": 0.1}),
]
KERAS_OPTIMIZER_CLASSES = {"sgd": "SGD", "adam": "Adam", "rmsprop": "RMSprop"}


@pytest.mark.keras
@pytest.mark.parametrize(
    ("name", "kwargs"),
    OPT_CASES,
    ids=lambda v: v if isinstance(v, str) else "-".join(map(str, v.items())),
)
def test_optimizer_matches_keras_step_by_step(name, kwargs, keras, tf):
    rng = _rng("opt" + name + str(sorted(kwargs.items())))
    params = [
        rng.standard_normal((3, 4)).astype(np.float32),
        rng.standard_normal(4).astype(np.float32),
    ]
    k_vars = [tf.Variable(p.copy()) for p in params]
    refs = [p for p in params]  # the caller's references must see the updates
    opt = OPTIMIZERS[name](**kwargs)
    k_opt = getattr(keras.optimizers, KERAS_OPTIMIZER_CLASSES[name])(**kwargs)
    for _ in range(5):
        grads = [rng.standard_normal(p.shape).astype(np.float32) for p in params]
        opt.step(params, grads)
        k_opt.apply([tf.constant(g) for g in grads], k_vars)
        for p, r, kv in zip(params, refs, k_vars, strict=True):
            assert p is r and p.dtype == np.float32
            _close(p, kv.numpy())
    assert opt.iterations == int(k_opt.iterations.numpy()) == 5


@pytest.mark.keras
@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_optimizer_defaults_match_keras(name, keras):
    ours = OPTIMIZERS[name]().hyperparameters
    theirs = getattr(keras.optimizers, KERAS_OPTIMIZER_CLASSES[name])().get_config()
    assert ours.keys() <= theirs.keys()
    for key, value in ours.items():
        if isinstance(value, float):
            assert value == pytest.approx(theirs[key], rel=1e-7), key
        else:
            assert value == theirs[key], key


def test_sgd_momentum_rule_by_hand():
    p = np.array([1.0], np.float32)
    opt = OPTIMIZERS["sgd"](learning_rate=0.1, momentum=0.5)
    opt.step([p], [np.array([1.0], np.float32)])  # v = -0.1, p = 0.9
    opt.step([p], [np.array([1.0], np.float32)])  # v = -0.05 - 0.1, p = 0.75
    assert_allclose(p, [0.75], rtol=1e-6)
    nest = OPTIMIZERS["sgd"](learning_rate=0.1, momentum=0.5, nesterov=True)
    q = np.array([1.0], np.float32)
    nest.step([q], [np.array([1.0], np.float32)])  # v = -0.1, p += 0.5 v - 0.1
    assert_allclose(q, [0.85], rtol=1e-6)


def test_adam_epsilon_is_added_to_sqrt_v_before_bias_correction():
    # Keras 3: p -= m * alpha / (sqrt(v) + eps), alpha = lr sqrt(1 - b2^t) / (1 - b1^t).
    # After one step sqrt(v) = sqrt(1 - b2) |g|, so eps is effectively eps / sqrt(1 - b2):
    # ~0.3% of the step for |g| = 1e-3 (the textbook eps-on-v_hat form would give 0.003%).
    g = np.array([3.0, -0.5, 1e-3], np.float32)
    p = np.zeros(3, np.float32)
    OPTIMIZERS["adam"](learning_rate=0.01).step([p], [g])
    b1, b2, lr, eps = 0.9, 0.999, 0.01, 1e-7
    alpha = lr * np.sqrt(1 - b2) / (1 - b1)
    expected = -alpha * (1 - b1) * g / (np.sqrt(1 - b2) * np.abs(g) + eps)
    assert_allclose(p, expected, rtol=1e-5)
    assert p[2] == pytest.approx(-0.01 * (1 - 0.00315), rel=1e-4)


@pytest.mark.parametrize(
    ("name", "kwargs", "match"),
    [
        ("sgd", {"learning_rate": -0.1}, "learning_rate must be in"),
        ("sgd", {"momentum": 1.5}, "momentum must be in"),
        ("sgd", {"momentum": -0.1}, "momentum must be in"),
        ("sgd", {"nesterov": "yes"}, "nesterov must be a bool"),
        ("adam", {"beta_1": 1.0}, "beta_1 must be in"),
        ("adam", {"epsilon": -1.0}, "epsilon must be in"),
        ("adam", {"learning_rate": "fast"}, "learning_rate must be a number"),
        ("rmsprop", {"rho": 2.0}, "rho must be in"),
        ("rmsprop", {"learning_rate": float("nan")}, "learning_rate must be in"),
        ("adam", {"weight_decay": -0.1}, "weight_decay must be in"),
        ("sgd", {"clipnorm": 1.0, "clipvalue": 1.0}, "only one of"),
    ],
)
def test_optimizer_validation(name, kwargs, match):
    with pytest.raises(ValueError, match=match):
        OPTIMIZERS[name](**kwargs)


def test_optimizer_rejects_changed_parameters_and_bad_arrays():
    opt = OPTIMIZERS["adam"]()
    p = np.zeros((2, 2), np.float32)
    opt.step([p], [np.ones((2, 2))])
    with pytest.raises(ValueError, match="changed since the first step"):
        opt.step([np.zeros(3, np.float32)], [np.ones(3)])
    with pytest.raises(ValueError, match="gradient 0 has shape"):
        opt.step([p], [np.ones(3)])
    with pytest.raises(TypeError, match="floating numpy array"):
        opt.step([[0.0, 1.0]], [[1.0, 1.0]])
    opt.reset()
    assert opt.iterations == 0
    opt.step([np.zeros(3, np.float32)], [np.ones(3)])


def test_optimizer_hyperparameters_report_effective_values():
    hp = OPTIMIZERS["rmsprop"](learning_rate=0.01).hyperparameters
    assert hp["learning_rate"] == 0.01 and hp["rho"] == 0.9 and hp["epsilon"] == 1e-7
    assert hp["momentum"] == 0.0 and hp["centered"] is False
    assert OPTIMIZERS["adam"]().hyperparameters["weight_decay"] is None


# ---------------------------------------------------------------------------
# Perceptron vs scikit-learn
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("epochs", [1, 3, 10])
def test_perceptron_update_reproduces_sklearn(epochs):
    datasets = pytest.importorskip("sklearn.datasets")
    linear_model = pytest.importorskip("sklearn.linear_model")
    iris = datasets.load_iris()
    x = iris.data[:, 2:4]  # petal length, petal width
    y = (iris.target == 0).astype(int)  # setosa vs rest: linearly separable
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf = linear_model.Perceptron(shuffle=False, eta0=1.0, max_iter=epochs, tol=None).fit(x, y)
    w = np.zeros(2)
    b = np.zeros(())
    for _ in range(epochs):
        perceptron_update(w, b, x, y, eta=1.0)
    _close(w, clf.coef_[0], rtol=1e-12, atol=1e-12)
    _close(b, clf.intercept_[0], rtol=1e-12, atol=1e-12)
    if epochs == 10:  # converged: a full pass makes no more mistakes
        assert perceptron_update(w.copy(), b.copy(), x, y) == 0
        assert_allclose(ACTIVATIONS["heaviside"].forward(x @ w + b), y)


def test_perceptron_multi_output_and_batch_mode():
    rng = _rng("perceptron")
    x = rng.standard_normal((20, 3)).astype(np.float32)
    y = (x @ np.float32([[1.0, -1.0], [2.0, 0.5], [-1.0, 1.0]]) > 0).astype(np.float32)
    w2, b2 = np.zeros((3, 2), np.float32), np.zeros(2, np.float32)
    perceptron_update(w2, b2, x, y)
    for col in range(2):  # columns train independently (one-vs-rest)
        w1, b1 = np.zeros(3, np.float32), np.zeros(1, np.float32)
        perceptron_update(w1, b1, x, y[:, col])
        _close(w2[:, col], w1)
        _close(b2[col], b1[0])
    assert w2.dtype == np.float32
    # batch mode: fixed predictions, summed update
    w, b = np.zeros(3), np.zeros(1)
    y_pred = np.ones(20)
    n = perceptron_update(w, b, x, y[:, 0], y_pred=y_pred, eta=0.5)
    _close(w, 0.5 * x.T @ (y[:, 0] - y_pred), rtol=1e-6)
    _close(b, [0.5 * np.sum(y[:, 0] - y_pred)])
    assert n == np.count_nonzero(y[:, 0] - y_pred)
    with pytest.raises(TypeError):
        perceptron_update(w, 0.0, x, y[:, 0])


# ---------------------------------------------------------------------------
# Initializers
# ---------------------------------------------------------------------------

SHAPE = (300, 500)  # fan_in 300, fan_out 500
FAN_AVG = 400.0
EXPECTED_STATS = {  # name -> (std, bound or None)
    "glorot_uniform": (np.sqrt(2.0 / (2 * FAN_AVG)), np.sqrt(6.0 / (2 * FAN_AVG))),
    "glorot_normal": (
        np.sqrt(2.0 / (2 * FAN_AVG)),
        2 * np.sqrt(2.0 / (2 * FAN_AVG)) / 0.87962566103423978,
    ),
    "he_normal": (np.sqrt(2.0 / 300), 2 * np.sqrt(2.0 / 300) / 0.87962566103423978),
    "he_uniform": (np.sqrt(2.0 / 300), np.sqrt(6.0 / 300)),
    "lecun_normal": (np.sqrt(1.0 / 300), 2 * np.sqrt(1.0 / 300) / 0.87962566103423978),
    "lecun_uniform": (np.sqrt(1.0 / 300), np.sqrt(3.0 / 300)),
    "random_normal": (0.05, None),
    "random_uniform": (0.05 / np.sqrt(3.0), 0.05),
    "truncated_normal": (0.05 * 0.87962566103423978, 0.1),
}


@pytest.mark.parametrize("name", sorted(INITIALIZERS))
def test_initializer_statistics(name):
    rng = np.random.default_rng(7)
    w = INITIALIZERS[name](SHAPE, rng)
    assert w.shape == SHAPE and w.dtype == np.float32
    w64 = INITIALIZERS[name]((4, 3), np.random.default_rng(0), dtype=np.float64)
    assert w64.dtype == np.float64
    if name in ("zeros", "ones"):
        assert np.all(w == (name == "ones"))
        return
    std, bound = EXPECTED_STATS[name]
    assert abs(w.mean()) < 4 * std / np.sqrt(w.size) + 1e-7
    assert w.std() == pytest.approx(std, rel=0.01)
    if bound is not None:
        assert np.abs(w).max() <= bound * (1 + 1e-6)
        assert np.abs(w).max() >= 0.99 * bound  # the whole range is used


@pytest.mark.keras
@pytest.mark.parametrize("name", sorted(set(INITIALIZERS) - {"zeros", "ones"}))
def test_initializer_distribution_matches_keras(name, keras):
    from scipy import stats

    ours = INITIALIZERS[name](SHAPE, np.random.default_rng(3)).ravel()
    k_init = keras.initializers.get({"class_name": name, "config": {"seed": 3}})
    theirs = np.asarray(k_init(SHAPE)).ravel()
    assert stats.ks_2samp(ours, theirs).statistic < 0.01


def test_compute_fans_follow_keras():
    assert compute_fans((3, 7)) == (3, 7)
    assert compute_fans((5,)) == (5, 5)
    assert compute_fans(()) == (1, 1)
    assert compute_fans((3, 3, 16, 32)) == (144, 288)


# ---------------------------------------------------------------------------
# Metrics
# ---------------------------------------------------------------------------


def _metric_case(name: str):
    rng = _rng("metric" + name)
    f32 = np.float32
    if name == "binary_accuracy":
        return rng.integers(0, 2, (50, 1)).astype(f32), rng.uniform(0, 1, (50, 1)).astype(f32)
    if name == "categorical_accuracy":
        return np.eye(4, dtype=f32)[rng.integers(0, 4, 50)], _probs(rng, (50, 4)).astype(f32)
    if name == "sparse_categorical_accuracy":
        return rng.integers(0, 4, 50), _probs(rng, (50, 4)).astype(f32)
    t = rng.uniform(0.5, 2.0, (50, 3)).astype(f32)
    return t, (t + rng.standard_normal(t.shape) * 0.3).astype(f32)


@pytest.mark.keras
@pytest.mark.parametrize("name", sorted(set(METRICS) - {"accuracy"}))
def test_metric_matches_keras(name, keras):
    t, p = _metric_case(name)
    k_metric = keras.metrics.get(name)
    if not isinstance(k_metric, keras.metrics.Metric):
        k_metric = (
            k_metric() if isinstance(k_metric, type) else keras.metrics.MeanMetricWrapper(k_metric)
        )
    k_metric.update_state(t, p)
    value = METRICS[name](t, p)
    assert isinstance(value, float)
    assert value == pytest.approx(float(k_metric.result()), rel=RTOL, abs=ATOL)


@pytest.mark.keras
@pytest.mark.parametrize(
    ("t_shape", "p_shape"),
    [((8, 1), (8, 1)), ((8,), (8, 1)), ((8,), (8, 4)), ((8, 1), (8, 4)), ((8, 4), (8, 4))],
)
def test_accuracy_resolution_matches_keras_compile(t_shape, p_shape, keras):
    compile_utils = pytest.importorskip("keras.src.trainers.compile_utils")
    t, p = np.zeros(t_shape, np.float32), np.zeros(p_shape, np.float32)
    k_name = type(compile_utils.get_metric("accuracy", t, p)).__name__
    expected = {
        "BinaryAccuracy": "binary_accuracy",
        "SparseCategoricalAccuracy": "sparse_categorical_accuracy",
        "CategoricalAccuracy": "categorical_accuracy",
    }[k_name]
    assert accuracy_kind(t_shape, p_shape) == expected
    tt, pp = _metric_case(expected)
    assert METRICS["accuracy"](tt, pp) == METRICS[expected](tt, pp)


def test_metric_edge_cases():
    # threshold is strict: 0.5 predicts class 0
    assert METRICS["binary_accuracy"](np.float32([[0], [1]]), np.float32([[0.5], [0.51]])) == 1.0
    # ties in argmax go to the first index, like tf.argmax
    assert METRICS["sparse_categorical_accuracy"](np.array([0]), np.float32([[0.5, 0.5]])) == 1.0
    rmse = METRICS["root_mean_squared_error"](np.zeros((2, 2)), np.full((2, 2), 3.0))
    assert rmse == pytest.approx(3.0)
