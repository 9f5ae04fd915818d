"""Run directories kept as a database keeps its tables: built aside, published whole,
never eating a user's files, one writer at a time, leftovers of killed runs cleaned up."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import toy_backend
from training_helpers import write_spec

from specforge.training import staging

ROOT = Path(__file__).resolve().parents[2]
DIGITS = (ROOT / "specs" / "digits_mlp.yaml").read_text(encoding="utf-8")
DIABETES = (ROOT / "specs" / "diabetes_wide_deep_aux.yaml").read_text(encoding="utf-8")
NAN = {
    "learning_rate: 0.05": "learning_rate: 1000000.0",
    "type: adam": "type: sgd",
    "  preprocess:\n    - {type: standard_scaler}\n": "",
}


def spec(tmp_path: Path, text: str = DIGITS, name: str = "model.yaml", **replace: str) -> str:
    text = text.replace("train: {epochs: 15,", "train: {epochs: 3,").replace(
        "train: {epochs: 40,", "train: {epochs: 3,"
    )
    for old, new in replace.items():
        assert old in text, old
        text = text.replace(old, new)
    return str(write_spec(tmp_path / name, text))


def train(cli_run, *args: str):
    result = cli_run("train", "--backend", "toy", "-q", *args)
    assert "Traceback" not in result.output and result.exception is None, result.exception
    return result


def metrics(run: Path) -> dict:
    return json.loads((run / "metrics.json").read_text())


def listing(path: Path) -> list[str]:
    return sorted(os.listdir(path))


def dead_pid() -> int:
    done = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    return int(done.stdout)


# ---------------------------------------------------------------- a user's folder


def test_out_refuses_a_folder_of_the_users_own_files_with_exit_2(toy, cli_run, tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    mine = "# my spec, with comments\nname: mine\n"
    (project / "spec.yaml").write_text(mine)
    (project / "data.json").write_text("{}")
    result = train(cli_run, spec(tmp_path), "--out", str(project))
    assert result.exit_code == 2
    assert "is a folder that is not empty and not a specforge run directory" in result.stderr
    assert (
        "data.json, spec.yaml" in result.stderr
        and "help: give --out a new or empty" in result.stderr
    )
    assert listing(project) == ["data.json", "spec.yaml"]
    assert (project / "spec.yaml").read_text() == mine


def test_out_dot_in_a_project_never_replaces_its_spec(toy, cli_run, tmp_path, monkeypatch):
    project = tmp_path / "project"
    path = Path(spec(project, name="spec.yaml"))
    hand_written = path.read_text()
    monkeypatch.chdir(project)
    result = train(cli_run, "spec.yaml", "--out", ".")
    assert result.exit_code == 2 and "working directory" in result.stderr
    assert listing(project) == ["spec.yaml"] and path.read_text() == hand_written


def test_out_takes_an_empty_folder_and_a_missing_one(toy, cli_run, tmp_path):
    (tmp_path / "empty").mkdir()
    for out in (tmp_path / "empty", tmp_path / "new" / "run"):
        assert train(cli_run, spec(tmp_path), "--out", str(out)).exit_code == 0
        assert metrics(out)["status"] == "completed"
    # Nothing is left beside the runs: no temporary directory, no lock file.
    assert listing(tmp_path / "new") == ["run"]
    assert not [n for n in listing(tmp_path) if n.startswith(".")]


# ---------------------------------------------------------------- replacing a finished run


def test_a_finished_run_is_replaced_only_with_overwrite(toy, cli_run, tmp_path):
    run = tmp_path / "run"
    train(cli_run, spec(tmp_path), "--out", str(run))
    before = (run / "model.npz").read_bytes()
    result = train(cli_run, spec(tmp_path), "--out", str(run), "--seed", "5")
    assert result.exit_code == 2
    assert "holds a finished run (status 'completed')" in result.stderr
    assert "pass --overwrite" in result.stderr
    assert (run / "model.npz").read_bytes() == before and metrics(run)["seed"] == 0
    assert (
        train(cli_run, spec(tmp_path), "--out", str(run), "--seed", "5", "--overwrite").exit_code
        == 0
    )
    assert metrics(run)["seed"] == 5


def test_an_unfinished_run_is_replaced_without_overwrite(toy, cli_run, tmp_path):
    run = tmp_path / "run"
    assert train(cli_run, spec(tmp_path, DIABETES, **NAN), "--out", str(run)).exit_code == 3
    assert metrics(run)["status"] == "diverged"
    assert (
        train(cli_run, spec(tmp_path, DIABETES, name="ok.yaml"), "--out", str(run)).exit_code == 0
    )
    assert metrics(run)["status"] == "completed"


def test_a_diverged_retrain_keeps_the_finished_run_and_itself_beside_it(toy, cli_run, tmp_path):
    run = tmp_path / "run"
    train(cli_run, spec(tmp_path, DIABETES), "--out", str(run))
    kept = {n: (run / n).read_bytes() for n in listing(run) if (run / n).is_file()}
    result = train(
        cli_run, spec(tmp_path, DIABETES, name="nan.yaml", **NAN), "--out", str(run), "--overwrite"
    )
    assert result.exit_code == 3
    assert {n: (run / n).read_bytes() for n in listing(run) if (run / n).is_file()} == kept
    (beside,) = [p for p in tmp_path.iterdir() if p.name.startswith("run-diverged-")]
    assert metrics(beside)["status"] == "diverged" and f"run directory: {beside}" in result.stdout


def test_a_failing_backend_leaves_a_failed_run_and_the_finished_one_untouched(
    toy, cli_run, tmp_path, monkeypatch
):
    from specforge.training import train as api_train

    run = tmp_path / "run"
    train(cli_run, spec(tmp_path), "--out", str(run))
    before = metrics(run)

    def fit(self, model, x, y, **kwargs):
        raise RuntimeError("the device fell over")

    monkeypatch.setattr(toy_backend.ToyBackend, "fit", fit)
    with pytest.raises(RuntimeError, match="fell over"):
        api_train(spec(tmp_path), backend="toy", out=run, overwrite=True, progress="quiet")
    assert metrics(run) == before
    (beside,) = [p for p in tmp_path.iterdir() if p.name.startswith("run-failed-")]
    m = metrics(beside)
    assert m["status"] == "failed" and "RuntimeError: the device fell over" in m["message"]
    with pytest.raises(RuntimeError):
        api_train(spec(tmp_path), backend="toy", out=tmp_path / "fresh", progress="quiet")
    assert metrics(tmp_path / "fresh")["status"] == "failed"


def test_a_second_ctrl_c_after_fit_still_leaves_metrics_json(toy, cli_run, tmp_path, monkeypatch):
    save = toy_backend.ToyBackend.save

    def impatient_save(self, model, path):  # two Ctrl-C while the model is being saved
        os.kill(os.getpid(), signal.SIGINT)
        os.kill(os.getpid(), signal.SIGINT)
        save(self, model, path)

    monkeypatch.setattr(toy_backend.ToyBackend, "save", impatient_save)
    run = tmp_path / "run"
    result = train(cli_run, spec(tmp_path), "--out", str(run))
    assert result.exit_code == 130, result.output
    m = metrics(run)
    assert m["status"] == "interrupted" and "after training" in m["message"]
    assert (run / "model.npz").is_file() and (run / "history.csv").is_file()


# ---------------------------------------------------------------- one writer at a time


def test_a_second_train_into_a_locked_directory_exits_2_naming_the_first(toy, cli_run, tmp_path):
    run = tmp_path / "run"
    lock = staging.DirLock(tmp_path / ".run.lock")
    lock.acquire()  # as a first `specforge train` would
    try:
        result = train(cli_run, spec(tmp_path), "--out", str(run))
    finally:
        lock.release()
    assert result.exit_code == 2
    assert f"another `specforge train` (PID {os.getpid()}) is writing {run}" in result.stderr
    assert not run.exists()
    assert train(cli_run, spec(tmp_path), "--out", str(run)).exit_code == 0


def test_a_stale_lock_of_a_dead_process_is_taken_over(toy, cli_run, tmp_path):
    (tmp_path / ".run.lock").write_text(f"{dead_pid()}\n")
    assert train(cli_run, spec(tmp_path), "--out", str(tmp_path / "run")).exit_code == 0
    assert not (tmp_path / ".run.lock").exists()


def test_leftovers_of_killed_runs_are_removed_by_the_next_run_into_the_same_place(
    toy, cli_run, tmp_path
):
    run = tmp_path / "run"
    train(cli_run, spec(tmp_path), "--out", str(run))
    pid = dead_pid()
    half_model = run / f".model.npz.tmp-{pid}-x1y2z3.npz"
    legacy = run / ".metrics.json.tmp-a8b7c6.json"
    temp_run = tmp_path / f".run.tmp-{pid}"
    temp_run.mkdir()
    (temp_run / ".specforge-staging").write_text(str(pid))
    (temp_run / "spec.yaml").write_text("half")
    users = tmp_path / f".cache.tmp-{pid}"  # a folder of the user's that only looks like ours
    users.mkdir()
    for p in (half_model, legacy):
        p.write_bytes(b"half")
    result = train(
        cli_run, spec(tmp_path), "--out", str(run)
    )  # refused (finished), cleaned all the same
    assert result.exit_code == 2
    assert not half_model.exists() and not legacy.exists() and not temp_run.exists()
    assert users.is_dir()


def test_a_run_killed_between_its_two_renames_gets_the_old_run_back(toy, cli_run, tmp_path):
    run = tmp_path / "run"
    train(cli_run, spec(tmp_path), "--out", str(run))
    backup = tmp_path / f".run.old-{dead_pid()}"
    run.rename(backup)
    assert train(cli_run, spec(tmp_path), "--out", str(run)).exit_code == 2  # finished: restored
    assert metrics(run)["status"] == "completed" and not backup.exists()


# ---------------------------------------------------------------- real processes


def _numpy_or_skip() -> None:
    from specforge.registry import load_registry

    if "numpy" not in load_registry().backends:
        pytest.skip("backend 'numpy' is not installed")


def _start_long_train(tmp_path: Path, run: Path, *extra: str) -> subprocess.Popen[str]:
    text = DIABETES.replace("epochs: 40", "epochs: 100000")
    path = write_spec(tmp_path / "long.yaml", text)
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "specforge",
            "train",
            str(path),
            "--backend",
            "numpy",
            "--out",
            str(run),
            *extra,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )


def _wait_for_epoch(proc: subprocess.Popen[str], epoch: int = 2) -> None:
    assert proc.stderr is not None
    for line in proc.stderr:
        if line.startswith(f"epoch {epoch}/"):
            return
    raise AssertionError(f"training ended before epoch {epoch}: {proc.wait()}")


def test_sigkill_during_a_retrain_keeps_the_finished_run_whole(tmp_path):
    _numpy_or_skip()
    from specforge.training import train as api_train

    run = tmp_path / "run"
    path = write_spec(tmp_path / "short.yaml", DIABETES.replace("epochs: 40", "epochs: 2"))
    api_train(path, backend="numpy", out=run, progress="quiet")
    kept = {n: (run / n).read_bytes() for n in listing(run) if (run / n).is_file()}
    proc = _start_long_train(tmp_path, run, "--overwrite")
    try:
        _wait_for_epoch(proc)
        proc.kill()
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert {n: (run / n).read_bytes() for n in listing(run) if (run / n).is_file()} == kept
    assert (tmp_path / f".run.tmp-{proc.pid}").is_dir()  # the killed run's temporary directory
    api_train(path, backend="numpy", out=run, progress="quiet", overwrite=True)
    assert not (tmp_path / f".run.tmp-{proc.pid}").exists()
    assert not [n for n in listing(tmp_path) if n.startswith(".run")]


def test_two_real_trains_into_one_out_the_second_exits_2_naming_the_first(tmp_path):
    _numpy_or_skip()
    run = tmp_path / "run"
    first = _start_long_train(tmp_path, run)
    try:
        _wait_for_epoch(first, 1)
        second = subprocess.run(
            [
                sys.executable,
                "-m",
                "specforge",
                "train",
                str(tmp_path / "long.yaml"),
                "--backend",
                "numpy",
                "--out",
                str(run),
            ],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=120,
        )
        assert second.returncode == 2, second.stderr
        assert f"another `specforge train` (PID {first.pid}) is writing {run}" in second.stderr
        first.send_signal(signal.SIGINT)
        first.communicate(timeout=60)
    finally:
        if first.poll() is None:
            first.kill()
    assert first.returncode == 130 and metrics(run)["status"] == "interrupted"


def test_the_lock_of_a_killed_run_beside_is_removed_but_not_a_users_lock_file(
    toy, cli_run, tmp_path
):
    (tmp_path / ".killed.lock").write_text(f"{dead_pid()}\n")
    (tmp_path / ".editor.lock").write_text("not a pid: someone else's")
    assert train(cli_run, spec(tmp_path), "--out", str(tmp_path / "run")).exit_code == 0
    assert not (tmp_path / ".killed.lock").exists() and (tmp_path / ".editor.lock").exists()
