"""specforge diagnostics as LSP diagnostics: same codes, messages and severities as ``validate``.

The message carries the help line (``help: ...``) the way ``validate`` prints it
under the diagnostic, since not every editor shows anything else; related
locations (the first definition of a duplicate name) become
``relatedInformation``; a did-you-mean or other mechanical fix goes into
``data.fix`` for the code action (:mod:`.actions`) to apply.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from lsprotocol import types

from ..diagnostics import Diagnostic
from .positions import to_range

SOURCE = "specforge"

_SEVERITY = {
    "error": types.DiagnosticSeverity.Error,
    "warning": types.DiagnosticSeverity.Warning,
    "note": types.DiagnosticSeverity.Information,
}

#: Help lines that say exactly what to write instead of the diagnostic's text.
_FIXES = (
    (re.compile(r"did you mean '([^']+)'\?"), True),
    (re.compile(r"^remove the quotes: (\S+)$"), False),
    (re.compile(r"is a string: write (true|false)$"), False),
)


def fix_of(help: str | None) -> tuple[str, bool] | None:
    """The replacement a help line names, and whether quotes around the old text stay."""
    if not help:
        return None
    for pattern, keep_quotes in _FIXES:
        m = pattern.search(help)
        if m:
            return m.group(1), keep_quotes
    return None


def to_lsp(
    d: Diagnostic, lines: Sequence[str], uri: str, encoding: str = "utf-16"
) -> types.Diagnostic:
    message = d.message + (f"\nhelp: {d.help}" if d.help else "")
    related = [
        types.DiagnosticRelatedInformation(
            location=types.Location(uri=uri, range=to_range(lines, r.span, encoding)),
            message=r.message,
        )
        for r in d.related
    ]
    fix = fix_of(d.help)
    return types.Diagnostic(
        range=to_range(lines, d.span, encoding),
        message=message,
        severity=_SEVERITY.get(d.severity, types.DiagnosticSeverity.Error),
        code=d.code,
        source=SOURCE,
        related_information=related or None,
        data={"fix": fix[0], "keep_quotes": fix[1]} if fix else None,
    )


def to_lsp_all(
    diagnostics: Sequence[Diagnostic], lines: Sequence[str], uri: str, encoding: str = "utf-16"
) -> list[types.Diagnostic]:
    return [to_lsp(d, lines, uri, encoding) for d in diagnostics]
