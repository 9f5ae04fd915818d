"""docs/lsp-transcript.md is a real session of the current server (regenerated, it is unchanged)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent


def test_the_transcript_is_up_to_date():
    proc = subprocess.run(
        [sys.executable, str(ROOT / "docs" / "lsp_transcript.py"), "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_the_editor_guide_is_linked_from_the_readme():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "| `specforge lsp` |" in readme and "docs/editors.md" in readme
