"""What Keras node lowerings and import rules receive first: :class:`KerasContext`.

Its helpers turn spec names into Keras values (``ctx.activation("relu")``) and
back (``ctx.activation_name(config["activation"])``) through the lowerings of
the registry the model is built with, so a plugin's activation works in a
built-in Dense, and maps back to its spec name when a model is imported.
"""

from __future__ import annotations

from typing import Any

from ..lowering import LoweringContext, Unsupported
from . import reverse
from .env import BACKEND


class KerasContext(LoweringContext):
    """The Keras backend's :class:`~specforge.lowering.LoweringContext`."""

    label = "Keras"

    def __init__(self, registry: Any, backend: str = BACKEND):
        super().__init__(registry, backend)

    def missing(self, kind: str, name: str) -> Exception:
        return Unsupported(f"{kind} '{name}' has no Keras lowering")

    def _value(self, kind: str, name: str) -> Any:
        impl = self.lowering(kind, name)
        return impl(self.canonical(kind, name)) if callable(impl) else impl

    # -- spec names -> Keras values (for node lowerings) ------------------------------
    def activation(self, name: str) -> Any:
        """The Keras ``activation=`` value for a spec activation name (aliases included).

        ``Dense(..., activation=ctx.activation(node.params.activation))``.
        """
        return self._value("activation", name)

    def initializer(self, name: str) -> Any:
        """The Keras initializer (``kernel_initializer=`` value) for a spec initializer name."""
        return self._value("initializer", name)

    def loss(self, name: str) -> Any:
        """The Keras loss for a spec loss name."""
        return self._value("loss", name)

    def metric(self, name: str) -> Any:
        """The Keras metric for a spec metric name."""
        return self._value("metric", name)

    def optimizer(self, config: Any) -> Any:
        """A new Keras optimizer for the spec's optimizer (an ``OptimizerConfig``)."""
        return self.lowering("optimizer", config.type)(config)

    # -- Keras values -> spec names (for import rules) --------------------------------
    def activation_name(self, value: Any) -> str:
        """The spec activation name for a Keras activation (a config string or function)."""
        return reverse.activation_name(self.registry, value)

    def initializer_name(self, value: Any) -> str:
        """The spec initializer name for a Keras initializer (seeds ignored, other arguments at default)."""
        return reverse.initializer_name(self.registry, value)

    def loss_name(self, value: Any) -> str:
        """The spec loss name for a loss in a saved compile config."""
        return reverse.loss_name(self.registry, value)

    def metric_name(self, value: Any) -> str:
        """The spec metric name for a metric in a saved compile config."""
        return reverse.metric_name(self.registry, value)


def keras_name(identifier: Any) -> str:
    """The name Keras gives a metric (history key) for a lowered metric identifier."""
    if isinstance(identifier, str):
        return identifier
    return str(getattr(identifier, "name", None) or getattr(identifier, "__name__", identifier))
