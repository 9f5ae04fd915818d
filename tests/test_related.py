"""Diagnostics name the other places they concern (editors show them; validate's output does not)."""

from __future__ import annotations

import json

from click.testing import CliRunner

from specforge.api import check_text
from specforge.cli import cli
from specforge.diagnostics import Related, Span

SPEC = """specforge: 2
name: dup
inputs:
  - {name: x, shape: [4]}
nodes:
  - {name: a, type: Dense, units: 2}
  - {name: a, type: Dense, units: 2}
outputs:
  - {node: a, loss: mse}
  - {node: a, loss: mse}
optimizer: {type: sgd}
"""


def _by_code(text: str) -> dict[str, object]:
    return {d.code: d for d in check_text(text).diagnostics}


def test_duplicate_name_points_at_the_first_definition():
    d = _by_code(SPEC)["duplicate-name"]
    assert d.span == Span(7, 12, 7, 13)
    assert d.related == (Related(Span(6, 12, 6, 13), "'a' first defined here"),)


def test_duplicate_output_points_at_the_first_entry():
    d = _by_code(SPEC)["duplicate-output"]
    assert d.related == (Related(Span(9, 12, 9, 13), "first listed here"),)


def test_duplicate_key_points_at_the_first_key():
    (d,) = check_text("specforge: 2\nname: a\nname: b\n").diagnostics
    assert d.code == "duplicate-key"
    assert d.related == (Related(Span(2, 1, 2, 5), "'name' first defined here"),)


def test_cycle_points_at_the_other_nodes_inputs():
    text = SPEC.replace(
        "  - {name: a, type: Dense, units: 2}\n  - {name: a, type: Dense, units: 2}\n",
        "  - {name: a, type: Dense, units: 2, inputs: [b]}\n"
        "  - {name: b, type: Dense, units: 2, inputs: [a]}\n",
    ).replace("  - {node: a, loss: mse}\n", "", 1)
    d = _by_code(text)["cycle"]
    assert d.related == (Related(Span(7, 46, 7, 49), "'b' reads its inputs here"),)


def test_validate_output_is_unchanged_by_related(tmp_path):
    path = tmp_path / "dup.yaml"
    path.write_text(SPEC, encoding="utf-8")
    result = CliRunner().invoke(cli, ["validate", "--format", "json", str(path)])
    (dup,) = [d for d in json.loads(result.output) if d["code"] == "duplicate-name"]
    assert set(dup) == {
        "file", "line", "column", "end_line", "end_column", "severity", "code", "message", "help"
    }  # fmt: skip
