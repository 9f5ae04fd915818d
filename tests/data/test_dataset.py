"""The data contract: Dataset, DataError, Preprocessor (public in specforge.plugin) and check_finite."""

from __future__ import annotations

import subprocess
import sys
import warnings

import numpy as np
import pytest

import specforge.plugin
from specforge.data.dataset import DataError, Dataset, check_finite
from specforge.data.preprocessor import Preprocessor


def test_data_error_attributes():
    e = DataError("boom", help="do this", looked_in=["/a", "/b"])
    assert str(e) == "boom"
    assert e.message == "boom"
    assert e.help == "do this"
    assert e.looked_in == ["/a", "/b"]
    plain = DataError("x")
    assert plain.help is None and plain.looked_in is None


def test_the_old_hint_keyword_still_works_with_a_deprecation_warning():
    with pytest.warns(DeprecationWarning, match=r"DataError\(hint=...\) is deprecated"):
        e = DataError("boom", hint="do this")
    assert e.help == e.hint == "do this"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert DataError("boom", help="fix it").hint == "fix it"  # reading .hint does not warn


def test_the_contract_is_public_in_specforge_plugin():
    assert specforge.plugin.Dataset is Dataset
    assert specforge.plugin.DataError is DataError
    assert specforge.plugin.Preprocessor is Preprocessor
    assert {"Dataset", "DataError", "Preprocessor"} <= set(specforge.plugin.__all__)


def test_importing_the_contract_does_not_import_numpy():
    code = "import sys, specforge.plugin; print('numpy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


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
    assert ei.value.help


class _Mean(Preprocessor):
    type_name = "mean"

    def fit(self, x):
        self.state = {"mean": np.asarray(x).mean(axis=0)}

    def transform(self, x):
        state = self.fitted_state()
        self.check_width(x, len(state["mean"]))
        return x - state["mean"]


def test_the_preprocessor_base_keeps_params_and_state():
    pre = _Mean({"p": 1})
    assert pre.params == {"p": 1} and pre.state is None
    with pytest.raises(RuntimeError, match="mean: transform before fit"):
        pre.transform(np.ones((2, 2)))
    with pytest.raises(RuntimeError, match="mean was not fitted"):
        pre.get_state()
    pre.fit(np.array([[1.0, 2.0], [3.0, 4.0]]))
    state = pre.get_state()
    state["mean"] = None  # a copy: the caller cannot change the fitted state
    assert pre.state["mean"].tolist() == [2.0, 3.0]
    again = _Mean({"p": 1})
    again.set_state(pre.get_state())
    np.testing.assert_array_equal(again.transform(np.ones((1, 2))), [[-1.0, -2.0]])
    with pytest.raises(DataError, match=r"mean was fitted on 2 feature\(s\) but got 3") as e:
        again.transform(np.ones((1, 3)))
    assert e.value.help == "the data must have the same columns as the data the run was trained on"
