"""Where a run is written: claim its place, build it aside, publish it whole.

A run directory is kept the way a database keeps a table: a training run is
built in a temporary sibling directory (``.<name>.tmp-<pid>``) and renamed into
place only once it is complete, so a kill, crash, divergence or full disk never
leaves half a run, and never costs the finished run it was meant to replace.

* ``--out DIR`` takes a missing or empty folder, or a specforge run directory;
  a folder of the user's own files is refused (nothing of theirs is ever
  overwritten), and so is a finished run unless ``overwrite`` is given.
* A lock file beside the run (``.<name>.lock``, holding the writer's PID) stops
  two trains writing one directory; a lock left by a dead process is taken over.
* Leftovers of killed runs (their temporary directories, ``.<file>.tmp-*``
  files) are removed by the next run into the same place.
* A run that did not finish (interrupted, diverged, failed) replaces no
  finished run: it is kept beside it as ``<name>-<status>-<time>``.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import time
from pathlib import Path
from types import TracebackType
from typing import Any

from ..atomic import pid_alive, remove_stale_temporaries
from .rundir import ARTEFACTS, METRICS, SPEC, RunDirError

#: Statuses of a run that finished: such a run is replaced only with ``overwrite``.
FINISHED = ("completed", "early_stopped")
#: A file in every temporary run directory, so that cleaning up never takes a user's folder.
_MARKER = ".specforge-staging"
_STAGING_RE = re.compile(r"^\.(?P<name>.+)\.tmp-(?P<pid>\d+)$")
_BACKUP_RE = re.compile(r"^\.(?P<name>.+)\.old-(?P<pid>\d+)$")
_TEMP_FILE_RE = re.compile(r"^\..+\.tmp-")


def is_artefact(name: str) -> bool:
    """Whether ``name`` is a file a run writes (or a temporary one of a writer)."""
    return (
        name in ARTEFACTS
        or name.startswith(("model.", "best."))
        or name == _MARKER
        or bool(_TEMP_FILE_RE.match(name))
    )


def run_status(path: Path) -> str | None:
    """The status of the run directory at ``path``; None if it is not a run directory.

    A run directory has a ``metrics.json`` with a status, or (a run an older
    specforge was killed in) a resolved ``spec.yaml`` among run artefacts only.
    A run without metrics reads as ``incomplete``.
    """
    metrics = path / METRICS
    if metrics.is_file():
        with contextlib.suppress(OSError, ValueError, UnicodeDecodeError):
            data = json.loads(metrics.read_text(encoding="utf-8"))
            if isinstance(data, dict) and isinstance(data.get("status"), str):
                return data["status"]
    spec = path / SPEC
    if spec.is_file():
        with contextlib.suppress(OSError, UnicodeDecodeError):
            with spec.open(encoding="utf-8") as fh:
                first = fh.readline()
            if first.startswith("# resolved by specforge") and all(
                is_artefact(e.name) for e in path.iterdir()
            ):
                return "incomplete"
    return None


class DirLock:
    """An exclusive lock on one run directory, held by this process until released.

    The lock is ``flock`` on ``.<name>.lock`` beside the directory, which the
    system releases when its holder dies, so a stale lock is simply taken over;
    the file holds the holder's PID for the message the next writer gets. Where
    ``flock`` does not exist the file's existence is the lock, and one naming a
    dead PID is taken over.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock; raise :class:`LockBusy` naming the holder's PID if another has it."""
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows
            self._acquire_by_existence()
            return
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                holder = _read_pid(fd)
                os.close(fd)
                raise LockBusy(self.path, holder) from None
            # The holder before us may have removed the file between our open and
            # our lock: then we locked a file nobody else sees, so start again.
            try:
                same = os.path.samestat(os.fstat(fd), os.stat(self.path))
            except FileNotFoundError:
                same = False
            if not same:
                os.close(fd)
                continue
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())
            self._fd = fd
            return

    def _acquire_by_existence(self) -> None:  # pragma: no cover - Windows
        for _ in range(3):
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
            except FileExistsError:
                holder = _read_pid_file(self.path)
                if holder is not None and pid_alive(holder):
                    raise LockBusy(self.path, holder) from None
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(self.path)
                continue
            os.write(fd, f"{os.getpid()}\n".encode())
            self._fd = fd
            return
        raise LockBusy(self.path, _read_pid_file(self.path))

    def release(self) -> None:
        if self._fd is None:
            return
        with contextlib.suppress(OSError):
            os.unlink(self.path)
        os.close(self._fd)
        self._fd = None


