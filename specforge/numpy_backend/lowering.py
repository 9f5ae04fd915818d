"""The NumPy lowering contract: what a plugin registers to run its names on the NumPy backend.

Everything here is importable without NumPy (plugins subclass :class:`NodeLowering`
at import time, and ``specforge validate`` imports every plugin). The full guide,
with a worked Dropout / BatchNormalization example, is ``docs/numpy_backend.md``;
the contract shared by every backend is in ``docs/plugins.md``.

A plugin registers NumPy implementations through the ordinary hook::

    @hookimpl
    def register_lowerings(register):
        register("numpy", "node", "Dropout", DropoutLowering())
        register("numpy", "activation", "hard_tanh", HardTanh())

Kinds and what the implementation must be (``x``, ``y``, ``g`` are ndarrays, batch axis first):

``node``
    A :class:`NodeLowering` (any object with its methods; subclassing is optional);
    every method receives the :class:`NumpyContext` first.
``activation``
    An object with ``forward(x) -> y`` and ``backward(x, y, grad_y) -> grad_x`` (the
    vector-Jacobian product). Optional ``produces_logits = True`` (sigmoid, softmax):
    a crossentropy loss right after it is computed from the activation's input, as
    Keras does inside ``fit``/``evaluate``.
``loss``
    An object with ``value(y_true, y_pred) -> per-sample losses`` (shape
    ``y_pred.shape[:-1]``) and ``grad(y_true, y_pred)`` = d mean(value) / d y_pred.
    Optional ``from_logits``: the same loss computed from logits (used after an
    activation with ``produces_logits``); optional ``sparse = True``: targets are
    integer class indices (not cast to float).
``metric``
    A callable ``(y_true, y_pred) -> float``, the batch mean of a per-sample figure.
    Optional ``result(mean) -> float`` maps the sample-weighted mean over batches to
    the reported figure (``sqrt`` for root_mean_squared_error).
``optimizer``
    A factory ``(params: dict) -> optimizer`` (``params`` are the resolved
    ``optimizer`` keys without ``type``). The optimizer either has
    ``step(params, grads)`` updating the trainable arrays in place (a gradient
    optimizer), or ``train_step(model, x, y, values) -> None`` (a rule such as the
    perceptron's, called instead of backward/step with the targets and every
    value of the step's forward pass). Optional ``check(graph, registry) ->
    list[Diagnostic]``: reasons the graph cannot be trained by it, reported when
    the model is built; optional ``prepare_targets(output_shape, y, dtype) -> y``:
    applied to every target array before training or evaluation (the perceptron
    turns class indices into one-vs-rest rows).
``initializer``
    A callable ``(shape, rng, dtype) -> ndarray``.
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
