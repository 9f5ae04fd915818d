"""What in a graph the NumPy backend cannot build or train, as positioned diagnostics.

Runs before any weight is allocated; :class:`~specforge.numpy_backend.model.NumpyModel`
raises :class:`~specforge.diagnostics.SpecError` with these. The codes are shared with
the Keras backend: ``unsupported-by-backend`` (a name without a NumPy lowering),
``not-differentiable`` (a step activation under a gradient optimizer) and
``perceptron-graph`` (a graph the perceptron rule cannot train).
"""

from __future__ import annotations

from typing import Any

from ..backend_checks import Reporter, lowering_hint, supported_names
from ..diagnostics import Diagnostic
from .lowering import BACKEND


def providers(registry: Any, kind: str) -> str:
    """The names of ``kind`` that have a NumPy lowering, for help lines."""
    return ", ".join(supported_names(registry, BACKEND, kind))


def _hint(registry: Any, kind: str, name: str) -> str:
    return lowering_hint(registry, BACKEND, "NumPy", kind, name)


def check(
    graph: Any, *, registry: Any = None, document: Any = None, optimizer: Any = None
) -> list[Diagnostic]:
    """Everything in ``graph`` the NumPy backend cannot build or train.

    :param document: the spec's :class:`~specforge.loader.Document`, for exact positions.
    :param optimizer: the lowered optimizer if already made (its ``check`` is consulted).
    """
    if registry is None:
        from ..registry import get_registry

        registry = get_registry()
    reg = registry
    where = Reporter(graph, document)
    diags = where.diagnostics
    add = where.add

    opt_name = reg.canonical("optimizer", graph.optimizer.type) or graph.optimizer.type
    factory = reg.lowering(BACKEND, "optimizer", opt_name)
    if factory is None:
        add(
            "unsupported-by-backend",
            f"optimizer '{graph.optimizer.type}' has no NumPy lowering",
            where.span(("optimizer", "type"), None),
            _hint(reg, "optimizer", opt_name),
        )
    elif optimizer is None:
        optimizer = factory(dict(graph.optimizer.params.model_dump()))
    rule_based = optimizer is not None and hasattr(optimizer, "train_step")

    trainable_upstream: dict[str, bool] = {}
    outputs = {o.node for o in graph.outputs}
    reaches: set[str] = set(outputs)
    for node in reversed(graph.nodes):
        if node.name in reaches:
            reaches.update(node.inputs)

    for node in graph.nodes:
        lowering = reg.lowering(BACKEND, "node", node.type)
        requires = node.param_count.trainable > 0 or any(
            trainable_upstream.get(n, False) for n in node.inputs
        )
        trainable_upstream[node.name] = requires
        if lowering is None:
            add(
                "unsupported-by-backend",
                f"node '{node.name}': node type '{node.type}' has no NumPy lowering",
                where.node_span(node, "type"),
                _hint(reg, "node", node.type),
            )
            continue
        node_type = reg.node_types.get(node.type)
        act_params = getattr(
            node_type,
            "activation_params",
            ("activation",) if hasattr(node.params, "activation") else (),
        )
        for param in act_params:
            value = node.param(param)
            if not isinstance(value, str):
                continue
            canonical = reg.canonical("activation", value) or value
            if reg.lowering(BACKEND, "activation", canonical) is None:
                add(
                    "unsupported-by-backend",
                    f"node '{node.name}': activation '{canonical}' has no NumPy lowering",
                    where.node_span(node, param),
                    _hint(reg, "activation", canonical),
                )
                continue
            info = reg.get("activation", canonical)
            if (
                not rule_based
                and info is not None
                and not info.differentiable
                and requires
                and node.name in reaches
            ):
                add(
                    "not-differentiable",
                    f"node '{node.name}': activation '{canonical}' is a step function whose gradient is zero "
                    f"almost everywhere; optimizer '{graph.optimizer.type}' trains by gradient descent and "
                    "cannot train through it",
                    where.node_span(node, param),
                    "train one layer of step units with optimizer: {type: perceptron}, "
                    "or use a differentiable activation such as sigmoid",
                )
        for param in getattr(node_type, "initializer_params", ()):
            value = node.param(param)
            if not isinstance(value, str):
                continue
            canonical = reg.canonical("initializer", value) or value
            if reg.lowering(BACKEND, "initializer", canonical) is None:
                add(
                    "unsupported-by-backend",
                    f"node '{node.name}': initializer '{canonical}' has no NumPy lowering",
                    where.node_span(node, param),
                    _hint(reg, "initializer", canonical),
                )

    for j, out in enumerate(graph.outputs):
        node_span = graph.node(out.node).span
        loss = reg.canonical("loss", out.loss) or out.loss
        if reg.lowering(BACKEND, "loss", loss) is None:
            add(
                "unsupported-by-backend",
                f"output '{out.name}': loss '{out.loss}' has no NumPy lowering",
                where.span(("outputs", j, "loss"), node_span),
                _hint(reg, "loss", loss),
            )
        for k, m in enumerate(out.metrics):
            metric = reg.canonical("metric", m) or m
            if reg.lowering(BACKEND, "metric", metric) is None:
                add(
                    "unsupported-by-backend",
                    f"output '{out.name}': metric '{m}' has no NumPy lowering",
                    where.span(("outputs", j, "metrics", k), node_span),
                    _hint(reg, "metric", metric),
                )

    opt_check = getattr(optimizer, "check", None) if optimizer is not None else None
    if opt_check is not None and not any(
        d.code == "unsupported-by-backend" and "node type" in d.message for d in diags
    ):
        diags.extend(opt_check(graph, reg))
    return diags
