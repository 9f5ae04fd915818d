"""Tests for specforge.data.readers on small files written in the real formats."""

from __future__ import annotations

import gzip
import io
import os
import pickle
import shutil
import struct
import tarfile

import numpy as np
import pytest

from specforge.data import readers
from specforge.data.readers import (
    CALIFORNIA_FEATURES,
    FASHION_MNIST_CLASSES,
    DataError,
    Dataset,
    check_finite,
    load_california_housing,
    load_fashion_mnist,
    load_sklearn_toy,
    read_csv,
    read_idx,
    read_npz,
)

# ---------------------------------------------------------------------------
# helpers

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
    for key, name in readers.FASHION_MNIST_FILES.items():
        if not gz:
            name = name.removesuffix(".gz")
        write_idx(os.path.join(directory, name), arrays[key])
    return arrays


@pytest.fixture
def no_tmp_keras(tmp_path, monkeypatch):
    """Point Keras' /tmp/.keras fallback at an empty directory."""
    root = tmp_path / "tmp-keras"
    monkeypatch.setattr(readers, "_keras_tmp_root", lambda: str(root))
    return root


def write_text(path, text: str) -> str:
    path = str(path)
    with open(path, "w", encoding="utf-8", newline="") as fh:
        fh.write(text)
    return path


# ---------------------------------------------------------------------------
# DataError / Dataset / check_finite


def test_data_error_attributes():
    e = DataError("boom", hint="do this", looked_in=["/a", "/b"])
    assert str(e) == "boom"
    assert e.message == "boom"
    assert e.hint == "do this"
    assert e.looked_in == ["/a", "/b"]
    plain = DataError("x")
    assert plain.hint is None and plain.looked_in is None


def test_dataset_is_frozen_and_validates_task():
    ds = Dataset(np.zeros((2, 1), np.float32), None, ["a"], [], "regression", None)
    with pytest.raises(AttributeError):
        ds.task = "classification"  # type: ignore[misc]
    with pytest.raises(ValueError, match="task must be one of"):
        Dataset(np.zeros((2, 1)), None, ["a"], [], "clustering", None)
    with pytest.raises(ValueError, match="x has 2 samples but y has 3"):
        Dataset(np.zeros((2, 1)), np.zeros(3), ["a"], ["t"], "regression", None)


def test_check_finite():
    check_finite(np.ones((3, 2), np.float32), "features", "f.csv")
    check_finite(np.arange(6).reshape(3, 2), "features", "f.csv")  # ints always finite
    x = np.zeros((4, 2, 2), np.float32)
    x[2, 1, 0] = np.nan
    x[3, 0, 0] = np.inf
    with pytest.raises(DataError) as ei:
        check_finite(x, "features", "f.npz")
    assert str(ei.value) == (
        "features in f.npz contain 2 non-finite value(s) (NaN or inf); "
        "the first is in row 2 (0-based)"
    )
    assert ei.value.hint


# ---------------------------------------------------------------------------
# read_idx


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
    assert "download" in ei.value.hint


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


# ---------------------------------------------------------------------------
# Fashion-MNIST


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
    monkeypatch.setenv("KERAS_HOME", str(keras_home))
    monkeypatch.setenv("HOME", str(tmp_path / "elsewhere"))
    _check_fashion(load_fashion_mnist(), arrays)


def test_fashion_default_home_dot_keras(tmp_path, monkeypatch, no_tmp_keras):
    home = tmp_path / "home"
    arrays = make_fashion(home / ".keras" / "datasets" / "fashion-mnist")
    monkeypatch.delenv("KERAS_HOME", raising=False)
    monkeypatch.setenv("HOME", str(home))
    _check_fashion(load_fashion_mnist(), arrays)


