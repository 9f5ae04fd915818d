"""read_idx on IDX files written in the real format, gzipped or plain."""

from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest
from data_helpers import idx_bytes, write_idx

from specforge.data.dataset import DataError
from specforge.data.idx import read_idx


@pytest.mark.parametrize("gz", [True, False])
def test_read_idx_images_and_labels(tmp_path, gz):
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    labels = np.array([7, 1], dtype=np.uint8)
    suffix = ".gz" if gz else ""
    ip = write_idx(tmp_path / f"images-idx3-ubyte{suffix}", images)
    lp = write_idx(tmp_path / f"labels-idx1-ubyte{suffix}", labels)
    with open(ip, "rb") as fh:
        raw = fh.read()
    if gz:
        raw = gzip.decompress(raw)
    assert raw[:4] == b"\x00\x00\x08\x03"  # the MNIST image magic 0x00000803
    got = read_idx(ip)
    assert got.dtype == np.uint8 and got.shape == (2, 3, 4)
    np.testing.assert_array_equal(got, images)
    got.flags.writeable = True  # a real, writable copy
    np.testing.assert_array_equal(read_idx(lp), labels)


@pytest.mark.parametrize("dtype", [np.int8, np.int16, np.int32, np.float32, np.float64])
def test_read_idx_big_endian_dtypes(tmp_path, dtype):
    arr = (np.arange(12) - 5).astype(dtype).reshape(3, 4)
    got = read_idx(write_idx(tmp_path / "a.idx.gz", arr))
    assert got.dtype == np.dtype(dtype) and got.dtype.isnative
    np.testing.assert_array_equal(got, arr)


def test_read_idx_gzip_detected_by_content(tmp_path):
    arr = np.arange(5, dtype=np.uint8)
    p = write_idx(tmp_path / "labels-idx1-ubyte", arr, gz=True)
    np.testing.assert_array_equal(read_idx(p), arr)


def test_read_idx_missing_file(tmp_path):
    p = tmp_path / "nope-idx1-ubyte.gz"
    with pytest.raises(DataError) as ei:
        read_idx(p)
    assert str(ei.value) == f"IDX file not found: {p}"
    assert ei.value.looked_in == [str(p)]


def test_read_idx_not_gzip(tmp_path):
    p = tmp_path / "train-labels-idx1-ubyte.gz"
    p.write_bytes(b"<html>404 Not Found</html>")
    with pytest.raises(DataError) as ei:
        read_idx(p)
    assert str(ei.value) == (
        f"{p} is not a gzipped file (it does not start with the gzip magic bytes 1f 8b)"
    )
    assert "download" in ei.value.help


def test_read_idx_truncated_gzip(tmp_path):
    good = gzip.compress(idx_bytes(np.arange(2000, dtype=np.uint8) % 251))
    p = tmp_path / "train-labels-idx1-ubyte.gz"
    p.write_bytes(good[: len(good) // 2])
    with pytest.raises(DataError, match=r"is a corrupt or truncated gzip file"):
        read_idx(p)


def test_read_idx_corrupt_gzip_crc(tmp_path):
    good = bytearray(gzip.compress(idx_bytes(np.arange(50, dtype=np.uint8))))
    good[-8] ^= 0xFF  # break the CRC32 in the trailer
    p = tmp_path / "x.gz"
    p.write_bytes(bytes(good))
    with pytest.raises(DataError, match=r"corrupt or truncated gzip file \(CRC check failed"):
        read_idx(p)


def test_read_idx_bad_magic(tmp_path):
    p = tmp_path / "bad.gz"
    p.write_bytes(gzip.compress(b"\x01\x02\x08\x01" + struct.pack(">I", 1) + b"\x00"))
    with pytest.raises(DataError) as ei:
        read_idx(p)
    assert str(ei.value).startswith(f"{p} is not an IDX file: bad magic number 0x01020801")
    p.write_bytes(gzip.compress(b"\x00\x00\x07\x01" + struct.pack(">I", 1) + b"\x00"))
    with pytest.raises(DataError, match="bad magic number 0x00000701"):
        read_idx(p)


def test_read_idx_truncated_data(tmp_path):
    full = idx_bytes(np.zeros((5, 28, 28), np.uint8))
    p = tmp_path / "train-images-idx3-ubyte.gz"
    p.write_bytes(gzip.compress(full[: 16 + 100]))
    with pytest.raises(DataError) as ei:
        read_idx(p)
    assert str(ei.value) == (
        f"{p} is truncated: header shape (5, 28, 28) needs 3920 bytes of data, found 100"
    )


def test_read_idx_truncated_header_and_trailing_bytes(tmp_path):
    p = tmp_path / "short"
    p.write_bytes(b"\x00\x00\x08\x03\x00\x00")
    with pytest.raises(DataError, match="header announces 3 dimensions"):
        read_idx(p)
    p.write_bytes(b"\x00\x00")
    with pytest.raises(DataError, match=r"too short to be an IDX file \(2 bytes\)"):
        read_idx(p)
    p.write_bytes(idx_bytes(np.zeros(3, np.uint8)) + b"\x00")
    with pytest.raises(DataError, match="longer than its header says"):
        read_idx(p)
