"""Every exit code in README.md's table, each produced by a real case, and a closed
stdout that never turns into a false "invalid spec"."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SPECS = ROOT / "specs"
sys.path.insert(0, str(ROOT / "tests" / "training"))

NAN = {
    "learning_rate: 0.05": "learning_rate: 1000000.0",
    "type: adam": "type: sgd",
    "  preprocess:\n    - {type: standard_scaler}\n": "",
}


def documented_codes() -> dict[int, str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Exit codes", 1)[1].split("\n## ", 1)[0]
    return {int(m[1]): m[2] for m in re.finditer(r"^\| (\d+) \| (.+) \|$", section, re.M)}


def test_the_readme_table_lists_exactly_the_codes_the_cli_uses():
    from specforge import cli

    used = {getattr(cli, n) for n in ("EXIT_OK", "EXIT_INVALID", "EXIT_USAGE", "EXIT_DIVERGED")} | {
        cli.EXIT_INTERRUPTED
    }
    assert set(documented_codes()) == used == {0, 1, 2, 3, 130}


@pytest.fixture
def toy():
    import toy_backend

    from specforge.testing import plugins_installed

    with plugins_installed(("toy", toy_backend), entry_points=False):
        yield toy_backend.ToyBackend


def diabetes(tmp_path: Path, **replace: str) -> str:
    text = (SPECS / "diabetes_wide_deep_aux.yaml").read_text().replace("epochs: 40", "epochs: 3")
    for old, new in replace.items():
        text = text.replace(old, new)
    path = tmp_path / "spec.yaml"
    path.write_text(text)
    return str(path)


def test_0_success(cli_run):
    assert cli_run("validate", str(SPECS / "wide_deep.yaml")).exit_code == 0


def test_1_invalid_spec(cli_run):
    result = cli_run("validate", str(ROOT / "tests/fixtures/invalid/cycle_two_nodes.yaml"))
    assert result.exit_code == 1


def test_2_usage_or_environment(cli_run, toy, tmp_path):
    assert cli_run("validate", str(tmp_path / "missing.yaml")).exit_code == 2
    assert cli_run("validate", "--no-such-option", "x.yaml").exit_code == 2
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("mine")
    result = cli_run(
        "train", diabetes(tmp_path), "--backend", "toy", "--out", str(tmp_path / "mine")
    )
    assert result.exit_code == 2


def test_2_for_a_bad_option_in_a_real_process():
    done = subprocess.run(
        [sys.executable, "-m", "specforge", "validate", "--no-such-option"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert done.returncode == 2 and "No such option" in done.stderr


def test_3_diverged(cli_run, toy, tmp_path):
    result = cli_run(
        "train", diabetes(tmp_path, **NAN), "--backend", "toy", "--out", str(tmp_path / "run")
    )
    assert result.exit_code == 3, result.output


def test_130_interrupted(cli_run, toy, tmp_path, monkeypatch):
    monkeypatch.setattr(toy, "interrupt_at", (0, 1))
    result = cli_run("train", diabetes(tmp_path), "--backend", "toy", "--out", str(tmp_path / "r"))
    assert result.exit_code == 130, result.output


# ---------------------------------------------------------------- closed pipes (real processes)


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}


@pytest.mark.parametrize(
    "args",
    [
        ("validate", *(str(p) for p in sorted(SPECS.glob("*.yaml")))),
        ("validate", "--format", "json", str(SPECS / "wide_deep.yaml")),
        ("summary", str(SPECS / "fashion_mnist_mlp.yaml")),
        ("schema",),
        ("plugins", "--format", "json"),
    ],
    ids=["validate", "validate-json", "summary", "schema", "plugins"],
)
def test_a_closed_stdout_ends_an_output_command_quietly_with_exit_0(args):
    proc = subprocess.Popen(
        [sys.executable, "-m", "specforge", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
        env=_env(),
    )
    assert proc.stdout is not None
    proc.stdout.close()  # `| head -0`: nobody will read a byte
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 0, stderr.decode()
    assert b"BrokenPipe" not in stderr and b"Traceback" not in stderr
    assert b"Exception ignored" not in stderr


def _train_on_numpy(run: Path) -> subprocess.Popen[bytes]:
    """`specforge train` of the diabetes spec on NumPy into ``run``, stdout and stderr piped."""
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "specforge",
            "train",
            str(SPECS / "diabetes_wide_deep_aux.yaml"),
            "--backend",
            "numpy",
            "--out",
            str(run),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        cwd=ROOT,
        env=_env(),
    )


def test_train_with_a_closed_stdout_and_stderr_keeps_training_and_finishes_its_run(tmp_path):
    from specforge.registry import load_registry

    if "numpy" not in load_registry().backends:
        pytest.skip("backend 'numpy' is not installed")
    run = tmp_path / "run"
    proc = _train_on_numpy(run)
    assert proc.stdout is not None
    first = proc.stdout.readline()  # `2>&1 | head -1`
    proc.stdout.close()
    assert proc.wait(timeout=300) == 0, first
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["status"] == "completed" and metrics["epochs_run"] == 40
    assert (run / "model.npz").is_file() and (run / "predictions.png").is_file()


@pytest.mark.skipif(not hasattr(signal, "SIGHUP"), reason="no SIGHUP on this platform")
def test_train_survives_a_closed_terminal_sighup_and_finishes_its_run(tmp_path):
    from specforge.registry import load_registry

    if "numpy" not in load_registry().backends:
        pytest.skip("backend 'numpy' is not installed")
    run = tmp_path / "run"
    proc = _train_on_numpy(run)
    assert proc.stdout is not None
    proc.stdout.readline()  # training has started (the terminal then closes)
    proc.send_signal(signal.SIGHUP)
    proc.stdout.close()
    assert proc.wait(timeout=300) == 0
    assert json.loads((run / "metrics.json").read_text())["status"] == "completed"
