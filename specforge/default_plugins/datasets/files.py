"""``csv`` and ``npz``: a data file the spec names.

The parameters mirror :func:`specforge.data.csv.read_csv` and
:func:`specforge.data.npz.read_npz`, which do the reading (imported inside
the loaders, with numpy). Both read text or ``allow_pickle=False`` arrays: a
spec's data file never runs code.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from specforge.plugin import Dataset, DatasetType, Params

__all__ = ["DATASETS", "CsvParams", "NpzParams"]

#: A parameter holding a file: specforge resolves it against the spec's directory.
PATH = {"format": "path"}
Column = int | str
Task = Literal["classification", "regression"]


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


def load_csv(params: CsvParams) -> Dataset:
    from specforge.data.csv import read_csv

    return read_csv(
        params.path,
        target=params.target,
        features=params.features,
        delimiter=params.delimiter,
        header=params.header,
        missing=params.missing,
        task=params.task,
    )


def load_npz(params: NpzParams) -> Dataset:
    from specforge.data.npz import read_npz

    return read_npz(
        params.path,
        x_key=params.x_key,
        y_key=params.y_key,
        x_test_key=params.x_test_key,
        y_test_key=params.y_test_key,
        task=params.task,
    )


DATASETS = [
    DatasetType(
        "csv", CsvParams, load_csv, "a numeric CSV file: target column(s) by name or index"
    ),
    DatasetType("npz", NpzParams, load_npz, "arrays saved with np.savez (never pickled)"),
]
