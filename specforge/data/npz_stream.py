"""An ``.npz`` archive read row chunk by row chunk (``data.dataset: {type: npz, stream: true}``).

``np.load`` reads a member whole (``mmap_mode`` is ignored for ``.npz``). An
``.npz`` is a zip of ``.npy`` files, so each member is opened as a zip entry
stream (:meth:`zipfile.ZipFile.open`), its ``.npy`` header parsed with
:mod:`numpy.lib.format`, and its C-ordered rows read ``chunk_rows`` at a time:
stored members (``np.savez``) are plain reads, deflated ones
(``np.savez_compressed``) are inflated as they are read. Nothing is unpickled:
object arrays are refused from the header.
"""

from __future__ import annotations

import math
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import IO

import numpy as np

from ..diagnostics import did_you_mean
from .dataset import DataError, pixel_names, require_file
from .stream import RowStream

_DAMAGED = (zipfile.BadZipFile, EOFError, OSError, zlib.error, ValueError)
SAVE_HELP = "save arrays with np.savez(path, x=..., y=...)"


@dataclass(frozen=True)
class Member:
    """One array of the archive: its key, shape and dtype (from the ``.npy`` header)."""

    key: str
    shape: tuple[int, ...]
    dtype: np.dtype

    @property
    def row_bytes(self) -> int:
        return math.prod(self.shape[1:]) * self.dtype.itemsize


def _read_header(fh: IO[bytes], key: str, path: str) -> tuple[tuple[int, ...], np.dtype]:
    fmt = np.lib.format
    try:
        version = fmt.read_magic(fh)
        if version == (1, 0):
            shape, fortran, dtype = fmt.read_array_header_1_0(fh)
        elif version == (2, 0):
            shape, fortran, dtype = fmt.read_array_header_2_0(fh)
        else:
            raise ValueError(f".npy format version {version[0]}.{version[1]}")
    except _DAMAGED as exc:
        raise DataError(
            f"cannot stream array {key!r} of {path}: its .npy header is unreadable ({exc})",
            help="the file is damaged or not written by np.savez; re-create it: " + SAVE_HELP,
        ) from None
    if dtype.hasobject:
        raise DataError(
            f"array {key!r} in {path} is an object array; reading it would need pickle, "
            "which specforge's npz reader never uses (unpickling can run arbitrary code)",
            help="re-save it with a numeric dtype, e.g. np.asarray(a, dtype=np.float32)",
        )
    if dtype.kind not in "biuf":
        raise DataError(
            f"array {key!r} in {path} has dtype {dtype}; expected numbers",
            help="re-save it with a numeric dtype",
        )
    if not shape:
        raise DataError(f"array {key!r} in {path} is a scalar; expected one row per sample")
    if fortran and len(shape) > 1:
        raise DataError(
            f"array {key!r} in {path} is stored in Fortran (column-major) order, so its rows "
            "cannot be read one chunk at a time",
            help=f"re-save it row-major: np.savez(path, {key}=np.ascontiguousarray(a), ...)",
        )
    return tuple(int(n) for n in shape), dtype


