"""Numerical kernels of the NumPy reference backend.

Every kernel reproduces what Keras 3 (TensorFlow backend) computes, including its
clipping constants, where-conditions at kinks and float32 rounding order, so that a
model run here agrees with the compiled Keras model to ~1e-5 relative in float32.

Conventions shared by the whole module:

* Arrays keep the floating dtype they come in with (float32 in practice); integer
  inputs are promoted to float32 (Keras's ``floatx``). Constants are Python floats so
  that NumPy's NEP 50 "weak scalar" rules keep the array dtype, exactly as TF does.
* Nothing here imports Keras; every registry maps a canonical Keras name to a pure
  function or a small object so the rest of the package can look kernels up by name.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

__all__ = [
    "ACTIVATIONS",
    "ACTIVATION_ALIASES",
    "EPSILON",
    "INITIALIZERS",
    "LOGIT_LOSSES",
    "LOSSES",
    "LOSS_ALIASES",
    "METRICS",
    "METRIC_ALIASES",
    "OPTIMIZERS",
    "SELU_ALPHA",
    "SELU_SCALE",
    "SGD",
    "Activation",
    "Adagrad",
    "Adam",
    "AdamW",
    "Initializer",
    "Loss",
    "Metric",
    "Nadam",
    "Optimizer",
    "RMSprop",
    "compute_fans",
    "erf",
    "erfc",
    "get_activation",
    "get_initializer",
    "get_loss",
    "get_metric",
    "get_optimizer",
    "perceptron_update",
    "resolve_accuracy",
]

#: ``keras.config.epsilon()``: the fuzz factor used by crossentropy clipping, MAPE and MSLE.
EPSILON = 1e-7

#: Constants of ``tf.nn.selu`` (Klambauer et al., 2017).
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946
_SELU_SCALE_ALPHA = SELU_SCALE * SELU_ALPHA
_INV_SQRT2 = 0.7071067811865476  # the float32-cast constant tf.nn.gelu uses
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)

Array = np.ndarray


def _as_float(x: Any) -> Array:
    """View ``x`` as a floating array; non-float input becomes float32 (Keras's floatx)."""
    x = np.asarray(x)
    if not np.issubdtype(x.dtype, np.floating):
        x = x.astype(np.float32)
    return x


# ---------------------------------------------------------------------------
# erf / erfc (Cephes ndtr.c rational approximations; no SciPy dependency)
# ---------------------------------------------------------------------------

# erf(x) = x T(x^2) / U(x^2) for |x| < 1
_ERF_T = (
    9.60497373987051638749e0,
    9.00260197203842689217e1,
    2.23200534594684319226e3,
    7.00332514112805075473e3,
    5.55923013010394962768e4,
)
_ERF_U = (
    1.0,
    3.35617141647503099647e1,
    5.21357949780152679795e2,
    4.59432382970980127987e3,
    2.26290000613890934246e4,
    4.92673942608635921086e4,
)
# erfc(a) = exp(-a^2) P(a) / Q(a) for 1 <= a < 8
_ERFC_P = (
    2.46196981473530512524e-10,
    5.64189564831068821977e-1,
    7.46321056442269912687e0,
    4.86371970985681366614e1,
    1.96520832956077098242e2,
    5.26445194995477358631e2,
    9.34528527171957607540e2,
    1.02755188689515710272e3,
    5.57535335369399327526e2,
)
_ERFC_Q = (
    1.0,
    1.32281951154744992508e1,
    8.67072140885989742329e1,
    3.54937778887819891062e2,
    9.75708501743205489753e2,
    1.82390916687909736289e3,
    2.24633760818710981792e3,
    1.65666309194161350182e3,
    5.57535340817727675546e2,
)
# erfc(a) = exp(-a^2) R(a) / S(a) for a >= 8
_ERFC_R = (
    5.64189583547755073984e-1,
    1.27536670759978104416e0,
    5.01905042251180477414e0,
    6.16021097993053585195e0,
    7.40974269950448939160e0,
    2.97886665372100240670e0,
)
_ERFC_S = (
    1.0,
    2.26052863220117276590e0,
    9.39603524938001434673e0,
    1.20489539808096656605e1,
    1.70814450747565897222e1,
    9.60896809063285878198e0,
    3.36907645100081516050e0,
)


def _polyval(coeffs: tuple[float, ...], x: Array) -> Array:
    """Horner evaluation with Python-float coefficients so the result keeps ``x``'s dtype."""
    out = np.full_like(x, coeffs[0])
    for c in coeffs[1:]:
        out *= x
        out += c
    return out


def _erf_and_erfc(x: Array) -> tuple[Array, Array]:
    """Both functions at once: each is accurate where the other would cancel catastrophically."""
    x = _as_float(x)
    # Clamped copies keep the unused branch of np.where finite (no overflow warnings).
    xs = np.clip(x, -1.0, 1.0)
    z = xs * xs
    erf_small = xs * _polyval(_ERF_T, z) / _polyval(_ERF_U, z)
    a = np.clip(np.abs(x), 1.0, 27.0)  # erfc(27) underflows even float64
    ea = np.exp(-(a * a))
    tail = np.where(
        a < 8.0,
        ea * _polyval(_ERFC_P, a) / _polyval(_ERFC_Q, a),
        ea * _polyval(_ERFC_R, a) / _polyval(_ERFC_S, a),
    )  # erfc(|x|)
    small = np.abs(x) < 1.0
    erf_v = np.where(small, erf_small, np.where(x < 0, tail - 1.0, 1.0 - tail))
    erfc_v = np.where(small, 1.0 - erf_small, np.where(x < 0, 2.0 - tail, tail))
    return erf_v, erfc_v


def erf(x: Array) -> Array:
    """Vectorised error function (abs. error ~1e-16 in float64, ~1e-7 in float32)."""
    return _erf_and_erfc(x)[0]


def erfc(x: Array) -> Array:
    """Complementary error function, accurate in the far tail (GELU's negative side needs it)."""
    return _erf_and_erfc(x)[1]


# ---------------------------------------------------------------------------
# Activations
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Activation:
    """An elementwise (or last-axis) activation with its vector-Jacobian product.

    ``backward(x, y, grad_y)`` receives the forward output ``y`` so kernels whose
    derivative is cheapest in terms of the output (sigmoid, tanh, softmax, elu, ...)
    need not recompute it. The derivative at kinks follows TensorFlow's gradient
    kernels (e.g. relu'(0) = 0, relu6' is 0 at 0 and 6), not a mathematical choice.
    Outputs are fresh arrays except ``linear``, which returns its input (as Keras does).
    """

    name: str
    forward: Callable[[Array], Array]
    backward: Callable[[Array, Array, Array], Array]


def _sigmoid(x: Array) -> Array:
    x = _as_float(x)
    z = np.exp(-np.abs(x))  # never overflows
    d = 1.0 + z
    return np.where(x >= 0, 1.0 / d, z / d)


def _softplus(x: Array) -> Array:
    x = _as_float(x)
    return np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x)))


