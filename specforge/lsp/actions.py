"""Code actions: apply the fix a diagnostic's help line names ("did you mean 'Dense'?").

The server puts the replacement in each diagnostic's ``data`` when it publishes
it (:func:`.diagnostics.fix_of`); an editor that does not send ``data`` back
still gets the action, from the help line in the message. The edit replaces
the diagnostic's range, keeping the quotes around a quoted name, and only when
that range holds one scalar (never a whole mapping).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from lsprotocol import types

from .diagnostics import SOURCE, fix_of
from .positions import from_position

_SCALAR = re.compile(r"""^(["']?)[^\s{}\[\],:"']+\1$""")


def _fix(d: types.Diagnostic) -> tuple[str, bool] | None:
    data = d.data if isinstance(d.data, dict) else None
    if data and isinstance(data.get("fix"), str):
        return data["fix"], bool(data.get("keep_quotes", True))
    for line in (d.message or "").splitlines():
        if line.startswith("help: "):
            return fix_of(line[len("help: ") :])
    return None


def code_actions(
    uri: str,
    lines: Sequence[str],
    diagnostics: Sequence[types.Diagnostic],
    encoding: str,
) -> list[types.CodeAction]:
    actions = []
    for d in diagnostics:
        if d.source not in (SOURCE, None):
            continue
        fix = _fix(d)
        if fix is None or d.range.start.line != d.range.end.line:
            continue
        row, start = from_position(lines, d.range.start, encoding)
        _, end = from_position(lines, d.range.end, encoding)
        old = lines[row].rstrip("\r\n")[start:end] if row < len(lines) else ""
        m = _SCALAR.match(old)
        if not m:
            continue
        new, keep_quotes = fix
        quote = m.group(1) if keep_quotes else ""
        if old == quote + new + quote:
            continue
        actions.append(
            types.CodeAction(
                title=f"Replace '{old.strip(chr(34) + chr(39))}' with '{new}'",
                kind=types.CodeActionKind.QuickFix,
                diagnostics=[d],
                is_preferred=True,
                edit=types.WorkspaceEdit(
                    changes={uri: [types.TextEdit(range=d.range, new_text=quote + new + quote)]}
                ),
            )
        )
    return actions
