"""Checkpoints, ``--resume`` and ``--weights``: a resumed run has the uninterrupted run's history."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from specforge.diagnostics import SpecError
from specforge.plugin import TrainingCallback
from specforge.training import checkpoint
from specforge.training.run import TrainError, train
from specforge.training.rundir import HISTORY, METRICS, SPEC

#: Shuffled mini-batches, Adam's slots and a validation split: what a resume must restore.
TINY = """\
specforge: 2
name: tiny_iris
inputs:
  - {name: x, shape: [4]}
nodes:
  - {name: hidden, type: Dense, units: 8, activation: relu}
  - {name: species, type: Dense, units: 3, activation: softmax}
outputs:
  - {node: species, loss: sparse_categorical_crossentropy, metrics: [accuracy]}
optimizer: {type: adam, learning_rate: 0.01}
data:
  dataset: {type: iris}
  split: {test: 0.2, validation: 0.2, seed: 0}
  preprocess: [{type: standard_scaler}]
train: {epochs: 5, batch_size: 16, seed: 3}
"""


@pytest.fixture
def spec(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.yaml"
    path.write_text(TINY, encoding="utf-8")
    return path


class InterruptAt(TrainingCallback):
    """Raises KeyboardInterrupt (a second Ctrl-C) in epoch ``epoch`` (0-based), before it ends.

    On Keras, batch callbacks come once per execution chunk (steps_per_execution),
    with the chunk's last batch index: the first one at or after batch 1 is used.
    """

    def __init__(self, epoch: int) -> None:
        self.epoch = epoch

    def on_batch_end(self, epoch: int, batch: int, logs) -> bool:
        if epoch == self.epoch and batch >= 1:
            raise KeyboardInterrupt
        return False


def _history(run_dir: Path) -> str:
    return (run_dir / HISTORY).read_text(encoding="utf-8")


def _close(a: str, b: str, rtol: float) -> bool:
    ra = [line.split(",") for line in a.strip().splitlines()]
    rb = [line.split(",") for line in b.strip().splitlines()]
    if ra[0] != rb[0] or len(ra) != len(rb):
        return False
    x = np.array([[float(v) for v in row] for row in ra[1:]])
    y = np.array([[float(v) for v in row] for row in rb[1:]])
    return bool(np.allclose(x, y, rtol=rtol, atol=0))


def _resume_equals_uninterrupted(spec: Path, tmp: Path, backend: str, rtol: float) -> None:
    q = {"progress": "quiet", "echo": lambda line: None}
    full = train(spec, backend=backend, out=tmp / "full", **q)
    assert full.status == "completed" and len(full.history["loss"]) == 5

    # Stopped after 2 epochs, then extended to 5.
    part = train(spec, backend=backend, out=tmp / "part", epochs=2, **q)
    assert part.metrics["last_checkpoint"] == {"file": "checkpoint.npz", "epoch": 2}
    resumed = train(resume=tmp / "part", epochs=5, **q)
    assert resumed.status == "completed" and resumed.metrics["resumed_from_epoch"] == 2
    # Interrupted in the middle of epoch 3, then resumed to the spec's 5 epochs.
    cut = train(spec, backend=backend, out=tmp / "cut", callbacks=(InterruptAt(2),), **q)
    assert cut.status == "interrupted" and len(cut.history["loss"]) == 2
    train(resume=tmp / "cut", **q)

    for other in ("part", "cut"):
        a, b = _history(tmp / "full"), _history(tmp / other)
        assert (a == b) if rtol == 0 else _close(a, b, rtol), (a, b)
    metrics = json.loads((tmp / "part" / METRICS).read_text())
    assert metrics["epochs_run"] == 5 and metrics["backend"] == backend
    assert np.isclose(metrics["test"]["loss"], full.metrics["test"]["loss"], rtol=max(rtol, 1e-12))


def test_numpy_resume_gives_exactly_the_uninterrupted_history(spec, tmp_path):
    _resume_equals_uninterrupted(spec, tmp_path, "numpy", 0)


@pytest.mark.keras
@pytest.mark.slow
def test_keras_resume_gives_the_uninterrupted_history(spec, tmp_path):
    pytest.importorskip("keras")
    _resume_equals_uninterrupted(spec, tmp_path, "keras", 1e-6)


def test_checkpoints_are_written_each_epoch_and_read_back(spec, tmp_path):
    run = train(spec, backend="numpy", out=tmp_path / "r", epochs=3, progress="quiet")
    ckpt = checkpoint.read(run.run_dir)
    assert ckpt.epoch == 3 and ckpt.backend == "numpy"
    assert ckpt.history["loss"] == run.history["loss"]
    assert set(ckpt.weights) == {"hidden", "species"}
    assert ckpt.state["optimizer.iterations"] == 3 * 6  # 96 samples in batches of 16
    assert any(k.startswith("optimizer.slot.") for k in ckpt.state)
    with np.load(run.run_dir / checkpoint.CHECKPOINT, allow_pickle=False) as data:
        assert "meta" in data.files  # no pickle anywhere
    assert not list(run.run_dir.glob("*.tmp*"))


def test_resume_records_the_backend_in_spec_yaml(spec, tmp_path):
    run = train(spec, backend="numpy", out=tmp_path / "r", epochs=1, progress="quiet")
    assert "backend: numpy" in (run.run_dir / SPEC).read_text()


def test_resuming_a_finished_run_needs_more_epochs(spec, tmp_path):
    train(spec, backend="numpy", out=tmp_path / "r", epochs=2, progress="quiet")
    with pytest.raises(TrainError, match="trained 2 of 2 epoch") as err:
        train(resume=tmp_path / "r", progress="quiet")  # the run asked for 2: it is finished
    assert "--epochs N with N > 2" in str(err.value.help)
    train(resume=tmp_path / "r", epochs=5, progress="quiet")
    with pytest.raises(TrainError, match="takes no SPEC"):
        train(spec, resume=tmp_path / "r")
    with pytest.raises(TrainError, match="resumes on numpy"):
        train(resume=tmp_path / "r", epochs=9, backend="keras")


def test_resume_without_a_checkpoint_is_a_clear_error(tmp_path):
    from specforge.training.rundir import RunDirError

    (tmp_path / "r").mkdir()
    (tmp_path / "r" / SPEC).write_text(TINY)
    with pytest.raises(RunDirError, match=r"no checkpoint\.npz"):
        train(resume=tmp_path / "r")


def test_fine_tuning_starts_from_the_trained_nodes_of_the_same_name(spec, tmp_path):
    first = train(spec, backend="numpy", out=tmp_path / "a", epochs=3, progress="quiet")
    wider = tmp_path / "wider.yaml"
    # 'species' keeps its shape, 'hidden' is renamed: it starts from scratch.
    wider.write_text(
        TINY.replace("name: hidden,", "name: hidden_b,").replace(
            "type: Dense, units: 3", "type: Dense, units: 3, inputs: [hidden_b]"
        )
    )
    notes: list[str] = []
    tuned = train(
        wider,
        backend="numpy",
        out=tmp_path / "b",
        epochs=1,
        weights=first.run_dir,
        progress="quiet",
        echo=notes.append,
    )
    assert tuned.metrics["weights"] == str(first.run_dir)
    assert any("1 node(s) start from" in n and "hidden_b start from scratch" in n for n in notes)


def test_fine_tuning_with_other_shapes_is_a_located_error(spec, tmp_path):
    first = train(spec, backend="numpy", out=tmp_path / "a", epochs=1, progress="quiet")
    other = tmp_path / "other.yaml"
    other.write_text(TINY.replace("units: 8", "units: 5"))
    with pytest.raises(SpecError) as err:
        train(other, backend="numpy", out=tmp_path / "b", weights=first.run_dir, progress="quiet")
    hidden, species = err.value.diagnostics  # both nodes' shapes changed
    assert hidden.code == "weights-mismatch" and hidden.file == str(other)
    assert (hidden.span.line, species.span.line) == (6, 7)
    assert "(4, 5)" in hidden.message and "(4, 8)" in hidden.message
    assert not (tmp_path / "b").exists()  # refused before the run directory is made


def test_cli_train_set_resume_and_weights(spec, tmp_path, cli_run):
    out = tmp_path / "run"
    first = cli_run(
        "train",
        str(spec),
        "--backend",
        "numpy",
        "--out",
        str(out),
        "-q",
        "--set",
        "train.epochs=2",
        "--set",
        "nodes.hidden.units=6",
    )
    assert first.exit_code == 0, first.output
    metrics = json.loads((out / METRICS).read_text())
    assert metrics["overrides"] == ["train.epochs=2", "nodes.hidden.units=6"]
    resolved = (out / SPEC).read_text()
    assert "units: 6" in resolved and "epochs: 2" in resolved
    more = cli_run("train", "--resume", str(out), "--epochs", "3", "-q")
    assert more.exit_code == 0, more.output
    assert len(_history(out).strip().splitlines()) == 4
    both = cli_run("train", str(spec), "--resume", str(out))
    assert both.exit_code == 2 and "not both" in both.stderr
    bad = cli_run("train", str(spec), "--set", "nodes.hiden.units=3")
    assert bad.exit_code == 1 and "--set:1:7: error[override-path]" in bad.stdout
    tuned = cli_run(
        "train", str(spec), "--backend", "numpy", "--out", str(tmp_path / "t"), "-q",
        "--set", "train.epochs=1", "--weights", str(out),
    )  # fmt: skip
    assert tuned.exit_code == 1 and "error[weights-mismatch]" in tuned.stdout


def test_cli_resume_of_a_one_process_run_refuses_workers(spec, tmp_path, cli_run, monkeypatch):
    monkeypatch.setenv("TF_CONFIG", "")  # --workers sets it in this process: restored after
    out = tmp_path / "run"
    first = cli_run("train", str(spec), "--backend", "numpy", "--out", str(out), "-q")
    assert first.exit_code == 0, first.output
    more = cli_run(
        "train", "--resume", str(out), "--epochs", "6",
        "--workers", "127.0.0.1:2222,127.0.0.1:2223", "--worker-index", "0",
    )  # fmt: skip
    assert more.exit_code == 2, more.output
    assert "trains in one process (its train.distribution.strategy is 'none')" in more.stderr
    assert "--weights RUN_DIR --workers" in more.stderr
    assert len(_history(out).strip().splitlines()) == 6  # untouched: 5 epochs and a header