class LockBusy(Exception):
    def __init__(self, path: Path, pid: int | None) -> None:
        super().__init__(f"{path} is held by PID {pid}")
        self.path, self.pid = path, pid


def _read_pid(fd: int) -> int | None:
    with contextlib.suppress(OSError, ValueError):
        os.lseek(fd, 0, os.SEEK_SET)
        return int(os.read(fd, 32).decode().strip())
    return None


def _read_pid_file(path: Path) -> int | None:
    with contextlib.suppress(OSError, ValueError):
        return int(path.read_text().strip())
    return None


def _entries(path: Path) -> list[str]:
    try:
        return sorted(os.listdir(path))
    except FileNotFoundError:
        return []


class RunPlace:
    """A claimed place for one run: a locked final path and the temporary directory
    the run is built in. Use it as a context manager: on leaving, an unpublished
    temporary directory is removed and the lock released."""

    def __init__(self, final: Path, lock: DirLock) -> None:
        self.final = final
        self.lock = lock
        self.staging = final.parent / f".{final.name}.tmp-{os.getpid()}"
        self.published: Path | None = None

    def open(self) -> None:
        """Create the temporary directory (after removing a leftover of the same name)."""
        if self.staging.exists():
            shutil.rmtree(self.staging, ignore_errors=True)
        try:
            self.staging.mkdir()
            (self.staging / _MARKER).write_text(f"{os.getpid()}\n", encoding="utf-8")
        except OSError as e:
            raise _os_error(e, self.staging) from None

    def __enter__(self) -> RunPlace:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if self.published is None and self.staging.exists():
                shutil.rmtree(self.staging, ignore_errors=True)
        finally:
            self.lock.release()

    def publish(self, status: str) -> Path:
        """Move the finished (or failed) run into place; return where it now is.

        A finished run replaces whatever run is there (its user files are moved
        over, so nothing of theirs is lost); an unfinished one replaces only an
        unfinished run or an empty place, and is otherwise kept beside it.
        """
        with contextlib.suppress(FileNotFoundError):
            (self.staging / _MARKER).unlink()
        final = self.final
        there = final.exists()
        current = run_status(final) if there else None
        if status not in FINISHED and current in FINISHED:
            dest = _unique(final.parent / f"{final.name}-{status}-{time.strftime('%Y%m%d-%H%M%S')}")
            os.rename(self.staging, dest)
            self.published = dest
            return dest
        if not there or not _entries(final):
            if there:
                os.rmdir(final)  # an empty folder: POSIX would replace it anyway, Windows not
            os.rename(self.staging, final)
            self.published = final
            return final
        # Keep whatever is not a run artefact (a user's notes): it moves to the new run.
        for name in _entries(final):
            if not is_artefact(name) and not (self.staging / name).exists():
                os.rename(final / name, self.staging / name)
        backup = final.parent / f".{final.name}.old-{os.getpid()}"
        os.rename(final, backup)
        os.rename(self.staging, final)
        self.published = final
        shutil.rmtree(backup, ignore_errors=True)
        return final


def _unique(path: Path) -> Path:
    candidate, k = path, 1
    while candidate.exists():
        k += 1
        candidate = path.with_name(f"{path.name}-{k}")
    return candidate


def _os_error(e: OSError, path: Path) -> RunDirError:
    return RunDirError(
        f"cannot write the run directory {path}: {e.strerror or e}",
        "choose an --out in a folder you can write to, with free space",
    )


def _lock(final: Path) -> DirLock:
    lock = DirLock(final.parent / f".{final.name}.lock")
    try:
        lock.acquire()
    except LockBusy as busy:
        who = f"PID {busy.pid}" if busy.pid is not None else "another process"
        raise RunDirError(
            f"another `specforge train` ({who}) is writing {final}",
            f"wait for it to finish (or stop it), or choose another --out; the lock is {busy.path}",
        ) from None
    except OSError as e:
        raise _os_error(e, final.parent) from None
    return lock


