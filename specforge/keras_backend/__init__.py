"""The Keras backend: lowering contract, helpers for plugins, build/run/save, decompiling.

Nothing here imports Keras at module level (``specforge validate`` loads every
plugin, and plugins import this package); Keras is imported when a model is
built, loaded or decompiled. The guide is ``docs/backends.md``.

A plugin teaches the Keras backend a node type (or an activation, loss, ...)
through the ordinary hook; the built-ins do exactly this in
``specforge/default_plugins/keras_backend.py``::

    from specforge.keras_backend import activation

    def lower_dropout(node, inputs):
        import keras
        return keras.layers.Dropout(node.params.rate, name=node.name)(inputs[0])

    def import_dropout(layer):
        return {"type": "Dropout", "rate": layer.get_config()["rate"]}

    @hookimpl
    def register_lowerings(register):
        register("keras", "node", "Dropout", lower_dropout)
        register("keras", "import", "Dropout", import_dropout)

Kinds, and what the implementation must be:

``node``
    ``fn(node: GraphNode, inputs: list[KerasTensor]) -> KerasTensor``. ``inputs``
    are the tensors of ``node.inputs``, in order; create **one** Keras layer named
    ``node.name`` and return its output. ``node.params`` is the node type's
    validated (frozen pydantic) parameter model, names already canonical. Turn
    activation and initializer names into Keras values with :func:`activation`
    and :func:`initializer` (they go through the registry, so a plugin's
    activation works in a built-in Dense). The output's static shape must equal
    ``node.output_shape`` (checked). Raise :class:`Unsupported` for a parameter
    combination Keras cannot do; any exception becomes a diagnostic naming the node.
``activation``, ``initializer``, ``loss``, ``metric``
    Either the Keras identifier itself (a string such as ``"relu"``), or
    ``fn(name: str) -> identifier`` called with the canonical spec name, returning
    what Keras accepts there (a string, a ``keras.losses.Loss``, a
    ``keras.metrics.Metric``, an initializer object, an activation function).
    Prefer Keras's built-in names: a saved model then loads with plain
    ``keras.models.load_model`` and no custom objects. A metric object whose
    ``name`` differs from the spec name is renamed back in histories.
``optimizer``
    ``fn(config: OptimizerConfig) -> keras.optimizers.Optimizer``, a new
    optimizer per call; ``config.params`` is the optimizer's validated parameters.
``import``
    Registered under the Keras **class name** of a layer (``"Dense"``):
    ``fn(layer: keras.layers.Layer) -> dict``, the spec node for that layer
    without ``name`` and ``inputs`` (the decompiler fills those in): ``type`` and
    parameters, defaults may be left out. Map activation/initializer values back
    with :func:`activation_name` / :func:`initializer_name`. Raise
    :class:`Unsupported` with a reason for a configuration the spec cannot
    express. The decompiler then rebuilds every node and compares its Keras
    config with the original, so a setting the rule forgot is reported, not lost.
"""

from __future__ import annotations

from .lowering import (
    BACKEND,
    Unsupported,
    activation,
    check,
    import_keras,
    initializer,
    loss,
    metric,
    optimizer,
)
from .reverse import activation_name, initializer_name

__all__ = [
    "BACKEND",
    "Unsupported",
    "activation",
    "activation_name",
    "check",
    "import_keras",
    "initializer",
    "initializer_name",
    "loss",
    "metric",
    "optimizer",
]
