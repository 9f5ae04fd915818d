"""``fashion_mnist``: Zalando's Fashion-MNIST, the four gzipped IDX files, fetched on first use.

Without ``path:`` each file is taken from specforge's cache or Keras' (where
``keras.datasets.fashion_mnist.load_data()`` leaves it) when its SHA-256 is
right, and else downloaded (:mod:`specforge.data.fetch`) from Keras' copy of
the files into specforge's cache. With ``path:`` the files of that directory
are read as they are (gzipped or not, unchecked), and a missing one is a
:class:`~specforge.plugin.DataError` listing what is missing. The files are
parsed by :func:`specforge.data.idx.read_idx` (no pickle); numpy is imported
inside the loader.
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

#: Where the files are downloaded from: Keras' copy of Zalando's files.
FASHION_MNIST_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"

#: The SHA-256 of each file as Zalando published it; every copy used is checked
#: against these (tests replace them with those of the files they serve).
FASHION_MNIST_SHA256 = {
    "train-labels-idx1-ubyte.gz": "b0197879cbda89f3dc7b894f9fd52b858e68ea4182b6947c9d8c2b67e5f18dcc",
    "train-images-idx3-ubyte.gz": "08dc20ab1689590a0bcd66e874647b6ee8464e2d501b5a3f1f78831db19a3fdc",
    "t10k-labels-idx1-ubyte.gz": "42bd18137a62d5998cdeae52bf3a0676ac6b706f5cf8439b47bb5b151ae3dccf",
    "t10k-images-idx3-ubyte.gz": "78dcbbfb5a27efaf1b6c1d616caca68560be8766c5bffcb2791df9273a534229",
}

#: The cache sub-folder, the same as Keras'.
FASHION_MNIST_FOLDER = "fashion-mnist"

_FASHION_HELP = (
    "leave out `path:` to use the files specforge downloads (or finds in the Keras "
    "cache), or download the four files from https://github.com/zalandoresearch/fashion-mnist "
    "into that directory"
)


class FashionMnistParams(Params):
    path: str | None = Field(
        None,
        json_schema_extra={"format": "path"},
        description="Directory holding the four idx .gz files; default: downloaded on first "
        "use into the cache ($SPECFORGE_DATA_HOME or ~/.specforge/datasets), or Keras' copy.",
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
    """Load Fashion-MNIST from ``path``, or from a cache, downloading it on first use.

    Images stay float32 in 0..255: scaling is a preprocessing decision the
    spec makes explicitly, not something a reader should do behind its back.
    """
    found = _files_in(os.fspath(path)) if path is not None else _fetched_files()
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


def _fetched_files() -> dict[str, str]:
    """Each file from specforge's or Keras' cache if its checksum is right, else downloaded."""
    from specforge.data.fetch import RemoteFile, fetch

    reuse = _keras_dataset_dirs(FASHION_MNIST_FOLDER)
    found = {}
    for key, name in FASHION_MNIST_FILES.items():
        remote = RemoteFile(name, FASHION_MNIST_URL + name, FASHION_MNIST_SHA256[name])
        try:
            found[key] = fetch(
                remote, FASHION_MNIST_FOLDER, reuse=reuse, what=f"Fashion-MNIST's {name}"
            )
        except DataError as e:
            names = ", ".join(FASHION_MNIST_FILES.values())
            e.help = (
                f"{e.help}; all four files ({names}) are under {FASHION_MNIST_URL} "
                "and go in that folder"
            )
            raise
    return found


def _files_in(directory: str) -> dict[str, str]:
    """The four files in the user's ``directory`` (gzipped or not), or a DataError."""
    if not os.path.isdir(directory):
        why = "not a directory" if os.path.exists(directory) else "does not exist"
        raise DataError(
            f"Fashion-MNIST files not found; looked in:\n  {directory} ({why})",
            help=_FASHION_HELP,
            looked_in=[os.path.abspath(directory)],
        )
    files = {key: _find_in_dir(directory, name) for key, name in FASHION_MNIST_FILES.items()}
    missing = [FASHION_MNIST_FILES[k] for k, v in files.items() if v is None]
    if missing:
        raise DataError(
            "Fashion-MNIST files not found; looked in:\n"
            f"  {directory} (missing: {', '.join(missing)})",
            help=_FASHION_HELP,
            looked_in=[os.path.abspath(directory)],
        )
    return {k: v for k, v in files.items() if v is not None}


def _load(params: FashionMnistParams) -> Dataset:
    return load_fashion_mnist(params.path)


DATASET = DatasetType(
    "fashion_mnist",
    FashionMnistParams,
    _load,
    "Fashion-MNIST (downloaded on first use): 60,000 + 10,000 (official test split) images "
    "of 28×28, 10 classes",
)
