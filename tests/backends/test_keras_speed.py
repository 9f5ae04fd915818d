"""The Keras backend's fast defaults (steps_per_execution) change the speed, not the results.

Per-epoch losses and metrics equal a plain hand-written ``model.fit`` with the
same seed, weights and data order (within 1e-5 relative); callbacks keep their
meaning: the progress bar reaches the end of every epoch, Ctrl-C stops within
one chunk, and the saved file keeps Keras's default compile settings.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from specforge.api import check_file  # noqa: E402
from specforge.keras_backend.speed import (  # noqa: E402
    auto_steps_per_execution,
    resolve_steps_per_execution,
    step_flops,
)
from specforge.plugin import TrainingCallback  # noqa: E402
from specforge.registry import get_registry  # noqa: E402
from specforge.testing import chapter  # noqa: E402
from specforge.training.callbacks import Guard, Progress  # noqa: E402

SPECS = Path(__file__).resolve().parents[2] / "specs"
#: 35 batches of 32, the last one short: chunks of 32 and 3.
N = 1_100


@pytest.fixture(scope="module")
def backend():
    return get_registry().backends["keras"]


def data(name: str, n: int = N, seed: int = 0):
    rng = np.random.default_rng(seed)
    if name == "fashion_mnist_mlp":
        x = rng.normal(size=(n, 28, 28)).astype("float32")
        y = rng.integers(0, 10, size=n)
    else:
        x = rng.normal(size=(n, 8)).astype("float32")
        y = (x[:, :1] * 0.5 + 1.0).astype("float32")
    return x, y


def test_auto_runs_a_small_models_whole_epoch_in_one_call_and_at_most_128_batches():
    assert [auto_steps_per_execution(b) for b in (1, 5, 32, 129, 1719)] == [1, 5, 32, 128, 128]
    assert resolve_steps_per_execution("auto", 11_610, 32) == 128
    assert resolve_steps_per_execution("auto", 100, 32) == 4
    assert resolve_steps_per_execution(8, 100, 32) == 8
    assert resolve_steps_per_execution(None, 100, 32) is None
    with pytest.raises(ValueError):
        resolve_steps_per_execution(0, 100, 32)


def test_auto_takes_fewer_batches_per_call_for_a_costlier_step():
    # 4e9 estimated flops a call: a 1e8-flop step gets 40 batches, a 1e10-flop step 1.
    assert auto_steps_per_execution(1719, 1e8) == 40
    assert auto_steps_per_execution(1719, 1e10) == 1
    assert auto_steps_per_execution(10, 1e3) == 10


def test_step_cost_counts_a_convolutions_positions():
    dense = keras.Sequential([keras.Input((8,)), keras.layers.Dense(4)])
    assert step_flops(dense, 32) == 6 * 36 * 32
    conv = keras.Sequential([keras.Input((10, 10, 1)), keras.layers.Conv2D(2, 3)])
    # 20 weights, applied at 8 x 8 output positions.
    assert step_flops(conv, 1) == 6 * 20 * 64
    graph = check_file(SPECS / "fashion_mnist_mlp.yaml").graph
    model = get_registry().backends["keras"].build(graph, seed=0, registry=get_registry())
    assert step_flops(model, 32) == 6 * 266_610 * 32
    assert resolve_steps_per_execution("auto", 55_000, 32, step_flops(model, 32)) == 78


class BatchLog(TrainingCallback):
    def __init__(self):
        self.batches: list[tuple[int, int]] = []

    def on_batch_end(self, epoch, batch, logs):
        self.batches.append((epoch, batch))
        return False


@pytest.mark.parametrize("name", ["california_mlp", "fashion_mnist_mlp"])
def test_fast_defaults_give_plain_fits_history_within_1e_5(backend, name):
    graph = check_file(SPECS / f"{name}.yaml").graph
    x, y = data(name)
    xv, yv = data(name, 200, seed=1)
    inp, out = graph.inputs[0].name, graph.outputs[0].name
    model = backend.build(graph, seed=0, registry=get_registry())
    weights = [np.array(w) for w in model.get_weights()]

    log = BatchLog()
    history = backend.fit(
        model,
        {inp: x},
        {out: y},
        epochs=3,
        batch_size=32,
        seed=7,
        # The data order is the same on both sides, so only steps_per_execution differs
        # (the backend draws its shuffles from (seed, epoch), for exact resumes).
        shuffle=False,
        validation_data=({inp: xv}, {out: yv}),
        callbacks=[log],
        steps_per_execution=32,
    )
    assert model.steps_per_execution == 32
    # One batch callback per chunk, with the chunk's last batch index.
    assert log.batches == [(e, b) for e in range(3) for b in (31, 34)]

    keras.utils.set_random_seed(0)
    by_hand = getattr(chapter, name)()
    by_hand.set_weights(weights)
    keras.utils.set_random_seed(7)
    plain = by_hand.fit(
        x, y, epochs=3, batch_size=32, shuffle=False, validation_data=(xv, yv), verbose=0
    ).history
    assert set(plain) == set(history)
    for key, values in plain.items():
        np.testing.assert_allclose(history[key], values, rtol=1e-5, err_msg=key)


def test_the_saved_file_keeps_kerass_default_compile_settings(backend, tmp_path):
    graph = check_file(SPECS / "california_mlp.yaml").graph
    x, y = data("california_mlp", 200)
    model = backend.build(graph, seed=0, registry=get_registry())
    backend.fit(model, {"features": x}, {graph.outputs[0].name: y}, epochs=1, steps_per_execution=4)
    assert model.steps_per_execution == 4
    path = tmp_path / "m.keras"
    backend.save(model, path)
    assert keras.models.load_model(path).steps_per_execution == 1


def test_progress_bar_and_ctrl_c_with_chunks(backend):
    graph = check_file(SPECS / "california_mlp.yaml").graph
    x, y = data("california_mlp")
    out = graph.outputs[0].name

    class Tty:
        def __init__(self):
            self.text = ""

        def write(self, s):
            self.text += s

        def flush(self):
            pass

        def isatty(self):
            return True

    stream = Tty()
    bar = Progress(1, 35, stream=stream)
    model = backend.build(graph, seed=0, registry=get_registry())
    backend.fit(
        model, {"features": x}, {out: y}, epochs=1, callbacks=[bar], steps_per_execution="auto"
    )
    assert "35/35" in stream.text

    # Ctrl-C (the guard's flag) during the first chunk: training stops at its end.
    guard = Guard([out])

    class Interrupt(TrainingCallback):
        def on_epoch_begin(self, epoch):
            guard.interrupted = True

    log = BatchLog()
    history = backend.fit(
        model,
        {"features": x},
        {out: y},
        epochs=3,
        callbacks=[Interrupt(), guard, log],
        steps_per_execution=32,
    )
    assert guard.interrupted_at == (1, 32)
    assert log.batches == [(0, 31)]
    assert history == {} or all(len(v) <= 1 for v in history.values())


@pytest.mark.parametrize("name", ["california_mlp", "fashion_mnist_mlp"])
def test_shuffled_epochs_train_on_the_seeds_permutations_as_plain_fit_would(backend, name):
    """One fit over the pipeline equals plain fit on each epoch's permuted arrays."""
    graph = check_file(SPECS / f"{name}.yaml").graph
    x, y = data(name)
    xv, yv = data(name, 200, seed=1)
    inp, out = graph.inputs[0].name, graph.outputs[0].name
    model = backend.build(graph, seed=0, registry=get_registry())
    weights = [np.array(w) for w in model.get_weights()]
    history = backend.fit(
        model,
        {inp: x},
        {out: y},
        epochs=3,
        batch_size=32,
        seed=7,
        shuffle=True,
        validation_data=({inp: xv}, {out: yv}),
        steps_per_execution="auto",
    )
    assert model.steps_per_execution == 35  # a short epoch: one call

    keras.utils.set_random_seed(0)
    by_hand = getattr(chapter, name)()
    by_hand.set_weights(weights)
    keras.utils.set_random_seed(7)
    plain: dict[str, list[float]] = {}
    for epoch in range(3):
        order = np.random.default_rng([7, epoch]).permutation(N)
        step = by_hand.fit(
            x[order],
            y[order],
            epochs=epoch + 1,
            initial_epoch=epoch,
            batch_size=32,
            shuffle=False,
            validation_data=(xv, yv),
            verbose=0,
        ).history
        for key, values in step.items():
            plain.setdefault(key, []).extend(values)
    assert set(plain) == set(history)
    for key, values in plain.items():
        np.testing.assert_allclose(history[key], values, rtol=1e-5, err_msg=key)
    # Each epoch's order differs (a fresh permutation per epoch, not one for the run).
    assert len({tuple(np.random.default_rng([7, e]).permutation(N)[:5]) for e in range(3)}) == 3


