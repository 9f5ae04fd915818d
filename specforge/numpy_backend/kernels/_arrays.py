"""Array helpers every kernel family shares: Keras's dtype and rank conventions.

Arrays keep the floating dtype they come in with (float32 in practice); integer
inputs are promoted to float32 (Keras's ``floatx``). Constants elsewhere are Python
floats so that NumPy's NEP 50 "weak scalar" rules keep the array dtype, as TF does.
"""

from __future__ import annotations

from typing import Any

import numpy as np

Array = np.ndarray


def as_float(x: Any) -> Array:
    """View ``x`` as a floating array; non-float input becomes float32 (Keras's floatx)."""
    if type(x) is np.ndarray and x.dtype.kind == "f":  # the common case, once per op
        return x
    x = np.asarray(x)
    if not np.issubdtype(x.dtype, np.floating):
        x = x.astype(np.float32)
    return x


def squeeze_or_expand(y_true: Array, y_pred: Array) -> tuple[Array, Array]:
    """keras.losses.loss.squeeze_or_expand_to_same_rank: fix a trailing size-1 rank mismatch."""
    rt, rp = y_true.ndim, y_pred.ndim
    if rt == rp + 1 and y_true.shape[-1] == 1:
        if rp == 1:
            y_pred = y_pred[..., None]
        else:
            y_true = y_true[..., 0]
    elif rp == rt + 1 and y_pred.shape[-1] == 1:
        if rt == 1:
            y_true = y_true[..., None]
        else:
            y_pred = y_pred[..., 0]
    return y_true, y_pred


def align_targets(y_true: Any, y_pred: Any) -> tuple[Array, Array]:
    """``y_pred`` as float, ``y_true`` cast to its dtype and rank; a shape mismatch is an error."""
    y_pred = as_float(y_pred)
    y_true = np.asarray(y_true).astype(y_pred.dtype, copy=False)
    t, p = squeeze_or_expand(y_true, y_pred)
    if t.shape != p.shape:
        raise ValueError(
            f"y_true shape {y_true.shape} is incompatible with y_pred shape {y_pred.shape}"
        )
    return t, p
