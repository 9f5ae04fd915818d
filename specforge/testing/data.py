"""Data conformance: datasets load deterministically, preprocessors fit on training data only.

:func:`check_dataset` validates the parameters and loads the dataset twice;
:func:`check_preprocessor` fits, transforms and round-trips the state through
what a run directory keeps (JSON plus an npz, never pickle).
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Mapping
from typing import Any

from ..plugin import DatasetType, PreprocessorType
from ..registry import Registry, get_registry
from .conformance import ConformanceError, assert_close


def check_dataset(
    dataset_type: DatasetType | str,
    params: Mapping[str, Any] | None = None,
    *,
    registry: Registry | None = None,
) -> Any:
    """Validate ``params``, load the dataset twice and check what comes back. Returns the Dataset."""
    import numpy as np

    from ..data.dataset import Dataset

    reg = registry or get_registry()
    dt = reg.datasets.get(dataset_type) if isinstance(dataset_type, str) else dataset_type
    if dt is None:
        raise ConformanceError(f"dataset '{dataset_type}' is not registered")
    try:
        dt.params_model.model_json_schema()
    except Exception as exc:
        raise ConformanceError(
            f"dataset '{dt.name}': its params model has no JSON Schema ({exc})"
        ) from None
    p = dt.params_model.model_validate(dict(params or {}))
    first, second = dt.load(p), dt.load(p)
    where = f"dataset '{dt.name}' with {dict(params or {})}"
    if not isinstance(first, Dataset):
        raise ConformanceError(
            f"{where}: load() returned {type(first).__name__}, not specforge.plugin.Dataset"
        )
    x, y = first.x, first.y
    if not isinstance(x, np.ndarray) or x.ndim < 2 or len(x) == 0:
        raise ConformanceError(
            f"{where}: x must be a non-empty array of shape (samples, features...), got {getattr(x, 'shape', x)}"
        )
    if not np.issubdtype(x.dtype, np.floating) or not np.all(np.isfinite(x)):
        raise ConformanceError(f"{where}: x must hold finite floats, got dtype {x.dtype}")
    width = math.prod(x.shape[1:])
    if len(first.feature_names) not in (width, x.shape[-1]):
        raise ConformanceError(
            f"{where}: {len(first.feature_names)} feature names for {width} features"
        )
    if y is not None:
        if first.task == "classification":
            if not np.issubdtype(y.dtype, np.integer):
                raise ConformanceError(
                    f"{where}: classification targets must be integer class indices, got {y.dtype}"
                )
            names = first.class_names or []
            if y.min() < 0 or y.max() >= len(names):
                raise ConformanceError(
                    f"{where}: class indices {int(y.min())}..{int(y.max())} do not fit {len(names)} class names"
                )
        elif not np.all(np.isfinite(y)):
            raise ConformanceError(f"{where}: regression targets contain NaN or infinity")
    for a, b, what in (
        (first.x, second.x, "x"),
        (first.y, second.y, "y"),
        (first.x_test, second.x_test, "x_test"),
    ):
        if (a is None) != (b is None) or (a is not None and not np.array_equal(a, b)):
            raise ConformanceError(
                f"{where}: two loads gave different {what}: the loader must be deterministic (seeded)"
            )
    json.dumps(
        {
            "features": first.feature_names,
            "targets": first.target_names,
            "classes": first.class_names,
        }
    )
    return first


# ---------------------------------------------------------------- preprocessors


def _state_round_trip(state: Mapping[str, Any], where: str) -> dict[str, Any]:
    """What a run directory gives back: arrays through an npz (no pickle), the rest through JSON."""
    import numpy as np

    arrays, plain = {}, {}
    for key, value in state.items():
        if not isinstance(key, str):
            raise ConformanceError(f"{where}: state keys must be strings, got {key!r}")
        if isinstance(value, np.ndarray):
            if value.dtype == object:
                raise ConformanceError(
                    f"{where}: state array '{key}' has dtype object (it would need pickle)"
                )
            arrays[key] = value
        else:
            plain[key] = value
    try:
        text = json.dumps(plain, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ConformanceError(
            f"{where}: state is not plain JSON data plus numpy arrays: {exc}"
        ) from None
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    buf.seek(0)
    with np.load(buf, allow_pickle=False) as npz:
        back = {k: npz[k] for k in npz.files}
    return {**json.loads(text), **back}


def check_preprocessor(
    preprocessor_type: PreprocessorType | str,
    params: Mapping[str, Any] | None = None,
    x_train: Any = None,
    x_test: Any = None,
    *,
    registry: Registry | None = None,
    seed: int = 0,
) -> Any:
    """Fit on ``x_train``, transform ``x_test``, round-trip the state; returns the transformed ``x_test``.

    The data default to random normal features (40 × 4 and 15 × 4); give
    your own for a preprocessor that needs particular values (class labels
    for a targets preprocessor).
    """
    import numpy as np

    reg = registry or get_registry()
    pt = (
        reg.preprocessors.get(preprocessor_type)
        if isinstance(preprocessor_type, str)
        else preprocessor_type
    )
    if pt is None:
        raise ConformanceError(f"preprocessor '{preprocessor_type}' is not registered")
    where = f"preprocessor '{pt.name}' with {dict(params or {})}"
    gen = np.random.default_rng(seed)
    if x_train is None:
        x_train = gen.normal(2.0, 3.0, size=(40, 4)).astype(np.float32)
    if x_test is None:
        x_test = gen.normal(-1.0, 0.5, size=(15, *np.shape(x_train)[1:])).astype(
            np.asarray(x_train).dtype
        )
    p = pt.params_model.model_validate(dict(params or {}))
    obj = pt.create(p)
    for method in ("fit", "transform", "get_state", "set_state"):
        if not callable(getattr(obj, method, None)):
            raise ConformanceError(f"{where}: the object create() returns has no {method}()")
    try:
        obj.transform(x_test)
    except Exception:
        pass
    else:
        raise ConformanceError(f"{where}: transform() before fit() must fail, not guess")

    train = np.array(x_train, copy=True)
    obj.fit(train)
    state = obj.get_state()
    if not isinstance(state, Mapping):
        raise ConformanceError(f"{where}: get_state() must return a dict")
    frozen = _state_round_trip(state, where)
    out = np.asarray(obj.transform(np.array(x_test, copy=True)))
    if len(out) != len(x_test):
        raise ConformanceError(
            f"{where}: transform() changed the number of samples ({len(x_test)} → {len(out)})"
        )
    if np.issubdtype(out.dtype, np.floating) and not np.all(np.isfinite(out)):
        raise ConformanceError(f"{where}: transform() produced NaN or infinity")
    # Fit on train only: transforming other data must not change what was learnt ...
    after = _state_round_trip(obj.get_state(), where)
    for key in frozen:
        if not np.array_equal(np.asarray(frozen[key]), np.asarray(after[key])):
            raise ConformanceError(
                f"{where}: transform() changed the fitted state '{key}': fit must see the training data only"
            )
    # ... nor must the training array, changed after fit, reach the state.
    train[...] = 0
    again = np.asarray(obj.transform(np.array(x_test, copy=True)))
    if not np.array_equal(again, out):
        raise ConformanceError(
            f"{where}: the fitted state refers to the training array instead of copying what it learnt"
        )
    fresh = pt.create(p)
    fresh.set_state(frozen)
    restored = np.asarray(fresh.transform(np.array(x_test, copy=True)))
    assert_close(
        f"{where}: output after the state's JSON/npz round trip", restored, out, rtol=1e-7, atol=0
    )
    return out
