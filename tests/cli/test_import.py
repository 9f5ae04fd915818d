"""``specforge import``: a saved Keras model becomes a spec file."""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path

import pytest
import yaml

keras = pytest.importorskip("keras")

ROOT = Path(__file__).resolve().parents[2]
SPECS = ROOT / "specs"


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """A built seed model, a model with unsupported layers, and a file that is no model."""
    import specforge
    from specforge.registry import get_registry

    folder = tmp_path_factory.mktemp("models")
    aux = folder / "aux.keras"
    get_registry().backends["keras"].save(
        specforge.build(SPECS / "wide_deep_aux.yaml", seed=0), aux
    )

    inputs = keras.Input((5, 3), name="seq")
    x = keras.layers.LSTM(4, name="lstm")(inputs)
    x = keras.layers.Lambda(lambda t: t * 2, name="double")(x)
    bad_model = keras.Model(inputs, keras.layers.Dense(1, name="out")(x))
    bad_model.compile("sgd", "mse")
    bad = folder / "bad.keras"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bad_model.save(bad)

    junk = folder / "junk.keras"
    junk.write_text("not a model")
    return {"aux": aux, "bad": bad, "junk": junk}


def test_import_writes_a_spec_that_validates(cli_run, models, tmp_path):
    out = tmp_path / "spec.yaml"
    r = cli_run("import", str(models["aux"]), "-o", str(out))
    assert r.exit_code == 0, r.output
    assert r.stdout == ""
    assert f"wrote {out}: spec 'wide_deep_aux', 5 nodes, 3,517 params" in r.stderr
    assert os.listdir(tmp_path) == ["spec.yaml"]
    v = cli_run("validate", str(out))
    assert v.exit_code == 0 and "valid (3,517 params)" in v.stdout
    spec = yaml.safe_load(out.read_text())
    assert [o.get("loss_weight") for o in spec["outputs"]] == [0.9, 0.1]


def test_import_prints_the_spec_without_an_output_file(cli_run, models):
    r = cli_run("import", str(models["aux"]), "--name", "renamed")
    assert r.exit_code == 0, r.output
    spec = yaml.safe_load(r.stdout)
    assert spec["name"] == "renamed"
    assert [n["name"] for n in spec["nodes"]] == [
        "hidden1",
        "hidden2",
        "concat",
        "output",
        "aux_output",
    ]


def test_import_writes_json_for_a_json_file(cli_run, models, tmp_path):
    out = tmp_path / "spec.json"
    assert cli_run("import", str(models["aux"]), "-o", str(out)).exit_code == 0
    assert json.loads(out.read_text())["optimizer"] == {"type": "sgd", "learning_rate": 0.01}


def test_built_imported_and_built_again_gives_the_same_model(cli_run, models, tmp_path):
    spec = tmp_path / "spec.yaml"
    again = tmp_path / "again.keras"
    assert cli_run("import", str(models["aux"]), "-o", str(spec)).exit_code == 0
    assert cli_run("build", str(spec), "-o", str(again), "--seed", "0").exit_code == 0
    a, b = keras.models.load_model(models["aux"]), keras.models.load_model(again)
    assert a.count_params() == b.count_params() == 3517
    for layer in a.layers:
        config, other = layer.get_config(), b.get_layer(layer.name).get_config()
        config.pop("dtype", None), other.pop("dtype", None)
        assert config == other


def test_unsupported_layers_are_listed_in_one_error_exit_1(cli_run, models, tmp_path):
    out = tmp_path / "spec.yaml"
    r = cli_run("import", str(models["bad"]), "-o", str(out))
    assert r.exit_code == 1
    assert "cannot import the model (2 problems)" in r.stderr
    assert "layer 'lstm' (LSTM)" in r.stderr and "layer 'double' (Lambda)" in r.stderr
    assert "Traceback" not in r.output
    assert not out.exists()
    r = cli_run("import", str(models["bad"]), "--format", "json")
    assert r.exit_code == 1
    report = json.loads(r.stdout)
    assert report["ok"] is False and len(report["problems"]) == 2


def test_a_file_that_is_not_a_keras_model_exits_2(cli_run, models, tmp_path):
    r = cli_run("import", str(models["junk"]))
    assert r.exit_code == 2
    assert "is not a Keras model file" in r.stderr
    r = cli_run("import", str(tmp_path / "none.keras"))
    assert r.exit_code == 2 and "no such file" in r.stderr


def test_import_reports_json(cli_run, models, tmp_path):
    r = cli_run("import", str(models["aux"]), "-o", str(tmp_path / "s.yaml"), "--format", "json")
    assert r.exit_code == 0
    report = json.loads(r.stdout)
    assert report == {
        "model": str(models["aux"]),
        "ok": True,
        "output": str(tmp_path / "s.yaml"),
        "notes": [],
        "total_params": 3517,
    }