def _softmax(x: Array) -> Array:
    x = _as_float(x)
    e = np.exp(x - np.max(x, axis=-1, keepdims=True))
    e /= np.sum(e, axis=-1, keepdims=True)
    return e


def _log_softmax(x: Array) -> Array:
    x = _as_float(x)
    s = x - np.max(x, axis=-1, keepdims=True)
    s -= np.log(np.sum(np.exp(s), axis=-1, keepdims=True))
    return s


def _identity(x: Array) -> Array:
    return _as_float(x)


def _relu(x: Array) -> Array:
    return np.maximum(_as_float(x), 0.0)


def _relu6(x: Array) -> Array:
    return np.clip(_as_float(x), 0.0, 6.0)


def _elu(x: Array) -> Array:
    x = _as_float(x)
    return np.where(x > 0, x, np.expm1(np.minimum(x, 0.0)))


def _selu(x: Array) -> Array:
    x = _as_float(x)
    return np.where(x > 0, x * SELU_SCALE, np.expm1(np.minimum(x, 0.0)) * _SELU_SCALE_ALPHA)


def _softsign(x: Array) -> Array:
    x = _as_float(x)
    return x / (1.0 + np.abs(x))


def _swish(x: Array) -> Array:
    x = _as_float(x)
    return x * _sigmoid(x)


def _swish_grad(x: Array, y: Array, g: Array) -> Array:
    s = _sigmoid(x)
    return g * (s * (1.0 + x * (1.0 - s)))


def _gelu(x: Array) -> Array:
    x = _as_float(x)
    return 0.5 * x * erfc(-x * _INV_SQRT2)


def _gelu_grad(x: Array, y: Array, g: Array) -> Array:
    x = _as_float(x)
    d = 0.5 * erfc(-x * _INV_SQRT2) + x * np.exp(-0.5 * x * x) * _INV_SQRT_2PI
    return g * d


def _hard_sigmoid(x: Array) -> Array:
    # Keras 3: relu6(x + 3) / 6 (Keras 2 used 0.2 x + 0.5).
    return np.clip(_as_float(x) + 3.0, 0.0, 6.0) / 6.0


def _hard_sigmoid_grad(x: Array, y: Array, g: Array) -> Array:
    s = _as_float(x) + 3.0
    return np.where((s > 0) & (s < 6.0), g, 0.0) / 6.0


def _leaky_relu(x: Array) -> Array:
    x = _as_float(x)
    return np.where(x > 0, x, x * 0.2)


def _mish(x: Array) -> Array:
    x = _as_float(x)
    return x * np.tanh(_softplus(x))


def _mish_grad(x: Array, y: Array, g: Array) -> Array:
    x = _as_float(x)
    t = np.tanh(_softplus(x))
    return g * (t + x * (1.0 - t * t) * _sigmoid(x))


def _heaviside(x: Array) -> Array:
    x = _as_float(x)
    return (x >= 0).astype(x.dtype)


ACTIVATIONS: dict[str, Activation] = {
    a.name: a
    for a in (
        Activation("linear", _identity, lambda x, y, g: g),
        Activation("relu", _relu, lambda x, y, g: g * (x > 0)),  # = where(x > 0, g, 0), 2-3x faster
        Activation("sigmoid", _sigmoid, lambda x, y, g: g * y * (1.0 - y)),
        Activation("tanh", lambda x: np.tanh(_as_float(x)), lambda x, y, g: g * (1.0 - y * y)),
        Activation(
            "softmax", _softmax, lambda x, y, g: (g - np.sum(g * y, axis=-1, keepdims=True)) * y
        ),
        # elu/selu gradients branch on the output sign, as TF's EluGrad/SeluGrad do.
        Activation("elu", _elu, lambda x, y, g: np.where(y < 0, g * (y + 1.0), g)),
        Activation(
            "selu",
            _selu,
            lambda x, y, g: np.where(y < 0, g * (y + _SELU_SCALE_ALPHA), g * SELU_SCALE),
        ),
        Activation("softplus", _softplus, lambda x, y, g: g * _sigmoid(x)),
        Activation("softsign", _softsign, lambda x, y, g: g / np.square(1.0 + np.abs(x))),
        Activation("swish", _swish, _swish_grad),
        Activation("gelu", _gelu, _gelu_grad),
        Activation("exponential", lambda x: np.exp(_as_float(x)), lambda x, y, g: g * y),
        Activation("hard_sigmoid", _hard_sigmoid, _hard_sigmoid_grad),
        Activation("leaky_relu", _leaky_relu, lambda x, y, g: np.where(x > 0, g, g * 0.2)),
        Activation("relu6", _relu6, lambda x, y, g: np.where((x > 0) & (x < 6.0), g, 0.0)),
        Activation("mish", _mish, _mish_grad),
        Activation(
            "log_softmax",
            _log_softmax,
            lambda x, y, g: g - np.exp(y) * np.sum(g, axis=-1, keepdims=True),
        ),
        # Rosenblatt's step: not differentiable, so its "gradient" is defined as zero.
        Activation("heaviside", _heaviside, lambda x, y, g: np.zeros_like(g)),
    )
}

#: Alternative spellings accepted by ``keras.activations.get`` -> canonical name.
ACTIVATION_ALIASES: dict[str, str] = {"silu": "swish", "step": "heaviside"}


def get_activation(name: str | None) -> Activation:
    """Look up an activation by canonical name or alias (``None`` means linear, as in Keras)."""
    if name is None:
        return ACTIVATIONS["linear"]
    return _lookup(ACTIVATIONS, ACTIVATION_ALIASES, name, "activation")


def _lookup(registry: dict[str, Any], aliases: dict[str, str], name: str, kind: str) -> Any:
    key = aliases.get(name, name)
    try:
        return registry[key]
    except KeyError:
        known = ", ".join(sorted(set(registry) | set(aliases)))
        raise ValueError(f"unknown {kind} {name!r}; known: {known}") from None


# ---------------------------------------------------------------------------
# Losses
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Loss:
    """A Keras loss: unreduced values plus the gradient of their mean.

    ``value(y_true, y_pred)`` returns Keras's unreduced loss, shape ``y_pred.shape[:-1]``
    (``(batch,)`` for the usual 2-D predictions). ``grad`` is d/d``y_pred`` of
    ``value(...).mean()`` -- Keras's default ``"sum_over_batch_size"`` reduction -- with
    ``y_pred``'s shape. ``loss(y_true, y_pred)`` returns that mean.
    """

    name: str
    value: Callable[[Array, Array], Array]
    grad: Callable[[Array, Array], Array]

    def __call__(self, y_true: Array, y_pred: Array) -> np.floating:
        return np.mean(self.value(y_true, y_pred))


