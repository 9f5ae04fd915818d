"""Compiler-style diagnostics: what is wrong, where, and how to fix it.

Every check in specforge *yields* :class:`Diagnostic` objects instead of raising,
so that one run reports every problem in a spec (the habit of jsonschema's
``iter_errors``). Rendering is separate from detection: the same diagnostics
are printed for people (with the source line and a caret) or as JSON.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, NamedTuple

Severity = Literal["error", "warning", "note"]

#: The most diagnostics printed for one file; the rest are counted, not shown.
MAX_PRINTED = 50


class Span(NamedTuple):
    """A 1-based, end-exclusive region of a source file.

    A named tuple rather than a dataclass: the loader makes one per value, and a
    10,000-node spec has over 100,000 of them.
    """

    line: int = 1
    column: int = 1
    end_line: int = 1
    end_column: int = 1


class Related(NamedTuple):
    """Another place a diagnostic concerns, such as the first definition of a duplicate name.

    Editors show it next to the diagnostic (LSP ``relatedInformation``); the
    text and JSON output of ``validate`` leave it out (the message says it in words).
    """

    span: Span
    message: str


@dataclass(frozen=True)
class Diagnostic:
    """One problem found in a spec, located in its source file."""

    code: str
    message: str
    severity: Severity = "error"
    file: str = "<spec>"
    span: Span = field(default_factory=Span)
    help: str | None = None
    #: Other places in the same file this diagnostic concerns.
    related: tuple[Related, ...] = ()

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def to_dict(self) -> dict[str, object]:
        return {
            "file": self.file,
            "line": self.span.line,
            "column": self.span.column,
            "end_line": self.span.end_line,
            "end_column": self.span.end_column,
            "severity": self.severity,
            "code": self.code,
            "message": self.message,
            "help": self.help,
        }


class SpecError(Exception):
    """Raised by API functions that need a valid spec and did not get one."""

    def __init__(self, diagnostics: Sequence[Diagnostic]):
        self.diagnostics = list(diagnostics)
        errors = [d for d in self.diagnostics if d.is_error]
        first = errors[0] if errors else (self.diagnostics[0] if self.diagnostics else None)
        summary = f"{len(errors)} error(s) in spec"
        if first is not None:
            summary += (
                f"; first: {first.file}:{first.span.line}:{first.span.column}: {first.message}"
            )
        super().__init__(summary)

    def render(self, source: str | None = None) -> str:
        return render_text(self.diagnostics, source)


def did_you_mean(name: object, candidates: Iterable[str]) -> str | None:
    """A 'did you mean' hint for a misspelt name, or None if nothing is close."""
    if not isinstance(name, str):
        return None
    pool = list(candidates)
    lowered = {c.lower(): c for c in pool}
    if name.lower() in lowered and lowered[name.lower()] != name:
        return f"did you mean '{lowered[name.lower()]}'?"
    matches = difflib.get_close_matches(name, pool, n=1, cutoff=0.6)
    if not matches:
        matches = [
            c for c in difflib.get_close_matches(name.lower(), list(lowered), n=1, cutoff=0.6)
        ]
        matches = [lowered[m] for m in matches]
    return f"did you mean '{matches[0]}'?" if matches else None


def _caret_line(source_line: str, span: Span) -> str:
    start = max(span.column - 1, 0)
    if span.end_line == span.line and span.end_column > span.column:
        width = span.end_column - span.column
    else:
        width = max(len(source_line.rstrip()) - start, 1)
    # Keep tabs so the caret lines up under the same characters.
    prefix = "".join("\t" if ch == "\t" else " " for ch in source_line[:start])
    return prefix + "^" * max(width, 1)


def render_one(d: Diagnostic, lines: Sequence[str] | None) -> str:
    out = [f"{d.file}:{d.span.line}:{d.span.column}: {d.severity}[{d.code}]: {d.message}"]
    if lines is not None and 1 <= d.span.line <= len(lines):
        src = lines[d.span.line - 1].rstrip("\r\n")
        # Show the line unless it is blank, huge, or holds control characters (tabs are fine).
        if src.strip() and len(src) <= 400 and src.replace("\t", " ").isprintable():
            out.append("    " + src)
            out.append("    " + _caret_line(src, d.span))
    if d.help:
        out.append(f"  help: {d.help}")
    return "\n".join(out)


def render_text(
    diagnostics: Sequence[Diagnostic],
    source: str | Mapping[str, str] | None = None,
    *,
    limit: int = MAX_PRINTED,
) -> str:
    """Render diagnostics the way a compiler prints them.

    ``source`` is the text of the file, or a mapping of file name to text when
    diagnostics name several (a spec and its ``--set`` overrides).
    """
    if isinstance(source, Mapping):
        texts = {f: t.splitlines() for f, t in source.items()}
        shown = list(diagnostics)[:limit]
        parts = [render_one(d, texts.get(d.file)) for d in shown]
    else:
        lines = source.splitlines() if source is not None else None
        shown = list(diagnostics)[:limit]
        parts = [render_one(d, lines) for d in shown]
    hidden = len(diagnostics) - len(shown)
    if hidden > 0:
        parts.append(f"... and {hidden} more diagnostic(s) not shown")
    return "\n".join(parts)


def render_json(diagnostics: Sequence[Diagnostic]) -> str:
    return json.dumps([d.to_dict() for d in diagnostics], indent=2)


def count(diagnostics: Iterable[Diagnostic]) -> tuple[int, int]:
    """(errors, warnings)."""
    errors = warnings = 0
    for d in diagnostics:
        if d.severity == "error":
            errors += 1
        elif d.severity == "warning":
            warnings += 1
    return errors, warnings


__all__ = [
    "MAX_PRINTED",
    "Diagnostic",
    "Related",
    "Severity",
    "Span",
    "SpecError",
    "count",
    "did_you_mean",
    "render_json",
    "render_text",
]
