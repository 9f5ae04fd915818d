"""The Keras backend: build/run/save Keras functional models, and decompile them back to specs.

Nothing here imports Keras at module level (``specforge validate`` loads every
plugin, and plugins import the public API); Keras is imported when a model is
built, loaded or decompiled. The guide is ``docs/backends.md``; the lowering
contract, for every backend, is in ``docs/plugins.md``.

A node lowering is ``fn(ctx, node, inputs) -> KerasTensor`` and an import rule
``fn(ctx, layer) -> dict``; ``ctx`` is a :class:`KerasContext` (the registry in
use, with ``ctx.activation(name)``, ``ctx.initializer(name)``,
``ctx.activation_name(value)``, ...). The built-in Dense
(``specforge/default_plugins/dense.py``) is a complete example.

``activation``, ``initializer``, ``loss``, ``metric``, ``optimizer``,
``activation_name`` and ``initializer_name`` at module level are the plugin-API-1
helpers: they work inside an API-1 lowering only.
"""

from __future__ import annotations

from typing import Any

from ..lower import check as _check
from ..lowering import Unsupported
from .backend import KerasBackend
from .context import KerasContext
from .env import BACKEND, import_keras
from .legacy import (
    activation,
    activation_name,
    initializer,
    initializer_name,
    loss,
    metric,
    optimizer,
)


def check(graph: Any, *, registry: Any, document: Any = None) -> list[Any]:
    """Everything in ``graph`` the Keras backend cannot build or train, as diagnostics.

    :func:`specforge.lower.check` with the Keras backend. Pass the spec's
    ``document`` (from :func:`specforge.check_file`) for exact positions.
    """
    return _check(graph, registry, KerasBackend(), document)


__all__ = [
    "BACKEND",
    "KerasBackend",
    "KerasContext",
    "Unsupported",
    "activation",
    "activation_name",
    "check",
    "import_keras",
    "initializer",
    "initializer_name",
    "loss",
    "metric",
    "optimizer",
]
