"""Numerical kernels of the NumPy reference backend, one module per family.

Every kernel reproduces what Keras 3 (TensorFlow backend) computes, including its
clipping constants, where-conditions at kinks and float32 rounding order, so that a
model run here agrees with the compiled Keras model to ~1e-5 relative in float32.
Nothing here imports Keras.

* :mod:`.activations` -- forward passes and vector-Jacobian products
* :mod:`.losses` -- unreduced losses, their gradients, and the from-logits forms
* :mod:`.metrics` -- batch metrics, ``"accuracy"`` resolved from shapes as Keras does
* :mod:`.initializers` -- weight distributions from a NumPy ``Generator``
* :mod:`.optimizers` -- Keras 3's sgd/adam/rmsprop update rules and the perceptron rule

Each family's table (``ACTIVATIONS``, ``LOSSES``, ``METRICS``, ``INITIALIZERS``,
``OPTIMIZERS``) maps the vocabulary's *canonical* names to kernels and is what
:mod:`specforge.numpy_backend.builtins` registers; aliases are resolved by the
plugin registry, never here.
"""

from __future__ import annotations

from ._erf import erf, erfc
from .activations import ACTIVATIONS, ActivationKernel
from .initializers import INITIALIZERS, InitializerKernel, compute_fans
from .losses import EPSILON, LOGIT_LOSSES, LOSSES, LossKernel
from .metrics import METRICS, MetricKernel
from .optimizers import OPTIMIZERS, SGD, Adam, GradientOptimizer, RMSprop, perceptron_update

__all__ = [
    "ACTIVATIONS",
    "EPSILON",
    "INITIALIZERS",
    "LOGIT_LOSSES",
    "LOSSES",
    "METRICS",
    "OPTIMIZERS",
    "SGD",
    "ActivationKernel",
    "Adam",
    "GradientOptimizer",
    "InitializerKernel",
    "LossKernel",
    "MetricKernel",
    "RMSprop",
    "compute_fans",
    "erf",
    "erfc",
    "perceptron_update",
]
