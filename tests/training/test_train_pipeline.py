"""``specforge train`` / ``evaluate`` / ``predict`` end to end on the toy backend (fast, no framework).

The toy backend (toy_backend.py) honours the Backend contract, so these tests
pin the pipeline itself: artefacts, statuses, exit codes, determinism, the NaN
guard, Ctrl-C, early stopping, checkpoints, and reproducing a run's metrics.
"""

from __future__ import annotations

import csv
import json
import signal
from pathlib import Path

import numpy as np
import pytest
import toy_backend
from training_helpers import write_spec

ROOT = Path(__file__).resolve().parents[2]
DIGITS = (ROOT / "specs" / "digits_mlp.yaml").read_text(encoding="utf-8")
DIABETES = (ROOT / "specs" / "diabetes_wide_deep_aux.yaml").read_text(encoding="utf-8")
PNG = b"\x89PNG\r\n\x1a\n"


def spec(tmp_path: Path, text: str = DIGITS, name: str = "spec.yaml", **replace: str) -> str:
    text = text.replace("train: {epochs: 15,", "train: {epochs: 4,").replace(
        "train: {epochs: 40,", "train: {epochs: 4,"
    )
    for old, new in replace.items():
        old = old.replace("__", " ")
        assert old in text, old
        text = text.replace(old, new)
    return str(write_spec(tmp_path / name, text))


def train(cli_run, *args: str):
    result = cli_run("train", "--backend", "toy", *args)
    assert "Traceback" not in result.output
    assert result.exception is None, result.exception
    return result


def metrics(run: Path) -> dict:
    return json.loads((run / "metrics.json").read_text())


def test_train_writes_every_artefact_and_prints_where_they_are(toy, cli_run, tmp_path):
    run = tmp_path / "run"
    result = train(cli_run, spec(tmp_path), "--out", str(run))
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0].startswith("digits_mlp: trained 4 epochs on toy in ")
    assert f"  run directory: {run}" in result.stdout
    assert f"  learning curves: {run / 'learning_curves.png'}" in result.stdout
    assert f"  predictions: {run / 'predictions.png'}" in result.stdout
    assert "  test: loss " in result.stdout and "accuracy " in result.stdout
    files = sorted(p.name for p in run.iterdir())
    assert files == sorted(
        [
            "spec.yaml",
            "graph.svg",
            "data.json",
            "preprocessors.json",
            "preprocessors.npz",
            "model.npz",
            "history.csv",
            "metrics.json",
            "learning_curves.png",
            "predictions.png",
            "tensorboard",
        ]
    )
    assert "<svg" in (run / "graph.svg").read_text()
    for png in ("learning_curves.png", "predictions.png"):
        data = (run / png).read_bytes()
        assert data.startswith(PNG) and len(data) > 20_000
    m = metrics(run)
    assert m["status"] == "completed" and m["message"] is None
    assert (m["backend"], m["seed"], m["epochs_requested"], m["epochs_run"], m["batch_size"]) == (
        "toy",
        0,
        4,
        4,
        32,
    )
    assert m["samples"] == {"train": 1149, "validation": 288, "test": 360}
    assert set(m["test"]) == set(m["train"]) == set(m["validation"]) == {"loss", "accuracy"}
    rows = list(csv.reader((run / "history.csv").open()))
    assert rows[0] == ["epoch", "loss", "accuracy", "val_loss", "val_accuracy"]
    assert [r[0] for r in rows[1:]] == ["1", "2", "3", "4"]


def test_the_run_directory_holds_the_resolved_spec_with_defaults_and_absolute_paths(
    toy, cli_run, tmp_path
):
    from specforge.api import check_file

    table = tmp_path / "data" / "t.csv"
    table.parent.mkdir()
    rng = np.random.default_rng(0)
    table.write_text(
        "a,b,c,d,e,f,target\n"
        + "".join(",".join(f"{v:.5f}" for v in row) + "\n" for row in rng.normal(size=(60, 7)))
    )
    path = spec(
        tmp_path,
        DIABETES,
        **{
            "{type: diabetes}": "{type: csv, path: data/t.csv, target: target}",
            '"2:10"': '"2:6"',
            "shape: [8]": "shape: [4]",
        },
    )
    run = tmp_path / "run"
    assert train(cli_run, path, "--out", str(run), "--epochs", "2", "--seed", "7").exit_code == 0
    resolved = check_file(run / "spec.yaml")
    assert resolved.ok
    assert resolved.graph.data.dataset_params.path == str(table)
    assert resolved.graph.train.as_dict() == {
        "epochs": 2,
        "batch_size": 32,
        "seed": 7,
        "shuffle": True,
        "backend": "toy",  # the backend used: training the run's spec again trains there
    }
    assert resolved.graph.data.split.stratify is False
    assert (run / "spec.yaml").read_text().startswith("# resolved by specforge ")
    assert json.loads((run / "preprocessors.json").read_text())[0]["state"] == {
        "mean": {"npz": "0.mean"},
        "scale": {"npz": "0.scale"},
    }
    assert metrics(run)["epochs_run"] == 2 and metrics(run)["seed"] == 7


