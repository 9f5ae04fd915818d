"""The Keras backend's name and its framework import (nothing else, so every module can use it)."""

from __future__ import annotations

from typing import Any

from ..plugin import BackendError

BACKEND = "keras"
INSTALL_HELP = "install it with pip install 'specforge[tensorflow]'"


def import_keras() -> Any:
    """``import keras``, or a :class:`BackendError` (exit 2) saying how to install it."""
    try:
        import keras
    except ImportError as exc:
        raise BackendError(
            f"the Keras backend needs keras and tensorflow, which cannot be imported ({exc})",
            help=INSTALL_HELP,
        ) from None
    return keras
