"""Read IDX files, the format of MNIST and Fashion-MNIST, gzipped or plain."""

from __future__ import annotations

import gzip
import math
import os
import struct
import zlib

import numpy as np

from .dataset import DataError, PathLike, require_file

__all__ = ["read_idx"]

_IDX_DTYPES: dict[int, str] = {
    0x08: ">u1",
    0x09: ">i1",
    0x0B: ">i2",
    0x0C: ">i4",
    0x0D: ">f4",
    0x0E: ">f8",
}

_IDX_REDOWNLOAD = (
    "the file is damaged (often an interrupted download); delete it and obtain a fresh copy"
)


def _read_maybe_gzip(path: str) -> bytes:
    """Return the (decompressed) bytes of ``path``; gzip is detected by content."""
    try:
        with open(path, "rb") as fh:
            raw = fh.read()
    except OSError as exc:
        raise DataError(
            f"cannot read {path}: {exc.strerror or exc}",
            help="check the file's permissions",
            looked_in=[os.path.abspath(path)],
        ) from exc
    is_gzip = raw[:2] == b"\x1f\x8b"
    if not is_gzip:
        if path.endswith(".gz"):
            raise DataError(
                f"{path} is not a gzipped file (it does not start with the gzip magic bytes 1f 8b)",
                help=_IDX_REDOWNLOAD + "; if it is an uncompressed IDX file, drop the .gz suffix",
            )
        return raw
    try:
        return gzip.decompress(raw)
    except (gzip.BadGzipFile, EOFError, zlib.error, OSError) as exc:
        raise DataError(
            f"{path} is a corrupt or truncated gzip file ({exc})",
            help=_IDX_REDOWNLOAD,
        ) from exc


def read_idx(path: PathLike) -> np.ndarray:
    """Read an IDX file (the MNIST / Fashion-MNIST format), gzipped or plain.

    Parsing the header ourselves (instead of slicing at a fixed offset the way
    Keras does) lets a truncated or mislabelled file fail with a message
    rather than as a reshape error or, worse, silently wrong data.
    """
    p = require_file(path, "IDX file")
    data = _read_maybe_gzip(p)
    if len(data) < 4:
        raise DataError(
            f"{p} is too short to be an IDX file ({len(data)} bytes)",
            help=_IDX_REDOWNLOAD,
        )
    magic = struct.unpack(">I", data[:4])[0]
    code, ndim = data[2], data[3]
    if data[0] != 0 or data[1] != 0 or code not in _IDX_DTYPES or ndim == 0:
        raise DataError(
            f"{p} is not an IDX file: bad magic number 0x{magic:08X} (expected "
            "0x00000801 for labels, 0x00000803 for images, or generally "
            "0x0000TTNN with a known type code TT and NN dimensions)",
            help=_IDX_REDOWNLOAD,
        )
    header_len = 4 + 4 * ndim
    if len(data) < header_len:
        raise DataError(
            f"{p} is truncated: its header announces {ndim} dimensions but the "
            f"file has only {len(data)} bytes",
            help=_IDX_REDOWNLOAD,
        )
    shape = struct.unpack(f">{ndim}I", data[4:header_len])
    dtype = np.dtype(_IDX_DTYPES[code])
    expected = math.prod(shape) * dtype.itemsize
    found = len(data) - header_len
    if found != expected:
        problem = "truncated" if found < expected else "longer than its header says"
        raise DataError(
            f"{p} is {problem}: header shape {tuple(shape)} needs {expected} bytes "
            f"of data, found {found}",
            help=_IDX_REDOWNLOAD,
        )
    arr = np.frombuffer(data, dtype=dtype, offset=header_len).reshape(shape)
    return arr.astype(dtype.newbyteorder("="), copy=True)