def test_the_default_run_directory_is_runs_name_time_relative_to_the_working_directory(
    toy, cli_run, tmp_path, monkeypatch
):
    path = spec(tmp_path)
    monkeypatch.chdir(tmp_path)
    first = train(cli_run, path, "-q", "--epochs", "1")
    second = train(cli_run, path, "-q", "--epochs", "1")
    runs = sorted((tmp_path / "runs").iterdir())
    assert len(runs) == 2 and all(r.name.startswith("digits_mlp-") for r in runs)
    assert f"run directory: {Path('runs') / runs[0].name}" in first.stdout + second.stdout


def test_same_spec_and_seed_give_an_identical_history_and_another_seed_does_not(
    toy, cli_run, tmp_path
):
    path = spec(tmp_path)
    for name, seed in (("a", "0"), ("b", "0"), ("c", "1")):
        assert (
            train(cli_run, path, "-q", "--seed", seed, "--out", str(tmp_path / name)).exit_code == 0
        )
    history = {n: (tmp_path / n / "history.csv").read_bytes() for n in "abc"}
    assert history["a"] == history["b"]
    assert history["a"] != history["c"]


def test_progress_is_one_line_per_epoch_off_a_terminal_and_nothing_with_quiet(
    toy, cli_run, tmp_path
):
    path = spec(tmp_path)
    loud = train(cli_run, path, "--out", str(tmp_path / "a"))
    lines = loud.stderr.splitlines()
    assert [line.split(" - ")[0] for line in lines] == [
        "epoch 1/4",
        "epoch 2/4",
        "epoch 3/4",
        "epoch 4/4",
    ]
    assert " - loss: " in lines[0] and " - val_loss: " in lines[0]
    quiet = train(cli_run, path, "--quiet", "--out", str(tmp_path / "b"))
    assert quiet.stderr == ""
    assert quiet.stdout.startswith("digits_mlp: trained 4 epochs")


NAN = {
    "learning_rate: 0.05": "learning_rate: 1000000.0",
    "type: adam": "type: sgd",
    "  preprocess:\n    - {type: standard_scaler}\n": "",
}


def test_a_nan_or_infinite_loss_exits_3_naming_the_epoch_and_the_output_and_keeps_the_history(
    toy, cli_run, tmp_path
):
    run = tmp_path / "run"
    result = train(cli_run, spec(tmp_path, DIABETES, **NAN), "--out", str(run))
    assert result.exit_code == 3, result.output
    assert "error: training diverged at epoch " in result.stderr
    assert "the loss of output 'output' (output_loss) is " in result.stderr
    assert (
        "help: lower optimizer.learning_rate (it is 1e+06), or scale the features" in result.stderr
    )
    m = metrics(run)
    assert m["status"] == "diverged" and "diverged at epoch" in m["message"]
    assert "test" not in m and not (run / "model.npz").exists()
    rows = list(csv.reader((run / "history.csv").open()))
    assert rows[0][:3] == ["epoch", "loss", "output_loss"] and len(rows) - 1 == m["epochs_run"] >= 1
    json.loads((run / "metrics.json").read_text())  # valid JSON: no NaN literals


def test_ctrl_c_stops_after_the_current_batch_exits_130_and_keeps_what_exists(
    toy, cli_run, tmp_path, monkeypatch
):
    monkeypatch.setattr(toy_backend.ToyBackend, "interrupt_at", (1, 3))
    run = tmp_path / "run"
    before = signal.getsignal(signal.SIGINT)
    result = train(cli_run, spec(tmp_path), "--out", str(run))
    assert result.exit_code == 130, result.output
    assert signal.getsignal(signal.SIGINT) is before  # the handler is put back
    m = metrics(run)
    assert m["status"] == "interrupted"
    assert (
        m["message"] == "interrupted by the user at epoch 2, batch 4"
    )  # the batch the Ctrl-C came in
    assert "test" not in m
    assert (
        (run / "model.npz").exists()
        and (run / "history.csv").exists()
        and (run / "learning_curves.png").exists()
    )
    assert "interrupted by the user at epoch 2" in result.stderr


