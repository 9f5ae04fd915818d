"""Data preparation: the chapter's splits, preprocessing fitted on the training split only, feeds and targets."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from training_helpers import make_fashion, write_spec

from specforge.api import check_file
from specforge.plugin import DataError
from specforge.registry import get_registry
from specforge.spec.models import SplitSpec
from specforge.training.prepare import DataMismatch, prepare
from specforge.training.split import split_indices


def prepared(path: Path, **kwargs):
    result = check_file(path)
    assert result.ok, [d.message for d in result.diagnostics]
    return result, prepare(result.graph, result.graph.data, get_registry(), **kwargs)


def test_split_is_the_chapters_two_train_test_splits_with_random_state_0():
    from sklearn.model_selection import train_test_split

    n = 20640
    idx = split_indices(n, SplitSpec(test=0.25, validation=0.25, seed=0))
    full, test = train_test_split(np.arange(n), random_state=0)
    train, valid = train_test_split(full, random_state=0)
    assert [len(idx[s]) for s in ("train", "validation", "test")] == [11610, 3870, 5160]
    for got, want in ((idx["train"], train), (idx["validation"], valid), (idx["test"], test)):
        np.testing.assert_array_equal(got, want)


def test_a_dataset_with_its_own_test_split_only_loses_the_validation_count():
    idx = split_indices(60000, SplitSpec(validation=5000, seed=0), own_test=True)
    assert set(idx) == {"train", "validation"}
    assert (len(idx["train"]), len(idx["validation"])) == (55000, 5000)
    assert len(np.union1d(idx["train"], idx["validation"])) == 60000


def test_stratified_split_keeps_class_proportions():
    y = np.repeat([0, 1, 2], [60, 30, 10])
    idx = split_indices(100, SplitSpec(test=0.2, validation=0.25, stratify=True), y)
    assert np.bincount(y[idx["test"]]).tolist() == [12, 6, 2]


def test_validation_zero_means_no_validation_split():
    assert set(split_indices(50, SplitSpec(test=10, validation=0))) == {"train", "test"}


@pytest.mark.parametrize(
    ("split", "labels", "message"),
    [
        (SplitSpec(test=500), None, "asks for 500 samples, but only 100"),
        (SplitSpec(stratify=True), np.linspace(0, 1, 100), "needs one class label per sample"),
        (
            SplitSpec(test=0.5, stratify=True),
            np.r_[np.zeros(99, int), 1],
            "cannot stratify the test split",
        ),
    ],
)
def test_impossible_splits_are_data_errors_with_a_hint(split, labels, message):
    with pytest.raises(DataError, match=message) as e:
        split_indices(100, split, labels)
    assert e.value.help


TABLE = """\
specforge: 1
name: table
inputs:
  - {name: wide_input, shape: [2]}
  - {name: deep_input, shape: [3]}
nodes:
  - {name: hidden, type: Dense, units: 4, inputs: [deep_input]}
  - {name: concat, type: Concatenate, inputs: [wide_input, hidden]}
  - {name: output, type: Dense, units: 1}
  - {name: aux_output, type: Dense, units: 1, inputs: [hidden]}
outputs:
  - {node: output, loss: mse}
  - {node: aux_output, loss: mse}
optimizer: {type: sgd}
data:
  dataset: {type: csv, path: table.csv, target: [y1, y2]}
  split: {test: 0.2, validation: 0.25, seed: 3}
  preprocess: [{type: standard_scaler}]
  feeds:
    wide_input: {columns: "0:2"}
    deep_input: {columns: [b, c, d]}
