"""The Keras backend's name, its framework import, and keeping the caller's random state."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from ..plugin import BackendError

BACKEND = "keras"
INSTALL_HELP = "install it with pip install 'specforge[tensorflow]'"


def import_keras() -> Any:
    """``import keras``, or a :class:`BackendError` (exit 2) saying how to install it.

    The first import keeps TensorFlow's log lines off stderr unless ``--debug``
    (:mod:`specforge.quiet`).
    """
    from ..quiet import tensorflow_import_quieted

    try:
        with tensorflow_import_quieted():
            import keras
    except ImportError as exc:
        raise BackendError(
            f"the Keras backend needs keras and tensorflow, which cannot be imported ({exc})",
            help=INSTALL_HELP,
        ) from None
    return keras


@contextlib.contextmanager
def callers_random_state_kept() -> Iterator[None]:
    """Keep Python's and NumPy's global random state as the caller left it.

    ``keras.utils.set_random_seed`` (how Keras makes initial weights and
    shuffles reproducible) reseeds both globals: a library must not change
    what the caller's own ``random.random()`` returns next.
    """
    import random

    import numpy as np

    saved = random.getstate(), np.random.get_state()
    try:
        yield
    finally:
        random.setstate(saved[0])
        np.random.set_state(saved[1])
