"""Per-epoch checkpoints of a run, and what ``specforge train --resume`` reads back.

After every finished epoch the run directory gets ``checkpoint.npz``, replaced
atomically: the weights, the backend's training state (optimizer slots and
counters, random generators: :meth:`specforge.plugin.Backend.get_training_state`),
the number of epochs done and the history so far. Resuming from it trains the
remaining epochs exactly as the uninterrupted run would have (NumPy: bit for
bit; Keras: see docs/python-api.md).

Nothing is pickled: arrays are stored under ``w/<node>/<j>`` and ``s/<key>``,
everything else as one JSON string (``meta``), read with ``allow_pickle=False``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..atomic import atomic_path
from ..plugin import Backend, TrainingCallback
from .rundir import RunDirError

CHECKPOINT = "checkpoint.npz"
#: Bumped when the layout changes; older checkpoints are refused with a clear message.
FORMAT = 1


@dataclass
class Checkpoint:
    """A run's state after ``epoch`` finished epochs."""

    epoch: int
    weights: dict[str, list[np.ndarray]]
    state: dict[str, Any]
    history: dict[str, list[float]]
    backend: str


def supports_checkpoints(backend: Backend) -> bool:
    """Whether ``backend`` can save and restore its training state."""
    cls = type(backend)
    return (
        cls.get_training_state is not Backend.get_training_state
        and cls.set_training_state is not Backend.set_training_state
    )


def write(run_dir: Path, ckpt: Checkpoint) -> Path:
    """Write ``checkpoint.npz`` atomically: a reader sees the old one or the new one."""
    arrays: dict[str, np.ndarray] = {}
    for node, ws in ckpt.weights.items():
        for j, w in enumerate(ws):
            arrays[f"w/{node}/{j}"] = np.asarray(w)
    meta_state = {}
    for key, value in ckpt.state.items():
        if isinstance(value, np.ndarray):
            arrays[f"s/{key}"] = value
        else:
            meta_state[key] = value
    meta = {
        "format": FORMAT,
        "epoch": ckpt.epoch,
        "backend": ckpt.backend,
        "history": ckpt.history,
        "state": meta_state,
        "weights": {node: len(ws) for node, ws in ckpt.weights.items()},
    }
    arrays["meta"] = np.array(json.dumps(meta))
    path = run_dir / CHECKPOINT
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.savez(fh, **arrays)
    return path


def read(run_dir: Path) -> Checkpoint:
    """The checkpoint of ``run_dir``; a missing or damaged one is a :class:`RunDirError`."""
    path = Path(run_dir) / CHECKPOINT
    if not path.is_file():
        raise RunDirError(
            f"{run_dir} has no {CHECKPOINT}: the run finished no epoch, or its backend "
            "cannot save its training state",
            "train it again without --resume",
        )
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
        meta = json.loads(str(arrays.pop("meta")))
    except (ValueError, OSError, KeyError) as e:
        raise RunDirError(f"{path} is damaged: {e}", "train it again without --resume") from None
    if meta.get("format") != FORMAT:
        raise RunDirError(
            f"{path} was written in checkpoint format {meta.get('format')}, this specforge reads {FORMAT}",
            "resume it with the specforge version that wrote it, or train again",
        )
    weights = {
        node: [arrays[f"w/{node}/{j}"] for j in range(count)]
        for node, count in meta["weights"].items()
    }
    state = dict(meta["state"])
    state.update({k[2:]: v for k, v in arrays.items() if k.startswith("s/")})
    return Checkpoint(int(meta["epoch"]), weights, state, meta["history"], str(meta["backend"]))


class EpochCheckpoints(TrainingCallback):
    """Writes ``checkpoint.npz`` after every finished epoch whose figures are finite.

    ``history`` holds the epochs before this ``fit`` (a resumed run's), so the
    checkpoint always has the whole history.
    """

    def __init__(
        self,
        run_dir: Path,
        backend: Backend,
        model: Any,
        history: Mapping[str, list[float]] | None = None,
    ) -> None:
        self.run_dir, self.backend, self.model = run_dir, backend, model
        self.history: dict[str, list[float]] = {k: list(v) for k, v in (history or {}).items()}
        self.saved_epoch: int | None = None

    def on_epoch_end(self, epoch: int, logs: Mapping[str, float]) -> bool:
        values = {k: float(v) for k, v in logs.items()}
        for k, v in values.items():
            self.history.setdefault(k, []).append(v)
        if all(math.isfinite(v) for v in values.values()):
            write(
                self.run_dir,
                Checkpoint(
                    epoch + 1,
                    self.backend.get_weights(self.model),
                    self.backend.get_training_state(self.model),
                    self.history,
                    self.backend.name,
                ),
            )
            self.saved_epoch = epoch + 1
        return False


def restore(backend: Backend, model: Any, ckpt: Checkpoint) -> None:
    """Put a checkpoint's weights and training state into a freshly built ``model``."""
    backend.set_weights(model, ckpt.weights)
    backend.set_training_state(model, ckpt.state)


def merge_history(
    before: Mapping[str, list[float]], after: Mapping[str, list[float]]
) -> dict[str, list[float]]:
    """A resumed run's history: the checkpoint's epochs, then the new ones."""
    keys = list(before) + [k for k in after if k not in before]
    return {k: [*before.get(k, []), *after.get(k, [])] for k in keys}


def for_resume(run_dir: str | Path) -> tuple[Path, Checkpoint]:
    """The resolved spec and the last checkpoint of the run to resume."""
    path = Path(run_dir)
    if not path.is_dir():
        raise RunDirError(
            f"{path}: no such run directory", "pass the directory that `specforge train` printed"
        )
    spec = path / "spec.yaml"
    if not spec.is_file():
        raise RunDirError(
            f"{path} has no spec.yaml: it is not a run directory",
            "pass the directory that `specforge train` printed",
        )
    return spec, read(path)