"""
TARGETS = "  targets:\n    output: {columns: y1}\n    aux_output: {columns: 1}\n"


@pytest.fixture
def table(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    x = rng.normal(10, 3, (40, 4))
    lines = ["a,b,c,d,y1,y2"] + [
        ",".join(f"{v:.6f}" for v in (*row, row.sum(), -row[0])) for row in x
    ]
    (tmp_path / "table.csv").write_text("\n".join(lines) + "\n")
    return tmp_path


def test_feeds_pick_slices_and_named_columns_after_scaling_fitted_on_the_training_split(table):
    _, p = prepared(write_spec(table / "spec.yaml", TABLE + TARGETS))
    assert p.info.sizes == {"train": 24, "validation": 8, "test": 8}
    assert p.info.feeds == {"wide_input": [0, 1], "deep_input": [1, 2, 3]}
    train = np.concatenate([p.x["train"]["wide_input"], p.x["train"]["deep_input"][:, 1:]], axis=1)
    np.testing.assert_allclose(train.mean(axis=0), 0, atol=1e-5)  # fitted on these rows
    np.testing.assert_allclose(train.std(axis=0), 1, atol=1e-5)
    assert abs(p.x["test"]["wide_input"].mean()) > 1e-3  # not refitted on the test rows
    np.testing.assert_array_equal(
        p.x["train"]["wide_input"][:, 1], p.x["train"]["deep_input"][:, 0]
    )
    assert p.y["train"]["output"].shape == (24, 1) and p.y["train"]["aux_output"].shape == (24, 1)
    assert not np.allclose(p.y["train"]["output"], p.y["train"]["aux_output"])


def test_without_targets_every_output_gets_the_dataset_target(tmp_path):
    spec = TABLE.replace("target: [y1, y2]", "target: y").replace("table.csv", "t.csv")
    (tmp_path / "t.csv").write_text(
        "a,b,c,d,y\n" + "".join(f"{i},{i + 1},{i * 2},{i % 3},{i / 10}\n" for i in range(20))
    )
    _, p = prepared(write_spec(tmp_path / "spec.yaml", spec))
    np.testing.assert_array_equal(p.y["test"]["output"], p.y["test"]["aux_output"])


def test_images_keep_their_shape_through_the_minmax_scaler(tmp_path):
    make_fashion(tmp_path / "fm", n_train=50, n_test=10)
    spec = (Path(__file__).resolve().parents[2] / "specs" / "fashion_mnist_mlp.yaml").read_text()
    spec = spec.replace("{type: fashion_mnist}", "{type: fashion_mnist, path: fm}").replace(
        "validation: 5000", "validation: 10"
    )
    _, p = prepared(write_spec(tmp_path / "spec.yaml", spec))
    assert p.info.own_test_split and p.info.sizes == {"train": 40, "validation": 10, "test": 10}
    x = p.x["train"]["image"]
    assert x.shape == (40, 28, 28) and x.dtype == np.float32
    assert x.min() == pytest.approx(0.0, abs=1e-6) and x.max() == pytest.approx(1.0, abs=1e-6)
    assert p.y["test"]["dense_3"].dtype == np.int64


def test_preprocessors_restored_from_a_state_are_not_refitted(table):
    result, p = prepared(write_spec(table / "spec.yaml", TABLE + TARGETS))
    states = [obj.get_state() for _, obj in p.preprocessors]
    states[0] = {"mean": states[0]["mean"] + 1.0, "scale": states[0]["scale"]}
    again = prepare(
        result.graph, result.graph.data, get_registry(), states=states, splits=("test",)
    )
    assert set(again.x) == {"test"}
    np.testing.assert_allclose(
        again.x["test"]["wide_input"],
        p.x["test"]["wide_input"] - 1.0 / states[0]["scale"][:2],
        rtol=1e-5,
    )


@pytest.mark.parametrize(
    ("change", "path", "message"),
    [
        (
            ("[b, c, d]", "[b, c, dd]"),
            ("data", "feeds", "deep_input", "columns"),
            "no column named 'dd' in the features",
        ),
        (("[b, c, d]", '"-4:"'), ("data", "feeds", "deep_input", "columns"), "selects 4 columns"),
        (
            ('"0:2"', "[0, 0]"),
            ("data", "feeds", "wide_input", "columns"),
            "selected more than once",
        ),
        (
            ("target: [y1, y2]", "target: [y1, y2]}\n  targets: {output: {columns: y3}"),
            ("data", "targets", "output", "columns"),
            "no column named 'y3'",
        ),
        (
            ("target: [y1, y2]", 'target: [y1, y2]}\n  targets: {output: {columns: "0:2"}'),
            ("outputs", 0, "node"),
            "has 1 value per sample, but its target has 2",
        ),
    ],
)
def test_a_spec_that_does_not_fit_the_loaded_data_is_a_mismatch_pointing_into_the_spec(
    table, change, path, message
):
    old, new = change
    if "targets" in new:
        text = TABLE.replace("target: [y1, y2]}", new + "}")
    else:
        text = TABLE.replace(old, new, 1)
    with pytest.raises(DataMismatch) as e:
        prepared(write_spec(table / "spec.yaml", text))
    assert message in e.value.message and e.value.path == path


def test_a_classifier_with_too_few_units_for_the_classes_is_a_mismatch(tmp_path):
    spec = (
        (Path(__file__).resolve().parents[2] / "specs" / "digits_mlp.yaml")
        .read_text()
        .replace("units: 10", "units: 8")
    )
    with pytest.raises(DataMismatch, match="8 units, but the targets hold class 9") as e:
        prepared(write_spec(tmp_path / "spec.yaml", spec))
    assert e.value.help == "give node 'output' units: 10"