def test_fashion_tmp_fallback(tmp_path, monkeypatch, no_tmp_keras):
    # Keras' get_file writes to /tmp/.keras when the keras home is not writable.
    arrays = make_fashion(no_tmp_keras / "datasets" / "fashion-mnist")
    monkeypatch.delenv("KERAS_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    _check_fashion(load_fashion_mnist(), arrays)


def test_keras_tmp_root_matches_keras():
    import tempfile

    expected = os.path.join("/tmp" if os.path.isdir("/tmp") else tempfile.gettempdir(), ".keras")
    assert readers._keras_tmp_root() == expected


def test_fashion_missing_lists_every_directory(tmp_path, monkeypatch, no_tmp_keras):
    home = tmp_path / "home"
    monkeypatch.delenv("KERAS_HOME", raising=False)
    monkeypatch.setenv("HOME", str(home))
    primary = str(home / ".keras" / "datasets" / "fashion-mnist")
    fallback = str(no_tmp_keras / "datasets" / "fashion-mnist")
    with pytest.raises(DataError) as ei:
        load_fashion_mnist()
    e = ei.value
    assert str(e) == (
        "Fashion-MNIST files not found; looked in:\n"
        f"  {primary} (does not exist)\n"
        f"  {fallback} (does not exist)"
    )
    assert e.looked_in == [primary, fallback]
    assert "keras.datasets.fashion_mnist.load_data()" in e.hint
    assert "https://github.com/zalandoresearch/fashion-mnist" in e.hint
    assert "path:" in e.hint


def test_fashion_missing_with_keras_home(tmp_path, monkeypatch, no_tmp_keras):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "kh"))
    with pytest.raises(DataError) as ei:
        load_fashion_mnist()
    assert ei.value.looked_in[0] == str(tmp_path / "kh" / "datasets" / "fashion-mnist")


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


# ---------------------------------------------------------------------------
# California housing

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


def make_cal_tgz(path, rows: np.ndarray = CAL_ROWS, member: str = readers.CALIFORNIA_MEMBER):
    buf = io.StringIO()
    np.savetxt(buf, rows, fmt="%f", delimiter=",")  # the real file's "%f" layout
    data = buf.getvalue().encode()
    with tarfile.open(path, "w:gz") as tar:
        info = tarfile.TarInfo(member)
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return str(path)


def sklearn_fetch_from_archive(archive: str, data_home, monkeypatch):
    """Run sklearn's own fetch_california_housing on our archive (no network):
    its download step is replaced by a copy; it writes cal_housing_py3.pkz."""
    import sklearn.datasets._california_housing as skcal

    os.makedirs(data_home, exist_ok=True)
    target = os.path.join(data_home, "cal_housing.tgz")

    def fake_fetch_remote(remote, dirname=None, n_retries=3, delay=1):
        shutil.copy(archive, target)
        return target

    monkeypatch.setattr(skcal, "_fetch_remote", fake_fetch_remote)
    return skcal.fetch_california_housing(data_home=str(data_home))


def test_california_archive_equals_sklearn(tmp_path, monkeypatch):
    archive = make_cal_tgz(tmp_path / "cal_housing.tgz")
    ds = load_california_housing(archive)
    ref = sklearn_fetch_from_archive(archive, tmp_path / "skl", monkeypatch)
    assert ds.feature_names == list(ref.feature_names) == CALIFORNIA_FEATURES
    assert ds.target_names == ["MedHouseVal"] == list(ref.target_names)
    assert ds.task == "regression" and ds.class_names is None
    assert ds.x.dtype == np.float32 and ds.x.shape == (5, 8)
    assert ds.y.dtype == np.float32 and ds.y.shape == (5,)
    np.testing.assert_array_equal(ds.x, ref.data.astype(np.float32))
    np.testing.assert_array_equal(ds.y, ref.target.astype(np.float32))


def test_california_transformation_by_hand(tmp_path):
    ds = load_california_housing(make_cal_tgz(tmp_path / "cal_housing.tgz"))
    lon, lat, age, rooms, beds, pop, hh, inc, _value = CAL_ROWS[0]
    expected = [inc, age, rooms / hh, beds / hh, pop, pop / hh, lat, lon]
    np.testing.assert_allclose(ds.x[0], expected, rtol=1e-6)
    assert ds.y[0] == pytest.approx(4.526)


