"""Built-in plugin: the NumPy lowerings of the built-in names (activations, losses, ...).

Every name of the vocabulary tables (:mod:`specforge.default_plugins.vocabulary`)
is registered, minus :data:`UNSUPPORTED` (none: the NumPy reference lowers them
all). Each lowering is a small object naming a kernel of
:mod:`specforge.numpy_backend.kernels`; NumPy is imported when a model first
uses it, never when the plugin is loaded (``specforge validate`` loads every
plugin and must stay fast). The backend reads ``forward``, ``value``, ... once per
model, so the kernels' own functions run in the training loop.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from specforge.plugin import hookimpl

from .vocabulary import TABLES

SPECFORGE_API = 2

#: Names the NumPy backend has no lowering for.
UNSUPPORTED: dict[str, frozenset[str]] = {}

#: Activations after which a crossentropy is computed from logits (as Keras does).
LOGIT_ACTIVATIONS = frozenset({"sigmoid", "softmax"})
#: Losses whose targets are class indices (the vocabulary says which).
SPARSE_LOSSES = frozenset(loss.name for loss in TABLES["loss"] if loss.targets == "class_indices")


def _kernels() -> Any:
    from specforge.numpy_backend import kernels

    return kernels


class ActivationLowering:
    """``forward(x)``, ``backward(x, y, grad_y)``: the activation kernel ``kernel``."""

    def __init__(self, kernel: str, produces_logits: bool = False):
        self.kernel, self.produces_logits = kernel, produces_logits

    @property
    def forward(self) -> Callable[..., Any]:
        return _kernels().ACTIVATIONS[self.kernel].forward

    @property
    def backward(self) -> Callable[..., Any]:
        return _kernels().ACTIVATIONS[self.kernel].backward


class _LossKernel:
    """``value``, ``grad`` of the loss kernel ``name`` in the kernel table ``table``."""

    def __init__(self, table: str, name: str):
        self.table, self.name = table, name

    @property
    def value(self) -> Callable[..., Any]:
        return getattr(_kernels(), self.table)[self.name].value

    @property
    def grad(self) -> Callable[..., Any]:
        return getattr(_kernels(), self.table)[self.name].grad

    @property
    def value_and_grad(self) -> Callable[..., Any]:
        return getattr(_kernels(), self.table)[self.name].value_and_grad


class LossLowering(_LossKernel):
    """A loss kernel, its from-logits form (crossentropies) and whether targets are indices."""

    def __init__(self, name: str, sparse: bool = False):
        super().__init__("LOSSES", name)
        self.sparse = sparse

    @property
    def from_logits(self) -> _LossKernel | None:
        has = self.name in _kernels().LOGIT_LOSSES
        return _LossKernel("LOGIT_LOSSES", self.name) if has else None


class MetricLowering:
    """A batch-mean metric kernel; ``result`` maps the epoch's mean to the reported figure."""

    def __init__(self, name: str):
        self.name = name

    def __call__(self, y_true: Any, y_pred: Any) -> float:
        if self.name == "root_mean_squared_error":  # the mean of squares, rooted at the end
            return float(_kernels().LOSSES["mean_squared_error"](y_true, y_pred))
        return _kernels().METRICS[self.name](y_true, y_pred)

    def result(self, mean: float) -> float:
        if self.name == "root_mean_squared_error":
            return math.sqrt(max(mean, 0.0))
        return mean


class InitializerLowering:
    """``(shape, rng, dtype) -> ndarray``: the initializer kernel ``name``."""

    def __init__(self, name: str):
        self.name = name

    def __call__(self, shape: Any, rng: Any, dtype: Any) -> Any:
        return _kernels().INITIALIZERS[self.name](shape, rng, dtype)


class OptimizerFactory:
    """``(params) -> optimizer``: a new gradient optimizer kernel ``name``."""

    def __init__(self, name: str):
        self.name = name

    def __call__(self, params: dict[str, Any]) -> Any:
        return _kernels().OPTIMIZERS[self.name](**params)


def make_perceptron(params: dict[str, Any]) -> Any:
    """``(params) -> PerceptronRule``: Rosenblatt's rule, trained sample by sample."""
    from specforge.numpy_backend.perceptron import PerceptronRule

    return PerceptronRule(**params)


def lowering(kind: str, name: str) -> Any:
    """The NumPy lowering of the built-in ``kind`` ``name``."""
    if kind == "activation":
        return ActivationLowering(name, name in LOGIT_ACTIVATIONS)
    if kind == "loss":
        return LossLowering(name, name in SPARSE_LOSSES)
    if kind == "metric":
        return MetricLowering(name)
    if kind == "initializer":
        return InitializerLowering(name)
    if kind == "optimizer":
        return OptimizerFactory(name) if name != "perceptron" else make_perceptron
    raise ValueError(f"no built-in NumPy lowering of kind {kind!r}")


def names(kind: str) -> list[str]:
    """The built-in names of ``kind`` that this plugin lowers for NumPy."""
    return [item.name for item in TABLES[kind] if item.name not in UNSUPPORTED.get(kind, ())]


@hookimpl
def register_lowerings(register):
    for kind in TABLES:
        for name in names(kind):
            register("numpy", kind, name, lowering(kind, name))
