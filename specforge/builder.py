"""``specforge.build()``: a spec in, a compiled backend model out (module ``specforge.builder``).

The notebook form of ``specforge build``::

    import specforge
    model = specforge.build("specs/wide_deep_aux.yaml", seed=42)   # a compiled keras.Model
    model.fit({"wide_input": X_wide, "deep_input": X_deep}, {"output": y, "aux_output": y}, epochs=20)

Nothing here imports a framework until a backend builds a model.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from . import lower
from .api import CheckResult, check_data, check_file
from .diagnostics import Diagnostic, SpecError
from .ir import Graph
from .lower import select_backend
from .plugin import Backend, BackendError
from .registry import Registry, get_registry

SpecInput = str | os.PathLike[str] | Mapping[str, Any] | Graph | CheckResult


def backend_diagnostics(
    backend: Backend, result: CheckResult | Graph, registry: Registry
) -> list[Diagnostic]:
    """What ``backend`` cannot build in a valid spec (see :func:`specforge.lower.check`)."""
    if isinstance(result, Graph):
        return lower.check(result, registry, backend)
    if result.graph is None:
        return []
    return lower.check(result.graph, registry, backend, result.document)


def _checked(spec: SpecInput, registry: Registry) -> CheckResult | Graph:
    if isinstance(spec, CheckResult | Graph):
        return spec
    if isinstance(spec, Mapping):
        return check_data(spec, registry=registry)
    return check_file(Path(spec), registry=registry)


def build(
    spec_or_path: SpecInput,
    backend: str = "keras",
    seed: int | None = None,
    *,
    weights: str | os.PathLike[str] | None = None,
    registry: Registry | None = None,
) -> Any:
    """Check a spec and compile it with ``backend``; return the backend's model.

    :param spec_or_path: a spec file path, spec data (a dict), or an already
        resolved :class:`Graph` / :class:`CheckResult`.
    :param backend: a registered backend name; ``keras`` returns a compiled
        ``keras.Model``.
    :param seed: makes the initial weights reproducible; defaults to the spec's
        ``train.seed``.
    :param weights: take the weights from a trained model instead: a model
        file written by any backend (``model.npz``, ``model.keras``) or a run
        directory of ``specforge train``. This is how a trained run is exported
        to another backend (``--backend onnx``).
    :raises SpecError: the spec is invalid, or uses something the backend
        cannot lower (diagnostics with positions).
    :raises BackendError: unknown backend, or its framework is not installed.
    """
    reg = registry or get_registry()  # the API's edge: below it, the registry is passed on
    checked = _checked(spec_or_path, reg)
    if isinstance(checked, CheckResult):
        if not checked.ok or checked.graph is None:
            raise SpecError(checked.diagnostics)
        graph = checked.graph
    else:
        graph = checked
    be = select_backend(backend, reg)
    diagnostics = backend_diagnostics(be, checked, reg)
    if any(d.is_error for d in diagnostics):
        raise SpecError(diagnostics)
    if seed is None:
        seed = graph.seed
    model = be.build(graph, seed=seed, registry=reg)
    if weights is not None:
        be.set_weights(model, load_weights(weights, graph, reg))
    return model


def weights_file(path: str | os.PathLike[str], registry: Registry) -> tuple[Path, Backend]:
    """The model file at ``path`` (or inside the run directory ``path``) and the backend that reads it."""
    p = Path(path)
    by_suffix = {b.file_suffix: b for b in registry.backends.values() if b.file_suffix}
    if p.is_dir():
        for suffix, be in sorted(by_suffix.items()):
            if (p / f"model{suffix}").is_file():
                return p / f"model{suffix}", be
        raise BackendError(
            f"{p} holds no model file (looked for {', '.join('model' + s for s in sorted(by_suffix))})",
            help="pass a run directory written by `specforge train`, or a model file",
        )
    if not p.is_file():
        raise BackendError(f"{p}: no such file or directory")
    be = by_suffix.get(p.suffix)
    if be is None:
        raise BackendError(
            f"no installed backend reads '{p.suffix}' files ({p})",
            help="weights come from " + ", ".join(sorted(by_suffix)) + " files",
        )
    return p, be


def load_weights(
    path: str | os.PathLike[str], graph: Graph, registry: Registry
) -> dict[str, list[Any]]:
    """The weights stored at ``path`` (a model file or run directory), keyed by node name."""
    file, be = weights_file(path, registry)
    model = be.load(str(file), graph, registry=registry)
    weights = be.get_weights(model)
    expected = {n.name for n in graph.nodes if n.param_count.total}
    if set(weights) != expected:
        extra, missing = sorted(set(weights) - expected), sorted(expected - set(weights))
        raise BackendError(
            f"the weights in {file} do not belong to this spec"
            + (f" (no weights for {', '.join(missing)})" if missing else "")
            + (f" (weights for unknown nodes {', '.join(extra)})" if extra else ""),
            help="use the run directory or model file trained from the same spec",
        )
    return weights
