"""``csv`` and ``npz``: a data file the spec names, local (``path:``) or downloaded (``url:``).

The parameters mirror :func:`specforge.data.csv.read_csv` and
:func:`specforge.data.npz.read_npz`, which do the reading (imported inside
the loaders, with numpy). Both read text or ``allow_pickle=False`` arrays: a
spec's data file never runs code. A ``url:`` needs the file's ``sha256:``
(checked at ``validate`` time): the file is downloaded once into the cache,
under that checksum (:mod:`specforge.data.fetch`).
"""

from __future__ import annotations

import os
import posixpath
import re
import urllib.parse
from typing import Literal

from pydantic import ConfigDict, Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from specforge.plugin import DataError, Dataset, DatasetType, Params

__all__ = ["DATASETS", "CsvParams", "FileSource", "NpzParams", "data_file"]

#: A parameter holding a file: specforge resolves it against the spec's directory.
PATH = {"format": "path"}
Column = int | str
Task = Literal["classification", "regression"]

_SHA256 = re.compile(r"^[0-9a-fA-F]{64}$")
_SHA256_HELP = "compute it with `sha256sum FILE` (or `shasum -a 256 FILE`) on a copy you trust"


class FileSource(Params):
    """Where a data file comes from: ``path`` (a local file) or ``url`` with its ``sha256``."""

    model_config = ConfigDict(
        json_schema_extra={"oneOf": [{"required": ["path"]}, {"required": ["url", "sha256"]}]}
    )

    path: str | None = Field(
        None,
        json_schema_extra=PATH,
        min_length=1,
        description="The local file (or give url and sha256).",
    )
    sha256: str | None = Field(
        None,
        json_schema_extra={"pattern": "^[0-9a-fA-F]{64}$"},
        description="SHA-256 of the file, 64 hex digits: required with url; with path, "
        "the file is checked against it.",
    )
    url: str | None = Field(
        None,
        validate_default=True,
        json_schema_extra={"format": "uri", "pattern": "^https?://"},
        description="http(s) URL of the file, downloaded on first use into the cache "
        "($SPECFORGE_DATA_HOME or ~/.specforge/datasets) under its sha256.",
    )

    @field_validator("sha256")
    @classmethod
    def _hex_digest(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not _SHA256.match(value):
            raise PydanticCustomError(
                "sha256",
                "has a 'sha256' that is not a SHA-256 digest (64 hexadecimal digits)",
                {"help": _SHA256_HELP},
            )
        return value.lower()

    @field_validator("url")
    @classmethod
    def _one_source(cls, value: str | None, info: ValidationInfo) -> str | None:
        if "path" not in info.data or "sha256" not in info.data:
            return value  # path or sha256 is invalid, and reported as such
        path, sha256 = info.data["path"], info.data["sha256"]
        if value is None:
            if path is None:
                raise PydanticCustomError(
                    "missing_source",
                    "needs 'path' (a local file) or 'url' (a file to download)",
                    {"code": "missing-field", "help": "add 'path:', or 'url:' and 'sha256:'"},
                )
            return None
        if path is not None:
            raise PydanticCustomError(
                "two_sources",
                "gives both 'path' and 'url': a file comes from one of them",
                {
                    "help": "keep 'path:' for a local file, "
                    "or 'url:' (with 'sha256:') to download it"
                },
            )
        if urllib.parse.urlsplit(value).scheme not in ("http", "https"):
            raise PydanticCustomError(
                "url_scheme",
                "has a 'url' that does not start with http:// or https://",
                {"help": "for another kind of source, fetch the file yourself and give 'path:'"},
            )
        if sha256 is None:
            raise PydanticCustomError(
                "missing_sha256",
                "gives 'url' without 'sha256': a downloaded file is checked against it",
                {"code": "missing-field", "help": "add 'sha256:'; " + _SHA256_HELP},
            )
        return value


def data_file(params: FileSource) -> str:
    """The local file ``params`` names: ``path`` (checked against ``sha256`` if given) or ``url``'s
    download."""
    from specforge.data.fetch import RemoteFile, fetch, file_sha256

    if params.url is None:
        assert params.path is not None  # the validators guarantee one source
        if params.sha256 is not None and os.path.isfile(params.path):
            got = file_sha256(params.path)
            if got != params.sha256:
                raise DataError(
                    f"{params.path} failed its checksum: "
                    f"expected SHA-256 {params.sha256}, got {got}",
                    help="the file changed since the spec was written: restore it, or update "
                    "'sha256:' if the change is intended",
                )
        return params.path
    assert params.sha256 is not None
    name = posixpath.basename(urllib.parse.unquote(urllib.parse.urlsplit(params.url).path))
    if not name or name in (".", "..") or os.sep in name or (os.altsep and os.altsep in name):
        name = "data"
    return fetch(RemoteFile(name, params.url, params.sha256), os.path.join("files", params.sha256))


class CsvParams(FileSource):
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
    stream: bool = Field(
        False,
        description="Read the file in chunks, never whole (data larger than memory; "
        "docs/scale-out.md): splits by row hash, scalers fitted in one pass.",
    )
    chunk_rows: int = Field(65_536, gt=0, description="stream: rows read at a time.")


class NpzParams(FileSource):
    x_key: str = Field("x", description="Array of features.")
    y_key: str | None = Field("y", description="Array of targets.")
    x_test_key: str | None = Field(
        None, description="Array of test features: the data set's own test split."
    )
    y_test_key: str | None = Field(None, description="Array of test targets.")
    task: Task | None = Field(
        None, description="Default: classification for integer targets, regression for floats."
    )
    stream: bool = Field(
        False,
        description="Read the arrays in row chunks, never whole (data larger than memory; "
        "docs/scale-out.md): splits by row hash, scalers fitted in one pass.",
    )
    chunk_rows: int = Field(65_536, gt=0, description="stream: rows read at a time.")


def load_csv(params: CsvParams) -> Dataset:
    from specforge.data.csv import read_csv

    if params.stream:
        from specforge.data.dataset import DataError

        raise DataError(
            "a streamed csv (stream: true) is read by specforge train, not loaded whole",
            help="train it (specforge train), or drop stream: true",
        )

    return read_csv(
        data_file(params),
        target=params.target,
        features=params.features,
        delimiter=params.delimiter,
        header=params.header,
        missing=params.missing,
        task=params.task,
    )


def load_npz(params: NpzParams) -> Dataset:
    from specforge.data.npz import read_npz

    if params.stream:
        from specforge.data.dataset import DataError

        raise DataError(
            "a streamed npz (stream: true) is read by specforge train, not loaded whole",
            help="train it (specforge train), or drop stream: true",
        )

    return read_npz(
        data_file(params),
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
