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


def _probe(args: list[str], cwd: Path = ROOT) -> tuple[str, str]:
    proc = subprocess.run(
        [sys.executable, "-c", PROBE.format(args=args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
    )
    last = proc.stderr.strip().splitlines()[-1]
    return last, proc.stderr


@pytest.fixture(scope="module")
def numpy_run(tmp_path_factory):
    """A run trained on the NumPy backend (its training imports no framework either)."""
    tmp = tmp_path_factory.mktemp("numpy-run")
    run = tmp / "run"
    last, err = _probe(
        [
            *("train", str(ROOT / "specs/digits_mlp.yaml"), "--backend", "numpy"),
            *("--epochs", "1", "--out", str(run), "--quiet"),
        ]
    )
    assert last.startswith("HEAVY= EXIT=0"), err
    (tmp / "in.csv").write_text(",".join(["0.5"] * 64) + "\n")
    return run


@pytest.mark.parametrize("command", ["evaluate", "predict"])
def test_a_numpy_trained_run_is_evaluated_and_predicted_without_tensorflow(numpy_run, command):
    args = [command, str(numpy_run)]
    if command == "predict":
        args += [str(numpy_run.parent / "in.csv"), "-o", str(numpy_run.parent / "out.csv")]
    last, err = _probe(args)
    assert last.startswith("HEAVY= EXIT=0"), err


def test_build_numpy_and_plugins_do_not_import_tensorflow(tmp_path):
    last, err = _probe(
        ["build", "specs/california_mlp.yaml", "--backend", "numpy", "-o", str(tmp_path / "m.npz")]
    )
    assert last.startswith("HEAVY= EXIT=0"), err
    last, err = _probe(["plugins"])
    assert last.startswith("HEAVY= EXIT=0"), err


@pytest.mark.parametrize(
    "content",
    [b"not a model\n", b"PK\x05\x06" + b"\0" * 18, "zip-without-config", "config-not-a-model"],
    ids=["text", "empty-zip", "zip-without-config", "config-not-a-model"],
)
def test_import_refuses_a_wrong_file_before_importing_tensorflow(tmp_path, content):
    import zipfile

    path = tmp_path / "model.keras"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        with zipfile.ZipFile(path, "w") as z:
            z.writestr("config.json" if content == "config-not-a-model" else "a.txt", "[1, 2]")
    last, err = _probe(["import", str(path)])
    assert last.startswith("HEAVY= EXIT=2"), err
    assert "error:" in err
