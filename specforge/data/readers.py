"""Read the data sets a spec names from files the user already has.

Nothing here downloads anything: every loader reads local files (or the
caches Keras and scikit-learn leave behind) and, when something is missing
or malformed, raises a :class:`DataError` that says what was wrong, where it
looked and what the user can do about it.
"""

from __future__ import annotations

import csv
import difflib
import gzip
import math
import os
import pickle
import re
import struct
import tarfile
import tempfile
import zipfile
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = [
    "CALIFORNIA_FEATURES",
    "FASHION_MNIST_CLASSES",
    "FASHION_MNIST_FILES",
    "SKLEARN_TOY_DATASETS",
    "DataError",
    "Dataset",
    "check_finite",
    "load_california_housing",
    "load_fashion_mnist",
    "load_sklearn_toy",
    "read_csv",
    "read_idx",
    "read_npz",
]

PathLike = str | os.PathLike[str]

TASKS = ("classification", "regression")


class DataError(Exception):
    """A data file is missing, unreadable or malformed; carries a hint for the user."""

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        looked_in: list[str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.looked_in = list(looked_in) if looked_in is not None else None

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True, eq=False)
class Dataset:
    """Arrays plus the names a spec compiler needs to wire inputs and outputs.

    ``x``/``y`` hold the training data (or all of it); ``x_test``/``y_test``
    hold the data set's own official test split where it has one.
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


def _did_you_mean(name: str, options: Sequence[str]) -> str:
    """A "; did you mean ...?" suffix naming the closest options (case matches first)."""
    folded = [o for o in options if o.casefold() == name.casefold() and o != name]
    close = difflib.get_close_matches(name, list(options), n=3, cutoff=0.6)
    suggestions = list(dict.fromkeys(folded + close))
    if not suggestions:
        return ""
    return "; did you mean " + " or ".join(repr(o) for o in suggestions) + "?"


def _check_task(task: str | None) -> None:
    if task is not None and task not in TASKS:
        raise ValueError(f"task must be one of {TASKS} or None, got {task!r}")


def _require_file(path: PathLike, what: str, hint: str | None = None) -> str:
    """Return ``path`` as a string, or raise a DataError if it is not a file."""
    p = os.fspath(path)
    if os.path.isdir(p):
        raise DataError(
            f"{what}: {p} is a directory, expected a file",
            hint=hint,
            looked_in=[os.path.abspath(p)],
        )
    if not os.path.isfile(p):
        raise DataError(
            f"{what} not found: {p}",
            hint=hint or f"check the path (relative paths are resolved against {os.getcwd()})",
            looked_in=[os.path.abspath(p)],
        )
    return p


# ---------------------------------------------------------------------------
# finiteness


def check_finite(x: np.ndarray, what: str, source: str) -> None:
    """Raise a DataError if ``x`` holds NaN or inf.

    Non-finite inputs silently poison training (every loss becomes NaN), so
    every loader checks its features here, at the point where the user can
    still be told which file and which row to fix.
    """
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
        hint="remove or impute those values in the source file "
        "(read_csv can impute with missing='mean' or drop rows with missing='drop')",
    )


# ---------------------------------------------------------------------------
# IDX (MNIST / Fashion-MNIST)

_IDX_DTYPES: dict[int, str] = {
    0x08: ">u1",
    0x09: ">i1",
    0x0B: ">i2",
    0x0C: ">i4",
    0x0D: ">f4",
    0x0E: ">f8",
}

_IDX_REDOWNLOAD = (
    "the file is damaged (often an interrupted download); delete it and obtain a fresh copy"
)


def _read_maybe_gzip(path: str) -> bytes:
    """Return the (decompressed) bytes of ``path``; gzip is detected by content."""
    try:
        with open(path, "rb") as fh:
            raw = fh.read()
    except OSError as exc:
        raise DataError(
            f"cannot read {path}: {exc.strerror or exc}",
            hint="check the file's permissions",
            looked_in=[os.path.abspath(path)],
        ) from exc
    is_gzip = raw[:2] == b"\x1f\x8b"
    if not is_gzip:
        if path.endswith(".gz"):
            raise DataError(
                f"{path} is not a gzipped file (it does not start with the gzip magic bytes 1f 8b)",
                hint=_IDX_REDOWNLOAD + "; if it is an uncompressed IDX file, drop the .gz suffix",
            )
        return raw
    try:
        return gzip.decompress(raw)
    except (gzip.BadGzipFile, EOFError, zlib.error, OSError) as exc:
        raise DataError(
            f"{path} is a corrupt or truncated gzip file ({exc})",
            hint=_IDX_REDOWNLOAD,
        ) from exc


def read_idx(path: PathLike) -> np.ndarray:
    """Read an IDX file (the MNIST / Fashion-MNIST format), gzipped or plain.

    Parsing the header ourselves (instead of slicing at a fixed offset the way
    Keras does) lets a truncated or mislabelled file fail with a message
    rather than as a reshape error or, worse, silently wrong data.
    """
    p = _require_file(path, "IDX file")
    data = _read_maybe_gzip(p)
    if len(data) < 4:
        raise DataError(
            f"{p} is too short to be an IDX file ({len(data)} bytes)",
            hint=_IDX_REDOWNLOAD,
        )
    magic = struct.unpack(">I", data[:4])[0]
    code, ndim = data[2], data[3]
    if data[0] != 0 or data[1] != 0 or code not in _IDX_DTYPES or ndim == 0:
        raise DataError(
            f"{p} is not an IDX file: bad magic number 0x{magic:08X} (expected "
            "0x00000801 for labels, 0x00000803 for images, or generally "
            "0x0000TTNN with a known type code TT and NN dimensions)",
            hint=_IDX_REDOWNLOAD,
        )
    header_len = 4 + 4 * ndim
    if len(data) < header_len:
        raise DataError(
            f"{p} is truncated: its header announces {ndim} dimensions but the "
            f"file has only {len(data)} bytes",
            hint=_IDX_REDOWNLOAD,
        )
    shape = struct.unpack(f">{ndim}I", data[4:header_len])
    dtype = np.dtype(_IDX_DTYPES[code])
    expected = math.prod(shape) * dtype.itemsize
    found = len(data) - header_len
    if found != expected:
        problem = "truncated" if found < expected else "longer than its header says"
        raise DataError(
            f"{p} is {problem}: header shape {tuple(shape)} needs {expected} bytes "
            f"of data, found {found}",
            hint=_IDX_REDOWNLOAD,
        )
    arr = np.frombuffer(data, dtype=dtype, offset=header_len).reshape(shape)
    return arr.astype(dtype.newbyteorder("="), copy=True)


# ---------------------------------------------------------------------------
# Fashion-MNIST

FASHION_MNIST_CLASSES = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
]

# Same names and order as keras.datasets.fashion_mnist.load_data.
FASHION_MNIST_FILES = {
    "y_train": "train-labels-idx1-ubyte.gz",
    "x_train": "train-images-idx3-ubyte.gz",
    "y_test": "t10k-labels-idx1-ubyte.gz",
    "x_test": "t10k-images-idx3-ubyte.gz",
}

_FASHION_HINT = (
    "run `python -c 'import keras; keras.datasets.fashion_mnist.load_data()'` "
    "once on a machine with network access (it writes the four files to "
    "~/.keras/datasets/fashion-mnist/; copy that directory here), or download "
    "the four files from https://github.com/zalandoresearch/fashion-mnist and "
    "pass `path:` (the directory holding them)"
)


def _keras_tmp_root() -> str:
    """Keras' fallback cache root when the normal one is not writable.

    Mirrors keras/src/utils/file_utils.py:get_file.
    """
    return os.path.join("/tmp" if os.path.isdir("/tmp") else tempfile.gettempdir(), ".keras")


def _keras_dataset_dirs(subdir: str) -> list[str]:
    """Directories where Keras' get_file may have cached ``datasets/<subdir>``.

    Keras (backend/config.py) uses $KERAS_HOME if set, else ~/.keras (or
    /tmp/.keras when ~ is not writable); get_file falls back to /tmp/.keras
    when that directory is not writable.  We look in the primary location
    first and the /tmp fallback last.
    """
    if "KERAS_HOME" in os.environ:
        root = os.path.expanduser(os.environ["KERAS_HOME"])
    else:
        root = os.path.join(os.path.expanduser("~"), ".keras")
    dirs = [os.path.join(root, "datasets", subdir)]
    fallback = os.path.join(_keras_tmp_root(), "datasets", subdir)
    if os.path.abspath(fallback) != os.path.abspath(dirs[0]):
        dirs.append(fallback)
    return dirs


def _find_in_dir(directory: str, name: str) -> str | None:
    """Return the gzipped file or, failing that, its uncompressed twin."""
    for candidate in (name, name.removesuffix(".gz")):
        full = os.path.join(directory, candidate)
        if os.path.isfile(full):
            return full
    return None


def _pixel_names(shape: Sequence[int], prefix: str = "pixel") -> list[str]:
    return [prefix + "_" + "_".join(map(str, idx)) for idx in np.ndindex(*shape)]


def _fashion_pair(images_path: str, labels_path: str) -> tuple[np.ndarray, np.ndarray]:
    labels = read_idx(labels_path)
    images = read_idx(images_path)
    if labels.ndim != 1 or labels.dtype != np.uint8:
        raise DataError(
            f"{labels_path} is not an IDX label file: expected a 1-D uint8 array "
            f"(magic 0x00000801), found {labels.dtype} with shape {labels.shape}",
            hint="check that the label and image files have not been swapped or renamed",
        )
    if images.ndim != 3 or images.shape[1:] != (28, 28) or images.dtype != np.uint8:
        raise DataError(
            f"{images_path} does not hold 28x28 uint8 images: found {images.dtype} "
            f"with shape {images.shape}, expected (n, 28, 28)",
            hint="this is not a Fashion-MNIST image file (magic 0x00000803); check "
            "that the files have not been swapped or replaced by another data set",
        )
    if len(images) != len(labels):
        raise DataError(
            f"{images_path} holds {len(images)} images but {labels_path} holds "
            f"{len(labels)} labels",
            hint="the two files come from different downloads or one is damaged; obtain both again",
        )
    if labels.size and int(labels.max()) >= len(FASHION_MNIST_CLASSES):
        raise DataError(
            f"{labels_path} holds label {int(labels.max())}; Fashion-MNIST labels are 0..9",
            hint="this is not a Fashion-MNIST label file",
        )
    return images.astype(np.float32), labels.astype(np.int64)


def load_fashion_mnist(path: PathLike | None = None) -> Dataset:
    """Load Fashion-MNIST from ``path`` or from the Keras cache.

    Images stay float32 in 0..255: scaling is a preprocessing decision the
    spec makes explicitly, not something a reader should do behind its back.
    """
    dirs = [os.fspath(path)] if path is not None else _keras_dataset_dirs("fashion-mnist")
    notes: list[str] = []
    found: dict[str, str] | None = None
    for directory in dirs:
        if not os.path.isdir(directory):
            why = "not a directory" if os.path.exists(directory) else "does not exist"
            notes.append(f"  {directory} ({why})")
            continue
        files = {key: _find_in_dir(directory, name) for key, name in FASHION_MNIST_FILES.items()}
        missing = [FASHION_MNIST_FILES[k] for k, v in files.items() if v is None]
        if not missing:
            found = {k: v for k, v in files.items() if v is not None}
            break
        notes.append(f"  {directory} (missing: {', '.join(missing)})")
    if found is None:
        raise DataError(
            "Fashion-MNIST files not found; looked in:\n" + "\n".join(notes),
            hint=_FASHION_HINT,
            looked_in=[os.path.abspath(d) for d in dirs],
        )
    x, y = _fashion_pair(found["x_train"], found["y_train"])
    x_test, y_test = _fashion_pair(found["x_test"], found["y_test"])
    return Dataset(
        x=x,
        y=y,
        feature_names=_pixel_names((28, 28)),
        target_names=["label"],
        task="classification",
        class_names=list(FASHION_MNIST_CLASSES),
        x_test=x_test,
        y_test=y_test,
    )


# ---------------------------------------------------------------------------
# California housing

CALIFORNIA_FEATURES = [
    "MedInc",
    "HouseAge",
    "AveRooms",
    "AveBedrms",
    "Population",
    "AveOccup",
    "Latitude",
    "Longitude",
]
CALIFORNIA_TARGET = "MedHouseVal"
CALIFORNIA_MEMBER = "CaliforniaHousing/cal_housing.data"
CALIFORNIA_URL = "https://ndownloader.figshare.com/files/5976036"

_CALIFORNIA_HINT = (
    "run `python -c 'from sklearn.datasets import fetch_california_housing; "
    "fetch_california_housing()'` once on a machine with network access and copy "
    "its scikit_learn_data directory here (point SCIKIT_LEARN_DATA or `data_home:` "
    f"at it), or download cal_housing.tgz from {CALIFORNIA_URL} and pass `path:`"
)


def _sklearn_data_home(data_home: PathLike | None) -> str:
    """Where scikit-learn keeps its data (sklearn.datasets.get_data_home).

    Computed here rather than by calling get_data_home, which creates the
    directory as a side effect.
    """
    if data_home is None:
        data_home = os.environ.get("SCIKIT_LEARN_DATA", os.path.join("~", "scikit_learn_data"))
    return os.path.expanduser(os.fspath(data_home))


def _california_cache_file(home: str) -> str:
    """sklearn's `_pkl_filepath(data_home, "cal_housing.pkz")`."""
    return os.path.join(home, "cal_housing_py3.pkz")


