"""The chapter's perceptron: heaviside units trained by Rosenblatt's rule on the NumPy backend."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

import specforge
from specforge.diagnostics import SpecError
from specforge.registry import get_registry

from .conftest import SPECS, graph_of, spec, strip_run_sections

SPEC = SPECS / "perceptron_iris.yaml"


@pytest.fixture(scope="module")
def iris():
    from sklearn.datasets import load_iris

    data = load_iris()
    return data.data[:, 2:4].astype(np.float32), data.target


def _sklearn(x, y, epochs):
    from sklearn.linear_model import Perceptron

    return Perceptron(max_iter=epochs, tol=None, shuffle=False, eta0=1.0, random_state=0).fit(x, y)


def _trained(numpy_backend, graph, x, y, epochs, batch_size=32):
    model = numpy_backend.build(graph, seed=0, registry=get_registry())
    numpy_backend.fit(
        model,
        {"petals": x},
        {graph.outputs[0].name: y},
        epochs=epochs,
        batch_size=batch_size,
        shuffle=False,
    )
    return model


def test_the_spec_is_three_step_units_on_the_petals():
    graph = specforge.resolve(SPEC)
    (node,) = graph.nodes
    assert (node.type, node.params.units, node.params.activation) == ("Dense", 3, "heaviside")
    assert graph.input("petals").shape == (2,) and graph.total_params == 9
    assert graph.optimizer.type == "perceptron"
    assert graph.data.feeds["petals"] == "2:4"


def test_iris_accuracy_is_within_5_points_of_sklearn_with_the_same_epochs(numpy_backend, iris):
    x, labels = iris
    graph = strip_run_sections(specforge.resolve(SPEC))
    epochs = specforge.resolve(SPEC).train.epochs
    model = _trained(numpy_backend, graph, x, np.eye(3, dtype=np.float32)[labels], epochs)
    ours = numpy_backend.evaluate(
        model, {"petals": x}, {"species": np.eye(3, dtype=np.float32)[labels]}
    )["categorical_accuracy"]
    theirs = _sklearn(x, labels, epochs).score(x, labels)
    assert abs(ours - theirs) <= 0.05, (ours, theirs)
    assert ours > 0.6


@pytest.mark.parametrize("epochs", [1, 2, 5, 10, 20, 30])
@pytest.mark.parametrize("batch_size", [1, 32, 150])
def test_the_weights_are_sklearns_one_vs_rest_weights(numpy_backend, iris, epochs, batch_size):
    """Same samples in the same order, same rule: the same weights, whatever the batch size."""
    x, labels = iris
    graph = strip_run_sections(specforge.resolve(SPEC))
    model = _trained(
        numpy_backend, graph, x, labels, epochs, batch_size
    )  # class indices: one-vs-rest targets
    kernel, bias = numpy_backend.get_weights(model)["species"]
    clf = _sklearn(x, labels, epochs)
    assert_allclose(kernel, clf.coef_.T, rtol=1e-6, atol=1e-5)
    assert_allclose(bias, clf.intercept_, rtol=1e-6, atol=1e-5)


def test_setosa_versus_rest_is_learnt_perfectly(numpy_backend, iris):
    x, labels = iris
    setosa = (labels == 0).astype(np.float32)
    graph = graph_of(
        spec(
            [
                {
                    "name": "setosa",
                    "type": "Dense",
                    "units": 1,
                    "activation": "step",
                    "kernel_initializer": "zeros",
                }
            ],
            [{"node": "setosa", "loss": "mse", "metrics": ["accuracy"]}],
            inputs=[{"name": "petals", "shape": [2]}],
            optimizer={"type": "perceptron"},
        )
    )
    model = _trained(numpy_backend, graph, x, setosa, epochs=10)
    result = numpy_backend.evaluate(model, {"petals": x}, {"setosa": setosa})
    assert result["accuracy"] == 1.0 and result["loss"] == 0.0
    pred = numpy_backend.predict(model, {"petals": x})["setosa"][:, 0]
    assert set(np.unique(pred)) == {0.0, 1.0}
    assert (pred == setosa).all()
    assert (_sklearn(x, labels == 0, 10).predict(x) == (pred == 1)).all()


def test_the_history_reports_the_step_outputs_figures(numpy_backend, iris):
    x, labels = iris
    graph = strip_run_sections(specforge.resolve(SPEC))
    model = numpy_backend.build(graph, seed=0, registry=get_registry())
    onehot = np.eye(3, dtype=np.float32)[labels]
    history = numpy_backend.fit(
        model,
        {"petals": x},
        {"species": onehot},
        epochs=3,
        shuffle=False,
        validation_data=({"petals": x}, {"species": onehot}),
    )
    assert list(history) == [
        "loss",
        "categorical_accuracy",
        "binary_accuracy",
        "val_loss",
        "val_categorical_accuracy",
        "val_binary_accuracy",
    ]
    assert history["val_binary_accuracy"][-1] == pytest.approx(
        1 - history["val_loss"][-1]
    )  # 0/1 outputs: mse is the error rate


PERCEPTRON = {"type": "perceptron"}


@pytest.mark.parametrize(
    ("nodes", "message"),
    [
        (
            [{"name": "out", "type": "Dense", "units": 2, "activation": "relu"}],
            "node 'out': its activation is 'relu', not 'heaviside'",
        ),
        (
            [
                {"name": "hidden", "type": "Dense", "units": 3, "activation": "heaviside"},
                {"name": "out", "type": "Dense", "units": 2, "activation": "heaviside"},
            ],
            "node 'hidden': it is not a model output",
        ),
        (
            [
                {"name": "hidden", "type": "Dense", "units": 3, "activation": "heaviside"},
                {"name": "out", "type": "Dense", "units": 2, "activation": "heaviside"},
            ],
            "node 'out': it reads another trainable node",
        ),
        (
            [
                {
                    "name": "out",
                    "type": "Dense",
                    "units": 2,
                    "activation": "heaviside",
                    "use_bias": False,
                }
            ],
            "node 'out': it has no bias",
        ),
    ],
)
def test_the_perceptron_rule_on_another_graph_is_a_diagnostic(numpy_backend, nodes, message):
    graph = graph_of(
        spec(nodes, [{"node": nodes[-1]["name"], "loss": "mse"}], optimizer=PERCEPTRON)
    )
    with pytest.raises(SpecError) as err:
        numpy_backend.build(graph, seed=0, registry=get_registry())
    found = [d for d in err.value.diagnostics if message in d.message]
    assert found, [d.message for d in err.value.diagnostics]
    assert (
        found[0].code == "perceptron-graph"
        and "optimizer 'perceptron' cannot train" in found[0].message
    )


SGD_STEP = """\
specforge: 1
name: step_sgd
inputs:
  - {name: x, shape: [2]}
