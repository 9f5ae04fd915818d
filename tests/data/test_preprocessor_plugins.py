"""The built-in preprocessors: scikit-learn's arithmetic, state as plain data, images per pixel."""

from __future__ import annotations

import json

import numpy as np
import pytest

from specforge.plugin import DataError
from specforge.registry import get_registry


def make(name: str, **params):
    pre = get_registry().preprocessors[name]
    return pre.create(pre.params_model.model_validate(params))


@pytest.fixture
def x():
    rng = np.random.default_rng(0)
    x = rng.normal(3, 2, (50, 6)).astype(np.float32)
    x[:, 4] = 7.0  # a constant column
    return x


def test_builtin_preprocessors_are_registered_with_what_they_apply_to():
    reg = get_registry()
    kinds = {
        name: reg.preprocessors[name].applies_to
        for name in ("standard_scaler", "minmax_scaler", "scale", "one_hot")
    }
    assert kinds == {
        "standard_scaler": "features",
        "minmax_scaler": "features",
        "scale": "features",
        "one_hot": "targets",
    }


def test_standard_scaler_matches_scikit_learn(x):
    from sklearn.preprocessing import StandardScaler

    s = make("standard_scaler")
    s.fit(x[:40])
    got = s.transform(x[40:])
    assert got.dtype == np.float32
    np.testing.assert_allclose(
        got, StandardScaler().fit(x[:40].astype(np.float64)).transform(x[40:]), rtol=1e-5, atol=1e-6
    )


def test_minmax_scaler_matches_scikit_learn_including_a_constant_column(x):
    from sklearn.preprocessing import MinMaxScaler

    s = make("minmax_scaler", feature_range=[-1, 1])
    s.fit(x[:40])
    want = MinMaxScaler(feature_range=(-1, 1)).fit(x[:40].astype(np.float64)).transform(x[40:])
    np.testing.assert_allclose(s.transform(x[40:]), want, rtol=1e-5, atol=1e-6)


def test_minmax_scaler_on_flattened_images_is_the_chapters_pipeline():
    """Flatten 28×28 → MinMaxScaler per pixel → reshape, as the chapter does by hand."""
    from sklearn.preprocessing import MinMaxScaler

    rng = np.random.default_rng(1)
    images = rng.integers(0, 256, (30, 28, 28)).astype(np.float32)
    images[:, 0, 0] = 0  # a pixel that is always 0
    s = make("minmax_scaler")
    flat = images.reshape(30, -1)
    s.fit(flat[:20])
    got = s.transform(flat[20:]).reshape(10, 28, 28)
    want = MinMaxScaler().fit(flat[:20]).transform(flat[20:]).reshape(10, 28, 28)
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)


def test_scale_multiplies_by_a_constant(x):
    s = make("scale", factor=0.5)
    s.fit(x)
    np.testing.assert_allclose(s.transform(x), x * 0.5)


def test_one_hot_encodes_class_indices_and_rejects_an_unseen_class():
    s = make("one_hot")
    s.fit(np.array([0, 2, 1, 2]))
    np.testing.assert_array_equal(s.transform(np.array([2, 0])), [[0, 0, 1], [1, 0, 0]])
    with pytest.raises(DataError, match=r"label 3 is outside 0\.\.2"):
        s.transform(np.array([3]))
    wide = make("one_hot", num_classes=5)
    wide.fit(np.array([0, 1]))
    assert wide.transform(np.array([4])).shape == (1, 5)
    with pytest.raises(DataError, match="one integer class index per sample"):
        s.fit(np.array([0.5, 1.0]))


@pytest.mark.parametrize(
    ("name", "params"),
    [("standard_scaler", {}), ("minmax_scaler", {}), ("scale", {"factor": 2.0}), ("one_hot", {})],
)
def test_fitted_state_is_plain_data_that_restores_the_same_transform(name, params, x):
    data = np.array([0, 1, 2, 1]) if name == "one_hot" else x
    a = make(name, **params)
    a.fit(data)
    state = a.get_state()
    for value in state.values():
        assert isinstance(value, (np.ndarray, int, float, str, list)), type(value)
    b = make(name, **params)
    b.set_state(
        {
            k: (np.array(v) if isinstance(v, np.ndarray) else json.loads(json.dumps(v)))
            for k, v in state.items()
        }
    )
    np.testing.assert_array_equal(a.transform(data), b.transform(data))


def test_a_scaler_refuses_data_with_a_different_number_of_features(x):
    s = make("standard_scaler")
    s.fit(x)
    with pytest.raises(DataError, match="fitted on 6 feature"):
        s.transform(x[:, :3])


@pytest.mark.parametrize(
    ("name", "params"), [("standard_scaler", {}), ("minmax_scaler", {}), ("scale", {"factor": 3.0})]
)
def test_builtin_feature_preprocessors_pass_the_plugin_conformance_checks(name, params):
    from specforge.testing import check_preprocessor

    check_preprocessor(name, params)


def test_one_hot_passes_the_plugin_conformance_checks_on_class_labels():
    from specforge.testing import check_preprocessor

    check_preprocessor("one_hot", {}, np.array([0, 1, 2, 1, 0, 2]), np.array([2, 0]))
