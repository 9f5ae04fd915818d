"""ONNX lowerings, for the ``onnx`` backend of the specforge-onnx plugin (inference only).

The contract is specforge-onnx's: ``fn(ctx, node, inputs) -> value name``, the
context being the ONNX builder, adding ONNX nodes with ``ctx.op`` and reading
weights with ``ctx.weight(i)`` (Keras's order). This package does not depend on
specforge-onnx: the lowerings are registered either way and simply unused when
that backend is not installed.
"""

from __future__ import annotations

from typing import Any

from .node_types import feature_axis


def lower_dropout(b: Any, node: Any, inputs: list[str]) -> str:
    return b.op("Identity", [inputs[0]])  # inference: dropout does nothing


def lower_add(b: Any, node: Any, inputs: list[str]) -> str:
    return b.op("Sum", list(inputs))


def lower_batch_normalization(b: Any, node: Any, inputs: list[str]) -> str:
    """Inference with the moving statistics, as tf.nn.batch_normalization computes it:
    ``x * inv + (beta - mean * inv)`` with ``inv = gamma / sqrt(var + epsilon)``."""
    p = node.params
    shape = tuple(node.input_shapes[0])
    index = feature_axis(p.axis, shape)
    i = 0
    gamma = beta = None
    if p.scale:
        gamma, i = b.weight(i), i + 1
    if p.center:
        beta, i = b.weight(i), i + 1
    mean, var = b.weight(i), b.weight(i + 1)
    inv = b.op(
        "Reciprocal", [b.op("Sqrt", [b.op("Add", [var, b.const(p.epsilon, hint="epsilon")])])]
    )
    if gamma is not None:
        inv = b.op("Mul", [inv, gamma])
    offset = b.op("Mul", [mean, inv])
    offset = b.op("Sub", [beta, offset]) if beta is not None else b.op("Neg", [offset])
    if index != len(shape) - 1:  # per-feature vectors broadcast on a middle axis
        target = b.const(
            [shape[index]] + [1] * (len(shape) - 1 - index), dtype="int64", hint="shape"
        )
        inv, offset = b.op("Reshape", [inv, target]), b.op("Reshape", [offset, target])
    return b.op("Add", [b.op("Mul", [inputs[0], inv]), offset])


NODE_LOWERINGS = {
    "Dropout": lower_dropout,
    "Add": lower_add,
    "BatchNormalization": lower_batch_normalization,
}
