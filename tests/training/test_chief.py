"""What a multi-worker chief's supervisor does with the run of a chief it had to kill.

The supervisor reads the line the chief registered (:func:`chief.entry_line`)
and, the dead chief's lock being free, publishes its staged run as failed if it
holds a checkpoint, or removes it. Real folders and locks; no cluster needed.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from specforge.training import checkpoint as ckpts
from specforge.training import chief, staging
from specforge.training.rundir import METRICS, SPEC


def _staged_chief(final: Path, epoch: int | None) -> str:
    """A chief's claimed place with a spec (and a checkpoint after ``epoch``), then killed:
    its lock is released as the system releases a dead process's ``flock``."""
    place = staging.claim_out_dir(final, overwrite=True)
    (place.staging / SPEC).write_text("# resolved by specforge\n", encoding="utf-8")
    if epoch is not None:
        ckpts.write(
            place.staging,
            ckpts.Checkpoint(epoch, {"d": [np.zeros(2)]}, {}, {"loss": [1.0] * epoch}, "keras"),
        )
    assert place.lock._fd is not None
    os.close(place.lock._fd)  # the flock goes with the dead process; the lock file stays
    place.lock._fd = None
    return chief.entry_line(place, "tiny", "keras", 2)


def _hidden(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if p.name.startswith("."))


def test_a_killed_chief_with_a_checkpoint_is_published_as_failed(tmp_path: Path, capsys) -> None:
    final = tmp_path / "runs" / "big"
    chief.salvage_entry(_staged_chief(final, epoch=3))
    assert capsys.readouterr().err == (
        f"note: the run is kept in {final.resolve()} (failed, 3 epoch(s) done): "
        f"continue it with `specforge train --resume {final.resolve()}` on every worker\n"
    )
    metrics = json.loads((final / METRICS).read_text())
    assert metrics == {
        "spec": "tiny",
        "status": "failed",
        "backend": "keras",
        "message": chief.STALLED,
        "workers": 2,
        "last_checkpoint": {"file": "checkpoint.npz", "epoch": 3},
    }
    assert ckpts.read(final).epoch == 3 and (final / SPEC).is_file()
    assert _hidden(final.parent) == []  # no staging folder, no lock


def test_a_killed_chief_before_its_first_epoch_leaves_nothing(tmp_path: Path) -> None:
    final = tmp_path / "runs" / "big"
    chief.salvage_entry(_staged_chief(final, epoch=None))
    assert not final.exists() and _hidden(final.parent) == []


def test_a_failed_extension_never_replaces_the_finished_run(tmp_path: Path) -> None:
    final = tmp_path / "runs" / "big"
    final.mkdir(parents=True)
    done = {"spec": "tiny", "status": "completed", "backend": "keras"}
    (final / METRICS).write_text(json.dumps(done))
    chief.salvage_entry(_staged_chief(final, epoch=4))
    assert json.loads((final / METRICS).read_text()) == done
    (kept,) = [p for p in final.parent.iterdir() if p.name.startswith("big-failed-")]
    assert ckpts.read(kept).epoch == 4
    assert _hidden(final.parent) == []


def test_another_workers_folder_is_removed(tmp_path: Path) -> None:
    folder = tmp_path / "specforge-worker1-x"
    folder.mkdir()
    (folder / "checkpoint.npz").write_bytes(b"")
    chief.salvage_entry(str(folder))
    assert not folder.exists()
