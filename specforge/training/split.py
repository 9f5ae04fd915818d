"""Deterministic train / validation / test splits.

The splits are scikit-learn's ``train_test_split`` applied twice, exactly as the
chapter does by hand: first the test set off the whole data (unless the
dataset has its own test split), then the validation set off what is left.
Fractions or counts mean what they mean to scikit-learn; the same seed gives
the same indices, so ``specforge evaluate`` can rebuild a run's splits.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..data.dataset import DataError
from ..spec.models import SplitSpec


def _split(
    idx: np.ndarray, size: float | int, seed: int, labels: np.ndarray | None, what: str
) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.model_selection import train_test_split

    n = len(idx)
    if isinstance(size, int) and size >= n:
        raise DataError(
            f"data.split.{what} asks for {size} samples, but only {n} are available",
            help=f"use a smaller count or a fraction such as {what}: 0.2",
        )
    try:
        rest, taken = train_test_split(idx, test_size=size, random_state=seed, stratify=labels)
    except ValueError as exc:
        if labels is not None:
            raise DataError(
                f"cannot stratify the {what} split: {exc}",
                help="every class needs at least two samples on each side; use a larger split or stratify: false",
            ) from None
        raise DataError(
            f"cannot make the {what} split: {exc}", help="use a fraction such as 0.2"
        ) from None
    if len(rest) == 0:
        raise DataError(
            f"the {what} split leaves no samples for training",
            help=f"use a smaller {what} fraction",
        )
    return np.asarray(rest), np.asarray(taken)


def split_indices(
    n: int, split: SplitSpec, y: Any = None, *, own_test: bool = False
) -> dict[str, np.ndarray]:
    """Indices of the train, validation and (unless ``own_test``) test samples among ``n``.

    ``y`` is needed when ``split.stratify`` is set (class labels, one per sample).
    """
    labels = None
    if split.stratify:
        labels = np.asarray(y) if y is not None else None
        if labels is None or labels.ndim != 1 or labels.dtype.kind not in "iub":
            raise DataError(
                "data.split.stratify needs one class label per sample, but this dataset's targets are not class labels",
                help="remove stratify: true (it is for classification)",
            )
    idx = np.arange(n)
    out: dict[str, np.ndarray] = {}
    if not own_test:
        idx, out["test"] = _split(idx, split.test, split.seed, labels, "test")
    if split.validation:
        idx, out["validation"] = _split(
            idx,
            split.validation,
            split.seed,
            labels[idx] if labels is not None else None,
            "validation",
        )
    out["train"] = idx
    return out
