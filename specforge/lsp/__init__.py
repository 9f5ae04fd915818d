"""``specforge lsp``: a Language Server for spec files, so editors show the compiler's findings.

The server (built on pygls, an optional dependency: ``pip install 'specforge[lsp]'``)
publishes exactly the diagnostics of ``specforge validate`` as the user types, and
offers completion, hover, go to definition, references, rename, an outline and
did-you-mean fixes, all from the live plugin registry. The modules that work out
what the cursor is on (:mod:`.cursor`, :mod:`.catalog`) know nothing about the
protocol; the others turn their answers into LSP types.
"""

from __future__ import annotations

import importlib.util

#: What ``pip`` needs for the language server (the ``lsp`` extra).
REQUIREMENT = "pygls>=2.1,<3"


def missing_dependency() -> str | None:
    """The module the server needs but cannot import, or None when it can run."""
    for module in ("pygls", "lsprotocol"):
        if importlib.util.find_spec(module) is None:
            return module
    return None


__all__ = ["REQUIREMENT", "missing_dependency"]
