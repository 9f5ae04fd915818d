"""Read a numeric table from a CSV file into a :class:`~specforge.data.dataset.Dataset`.

Every problem is a :class:`~specforge.data.dataset.DataError` located by line
and column, with a fix: a typo in a column name gets a did-you-mean, a file
with one column a guess at its real delimiter.
"""

from __future__ import annotations

import csv
import math
import os
import re
from collections.abc import Sequence

import numpy as np

from ..diagnostics import did_you_mean
from .dataset import DataError, Dataset, PathLike, check_finite, check_task, require_file

__all__ = ["MISSING_MARKERS", "read_csv"]

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
            help="convert the file to UTF-8, or check that it really is a CSV file",
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
    check_task(task)
    if missing not in _MISSING_MODES:
        raise ValueError(f"missing must be one of {_MISSING_MODES}, got {missing!r}")
    p = require_file(path, "CSV file")
    rows, lines = _read_rows(p, delimiter)
    if not rows:
        raise DataError(f"{p} is empty", help="the file has no rows at all")
    if header:
        names = [c.strip() or f"col{j}" for j, c in enumerate(rows[0])]
        header_line = lines[0]
        rows, lines = rows[1:], lines[1:]
        if not rows:
            raise DataError(
                f"{p} has a header (line {header_line}) but no data rows",
                help="pass header=False if the first line is data",
            )
    else:
        names = [f"col{j}" for j in range(len(rows[0]))]
    width = len(names)
    for row, line in zip(rows, lines, strict=True):
        if len(row) != width:
            expected = "as in the header" if header else "as in the first row"
            raise DataError(
                f"{p}: line {line} has {len(row)} field(s), expected {width} ({expected})",
                help=f"look for an unquoted {delimiter!r} inside a value, a missing "
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
            help="a target column must not also be an input; remove it from features",
        )
    if not f_idx:
        raise DataError(
            f"no feature columns selected in {p}",
            help="pass features=... naming at least one column that is not a target",
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
                help="use one label column as the target",
            )
        if task == "regression":
            bad = next(r[t_idx[0]] for r in rows if _is_label(r[t_idx[0]]))
            raise DataError(
                f"target {cols.label(t_idx[0])} of {p} holds non-numeric labels "
                f"(e.g. {bad.strip()!r}); it cannot be a regression target",
                help="drop task='regression' to treat it as classification",
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
            help="fill it in, or pass missing='drop' to drop such rows or "
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
                    help="features must be numbers; if this column is categorical, "
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
                    help="features must be finite numbers",
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
                        help="targets must be finite numbers",
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
            raise DataError(
                f"target {cols.label(t_idx[0])} of {p} holds non-integer value "
                f"{float(vals[bad_i]):g} (line {lines[int(np.flatnonzero(keep)[bad_i])]}); "
                "classification needs class labels",
                help="drop task='classification' to treat it as regression",
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
