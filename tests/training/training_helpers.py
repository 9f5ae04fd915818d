"""Helpers for the training tests: data files in their real formats, spec writers.

Imported by the test modules (``from training_helpers import ...``): the
directory is put on sys.path by this directory's conftest.py.
"""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np

from specforge.default_plugins.datasets import fashion_mnist


def write_spec(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


# ---------------------------------------------------------------- real formats


def idx_bytes(arr: np.ndarray) -> bytes:
    codes = {np.dtype(np.uint8): 0x08, np.dtype(np.int32): 0x0C}
    header = struct.pack(">BBBB", 0, 0, codes[arr.dtype], arr.ndim) + struct.pack(
        f">{arr.ndim}I", *arr.shape
    )
    return header + arr.astype(arr.dtype.newbyteorder(">")).tobytes()


def make_fashion(
    directory: Path, n_train: int = 300, n_test: int = 60, image_shape=(28, 28)
) -> dict[str, np.ndarray]:
    """The four Keras cache files (idx, gzipped) with learnable synthetic images."""
    directory.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)

    def images(labels):
        x = rng.integers(0, 60, (len(labels), *image_shape)).astype(np.uint8)
        for i, c in enumerate(labels):  # a bright row per class
            x[i, 2 + 2 * int(c), :] = 250
        return x

    y_train = rng.integers(0, 10, n_train).astype(np.uint8)
    y_test = rng.integers(0, 10, n_test).astype(np.uint8)
    arrays = {
        "x_train": images(y_train),
        "y_train": y_train,
        "x_test": images(y_test),
        "y_test": y_test,
    }
    for key, name in fashion_mnist.FASHION_MNIST_FILES.items():
        with gzip.open(directory / name, "wb") as fh:
            fh.write(idx_bytes(arrays[key]))
    return arrays


def make_california_cache(data_home: Path, n: int = 400) -> np.ndarray:
    """scikit-learn's cache exactly as fetch_california_housing writes it:
    the archive's table reordered (target first), joblib-dumped to cal_housing_py3.pkz."""
    import joblib

    rng = np.random.default_rng(1)
    lon = rng.uniform(-124, -114, n)
    lat = rng.uniform(32, 42, n)
    age = rng.integers(1, 52, n).astype(float)
    households = rng.integers(100, 1500, n).astype(float)
    rooms = households * rng.uniform(3, 7, n)
    bedrooms = households * rng.uniform(0.8, 1.3, n)
    population = households * rng.uniform(2, 4, n)
    income = rng.uniform(0.5, 12, n)
    value = np.clip(income * 40_000 + rng.normal(0, 20_000, n), 15_000, 500_001)
    raw = np.column_stack([lon, lat, age, rooms, bedrooms, population, households, income, value])
    data_home.mkdir(parents=True, exist_ok=True)
    joblib.dump(raw[:, [8, 7, 2, 3, 4, 5, 6, 1, 0]], data_home / "cal_housing_py3.pkz", compress=6)
    return raw
