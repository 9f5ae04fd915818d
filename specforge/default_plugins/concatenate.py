"""Built-in plugin: the Concatenate node type, whole (node type, Keras lowering and import rule, NumPy lowering)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import Field

from specforge.plugin import (
    LoweringContext,
    NodeLowering,
    NodeType,
    Params,
    Shape,
    ShapeError,
    hookimpl,
)

SPECFORGE_API = 2


def _fmt(shape: Shape) -> str:
    return "(" + ", ".join(str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"


class ConcatenateParams(Params):
    axis: int = Field(
        -1,
        description="Axis to join on, Keras-style: 1 is the first axis after the batch axis, -1 the last.",
    )


class Concatenate(NodeType):
    name = "Concatenate"
    params_model = ConcatenateParams
    min_inputs = 2
    max_inputs = None
    description = "join several inputs along one axis"

    def output_shape(self, params: ConcatenateParams, input_shapes: Sequence[Shape]) -> Shape:
        ranks = {len(s) for s in input_shapes}
        listed = ", ".join(_fmt(s) for s in input_shapes)
        if len(ranks) != 1:
            raise ShapeError(
                f"Concatenate needs inputs of the same rank, got shapes {listed}",
                help="insert a Flatten node before the input of higher rank",
            )
        rank = ranks.pop()
        axis = params.axis
        if axis == 0 or not (-rank <= axis <= rank):
            raise ShapeError(
                f"axis {axis} is out of range for inputs of rank {rank}"
                + (" (axis 0 is the batch axis)" if axis == 0 else ""),
                help=f"use an axis from 1 to {rank}, or -1 for the last one",
                param="axis",
            )
        index = axis - 1 if axis > 0 else rank + axis
        for i in range(rank):
            if i == index:
                continue
            dims = {s[i] for s in input_shapes}
            if len(dims) > 1:
                raise ShapeError(
                    f"Concatenate on axis {axis} needs the other axes to match, got shapes {listed}",
                    help="all inputs must have the same size on every axis except the one joined",
                )
        out = list(input_shapes[0])
        out[index] = sum(s[index] for s in input_shapes)
        return tuple(out)


def lower_keras(ctx: Any, node: Any, inputs: list[Any]) -> Any:
    import keras

    return keras.layers.Concatenate(axis=node.params.axis, name=node.name)(list(inputs))


def import_keras(ctx: Any, layer: Any) -> dict[str, Any]:
    return {"type": "Concatenate", "axis": layer.get_config()["axis"]}


class ConcatenateLowering(NodeLowering):
    """Join the inputs on ``params.axis`` (Keras's numbering: 1 is the first axis after the batch)."""

    def forward(
        self,
        ctx: LoweringContext,
        node: Any,
        weights: Sequence[Any],
        inputs: Sequence[Any],
        training: bool,
    ) -> tuple[Any, Any]:
        import numpy as np

        axis = node.params.axis
        return np.concatenate(inputs, axis=axis), [x.shape[axis] for x in inputs]

    def backward(
        self,
        ctx: LoweringContext,
        node: Any,
        weights: Sequence[Any],
        cache: Any,
        grad_output: Any,
        needs_input_grad: Sequence[bool] | None = None,
    ) -> tuple[list[Any], list[Any]]:
        import numpy as np

        cuts = np.cumsum(cache[:-1])
        return list(np.split(grad_output, cuts, axis=node.params.axis)), []


@hookimpl
def register_node_types(register):
    register(Concatenate())


@hookimpl
def register_lowerings(register):
    register("keras", "node", "Concatenate", lower_keras)
    register("keras", "import", "Concatenate", import_keras)
    register("numpy", "node", "Concatenate", ConcatenateLowering())
