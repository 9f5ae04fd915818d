"""Built-in node types: Dense, Flatten, Concatenate.

Shape rules and parameter counts follow Keras exactly, so that ``summary``
agrees with ``model.summary()`` without importing a framework.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from typing import Annotated

from pydantic import Field

from specforge.plugin import NodeType, NodeWarning, ParamCount, Params, Shape, ShapeError, hookimpl


def _fmt(shape: Shape) -> str:
    return "(" + ", ".join(str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"


class DenseParams(Params):
    units: Annotated[int, Field(gt=0, description="Number of output features.")]
    activation: str = Field("linear", description="Activation function name (relu, softmax, ...).")
    use_bias: bool = Field(True, description="Whether the layer adds a bias vector.")
    kernel_initializer: str = Field(
        "glorot_uniform", description="Initializer of the weight matrix."
    )
    bias_initializer: str = Field("zeros", description="Initializer of the bias vector.")


class Dense(NodeType):
    name = "Dense"
    Params = DenseParams
    description = "fully connected layer on the last axis: activation(x · W + b)"
    activation_params = ("activation",)
    initializer_params = ("kernel_initializer", "bias_initializer")

    def output_shape(self, params: DenseParams, input_shapes: Sequence[Shape]) -> Shape:
        (shape,) = input_shapes
        return (*shape[:-1], params.units)

    def param_count(self, params: DenseParams, input_shapes: Sequence[Shape]) -> ParamCount:
        (shape,) = input_shapes
        return ParamCount(shape[-1] * params.units + (params.units if params.use_bias else 0))

    def warnings(
        self, params: DenseParams, input_shapes: Sequence[Shape], output_shape: Shape
    ) -> Iterator[NodeWarning]:
        (shape,) = input_shapes
        if len(shape) > 1:
            yield NodeWarning(
                "dense-on-rank",
                f"applies Dense to an input of shape {shape}: it acts on the last axis only, "
                f"giving output shape {output_shape}",
                "insert a Flatten node before it if each sample should be one vector",
            )


class Flatten(NodeType):
    name = "Flatten"
    description = "reshape each sample to one axis (28×28 → 784)"

    def output_shape(self, params: Params, input_shapes: Sequence[Shape]) -> Shape:
        (shape,) = input_shapes
        return (math.prod(shape),)


class ConcatenateParams(Params):
    axis: int = Field(
        -1,
        description="Axis to join on, Keras-style: 1 is the first axis after the batch axis, -1 the last.",
    )


class Concatenate(NodeType):
    name = "Concatenate"
    Params = ConcatenateParams
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


BUILTIN_NODE_TYPES = (Dense(), Flatten(), Concatenate())


@hookimpl
def register_node_types(register):
    for node_type in BUILTIN_NODE_TYPES:
        register(node_type)
