"""Write artefacts atomically: a crash leaves the old file or none, never half a file.

A rewritten file keeps the mode and owner of the file it replaces (a private
0600 model stays private); a new file gets the usual umask-based mode. Each
temporary file is named ``.<target>.tmp-<pid>-<random>`` beside its target, so
that :func:`remove_stale_temporaries` can tell a dead writer's leftovers from a
live one's.
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

#: ``.<name>.tmp-<pid>-<random><suffix>`` (and the old ``.<name>.tmp-<random>``).
_TEMP_RE = re.compile(r"^\..+\.tmp-(?:(?P<pid>\d+)-)?[A-Za-z0-9_]+")


@contextlib.contextmanager
def atomic_path(
    path: str | os.PathLike[str], *, suffix: str | None = None, mode: int | None = None
) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success move it into place.

    The temporary file lives in the target's directory so that ``os.replace`` is
    an atomic rename on the same file system. On any exception (KeyboardInterrupt
    included) the temporary file is removed and ``path`` is left untouched.
    ``suffix`` defaults to the target's own, for writers that check extensions
    (Keras insists on ``.keras``). ``mode`` gives the file those permission
    bits (a file rewritten in place keeps its own); the default is the umask's. A symbolic link at ``path`` is kept: the file
    it points to is replaced.
    """
    target = Path(path)
    if target.is_symlink():
        target = Path(os.path.realpath(target))
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(
        prefix=f".{target.name}.tmp-{os.getpid()}-",
        suffix=suffix if suffix is not None else target.suffix,
        dir=target.parent,
    )
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        if tmp.exists():
            if mode is not None:
                os.chmod(tmp, mode)
            else:  # a rewritten file keeps its mode and owner; a new one gets the umask's
                _copy_mode_and_owner(target, tmp)
        os.replace(tmp, target)
    except BaseException as exc:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        if isinstance(exc, OSError) and exc.filename is None:
            # A full disk says "[Errno 28] No space left on device" and names no file: name it.
            raise OSError(exc.errno, exc.strerror or str(exc), str(target)) from exc
        raise


def _copy_mode_and_owner(target: Path, tmp: Path) -> None:
    """Give ``tmp`` the mode and owner of the file it replaces, or the umask's mode."""
    try:
        old = os.stat(target)
    except OSError:
        # mkstemp creates 0600 files; a new artefact gets the usual umask-based mode.
        os.chmod(tmp, 0o666 & ~_umask())
        return
    if hasattr(os, "chown"):
        with contextlib.suppress(OSError):  # only root may give a file away
            os.chown(tmp, old.st_uid, old.st_gid)
    os.chmod(tmp, stat.S_IMODE(old.st_mode))


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def atomic_write_text(path: str | os.PathLike[str], text: str, *, mode: int | None = None) -> None:
    with atomic_path(path, mode=mode) as tmp:
        tmp.write_bytes(text.encode("utf-8"))


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` exists (a process we may not signal counts as alive)."""
    if pid <= 0:
        return False
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def remove_stale_temporaries(
    directory: str | os.PathLike[str], *, any_pid: bool = False
) -> list[Path]:
    """Remove temporary files that killed writers left in ``directory``; return them.

    A file whose name carries a PID is removed when that process is gone; one
    without (older specforge) only with ``any_pid``, which a caller passes when
    it holds the directory's lock, so no live writer can own such a file.
    """
    removed: list[Path] = []
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return removed
    for entry in entries:
        m = _TEMP_RE.match(entry.name)
        if m is None or not entry.is_file(follow_symlinks=False):
            continue
        pid = m.group("pid")
        if (pid is None and not any_pid) or (pid is not None and pid_alive(int(pid))):
            continue
        with contextlib.suppress(OSError):
            os.unlink(entry.path)
            removed.append(Path(entry.path))
    return removed


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
