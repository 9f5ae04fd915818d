"""The scikit-learn toy data sets, loaded offline."""

from __future__ import annotations

import numpy as np
import pytest

from specforge.data.dataset import DataError
from specforge.default_plugins.datasets.toy import load_sklearn_toy


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
    assert "breast_cancer" in ei.value.help
    assert load_sklearn_toy("Breast-Cancer").x.shape == (569, 30)
