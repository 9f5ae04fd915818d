"""NumPy reference backend: runs compiled specs without Keras, agreeing with Keras 3 to float32 precision.

The backend (name ``numpy``) is :class:`~specforge.numpy_backend.backend.NumpyBackend`,
registered by the built-in plugin :mod:`specforge.default_plugins.backends`; the
NumPy lowerings of the built-in vocabulary come from
:mod:`specforge.default_plugins.numpy_names` and the built-in node types' own
plugins (``specforge/default_plugins/dense.py``, ...). This package holds its parts:

* :mod:`.lowering` -- the contract plugins implement (:class:`NodeLowering`,
  :class:`NumpyContext`); importable without NumPy;
* :mod:`.backend` -- :class:`NumpyBackend`, importable without NumPy;
* :mod:`.check` -- the backend's own rules (step functions, the perceptron);
* :mod:`.kernels` -- activations, losses, metrics, initializers and optimizers
  matching Keras 3;
* :mod:`.model` -- :class:`NumpyModel` (forward, backward, fit/evaluate/predict);
* :mod:`.io` -- saving and loading ``.npz`` model files;
* :mod:`.perceptron` -- Rosenblatt's rule as the ``perceptron`` optimizer;
* :mod:`.plot` -- the activation-functions figure.

The heavy names are imported on first access, so ``from specforge.numpy_backend
import NodeLowering`` costs no NumPy import.
"""

from __future__ import annotations

from typing import Any

from .backend import NumpyBackend
from .lowering import BACKEND, NodeLowering, NumpyContext, lookup

__all__ = [
    "BACKEND",
    "ModelFileError",
    "NodeLowering",
    "NumpyBackend",
    "NumpyContext",
    "NumpyModel",
    "load",
    "lookup",
    "save",
]

_LAZY = {
    "NumpyModel": ("model", "NumpyModel"),
    "ModelFileError": ("io", "ModelFileError"),
    "load": ("io", "load"),
    "save": ("io", "save"),
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        return getattr(importlib.import_module(f"{__name__}.{module}"), attr)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
