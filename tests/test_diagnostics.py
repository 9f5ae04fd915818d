"""Rendering diagnostics: the header, the source line, the caret, the help line."""

from __future__ import annotations

import json

from specforge.diagnostics import (
    Diagnostic,
    Span,
    SpecError,
    count,
    did_you_mean,
    render_json,
    render_text,
)

SOURCE = "specforge: 2\nname: m\nnodes:\n  - {name: a, type: Dens}\n"


def diag(span: Span, **kw) -> Diagnostic:
    return Diagnostic(
        kw.pop("code", "unknown-node-type"),
        kw.pop("message", "bad"),
        file="s.yaml",
        span=span,
        **kw,
    )


def test_a_diagnostic_renders_header_source_caret_and_help():
    d = diag(Span(4, 22, 4, 26), help="did you mean 'Dense'?")
    assert render_text([d], SOURCE) == (
        "s.yaml:4:22: error[unknown-node-type]: bad\n"
        "      - {name: a, type: Dens}\n"
        "                         ^^^^\n"
        "  help: did you mean 'Dense'?"
    )


def test_a_span_over_several_lines_is_underlined_to_the_end_of_its_first_line():
    d = diag(Span(3, 1, 5, 1))
    assert render_text([d], SOURCE).splitlines()[1:] == ["    nodes:", "    ^^^^^^"]


def test_without_source_or_for_huge_lines_only_the_header_and_help_are_printed():
    d = diag(Span(1, 1, 1, 2), help="h")
    assert render_text([d]) == "s.yaml:1:1: error[unknown-node-type]: bad\n  help: h"
    long = "x: " + "y" * 500 + "\n"
    assert render_text([d], long) == "s.yaml:1:1: error[unknown-node-type]: bad\n  help: h"
    assert render_text([d], "a\x07b\n") == "s.yaml:1:1: error[unknown-node-type]: bad\n  help: h"


def test_warnings_and_json():
    d = diag(Span(2, 7, 2, 8), code="unused-node", severity="warning")
    assert render_text([d], SOURCE).startswith("s.yaml:2:7: warning[unused-node]: bad\n")
    assert json.loads(render_json([d])) == [
        {
            "file": "s.yaml",
            "line": 2,
            "column": 7,
            "end_line": 2,
            "end_column": 8,
            "severity": "warning",
            "code": "unused-node",
            "message": "bad",
            "help": None,
        }
    ]
    assert count([d, diag(Span())]) == (1, 1)


def test_did_you_mean_finds_close_and_case_only_differences():
    assert did_you_mean("rleu", ["relu", "elu", "selu"]) == "did you mean 'relu'?"
    assert did_you_mean("dense", ["Dense", "Flatten"]) == "did you mean 'Dense'?"
    assert did_you_mean("zzz", ["relu"]) is None
    assert did_you_mean(3, ["relu"]) is None


def test_spec_error_summarises_the_first_error():
    err = SpecError([diag(Span(4, 22, 4, 26)), diag(Span(1, 1, 1, 1), severity="warning")])
    assert str(err) == "1 error(s) in spec; first: s.yaml:4:22: bad"
    assert err.render(SOURCE).startswith("s.yaml:4:22: error[unknown-node-type]: bad")
