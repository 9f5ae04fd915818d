"""Saving and loading NumPy models: one ``.npz`` file, written atomically, read without pickle.

Layout of the archive (``numpy.savez``; every member a plain array, so
``np.load(path, allow_pickle=False)`` reads it):

``__specforge__``
    A 0-d unicode array holding JSON: ``{"format": "specforge-numpy", "version": 1,
    "specforge": <version>, "dtype": "float32", "spec": <graph.to_spec()>,
    "weights": {node: count}}``. The resolved spec (canonical names, defaults filled
    in) travels inside the weights file, so the file alone rebuilds the model and
    cannot drift from a sidecar.
``w/<node>/<i>``
    Weight ``i`` of ``node``, in Keras's order for its type.
"""

from __future__ import annotations

import json
import os
import zipfile
from typing import Any

import numpy as np

from ..atomic import atomic_path
from ..plugin import BackendError
from ..relay import framework_message

FORMAT = "specforge-numpy"
VERSION = 1
META_KEY = "__specforge__"


class ModelFileError(BackendError):
    """A file that is not a NumPy model written by specforge, or does not fit the graph."""

    def __init__(self, message: str, *, help: str | None = None):
        super().__init__(message, help=help)


def save(model: Any, path: str | os.PathLike[str]) -> None:
    """Write ``model`` (a :class:`NumpyModel`) to ``path`` atomically."""
    from .. import __version__

    meta = {
        "format": FORMAT,
        "version": VERSION,
        "specforge": __version__,
        "dtype": model.dtype.name,
        "spec": model.graph.to_spec(),
        "weights": {name: len(ws) for name, ws in model.weights.items()},
    }
    arrays: dict[str, np.ndarray] = {META_KEY: np.array(json.dumps(meta))}
    for name, ws in model.weights.items():
        for i, w in enumerate(ws):
            arrays[f"w/{name}/{i}"] = w
    # A file object, not a name: np.savez would append ".npz" to a name without it.
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        np.savez(f, **arrays)


def read(path: str | os.PathLike[str]) -> tuple[dict[str, Any], dict[str, list[np.ndarray]]]:
    """The metadata and ``{node: [arrays]}`` stored in ``path`` (no code is executed)."""
    try:
        with np.load(path, allow_pickle=False) as data:
            if META_KEY not in data.files:
                raise ModelFileError(f"{path}: not a specforge NumPy model (no {META_KEY} entry)")
            meta = json.loads(str(data[META_KEY][()]))
            fmt = meta.get("format") if isinstance(meta, dict) else None
            if fmt != FORMAT:
                raise ModelFileError(f"{path}: not a specforge NumPy model (format {fmt!r})")
            if not isinstance(meta.get("version"), int) or meta["version"] > VERSION:
                raise ModelFileError(
                    f"{path}: written by a newer specforge (file format {meta.get('version')!r}, this one reads {VERSION})"
                )
            weights: dict[str, list[np.ndarray]] = {}
            for name, count in dict(meta.get("weights", {})).items():
                weights[name] = [data[f"w/{name}/{i}"] for i in range(int(count))]
    except ModelFileError:
        raise
    except (
        OSError,
        EOFError,
        zipfile.BadZipFile,
        KeyError,
        ValueError,
        TypeError,
        AttributeError,
    ) as e:
        raise ModelFileError(f"{path}: cannot read NumPy model: {framework_message(e)}") from e
    return meta, weights


def load(path: str | os.PathLike[str], graph: Any = None, *, registry: Any) -> Any:
    """Rebuild the model saved at ``path`` with ``registry``'s lowerings.

    ``graph`` defaults to the resolved spec stored in the file; when given, the stored
    weights must fit it (same node names and shapes).
    """
    from .model import NumpyModel

    meta, weights = read(path)
    if graph is None:
        from ..spec.api import resolve

        graph = resolve(meta["spec"], registry=registry)
    model = NumpyModel(graph, seed=0, registry=registry, dtype=meta.get("dtype", "float32"))
    missing = sorted(n for n, ws in model.weights.items() if ws and n not in weights)
    if missing:
        raise ModelFileError(
            f"{path}: no weights for node(s) {', '.join(missing)} of '{graph.name}'"
        )
    try:
        model.set_weights({n: ws for n, ws in weights.items() if n in model.weights or ws})
    except ValueError as e:
        raise ModelFileError(f"{path}: weights do not fit '{graph.name}': {e}") from e
    return model
