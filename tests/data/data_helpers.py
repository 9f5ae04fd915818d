"""Helpers for the data tests: files written in the real formats.

Imported by the test modules (``from data_helpers import ...``): the directory
is put on sys.path by this directory's conftest.py.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import struct
import tarfile

import numpy as np

from specforge.default_plugins.datasets import fashion_mnist
from specforge.default_plugins.datasets.california import CALIFORNIA_MEMBER
from specforge.default_plugins.datasets.fashion_mnist import FASHION_MNIST_FILES

_IDX_CODES = {
    np.dtype(np.uint8): 0x08,
    np.dtype(np.int8): 0x09,
    np.dtype(np.int16): 0x0B,
    np.dtype(np.int32): 0x0C,
    np.dtype(np.float32): 0x0D,
    np.dtype(np.float64): 0x0E,
}


def idx_bytes(arr: np.ndarray) -> bytes:
    """The IDX encoding: 0x00 0x00, type code, ndim, big-endian uint32 dims, data."""
    arr = np.asarray(arr)
    header = struct.pack(">BBBB", 0, 0, _IDX_CODES[arr.dtype], arr.ndim)
    header += struct.pack(f">{arr.ndim}I", *arr.shape)
    return header + arr.astype(arr.dtype.newbyteorder(">")).tobytes()


def write_idx(path, arr: np.ndarray, *, gz: bool | None = None) -> str:
    path = str(path)
    data = idx_bytes(arr)
    if gz if gz is not None else path.endswith(".gz"):
        with gzip.open(path, "wb") as fh:
            fh.write(data)
    else:
        with open(path, "wb") as fh:
            fh.write(data)
    return path


def make_fashion(
    directory, n_train: int = 5, n_test: int = 3, image_shape=(28, 28), gz: bool = True
) -> dict[str, np.ndarray]:
    os.makedirs(directory, exist_ok=True)
    rng = np.random.default_rng(0)
    arrays = {
        "x_train": rng.integers(0, 256, (n_train, *image_shape), dtype=np.uint8),
        "y_train": rng.integers(0, 10, n_train, dtype=np.uint8),
        "x_test": rng.integers(0, 256, (n_test, *image_shape), dtype=np.uint8),
        "y_test": rng.integers(0, 10, n_test, dtype=np.uint8),
    }
    for key, name in FASHION_MNIST_FILES.items():
        if not gz:
            name = name.removesuffix(".gz")
        write_idx(os.path.join(directory, name), arrays[key])
    return arrays


def write_text(path, text: str) -> str:
    path = str(path)
    with open(path, "w", encoding="utf-8", newline="") as fh:
        fh.write(text)
    return path


def sha256(path) -> str:
    with open(path, "rb") as fh:
        return hashlib.sha256(fh.read()).hexdigest()


def trust_fashion(monkeypatch, directory) -> None:
    """Make the files in ``directory`` Fashion-MNIST's as far as checksums go.

    The real checksums (Zalando's) are in the code; the tests' files are
    generated, so their hashes replace the real ones for the test.
    """
    for name in FASHION_MNIST_FILES.values():
        path = os.path.join(directory, name)
        monkeypatch.setitem(fashion_mnist.FASHION_MNIST_SHA256, name, sha256(path))


# Rows in the archive's column order: longitude, latitude, housingMedianAge,
# totalRooms, totalBedrooms, population, households, medianIncome,
# medianHouseValue -- the first three rows of the real file plus two more.
CAL_ROWS = np.array(
    [
        [-122.23, 37.88, 41.0, 880.0, 129.0, 322.0, 126.0, 8.3252, 452600.0],
        [-122.22, 37.86, 21.0, 7099.0, 1106.0, 2401.0, 1138.0, 8.3014, 358500.0],
        [-122.24, 37.85, 52.0, 1467.0, 190.0, 496.0, 177.0, 7.2574, 352100.0],
        [-118.30, 34.05, 15.0, 2000.0, 500.0, 1500.0, 400.0, 2.5, 150000.0],
        [-121.09, 39.48, 25.0, 1665.0, 374.0, 845.0, 330.0, 1.5603, 78100.0],
    ]
)


def make_cal_tgz(path, rows: np.ndarray = CAL_ROWS, member: str = CALIFORNIA_MEMBER):
    buf = io.StringIO()
    np.savetxt(buf, rows, fmt="%f", delimiter=",")  # the real file's "%f" layout
    data = buf.getvalue().encode()
    with tarfile.open(path, "w:gz") as tar:
        info = tarfile.TarInfo(member)
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return str(path)
