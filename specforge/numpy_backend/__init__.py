"""NumPy reference backend: runs compiled specs without Keras, agreeing with Keras 3 to float32 precision.

The backend itself is the built-in plugin :mod:`specforge.default_plugins.numpy_backend`
(backend name ``numpy``). This package holds its parts:

* :mod:`.lowering` -- the contract plugins implement (:class:`NodeLowering`,
  :func:`lookup`); importable without NumPy;
* :mod:`.kernels` -- activations, losses, metrics, initializers and optimizers
  matching Keras 3, one module per family, keyed by canonical names;
* :mod:`.builtins` -- the lowerings of the built-in vocabulary;
* :mod:`.model` -- :class:`NumpyModel` (forward, backward, fit/evaluate/predict);
* :mod:`.io` -- saving and loading ``.npz`` model files;
* :mod:`.perceptron` -- Rosenblatt's rule as the ``perceptron`` optimizer;
* :mod:`.plot` -- the activation-functions figure.

The heavy names are imported on first access, so ``from specforge.numpy_backend
import NodeLowering`` costs no NumPy import.
"""

from __future__ import annotations

from typing import Any

from .lowering import BACKEND, NodeLowering, lookup, using_registry

__all__ = [
    "BACKEND",
    "ModelFileError",
    "NodeLowering",
    "NumpyModel",
    "load",
    "lookup",
    "save",
    "using_registry",
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
