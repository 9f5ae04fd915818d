"""Output streams that a closed pipe or a vanished terminal cannot break.

``specforge validate ... | head -1`` closes stdout under a running command:
output commands then end quietly with exit 0 (as ``git log | head`` does; see
:func:`silence_stdout`). ``specforge train`` instead keeps training and
finishes its run directory: :func:`resilient_output` makes every later write to
a stream that failed a no-op.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from typing import Any, TextIO


def _to_devnull(fd: int) -> None:
    """Point file descriptor ``fd`` at /dev/null, so that writes (and the
    interpreter's last flush) to a closed pipe succeed quietly."""
    with contextlib.suppress(OSError):
        null = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(null, fd)
        finally:
            os.close(null)


def _fd_of(stream: Any) -> int | None:
    try:
        return stream.fileno()
    except (AttributeError, OSError, ValueError):
        return None


def silence_stdout() -> None:
    """After stdout (or stderr) was closed under us: send both to /dev/null."""
    for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
        fd = _fd_of(stream)
        if fd in (1, 2):
            _to_devnull(fd)


class Resilient:
    """A text stream that turns into a sink the first time writing to it fails."""

    def __init__(self, stream: TextIO | None) -> None:
        self._stream = stream
        self._dead = stream is None
        self.encoding = getattr(stream, "encoding", None) or "utf-8"
        self.errors = getattr(stream, "errors", None) or "strict"

    def _fail(self) -> None:
        self._dead = True
        fd = _fd_of(self._stream)
        if fd is not None and fd >= 0:
            _to_devnull(fd)

    def write(self, text: str) -> int:
        if not self._dead:
            try:
                return self._stream.write(text)  # type: ignore[union-attr]
            except (OSError, ValueError):  # EPIPE, EIO, or the file was closed
                self._fail()
        return len(text)

    def flush(self) -> None:
        if not self._dead:
            try:
                self._stream.flush()  # type: ignore[union-attr]
            except (OSError, ValueError):
                self._fail()

    def isatty(self) -> bool:
        if self._dead:
            return False
        try:
            return bool(self._stream.isatty())  # type: ignore[union-attr]
        except (OSError, ValueError, AttributeError):
            return False

    def writable(self) -> bool:
        return True

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


@contextlib.contextmanager
def resilient_output() -> Iterator[None]:
    """Within the block, a closed stdout or stderr only silences what is written to it,
    and a closed terminal (SIGHUP) does not end the process: training goes on, as
    under ``nohup``, and finishes its run directory."""
    import signal
    import threading

    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = Resilient(sys.stdout), Resilient(sys.stderr)  # type: ignore[assignment]
    hangup = getattr(signal, "SIGHUP", None)
    main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(hangup, signal.SIG_IGN) if hangup is not None and main else None
    try:
        yield
    finally:
        if previous is not None:
            signal.signal(hangup, previous)
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
        sys.stdout, sys.stderr = saved
