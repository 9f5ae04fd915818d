"""NumPy lowerings: forward and backward passes the NumPy backend runs.

The contract is :class:`specforge.plugin.NodeLowering`: every method receives
the lowering context first; ``init`` gives fresh weights (Keras's order),
``forward(ctx, node, weights, inputs, training)`` returns the output and a
cache, ``backward(ctx, node, weights, cache, grad_output)`` returns the
gradients of the inputs and of the weights (``None`` for non-trainable ones),
``update_state`` moves BatchNormalization's moving statistics after a training
step. The arithmetic follows Keras 3 on
TensorFlow step by step (``tf.nn.moments``, ``tf.nn.batch_normalization``,
``stateless_dropout``) so the two agree to float32 precision.

numpy is imported inside the methods: the plugin module is imported by
``specforge validate``, which must not pay for numpy.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from specforge.plugin import NodeLowering

from .node_types import feature_axis


class DropoutLowering(NodeLowering):
    """Inference: the identity. Training: ``x * (1 / (1 - rate)) * keep`` with
    ``keep = rng.random(shape) >= rate``, as ``tf.nn.experimental.stateless_dropout``.

    The mask is drawn from the ``rng`` the backend passes (seeded from the
    model's seed), so NumPy and Keras draw different masks: they agree in
    distribution, not sample by sample. Tests compare them with Keras's own mask
    (read off its output) fed in through a stub generator.
    """

    def forward(
        self,
        ctx: Any,
        node: Any,
        weights: Sequence[Any],
        inputs: Sequence[Any],
        training: bool,
        rng: Any = None,
    ) -> tuple[Any, Any]:
        import numpy as np

        x = inputs[0]
        rate = node.params.rate
        if not training or rate == 0.0:
            return x, None
        if rng is None:
            seed = node.params.seed
            rng = np.random.default_rng(seed)
        keep = rng.random(x.shape) >= rate
        scale = (x.dtype.type(1.0) / x.dtype.type(1.0 - rate)) * keep.astype(x.dtype)
        return x * scale, scale

    def backward(
        self, ctx: Any, node: Any, weights: Sequence[Any], cache: Any, grad_output: Any
    ) -> tuple[list[Any], list[Any]]:
        if cache is None:
            return [grad_output], []
        return [grad_output * cache], []


class AddLowering(NodeLowering):
    """``inputs[0] + inputs[1] + ...`` in order, as ``keras.layers.Add``."""

    def forward(
        self, ctx: Any, node: Any, weights: Sequence[Any], inputs: Sequence[Any], training: bool
    ) -> tuple[Any, Any]:
        out = inputs[0]
        for x in inputs[1:]:
            out = out + x
        return out, len(inputs)

    def backward(
        self, ctx: Any, node: Any, weights: Sequence[Any], cache: Any, grad_output: Any
    ) -> tuple[list[Any], list[Any]]:
        # One array per input, never the same object twice (the backend may accumulate in place).
        return [grad_output] + [grad_output.copy() for _ in range(cache - 1)], []


class BatchNormalizationLowering(NodeLowering):
    """Keras's BatchNormalization; weights ``[gamma?, beta?, moving_mean, moving_variance]``."""

    @staticmethod
    def _layout(node: Any, ndim: int) -> tuple[int, tuple[int, ...], tuple[int, ...]]:
        """(axis in the full array, reduction axes, broadcast shape of a per-feature vector)."""
        index = feature_axis(node.params.axis, tuple(node.input_shapes[0])) + 1
        reduce = tuple(a for a in range(ndim) if a != index)
        shape = [1] * ndim
        shape[index] = node.input_shapes[0][index - 1]
        return index, reduce, tuple(shape)

    @staticmethod
    def _split(node: Any, weights: Sequence[Any]) -> tuple[Any, Any, Any, Any]:
        p = node.params
        i = 0
        gamma = beta = None
        if p.scale:
            gamma, i = weights[i], i + 1
        if p.center:
            beta, i = weights[i], i + 1
        return gamma, beta, weights[i], weights[i + 1]

    def init(self, ctx: Any, node: Any, rng: Any) -> list[Any]:
        import numpy as np

        features = node.input_shapes[0][feature_axis(node.params.axis, tuple(node.input_shapes[0]))]
        ones, zeros = np.ones(features, np.float32), np.zeros(features, np.float32)
        weights = []
        if node.params.scale:
            weights.append(ones.copy())
        if node.params.center:
            weights.append(zeros.copy())
        return [*weights, zeros.copy(), ones.copy()]

    def trainable(self, ctx: Any, node: Any) -> list[bool]:
        learned = int(node.params.scale) + int(node.params.center)
        return [True] * learned + [False, False]

    def forward(
        self, ctx: Any, node: Any, weights: Sequence[Any], inputs: Sequence[Any], training: bool
    ) -> tuple[Any, Any]:
        import numpy as np

        x = inputs[0]
        _, reduce, shape = self._layout(node, x.ndim)
        gamma, beta, moving_mean, moving_var = self._split(node, weights)
        dtype = x.dtype.type
        if training:
            # tf.nn.moments: the mean, then the mean squared deviation from it (biased).
            mean = np.mean(x, axis=reduce, keepdims=True, dtype=x.dtype)
            var = np.mean(np.square(x - mean), axis=reduce, keepdims=True, dtype=x.dtype)
        else:
            mean, var = moving_mean.reshape(shape), moving_var.reshape(shape)
        # tf.nn.batch_normalization: inv = rsqrt(var + eps) * gamma; x * inv + (beta - mean * inv).
        rstd = dtype(1.0) / np.sqrt(var + dtype(node.params.epsilon))
        inv = rstd * gamma.reshape(shape) if gamma is not None else rstd
        offset = beta.reshape(shape) - mean * inv if beta is not None else -mean * inv
        out = x * inv + offset
        return out, (x, mean, var, rstd, training)

    def backward(
        self, ctx: Any, node: Any, weights: Sequence[Any], cache: Any, grad_output: Any
    ) -> tuple[list[Any], list[Any]]:
        import numpy as np

        x, mean, _var, rstd, training = cache
        g = grad_output
        _, reduce, shape = self._layout(node, x.ndim)
        gamma, beta, _, _ = self._split(node, weights)
        xhat = (x - mean) * rstd
        grad_gamma = np.sum(g * xhat, axis=reduce) if gamma is not None else None
        grad_beta = np.sum(g, axis=reduce) if beta is not None else None
        scale = rstd * gamma.reshape(shape) if gamma is not None else rstd
        if training:
            # The batch statistics depend on x too (Ioffe & Szegedy, 2015, section 3).
            n = x.size // mean.size
            sum_g = np.sum(g, axis=reduce, keepdims=True)
            sum_gx = np.sum(g * xhat, axis=reduce, keepdims=True)
            grad_x = (scale / x.dtype.type(n)) * (x.dtype.type(n) * g - sum_g - xhat * sum_gx)
        else:
            grad_x = g * scale
        grads = []
        if gamma is not None:
            grads.append(grad_gamma)
        if beta is not None:
            grads.append(grad_beta)
        return [grad_x], [*grads, None, None]

    def update_state(self, ctx: Any, node: Any, weights: Sequence[Any], cache: Any) -> None:
        _x, mean, var, _rstd, training = cache
        if not training:
            return
        _, _, moving_mean, moving_var = self._split(node, weights)
        # Keras: moving * momentum + batch * (1.0 - momentum), Python floats as weak
        # scalars (the arrays keep their float32), updated in place.
        m = float(node.params.momentum)
        moving_mean[...] = moving_mean * m + mean.reshape(moving_mean.shape) * (1.0 - m)
        moving_var[...] = moving_var * m + var.reshape(moving_var.shape) * (1.0 - m)


NODE_LOWERINGS = {
    "Dropout": DropoutLowering(),
    "Add": AddLowering(),
    "BatchNormalization": BatchNormalizationLowering(),
}
