"""The spec's speed settings, for the backends whose training methods take them.

``train.steps_per_execution`` means something to the Keras backend only; a
backend whose ``fit`` (or ``fit_stream``) does not name it (the NumPy backend,
a third party's) never sees it, so adding a setting never breaks a plugin.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any


def takes(fn: Callable[..., Any], keyword: str) -> bool:
    """Whether ``fn`` accepts ``keyword`` (by name, or through ``**kwargs``)."""
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
    return keyword in params or any(
        p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()
    )


def fit_settings(be: Any, train_cfg: Any) -> dict[str, Any]:
    """Keywords for ``be.fit``: ``steps_per_execution`` where it takes it."""
    fit = getattr(getattr(be, "inner", be), "fit", be.fit)  # an API-1 backend behind its shim
    return (
        {"steps_per_execution": train_cfg.steps_per_execution}
        if takes(fit, "steps_per_execution")
        else {}
    )


def stream_settings(be: Any, train_cfg: Any, samples: int) -> dict[str, Any]:
    """Keywords for ``be.fit_stream``: the setting, and the rows and batch ``auto`` needs."""
    if not takes(be.fit_stream, "steps_per_execution"):
        return {}
    return {
        "steps_per_execution": train_cfg.steps_per_execution,
        "samples": samples,
        "batch_size": train_cfg.batch_size,
    }
