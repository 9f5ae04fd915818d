"""``specforge train`` on the real backends: the README's main job and the chapter's multi-input model.

Each test runs on every real backend installed (keras, numpy), and is skipped
with a reason for a backend that is missing. Keras runs take seconds each
(TensorFlow), so they are marked slow.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from backend_params import backends

ROOT = Path(__file__).resolve().parents[2]
SPECS = ROOT / "specs"


def read_metrics(run: Path) -> dict:
    return json.loads((run / "metrics.json").read_text())


@pytest.mark.parametrize("backend", backends("keras", "numpy"))
def test_digits_mlp_reaches_95_percent_test_accuracy_and_writes_every_artefact(
    backend, cli_run, tmp_path
):
    run = tmp_path / "run"
    result = cli_run(
        "train", str(SPECS / "digits_mlp.yaml"), "--backend", backend, "--out", str(run)
    )
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    m = read_metrics(run)
    assert m["status"] == "completed" and m["backend"] == backend and m["epochs_run"] == 15
    assert m["test"]["accuracy"] >= 0.95, m["test"]
    for name in (
        "spec.yaml",
        "data.json",
        "preprocessors.json",
        "preprocessors.npz",
        "history.csv",
        "metrics.json",
    ):
        assert (run / name).is_file(), name
    assert (run / f"model{'.keras' if backend == 'keras' else '.npz'}").is_file()
    for png in ("learning_curves.png", "predictions.png"):
        data = (run / png).read_bytes()
        assert data.startswith(b"\x89PNG") and len(data) > 20_000
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"digits_mlp: trained 15 epochs on {backend} in ")
    assert lines[1].startswith("  test: ") and f"accuracy {m['test']['accuracy']:.4f}" in lines[1]
    assert lines[2:] == [
        f"  run directory: {run}",
        f"  learning curves: {run / 'learning_curves.png'}",
        f"  predictions: {run / 'predictions.png'}",
        f"  tensorboard: {run / 'tensorboard'}",
    ]


@pytest.mark.parametrize("backend", backends("keras", "numpy"))
def test_two_inputs_and_an_auxiliary_output_train_with_per_output_losses(
    backend, cli_run, tmp_path
):
    run = tmp_path / "run"
    result = cli_run(
        "train",
        str(SPECS / "diabetes_wide_deep_aux.yaml"),
        "--backend",
        backend,
        "--out",
        str(run),
        "--epochs",
        "5",
        "-q",
    )
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader((run / "history.csv").open()))
    assert len(rows) == 5
    for key in (
        "loss",
        "output_loss",
        "aux_output_loss",
        "val_output_loss",
        "val_aux_output_loss",
        "output_mean_absolute_error",
    ):
        assert key in rows[0], key
    last = {k: float(v) for k, v in rows[-1].items()}
    first = {k: float(v) for k, v in rows[0].items()}
    assert last["loss"] < first["loss"]
    m = read_metrics(run)
    assert {"loss", "output_loss", "aux_output_loss"} <= set(m["test"])
    # The total is the 0.9 / 0.1 weighted sum of the outputs' losses.
    assert m["test"]["loss"] == pytest.approx(
        0.9 * m["test"]["output_loss"] + 0.1 * m["test"]["aux_output_loss"], rel=1e-4
    )
    data = json.loads((run / "data.json").read_text())
    assert data["feeds"] == {"wide_input": [0, 1, 2, 3, 4], "deep_input": [2, 3, 4, 5, 6, 7, 8, 9]}
    assert data["targets"] == {"output": [0], "aux_output": [0]}


@pytest.mark.parametrize("backend", backends("keras", "numpy"))
def test_same_spec_seed_and_backend_give_an_identical_history(backend, cli_run, tmp_path):
    for name in ("a", "b"):
        result = cli_run(
            "train",
            str(SPECS / "digits_mlp.yaml"),
            "--backend",
            backend,
            "--epochs",
            "3",
            "--out",
            str(tmp_path / name),
            "-q",
        )
        assert result.exit_code == 0, result.output
    assert (tmp_path / "a" / "history.csv").read_bytes() == (
        tmp_path / "b" / "history.csv"
    ).read_bytes()
    assert read_metrics(tmp_path / "a")["test"] == read_metrics(tmp_path / "b")["test"]


@pytest.mark.parametrize("backend", backends("keras", "numpy"))
def test_a_huge_learning_rate_on_unscaled_data_exits_3_naming_epoch_and_output(
    backend, cli_run, tmp_path
):
    text = (SPECS / "diabetes_wide_deep_aux.yaml").read_text()
    text = text.replace(
        "{type: adam, learning_rate: 0.05}", "{type: sgd, learning_rate: 1000000.0}"
    )
    text = text.replace("  preprocess:\n    - {type: standard_scaler}\n", "")
    spec = tmp_path / "nan.yaml"
    spec.write_text(text)
    run = tmp_path / "run"
    result = cli_run("train", str(spec), "--backend", backend, "--out", str(run))
    assert result.exit_code == 3, result.output
    assert "error: training diverged at epoch 1, batch " in result.stderr
    assert "the loss of output 'output' (output_loss) is " in result.stderr
    assert "RuntimeWarning" not in result.stderr and "Traceback" not in result.output
    m = read_metrics(run)
    assert m["status"] == "diverged" and (run / "history.csv").is_file()


def test_ctrl_c_in_a_real_process_stops_training_with_exit_130(tmp_path):
    """A real SIGINT to a real `specforge train`: exit 130, the run kept with status interrupted."""
    from specforge.registry import load_registry

    if "numpy" not in load_registry().backends:
        pytest.skip("backend 'numpy' is not installed")
    text = (
        (SPECS / "diabetes_wide_deep_aux.yaml").read_text().replace("epochs: 40", "epochs: 100000")
    )
    spec = tmp_path / "long.yaml"
    spec.write_text(text)
    run = tmp_path / "run"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "specforge",
            "train",
            str(spec),
            "--backend",
            "numpy",
            "--out",
            str(run),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        for line in proc.stderr:  # wait until training is under way
            if line.startswith("epoch 2/"):
                break
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, stdout + stderr
    assert "Traceback" not in stdout + stderr
    m = read_metrics(run)
    assert m["status"] == "interrupted" and m["epochs_run"] >= 2
    assert (run / "model.npz").is_file()


@pytest.mark.slow
def test_the_readme_main_job_runs_in_a_fresh_process(tmp_path):
    """`specforge train specs/digits_mlp.yaml` as the README says, from the repository root."""
    from specforge.registry import load_registry

    if "keras" not in load_registry().backends:
        pytest.skip("backend 'keras' is not installed")
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "specforge",
            "train",
            str(SPECS / "digits_mlp.yaml"),
            "--out",
            str(tmp_path / "run"),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "run directory: " in proc.stdout and "learning curves: " in proc.stdout
    assert read_metrics(tmp_path / "run")["test"]["accuracy"] >= 0.95
