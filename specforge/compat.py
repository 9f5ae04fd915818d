"""Plugins written for plugin API 1, kept working behind the API-2 contract.

API 2 passes the registry in: node lowerings and import rules receive a
:class:`~specforge.lowering.LoweringContext` first, and ``Backend.build`` /
``Backend.load`` receive ``registry=``. API-1 plugins wrote ``fn(node, inputs)``
Keras lowerings, NumPy lowerings without ``ctx`` that called
``specforge.numpy_backend.lookup()``, and backends without ``registry``. The
registry wraps what such a plugin registers, once, at registration
(:func:`adapt_lowering`, :func:`adapt_backend`), so the backends only ever see
the API-2 contract.

An API-1 lowering looks names up through module-level helpers
(``specforge.keras_backend.activation``, ``specforge.numpy_backend.lookup``).
While a wrapped lowering runs, :func:`legacy_context` gives those helpers the
context of the call, so even an API-1 plugin sees the registry the model is
built with. Nothing else reads it.

A plugin that does not declare ``SPECFORGE_API`` is taken to be written for API 1.
"""

from __future__ import annotations

import contextlib
import contextvars
import inspect
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from .lowering import LoweringContext, NodeLowering
from .plugin import Backend

#: The API a plugin that declares none is written for.
UNDECLARED_API = 1

_CALL: contextvars.ContextVar[LoweringContext | None] = contextvars.ContextVar(
    "specforge_api1_lowering", default=None
)


def plugin_api(plugin: Any) -> int:
    """The plugin API ``plugin`` is written for (its ``SPECFORGE_API``, else 1)."""
    declared = getattr(plugin, "SPECFORGE_API", UNDECLARED_API)
    return declared if isinstance(declared, int) else UNDECLARED_API


@contextlib.contextmanager
def _calling(ctx: LoweringContext) -> Iterator[None]:
    token = _CALL.set(ctx)
    try:
        yield
    finally:
        _CALL.reset(token)


def legacy_context(helper: str) -> LoweringContext:
    """The context of the API-1 lowering running now; for the module-level helpers only."""
    ctx = _CALL.get()
    if ctx is None:
        raise RuntimeError(
            f"{helper}() works only inside a lowering of a plugin written for plugin API 1; "
            "API-2 lowerings receive a context first and call its helpers (ctx.activation(name), "
            "ctx.lowering(kind, name)), see docs/plugins.md"
        )
    return ctx


def registry_of_call(registry: Any, method: str) -> Any:
    """``registry``, or that of the API-1 call in progress (an API-1 backend calling another backend).

    Backends call this on their ``registry=`` argument: an API-1 backend calls
    ``build(graph, seed=...)`` on the backend it builds on, without a registry.
    """
    if registry is not None:
        return registry
    ctx = _CALL.get()
    if ctx is None:
        raise TypeError(f"Backend.{method}() needs registry= (plugin API 2)")
    return ctx.registry


# ---------------------------------------------------------------- lowerings


