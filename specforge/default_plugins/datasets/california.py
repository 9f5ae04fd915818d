"""``california_housing``: the 1990 California census blocks, fetched on first use.

Without parameters, the original archive ``cal_housing.tgz`` (the one
scikit-learn downloads) is taken from specforge's cache, or from
scikit-learn's data home when a verified copy is there, and else downloaded
(:mod:`specforge.data.fetch`); its ``CaliforniaHousing/cal_housing.data`` is
parsed as text with the very arithmetic of ``fetch_california_housing``, so
the values equal what scikit-learn returns, without unpickling anything.

``path:`` may name the archive, the ``cal_housing.data`` inside it or a CSV
with the 8 features and ``MedHouseVal`` (all parsed as text), or a data
directory; ``data_home:`` a scikit-learn data home. Those are read as they
are, never downloaded into: a scikit-learn cache ``cal_housing_py3.pkz`` there
is read by scikit-learn's own ``fetch_california_housing(download_if_missing=False)``,
which **unpickles it with joblib** (unpickling can run code: point them only
at a cache scikit-learn wrote). numpy, scikit-learn, tarfile and pickle are imported inside
the loader.
"""

from __future__ import annotations

import os
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
#: The original archive, where scikit-learn downloads it from, and its SHA-256
#: (scikit-learn's); tests replace the checksum with that of the archive they serve.
CALIFORNIA_ARCHIVE = "cal_housing.tgz"
CALIFORNIA_URL = "https://ndownloader.figshare.com/files/5976036"
CALIFORNIA_SHA256 = "aaa5c9a6afe2225cc2aed2723682ae403280c4a3695a2ddda4ffb5d8215ea681"
#: The cache sub-folder.
CALIFORNIA_FOLDER = "california-housing"

_CALIFORNIA_HELP = (
    "leave out `path:` and `data_home:` and specforge downloads the archive on first use; "
    f"or download {CALIFORNIA_ARCHIVE} from {CALIFORNIA_URL} and pass it as `path:`"
)


class CaliforniaParams(Params):
    path: str | None = Field(
        None,
        json_schema_extra={"format": "path"},
        description="cal_housing.tgz, cal_housing.data, a CSV with the 8 features and "
        "MedHouseVal, or a scikit-learn data directory; default: downloaded on first use.",
    )
    data_home: str | None = Field(
        None,
        json_schema_extra={"format": "path"},
        description="A scikit-learn data home to read (its cache is unpickled); "
        "default: the archive, downloaded on first use.",
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
    import tarfile
    import zlib

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
    import tarfile
    import zlib

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
    import pickle
    import zlib

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
    """Load California housing: the original archive, fetched on first use, or the user's files.

    Without arguments, ``cal_housing.tgz`` comes from specforge's cache or a
    verified copy in scikit-learn's data home, else is downloaded. ``path``
    may be that archive, the bare ``cal_housing.data`` inside it, a CSV with
    the 8 feature columns and MedHouseVal (all parsed as text), or a
    scikit-learn data directory; ``data_home`` a scikit-learn data home, whose
    cache ``cal_housing_py3.pkz`` is read through ``fetch_california_housing``
    (which unpickles it with joblib), or else its ``cal_housing.tgz``. Every
    way gives what scikit-learn would return.
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

    if data_home is None:
        from specforge.data.fetch import RemoteFile, fetch

        archive = fetch(
            RemoteFile(CALIFORNIA_ARCHIVE, CALIFORNIA_URL, CALIFORNIA_SHA256),
            CALIFORNIA_FOLDER,
            reuse=[_sklearn_data_home(None)],
            what="California housing",
        )
        return _california_from_raw(_read_california_archive(archive), archive)

    home = _sklearn_data_home(data_home)
    cache = _california_cache_file(home)
    archive = os.path.join(home, CALIFORNIA_ARCHIVE)
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
    "California housing (downloaded on first use): 20,640 × 8 features, regression",
)
