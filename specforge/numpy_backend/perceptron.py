"""Rosenblatt's perceptron rule as a NumPy-backend optimizer (``optimizer: {type: perceptron}``).

It is not a gradient method: the step function has no useful gradient. Instead of
forward/backward/step, the model calls :meth:`PerceptronRule.train_step` with each
mini-batch, which applies ``w += eta * (y - step(x.w + b)) * x`` sample by sample
(:func:`specforge.numpy_backend.kernels.optimizers.perceptron_update`). Visiting the
samples in order, this reproduces ``sklearn.linear_model.Perceptron(shuffle=False,
eta0=eta, tol=None)`` exactly, one-vs-rest for several output units.

The rule only makes sense for one layer of step units, so :meth:`check` refuses any
other graph with a diagnostic naming the node.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ..diagnostics import Diagnostic, Span
from . import kernels

HELP = (
    "the perceptron rule trains one layer of step units: Dense nodes with "
    "activation: heaviside (and use_bias: true) that are model outputs and read "
    "the inputs directly (or through Flatten/Concatenate); use a gradient optimizer "
    "(sgd, adam, rmsprop) with differentiable activations otherwise"
)


class PerceptronRule:
    """The ``perceptron`` optimizer of the NumPy backend."""

    name = "perceptron"

    def __init__(self, learning_rate: float = 1.0) -> None:
        self.learning_rate = float(learning_rate)
        self.iterations = 0

    # -- build time -------------------------------------------------------
    def check(self, graph: Any, registry: Any) -> list[Diagnostic]:
        """Why ``graph`` cannot be trained with the perceptron rule (empty: it can)."""
        diags: list[Diagnostic] = []
        outputs = {o.node for o in graph.outputs}
        weighted: set[str] = set()
        for node in graph.nodes:
            if node.param_count.total == 0:
                continue
            weighted.add(node.name)

            def bad(message: str, node: Any = node) -> None:
                diags.append(
                    Diagnostic(
                        "perceptron-graph",
                        f"optimizer 'perceptron' cannot train node '{node.name}': {message}",
                        "error",
                        graph.file,
                        node.span or Span(),
                        HELP,
                    )
                )

            activation = getattr(node.params, "activation", None)
            if node.type != "Dense":
                bad(f"it is a {node.type} node, not a Dense layer of step units")
            elif registry.canonical("activation", activation) != "heaviside":
                bad(f"its activation is '{activation}', not 'heaviside'")
            elif not node.params.use_bias:
                bad("it has no bias (use_bias: false)")
            elif len(node.input_shapes[0]) != 1:
                bad(f"its input has shape {node.input_shapes[0]}; flatten it first")
            elif node.name not in outputs:
                bad("it is not a model output, so it has no target to learn from")
            elif _upstream(graph, node.name) & weighted:
                bad("it reads another trainable node (the rule trains a single layer)")
        return diags

    # -- training ---------------------------------------------------------
    def prepare_targets(
        self, output_shape: tuple[int, ...], y: np.ndarray, dtype: Any
    ) -> np.ndarray:
        """Targets as 0/1 rows, one per unit: class indices become one-vs-rest rows."""
        return one_vs_rest(y, output_shape[-1], dtype)

    def train_step(
        self,
        model: Any,
        x: Mapping[str, np.ndarray],
        y: Mapping[str, np.ndarray],
        values: Mapping[str, np.ndarray],
    ) -> None:
        """Apply the rule to one mini-batch, sample by sample, for every output unit."""
        graph = model.graph
        for out in graph.outputs:
            node = graph.node(out.node)
            weights = model.weights.get(node.name)
            if not weights:
                continue
            kernel, bias = weights
            x_in = values[node.inputs[0]]
            kernels.perceptron_update(kernel, bias, x_in, y[out.name], eta=self.learning_rate)
        self.iterations += 1


def _upstream(graph: Any, name: str) -> set[str]:
    inputs = {i.name for i in graph.inputs}
    seen: set[str] = set()
    stack = list(graph.node(name).inputs)
    while stack:
        n = stack.pop()
        if n in seen:
            continue
        seen.add(n)
        if n not in inputs:  # model inputs read nothing
            stack.extend(graph.node(n).inputs)
    return seen


def one_vs_rest(y: Any, units: int, dtype: Any) -> np.ndarray:
    """0/1 targets of shape (batch, units); class indices become one-vs-rest rows."""
    y = np.asarray(y)
    n = y.shape[0]
    if y.shape == (n, units):
        return y.astype(dtype, copy=False)
    if y.size == n:  # one class index (or 0/1 value) per sample
        labels = y.reshape(n)
        if units == 1:
            return labels.astype(dtype).reshape(n, 1)
        return (labels.astype(np.int64)[:, None] == np.arange(units)).astype(dtype)
    raise ValueError(f"perceptron: targets of shape {y.shape} do not fit {units} output unit(s)")
