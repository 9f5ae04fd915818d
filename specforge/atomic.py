"""Write artefacts atomically: a crash leaves the old file or none, never half a file."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path


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
    bits (a file rewritten in place keeps its own); the default is the umask's.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(
        prefix=f".{target.name}.tmp-",
        suffix=suffix if suffix is not None else target.suffix,
        dir=target.parent,
    )
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        if tmp.exists():
            # mkstemp creates 0600 files; give artefacts the usual umask-based mode.
            os.chmod(tmp, mode if mode is not None else 0o666 & ~_umask())
        os.replace(tmp, target)
    except BaseException as exc:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        if isinstance(exc, OSError) and exc.filename is None:
            # A full disk says "[Errno 28] No space left on device" and names no file: name it.
            raise OSError(exc.errno, exc.strerror or str(exc), str(target)) from exc
        raise


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def atomic_write_text(path: str | os.PathLike[str], text: str, *, mode: int | None = None) -> None:
    with atomic_path(path, mode=mode) as tmp:
        tmp.write_bytes(text.encode("utf-8"))


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
