"""The Keras backend's runtime: fit, evaluate, predict, callbacks, weights, seeds.

Data and histories cross the Backend interface under the documented names:
inputs and outputs by name; ``loss``, ``<output>_loss``, ``<output>_<metric>``
and their ``val_`` twins.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

keras = pytest.importorskip("keras")

import specforge  # noqa: E402
from specforge.plugin import TrainingCallback  # noqa: E402
from specforge.registry import get_registry  # noqa: E402

SPECS = Path(__file__).resolve().parents[2] / "specs"


@pytest.fixture(scope="module")
def backend():
    return get_registry().backends["keras"]


def aux_data(n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = {
        "wide_input": rng.normal(size=(n, 5)).astype("float32"),
        "deep_input": rng.normal(size=(n, 6)).astype("float32"),
    }
    target = (x["wide_input"].sum(axis=1, keepdims=True) * 0.3 + 1.0).astype("float32")
    return x, {"output": target, "aux_output": target}


def small_spec(**changes):
    spec = {
        "specforge": 1,
        "name": "tiny",
        "inputs": [{"name": "x", "shape": [3]}],
        "nodes": [
            {"name": "hidden", "type": "Dense", "units": 4, "activation": "relu"},
            {"name": "out", "type": "Dense", "units": 1},
        ],
        "outputs": [{"node": "out", "loss": "mse", "metrics": ["mae"]}],
        "optimizer": {"type": "sgd", "learning_rate": 0.01},
    }
    spec.update(changes)
    return spec


def tiny_data(n: int = 64):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(n, 3)).astype("float32")
    return {"x": x}, {"out": x[:, :1] * 2.0}


# ---------------------------------------------------------------- the auxiliary-output model


def test_aux_model_history_has_each_outputs_loss_and_the_weighted_total(backend):
    model = specforge.build(SPECS / "wide_deep_aux.yaml", seed=0)
    x, y = aux_data(256)
    history = backend.fit(
        model, x, y, epochs=2, batch_size=32, validation_data=aux_data(64, seed=1)
    )
    assert set(history) == {
        "loss",
        "output_loss",
        "aux_output_loss",
        "val_loss",
        "val_output_loss",
        "val_aux_output_loss",
    }
    for prefix in ("", "val_"):
        for total, out, aux in zip(
            history[f"{prefix}loss"],
            history[f"{prefix}output_loss"],
            history[f"{prefix}aux_output_loss"],
            strict=True,
        ):
            assert total == pytest.approx(0.9 * out + 0.1 * aux, abs=1e-5)
    assert all(len(v) == 2 for v in history.values())


def test_evaluate_gives_exact_per_output_losses_even_with_a_short_last_batch(backend):
    model = specforge.build(SPECS / "wide_deep_aux.yaml", seed=0)
    x, y = aux_data(
        100
    )  # 100 = 3 × 32 + 4: Keras alone would weight the 4-sample batch like the others
    results = backend.evaluate(model, x, y, batch_size=32)
    preds = backend.predict(model, x, batch_size=32)
    exact = {
        name: float(np.mean((preds[name] - y[name]) ** 2)) for name in ("output", "aux_output")
    }
    assert results["output_loss"] == pytest.approx(exact["output"], rel=1e-5)
    assert results["aux_output_loss"] == pytest.approx(exact["aux_output"], rel=1e-5)
    assert results["loss"] == pytest.approx(
        0.9 * exact["output"] + 0.1 * exact["aux_output"], abs=1e-5
    )


def test_each_output_gets_its_own_metrics(backend):
    spec = specforge.check_file(SPECS / "wide_deep_aux.yaml").graph.to_spec()
    spec["outputs"][0]["metrics"] = ["mae"]
    spec["outputs"][1]["metrics"] = ["mse", "rmse"]
    model = specforge.build(spec, seed=0)
    x, y = aux_data(96)
    y["aux_output"] = (
        y["aux_output"] * 3.0
    )  # different targets: a metric on the wrong head would show
    results = backend.evaluate(model, x, y, batch_size=32)
    assert set(results) == {
        "loss",
        "output_loss",
        "aux_output_loss",
        "output_mean_absolute_error",
        "aux_output_mean_squared_error",
        "aux_output_root_mean_squared_error",
    }
    preds = backend.predict(model, x)
    assert results["output_mean_absolute_error"] == pytest.approx(
        float(np.mean(np.abs(preds["output"] - y["output"]))), rel=1e-4
    )
    mse = float(np.mean((preds["aux_output"] - y["aux_output"]) ** 2))
    assert results["aux_output_mean_squared_error"] == pytest.approx(mse, rel=1e-4)
    assert results["aux_output_root_mean_squared_error"] == pytest.approx(mse**0.5, rel=1e-4)


# ---------------------------------------------------------------- one output


def test_single_output_history_uses_plain_names(backend):
    model = specforge.build(small_spec(), seed=0)
    x, y = tiny_data()
    history = backend.fit(model, x, y, epochs=2, batch_size=16, validation_data=tiny_data(32))
    assert set(history) == {"loss", "mean_absolute_error", "val_loss", "val_mean_absolute_error"}
    assert set(backend.evaluate(model, x, y)) == {"loss", "mean_absolute_error"}


def test_accuracy_follows_the_outputs_loss(backend):
    spec = small_spec(
        nodes=[{"name": "out", "type": "Dense", "units": 3, "activation": "softmax"}],
        outputs=[
            {"node": "out", "loss": "sparse_categorical_crossentropy", "metrics": ["accuracy"]}
        ],
    )
    model = specforge.build(spec, seed=0)
    x = {"x": np.eye(3, dtype="float32")[[0, 1, 2, 0, 1, 2]] * 5}
    y = {"out": np.array([0, 1, 2, 0, 1, 2])}
    results = backend.evaluate(model, x, y)
    pred = backend.predict(model, x)["out"].argmax(axis=1)
    assert results["accuracy"] == pytest.approx(float(np.mean(pred == y["out"])))


def test_predict_returns_outputs_by_name(backend):
    model = specforge.build(SPECS / "wide_deep_aux.yaml", seed=0)
    x, _ = aux_data(10)
    preds = backend.predict(model, x)
    assert list(preds) == ["output", "aux_output"]
    assert preds["output"].shape == (10, 1)


def test_missing_or_unknown_inputs_are_named(backend):
    model = specforge.build(SPECS / "wide_deep_aux.yaml", seed=0)
    x, y = aux_data(8)
    with pytest.raises(ValueError, match="no data for input 'deep_input'"):
        backend.predict(model, {"wide_input": x["wide_input"]})
    with pytest.raises(ValueError, match="unknown output 'extra'"):
        backend.evaluate(model, x, {**y, "extra": y["output"]})


# ---------------------------------------------------------------- callbacks


class Recorder(TrainingCallback):
    def __init__(self, stop_at_batch: int | None = None, stop_at_epoch: int | None = None):
        self.events: list[tuple] = []
        self.stop_at_batch, self.stop_at_epoch = stop_at_batch, stop_at_epoch

    def on_epoch_begin(self, epoch):
        self.events.append(("begin", epoch))

    def on_batch_end(self, epoch, batch, logs):
        self.events.append(("batch", epoch, batch, sorted(logs)))
        return self.stop_at_batch is not None and (epoch, batch) >= (0, self.stop_at_batch)

    def on_epoch_end(self, epoch, logs):
        self.events.append(("end", epoch, dict(logs)))
        return self.stop_at_epoch is not None and epoch >= self.stop_at_epoch


class EpochsOnly(TrainingCallback):
    def __init__(self):
        self.ends = []

    def on_epoch_end(self, epoch, logs):
        self.ends.append((epoch, dict(logs)))
        return False


def test_callbacks_see_each_batch_and_epoch_under_the_history_names(backend):
    model = specforge.build(small_spec(), seed=0)
    x, y = tiny_data(64)
    rec = Recorder()
    history = backend.fit(
        model, x, y, epochs=2, batch_size=32, callbacks=[rec], validation_data=tiny_data(16)
    )
    assert [e[0] for e in rec.events] == ["begin", "batch", "batch", "end"] * 2
    assert rec.events[1] == ("batch", 0, 0, ["loss", "mean_absolute_error"])
    end = rec.events[3][2]
    assert set(end) == set(history)
    assert end["val_loss"] == pytest.approx(history["val_loss"][0])


def test_a_callback_returning_true_stops_training(backend):
    model = specforge.build(small_spec(), seed=0)
    x, y = tiny_data(64)
    history = backend.fit(
        model, x, y, epochs=5, batch_size=16, callbacks=[Recorder(stop_at_epoch=1)]
    )
    assert len(history["loss"]) == 2
    rec = Recorder(stop_at_batch=1)
    backend.fit(model, x, y, epochs=5, batch_size=16, callbacks=[rec])
    assert [e[:3] for e in rec.events if e[0] == "batch"] == [("batch", 0, 0), ("batch", 0, 1)]


def test_epoch_only_callbacks_work(backend):
    model = specforge.build(small_spec(), seed=0)
    x, y = tiny_data(32)
    cb = EpochsOnly()
    backend.fit(model, x, y, epochs=2, batch_size=16, callbacks=[cb])
    assert [e for e, _ in cb.ends] == [0, 1]


# ---------------------------------------------------------------- weights and seeds


def test_weights_round_trip_by_node_name_in_keras_order(backend):
    model = specforge.build(SPECS / "wide_deep.yaml", seed=0)
    weights = backend.get_weights(model)
    assert list(weights) == ["hidden1", "hidden2", "output"]  # Concatenate has none
    assert [w.shape for w in weights["hidden1"]] == [(8, 30), (30,)]
    other = specforge.build(SPECS / "wide_deep.yaml", seed=1)
    assert not np.allclose(backend.get_weights(other)["hidden1"][0], weights["hidden1"][0])
    backend.set_weights(other, weights)
    for name, arrays in backend.get_weights(other).items():
        for a, b in zip(arrays, weights[name], strict=True):
            np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="no node 'nope'"):
        backend.set_weights(other, {"nope": []})
    with pytest.raises(ValueError, match="hidden1"):
        backend.set_weights(other, {"hidden1": [np.zeros((2, 2)), np.zeros(2)]})


def test_the_same_seed_gives_the_same_initial_weights(backend):
    a = backend.get_weights(specforge.build(SPECS / "california_mlp.yaml", seed=7))
    b = backend.get_weights(specforge.build(SPECS / "california_mlp.yaml", seed=7))
    c = backend.get_weights(specforge.build(SPECS / "california_mlp.yaml", seed=8))
    for name in a:
        np.testing.assert_array_equal(a[name][0], b[name][0])
    assert not np.array_equal(a["hidden1"][0], c["hidden1"][0])


def test_train_seed_of_the_spec_is_the_default_seed(backend):
    spec = small_spec(train={"seed": 3})
    a = backend.get_weights(specforge.build(spec))
    b = backend.get_weights(specforge.build(small_spec(), seed=3))
    np.testing.assert_array_equal(a["hidden"][0], b["hidden"][0])


def test_loss_weight_of_a_single_output_is_applied(backend):
    spec = small_spec(outputs=[{"node": "out", "loss": "mse", "weight": 0.5}])
    model = specforge.build(spec, seed=0)
    x, y = tiny_data(32)
    preds = backend.predict(model, x)["out"]
    assert backend.evaluate(model, x, y)["loss"] == pytest.approx(
        0.5 * float(np.mean((preds - y["out"]) ** 2)), rel=1e-5
    )
