"""``specforge validate``: exit codes, exact text output, JSON output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
INVALID = ROOT / "tests" / "fixtures" / "invalid"

SEEDS = {
    "specs/fashion_mnist_mlp.yaml": "266,610",
    "specs/california_mlp.yaml": "3,471",
    "specs/wide_deep.yaml": "3,479",
    "specs/wide_deep_two_inputs.yaml": "3,416",
    "specs/wide_deep_aux.yaml": "3,517",
    "specs/wide_deep_aux.json": "3,517",
}


@pytest.fixture(autouse=True)
def _from_root(monkeypatch):
    monkeypatch.chdir(ROOT)


def test_valid_specs_exit_0_with_one_line_each(cli_run):
    result = cli_run("validate", *SEEDS)
    assert result.exit_code == 0
    assert result.stdout == "".join(
        f"{path}: valid ({count} params)\n" for path, count in SEEDS.items()
    )


def test_every_spec_in_specs_validates(spec_path, cli_run):
    result = cli_run("validate", "--strict", str(spec_path.relative_to(ROOT)))
    assert result.exit_code == 0, result.output
    assert result.stdout.endswith(" params)\n") and ": valid (" in result.stdout


def test_an_invalid_spec_prints_the_compiler_style_diagnostic_exactly(cli_run, monkeypatch):
    monkeypatch.chdir(INVALID)
    result = cli_run("validate", "unknown_reference.yaml")
    assert result.exit_code == 1
    assert result.stdout == (
        "unknown_reference.yaml:9:60: error[unknown-reference]: node 'concat' reads 'hiden2', which is not defined\n"
        "      - {name: concat, type: Concatenate, inputs: [wide_input, hiden2]}\n"
        "                                                               ^^^^^^\n"
        "  help: did you mean 'hidden2'?\n"
        "unknown_reference.yaml: invalid (1 error, 0 warnings)\n"
    )


def test_several_problems_are_all_printed_with_carets(cli_run, monkeypatch):
    monkeypatch.chdir(INVALID)
    result = cli_run("validate", "several_problems.yaml")
    assert result.exit_code == 1
    assert result.stdout == (
        "several_problems.yaml:6:41: error[wrong-type]: node 'hidden1': 'units' must be an integer, not the string '30'\n"
        '      - {name: hidden1, type: Dense, units: "30", activation: rleu}\n'
        "                                            ^^^^\n"
        "  help: remove the quotes: 30\n"
        "several_problems.yaml:6:59: error[unknown-activation]: node 'hidden1': unknown activation 'rleu'\n"
        '      - {name: hidden1, type: Dense, units: "30", activation: rleu}\n'
        "                                                              ^^^^\n"
        "  help: did you mean 'relu'?\n"
        "several_problems.yaml:7:55: error[unknown-reference]: node 'hidden2' reads 'hiden1', which is not defined\n"
        "      - {name: hidden2, type: Dense, units: 100, inputs: [hiden1]}\n"
        "                                                          ^^^^^^\n"
        "  help: did you mean 'hidden1'?\n"
        "several_problems.yaml:8:51: error[cycle]: nodes form a cycle: loop_a → loop_b → loop_a\n"
        "      - {name: loop_a, type: Dense, units: 4, inputs: [loop_b]}\n"
        "                                                      ^^^^^^^^\n"
        "  help: a model is a directed acyclic graph: one of these nodes must read something else\n"
        "several_problems.yaml:13:39: error[invalid-value]: optimizer 'sgd': 'learning_rate' must be greater than 0, got the number 0\n"
        "    optimizer: {type: sgd, learning_rate: 0}\n"
        "                                          ^\n"
        "several_problems.yaml: invalid (5 errors, 0 warnings)\n"
    )


def test_a_tab_is_kept_in_the_caret_line_so_the_caret_lines_up(cli_run, tmp_path, monkeypatch):
    (tmp_path / "t.yaml").write_text(
        "specforge: 2\nname: m\ninputs: [{name: x,\tshape: [8], dtyp: f}]\n"
    )
    monkeypatch.chdir(tmp_path)
    result = cli_run("validate", "t.yaml")
    lines = result.stdout.splitlines()
    at = next(i for i, line in enumerate(lines) if "[unknown-field]" in line)
    assert lines[at].startswith(
        "t.yaml:3:32: error[unknown-field]: input 'x' has unknown key 'dtyp'"
    )
    assert lines[at + 1] == "    inputs: [{name: x,\tshape: [8], dtyp: f}]"
    assert lines[at + 2] == "                      \t            ^^^^"


def test_json_format_prints_every_diagnostic_with_its_fields(cli_run, monkeypatch):
    monkeypatch.chdir(INVALID)
    result = cli_run("validate", "--format", "json", "unknown_loss.yaml", "duplicate_output.yaml")
    assert result.exit_code == 1
    assert json.loads(result.stdout) == [
        {
            "file": "unknown_loss.yaml",
            "line": 10,
            "column": 26,
            "end_line": 10,
            "end_column": 43,
            "severity": "error",
            "code": "unknown-loss",
            "message": "output 'output': unknown loss 'mean_squared_eror'",
            "help": "did you mean 'mean_squared_error'?",
        },
        {
            "file": "duplicate_output.yaml",
            "line": 11,
            "column": 12,
            "end_line": 11,
            "end_column": 18,
            "severity": "error",
            "code": "duplicate-output",
            "message": "node 'output' is listed as an output twice",
            "help": "remove one of the entries (the first is outputs[0])",
        },
    ]


def test_json_format_of_valid_specs_is_an_empty_list(cli_run):
    result = cli_run("validate", "--format", "json", "specs/wide_deep.yaml")
    assert (result.exit_code, json.loads(result.stdout)) == (0, [])


def test_warnings_alone_exit_0_unless_strict(cli_run, monkeypatch):
    monkeypatch.chdir(INVALID)
    result = cli_run("validate", "unused_node.yaml")
    assert result.exit_code == 0
    assert result.stdout.splitlines()[-1] == "unused_node.yaml: valid (3,533 params, 1 warning)"
    strict = cli_run("validate", "--strict", "unused_node.yaml")
    assert strict.exit_code == 1
    assert strict.stdout.splitlines()[-1] == "unused_node.yaml: invalid (0 errors, 1 warning)"


def test_one_invalid_spec_among_valid_ones_exits_1(cli_run):
    result = cli_run("validate", "specs/wide_deep.yaml", "tests/fixtures/invalid/empty.yaml")
    assert result.exit_code == 1
    assert result.stdout.splitlines()[0] == "specs/wide_deep.yaml: valid (3,479 params)"


def test_a_missing_file_exits_2_and_says_so(cli_run):
    result = cli_run(
        "validate", "specs/wide_deep.yaml", "nothere.yaml", "tests/fixtures/invalid/empty.yaml"
    )
    assert result.exit_code == 2
    assert "error: nothere.yaml: no such file\n" in result.stderr
    assert "specs/wide_deep.yaml: valid" in result.stdout
    assert "empty.yaml: invalid" in result.stdout


def test_a_missing_file_in_json_format_is_a_file_not_readable_entry(cli_run):
    result = cli_run("validate", "--format", "json", "nothere.yaml")
    assert result.exit_code == 2
    [d] = json.loads(result.stdout)
    assert (d["file"], d["code"], d["message"]) == (
        "nothere.yaml",
        "file-not-readable",
        "no such file",
    )


def test_a_directory_is_a_usage_error(cli_run):
    assert cli_run("validate", "specs").exit_code == 2


def test_no_arguments_is_a_usage_error(cli_run):
    result = cli_run("validate")
    assert result.exit_code == 2
    assert "Missing argument" in result.stderr


def test_an_invalid_size_limit_setting_exits_2(cli_run):
    result = cli_run("validate", "specs/wide_deep.yaml", env={"SPECFORGE_MAX_SPEC_BYTES": "big"})
    assert result.exit_code == 2
    assert "SPECFORGE_MAX_SPEC_BYTES" in result.stderr


def test_version(cli_run):
    from specforge import __version__

    result = cli_run("--version")
    assert (result.exit_code, result.stdout) == (0, f"specforge, version {__version__}\n")


def test_the_console_entry_point_validates_in_a_real_process(run_specforge):
    ok = run_specforge("validate", "specs/wide_deep_aux.yaml")
    assert (ok.returncode, ok.stdout) == (0, "specs/wide_deep_aux.yaml: valid (3,517 params)\n")
    missing = run_specforge("validate", "nothere.yaml")
    assert missing.returncode == 2
    assert "Traceback" not in missing.stderr


def test_at_most_50_diagnostics_are_printed_per_file_and_the_rest_counted(
    cli_run, tmp_path, monkeypatch
):
    nodes = "".join(
        f"  - {{name: d{i}, type: Dense, units: 2, activation: rleu}}\n" for i in range(60)
    )
    text = "specforge: 2\nname: m\ninputs:\n  - {name: x, shape: [2]}\nnodes:\n" + nodes
    text += "outputs:\n  - {node: d59, loss: mse}\noptimizer: {type: sgd}\n"
    (tmp_path / "many.yaml").write_text(text)
    monkeypatch.chdir(tmp_path)
    result = cli_run("validate", "many.yaml")
    assert result.exit_code == 1
    assert result.stdout.count("error[unknown-activation]") == 50
    assert result.stdout.splitlines()[-2:] == [
        "... and 10 more diagnostic(s) not shown",
        "many.yaml: invalid (60 errors, 0 warnings)",
    ]
    everything = cli_run("validate", "--format", "json", "many.yaml")
    assert len(json.loads(everything.stdout)) == 60
