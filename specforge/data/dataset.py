"""The dataset contract: what a loader returns (:class:`Dataset`) and raises (:class:`DataError`).

Both are public as ``specforge.plugin.Dataset`` and ``specforge.plugin.DataError``;
the helpers below (:func:`check_finite`, :func:`require_file`, ...) are what the
built-in readers use to keep that contract. numpy is imported inside the
functions that need it: ``specforge.plugin`` imports this module on every
command, ``validate`` included, which never loads numpy.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

__all__ = [
    "TASKS",
    "DataError",
    "Dataset",
    "PathLike",
    "check_finite",
    "check_task",
    "pixel_names",
    "require_file",
]

PathLike = str | os.PathLike[str]

#: The tasks a dataset can declare.
TASKS = ("classification", "regression")


class DataError(Exception):
    """A data file is missing, unreadable or malformed, or data do not fit: the user can fix it.

    ``specforge train``, ``evaluate`` and ``predict`` print ``error: message``,
    the paths in ``looked_in`` (where a loader searched) that the message does
    not already name, and ``help`` as a ``help:`` line (what to do about it),
    then exit with code 2, without a traceback. Raise it from a dataset's
    ``load`` or a preprocessor's ``fit``/``transform``.

    ``hint=`` is the keyword of API version 1 and still accepted, with a
    :class:`DeprecationWarning`; ``.hint`` reads ``.help``.
    """

    def __init__(
        self,
        message: str,
        *,
        help: str | None = None,
        looked_in: Sequence[str] | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message)
        if hint is not None:
            warnings.warn(
                "DataError(hint=...) is deprecated; pass help=... instead",
                DeprecationWarning,
                stacklevel=2,
            )
            if help is None:
                help = hint
        self.message = message
        self.help = help
        self.looked_in = list(looked_in) if looked_in is not None else None

    @property
    def hint(self) -> str | None:
        """The old name of :attr:`help`, kept for plugins written against API version 1."""
        return self.help

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True, eq=False)
class Dataset:
    """Arrays plus the names a spec compiler needs to wire inputs and outputs.

    What a dataset's ``load(params)`` returns. ``x`` holds one sample per row
    (any sample shape: 28×28 images stay 28×28) and ``y`` the targets, or None
    for a dataset without targets; ``x_test``/``y_test`` hold the data set's
    own official test split where it has one (``data.split.test`` is then
    ignored). ``feature_names`` name the columns of one sample flattened;
    ``target_names`` the target column(s). ``task`` is ``"classification"``
    (``y``: integer class indices 0..K-1, named by ``class_names``) or
    ``"regression"`` (``y``: floats, ``class_names`` None). Construction checks
    the task and that x and y have as many samples.
    """

    x: np.ndarray
    y: np.ndarray | None
    feature_names: list[str]
    target_names: list[str]
    task: str
    class_names: list[str] | None
    x_test: np.ndarray | None = None
    y_test: np.ndarray | None = None

    def __post_init__(self) -> None:
        # Catch construction mistakes early rather than deep inside training.
        if self.task not in TASKS:
            raise ValueError(f"task must be one of {TASKS}, got {self.task!r}")
        if self.y is not None and len(self.y) != len(self.x):
            raise ValueError(f"x has {len(self.x)} samples but y has {len(self.y)}")
        if self.x_test is None and self.y_test is not None:
            raise ValueError("y_test given without x_test")
        if (
            self.x_test is not None
            and self.y_test is not None
            and len(self.y_test) != len(self.x_test)
        ):
            raise ValueError(
                f"x_test has {len(self.x_test)} samples but y_test has {len(self.y_test)}"
            )


def check_task(task: str | None) -> None:
    """Refuse a ``task`` argument that is neither a known task nor None (a programming error)."""
    if task is not None and task not in TASKS:
        raise ValueError(f"task must be one of {TASKS} or None, got {task!r}")


def _file_kind(path: str) -> str:
    """What a path that is not a regular file is: a FIFO, a device..."""
    import stat

    try:
        mode = os.stat(path).st_mode
    except OSError:
        return "unreadable"
    for test, name in (
        (stat.S_ISFIFO, "a named pipe (FIFO)"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return name
    return "not a file"


def require_file(path: PathLike, what: str, help: str | None = None) -> str:
    """Return ``path`` as a string, or raise a DataError if it is not a file."""
    p = os.fspath(path)
    if os.path.isdir(p):
        raise DataError(
            f"{what}: {p} is a directory, expected a file",
            help=help,
            looked_in=[os.path.abspath(p)],
        )
    if os.path.exists(p) and not os.path.isfile(p):
        raise DataError(
            f"{what}: {p} is not a regular file ({_file_kind(p)})",
            help=help or "give the path of a file saved on disk",
            looked_in=[os.path.abspath(p)],
        )
    if not os.path.isfile(p):
        raise DataError(
            f"{what} not found: {p}",
            help=help
            or "check the path (a relative path in a spec resolves against the spec file's folder)",
            looked_in=[os.path.abspath(p)],
        )
    return p


def check_finite(x: np.ndarray, what: str, source: str) -> None:
    """Raise a DataError if ``x`` holds NaN or inf.

    Non-finite inputs silently poison training (every loss becomes NaN), so
    every loader checks its features here, at the point where the user can
    still be told which file and which row to fix.
    """
    import numpy as np

    arr = np.asarray(x)
    if arr.dtype.kind not in "fc" or arr.size == 0:
        return
    bad = ~np.isfinite(arr)
    count = int(bad.sum())
    if count == 0:
        return
    rows = bad.reshape(len(arr), -1).any(axis=1) if arr.ndim > 0 else bad.reshape(1)
    first = int(np.argmax(rows))
    raise DataError(
        f"{what} in {source} contain {count} non-finite value(s) (NaN or inf); "
        f"the first is in row {first} (0-based)",
        help="remove or impute those values in the source file "
        "(read_csv can impute with missing='mean' or drop rows with missing='drop')",
    )


def pixel_names(shape: Sequence[int], prefix: str = "pixel") -> list[str]:
    """Feature names of one sample flattened: ``pixel_0_0``, ``pixel_0_1``, ... for a 2-D sample."""
    import numpy as np

    return [prefix + "_" + "_".join(map(str, idx)) for idx in np.ndindex(*shape)]
