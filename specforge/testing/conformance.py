"""What every check shares: the failure it raises and how it compares arrays."""

from __future__ import annotations

from typing import Any

#: Default tolerances: NumPy against Keras, and analytic gradients against finite differences.
ATOL = RTOL = 1e-5
FD_RTOL, FD_ATOL = 1e-4, 1e-6


class ConformanceError(AssertionError):
    """A plugin does not do what specforge expects of it; the message says what and where."""


def assert_close(what: str, actual: Any, expected: Any, *, rtol: float, atol: float) -> None:
    """Fail with the worst differing element when ``actual`` is not close to ``expected``."""
    import numpy as np

    actual, expected = np.asarray(actual, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    if actual.shape != expected.shape:
        raise ConformanceError(f"{what}: shape {actual.shape}, expected {expected.shape}")
    if not np.all(np.isfinite(actual)):
        raise ConformanceError(f"{what}: contains NaN or infinity")
    bad = ~np.isclose(actual, expected, rtol=rtol, atol=atol)
    if bad.any():
        diff = np.abs(actual - expected)
        worst = np.unravel_index(int(np.argmax(np.where(bad, diff, -1))), actual.shape)
        raise ConformanceError(
            f"{what}: {int(bad.sum())} of {actual.size} values differ beyond rtol={rtol:g}, atol={atol:g}; "
            f"worst at {tuple(int(i) for i in worst)}: {actual[worst]!r} vs {expected[worst]!r} "
            f"(max abs diff {float(diff.max()):.3g})"
        )
