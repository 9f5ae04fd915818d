"""What goes wrong before training starts: a clear message, the right exit code, never a traceback.

Data files are written in their real formats (idx gz in a fake $KERAS_HOME,
scikit-learn's cache in a fake data home, CSV, npz) and then broken.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest
from training_helpers import idx_bytes, make_fashion, write_spec

from specforge.default_plugins.datasets import fashion_mnist

ROOT = Path(__file__).resolve().parents[2]
SPECS = ROOT / "specs"


def train(cli_run, spec: Path | str, *args: str):
    result = cli_run("train", str(spec), "--backend", "toy", "-q", *args)
    assert "Traceback" not in result.output
    assert result.exception is None, result.exception
    return result


def fashion_spec(tmp_path: Path, path: Path | None = None) -> Path:
    text = (
        (SPECS / "fashion_mnist_mlp.yaml")
        .read_text()
        .replace("validation: 5000", "validation: 50")
        .replace("epochs: 30", "epochs: 1")
    )
    if path is not None:
        text = text.replace("{type: fashion_mnist}", f"{{type: fashion_mnist, path: '{path}'}}")
    return write_spec(tmp_path / "fashion.yaml", text)


def test_fashion_mnist_trains_from_the_keras_cache_files(toy, cli_run, keras_home, tmp_path):
    result = train(cli_run, fashion_spec(tmp_path), "--out", str(tmp_path / "run"))
    assert result.exit_code == 0, result.output
    assert "fashion_mnist_mlp: trained 1 epoch on toy" in result.stdout


def test_missing_fashion_mnist_says_where_it_looked_and_how_to_get_it(
    toy, cli_run, tmp_path, monkeypatch
):
    # Nothing cached, and the download fails: the tests' mirror is a closed local port.
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "empty-home"))
    monkeypatch.setattr(fashion_mnist, "_keras_tmp_root", lambda: str(tmp_path / "no-tmp"))
    result = train(cli_run, fashion_spec(tmp_path))
    assert result.exit_code == 2
    name = "train-labels-idx1-ubyte.gz"
    assert result.stderr.startswith(
        f"error: cannot download Fashion-MNIST's {name} from http://127.0.0.1:9/{name}: "
    )
    assert str(tmp_path / "empty-home" / "datasets" / "fashion-mnist" / name) in result.stderr
    assert "help: check that the mirror http://127.0.0.1:9 is reachable" in result.stderr
    assert f"or download {fashion_mnist.FASHION_MNIST_URL}{name} by hand" in result.stderr
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        ("corrupt", "is a corrupt or truncated gzip file"),
        ("not_gzip", "is not a gzipped file"),
        ("shape", "does not hold 28x28 uint8 images: found uint8 with shape (300, 27, 27)"),
        ("count", "holds 300 images but"),
    ],
)
def test_damaged_fashion_mnist_files_are_a_clear_error_with_exit_2(
    toy, cli_run, tmp_path, damage, message
):
    # The user's own files (`path:`) are read as they are; downloaded ones are checksummed.
    directory = tmp_path / "fm"
    make_fashion(directory)
    images = directory / "train-images-idx3-ubyte.gz"
    if damage == "corrupt":
        images.write_bytes(images.read_bytes()[:200])
    elif damage == "not_gzip":
        images.write_bytes(b"not a gzip file at all")
    elif damage == "shape":
        make_fashion(directory, image_shape=(27, 27))
    else:
        with gzip.open(directory / "train-labels-idx1-ubyte.gz", "wb") as fh:
            fh.write(idx_bytes(np.zeros(7, np.uint8)))
    result = train(cli_run, fashion_spec(tmp_path, directory))
    assert result.exit_code == 2, result.output
    assert message in result.stderr and "help: " in result.stderr


def test_california_models_train_from_the_archive_in_scikit_learns_home(
    toy, cli_run, sklearn_home, tmp_path
):
    for name in ("california_mlp", "wide_deep", "wide_deep_two_inputs", "wide_deep_aux"):
        result = train(
            cli_run, SPECS / f"{name}.yaml", "--epochs", "1", "--out", str(tmp_path / name)
        )
        assert result.exit_code == 0, result.output
    import json

    m = json.loads((tmp_path / "wide_deep_aux" / "metrics.json").read_text())
    assert m["samples"] == {"train": 225, "validation": 75, "test": 100}
    assert {"output_loss", "aux_output_loss"} <= set(m["test"])


def test_missing_california_housing_names_where_it_looked_and_the_url(
    toy, cli_run, tmp_path, monkeypatch
):
    monkeypatch.setenv("SCIKIT_LEARN_DATA", str(tmp_path / "skl"))
    result = train(cli_run, SPECS / "california_mlp.yaml")
    assert result.exit_code == 2
    assert result.stderr.startswith(
        "error: cannot download California housing from http://127.0.0.1:9/cal_housing.tgz: "
    )
    assert str(tmp_path / "skl" / "cal_housing.tgz") in result.stderr
    assert "help: " in result.stderr


def csv_spec(tmp_path: Path, table: str, **dataset: str) -> Path:
    (tmp_path / "table.csv").write_text(table)
    params = ", ".join(
        f"{k}: {v}" for k, v in {"path": "table.csv", "target": "price", **dataset}.items()
    )
    return write_spec(
        tmp_path / "specs" / ".." / "csv.yaml",
        "specforge: 1\nname: table\ninputs:\n  - {name: x, shape: [2]}\nnodes:\n  - {name: out, type: Dense, units: 1}\n"
        f"outputs:\n  - {{node: out, loss: mse}}\noptimizer: {{type: sgd}}\ndata:\n  dataset: {{type: csv, {params}}}\n"
        "  split: {test: 2, validation: 2}\ntrain: {epochs: 1}\n",
    )


ROWS = "a,b,price\n" + "".join(f"{i},{i * 2},{i * 3}\n" for i in range(12))


def test_a_csv_table_trains(toy, cli_run, tmp_path):
    assert train(cli_run, csv_spec(tmp_path, ROWS), "--out", str(tmp_path / "run")).exit_code == 0


@pytest.mark.parametrize(
    ("table", "dataset", "message"),
    [
        (ROWS, {"target": "prise"}, "target column 'prise' not found in"),
        (ROWS, {"features": "[a, c]"}, "feature column 'c' not found in"),
        (
            ROWS.replace("3,6,9", "3,,9"),
            {},
            "line 5, column 'b' (index 1) has a missing value ('')",
        ),
        (ROWS.replace("3,6,9", "3,nan,9"), {}, "has a missing value ('nan')"),
        (ROWS.replace("3,6,9", "3,inf,9"), {}, "has an infinite value 'inf'"),
        (ROWS.replace(",", ";"), {}, "target column 'price' not found"),
    ],
)
def test_broken_csv_data_is_a_clear_error_with_exit_2(
    toy, cli_run, tmp_path, table, dataset, message
):
    result = train(cli_run, csv_spec(tmp_path, table, **dataset))
    assert result.exit_code == 2, result.output
    assert message in result.stderr


def test_missing_csv_file_is_looked_for_next_to_the_spec(toy, cli_run, tmp_path):
    spec = write_spec(
        tmp_path / "sub" / "s.yaml",
        csv_spec(tmp_path, ROWS).read_text().replace("path: table.csv", "path: data/t.csv"),
    )
    result = train(cli_run, spec)
    assert result.exit_code == 2
    assert f"CSV file not found: {tmp_path / 'sub' / 'data' / 't.csv'}" in result.stderr


def npz_spec(tmp_path: Path, **arrays) -> Path:
    np.savez(tmp_path / "d.npz", **arrays)
    return write_spec(
        tmp_path / "npz.yaml",
        "specforge: 1\nname: arrays\ninputs:\n  - {name: x, shape: [3]}\nnodes:\n  - {name: out, type: Dense, units: 1}\n"
        "outputs:\n  - {node: out, loss: mse}\noptimizer: {type: sgd}\ndata:\n  dataset: {type: npz, path: d.npz}\n"
        "  split: {test: 2, validation: 2}\ntrain: {epochs: 1}\n",
    )


@pytest.mark.parametrize(
    ("arrays", "code", "message"),
    [
        ({"x": np.ones((10, 3)), "y": np.arange(10.0)}, 0, None),
        ({"x": np.ones((10, 3)), "target": np.arange(10.0)}, 2, "has no array 'y'"),
        ({"x": np.ones((10, 3)), "y": np.arange(9.0)}, 2, "'x' has 10 samples but 'y' has 9"),
        (
            {"x": np.r_[np.ones((9, 3)), [[1, np.nan, 1]]], "y": np.arange(10.0)},
            2,
            "contain 1 non-finite value(s) (NaN or inf); the first is in row 9",
        ),
        ({"x": np.ones((10, 4)), "y": np.arange(10.0)}, 1, "has 4 features per sample"),
    ],
)
def test_npz_arrays_that_do_not_fit_are_reported(toy, cli_run, tmp_path, arrays, code, message):
    result = train(cli_run, npz_spec(tmp_path, **arrays), "--out", str(tmp_path / "run"))
    assert result.exit_code == code, result.output
    if message:
        assert message in result.output


def test_a_spec_that_does_not_fit_its_data_is_a_positioned_diagnostic_with_exit_1(
    toy, cli_run, tmp_path
):
    text = (
        (SPECS / "digits_mlp.yaml")
        .read_text()
        .replace("shape: [8, 8]", "shape: [60]")
        .replace("- {name: flatten, type: Flatten}\n  ", "")
    )
    spec = write_spec(tmp_path / "d.yaml", text)
    result = train(cli_run, spec)
    assert result.exit_code == 1
    assert (
        f"{spec}:9:26: error[feed-mismatch]: dataset 'digits' has 64 features per sample (8×8), but input 'image' has shape [60] (60 values)"
        in result.stdout
    )
    assert "  help: give the input shape [64]" in result.stdout


def test_an_invalid_spec_exits_1_before_anything_is_loaded(toy, cli_run, tmp_path):
    spec = write_spec(
        tmp_path / "bad.yaml",
        (SPECS / "digits_mlp.yaml").read_text().replace("{type: digits}", "{type: digts}"),
    )
    result = train(cli_run, spec)
    assert (
        result.exit_code == 1
        and "error[unknown-dataset]" in result.stdout
        and "did you mean 'digits'?" in result.stdout
    )


def test_a_spec_without_a_data_section_exits_2_saying_what_to_add(toy, cli_run):
    result = train(cli_run, ROOT / "tests" / "training" / "fixtures" / "no_data.yaml")
    assert result.exit_code == 2
    assert "has no 'data' section, so there is nothing to train on" in result.stderr
    assert "dataset: {type: digits}" in result.stderr


def test_an_unknown_backend_exits_2_listing_the_installed_ones(cli_run):
    result = cli_run("train", str(SPECS / "digits_mlp.yaml"), "--backend", "tensorflowz")
    assert result.exit_code == 2
    assert result.stderr.startswith(
        "error: backend 'tensorflowz' is not installed (installed backends: "
    )


def test_a_backend_whose_framework_is_missing_exits_2_with_an_install_hint(cli_run):
    import toy_backend

    from specforge.plugin import hookimpl
    from specforge.testing import plugins_installed

    class Needy(toy_backend.ToyBackend):
        name = "needy"
        requires = ("no_such_framework_xyz",)

    class Plugin:
        @hookimpl
        def register_backends(self, register):
            register(Needy())

    with plugins_installed(("needy", Plugin())):
        result = cli_run("train", str(SPECS / "digits_mlp.yaml"), "--backend", "needy")
    assert result.exit_code == 2
    assert (
        "error: backend 'needy' needs no_such_framework_xyz, which is not installed"
        in result.stderr
    )
