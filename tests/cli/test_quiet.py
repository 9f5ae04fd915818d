"""No TensorFlow, absl or oneDNN log line on stderr unless ``--debug`` (real processes).

TensorFlow writes them from C++ while it is imported, so only a fresh process
shows them: each command runs as ``python -m specforge`` with the user's
environment minus any TensorFlow logging setting.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("keras")

from specforge import quiet

ROOT = Path(__file__).resolve().parents[2]
TF_LINE = re.compile(r"absl|oneDNN|cpu_feature_guard|port\.cc|^[IWEF]\d{4} ", re.M)


def specforge(*args: str) -> subprocess.CompletedProcess[str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("TF_CPP_MIN_LOG_LEVEL", "TF_ENABLE_ONEDNN_OPTS", "SPECFORGE_DEBUG")
    }
    return subprocess.run(
        [sys.executable, "-m", "specforge", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=300,
    )


@pytest.mark.keras
def test_keras_commands_print_no_tensorflow_lines(tmp_path):
    run = tmp_path / "run"
    procs = {
        "train": specforge(
            "train", "specs/digits_mlp.yaml", "--epochs", "1", "--out", str(run), "--quiet"
        )
    }
    (tmp_path / "in.csv").write_text(",".join(["0.5"] * 64) + "\n")
    procs["evaluate"] = specforge("evaluate", str(run))
    procs["predict"] = specforge(
        "predict", str(run), str(tmp_path / "in.csv"), "-o", str(tmp_path / "out.csv")
    )
    procs["build"] = specforge("build", "specs/wide_deep.yaml", "-o", str(tmp_path / "m.keras"))
    procs["import"] = specforge("import", str(tmp_path / "m.keras"), "-o", str(tmp_path / "m.yaml"))
    for name, proc in procs.items():
        assert proc.returncode == 0, (name, proc.stderr)
        assert not TF_LINE.search(proc.stderr), (name, proc.stderr)
    # train owns its process: the digits MLP's small products run one thread per op.
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["tensorflow_threads"] == {
        "intra_op": 1,
        "inter_op": len(os.sched_getaffinity(0)),
    }


@pytest.mark.keras
def test_debug_leaves_tensorflows_logging_alone(tmp_path):
    proc = specforge("--debug", "build", "specs/wide_deep.yaml", "-o", str(tmp_path / "m.keras"))
    assert proc.returncode == 0, proc.stderr
    assert TF_LINE.search(proc.stderr), proc.stderr


def test_a_value_the_user_set_is_kept(monkeypatch):
    monkeypatch.setattr(quiet, "_debug", False)
    monkeypatch.delenv("SPECFORGE_DEBUG", raising=False)
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "1")
    assert not quiet.quiet_environment()
    assert os.environ["TF_CPP_MIN_LOG_LEVEL"] == "1"
    monkeypatch.delenv("TF_CPP_MIN_LOG_LEVEL")
    assert quiet.quiet_environment() and os.environ["TF_CPP_MIN_LOG_LEVEL"] == "3"
    monkeypatch.setattr(quiet, "_debug", True)
    monkeypatch.delenv("TF_CPP_MIN_LOG_LEVEL")
    assert not quiet.quiet_environment() and "TF_CPP_MIN_LOG_LEVEL" not in os.environ


def test_only_tensorflows_lines_are_dropped():
    dropped = [
        "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
        "I0000 00:00:1795830287.744494   27726 port.cc:153] oneDNN custom operations are on.",
        "I0000 00:00:1795829843.646519   11793 cpu_feature_guard.cc:227] This TensorFlow binary",
        "To enable the following instructions: AVX2 FMA, in other operations, rebuild",
    ]
    kept = ["UserWarning: something", "Traceback (most recent call last):", "error: x"]
    assert all(quiet.TF_LOG_LINE.match(line) for line in dropped)
    assert not any(quiet.TF_LOG_LINE.match(line) for line in kept)
