"""The NumPy lowering contract: what a plugin registers to run its names on the NumPy backend.

Everything here is importable without NumPy (plugins subclass :class:`NodeLowering`
at import time, and ``specforge validate`` imports every plugin). The full guide,
with a worked Dropout / BatchNormalization example, is ``docs/numpy_backend.md``.

A plugin registers NumPy implementations through the ordinary hook::

    @hookimpl
    def register_lowerings(register):
        register("numpy", "node", "Dropout", DropoutLowering())
        register("numpy", "activation", "hard_tanh", HardTanh())

Kinds and what the implementation must be (``x``, ``y``, ``g`` are ndarrays, batch axis first):

``node``
    A :class:`NodeLowering` (any object with its methods; subclassing is optional).
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

import contextlib
import contextvars
from collections.abc import Iterator, Sequence
from typing import Any, ClassVar

BACKEND = "numpy"

__all__ = [
    "BACKEND",
    "NodeLowering",
    "lookup",
    "using_registry",
]


class NodeLowering:
    """How the NumPy backend runs one node type. Register one instance per node type.

    The methods receive the :class:`specforge.ir.GraphNode` (``node.params``,
    ``node.input_shapes``, ``node.output_shape``, ``node.name``) and never keep
    per-model state on ``self``: one instance serves every node of its type in
    every model. Weights are a list of arrays in Keras's order for the layer
    (Dense: kernel ``(in, units)``, bias ``(units,)``; BatchNormalization: gamma,
    beta, moving_mean, moving_variance); the backend owns them, casts them to the
    model's dtype and passes the same list objects to every call.

    Required:

    * ``init(node, rng) -> list[np.ndarray]``: fresh weights, drawn from ``rng``
      (a ``numpy.random.Generator``), trainable and non-trainable alike.
    * ``forward(node, weights, inputs, training) -> (output, cache)``: ``inputs``
      is a list of arrays (batch axis first) in the order of ``node.inputs``;
      ``training`` is True inside ``fit`` and the train step, False in
      ``evaluate``/``predict``. ``cache`` is anything ``backward`` needs.
    * ``backward(node, weights, cache, grad_output) -> (grad_inputs, grad_weights)``:
      ``grad_output`` is d loss / d output (same shape as the output);
      ``grad_inputs`` is a list with one entry per input, ``grad_weights`` one per
      weight, ``None`` for non-trainable weights. Gradients are of the *batch-mean*
      loss already (the backend scales nothing).

    Optional:

    * ``trainable(node) -> list[bool]``: one flag per weight (default: all True).
      Non-trainable weights are saved, loaded and transferred with the others
      but never touched by the optimizer.
    * ``update_state(node, weights, cache) -> None``: called once per training
      step, after ``backward`` and before the optimizer's update, with the cache
      of that step's ``forward(..., training=True)``; updates non-trainable
      weights **in place** (``weights[2][...] = ...``), e.g. moving averages.
      ``forward`` itself must not modify weights (gradient checks call it many
      times).
    * keyword ``rng`` on ``forward``: if its signature accepts ``rng``, the
      backend passes a ``numpy.random.Generator`` seeded from the model's seed
      (``fit``'s seed when given), for stochastic layers such as Dropout.
    * keyword ``needs_input_grad`` on ``backward``: if accepted, a tuple of bools,
      one per input; where False the backend discards that gradient and the
      lowering may return ``None`` instead of computing it.
    * ``applies_activation = True``: by default, when the node's params have an
      ``activation`` field, the *backend* applies that activation to the
      lowering's output (so ``forward`` returns the pre-activation and
      ``backward`` receives its gradient; the backend also fuses a following
      crossentropy with softmax/sigmoid like Keras). Set this to True to apply
      it yourself (use :func:`lookup` to find it).
    """

    applies_activation: ClassVar[bool] = False

    def init(self, node: Any, rng: Any) -> list[Any]:
        return []

    def trainable(self, node: Any) -> list[bool]:
        raise NotImplementedError  # the backend treats a missing method as "all trainable"

    def forward(
        self, node: Any, weights: Sequence[Any], inputs: Sequence[Any], training: bool
    ) -> tuple[Any, Any]:
        raise NotImplementedError

    def backward(
        self, node: Any, weights: Sequence[Any], cache: Any, grad_output: Any
    ) -> tuple[list[Any], list[Any]]:
        raise NotImplementedError


_REGISTRY: contextvars.ContextVar[Any] = contextvars.ContextVar(
    "specforge_numpy_registry", default=None
)


@contextlib.contextmanager
def using_registry(registry: Any) -> Iterator[None]:
    """Make :func:`lookup` resolve against ``registry`` (the backend does this while building)."""
    token = _REGISTRY.set(registry)
    try:
        yield
    finally:
        _REGISTRY.reset(token)


def lookup(kind: str, name: str) -> Any:
    """The NumPy lowering of ``kind`` (activation, initializer, ...) for ``name``.

    Aliases are normalised through the registry. Resolves against the registry the
    model is being built with (the process-wide one otherwise). Raises ``KeyError``
    naming what is missing.
    """
    registry = _REGISTRY.get()
    if registry is None:
        from ..registry import get_registry

        registry = get_registry()
    vocab_kind = {"node": "node_type"}.get(kind, kind)
    canonical = registry.canonical(vocab_kind, name) if vocab_kind in registry.items else None
    impl = registry.lowering(BACKEND, kind, canonical or name)
    if impl is None:
        raise KeyError(f"the numpy backend has no {kind} '{name}'")
    return impl
