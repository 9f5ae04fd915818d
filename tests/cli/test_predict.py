"""``specforge predict`` with a finished run of each real backend: CSV or npz in, one column per output unit out."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from backend_params import backends

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module", params=backends("keras", "numpy"))
def runs(request, tmp_path_factory) -> Path:
    from specforge.training import train

    out = tmp_path_factory.mktemp(f"runs-{request.param}")
    for spec in ("digits_mlp", "diabetes_wide_deep_aux"):
        assert (
            train(
                ROOT / "specs" / f"{spec}.yaml",
                backend=request.param,
                out=out / spec,
                epochs=5,
                progress="quiet",
            ).status
            == "completed"
        )
    return out


def test_class_probabilities_from_a_csv_reproduce_the_test_accuracy(runs, cli_run, tmp_path):
    from sklearn.datasets import load_digits

    from specforge.spec.models import SplitSpec
    from specforge.training.split import split_indices

    digits = load_digits()
    test = split_indices(
        len(digits.target),
        SplitSpec(test=0.2, validation=0.2, seed=0, stratify=True),
        digits.target,
    )["test"]
    np.savetxt(tmp_path / "x.csv", digits.data[test], delimiter=",", fmt="%g")
    out = tmp_path / "p.csv"
    result = cli_run("predict", str(runs / "digits_mlp"), str(tmp_path / "x.csv"), "-o", str(out))
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(out.open()))
    assert rows[0] == ["class"] + [f"prob_{k}" for k in range(10)] and len(rows) == 361
    assert all(r[0] == str(int(np.argmax(np.array(r[1:], dtype=float)))) for r in rows[1:])
    probs = np.array([r[1:] for r in rows[1:]], dtype=np.float64)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)
    accuracy = float(np.mean(probs.argmax(axis=1) == digits.target[test]))
    recorded = json.loads((runs / "digits_mlp" / "metrics.json").read_text())["test"]["accuracy"]
    assert accuracy == pytest.approx(recorded, rel=1e-6)


def test_two_outputs_get_one_column_each_and_reproduce_the_test_loss(runs, cli_run, tmp_path):
    from sklearn.datasets import load_diabetes

    from specforge.spec.models import SplitSpec
    from specforge.training.split import split_indices

    diabetes = load_diabetes()
    test = split_indices(len(diabetes.target), SplitSpec(test=0.2, validation=0.2, seed=0))["test"]
    np.savez(tmp_path / "x.npz", x=diabetes.data[test].astype(np.float32))
    out = tmp_path / "p.csv"
    result = cli_run(
        "predict", str(runs / "diabetes_wide_deep_aux"), str(tmp_path / "x.npz"), "-o", str(out)
    )
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(out.open()))
    assert rows[0] == ["output_target", "aux_output_target"]
    pred = np.array(rows[1:], dtype=np.float64)
    y = diabetes.target[test].astype(np.float32)
    recorded = json.loads((runs / "diabetes_wide_deep_aux" / "metrics.json").read_text())["test"]
    assert float(np.mean((pred[:, 0] - y) ** 2)) == pytest.approx(recorded["output_loss"], rel=1e-4)
    assert float(np.mean((pred[:, 1] - y) ** 2)) == pytest.approx(
        recorded["aux_output_loss"], rel=1e-4
    )


def test_predict_refuses_a_target_column_left_in_the_input(runs, cli_run, tmp_path):
    np.savetxt(tmp_path / "x.csv", np.ones((2, 11)), delimiter=",")
    result = cli_run(
        "predict",
        str(runs / "diabetes_wide_deep_aux"),
        str(tmp_path / "x.csv"),
        "-o",
        str(tmp_path / "p.csv"),
    )
    assert result.exit_code == 2
    assert (
        "has 11 value(s) per sample, but the run was trained on 10 features (10: age, sex, bmi"
        in result.stderr
    )
    assert "leave the target out" in result.stderr


def test_iris_classes_are_named_in_csv_json_and_npz(cli_run, tmp_path):
    from specforge.training import train

    run = train(
        ROOT / "specs" / "perceptron_iris.yaml", out=tmp_path / "run", epochs=3, progress="quiet"
    )
    np.savetxt(tmp_path / "x.csv", [[5.1, 3.5, 1.4, 0.2], [6.3, 3.3, 6.0, 2.5]], delimiter=",")
    header = ["class", "prob_setosa", "prob_versicolor", "prob_virginica"]
    for name, fmt in (("p.csv", None), ("p.json", None), ("p.npz", None), ("q.out", "json")):
        args = ["predict", str(run.run_dir), str(tmp_path / "x.csv"), "-o", str(tmp_path / name)]
        result = cli_run(*args, *(["--format", fmt] if fmt else []))
        assert result.exit_code == 0, result.output
        assert "wrote 2 predictions (class, prob_setosa, " in result.stdout
    rows = list(csv.reader((tmp_path / "p.csv").open()))
    assert rows[0] == header and rows[1][0] in ("setosa", "versicolor", "virginica")
    records = json.loads((tmp_path / "p.json").read_text())
    assert list(records[0]) == header and records == json.loads((tmp_path / "q.out").read_text())
    with np.load(tmp_path / "p.npz", allow_pickle=False) as npz:
        assert npz.files == header and list(npz["class"]) == [r[0] for r in rows[1:]]


def test_regression_columns_are_named_after_the_targets(cli_run, tmp_path):
    from specforge.training import train

    spec = tmp_path / "reg.yaml"
    spec.write_text(
        "specforge: 1\nname: reg\ninputs: [{name: x, shape: [10]}]\n"
        "nodes: [{name: out, type: Dense, units: 1}]\noutputs: [{node: out, loss: mse}]\n"
        "optimizer: {type: sgd, learning_rate: 0.01}\n"
        "data: {dataset: {type: diabetes}, preprocess: [{type: standard_scaler}]}\n"
        "train: {epochs: 1, backend: numpy}\n"
    )
    run = train(spec, out=tmp_path / "run", progress="quiet")
    np.savetxt(tmp_path / "x.csv", np.zeros((2, 10)), delimiter=",")
    result = cli_run(
        "predict", str(run.run_dir), str(tmp_path / "x.csv"), "-o", str(tmp_path / "p.csv")
    )
    assert result.exit_code == 0, result.output
    assert next(csv.reader((tmp_path / "p.csv").open())) == ["target"]
