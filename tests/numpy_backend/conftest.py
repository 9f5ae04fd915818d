"""Helpers shared by the NumPy backend tests: specs as dicts, synthetic data, Keras."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

ROOT = Path(__file__).resolve().parents[2]
SPECS = ROOT / "specs"


def model_specs() -> list[Path]:
    """Every spec in specs/ (YAML and JSON): new specs are tested too."""
    return sorted(p for p in SPECS.iterdir() if p.suffix in (".yaml", ".yml", ".json"))


def spec(
    nodes: list[dict],
    outputs: list[dict],
    inputs: list[dict] | None = None,
    optimizer: dict | None = None,
    **extra: Any,
) -> dict:
    """A spec as Python data (defaults: one input x of shape [4], SGD lr 0.05)."""
    return {
        "specforge": 1,
        "name": extra.pop("name", "t"),
        "inputs": inputs if inputs is not None else [{"name": "x", "shape": [4]}],
        "nodes": nodes,
        "outputs": outputs,
        "optimizer": optimizer or {"type": "sgd", "learning_rate": 0.05},
        **extra,
    }


def graph_of(data: Mapping[str, Any], registry: Any = None) -> Any:
    import specforge

    return specforge.resolve(dict(data), registry=registry)


def strip_run_sections(graph: Any, **optimizer: Any) -> Any:
    """The graph without data/train sections, optionally with another optimizer."""
    d = graph.to_spec()
    d.pop("data", None)
    d.pop("train", None)
    if optimizer:
        d["optimizer"] = optimizer
    return graph_of(d)


def targets_for(
    graph: Any, out: Any, n: int, rng: np.random.Generator, dtype: Any = np.float32
) -> np.ndarray:
    """Targets that make sense for the output's loss."""
    shape = tuple(graph.node(out.node).output_shape)
    loss = out.loss
    if loss == "sparse_categorical_crossentropy":
        return rng.integers(0, shape[-1], (n, *shape[:-1]))
    if loss == "categorical_crossentropy":
        idx = rng.integers(0, shape[-1], (n, *shape[:-1]))
        return np.eye(shape[-1], dtype=dtype)[idx]
    if loss == "binary_crossentropy":
        return rng.integers(0, 2, (n, *shape)).astype(dtype)
    if loss in ("mean_absolute_percentage_error", "mean_squared_logarithmic_error"):
        return rng.uniform(0.5, 2.0, (n, *shape)).astype(dtype)
    return rng.standard_normal((n, *shape)).astype(dtype)


def synthetic(graph: Any, n: int, seed: int = 0, dtype: Any = np.float32) -> tuple[dict, dict]:
    rng = np.random.default_rng(seed)
    x = {i.name: rng.standard_normal((n, *i.shape)).astype(dtype) for i in graph.inputs}
    y = {o.name: targets_for(graph, o, n, rng, dtype) for o in graph.outputs}
    return x, y


@pytest.fixture(scope="session")
def registry():
    from specforge.registry import get_registry

    return get_registry()


@pytest.fixture(scope="session")
def numpy_backend(registry):
    return registry.backends["numpy"]


@pytest.fixture(scope="session")
def keras_backend(registry):
    """The registry's Keras backend (skips where Keras/TensorFlow is not installed)."""
    keras = pytest.importorskip("keras")
    pytest.importorskip("tensorflow")
    if keras.backend.backend() != "tensorflow":
        pytest.skip("the equivalence tests compare with Keras on TensorFlow")
    backend = registry.backends.get("keras")
    if backend is None:
        pytest.skip("no keras backend registered")
    return backend
