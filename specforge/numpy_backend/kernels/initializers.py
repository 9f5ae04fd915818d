"""Initializer kernels: Keras's weight distributions drawn from a NumPy ``Generator``.

:data:`INITIALIZERS` is keyed by the vocabulary's canonical names (the plugin registry
resolves aliases such as ``GlorotUniform`` before a lowering is looked up).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ._arrays import Array

#: ``(shape, rng, dtype=float32) -> ndarray``: fresh weights of that shape.
InitializerKernel = Callable[..., Array]
_TRUNC_STD = 0.87962566103423978  # std of a unit normal truncated to [-2, 2]


def compute_fans(shape: Sequence[int]) -> tuple[int, int]:
    """Keras's fan rule: Dense (in, out) -> (in, out); conv (..., in, out) x receptive field."""
    shape = tuple(shape)
    if len(shape) < 1:
        return 1, 1
    if len(shape) == 1:
        return int(shape[0]), int(shape[0])
    if len(shape) == 2:
        return int(shape[0]), int(shape[1])
    receptive = math.prod(shape[:-2])
    return int(shape[-2] * receptive), int(shape[-1] * receptive)


def _sample_dtype(dtype: Any) -> type:
    """float32 targets sample in float32 (half the memory); anything else in float64."""
    return np.float32 if np.dtype(dtype) == np.float32 else np.float64


def _normal(
    shape: Sequence[int], rng: np.random.Generator, dtype: Any, stddev: float, truncated: bool
) -> Array:
    sdt = _sample_dtype(dtype)
    z = rng.standard_normal(tuple(shape), dtype=sdt)
    if truncated:  # re-draw anything beyond 2 std, like tf.random.truncated_normal
        bad = np.abs(z) > 2.0
        while bad.any():
            z[bad] = rng.standard_normal(int(bad.sum()), dtype=sdt)
            bad = np.abs(z) > 2.0
    z *= stddev
    return z.astype(dtype, copy=False)


def _uniform(shape: Sequence[int], rng: np.random.Generator, dtype: Any, limit: float) -> Array:
    u = rng.random(tuple(shape), dtype=_sample_dtype(dtype))
    u *= 2.0 * limit
    u -= limit
    return u.astype(dtype, copy=False)


def _variance_scaling(scale: float, mode: str, distribution: str) -> InitializerKernel:
    def init(shape: Sequence[int], rng: np.random.Generator, dtype: Any = np.float32) -> Array:
        fan_in, fan_out = compute_fans(shape)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}[mode]
        s = scale / max(1.0, n)
        if distribution == "uniform":
            return _uniform(shape, rng, dtype, math.sqrt(3.0 * s))
        return _normal(shape, rng, dtype, math.sqrt(s) / _TRUNC_STD, truncated=True)

    return init


#: canonical initializer name -> kernel; what the NumPy backend registers for each name.
INITIALIZERS: dict[str, InitializerKernel] = {
    "glorot_uniform": _variance_scaling(1.0, "fan_avg", "uniform"),
    "glorot_normal": _variance_scaling(1.0, "fan_avg", "truncated_normal"),
    "he_normal": _variance_scaling(2.0, "fan_in", "truncated_normal"),
    "he_uniform": _variance_scaling(2.0, "fan_in", "uniform"),
    "lecun_normal": _variance_scaling(1.0, "fan_in", "truncated_normal"),
    "lecun_uniform": _variance_scaling(1.0, "fan_in", "uniform"),
    "zeros": lambda shape, rng=None, dtype=np.float32: np.zeros(tuple(shape), dtype=dtype),
    "ones": lambda shape, rng=None, dtype=np.float32: np.ones(tuple(shape), dtype=dtype),
    "random_normal": lambda shape, rng, dtype=np.float32: _normal(shape, rng, dtype, 0.05, False),
    "random_uniform": lambda shape, rng, dtype=np.float32: _uniform(shape, rng, dtype, 0.05),
    "truncated_normal": lambda shape, rng, dtype=np.float32: _normal(shape, rng, dtype, 0.05, True),
}
