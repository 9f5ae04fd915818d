"""``specforge evaluate`` on a finished run of each real backend reproduces its metrics.json exactly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from backend_params import backends

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module", params=backends("keras", "numpy"))
def run_dir(request, tmp_path_factory) -> Path:
    """A digits run and a two-input, two-output diabetes run, trained once per backend."""
    from specforge.training import train

    out = tmp_path_factory.mktemp(f"runs-{request.param}")
    for spec in ("digits_mlp", "diabetes_wide_deep_aux"):
        result = train(
            ROOT / "specs" / f"{spec}.yaml",
            backend=request.param,
            out=out / spec,
            epochs=5,
            progress="quiet",
        )
        assert result.status == "completed"
    return out


@pytest.mark.parametrize("spec", ["digits_mlp", "diabetes_wide_deep_aux"])
@pytest.mark.parametrize("split", ["test", "validation", "train"])
def test_evaluate_reproduces_the_runs_figures_exactly(run_dir, cli_run, spec, split):
    run = run_dir / spec
    recorded = json.loads((run / "metrics.json").read_text())[split]
    result = cli_run("evaluate", str(run), "--split", split, "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"split": split, "metrics": recorded, "recorded": recorded}


def test_evaluate_prints_the_figures_and_says_they_match(run_dir, cli_run):
    result = cli_run("evaluate", str(run_dir / "digits_mlp"))
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0].startswith("test: ") and "accuracy " in lines[0]
    assert lines[1] == "  same as metrics.json"


def test_evaluate_from_another_working_directory_finds_the_data(
    run_dir, cli_run, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    assert cli_run("evaluate", str(run_dir / "diabetes_wide_deep_aux")).exit_code == 0
