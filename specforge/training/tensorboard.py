"""TensorBoard event files for a run, written without TensorFlow.

``tensorboard --logdir runs`` compares runs: each run directory gets
``tensorboard/train/`` and ``tensorboard/validation/`` (the layout Keras's
``TensorBoard`` callback uses) with one scalar per history key and epoch
(``epoch_loss``, ``epoch_accuracy``, ...; steps are the epochs, 1-based as in
``history.csv``), ``tensorboard/test/`` with the final test figures, and the
resolved spec as text (the Text tab).

An event file is a TFRecord stream of ``Event`` protocol buffers; both formats are
small and stable, so they are encoded here by hand (a dozen fields, CRC-32C in pure
Python) and the NumPy backend stays free of TensorFlow and of the ``tensorboard``
package. The tests read the files back with TensorBoard's own ``EventAccumulator``.
"""

from __future__ import annotations

import math
import os
import socket
import struct
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

#: The folder inside a run directory.
FOLDER = "tensorboard"

# ----------------------------------------------------------------- CRC-32C (Castagnoli)


def _crc_table() -> list[int]:
    table = []
    for n in range(256):
        c = n
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


_TABLE = _crc_table()


def crc32c(data: bytes) -> int:
    crc = 0xFFFFFFFF
    for b in data:
        crc = _TABLE[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def _masked(data: bytes) -> int:
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def record(data: bytes) -> bytes:
    """One TFRecord: length, masked CRC of the length, data, masked CRC of the data."""
    length = struct.pack("<Q", len(data))
    return length + struct.pack("<I", _masked(length)) + data + struct.pack("<I", _masked(data))


# ----------------------------------------------------------------- protobuf wire format


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _key(field: int, wire: int) -> bytes:
    return _varint(field << 3 | wire)


def _bytes(field: int, data: bytes) -> bytes:
    return _key(field, 2) + _varint(len(data)) + data


def _int(field: int, n: int) -> bytes:
    return _key(field, 0) + _varint(n)


def _event(wall_time: float, step: int, **payload: bytes) -> bytes:
    """An ``Event``: wall_time (1, double), step (2), file_version (3) or summary (5)."""
    body = _key(1, 1) + struct.pack("<d", wall_time) + _int(2, step)
    if "file_version" in payload:
        body += _bytes(3, payload["file_version"])
    if "summary" in payload:
        body += _bytes(5, payload["summary"])
    return body


_FLOAT32_MAX = 3.4028234663852886e38


def _scalar_value(tag: str, value: float) -> bytes:
    """A ``Summary.Value`` with tag (1) and simple_value (2, a float32: beyond its range,
    infinity, as a diverging loss is)."""
    if abs(value) > _FLOAT32_MAX and math.isfinite(value):
        value = math.copysign(math.inf, value)
    return _bytes(1, tag.encode()) + _key(2, 5) + struct.pack("<f", value)


def _text_value(tag: str, text: str) -> bytes:
    """A ``Summary.Value`` for the Text tab: metadata (9) naming the text plugin and a
    scalar string ``TensorProto`` (8: dtype DT_STRING = 7, empty shape, string_val 8)."""
    plugin = _bytes(1, b"text")
    metadata = _bytes(1, plugin) + _int(4, 2)  # plugin_data, data_class = DATA_CLASS_TENSOR
    tensor = _int(1, 7) + _bytes(2, b"") + _bytes(8, text.encode())
    return _bytes(1, tag.encode()) + _bytes(9, metadata) + _bytes(8, tensor)


def _summary(values: Iterable[bytes]) -> bytes:
    return b"".join(_bytes(1, v) for v in values)


# ----------------------------------------------------------------- files


class EventWriter:
    """Appends events to one new ``events.out.tfevents.*`` file in ``folder``."""

    def __init__(self, folder: Path, wall_time: float | None = None):
        folder.mkdir(parents=True, exist_ok=True)
        self.wall_time = time.time() if wall_time is None else wall_time
        name = f"events.out.tfevents.{int(self.wall_time)}.{socket.gethostname()}.{os.getpid()}.specforge"
        self.path = folder / name
        self._records = [record(_event(self.wall_time, 0, file_version=b"brain.Event:2"))]

    def scalars(self, step: int, values: Mapping[str, float]) -> None:
        summary = _summary(_scalar_value(tag, float(v)) for tag, v in values.items())
        self._records.append(record(_event(self.wall_time, step, summary=summary)))

    def text(self, step: int, tag: str, text: str) -> None:
        summary = _summary([_text_value(tag, text)])
        self._records.append(record(_event(self.wall_time, step, summary=summary)))

    def close(self) -> None:
        """Write the file at once (a run writes its events when its history is final)."""
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_bytes(b"".join(self._records))
        os.replace(tmp, self.path)


def _clear(folder: Path) -> None:
    """Remove earlier event files (a resumed run rewrites its whole history)."""
    if folder.is_dir():
        for f in folder.glob("*/events.out.tfevents.*"):
            f.unlink()


def write_run(
    run_dir: Path,
    history: Mapping[str, Sequence[float]],
    *,
    spec_text: str,
    test: Mapping[str, float] | None = None,
) -> Path:
    """Write the run's event files under ``run_dir/tensorboard``; returns that folder."""
    root = Path(run_dir) / FOLDER
    _clear(root)
    now = time.time()
    train, validation = EventWriter(root / "train", now), None
    if any(k.startswith("val_") for k in history):
        validation = EventWriter(root / "validation", now)
    epochs = max((len(v) for v in history.values()), default=0)
    for epoch in range(epochs):
        for writer, keys in (
            (train, [k for k in history if not k.startswith("val_")]),
            (validation, [k for k in history if k.startswith("val_")]),
        ):
            if writer is None:
                continue
            values = {
                f"epoch_{k.removeprefix('val_')}": history[k][epoch]
                for k in keys
                if epoch < len(history[k])
            }
            if values:
                writer.scalars(epoch + 1, values)
    train.text(0, "spec", "```yaml\n" + spec_text + "\n```")
    for w in (train, validation):
        if w is not None:
            w.close()
    if test:
        writer = EventWriter(root / "test", now)
        writer.scalars(epochs, {f"epoch_{k}": v for k, v in test.items()})
        writer.close()
    return root
