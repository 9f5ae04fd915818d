"""The NumPy backend's own rules, beyond lowering coverage: what it cannot train.

:meth:`NumpyBackend.check <specforge.numpy_backend.backend.NumpyBackend.check>` runs
them after the shared coverage pass (:func:`specforge.lower.coverage`), before any
weight is allocated: ``not-differentiable`` (a step activation under a gradient
optimizer, where a gradient has to pass through it) and the optimizer's own
``check`` (the perceptron rule's ``perceptron-graph``).
"""

from __future__ import annotations

from typing import Any

from ..backend_checks import Reporter
from ..diagnostics import Diagnostic
from .lowering import NumpyContext


def check(
    graph: Any, *, registry: Any, document: Any = None, optimizer: Any = None
) -> list[Diagnostic]:
    """Why the NumPy backend cannot train ``graph`` (empty: it can, once everything is lowered).

    :param document: the spec's :class:`~specforge.spec.load.Document`, for exact positions.
    :param optimizer: the lowered optimizer if already made (its ``check`` is consulted).
    """
    ctx = NumpyContext(registry)
    where = Reporter(graph, document)
    diags = where.diagnostics
    strategy = graph.train_config.distribution.strategy
    if strategy != "none":
        where.add(
            "not-distributable",
            f"train.distribution.strategy is '{strategy}', but the NumPy backend trains in one "
            "process on one device",
            where.span(("train", "distribution", "strategy")),
            "train it on the keras backend (--backend keras), or remove train.distribution",
        )

    factory = ctx.find("optimizer", graph.optimizer.type)
    if optimizer is None and factory is not None:
        optimizer = factory(dict(graph.optimizer.params.model_dump()))
    rule_based = optimizer is not None and hasattr(optimizer, "train_step")

    trainable_upstream: dict[str, bool] = {}
    reaches: set[str] = {o.node for o in graph.outputs}
    for node in reversed(graph.nodes):
        if node.name in reaches:
            reaches.update(node.inputs)

    found: dict[tuple[str, str], Any] = {}

    def find(kind: str, name: str) -> Any:  # once per name, not once per node
        if (kind, name) not in found:
            found[kind, name] = ctx.find(kind, name)
        return found[kind, name]

    all_lowered = True
    for node in graph.nodes:
        requires = node.param_count.trainable > 0 or any(
            trainable_upstream.get(n, False) for n in node.inputs
        )
        trainable_upstream[node.name] = requires
        if find("node", node.type) is None:  # reported by the coverage pass
            all_lowered = False
            continue
        if rule_based or not requires or node.name not in reaches:
            continue
        node_type = registry.node_types.get(node.type)
        for param in getattr(node_type, "activation_params", ()):
            value = node.param(param)
            if not isinstance(value, str) or find("activation", value) is None:
                continue
            canonical = ctx.canonical("activation", value)
            info = registry.get("activation", canonical)
            if info is not None and not info.differentiable:
                where.add(
                    "not-differentiable",
                    f"node '{node.name}': activation '{canonical}' is a step function whose gradient is zero "
                    f"almost everywhere; optimizer '{graph.optimizer.type}' trains by gradient descent and "
                    "cannot train through it",
                    where.node_span(node, param),
                    "train one layer of step units with optimizer: {type: perceptron}, "
                    "or use a differentiable activation such as sigmoid",
                )

    opt_check = getattr(optimizer, "check", None) if optimizer is not None else None
    if opt_check is not None and all_lowered:
        diags.extend(opt_check(graph, registry))
    return diags
