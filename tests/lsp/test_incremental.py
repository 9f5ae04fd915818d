"""The one-line re-parse gives exactly the document (values and every position) a full parse gives."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from specforge.api import check_document
from specforge.lsp.incremental import splice
from specforge.lsp.positions import split_lines
from specforge.spec.load import Document, loads

ROOT = Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
from lsp_latency import chain_spec  # noqa: E402

SEEDS = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "specs").glob("*.yaml"))]
SEEDS.append(chain_spec(30))
PIECES = [
    *"{}[],:'\"#&*! -\t\\",
    "x",
    "units: 3",
    ", units: 7",
    "Dens",
    "inputs: [a, b]",
    "é",
    "😀",
    "\u2028",
    "}",
    "{",
    "} # c",
]


def _snapshot(doc: Document) -> tuple[object, dict, dict, str]:
    return doc.data, dict(doc.spans.items()), dict(doc.key_spans.items()), doc.source


NEW_LINES = [
    "  - {name: extra, type: Dense, units: 3}",
    "  - {name: extra, type: Dense, units: 3, inputs: [x]}",
    "  - {node: extra, loss: mse}",
    "  - {type: standard_scaler}",
    "  - {name: extra, type: Dense, units: 3",
    "  - {name: x, shape: [2]}",
    "- {name: extra, type: Flatten}",
    "    - {name: extra}",
    "  - name: block",
    "",
    "# a comment",
]


@st.composite
def line_edit(draw) -> tuple[str, str]:
    """One edit of a seed spec's lines: within a line, or adding, removing, copying lines."""
    text = draw(st.sampled_from(SEEDS))
    lines = text.split("\n")
    items = [i for i, line in enumerate(lines) if line.lstrip().startswith("- {")]
    i = (
        draw(st.sampled_from(items))
        if items and draw(st.booleans())
        else draw(st.integers(0, len(lines) - 1))
    )
    op = draw(st.sampled_from(["edit", "edit", "insert", "delete", "copy", "replace"]))
    if op == "edit":
        line = lines[i]
        for _ in range(draw(st.integers(1, 3))):
            a = draw(st.integers(0, len(line)))
            b = draw(st.integers(a, min(len(line), a + 6)))
            line = line[:a] + draw(st.sampled_from(["", *PIECES])) + line[b:]
        lines[i] = line
    elif op == "insert":
        for _ in range(draw(st.integers(1, 3))):
            lines.insert(i, draw(st.sampled_from(NEW_LINES)))
    elif op == "delete":
        del lines[i : i + draw(st.integers(1, 3))]
    elif op == "copy":
        lines.insert(i, lines[draw(st.integers(0, len(lines) - 1))])
    else:
        j = min(len(lines), i + draw(st.integers(1, 3)))
        lines[i:j] = draw(st.lists(st.sampled_from(NEW_LINES), max_size=3))
    return text, "\n".join(lines)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=line_edit())
def test_splice_equals_a_full_parse(case):
    before, after = case
    previous, diags = loads(before, "s.yaml")
    assert not diags
    full, full_diags = loads(after, "s.yaml")
    spliced = splice(previous, split_lines(before), after, split_lines(after))
    if spliced is None:
        return
    assert not full_diags, "spliced a text that does not parse"
    assert _snapshot(spliced) == _snapshot(full)
    assert check_document(spliced, []).diagnostics == check_document(full, []).diagnostics


@pytest.mark.parametrize(
    "edit",
    [
        lambda t: t.replace("dense_500, type: Dense", "dense_500, type: Dens"),
        lambda t: t.replace("  - {name: dense_500,", "  - {name: new}\n  - {name: dense_500,"),
        lambda t: t.replace(
            "  - {name: dense_500, type: Dense, units: 16, activation: relu}\n", ""
        ),
    ],
    ids=["within-a-line", "a-line-added", "a-line-removed"],
)
def test_splice_is_taken_for_node_lines(edit):
    text = chain_spec(1000)
    edited = edit(text)
    previous, _ = loads(text, "s.yaml")
    spliced = splice(previous, split_lines(text), edited, split_lines(edited))
    assert spliced is not None
    full, _ = loads(edited, "s.yaml")
    assert _snapshot(spliced) == _snapshot(full)


def test_splice_refuses_what_it_cannot_prove():
    text = chain_spec(3)
    lines = split_lines(text)
    previous, _ = loads(text, "s.yaml")
    for edited in (
        text.replace("  - {name: dense_1,", "  - {name: dense_1,\n"),  # a broken line
        text.replace("  - {name: dense_0,", "  - {name: new}\n  - {name: dense_0,"),  # first
        text.replace("dense_1, type", "dense_1 &a, type"),  # an anchor
        text.replace("  - {name: dense_1, type: Dense, units: 16, activation: relu}", "  - x"),
        text.replace("specforge: 2", "specforge: 2"),  # not a sequence item
    ):
        assert splice(previous, lines, edited, split_lines(edited)) is None
