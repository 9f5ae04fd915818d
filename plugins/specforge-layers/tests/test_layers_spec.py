"""A spec using Dropout, BatchNormalization and Add: validate, summary, build on Keras and NumPy, agree.

Training-mode agreement, and what is compared where:

* BatchNormalization in training mode (batch statistics, moving-average
  updates, gradients through the batch statistics) is compared model against
  model: one forward pass in training mode and one SGD step, Keras against
  NumPy, within 1e-5.
* Dropout draws its mask from each framework's own generator, so two models
  cannot agree sample by sample in training mode. The model-level comparison
  therefore uses the same spec with Dropout's rate set to 0; Dropout's training
  behaviour itself is checked against Keras with Keras's own mask and by its
  statistics in test_layers_conformance.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml
from click.testing import CliRunner

import specforge
from specforge import get_registry
from specforge.cli import cli

SPEC = Path(__file__).resolve().parents[1] / "specs" / "residual_bn_mlp.yaml"


def run(*args):
    result = CliRunner().invoke(cli, list(args))
    return result


def test_the_spec_validates_with_the_right_parameter_count():
    result = run("validate", str(SPEC))
    assert result.exit_code == 0, result.output
    assert result.stdout == f"{SPEC}: valid (561 params)\n"


def test_summary_counts_four_params_per_feature_half_non_trainable():
    result = run("summary", str(SPEC), "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    nodes = {n["name"]: n for n in data["nodes"]}
    for name in ("norm1", "norm2"):
        assert (
            nodes[name]["params"],
            nodes[name]["trainable_params"],
            nodes[name]["non_trainable_params"],
        ) == (64, 32, 32)
    assert nodes["drop1"]["params"] == nodes["residual"]["params"] == 0
    assert (data["total_params"], data["trainable_params"], data["non_trainable_params"]) == (
        561,
        497,
        64,
    )
    text = run("summary", str(SPEC)).stdout
    assert "norm1 (BatchNormalization)  (None, 16)        64  hidden1" in text
    assert "Non-trainable params: 64" in text


def _spec_with(tmp_path, text):
    path = tmp_path / "spec.yaml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("nodes", "message"),
    [
        (
            "  - {name: a, type: Dense, units: 3}\n  - {name: b, type: Dense, units: 4, inputs: [x]}\n"
            "  - {name: out, type: Add, inputs: [a, b]}\n",
            "Add needs inputs of the same shape, got (None, 3), (None, 4)",
        ),
        ("  - {name: out, type: Add}\n", "node 'out' (Add) takes at least 2 inputs, got 1"),
        (
            "  - {name: out, type: BatchNormalization, axis: 0}\n",
            "axis 0 is out of range for inputs of shape (None, 5) (axis 0 is the batch axis)",
        ),
        (
            "  - {name: out, type: BatchNormalization, axis: 2}\n",
            "axis 2 is out of range for inputs of shape (None, 5)",
        ),
        ("  - {name: out, type: Dropout, rate: 1.0}\n", "'rate' must be less than 1"),
        ("  - {name: out, type: Dropout}\n", "rate"),
        (
            "  - {name: out, type: BatchNormalization, epsilon: 0}\n",
            "'epsilon' must be greater than 0",
        ),
    ],
    ids=[
        "add-shapes",
        "add-one-input",
        "bn-batch-axis",
        "bn-axis-range",
        "dropout-rate-1",
        "dropout-no-rate",
        "bn-epsilon",
    ],
)
def test_mistakes_are_positioned_diagnostics(tmp_path, nodes, message):
    text = "specforge: 1\nname: bad\ninputs:\n  - {name: x, shape: [5]}\nnodes:\n" + nodes
    text += "outputs:\n  - {node: out, loss: mse}\noptimizer: {type: sgd}\n"
    result = run("validate", str(_spec_with(tmp_path, text)))
    assert result.exit_code == 1
    assert message in result.stdout
    assert "spec.yaml:" in result.stdout and "^" in result.stdout
    assert "Traceback" not in result.output


# ---------------------------------------------------------------- Keras and NumPy agree


def _graph(rate: float | None = None):
    data = yaml.safe_load(SPEC.read_text())
    if rate is not None:
        for node in data["nodes"]:
            if node["type"] == "Dropout":
                node["rate"] = rate
    return specforge.resolve(data)


def _pair(graph):
    reg = get_registry()
    keras_backend, numpy_backend = reg.backends["keras"], reg.backends["numpy"]
    k = keras_backend.build(graph, seed=0, registry=reg)
    n = numpy_backend.build(graph, seed=0, registry=reg)
    weights = keras_backend.get_weights(k)
    # Non-trivial moving statistics, so that inference really uses them.
    rng = np.random.default_rng(1)
    for name in ("norm1", "norm2"):
        gamma, beta, mean, var = weights[name]
        weights[name] = [
            gamma * 1.5,
            beta + 0.1,
            rng.normal(size=mean.shape).astype(np.float32),
            rng.uniform(0.5, 2, var.shape).astype(np.float32),
        ]
    keras_backend.set_weights(k, weights)
    numpy_backend.set_weights(n, weights)
    return keras_backend, k, numpy_backend, n


@pytest.mark.keras
def test_keras_and_numpy_agree_in_inference():
    graph = _graph()
    kb, k, nb, n = _pair(graph)
    x = {"features": np.random.default_rng(0).normal(size=(32, 8)).astype(np.float32)}
    np.testing.assert_allclose(
        nb.predict(n, x)["output"], kb.predict(k, x)["output"], rtol=1e-5, atol=1e-5
    )


@pytest.mark.keras
def test_keras_and_numpy_agree_in_training_mode_and_after_one_training_step():
    graph = _graph(rate=0.0)  # see the module docstring
    kb, k, nb, n = _pair(graph)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 8)).astype(np.float32)
    y = rng.normal(size=(32, 1)).astype(np.float32)
    # a forward pass with batch statistics
    k_train = k(x, training=True).numpy()
    kb.set_weights(
        k, nb.get_weights(n)
    )  # Keras moved its moving statistics in that call: put them back
    n_train = n.forward({"features": x}, training=True)["output"]
    np.testing.assert_allclose(n_train, k_train, rtol=1e-5, atol=1e-5)
    # one SGD step: gradients through the batch statistics, moving averages updated
    k.train_on_batch(x, y)
    n.train_on_batch({"features": x}, {"output": y})
    after_k, after_n = kb.get_weights(k), nb.get_weights(n)
    assert after_k.keys() == after_n.keys()
    for name in after_k:
        for i, (a, b) in enumerate(zip(after_n[name], after_k[name], strict=True)):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5, err_msg=f"{name} weight {i}")
    moved = after_n["norm2"][2]
    assert not np.allclose(
        moved, _pair(graph)[3].get_weights()["norm2"][2]
    )  # the moving mean did move


# ---------------------------------------------------------------- the CLI builds it, and imports it back


@pytest.mark.keras
def test_build_writes_a_model_file_on_both_backends(tmp_path):
    for backend, suffix in (("numpy", ".npz"), ("keras", ".keras")):
        out = tmp_path / f"model{suffix}"
        result = run("build", str(SPEC), "--backend", backend, "-o", str(out))
        assert result.exit_code == 0, result.output
        assert out.is_file()
        assert "Non-trainable params: 64" in result.stdout


def _import_round_trip(tmp_path, data):
    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump(data))
    assert run("build", str(spec), "-o", str(tmp_path / "model.keras")).exit_code == 0
    result = run("import", str(tmp_path / "model.keras"), "-o", str(tmp_path / "imported.yaml"))
    assert result.exit_code == 0, result.output
    imported, original = specforge.resolve(tmp_path / "imported.yaml"), specforge.resolve(spec)
    assert [(n.name, n.type, n.param_count) for n in imported.nodes] == [
        (n.name, n.type, n.param_count) for n in original.nodes
    ]
    return imported


@pytest.mark.keras
def test_a_saved_keras_model_with_batch_normalization_and_add_imports_back(tmp_path):
    data = yaml.safe_load(SPEC.read_text())
    data["nodes"] = [n for n in data["nodes"] if n["type"] != "Dropout"]
    data["nodes"][2]["inputs"] = ["norm1"]  # hidden2 read drop1
    data["nodes"][4]["inputs"] = ["norm1", "norm2"]  # residual read drop1
    imported = _import_round_trip(tmp_path, data)
    assert imported.node("norm2").params.momentum == 0.9


@pytest.mark.keras
def test_a_saved_keras_model_with_dropout_imports_back(tmp_path):
    imported = _import_round_trip(tmp_path, yaml.safe_load(SPEC.read_text()))
    assert imported.node("drop1").params.rate == 0.2