def test_a_second_ctrl_c_stops_at_once_and_still_keeps_what_exists(
    toy, cli_run, tmp_path, monkeypatch
):
    monkeypatch.setattr(toy_backend.ToyBackend, "interrupt_at", (1, 3))
    monkeypatch.setattr(toy_backend.ToyBackend, "interrupts", 2)
    run = tmp_path / "run"
    result = train(cli_run, spec(tmp_path), "--out", str(run))
    assert result.exit_code == 130, result.output
    m = metrics(run)
    assert m["status"] == "interrupted" and m["epochs_run"] == 1  # the epoch in progress is lost
    assert (run / "model.npz").exists()


def test_the_second_ctrl_c_raises_keyboard_interrupt_from_the_handler():
    from specforge.training.callbacks import Guard, sigint_stops

    guard = Guard(["out"])
    with sigint_stops(guard):
        handler = signal.getsignal(signal.SIGINT)
        handler(signal.SIGINT, None)
        assert guard.interrupted and guard.on_batch_end(0, 0, {"loss": 1.0})
        with pytest.raises(KeyboardInterrupt):
            handler(signal.SIGINT, None)


def test_early_stopping_stops_restores_the_best_weights_and_exits_0(toy, cli_run, tmp_path):
    path = spec(
        tmp_path,
        **{
            "seed: 0}\n": "seed: 0, early_stopping: {monitor: loss, patience: 1, min_delta: 100}}\n"
        },
    )
    run = tmp_path / "run"
    result = train(cli_run, path, "--out", str(run))
    assert result.exit_code == 0, result.output
    m = metrics(run)
    assert m["status"] == "early_stopped" and m["epochs_run"] == 2
    assert m["best_epoch"] == 1 and m["restored_best"] is True
    assert "stopped early at epoch 2: loss did not improve for 1 epoch(s)" in result.stdout


def test_checkpoint_keeps_the_best_model_in_the_run_directory(toy, cli_run, tmp_path):
    path = spec(tmp_path, **{"seed: 0}\n": "seed: 0, checkpoint: {monitor: val_accuracy}}\n"})
    run = tmp_path / "run"
    assert train(cli_run, path, "--out", str(run), "-q").exit_code == 0
    m = metrics(run)
    assert (run / "best.npz").is_file() and m["checkpoint"]["file"] == "best.npz"
    history = {
        k: [float(r[k]) for r in csv.DictReader((run / "history.csv").open())]
        for k in ("val_accuracy",)
    }
    assert m["checkpoint"]["val_accuracy"] == max(history["val_accuracy"])


def test_overwrite_replaces_a_finished_run_and_keeps_the_users_own_files(toy, cli_run, tmp_path):
    run = tmp_path / "run"
    train(cli_run, spec(tmp_path), "--out", str(run), "-q")
    (run / "best.npz").write_bytes(b"stale")
    (run / "notes.txt").write_text("mine")
    path = spec(tmp_path, name="other.yaml", **{"seed: 0}\n": "seed: 1}\n"})
    assert train(cli_run, path, "--out", str(run), "-q", "--overwrite").exit_code == 0
    assert not (run / "best.npz").exists() and metrics(run)["seed"] == 1
    assert (run / "notes.txt").read_text() == "mine"


def test_evaluate_recomputes_the_split_and_reproduces_metrics_json_exactly(toy, cli_run, tmp_path):
    run = tmp_path / "run"
    train(cli_run, spec(tmp_path), "--out", str(run), "-q")
    m = metrics(run)
    for split in ("test", "validation", "train"):
        result = cli_run("evaluate", str(run), "--split", split, "--format", "json")
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout)["metrics"] == m[split]
    text = cli_run("evaluate", str(run))
    assert (
        text.stdout
        == f"test: loss {m['test']['loss']:.4f}, accuracy {m['test']['accuracy']:.4f}\n  same as metrics.json\n"
    )


