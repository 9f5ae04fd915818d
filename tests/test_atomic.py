"""Atomic writes keep what the replaced file had: its mode, its owner, a link to it."""

from __future__ import annotations

import os
import stat
import subprocess
import sys

import pytest

from specforge.atomic import (
    atomic_path,
    atomic_write_text,
    pid_alive,
    remove_stale_temporaries,
)


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.mark.parametrize("private", [0o600, 0o640, 0o755])
def test_a_rewritten_file_keeps_its_mode(tmp_path, private):
    path = tmp_path / "model.npz"
    path.write_text("old")
    os.chmod(path, private)
    atomic_write_text(path, "new")
    assert path.read_text() == "new" and mode(path) == private


def test_a_new_file_gets_the_umask_mode(tmp_path):
    old = os.umask(0o027)
    try:
        atomic_write_text(tmp_path / "new.csv", "x")
    finally:
        os.umask(old)
    assert mode(tmp_path / "new.csv") == 0o640


@pytest.mark.skipif(not hasattr(os, "getuid") or os.getuid() != 0, reason="needs root to chown")
def test_a_rewritten_file_keeps_its_owner(tmp_path):
    path = tmp_path / "spec.yaml"
    path.write_text("old")
    os.chown(path, 1234, 5678)
    atomic_write_text(path, "new")
    st = os.stat(path)
    assert (st.st_uid, st.st_gid) == (1234, 5678)


def test_a_symbolic_link_is_kept_and_its_target_rewritten(tmp_path):
    real = tmp_path / "real.csv"
    real.write_text("old")
    os.chmod(real, 0o600)
    link = tmp_path / "link.csv"
    link.symlink_to(real)
    atomic_write_text(link, "new")
    assert link.is_symlink() and real.read_text() == "new" and mode(real) == 0o600


def test_temporaries_name_their_writer_and_dead_writers_leftovers_are_removed(tmp_path):
    with atomic_path(tmp_path / "model.npz") as tmp:
        assert tmp.name.startswith(f".model.npz.tmp-{os.getpid()}-")
        tmp.write_text("x")
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    dead_pid = int(dead.stdout)
    assert not pid_alive(dead_pid)
    stale = tmp_path / f".model.npz.tmp-{dead_pid}-abc123.npz"
    live = tmp_path / f".model.npz.tmp-{os.getpid()}-abc123.npz"
    legacy = tmp_path / ".model.npz.tmp-k2j3h4.npz"
    for p in (stale, live, legacy):
        p.write_text("half")
    assert remove_stale_temporaries(tmp_path) == [stale]
    assert live.exists() and legacy.exists()
    assert sorted(remove_stale_temporaries(tmp_path, any_pid=True)) == [legacy]
    assert live.exists() and (tmp_path / "model.npz").read_text() == "x"
