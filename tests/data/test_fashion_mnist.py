"""The fashion_mnist loader on the four IDX files, found where Keras caches them."""

from __future__ import annotations

import gzip
import os
import shutil

import numpy as np
import pytest
from data_helpers import make_fashion, trust_fashion, write_idx, write_text

from specforge.data.dataset import DataError, Dataset
from specforge.default_plugins.datasets import fashion_mnist
from specforge.default_plugins.datasets.fashion_mnist import (
    FASHION_MNIST_CLASSES,
    load_fashion_mnist,
)


def _check_fashion(ds: Dataset, arrays: dict[str, np.ndarray]) -> None:
    assert ds.task == "classification"
    assert ds.class_names == FASHION_MNIST_CLASSES
    assert ds.class_names[0] == "T-shirt/top" and ds.class_names[9] == "Ankle boot"
    assert ds.x.dtype == np.float32 and ds.x.shape == (5, 28, 28)
    assert ds.x_test is not None and ds.x_test.shape == (3, 28, 28)
    assert ds.y.dtype == np.int64 and ds.y_test.dtype == np.int64
    np.testing.assert_array_equal(ds.x, arrays["x_train"].astype(np.float32))
    np.testing.assert_array_equal(ds.y, arrays["y_train"])
    np.testing.assert_array_equal(ds.x_test, arrays["x_test"].astype(np.float32))
    np.testing.assert_array_equal(ds.y_test, arrays["y_test"])
    assert ds.x.max() > 1.0  # not scaled
    assert len(ds.feature_names) == 784 and ds.feature_names[0] == "pixel_0_0"


def test_fashion_from_path(tmp_path):
    arrays = make_fashion(tmp_path / "fm")
    ds = load_fashion_mnist(str(tmp_path / "fm"))
    _check_fashion(ds, arrays)


def test_fashion_matches_keras_parsing(tmp_path):
    # keras.datasets.fashion_mnist.load_data slices the gunzipped bytes at fixed
    # offsets (8 for labels, 16 for images); our header-checked reader must agree.
    arrays = make_fashion(tmp_path)
    with gzip.open(tmp_path / "train-labels-idx1-ubyte.gz", "rb") as fh:
        y_keras = np.frombuffer(fh.read(), np.uint8, offset=8)
    with gzip.open(tmp_path / "train-images-idx3-ubyte.gz", "rb") as fh:
        x_keras = np.frombuffer(fh.read(), np.uint8, offset=16).reshape(len(y_keras), 28, 28)
    ds = load_fashion_mnist(tmp_path)
    np.testing.assert_array_equal(ds.x, x_keras)
    np.testing.assert_array_equal(ds.y, y_keras)
    np.testing.assert_array_equal(x_keras, arrays["x_train"])


def test_fashion_uncompressed_files(tmp_path):
    arrays = make_fashion(tmp_path, gz=False)
    _check_fashion(load_fashion_mnist(tmp_path), arrays)


def test_fashion_default_keras_home(tmp_path, monkeypatch, no_tmp_keras):
    keras_home = tmp_path / "kh"
    arrays = make_fashion(keras_home / "datasets" / "fashion-mnist")
    trust_fashion(monkeypatch, keras_home / "datasets" / "fashion-mnist")
    monkeypatch.setenv("KERAS_HOME", str(keras_home))
    monkeypatch.setenv("HOME", str(tmp_path / "elsewhere"))
    _check_fashion(load_fashion_mnist(), arrays)


def test_fashion_default_home_dot_keras(tmp_path, monkeypatch, no_tmp_keras):
    home = tmp_path / "home"
    arrays = make_fashion(home / ".keras" / "datasets" / "fashion-mnist")
    trust_fashion(monkeypatch, home / ".keras" / "datasets" / "fashion-mnist")
    monkeypatch.delenv("KERAS_HOME", raising=False)
    monkeypatch.setenv("HOME", str(home))
    _check_fashion(load_fashion_mnist(), arrays)