def test_california_sklearn_cache(tmp_path, monkeypatch):
    archive = make_cal_tgz(tmp_path / "cal_housing.tgz")
    home = tmp_path / "scikit_learn_data"
    ref = sklearn_fetch_from_archive(archive, home, monkeypatch)
    assert sorted(os.listdir(home)) == ["cal_housing_py3.pkz"]  # sklearn removed the tgz
    ds = load_california_housing(data_home=str(home))
    np.testing.assert_array_equal(ds.x, ref.data.astype(np.float32))
    np.testing.assert_array_equal(ds.y, ref.target.astype(np.float32))
    # the same cache through $SCIKIT_LEARN_DATA and through a directory `path`
    monkeypatch.setenv("SCIKIT_LEARN_DATA", str(home))
    np.testing.assert_array_equal(load_california_housing().x, ds.x)
    np.testing.assert_array_equal(load_california_housing(str(home)).y, ds.y)


def test_california_cache_path_is_sklearns(tmp_path):
    from sklearn.datasets._base import _pkl_filepath

    assert readers._california_cache_file(str(tmp_path)) == _pkl_filepath(
        str(tmp_path), "cal_housing.pkz"
    )


def test_california_cache_written_with_joblib(tmp_path):
    # The cache exactly as fetch_california_housing writes it: the reordered raw
    # table (target first) dumped with joblib, compress=6.
    import joblib

    cal = CAL_ROWS[:, [8, 7, 2, 3, 4, 5, 6, 1, 0]]
    joblib.dump(cal, tmp_path / "cal_housing_py3.pkz", compress=6)
    ds = load_california_housing(data_home=tmp_path)
    np.testing.assert_allclose(ds.y, CAL_ROWS[:, 8] / 100000.0, rtol=1e-6)
    np.testing.assert_allclose(ds.x[:, 5], CAL_ROWS[:, 5] / CAL_ROWS[:, 6], rtol=1e-6)


def test_california_archive_in_data_home(tmp_path):
    make_cal_tgz(tmp_path / "cal_housing.tgz")
    ds = load_california_housing(data_home=tmp_path)
    assert ds.x.shape == (5, 8)


def test_california_missing_cache(tmp_path, monkeypatch):
    home = tmp_path / "nothing-here"
    cache = str(home / "cal_housing_py3.pkz")
    archive = str(home / "cal_housing.tgz")
    with pytest.raises(DataError) as ei:
        load_california_housing(data_home=str(home))
    e = ei.value
    assert str(e) == (
        f"California housing not found: scikit-learn's cache file {cache} does not "
        f"exist (nor does {archive})"
    )
    assert e.looked_in == [cache, archive]
    assert "fetch_california_housing()" in e.hint and "path:" in e.hint
    assert not home.exists()  # looking does not create directories


