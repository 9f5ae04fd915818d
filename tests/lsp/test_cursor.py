"""Where the cursor is, read from the text alone (also text that does not parse)."""

from __future__ import annotations

import pytest

from specforge.lsp.cursor import cursor_at
from specforge.lsp.positions import split_lines


def at(marked: str, *, json: bool = False):
    """The cursor at '|' in ``marked``."""
    i = marked.index("|")
    text = marked[:i] + marked[i + 1 :]
    line = text.count("\n", 0, i)
    col = i - (text.rfind("\n", 0, i) + 1)
    return cursor_at(split_lines(text), line, col, json=json)


FLOW = """\
specforge: 2
name: m
description: >
  text: here
inputs:
  - {name: image, shape: [8, 8]}
nodes:
  - {name: flatten, type: Flatten}
  - {name: hidden, type: De|nse, units: 64, activation: relu}
"""


@pytest.mark.parametrize(
    ("marked", "path", "role", "word"),
    [
        (FLOW, ("nodes", 1, "type"), "value", "Dense"),
        (FLOW.replace("De|nse", "Dense, act|"), ("nodes", 1), "key", "act"),
        (
            FLOW.replace("De|nse", "Dense, inputs: [image, fl|]"),
            ("nodes", 1, "inputs", 1),
            "value",
            "fl",
        ),
        ("specforge: 2\nna|", (), "key", "na"),
        ("nodes:\n  - name: a\n    type: Dense\n    |\n    units: 3\n", ("nodes", 0), "key", ""),
        ("nodes:\n  - name: a\n    type: De|\n", ("nodes", 0, "type"), "value", "De"),
        ("nodes:\n- name: b\n  inputs:\n  - a\n  - |\n", ("nodes", 0, "inputs", 1), "value", ""),
        ("nodes:\n  - name: a\n  - na|me: b\n", ("nodes", 1), "key", "name"),
        (
            "outputs:\n  - {node: o, loss: mse, metrics: [acc|]}\n",
            ("outputs", 0, "metrics", 0),
            "value",
            "acc",
        ),
        (
            "data:\n  feeds:\n    wide|_input: {columns: '0:5'}\n",
            ("data", "feeds"),
            "key",
            "wide_input",
        ),
        ("nodes:\n  - {name: a,\n     type: Dense,\n     un|}\n", ("nodes", 0), "key", "un"),
        ("optimizer:\n  type: adam\n  |\n", ("optimizer",), "key", ""),
    ],
)
def test_yaml(marked, path, role, word):
    cursor = at(marked)
    assert (cursor.path, cursor.role, cursor.word) == (path, role, word)


def test_siblings_are_read_past_the_cursor():
    cursor = at("nodes:\n  - name: a\n    |\n    type: Dense\n  - name: b\n    type: Flatten\n")
    assert cursor.siblings == {"name": "a", "type": "Dense"}
    cursor = at(FLOW.replace("De|nse", "Dense, inputs: [|]"))
    assert cursor.siblings["name"] == "hidden"


def test_json():
    cursor = at('{"nodes": [{"name": "a", "type": "De|"}], "x": 1}', json=True)
    assert (cursor.path, cursor.role, cursor.word, cursor.quote) == (
        ("nodes", 0, "type"),
        "value",
        "De",
        '"',
    )
    cursor = at('{\n "nodes": [\n  {"name": "a", "u|"}\n ]\n}', json=True)
    assert (cursor.path, cursor.role, cursor.word) == (("nodes", 0), "key", "u")


def test_nothing_in_comments_and_block_scalars():
    assert at("x: 1 # comm|ent\n") is None
    assert at("description: >\n  foo: b|ar\nname: x\n") is None


@pytest.mark.parametrize(
    "text", ["", "\n", "- [", "{", "]]]", "a: {b: [c, {d: ", "\t- x", "'", '"\\']
)
def test_broken_text_never_raises(text):
    lines = split_lines(text)
    for line in range(len(lines)):
        for col in range(len(lines[line]) + 2):
            cursor_at(lines, line, col)
            cursor_at(lines, line, col, json=True)
