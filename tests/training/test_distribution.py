"""train.distribution with real processes: 2 logical CPU devices, 2 workers, a killed worker.

Tolerance: every run here trains on the same global batches in the same order
(shuffle off; the distributed input cuts each global batch of 32 into one
contiguous piece per replica, and 256 training samples divide into batches and
pieces evenly), so each step's gradient is the same mean over the same samples;
only the order of float32 additions differs (a sum of two half-batch means
instead of one mean). That changes a loss of order 1-10 by a few ulps per step;
rtol 1e-5 (about 80 float32 ulps) leaves room for that over 2 epochs of 8 steps
and still catches any real difference (a sample seen twice, a wrong batch split
or a loss not averaged over the workers moves the loss by more than 1e-3).

A run resumed on the same workers does the very same arithmetic in the same
order as the uninterrupted run (weights and optimizer slots restored bit for
bit, the same shuffled global batches): measured identical. RESUME_RTOL 1e-6
(about 8 ulps) leaves room only for a CPU kernel that splits a reduction
differently; resuming with the wrong epoch's shuffle order moved the third
epoch's loss by 3.6e-3. A resume on another number of workers compares with
RTOL, for the reason above.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from specforge.training import checkpoint

pytest.importorskip("tensorflow")

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
RTOL = 1e-5
#: A resumed run against the uninterrupted one on the same workers (see above).
RESUME_RTOL = 1e-6
SPEC = """specforge: 2
name: tiny_{name}
inputs:
  - {{name: features, shape: [8]}}
nodes:
  - {{name: hidden, type: Dense, units: 16, activation: relu}}
  - {{name: output, type: Dense, units: 1}}
outputs:
  - {{node: output, loss: mean_squared_error}}
optimizer: {{type: sgd, learning_rate: 0.01}}
data:
  dataset: {{type: csv, path: t.csv, target: target}}
  split: {{test: 0.2, validation: 0, seed: 0}}
  preprocess: [{{type: standard_scaler}}]
train:
  epochs: {epochs}
  batch_size: 32
  seed: 0
  shuffle: {shuffle}
  distribution: {{strategy: {strategy}, devices: 2, timeout: {timeout}}}
