"""read_csv on small CSV files: column selection, missing values, and located errors."""

from __future__ import annotations

import numpy as np
import pytest
from data_helpers import write_text

from specforge.data.csv import read_csv
from specforge.data.dataset import DataError

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
    assert "missing='drop'" in ei.value.help and "missing='mean'" in ei.value.help


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
    assert "'a', 'b', 'label', 'price'" in ei.value.help
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
    assert "pass delimiter=';'" in ei.value.help


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


# ---------------------------------------------------------------- pandas underneath: same located errors


def test_csv_ragged_rows_too_long_and_too_short_are_located_even_when_missing_is_allowed(tmp_path):
    long = write_text(tmp_path / "long.csv", "a,b,y\n1,2,3\n4,5,6,7\n")
    with pytest.raises(DataError) as ei:
        read_csv(long, target="y", features=["a"])  # even with a column left out
    assert str(ei.value) == f"{long}: line 3 has 4 field(s), expected 3 (as in the header)"
    short = write_text(tmp_path / "short.csv", "a,b,y\n1,2,3\n\n4,5\n6,7,8\n")
    for mode in ("error", "drop", "mean"):
        with pytest.raises(DataError) as ei:
            read_csv(short, target="y", missing=mode)
        assert str(ei.value) == f"{short}: line 4 has 2 field(s), expected 3 (as in the header)"


def test_csv_a_ragged_row_is_reported_before_an_earlier_bad_cell(tmp_path):
    p = write_text(tmp_path / "d.csv", "a,b,y\n1,two,3\n4,5,6\n7,8\n")
    with pytest.raises(DataError, match="line 4 has 2 field"):
        read_csv(p, target="y")


def test_csv_text_in_a_numeric_column_is_located_after_blank_and_quoted_lines(tmp_path):
    p = write_text(tmp_path / "d.csv", 'a,b,y\n1,2,"multi\nline"\n\n   \n3,4,5\n6,seven,8\n')
    with pytest.raises(DataError) as ei:
        read_csv(p, target="y", missing="drop")
    assert str(ei.value) == f"{p}: line 7, column 'b' (index 1) has a non-numeric value 'seven'"


def test_csv_missing_markers_in_any_case_and_spaces_around_numbers(tmp_path):
    p = write_text(tmp_path / "d.csv", "a,b,y\n 1 ,2,3\nNULL,None,4\nN/A,?,5\n6, 7 ,8\n")
    ds = read_csv(p, target="y", missing="drop")
    np.testing.assert_array_equal(ds.x, [[1, 2], [6, 7]])
    with pytest.raises(DataError) as ei:
        read_csv(p, target="y")
    assert str(ei.value) == f"{p}: line 3, column 'a' (index 0) has a missing value ('NULL')"


def test_csv_a_huge_line_without_a_newline_is_refused_before_it_is_read(tmp_path, monkeypatch):
    from specforge.data import csv_rows

    monkeypatch.setattr(csv_rows, "MAX_LINE", 1024)
    p = tmp_path / "one-line.csv"
    p.write_text("1," * 5000)
    with pytest.raises(DataError) as ei:
        read_csv(p, target=0)
    assert "line 1 is longer than" in str(ei.value)


def test_csv_not_utf8_is_reported_with_its_byte(tmp_path):
    p = tmp_path / "d.csv"
    p.write_bytes(b"a,y\n1,2\n\xff\xfe,3\n")
    with pytest.raises(DataError, match="is not UTF-8 text"):
        read_csv(p, target="y")


# ---------------------------------------------------------------- predict's input, streamed


def test_predict_input_is_read_in_chunks_with_errors_located_in_a_late_chunk(tmp_path):
    from specforge.data.csv import read_feature_chunks

    rows = ["f0,f1,f2"] + [f"{i},{i + 1},{i + 2}" for i in range(2500)]
    p = write_text(tmp_path / "x.csv", "\n".join(rows) + "\n")
    chunks = list(read_feature_chunks(p, ["f0", "f1", "f2"], chunk_rows=1000))
    assert [len(c) for c in chunks] == [1000, 1000, 500]
    np.testing.assert_array_equal(chunks[2][-1], [2499, 2500, 2501])
    for bad, message in (
        ("5,x,7", "line 2202, column 2: 'x' is not a number"),
        ("5,,7", "line 2202, column 2 is empty"),
        ("5,6", "line 2202 has 2 values, the first row has 3"),
        ("5,6,7,8", "line 2202 has 4 values, the first row has 3"),
    ):
        lines = list(rows)
        lines[2201] = bad
        q = write_text(tmp_path / "bad.csv", "\n".join(lines) + "\n")
        with pytest.raises(DataError) as ei:
            for _ in read_feature_chunks(q, ["f0", "f1", "f2"], chunk_rows=1000):
                pass
        assert str(ei.value) == f"{q}: {message}"


def test_predict_input_picks_features_by_header_name(tmp_path):
    from specforge.data.csv import read_feature_chunks

    p = write_text(tmp_path / "x.csv", "b,target,a\n2,9,1\n4,9,3\n")
    (x,) = read_feature_chunks(p, ["a", "b"])
    np.testing.assert_array_equal(x, [[1, 2], [3, 4]])