def _california_transform(raw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Exactly the arithmetic of sklearn.datasets.fetch_california_housing.

    ``raw`` has the archive's column order: longitude, latitude,
    housingMedianAge, totalRooms, totalBedrooms, population, households,
    medianIncome, medianHouseValue.
    """
    cal = raw[:, [8, 7, 2, 3, 4, 5, 6, 1, 0]].astype(np.float64)
    target, data = cal[:, 0], cal[:, 1:]
    with np.errstate(divide="ignore", invalid="ignore"):
        data[:, 2] /= data[:, 5]  # AveRooms = totalRooms / households
        data[:, 3] /= data[:, 5]  # AveBedrms = totalBedrooms / households
        data[:, 5] = data[:, 4] / data[:, 5]  # AveOccup = population / households
    return data, target / 100000.0


def _parse_california_data(fileobj, source: str) -> np.ndarray:
    try:
        raw = np.loadtxt(fileobj, delimiter=",", ndmin=2)
    except (ValueError, OSError, EOFError, zlib.error, tarfile.TarError) as exc:
        raise DataError(
            f"cannot parse {source}: {exc}",
            hint="the file is damaged; " + _CALIFORNIA_HINT,
        ) from exc
    if raw.shape[1] != 9 or raw.shape[0] == 0:
        raise DataError(
            f"{source} has shape {raw.shape}; expected rows of 9 comma-separated "
            "columns (longitude, latitude, housingMedianAge, totalRooms, "
            "totalBedrooms, population, households, medianIncome, "
            "medianHouseValue)",
            hint=_CALIFORNIA_HINT,
        )
    return raw


def _read_california_archive(path: str) -> np.ndarray:
    try:
        with tarfile.open(path, mode="r:*") as tar:
            names = tar.getnames()
            member = CALIFORNIA_MEMBER
            if member not in names:
                alts = [n for n in names if n.endswith("cal_housing.data")]
                if not alts:
                    shown = ", ".join(names[:10]) + (" ..." if len(names) > 10 else "")
                    raise DataError(
                        f"{path} has no member {CALIFORNIA_MEMBER} (members: {shown or 'none'})",
                        hint="this is not scikit-learn's cal_housing.tgz; " + _CALIFORNIA_HINT,
                    )
                member = alts[0]
            fileobj = tar.extractfile(member)
            if fileobj is None:
                raise DataError(f"{path}: {member} is not a regular file", hint=_CALIFORNIA_HINT)
            return _parse_california_data(fileobj, f"{path}:{member}")
    except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
        raise DataError(
            f"{path} is not a readable tar archive ({exc})",
            hint="the file is damaged (often an interrupted download); " + _CALIFORNIA_HINT,
        ) from exc


def _california_from_raw(raw: np.ndarray, source: str) -> Dataset:
    data, target = _california_transform(raw)
    return _california_dataset(data, target, source)


def _california_dataset(data: np.ndarray, target: np.ndarray, source: str) -> Dataset:
    x = np.asarray(data, dtype=np.float32)
    y = np.asarray(target, dtype=np.float32).reshape(-1)
    check_finite(x, "features", source)
    check_finite(y, "targets", source)
    return Dataset(
        x=x,
        y=y,
        feature_names=list(CALIFORNIA_FEATURES),
        target_names=[CALIFORNIA_TARGET],
        task="regression",
        class_names=None,
    )


def _california_from_sklearn_cache(home: str) -> Dataset:
    cache = _california_cache_file(home)
    from sklearn.datasets import fetch_california_housing

    try:
        bunch = fetch_california_housing(data_home=home, download_if_missing=False)
    except OSError as exc:
        raise DataError(
            f"California housing not found: scikit-learn's cache file {cache} "
            f"could not be read ({exc})",
            hint=_CALIFORNIA_HINT,
            looked_in=[cache],
        ) from exc
    except (EOFError, ValueError, KeyError, IndexError, zlib.error, pickle.UnpicklingError) as exc:
        raise DataError(
            f"scikit-learn's cache file {cache} is damaged ({type(exc).__name__}: {exc})",
            hint="delete it and re-create it; " + _CALIFORNIA_HINT,
            looked_in=[cache],
        ) from exc
    return _california_dataset(bunch.data, bunch.target, cache)


def _looks_like_archive(path: str) -> bool:
    lower = path.lower()
    if lower.endswith((".tgz", ".tar.gz", ".tar", ".tar.bz2", ".tar.xz")):
        return True
    if lower.endswith((".csv", ".txt", ".tsv", ".data")):
        return False
    with open(path, "rb") as fh:
        return fh.read(2) == b"\x1f\x8b"


def load_california_housing(
    path: PathLike | None = None, data_home: PathLike | None = None
) -> Dataset:
    """Load California housing from an archive, a CSV or scikit-learn's cache.

    ``path`` may be scikit-learn's raw ``cal_housing.tgz``, the bare
    ``cal_housing.data`` inside it, a CSV with the 8 feature columns and
    MedHouseVal, or a scikit-learn data directory.  Without ``path`` the
    cache of ``fetch_california_housing`` is read (never downloaded).  Either
    way the result equals what scikit-learn would return.
    """
    if path is not None:
        p = os.fspath(path)
        if os.path.isdir(p):
            return load_california_housing(data_home=p)
        _require_file(p, "California housing file", hint=_CALIFORNIA_HINT)
        if _looks_like_archive(p):
            return _california_from_raw(_read_california_archive(p), p)
        if p.lower().endswith(".data"):
            with open(p, "rb") as fh:
                return _california_from_raw(_parse_california_data(fh, p), p)
        ds = read_csv(p, target=CALIFORNIA_TARGET, features=CALIFORNIA_FEATURES, task="regression")
        return _california_dataset(ds.x, ds.y, p)

    home = _sklearn_data_home(data_home)
    cache = _california_cache_file(home)
    archive = os.path.join(home, "cal_housing.tgz")
    if os.path.isfile(cache):
        return _california_from_sklearn_cache(home)
    if os.path.isfile(archive):
        return _california_from_raw(_read_california_archive(archive), archive)
    raise DataError(
        f"California housing not found: scikit-learn's cache file {cache} does "
        f"not exist (nor does {archive})",
        hint=_CALIFORNIA_HINT,
        looked_in=[cache, archive],
    )


# ---------------------------------------------------------------------------
# scikit-learn toy data sets

SKLEARN_TOY_DATASETS = ("iris", "digits", "wine", "breast_cancer", "diabetes")


def load_sklearn_toy(name: str) -> Dataset:
    """Load one of the small data sets that ship inside scikit-learn (offline).

    digits keeps its 8x8 image shape so a spec's Flatten node means something.
    """
    given = name
    name = name.strip().lower().replace("-", "_")
    if name not in SKLEARN_TOY_DATASETS:
        raise DataError(
            f"unknown scikit-learn toy data set {given!r}"
            + _did_you_mean(name, SKLEARN_TOY_DATASETS),
            hint="choose one of: " + ", ".join(SKLEARN_TOY_DATASETS),
        )
    from sklearn import datasets

    loader = getattr(datasets, f"load_{name}")
    try:
        bunch = loader()
    except OSError as exc:
        raise DataError(
            f"scikit-learn's bundled {name} data could not be read ({exc})",
            hint="the scikit-learn installation is damaged; reinstall it",
        ) from exc
    source = f"sklearn.datasets.load_{name}()"
    if name == "digits":
        x = np.asarray(bunch.images, dtype=np.float32)
    else:
        x = np.asarray(bunch.data, dtype=np.float32)
    check_finite(x, "features", source)
    feature_names = [str(f) for f in bunch.feature_names]
    if name == "diabetes":
        return Dataset(
            x=x,
            y=np.asarray(bunch.target, dtype=np.float32),
            feature_names=feature_names,
            target_names=["target"],
            task="regression",
            class_names=None,
        )
    return Dataset(
        x=x,
        y=np.asarray(bunch.target, dtype=np.int64),
        feature_names=feature_names,
        target_names=["target"],
        task="classification",
        class_names=[str(c) for c in bunch.target_names],
    )


# ---------------------------------------------------------------------------
# CSV

MISSING_MARKERS = frozenset({"", "nan", "na", "n/a", "null", "none", "?"})
_MISSING_MODES = ("error", "drop", "mean")
_SLICE_RE = re.compile(r"^\s*(-?\d*)\s*:\s*(-?\d*)\s*(?::\s*(-?\d*)\s*)?$")
_OTHER_DELIMITERS = (";", "\t", "|", ",")


class _Columns:
    """Column lookup with error messages that point at the user's typo."""

    def __init__(self, names: list[str], header: bool, path: str, delimiter: str):
        self.names = names
        self.header = header
        self.path = path
        self.delimiter = delimiter

    def label(self, j: int) -> str:
        if self.header:
            return f"column {self.names[j]!r} (index {j})"
        return f"column {j}"

    def _delimiter_hint(self) -> str:
        if len(self.names) == 1:
            for d in _OTHER_DELIMITERS:
                if d != self.delimiter and d in self.names[0]:
                    return (
                        f"; the file has a single column, so it probably uses "
                        f"{d!r} as its delimiter: pass delimiter={d!r}"
                    )
        return ""

    def index(self, spec: str | int, role: str) -> int:
        n = len(self.names)
        if isinstance(spec, bool) or not isinstance(spec, (str, int, np.integer)):
            raise DataError(f"{role} column must be a name or an integer index, got {spec!r}")
        if isinstance(spec, (int, np.integer)):
            j = int(spec)
            if not -n <= j < n:
                raise DataError(
                    f"{role} column index {j} is out of range: {self.path} has "
                    f"{n} column(s) (valid indices {-n}..{n - 1})",
                    hint="indices are 0-based; negative ones count from the end"
                    + self._delimiter_hint(),
                )
            return j % n
        if not self.header:
            if re.fullmatch(r"-?\d+", spec.strip()):
                return self.index(int(spec), role)
            raise DataError(
                f"{role} column {spec!r} cannot be found by name: header=False, "
                "so columns have no names",
                hint="use 0-based column indices, or header=True if the first "
                "line holds column names",
            )
        hits = [j for j, name in enumerate(self.names) if name == spec]
        if len(hits) > 1:
            raise DataError(
                f"{role} column name {spec!r} is ambiguous: {self.path} has it at indices {hits}",
                hint="select the column by its 0-based index instead",
            )
        if hits:
            return hits[0]
        guess = _did_you_mean(spec, self.names)
        shown = ", ".join(repr(nm) for nm in self.names[:30])
        if n > 30:
            shown += ", ..."
        raise DataError(
            f"{role} column {spec!r} not found in {self.path}{guess}",
            hint=f"the header has {n} column(s): {shown}" + self._delimiter_hint(),
        )

    def select(self, spec: str | int | Sequence[str | int], role: str) -> list[int]:
        if isinstance(spec, str) and spec not in self.names:
            m = _SLICE_RE.match(spec)
            if m and ":" in spec:
                parts = [int(g) if g not in (None, "") else None for g in m.groups()]
                if parts[2] == 0:
                    raise DataError(f"{role} slice {spec!r} has a zero step")
                idx = list(range(len(self.names)))[slice(*parts)]
                if not idx:
                    raise DataError(
                        f"{role} slice {spec!r} selects no columns: {self.path} has "
                        f"{len(self.names)} column(s)",
                        hint="slices are Python-style 'start:stop' over 0-based column indices",
                    )
                return idx
        if isinstance(spec, (str, int, np.integer)):
            return [self.index(spec, role)]
        out = [self.index(s, role) for s in spec]
        dupes = sorted({self.label(j) for j in out if out.count(j) > 1})
        if dupes:
            raise DataError(f"{role} columns list {', '.join(dupes)} more than once")
        return out


def _parse_cell(text: str) -> float | None:
    """Float value of a cell, None if it is a missing marker; ValueError otherwise."""
    s = text.strip()
    if s.lower() in MISSING_MARKERS:
        return None
    v = float(s)
    return None if math.isnan(v) else v


def _read_rows(path: str, delimiter: str) -> tuple[list[list[str]], list[int]]:
    rows: list[list[str]] = []
    lines: list[int] = []
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            reader = csv.reader(fh, delimiter=delimiter)
            for row in reader:
                if not row or (len(row) == 1 and not row[0].strip()):
                    continue  # blank line
                rows.append(row)
                lines.append(reader.line_num)
    except UnicodeDecodeError as exc:
        raise DataError(
            f"{path} is not UTF-8 text ({exc.reason} at byte {exc.start})",
            hint="convert the file to UTF-8, or check that it really is a CSV file",
        ) from exc
    except csv.Error as exc:
        raise DataError(f"{path} is not valid CSV: {exc}") from exc
    except OSError as exc:
        raise DataError(
            f"cannot read {path}: {exc.strerror or exc}",
            looked_in=[os.path.abspath(path)],
        ) from exc
    return rows, lines


def read_csv(
    path: PathLike,
    *,
    target: str | int | list[str | int] | None,
    features: list[str | int] | str | None = None,
    delimiter: str = ",",
    header: bool = True,
    missing: str = "error",
    task: str | None = None,
) -> Dataset:
    """Read a numeric table from a CSV file into a Dataset.

    Columns are chosen by header name or 0-based index (negative allowed);
    ``features`` may also be a slice string such as ``"0:5"`` and defaults to
    every non-target column.  ``missing`` decides what happens to empty /
    NaN-like cells (``"", nan, NA, N/A, null, none, ?``): ``"error"`` reports
    the first one by line and column, ``"drop"`` drops such rows, ``"mean"``
    imputes feature column means (rows with a missing *target* are dropped:
    a target cannot be imputed).  In a label (non-numeric) target column only
    an empty cell counts as missing.  Any other non-numeric feature value is
    always an error, because it usually means a categorical column that needs
    encoding, not a gap.  A target column holding non-numeric labels becomes
    class indices (``class_names`` = sorted labels); a numeric target is a
    regression target unless ``task="classification"``.  Without a target,
    ``y`` is None and the task defaults to ``"regression"``.
    """
    _check_task(task)
    if missing not in _MISSING_MODES:
        raise ValueError(f"missing must be one of {_MISSING_MODES}, got {missing!r}")
    p = _require_file(path, "CSV file")
    rows, lines = _read_rows(p, delimiter)
    if not rows:
        raise DataError(f"{p} is empty", hint="the file has no rows at all")
    if header:
        names = [c.strip() or f"col{j}" for j, c in enumerate(rows[0])]
        header_line = lines[0]
        rows, lines = rows[1:], lines[1:]
        if not rows:
            raise DataError(
                f"{p} has a header (line {header_line}) but no data rows",
                hint="pass header=False if the first line is data",
            )
    else:
        names = [f"col{j}" for j in range(len(rows[0]))]
    width = len(names)
    for row, line in zip(rows, lines, strict=True):
        if len(row) != width:
            expected = "as in the header" if header else "as in the first row"
            raise DataError(
                f"{p}: line {line} has {len(row)} field(s), expected {width} ({expected})",
                hint=f"look for an unquoted {delimiter!r} inside a value, a missing "
                "or extra field, or a wrong delimiter (pass delimiter=...)",
            )

    cols = _Columns(names, header, p, delimiter)
    if target is None:
        t_idx: list[int] = []
    else:
        t_idx = cols.select(target, "target")
    if features is None:
        f_idx = [j for j in range(width) if j not in t_idx]
    else:
        f_idx = cols.select(features, "feature")
    overlap = [cols.label(j) for j in f_idx if j in t_idx]
    if overlap:
        raise DataError(
            f"{', '.join(overlap)} is both a feature and the target",
            hint="a target column must not also be an input; remove it from features",
        )
    if not f_idx:
        raise DataError(
            f"no feature columns selected in {p}",
            hint="pass features=... naming at least one column that is not a target",
        )

    n = len(rows)
    # Is the (single) target categorical?  Decided on all present values first,
    # so that one stray label does not silently turn a column into NaNs.
    categorical = False
    for j in t_idx:
        for row in rows:
            try:
                _parse_cell(row[j])
            except ValueError:
                categorical = True
                break
    if categorical:
        if len(t_idx) > 1:
            raise DataError(
                f"target columns of {p} hold non-numeric labels; only a single "
                "target column may hold class labels",
                hint="use one label column as the target",
            )
        if task == "regression":
            bad = next(r[t_idx[0]] for r in rows if _is_label(r[t_idx[0]]))
            raise DataError(
                f"target {cols.label(t_idx[0])} of {p} holds non-numeric labels "
                f"(e.g. {bad.strip()!r}); it cannot be a regression target",
                hint="drop task='regression' to treat it as classification",
            )

    x = np.empty((n, len(f_idx)), dtype=np.float64)
    x_missing = np.zeros((n, len(f_idx)), dtype=bool)
    y_num = np.empty((n, len(t_idx)), dtype=np.float64)
    y_labels: list[str] = [""] * n
    row_missing = np.zeros(n, dtype=bool)
    target_missing = np.zeros(n, dtype=bool)

    def report_missing(line: int, j: int, value: str) -> DataError:
        return DataError(
            f"{p}: line {line}, {cols.label(j)} has a missing value ({value!r})",
            hint="fill it in, or pass missing='drop' to drop such rows or "
            "missing='mean' to impute feature column means",
        )

    for i, (row, line) in enumerate(zip(rows, lines, strict=True)):
        for k, j in enumerate(f_idx):
            cell = row[j]
            try:
                v = _parse_cell(cell)
            except ValueError:
                raise DataError(
                    f"{p}: line {line}, {cols.label(j)} has a non-numeric value {cell.strip()!r}",
                    hint="features must be numbers; if this column is categorical, "
                    "encode it numerically or leave it out of features",
                ) from None
            if v is None:
                if missing == "error":
                    raise report_missing(line, j, cell)
                x_missing[i, k] = True
                row_missing[i] = True
                x[i, k] = np.nan
            elif math.isinf(v):
                raise DataError(
                    f"{p}: line {line}, {cols.label(j)} has an infinite value {cell.strip()!r}",
                    hint="features must be finite numbers",
                )
            else:
                x[i, k] = v
        for k, j in enumerate(t_idx):
            cell = row[j]
            if categorical:
                # Any non-empty text is a label here ("none", "NA" can be classes).
                label = cell.strip()
                is_missing = not label
                y_labels[i] = label
            else:
                v = _parse_cell(cell)
                is_missing = v is None
                if v is not None and math.isinf(v):
                    raise DataError(
                        f"{p}: line {line}, {cols.label(j)} has an infinite target "
                        f"value {cell.strip()!r}",
                        hint="targets must be finite numbers",
                    )
                y_num[i, k] = np.nan if v is None else v
            if is_missing:
                if missing == "error":
                    raise report_missing(line, j, cell)
                target_missing[i] = True

    keep = ~target_missing
    if missing == "drop":
        keep &= ~row_missing
    elif missing == "mean":
        present = ~x_missing[keep]
        counts = present.sum(axis=0)
        empty = [cols.label(f_idx[k]) for k in np.flatnonzero(counts == 0)]
        if empty:
            raise DataError(
                f"{p}: {', '.join(empty)} has no values at all, so no mean to impute",
                hint="leave that column out of features",
            )
        sums = np.where(present, x[keep], 0.0).sum(axis=0)
        means = sums / counts
        x = np.where(x_missing, means[None, :], x)
    if not keep.any():
        raise DataError(
            f"{p}: every row has a missing value, nothing is left after dropping them",
            hint="use missing='mean' to impute features, or fix the file",
        )
    x = x[keep]
    feature_names = [names[j] for j in f_idx]
    target_names = [names[j] for j in t_idx]
    x32 = x.astype(np.float32)
    check_finite(x32, "features", p)

    if not t_idx:
        return Dataset(
            x=x32,
            y=None,
            feature_names=feature_names,
            target_names=[],
            task=task or "regression",
            class_names=None,
        )
    if categorical:
        labels = [lab for lab, k in zip(y_labels, keep, strict=True) if k]
        class_names = sorted(set(labels))
        lookup = {c: i for i, c in enumerate(class_names)}
        y = np.array([lookup[lab] for lab in labels], dtype=np.int64)
        return Dataset(x32, y, feature_names, target_names, "classification", class_names)
    y_num = y_num[keep]
    if task == "classification":
        if len(t_idx) > 1:
            raise DataError(
                f"{p}: classification needs a single target column, got {len(t_idx)}",
                hint="use one label column as the target",
            )
        vals = y_num[:, 0]
        if not np.all(vals == np.round(vals)):
            bad_i = int(np.flatnonzero(vals != np.round(vals))[0])
            raise DataError(
                f"target {cols.label(t_idx[0])} of {p} holds non-integer value "
                f"{float(vals[bad_i]):g} (line {lines[int(np.flatnonzero(keep)[bad_i])]}); "
                "classification needs class labels",
                hint="drop task='classification' to treat it as regression",
            )
        uniq = np.unique(vals)
        class_names = [str(int(u)) for u in uniq]
        y = np.searchsorted(uniq, vals).astype(np.int64)
        return Dataset(x32, y, feature_names, target_names, "classification", class_names)
    y = y_num[:, 0] if len(t_idx) == 1 else y_num
    return Dataset(x32, y.astype(np.float32), feature_names, target_names, "regression", None)


def _is_label(cell: str) -> bool:
    try:
        _parse_cell(cell)
    except ValueError:
        return True
    return False


# ---------------------------------------------------------------------------
# NPZ


def _npz_array(npz, key: str, path: str, role: str) -> np.ndarray:
    keys = sorted(npz.files)
    if key not in keys:
        guess = _did_you_mean(key, keys)
        hint = f"pass {role}=<one of the keys present>"
        if role == "y_key":
            hint += ", or y_key=None if the file has no targets"
        raise DataError(
            f"{path} has no array {key!r}{guess} (keys present: "
            f"{', '.join(repr(k) for k in keys) or 'none'})",
            hint=hint,
        )
    try:
        arr = npz[key]
    except ValueError as exc:
        if "pickle" in str(exc).lower() or "object" in str(exc).lower():
            raise DataError(
                f"array {key!r} in {path} is an object array; reading it would "
                "need pickle, which specforge never uses (unpickling can run "
                "arbitrary code)",
                hint="re-save it with a numeric dtype, e.g. "
                f"np.savez(path, {key}=np.asarray(a, dtype=np.float32), ...)",
            ) from exc
        raise DataError(f"cannot read array {key!r} from {path}: {exc}") from exc
    except (zipfile.BadZipFile, EOFError, OSError, zlib.error) as exc:
        raise DataError(
            f"array {key!r} in {path} is damaged ({exc})",
            hint="re-create the file",
        ) from exc
    if arr.dtype.kind not in "biuf":
        raise DataError(
            f"array {key!r} in {path} has dtype {arr.dtype}; expected numbers",
            hint="re-save it with a numeric dtype",
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


def _sniff_npz(head: bytes, p: str, save_hint: str) -> None:
    """Reject non-zip files ourselves: for them np.load's message talks about
    pickles and suggests allow_pickle=True, which is exactly the wrong advice."""
    if head.startswith(b"\x93NUMPY"):
        raise DataError(
            f"{p} is a single .npy array, not an .npz archive of named arrays",
            hint=save_hint,
        )
    if head[:1] == b"\x80":
        raise DataError(
            f"{p} is a Python pickle, not an .npz archive; specforge never unpickles "
            "files (unpickling can run arbitrary code)",
            hint=save_hint,
        )
    if not head.startswith(b"PK"):
        raise DataError(
            f"{p} is not an .npz archive (it does not start with the zip signature 'PK')",
            hint="the file is damaged or in another format; " + save_hint,
        )


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
        hint="pass task='regression' for multi-output targets",
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
    _check_task(task)
    p = _require_file(path, "NPZ file")
    save_hint = "save arrays with np.savez(path, x=..., y=...)"
    with open(p, "rb") as fh:
        _sniff_npz(fh.read(6), p, save_hint)
        fh.seek(0)
        # np.load is given our file object (not the path) so that the handle is
        # closed even when the zip turns out to be damaged.
        try:
            npz = np.load(fh, allow_pickle=False)
        except (ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
            raise DataError(
                f"cannot read {p} as an .npz archive ({exc})",
                hint="the file is damaged; re-create it: " + save_hint,
            ) from exc
        if not isinstance(npz, np.lib.npyio.NpzFile):  # pragma: no cover - sniffed
            raise DataError(f"{p} is not an .npz archive", hint=save_hint)
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
                hint="x and y must have one entry per sample, in the same order",
            )

    pair_check(x, y, x_key, y_key)
    if y_test is not None and x_test is None:
        raise DataError(
            f"{p}: y_test_key={y_test_key!r} given without x_test_key",
            hint="pass x_test_key too",
        )
    if x_test is not None:
        if x_test.shape[1:] != x.shape[1:]:
            raise DataError(
                f"{p}: {x_test_key!r} has samples of shape {x_test.shape[1:]} but "
                f"{x_key!r} has {x.shape[1:]}",
                hint="train and test features must have the same shape",
            )
        if (y is None) != (y_test is None):
            raise DataError(
                f"{p}: give both y_key and y_test_key, or neither",
                hint="train and test splits must both have targets or both not",
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
        feature_names = _pixel_names(x32.shape[1:], prefix=x_key)

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
                    hint="drop task='classification' to treat it as regression",
                )
        if a.size and a.min() < 0:
            raise DataError(
                f"{p}: {k!r} holds negative label {a.min().item()!r}; class indices must be 0..K-1",
                hint="map the labels to 0-based class indices",
            )
    n_classes = max(
        max(int(a.max()) + 1 if a.size else 0, k) for a, (_, k) in zip(ys, converted, strict=True)
    )
    if class_names is None or len(class_names) < n_classes:
        class_names = [str(c) for c in range(n_classes)]
    y_out = ys[0].astype(np.int64)
    yt_out = ys[1].astype(np.int64) if y_test is not None else None
    return Dataset(x32, y_out, feature_names, [y_key], "classification", class_names, xt32, yt_out)