"""


def _env() -> dict[str, str]:
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONUNBUFFERED="1")
    env["PYTHONPATH"] = os.pathsep.join(
        [str(ROOT), *(str(p) for p in (ROOT / "plugins").glob("*/src"))]
        + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])
    )
    env.pop("TF_CONFIG", None)
    return env


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("dist")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(320, 8))
    y = x @ rng.normal(size=8) + 0.1 * rng.normal(size=320)
    with open(root / "t.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow([*(f"f{i}" for i in range(8)), "target"])
        w.writerows([*map(float, r), float(t)] for r, t in zip(x, y, strict=True))
    return root


def _spec(
    work: Path, strategy: str, epochs: int = 2, timeout: float = 60, shuffle: bool = False
) -> Path:
    path = work / f"{strategy}-{epochs}{'-shuffled' * shuffle}.yaml"
    path.write_text(
        SPEC.format(
            name=strategy,
            strategy=strategy,
            epochs=epochs,
            timeout=timeout,
            shuffle=str(shuffle).lower(),
        )
    )
    return path


def _train(work: Path, spec: Path | None, out: str, *extra: str, **kw: object) -> subprocess.Popen:
    """``specforge train SPEC --out OUT ...``, or ``specforge train --resume OUT ...`` without SPEC."""
    what = [str(spec), "--out", out] if spec is not None else ["--resume", out]
    return subprocess.Popen(
        [sys.executable, "-m", "specforge", "train", *what, *extra],
        cwd=work,
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        **kw,  # type: ignore[arg-type]
    )


def _history(run: Path) -> list[float]:
    with open(run / "history.csv") as fh:
        return [float(r["loss"]) for r in csv.DictReader(fh)]


def _free_ports(n: int) -> list[int]:
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


@pytest.fixture(scope="module")
def single(work: Path) -> list[float]:
    p = _train(work, _spec(work, "none"), "runs/single", "-q")
    out, _ = p.communicate(timeout=300)
    assert p.returncode == 0, out
    return _history(work / "runs/single")


def test_mirrored_two_logical_cpus_matches_one_device(work: Path, single: list[float]) -> None:
    p = _train(work, _spec(work, "mirrored"), "runs/mirrored", "-q")
    out, _ = p.communicate(timeout=300)
    assert p.returncode == 0, out
    run = work / "runs/mirrored"
    np.testing.assert_allclose(_history(run), single, rtol=RTOL)
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["replicas"] == 2 and metrics["global_batch_size"] == 32
    assert metrics["distribution"] == "mirrored"


def test_two_workers_match_one_device_and_chief_writes_the_run(
    work: Path, single: list[float]
) -> None:
    spec = _spec(work, "multi_worker")
    workers = ",".join(f"127.0.0.1:{p}" for p in _free_ports(2))
    procs = [
        _train(work, spec, "runs/mw", "-q", "--workers", workers, "--worker-index", str(i))
        for i in (1, 0)
    ]
    outs = [p.communicate(timeout=300)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    run = work / "runs/mw"
    np.testing.assert_allclose(_history(run), single, rtol=RTOL)
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["workers"] == 2 and metrics["replicas"] == 2
    assert metrics["status"] == "completed" and "test" in metrics
    for name in ("spec.yaml", "data.json", "model.keras", "history.csv", "learning_curves.png"):
        assert (run / name).is_file(), name
    # Nothing else beside the run directory: no partial folder, no worker folder.
    assert sorted(
        p.name for p in (work / "runs").iterdir() if "mw" in p.name or p.name.startswith(".")
    ) == ["mw"]


def _cluster(work: Path, spec: Path | None, out: str, *extra: str, n: int = 2) -> list[str]:
    """Run ``n`` workers of one cluster to the end; every one must exit 0. Their outputs."""
    workers = ",".join(f"127.0.0.1:{p}" for p in _free_ports(n))
    procs = [
        _train(work, spec, out, *extra, "--workers", workers, "--worker-index", str(i))
        for i in reversed(range(n))
    ]
    outs = [p.communicate(timeout=300)[0] for p in procs]
    assert [p.returncode for p in procs] == [0] * n, outs
    return outs


def _leftovers(work: Path) -> list[str]:
    """Hidden entries beside the run directories: staging folders, locks, backups."""
    return sorted(p.name for p in (work / "runs").iterdir() if p.name.startswith("."))


def test_two_workers_resume_from_the_chiefs_checkpoint(work: Path) -> None:
    spec = _spec(work, "multi_worker", epochs=3, shuffle=True)
    _cluster(work, spec, "runs/res-part", "-q", "--epochs", "2")
    _cluster(work, spec, "runs/res-whole", "-q")
    shutil.copytree(work / "runs/res-part", work / "runs/res-one")  # resumed by one worker below
    _cluster(work, None, "runs/res-part", "-q", "--epochs", "3")
    run, whole = work / "runs/res-part", work / "runs/res-whole"
    assert len(_history(run)) == 3
    np.testing.assert_allclose(_history(run), _history(whole), rtol=RESUME_RTOL)
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["status"] == "completed" and metrics["resumed_from_epoch"] == 2
    assert metrics["epochs_run"] == 3 and metrics["workers"] == 2 and "test" in metrics
    assert metrics["last_checkpoint"] == {"file": "checkpoint.npz", "epoch": 3}
    for name in ("spec.yaml", "data.json", "model.keras", "history.csv", "learning_curves.png"):
        assert (run / name).is_file(), name
    assert _leftovers(work) == []
    # Another number of workers continues the same run: batch_size is the global batch,
    # cut into the same pieces, so only the order of float32 additions differs (RTOL).
    _cluster(work, None, "runs/res-one", "-q", "--epochs", "3", n=1)
    np.testing.assert_allclose(_history(work / "runs/res-one"), _history(whole), rtol=RTOL)
    # A multi-worker run resumed without a cluster: told how to give one.
    p = _train(work, None, "runs/res-part", "--epochs", "4")
    out, _ = p.communicate(timeout=120)
    assert p.returncode == 2 and "TF_CONFIG is not set" in out and "--workers" in out, out


def test_killed_worker_ends_the_other_with_exit_2_and_the_run_resumes(work: Path) -> None:
    timeout = 15
    spec = _spec(work, "multi_worker", epochs=100_000, timeout=timeout)
    workers = ",".join(f"127.0.0.1:{p}" for p in _free_ports(2))
    victim = _train(
        work,
        spec,
        "runs/killed",
        "--workers",
        workers,
        "--worker-index",
        "1",
        start_new_session=True,
    )
    chief = _train(
        work,
        spec,
        "runs/killed",
        "--workers",
        workers,
        "--worker-index",
        "0",
        start_new_session=True,
    )
    try:
        # Wait until worker 1 finishes its second epoch: the chief has checkpointed its
        # first (the second epoch's steps need the chief, which checkpoints in between).
        assert victim.stdout is not None
        deadline = time.monotonic() + 240
        for line in victim.stdout:
            if line.startswith("epoch 2/") or time.monotonic() > deadline:
                break
        os.killpg(victim.pid, signal.SIGKILL)
        killed_at = time.monotonic()
        out, _ = chief.communicate(timeout=timeout + 60)
        waited = time.monotonic() - killed_at
    finally:
        for p in (victim, chief):
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
    assert chief.returncode == 2, out
    assert waited < timeout + 30, waited
    assert "error:" in out and ("worker" in out or "cluster" in out), out
    assert "specforge train --resume" in out and "on every worker" in out, out
    for p in (victim, chief):  # no process left
        with pytest.raises(ProcessLookupError):
            os.killpg(p.pid, 0)
    # The chief's run is published whole, as failed, with its last checkpoint; no
    # staging folder, lock or worker folder is left.
    run = work / "runs/killed"
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["status"] == "failed" and metrics["workers"] == 2, metrics
    assert metrics["message"].startswith("training failed"), metrics
    epoch = metrics["last_checkpoint"]["epoch"]
    assert epoch >= 1 and checkpoint.read(run).epoch == epoch
    for name in ("spec.yaml", "data.json", "preprocessors.json", "checkpoint.npz"):
        assert (run / name).is_file(), name
    assert _leftovers(work) == []
    # Both workers resume it from the chief's checkpoint, one epoch further, in place.
    _cluster(work, None, "runs/killed", "-q", "--epochs", str(epoch + 1))
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["status"] == "completed" and metrics["resumed_from_epoch"] == epoch
    assert len(_history(run)) == epoch + 1 and (run / "model.keras").is_file()
    assert _leftovers(work) == []


def test_a_worker_whose_peer_never_starts_exits_2(work: Path) -> None:
    timeout = 10
    spec = _spec(work, "multi_worker", timeout=timeout)
    workers = ",".join(f"127.0.0.1:{p}" for p in _free_ports(2))
    p = _train(work, spec, "runs/lonely", "-q", "--workers", workers, "--worker-index", "0")
    out, _ = p.communicate(timeout=timeout + 120)
    assert p.returncode == 2, out
    assert "never started" in out and "train.distribution.timeout is 10 s" in out
    assert not (work / "runs/lonely").exists()
    assert not [q for q in (work / "runs").iterdir() if q.name.startswith(".")]
