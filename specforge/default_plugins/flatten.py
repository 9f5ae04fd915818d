"""Built-in plugin: the Flatten node type, whole (node type, Keras lowering and import rule, NumPy lowering)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from specforge.plugin import (
    LoweringContext,
    NodeLowering,
    NodeType,
    Params,
    Shape,
    Unsupported,
    hookimpl,
)

SPECFORGE_API = 2


class Flatten(NodeType):
    name = "Flatten"
    description = "reshape each sample to one axis (28×28 → 784)"

    def output_shape(self, params: Params, input_shapes: Sequence[Shape]) -> Shape:
        (shape,) = input_shapes
        return (math.prod(shape),)


def lower_keras(ctx: Any, node: Any, inputs: list[Any]) -> Any:
    import keras

    return keras.layers.Flatten(name=node.name)(inputs[0])


def import_keras(ctx: Any, layer: Any) -> dict[str, Any]:
    if layer.get_config().get("data_format", "channels_last") != "channels_last":
        raise Unsupported("Flatten with data_format='channels_first' has no spec equivalent")
    return {"type": "Flatten"}


class FlattenLowering(NodeLowering):
    """Reshape each sample to one axis (a view, no copy)."""

    def forward(
        self,
        ctx: LoweringContext,
        node: Any,
        weights: Sequence[Any],
        inputs: Sequence[Any],
        training: bool,
    ) -> tuple[Any, Any]:
        x = inputs[0]
        return x.reshape(x.shape[0], -1), x.shape

    def backward(
        self, ctx: LoweringContext, node: Any, weights: Sequence[Any], cache: Any, grad_output: Any
    ) -> tuple[list[Any], list[Any]]:
        return [grad_output.reshape(cache)], []


@hookimpl
def register_node_types(register):
    register(Flatten())


@hookimpl
def register_lowerings(register):
    register("keras", "node", "Flatten", lower_keras)
    register("keras", "import", "Flatten", import_keras)
    register("numpy", "node", "Flatten", FlattenLowering())
