"""docs/python-api.md runs: its Python blocks, in order, in a folder holding its spec.

A ``print(...)  # text`` line promises ``text`` in what that block prints, so the
page's sample output stays the real output.
"""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

DOC = Path(__file__).resolve().parent.parent / "docs" / "python-api.md"
PROMISE = re.compile(r"^print\(.*\)  # (?P<text>.+)$", re.M)


def test_the_python_api_page_runs_and_prints_what_it_says(tmp_path, monkeypatch):
    text = DOC.read_text(encoding="utf-8")
    [spec] = re.findall(r"```yaml\n(.*?)```", text, re.S)
    (tmp_path / "iris_mlp.yaml").write_text(spec, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert len(blocks) >= 8
    namespace: dict[str, object] = {}
    for i, block in enumerate(blocks):
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(compile(block, f"{DOC.name}, block {i + 1}", "exec"), namespace)
        for promise in PROMISE.finditer(block):
            assert promise.group("text") in out.getvalue(), (block, out.getvalue())
    run = namespace["run"]
    assert (run.run_dir / "checkpoint.npz").is_file()
    assert "backend: numpy" in (run.run_dir / "spec.yaml").read_text(encoding="utf-8")