def _squeeze_or_expand(y_true: Array, y_pred: Array) -> tuple[Array, Array]:
    """keras.losses.loss.squeeze_or_expand_to_same_rank: fix a trailing size-1 rank mismatch."""
    rt, rp = y_true.ndim, y_pred.ndim
    if rt == rp + 1 and y_true.shape[-1] == 1:
        if rp == 1:
            y_pred = y_pred[..., None]
        else:
            y_true = y_true[..., 0]
    elif rp == rt + 1 and y_pred.shape[-1] == 1:
        if rt == 1:
            y_true = y_true[..., None]
        else:
            y_pred = y_pred[..., 0]
    return y_true, y_pred


def _prep(y_true: Any, y_pred: Any) -> tuple[Array, Array]:
    y_pred = _as_float(y_pred)
    y_true = np.asarray(y_true).astype(y_pred.dtype, copy=False)
    t, p = _squeeze_or_expand(y_true, y_pred)
    if t.shape != p.shape:
        raise ValueError(
            f"y_true shape {y_true.shape} is incompatible with y_pred shape {y_pred.shape}"
        )
    return t, p


def _elementwise_loss(
    name: str,
    elem: Callable[[Array, Array], Array],
    delem: Callable[[Array, Array], Array],
    scale: float = 1.0,
) -> Loss:
    """Build a Keras loss of the form ``scale * mean(elem(t, p), axis=-1)``."""

    def value(y_true: Array, y_pred: Array) -> Array:
        t, p = _prep(y_true, y_pred)
        out = np.mean(elem(t, p), axis=-1)
        return out * scale if scale != 1.0 else out

    def grad(y_true: Array, y_pred: Array) -> Array:
        t, p = _prep(y_true, y_pred)
        shape = np.shape(y_pred)
        # mean over the last axis, then over everything else == mean over all elements
        return (delem(t, p) * (scale / max(p.size, 1))).reshape(shape)

    return Loss(name, value, grad)


def _clip_probs(p: Array) -> tuple[Array, Array]:
    """``tf.clip_by_value(p, eps, 1 - eps)`` and its gradient mask (inclusive bounds)."""
    hi = 1.0 - EPSILON
    return np.clip(p, EPSILON, hi), (p >= EPSILON) & (p <= hi)


def _bce_elem(t: Array, p: Array) -> Array:
    pc, _ = _clip_probs(p)
    return -(t * np.log(pc) + (1.0 - t) * np.log(1.0 - pc))


def _bce_delem(t: Array, p: Array) -> Array:
    pc, inside = _clip_probs(p)
    return np.where(inside, (1.0 - t) / (1.0 - pc) - t / pc, 0.0)


def _huber_elem(t: Array, p: Array, delta: float = 1.0) -> Array:
    e = p - t
    a = np.abs(e)
    return np.where(a <= delta, 0.5 * np.square(e), delta * a - 0.5 * delta * delta)


def _huber_delem(t: Array, p: Array, delta: float = 1.0) -> Array:
    e = p - t
    return np.where(np.abs(e) <= delta, e, delta * np.sign(e))


def _msle_parts(t: Array, p: Array) -> tuple[Array, Array]:
    denom = np.maximum(p, EPSILON) + 1.0
    return np.log(denom) - np.log(np.maximum(t, EPSILON) + 1.0), denom


def _msle_delem(t: Array, p: Array) -> Array:
    diff, denom = _msle_parts(t, p)
    # tf.maximum passes the gradient to its first input where x >= y
    return np.where(p >= EPSILON, 2.0 * diff / denom, 0.0)


def _mape_delem(t: Array, p: Array) -> Array:
    m = np.maximum(np.abs(t), EPSILON)
    return np.sign((t - p) / m) * -1.0 / m


def _categorical_value(y_true: Array, y_pred: Array) -> Array:
    p = _as_float(y_pred)
    t = np.asarray(y_true).astype(p.dtype, copy=False)
    _check_same_shape(t, p)
    # Keras renormalises the probabilities before clipping (so rows need not sum to 1).
    q = p / np.sum(p, axis=-1, keepdims=True)
    qc, _ = _clip_probs(q)
    return -np.sum(t * np.log(qc), axis=-1)


