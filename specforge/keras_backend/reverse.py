"""Keras values back to spec names: the inverse of the name lowerings.

Used by import rules (through :class:`~specforge.keras_backend.context.KerasContext`)
and by the decompiler. Each function looks at what the lowerings of the registry
in use produce, so a plugin's activation or initializer maps back to its spec
name with no extra code.
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Mapping
from typing import Any

from ..lowering import Unsupported
from .env import BACKEND, import_keras

_CACHE: weakref.WeakKeyDictionary[Any, dict[str, Any]] = weakref.WeakKeyDictionary()


def _cached(reg: Any, key: str, make: Any) -> Any:
    """A value computed once per registry (the lowerings of a registry never change)."""
    per_registry = _CACHE.setdefault(reg, {})
    if key not in per_registry:
        per_registry[key] = make()
    return per_registry[key]


def _lowered(reg: Any, kind: str) -> dict[str, Any]:
    """Canonical spec name -> lowered Keras identifier, for every name of ``kind`` with a lowering."""
    return _cached(reg, f"lowered:{kind}", lambda: _compute_lowered(reg, kind))


def _compute_lowered(reg: Any, kind: str) -> dict[str, Any]:
    out = {}
    for name in reg.names(kind):
        impl = reg.lowering(BACKEND, kind, name)
        if impl is None:
            continue
        try:
            out[name] = impl(name) if callable(impl) else impl
        except Exception:  # a broken lowering is reported when it is used, not here
            continue
    return out


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def activation_name(reg: Any, value: Any) -> str:
    """The spec activation name for a Keras activation (a config string or function)."""
    keras = import_keras()
    key = value if isinstance(value, str) else keras.activations.serialize(value)
    if isinstance(key, Mapping):
        raise Unsupported(f"activation {key.get('class_name', key)!r} is not a Keras built-in")
    for name, ident in _lowered(reg, "activation").items():
        lowered = ident if isinstance(ident, str) else keras.activations.serialize(ident)
        if lowered == key:
            return name
    canonical = reg.canonical("activation", key)
    if canonical is not None and reg.lowering(BACKEND, "activation", canonical) is not None:
        return canonical
    raise Unsupported(f"activation '{key}' has no spec equivalent")


def _initializer_config(keras: Any, ident: Any) -> tuple[str, dict[str, Any]]:
    obj = keras.initializers.get(ident)
    data = keras.saving.serialize_keras_object(obj)
    return data["class_name"], dict(data.get("config") or {})


def _initializer_configs(reg: Any, keras: Any) -> list[tuple[str, str, dict[str, Any]]]:
    out = []
    for name, ident in _lowered(reg, "initializer").items():
        try:
            cls, config = _initializer_config(keras, ident)
        except Exception:  # a broken lowering is reported when it is used
            continue
        config.pop("seed", None)
        out.append((name, cls, config))
    return out


def initializer_name(reg: Any, value: Any) -> str:
    """The spec initializer name for a Keras initializer (its serialized config, a string or an object).

    Seeds are ignored (a spec seeds every initializer at once with ``train.seed``);
    any other argument must have Keras's default value.
    """
    keras = import_keras()
    if isinstance(value, str):
        cls, config = _initializer_config(keras, value)
    elif isinstance(value, Mapping):
        cls, config = str(value.get("class_name")), dict(value.get("config") or {})
    else:
        cls, config = _initializer_config(keras, value)
    config.pop("seed", None)
    for name, lowered_cls, lowered_config in _cached(
        reg, "initializer-configs", lambda: _initializer_configs(reg, keras)
    ):
        if lowered_cls != cls:
            continue
        if lowered_config == config:
            return name
        different = ", ".join(f"{k}={v!r}" for k, v in config.items() if lowered_config.get(k) != v)
        raise Unsupported(
            f"initializer {cls}({different}) has no spec equivalent (spec initializers use Keras's defaults)"
        )
    raise Unsupported(f"initializer {cls} has no spec equivalent")


def _named(reg: Any, kind: str, value: Any) -> str:
    """A loss or metric name from a compile config entry (a string or a serialized object)."""
    keras = import_keras()
    candidates: list[str] = []
    config: dict[str, Any] = {}
    cls = None
    if isinstance(value, str):
        candidates = [value]
    elif isinstance(value, Mapping):
        cls = value.get("class_name")
        config = dict(value.get("config") or {})
        candidates = [c for c in (cls, config.get("name"), _snake(str(cls))) if isinstance(c, str)]
    for cand in candidates:
        canonical = reg.canonical(kind, cand)
        if canonical is None or reg.lowering(BACKEND, kind, canonical) is None:
            continue
        if cls is not None and kind == "loss":
            module = keras.losses
            fresh = getattr(module, str(cls), None)
            if fresh is not None:
                default = keras.saving.serialize_keras_object(fresh()).get("config", {})
                extra = {
                    k: v
                    for k, v in config.items()
                    if k not in ("name", "dtype") and default.get(k) != v
                }
                if extra:
                    shown = ", ".join(f"{k}={v!r}" for k, v in extra.items())
                    raise Unsupported(f"loss {cls}({shown}) has no spec equivalent")
        return canonical
    shown = value if isinstance(value, str) else (cls or value)
    raise Unsupported(f"{kind} {shown!r} has no spec equivalent")


def loss_name(reg: Any, value: Any) -> str:
    """The spec loss name for a loss in a saved compile config."""
    return _named(reg, "loss", value)


def metric_name(reg: Any, value: Any) -> str:
    """The spec metric name for a metric in a saved compile config."""
    return _named(reg, "metric", value)
