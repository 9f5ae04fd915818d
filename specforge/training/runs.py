"""The runs under a folder, for ``specforge runs``: one summary per run directory.

A run directory is a folder with a ``spec.yaml``; its ``metrics.json`` (written
last) says how it ended. A folder with a spec but no metrics is a run in progress
or one that was killed (status ``incomplete``).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from . import rundir


@dataclass
class RunSummary:
    run: str
    path: str
    spec: str | None
    status: str
    backend: str | None
    epochs_run: int | None
    epochs_requested: int | None
    #: Which split ``final`` comes from: test, validation, or the last epoch's history.
    split: str | None
    final: dict[str, float] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _last_epoch(path: Path) -> dict[str, float]:
    import csv

    try:
        with open(path / rundir.HISTORY, newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
    except OSError:
        return {}
    if not rows:
        return {}
    return {k: float(v) for k, v in rows[-1].items() if k != "epoch" and v not in ("", None)}


def summarise(path: Path) -> RunSummary:
    """The summary of one run directory."""
    try:
        m = json.loads((path / rundir.METRICS).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        m = None
    if m is None:
        return RunSummary(path.name, str(path), None, "incomplete", None, None, None, None)
    split, final = next(
        ((s, m[s]) for s in ("test", "validation") if isinstance(m.get(s), dict)),
        ("history", _last_epoch(path)),
    )
    return RunSummary(
        path.name,
        str(path),
        m.get("spec"),
        str(m.get("status", "unknown")),
        m.get("backend"),
        m.get("epochs_run"),
        m.get("epochs_requested"),
        split if final else None,
        dict(final),
        list(m.get("warnings", [])),
    )


def list_runs(root: str | os.PathLike[str] = "runs") -> list[RunSummary]:
    """Every run directory directly under ``root`` (or ``root`` itself), by name."""
    base = Path(root)
    if (base / rundir.SPEC).is_file():
        return [summarise(base)]
    if not base.is_dir():
        return []
    return [summarise(p) for p in sorted(base.iterdir()) if (p / rundir.SPEC).is_file()]
