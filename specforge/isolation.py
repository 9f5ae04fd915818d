"""Keep plugins from breaking the host while they are loaded.

* Whatever a plugin prints while it is imported or registers its things goes
  to stderr, prefixed with its name, never into a command's machine-readable
  stdout (``--format json``, ``schema``): :func:`output_to_stderr`.
* Any exception a plugin raises is caught and reported with its name,
  ``BaseException`` subclasses and ``SystemExit`` included, but never a
  KeyboardInterrupt: Ctrl-C still stops specforge (:data:`CAUGHT`, :func:`reraise_interrupt`).
* A plugin that takes long to load is named on stderr while specforge waits,
  with how to disable it: :func:`watch`.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Iterator
from typing import Any, TextIO

#: Seconds a third-party plugin may take to import or register before specforge
#: says, on stderr, which plugin it is waiting for (environment variable).
SLOW_ENV = "SPECFORGE_PLUGIN_SLOW_AFTER"
DEFAULT_SLOW_AFTER = 10.0

#: What a plugin may raise without taking specforge down (KeyboardInterrupt is re-raised).
CAUGHT = BaseException


def reraise_interrupt(exc: BaseException) -> None:
    """Ctrl-C while a plugin loads stops specforge, as anywhere else."""
    if isinstance(exc, KeyboardInterrupt):
        raise exc


class _Prefixed:
    """A text stream that writes each line to ``target`` as ``plugin 'NAME': line``."""

    def __init__(self, target: TextIO | None, name: str) -> None:
        self.target, self.name = target, name
        self._at_line_start = True
        self.encoding = getattr(target, "encoding", "utf-8")

    def write(self, text: str) -> int:
        if self.target is None or not text:
            return len(text)
        out = []
        for piece in text.splitlines(keepends=True):
            if self._at_line_start:
                out.append(f"plugin '{self.name}': ")
            out.append(piece)
            self._at_line_start = piece.endswith("\n")
        with contextlib.suppress(OSError, ValueError):
            self.target.write("".join(out))
        return len(text)

    def flush(self) -> None:
        with contextlib.suppress(OSError, ValueError, AttributeError):
            self.target.flush()  # type: ignore[union-attr]

    def isatty(self) -> bool:
        return False

    def __getattr__(self, name: str) -> Any:
        return getattr(self.target, name)


@contextlib.contextmanager
def output_to_stderr(name: str) -> Iterator[None]:
    """Within the block, plugin ``name``'s prints go to stderr, prefixed with its name.

    Python-level writes to ``sys.stdout`` are redirected, and so is file
    descriptor 1 where stdout is a real file (a subprocess or C code the plugin
    runs writes there), so the command's own output stays clean.
    """
    stderr = sys.stderr
    with contextlib.ExitStack() as stack:
        stack.enter_context(contextlib.redirect_stdout(_Prefixed(stderr, name)))
        stack.enter_context(_fd1_to_fd2())
        yield


@contextlib.contextmanager
def _fd1_to_fd2() -> Iterator[None]:
    try:
        out_fd = sys.__stdout__.fileno() if sys.__stdout__ is not None else -1
        err_fd = sys.__stderr__.fileno() if sys.__stderr__ is not None else -1
    except (OSError, ValueError, AttributeError):
        out_fd = err_fd = -1
    if out_fd != 1 or err_fd != 2:
        yield
        return
    with contextlib.suppress(OSError, ValueError):
        sys.__stdout__.flush()  # type: ignore[union-attr]
    try:
        saved = os.dup(1)
    except OSError:
        yield
        return
    try:
        os.dup2(2, 1)
        yield
    finally:
        with contextlib.suppress(OSError, ValueError):
            sys.__stdout__.flush()  # type: ignore[union-attr]
        os.dup2(saved, 1)
        os.close(saved)


def slow_after() -> float:
    try:
        return max(0.0, float(os.environ.get(SLOW_ENV, DEFAULT_SLOW_AFTER)))
    except ValueError:
        return DEFAULT_SLOW_AFTER


@contextlib.contextmanager
def watch(name: str, stage: str, disable_env: str) -> Iterator[None]:
    """If the block takes longer than :func:`slow_after` seconds, say on stderr which
    plugin specforge is waiting for and how to run without it."""
    after = slow_after()
    stream = sys.__stderr__ or sys.stderr

    def say() -> None:
        with contextlib.suppress(OSError, ValueError, AttributeError):
            stream.write(
                f"specforge: still waiting for plugin '{name}' ({stage}) after {after:g} s\n"
                f"  help: if it hangs, press Ctrl-C and rerun with {disable_env}={name} "
                "(or --no-plugins); `specforge plugins --check` finds the plugins that hang\n"
            )
            stream.flush()

    timer = threading.Timer(after, say)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
