"""The california_housing loader: archives, CSV and scikit-learn's cache, equal to what scikit-learn returns."""

from __future__ import annotations

import os
import shutil

import numpy as np
import pytest
from data_helpers import CAL_ROWS, make_cal_tgz, sha256, write_text

from specforge.data.dataset import DataError
from specforge.default_plugins.datasets import california
from specforge.default_plugins.datasets.california import (
    CALIFORNIA_FEATURES,
    load_california_housing,
)


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
    # the same cache through a directory `path`
    np.testing.assert_array_equal(load_california_housing(str(home)).y, ds.y)


def test_california_default_never_unpickles_scikit_learns_cache(tmp_path, monkeypatch):
    archive = make_cal_tgz(tmp_path / "cal_housing.tgz")
    home = tmp_path / "scikit_learn_data"
    sklearn_fetch_from_archive(archive, home, monkeypatch)
    monkeypatch.setenv("SCIKIT_LEARN_DATA", str(home))
    import joblib

    def no_unpickling(*args, **kwargs):
        raise AssertionError("joblib.load called")

    monkeypatch.setattr(joblib, "load", no_unpickling)
    with pytest.raises(DataError, match="cannot download California housing"):
        load_california_housing()  # the pkz is not the archive: it downloads (and fails here)


def test_california_reuses_a_verified_archive_in_scikit_learns_home(tmp_path, monkeypatch):
    home = tmp_path / "scikit_learn_data"
    home.mkdir()
    archive = make_cal_tgz(home / "cal_housing.tgz")
    monkeypatch.setenv("SCIKIT_LEARN_DATA", str(home))
    monkeypatch.setattr(california, "CALIFORNIA_SHA256", sha256(archive))
    ds = load_california_housing()
    np.testing.assert_array_equal(ds.x, load_california_housing(archive).x)
    assert not os.path.exists(os.environ["SPECFORGE_DATA_HOME"])  # nothing downloaded
    # the same file with another checksum is not California housing's archive
    monkeypatch.setattr(california, "CALIFORNIA_SHA256", "0" * 64)
    with pytest.raises(DataError, match="cannot download"):
        load_california_housing()


def test_california_cache_path_is_sklearns(tmp_path):
    from sklearn.datasets._base import _pkl_filepath

    assert california._california_cache_file(str(tmp_path)) == _pkl_filepath(
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
    assert "leave out `path:` and `data_home:`" in e.help and "cal_housing.tgz" in e.help
    assert not home.exists()  # looking does not create directories


def test_california_default_looks_in_the_cache_and_in_scikit_learns_home(tmp_path, monkeypatch):
    monkeypatch.delenv("SCIKIT_LEARN_DATA", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    with pytest.raises(DataError) as ei:
        load_california_housing()
    cache = os.path.join(os.environ["SPECFORGE_DATA_HOME"], "california-housing")
    assert ei.value.looked_in == [
        os.path.join(cache, "cal_housing.tgz"),
        str(tmp_path / "scikit_learn_data" / "cal_housing.tgz"),
    ]
    assert california.CALIFORNIA_SHA256 in ei.value.help


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
