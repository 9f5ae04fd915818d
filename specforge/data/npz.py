"""Read arrays saved with ``np.savez`` into a :class:`~specforge.data.dataset.Dataset`, without pickle.

``np.load`` runs with ``allow_pickle=False``, and a file that is not a zip
archive is refused before numpy sees it: for a pickle or a single ``.npy``
numpy's own message suggests ``allow_pickle=True``, exactly the wrong advice.
"""

from __future__ import annotations

import math
import zipfile
import zlib

import numpy as np

from ..diagnostics import did_you_mean
from ..relay import framework_message
from .dataset import (
    DataError,
    Dataset,
    PathLike,
    check_finite,
    check_task,
    pixel_names,
    require_file,
)

__all__ = ["read_npz"]


def _npz_array(npz, key: str, path: str, role: str) -> np.ndarray:
    keys = sorted(npz.files)
    if key not in keys:
        suggestion = did_you_mean(key, keys)
        guess = f"; {suggestion}" if suggestion else ""
        fix = f"pass {role}=<one of the keys present>"
        if role == "y_key":
            fix += ", or y_key=None if the file has no targets"
        raise DataError(
            f"{path} has no array {key!r}{guess} (keys present: "
            f"{', '.join(repr(k) for k in keys) or 'none'})",
            help=fix,
        )
    try:
        arr = npz[key]
    except ValueError as exc:
        if "pickle" in str(exc).lower() or "object" in str(exc).lower():
            raise DataError(
                f"array {key!r} in {path} is an object array; reading it would "
                "need pickle, which specforge's npz reader never uses (unpickling can run "
                "arbitrary code)",
                help="re-save it with a numeric dtype, e.g. "
                f"np.savez(path, {key}=np.asarray(a, dtype=np.float32), ...)",
            ) from exc
        raise DataError(f"cannot read array {key!r} from {path}: {exc}") from exc
    except (zipfile.BadZipFile, EOFError, OSError, zlib.error) as exc:
        raise DataError(
            f"array {key!r} in {path} is damaged ({exc})",
            help="re-create the file",
        ) from exc
    if arr.dtype.kind not in "biuf":
        raise DataError(
            f"array {key!r} in {path} has dtype {arr.dtype}; expected numbers",
            help="re-save it with a numeric dtype",
        )
    if arr.ndim == 0:
        raise DataError(f"array {key!r} in {path} is a scalar; expected one row per sample")
    return arr


def _npz_names(npz, key: str) -> list[str] | None:
    """Optional string array of names stored next to the data (no pickle)."""
    if key not in npz.files:
        return None
    try:
        arr = npz[key]
    except ValueError:
        return None
    if arr.dtype.kind not in "US" or arr.ndim != 1:
        return None
    return [a.decode() if isinstance(a, bytes) else str(a) for a in arr.tolist()]


def _sniff_npz(head: bytes, p: str, save_help: str) -> None:
    """Reject non-zip files ourselves: for them np.load's message talks about
    pickles and suggests allow_pickle=True, which is exactly the wrong advice."""
    if head.startswith(b"\x93NUMPY"):
        raise DataError(
            f"{p} is a single .npy array, not an .npz archive of named arrays",
            help=save_help,
        )
    if head[:1] == b"\x80":
        raise DataError(
            f"{p} is a Python pickle, not an .npz archive; specforge reads .npz "
            "files without unpickling (unpickling can run arbitrary code)",
            help=save_help,
        )
    if not head.startswith(b"PK"):
        raise DataError(
            f"{p} is not an .npz archive (it does not start with the zip signature 'PK')",
            help="the file is damaged or in another format; " + save_help,
        )


