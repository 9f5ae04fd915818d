"""The chapter's figure of activation functions and their derivatives, from the NumPy backend.

Both panels come from the NumPy lowerings registered for each activation: the left
one from ``forward(x)``, the right one from ``backward(x, y, 1)``, the derivative the
backend trains with. A wrong derivative shows up as a curve that is not the slope of
its neighbour, which is what ``tests/cli/test_plot.py`` checks numerically.

matplotlib is imported inside :func:`activations_figure` only, and no pyplot state is
touched (the figure has its own Agg canvas).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .lowering import BACKEND

#: The chapter's four: step, logistic, tanh, ReLU.
DEFAULT_ACTIVATIONS = ("heaviside", "sigmoid", "tanh", "relu")
#: Figure size in inches and resolution: the PNG is 1000 × 500 pixels.
FIGSIZE = (10.0, 5.0)
DPI = 100
#: x from -4 to 4 in steps of 0.01 (801 points, 0 included), as the chapter's axes.
X = np.linspace(-4.0, 4.0, 801)

_LABELS = {"heaviside": "step", "sigmoid": "logistic", "tanh": "tanh", "relu": "ReLU"}
_STYLES = {"heaviside": "r--", "sigmoid": "b--", "tanh": "g--", "relu": "y--"}
_OTHER_STYLES = ("c-", "m-", "k-", "c-.", "m-.", "k-.", "c:", "m:", "k:")


class PlotError(ValueError):
    """An activation that cannot be plotted (unknown, no NumPy lowering, not elementwise)."""


def plottable_activations(registry: Any) -> list[str]:
    """Every activation of ``registry`` with a NumPy lowering that acts elementwise (softmax does not)."""
    reg = registry
    names = sorted(n for (b, k, n) in reg.lowerings if b == BACKEND and k == "activation")
    out = []
    for name in names:
        try:
            activation_curve(name, reg)
        except PlotError:
            continue
        out.append(name)
    return out


def activation_curve(
    name: str, registry: Any, x: np.ndarray = X
) -> tuple[str, np.ndarray, np.ndarray, np.ndarray]:
    """(canonical name, x, f(x), f'(x)) from the NumPy lowering of activation ``name``."""
    reg = registry
    canonical = reg.canonical("activation", name) or name
    impl = reg.lowering(BACKEND, "activation", canonical)
    if impl is None:
        known = ", ".join(
            sorted(n for (b, k, n) in reg.lowerings if b == BACKEND and k == "activation")
        )
        raise PlotError(f"activation '{name}' has no NumPy lowering (known: {known})")
    x = np.asarray(x, dtype=np.float64)
    column = x.reshape(-1, 1)
    y = np.asarray(impl.forward(column), dtype=np.float64)
    dy = np.asarray(impl.backward(column, y, np.ones_like(column)), dtype=np.float64)
    # Elementwise means the same values whichever axis the points lie on.
    row = np.asarray(impl.forward(x.reshape(1, -1)), dtype=np.float64).reshape(-1)
    if y.shape != column.shape or not np.allclose(
        row, y.reshape(-1), rtol=1e-6, atol=1e-9, equal_nan=True
    ):
        raise PlotError(
            f"activation '{canonical}' is not elementwise (it mixes values along the last axis), so it has no curve"
        )
    return canonical, x, y.reshape(-1), dy.reshape(-1)


def _limits(base: tuple[float, float], curves: list[np.ndarray]) -> tuple[float, float]:
    lo, hi = base
    for c in curves:
        finite = c[np.isfinite(c)]
        if finite.size:
            lo = min(lo, max(float(finite.min()) - 0.1, -4.5))
            hi = max(hi, min(float(finite.max()) + 0.1, 4.5))
    return lo, hi


def activations_figure(names: Sequence[str] = DEFAULT_ACTIVATIONS, *, registry: Any) -> Any:
    """A two-panel matplotlib Figure: the activations (left) and their derivatives (right).

    Each curve is a ``Line2D`` whose ``gid`` is the activation's canonical name and
    whose label is the chapter's name for it. Raises :class:`PlotError` for a name
    that cannot be plotted.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    reg = registry
    curves = []
    for name in dict.fromkeys(names):  # keep order, drop repeats
        curves.append(activation_curve(name, reg))
    fig = Figure(figsize=FIGSIZE, dpi=DPI)
    FigureCanvasAgg(fig)
    left, right = fig.subplots(1, 2)
    extra = [c for c in curves if c[0] not in DEFAULT_ACTIVATIONS]
    others = iter(_OTHER_STYLES * (1 + len(curves) // len(_OTHER_STYLES)))
    for canonical, x, y, dy in curves:
        style = _STYLES.get(canonical) or next(others)
        label = _LABELS.get(canonical, canonical)
        left.plot(x, y, style, label=label, gid=canonical)
        right.plot(x, dy, style, label=label, gid=canonical)
    left.axis([-4, 4, *_limits((-1.1, 1.1), [c[2] for c in extra])])
    right.axis([-4, 4, *_limits((-0.1, 1.1), [c[3] for c in extra])])
    for ax, title in (
        (left, "Activation Functions"),
        (right, "Derivatives of Activation Functions"),
    ):
        ax.legend(loc="center right", fontsize=12 if len(curves) <= 6 else 7)
        ax.set_xlabel("$x$", fontsize=12)
        ax.set_ylabel("$y$", fontsize=12)
        ax.set_title(title, fontsize=14)
        ax.grid(True, alpha=0.3)
    fig.tight_layout()
    return fig


def activations_grid(names: Sequence[str], *, registry: Any, columns: int = 4) -> Any:
    """A grid of small panels, one per activation: the function (solid) and its derivative
    (dashed, the chapter's derivative overlay), each panel scaled to its own curves.

    The function's ``Line2D`` has the activation's canonical name as ``gid``, its
    derivative ``<name>'``. Used by ``specforge plot activations --all``, where one axis
    with every curve would be unreadable.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    curves = [activation_curve(name, registry) for name in dict.fromkeys(names)]
    cols = max(1, min(columns, len(curves)))
    rows = max(1, -(-len(curves) // cols))
    fig = Figure(figsize=(2.6 * cols, 2.3 * rows + 0.6), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    axes = list(fig.subplots(rows, cols, squeeze=False).ravel())
    for ax in axes[len(curves) :]:
        fig.delaxes(ax)
    for ax, (canonical, x, y, dy) in zip(axes, curves, strict=False):
        ax.plot(x, y, "b-", linewidth=1.6, label="$f(x)$", gid=canonical)
        ax.plot(x, dy, "r--", linewidth=1.3, label="$f'(x)$", gid=f"{canonical}'")
        ax.set_xlim(-4, 4)
        ax.set_ylim(*_limits((-0.1, 1.1), [y, dy]))
        ax.axhline(0, color="gray", linewidth=0.6)
        ax.axvline(0, color="gray", linewidth=0.6)
        alias = _LABELS.get(canonical, canonical)
        ax.set_title(
            canonical if alias.lower() == canonical else f"{canonical} ({alias})", fontsize=10
        )
        ax.tick_params(labelsize=7)
        ax.grid(True, alpha=0.3)
    if curves:
        axes[0].legend(loc="upper left", fontsize=7)
    fig.suptitle("Activation functions (solid) and their derivatives (dashed)", fontsize=12)
    return fig
