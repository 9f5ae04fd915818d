"""``specforge summary``: exact parameter counts, text and JSON, YAML and JSON specs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

COUNTS = {
    "fashion_mnist_mlp": 266_610,
    "california_mlp": 3_471,
    "wide_deep": 3_479,
    "wide_deep_two_inputs": 3_416,
    "wide_deep_aux": 3_517,
}


@pytest.fixture(autouse=True)
def _from_root(monkeypatch):
    monkeypatch.chdir(ROOT)


@pytest.mark.parametrize(("name", "count"), COUNTS.items())
def test_summary_text_gives_the_chapter_s_exact_parameter_count(name, count, cli_run):
    result = cli_run("summary", f"specs/{name}.yaml")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == f'Model: "{name}"'
    assert lines[-3:] == [
        f"Total params: {count:,}",
        f"Trainable params: {count:,}",
        "Non-trainable params: 0",
    ]


@pytest.mark.parametrize(("name", "count"), COUNTS.items())
def test_summary_json_gives_the_chapter_s_exact_parameter_count(name, count, cli_run):
    result = cli_run("summary", "--format", "json", f"specs/{name}.yaml")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert (data["name"], data["file"]) == (name, f"specs/{name}.yaml")
    assert data["total_params"] == data["trainable_params"] == count
    assert sum(n["params"] for n in data["nodes"]) == count


@pytest.mark.parametrize("fmt", ["json", "text"])
def test_the_json_twin_summarises_exactly_like_the_yaml_spec(fmt, cli_run):
    yaml_out = cli_run("summary", "--format", fmt, "specs/wide_deep_aux.yaml")
    json_out = cli_run("summary", "--format", fmt, "specs/wide_deep_aux.json")
    assert yaml_out.exit_code == json_out.exit_code == 0
    if fmt == "json":
        a, b = json.loads(yaml_out.stdout), json.loads(json_out.stdout)
        assert a.pop("file") == "specs/wide_deep_aux.yaml"
        assert b.pop("file") == "specs/wide_deep_aux.json"
        assert a == b
    else:
        assert yaml_out.stdout == json_out.stdout


def test_summary_of_an_invalid_spec_prints_the_diagnostics_and_exits_1(cli_run):
    result = cli_run("summary", "tests/fixtures/invalid/cycle_two_nodes.yaml")
    assert result.exit_code == 1
    assert result.stdout.startswith(
        "tests/fixtures/invalid/cycle_two_nodes.yaml:6:46: error[cycle]: "
    )
    assert "tests/fixtures/invalid/cycle_two_nodes.yaml: invalid (1 error)" in result.stderr


def test_summary_of_a_missing_file_exits_2(cli_run):
    result = cli_run("summary", "nothere.yaml")
    assert result.exit_code == 2
    assert "nothere.yaml: no such file" in result.stderr


def test_summary_in_a_real_process(run_specforge):
    proc = run_specforge("summary", "specs/wide_deep_two_inputs.yaml")
    assert proc.returncode == 0
    assert "Total params: 3,416" in proc.stdout


def test_the_json_twin_resolves_to_the_same_model():
    from specforge.api import resolve

    from_yaml = resolve(ROOT / "specs" / "wide_deep_aux.yaml").to_spec()
    from_json = resolve(ROOT / "specs" / "wide_deep_aux.json").to_spec()
    from_yaml.pop("description")
    from_json.pop("description")
    assert from_yaml == from_json