def test_streamed_training_takes_steps_per_execution_with_the_same_history(backend):
    """A chunk of batches per call on a streamed file: same losses, each epoch its own data."""
    graph = check_file(SPECS / "california_mlp.yaml").graph
    x, y = data("california_mlp", 330)  # 11 batches of 32, the last one short

    def batches(epoch):
        order = np.random.default_rng([3, epoch]).permutation(len(x))
        for start in range(0, len(x), 32):
            idx = order[start : start + 32]
            yield x[idx], y[idx]

    histories = {}
    for setting in (None, 4, "auto"):
        model = backend.build(graph, seed=0, registry=get_registry())
        histories[setting] = backend.fit_stream(
            model,
            batches,
            epochs=3,
            seed=0,
            steps_per_execution=setting,
            samples=len(x),
            batch_size=32,
        )
        if setting is not None:
            assert model.steps_per_execution == (4 if setting == 4 else 11)
    for setting in (4, "auto"):
        for key, values in histories[None].items():
            np.testing.assert_allclose(histories[setting][key], values, rtol=1e-5, err_msg=key)


def test_largest_op_decides_one_thread_per_op():
    from specforge.keras_backend.speed import SMALL_OP_MACS, largest_op_macs

    graph = check_file(SPECS / "fashion_mnist_mlp.yaml").graph
    # The first hidden layer: (784 x 300 + 300) weights, once per sample.
    assert largest_op_macs(graph, 32) == 235_500 * 32 < SMALL_OP_MACS
    assert largest_op_macs(graph, 64) == 235_500 * 64 > SMALL_OP_MACS


