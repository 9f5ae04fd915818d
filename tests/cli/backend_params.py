"""Parametrize a test over real backends: skipped when one is not installed, slow for keras."""

from __future__ import annotations

import importlib.util

import pytest


def backends(*names: str) -> list:
    """One ``pytest.param`` per backend name (TensorFlow makes keras runs slow)."""
    from specforge.registry import load_registry

    installed = load_registry().backends
    params = []
    for name in names:
        marks = [pytest.mark.slow] if name == "keras" else []
        backend = installed.get(name)
        if backend is None:
            marks.append(pytest.mark.skip(reason=f"backend '{name}' is not installed"))
        elif any(importlib.util.find_spec(m) is None for m in backend.requires):
            marks.append(
                pytest.mark.skip(reason=f"backend '{name}' needs {', '.join(backend.requires)}")
            )
        params.append(pytest.param(name, marks=marks, id=name))
    return params
