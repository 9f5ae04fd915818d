"""``california_housing``: the 1990 California census blocks, as scikit-learn serves them.

Nothing is downloaded. ``path:`` may name scikit-learn's raw archive
``cal_housing.tgz``, the ``cal_housing.data`` inside it or a CSV with the 8
features and ``MedHouseVal``: specforge parses these as text, with the very
arithmetic of ``fetch_california_housing``. Without ``path`` (or with a
directory), the data come from scikit-learn's data home: its cache
``cal_housing_py3.pkz`` if present, read by scikit-learn's own
``fetch_california_housing(download_if_missing=False)``, which **unpickles it
with joblib** (unpickling can run code: point ``data_home`` only at a cache
scikit-learn wrote); else a ``cal_housing.tgz`` there, parsed as text.
Either way the values equal what scikit-learn returns. numpy and
scikit-learn are imported inside the loader.
"""

from __future__ import annotations

import os
import pickle
import tarfile
import zlib
from typing import Any

from pydantic import Field

from specforge.data.dataset import PathLike, check_finite, require_file
from specforge.plugin import DataError, Dataset, DatasetType, Params

__all__ = ["CALIFORNIA_FEATURES", "DATASET", "load_california_housing"]

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

_CALIFORNIA_HELP = (
    "run `python -c 'from sklearn.datasets import fetch_california_housing; "
    "fetch_california_housing()'` once on a machine with network access and copy "
    "its scikit_learn_data directory here (point SCIKIT_LEARN_DATA or `data_home:` "
    f"at it), or download cal_housing.tgz from {CALIFORNIA_URL} and pass `path:`"
)


class CaliforniaParams(Params):
    path: str | None = Field(
        None,
        json_schema_extra={"format": "path"},
        description="cal_housing.tgz, cal_housing.data, a CSV with the 8 features and "
        "MedHouseVal, or a scikit-learn data directory; default: scikit-learn's cache.",
    )
    data_home: str | None = Field(
        None,
        json_schema_extra={"format": "path"},
        description="scikit-learn's data home; default: $SCIKIT_LEARN_DATA or ~/scikit_learn_data.",
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


def _california_transform(raw: Any) -> tuple[Any, Any]:
    """Exactly the arithmetic of sklearn.datasets.fetch_california_housing.

    ``raw`` has the archive's column order: longitude, latitude,
    housingMedianAge, totalRooms, totalBedrooms, population, households,
    medianIncome, medianHouseValue.
    """
    import numpy as np

    cal = raw[:, [8, 7, 2, 3, 4, 5, 6, 1, 0]].astype(np.float64)
    target, data = cal[:, 0], cal[:, 1:]
    with np.errstate(divide="ignore", invalid="ignore"):
        data[:, 2] /= data[:, 5]  # AveRooms = totalRooms / households
        data[:, 3] /= data[:, 5]  # AveBedrms = totalBedrooms / households
        data[:, 5] = data[:, 4] / data[:, 5]  # AveOccup = population / households
    return data, target / 100000.0


def _parse_california_data(fileobj: Any, source: str) -> Any:
    import numpy as np

    try:
        raw = np.loadtxt(fileobj, delimiter=",", ndmin=2)
    except (ValueError, OSError, EOFError, zlib.error, tarfile.TarError) as exc:
        raise DataError(
            f"cannot parse {source}: {exc}",
            help="the file is damaged; " + _CALIFORNIA_HELP,
        ) from exc
    if raw.shape[1] != 9 or raw.shape[0] == 0:
        raise DataError(
            f"{source} has shape {raw.shape}; expected rows of 9 comma-separated "
            "columns (longitude, latitude, housingMedianAge, totalRooms, "
            "totalBedrooms, population, households, medianIncome, "
            "medianHouseValue)",
            help=_CALIFORNIA_HELP,
        )
    return raw


def _read_california_archive(path: str) -> Any:
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
                        help="this is not scikit-learn's cal_housing.tgz; " + _CALIFORNIA_HELP,
                    )
                member = alts[0]
            fileobj = tar.extractfile(member)
            if fileobj is None:
                raise DataError(f"{path}: {member} is not a regular file", help=_CALIFORNIA_HELP)
            return _parse_california_data(fileobj, f"{path}:{member}")
    except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
        raise DataError(
            f"{path} is not a readable tar archive ({exc})",
            help="the file is damaged (often an interrupted download); " + _CALIFORNIA_HELP,
        ) from exc


def _california_from_raw(raw: Any, source: str) -> Dataset:
    data, target = _california_transform(raw)
    return _california_dataset(data, target, source)


def _california_dataset(data: Any, target: Any, source: str) -> Dataset:
    import numpy as np

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
    """scikit-learn reads its own cache: a joblib pickle, so this runs joblib.load on it."""
    cache = _california_cache_file(home)
    from sklearn.datasets import fetch_california_housing

    try:
        bunch = fetch_california_housing(data_home=home, download_if_missing=False)
    except OSError as exc:
        raise DataError(
            f"California housing not found: scikit-learn's cache file {cache} "
            f"could not be read ({exc})",
            help=_CALIFORNIA_HELP,
            looked_in=[cache],
        ) from exc
    except (EOFError, ValueError, KeyError, IndexError, zlib.error, pickle.UnpicklingError) as exc:
        raise DataError(
            f"scikit-learn's cache file {cache} is damaged ({type(exc).__name__}: {exc})",
            help="delete it and re-create it; " + _CALIFORNIA_HELP,
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
    """Load California housing from an archive, a CSV or scikit-learn's data home.

    ``path`` may be scikit-learn's raw ``cal_housing.tgz``, the bare
    ``cal_housing.data`` inside it, a CSV with the 8 feature columns and
    MedHouseVal (all parsed as text), or a scikit-learn data directory.
    Without ``path`` the data home is read (never downloaded): scikit-learn's
    cache ``cal_housing_py3.pkz`` through ``fetch_california_housing``, which
    unpickles it with joblib, or else a ``cal_housing.tgz`` there. Either way
    the result equals what scikit-learn would return.
    """
    if path is not None:
        p = os.fspath(path)
        if os.path.isdir(p):
            return load_california_housing(data_home=p)
        require_file(p, "California housing file", help=_CALIFORNIA_HELP)
        if _looks_like_archive(p):
            return _california_from_raw(_read_california_archive(p), p)
        if p.lower().endswith(".data"):
            with open(p, "rb") as fh:
                return _california_from_raw(_parse_california_data(fh, p), p)
        from specforge.data.csv import read_csv

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
        help=_CALIFORNIA_HELP,
        looked_in=[cache, archive],
    )


def _load(params: CaliforniaParams) -> Dataset:
    return load_california_housing(params.path, params.data_home)


DATASET = DatasetType(
    "california_housing",
    CaliforniaParams,
    _load,
    "California housing from scikit-learn's cache: 20,640 × 8 features, regression",
)
