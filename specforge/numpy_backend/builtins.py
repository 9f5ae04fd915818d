"""The NumPy lowerings of the built-in vocabulary: node types, activations, losses, ...

``LOWERINGS[kind][name]`` is what :mod:`specforge.default_plugins.numpy_backend`
registers (through lazy proxies, so that loading the plugin does not import NumPy).
Names are the vocabulary's canonical names; the numerical work is in
:mod:`specforge.numpy_backend.kernels`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..default_plugins import numpy_backend as _plugin
from . import kernels
from .lowering import NodeLowering, lookup

Array = np.ndarray


# ---------------------------------------------------------------- node types


class DenseLowering(NodeLowering):
    """``x @ kernel + bias`` on the last axis; weights ``[kernel (in, units), bias (units,)]``.

    Returns the pre-activation: the backend applies ``params.activation``.
    """

    def init(self, node: Any, rng: np.random.Generator) -> list[Array]:
        p = node.params
        fan_in = node.input_shapes[0][-1]
        weights = [lookup("initializer", p.kernel_initializer)((fan_in, p.units), rng, np.float32)]
        if p.use_bias:
            weights.append(lookup("initializer", p.bias_initializer)((p.units,), rng, np.float32))
        return weights

    def trainable(self, node: Any) -> list[bool]:
        return [True, True] if node.params.use_bias else [True]

    def forward(
        self, node: Any, weights: Sequence[Array], inputs: Sequence[Array], training: bool
    ) -> tuple[Array, Any]:
        x = inputs[0]
        z = x @ weights[0]
        if len(weights) > 1:
            z += weights[1]
        return z, x

    def backward(
        self,
        node: Any,
        weights: Sequence[Array],
        cache: Any,
        grad_output: Array,
        needs_input_grad: Sequence[bool] = (True,),
    ) -> tuple[list[Array | None], list[Array | None]]:
        x, g = cache, grad_output
        if x.ndim == 2:
            grads: list[Array | None] = [x.T @ g]
            if len(weights) > 1:
                grads.append(g.sum(axis=0))
        else:  # Dense on the last axis of a rank > 2 input
            x2 = x.reshape(-1, x.shape[-1])
            g2 = g.reshape(-1, g.shape[-1])
            grads = [x2.T @ g2]
            if len(weights) > 1:
                grads.append(g2.sum(axis=0))
        grad_x = g @ weights[0].T if needs_input_grad[0] else None
        return [grad_x], grads


class FlattenLowering(NodeLowering):
    """Reshape each sample to one axis (a view, no copy)."""

    def forward(
        self, node: Any, weights: Sequence[Array], inputs: Sequence[Array], training: bool
    ) -> tuple[Array, Any]:
        x = inputs[0]
        return x.reshape(x.shape[0], -1), x.shape

    def backward(
        self, node: Any, weights: Sequence[Array], cache: Any, grad_output: Array
    ) -> tuple[list[Array], list[Any]]:
        return [grad_output.reshape(cache)], []


class ConcatenateLowering(NodeLowering):
    """Join the inputs on ``params.axis`` (Keras's numbering: 1 is the first axis after the batch)."""

    def forward(
        self, node: Any, weights: Sequence[Array], inputs: Sequence[Array], training: bool
    ) -> tuple[Array, Any]:
        axis = node.params.axis
        return np.concatenate(inputs, axis=axis), [x.shape[axis] for x in inputs]

    def backward(
        self,
        node: Any,
        weights: Sequence[Array],
        cache: Any,
        grad_output: Array,
        needs_input_grad: Sequence[bool] | None = None,
    ) -> tuple[list[Array | None], list[Any]]:
        axis = node.params.axis
        cuts = np.cumsum(cache[:-1])
        parts = np.split(grad_output, cuts, axis=axis)
        return list(parts), []


# ---------------------------------------------------------------- activations, losses, metrics


@dataclass(frozen=True)
class ActivationLowering:
    """An activation kernel plus whether a following crossentropy is fused with it (Keras)."""

    kernel: kernels.ActivationKernel
    produces_logits: bool = False

    @property
    def forward(self) -> Callable[[Array], Array]:
        return self.kernel.forward

    @property
    def backward(self) -> Callable[[Array, Array, Array], Array]:
        return self.kernel.backward


@dataclass(frozen=True)
class LossLowering:
    """A loss kernel, its from-logits form (crossentropies) and whether targets are indices."""

    kernel: kernels.LossKernel
    from_logits: kernels.LossKernel | None = None
    sparse: bool = False

    @property
    def value(self) -> Callable[[Array, Array], Array]:
        return self.kernel.value

    @property
    def grad(self) -> Callable[[Array, Array], Array]:
        return self.kernel.grad


@dataclass(frozen=True)
class MetricLowering:
    """A batch-mean metric; ``result`` maps the epoch's mean to the reported figure."""

    fn: Callable[[Array, Array], float]
    finalize: Callable[[float], float] | None = None

    def __call__(self, y_true: Array, y_pred: Array) -> float:
        return self.fn(y_true, y_pred)

    def result(self, mean: float) -> float:
        return self.finalize(mean) if self.finalize is not None else mean


def _sqrt(value: float) -> float:
    return float(np.sqrt(max(value, 0.0)))


def _mse_batch(y_true: Array, y_pred: Array) -> float:
    return float(kernels.LOSSES["mean_squared_error"](y_true, y_pred))


# ---------------------------------------------------------------- optimizers


def _gradient_optimizer(
    cls: type[kernels.GradientOptimizer],
) -> Callable[[dict[str, Any]], kernels.GradientOptimizer]:
    def factory(params: dict[str, Any]) -> kernels.GradientOptimizer:
        return cls(**params)

    factory.__name__ = f"make_{cls.name}"
    return factory


def _make_perceptron(params: dict[str, Any]) -> Any:
    from .perceptron import PerceptronRule

    return PerceptronRule(**params)


# ---------------------------------------------------------------- the tables

_LOGIT_ACTIVATIONS = {"sigmoid", "softmax"}

ACTIVATION_NAMES = _plugin.ACTIVATIONS
LOSS_NAMES = _plugin.LOSSES
METRIC_NAMES = _plugin.METRICS
INITIALIZER_NAMES = _plugin.INITIALIZERS


def _metric(name: str) -> MetricLowering:
    if name == "root_mean_squared_error":
        return MetricLowering(_mse_batch, _sqrt)
    return MetricLowering(kernels.METRICS[name])


LOWERINGS: dict[str, dict[str, Any]] = {
    "node": {
        "Dense": DenseLowering(),
        "Flatten": FlattenLowering(),
        "Concatenate": ConcatenateLowering(),
    },
    "activation": {
        name: ActivationLowering(kernels.ACTIVATIONS[name], name in _LOGIT_ACTIVATIONS)
        for name in ACTIVATION_NAMES
    },
    "loss": {
        name: LossLowering(
            kernels.LOSSES[name],
            kernels.LOGIT_LOSSES.get(name),
            name == "sparse_categorical_crossentropy",
        )
        for name in LOSS_NAMES
    },
    "metric": {name: _metric(name) for name in METRIC_NAMES},
    "optimizer": {
        **{name: _gradient_optimizer(cls) for name, cls in kernels.OPTIMIZERS.items()},
        "perceptron": _make_perceptron,
    },
    "initializer": {name: kernels.INITIALIZERS[name] for name in INITIALIZER_NAMES},
}
