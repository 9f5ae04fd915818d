"""Start training from trained weights (``specforge train SPEC --weights RUN_DIR|MODEL``).

Nodes are matched by name: a node of the spec takes the weights of the node of
the same name in the trained model, if it has one; the others keep their
initial weights. A node whose weights have other shapes is an error located at
the node in the spec (``weights-mismatch``).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ..api import CheckResult, check_file
from ..builder import weights_file
from ..diagnostics import SpecError
from ..plugin import Backend, BackendError
from ..registry import Registry
from . import rundir


class FineTuneError(Exception):
    """Weights that cannot be used at all (exit 2)."""

    def __init__(self, message: str, help: str | None = None):
        super().__init__(message)
        self.message, self.help = message, help


def trained_weights(
    path: str | os.PathLike[str], graph: Any, registry: Registry
) -> tuple[dict[str, list[np.ndarray]], Path]:
    """The weights stored in a run directory or model file, by node name."""
    file, be = weights_file(path, registry)
    source_graph = graph
    if Path(path).is_dir() and (Path(path) / rundir.SPEC).is_file():
        run_spec = check_file(Path(path) / rundir.SPEC, registry=registry)
        if run_spec.graph is not None:
            source_graph = run_spec.graph
    elif file.suffix == ".npz":
        source_graph = None  # the file holds its own resolved spec
    model = be.load(str(file), source_graph, registry=registry)
    return {k: [np.asarray(w) for w in ws] for k, ws in be.get_weights(model).items()}, file


def apply(
    result: CheckResult,
    backend: Backend,
    model: Any,
    path: str | os.PathLike[str],
    registry: Registry,
    echo: Callable[[str], None],
) -> list[str]:
    """Copy the matching nodes' weights from ``path`` into ``model``; return their names."""
    graph = result.graph
    try:
        source, file = trained_weights(path, graph, registry)
    except BackendError as e:
        raise FineTuneError(e.message, e.help) from None
    mine = backend.get_weights(model)
    take: dict[str, list[Any]] = {}
    diags = []
    for index, node in enumerate(graph.nodes):
        if node.name not in mine or node.name not in source:
            continue
        want = [tuple(np.shape(w)) for w in mine[node.name]]
        got = [tuple(np.shape(w)) for w in source[node.name]]
        if want != got:
            diags.append(
                result.document.diagnostic(
                    "weights-mismatch",
                    f"node '{node.name}' has weights of shapes {want}, "
                    f"but the one in {file} has {got}",
                    ("nodes", index, "name"),
                    help="rename the node to start it from scratch, or make it match the trained one",
                )
            )
            continue
        take[node.name] = source[node.name]
    if diags:
        raise SpecError(diags)
    if not take:
        raise FineTuneError(
            f"no node of '{graph.name}' has a namesake with weights in {file}",
            "nodes are matched by name: use the names of the trained spec",
        )
    backend.set_weights(model, take)
    fresh = sorted(n for n in mine if n not in take)
    echo(
        f"note: {len(take)} node(s) start from {file}"
        + (f"; {', '.join(fresh)} start from scratch" if fresh else "")
    )
    return sorted(take)
