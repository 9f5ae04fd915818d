"""Built-in datasets for ``data.dataset.type``, registered like any plugin's.

Every loader reads local files only: the data sets shipped inside
scikit-learn, the files Keras and scikit-learn leave in their caches, or a
CSV / npz file the spec names. A parameter whose schema says
``format: path`` (``json_schema_extra={"format": "path"}``) is a file or
directory: specforge resolves it relative to the spec file's directory before
calling ``load``, for third-party datasets as well.

The readers (and numpy, and scikit-learn) are imported inside ``load``, so
``specforge validate`` stays fast.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from specforge.plugin import DatasetType, NoParams, Params, hookimpl

# The data and train sections are checked by specforge.training.sections; this
# import registers those checks with the checker whenever the built-in plugins
# are loaded, which happens before any spec is checked.
from specforge.training import sections as _sections  # noqa: F401

SPECFORGE_API = 2

PATH = {"format": "path"}
Column = int | str
Task = Literal["classification", "regression"]


class FashionMnistParams(Params):
    path: str | None = Field(
        None,
        json_schema_extra=PATH,
        description="Directory holding the four idx .gz files; default: the Keras cache "
        "($KERAS_HOME or ~/.keras)/datasets/fashion-mnist.",
    )


class CaliforniaParams(Params):
    path: str | None = Field(
        None,
        json_schema_extra=PATH,
        description="cal_housing.tgz, cal_housing.data, a CSV with the 8 features and "
        "MedHouseVal, or a scikit-learn data directory; default: scikit-learn's cache.",
    )
    data_home: str | None = Field(
        None,
        json_schema_extra=PATH,
        description="scikit-learn's data home; default: $SCIKIT_LEARN_DATA or ~/scikit_learn_data.",
    )


class CsvParams(Params):
    path: str = Field(json_schema_extra=PATH, min_length=1, description="The CSV file.")
    target: Column | list[Column] = Field(
        description="Target column(s): a header name or a 0-based index (negative counts from the end)."
    )
    features: str | list[Column] | None = Field(
        None,
        description="Feature columns: names, indices or a slice string such as '0:8'; default: every other column.",
    )
    delimiter: str = Field(",", min_length=1, max_length=1, description="Field separator.")
    header: bool = Field(True, description="Whether the first line holds column names.")
    missing: Literal["error", "drop", "mean"] = Field(
        "error",
        description="Empty/NaN cells: report them, drop their rows, or impute feature means.",
    )
    task: Task | None = Field(
        None, description="Default: classification for text labels, regression for numbers."
    )


class NpzParams(Params):
    path: str = Field(json_schema_extra=PATH, min_length=1, description="The .npz file (np.savez).")
    x_key: str = Field("x", description="Array of features.")
    y_key: str | None = Field("y", description="Array of targets.")
    x_test_key: str | None = Field(
        None, description="Array of test features: the data set's own test split."
    )
    y_test_key: str | None = Field(None, description="Array of test targets.")
    task: Task | None = Field(
        None, description="Default: classification for integer targets, regression for floats."
    )


def _toy(name: str):
    def load(params: Any):
        from specforge.data.readers import load_sklearn_toy

        return load_sklearn_toy(name)

    return load


def _fashion_mnist(params: FashionMnistParams):
    from specforge.data.readers import load_fashion_mnist

    return load_fashion_mnist(params.path)


def _california_housing(params: CaliforniaParams):
    from specforge.data.readers import load_california_housing

    return load_california_housing(params.path, params.data_home)


def _csv(params: CsvParams):
    from specforge.data.readers import read_csv

    return read_csv(
        params.path,
        target=params.target,
        features=params.features,
        delimiter=params.delimiter,
        header=params.header,
        missing=params.missing,
        task=params.task,
    )


def _npz(params: NpzParams):
    from specforge.data.readers import read_npz

    return read_npz(
        params.path,
        x_key=params.x_key,
        y_key=params.y_key,
        x_test_key=params.x_test_key,
        y_test_key=params.y_test_key,
        task=params.task,
    )


_TOYS = {
    "iris": "iris flowers (scikit-learn): 150 × 4 features, 3 classes",
    "digits": "handwritten digits (scikit-learn): 1,797 images of 8×8, 10 classes",
    "wine": "wine recognition (scikit-learn): 178 × 13 features, 3 classes",
    "breast_cancer": "breast cancer Wisconsin (scikit-learn): 569 × 30 features, 2 classes",
    "diabetes": "diabetes progression (scikit-learn): 442 × 10 features, regression",
}

DATASETS = [
    *(DatasetType(name, NoParams, _toy(name), description) for name, description in _TOYS.items()),
    DatasetType(
        "fashion_mnist",
        FashionMnistParams,
        _fashion_mnist,
        "Fashion-MNIST from the Keras cache files: 60,000 + 10,000 (official test split) images of 28×28, 10 classes",
    ),
    DatasetType(
        "california_housing",
        CaliforniaParams,
        _california_housing,
        "California housing from scikit-learn's cache: 20,640 × 8 features, regression",
    ),
    DatasetType("csv", CsvParams, _csv, "a numeric CSV file: target column(s) by name or index"),
    DatasetType("npz", NpzParams, _npz, "arrays saved with np.savez (never pickled)"),
]


@hookimpl
def register_datasets(register):
    for dataset in DATASETS:
        register(dataset)
