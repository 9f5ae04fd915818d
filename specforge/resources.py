"""Memory guards: refuse a model that cannot fit this machine before allocating it.

A two-line spec (or a 2 KB ``.keras`` file) can declare a 10⁹-unit layer; building
it would try to allocate hundreds of GiB and take the machine down with it. The
estimate is deliberately simple, and generous to the model: float32 parameters,
the optimizer's slots (Adam keeps two arrays per parameter, RMSprop and SGD with
momentum one) and one batch of activations.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable
from typing import Any

from .backend_checks import Reporter
from .diagnostics import Diagnostic

#: Overrides the machine's total memory as the limit (bytes; tests use it).
ENV_LIMIT = "SPECFORGE_MAX_MODEL_BYTES"
BYTES_PER_VALUE = 4
#: Arrays an optimizer keeps per parameter besides the parameter itself.
OPTIMIZER_SLOTS = {
    "adam": 2,
    "adamw": 2,
    "adamax": 2,
    "nadam": 2,
    "lion": 1,
    "rmsprop": 1,
    "adagrad": 1,
    "adadelta": 2,
    "ftrl": 2,
}


def total_memory() -> int | None:
    """Physical memory of this machine in bytes (None where the OS does not say)."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, ValueError, OSError):  # pragma: no cover - not POSIX
        return None


def memory_limit() -> int | None:
    """The most bytes a model may need: ``SPECFORGE_MAX_MODEL_BYTES``, else total memory."""
    raw = os.environ.get(ENV_LIMIT, "").strip().replace("_", "")
    if raw:
        try:
            return max(int(float(raw)), 0)
        except ValueError:
            pass
    return total_memory()


def gib(n: float) -> str:
    """``n`` bytes for people: 238.4 GiB, 12.0 MiB, 512 bytes."""
    for unit, size in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= size:
            return f"{n / size:,.1f} {unit}"
    return f"{int(n)} bytes"


def optimizer_slots(kind: str, params: Any = None) -> int:
    """Per-parameter arrays the optimizer ``kind`` keeps (SGD: one with momentum)."""
    kind = kind.lower()
    if kind == "sgd":
        momentum = (
            params.get("momentum", 0)
            if isinstance(params, dict)
            else getattr(params, "momentum", 0)
        )
        return 1 if momentum else 0
    return OPTIMIZER_SLOTS.get(kind, 0)


def model_bytes(params: int, activations: int, slots: int) -> int:
    """Parameters × 4 bytes × (1 + optimizer slots) + one batch of activations × 4 bytes."""
    return params * BYTES_PER_VALUE * (1 + slots) + activations * BYTES_PER_VALUE


def graph_bytes(graph: Any, batch_size: int | None = None) -> tuple[int, int, int]:
    """(bytes, parameters, activation values of one batch) a resolved graph needs."""
    batch = batch_size or graph.train_config.batch_size or 32
    params = sum(n.param_count.total for n in graph.nodes)
    values = sum(math.prod(i.shape) for i in graph.inputs)
    values += sum(math.prod(n.output_shape) for n in graph.nodes)
    slots = optimizer_slots(graph.optimizer.type, graph.optimizer.params)
    return model_bytes(params, values * batch, slots), params, values * batch


def too_large(
    what: str, need: int, limit: int, detail: str, *, help: str | None = None
) -> tuple[str, str]:
    """The message and help line of a model that does not fit."""
    return (
        f"{what} needs about {gib(need)} of memory ({detail}), more than the "
        f"{gib(limit)} this machine has",
        help
        or f"make the model smaller; if the estimate is wrong for your machine, set {ENV_LIMIT}",
    )


def check_graph(graph: Any, document: Any = None) -> list[Diagnostic]:
    """A ``too-large-model`` error at the largest node when ``graph`` cannot fit in memory."""
    limit = memory_limit()
    if limit is None:
        return []
    need, params, acts = graph_bytes(graph)
    if need <= limit:
        return []
    where = Reporter(graph, document)
    nodes: Iterable[Any] = graph.nodes
    biggest = max(nodes, key=lambda n: n.param_count.total, default=None)
    slots = optimizer_slots(graph.optimizer.type, graph.optimizer.params)
    detail = (
        f"{params:,} parameters × 4 bytes × {1 + slots} with optimizer '{graph.optimizer.type}'"
    )
    detail += f", plus {acts:,} activation values of one batch"
    subject = f"spec '{graph.name}'"
    if biggest is not None and biggest.param_count.total:
        subject += (
            f" (its largest node, '{biggest.name}', has {biggest.param_count.total:,} parameters)"
        )
    message, help = too_large(subject, need, limit, detail)
    span = where.node_span(biggest) if biggest is not None else where.span(("nodes",), None)
    return [Diagnostic("too-large-model", message, "error", graph.file, span, help)]
