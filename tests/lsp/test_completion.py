"""Completion in every kind of place, in process (the end-to-end test covers the protocol)."""

from __future__ import annotations

import pytest

from specforge.lsp.analysis import analyze
from specforge.lsp.completion import completion
from specforge.lsp.cursor import cursor_at
from specforge.registry import get_registry

BLOCK = """\
specforge: 2
name: block
inputs:
  - name: a
    shape: [4]
  - name: b
    shape: [2]
nodes:
  - name: h
    type: Dense
    units: 3
    inputs: [a]
  - name: out
    type: Concatenate
    inputs:
      - h
      - b
outputs:
  - node: out
    loss: mse
    metrics: [mean_absolute_error]
optimizer:
  type: sgd
data:
  dataset: {type: csv}
  feeds:
    a: {columns: "0:4"}
train:
  early_stopping: {monitor: val_loss}
"""


def labels(marked: str, name: str = "s.yaml") -> list[str]:
    i = marked.index("|")
    text = marked[:i] + marked[i + 1 :]
    analysis = analyze(f"file:///{name}", text, 1, language_id=None, registry=get_registry())
    line = text.count("\n", 0, i)
    col = i - (text.rfind("\n", 0, i) + 1)
    cursor = cursor_at(analysis.lines, line, col, json=analysis.format == "json")
    return [item.label for item in completion(analysis, cursor, get_registry(), "utf-16").items]


def reg_names(kind: str) -> list[str]:
    reg = get_registry()
    return reg.names(kind) + list(reg.aliases[kind])


@pytest.mark.parametrize(
    ("where", "marked", "expected"),
    [
        ("node type", BLOCK.replace("type: Dense", "type: D|"), reg_names("node_type")),
        (
            "activation",
            BLOCK.replace("units: 3", "units: 3\n    activation: r|"),
            reg_names("activation"),
        ),
        (
            "initializer",
            BLOCK.replace("units: 3", "units: 3\n    kernel_initializer: |"),
            reg_names("initializer"),
        ),
        ("loss", BLOCK.replace("loss: mse", "loss: |"), reg_names("loss")),
        ("metric", BLOCK.replace("[mean_absolute_error]", "[|]"), reg_names("metric")),
        ("optimizer", BLOCK.replace("type: sgd", "type: |"), reg_names("optimizer")),
        ("dataset", BLOCK.replace("{type: csv}", "{type: |}"), reg_names("dataset")),
        (
            "preprocessor",
            BLOCK.replace("{type: csv}", "{type: csv}\n  preprocess:\n    - {type: |}"),
            reg_names("preprocessor"),
        ),
        (
            "block list item reference",
            BLOCK.replace("      - b\n", "      - b\n      - |\n"),
            ["a", "b", "h"],
        ),
        ("output node", BLOCK.replace("node: out", "node: |"), ["h", "out"]),
        (
            "dtype",
            BLOCK.replace("shape: [4]", "shape: [4]\n    dtype: |"),
            ["float32", "float64", "float16", "int32", "int64", "uint8", "bool"],
        ),
        (
            "monitor",
            BLOCK.replace("monitor: val_loss", "monitor: |"),
            ["loss", "mean_absolute_error", "val_loss", "val_mean_absolute_error"],
        ),
        (
            "boolean parameter",
            BLOCK.replace("units: 3", "units: 3\n    use_bias: |"),
            ["true", "false"],
        ),
        (
            "feeds key",
            BLOCK.replace('    a: {columns: "0:4"}\n', '    a: {columns: "0:4"}\n    |\n'),
            ["b"],
        ),
    ],
)
def test_values(where, marked, expected):
    assert labels(marked) == expected, where


def test_keys_of_a_node_by_its_type_without_those_present():
    got = labels(BLOCK.replace("    units: 3\n", "    units: 3\n    |\n"))
    assert got == ["activation", "use_bias", "kernel_initializer", "bias_initializer"]


def test_keys_of_a_new_list_item_and_of_sections():
    assert labels(BLOCK.replace("nodes:\n", "nodes:\n  - |\n")) == ["name", "type", "inputs"]
    assert labels(BLOCK.replace("optimizer:\n  type: sgd\n", "optimizer:\n  type: sgd\n  |\n")) == [
        "learning_rate",
        "momentum",
        "nesterov",
    ]
    csv = labels(BLOCK.replace("{type: csv}", "{type: csv, |}"))
    assert {"path", "target"} <= set(csv) and "type" not in csv
    assert labels(BLOCK.replace("train:\n", "train:\n  |\n")) == [
        "epochs",
        "batch_size",
        "seed",
        "shuffle",
        "steps_per_execution",
        "backend",
        "checkpoint",
        "distribution",
    ]


def test_json_keys_and_values_are_quoted():
    text = '{"specforge": 2, "nodes": [{"name": "a", "type": "Dense", "u|"}]}'
    assert "units" in labels(text, "s.json")
    text = '{"specforge": 2, "optimizer": {"type": |}}'
    assert labels(text, "s.json") == reg_names("optimizer")


def test_nothing_in_a_comment_or_a_description():
    assert labels("specforge: 2  # a comm|ent\n") == []
    assert labels("description: >\n  some te|xt\nname: x\n") == []
