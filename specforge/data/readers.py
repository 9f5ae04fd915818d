"""Deprecated alias of API version 1: import from :mod:`specforge.plugin` instead.

``Dataset`` and ``DataError`` are ``specforge.plugin.Dataset`` and
``specforge.plugin.DataError``; the readers live in :mod:`specforge.data.csv`,
:mod:`specforge.data.npz` and :mod:`specforge.data.idx`, and the built-in
loaders in ``specforge/default_plugins/datasets/``. This module keeps plugins
that followed the old documentation working, with a :class:`DeprecationWarning`.
"""

from __future__ import annotations

import warnings

from .csv import read_csv
from .dataset import DataError, Dataset, check_finite
from .idx import read_idx
from .npz import read_npz

__all__ = ["DataError", "Dataset", "check_finite", "read_csv", "read_idx", "read_npz"]

warnings.warn(
    "specforge.data.readers is deprecated: import Dataset and DataError from specforge.plugin",
    DeprecationWarning,
    stacklevel=2,
)
