"""The node types: parameters, shape inference and parameter counts (no framework needed).

These are what ``specforge validate`` and ``summary`` use; the backends come in
through lowerings (``keras_lowering.py``, ``numpy_lowering.py``, ``onnx_lowering.py``).
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import Field

from specforge.plugin import NodeType, NoParams, ParamCount, Params, Shape, ShapeError


def _fmt(shape: Shape) -> str:
    return "(None, " + ", ".join(str(d) for d in shape) + ")"


def feature_axis(axis: int, shape: Shape) -> int:
    """Index into ``shape`` (batch axis excluded) of a Keras-style ``axis``.

    Keras counts the batch axis as 0, so ``1`` is the first axis of ``shape``
    and ``-1`` its last. Raises :class:`ShapeError` for the batch axis or an
    axis out of range.
    """
    rank = len(shape)
    if axis == 0 or not -rank <= axis <= rank:
        raise ShapeError(
            f"axis {axis} is out of range for inputs of shape {_fmt(shape)}"
            + (" (axis 0 is the batch axis)" if axis == 0 else ""),
            help=f"use an axis from 1 to {rank}, or -1 for the last one",
            param="axis",
        )
    return axis - 1 if axis > 0 else rank + axis


# ---------------------------------------------------------------- Dropout


class DropoutParams(Params):
    rate: float = Field(
        ge=0,
        lt=1,
        allow_inf_nan=False,
        description="Fraction of the inputs set to 0 during training.",
    )
    seed: int | None = Field(
        None, ge=0, description="Seed of the dropout mask (default: drawn from the model's seed)."
    )


class Dropout(NodeType):
    """Keras's Dropout: in training, zero each input with probability ``rate`` and
    scale the rest by 1 / (1 - rate); in inference, the identity."""

    name = "Dropout"
    params_model = DropoutParams
    description = (
        "randomly zero a fraction `rate` of the inputs while training (identity in inference)"
    )

    def output_shape(self, params: DropoutParams, input_shapes: Sequence[Shape]) -> Shape:
        return tuple(input_shapes[0])


# ---------------------------------------------------------------- Add


class Add(NodeType):
    """Element-wise sum of two or more inputs of the same shape."""

    name = "Add"
    params_model = NoParams
    min_inputs = 2
    max_inputs = None
    description = "element-wise sum of two or more inputs of the same shape (residual connections)"

    def output_shape(self, params: NoParams, input_shapes: Sequence[Shape]) -> Shape:
        first = tuple(input_shapes[0])
        if any(tuple(s) != first for s in input_shapes[1:]):
            listed = ", ".join(_fmt(tuple(s)) for s in input_shapes)
            raise ShapeError(
                f"Add needs inputs of the same shape, got {listed}",
                help="project the inputs to one shape first (e.g. a Dense node with the same units)",
            )
        return first


# ---------------------------------------------------------------- BatchNormalization


class BatchNormalizationParams(Params):
    axis: int = Field(
        -1,
        description="Feature axis, Keras-style: 1 is the first axis after the batch axis, -1 the last.",
    )
    momentum: float = Field(
        0.99,
        ge=0,
        le=1,
        allow_inf_nan=False,
        description="Momentum of the moving mean and variance.",
    )
    epsilon: float = Field(
        1e-3,
        gt=0,
        allow_inf_nan=False,
        description="Added to the variance before dividing by its square root.",
    )
    center: bool = Field(True, description="Learn an offset beta.")
    scale: bool = Field(True, description="Learn a scale gamma.")


class BatchNormalization(NodeType):
    """Keras's BatchNormalization.

    Weights, in Keras's order: gamma (if ``scale``), beta (if ``center``),
    moving_mean, moving_variance, each with one entry per feature on ``axis``:
    4 × features in all by default, the two moving statistics non-trainable.
    Training normalises with the batch's mean and (biased) variance and moves
    the moving statistics towards them by ``1 - momentum``; inference
    normalises with the moving statistics.
    """

    name = "BatchNormalization"
    params_model = BatchNormalizationParams
    description = (
        "normalise each feature (batch statistics in training, moving averages in inference)"
    )

    def output_shape(
        self, params: BatchNormalizationParams, input_shapes: Sequence[Shape]
    ) -> Shape:
        shape = tuple(input_shapes[0])
        feature_axis(params.axis, shape)
        return shape

    def param_count(
        self, params: BatchNormalizationParams, input_shapes: Sequence[Shape]
    ) -> ParamCount:
        shape = tuple(input_shapes[0])
        features = shape[feature_axis(params.axis, shape)]
        return ParamCount(
            trainable=features * (int(params.center) + int(params.scale)),
            non_trainable=2 * features,
        )


NODE_TYPES = (Dropout(), Add(), BatchNormalization())