def _categorical_grad(y_true: Array, y_pred: Array) -> Array:
    p = _as_float(y_pred)
    t = np.asarray(y_true).astype(p.dtype, copy=False)
    _check_same_shape(t, p)
    s = np.sum(p, axis=-1, keepdims=True)
    q = p / s
    qc, inside = _clip_probs(q)
    gq = np.where(inside, -t / qc, 0.0)
    gp = (gq - np.sum(gq * q, axis=-1, keepdims=True)) / s
    return gp * (1.0 / max(p.size // max(p.shape[-1], 1), 1))


def _sparse_labels(y_true: Any, y_pred: Array) -> Array:
    labels = np.asarray(y_true)
    if labels.ndim == y_pred.ndim and labels.shape[-1] == 1:
        labels = labels[..., 0]
    if labels.shape != y_pred.shape[:-1]:
        raise ValueError(
            f"sparse labels of shape {np.shape(y_true)} do not match predictions {y_pred.shape}"
        )
    labels = labels.astype(np.int64)
    n_classes = y_pred.shape[-1]
    if labels.size and (labels.min() < 0 or labels.max() >= n_classes):
        raise ValueError(
            f"sparse labels must lie in [0, {n_classes}); got {labels.min()}..{labels.max()}"
        )
    return labels


def _sparse_categorical_value(y_true: Array, y_pred: Array) -> Array:
    p = _as_float(y_pred)
    labels = _sparse_labels(y_true, p)
    pc, _ = _clip_probs(p)
    # Keras feeds log(clipped p) to sparse_softmax_cross_entropy_with_logits.
    return _sparse_logits_value(labels, np.log(pc))


def _sparse_categorical_grad(y_true: Array, y_pred: Array) -> Array:
    p = _as_float(y_pred)
    labels = _sparse_labels(y_true, p)
    pc, inside = _clip_probs(p)
    dz = _sparse_logits_dz(labels, np.log(pc))
    return np.where(inside, dz / pc, 0.0) * (1.0 / max(labels.size, 1))


def _sparse_logits_value(labels: Array, z: Array) -> Array:
    s = z - np.max(z, axis=-1, keepdims=True)
    lse = np.log(np.sum(np.exp(s), axis=-1))
    return lse - np.take_along_axis(s, labels[..., None], axis=-1)[..., 0]


def _sparse_logits_dz(labels: Array, z: Array) -> Array:
    """softmax(z) - onehot(labels): TF's fused backprop of the sparse xent kernel."""
    dz = _softmax(z)
    np.put_along_axis(
        dz, labels[..., None], np.take_along_axis(dz, labels[..., None], axis=-1) - 1.0, axis=-1
    )
    return dz


def _check_same_shape(t: Array, p: Array) -> None:
    if t.shape != p.shape:
        raise ValueError(f"y_true shape {t.shape} must equal y_pred shape {p.shape}")


LOSSES: dict[str, Loss] = {
    loss.name: loss
    for loss in (
        _elementwise_loss(
            "mean_squared_error", lambda t, p: np.square(t - p), lambda t, p: 2.0 * (p - t)
        ),
        _elementwise_loss(
            "mean_absolute_error", lambda t, p: np.abs(t - p), lambda t, p: np.sign(p - t)
        ),
        _elementwise_loss("binary_crossentropy", _bce_elem, _bce_delem),
        Loss("categorical_crossentropy", _categorical_value, _categorical_grad),
        Loss(
            "sparse_categorical_crossentropy", _sparse_categorical_value, _sparse_categorical_grad
        ),
        _elementwise_loss("huber", _huber_elem, _huber_delem),
        _elementwise_loss(
            "mean_squared_logarithmic_error",
            lambda t, p: np.square(_msle_parts(t, p)[0]),
            _msle_delem,
        ),
        _elementwise_loss(
            "mean_absolute_percentage_error",
            lambda t, p: np.abs((t - p) / np.maximum(np.abs(t), EPSILON)),
            _mape_delem,
            scale=100.0,
        ),
    )
}

#: Every string ``keras.losses.get`` accepts for the losses above -> canonical name.
LOSS_ALIASES: dict[str, str] = {
    "mse": "mean_squared_error",
    "MSE": "mean_squared_error",
    "MeanSquaredError": "mean_squared_error",
    "mae": "mean_absolute_error",
    "MAE": "mean_absolute_error",
    "MeanAbsoluteError": "mean_absolute_error",
    "mape": "mean_absolute_percentage_error",
    "MAPE": "mean_absolute_percentage_error",
    "MeanAbsolutePercentageError": "mean_absolute_percentage_error",
    "msle": "mean_squared_logarithmic_error",
    "MSLE": "mean_squared_logarithmic_error",
    "MeanSquaredLogarithmicError": "mean_squared_logarithmic_error",
    "bce": "binary_crossentropy",
    "BCE": "binary_crossentropy",
    "BinaryCrossentropy": "binary_crossentropy",
    "CategoricalCrossentropy": "categorical_crossentropy",
    "SparseCategoricalCrossentropy": "sparse_categorical_crossentropy",
    "Huber": "huber",
}


def _bce_logits_value(y_true: Array, y_pred: Array) -> Array:
    t, z = _prep(y_true, y_pred)
    return np.mean(np.maximum(z, 0.0) - z * t + np.log1p(np.exp(-np.abs(z))), axis=-1)


def _bce_logits_grad(y_true: Array, y_pred: Array) -> Array:
    t, z = _prep(y_true, y_pred)
    return ((_sigmoid(z) - t) * (1.0 / max(z.size, 1))).reshape(np.shape(y_pred))


def _cce_logits_value(y_true: Array, y_pred: Array) -> Array:
    z = _as_float(y_pred)
    t = np.asarray(y_true).astype(z.dtype, copy=False)
    _check_same_shape(t, z)
    return -np.sum(t * _log_softmax(z), axis=-1)


def _cce_logits_grad(y_true: Array, y_pred: Array) -> Array:
    z = _as_float(y_pred)
    t = np.asarray(y_true).astype(z.dtype, copy=False)
    _check_same_shape(t, z)
    # TF's fused kernel returns softmax - labels (exact only when labels sum to 1).
    return (_softmax(z) - t) * (1.0 / max(z.size // max(z.shape[-1], 1), 1))


def _scce_logits_value(y_true: Array, y_pred: Array) -> Array:
    z = _as_float(y_pred)
    return _sparse_logits_value(_sparse_labels(y_true, z), z)


def _scce_logits_grad(y_true: Array, y_pred: Array) -> Array:
    z = _as_float(y_pred)
    labels = _sparse_labels(y_true, z)
    return _sparse_logits_dz(labels, z) * (1.0 / max(labels.size, 1))


#: Crossentropies on logits (``from_logits=True``); gradients are w.r.t. the logits.
#: Keras-on-TF silently takes this path inside ``fit``/``evaluate`` (graph mode) when the
#: predictions come straight from a sigmoid/softmax activation, so no clipping happens there.
LOGIT_LOSSES: dict[str, Loss] = {
    "binary_crossentropy": Loss("binary_crossentropy", _bce_logits_value, _bce_logits_grad),
    "categorical_crossentropy": Loss(
        "categorical_crossentropy", _cce_logits_value, _cce_logits_grad
    ),
    "sparse_categorical_crossentropy": Loss(
        "sparse_categorical_crossentropy", _scce_logits_value, _scce_logits_grad
    ),
}


def get_loss(name: str, from_logits: bool = False) -> Loss:
    """Look up a loss by canonical name or Keras alias."""
    if from_logits:
        return _lookup(LOGIT_LOSSES, LOSS_ALIASES, name, "from_logits loss")
    return _lookup(LOSSES, LOSS_ALIASES, name, "loss")


# ---------------------------------------------------------------------------
# Metrics
# ---------------------------------------------------------------------------

Metric = Callable[[Array, Array], float]


def binary_accuracy(y_true: Array, y_pred: Array, threshold: float = 0.5) -> float:
    """Fraction of ``(y_pred > threshold) == y_true`` (strictly greater, as Keras)."""
    p = _as_float(y_pred)
    t = np.asarray(y_true)
    t, p = _squeeze_or_expand(t, p)
    return float(np.mean(t == (p > threshold).astype(t.dtype)))


def categorical_accuracy(y_true: Array, y_pred: Array) -> float:
    """Fraction of rows whose argmax agrees (first index wins ties, like tf.argmax)."""
    return float(np.mean(np.argmax(y_true, axis=-1) == np.argmax(y_pred, axis=-1)))


def sparse_categorical_accuracy(y_true: Array, y_pred: Array) -> float:
    """Fraction of integer labels equal to the argmax of the predictions."""
    p = np.asarray(y_pred)
    t = np.asarray(y_true)
    if t.ndim == p.ndim and t.shape[-1] == 1:
        t = t[..., 0]
    return float(np.mean(t == np.argmax(p, axis=-1)))


def _accuracy_kind(y_true_shape: Sequence[int], y_pred_shape: Sequence[int]) -> str:
    """keras.src.trainers.compile_utils.is_binary_or_sparse_categorical."""
    if y_pred_shape[-1] == 1:
        return "binary_accuracy"
    if len(y_true_shape) < len(y_pred_shape) or (y_true_shape[-1] == 1 and y_pred_shape[-1] > 1):
        return "sparse_categorical_accuracy"
    return "categorical_accuracy"


_ACCURACY_BY_LOSS = {
    "binary_crossentropy": "binary_accuracy",
    "categorical_crossentropy": "categorical_accuracy",
    "sparse_categorical_crossentropy": "sparse_categorical_accuracy",
}


def resolve_accuracy(
    loss_name: str | None,
    y_true_shape: Sequence[int] | None = None,
    y_pred_shape: Sequence[int] | None = None,
) -> str:
    """Which concrete accuracy ``metrics=["accuracy"]`` means.

    Keras 3 decides from the *shapes* of targets and predictions (predictions with one
    unit -> binary; integer targets of lower rank or width 1 -> sparse; else categorical),
    not from the loss. Give the shapes when known; without them the crossentropy loss
    is used as a proxy, which agrees with Keras for the usual label layouts.
    """
    if y_true_shape is not None and y_pred_shape is not None:
        return _accuracy_kind(tuple(y_true_shape), tuple(y_pred_shape))
    key = LOSS_ALIASES.get(loss_name, loss_name) if loss_name is not None else None
    if key in _ACCURACY_BY_LOSS:
        return _ACCURACY_BY_LOSS[key]
    raise ValueError(
        f"cannot tell which accuracy 'accuracy' means for loss {loss_name!r} without the "
        "shapes of y_true and y_pred (Keras resolves it from the shapes)"
    )


def accuracy(y_true: Array, y_pred: Array) -> float:
    """The ``"accuracy"`` string metric: dispatches on shapes exactly like ``model.compile``."""
    kind = _accuracy_kind(np.shape(y_true), np.shape(y_pred))
    return METRICS[kind](y_true, y_pred)


def _mean_metric(loss_name: str) -> Metric:
    loss = LOSSES[loss_name]

    def metric(y_true: Array, y_pred: Array) -> float:
        return float(loss(y_true, y_pred))

    metric.__name__ = loss_name
    return metric


def root_mean_squared_error(y_true: Array, y_pred: Array) -> float:
    """sqrt of the mean squared error over all elements (Keras's RootMeanSquaredError)."""
    t, p = _prep(y_true, y_pred)
    return float(np.sqrt(np.mean(np.square(p - t))))


METRICS: dict[str, Metric] = {
    "accuracy": accuracy,
    "binary_accuracy": binary_accuracy,
    "categorical_accuracy": categorical_accuracy,
    "sparse_categorical_accuracy": sparse_categorical_accuracy,
    "mean_squared_error": _mean_metric("mean_squared_error"),
    "mean_absolute_error": _mean_metric("mean_absolute_error"),
    "root_mean_squared_error": root_mean_squared_error,
    "mean_absolute_percentage_error": _mean_metric("mean_absolute_percentage_error"),
    "mean_squared_logarithmic_error": _mean_metric("mean_squared_logarithmic_error"),
    "binary_crossentropy": _mean_metric("binary_crossentropy"),
    "categorical_crossentropy": _mean_metric("categorical_crossentropy"),
    "sparse_categorical_crossentropy": _mean_metric("sparse_categorical_crossentropy"),
}

#: Strings ``keras.metrics.get`` / ``compile(metrics=...)`` accept -> canonical name.
METRIC_ALIASES: dict[str, str] = {
    "acc": "accuracy",
    "mse": "mean_squared_error",
    "MSE": "mean_squared_error",
    "mae": "mean_absolute_error",
    "MAE": "mean_absolute_error",
    "mape": "mean_absolute_percentage_error",
    "MAPE": "mean_absolute_percentage_error",
    "msle": "mean_squared_logarithmic_error",
    "MSLE": "mean_squared_logarithmic_error",
    "bce": "binary_crossentropy",
    "BCE": "binary_crossentropy",
}


def get_metric(name: str) -> Metric:
    """Look up a metric by canonical name or Keras alias."""
    return _lookup(METRICS, METRIC_ALIASES, name, "metric")


# ---------------------------------------------------------------------------
# Initializers
# ---------------------------------------------------------------------------

Initializer = Callable[..., Array]
_TRUNC_STD = 0.87962566103423978  # std of a unit normal truncated to [-2, 2]


def compute_fans(shape: Sequence[int]) -> tuple[int, int]:
    """Keras's fan rule: Dense (in, out) -> (in, out); conv (..., in, out) x receptive field."""
    shape = tuple(shape)
    if len(shape) < 1:
        return 1, 1
    if len(shape) == 1:
        return int(shape[0]), int(shape[0])
    if len(shape) == 2:
        return int(shape[0]), int(shape[1])
    receptive = math.prod(shape[:-2])
    return int(shape[-2] * receptive), int(shape[-1] * receptive)


def _sample_dtype(dtype: Any) -> type:
    """float32 targets sample in float32 (half the memory); anything else in float64."""
    return np.float32 if np.dtype(dtype) == np.float32 else np.float64


def _normal(
    shape: Sequence[int], rng: np.random.Generator, dtype: Any, stddev: float, truncated: bool
) -> Array:
    sdt = _sample_dtype(dtype)
    z = rng.standard_normal(tuple(shape), dtype=sdt)
    if truncated:  # re-draw anything beyond 2 std, like tf.random.truncated_normal
        bad = np.abs(z) > 2.0
        while bad.any():
            z[bad] = rng.standard_normal(int(bad.sum()), dtype=sdt)
            bad = np.abs(z) > 2.0
    z *= stddev
    return z.astype(dtype, copy=False)


def _uniform(shape: Sequence[int], rng: np.random.Generator, dtype: Any, limit: float) -> Array:
    u = rng.random(tuple(shape), dtype=_sample_dtype(dtype))
    u *= 2.0 * limit
    u -= limit
    return u.astype(dtype, copy=False)


def _variance_scaling(scale: float, mode: str, distribution: str) -> Initializer:
    def init(shape: Sequence[int], rng: np.random.Generator, dtype: Any = np.float32) -> Array:
        fan_in, fan_out = compute_fans(shape)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}[mode]
        s = scale / max(1.0, n)
        if distribution == "uniform":
            return _uniform(shape, rng, dtype, math.sqrt(3.0 * s))
        return _normal(shape, rng, dtype, math.sqrt(s) / _TRUNC_STD, truncated=True)

    return init


def _orthogonal(shape: Sequence[int], rng: np.random.Generator, dtype: Any = np.float32) -> Array:
    shape = tuple(shape)
    if len(shape) < 2:
        raise ValueError(f"orthogonal initializer needs a shape of rank >= 2, got {shape}")
    rows, cols = math.prod(shape[:-1]), shape[-1]
    a = rng.standard_normal((max(rows, cols), min(rows, cols)), dtype=_sample_dtype(dtype))
    q, r = np.linalg.qr(a)
    q *= np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    return q.reshape(shape).astype(dtype, copy=False)


INITIALIZERS: dict[str, Initializer] = {
    "glorot_uniform": _variance_scaling(1.0, "fan_avg", "uniform"),
    "glorot_normal": _variance_scaling(1.0, "fan_avg", "truncated_normal"),
    "he_normal": _variance_scaling(2.0, "fan_in", "truncated_normal"),
    "he_uniform": _variance_scaling(2.0, "fan_in", "uniform"),
    "lecun_normal": _variance_scaling(1.0, "fan_in", "truncated_normal"),
    "lecun_uniform": _variance_scaling(1.0, "fan_in", "uniform"),
    "zeros": lambda shape, rng=None, dtype=np.float32: np.zeros(tuple(shape), dtype=dtype),
    "ones": lambda shape, rng=None, dtype=np.float32: np.ones(tuple(shape), dtype=dtype),
    "random_normal": lambda shape, rng, dtype=np.float32: _normal(shape, rng, dtype, 0.05, False),
    "random_uniform": lambda shape, rng, dtype=np.float32: _uniform(shape, rng, dtype, 0.05),
    "truncated_normal": lambda shape, rng, dtype=np.float32: _normal(shape, rng, dtype, 0.05, True),
    "orthogonal": _orthogonal,
}

_INITIALIZER_ALIASES: dict[str, str] = {
    "GlorotUniform": "glorot_uniform",
    "GlorotNormal": "glorot_normal",
    "HeNormal": "he_normal",
    "HeUniform": "he_uniform",
    "LecunNormal": "lecun_normal",
    "LecunUniform": "lecun_uniform",
    "Zeros": "zeros",
    "zero": "zeros",
    "Ones": "ones",
    "one": "ones",
    "RandomNormal": "random_normal",
    "normal": "random_normal",
    "RandomUniform": "random_uniform",
    "uniform": "random_uniform",
    "TruncatedNormal": "truncated_normal",
    "Orthogonal": "orthogonal",
}


def get_initializer(name: str) -> Initializer:
    """Look up an initializer by canonical name or Keras alias."""
    return _lookup(INITIALIZERS, _INITIALIZER_ALIASES, name, "initializer")


# ---------------------------------------------------------------------------
# Optimizers
# ---------------------------------------------------------------------------


def _check_number(
    opt: str,
    name: str,
    value: Any,
    lo: float | None = None,
    hi: float | None = None,
    *,
    lo_open: bool = False,
    hi_open: bool = False,
) -> float:
    """Validate a hyper-parameter, naming the optimizer and the allowed range on failure."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"{opt}: {name} must be a number, got {value!r}")
    v = float(value)
    bad = not math.isfinite(v)
    bad = bad or (lo is not None and (v <= lo if lo_open else v < lo))
    bad = bad or (hi is not None and (v >= hi if hi_open else v > hi))
    if bad:
        lb = "(" if lo_open else "["
        rb = ")" if hi_open else "]"
        rng = f"{lb}{'-inf' if lo is None else lo}, {'inf' if hi is None else hi}{rb}"
        raise ValueError(f"{opt}: {name} must be in {rng}, got {value!r}")
    return v


class Optimizer:
    """Keras 3 optimizer semantics on NumPy arrays updated in place.

    ``step(params, grads)`` mirrors ``keras.optimizers.Optimizer.apply``: gradients are
    cast to each parameter's dtype, clipped (clipnorm / clipvalue / global_clipnorm),
    weight decay ``p -= p * wd * lr`` is applied, then the rule-specific update, and
    finally ``iterations`` (starting at 0) is incremented -- so update rules see
    ``t = iterations + 1`` on the first step, as Keras's do. Per-parameter slots are
    created on the first call and matched by position on later calls.
    """

    name: ClassVar[str] = "optimizer"

    def __init__(
        self,
        learning_rate: float,
        *,
        weight_decay: float | None = None,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
    ) -> None:
        self.learning_rate = learning_rate
        n = self.name
        self.weight_decay = (
            None if weight_decay is None else _check_number(n, "weight_decay", weight_decay, 0.0)
        )
        clips = {"clipnorm": clipnorm, "clipvalue": clipvalue, "global_clipnorm": global_clipnorm}
        if sum(v is not None for v in clips.values()) > 1:
            raise ValueError(f"{n}: only one of clipnorm, clipvalue and global_clipnorm can be set")
        for key, val in clips.items():
            setattr(
                self, key, None if val is None else _check_number(n, key, val, 0.0, lo_open=True)
            )
        self.iterations = 0
        self._slots: list[dict[str, Array]] | None = None
        self._shapes: list[tuple[tuple[int, ...], np.dtype]] = []

    @property
    def learning_rate(self) -> float:
        return self._learning_rate

    @learning_rate.setter
    def learning_rate(self, value: float) -> None:
        self._learning_rate = _check_number(self.name, "learning_rate", value, 0.0)

    @property
    def hyperparameters(self) -> dict[str, Any]:
        """The effective hyper-parameters, with the same keys as Keras's ``get_config``."""
        return {
            "learning_rate": self.learning_rate,
            **self._own_hyperparameters(),
            "weight_decay": self.weight_decay,
            "clipnorm": self.clipnorm,
            "clipvalue": self.clipvalue,
            "global_clipnorm": self.global_clipnorm,
        }

    def _own_hyperparameters(self) -> dict[str, Any]:
        return {}

    def reset(self) -> None:
        """Forget slots and the iteration counter (a freshly constructed optimizer)."""
        self.iterations = 0
        self._slots = None
        self._shapes = []

    def step(self, params: Sequence[Array], grads: Sequence[Array]) -> None:
        """Apply one update to ``params`` in place."""
        if not params and not grads:
            self.iterations += 1
            return
        if len(params) != len(grads):
            raise ValueError(
                f"{self.name}: got {len(params)} parameters but {len(grads)} gradients"
            )
        for i, p in enumerate(params):
            if not isinstance(p, np.ndarray) or not np.issubdtype(p.dtype, np.floating):
                raise TypeError(
                    f"{self.name}: parameter {i} must be a floating numpy array updated in place"
                )
        gs = [np.asarray(g).astype(p.dtype, copy=False) for p, g in zip(params, grads, strict=True)]
        for i, (p, g) in enumerate(zip(params, gs, strict=True)):
            if g.shape != p.shape:
                raise ValueError(
                    f"{self.name}: gradient {i} has shape {g.shape}, parameter has {p.shape}"
                )
        if self._slots is None:
            self._slots = [self._make_slots(p) for p in params]
            self._shapes = [(p.shape, p.dtype) for p in params]
        elif [(p.shape, p.dtype) for p in params] != self._shapes:
            raise ValueError(
                f"{self.name}: parameters changed since the first step "
                f"({self._shapes} -> {[(p.shape, p.dtype) for p in params]})"
            )
        gs = self._clip(gs)
        if self.weight_decay is not None:
            for p in params:
                dt = p.dtype.type
                p -= p * dt(self.weight_decay) * dt(self.learning_rate)
        self._before_updates(params)
        for p, g, slots in zip(params, gs, self._slots, strict=True):
            self._update(p, g, slots, p.dtype.type(self.learning_rate))
        self.iterations += 1

    def _clip(self, gs: list[Array]) -> list[Array]:
        if self.clipnorm:
            out = []
            for g in gs:
                norm = np.sqrt(np.sum(np.square(g)))
                out.append(g * self.clipnorm / np.maximum(norm, self.clipnorm))
            return out
        if self.global_clipnorm:
            norm = np.sqrt(np.sum(np.stack([np.sum(np.square(g)) for g in gs])))
            with np.errstate(divide="ignore"):
                scale = self.global_clipnorm * np.minimum(1.0 / norm, 1.0 / self.global_clipnorm)
            return [g * scale.astype(g.dtype) for g in gs]
        if self.clipvalue:
            return [np.clip(g, -self.clipvalue, self.clipvalue) for g in gs]
        return gs

    def _make_slots(self, p: Array) -> dict[str, Array]:
        return {}

    def _before_updates(self, params: Sequence[Array]) -> None:
        """Hook for per-step (not per-parameter) state, e.g. Nadam's momentum product."""

    def _update(self, p: Array, g: Array, slots: dict[str, Array], lr: np.floating) -> None:
        raise NotImplementedError


class SGD(Optimizer):
    """Keras 3 SGD: ``v = momentum*v - lr*g; p += v`` (nesterov: ``p += momentum*v - lr*g``)."""

    name = "sgd"

    def __init__(
        self,
        learning_rate: float = 0.01,
        momentum: float = 0.0,
        nesterov: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(learning_rate, **kwargs)
        self.momentum = _check_number(self.name, "momentum", momentum, 0.0, 1.0)
        if not isinstance(nesterov, (bool, np.bool_)):
            raise ValueError(f"sgd: nesterov must be a bool, got {nesterov!r}")
        self.nesterov = bool(nesterov)

    def _own_hyperparameters(self) -> dict[str, Any]:
        return {"momentum": self.momentum, "nesterov": self.nesterov}

    def _make_slots(self, p: Array) -> dict[str, Array]:
        return {"momentum": np.zeros_like(p)} if self.momentum != 0 else {}

    def _update(self, p: Array, g: Array, slots: dict[str, Array], lr: np.floating) -> None:
        if self.momentum == 0:
            p -= g * lr
            return
        mom = p.dtype.type(self.momentum)
        m = slots["momentum"]
        step = g * lr
        m *= mom
        m -= step
        if self.nesterov:
            inc = m * mom
            inc -= step
            p += inc
        else:
            p += m


class Adam(Optimizer):
    """Keras 3 Adam: bias correction folded into ``alpha``; epsilon added to ``sqrt(v)``."""

    name = "adam"

    def __init__(
        self,
        learning_rate: float = 0.001,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-7,
        amsgrad: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(learning_rate, **kwargs)
        self.beta_1 = _check_number(self.name, "beta_1", beta_1, 0.0, 1.0, hi_open=True)
        self.beta_2 = _check_number(self.name, "beta_2", beta_2, 0.0, 1.0, hi_open=True)
        self.epsilon = _check_number(self.name, "epsilon", epsilon, 0.0)
        if not isinstance(amsgrad, (bool, np.bool_)):
            raise ValueError(f"{self.name}: amsgrad must be a bool, got {amsgrad!r}")
        self.amsgrad = bool(amsgrad)

    def _own_hyperparameters(self) -> dict[str, Any]:
        return {
            "beta_1": self.beta_1,
            "beta_2": self.beta_2,
            "epsilon": self.epsilon,
            "amsgrad": self.amsgrad,
        }

    def _make_slots(self, p: Array) -> dict[str, Array]:
        slots = {"m": np.zeros_like(p), "v": np.zeros_like(p)}
        if self.amsgrad:
            slots["v_hat"] = np.zeros_like(p)
        return slots

    def _update(self, p: Array, g: Array, slots: dict[str, Array], lr: np.floating) -> None:
        dt = p.dtype.type
        t = dt(self.iterations + 1)
        b1p = np.power(dt(self.beta_1), t)
        b2p = np.power(dt(self.beta_2), t)
        alpha = lr * np.sqrt(1 - b2p) / (1 - b1p)
        m, v = slots["m"], slots["v"]
        m += (g - m) * (1 - self.beta_1)  # Python-float (1 - beta), as Keras
        v += (np.square(g) - v) * (1 - self.beta_2)
        if self.amsgrad:
            np.maximum(slots["v_hat"], v, out=slots["v_hat"])
            v = slots["v_hat"]
        denom = np.sqrt(v)
        denom += self.epsilon
        p -= (m * alpha) / denom


class AdamW(Adam):
    """Adam with decoupled weight decay (``p -= p * wd * lr`` before the Adam step)."""

    name = "adamw"

    def __init__(
        self,
        learning_rate: float = 0.001,
        weight_decay: float = 0.004,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-7,
        amsgrad: bool = False,
        **kwargs: Any,
    ) -> None:
        if weight_decay is None:
            raise ValueError("adamw: weight_decay must be a float, got None")
        super().__init__(
            learning_rate, beta_1, beta_2, epsilon, amsgrad, weight_decay=weight_decay, **kwargs
        )


class RMSprop(Optimizer):
    """Keras 3 RMSprop: epsilon goes *inside* the square root (unlike Adam)."""

    name = "rmsprop"

    def __init__(
        self,
        learning_rate: float = 0.001,
        rho: float = 0.9,
        momentum: float = 0.0,
        epsilon: float = 1e-7,
        centered: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(learning_rate, **kwargs)
        self.rho = _check_number(self.name, "rho", rho, 0.0, 1.0)
        self.momentum = _check_number(self.name, "momentum", momentum, 0.0, 1.0)
        self.epsilon = _check_number(self.name, "epsilon", epsilon, 0.0)
        if not isinstance(centered, (bool, np.bool_)):
            raise ValueError(f"rmsprop: centered must be a bool, got {centered!r}")
        self.centered = bool(centered)

    def _own_hyperparameters(self) -> dict[str, Any]:
        return {
            "rho": self.rho,
            "momentum": self.momentum,
            "epsilon": self.epsilon,
            "centered": self.centered,
        }

    def _make_slots(self, p: Array) -> dict[str, Array]:
        slots = {"velocity": np.zeros_like(p)}
        if self.momentum > 0:
            slots["momentum"] = np.zeros_like(p)
        if self.centered:
            slots["average_gradient"] = np.zeros_like(p)
        return slots

    def _update(self, p: Array, g: Array, slots: dict[str, Array], lr: np.floating) -> None:
        v = slots["velocity"]
        v *= self.rho
        v += (1 - self.rho) * np.square(g)
        if self.centered:
            ag = slots["average_gradient"]
            ag *= self.rho
            ag += (1 - self.rho) * g
            denom = v - np.square(ag)
            denom += self.epsilon
        else:
            denom = v + self.epsilon
        inc = (lr * g) / np.sqrt(denom)
        if self.momentum > 0:
            mom = slots["momentum"]
            mom *= self.momentum
            mom += inc
            p -= mom
        else:
            p -= inc


class Adagrad(Optimizer):
    """Keras 3 Adagrad: accumulator starts at 0.1; epsilon inside the square root."""

    name = "adagrad"

    def __init__(
        self,
        learning_rate: float = 0.001,
        initial_accumulator_value: float = 0.1,
        epsilon: float = 1e-7,
        **kwargs: Any,
    ) -> None:
        super().__init__(learning_rate, **kwargs)
        self.initial_accumulator_value = _check_number(
            self.name, "initial_accumulator_value", initial_accumulator_value, 0.0
        )
        self.epsilon = _check_number(self.name, "epsilon", epsilon, 0.0)

    def _own_hyperparameters(self) -> dict[str, Any]:
        return {
            "initial_accumulator_value": self.initial_accumulator_value,
            "epsilon": self.epsilon,
        }

    def _make_slots(self, p: Array) -> dict[str, Array]:
        return {"accumulator": np.full_like(p, self.initial_accumulator_value)}

    def _update(self, p: Array, g: Array, slots: dict[str, Array], lr: np.floating) -> None:
        acc = slots["accumulator"]
        acc += np.square(g)
        p -= (lr * g) / np.sqrt(acc + self.epsilon)


class Nadam(Optimizer):
    """Keras 3 Nadam (Dozat 2016 momentum schedule ``beta_1 * (1 - 0.5 * 0.96**t)``)."""

    name = "nadam"

    def __init__(
        self,
        learning_rate: float = 0.001,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-7,
        **kwargs: Any,
    ) -> None:
        super().__init__(learning_rate, **kwargs)
        self.beta_1 = _check_number(self.name, "beta_1", beta_1, 0.0, 1.0, hi_open=True)
        self.beta_2 = _check_number(self.name, "beta_2", beta_2, 0.0, 1.0, hi_open=True)
        self.epsilon = _check_number(self.name, "epsilon", epsilon, 0.0)
        self._u_product: np.floating | None = None

    def _own_hyperparameters(self) -> dict[str, Any]:
        return {"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon}

    def reset(self) -> None:
        super().reset()
        self._u_product = None

    def _make_slots(self, p: Array) -> dict[str, Array]:
        return {"m": np.zeros_like(p), "v": np.zeros_like(p)}

    def _before_updates(self, params: Sequence[Array]) -> None:
        dt = params[0].dtype.type if params else np.float32
        if self._u_product is None:
            self._u_product = dt(1.0)
        decay = np.power(dt(0.96), dt(self.iterations + 1))
        self._u_product = self._u_product * dt(self.beta_1) * (dt(1.0) - dt(0.5) * decay)

    def _update(self, p: Array, g: Array, slots: dict[str, Array], lr: np.floating) -> None:
        dt = p.dtype.type
        beta_1, beta_2, decay = dt(self.beta_1), dt(self.beta_2), dt(0.96)
        u_t = beta_1 * (1 - dt(0.5) * np.power(decay, dt(self.iterations + 1)))
        u_t_1 = beta_1 * (1 - dt(0.5) * np.power(decay, dt(self.iterations + 2)))
        u_prod = dt(self._u_product)
        u_prod_next = u_prod * u_t_1
        b2p = np.power(beta_2, dt(self.iterations + 1))
        m, v = slots["m"], slots["v"]
        m += (g - m) * (1 - beta_1)  # float32 (1 - beta): Nadam casts beta first, unlike Adam
        v += (np.square(g) - v) * (1 - beta_2)
        m_hat = (u_t_1 * m) / (1 - u_prod_next) + ((1 - u_t) * g) / (1 - u_prod)
        v_hat = v / (1 - b2p)
        p -= (m_hat * lr) / (np.sqrt(v_hat) + self.epsilon)


#: name -> optimizer class; ``OPTIMIZERS["adam"](learning_rate=1e-3, beta_1=0.9)``.
OPTIMIZERS: dict[str, type[Optimizer]] = {
    cls.name: cls for cls in (SGD, Adam, RMSprop, Adagrad, AdamW, Nadam)
}

_OPTIMIZER_ALIASES = {
    "SGD": "sgd",
    "Adam": "adam",
    "RMSprop": "rmsprop",
    "Adagrad": "adagrad",
    "AdamW": "adamw",
    "Nadam": "nadam",
}


def get_optimizer(name: str, **hyperparameters: Any) -> Optimizer:
    """Instantiate an optimizer by Keras name with Keras's defaults for anything not given."""
    return _lookup(OPTIMIZERS, _OPTIMIZER_ALIASES, name, "optimizer")(**hyperparameters)


# ---------------------------------------------------------------------------
# Rosenblatt perceptron
# ---------------------------------------------------------------------------


def perceptron_update(
    weights: Array,
    bias: Array,
    x_batch: Array,
    y_true: Array,
    y_pred: Array | None = None,
    eta: float = 1.0,
) -> int:
    """Rosenblatt's rule ``w += eta * (y - step(x.w + b)) * x``, updating ``weights``/``bias`` in place.

    Online (``y_pred=None``): samples are visited in order and each prediction uses the
    weights left by the previous sample -- the loop over samples is the algorithm, not an
    implementation shortcut. A sample counts as misclassified when ``(2y - 1) * a <= 0``
    for activation ``a``, i.e. ``a == 0`` is a mistake for *both* classes; that is
    scikit-learn's rule, so one call per epoch on the same data reproduces
    ``sklearn.linear_model.Perceptron(shuffle=False, eta0=eta, tol=None)`` exactly
    (``max_iter`` calls). Several output columns (weights ``(n_features, n_out)``, 0/1
    targets ``(batch, n_out)``) are trained independently, like sklearn's one-vs-rest.

    Batch (``y_pred`` given, 0/1 predictions made before the call): every sample's error
    ``y - y_pred`` is applied with those fixed predictions, i.e. the summed update.

    ``bias`` must be an ndarray (0-d, ``(1,)`` or ``(n_out,)``) so it can change in place.
    Returns the number of (sample, output) pairs that produced an update.
    """
    if not isinstance(bias, np.ndarray) or not isinstance(weights, np.ndarray):
        raise TypeError(
            "perceptron_update: weights and bias must be numpy arrays (updated in place)"
        )
    x = np.asarray(x_batch, dtype=weights.dtype)
    if x.ndim != 2 or x.shape[1] != weights.shape[0]:
        raise ValueError(
            f"perceptron_update: x_batch shape {x.shape} does not match weights {weights.shape}"
        )
    single = weights.ndim == 1
    w2 = weights[:, None] if single else weights  # views: updates reach the caller's arrays
    y = np.asarray(y_true, dtype=weights.dtype).reshape(x.shape[0], w2.shape[1])
    b = bias.reshape(w2.shape[1]) if bias.size == w2.shape[1] else None
    if b is None or not np.shares_memory(b, bias):
        raise ValueError(
            f"perceptron_update: bias of shape {bias.shape} must hold {w2.shape[1]} contiguous values"
        )
    eta_ = weights.dtype.type(eta)
    if y_pred is not None:
        err = y - np.asarray(y_pred, dtype=weights.dtype).reshape(y.shape)
        w2 += eta_ * (x.T @ err)
        b += eta_ * err.sum(axis=0)
        return int(np.count_nonzero(err))
    sign = 2 * y - 1  # {0, 1} -> {-1, +1}
    mistakes = 0
    for i in range(x.shape[0]):
        a = x[i] @ w2 + b
        wrong = sign[i] * a <= 0
        if wrong.any():
            upd = np.where(wrong, eta_ * sign[i], 0).astype(weights.dtype)
            w2 += np.outer(x[i], upd)
            b += upd
            mistakes += int(wrong.sum())
    return mistakes