def _with_context(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn(*args)`` as ``call(ctx, *args)``, the legacy helpers pointed at ``ctx`` meanwhile."""

    def call(ctx: LoweringContext, *args: Any, **kwargs: Any) -> Any:
        with _calling(ctx):
            return fn(*args, **kwargs)

    # The backends look for keywords (``rng``, ``needs_input_grad``) in signatures.
    try:
        sig = inspect.signature(fn)
        ctx_param = inspect.Parameter("ctx", inspect.Parameter.POSITIONAL_ONLY)
        call.__signature__ = sig.replace(  # type: ignore[attr-defined]
            parameters=[ctx_param, *sig.parameters.values()]
        )
    except (TypeError, ValueError):  # a builtin or C callable: no signature to copy
        pass
    call.__name__ = getattr(fn, "__name__", "lowering")
    call.__qualname__ = f"api1({getattr(fn, '__qualname__', call.__name__)})"
    return call


class LegacyNodeLowering:
    """An API-1 NumPy node lowering (methods without ``ctx``) with the API-2 methods."""

    _METHODS = ("init", "trainable", "forward", "backward", "update_state")

    def __init__(self, inner: Any):
        self.inner = inner
        self.applies_activation = bool(getattr(inner, "applies_activation", False))
        for method in self._METHODS:
            fn = getattr(inner, method, None)
            if not callable(fn):
                continue
            # A default inherited from today's NodeLowering already takes ctx.
            inherited = getattr(type(inner), method, None) is getattr(NodeLowering, method, None)
            setattr(self, method, fn if inherited else _with_context(fn))

    def __repr__(self) -> str:
        return f"LegacyNodeLowering({self.inner!r})"


def adapt_lowering(api: int, backend: str, kind: str, implementation: Any) -> Any:
    """What the registry stores for a lowering registered by a plugin of API ``api``.

    Only the built-in backends changed their contract in API 2: Keras node
    lowerings and import rules gain ``ctx``, NumPy node lowerings gain ``ctx`` on
    every method. Other backends' lowerings are theirs to define.
    """
    if api >= 2:
        return implementation
    if backend == "keras" and kind in ("node", "import") and callable(implementation):
        return _with_context(implementation)
    if backend == "numpy" and kind == "node":
        return LegacyNodeLowering(implementation)
    return implementation


# ---------------------------------------------------------------- backends


def _takes_registry(method: Any) -> bool:
    try:
        return "registry" in inspect.signature(method).parameters
    except (TypeError, ValueError):
        return False


class LegacyBackend(Backend):
    """An API-1 backend (``build``/``load`` without ``registry``) behind the API-2 contract.

    Its own ``check`` keeps doing its lowering coverage (API 1 had no shared
    pass), so the shared coverage pass leaves it alone (``lowering_kinds = ()``).
    """

    lowering_kinds = ()

    def __init__(self, inner: Backend):
        self.inner = inner
        for attr in ("name", "description", "file_suffix", "requires", "can_train", "label"):
            if hasattr(inner, attr):
                setattr(self, attr, getattr(inner, attr))

    def _call(self, registry: Any) -> Any:
        return _calling(LoweringContext(registry, self.name))

    def check(self, graph: Any, *, registry: Any, document: Any = None) -> list[Any]:
        check = getattr(self.inner, "check", None)
        if check is None:
            return []
        return list(check(graph, registry=registry, document=document))

    def build(self, graph: Any, *, seed: int | None = None, registry: Any = None) -> Any:
        reg = registry_of_call(registry, "build")
        with self._call(reg):
            if _takes_registry(self.inner.build):
                return self.inner.build(graph, seed=seed, registry=reg)
            return self.inner.build(graph, seed=seed)

    def load(self, path: str, graph: Any, *, registry: Any = None) -> Any:
        reg = registry_of_call(registry, "load")
        with self._call(reg):
            if _takes_registry(self.inner.load):
                return self.inner.load(path, graph, registry=reg)
            return self.inner.load(path, graph)

    def save(self, model: Any, path: str) -> None:
        self.inner.save(model, path)

    def fit(self, model: Any, x: Mapping[str, Any], y: Mapping[str, Any], **kwargs: Any) -> Any:
        return self.inner.fit(model, x, y, **kwargs)

    def evaluate(self, model: Any, x: Any, y: Any, *, batch_size: int = 32) -> dict[str, float]:
        return self.inner.evaluate(model, x, y, batch_size=batch_size)

    def predict(self, model: Any, x: Any, *, batch_size: int = 32) -> dict[str, Any]:
        return self.inner.predict(model, x, batch_size=batch_size)

    def get_weights(self, model: Any) -> dict[str, list[Any]]:
        return self.inner.get_weights(model)

    def set_weights(self, model: Any, weights: Mapping[str, Sequence[Any]]) -> None:
        self.inner.set_weights(model, weights)

    def __getattr__(self, attr: str) -> Any:  # anything else the backend offers
        if attr == "inner":
            raise AttributeError(attr)
        return getattr(self.inner, attr)

    def __repr__(self) -> str:
        return f"LegacyBackend({self.inner!r})"


def adapt_backend(api: int, backend: Any) -> Any:
    """What the registry stores for a backend registered by a plugin of API ``api``."""
    if api >= 2 or not isinstance(backend, Backend):
        return backend
    return LegacyBackend(backend)


__all__ = [
    "LegacyBackend",
    "LegacyNodeLowering",
    "adapt_backend",
    "adapt_lowering",
    "legacy_context",
    "plugin_api",
    "registry_of_call",
]
