"""``iris``, ``digits``, ``wine``, ``breast_cancer``, ``diabetes``: the small data sets inside scikit-learn.

They ship with scikit-learn (as CSV and text files), so they load offline and
take no parameters. scikit-learn and numpy are imported inside the loader.
"""

from __future__ import annotations

from specforge.data.dataset import check_finite
from specforge.diagnostics import did_you_mean
from specforge.plugin import DataError, Dataset, DatasetType, NoParams

__all__ = ["DATASETS", "SKLEARN_TOY_DATASETS", "load_sklearn_toy"]

_DESCRIPTIONS = {
    "iris": "iris flowers (scikit-learn): 150 × 4 features, 3 classes",
    "digits": "handwritten digits (scikit-learn): 1,797 images of 8×8, 10 classes",
    "wine": "wine recognition (scikit-learn): 178 × 13 features, 3 classes",
    "breast_cancer": "breast cancer Wisconsin (scikit-learn): 569 × 30 features, 2 classes",
    "diabetes": "diabetes progression (scikit-learn): 442 × 10 features, regression",
}

SKLEARN_TOY_DATASETS = tuple(_DESCRIPTIONS)


def load_sklearn_toy(name: str) -> Dataset:
    """Load one of the small data sets that ship inside scikit-learn (offline).

    digits keeps its 8x8 image shape so a spec's Flatten node means something.
    """
    import numpy as np

    given = name
    name = name.strip().lower().replace("-", "_")
    if name not in SKLEARN_TOY_DATASETS:
        suggestion = did_you_mean(name, SKLEARN_TOY_DATASETS)
        raise DataError(
            f"unknown scikit-learn toy data set {given!r}"
            + (f"; {suggestion}" if suggestion else ""),
            help="choose one of: " + ", ".join(SKLEARN_TOY_DATASETS),
        )
    from sklearn import datasets

    loader = getattr(datasets, f"load_{name}")
    try:
        bunch = loader()
    except OSError as exc:
        raise DataError(
            f"scikit-learn's bundled {name} data could not be read ({exc})",
            help="the scikit-learn installation is damaged; reinstall it",
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


def _loader(name: str):
    def load(params: NoParams) -> Dataset:
        return load_sklearn_toy(name)

    return load


DATASETS = [
    DatasetType(name, NoParams, _loader(name), description)
    for name, description in _DESCRIPTIONS.items()
]
