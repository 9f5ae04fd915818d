"""TensorBoard event files read back with TensorBoard's own reader, ``specforge runs``,
and the warning for a training loss that does not move."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from backend_params import backends

from specforge.training import tensorboard as tb
from specforge.training.health import flat_loss

ROOT = Path(__file__).resolve().parents[2]


def read_events(folder: Path):
    accumulator = pytest.importorskip(
        "tensorboard.backend.event_processing.event_accumulator"
    ).EventAccumulator
    ea = accumulator(str(folder))
    ea.Reload()
    return ea


def test_crc32c_and_record_framing_follow_the_tfrecord_format():
    assert tb.crc32c(b"123456789") == 0xE3069283  # the CRC-32C check value
    rec = tb.record(b"abc")
    assert rec[:8] == (3).to_bytes(8, "little") and rec[12:15] == b"abc" and len(rec) == 19


@pytest.fixture(scope="module", params=backends("numpy", "keras"))
def run(request, tmp_path_factory):
    from specforge.training import train

    out = tmp_path_factory.mktemp(f"tb-{request.param}") / "digits"
    return train(
        ROOT / "specs" / "digits_mlp.yaml",
        backend=request.param,
        out=out,
        epochs=3,
        progress="quiet",
    )


def test_every_history_and_test_figure_is_a_scalar_tensorboard_reads_back(run):
    with open(run.run_dir / "history.csv", newline="") as fh:
        history = list(csv.DictReader(fh))
    metrics = json.loads((run.run_dir / "metrics.json").read_text())
    root = run.run_dir / "tensorboard"
    assert run.artefacts["tensorboard"] == root
    train, validation = read_events(root / "train"), read_events(root / "validation")
    assert sorted(train.Tags()["scalars"]) == ["epoch_accuracy", "epoch_loss"]
    assert sorted(validation.Tags()["scalars"]) == ["epoch_accuracy", "epoch_loss"]
    for key in history[0]:
        if key == "epoch":
            continue
        ea = validation if key.startswith("val_") else train
        events = ea.Scalars("epoch_" + key.removeprefix("val_"))
        assert [e.step for e in events] == [1, 2, 3]
        assert [e.value for e in events] == pytest.approx(
            [float(row[key]) for row in history], rel=1e-6
        )
    test = read_events(root / "test")
    for key, value in metrics["test"].items():
        (event,) = test.Scalars(f"epoch_{key}")
        assert (event.step, event.value) == (3, pytest.approx(value, rel=1e-6))
    (text,) = train.Tensors("spec")
    spec = (run.run_dir / "spec.yaml").read_text()
    assert text.tensor_proto.string_val[0].decode() == "```yaml\n" + spec + "\n```"
    assert train.SummaryMetadata("spec").plugin_data.plugin_name == "text"


def test_rewriting_a_runs_events_replaces_the_old_files(tmp_path):
    for losses in ([3.0, 2.0], [3.0, 2.0, 1.0]):
        tb.write_run(tmp_path, {"loss": losses}, spec_text="name: m")
    assert len(list((tmp_path / "tensorboard" / "train").iterdir())) == 1
    assert [
        e.value for e in read_events(tmp_path / "tensorboard" / "train").Scalars("epoch_loss")
    ] == [
        3.0,
        2.0,
        1.0,
    ]


def test_runs_lists_status_backend_epochs_and_final_figures(run, cli_run):
    parent = run.run_dir.parent
    (parent / "killed").mkdir()
    (parent / "killed" / "spec.yaml").write_text("name: x\n")
    res = cli_run("runs", str(parent))
    assert res.exit_code == 0, res.output
    lines = res.stdout.splitlines()
    assert lines[0].split() == ["run", "status", "backend", "epochs", "final"]
    m = run.metrics
    assert lines[1].split()[:4] == ["digits", "completed", m["backend"], "3/3"]
    assert lines[1].endswith(
        f"test: loss {m['test']['loss']:.4f}, accuracy {m['test']['accuracy']:.4f}"
    )
    assert lines[2].split() == ["killed", "incomplete", "-", "-", "-"]
    data = json.loads(cli_run("runs", str(parent), "--format", "json").stdout)
    assert [(r["run"], r["status"], r["split"]) for r in data] == [
        ("digits", "completed", "test"),
        ("killed", "incomplete", None),
    ]
    assert data[0]["final"] == m["test"] and data[0]["epochs_run"] == 3
    (parent / "killed" / "spec.yaml").unlink()
    (parent / "killed").rmdir()


def test_runs_of_a_missing_folder_is_a_usage_error(cli_run, tmp_path):
    res = cli_run("runs", str(tmp_path / "nope"))
    assert res.exit_code == 2 and "no such folder" in res.stderr


@pytest.mark.parametrize(
    ("losses", "flat"),
    [
        ([1.0, 0.5, 0.5, 0.5, 0.5], "from epoch 2 to epoch 5"),
        ([1.0, 0.5, 0.5, 0.5, 0.4], None),  # two unchanged epochs only
        ([2.0, 2.0, 2.0, 2.0], "from epoch 1 to epoch 4"),
        ([1.0, 1.0 + 1e-6, 1.0 + 2e-6, 1.0 + 3e-6], None),  # slow, but moving
    ],
)
def test_a_flat_training_loss_is_found(losses, flat):
    message = flat_loss(losses)
    assert (message is None) if flat is None else (flat in message)


def test_a_vanishing_learning_rate_run_warns_on_stderr_and_in_metrics(cli_run, tmp_path):
    spec = tmp_path / "zero.yaml"
    text = (ROOT / "specs" / "digits_mlp.yaml").read_text()
    spec.write_text(
        text.replace("learning_rate: 0.01", "learning_rate: 1.0e-12").replace(
            "epochs: 15", "epochs: 4"
        )
    )
    res = cli_run("train", str(spec), "--backend", "numpy", "--out", str(tmp_path / "run"), "-q")
    assert res.exit_code == 0, res.output
    assert "warning: the training loss did not change from epoch 1 to epoch 4" in res.stderr
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert "are all units dead" in metrics["warnings"][0]
