"""The plugin module named by the entry point: ``onnx = "specforge_onnx.plugin"``.

Importing it is cheap (no onnx, no onnxruntime): specforge loads every plugin
on every command, ``validate`` included.
"""

from __future__ import annotations

from specforge.plugin import hookimpl

from .backend import OnnxBackend
from .lowering import ACTIVATION_LOWERINGS, BACKEND, NODE_LOWERINGS

#: The plugin API this plugin was written against (specforge refuses newer ones it does not know).
SPECFORGE_API = 2


@hookimpl
def register_backends(register):
    register(OnnxBackend())


@hookimpl
def register_lowerings(register):
    for node_type, lower in NODE_LOWERINGS.items():
        register(BACKEND, "node", node_type, lower)
    for activation, lower in ACTIVATION_LOWERINGS.items():
        register(BACKEND, "activation", activation, lower)