@dataclass
class NpzStream(RowStream):
    """Features ``x_key`` and targets ``y_key`` of an ``.npz``, read ``chunk_rows`` rows at a time.

    ``x_test_key``/``y_test_key`` name the data set's own test split; the hashed
    split then sets only the validation rows aside. Targets are classes when
    ``task`` says so or (without ``task``) they are integers, as ``read_npz`` decides:
    class indices are checked chunk by chunk, one-hot rows become indices.
    """

    path: str
    x_key: str = "x"
    y_key: str = "y"
    x_test_key: str | None = None
    y_test_key: str | None = None
    test: float = 0.0
    validation: float = 0.0
    seed: int = 0
    chunk_rows: int = 65_536
    task: str | None = None
    classes: bool = field(default=False, init=False, repr=False)
    members: dict[str, Member] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        p = require_file(self.path, "NPZ file")
        with open(p, "rb") as fh:
            from .npz import _sniff_npz

            _sniff_npz(fh.read(6), p, SAVE_HELP)
        if (self.x_test_key is None) != (self.y_test_key is None):
            raise DataError(
                f"{p}: a streamed npz takes x_test_key and y_test_key together",
                help="give both, or neither (the test split is then drawn by row hash)",
            )
        keys = [k for k in (self.x_key, self.y_key, self.x_test_key, self.y_test_key) if k]
        with self._archive() as zf:
            present = sorted(n[: -len(".npy")] for n in zf.namelist() if n.endswith(".npy"))
            for key, role in zip(
                keys, ("x_key", "y_key", "x_test_key", "y_test_key"), strict=False
            ):
                if key not in present:
                    suggestion = did_you_mean(key, present)
                    raise DataError(
                        f"{p} has no array {key!r}"
                        + (f"; {suggestion}" if suggestion else "")
                        + f" (keys present: {', '.join(repr(k) for k in present) or 'none'})",
                        help=f"pass {role}=<one of the keys present>",
                    )
                with self._open_member(zf, key) as fh:
                    shape, dtype = _read_header(fh, key, p)
                self.members[key] = Member(key, shape, dtype)
        self._pair(self.x_key, self.y_key)
        y = self.members[self.y_key]
        self.classes = self.task == "classification" or (
            self.task is None and y.dtype.kind in "biu"
        )
        if self.classes and not (len(y.shape) == 1 or len(y.shape) == 2):
            raise DataError(
                f"{p}: {self.y_key!r} has shape {y.shape}; classification needs one class index "
                "per sample (shape (n,)) or one-hot rows",
                help="give task: regression for multi-output targets",
            )
        if self.x_test_key is not None and self.y_test_key is not None:
            self._pair(self.x_test_key, self.y_test_key)
            xt, x = self.members[self.x_test_key], self.members[self.x_key]
            if xt.shape[1:] != x.shape[1:]:
                raise DataError(
                    f"{p}: {self.x_test_key!r} has samples of shape {xt.shape[1:]} but "
                    f"{self.x_key!r} has {x.shape[1:]}",
                    help="train and test features must have the same shape",
                )

    def _pair(self, xk: str, yk: str) -> None:
        x, y = self.members[xk], self.members[yk]
        if x.shape[0] != y.shape[0]:
            raise DataError(
                f"{self.path}: {xk!r} has {x.shape[0]} samples but {yk!r} has {y.shape[0]}",
                help="x and y must have one entry per sample, in the same order",
            )

    def _archive(self) -> zipfile.ZipFile:
        try:
            return zipfile.ZipFile(self.path)
        except _DAMAGED as exc:
            raise DataError(
                f"cannot read {self.path} as an .npz archive ({exc})",
                help="the file is damaged; re-create it: " + SAVE_HELP,
            ) from None

    def _open_member(self, zf: zipfile.ZipFile, key: str) -> IO[bytes]:
        try:
            return zf.open(key + ".npy")
        except (*_DAMAGED, NotImplementedError) as exc:
            raise DataError(
                f"cannot open array {key!r} of {self.path} ({exc})",
                help="np.savez and np.savez_compressed write members specforge can stream; "
                "re-create it: " + SAVE_HELP,
            ) from None

    # -- what the run records ------------------------------------------------
    @property
    def sample_shape(self) -> tuple[int, ...]:
        return self.members[self.x_key].shape[1:] or (1,)

    @property
    def n_features(self) -> int:
        return math.prod(self.sample_shape)

    def feature_names(self) -> list[str]:
        """The archive's ``feature_names`` array if it fits, else ``x_0_0``-style names."""
        from .npz import _npz_names

        with open(self.path, "rb") as fh, np.load(fh, allow_pickle=False) as npz:
            names = _npz_names(npz, "feature_names")  # a small array, read alone
        if names is None or len(names) != self.n_features:
            names = pixel_names(self.sample_shape, prefix=self.x_key)
        return names

    def own_test_rows(self) -> int:
        return self.members[self.x_test_key].shape[0] if self.x_test_key else 0

    # -- reading -------------------------------------------------------------
    def rows(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        return self._read(self.x_key, self.y_key)

    def own_test(self) -> Iterator[tuple[np.ndarray, np.ndarray]] | None:
        if self.x_test_key is None or self.y_test_key is None:
            return None
        return self._read(self.x_test_key, self.y_test_key)

    def _read(self, xk: str, yk: str) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """(x float32 (n, features), y float32 (n, targets)) chunks of two members in step."""
        xm, ym = self.members[xk], self.members[yk]
        total = xm.shape[0]
        with ExitStack() as stack:
            zf = stack.enter_context(self._archive())
            xf = stack.enter_context(self._open_member(zf, xk))
            yf = stack.enter_context(self._open_member(zf, yk))
            _read_header(xf, xk, self.path)
            _read_header(yf, yk, self.path)
            for start in range(0, total, self.chunk_rows):
                n = min(self.chunk_rows, total - start)
                x = self._rows_of(xf, xm, n, start).reshape(n, -1)
                y = self._rows_of(yf, ym, n, start).reshape(n, -1)
                for a, key in ((x, xk), (y, yk)):
                    if not np.isfinite(a).all():
                        bad = start + int(np.argmax(~np.isfinite(a).all(axis=1)))
                        raise DataError(
                            f"{self.path}: row {bad} of array {key!r} holds a NaN or infinity",
                            help="streamed arrays need finite values; clean them and re-save",
                        )
                yield x, self._labels(y, yk, start) if self.classes else y

    def _labels(self, y: np.ndarray, key: str, start: int) -> np.ndarray:
        """Class indices (n, 1) from index or one-hot rows, checked as ``read_npz`` does."""
        if y.shape[1] > 1:
            if not (np.isin(y, (0, 1)).all() and (y.sum(axis=1) == 1).all()):
                raise DataError(
                    f"{self.path}: rows {start}..{start + len(y) - 1} of {key!r} are not one-hot; "
                    "classification needs one class index per sample or one-hot rows",
                    help="give task: regression for multi-output targets",
                )
            return np.argmax(y, axis=1).astype(np.float32)[:, None]
        bad = (y < 0) | (y != np.round(y))
        if bad.any():
            row = start + int(np.argmax(bad[:, 0]))
            raise DataError(
                f"{self.path}: row {row} of {key!r} holds {float(y[row - start, 0]):g}, not a class "
                "index; class indices are integers 0..K-1",
                help="map the labels to 0-based class indices, or give task: regression",
            )
        return y

    def _rows_of(self, fh: IO[bytes], m: Member, n: int, start: int) -> np.ndarray:
        want = n * m.row_bytes
        try:
            raw = fh.read(want)
        except _DAMAGED as exc:
            raise DataError(
                f"array {m.key!r} in {self.path} is damaged near row {start} ({exc})",
                help="re-create the file",
            ) from None
        if len(raw) != want:
            raise DataError(
                f"array {m.key!r} in {self.path} ends after {start + len(raw) // max(m.row_bytes, 1)} "
                f"of its {m.shape[0]} rows",
                help="the file is truncated; re-create it",
            )
        return np.frombuffer(raw, dtype=m.dtype, count=n * math.prod(m.shape[1:])).astype(
            np.float32
        )


__all__ = ["Member", "NpzStream"]
