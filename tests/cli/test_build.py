"""``specforge build``: validate, compile with a backend, write the model atomically."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

keras = pytest.importorskip("keras")

ROOT = Path(__file__).resolve().parents[2]
SPECS = ROOT / "specs"
INVALID = ROOT / "tests" / "fixtures" / "invalid"


def test_build_writes_a_keras_model_and_prints_the_summary(cli_run, tmp_path):
    out = tmp_path / "model.keras"
    r = cli_run("build", str(SPECS / "wide_deep_aux.yaml"), "-o", str(out))
    assert r.exit_code == 0, r.output
    assert 'Model: "wide_deep_aux"' in r.stdout
    assert "Total params: 3,517" in r.stdout
    assert f"wrote {out} (keras backend, seed 0)" in r.stderr  # the spec's train.seed
    assert os.listdir(tmp_path) == ["model.keras"]
    model = keras.models.load_model(out)
    assert model.count_params() == 3517
    assert list(model.output_names) == ["output", "aux_output"]


def test_build_json_reports_the_file_and_the_summary(cli_run, tmp_path):
    out = tmp_path / "m.keras"
    r = cli_run(
        "build",
        str(SPECS / "fashion_mnist_mlp.yaml"),
        "-o",
        str(out),
        "--format",
        "json",
        "--seed",
        "3",
    )
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert data["output"] == str(out) and data["backend"] == "keras" and data["seed"] == 3
    assert data["model_params"] == data["summary"]["total_params"] == 266_610


def test_an_invalid_spec_gets_the_same_diagnostics_and_exit_code_as_validate(cli_run, tmp_path):
    spec = INVALID / "several_problems.yaml"
    if not spec.exists():
        pytest.skip("fixture missing")
    validate = cli_run("validate", str(spec))
    build = cli_run("build", str(spec), "-o", str(tmp_path / "m.keras"))
    assert build.exit_code == validate.exit_code == 1
    diagnostics = [
        line
        for line in validate.stdout.splitlines()
        if not line.startswith(str(spec) + ": invalid")
    ]
    assert build.stdout.splitlines() == diagnostics
    assert os.listdir(tmp_path) == []


def test_what_keras_cannot_train_is_a_positioned_diagnostic(cli_run, tmp_path):
    spec = tmp_path / "step.yaml"
    spec.write_text(
        "specforge: 1\nname: step\ninputs:\n  - {name: x, shape: [2]}\nnodes:\n"
        "  - {name: out, type: Dense, units: 1, activation: heaviside}\n"
        "outputs:\n  - {node: out, loss: mse}\noptimizer: {type: perceptron}\n"
    )
    r = cli_run("build", str(spec), "-o", str(tmp_path / "m.keras"))
    assert r.exit_code == 1
    assert f"{spec}:6:52: error[not-differentiable]: node 'out': activation 'heaviside'" in r.stdout
    assert (
        "help: train it with the perceptron rule on the NumPy backend (--backend numpy" in r.stdout
    )
    assert (
        f"{spec}:9:19: error[unsupported-by-backend]: optimizer 'perceptron' has no Keras lowering"
        in r.stdout
    )
    assert "Traceback" not in r.output
    assert sorted(os.listdir(tmp_path)) == ["step.yaml"]
    r = cli_run("build", str(spec), "-o", str(tmp_path / "m.keras"), "--format", "json")
    assert [d["code"] for d in json.loads(r.stdout)] == [
        "not-differentiable",
        "unsupported-by-backend",
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-o", "model.h5"], "the keras backend writes .keras files, not 'model.h5'"),
        (
            ["-o", "m.keras", "--backend", "kears"],
            "backend 'kears' is not installed (installed backends: ",
        ),
    ],
)
def test_usage_errors_exit_2(cli_run, tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    r = cli_run("build", str(SPECS / "wide_deep.yaml"), *args)
    assert r.exit_code == 2
    assert message in r.stderr
    assert os.listdir(tmp_path) == []


def test_an_unreadable_spec_exits_2(cli_run, tmp_path):
    r = cli_run("build", str(tmp_path / "nothing.yaml"), "-o", str(tmp_path / "m.keras"))
    assert r.exit_code == 2


def test_missing_keras_is_an_environment_error_with_the_install_command(
    cli_run, tmp_path, monkeypatch
):
    monkeypatch.setitem(sys.modules, "keras", None)  # `import keras` now raises ImportError
    r = cli_run("build", str(SPECS / "wide_deep.yaml"), "-o", str(tmp_path / "m.keras"))
    assert r.exit_code == 2
    assert "needs keras" in r.stderr
    assert "pip install 'specforge[tensorflow]'" in r.stderr
    assert os.listdir(tmp_path) == []


def _broken_save(error):
    def save(self, filepath, *args, **kwargs):
        Path(filepath).write_bytes(b"PK\x03\x04half a model")
        raise error

    return save


def test_a_failed_write_leaves_the_previous_model_untouched(cli_run, tmp_path, monkeypatch):
    out = tmp_path / "model.keras"
    out.write_bytes(b"the previous model")
    monkeypatch.setattr(keras.Model, "save", _broken_save(OSError(28, "No space left on device")))
    r = cli_run("build", str(SPECS / "wide_deep.yaml"), "-o", str(out))
    assert r.exit_code == 2
    assert "cannot write" in r.stderr and "No space left on device" in r.stderr
    assert out.read_bytes() == b"the previous model"
    assert os.listdir(tmp_path) == ["model.keras"]


def test_an_interrupt_while_writing_exits_130_and_leaves_nothing(tmp_path, monkeypatch, capsys):
    from specforge.cli import main

    monkeypatch.setattr(keras.Model, "save", _broken_save(KeyboardInterrupt()))
    with pytest.raises(SystemExit) as info:
        main(["build", str(SPECS / "wide_deep.yaml"), "-o", str(tmp_path / "model.keras")])
    assert info.value.code == 130
    assert "interrupted" in capsys.readouterr().err
    assert os.listdir(tmp_path) == []


def test_the_same_seed_writes_the_same_initial_weights(cli_run, tmp_path):
    import numpy as np

    paths = {}
    for name, seed in (("a", "5"), ("b", "5"), ("c", "6")):
        paths[name] = tmp_path / f"{name}.keras"
        assert (
            cli_run(
                "build", str(SPECS / "california_mlp.yaml"), "-o", str(paths[name]), "--seed", seed
            ).exit_code
            == 0
        )
    weights = {
        k: keras.models.load_model(p).get_layer("hidden1").get_weights()[0]
        for k, p in paths.items()
    }
    np.testing.assert_array_equal(weights["a"], weights["b"])
    assert not np.array_equal(weights["a"], weights["c"])


def test_build_in_a_real_process(run_specforge, tmp_path):
    out = tmp_path / "x.keras"
    proc = run_specforge("build", "specs/california_mlp.yaml", "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "Total params: 3,471" in proc.stdout
    assert "Traceback" not in proc.stderr
    assert out.is_file()


def test_build_with_weights_exports_a_numpy_model_to_keras_with_the_same_predictions(
    cli_run, tmp_path
):
    import numpy as np

    from specforge import resolve
    from specforge.registry import get_registry

    spec = SPECS / "wide_deep_aux.yaml"
    npz = tmp_path / "trained.npz"
    assert (
        cli_run("build", str(spec), "--backend", "numpy", "--seed", "7", "-o", str(npz)).exit_code
        == 0
    )
    out = tmp_path / "exported.keras"
    r = cli_run("build", str(spec), "--weights", str(npz), "-o", str(out))
    assert r.exit_code == 0, r.output

    graph = resolve(spec)
    numpy_backend = get_registry().backends["numpy"]
    x = {
        "wide_input": np.random.default_rng(0).normal(size=(16, 5)).astype("float32"),
        "deep_input": np.random.default_rng(1).normal(size=(16, 6)).astype("float32"),
    }
    expected = numpy_backend.predict(
        numpy_backend.load(str(npz), graph, registry=get_registry()), x
    )
    got = keras.models.load_model(out).predict(x, verbose=0)
    for i, name in enumerate(["output", "aux_output"]):
        np.testing.assert_allclose(got[i], expected[name], rtol=1e-5, atol=1e-6)


def test_build_with_weights_of_another_spec_is_a_usage_error(cli_run, tmp_path):
    npz = tmp_path / "digits.npz"
    assert (
        cli_run(
            "build", str(SPECS / "digits_mlp.yaml"), "--backend", "numpy", "-o", str(npz)
        ).exit_code
        == 0
    )
    r = cli_run(
        "build",
        str(SPECS / "wide_deep.yaml"),
        "--weights",
        str(npz),
        "-o",
        str(tmp_path / "m.keras"),
    )
    assert r.exit_code == 2
    assert "no weights for node(s) hidden1, hidden2 of 'wide_deep'" in r.stderr
    assert "Traceback" not in r.output
    assert not (tmp_path / "m.keras").exists()


def test_build_with_weights_from_a_missing_path_is_a_usage_error(cli_run, tmp_path):
    r = cli_run(
        "build",
        str(SPECS / "wide_deep.yaml"),
        "--weights",
        str(tmp_path / "nope"),
        "-o",
        str(tmp_path / "m.keras"),
    )
    assert r.exit_code == 2
    assert "nope: no such file or directory" in r.stderr


def test_the_python_api_takes_weights_from_a_model_file(cli_run, tmp_path):
    import numpy as np

    import specforge
    from specforge.registry import get_registry

    spec = SPECS / "wide_deep.yaml"
    npz = tmp_path / "m.npz"
    assert (
        cli_run("build", str(spec), "--backend", "numpy", "--seed", "3", "-o", str(npz)).exit_code
        == 0
    )
    fresh = specforge.build(spec, backend="numpy", seed=4)
    loaded = specforge.build(spec, backend="numpy", seed=4, weights=npz)
    backend = get_registry().backends["numpy"]
    stored = backend.get_weights(
        backend.load(str(npz), specforge.resolve(spec), registry=get_registry())
    )
    for name, arrays in stored.items():
        for got, want in zip(backend.get_weights(loaded)[name], arrays, strict=True):
            np.testing.assert_array_equal(got, want)
    assert not np.array_equal(backend.get_weights(fresh)["hidden1"][0], stored["hidden1"][0])


def test_build_with_weights_from_a_directory_without_a_model_names_what_it_looked_for(
    cli_run, tmp_path
):
    r = cli_run(
        "build",
        str(SPECS / "wide_deep.yaml"),
        "--weights",
        str(tmp_path),
        "-o",
        str(tmp_path / "m.keras"),
    )
    assert r.exit_code == 2
    assert f"{tmp_path} holds no model file (looked for " in r.stderr
    assert "model.keras" in r.stderr and "model.npz" in r.stderr
    assert "help: pass a run directory written by `specforge train`, or a model file" in r.stderr


def test_build_with_weights_in_a_format_no_backend_reads_is_a_usage_error(cli_run, tmp_path):
    weights = tmp_path / "weights.h5"
    weights.write_bytes(b"not a model")
    r = cli_run(
        "build",
        str(SPECS / "wide_deep.yaml"),
        "--weights",
        str(weights),
        "-o",
        str(tmp_path / "m.keras"),
    )
    assert r.exit_code == 2
    assert f"no installed backend reads '.h5' files ({weights})" in r.stderr
