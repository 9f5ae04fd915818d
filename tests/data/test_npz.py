"""read_npz on arrays saved with np.savez, and the files it refuses (never unpickled)."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from specforge.data.dataset import DataError
from specforge.data.npz import read_npz


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
    assert "y_key=None" in ei.value.help
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
        DataError,
        match=r"is a Python pickle, not an \.npz archive; specforge reads \.npz files without unpickling",
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
