"""The built-in dataset plugins, loaded through the registry exactly as a spec names them."""

from __future__ import annotations

import gzip
import struct
import subprocess
import sys

import numpy as np
import pytest
from data_helpers import trust_fashion

from specforge.default_plugins.datasets import fashion_mnist
from specforge.plugin import DataError
from specforge.registry import get_registry


def load(name: str, **params):
    dataset = get_registry().datasets[name]
    return dataset.load(dataset.params_model.model_validate(params))


def test_every_builtin_dataset_is_registered_through_the_hook_with_a_description():
    reg = get_registry()
    expected = {
        "iris",
        "digits",
        "wine",
        "breast_cancer",
        "diabetes",
        "fashion_mnist",
        "california_housing",
        "csv",
        "npz",
    }
    assert expected <= set(reg.datasets)
    for name in expected:
        assert reg.owner[("dataset", name)] == "specforge.default_plugins.datasets"
        assert reg.datasets[name].description


def test_loading_the_data_plugins_imports_neither_numpy_nor_scikit_learn():
    code = (
        "import sys, specforge.default_plugins.datasets, specforge.default_plugins.preprocessors;"
        "print(sorted({'numpy', 'sklearn'} & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize(
    ("name", "shape", "task", "classes"),
    [
        ("iris", (150, 4), "classification", 3),
        ("digits", (1797, 8, 8), "classification", 10),
        ("wine", (178, 13), "classification", 3),
        ("breast_cancer", (569, 30), "classification", 2),
        ("diabetes", (442, 10), "regression", None),
    ],
)
def test_scikit_learn_toy_datasets_load_offline(name, shape, task, classes):
    ds = load(name)
    assert ds.x.shape == shape and ds.x.dtype == np.float32
    assert ds.task == task
    assert (len(ds.class_names) if ds.class_names else None) == classes


def test_toy_datasets_take_no_parameters():
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        get_registry().datasets["iris"].params_model.model_validate({"path": "x"})


def _idx(arr: np.ndarray) -> bytes:
    return (
        struct.pack(">BBBB", 0, 0, 0x08, arr.ndim)
        + struct.pack(f">{arr.ndim}I", *arr.shape)
        + arr.tobytes()
    )


def _write_fashion(directory, n=4, shape=(28, 28)):
    directory.mkdir(parents=True)
    rng = np.random.default_rng(0)
    arrays = {
        "x_train": rng.integers(0, 256, (n, *shape), dtype=np.uint8),
        "y_train": rng.integers(0, 10, n, dtype=np.uint8),
        "x_test": rng.integers(0, 256, (2, *shape), dtype=np.uint8),
        "y_test": rng.integers(0, 10, 2, dtype=np.uint8),
    }
    for key, name in fashion_mnist.FASHION_MNIST_FILES.items():
        with gzip.open(directory / name, "wb") as fh:
            fh.write(_idx(arrays[key]))
    return arrays


def test_fashion_mnist_reads_the_keras_cache_under_keras_home(tmp_path, monkeypatch):
    arrays = _write_fashion(tmp_path / "home" / "datasets" / "fashion-mnist")
    trust_fashion(monkeypatch, tmp_path / "home" / "datasets" / "fashion-mnist")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "home"))
    ds = load("fashion_mnist")
    np.testing.assert_array_equal(ds.x, arrays["x_train"].astype(np.float32))
    np.testing.assert_array_equal(ds.y_test, arrays["y_test"])
    assert ds.class_names[0] == "T-shirt/top" and ds.x_test.shape == (2, 28, 28)


def test_fashion_mnist_reads_a_path(tmp_path):
    arrays = _write_fashion(tmp_path / "fm")
    ds = load("fashion_mnist", path=str(tmp_path / "fm"))
    np.testing.assert_array_equal(ds.y, arrays["y_train"])


def test_california_housing_reads_scikit_learns_cache_in_a_data_home(tmp_path):
    import joblib

    raw = np.array(
        [
            [-122.23, 37.88, 41.0, 880.0, 129.0, 322.0, 126.0, 8.3252, 452600.0],
            [-122.22, 37.86, 21.0, 7099.0, 1106.0, 2401.0, 1138.0, 8.3014, 358500.0],
        ]
    )
    joblib.dump(raw[:, [8, 7, 2, 3, 4, 5, 6, 1, 0]], tmp_path / "cal_housing_py3.pkz", compress=6)
    ds = load("california_housing", data_home=str(tmp_path))
    assert ds.feature_names[0] == "MedInc" and ds.x.shape == (2, 8)
    np.testing.assert_allclose(ds.y, [4.526, 3.585], rtol=1e-6)


def test_csv_dataset_passes_every_parameter_to_the_reader(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("a;b;label\n1;2;x\n3;;y\n5;6;x\n")
    ds = load(
        "csv", path=str(path), target="label", features=["a", "b"], delimiter=";", missing="mean"
    )
    np.testing.assert_array_equal(ds.x, [[1, 2], [3, 4], [5, 6]])
    assert ds.class_names == ["x", "y"] and ds.task == "classification"


def test_npz_dataset_reads_named_arrays_and_an_own_test_split(tmp_path):
    path = tmp_path / "d.npz"
    np.savez(path, a=np.ones((5, 3)), b=np.arange(5.0), at=np.zeros((2, 3)), bt=np.ones(2))
    ds = load("npz", path=str(path), x_key="a", y_key="b", x_test_key="at", y_test_key="bt")
    assert ds.task == "regression" and ds.x_test.shape == (2, 3)


def test_missing_files_raise_data_errors_saying_where_they_looked(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "nothing"))
    monkeypatch.setattr(fashion_mnist, "_keras_tmp_root", lambda: str(tmp_path / "no-tmp"))
    with pytest.raises(DataError) as e:
        load("fashion_mnist")
    assert "cannot download Fashion-MNIST's" in e.value.message
    assert str(tmp_path / "nothing" / "datasets" / "fashion-mnist") in e.value.looked_in[1]
    with pytest.raises(DataError) as e:
        load("california_housing", data_home=str(tmp_path))
    assert e.value.looked_in == [
        str(tmp_path / "cal_housing_py3.pkz"),
        str(tmp_path / "cal_housing.tgz"),
    ]
    with pytest.raises(DataError, match="CSV file not found"):
        load("csv", path=str(tmp_path / "none.csv"), target=0)


@pytest.mark.parametrize("name", ["iris", "digits", "wine", "breast_cancer", "diabetes"])
def test_builtin_toy_datasets_pass_the_plugin_conformance_checks(name):
    from specforge.testing import check_dataset

    check_dataset(name)
