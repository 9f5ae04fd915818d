"""The onnx backend: every spec in specs/ exports and runs like the NumPy backend, within 1e-5."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import specforge_onnx.plugin
from click.testing import CliRunner

import specforge
from specforge import get_registry
from specforge.cli import cli
from specforge.plugin import BackendError, NodeType, hookimpl
from specforge.testing import check_backend, check_plugin, plugins_installed

REPO = Path(__file__).resolve().parents[3]
SPECS = sorted(p for p in (REPO / "specs").glob("*") if p.suffix in (".yaml", ".yml", ".json"))


def run(*args):
    return CliRunner().invoke(cli, list(args))


def test_the_plugin_loads_cleanly_next_to_the_built_ins():
    reg = check_plugin(specforge_onnx.plugin, "onnx")
    assert "onnx" in reg.backends
    assert reg.backends["onnx"].can_train is False
    for activation in reg.names("activation"):
        assert reg.lowering("onnx", "activation", activation) is not None, activation


@pytest.mark.skipif(
    not SPECS, reason="no specs/ directory next to the plugin (not a specforge checkout)"
)
@pytest.mark.parametrize("spec", SPECS, ids=[p.name for p in SPECS])
def test_every_spec_agrees_with_the_numpy_backend(spec, tmp_path):
    diffs = check_backend("onnx", spec, reference="numpy", tmp_path=tmp_path, batch=16)
    assert diffs and max(diffs.values()) <= 1e-5


def _activation_spec(names, optimizer):
    nodes = [
        {"name": f"a_{name}", "type": "Dense", "units": 3, "activation": name, "inputs": ["x"]}
        for name in names
    ]
    return {
        "specforge": 1,
        "name": "activations",
        "inputs": [{"name": "x", "shape": [4]}],
        "nodes": nodes,
        "outputs": [{"node": n["name"], "loss": "mse"} for n in nodes],
        "optimizer": {"type": optimizer},
    }


def test_every_activation_agrees_with_the_numpy_backend():
    reg = get_registry()
    smooth = [
        name for name in reg.names("activation") if reg.get("activation", name).differentiable
    ]
    diffs = check_backend("onnx", _activation_spec(smooth, "sgd"), batch=64)
    assert len(diffs) == len(smooth)
    # a step function only comes with the perceptron rule
    steps = [name for name in reg.names("activation") if name not in smooth]
    for name in steps:
        spec = _activation_spec([name], "perceptron")
        spec["outputs"] = [{"node": f"a_{name}", "loss": "mse"}]
        check_backend("onnx", spec, batch=64)


def test_a_layers_spec_agrees_in_inference_with_trained_statistics():
    reg = get_registry()
    if "BatchNormalization" not in reg.node_types:
        pytest.skip("specforge-layers is not installed")
    spec = REPO / "plugins" / "specforge-layers" / "specs" / "residual_bn_mlp.yaml"
    graph = specforge.resolve(spec)
    numpy_backend, onnx_backend = reg.backends["numpy"], reg.backends["onnx"]
    reference = numpy_backend.build(graph, seed=0, registry=get_registry())
    weights = numpy_backend.get_weights(reference)
    rng = np.random.default_rng(0)
    for name in ("norm1", "norm2"):
        gamma, beta, mean, var = weights[name]
        weights[name] = [
            gamma * 2,
            beta - 0.3,
            rng.normal(size=mean.shape),
            rng.uniform(0.5, 2.0, var.shape),
        ]
    numpy_backend.set_weights(reference, weights)
    model = onnx_backend.build(graph, seed=0, registry=get_registry())
    onnx_backend.set_weights(model, weights)
    x = {"features": rng.normal(size=(32, 8)).astype(np.float32)}
    np.testing.assert_allclose(
        onnx_backend.predict(model, x)["output"],
        numpy_backend.predict(reference, x)["output"],
        rtol=1e-5,
        atol=1e-5,
    )


# ---------------------------------------------------------------- the CLI


def test_specforge_build_writes_an_onnx_file_that_onnxruntime_runs_alone(tmp_path):
    import onnxruntime as ort

    out = tmp_path / "model.onnx"
    result = run(
        "build",
        str(REPO / "specs" / "wide_deep_aux.yaml"),
        "--backend",
        "onnx",
        "-o",
        str(out),
        "--seed",
        "3",
    )
    assert result.exit_code == 0, result.output
    assert f"wrote {out} (onnx backend, seed 3)" in result.stderr
    assert "Total params: 3,517" in result.stdout
    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == ["wide_input", "deep_input"]
    assert [o.name for o in session.get_outputs()] == ["output", "aux_output"]
    rng = np.random.default_rng(0)
    x = {
        "wide_input": rng.normal(size=(5, 5)).astype(np.float32),
        "deep_input": rng.normal(size=(5, 6)).astype(np.float32),
    }
    got = dict(zip(["output", "aux_output"], session.run(None, x), strict=True))
    numpy_backend = get_registry().backends["numpy"]
    expected = numpy_backend.predict(
        numpy_backend.build(
            specforge.resolve(REPO / "specs" / "wide_deep_aux.yaml"),
            seed=3,
            registry=get_registry(),
        ),
        x,
    )
    for name in got:
        np.testing.assert_allclose(got[name], expected[name], rtol=1e-5, atol=1e-5)
    import onnx

    meta = {p.key: p.value for p in onnx.load(str(out)).metadata_props}
    assert json.loads(meta["specforge.spec"])["name"] == "wide_deep_aux"


def test_build_refuses_a_node_type_without_an_onnx_lowering(tmp_path):
    class Mystery(NodeType):
        name = "Mystery"

        def output_shape(self, params, input_shapes):
            return tuple(input_shapes[0])

    class Plugin:
        @hookimpl
        def register_node_types(self, register):
            register(Mystery())

    spec = tmp_path / "spec.yaml"
    spec.write_text(
        "specforge: 1\nname: m\ninputs:\n  - {name: x, shape: [3]}\nnodes:\n  - {name: odd, type: Mystery}\n"
        "outputs:\n  - {node: odd, loss: mse}\noptimizer: {type: sgd}\n"
    )
    with plugins_installed(("mystery", Plugin())):
        result = run("build", str(spec), "--backend", "onnx", "-o", str(tmp_path / "m.onnx"))
    assert result.exit_code == 1
    assert (
        "spec.yaml:6:23: error[unsupported-by-backend]: node 'odd': node type 'Mystery' has no onnx lowering"
        in result.stdout
    )
    assert "plugin 'mystery' provides 'Mystery' without an onnx lowering" in result.stdout
    assert not (tmp_path / "m.onnx").exists()


def test_training_is_refused_with_a_clear_error():
    reg = get_registry()
    onnx_backend = reg.backends["onnx"]
    model = onnx_backend.build(
        specforge.resolve(REPO / "specs" / "wide_deep.yaml"), seed=0, registry=get_registry()
    )
    with pytest.raises(BackendError, match="the onnx backend cannot train") as info:
        onnx_backend.fit(model, {}, {}, epochs=1)
    assert "--backend numpy or keras" in info.value.help


@pytest.fixture(scope="module")
def trained_with_onnx(tmp_path_factory):
    """One real ``specforge train --backend onnx`` process, shared by the tests reading its output."""
    from importlib.metadata import entry_points

    tmp_path = tmp_path_factory.mktemp("train-onnx")

    spec = REPO / "specs" / "digits_mlp.yaml"
    if not spec.exists() or "onnx" not in {ep.name for ep in entry_points(group="specforge")}:
        pytest.skip("needs specs/digits_mlp.yaml and specforge-onnx installed (a real process)")
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "specforge",
            "train",
            str(spec),
            "--backend",
            "onnx",
            "--out",
            str(tmp_path / "run"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
    )


def test_specforge_train_with_the_onnx_backend_exits_2(trained_with_onnx):
    result = trained_with_onnx
    assert result.returncode == 2
    assert "backend 'onnx' runs inference only and cannot train" in result.stderr
    assert "train with --backend keras or --backend numpy" in result.stderr
    assert "Traceback" not in result.stdout + result.stderr


def test_specforge_train_with_the_onnx_backend_is_not_an_internal_error(trained_with_onnx):
    result = trained_with_onnx
    assert "internal error" not in result.stderr
    assert (
        "help: train with --backend keras or --backend numpy, then export the trained model"
        in result.stderr
    )


# ---------------------------------------------------------------- weights from a trained run


def test_weights_from_a_trained_numpy_run_export_to_onnx(tmp_path):
    reg = get_registry()
    numpy_backend, onnx_backend = reg.backends["numpy"], reg.backends["onnx"]
    graph = specforge.resolve(REPO / "specs" / "wide_deep_aux.yaml")
    rng = np.random.default_rng(0)
    x = {
        "wide_input": rng.normal(size=(64, 5)).astype(np.float32),
        "deep_input": rng.normal(size=(64, 6)).astype(np.float32),
    }
    y = {
        "output": rng.normal(size=(64, 1)).astype(np.float32),
        "aux_output": rng.normal(size=(64, 1)).astype(np.float32),
    }
    trained = numpy_backend.build(graph, seed=0, registry=get_registry())
    numpy_backend.fit(trained, x, y, epochs=2, batch_size=16, seed=0)
    numpy_backend.save(trained, str(tmp_path / "model.npz"))

    exported = onnx_backend.load(
        str(tmp_path / "model.npz"), graph, registry=get_registry()
    )  # weights taken over from the .npz
    onnx_backend.save(exported, str(tmp_path / "model.onnx"))
    reloaded = onnx_backend.load(str(tmp_path / "model.onnx"), graph, registry=get_registry())
    expected = numpy_backend.predict(trained, x)
    for model in (exported, reloaded):
        got = onnx_backend.predict(model, x)
        for name in expected:
            np.testing.assert_allclose(got[name], expected[name], rtol=1e-5, atol=1e-5)
    scores = onnx_backend.evaluate(reloaded, x, y)
    reference = numpy_backend.evaluate(trained, x, y)
    assert scores.keys() == reference.keys()
    for key in scores:
        assert scores[key] == pytest.approx(reference[key], rel=1e-4), key


def test_an_onnx_file_of_another_spec_is_refused(tmp_path):
    reg = get_registry()
    onnx_backend = reg.backends["onnx"]
    model = onnx_backend.build(
        specforge.resolve(REPO / "specs" / "wide_deep.yaml"), seed=0, registry=get_registry()
    )
    onnx_backend.save(model, str(tmp_path / "wide_deep.onnx"))
    with pytest.raises(
        BackendError,
        match="does not belong to spec 'california_mlp': the weights of 'output' do not fit",
    ):
        onnx_backend.load(
            str(tmp_path / "wide_deep.onnx"),
            specforge.resolve(REPO / "specs" / "california_mlp.yaml"),
            registry=get_registry(),
        )


def test_loading_the_plugin_imports_neither_onnx_nor_onnxruntime():
    code = (
        "import sys, specforge_onnx.plugin, specforge; specforge.get_registry();"
        "print(sorted(m for m in ('onnx', 'onnxruntime') if m in sys.modules))"
    )
    src = Path(specforge_onnx.plugin.__file__).resolve().parents[1]
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": f"{src}:{REPO}"},
        timeout=60,
    )
    assert out.stdout.strip() == "[]", out.stderr


def test_a_plugins_loss_and_metric_evaluate_on_onnx_through_the_registry():
    """Losses and metrics come from the registry's numpy lowerings: a plugin's work on ONNX too."""
    from specforge.plugin import Loss, Metric
    from specforge.testing import registry_with

    class HalvedMse:
        def value(self, y_true, y_pred):
            return 0.5 * np.mean((np.asarray(y_pred) - np.asarray(y_true)) ** 2, axis=-1)

        def grad(self, y_true, y_pred):
            return (np.asarray(y_pred) - np.asarray(y_true)) / np.size(y_pred)

    class MaxError:
        def __call__(self, y_true, y_pred):
            return float(np.max(np.abs(np.asarray(y_pred) - np.asarray(y_true))))

    class Plugin:
        SPECFORGE_API = 2

        @hookimpl
        def register_losses(self, register):
            register(Loss("halved_mse"))

        @hookimpl
        def register_metrics(self, register):
            register(Metric("max_error"))

        @hookimpl
        def register_lowerings(self, register):
            register("numpy", "loss", "halved_mse", HalvedMse())
            register("numpy", "metric", "max_error", MaxError())

    reg = registry_with(("halved", Plugin()), specforge_onnx.plugin)
    spec = {
        "specforge": 1,
        "name": "halved",
        "inputs": [{"name": "x", "shape": [4]}],
        "nodes": [{"name": "out", "type": "Dense", "units": 2}],
        "outputs": [{"node": "out", "loss": "halved_mse", "metrics": ["max_error"]}],
        "optimizer": {"type": "sgd"},
    }
    graph = specforge.resolve(spec, registry=reg)
    numpy_backend, onnx_backend = reg.backends["numpy"], reg.backends["onnx"]
    reference = numpy_backend.build(graph, seed=0, registry=reg)
    model = onnx_backend.build(graph, seed=0, registry=reg)
    rng = np.random.default_rng(0)
    x = {"x": rng.normal(size=(16, 4)).astype(np.float32)}
    y = {"out": rng.normal(size=(16, 2)).astype(np.float32)}
    got = onnx_backend.evaluate(model, x, y, batch_size=16)
    expected = numpy_backend.evaluate(reference, x, y, batch_size=16)
    assert got.keys() == expected.keys() == {"loss", "max_error"}
    for key in got:
        assert got[key] == pytest.approx(expected[key], rel=1e-5), key
