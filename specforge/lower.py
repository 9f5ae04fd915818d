"""The lowering stage's checks: pick a backend, and find what it cannot lower, before it builds.

One pass serves every backend: :func:`coverage` walks a resolved graph and
reports each node type, activation, initializer, loss, metric and optimizer the
spec uses that has no lowering registered for the backend
(``unsupported-by-backend``, at the name's position). Then
:meth:`Backend.check <specforge.plugin.Backend.check>` adds the rules of that
backend alone (Keras cannot train through a step function; the perceptron rule
trains one layer). :func:`check` runs both; backends call
:func:`require_lowerable` at the top of ``build``, and ``specforge.build`` /
``specforge build`` call :func:`check` with the spec's document first, for exact
positions.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from . import resources
from .backend_checks import Reporter, lowering_help
from .diagnostics import Diagnostic, SpecError, did_you_mean
from .plugin import Backend, BackendError

if TYPE_CHECKING:  # pragma: no cover
    from .registry import Registry


def select_backend(name: str, registry: Registry) -> Backend:
    """The registered backend ``name`` with its framework importable, else a :class:`BackendError`."""
    reg = registry
    backend = reg.backends.get(name)
    if backend is None:
        known = ", ".join(sorted(reg.backends)) or "none"
        fix = reg.failed_plugins_hint("backend", name) or did_you_mean(name, reg.backends)
        raise BackendError(
            f"backend '{name}' is not installed (installed backends: {known})", help=fix
        )
    missing = []
    for module in backend.requires:
        try:
            found = importlib.util.find_spec(module.split(".")[0]) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            missing.append(module)
    if missing:
        others = sorted(n for n in reg.backends if n != name)
        fixes = ["install it with pip install 'specforge[tensorflow]'"] if name == "keras" else []
        if others:
            fixes.append(
                f"use --backend {others[0]}"
                if name != "keras" or "numpy" not in others
                else "use --backend numpy"
            )
        raise BackendError(
            f"backend '{name}' needs {', '.join(missing)}, which {'is' if len(missing) == 1 else 'are'} not installed",
            help=", or ".join(fixes) or None,
        )
    return backend


def label_of(backend: Backend) -> str:
    """What ``backend`` is called in messages."""
    return getattr(backend, "label", "") or backend.name


def coverage(
    graph: Any, registry: Registry, backend: Backend, document: Any = None
) -> Iterator[Diagnostic]:
    """Every name ``graph`` uses that ``backend`` has no lowering for, at its position.

    Only the kinds in ``backend.lowering_kinds`` are checked. Pass the spec's
    ``document`` (from :func:`specforge.check_file`) for exact positions; without
    it, a diagnostic points at the node concerned.
    """
    reg, name, label = registry, backend.name, label_of(backend)
    kinds = set(getattr(backend, "lowering_kinds", ()))
    where = Reporter(graph, document)

    seen: dict[tuple[str, str], bool] = {}  # a 100,000-node chain uses a handful of names

    def missing(kind: str, value: str) -> bool:
        if kind not in kinds:
            return False
        key = (kind, value)
        if key not in seen:
            vocab = "node_type" if kind == "node" else kind
            canonical = reg.canonical(vocab, value) or value
            seen[key] = reg.lowering(name, kind, canonical) is None
        return seen[key]

    def unsupported(kind: str, value: str, message: str, span: Any) -> Diagnostic:
        vocab = "node_type" if kind == "node" else kind
        canonical = reg.canonical(vocab, value) or value
        return Diagnostic(
            "unsupported-by-backend",
            f"{message} has no {label} lowering",
            "error",
            graph.file,
            span,
            lowering_help(reg, name, label, kind, canonical),
        )

    for node in graph.nodes:
        if missing("node", node.type):
            yield unsupported(
                "node",
                node.type,
                f"node '{node.name}': node type '{node.type}'",
                where.node_span(node, "type"),
            )
        node_type = reg.node_types.get(node.type)
        for kind, params in (
            ("activation", getattr(node_type, "activation_params", ())),
            ("initializer", getattr(node_type, "initializer_params", ())),
        ):
            for param in params:
                value = node.param(param)
                if isinstance(value, str) and missing(kind, value):
                    canonical = reg.canonical(kind, value) or value
                    yield unsupported(
                        kind,
                        value,
                        f"node '{node.name}': {kind} '{canonical}'",
                        where.node_span(node, param),
                    )
    nodes = {n.name: n for n in graph.nodes}
    for j, out in enumerate(graph.outputs):
        node = nodes.get(out.node)
        node_span = node.span if node is not None else None
        if missing("loss", out.loss):
            yield unsupported(
                "loss",
                out.loss,
                f"output '{out.name}': loss '{out.loss}'",
                where.span(("outputs", j, "loss"), node_span),
            )
        for k, metric in enumerate(out.metrics):
            if missing("metric", metric):
                yield unsupported(
                    "metric",
                    metric,
                    f"output '{out.name}': metric '{metric}'",
                    where.span(("outputs", j, "metrics", k), node_span),
                )
    opt = graph.optimizer.type
    if missing("optimizer", opt):
        yield unsupported(
            "optimizer", opt, f"optimizer '{opt}'", where.span(("optimizer", "type"), None)
        )


def check(
    graph: Any, registry: Registry, backend: Backend, document: Any = None
) -> list[Diagnostic]:
    """What ``backend`` cannot build or train in ``graph``: :func:`coverage`, then ``backend.check``.

    A backend's diagnostic about the same name at the same position as a
    coverage one replaces it: the backend explains better why it has no lowering
    (Keras and the step function). Diagnostics come in the spec's order.
    """
    found = list(coverage(graph, registry, backend, document))
    own: list[Diagnostic] = []
    for d in backend.check(graph, registry=registry, document=document):
        if d not in own:  # an API-1 backend's check may repeat the coverage pass
            own.append(d)
    suffix = f" has no {label_of(backend)} lowering"

    def explained(d: Diagnostic) -> bool:
        subject = d.message.removesuffix(suffix)
        return any(o.span == d.span and o.message.startswith(subject) for o in own)

    merged = [d for d in found if not explained(d)] + own
    if not any(d.is_error for d in merged):  # before any weight is allocated
        merged += resources.check_graph(graph, document)
    return sorted(merged, key=lambda d: (d.span.line, d.span.column))


def require_lowerable(
    graph: Any, registry: Registry, backend: Backend, document: Any = None
) -> None:
    """Raise :class:`SpecError` with :func:`check`'s errors, if there are any."""
    diagnostics = check(graph, registry, backend, document)
    if any(d.is_error for d in diagnostics):
        raise SpecError(diagnostics)


__all__ = ["check", "coverage", "label_of", "require_lowerable", "select_backend"]
