"""The plugin module named by the entry point: ``layers = "specforge_layers.plugin"``.

It registers three node types and, for each, how every backend runs it: a
Keras layer, a NumPy forward/backward, an ONNX subgraph, and a rule turning a
saved Keras layer back into a spec node. Importing it imports neither Keras
nor NumPy nor onnx.
"""

from __future__ import annotations

from specforge.plugin import hookimpl

from . import keras_lowering, numpy_lowering, onnx_lowering
from .node_types import NODE_TYPES

#: The plugin API this plugin was written against.
SPECFORGE_API = 2


@hookimpl
def register_node_types(register):
    for node_type in NODE_TYPES:
        register(node_type)


@hookimpl
def register_lowerings(register):
    for name, lower in keras_lowering.NODE_LOWERINGS.items():
        register("keras", "node", name, lower)
    for keras_class, rule in keras_lowering.IMPORT_RULES.items():
        register("keras", "import", keras_class, rule)
    for name, lowering in numpy_lowering.NODE_LOWERINGS.items():
        register("numpy", "node", name, lowering)
    for name, lower in onnx_lowering.NODE_LOWERINGS.items():
        register("onnx", "node", name, lower)