nodes:
  - {name: hidden, type: Dense, units: 4, activation: relu}
  - {name: out, type: Dense, units: 1,
     activation: step}
outputs:
  - {node: out, loss: mse}
optimizer: {type: sgd}
"""


def test_a_step_activation_under_a_gradient_optimizer_is_a_diagnostic_at_its_line(
    numpy_backend, tmp_path
):
    path = tmp_path / "step_sgd.yaml"
    path.write_text(SGD_STEP)
    result = specforge.check_file(path)
    assert result.ok
    with pytest.raises(SpecError) as err:
        numpy_backend.build(result.graph, seed=0, registry=get_registry())
    (diag,) = err.value.diagnostics
    assert diag.code == "not-differentiable"
    assert (
        "node 'out': activation 'heaviside' is a step function" in diag.message
        and "optimizer 'sgd'" in diag.message
    )
    assert diag.span.line == 7 and "perceptron" in diag.help  # the node
    (exact,) = numpy_backend.check(result.graph, registry=get_registry(), document=result.document)
    assert (exact.span.line, exact.span.column) == (8, 18)  # the activation itself


def test_cli_build_reports_it_with_file_and_line(tmp_path, cli_run):
    path = tmp_path / "step_sgd.yaml"
    path.write_text(SGD_STEP)
    res = cli_run("build", str(path), "--backend", "numpy", "-o", str(tmp_path / "m.npz"))
    assert res.exit_code == 1, res.output
    assert (
        f"{path}:8:18: error[not-differentiable]: node 'out': activation 'heaviside'" in res.output
    )
    assert not (tmp_path / "m.npz").exists()


def test_cli_builds_the_perceptron_spec(tmp_path, cli_run):
    out = tmp_path / "perceptron.npz"
    res = cli_run("build", str(SPEC), "--backend", "numpy", "-o", str(out))
    assert res.exit_code == 0, res.output
    from specforge.numpy_backend.io import read

    meta, weights = read(out)
    assert meta["spec"]["optimizer"] == {"type": "perceptron", "learning_rate": 1.0}
    assert [w.shape for w in weights["species"]] == [(2, 3), (3,)]
