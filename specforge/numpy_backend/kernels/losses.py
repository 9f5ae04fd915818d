"""Loss kernels: Keras's unreduced losses and the gradient of their batch mean.

:data:`LOSSES` and :data:`LOGIT_LOSSES` are keyed by the vocabulary's canonical names;
aliases (``mse``) are resolved by the plugin registry before a lowering is looked up.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._arrays import Array, align_targets, as_float
from .activations import log_softmax, sigmoid, softmax

#: ``keras.config.epsilon()``: the fuzz factor used by crossentropy clipping, MAPE and MSLE.
EPSILON = 1e-7


@dataclass(frozen=True)
class LossKernel:
    """A Keras loss: unreduced values plus the gradient of their mean.

    ``value(y_true, y_pred)`` returns Keras's unreduced loss, shape ``y_pred.shape[:-1]``
    (``(batch,)`` for the usual 2-D predictions). ``grad`` is d/d``y_pred`` of
    ``value(...).mean()`` -- Keras's default ``"sum_over_batch_size"`` reduction -- with
    ``y_pred``'s shape. ``loss(y_true, y_pred)`` returns that mean.
    """

    name: str
    value: Callable[[Array, Array], Array]
    grad: Callable[[Array, Array], Array]
    #: ``(value, grad)`` in one pass where the two share their work (a training step
    #: needs both); None: ``value`` then ``grad``.
    fused: Callable[[Array, Array], tuple[Array, Array]] | None = None

    def __call__(self, y_true: Array, y_pred: Array) -> np.floating:
        return np.mean(self.value(y_true, y_pred))

    def value_and_grad(self, y_true: Array, y_pred: Array) -> tuple[Array, Array]:
        """The unreduced values and the gradient of their mean."""
        if self.fused is not None:
            return self.fused(y_true, y_pred)
        return self.value(y_true, y_pred), self.grad(y_true, y_pred)


def _elementwise_loss(
    name: str,
    elem: Callable[[Array, Array], Array],
    delem: Callable[[Array, Array], Array],
    scale: float = 1.0,
) -> LossKernel:
    """Build a Keras loss of the form ``scale * mean(elem(t, p), axis=-1)``."""

    def value(y_true: Array, y_pred: Array) -> Array:
        t, p = align_targets(y_true, y_pred)
        out = np.mean(elem(t, p), axis=-1)
        return out * scale if scale != 1.0 else out

    def grad(y_true: Array, y_pred: Array) -> Array:
        t, p = align_targets(y_true, y_pred)
        shape = np.shape(y_pred)
        # mean over the last axis, then over everything else == mean over all elements
        return (delem(t, p) * (scale / max(p.size, 1))).reshape(shape)

    return LossKernel(name, value, grad)


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
    p = as_float(y_pred)
    t = np.asarray(y_true).astype(p.dtype, copy=False)
    _check_same_shape(t, p)
    # Keras renormalises the probabilities before clipping (so rows need not sum to 1).
    q = p / np.sum(p, axis=-1, keepdims=True)
    qc, _ = _clip_probs(q)
    return -np.sum(t * np.log(qc), axis=-1)


def _categorical_grad(y_true: Array, y_pred: Array) -> Array:
    p = as_float(y_pred)
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
    p = as_float(y_pred)
    labels = _sparse_labels(y_true, p)
    pc, _ = _clip_probs(p)
    # Keras feeds log(clipped p) to sparse_softmax_cross_entropy_with_logits.
    return _sparse_logits_value(labels, np.log(pc))


def _sparse_categorical_grad(y_true: Array, y_pred: Array) -> Array:
    p = as_float(y_pred)
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
    dz = softmax(z)
    np.put_along_axis(
        dz, labels[..., None], np.take_along_axis(dz, labels[..., None], axis=-1) - 1.0, axis=-1
    )
    return dz


def _check_same_shape(t: Array, p: Array) -> None:
    if t.shape != p.shape:
        raise ValueError(f"y_true shape {t.shape} must equal y_pred shape {p.shape}")


#: canonical loss name -> kernel on probabilities (or values, for the regression losses).
LOSSES: dict[str, LossKernel] = {
    loss.name: loss
    for loss in (
        _elementwise_loss(
            "mean_squared_error", lambda t, p: np.square(t - p), lambda t, p: 2.0 * (p - t)
        ),
        _elementwise_loss(
            "mean_absolute_error", lambda t, p: np.abs(t - p), lambda t, p: np.sign(p - t)
        ),
        _elementwise_loss("binary_crossentropy", _bce_elem, _bce_delem),
        LossKernel("categorical_crossentropy", _categorical_value, _categorical_grad),
        LossKernel(
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


def _bce_logits_value(y_true: Array, y_pred: Array) -> Array:
    t, z = align_targets(y_true, y_pred)
    return np.mean(np.maximum(z, 0.0) - z * t + np.log1p(np.exp(-np.abs(z))), axis=-1)


def _bce_logits_grad(y_true: Array, y_pred: Array) -> Array:
    t, z = align_targets(y_true, y_pred)
    return ((sigmoid(z) - t) * (1.0 / max(z.size, 1))).reshape(np.shape(y_pred))


def _cce_logits_value(y_true: Array, y_pred: Array) -> Array:
    z = as_float(y_pred)
    t = np.asarray(y_true).astype(z.dtype, copy=False)
    _check_same_shape(t, z)
    return -np.sum(t * log_softmax(z), axis=-1)


def _cce_logits_grad(y_true: Array, y_pred: Array) -> Array:
    z = as_float(y_pred)
    t = np.asarray(y_true).astype(z.dtype, copy=False)
    _check_same_shape(t, z)
    # TF's fused kernel returns softmax - labels (exact only when labels sum to 1).
    return (softmax(z) - t) * (1.0 / max(z.size // max(z.shape[-1], 1), 1))


def _scce_logits_value(y_true: Array, y_pred: Array) -> Array:
    z = as_float(y_pred)
    return _sparse_logits_value(_sparse_labels(y_true, z), z)


def _scce_logits_grad(y_true: Array, y_pred: Array) -> Array:
    z = as_float(y_pred)
    labels = _sparse_labels(y_true, z)
    return _sparse_logits_dz(labels, z) * (1.0 / max(labels.size, 1))


def _scce_logits_both(y_true: Array, y_pred: Array) -> tuple[Array, Array]:
    """Value and gradient sharing one softmax: the classifier's step, once per batch."""
    z = as_float(y_pred)
    labels = _sparse_labels(y_true, z)[..., None]
    s = z - np.max(z, axis=-1, keepdims=True)
    e = np.exp(s)
    total = np.sum(e, axis=-1, keepdims=True)
    value = (np.log(total) - np.take_along_axis(s, labels, axis=-1))[..., 0]
    e /= total  # softmax(z)
    np.put_along_axis(e, labels, np.take_along_axis(e, labels, axis=-1) - 1.0, axis=-1)
    e *= 1.0 / max(labels.size, 1)
    return value, e


#: Crossentropies on logits (``from_logits=True``); gradients are w.r.t. the logits.
#: Keras-on-TF silently takes this path inside ``fit``/``evaluate`` (graph mode) when the
#: predictions come straight from a sigmoid/softmax activation, so no clipping happens there.
LOGIT_LOSSES: dict[str, LossKernel] = {
    "binary_crossentropy": LossKernel("binary_crossentropy", _bce_logits_value, _bce_logits_grad),
    "categorical_crossentropy": LossKernel(
        "categorical_crossentropy", _cce_logits_value, _cce_logits_grad
    ),
    "sparse_categorical_crossentropy": LossKernel(
        "sparse_categorical_crossentropy",
        _scce_logits_value,
        _scce_logits_grad,
        _scce_logits_both,
    ),
}