def array_names(path: PathLike) -> list[str]:
    """The names of the arrays in the ``.npz`` at ``path`` (a non-archive is a DataError)."""
    p = require_file(path, "NPZ file")
    save_help = "save arrays with np.savez(path, x=...)"
    with open(p, "rb") as fh:
        _sniff_npz(fh.read(6), p, save_help)
        fh.seek(0)
        try:
            with np.load(fh, allow_pickle=False) as npz:
                return list(npz.files)
        except (ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
            raise DataError(
                f"cannot read {p} as an .npz archive ({framework_message(exc)})",
                help="the file is damaged; re-create it: " + save_help,
            ) from None


def _class_indices(a: np.ndarray, key: str | None, path: str) -> tuple[np.ndarray, int]:
    """1-D class labels from (n,), (n, 1) or one-hot (n, K) targets, and K if known."""
    if a.ndim == 1:
        return a, 0
    if a.ndim == 2 and a.shape[1] == 1:
        return a[:, 0], 0
    if a.ndim == 2 and np.isin(a, (0, 1)).all() and (a.sum(axis=1) == 1).all():
        return np.argmax(a, axis=1), a.shape[1]
    raise DataError(
        f"{path}: {key!r} has shape {a.shape}; classification needs one class index "
        "per sample (shape (n,)) or one-hot rows",
        help="pass task='regression' for multi-output targets",
    )


def read_npz(
    path: PathLike,
    *,
    x_key: str = "x",
    y_key: str | None = "y",
    x_test_key: str | None = None,
    y_test_key: str | None = None,
    task: str | None = None,
) -> Dataset:
    """Read arrays saved with ``np.savez`` (never with pickle).

    Integer targets mean classification and float targets regression unless
    ``task`` says otherwise.  Optional string arrays ``feature_names`` and
    ``class_names`` in the file are used when present.
    """
    check_task(task)
    p = require_file(path, "NPZ file")
    save_help = "save arrays with np.savez(path, x=..., y=...)"
    with open(p, "rb") as fh:
        _sniff_npz(fh.read(6), p, save_help)
        fh.seek(0)
        # np.load is given our file object (not the path) so that the handle is
        # closed even when the zip turns out to be damaged.
        try:
            npz = np.load(fh, allow_pickle=False)
        except (ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
            raise DataError(
                f"cannot read {p} as an .npz archive ({framework_message(exc)})",
                help="the file is damaged; re-create it: " + save_help,
            ) from exc
        if not isinstance(npz, np.lib.npyio.NpzFile):  # pragma: no cover - sniffed
            raise DataError(f"{p} is not an .npz archive", help=save_help)
        with npz:
            x = _npz_array(npz, x_key, p, "x_key")
            y = _npz_array(npz, y_key, p, "y_key") if y_key is not None else None
            x_test = (
                _npz_array(npz, x_test_key, p, "x_test_key") if x_test_key is not None else None
            )
            y_test = (
                _npz_array(npz, y_test_key, p, "y_test_key") if y_test_key is not None else None
            )
            feature_names = _npz_names(npz, "feature_names")
            class_names = _npz_names(npz, "class_names")

    def pair_check(a: np.ndarray, b: np.ndarray | None, ak: str, bk: str | None):
        if b is not None and len(b) != len(a):
            raise DataError(
                f"{p}: {ak!r} has {len(a)} samples but {bk!r} has {len(b)}",
                help="x and y must have one entry per sample, in the same order",
            )

    pair_check(x, y, x_key, y_key)
    if y_test is not None and x_test is None:
        raise DataError(
            f"{p}: y_test_key={y_test_key!r} given without x_test_key",
            help="pass x_test_key too",
        )
    if x_test is not None:
        if x_test.shape[1:] != x.shape[1:]:
            raise DataError(
                f"{p}: {x_test_key!r} has samples of shape {x_test.shape[1:]} but "
                f"{x_key!r} has {x.shape[1:]}",
                help="train and test features must have the same shape",
            )
        if (y is None) != (y_test is None):
            raise DataError(
                f"{p}: give both y_key and y_test_key, or neither",
                help="train and test splits must both have targets or both not",
            )
        pair_check(x_test, y_test, x_test_key or "", y_test_key)

    if x.ndim == 1:
        x = x.reshape(-1, 1)
        x_test = x_test.reshape(-1, 1) if x_test is not None else None
    x32 = x.astype(np.float32)
    check_finite(x32, "features", f"{p}[{x_key!r}]")
    xt32 = None
    if x_test is not None:
        xt32 = x_test.astype(np.float32)
        check_finite(xt32, "test features", f"{p}[{x_test_key!r}]")

    if feature_names is None or len(feature_names) != math.prod(x32.shape[1:]):
        feature_names = pixel_names(x32.shape[1:], prefix=x_key)

    if y is None:
        return Dataset(x32, None, feature_names, [], task or "regression", None, xt32, None)

    ys = [a for a in (y, y_test) if a is not None]
    if task is None:
        task = "classification" if y.dtype.kind in "biu" else "regression"
    if task == "regression":
        y_out = y.astype(np.float32)
        yt_out = y_test.astype(np.float32) if y_test is not None else None
        check_finite(y_out, "targets", f"{p}[{y_key!r}]")
        if yt_out is not None:
            check_finite(yt_out, "test targets", f"{p}[{y_test_key!r}]")
        return Dataset(x32, y_out, feature_names, [y_key], task, None, xt32, yt_out)

    converted = [_class_indices(a, k, p) for a, k in zip(ys, (y_key, y_test_key), strict=False)]
    ys = [a for a, _ in converted]
    for a, k in zip(ys, (y_key, y_test_key), strict=False):
        if a.dtype.kind == "f":
            check_finite(a, "targets", f"{p}[{k!r}]")
            if not np.all(a == np.round(a)):
                raise DataError(
                    f"{p}: {k!r} holds non-integer values; classification needs "
                    "integer class indices",
                    help="drop task='classification' to treat it as regression",
                )
        if a.size and a.min() < 0:
            raise DataError(
                f"{p}: {k!r} holds negative label {a.min().item()!r}; class indices must be 0..K-1",
                help="map the labels to 0-based class indices",
            )
    n_classes = max(
        max(int(a.max()) + 1 if a.size else 0, k) for a, (_, k) in zip(ys, converted, strict=True)
    )
    if class_names is None or len(class_names) < n_classes:
        class_names = [str(c) for c in range(n_classes)]
    y_out = ys[0].astype(np.int64)
    yt_out = ys[1].astype(np.int64) if y_test is not None else None
    return Dataset(x32, y_out, feature_names, [y_key], "classification", class_names, xt32, yt_out)
