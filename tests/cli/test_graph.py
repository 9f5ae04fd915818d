"""``specforge graph``: formats from the suffix or --format, exit codes, stdout."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _from_root(monkeypatch):
    monkeypatch.chdir(ROOT)


@pytest.mark.parametrize("suffix", [".svg", ".png", ".pdf", ".dot", ".mmd"])
def test_writes_the_format_its_suffix_names(cli_run, tmp_path, suffix):
    out = tmp_path / f"wide_deep_aux{suffix}"
    result = cli_run("graph", "specs/wide_deep_aux.yaml", "-o", str(out))
    assert result.exit_code == 0, result.output
    assert result.stdout == f"wrote {out} (2 inputs, 5 nodes, {suffix[1:]})\n"
    head = out.read_bytes()[:16]
    expected = {".svg": b"<?xml", ".png": b"\x89PNG", ".pdf": b"%PDF", ".dot": b"digraph"}
    assert head.startswith(expected.get(suffix, b"flowchart"))


def test_format_option_overrides_the_suffix_and_rankdir_is_passed(cli_run, tmp_path):
    out = tmp_path / "graph.txt"
    result = cli_run(
        "graph", "specs/wide_deep.yaml", "-o", str(out), "--format", "dot", "--rankdir", "lr"
    )
    assert result.exit_code == 0, result.output
    assert "rankdir=LR" in out.read_text()


def test_without_output_the_text_goes_to_stdout(cli_run):
    result = cli_run("graph", "specs/fashion_mnist_mlp.yaml")
    assert result.exit_code == 0
    root = ET.fromstring(result.stdout.encode())
    assert root.tag.endswith("svg")
    mmd = cli_run("graph", "specs/fashion_mnist_mlp.yaml", "--format", "mmd")
    assert mmd.stdout.startswith("flowchart TB\n")


def test_an_unknown_suffix_is_a_usage_error(cli_run, tmp_path):
    result = cli_run("graph", "specs/wide_deep.yaml", "-o", str(tmp_path / "g.txt"))
    assert result.exit_code == 2
    assert "cannot tell the picture format of" in result.stderr
    assert "help: end the file name with .svg, .png, .pdf, .dot or .mmd" in result.stderr
    assert not (tmp_path / "g.txt").exists()


def test_png_needs_a_file(cli_run):
    result = cli_run("graph", "specs/wide_deep.yaml", "--format", "png")
    assert result.exit_code == 2
    assert "PNG is binary" in result.stderr


def test_an_invalid_spec_exits_1_with_its_diagnostics(cli_run, tmp_path):
    out = tmp_path / "g.svg"
    result = cli_run("graph", "tests/fixtures/invalid/cycle_two_nodes.yaml", "-o", str(out))
    assert result.exit_code == 1
    assert "error[cycle]" in result.stdout
    assert "invalid (1 error)" in result.stderr
    assert not out.exists()


def test_a_missing_spec_is_a_usage_error(cli_run, tmp_path):
    result = cli_run("graph", "no/such.yaml", "-o", str(tmp_path / "g.svg"))
    assert result.exit_code == 2