def test_fashion_tmp_fallback(tmp_path, monkeypatch, no_tmp_keras):
    # Keras' get_file writes to /tmp/.keras when the keras home is not writable.
    arrays = make_fashion(no_tmp_keras / "datasets" / "fashion-mnist")
    trust_fashion(monkeypatch, no_tmp_keras / "datasets" / "fashion-mnist")
    monkeypatch.delenv("KERAS_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    _check_fashion(load_fashion_mnist(), arrays)


def test_keras_tmp_root_matches_keras():
    import tempfile

    expected = os.path.join("/tmp" if os.path.isdir("/tmp") else tempfile.gettempdir(), ".keras")
    assert fashion_mnist._keras_tmp_root() == expected


def test_fashion_missing_says_where_it_looked_and_how_to_place_the_files(
    tmp_path, monkeypatch, no_tmp_keras
):
    # Nothing cached anywhere, and the download fails (the tests' mirror is a closed port).
    home = tmp_path / "home"
    monkeypatch.delenv("KERAS_HOME", raising=False)
    monkeypatch.setenv("HOME", str(home))
    cache = os.path.join(os.environ["SPECFORGE_DATA_HOME"], "fashion-mnist")
    primary = str(home / ".keras" / "datasets" / "fashion-mnist")
    fallback = str(no_tmp_keras / "datasets" / "fashion-mnist")
    with pytest.raises(DataError) as ei:
        load_fashion_mnist()
    e = ei.value
    name = "train-labels-idx1-ubyte.gz"
    assert str(e).startswith(
        f"cannot download Fashion-MNIST's {name} from http://127.0.0.1:9/{name}: "
    )
    assert e.looked_in == [os.path.join(d, name) for d in (cache, primary, fallback)]
    assert f"save it as {os.path.join(cache, name)}" in e.help
    assert fashion_mnist.FASHION_MNIST_SHA256[name] in e.help
    assert "all four files" in e.help and "t10k-images-idx3-ubyte.gz" in e.help


def test_fashion_in_the_keras_cache_with_wrong_checksums_is_not_used(
    tmp_path, monkeypatch, no_tmp_keras
):
    keras_dir = tmp_path / "kh" / "datasets" / "fashion-mnist"
    make_fashion(keras_dir)  # generated files: not Zalando's
    before = {p.name: p.read_bytes() for p in keras_dir.iterdir()}
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "kh"))
    with pytest.raises(DataError, match="cannot download"):
        load_fashion_mnist()
    assert {p.name: p.read_bytes() for p in keras_dir.iterdir()} == before  # left alone


def test_fashion_partial_directory(tmp_path):
    make_fashion(tmp_path)
    os.remove(tmp_path / "t10k-labels-idx1-ubyte.gz")
    with pytest.raises(DataError) as ei:
        load_fashion_mnist(tmp_path)
    assert str(ei.value) == (
        "Fashion-MNIST files not found; looked in:\n"
        f"  {tmp_path} (missing: t10k-labels-idx1-ubyte.gz)"
    )
    assert ei.value.looked_in == [str(tmp_path)]


def test_fashion_path_is_a_file(tmp_path):
    f = write_text(tmp_path / "train-images-idx3-ubyte.gz", "")
    with pytest.raises(DataError, match=r"\(not a directory\)"):
        load_fashion_mnist(f)


def test_fashion_wrong_image_shape(tmp_path):
    make_fashion(tmp_path, image_shape=(32, 32))
    with pytest.raises(DataError) as ei:
        load_fashion_mnist(tmp_path)
    images = tmp_path / "train-images-idx3-ubyte.gz"
    assert str(ei.value) == (
        f"{images} does not hold 28x28 uint8 images: found uint8 with shape "
        "(5, 32, 32), expected (n, 28, 28)"
    )


def test_fashion_count_mismatch(tmp_path):
    make_fashion(tmp_path)
    write_idx(tmp_path / "train-labels-idx1-ubyte.gz", np.zeros(4, np.uint8))
    with pytest.raises(DataError) as ei:
        load_fashion_mnist(tmp_path)
    assert str(ei.value) == (
        f"{tmp_path / 'train-images-idx3-ubyte.gz'} holds 5 images but "
        f"{tmp_path / 'train-labels-idx1-ubyte.gz'} holds 4 labels"
    )


def test_fashion_swapped_files(tmp_path):
    make_fashion(tmp_path)
    lab = tmp_path / "train-labels-idx1-ubyte.gz"
    img = tmp_path / "train-images-idx3-ubyte.gz"
    shutil.move(lab, tmp_path / "tmp")
    shutil.move(img, lab)
    shutil.move(tmp_path / "tmp", img)
    with pytest.raises(DataError, match=r"is not an IDX label file: expected a 1-D uint8"):
        load_fashion_mnist(tmp_path)


def test_fashion_corrupt_file(tmp_path):
    make_fashion(tmp_path)
    (tmp_path / "t10k-images-idx3-ubyte.gz").write_bytes(b"garbage")
    with pytest.raises(DataError, match="is not a gzipped file"):
        load_fashion_mnist(tmp_path)
