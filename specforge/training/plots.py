"""The chapter's figures: learning curves, predicted versus actual, confusion matrices.

Figures are built on :class:`matplotlib.figure.Figure` with the Agg canvas,
never through pyplot: no global state, no display needed, nothing shown.
matplotlib is imported when a figure is made (never by ``validate``). Each
function returns the Figure, so tests can read titles and axis labels;
:func:`save` writes it atomically.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..atomic import atomic_path
from .labels import class_indices

__all__ = ["class_indices", "learning_curves", "predictions", "save"]

_COLORS = [
    "tab:blue",
    "tab:orange",
    "tab:green",
    "tab:red",
    "tab:purple",
    "tab:brown",
    "tab:pink",
    "tab:gray",
]


def _figure(width: float, height: float) -> Any:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def save(fig: Any, path: str | os.PathLike[str], *, dpi: int = 100) -> None:
    """Write ``fig`` as a PNG, atomically."""
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=dpi, format="png")


def _metric_of(key: str, outputs: Sequence[str]) -> tuple[str, str]:
    """'val_aux_output_loss' → ('loss', 'aux_output'); 'accuracy' → ('accuracy', '')."""
    base = key.removeprefix("val_")
    for name in sorted(outputs, key=len, reverse=True):
        if len(outputs) > 1 and base.startswith(f"{name}_"):
            return base[len(name) + 1 :], name
    return base, ""


def _panels(keys: Sequence[str], outputs: Sequence[str]) -> dict[str, list[str]]:
    """Panel title → history keys: the total loss, one panel per output's loss when
    there are several outputs (the chapter's main versus auxiliary figure), then one
    panel per metric."""
    groups: dict[str, list[str]] = {}
    for key in keys:
        metric, output = _metric_of(key, outputs)
        title = metric if metric != "loss" else f"{output} loss" if output else "loss"
        groups.setdefault(title, []).append(key)
    losses = [g for g in groups if g == "loss"] + [g for g in groups if g.endswith(" loss")]
    return {g: groups[g] for g in [*losses, *(g for g in groups if g not in losses)]}


def key_colors(keys: Sequence[str]) -> dict[str, str]:
    """One colour per history key, fixed by its place in ``keys`` (the spec's order):
    a validation key takes its training key's colour."""
    bases = list(dict.fromkeys(k.removeprefix("val_") for k in keys))
    return {k: _COLORS[bases.index(k.removeprefix("val_")) % len(_COLORS)] for k in keys}


def learning_curves(
    history: Mapping[str, Sequence[float]],
    title: str,
    outputs: Sequence[str] = (),
    marks: Sequence[tuple[int, str]] = (),
) -> Any:
    """Every history key against the epoch: the loss, each output's loss (with several
    outputs), then one panel per metric.

    ``history`` comes in the spec's order (every backend), which fixes each key's
    colour. Training curves are solid, validation curves dashed in the same colour,
    as in the chapter's ``pd.DataFrame(history.history).plot()``; epochs are whole
    numbers; ``marks`` are (epoch, label) vertical lines, e.g. the restored best epoch.
    """
    from matplotlib.ticker import MaxNLocator

    groups = _panels(list(history), outputs)
    names = list(groups)
    colors = key_colors(list(history))
    ncols = min(len(names), 3) or 1
    nrows = max(1, -(-len(names) // ncols))
    fig = _figure(max(6.0, 5.0 * ncols), 4.0 * nrows + 0.5)
    axes = list(fig.subplots(nrows, ncols, squeeze=False).ravel())
    for ax in axes[max(len(names), 1) :]:
        fig.delaxes(ax)
    for ax, group in zip(axes, names, strict=False):
        series = [k for k in groups[group] if not k.startswith("val_")] + [
            k for k in groups[group] if k.startswith("val_")
        ]
        for key in series:
            values = np.asarray(history[key], dtype=float)
            epochs = np.arange(1, len(values) + 1)
            ax.plot(
                epochs,
                values,
                "--" if key.startswith("val_") else "-",
                color=colors[key],
                marker="o" if len(values) < 3 else None,
                label=key,
            )
        for epoch, label in marks:
            ax.axvline(epoch, color="black", linestyle=":", linewidth=1.2, label=label)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("epoch")
        ax.set_ylabel(group.rsplit(" ", 1)[-1] if group.endswith(" loss") else group)
        ax.set_title(group)
        ax.grid(True, alpha=0.3)
        if series:
            ax.legend(loc="best", fontsize="small")
    if not names:
        axes[0].text(
            0.5, 0.5, "no completed epoch", ha="center", va="center", transform=axes[0].transAxes
        )
        axes[0].set_xlabel("epoch")
        axes[0].set_ylabel("loss")
    fig.suptitle(f"{title}: learning curves")
    return fig


@dataclass
class OutputPredictions:
    """One output's test predictions, for :func:`predictions`."""

    name: str
    kind: str  # "classification" or "regression"
    actual: np.ndarray
    predicted: np.ndarray
    class_names: Sequence[str] | None = None


def _confusion(ax: Any, out: OutputPredictions) -> None:
    true, pred = class_indices(out.actual), class_indices(out.predicted)
    k = int(max(true.max(initial=0), pred.max(initial=0))) + 1
    if out.class_names:
        k = max(k, len(out.class_names))
    matrix = np.zeros((k, k), dtype=np.int64)
    np.add.at(matrix, (true, pred), 1)
    ax.imshow(matrix, cmap="Blues")
    if k <= 20:
        top = matrix.max() or 1
        for i in range(k):
            for j in range(k):
                ax.text(
                    j,
                    i,
                    str(matrix[i, j]),
                    ha="center",
                    va="center",
                    fontsize=8,
                    color="white" if matrix[i, j] > top / 2 else "black",
                )
    labels = (
        list(out.class_names)[:k]
        if out.class_names and len(out.class_names) >= k
        else [str(c) for c in range(k)]
    )
    if k <= 30:
        ax.set_xticks(
            range(k),
            labels,
            rotation=45 if max(map(len, labels)) > 2 else 0,
            ha="right" if max(map(len, labels)) > 2 else "center",
            fontsize=8,
        )
        ax.set_yticks(range(k), labels, fontsize=8)
    accuracy = float((true == pred).mean()) if len(true) else float("nan")
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.set_title(f"{out.name}: confusion matrix (accuracy {accuracy:.3f})")


def _scatter(ax: Any, x: np.ndarray, y: np.ndarray, xlabel: str, ylabel: str, title: str) -> None:
    x, y = np.asarray(x, dtype=float).ravel(), np.asarray(y, dtype=float).ravel()
    ax.scatter(x, y, s=10, alpha=0.3, color="tab:blue", edgecolors="none")
    finite = np.concatenate([x[np.isfinite(x)], y[np.isfinite(y)]])
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    ax.plot([lo, hi], [lo, hi], "k--", linewidth=1, label="identity")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    ax.legend(loc="upper left", fontsize="small")


def _difference(ax: Any, main: OutputPredictions, aux: OutputPredictions) -> None:
    """The chapter's "difference between main and aux. outputs": main minus auxiliary
    prediction, samples ordered by the main prediction, with a running average."""
    m = np.asarray(main.predicted, dtype=float).reshape(len(main.predicted), -1)[:, 0]
    a = np.asarray(aux.predicted, dtype=float).reshape(len(aux.predicted), -1)[:, 0]
    diff = (m - a)[np.argsort(m, kind="stable")]
    x = np.arange(len(diff))
    ax.plot(x, diff, ".", color="tab:green", alpha=0.3, label="difference")
    window = max(1, min(100, len(diff) // 5))
    if len(diff) >= window:
        avg = np.convolve(diff, np.ones(window) / window, mode="valid")
        ax.plot(
            x[window // 2 : window // 2 + len(avg)], avg, "k-", linewidth=2, label="running avg."
        )
    ax.axhline(0.0, color="gray", linewidth=0.8)
    ax.set_xlabel(f"samples ordered by {main.name} prediction")
    ax.set_ylabel(f"{main.name} - {aux.name}")
    ax.set_title(f"difference between {main.name} and {aux.name}")
    ax.grid(True, alpha=0.3)
    ax.legend(loc="best", fontsize="small")


def predictions(title: str, outputs: Sequence[OutputPredictions], split: str = "test") -> Any:
    """Predicted versus actual per regression output (and main versus auxiliary
    output when there are two), a confusion matrix per classification output."""
    panels: list[tuple[str, Any]] = [(o.kind, o) for o in outputs]
    regression = [o for o in outputs if o.kind == "regression"]
    if len(regression) == 2:
        panels += [("versus", regression), ("difference", regression)]
    fig = _figure(5.5 * len(panels), 5.0)
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    for ax, (kind, item) in zip(axes, panels, strict=True):
        if kind == "classification":
            _confusion(ax, item)
        elif kind == "regression":
            _scatter(
                ax,
                item.actual,
                item.predicted,
                "actual",
                "predicted",
                f"{item.name}: predicted vs actual",
            )
        elif kind == "difference":
            _difference(ax, *item)
        else:
            main, aux = item
            _scatter(
                ax,
                main.predicted,
                aux.predicted,
                f"{main.name} prediction",
                f"{aux.name} prediction",
                f"{main.name} vs {aux.name}",
            )
    fig.suptitle(f"{title}: predictions on the {split} set")
    return fig


def chosen_epochs(metrics: Mapping[str, Any]) -> list[tuple[int, str]]:
    """The epochs a run chose, from its ``metrics.json`` figures, as (epoch, label) marks:
    the best epoch of early stopping (restored or not) and the checkpoint's epoch."""
    marks: list[tuple[int, str]] = []
    best = metrics.get("best_epoch")
    if best is not None:
        restored = " (restored)" if metrics.get("restored_best") else ""
        marks.append((int(best), f"best epoch {best}{restored}"))
    saved = (metrics.get("checkpoint") or {}).get("epoch")
    if saved is not None and saved != best:
        marks.append((int(saved), f"checkpoint: epoch {saved}"))
    return marks
