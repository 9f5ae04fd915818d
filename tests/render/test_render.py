"""Every output format of a resolved graph: SVG names every node with its shape and count."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import specforge
from specforge.render import format_of, render_text, write_graph
from specforge.render.scene import shape_text, text_width

ROOT = Path(__file__).resolve().parents[2]
CHAPTER = [
    "fashion_mnist_mlp",
    "california_mlp",
    "wide_deep",
    "wide_deep_two_inputs",
    "wide_deep_aux",
]
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module", params=CHAPTER)
def graph(request):
    return specforge.resolve(ROOT / "specs" / f"{request.param}.yaml")


def _svg_boxes(text: str) -> dict[str, list[str]]:
    root = ET.fromstring(text.encode())
    boxes = {}
    for g in root.iter(f"{SVG}g"):
        if "node" in g.get("class", "").split():
            boxes[g.get("data-name")] = [t.text for t in g.iter(f"{SVG}text")]
    return boxes


@pytest.mark.parametrize("rankdir", ["TB", "LR"])
def test_svg_names_every_node_with_its_shape_and_parameter_count(graph, rankdir):
    boxes = _svg_boxes(render_text(graph, "svg", rankdir=rankdir))
    assert set(boxes) == {i.name for i in graph.inputs} | {n.name for n in graph.nodes}
    for node in graph.nodes:
        lines = boxes[node.name]
        assert lines[0] == node.name
        assert lines[1].startswith(node.type)
        assert f"output {shape_text(node.output_shape)}" in lines
        assert f"{node.param_count.total:,} params" in lines or node.param_count.total == 1
        activation = node.param("activation")
        if activation and activation != "linear":
            assert lines[1] == f"{node.type} · {activation}"
    for inp in graph.inputs:
        assert f"shape (None, {', '.join(map(str, inp.shape))})" in boxes[inp.name]


def test_svg_marks_inputs_and_outputs_and_draws_every_edge(graph):
    root = ET.fromstring(render_text(graph, "svg").encode())
    kinds = {
        g.get("data-name"): g.get("class").split()[1]
        for g in root.iter(f"{SVG}g")
        if g.get("class", "").startswith("node")
    }
    outputs = {o.node: o for o in graph.outputs}
    for name, kind in kinds.items():
        expected = "input" if name in {i.name for i in graph.inputs} else "node"
        assert kind == ("output" if name in outputs else expected)
    for g in root.iter(f"{SVG}g"):
        if g.get("data-name") in outputs:
            out = outputs[g.get("data-name")]
            footer = [t.text for t in g.iter(f"{SVG}text")][4:]
            assert footer[0].startswith(f"output · loss {out.loss}")
            if len(graph.outputs) > 1:
                assert footer[0].endswith(f"weight {out.weight:g}")
    edges = {
        (g.get("data-source"), g.get("data-target"))
        for g in root.iter(f"{SVG}g")
        if g.get("class") == "edge"
    }
    assert edges == {(src, n.name) for n in graph.nodes for src in n.inputs}


def test_text_fits_its_box(graph):
    root = ET.fromstring(render_text(graph, "svg").encode())
    for g in root.iter(f"{SVG}g"):
        if not g.get("class", "").startswith("node"):
            continue
        width = float(g.find(f"{SVG}rect").get("width"))
        for t in g.iter(f"{SVG}text"):
            bold = t.get("font-weight") == "bold"
            assert text_width(t.text, float(t.get("font-size")), bold=bold) < width - 10


def test_dot_is_well_formed_and_lists_every_edge(graph):
    text = render_text(graph, "dot", rankdir="LR")
    lines = text.strip().splitlines()
    assert lines[0] == f'digraph "{graph.name}" {{' and lines[-1] == "}"
    assert "rankdir=LR" in lines[1]
    assert text.count("{") == text.count("}")
    nodes = re.findall(r'^  "([^"]+)" \[label=<(.*)>, fillcolor', text, re.M)
    assert [n for n, _ in nodes] == [i.name for i in graph.inputs] + [n.name for n in graph.nodes]
    for _, label in nodes:  # HTML-like labels: balanced tags
        assert len(re.findall(r"<(b|i|font)\b", label)) == len(re.findall(r"</(b|i|font)>", label))
    edges = re.findall(r'^  "([^"]+)" -> "([^"]+)";$', text, re.M)
    assert edges == [(src, n.name) for n in graph.nodes for src in n.inputs]


def test_mermaid_is_well_formed_and_lists_every_edge(graph):
    text = render_text(graph, "mmd")
    lines = text.strip().splitlines()
    assert lines[0] == "flowchart TB"
    ids: dict[str, str] = {}
    edges = []
    for line in lines[1:]:
        if m := re.fullmatch(r'  (n\d+)\["<b>([^<"]+)</b>(?:<br/>[^"]*)?"\]', line):
            ids[m.group(1)] = m.group(2)
        elif m := re.fullmatch(r"  (n\d+) --> (n\d+)", line):
            edges.append((ids[m.group(1)], ids[m.group(2)]))
        else:
            assert re.fullmatch(r"  (%%.*|classDef sf\w+ .+|class (n\d+,)*n\d+ sf\w+)", line), line
    assert sorted(ids.values()) == sorted(
        [i.name for i in graph.inputs] + [n.name for n in graph.nodes]
    )
    assert edges == [(src, n.name) for n in graph.nodes for src in n.inputs]


@pytest.mark.parametrize("suffix", [".png", ".pdf"])
def test_png_and_pdf_are_written_atomically_and_not_empty(tmp_path, suffix, monkeypatch):
    graph = specforge.resolve(ROOT / "specs" / "wide_deep_aux.yaml")
    target = tmp_path / f"g{suffix}"
    target.write_bytes(b"old")
    from specforge.render import raster

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    with monkeypatch.context() as m:
        m.setattr(raster, "write_raster", boom)
        with pytest.raises(RuntimeError):
            write_graph(graph, target)
    assert target.read_bytes() == b"old"  # untouched by a failed write
    assert [p.name for p in tmp_path.iterdir()] == [target.name]  # no temporary file left
    write_graph(graph, target)
    data = target.read_bytes()
    assert data.startswith(b"\x89PNG" if suffix == ".png" else b"%PDF") and len(data) > 5000


def test_format_comes_from_the_suffix():
    assert format_of("g.SVG") == "svg" and format_of("g.gv") == "dot"
    assert format_of("g.mermaid") == "mmd" and format_of("g.txt") is None
    with pytest.raises(ValueError, match="picture format"):
        write_graph(specforge.resolve(ROOT / "specs" / "wide_deep.yaml"), "g.txt")
