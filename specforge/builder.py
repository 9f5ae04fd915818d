"""``specforge.build()``: a spec in, a compiled backend model out (module ``specforge.builder``).

The notebook form of ``specforge build``::

    import specforge
    model = specforge.build("specs/wide_deep_aux.yaml", seed=42)   # a compiled keras.Model
    model.fit({"wide_input": X_wide, "deep_input": X_deep}, {"output": y, "aux_output": y}, epochs=20)

Nothing here imports a framework until a backend builds a model.
"""

from __future__ import annotations

import importlib.util
import inspect
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .diagnostics import Diagnostic, SpecError, did_you_mean
from .ir import Graph
from .plugin import Backend, BackendError
from .registry import Registry, get_registry
from .spec.api import CheckResult, check_data, check_file

SpecInput = str | os.PathLike[str] | Mapping[str, Any] | Graph | CheckResult


def select_backend(name: str, registry: Registry | None = None) -> Backend:
    """The registered backend ``name`` with its framework importable, else a :class:`BackendError`."""
    reg = registry or get_registry()
    backend = reg.backends.get(name)
    if backend is None:
        known = ", ".join(sorted(reg.backends)) or "none"
        hint = reg.failed_plugins_hint("backend", name) or did_you_mean(name, reg.backends)
        raise BackendError(
            f"backend '{name}' is not installed (installed backends: {known})", help=hint
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
        hints = ["install it with pip install 'specforge[tensorflow]'"] if name == "keras" else []
        if others:
            hints.append(
                f"use --backend {others[0]}"
                if name != "keras" or "numpy" not in others
                else "use --backend numpy"
            )
        raise BackendError(
            f"backend '{name}' needs {', '.join(missing)}, which {'is' if len(missing) == 1 else 'are'} not installed",
            help=", or ".join(hints) or None,
        )
    return backend


def backend_diagnostics(
    backend: Backend, result: CheckResult, registry: Registry | None = None
) -> list[Diagnostic]:
    """What ``backend`` cannot build in a valid spec (a backend with a ``check`` method says)."""
    check = getattr(backend, "check", None)
    if check is None or result.graph is None:
        return []
    return list(check(result.graph, registry=registry, document=result.document))


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
    reg = registry or get_registry()
    checked = _checked(spec_or_path, reg)
    if isinstance(checked, CheckResult):
        if not checked.ok or checked.graph is None:
            raise SpecError(checked.diagnostics)
        graph = checked.graph
    else:
        graph = checked
    be = select_backend(backend, reg)
    if isinstance(checked, CheckResult):
        diagnostics = backend_diagnostics(be, checked, reg)
        if diagnostics:
            raise SpecError(diagnostics)
    if seed is None:
        seed = graph.seed
    if "registry" in inspect.signature(be.build).parameters:
        model = be.build(graph, seed=seed, registry=reg)
    else:
        model = be.build(graph, seed=seed)
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
    path: str | os.PathLike[str], graph: Graph, registry: Registry | None = None
) -> dict[str, list[Any]]:
    """The weights stored at ``path`` (a model file or run directory), keyed by node name."""
    reg = registry or get_registry()
    file, be = weights_file(path, reg)
    model = be.load(str(file), graph)
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