def test_california_default_home(tmp_path, monkeypatch):
    monkeypatch.delenv("SCIKIT_LEARN_DATA", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    with pytest.raises(DataError) as ei:
        load_california_housing()
    assert ei.value.looked_in[0] == str(tmp_path / "scikit_learn_data" / "cal_housing_py3.pkz")


def test_california_csv(tmp_path):
    ref = load_california_housing(make_cal_tgz(tmp_path / "cal_housing.tgz"))
    # columns deliberately in another order: they are selected by name
    cols = ["MedHouseVal", *reversed(CALIFORNIA_FEATURES)]
    lines = [",".join(cols)]
    for xr, yr in zip(ref.x.astype(np.float64), ref.y.astype(np.float64), strict=True):
        lines.append(",".join(repr(float(v)) for v in [yr, *reversed(list(xr))]))
    p = write_text(tmp_path / "housing.csv", "\n".join(lines) + "\n")
    ds = load_california_housing(p)
    assert ds.feature_names == CALIFORNIA_FEATURES
    np.testing.assert_array_equal(ds.x, ref.x)
    np.testing.assert_array_equal(ds.y, ref.y)
    assert ds.y.shape == (5,)


def test_california_csv_missing_column(tmp_path):
    p = write_text(tmp_path / "h.csv", "MedInc,HouseAge,MedHouseVal\n1,2,3\n")
    with pytest.raises(DataError, match="feature column 'AveRooms' not found"):
        load_california_housing(p)


def test_california_bad_archives(tmp_path):
    missing = tmp_path / "cal_housing.tgz"
    with pytest.raises(DataError) as ei:
        load_california_housing(missing)
    assert str(ei.value) == f"California housing file not found: {missing}"
    assert ei.value.looked_in == [str(missing)]

    wrong = make_cal_tgz(tmp_path / "other.tgz", member="data/other.txt")
    with pytest.raises(DataError) as ei:
        load_california_housing(wrong)
    assert str(ei.value) == (
        f"{wrong} has no member CaliforniaHousing/cal_housing.data (members: data/other.txt)"
    )

    with open(make_cal_tgz(tmp_path / "whole.tgz"), "rb") as fh:
        whole = fh.read()
    truncated = tmp_path / "trunc.tgz"
    truncated.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(DataError, match="is not a readable tar archive"):
        load_california_housing(truncated)

    narrow = make_cal_tgz(tmp_path / "narrow.tgz", rows=CAL_ROWS[:, :8])
    with pytest.raises(DataError, match=r"has shape \(5, 8\); expected rows of 9"):
        load_california_housing(narrow)


def test_california_zero_households_is_not_finite(tmp_path):
    rows = CAL_ROWS.copy()
    rows[3, 6] = 0.0
    with pytest.raises(DataError, match=r"the first is in row 3 \(0-based\)"):
        load_california_housing(make_cal_tgz(tmp_path / "cal_housing.tgz", rows=rows))


# ---------------------------------------------------------------------------
# scikit-learn toy data sets


@pytest.mark.parametrize(
    "name, shape, task, n_classes",
    [
        ("iris", (150, 4), "classification", 3),
        ("digits", (1797, 8, 8), "classification", 10),
        ("wine", (178, 13), "classification", 3),
        ("breast_cancer", (569, 30), "classification", 2),
        ("diabetes", (442, 10), "regression", None),
    ],
)
def test_sklearn_toy(name, shape, task, n_classes):
    ds = load_sklearn_toy(name)
    assert ds.x.shape == shape and ds.x.dtype == np.float32
    assert ds.task == task
    assert ds.y.shape == (shape[0],)
    assert ds.target_names == ["target"]
    if n_classes is None:
        assert ds.class_names is None and ds.y.dtype == np.float32
    else:
        assert len(ds.class_names) == n_classes and ds.y.dtype == np.int64
        assert set(np.unique(ds.y)) == set(range(n_classes))
    if name == "digits":
        assert ds.feature_names[:2] == ["pixel_0_0", "pixel_0_1"] and len(ds.feature_names) == 64
    if name == "iris":
        assert ds.class_names == ["setosa", "versicolor", "virginica"]
        assert ds.feature_names[0] == "sepal length (cm)"


def test_sklearn_toy_unknown():
    with pytest.raises(DataError) as ei:
        load_sklearn_toy("irsi")
    assert str(ei.value) == "unknown scikit-learn toy data set 'irsi'; did you mean 'iris'?"
    assert "breast_cancer" in ei.value.hint
    assert load_sklearn_toy("Breast-Cancer").x.shape == (569, 30)


# ---------------------------------------------------------------------------
# read_csv

CSV = "a,b,label,price\n1,2,cat,10.5\n3,4,dog,20\n5,6,cat,30\n"


def test_csv_basic_numeric_target(tmp_path):
    p = write_text(tmp_path / "d.csv", CSV)
    ds = read_csv(p, target="price", features=["a", "b"])
    assert ds.task == "regression" and ds.class_names is None
    assert ds.feature_names == ["a", "b"] and ds.target_names == ["price"]
    assert ds.x.dtype == np.float32 and ds.y.dtype == np.float32
    np.testing.assert_array_equal(ds.x, [[1, 2], [3, 4], [5, 6]])
    np.testing.assert_array_equal(ds.y, [10.5, 20, 30])


def test_csv_categorical_target_and_default_features(tmp_path):
    p = write_text(tmp_path / "d.csv", CSV)
    ds = read_csv(p, target="label", features=[0, "b", -1])
    assert ds.task == "classification"
    assert ds.class_names == ["cat", "dog"]
    assert ds.y.dtype == np.int64
    np.testing.assert_array_equal(ds.y, [0, 1, 0])
    assert ds.feature_names == ["a", "b", "price"]
    with pytest.raises(DataError, match="non-numeric value 'cat'"):
        read_csv(p, target="price")  # default features include the label column


def test_csv_feature_slice_and_indices(tmp_path):
    p = write_text(tmp_path / "d.csv", CSV)
    ds = read_csv(p, target=-1, features="0:2")
    assert ds.feature_names == ["a", "b"] and ds.target_names == ["price"]
    ds = read_csv(p, target=3, features="-4:-2")
    assert ds.feature_names == ["a", "b"]
    ds = read_csv(p, target="price", features="1::-1")
    assert ds.feature_names == ["b", "a"]
    with pytest.raises(DataError, match="selects no columns"):
        read_csv(p, target="price", features="3:1")


def test_csv_feature_slice_overlapping_target(tmp_path):
    p = write_text(tmp_path / "d.csv", "a,b,y\n1,2,3\n")
    with pytest.raises(DataError) as ei:
        read_csv(p, target="y", features=":")
    assert str(ei.value) == "column 'y' (index 2) is both a feature and the target"


def test_csv_task_override(tmp_path):
    p = write_text(tmp_path / "d.csv", "x,y\n0.5,3\n1.5,1\n2.5,3\n")
    ds = read_csv(p, target="y", task="classification")
    assert ds.task == "classification" and ds.class_names == ["1", "3"]
    np.testing.assert_array_equal(ds.y, [1, 0, 1])
    with pytest.raises(DataError, match=r"holds non-integer value 0\.5 \(line 2\)"):
        read_csv(p, target="x", features=["y"], task="classification")
    q = write_text(tmp_path / "c.csv", CSV)
    with pytest.raises(DataError, match="cannot be a regression target"):
        read_csv(q, target="label", features=["a"], task="regression")
    with pytest.raises(ValueError, match="task must be one of"):
        read_csv(q, target="a", task="ranking")


def test_csv_label_target_keeps_none_and_na_labels(tmp_path):
    p = write_text(tmp_path / "d.csv", "a,sev\n1,none\n2,mild\n3,NA\n4,\n")
    with pytest.raises(DataError, match=r"line 5, column 'sev' \(index 1\) has a missing value"):
        read_csv(p, target="sev")
    ds = read_csv(p, target="sev", missing="drop")
    assert ds.class_names == ["NA", "mild", "none"]
    assert ds.y.tolist() == [2, 1, 0]


def test_csv_no_header(tmp_path):
    p = write_text(tmp_path / "d.csv", "1;2;0\n3;4;1\n")
    ds = read_csv(p, target=2, header=False, delimiter=";")
    assert ds.feature_names == ["col0", "col1"] and ds.target_names == ["col2"]
    np.testing.assert_array_equal(ds.y, [0, 1])
    with pytest.raises(DataError, match="header=False, so columns have no names"):
        read_csv(p, target="label", header=False, delimiter=";")


def test_csv_no_target(tmp_path):
    ds = read_csv(write_text(tmp_path / "d.csv", "a,b\n1,2\n"), target=None)
    assert ds.y is None and ds.target_names == [] and ds.x.shape == (1, 2)


def test_csv_multiple_targets(tmp_path):
    p = write_text(tmp_path / "d.csv", "a,t1,t2\n1,2,3\n4,5,6\n")
    ds = read_csv(p, target=["t1", "t2"])
    assert ds.y.shape == (2, 2) and ds.target_names == ["t1", "t2"]


def test_csv_quoting_bom_and_blank_lines(tmp_path):
    p = tmp_path / "d.csv"
    p.write_bytes('\ufeff"a",b,"the, label"\n1,2,"x, y"\n\n3,4,z\n'.encode())
    ds = read_csv(p, target="the, label")
    assert ds.class_names == ["x, y", "z"]
    np.testing.assert_array_equal(ds.x, [[1, 2], [3, 4]])


def test_csv_missing_error(tmp_path):
    p = write_text(tmp_path / "d.csv", "a,b,y\n1,2,3\n4,,5\n6,NaN,7\n")
    with pytest.raises(DataError) as ei:
        read_csv(p, target="y")
    assert str(ei.value) == f"{p}: line 3, column 'b' (index 1) has a missing value ('')"
    assert "missing='drop'" in ei.value.hint and "missing='mean'" in ei.value.hint


def test_csv_nan_in_features(tmp_path):
    p = write_text(tmp_path / "d.csv", "a,b,y\n1,2,3\n6,nan,7\n")
    with pytest.raises(DataError) as ei:
        read_csv(p, target="y")
    assert str(ei.value) == f"{p}: line 3, column 'b' (index 1) has a missing value ('nan')"
    p = write_text(tmp_path / "e.csv", "a,b,y\n1,inf,3\n")
    with pytest.raises(DataError) as ei:
        read_csv(p, target="y", missing="mean")
    assert str(ei.value) == f"{p}: line 2, column 'b' (index 1) has an infinite value 'inf'"


def test_csv_missing_drop_and_mean(tmp_path):
    p = write_text(tmp_path / "d.csv", "a,b,y\n1,2,3\n4,,5\n6,NaN,7\n8,10,\n")
    ds = read_csv(p, target="y", missing="drop")
    np.testing.assert_array_equal(ds.x, [[1, 2]])
    np.testing.assert_array_equal(ds.y, [3])
    ds = read_csv(p, target="y", missing="mean")
    # the row with a missing target is dropped; b's mean is over present values
    # of the kept rows (only 2)
    np.testing.assert_array_equal(ds.x, [[1, 2], [4, 2], [6, 2]])
    np.testing.assert_array_equal(ds.y, [3, 5, 7])
    with pytest.raises(ValueError, match="missing must be one of"):
        read_csv(p, target="y", missing="zero")


def test_csv_mean_on_empty_column(tmp_path):
    p = write_text(tmp_path / "d.csv", "a,b,y\n1,,3\n4,,5\n")
    with pytest.raises(DataError, match=r"column 'b' \(index 1\) has no values at all"):
        read_csv(p, target="y", missing="mean")
    with pytest.raises(DataError, match="every row has a missing value"):
        read_csv(p, target="y", missing="drop")


def test_csv_unknown_column_did_you_mean(tmp_path):
    p = write_text(tmp_path / "d.csv", CSV)
    with pytest.raises(DataError) as ei:
        read_csv(p, target="pricee")
    assert str(ei.value) == f"target column 'pricee' not found in {p}; did you mean 'price'?"
    assert "'a', 'b', 'label', 'price'" in ei.value.hint
    with pytest.raises(DataError) as ei:
        read_csv(p, target="Label", features=["a"])
    assert "did you mean 'label'?" in str(ei.value)
    with pytest.raises(DataError) as ei:
        read_csv(p, target="price", features=["zzz"])
    assert str(ei.value) == f"feature column 'zzz' not found in {p}"


def test_csv_wrong_delimiter_hint(tmp_path):
    p = write_text(tmp_path / "d.csv", "a;b;y\n1;2;3\n")
    with pytest.raises(DataError) as ei:
        read_csv(p, target="y")
    assert "pass delimiter=';'" in ei.value.hint


def test_csv_index_out_of_range(tmp_path):
    p = write_text(tmp_path / "d.csv", CSV)
    with pytest.raises(DataError) as ei:
        read_csv(p, target=4)
    assert str(ei.value) == (
        f"target column index 4 is out of range: {p} has 4 column(s) (valid indices -4..3)"
    )
    with pytest.raises(DataError, match="index -5 is out of range"):
        read_csv(p, target=-5)


def test_csv_ragged_row(tmp_path):
    p = write_text(tmp_path / "d.csv", "a,b,y\n1,2,3\n4,5\n")
    with pytest.raises(DataError) as ei:
        read_csv(p, target="y")
    assert str(ei.value) == f"{p}: line 3 has 2 field(s), expected 3 (as in the header)"


def test_csv_non_numeric_feature(tmp_path):
    p = write_text(tmp_path / "d.csv", "a,b,y\n1,2,3\n4,five,5\n")
    with pytest.raises(DataError) as ei:
        read_csv(p, target="y", missing="drop")
    assert str(ei.value) == f"{p}: line 3, column 'b' (index 1) has a non-numeric value 'five'"


def test_csv_missing_empty_and_header_only(tmp_path):
    missing = tmp_path / "nope.csv"
    with pytest.raises(DataError) as ei:
        read_csv(missing, target="y")
    assert str(ei.value) == f"CSV file not found: {missing}"
    assert ei.value.looked_in == [str(missing)]
    empty = write_text(tmp_path / "empty.csv", "\n\n")
    with pytest.raises(DataError) as ei:
        read_csv(empty, target="y")
    assert str(ei.value) == f"{empty} is empty"
    header_only = write_text(tmp_path / "h.csv", "a,y\n")
    with pytest.raises(DataError) as ei:
        read_csv(header_only, target="y")
    assert str(ei.value) == f"{header_only} has a header (line 1) but no data rows"


def test_csv_duplicate_feature(tmp_path):
    p = write_text(tmp_path / "d.csv", CSV)
    with pytest.raises(DataError, match="more than once"):
        read_csv(p, target="price", features=["a", 0])


# ---------------------------------------------------------------------------
# read_npz


def test_npz_classification_with_test_split(tmp_path):
    p = tmp_path / "d.npz"
    x = np.arange(12, dtype=np.float64).reshape(4, 3)
    np.savez(p, x=x, y=np.array([0, 2, 1, 2]), xt=x[:2], yt=np.array([1, 0]))
    ds = read_npz(p, x_test_key="xt", y_test_key="yt")
    assert ds.task == "classification"
    assert ds.class_names == ["0", "1", "2"]
    assert ds.x.dtype == np.float32 and ds.y.dtype == np.int64
    assert ds.x_test.shape == (2, 3) and ds.y_test.tolist() == [1, 0]
    assert ds.feature_names == ["x_0", "x_1", "x_2"] and ds.target_names == ["y"]


def test_npz_regression_and_override(tmp_path):
    p = tmp_path / "d.npz"
    np.savez(p, x=np.ones((3, 2, 2)), y=np.array([0.5, 1.0, 2.0]))
    ds = read_npz(p)
    assert ds.task == "regression" and ds.y.dtype == np.float32
    assert ds.feature_names == ["x_0_0", "x_0_1", "x_1_0", "x_1_1"]
    q = tmp_path / "e.npz"
    np.savez(q, x=np.ones((3, 2)), y=np.array([0, 1, 1]))
    assert read_npz(q, task="regression").y.dtype == np.float32
    np.savez(q, x=np.ones((3, 2)), y=np.array([0.0, 1.0, 1.0]))
    assert read_npz(q, task="classification").y.tolist() == [0, 1, 1]


def test_npz_names_and_no_target(tmp_path):
    p = tmp_path / "d.npz"
    np.savez(
        p,
        features=np.ones((2, 2)),
        y=np.array([0, 1]),
        feature_names=np.array(["h", "w"]),
        class_names=np.array(["no", "yes"]),
    )
    ds = read_npz(p, x_key="features")
    assert ds.feature_names == ["h", "w"] and ds.class_names == ["no", "yes"]
    ds = read_npz(p, x_key="features", y_key=None)
    assert ds.y is None


def test_npz_label_shapes(tmp_path):
    p = tmp_path / "d.npz"
    np.savez(p, x=np.ones((3, 2)), y=np.array([[0], [1], [1]]))
    assert read_npz(p).y.tolist() == [0, 1, 1]
    onehot = np.array([[0, 1, 0, 0], [1, 0, 0, 0], [0, 1, 0, 0]])
    np.savez(p, x=np.ones((3, 2)), y=onehot)
    ds = read_npz(p)
    assert ds.y.tolist() == [1, 0, 1] and ds.class_names == ["0", "1", "2", "3"]
    np.savez(p, x=np.ones((3, 2)), y=np.array([[0, 2], [1, 1], [1, 0]]))
    with pytest.raises(DataError, match=r"has shape \(3, 2\); classification needs"):
        read_npz(p)
    assert read_npz(p, task="regression").y.shape == (3, 2)


def test_npz_object_array(tmp_path):
    p = tmp_path / "d.npz"
    np.savez(p, x=np.array([[1, "a"]], dtype=object), y=np.array([0]))
    with pytest.raises(DataError) as ei:
        read_npz(p)
    assert str(ei.value).startswith(f"array 'x' in {p} is an object array")
    assert "pickle" in str(ei.value)


def test_npz_missing_key(tmp_path):
    p = tmp_path / "d.npz"
    np.savez(p, x=np.ones((2, 2)), a=np.zeros(2))
    with pytest.raises(DataError) as ei:
        read_npz(p)
    assert str(ei.value) == f"{p} has no array 'y' (keys present: 'a', 'x')"
    assert "y_key=None" in ei.value.hint
    with pytest.raises(DataError, match=r"has no array 'X'; did you mean 'x'\?"):
        read_npz(p, x_key="X", y_key="a")


def test_npz_length_mismatch(tmp_path):
    p = tmp_path / "d.npz"
    np.savez(p, x=np.ones((3, 2)), y=np.array([0, 1]))
    with pytest.raises(DataError) as ei:
        read_npz(p)
    assert str(ei.value) == f"{p}: 'x' has 3 samples but 'y' has 2"


def test_npz_nan_in_features(tmp_path):
    p = tmp_path / "d.npz"
    x = np.ones((3, 2))
    x[1, 1] = np.nan
    np.savez(p, x=x, y=np.array([0, 1, 0]))
    with pytest.raises(DataError) as ei:
        read_npz(p)
    assert str(ei.value) == (
        f"features in {p}['x'] contain 1 non-finite value(s) (NaN or inf); "
        "the first is in row 1 (0-based)"
    )


def test_npz_bad_files(tmp_path):
    missing = tmp_path / "nope.npz"
    with pytest.raises(DataError) as ei:
        read_npz(missing)
    assert str(ei.value) == f"NPZ file not found: {missing}"
    npy = tmp_path / "a.npy"
    np.save(npy, np.ones(3))
    with pytest.raises(DataError, match=r"is a single \.npy array"):
        read_npz(npy)
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"hello world")
    with pytest.raises(DataError) as ei:
        read_npz(junk)
    assert str(ei.value) == (
        f"{junk} is not an .npz archive (it does not start with the zip signature 'PK')"
    )
    pickled = tmp_path / "p.npz"
    pickled.write_bytes(pickle.dumps({"x": [1, 2]}))
    with pytest.raises(
        DataError, match=r"is a Python pickle, not an \.npz archive; specforge never"
    ):
        read_npz(pickled)
    truncated = tmp_path / "t.npz"
    np.savez(truncated, x=np.ones((50, 50)), y=np.zeros(50))
    truncated.write_bytes(truncated.read_bytes()[:300])
    with pytest.raises(DataError, match=r"cannot read .* as an \.npz archive"):
        read_npz(truncated)
    strings = tmp_path / "s.npz"
    np.savez(strings, x=np.array([["a", "b"]]), y=np.array([0]))
    with pytest.raises(DataError, match="has dtype <U1; expected numbers"):
        read_npz(strings)
    neg = tmp_path / "neg.npz"
    np.savez(neg, x=np.ones((2, 1)), y=np.array([-1, 0]))
    with pytest.raises(DataError, match="negative label"):
        read_npz(neg)
