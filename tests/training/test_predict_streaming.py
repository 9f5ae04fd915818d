"""``specforge predict`` streams a large CSV: bounded chunks in, the same predictions out."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import toy_backend
from training_helpers import write_spec

ROOT = Path(__file__).resolve().parents[2]
DIABETES = (ROOT / "specs" / "diabetes_wide_deep_aux.yaml").read_text(encoding="utf-8")


def test_predict_reads_predicts_and_writes_in_chunks(toy, cli_run, tmp_path, monkeypatch):
    from specforge.training import run as run_module

    spec = write_spec(tmp_path / "s.yaml", DIABETES.replace("epochs: 40", "epochs: 2"))
    run = tmp_path / "run"
    assert cli_run("train", str(spec), "--backend", "toy", "--out", str(run), "-q").exit_code == 0
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2500, 10)).round(3)
    np.savetxt(tmp_path / "x.csv", x, delimiter=",", fmt="%.3f")

    seen: list[int] = []
    predict = toy_backend.ToyBackend.predict

    def counting(self, model, inputs, *, batch_size=32):
        seen.append(len(next(iter(inputs.values()))))
        return predict(self, model, inputs, batch_size=batch_size)

    monkeypatch.setattr(toy_backend.ToyBackend, "predict", counting)
    monkeypatch.setattr(run_module, "PREDICT_CHUNK_ROWS", 1000)
    result = cli_run("predict", str(run), str(tmp_path / "x.csv"), "-o", str(tmp_path / "p.csv"))
    assert result.exit_code == 0, result.output
    assert seen == [1000, 1000, 500]  # read, scaled and predicted a chunk at a time
    chunked = list(csv.reader((tmp_path / "p.csv").open()))

    seen.clear()
    monkeypatch.setattr(run_module, "PREDICT_CHUNK_ROWS", 1_000_000)
    cli_run("predict", str(run), str(tmp_path / "x.csv"), "-o", str(tmp_path / "q.csv"))
    assert seen == [2500]
    assert chunked == list(csv.reader((tmp_path / "q.csv").open()))
    assert len(chunked[0]) == 2 and len(chunked) == 2501


def test_a_bad_cell_in_a_late_chunk_leaves_no_output_file(toy, cli_run, tmp_path, monkeypatch):
    from specforge.training import run as run_module

    spec = write_spec(tmp_path / "s.yaml", DIABETES.replace("epochs: 40", "epochs: 2"))
    run = tmp_path / "run"
    cli_run("train", str(spec), "--backend", "toy", "--out", str(run), "-q")
    lines = ["1,2,3,4,5,6,7,8,9,10"] * 2500
    lines[2100] = "1,2,3,4,5,6,7,8,nine,10"
    (tmp_path / "x.csv").write_text("\n".join(lines) + "\n")
    monkeypatch.setattr(run_module, "PREDICT_CHUNK_ROWS", 1000)
    result = cli_run("predict", str(run), str(tmp_path / "x.csv"), "-o", str(tmp_path / "p.csv"))
    assert result.exit_code == 2
    assert "x.csv: line 2101, column 9: 'nine' is not a number" in result.stderr
    assert not (tmp_path / "p.csv").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".p.csv")]


def test_a_value_too_large_for_float32_is_refused_by_sample(toy, cli_run, tmp_path):
    spec = write_spec(tmp_path / "s.yaml", DIABETES.replace("epochs: 40", "epochs: 2"))
    run = tmp_path / "run"
    cli_run("train", str(spec), "--backend", "toy", "--out", str(run), "-q")
    (tmp_path / "x.csv").write_text("1,2,3,4,5,6,7,8,9,10\n1,2,3,4,5,6,7,8,9,1e39\n")
    result = cli_run("predict", str(run), str(tmp_path / "x.csv"), "-o", str(tmp_path / "p.csv"))
    assert result.exit_code == 2, result.output
    assert "x.csv: sample 1 (0-based) holds NaN or infinity" in result.stderr
