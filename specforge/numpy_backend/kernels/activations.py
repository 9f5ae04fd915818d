"""Activation kernels: each one's forward pass and vector-Jacobian product.

:data:`ACTIVATIONS` is keyed by the vocabulary's canonical names (``silu``, not its
alias ``swish``): the plugin registry resolves aliases before a lowering is looked
up, so this table is not a second name registry.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ._arrays import Array, as_float
from ._erf import erfc

#: Constants of ``tf.nn.selu`` (Klambauer et al., 2017).
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946
_SELU_SCALE_ALPHA = SELU_SCALE * SELU_ALPHA
_INV_SQRT2 = 0.7071067811865476  # the float32-cast constant tf.nn.gelu uses
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


@dataclass(frozen=True)
class ActivationKernel:
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


def sigmoid(x: Array) -> Array:
    """Logistic function, overflow-free on both sides (the crossentropies use it too)."""
    x = as_float(x)
    z = np.exp(-np.abs(x))  # never overflows
    d = 1.0 + z
    return np.where(x >= 0, 1.0 / d, z / d)


def _softplus(x: Array) -> Array:
    x = as_float(x)
    return np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x)))


def softmax(x: Array) -> Array:
    """Softmax over the last axis, shifted by the row maximum."""
    x = as_float(x)
    e = np.exp(x - np.max(x, axis=-1, keepdims=True))
    e /= np.sum(e, axis=-1, keepdims=True)
    return e


def log_softmax(x: Array) -> Array:
    """Log of the softmax over the last axis, without forming the softmax."""
    x = as_float(x)
    s = x - np.max(x, axis=-1, keepdims=True)
    s -= np.log(np.sum(np.exp(s), axis=-1, keepdims=True))
    return s


def _identity(x: Array) -> Array:
    return as_float(x)


def _relu(x: Array) -> Array:
    return np.maximum(as_float(x), 0.0)


def _relu6(x: Array) -> Array:
    return np.clip(as_float(x), 0.0, 6.0)


def _elu(x: Array) -> Array:
    x = as_float(x)
    return np.where(x > 0, x, np.expm1(np.minimum(x, 0.0)))


def _selu(x: Array) -> Array:
    x = as_float(x)
    return np.where(x > 0, x * SELU_SCALE, np.expm1(np.minimum(x, 0.0)) * _SELU_SCALE_ALPHA)


def _softsign(x: Array) -> Array:
    x = as_float(x)
    return x / (1.0 + np.abs(x))


def _silu(x: Array) -> Array:
    x = as_float(x)
    return x * sigmoid(x)


def _silu_grad(x: Array, y: Array, g: Array) -> Array:
    s = sigmoid(x)
    return g * (s * (1.0 + x * (1.0 - s)))


def _gelu(x: Array) -> Array:
    x = as_float(x)
    return 0.5 * x * erfc(-x * _INV_SQRT2)


def _gelu_grad(x: Array, y: Array, g: Array) -> Array:
    x = as_float(x)
    d = 0.5 * erfc(-x * _INV_SQRT2) + x * np.exp(-0.5 * x * x) * _INV_SQRT_2PI
    return g * d


def _hard_sigmoid(x: Array) -> Array:
    # Keras 3: relu6(x + 3) / 6 (Keras 2 used 0.2 x + 0.5).
    return np.clip(as_float(x) + 3.0, 0.0, 6.0) / 6.0


def _hard_sigmoid_grad(x: Array, y: Array, g: Array) -> Array:
    s = as_float(x) + 3.0
    return np.where((s > 0) & (s < 6.0), g, 0.0) / 6.0


def _leaky_relu(x: Array) -> Array:
    x = as_float(x)
    return np.where(x > 0, x, x * 0.2)


def _mish(x: Array) -> Array:
    x = as_float(x)
    return x * np.tanh(_softplus(x))


def _mish_grad(x: Array, y: Array, g: Array) -> Array:
    x = as_float(x)
    t = np.tanh(_softplus(x))
    return g * (t + x * (1.0 - t * t) * sigmoid(x))


def _heaviside(x: Array) -> Array:
    x = as_float(x)
    return (x >= 0).astype(x.dtype)


#: canonical activation name -> kernel; what the NumPy backend registers for each name.
ACTIVATIONS: dict[str, ActivationKernel] = {
    a.name: a
    for a in (
        ActivationKernel("linear", _identity, lambda x, y, g: g),
        ActivationKernel(
            "relu", _relu, lambda x, y, g: g * (x > 0)
        ),  # = where(x > 0, g, 0), 2-3x faster
        ActivationKernel("sigmoid", sigmoid, lambda x, y, g: g * y * (1.0 - y)),
        ActivationKernel("tanh", lambda x: np.tanh(as_float(x)), lambda x, y, g: g * (1.0 - y * y)),
        ActivationKernel(
            "softmax", softmax, lambda x, y, g: (g - np.sum(g * y, axis=-1, keepdims=True)) * y
        ),
        # elu/selu gradients branch on the output sign, as TF's EluGrad/SeluGrad do.
        ActivationKernel("elu", _elu, lambda x, y, g: np.where(y < 0, g * (y + 1.0), g)),
        ActivationKernel(
            "selu",
            _selu,
            lambda x, y, g: np.where(y < 0, g * (y + _SELU_SCALE_ALPHA), g * SELU_SCALE),
        ),
        ActivationKernel("softplus", _softplus, lambda x, y, g: g * sigmoid(x)),
        ActivationKernel("softsign", _softsign, lambda x, y, g: g / np.square(1.0 + np.abs(x))),
        ActivationKernel("silu", _silu, _silu_grad),
        ActivationKernel("gelu", _gelu, _gelu_grad),
        ActivationKernel("exponential", lambda x: np.exp(as_float(x)), lambda x, y, g: g * y),
        ActivationKernel("hard_sigmoid", _hard_sigmoid, _hard_sigmoid_grad),
        ActivationKernel("leaky_relu", _leaky_relu, lambda x, y, g: np.where(x > 0, g, g * 0.2)),
        ActivationKernel("relu6", _relu6, lambda x, y, g: np.where((x > 0) & (x < 6.0), g, 0.0)),
        ActivationKernel("mish", _mish, _mish_grad),
        ActivationKernel(
            "log_softmax",
            log_softmax,
            lambda x, y, g: g - np.exp(y) * np.sum(g, axis=-1, keepdims=True),
        ),
        # Rosenblatt's step: not differentiable, so its "gradient" is defined as zero.
        ActivationKernel("heaviside", _heaviside, lambda x, y, g: np.zeros_like(g)),
    )
}
