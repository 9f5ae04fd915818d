"""Where a multi-worker run is written: the chief's staged run, kept for ``--resume`` if it fails.

The chief of a ``strategy: multi_worker`` run builds its run in the same locked
temporary sibling folder as a single-process run (:mod:`.staging`) and
publishes it whole. A run that stops after at least one finished epoch (its
``checkpoint.npz`` exists) is published too, with status ``failed`` or
``interrupted`` in ``metrics.json``, so ``specforge train --resume RUN_DIR``
continues it; one that stops before its first checkpoint leaves nothing. The
other workers train in a private temporary folder that they remove.

A chief stops in one of three ways, and each ends in :func:`salvage`:

* an exception (TensorFlow reporting a dead peer, Ctrl-C), in the process;
* its own watchdog, from the watchdog thread, before ``os._exit(2)``;
* its supervisor killing it while TensorFlow holds the interpreter: the
  supervisor reads the line :func:`staged` registered (:func:`salvage_entry`).
"""

from __future__ import annotations

import contextlib
import json
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from . import checkpoint as ckpts
from . import rundir, staging
from .distribute import Cluster, register_stage

#: What a dying multi-worker process must do with its folder (the watchdog runs them).
CLEANUP: list[Callable[[], None]] = []

#: The message of a run ended by a watchdog or supervisor.
STALLED = "training failed: no progress from the cluster within train.distribution.timeout"


def clean_up() -> None:
    """Salvage or remove every folder of this process (called by the watchdog)."""
    for action in list(CLEANUP):
        with contextlib.suppress(Exception):
            action()


def unfinished(exc: BaseException, after_fit: bool) -> tuple[str, str]:
    """The status and message of a run that ``exc`` stopped."""
    if isinstance(exc, KeyboardInterrupt):
        return "interrupted", "interrupted by the user" + (
            " after training, while saving or evaluating" if after_fit else ""
        )
    what = getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"
    return "failed", f"training failed: {what}"


def _checkpoint_epoch(stage: Path) -> int | None:
    """The epoch of ``stage``'s checkpoint (only its small ``meta`` member is read)."""
    with (
        contextlib.suppress(OSError, ValueError, KeyError),
        np.load(stage / ckpts.CHECKPOINT, allow_pickle=False) as data,
    ):
        return int(json.loads(str(data["meta"]))["epoch"])
    return None


def salvage(
    place: staging.RunPlace, name: str, backend: str, workers: int, status: str, message: str
) -> Path | None:
    """Publish the chief's unfinished run if it finished an epoch; else remove it.

    Returns where the run now is, or None. The published run replaces an
    unfinished run (a resumed one: its checkpoint is newer) but never a finished
    one, which it is kept beside (:meth:`staging.RunPlace.publish`).
    """
    stage = place.staging
    epoch = _checkpoint_epoch(stage)
    if epoch is None:
        shutil.rmtree(stage, ignore_errors=True)
        return None
    metrics: dict[str, Any] = {"spec": name, "status": status, "backend": backend}
    with contextlib.suppress(OSError, ValueError):
        if (stage / rundir.METRICS).is_file():
            metrics = rundir.read_json(stage, rundir.METRICS)
    if metrics.get("status") in staging.FINISHED or "status" not in metrics:
        metrics["status"] = status
    metrics.update(
        message=message,
        workers=workers,
        last_checkpoint={"file": ckpts.CHECKPOINT, "epoch": epoch},
    )
    try:
        rundir.write_json(stage / rundir.METRICS, metrics)
        kept = place.publish(str(metrics["status"]))
    except OSError:
        return None
    print(
        f"note: the run is kept in {kept} ({metrics['status']}, {epoch} epoch(s) done): "
        f"continue it with `specforge train --resume {kept}` on every worker",
        file=sys.stderr,
        flush=True,
    )
    return kept


def entry_line(place: staging.RunPlace, name: str, backend: str, workers: int) -> str:
    """The line the chief registers with its supervisor (:func:`salvage_entry` reads it)."""
    return json.dumps(
        {
            "stage": str(place.staging),
            "final": str(place.final),
            "spec": name,
            "backend": backend,
            "workers": workers,
        }
    )


def salvage_entry(line: str) -> None:
    """In the supervisor, after it killed its worker: salvage the stage ``line`` names.

    ``line`` is a path (a folder to remove) or the JSON :func:`staged` registered
    for the chief; the dead worker's lock is free, so it is taken here.
    """
    if not line.startswith("{"):
        shutil.rmtree(line, ignore_errors=True)
        return
    entry = json.loads(line)
    stage, final = Path(entry["stage"]), Path(entry["final"])
    if not stage.is_dir():
        return
    lock = staging.DirLock(final.parent / f".{final.name}.lock")
    try:
        lock.acquire()
    except (staging.LockBusy, OSError):  # someone else writes there now: keep out of it
        shutil.rmtree(stage, ignore_errors=True)
        return
    place = staging.RunPlace(final, lock)
    place.staging = stage
    with place:
        salvage(place, entry["spec"], entry["backend"], int(entry["workers"]), "failed", STALLED)


@contextlib.contextmanager
def staged(
    out: Any, runs_root: Any, name: str, backend: str, cluster: Cluster
) -> Iterator[tuple[Path, Callable[[str], Path]]]:
    """The folder this worker trains in, and ``finish(status)`` that publishes the chief's run.

    ``out`` is the run directory (``--out``, or the ``--resume`` directory the
    chief rewrites); without it the chief claims ``runs_root/<name>-<time>``.
    """
    if not cluster.is_chief:  # other workers write nothing next to the run directory
        stage = Path(tempfile.mkdtemp(prefix=f"specforge-worker{cluster.task_index}-"))

        def remove() -> None:
            shutil.rmtree(stage, ignore_errors=True)

        CLEANUP.append(remove)
        register_stage(str(stage))
        try:
            yield stage, lambda status: stage
        finally:
            remove()
            CLEANUP.remove(remove)
        return
    place = (
        staging.claim_out_dir(out, overwrite=True)
        if out is not None
        else staging.claim_new_run_dir(name, runs_root)
    )
    with place:

        def on_stall() -> None:  # the process ends with os._exit: release the lock here
            salvage(place, name, backend, cluster.workers, "failed", STALLED)
            place.lock.release()

        CLEANUP.append(on_stall)
        register_stage(entry_line(place, name, backend, cluster.workers))
        try:
            yield place.staging, place.publish
        except (Exception, KeyboardInterrupt) as exc:
            if place.published is None:
                after_fit = (place.staging / rundir.HISTORY).is_file()
                status, message = unfinished(exc, after_fit)
                salvage(place, name, backend, cluster.workers, status, message)
            raise
        finally:
            CLEANUP.remove(on_stall)


__all__ = [
    "CLEANUP",
    "clean_up",
    "entry_line",
    "salvage",
    "salvage_entry",
    "staged",
    "unfinished",
]
