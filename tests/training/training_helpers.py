"""Helpers for the training tests: data files in their real formats, spec writers.

Imported by the test modules (``from training_helpers import ...``): the
directory is put on sys.path by this directory's conftest.py.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import struct
import tarfile
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


def california_rows(n: int = 400) -> np.ndarray:
    """Learnable synthetic rows in the archive's column order (longitude ... medianHouseValue)."""
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
    return np.column_stack([lon, lat, age, rooms, bedrooms, population, households, income, value])


def make_california_archive(path: Path, n: int = 400) -> np.ndarray:
    """``cal_housing.tgz`` in the original layout: CaliforniaHousing/cal_housing.data, '%f' CSV."""
    raw = california_rows(n)
    buf = io.StringIO()
    np.savetxt(buf, raw, fmt="%f", delimiter=",")
    data = buf.getvalue().encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, "w:gz") as tar:
        info = tarfile.TarInfo("CaliforniaHousing/cal_housing.data")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return raw


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()
