"""``--set key.path=value``: values as YAML 1.2 scalars, names as path parts, errors in the argument."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from specforge.api import check_data, check_file, resolve
from specforge.diagnostics import render_text
from specforge.spec.load import OVERRIDE_FILE

ROOT = Path(__file__).resolve().parent.parent
WIDE_DEEP = ROOT / "specs" / "wide_deep.yaml"


def test_the_issue_s_three_overrides_change_the_resolved_graph():
    graph = resolve(
        WIDE_DEEP,
        overrides=[
            "optimizer.learning_rate=1e-3",
            "nodes.hidden1.units=64",
            "train.batch_size=64",
        ],
    )
    assert graph.optimizer.learning_rate == 0.001
    assert graph.node("hidden1").output_shape == (64,)
    assert graph.train_config.batch_size == 64
    assert graph.total_params == resolve(WIDE_DEEP).total_params + (64 - 30) * (8 + 1 + 100)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1e-3", 0.001),
        ("10", 10),
        ("true", True),
        ("null", None),
        ("~", None),
        ("", None),
        ("no", "no"),  # YAML 1.2: not a bool
        ("'12'", "12"),
        ("[1, 2]", [1, 2]),
        ("{a: 1}", {"a": 1}),
        ("a: b", "a: b"),  # a plain string, not a block mapping
    ],
)
def test_values_are_read_as_yaml_1_2(text, expected):
    result = check_data(
        {"specforge": 2, "name": "x"}, overrides=[f"description={text}", "extra.value=" + text]
    )
    assert result.document.data["extra"]["value"] == expected


def test_a_list_index_and_an_output_s_node_name_are_path_parts():
    result = check_file(
        WIDE_DEEP, overrides=["nodes.0.units=7", "outputs.output.loss=mae", "inputs.0.shape=[8]"]
    )
    assert result.ok, render_text(result.diagnostics, result.document.sources)
    assert result.graph.node("hidden1").output_shape == (7,)
    assert result.graph.outputs[0].loss == "mean_absolute_error"


def test_a_missing_section_is_created_and_later_overrides_win():
    data = {
        "specforge": 2,
        "name": "x",
        "inputs": [{"name": "i", "shape": [2]}],
        "nodes": [{"name": "n", "type": "Dense", "units": 1}],
        "outputs": [{"node": "n", "loss": "mse"}],
        "optimizer": {"type": "sgd"},
    }
    graph = resolve(data, overrides=["train.epochs=3", "train.epochs=4"])
    assert graph.train_config.epochs == 4
    assert "train" not in data  # the caller's dict is left alone


def test_an_unknown_node_name_is_located_in_the_argument_with_did_you_mean():
    result = check_file(WIDE_DEEP, overrides=["train.epochs=2", "nodes.hiden1.units=64"])
    [d] = result.diagnostics
    assert (d.file, d.code, d.span.line, d.span.column, d.span.end_column) == (
        OVERRIDE_FILE,
        "override-path",
        2,
        7,
        13,
    )
    assert d.help == "did you mean 'hidden1'?"
    text = render_text(result.diagnostics, result.document.sources)
    assert "--set:2:7: error[override-path]" in text
    assert "    nodes.hiden1.units=64\n          ^^^^^^" in text


def test_a_path_through_a_scalar_is_an_error():
    [d] = check_file(WIDE_DEEP, overrides=["optimizer.type.lr=1"]).diagnostics
    assert d.code == "override-path" and "'optimizer.type' is a string" in d.message


def test_a_value_the_checker_refuses_is_re_pointed_at_the_override():
    result = check_file(WIDE_DEEP, overrides=["nodes.hidden1.units=-3"])
    [d] = result.errors
    assert (d.file, d.code, d.span.line, d.span.column) == (OVERRIDE_FILE, "invalid-value", 1, 21)
    assert "    nodes.hidden1.units=-3\n" in render_text(
        result.diagnostics, result.document.sources
    )


def test_an_unknown_key_added_by_an_override_points_at_the_key():
    [d] = check_file(WIDE_DEEP, overrides=["nodes.hidden1.unitz=3"]).errors
    assert (d.code, d.file, d.span.column, d.span.end_column) == (
        "unknown-field",
        OVERRIDE_FILE,
        15,
        20,
    )


def test_the_file_s_own_diagnostics_keep_their_lines(tmp_path):
    spec = tmp_path / "s.yaml"
    spec.write_text(WIDE_DEEP.read_text().replace("units: 100", "units: 0"), encoding="utf-8")
    result = check_file(spec, overrides=["train.epochs=2"])
    [d] = result.errors
    assert d.file == str(spec) and d.span.line == 12


def test_nan_and_infinity_are_yaml_too():
    result = check_data({"specforge": 2}, overrides=["x.y=.nan", "x.z=-.inf"])
    assert math.isnan(result.document.data["x"]["y"])
    assert result.document.data["x"]["z"] == -math.inf


def test_cli_validate_summary_and_build_take_set(cli_run, tmp_path):
    ok = cli_run("validate", str(WIDE_DEEP), "--set", "nodes.hidden1.units=64")
    assert ok.exit_code == 0 and "7,185 params" in ok.stdout
    bad = cli_run("summary", str(WIDE_DEEP), "--set", "train.batch_size=big")
    assert bad.exit_code == 1
    assert "--set:1:18: error[wrong-type]" in bad.stdout
    assert "    train.batch_size=big\n                     ^^^" in bad.stdout
    built = cli_run(
        "build",
        str(WIDE_DEEP),
        "--backend",
        "numpy",
        "-o",
        str(tmp_path / "m.npz"),
        "--set",
        "nodes.hidden2.units=5",
    )
    assert built.exit_code == 0, built.output
    assert "hidden2" in built.stdout and "(None, 5)" in built.stdout
