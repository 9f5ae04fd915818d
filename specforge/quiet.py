"""Keep TensorFlow's start-up log lines off stderr unless ``--debug``.

TensorFlow 2.21 prints, while it is imported, absl's ``WARNING: All log
messages before absl::InitializeLog() ...`` line, oneDNN's ``I0000 ... port.cc``
notice (twice: two libraries) and the ``cpu_feature_guard`` notice.
``TF_CPP_MIN_LOG_LEVEL=3`` silences the latter only; the others are written
before TensorFlow reads its settings, and only ``TF_ENABLE_ONEDNN_OPTS=0``
(which turns oneDNN's faster kernels off) would stop them. So, instead, the
first import of TensorFlow runs with file descriptor 2 captured, and whatever
else was written meanwhile (a Python warning, an error) is written back.

Nothing here imports anything heavy: the CLI imports it before any command.
A value the user set (``TF_CPP_MIN_LOG_LEVEL=0``) is never overridden: then
nothing is captured either.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import tempfile
from collections.abc import Iterator

#: Lines TensorFlow, absl and oneDNN write to fd 2 while TensorFlow is imported.
TF_LOG_LINE = re.compile(
    r"^(WARNING: All log messages before absl::InitializeLog\(\)"
    r"|[IWEF]\d{4} [\d:.]+ +\d+ \S+:\d+\]"
    r"|To enable the following instructions:"
    r"|This TensorFlow binary is optimized)"
)

_debug = False


def set_debug(debug: bool) -> None:
    """``--debug`` was given: leave TensorFlow's logging as TensorFlow and the user set it."""
    global _debug
    _debug = bool(debug)


def is_quiet() -> bool:
    """Whether TensorFlow's log lines are kept off stderr (not ``--debug``, no user setting)."""
    if _debug or os.environ.get("SPECFORGE_DEBUG"):
        return False
    return os.environ.get("TF_CPP_MIN_LOG_LEVEL", "3") == "3"


def quiet_environment() -> bool:
    """Set ``TF_CPP_MIN_LOG_LEVEL=3`` unless the user set it or ``--debug`` is on.

    Call it before TensorFlow is first imported. Returns :func:`is_quiet`.
    """
    if not is_quiet():
        return False
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    return True


@contextlib.contextmanager
def tensorflow_import_quieted() -> Iterator[None]:
    """Around the first ``import keras``/``import tensorflow``: TensorFlow's lines dropped."""
    if "tensorflow" in sys.modules or not quiet_environment():
        yield
        return
    sys.stderr.flush()
    try:
        saved = os.dup(2)
    except OSError:  # no fd 2 (a daemon): nothing to keep clean
        yield
        return
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            sink.seek(0)
            kept = [
                line
                for line in sink.read().decode("utf-8", "replace").splitlines(keepends=True)
                if not TF_LOG_LINE.match(line)
            ]
            if kept:
                sys.stderr.write("".join(kept))
                sys.stderr.flush()
    _quiet_absl()


def _quiet_absl() -> None:
    """absl's Python logger (TensorFlow logs through it) at errors only."""
    absl_logging = sys.modules.get("absl.logging")
    if absl_logging is not None:
        with contextlib.suppress(Exception):
            absl_logging.set_verbosity(absl_logging.ERROR)
