"""The plugin-API-1 helpers ``specforge.keras_backend.activation(name)`` & co.

API-1 lowerings (``fn(node, inputs)``, import rules ``fn(layer)``) had no
context and called these module-level functions. They work only while such a
lowering runs (the registration shim, :mod:`specforge.compat`, points them at
the context of the call); API-2 lowerings call ``ctx.activation(name)`` instead.
"""

from __future__ import annotations

from typing import Any

from ..compat import legacy_context
from .context import KerasContext


def _ctx(helper: str) -> KerasContext:
    ctx = legacy_context(f"specforge.keras_backend.{helper}")
    return ctx if isinstance(ctx, KerasContext) else KerasContext(ctx.registry)


def activation(name: str) -> Any:
    """API 1: :meth:`KerasContext.activation` of the running lowering."""
    return _ctx("activation").activation(name)


def initializer(name: str) -> Any:
    """API 1: :meth:`KerasContext.initializer` of the running lowering."""
    return _ctx("initializer").initializer(name)


def loss(name: str) -> Any:
    """API 1: :meth:`KerasContext.loss` of the running lowering."""
    return _ctx("loss").loss(name)


def metric(name: str) -> Any:
    """API 1: :meth:`KerasContext.metric` of the running lowering."""
    return _ctx("metric").metric(name)


def optimizer(config: Any) -> Any:
    """API 1: :meth:`KerasContext.optimizer` of the running lowering."""
    return _ctx("optimizer").optimizer(config)


def activation_name(value: Any) -> str:
    """API 1: :meth:`KerasContext.activation_name` of the running import rule."""
    return _ctx("activation_name").activation_name(value)


def initializer_name(value: Any) -> str:
    """API 1: :meth:`KerasContext.initializer_name` of the running import rule."""
    return _ctx("initializer_name").initializer_name(value)
