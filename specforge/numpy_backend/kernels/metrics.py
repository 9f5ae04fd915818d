"""Metric kernels: batch figures under Keras's string-metric semantics.

:data:`METRICS` is keyed by the vocabulary's canonical metric names (the plugin
registry resolves aliases such as ``acc`` or ``mse`` before a lowering is looked up).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from ._arrays import Array, align_targets, as_float, squeeze_or_expand
from .losses import LOSSES

#: ``(y_true, y_pred) -> float``: the metric's figure for one batch.
MetricKernel = Callable[[Array, Array], float]


def binary_accuracy(y_true: Array, y_pred: Array, threshold: float = 0.5) -> float:
    """Fraction of ``(y_pred > threshold) == y_true`` (strictly greater, as Keras)."""
    p = as_float(y_pred)
    t = np.asarray(y_true)
    t, p = squeeze_or_expand(t, p)
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


def accuracy_kind(y_true_shape: Sequence[int], y_pred_shape: Sequence[int]) -> str:
    """Which concrete accuracy ``"accuracy"`` means for these shapes, decided as Keras 3 does.

    keras.src.trainers.compile_utils.is_binary_or_sparse_categorical: predictions with
    one unit -> binary; targets of lower rank or width 1 -> sparse; else categorical.
    """
    if y_pred_shape[-1] == 1:
        return "binary_accuracy"
    if len(y_true_shape) < len(y_pred_shape) or (y_true_shape[-1] == 1 and y_pred_shape[-1] > 1):
        return "sparse_categorical_accuracy"
    return "categorical_accuracy"


def accuracy(y_true: Array, y_pred: Array) -> float:
    """The ``"accuracy"`` string metric: dispatches on shapes exactly like ``model.compile``."""
    kind = accuracy_kind(np.shape(y_true), np.shape(y_pred))
    return METRICS[kind](y_true, y_pred)


def _mean_metric(loss_name: str) -> MetricKernel:
    loss = LOSSES[loss_name]

    def metric(y_true: Array, y_pred: Array) -> float:
        return float(loss(y_true, y_pred))

    metric.__name__ = loss_name
    return metric


def root_mean_squared_error(y_true: Array, y_pred: Array) -> float:
    """sqrt of the mean squared error over all elements (Keras's RootMeanSquaredError)."""
    t, p = align_targets(y_true, y_pred)
    return float(np.sqrt(np.mean(np.square(p - t))))


#: canonical metric name -> kernel; what the NumPy backend registers for each name.
METRICS: dict[str, MetricKernel] = {
    "accuracy": accuracy,
    "binary_accuracy": binary_accuracy,
    "categorical_accuracy": categorical_accuracy,
    "sparse_categorical_accuracy": sparse_categorical_accuracy,
    "mean_squared_error": _mean_metric("mean_squared_error"),
    "mean_absolute_error": _mean_metric("mean_absolute_error"),
    "root_mean_squared_error": root_mean_squared_error,
    "mean_absolute_percentage_error": _mean_metric("mean_absolute_percentage_error"),
}