def clean_leftovers(final: Path) -> None:
    """Remove what killed runs left around ``final``: their temporary directories,
    a backup of ``final`` (put back if ``final`` itself is gone), temporary files."""
    parent = final.parent
    for name in _entries(parent):
        path = parent / name
        m = _STAGING_RE.match(name)
        if m and not pid_alive(int(m["pid"])) and (path / _MARKER).is_file():
            shutil.rmtree(path, ignore_errors=True)
            continue
        m = _BACKUP_RE.match(name)
        if m and m["name"] == final.name and not pid_alive(int(m["pid"])):
            if not final.exists():
                os.rename(path, final)  # killed between its two renames: the old run comes back
            else:
                shutil.rmtree(path, ignore_errors=True)
        if name.endswith(".lock") and name.startswith(".") and name != f".{final.name}.lock":
            _remove_if_stale(path)
    if final.is_dir():
        remove_stale_temporaries(final, any_pid=True)  # we hold its lock: no writer is alive


def _remove_if_stale(path: Path) -> None:
    """Remove the lock file of another run directory if no live process holds it
    (only a file of ours: one holding nothing but a PID)."""
    if _read_pid_file(path) is None:
        return
    lock = DirLock(path)
    try:
        lock.acquire()  # only possible when its holder is gone
    except (LockBusy, OSError):
        return
    lock.release()  # which removes the file


def _contains_cwd(path: Path) -> bool:
    cwd = Path.cwd().resolve()
    return cwd == path or path in cwd.parents


def claim_out_dir(out: str | os.PathLike[str], *, overwrite: bool = False) -> RunPlace:
    """Claim ``out`` for a run: lock it, clean leftovers, refuse what must not be replaced."""
    final = Path(os.path.realpath(out))
    if final.exists() and not final.is_dir():
        raise RunDirError(f"{out} exists and is not a directory", "give --out a directory")
    if _contains_cwd(final):
        raise RunDirError(
            f"--out {out} is the working directory (or a folder above it)",
            "give --out a new folder for the run, e.g. --out runs/my-run",
        )
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise _os_error(e, final.parent) from None
    lock = _lock(final)
    try:
        clean_leftovers(final)
        _check_replaceable(final, out, overwrite)
        place = RunPlace(final, lock)
        place.open()
    except BaseException:
        lock.release()
        raise
    return place


def _check_replaceable(final: Path, out: Any, overwrite: bool) -> None:
    names = _entries(final)
    if not names:
        return
    status = run_status(final)
    if status is None:
        shown = ", ".join(names[:6]) + (", ..." if len(names) > 6 else "")
        raise RunDirError(
            f"--out {out} is a folder that is not empty and not a specforge run directory ({shown})",
            "give --out a new or empty folder (e.g. --out runs/my-run): "
            "specforge never writes into a folder of your own files",
        )
    if status in FINISHED and not overwrite:
        raise RunDirError(
            f"--out {out} holds a finished run (status '{status}')",
            "pass --overwrite to replace it (the old run stays until the new one has "
            "finished), or choose another --out",
        )


def claim_new_run_dir(name: str, root: str | os.PathLike[str] = "runs") -> RunPlace:
    """Claim a fresh ``root/<name>-<time>`` (``-2``, ``-3``... if taken or being written)."""
    base = Path(os.path.realpath(root)) / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}"
    try:
        base.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise _os_error(e, base.parent) from None
    k = 1
    while True:
        final = base if k == 1 else base.with_name(f"{base.name}-{k}")
        k += 1
        if final.exists():
            continue
        lock = DirLock(final.parent / f".{final.name}.lock")
        try:
            lock.acquire()
        except LockBusy:
            continue  # another run of the same spec in the same second
        except OSError as e:
            raise _os_error(e, final.parent) from None
        if final.exists():
            lock.release()
            continue
        break
    try:
        clean_leftovers(final)
        place = RunPlace(final, lock)
        place.open()
    except BaseException:
        lock.release()
        raise
    return place
