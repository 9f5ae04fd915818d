"""``validate``, ``summary`` and ``schema`` never import TensorFlow or Keras (checked in a real process)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

PROBE = """
import sys
sys.argv = ["specforge", *{args!r}]
from specforge.cli import main
try:
    main()
except SystemExit as e:
    code = e.code
heavy = sorted({{m.split(".")[0] for m in sys.modules}} & {{"tensorflow", "keras", "torch", "jax"}})
print("HEAVY=" + ",".join(heavy), "EXIT=" + str(code), file=sys.stderr)
"""


@pytest.mark.parametrize(
    "args",
    [
        [
            "validate",
            "specs/wide_deep_aux.yaml",
            "specs/fashion_mnist_mlp.yaml",
            "specs/wide_deep_aux.json",
        ],
        ["validate", "tests/fixtures/invalid/several_problems.yaml"],
        ["summary", "specs/wide_deep_aux.yaml"],
        ["summary", "--format", "json", "specs/fashion_mnist_mlp.yaml"],
        ["schema"],
        ["graph", "--format", "mmd", "specs/wide_deep_aux.yaml"],
        ["upgrade", "tests/spec/fixtures/v1_aux.yaml"],
    ],
    ids=["validate", "validate-invalid", "summary", "summary-json", "schema", "graph", "upgrade"],
)
def test_command_does_not_import_tensorflow_or_keras(args):
    proc = subprocess.run(
        [sys.executable, "-c", PROBE.format(args=args)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("HEAVY= EXIT="), proc.stderr
    assert last.split("EXIT=")[1] in ("0", "1")
