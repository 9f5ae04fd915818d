"""Built-in plugin: the ``keras`` and ``numpy`` backends.

Registered through the public hook, exactly as a third-party backend is
(``plugins/specforge-onnx``). Their lowerings come from the plugins that own the
names: each built-in node type's own module (``dense.py``, ...), and
``keras_names.py`` / ``numpy_names.py`` for the vocabulary. Importing this
module imports neither Keras nor NumPy.
"""

from __future__ import annotations

from specforge.keras_backend.backend import KerasBackend
from specforge.numpy_backend.backend import NumpyBackend
from specforge.plugin import hookimpl

SPECFORGE_API = 2


@hookimpl
def register_backends(register):
    register(KerasBackend())
    register(NumpyBackend())
