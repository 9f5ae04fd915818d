"""The NumPy backend's side of the lowering contract: its context, and the API-1 ``lookup``.

Importable without NumPy (plugins import the contract at import time, and
``specforge validate`` imports every plugin). What a plugin registers for each
kind (``register("numpy", "node", "Dropout", DropoutLowering())``) is described
once, for every backend, in ``docs/plugins.md`` ("The lowering contract");
:class:`NodeLowering` is the node contract's base class.
"""

from __future__ import annotations

from typing import Any

from ..compat import legacy_context
from ..lowering import LoweringContext, NodeLowering

BACKEND = "numpy"

__all__ = [
    "BACKEND",
    "NodeLowering",
    "NumpyContext",
    "lookup",
]


class NumpyContext(LoweringContext):
    """The NumPy backend's :class:`~specforge.lowering.LoweringContext`.

    Its helpers return the NumPy lowerings of other names in the registry in use
    (aliases normalised), e.g. ``ctx.initializer(p.kernel_initializer)((fan_in, units), rng, dtype)``.
    A missing one raises ``KeyError`` naming it.
    """

    label = "NumPy"

    def __init__(self, registry: Any, backend: str = BACKEND):
        super().__init__(registry, backend)

    def missing(self, kind: str, name: str) -> Exception:
        return KeyError(f"the numpy backend has no {kind} '{name}'")

    def activation(self, name: str) -> Any:
        """The activation lowering (``forward(x)``, ``backward(x, y, grad_y)``) of ``name``."""
        return self.lowering("activation", name)

    def initializer(self, name: str) -> Any:
        """The initializer ``(shape, rng, dtype) -> ndarray`` of ``name``."""
        return self.lowering("initializer", name)

    def loss(self, name: str) -> Any:
        """The loss lowering (``value``, ``grad``, optional ``from_logits``/``sparse``) of ``name``."""
        return self.lowering("loss", name)

    def metric(self, name: str) -> Any:
        """The metric ``(y_true, y_pred) -> float`` (optional ``result(mean)``) of ``name``."""
        return self.lowering("metric", name)


def lookup(kind: str, name: str) -> Any:
    """Plugin API 1: the NumPy lowering of ``kind`` for ``name``, inside an API-1 lowering only.

    API-2 lowerings call ``ctx.lowering(kind, name)`` (or ``ctx.activation(name)``, ...)
    on the context they receive. Raises ``KeyError`` naming what is missing.
    """
    ctx = legacy_context("specforge.numpy_backend.lookup")
    return NumpyContext(ctx.registry).lowering(kind, name)
