"""The lowering contract every backend shares: what a lowering receives, and how it refuses.

A backend lowers a resolved graph by calling the lowerings registered for it
(``register_lowerings``). Node lowerings and import rules receive a
:class:`LoweringContext` as their first argument: the registry the model is
built with and the backend's name, plus the backend's helpers (the Keras
backend's ``ctx.activation(name)``, the NumPy backend's ``ctx.initializer(name)``).
Nothing is looked up in a process-wide registry, so a model built with a custom
registry (``specforge.build(..., registry=reg)``, ``train(..., registry=reg)``)
sees that registry's plugins everywhere.

:class:`NodeLowering` is the NumPy backend's node contract; it lives here, free
of NumPy and of any backend module, so that ``specforge.plugin`` can export it.
The guide to every kind of lowering is ``docs/plugins.md``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:  # pragma: no cover
    from .registry import Registry

#: Lowering kind -> the registry kind whose names it lowers (the rest are the same).
VOCABULARY_KIND = {"node": "node_type"}


class Unsupported(ValueError):
    """A name or setting a backend cannot lower (or an import rule cannot import).

    Raise it from a lowering for a parameter combination the framework cannot do;
    the backend reports it as a diagnostic naming the node, not as a traceback.
    """


class LoweringContext:
    """What every node lowering and import rule receives first.

    :ivar registry: the registry the model is built with (its plugins, its aliases).
    :ivar backend: the name of the backend lowering the graph (``keras``, ``numpy``).

    Backends subclass it to add their helpers; a lowering uses only the helpers
    its backend documents.
    """

    #: What a backend calls itself in messages ("Keras", "NumPy").
    label: ClassVar[str] = ""

    def __init__(self, registry: Registry, backend: str):
        self.registry = registry
        self.backend = backend

    def canonical(self, kind: str, name: str) -> str:
        """``name`` with aliases normalised (``mse`` -> ``mean_squared_error``); unknown names as given."""
        vocab = VOCABULARY_KIND.get(kind, kind)
        if vocab in self.registry.items:
            return self.registry.canonical(vocab, name) or name
        return name

    def find(self, kind: str, name: str) -> Any:
        """This backend's lowering of ``kind`` for ``name`` (aliases normalised), or None."""
        return self.registry.lowering(self.backend, kind, self.canonical(kind, name))

    def lowering(self, kind: str, name: str) -> Any:
        """Like :meth:`find`, but a missing lowering raises :meth:`missing`'s exception."""
        impl = self.find(kind, name)
        if impl is None:
            raise self.missing(kind, name)
        return impl

    def missing(self, kind: str, name: str) -> Exception:
        """The exception for a name without a lowering (a backend may raise its own kind)."""
        return Unsupported(f"{kind} '{name}' has no {self.label or self.backend} lowering")

    def owner(self, kind: str, name: str) -> str:
        """The plugin that registered this backend's lowering of ``kind`` ``name`` ("?" if none)."""
        return self.registry.owner.get(("lowering", f"{self.backend}:{kind}:{name}"), "?")

    def __repr__(self) -> str:
        return f"{type(self).__name__}(backend={self.backend!r})"


class NodeLowering:
    """How the NumPy backend runs one node type. Register one instance per node type.

    Every method receives the :class:`LoweringContext` first (``ctx.activation(name)``,
    ``ctx.initializer(name)`` look up the NumPy lowerings of other names in the
    registry in use), then the :class:`specforge.ir.GraphNode` (``node.params``,
    ``node.input_shapes``, ``node.output_shape``, ``node.name``). A lowering never
    keeps per-model state on ``self``: one instance serves every node of its type in
    every model. Weights are a list of arrays in Keras's order for the layer (Dense:
    kernel ``(in, units)``, bias ``(units,)``; BatchNormalization: gamma, beta,
    moving_mean, moving_variance); the backend owns them, casts them to the model's
    dtype and passes the same list objects to every call.

    Required:

    * ``init(ctx, node, rng) -> list[np.ndarray]``: fresh weights, drawn from ``rng``
      (a ``numpy.random.Generator``), trainable and non-trainable alike.
    * ``forward(ctx, node, weights, inputs, training) -> (output, cache)``: ``inputs``
      is a list of arrays (batch axis first) in the order of ``node.inputs``;
      ``training`` is True inside ``fit`` and the train step, False in
      ``evaluate``/``predict``. ``cache`` is anything ``backward`` needs.
    * ``backward(ctx, node, weights, cache, grad_output) -> (grad_inputs, grad_weights)``:
      ``grad_output`` is d loss / d output (same shape as the output); ``grad_inputs``
      is a list with one entry per input, ``grad_weights`` one per weight, ``None``
      for non-trainable weights. Gradients are of the *batch-mean* loss already (the
      backend scales nothing).

    Optional:

    * ``trainable(ctx, node) -> list[bool]``: one flag per weight (default: all True).
      Non-trainable weights are saved, loaded and transferred with the others but
      never touched by the optimizer.
    * ``update_state(ctx, node, weights, cache) -> None``: called once per training
      step, after ``backward`` and before the optimizer's update, with the cache of
      that step's ``forward(..., training=True)``; updates non-trainable weights **in
      place** (``weights[2][...] = ...``), e.g. moving averages. ``forward`` itself
      must not modify weights (gradient checks call it many times).
    * keyword ``rng`` on ``forward``: if its signature accepts ``rng``, the backend
      passes a ``numpy.random.Generator`` seeded from the model's seed (``fit``'s
      seed when given), for stochastic layers such as Dropout.
    * keyword ``needs_input_grad`` on ``backward``: if accepted, a tuple of bools, one
      per input; where False the backend discards that gradient and the lowering may
      return ``None`` instead of computing it.
    * ``applies_activation = True``: by default, when the node's params have an
      ``activation`` field, the *backend* applies that activation to the lowering's
      output (so ``forward`` returns the pre-activation and ``backward`` receives its
      gradient; the backend also fuses a following crossentropy with softmax/sigmoid
      like Keras). Set this to True to apply it yourself (``ctx.activation(name)``).
    """

    applies_activation: ClassVar[bool] = False

    def init(self, ctx: LoweringContext, node: Any, rng: Any) -> list[Any]:
        return []

    def trainable(self, ctx: LoweringContext, node: Any) -> list[bool]:
        raise NotImplementedError  # the backend treats a missing method as "all trainable"

    def forward(
        self,
        ctx: LoweringContext,
        node: Any,
        weights: Sequence[Any],
        inputs: Sequence[Any],
        training: bool,
    ) -> tuple[Any, Any]:
        raise NotImplementedError

    def backward(
        self, ctx: LoweringContext, node: Any, weights: Sequence[Any], cache: Any, grad_output: Any
    ) -> tuple[list[Any], list[Any]]:
        raise NotImplementedError


__all__ = ["VOCABULARY_KIND", "LoweringContext", "NodeLowering", "Unsupported"]