TUNE = """
import json, os, sys
from specforge.api import check_file
from specforge.keras_backend.speed import tune_threads
graph = check_file(sys.argv[1]).graph
if sys.argv[3] == "started":
    import tensorflow as tf
    tf.constant(1.0) + 1.0  # TensorFlow has run an op: its thread pools exist
result = tune_threads(graph, int(sys.argv[2]))
import tensorflow as tf
print(json.dumps([result, tf.config.threading.get_intra_op_parallelism_threads()]))
"""


@pytest.mark.parametrize(
    "batch,state,env,expected",
    [
        (32, "fresh", {}, ({"intra_op": 1, "inter_op": "cores"}, 1)),
        (64, "fresh", {}, (None, 0)),  # a larger product: TensorFlow's default (0: all cores)
        (32, "started", {}, (None, 0)),  # too late to change: left alone
        # The user's setting wins (TensorFlow reads it itself; its config API still says 0).
        (32, "fresh", {"TF_NUM_INTRAOP_THREADS": "2"}, (None, 0)),
    ],
)
def test_tune_threads_in_a_fresh_process(batch, state, env, expected):
    import json
    import os
    import subprocess
    import sys

    proc = subprocess.run(
        [sys.executable, "-c", TUNE, str(SPECS / "fashion_mnist_mlp.yaml"), str(batch), state],
        capture_output=True,
        text=True,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", **env},
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    result, intra = json.loads(proc.stdout.strip().splitlines()[-1])
    want, want_intra = expected
    if want is not None:
        want = {**want, "inter_op": len(os.sched_getaffinity(0))}
    assert (result, intra) == (want, want_intra)
