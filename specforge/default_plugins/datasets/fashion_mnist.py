"""``fashion_mnist``: Zalando's Fashion-MNIST from the four IDX files Keras caches.

Nothing is downloaded: the files are read from ``path:`` or from where
``keras.datasets.fashion_mnist.load_data()`` leaves them, and a missing file
is a :class:`~specforge.plugin.DataError` listing every directory searched and
how to obtain the data. The files are parsed by :func:`specforge.data.idx.read_idx`
(no pickle); numpy is imported inside the loader.
"""

from __future__ import annotations

import os
import tempfile
from typing import Any

from pydantic import Field

from specforge.data.dataset import PathLike, pixel_names
from specforge.plugin import DataError, Dataset, DatasetType, Params

__all__ = ["DATASET", "FASHION_MNIST_CLASSES", "FASHION_MNIST_FILES", "load_fashion_mnist"]

FASHION_MNIST_CLASSES = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
]

# Same names and order as keras.datasets.fashion_mnist.load_data.
FASHION_MNIST_FILES = {
    "y_train": "train-labels-idx1-ubyte.gz",
    "x_train": "train-images-idx3-ubyte.gz",
    "y_test": "t10k-labels-idx1-ubyte.gz",
    "x_test": "t10k-images-idx3-ubyte.gz",
}

_FASHION_HELP = (
    "run `python -c 'import keras; keras.datasets.fashion_mnist.load_data()'` "
    "once on a machine with network access (it writes the four files to "
    "~/.keras/datasets/fashion-mnist/; copy that directory here), or download "
    "the four files from https://github.com/zalandoresearch/fashion-mnist and "
    "pass `path:` (the directory holding them)"
)


class FashionMnistParams(Params):
    path: str | None = Field(
        None,
        json_schema_extra={"format": "path"},
        description="Directory holding the four idx .gz files; default: the Keras cache "
        "($KERAS_HOME or ~/.keras)/datasets/fashion-mnist.",
    )


def _keras_tmp_root() -> str:
    """Keras' fallback cache root when the normal one is not writable.

    Mirrors keras/src/utils/file_utils.py:get_file.
    """
    return os.path.join("/tmp" if os.path.isdir("/tmp") else tempfile.gettempdir(), ".keras")


def _keras_dataset_dirs(subdir: str) -> list[str]:
    """Directories where Keras' get_file may have cached ``datasets/<subdir>``.

    Keras (backend/config.py) uses $KERAS_HOME if set, else ~/.keras (or
    /tmp/.keras when ~ is not writable); get_file falls back to /tmp/.keras
    when that directory is not writable.  We look in the primary location
    first and the /tmp fallback last.
    """
    if "KERAS_HOME" in os.environ:
        root = os.path.expanduser(os.environ["KERAS_HOME"])
    else:
        root = os.path.join(os.path.expanduser("~"), ".keras")
    dirs = [os.path.join(root, "datasets", subdir)]
    fallback = os.path.join(_keras_tmp_root(), "datasets", subdir)
    if os.path.abspath(fallback) != os.path.abspath(dirs[0]):
        dirs.append(fallback)
    return dirs


def _find_in_dir(directory: str, name: str) -> str | None:
    """Return the gzipped file or, failing that, its uncompressed twin."""
    for candidate in (name, name.removesuffix(".gz")):
        full = os.path.join(directory, candidate)
        if os.path.isfile(full):
            return full
    return None


def _fashion_pair(images_path: str, labels_path: str) -> tuple[Any, Any]:
    import numpy as np

    from specforge.data.idx import read_idx

    labels = read_idx(labels_path)
    images = read_idx(images_path)
    if labels.ndim != 1 or labels.dtype != np.uint8:
        raise DataError(
            f"{labels_path} is not an IDX label file: expected a 1-D uint8 array "
            f"(magic 0x00000801), found {labels.dtype} with shape {labels.shape}",
            help="check that the label and image files have not been swapped or renamed",
        )
    if images.ndim != 3 or images.shape[1:] != (28, 28) or images.dtype != np.uint8:
        raise DataError(
            f"{images_path} does not hold 28x28 uint8 images: found {images.dtype} "
            f"with shape {images.shape}, expected (n, 28, 28)",
            help="this is not a Fashion-MNIST image file (magic 0x00000803); check "
            "that the files have not been swapped or replaced by another data set",
        )
    if len(images) != len(labels):
        raise DataError(
            f"{images_path} holds {len(images)} images but {labels_path} holds "
            f"{len(labels)} labels",
            help="the two files come from different downloads or one is damaged; obtain both again",
        )
    if labels.size and int(labels.max()) >= len(FASHION_MNIST_CLASSES):
        raise DataError(
            f"{labels_path} holds label {int(labels.max())}; Fashion-MNIST labels are 0..9",
            help="this is not a Fashion-MNIST label file",
        )
    return images.astype(np.float32), labels.astype(np.int64)


def load_fashion_mnist(path: PathLike | None = None) -> Dataset:
    """Load Fashion-MNIST from ``path`` or from the Keras cache.

    Images stay float32 in 0..255: scaling is a preprocessing decision the
    spec makes explicitly, not something a reader should do behind its back.
    """
    dirs = [os.fspath(path)] if path is not None else _keras_dataset_dirs("fashion-mnist")
    notes: list[str] = []
    found: dict[str, str] | None = None
    for directory in dirs:
        if not os.path.isdir(directory):
            why = "not a directory" if os.path.exists(directory) else "does not exist"
            notes.append(f"  {directory} ({why})")
            continue
        files = {key: _find_in_dir(directory, name) for key, name in FASHION_MNIST_FILES.items()}
        missing = [FASHION_MNIST_FILES[k] for k, v in files.items() if v is None]
        if not missing:
            found = {k: v for k, v in files.items() if v is not None}
            break
        notes.append(f"  {directory} (missing: {', '.join(missing)})")
    if found is None:
        raise DataError(
            "Fashion-MNIST files not found; looked in:\n" + "\n".join(notes),
            help=_FASHION_HELP,
            looked_in=[os.path.abspath(d) for d in dirs],
        )
    x, y = _fashion_pair(found["x_train"], found["y_train"])
    x_test, y_test = _fashion_pair(found["x_test"], found["y_test"])
    return Dataset(
        x=x,
        y=y,
        feature_names=pixel_names((28, 28)),
        target_names=["label"],
        task="classification",
        class_names=list(FASHION_MNIST_CLASSES),
        x_test=x_test,
        y_test=y_test,
    )


def _load(params: FashionMnistParams) -> Dataset:
    return load_fashion_mnist(params.path)


DATASET = DatasetType(
    "fashion_mnist",
    FashionMnistParams,
    _load,
    "Fashion-MNIST from the Keras cache files: 60,000 + 10,000 (official test split) images of 28×28, 10 classes",
)
