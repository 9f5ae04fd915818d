"""The run directory: everything a training run leaves behind, each file written atomically.

::

    runs/digits_mlp-20261125-120000/
      spec.yaml            the resolved spec: defaults filled in, paths absolute
      graph.svg            the model's graph, as `specforge graph` draws it
      data.json            feature/target names, class names, feeds, split sizes
      preprocessors.json   the fitted preprocessors (their arrays in preprocessors.npz)
      model.keras          the trained model (model.npz on the NumPy backend)
      best.keras           the best epoch's model (with train.checkpoint)
      history.csv          one row per epoch, one column per history key
      metrics.json         status, backend, seed, epochs, train/validation/test figures
      learning_curves.png  loss and metrics against the epoch
      predictions.png      predicted vs actual, or a confusion matrix
      tensorboard/         event files: train/, validation/, test/ (`tensorboard --logdir runs`)

Nothing here is pickled: JSON, CSV, YAML, and ``.npz`` read with
``allow_pickle=False``.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import time
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ..atomic import atomic_path, atomic_write_text
from ..relay import framework_message

SPEC = "spec.yaml"
GRAPH = "graph.svg"
DATA = "data.json"
PREPROCESSORS = "preprocessors.json"
PREPROCESSOR_ARRAYS = "preprocessors.npz"
HISTORY = "history.csv"
METRICS = "metrics.json"
LEARNING_CURVES = "learning_curves.png"
PREDICTIONS = "predictions.png"
#: Files a run may write (the model files depend on the backend's suffix).
ARTEFACTS = (
    SPEC,
    DATA,
    PREPROCESSORS,
    PREPROCESSOR_ARRAYS,
    HISTORY,
    METRICS,
    LEARNING_CURVES,
    PREDICTIONS,
)


class RunDirError(Exception):
    """A run directory that is missing, incomplete or damaged."""

    def __init__(self, message: str, help: str | None = None):
        super().__init__(message)
        self.message, self.help = message, help


def model_file(suffix: str) -> str:
    return "model" + suffix


def best_file(suffix: str) -> str:
    return "best" + suffix


def new_run_dir(name: str, root: str | os.PathLike[str] = "runs") -> Path:
    """A fresh directory ``root/<name>-<timestamp>`` (``-2``, ``-3``... if taken)."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    base = Path(root) / f"{name}-{stamp}"
    path, k = base, 1
    while True:
        try:
            path.mkdir(parents=True)
            return path
        except FileExistsError:
            k += 1
            path = base.with_name(f"{base.name}-{k}")


def prepare_out_dir(path: str | os.PathLike[str], suffixes: tuple[str, ...]) -> Path:
    """Use ``path`` as the run directory, removing artefacts of an earlier run in it."""
    out = Path(path)
    if out.exists() and not out.is_dir():
        raise RunDirError(f"{out} exists and is not a directory", "give --out a directory")
    out.mkdir(parents=True, exist_ok=True)
    for name in (*ARTEFACTS, *(model_file(s) for s in suffixes), *(best_file(s) for s in suffixes)):
        (out / name).unlink(missing_ok=True)
    return out


# ---------------------------------------------------------------- writers


def write_spec(run_dir: Path, spec: Mapping[str, Any], source: str) -> None:
    import yaml

    from .. import __version__

    text = f"# resolved by specforge {__version__} from {source}\n" + yaml.safe_dump(
        dict(spec), sort_keys=False, allow_unicode=True, default_flow_style=None, width=100
    )
    atomic_write_text(run_dir / SPEC, text)


def _json_safe(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Mapping):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, np.generic):
        return _json_safe(value.item())
    return value


def write_json(path: Path, data: Any) -> None:
    atomic_write_text(path, json.dumps(_json_safe(data), indent=2) + "\n")


def write_preprocessors(run_dir: Path, pre: list[tuple[Any, Any]]) -> None:
    """Fitted states as JSON, with arrays in an npz beside it (never pickled)."""
    arrays: dict[str, np.ndarray] = {}
    entries = []
    for i, (step, obj) in enumerate(pre):
        state = {}
        for key, value in obj.get_state().items():
            if isinstance(value, np.ndarray):
                name = f"{i}.{key}"
                arrays[name] = value
                state[key] = {"npz": name}
            else:
                state[key] = value
        entries.append(
            {
                "type": step.type,
                "applies_to": step.applies_to,
                "params": step.params.model_dump(mode="json"),
                "state": state,
            }
        )
    write_json(run_dir / PREPROCESSORS, entries)
    if arrays:
        with atomic_path(run_dir / PREPROCESSOR_ARRAYS) as tmp, open(tmp, "wb") as fh:
            np.savez(fh, **arrays)


def write_history(run_dir: Path, history: Mapping[str, list[float]]) -> None:
    """One row per epoch; floats written with repr, so they read back exactly."""
    keys = list(history)
    epochs = max((len(v) for v in history.values()), default=0)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["epoch", *keys])
    for e in range(epochs):
        writer.writerow(
            [e + 1, *(repr(float(history[k][e])) if e < len(history[k]) else "" for k in keys)]
        )
    atomic_write_text(run_dir / HISTORY, buf.getvalue())


# ---------------------------------------------------------------- readers


def _need(run_dir: Path, name: str) -> Path:
    path = run_dir / name
    if not path.is_file():
        what = (
            "a run directory"
            if (run_dir / METRICS).exists() or (run_dir / SPEC).exists()
            else "a specforge run directory"
        )
        raise RunDirError(
            f"{run_dir} has no {name}: it is not {what}, or the run did not get that far",
            "pass the directory that `specforge train` printed (runs/<spec name>-<time>)",
        )
    return path


def check_run_dir(run_dir: str | os.PathLike[str]) -> Path:
    path = Path(run_dir)
    if not path.is_dir():
        raise RunDirError(
            f"{path}: no such run directory", "pass the directory that `specforge train` printed"
        )
    _need(path, SPEC)
    _need(path, METRICS)
    return path


def read_json(run_dir: Path, name: str) -> Any:
    path = _need(run_dir, name)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as e:
        raise RunDirError(f"{path} is damaged: {e}", "train the spec again") from None


def read_preprocessor_states(run_dir: Path) -> list[dict[str, Any]]:
    entries = read_json(run_dir, PREPROCESSORS)
    arrays: dict[str, np.ndarray] = {}
    npz = run_dir / PREPROCESSOR_ARRAYS
    if npz.is_file():
        try:
            with np.load(npz, allow_pickle=False) as data:
                arrays = {k: data[k] for k in data.files}
        except (ValueError, OSError, EOFError, zipfile.BadZipFile) as e:
            raise RunDirError(
                f"{npz} is damaged: {framework_message(e)}", "train the spec again"
            ) from None
    states = []
    for entry in entries:
        state = {}
        for key, value in entry["state"].items():
            if isinstance(value, dict) and set(value) == {"npz"}:
                if not isinstance(value["npz"], str) or value["npz"] not in arrays:
                    raise RunDirError(f"{npz} lacks array {value['npz']!r}", "train the spec again")
                state[key] = arrays[value["npz"]]
            else:
                state[key] = value
        states.append(state)
    return states
