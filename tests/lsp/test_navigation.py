"""Definitions, references and renames across every place a name is written (in process)."""

from __future__ import annotations

import pytest
from lsprotocol import types

from specforge.lsp import navigation
from specforge.lsp.analysis import analyze
from specforge.registry import get_registry

YAML = """\
specforge: 2
name: nav
inputs:
  - {name: a, shape: [4]}
nodes:
  - {name: h, type: Dense, units: 4, inputs: a}
  - {name: out, type: Dense, units: 1, inputs: [h]}
outputs:
  - {node: out, loss: mse}
optimizer: {type: sgd}
data:
  dataset: {type: csv, path: x.csv, target: y}
  feeds:
    a: {columns: "0:4"}
  targets:
    out: {columns: 0}
"""

JSON = '{"specforge": 2, "inputs": [{"name": "a", "shape": [4]}], "nodes": [{"name": "h", "type": "Dense", "units": 4, "inputs": ["a"]}]}'


def _analysis(text: str, name: str = "s.yaml"):
    return analyze(f"file:///{name}", text, 1, language_id=None, registry=get_registry())


def _edits(edit: types.WorkspaceEdit) -> list[tuple[int, int, int, str]]:
    (changes,) = edit.changes.values()
    return [
        (e.range.start.line, e.range.start.character, e.range.end.character, e.new_text)
        for e in changes
    ]


def test_renaming_an_input_renames_node_inputs_and_the_feed():
    edit = navigation.rename(_analysis(YAML), 3, 11, "pixels", "utf-16")
    assert _edits(edit) == [(3, 11, 12, "pixels"), (5, 45, 46, "pixels"), (13, 4, 5, "pixels")]


def test_renaming_an_output_node_renames_its_output_and_target():
    edit = navigation.rename(_analysis(YAML), 8, 11, "y_hat", "utf-16")
    assert _edits(edit) == [(6, 11, 14, "y_hat"), (8, 11, 14, "y_hat"), (15, 4, 7, "y_hat")]


def test_definition_from_a_feed_key():
    (loc,) = navigation.definition(_analysis(YAML), 13, 4, "utf-16")
    assert (loc.range.start.line, loc.range.start.character) == (3, 11)


def test_json_rename_keeps_the_quotes():
    edit = navigation.rename(_analysis(JSON, "s.json"), 0, 38, "x", "utf-16")
    assert [e[3] for e in _edits(edit)] == ["x", "x"]
    assert [JSON[e[1] - 1] + JSON[e[2]] for e in _edits(edit)] == ['""', '""']


@pytest.mark.parametrize("new", ["1bad", "has space", "h"])
def test_invalid_or_taken_names_are_refused(new):
    with pytest.raises(navigation.RenameError):
        navigation.rename(_analysis(YAML), 3, 11, new, "utf-16")


def test_stale_positions_are_not_used_while_the_text_does_not_parse():
    previous = _analysis(YAML)
    broken = YAML.replace("  - {name: h,", "  - {name: hh,").replace(
        "optimizer: {", "optimizer: {{"
    )
    analysis = analyze(
        "file:///s.yaml", broken, 2, language_id=None, registry=get_registry(), previous=previous
    )
    assert analysis.document is None and analysis.last_good is not None
    # `h` was renamed by hand to `hh` on line 5: the old position is not offered any more.
    assert navigation.references(analysis, 5, 11, "utf-16", True) == []
    # Where `a` still stands where it stood, it is found; on line 5 it moved one to the right.
    found = navigation.references(analysis, 3, 11, "utf-16", True)
    assert [(loc.range.start.line, loc.range.start.character) for loc in found] == [
        (3, 11),
        (13, 4),
    ]