def test_predict_writes_one_column_per_unit_and_reproduces_the_test_accuracy(
    toy, cli_run, tmp_path
):
    from sklearn.datasets import load_digits

    from specforge.spec.models import SplitSpec
    from specforge.training.split import split_indices

    run = tmp_path / "run"
    train(cli_run, spec(tmp_path), "--out", str(run), "-q")
    digits = load_digits()
    test = split_indices(
        len(digits.target),
        SplitSpec(test=0.2, validation=0.2, seed=0, stratify=True),
        digits.target,
    )["test"]
    np.savez(tmp_path / "x.npz", x=digits.images[test].astype(np.float32))
    result = cli_run("predict", str(run), str(tmp_path / "x.npz"), "-o", str(tmp_path / "p.csv"))
    assert result.exit_code == 0, result.output
    assert (
        result.stdout
        == f"wrote 360 predictions (class, prob_0, prob_1, prob_2, prob_3, prob_4, ...) to {tmp_path / 'p.csv'}\n"
    )
    rows = list(csv.reader((tmp_path / "p.csv").open()))
    assert rows[0] == ["class"] + [f"prob_{k}" for k in range(10)]
    probs = np.array([r[1:] for r in rows[1:]], dtype=float)
    accuracy = float(np.mean(probs.argmax(axis=1) == digits.target[test]))
    assert accuracy == pytest.approx(metrics(run)["test"]["accuracy"], rel=1e-6)
    # The same samples as CSV rows, with a header naming the features in another order.
    names = [f"pixel_{i}_{j}" for i in range(8) for j in range(8)]
    order = list(reversed(range(64)))
    with (tmp_path / "x.csv").open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow([names[k] for k in order])
        writer.writerows(digits.data[test][:, order])
    assert (
        cli_run(
            "predict", str(run), str(tmp_path / "x.csv"), "-o", str(tmp_path / "q.csv")
        ).exit_code
        == 0
    )
    again = np.array(
        [r[1:] for r in list(csv.reader((tmp_path / "q.csv").open()))[1:]], dtype=float
    )
    np.testing.assert_allclose(again, probs, rtol=1e-6)


def test_predict_names_each_output_column_after_its_output(toy, cli_run, tmp_path):
    run = tmp_path / "run"
    train(cli_run, spec(tmp_path, DIABETES), "--out", str(run), "-q")
    np.savetxt(tmp_path / "x.csv", np.random.default_rng(0).normal(size=(3, 10)), delimiter=",")
    assert (
        cli_run(
            "predict", str(run), str(tmp_path / "x.csv"), "-o", str(tmp_path / "p.csv")
        ).exit_code
        == 0
    )
    assert (tmp_path / "p.csv").read_text().splitlines()[0] == "output_target,aux_output_target"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("1,2,3\n", "has 3 value(s) per sample, but the run was trained on 10 features"),
        ("1,2,x,4,5,6,7,8,9,10\n", "line 1, column 3: 'x' is not a number"),
        ("1,2,,4,5,6,7,8,9,10\n", "line 1, column 3 is empty"),
    ],
)
def test_predict_refuses_input_that_does_not_fit_with_exit_2(
    toy, cli_run, tmp_path, content, message
):
    run = tmp_path / "run"
    train(cli_run, spec(tmp_path, DIABETES), "--out", str(run), "-q")
    (tmp_path / "x.csv").write_text(content)
    result = cli_run("predict", str(run), str(tmp_path / "x.csv"), "-o", str(tmp_path / "p.csv"))
    assert result.exit_code == 2 and message in result.stderr and "Traceback" not in result.output
    assert not (tmp_path / "p.csv").exists()


def test_evaluate_and_predict_on_a_directory_that_is_not_a_run_exit_2(cli_run, tmp_path):
    result = cli_run("evaluate", str(tmp_path))
    assert result.exit_code == 2 and "has no spec.yaml" in result.stderr
    result = cli_run("predict", str(tmp_path / "nope"), "x.csv", "-o", "p.csv")
    assert result.exit_code == 2 and "no such run directory" in result.stderr


def test_history_columns_follow_the_spec_whatever_order_the_backend_uses():
    from specforge import resolve
    from specforge.training.run import _in_spec_order

    graph = resolve(ROOT / "specs" / "wide_deep_aux.yaml")
    keras_like = {
        k: [0.0]
        for k in sorted(
            [
                "loss",
                "output_loss",
                "aux_output_loss",
                "val_loss",
                "val_output_loss",
                "val_aux_output_loss",
                "extra",
            ]
        )
    }
    assert list(_in_spec_order(keras_like, graph)) == [
        "loss",
        "output_loss",
        "aux_output_loss",
        "val_loss",
        "val_output_loss",
        "val_aux_output_loss",
        "extra",
    ]
