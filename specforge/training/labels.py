"""Predictions people can read: which outputs are classes, and the columns they become.

A classification output (its loss takes classes, or the data set's task is
classification and the output learns the whole target, as the perceptron's one-hot
step units do) becomes a predicted-class column holding the class names and one
probability column per class named after it; a regression output becomes one column
per target, named after the target.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np


def output_is_classes(output: Any, info: Any) -> bool:
    """Whether ``output``'s targets are classes: the loss says so, or the data set's task
    is classification and the output learns its (one) class target."""
    if output.classification:
        return True
    return info.task == "classification" and info.targets.get(output.name) is None


def class_names_for(info: Any, k: int) -> list[str]:
    """The data set's class names when there are ``k`` of them, else ``"0" .. "k-1"``."""
    names = list(info.class_names or [])
    return names if len(names) == k else [str(c) for c in range(k)]


def class_indices(values: np.ndarray) -> np.ndarray:
    """Class indices from labels, one-hot rows, probabilities or a sigmoid column."""
    a = np.asarray(values)
    if a.ndim == 1:
        return a.astype(np.int64) if a.dtype.kind in "iub" else (a > 0.5).astype(np.int64)
    flat = a.reshape(len(a), -1)
    if flat.shape[1] == 1:
        col = flat[:, 0]
        return col.astype(np.int64) if col.dtype.kind in "iub" else (col > 0.5).astype(np.int64)
    return np.argmax(flat, axis=1)


@dataclass
class Column:
    """One column of a prediction table: text (class names) or numbers."""

    name: str
    values: np.ndarray


def prediction_columns(graph: Any, info: Any, preds: dict[str, Any], rows: int) -> list[Column]:
    """The prediction table of ``preds``, output by output in the spec's order.

    One output: ``class``, ``prob_<class>`` ... (classification) or the target names
    (regression). Several outputs: the same names prefixed with ``<output>_``.
    """
    several = len(graph.outputs) > 1
    columns: list[Column] = []
    for o in graph.outputs:
        p = np.asarray(preds[o.name]).reshape(rows, -1)
        if p.dtype.kind != "f":
            p = p.astype(np.float64)
        prefix = f"{o.name}_" if several else ""
        if output_is_classes(o, info):
            probs = np.concatenate([1.0 - p, p], axis=1) if p.shape[1] == 1 else p
            names = class_names_for(info, probs.shape[1])
            picked = class_indices(p)
            columns.append(Column(f"{prefix}class", np.asarray(names)[picked]))
            columns += [Column(f"{prefix}prob_{n}", probs[:, j]) for j, n in enumerate(names)]
        else:
            cols = info.targets.get(o.name)
            targets = (
                [info.target_names[c] for c in cols]
                if cols is not None
                else list(info.target_names)
            )
            if len(targets) != p.shape[1]:
                targets = (
                    [o.name] if p.shape[1] == 1 else [f"{o.name}_{k}" for k in range(p.shape[1])]
                )
            names = [f"{prefix}{t}" for t in targets]
            columns += [Column(n, p[:, j]) for j, n in enumerate(names)]
    return columns


FORMATS = ("csv", "json", "npz")


def format_of(path: str, given: str | None) -> str:
    """The table format: ``given``, else the file suffix, else CSV."""
    if given:
        return given
    suffix = path.rsplit(".", 1)[-1].lower() if "." in path else ""
    return suffix if suffix in FORMATS else "csv"


def _cell(v: Any) -> str:
    """A value as text: class names as they are, numbers in the shortest form that reads
    back as the same value of their own precision (float32 outputs stay short)."""
    return str(v) if isinstance(v, (str, np.str_)) else str(np.asarray(v)[()])


def _json(v: Any) -> Any:
    return str(v) if isinstance(v, (str, np.str_)) else float(_cell(v))


def write_table(path: Any, columns: Sequence[Column], fmt: str) -> None:
    """Write the table atomically as CSV, JSON records or an npz of named arrays."""
    import csv
    import io
    import json

    from ..atomic import atomic_path

    rows = len(columns[0].values) if columns else 0
    with atomic_path(path) as tmp:
        if fmt == "npz":
            with open(tmp, "wb") as fh:
                np.savez(fh, **{c.name: np.asarray(c.values) for c in columns})
        elif fmt == "json":
            records = [{c.name: _json(c.values[i]) for c in columns} for i in range(rows)]
            tmp.write_text(json.dumps(records, indent=1) + "\n", encoding="utf-8")
        else:
            buf = io.StringIO()
            w = csv.writer(buf, lineterminator="\n")
            w.writerow([c.name for c in columns])
            for i in range(rows):
                w.writerow([_cell(c.values[i]) for c in columns])
            tmp.write_text(buf.getvalue(), encoding="utf-8")
