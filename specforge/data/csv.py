"""Read a numeric table from a CSV file into a :class:`~specforge.data.dataset.Dataset`.

The numbers are parsed by pandas' C parser (measured against pyarrow's CSV
reader in docs/benchmarks.md: as fast or faster here, and far less memory when
streamed in chunks). Every problem is a :class:`~specforge.data.dataset.DataError`
located by line and column, with a fix: a typo in a column name gets a
did-you-mean, a file with one column a guess at its real delimiter. pandas
does not say where a bad cell is, so when it fails or a row looks wrong the
rows concerned are read again with the ``csv`` module
(:mod:`specforge.data.csv_rows`) to find the line and column.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import numpy as np

from ..diagnostics import did_you_mean
from .csv_rows import first_row, iter_rows, line_of, not_utf8
from .dataset import DataError, Dataset, PathLike, check_finite, check_task, require_file

__all__ = ["MISSING_MARKERS", "read_csv", "read_feature_chunks"]

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

    def _delimiter_help(self) -> str:
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
                    help="indices are 0-based; negative ones count from the end"
                    + self._delimiter_help(),
                )
            return j % n
        if not self.header:
            if re.fullmatch(r"-?\d+", spec.strip()):
                return self.index(int(spec), role)
            raise DataError(
                f"{role} column {spec!r} cannot be found by name: header=False, "
                "so columns have no names",
                help="use 0-based column indices, or header=True if the first "
                "line holds column names",
            )
        hits = [j for j, name in enumerate(self.names) if name == spec]
        if len(hits) > 1:
            raise DataError(
                f"{role} column name {spec!r} is ambiguous: {self.path} has it at indices {hits}",
                help="select the column by its 0-based index instead",
            )
        if hits:
            return hits[0]
        suggestion = did_you_mean(spec, self.names)
        guess = f"; {suggestion}" if suggestion else ""
        shown = ", ".join(repr(nm) for nm in self.names[:30])
        if n > 30:
            shown += ", ..."
        raise DataError(
            f"{role} column {spec!r} not found in {self.path}{guess}",
            help=f"the header has {n} column(s): {shown}" + self._delimiter_help(),
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
                        help="slices are Python-style 'start:stop' over 0-based column indices",
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


def _is_label(cell: str) -> bool:
    try:
        _parse_cell(cell)
    except ValueError:
        return True
    return False


#: Every capitalisation of the missing markers: pandas compares them as written.
_NA_SPELLINGS = sorted(
    {
        "".join(chars)
        for marker in MISSING_MARKERS
        for chars in itertools.product(*((c.lower(), c.upper()) for c in marker))
    }
)


def _pandas_csv(
    path: str,
    *,
    delimiter: str,
    header: bool,
    width: int,
    floats: Iterable[int],
    na_values: Sequence[str] | None,
    chunksize: int | None = None,
) -> Any:
    """pandas' C parser on ``path``: columns ``floats`` as float64 (``na_values``, or
    pandas' own NaN markers if None, read as NaN), the others as text, nothing
    else counted as missing. Every column is read, so that a row with too many
    fields is an error and not silently cut."""
    import pandas as pd

    floats = set(floats)
    dtype = {j: ("float64" if j in floats else object) for j in range(width)}
    options: dict[str, Any] = {}
    if na_values is None:
        options["na_filter"] = True
    else:
        options["keep_default_na"] = False
        options["na_values"] = {j: (list(na_values) if j in floats else []) for j in range(width)}
    return pd.read_csv(
        path,
        sep=delimiter,
        header=0 if header else None,
        names=list(range(width)),
        dtype=dtype,
        skip_blank_lines=True,
        skipinitialspace=True,
        encoding="utf-8-sig",
        engine="c",
        chunksize=chunksize,
        **options,
    )


def _parser_failures() -> tuple[type[BaseException], ...]:
    """What pandas raises for a table it cannot read as asked: located by a second look."""
    import pandas as pd

    return (ValueError, pd.errors.ParserError)


def _data_rows(
    path: str, delimiter: str, header: bool, rows: set[int] | None
) -> Iterator[tuple[int, int, list[str]]]:
    """(row index, line, cells) of the data rows, all or those in ``rows``."""
    last = None if rows is None else max(rows, default=-1)
    it = iter_rows(path, delimiter)
    try:
        if header:
            next(it, None)
        for i, (line, row) in enumerate(it):
            if last is not None and i > last:
                return
            if rows is None or i in rows:
                yield i, line, row
    finally:
        it.close()


def _cannot_parse(path: str, exc: BaseException) -> DataError:
    """pandas failed where the ``csv`` module saw nothing wrong: say what pandas said."""
    message = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
    return DataError(
        f"{path} cannot be read as a CSV table: {message}",
        help="check the delimiter, the quoting, and that every value is a plain number",
    )


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
    check_task(task)
    if missing not in _MISSING_MODES:
        raise ValueError(f"missing must be one of {_MISSING_MODES}, got {missing!r}")
    p = require_file(path, "CSV file")
    first = first_row(p, delimiter)
    if first is None:
        raise DataError(f"{p} is empty", help="the file has no rows at all")
    header_line, first_cells = first
    if header:
        names = [c.strip() or f"col{j}" for j, c in enumerate(first_cells)]
    else:
        names = [f"col{j}" for j in range(len(first_cells))]
    width = len(names)
    expected = "as in the header" if header else "as in the first row"

    def ragged(line: int, row: list[str]) -> DataError:
        return DataError(
            f"{p}: line {line} has {len(row)} field(s), expected {width} ({expected})",
            help=f"look for an unquoted {delimiter!r} inside a value, a missing "
            "or extra field, or a wrong delimiter (pass delimiter=...)",
        )

    def check_ragged(rows: set[int] | None) -> None:
        for _, line, row in _data_rows(p, delimiter, header, rows):
            if len(row) != width:
                raise ragged(line, row)

    cols = _Columns(names, header, p, delimiter)
    t_idx: list[int] = [] if target is None else cols.select(target, "target")
    f_idx = (
        [j for j in range(width) if j not in t_idx]
        if features is None
        else cols.select(features, "feature")
    )
    overlap = [cols.label(j) for j in f_idx if j in t_idx]
    if overlap:
        raise DataError(
            f"{', '.join(overlap)} is both a feature and the target",
            help="a target column must not also be an input; remove it from features",
        )
    if not f_idx:
        raise DataError(
            f"no feature columns selected in {p}",
            help="pass features=... naming at least one column that is not a target",
        )

    def report_missing(line: int, j: int, value: str) -> DataError:
        return DataError(
            f"{p}: line {line}, {cols.label(j)} has a missing value ({value!r})",
            help="fill it in, or pass missing='drop' to drop such rows or "
            "missing='mean' to impute feature column means",
        )

    def check_labels(categorical: bool, first_label: str | None) -> None:
        if not categorical:
            return
        if len(t_idx) > 1:
            raise DataError(
                f"target columns of {p} hold non-numeric labels; only a single "
                "target column may hold class labels",
                help="use one label column as the target",
            )
        if task == "regression":
            raise DataError(
                f"target {cols.label(t_idx[0])} of {p} holds non-numeric labels "
                f"(e.g. {(first_label or '').strip()!r}); it cannot be a regression target",
                help="drop task='regression' to treat it as classification",
            )

    def check_cells(rows: set[int] | None, categorical: bool) -> None:
        """The first bad cell of ``rows`` (all if None), in row order: the located error."""
        for _, line, row in _data_rows(p, delimiter, header, rows):
            for j in f_idx:
                cell = row[j]
                try:
                    v = _parse_cell(cell)
                except ValueError:
                    raise DataError(
                        f"{p}: line {line}, {cols.label(j)} has a non-numeric value {cell.strip()!r}",
                        help="features must be numbers; if this column is categorical, "
                        "encode it numerically or leave it out of features",
                    ) from None
                if v is None:
                    if missing == "error":
                        raise report_missing(line, j, cell)
                elif math.isinf(v):
                    raise DataError(
                        f"{p}: line {line}, {cols.label(j)} has an infinite value {cell.strip()!r}",
                        help="features must be finite numbers",
                    )
            for j in t_idx:
                cell = row[j]
                if categorical:
                    is_missing = not cell.strip()
                else:
                    v = _parse_cell(cell)
                    is_missing = v is None
                    if v is not None and math.isinf(v):
                        raise DataError(
                            f"{p}: line {line}, {cols.label(j)} has an infinite target "
                            f"value {cell.strip()!r}",
                            help="targets must be finite numbers",
                        )
                if is_missing and missing == "error":
                    raise report_missing(line, j, cell)

    try:
        table = _pandas_csv(
            p,
            delimiter=delimiter,
            header=header,
            width=width,
            floats=f_idx,
            na_values=_NA_SPELLINGS,
        )
    except UnicodeDecodeError as exc:
        raise not_utf8(p, exc) from exc
    except OSError as exc:
        raise DataError(f"cannot read {p}: {exc.strerror or exc}") from exc
    except _parser_failures() as exc:
        # Say where, exactly as a cell-by-cell reader would: ragged rows first.
        check_ragged(None)
        labels = [row[j] for _, _, row in _data_rows(p, delimiter, header, None) for j in t_idx]
        first_label = next((c for c in labels if _is_label(c)), None)
        check_labels(first_label is not None, first_label)
        check_cells(None, first_label is not None)
        raise _cannot_parse(p, exc) from exc

    n = len(table)
    if n == 0:
        if header:
            raise DataError(
                f"{p} has a header (line {header_line}) but no data rows",
                help="pass header=False if the first line is data",
            )
        raise DataError(f"{p} is empty", help="the file has no rows at all")
    x = table[f_idx].to_numpy(dtype=np.float64, copy=True)
    texts = {j: table[j].to_numpy(dtype=object) for j in t_idx}
    last = table[width - 1]
    del table

    # Is the target categorical? Decided on all present values first, so that
    # one stray label does not silently turn a column into NaNs.
    first_label = next((c for j in t_idx for c in texts[j] if _is_label(c)), None)
    categorical = first_label is not None
    y_num = np.empty((n, len(t_idx)), dtype=np.float64)
    y_labels: list[str] = []
    target_missing = np.zeros(n, dtype=bool)
    suspects = np.zeros(n, dtype=bool)
    if categorical and len(t_idx) == 1:
        y_labels = [c.strip() for c in texts[t_idx[0]]]
        target_missing = np.array([not label for label in y_labels], dtype=bool)
    elif not categorical:
        for k, j in enumerate(t_idx):
            values = [_parse_cell(c) for c in texts[j]]
            column = np.array([np.nan if v is None else v for v in values], dtype=np.float64)
            y_num[:, k] = column
            target_missing |= np.isnan(column)
            suspects |= np.isinf(column)
    x_missing = np.isnan(x)
    row_missing = x_missing.any(axis=1)
    # A row with too few fields reads as missing values at its end.
    short = last.isna().to_numpy() if width - 1 in f_idx else (last == "").to_numpy()
    suspects |= np.isinf(x).any(axis=1) | short
    if missing == "error":
        suspects |= row_missing | target_missing
    rows = set(np.flatnonzero(suspects).tolist()) if suspects.any() else set()
    if rows:
        check_ragged(rows)
    check_labels(categorical, first_label)
    if rows:
        check_cells(rows, categorical)

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
                help="leave that column out of features",
            )
        sums = np.where(present, x[keep], 0.0).sum(axis=0)
        means = sums / counts
        x = np.where(x_missing, means[None, :], x)
    if not keep.any():
        raise DataError(
            f"{p}: every row has a missing value, nothing is left after dropping them",
            help="use missing='mean' to impute features, or fix the file",
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
                help="use one label column as the target",
            )
        vals = y_num[:, 0]
        if not np.all(vals == np.round(vals)):
            bad_i = int(np.flatnonzero(vals != np.round(vals))[0])
            line = line_of(p, delimiter, int(np.flatnonzero(keep)[bad_i]), header=header)
            raise DataError(
                f"target {cols.label(t_idx[0])} of {p} holds non-integer value "
                f"{float(vals[bad_i]):g} (line {line}); "
                "classification needs class labels",
                help="drop task='classification' to treat it as regression",
            )
        uniq = np.unique(vals)
        class_names = [str(int(u)) for u in uniq]
        y = np.searchsorted(uniq, vals).astype(np.int64)
        return Dataset(x32, y, feature_names, target_names, "classification", class_names)
    y = y_num[:, 0] if len(t_idx) == 1 else y_num
    return Dataset(x32, y.astype(np.float32), feature_names, target_names, "regression", None)


# ---------------------------------------------------------------- predict's input


def _numeric(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def read_feature_chunks(
    path: PathLike, names: Sequence[str], *, chunk_rows: int = 65536, delimiter: str = ","
) -> Iterator[np.ndarray]:
    """The features of a CSV to predict on, ``chunk_rows`` rows (float32) at a time.

    A header is optional: a first row without any number in it is one, and if
    it names every feature in ``names`` the features are picked by name, in
    that order. Memory stays at one chunk whatever the file's size. A bad cell
    is a DataError naming its line and column (an empty cell, text); a ``nan``
    or ``inf`` cell (or a number too large for float32) is read as NaN or
    infinity, for the caller to refuse by sample.
    """
    p = str(path)
    first = first_row(p, delimiter)
    if first is None:
        raise DataError(f"{p} is empty", help="write one row of feature values per sample")
    _, row0 = first
    header = not any(_numeric(c) for c in row0)
    width = len(row0)
    order: list[int] | None = None
    if header:
        heads = [c.strip() for c in row0]
        if all(n in heads for n in names):
            order = [heads.index(n) for n in names]  # pick the features by name

    def check_rows(rows: set[int] | None) -> None:
        for _, line, row in _data_rows(p, delimiter, header, rows):
            if len(row) != width:
                raise DataError(
                    f"{p}: line {line} has {len(row)} values, the first row has {width}"
                )
            for k, j in enumerate(order or range(width)):
                cell = row[j]
                if not cell.strip():
                    raise DataError(
                        f"{p}: line {line}, column {k + 1} is empty",
                        help="every feature needs a value",
                    )
                if not _numeric(cell):
                    raise DataError(
                        f"{p}: line {line}, column {k + 1}: {cell.strip()!r} is not a number"
                    )

    try:
        chunks = _pandas_csv(
            p,
            delimiter=delimiter,
            header=header,
            width=width,
            floats=range(width),
            na_values=None,
            chunksize=chunk_rows,
        )
    except UnicodeDecodeError as exc:
        raise not_utf8(p, exc) from exc
    except OSError as exc:
        raise DataError(f"cannot read {p}: {exc.strerror or exc}") from exc
    start = 0
    with chunks:
        while True:
            try:
                frame = next(chunks)
            except StopIteration:
                break
            except UnicodeDecodeError as exc:
                raise not_utf8(p, exc) from exc
            except _parser_failures() as exc:
                check_rows(None)
                raise _cannot_parse(p, exc) from exc
            with np.errstate(over="ignore"):  # too large for float32: inf, refused by sample
                x = frame.to_numpy(dtype=np.float32)
            del frame
            if order is not None:
                x = x[:, order]
            bad = ~np.isfinite(x).all(axis=1)
            if bad.any():  # an empty cell, text pandas read as NaN, a short row
                check_rows({start + int(i) for i in np.flatnonzero(bad)})
            start += len(x)
            yield x
    if start == 0:
        if header:
            raise DataError(
                f"{p} has a header but no samples",
                help="write one row of feature values per sample",
            )
        raise DataError(f"{p} is empty", help="write one row of feature values per sample")
