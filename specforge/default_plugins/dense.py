"""Built-in plugin: the Dense node type, whole (a complete example of a node-type plugin).

One file holds everything a node type needs: its parameters and shape rules
(:class:`Dense`), its Keras lowering and import rule, its NumPy lowering, and the
hooks registering them. A third-party node type is written the same way
(``plugins/specforge-layers`` splits the same parts over modules). Importing it
imports neither Keras nor NumPy: they are imported inside the lowerings.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Annotated, Any

from pydantic import Field

from specforge.plugin import (
    LoweringContext,
    NodeLowering,
    NodeType,
    NodeWarning,
    ParamCount,
    Params,
    Shape,
    hookimpl,
)

SPECFORGE_API = 2


# ---------------------------------------------------------------- the node type


class DenseParams(Params):
    units: Annotated[int, Field(gt=0, description="Number of output features.")]
    activation: str = Field("linear", description="Activation function name (relu, softmax, ...).")
    use_bias: bool = Field(True, description="Whether the layer adds a bias vector.")
    kernel_initializer: str = Field(
        "glorot_uniform", description="Initializer of the weight matrix."
    )
    bias_initializer: str = Field("zeros", description="Initializer of the bias vector.")


class Dense(NodeType):
    """Shape rules and parameter counts follow Keras exactly, so ``summary`` agrees with Keras's."""

    name = "Dense"
    params_model = DenseParams
    description = "fully connected layer on the last axis: activation(x · W + b)"
    activation_params = ("activation",)
    initializer_params = ("kernel_initializer", "bias_initializer")

    def output_shape(self, params: DenseParams, input_shapes: Sequence[Shape]) -> Shape:
        (shape,) = input_shapes
        return (*shape[:-1], params.units)

    def param_count(self, params: DenseParams, input_shapes: Sequence[Shape]) -> ParamCount:
        (shape,) = input_shapes
        return ParamCount(shape[-1] * params.units + (params.units if params.use_bias else 0))

    def warnings(self, params: DenseParams, input_shapes: Sequence[Shape]) -> Iterator[NodeWarning]:
        (shape,) = input_shapes
        if len(shape) > 1:
            yield NodeWarning(
                "dense-on-rank",
                f"applies Dense to an input of shape {tuple(shape)}: it acts on the last axis only, "
                f"giving output shape {self.output_shape(params, input_shapes)}",
                "insert a Flatten node before it if each sample should be one vector",
            )


# ---------------------------------------------------------------- Keras


def lower_keras(ctx: Any, node: Any, inputs: list[Any]) -> Any:
    """One ``keras.layers.Dense`` named after the node."""
    import keras

    p = node.params
    layer = keras.layers.Dense(
        p.units,
        activation=ctx.activation(p.activation),
        use_bias=p.use_bias,
        kernel_initializer=ctx.initializer(p.kernel_initializer),
        bias_initializer=ctx.initializer(p.bias_initializer),
        name=node.name,
    )
    return layer(inputs[0])


def import_keras(ctx: Any, layer: Any) -> dict[str, Any]:
    """A saved ``keras.layers.Dense`` back to a spec node."""
    c = layer.get_config()
    return {
        "type": "Dense",
        "units": c["units"],
        "activation": ctx.activation_name(c["activation"]),
        "use_bias": c["use_bias"],
        "kernel_initializer": ctx.initializer_name(c["kernel_initializer"]),
        "bias_initializer": ctx.initializer_name(c["bias_initializer"]),
    }


# ---------------------------------------------------------------- NumPy


class DenseLowering(NodeLowering):
    """``x @ kernel + bias`` on the last axis; weights ``[kernel (in, units), bias (units,)]``.

    Returns the pre-activation: the backend applies ``params.activation``.
    """

    def init(self, ctx: LoweringContext, node: Any, rng: Any) -> list[Any]:
        import numpy as np

        p = node.params
        fan_in = node.input_shapes[0][-1]
        weights = [ctx.initializer(p.kernel_initializer)((fan_in, p.units), rng, np.float32)]
        if p.use_bias:
            weights.append(ctx.initializer(p.bias_initializer)((p.units,), rng, np.float32))
        return weights

    def trainable(self, ctx: LoweringContext, node: Any) -> list[bool]:
        return [True, True] if node.params.use_bias else [True]

    def forward(
        self,
        ctx: LoweringContext,
        node: Any,
        weights: Sequence[Any],
        inputs: Sequence[Any],
        training: bool,
    ) -> tuple[Any, Any]:
        x = inputs[0]
        z = x @ weights[0]
        if len(weights) > 1:
            z += weights[1]
        return z, x

    def backward(
        self,
        ctx: LoweringContext,
        node: Any,
        weights: Sequence[Any],
        cache: Any,
        grad_output: Any,
        needs_input_grad: Sequence[bool] = (True,),
    ) -> tuple[list[Any], list[Any]]:
        x, g = cache, grad_output
        if x.ndim > 2:  # Dense on the last axis of a rank > 2 input
            x, g = x.reshape(-1, x.shape[-1]), g.reshape(-1, g.shape[-1])
        grads: list[Any] = [x.T @ g]
        if len(weights) > 1:
            grads.append(g.sum(axis=0))
        grad_x = grad_output @ weights[0].T if needs_input_grad[0] else None
        return [grad_x], grads


# ---------------------------------------------------------------- hooks


@hookimpl
def register_node_types(register):
    register(Dense())


@hookimpl
def register_lowerings(register):
    register("keras", "node", "Dense", lower_keras)
    register("keras", "import", "Dense", import_keras)
    register("numpy", "node", "Dense", DenseLowering())
