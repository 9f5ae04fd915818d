"""Check what a run directory's JSON files hold before the run is used.

A run directory is user-writable: a hand-edited or damaged ``metrics.json``,
``data.json`` or ``preprocessors.json`` must give a message naming the file and
the key, never a ``TypeError`` from deep inside ``evaluate`` or ``predict``.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from .prepare import DataInfo
from .rundir import RunDirError

_HELP = "the run directory is damaged: train the spec again (or restore the file from a backup)"


def _where(path: Path, keys: tuple[Any, ...]) -> str:
    return f"{path}: " + ("".join(f"[{k!r}]" for k in keys) + " " if keys else "")


def _fail(path: Path, keys: tuple[Any, ...], what: str) -> RunDirError:
    return RunDirError(f"{_where(path, keys)}{what}", _HELP)


def _kind(value: Any) -> str:
    return {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}.get(
        type(value), "null" if value is None else "a number"
    )


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def metrics(path: Path, data: Any) -> dict[str, Any]:
    """``metrics.json``: an object whose ``backend`` and ``status`` are strings."""
    if not isinstance(data, dict):
        raise _fail(path, (), f"should hold a JSON object, not {_kind(data)}")
    for key in ("backend", "status"):
        if key in data and not isinstance(data[key], str):
            raise _fail(path, (key,), f"should be a string, not {_kind(data[key])}")
    for split in ("train", "validation", "test"):
        figures = data.get(split)
        if figures is None:
            continue
        if not isinstance(figures, dict):
            raise _fail(path, (split,), f"should be an object of figures, not {_kind(figures)}")
        for name, value in figures.items():
            if value is not None and (
                not isinstance(value, int | float) or isinstance(value, bool)
            ):
                raise _fail(path, (split, name), f"should be a number, not {_kind(value)}")
    return data


def _list_of(path: Path, keys: tuple[Any, ...], value: Any, test: Any, what: str) -> None:
    if not isinstance(value, list):
        raise _fail(path, keys, f"should be an array of {what}, not {_kind(value)}")
    for i, item in enumerate(value):
        if not test(item):
            raise _fail(path, (*keys, i), f"should be {what[:-1]}, not {_kind(item)}")


def data_info(path: Path, data: Any) -> DataInfo:
    """``data.json``: every field :class:`DataInfo` has, of its type."""
    if not isinstance(data, dict):
        raise _fail(path, (), f"should hold a JSON object, not {_kind(data)}")
    required = ("dataset", "task", "feature_names", "sample_shape", "target_names", "class_names")
    for key in required:
        if key not in data:
            raise _fail(path, (), f"has no '{key}'")
    for key in ("dataset", "task"):
        if not isinstance(data[key], str):
            raise _fail(path, (key,), f"should be a string, not {_kind(data[key])}")
    is_str = lambda v: isinstance(v, str)  # noqa: E731
    _list_of(path, ("feature_names",), data["feature_names"], is_str, "strings")
    _list_of(path, ("target_names",), data["target_names"], is_str, "strings")
    if data["class_names"] is not None:
        _list_of(path, ("class_names",), data["class_names"], is_str, "strings")
    positive = lambda v: _is_int(v) and v > 0  # noqa: E731
    _list_of(path, ("sample_shape",), data["sample_shape"], positive, "positive integers")
    width = math.prod(data["sample_shape"])
    if width != len(data["feature_names"]):
        raise _fail(
            path,
            ("sample_shape",),
            f"holds {width} values per sample, but 'feature_names' names {len(data['feature_names'])}",
        )
    column = lambda v: _is_int(v) and v >= 0  # noqa: E731
    for key in ("feeds", "targets"):
        value = data.get(key, {})
        if not isinstance(value, dict):
            raise _fail(path, (key,), f"should be an object, not {_kind(value)}")
        for name, cols in value.items():
            if key == "targets" and cols is None:
                continue
            _list_of(path, (key, name), cols, column, "column numbers")
    sizes = data.get("sizes", {})
    if not isinstance(sizes, dict) or not all(_is_int(v) for v in sizes.values()):
        raise _fail(path, ("sizes",), "should map each split to its number of samples")
    if not isinstance(data.get("own_test_split", False), bool):
        raise _fail(path, ("own_test_split",), "should be true or false")
    return DataInfo.from_json(data)


def preprocessor_entries(path: Path, entries: Any, steps: int) -> None:
    """``preprocessors.json``: one object with a ``state`` object per ``data.preprocess`` step."""
    if not isinstance(entries, list):
        raise _fail(path, (), f"should hold a JSON array, not {_kind(entries)}")
    if len(entries) != steps:
        raise _fail(
            path,
            (),
            f"holds {len(entries)} fitted preprocessor(s), but the run's spec has {steps} "
            "data.preprocess step(s)",
        )
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise _fail(path, (i,), f"should be an object, not {_kind(entry)}")
        if not isinstance(entry.get("state"), dict):
            raise _fail(path, (i, "state"), f"should be an object, not {_kind(entry.get('state'))}")
