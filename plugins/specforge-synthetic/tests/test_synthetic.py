"""Datasets moons/circles/blobs/regression and preprocessors pca/polynomial_features.

The conformance checks come from specforge.testing; the rest checks that
the parameters are validated like any spec field (positioned diagnostics from
``specforge validate``), that the generators are scikit-learn's, and that a
spec trains on moons through ``specforge train``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import specforge_synthetic.plugin
from click.testing import CliRunner

from specforge.cli import cli
from specforge.testing import check_dataset, check_plugin, check_preprocessor

SPECS = Path(__file__).resolve().parents[1] / "specs"


def run(*args):
    return CliRunner().invoke(cli, list(args))


def test_the_plugin_loads_cleanly_next_to_the_built_ins():
    reg = check_plugin(specforge_synthetic.plugin, "synthetic")
    assert {"moons", "circles", "blobs", "regression"} <= set(reg.datasets)
    assert {"pca", "polynomial_features"} <= set(reg.preprocessors)


@pytest.mark.parametrize(
    ("name", "params", "x_shape", "task", "classes"),
    [
        ("moons", {"n_samples": 200, "noise": 0.1, "seed": 3}, (200, 2), "classification", 2),
        ("circles", {"n_samples": 100, "factor": 0.3}, (100, 2), "classification", 2),
        (
            "blobs",
            {"n_samples": 90, "n_features": 3, "centers": 4, "cluster_std": 0.5},
            (90, 3),
            "classification",
            4,
        ),
        ("blobs", {"n_samples": 50, "centers": [[0, 0], [5, 5]]}, (50, 2), "classification", 2),
        (
            "regression",
            {"n_samples": 80, "n_features": 6, "n_informative": 3, "noise": 0.5},
            (80, 6),
            "regression",
            None,
        ),
        (
            "regression",
            {"n_samples": 40, "n_features": 4, "n_targets": 2},
            (40, 4),
            "regression",
            None,
        ),
    ],
)
def test_datasets_conform(name, params, x_shape, task, classes):
    ds = check_dataset(name, params)
    assert ds.x.shape == x_shape and ds.x.dtype == np.float32
    assert ds.task == task
    if classes is not None:
        assert ds.class_names == [str(k) for k in range(classes)]
        assert set(np.unique(ds.y)) == set(range(classes))
    else:
        assert ds.class_names is None and ds.y.dtype == np.float32


def test_moons_are_scikit_learn_s_moons_for_the_seed():
    from sklearn.datasets import make_moons

    ds = check_dataset("moons", {"n_samples": 50, "noise": 0.3, "seed": 9})
    x, y = make_moons(n_samples=50, noise=0.3, random_state=9)
    np.testing.assert_array_equal(ds.x, x.astype(np.float32))
    np.testing.assert_array_equal(ds.y, y)
    other = check_dataset("moons", {"n_samples": 50, "noise": 0.3, "seed": 10})
    assert not np.array_equal(other.x, ds.x)


def _spec(tmp_path, dataset: str, preprocess: str = "[]") -> Path:
    path = tmp_path / "spec.yaml"
    path.write_text(
        "specforge: 2\nname: s\ninputs:\n  - {name: x, shape: [2]}\nnodes:\n  - {name: out, type: Dense, units: 1}\n"
        "outputs:\n  - {node: out, loss: mse}\noptimizer: {type: sgd}\n"
        f"data:\n  dataset: {dataset}\n  preprocess: {preprocess}\n"
    )
    return path


@pytest.mark.parametrize(
    ("dataset", "message", "column"),
    [
        (
            "{type: moons, noise: -0.1}",
            "dataset 'moons': 'noise' must be greater than or equal to 0",
            33,
        ),
        ("{type: moons, n_samples: 1}", "'n_samples' must be greater than or equal to 2", 37),
        ("{type: moons, seeds: 3}", "seeds", 26),
        ("{type: circles, factor: 1.5}", "'factor' must be less than 1", 36),
        (
            "{type: regression, n_features: 5, n_informative: 8}",
            "'n_informative' must be at most n_features (5)",
            61,
        ),
        (
            "{type: blobs, n_features: 3, centers: [[0, 0], [1, 1]]}",
            "'centers' must list n_features (3) coordinates for each centre, not 2",
            50,
        ),
        ("{type: mons}", "unknown dataset 'mons'", 19),
    ],
    ids=[
        "negative-noise",
        "too-few-samples",
        "unknown-key",
        "factor",
        "n-informative",
        "centres",
        "misspelt-type",
    ],
)
def test_parameters_are_checked_like_any_spec_field(tmp_path, dataset, message, column):
    result = run("validate", str(_spec(tmp_path, dataset)))
    assert result.exit_code == 1, result.output
    assert message in result.stdout
    assert f"spec.yaml:11:{column}:" in result.stdout, result.stdout
    assert "Traceback" not in result.output


def test_a_misspelt_dataset_gets_a_did_you_mean(tmp_path):
    result = run("validate", str(_spec(tmp_path, "{type: mons}")))
    assert "did you mean 'moons'?" in result.stdout


def test_preprocessor_parameters_are_checked(tmp_path):
    result = run(
        "validate",
        str(_spec(tmp_path, "{type: moons}", "[{type: polynomial_features, degree: 9}]")),
    )
    assert result.exit_code == 1
    assert "'degree' must be less than or equal to 5" in result.stdout


# ---------------------------------------------------------------- preprocessors


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("pca", {"n_components": 2}),
        ("pca", {"n_components": 3, "whiten": True}),
        ("polynomial_features", {"degree": 2}),
        ("polynomial_features", {"degree": 3, "interaction_only": True, "include_bias": True}),
    ],
)
def test_preprocessors_conform(name, params):
    out = check_preprocessor(name, params)
    assert np.all(np.isfinite(out))


def test_pca_matches_scikit_learn():
    from sklearn.decomposition import PCA

    rng = np.random.default_rng(0)
    train, test = rng.normal(size=(60, 5)) @ rng.normal(size=(5, 5)), rng.normal(size=(10, 5))
    out = check_preprocessor("pca", {"n_components": 3, "whiten": True}, train, test)
    reference = PCA(n_components=3, whiten=True, svd_solver="full").fit(train).transform(test)
    np.testing.assert_allclose(out, reference, rtol=1e-4, atol=1e-5)


def test_polynomial_features_match_scikit_learn():
    from sklearn.preprocessing import PolynomialFeatures

    rng = np.random.default_rng(1)
    train, test = rng.normal(size=(20, 3)), rng.normal(size=(7, 3))
    out = check_preprocessor("polynomial_features", {"degree": 3}, train, test)
    reference = PolynomialFeatures(degree=3, include_bias=False).fit(train).transform(test)
    np.testing.assert_allclose(out, reference, rtol=1e-5, atol=1e-5)


def test_pca_with_more_components_than_the_data_allows_is_a_data_error():
    from specforge.plugin import DataError
    from specforge.registry import get_registry

    pre = get_registry().preprocessors["pca"]
    obj = pre.create(pre.params_model.model_validate({"n_components": 5}))
    with pytest.raises(DataError, match="at most 3 components"):
        obj.fit(np.zeros((10, 3)))


def test_the_state_holds_plain_arrays_never_a_scikit_learn_object():
    from specforge.registry import get_registry

    pre = get_registry().preprocessors["pca"]
    obj = pre.create(pre.params_model.model_validate({}))
    obj.fit(np.random.default_rng(0).normal(size=(20, 4)))
    state = obj.get_state()
    assert all(isinstance(v, (int, np.ndarray)) for v in state.values())
    assert all(v.dtype != object for v in state.values() if isinstance(v, np.ndarray))


# ---------------------------------------------------------------- training on moons


def test_a_spec_trains_on_moons_through_specforge_train(tmp_path):
    spec = SPECS / "moons_mlp.yaml"
    out = tmp_path / "run"
    result = run("train", str(spec), "--backend", "numpy", "--out", str(out), "-q")
    assert result.exit_code == 0, result.output
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["test"]["accuracy"] > 0.9, metrics
    saved = json.loads((out / "preprocessors.json").read_text())
    assert [p["type"] for p in saved] == ["polynomial_features", "standard_scaler"]
    assert saved[0]["state"]["powers"] == {"npz": "0.powers"}
    # the run predicts again from its saved state: nothing refitted, nothing pickled
    again = run("evaluate", str(out))
    assert again.exit_code == 0, again.output
