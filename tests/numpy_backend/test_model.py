"""The NumPy backend's model: fit/evaluate/predict semantics, history keys, callbacks, weights."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from specforge.diagnostics import SpecError
from specforge.plugin import TrainingCallback
from specforge.registry import get_registry

from .conftest import graph_of, spec, synthetic

MLP = spec(
    [
        {"name": "h", "type": "Dense", "units": 5, "activation": "relu"},
        {"name": "out", "type": "Dense", "units": 3, "activation": "softmax"},
    ],
    [{"node": "out", "loss": "sparse_categorical_crossentropy", "metrics": ["accuracy"]}],
)

TWO_OUT = spec(
    [
        {"name": "h", "type": "Dense", "units": 6, "activation": "tanh", "inputs": ["a"]},
        {"name": "cat", "type": "Concatenate", "inputs": ["b", "h"]},
        {"name": "main", "type": "Dense", "units": 1},
        {"name": "aux", "type": "Dense", "units": 2, "activation": "sigmoid", "inputs": ["h"]},
    ],
    [
        {"node": "main", "loss": "mse", "weight": 0.7, "metrics": ["mae", "rmse"]},
        {"node": "aux", "loss": "binary_crossentropy", "weight": 0.3, "metrics": ["accuracy"]},
    ],
    inputs=[{"name": "a", "shape": [3]}, {"name": "b", "shape": [2]}],
)


@pytest.fixture
def mlp(numpy_backend):
    graph = graph_of(MLP)
    return numpy_backend.build(graph, seed=1, registry=get_registry()), graph


def test_build_is_float32_keras_ordered_and_seeded(numpy_backend, mlp):
    model, graph = mlp
    weights = numpy_backend.get_weights(model)
    assert list(weights) == ["h", "out"]
    assert [w.shape for w in weights["h"]] == [(4, 5), (5,)]
    assert all(
        w.dtype == np.float32 and w.flags.c_contiguous for ws in weights.values() for w in ws
    )
    assert not weights["h"][1].any()  # bias_initializer zeros
    again = numpy_backend.get_weights(numpy_backend.build(graph, seed=1, registry=get_registry()))
    other = numpy_backend.get_weights(numpy_backend.build(graph, seed=2, registry=get_registry()))
    assert all(np.array_equal(a, b) for a, b in zip(weights["h"], again["h"], strict=True))
    assert not np.array_equal(weights["h"][0], other["h"][0])
    assert model.count_params() == graph.total_params


def test_glorot_uniform_kernel_has_keras_limit(numpy_backend):
    graph = graph_of(
        spec(
            [{"name": "d", "type": "Dense", "units": 300}],
            [{"node": "d", "loss": "mse"}],
            inputs=[{"name": "x", "shape": [784]}],
        )
    )
    kernel = numpy_backend.get_weights(numpy_backend.build(graph, seed=0, registry=get_registry()))[
        "d"
    ][0]
    limit = np.sqrt(6 / (784 + 300))
    assert np.abs(kernel).max() <= limit and np.abs(kernel).max() > 0.99 * limit
    assert abs(kernel.mean()) < 0.01


def test_history_keys_follow_keras_for_one_output(numpy_backend, mlp):
    model, graph = mlp
    x, y = synthetic(graph, 50)
    history = numpy_backend.fit(
        model, x, y, epochs=2, batch_size=16, validation_data=(x, y), seed=0
    )
    assert list(history) == ["loss", "accuracy", "val_loss", "val_accuracy"]
    assert all(len(v) == 2 for v in history.values())
    assert list(numpy_backend.evaluate(model, x, y)) == ["loss", "accuracy"]


def test_history_keys_follow_keras_for_several_outputs(numpy_backend):
    graph = graph_of(TWO_OUT)
    model = numpy_backend.build(graph, seed=0, registry=get_registry())
    x, y = synthetic(graph, 30)
    history = numpy_backend.fit(model, x, y, epochs=1, validation_data=(x, y))
    keys = [
        "loss",
        "main_loss",
        "main_mean_absolute_error",
        "main_root_mean_squared_error",
        "aux_loss",
        "aux_accuracy",
    ]
    assert list(history) == keys + [f"val_{k}" for k in keys]


def test_total_loss_is_the_weighted_sum_of_output_losses(numpy_backend):
    graph = graph_of(TWO_OUT)
    model = numpy_backend.build(graph, seed=0, registry=get_registry())
    x, y = synthetic(graph, 30)
    result = numpy_backend.evaluate(model, x, y, batch_size=7)
    assert result["loss"] == pytest.approx(
        0.7 * result["main_loss"] + 0.3 * result["aux_loss"], rel=1e-6
    )
    pred = numpy_backend.predict(model, x)
    assert result["main_loss"] == pytest.approx(
        float(np.mean((pred["main"] - y["main"]) ** 2)), rel=1e-5
    )
    assert result["main_mean_absolute_error"] == pytest.approx(
        float(np.mean(np.abs(pred["main"] - y["main"]))), rel=1e-5
    )
    assert result["main_root_mean_squared_error"] == pytest.approx(
        float(np.sqrt(np.mean((pred["main"] - y["main"]) ** 2))), rel=1e-5
    )
    assert result["aux_accuracy"] == pytest.approx(float(np.mean((pred["aux"] > 0.5) == y["aux"])))


def test_evaluate_and_predict_do_not_depend_on_batch_size(numpy_backend, mlp):
    model, graph = mlp
    x, y = synthetic(graph, 37)
    a, b = (
        numpy_backend.evaluate(model, x, y, batch_size=5),
        numpy_backend.evaluate(model, x, y, batch_size=100),
    )
    assert a == pytest.approx(b, rel=1e-6)
    assert_allclose(
        numpy_backend.predict(model, x, batch_size=5)["out"],
        numpy_backend.predict(model, x, batch_size=64)["out"],
        rtol=1e-6,
    )


def test_epoch_figures_are_batch_size_weighted_means_of_the_steps(numpy_backend):
    graph = graph_of(MLP)
    x, y = synthetic(graph, 40)
    fitted = numpy_backend.build(graph, seed=3, registry=get_registry())
    history = numpy_backend.fit(fitted, x, y, epochs=1, batch_size=16, shuffle=False)
    stepped = numpy_backend.build(graph, seed=3, registry=get_registry())
    logs = [
        (stepped.train_on_batch({"x": x["x"][s:e]}, {"out": y["out"][s:e]}), e - s)
        for s, e in ((0, 16), (16, 32), (32, 40))
    ]
    for key in ("loss", "accuracy"):
        assert history[key][0] == pytest.approx(sum(v[key] * n for v, n in logs) / 40, rel=1e-6)
    for a, b in zip(
        numpy_backend.get_weights(fitted)["out"],
        numpy_backend.get_weights(stepped)["out"],
        strict=True,
    ):
        assert_array_equal(a, b)


def test_shuffling_is_reproducible_with_a_seed(numpy_backend):
    graph = graph_of(MLP)
    x, y = synthetic(graph, 64)

    def trained(seed):
        model = numpy_backend.build(graph, seed=0, registry=get_registry())
        numpy_backend.fit(model, x, y, epochs=2, batch_size=8, seed=seed)
        return numpy_backend.get_weights(model)["h"][0]

    assert_array_equal(trained(5), trained(5))
    assert not np.array_equal(trained(5), trained(6))


def test_training_reduces_the_loss(numpy_backend):
    graph = graph_of(
        spec(
            [
                {"name": "h", "type": "Dense", "units": 16, "activation": "relu"},
                {"name": "o", "type": "Dense", "units": 1},
            ],
            [{"node": "o", "loss": "mse"}],
            optimizer={"type": "adam", "learning_rate": 0.01},
        )
    )
    rng = np.random.default_rng(0)
    x = rng.standard_normal((256, 4)).astype(np.float32)
    y = (x @ np.array([1.0, -2.0, 0.5, 3.0], np.float32))[:, None] + 1.0
    model = numpy_backend.build(graph, seed=0, registry=get_registry())
    history = numpy_backend.fit(model, {"x": x}, {"o": y}, epochs=30, batch_size=32, seed=0)
    assert history["loss"][-1] < 0.05 * history["loss"][0]


class Counter(TrainingCallback):
    def __init__(self, stop_at_batch=None, stop_at_epoch=None):
        self.calls, self.batch_logs = [], []
        self.stop_at_batch, self.stop_at_epoch = stop_at_batch, stop_at_epoch

    def on_epoch_begin(self, epoch):
        self.calls.append(("begin", epoch))

    def on_batch_end(self, epoch, batch, logs):
        self.calls.append(("batch", epoch, batch))
        self.batch_logs.append(dict(logs))
        return (epoch, batch) == self.stop_at_batch

    def on_epoch_end(self, epoch, logs):
        self.calls.append(("end", epoch, sorted(logs)))
        return epoch == self.stop_at_epoch


def test_callbacks_are_called_per_batch_and_per_epoch(numpy_backend, mlp):
    model, graph = mlp
    x, y = synthetic(graph, 20)
    cb = Counter()
    numpy_backend.fit(model, x, y, epochs=2, batch_size=8, validation_data=(x, y), callbacks=[cb])
    keys = ["accuracy", "loss", "val_accuracy", "val_loss"]
    assert cb.calls == [
        ("begin", 0), ("batch", 0, 0), ("batch", 0, 1), ("batch", 0, 2), ("end", 0, keys),
        ("begin", 1), ("batch", 1, 0), ("batch", 1, 1), ("batch", 1, 2), ("end", 1, keys),
    ]  # fmt: skip
    assert list(cb.batch_logs[0]) == ["loss", "accuracy"]


def test_a_callback_stops_training_after_a_batch_or_an_epoch(numpy_backend, mlp):
    model, graph = mlp
    x, y = synthetic(graph, 20)
    cb = Counter(stop_at_batch=(1, 0))
    history = numpy_backend.fit(model, x, y, epochs=5, batch_size=8, callbacks=[cb])
    assert (
        cb.calls[-1] == ("batch", 1, 0) and history["loss"] and len(history["loss"]) == 1
    )  # epoch 1 unfinished
    cb = Counter(stop_at_epoch=2)
    history = numpy_backend.fit(model, x, y, epochs=5, batch_size=8, callbacks=[cb, Counter()])
    assert len(history["loss"]) == 3


def test_weights_move_between_models_and_are_copies(numpy_backend, mlp):
    model, graph = mlp
    other = numpy_backend.build(graph, seed=99, registry=get_registry())
    weights = numpy_backend.get_weights(model)
    numpy_backend.set_weights(other, weights)
    x, _ = synthetic(graph, 10)
    assert_array_equal(
        numpy_backend.predict(model, x)["out"], numpy_backend.predict(other, x)["out"]
    )
    weights["h"][0][...] = 0  # a copy: the model is untouched
    assert numpy_backend.get_weights(model)["h"][0].any()


@pytest.mark.parametrize(
    ("weights", "message"),
    [
        ({"nope": []}, "no node named nope"),
        ({"h": [np.zeros((4, 5))]}, "has 2 weight array"),
        ({"h": [np.zeros((5, 4)), np.zeros(5)]}, "shape (4, 5)"),
    ],
)
def test_set_weights_refuses_what_does_not_fit(numpy_backend, mlp, weights, message):
    model, _ = mlp
    before = numpy_backend.get_weights(model)
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        numpy_backend.set_weights(model, weights)
    assert all(
        np.array_equal(a, b)
        for a, b in zip(before["h"], numpy_backend.get_weights(model)["h"], strict=True)
    )


def test_data_errors_name_inputs_and_outputs(numpy_backend):
    graph = graph_of(TWO_OUT)
    model = numpy_backend.build(graph, seed=0, registry=get_registry())
    x, y = synthetic(graph, 10)
    with pytest.raises(ValueError, match="missing b"):
        numpy_backend.predict(model, {"a": x["a"]})
    with pytest.raises(ValueError, match=r"input 'a' expects arrays of shape \(batch, 3\)"):
        numpy_backend.predict(model, {"a": x["b"], "b": x["b"]})
    with pytest.raises(ValueError, match="missing aux"):
        numpy_backend.evaluate(model, x, {"main": y["main"]})


def test_float64_models_compute_in_float64(mlp):
    from specforge.numpy_backend import NumpyModel

    _, graph = mlp
    model = NumpyModel(graph, seed=0, registry=get_registry(), dtype="float64")
    x, y = synthetic(graph, 8)
    assert model.predict(x)["out"].dtype == np.float64
    assert model.get_weights()["h"][0].dtype == np.float64
    model.fit(x, y, epochs=1)


def test_a_node_type_without_numpy_lowering_is_a_diagnostic_naming_the_node():
    from specforge.plugin import NodeType, hookimpl
    from specforge.registry import load_registry

    class Mystery(NodeType):
        name = "Mystery"

        def output_shape(self, params, input_shapes):
            return input_shapes[0]

    class Plugin:
        @hookimpl
        def register_node_types(self, register):
            register(Mystery())

    reg = load_registry([("mystery", Plugin())], entry_points=False)
    graph = graph_of(
        spec(
            [{"name": "m", "type": "Mystery"}, {"name": "o", "type": "Dense", "units": 1}],
            [{"node": "o", "loss": "mse"}],
        ),
        registry=reg,
    )
    with pytest.raises(SpecError) as err:
        reg.backends["numpy"].build(graph, seed=0, registry=reg)
    (diag,) = err.value.diagnostics
    assert diag.code == "unsupported-by-backend"
    assert "node 'm': node type 'Mystery' has no NumPy lowering" in diag.message
    assert diag.span.line > 0


def test_build_of_every_spec_reports_its_parameter_count(numpy_backend, spec_path):
    import specforge

    graph = specforge.resolve(spec_path)
    model = numpy_backend.build(graph, seed=0, registry=get_registry())
    assert model.count_params() == graph.total_params


def test_the_plain_sgd_fast_path_is_the_generic_sgd_step(numpy_backend):
    graph = graph_of(TWO_OUT)
    x, y = synthetic(graph, 40)
    fast, generic = (
        numpy_backend.build(graph, seed=0, registry=get_registry()),
        numpy_backend.build(graph, seed=0, registry=get_registry()),
    )
    assert fast._plain_sgd
    generic._plain_sgd = False  # through kernels.SGD.step
    for model in (fast, generic):
        numpy_backend.fit(model, x, y, epochs=3, batch_size=8, seed=0)
    for name, ws in numpy_backend.get_weights(fast).items():
        for a, b in zip(ws, numpy_backend.get_weights(generic)[name], strict=True):
            assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    assert fast.optimizer.iterations == generic.optimizer.iterations == 15
    momentum = graph_of({**TWO_OUT, "optimizer": {"type": "sgd", "momentum": 0.9}})
    assert not numpy_backend.build(momentum, seed=0, registry=get_registry())._plain_sgd


def test_float32_stays_float32_through_the_backward_pass(mlp):
    model, graph = mlp
    x, y = synthetic(graph, 16)
    _, grads = model.loss_and_gradients(x, y)
    assert all(g.dtype == np.float32 for gs in grads.values() for g in gs)
    values = model.forward(x, training=True)
    assert all(v.dtype == np.float32 for v in values.values())
