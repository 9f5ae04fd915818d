"""The data and train sections are checked like the rest of a spec: positioned diagnostics.

Each ``fixtures/invalid/NAME.yaml`` sits beside ``NAME.expected``, the
``file:line:col: severity[code]`` head of every diagnostic it must produce, in order.
"""

from __future__ import annotations

import ast
import dataclasses
import re
import subprocess
import sys
from pathlib import Path

import pytest

from specforge.api import check_file, check_text
from specforge.spec.check import sections

HERE = Path(__file__).resolve().parent
INVALID = HERE / "fixtures" / "invalid"
ROOT = HERE.parent.parent
CASES = sorted(INVALID.glob("*.yaml"))
HEAD = re.compile(r"^(\S+):(\d+):(\d+): (error|warning)\[([a-z0-9-]+)\]", re.M)


def expected_heads(case: Path) -> list[str]:
    lines = case.with_suffix(".expected").read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_broken_data_or_train_section_gives_exactly_the_expected_diagnostics(case, monkeypatch):
    monkeypatch.chdir(INVALID)
    result = check_file(case.name)
    got = [
        f"{d.file}:{d.span.line}:{d.span.column}: {d.severity}[{d.code}]"
        for d in result.diagnostics
    ]
    assert got == expected_heads(case)
    for d in result.diagnostics:
        assert d.message and "Value error" not in d.message and ".float" not in d.message


def test_validate_prints_data_diagnostics_with_source_line_caret_and_help(cli_run, monkeypatch):
    monkeypatch.chdir(INVALID)
    result = cli_run("validate", "data_unknown_dataset.yaml")
    assert result.exit_code == 1
    assert result.stdout.startswith(
        "data_unknown_dataset.yaml:12:19: error[unknown-dataset]: unknown dataset 'digit'\n"
        "      dataset: {type: digit}\n"
        "                      ^^^^^\n"
        "  help: did you mean 'digits'?\n"
    )


def test_every_code_the_section_checks_emit_is_covered_by_a_fixture():
    tree = ast.parse(
        (ROOT / "specforge" / "spec" / "check" / "sections.py").read_text(encoding="utf-8")
    )
    emitted = set()
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and getattr(node.func, "attr", None) == "diagnostic"
            and node.args
        ):
            arg = node.args[0]
            if isinstance(arg, ast.Constant):
                emitted.add(arg.value)
            elif isinstance(arg, ast.JoinedStr):  # f"unknown-{kind}"
                emitted |= {"unknown-dataset", "unknown-preprocessor"}
    covered = {m.group(5) for case in CASES for m in HEAD.finditer("\n".join(expected_heads(case)))}
    assert emitted and not emitted - covered, (
        f"codes without a fixture: {sorted(emitted - covered)}"
    )


def test_every_spec_in_specs_with_a_data_section_is_valid():
    for path in sorted((ROOT / "specs").glob("*.yaml")):
        result = check_file(path)
        assert result.ok, [d.message for d in result.diagnostics]


MODEL = """\
specforge: 1
name: m
inputs:
  - {name: x, shape: [4]}
nodes:
  - {name: out, type: Dense, units: 3, activation: softmax}
outputs:
  - {node: out, loss: sparse_categorical_crossentropy, metrics: [acc]}
optimizer: {type: adam}
"""


def test_learning_rate_written_1e_3_and_counts_and_fractions_are_accepted():
    result = check_text(
        MODEL
        + "data:\n  dataset: {type: iris}\n  split: {test: 30, validation: 0.1, stratify: true}\n"
        + "train: {epochs: 3, early_stopping: {monitor: val_accuracy}, checkpoint: true}\n"
    )
    assert result.ok, [d.message for d in result.diagnostics]


def test_monitor_accepts_a_metric_alias_under_its_canonical_history_name():
    # metrics: [acc] is the alias of accuracy: the history key is 'accuracy'
    bad = check_text(
        MODEL + "data: {dataset: {type: iris}}\ntrain: {early_stopping: {monitor: val_acc}}\n"
    )
    assert [d.code for d in bad.diagnostics] == ["unknown-monitor"]
    assert bad.diagnostics[0].help == "did you mean 'val_accuracy'?"


def test_resolved_sections_fill_in_every_default():
    graph = check_text(MODEL + "data: {dataset: {type: iris}}\n").graph
    data = graph.data.as_dict()
    assert data == {
        "dataset": {"type": "iris"},
        "split": {"test": 0.25, "validation": 0.25, "seed": 0, "stratify": False},
        "preprocess": [],
    }
    assert graph.train is None  # no train section: the defaults are graph.train_config
    assert graph.train_config.as_dict() == {
        "epochs": 10,
        "batch_size": 32,
        "seed": 0,
        "shuffle": True,
    }
    with_train = check_text(
        MODEL + "data: {dataset: {type: iris}}\ntrain: {early_stopping: true}\n"
    )
    overridden = dataclasses.replace(with_train.graph.train, epochs=2, seed=None)
    assert overridden.as_dict() == {
        "epochs": 2,
        "batch_size": 32,
        "seed": None,
        "shuffle": True,
        "early_stopping": {
            "monitor": "val_loss",
            "patience": 5,
            "min_delta": 0.0,
            "restore_best": True,
            "mode": "auto",
        },
    }


def test_dataset_paths_are_relative_to_the_spec_directory(tmp_path):
    from specforge.registry import get_registry

    raw = {"dataset": {"type": "csv", "path": "data/table.csv", "target": "y"}}
    cfg = sections.resolve_data(raw, get_registry(), tmp_path / "specs")
    assert cfg.dataset_params.path == str(tmp_path / "specs" / "data" / "table.csv")
    absolute = sections.resolve_data(
        {"dataset": {"type": "npz", "path": "/srv/x.npz"}}, get_registry(), tmp_path
    )
    assert absolute.dataset_params.path == "/srv/x.npz"
    assert sections.path_fields(get_registry().datasets["california_housing"].params_model) == [
        "path",
        "data_home",
    ]


def test_schema_of_the_sections_accepts_every_spec_and_rejects_a_typo():
    import jsonschema

    from specforge.api import json_schema
    from specforge.spec.load import load

    schema = json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    for path in sorted((ROOT / "specs").glob("*.yaml")):
        doc, _ = load(path)
        assert not list(validator.iter_errors(doc.data)), path.name
    doc, _ = load(INVALID / "data_split.yaml")
    assert list(validator.iter_errors(doc.data))


def test_validate_checks_data_sections_without_importing_numpy_sklearn_matplotlib_or_keras():
    proc = subprocess.run(
        [
            sys.executable,
            "-X",
            "importtime",
            "-m",
            "specforge",
            "validate",
            "specs/digits_mlp.yaml",
            "specs/wide_deep_aux.yaml",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    imported = {
        line.split("|")[-1].strip().split(".")[0]
        for line in proc.stderr.splitlines()
        if line.startswith("import time:")
    }
    assert not imported & {"numpy", "sklearn", "matplotlib", "keras", "tensorflow", "tqdm"}, (
        imported
    )
