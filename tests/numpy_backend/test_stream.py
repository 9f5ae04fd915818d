"""The NumPy backend trains on streamed data: the same steps as ``fit`` on the same batches.

``fit_stream`` and ``fit`` share one epoch loop, so on the same rows in the same
order (``shuffle: false`` in memory, no shuffling in the stream) they take the same
float32 steps: the figures are compared at rtol 1e-6 (a wrong batch, a skipped
row or a step out of order moves them by far more). Measured: training histories
equal to the bit; evaluation figures within 4e-9 relative (float32 batch means
grouped into other batches before the float64 weighted sum).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from specforge.api import check_text
from specforge.data.stream import CsvStream, fit_streaming, split_codes, transformer
from specforge.ir import Step
from specforge.plugin import TrainingCallback
from specforge.registry import get_registry

HEADER = "a,b,c,d,target"
RTOL = 1e-6

#: Dropout (the layers' random stream), batch normalisation (state updated per step)
#: and Adam (optimizer slots): everything a step carries from one batch to the next.
#: Dropout and BatchNormalization come from the specforge-layers plugin package; where
#: it is not installed (a fresh ``pip install -e ".[dev]"``), the model keeps Adam's
#: slots with the built-in Dense nodes only.
LAYERS = "BatchNormalization" in get_registry().node_types
SPEC = """\
specforge: 2
name: s
inputs:
  - {name: x, shape: [4]}
nodes:
  - {name: h, type: Dense, units: 8, activation: relu}
%s  - {name: out, type: Dense, units: 1}
outputs:
  - {node: out, loss: mse, metrics: [mae]}
optimizer: {type: adam, learning_rate: 0.01}
""" % (
    "  - {name: bn, type: BatchNormalization}\n  - {name: drop, type: Dropout, rate: 0.2}\n"
    if LAYERS
    else "  - {name: h2, type: Dense, units: 8, activation: tanh}\n"
)


@pytest.fixture
def table(tmp_path: Path) -> tuple[Path, np.ndarray]:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(503, 4)) * [1, 100, 0.01, 5] + [0, 1000, 3, -2]
    y = x[:, 0] * 2 + x[:, 2] * 30 + rng.normal(size=503) * 0.1
    data = np.column_stack([x, y]).astype(np.float32)
    path = tmp_path / "t.csv"
    path.write_text(
        HEADER + "\n" + "".join(",".join(repr(float(v)) for v in r) + "\n" for r in data)
    )
    return path, data


def _scaled(path: Path, **split):
    """A stream of ``path`` (37-row chunks), its fitted standard scaler and its transform."""
    reg = get_registry()
    pre = reg.preprocessors["standard_scaler"]
    steps = [
        (Step("standard_scaler", pre.params_model(), "features"), pre.create(pre.params_model()))
    ]
    stream = CsvStream(str(path), [0, 1, 2, 3], [4], chunk_rows=37, **split)
    fit_streaming(steps, stream)
    return stream, transformer(steps)


class Events(TrainingCallback):
    """Every callback event, and a stop request at (epoch, batch) if given."""

    def __init__(self, stop_at: tuple[int, int] | None = None) -> None:
        self.events: list[tuple] = []
        self.stop_at = stop_at

    def on_epoch_begin(self, epoch: int) -> None:
        self.events.append(("begin", epoch))

    def on_batch_end(self, epoch: int, batch: int, logs: dict[str, float]) -> bool:
        self.events.append(("batch", epoch, batch, round(logs["loss"], 3)))
        return (epoch, batch) == self.stop_at

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> bool:
        self.events.append(("end", epoch, sorted(logs)))
        return False


def _models():
    reg = get_registry()
    graph = check_text(SPEC, "s.yaml").graph
    be = reg.backends["numpy"]
    return be, be.build(graph, seed=0, registry=reg), be.build(graph, seed=0, registry=reg)


def test_fit_stream_equals_fit_on_the_same_rows_in_the_same_order(table) -> None:
    path, data = table
    stream, apply = _scaled(path, validation=0.15, seed=2)
    x, y = apply(data[:, :4], data[:, 4:])
    codes = split_codes(np.arange(len(data)), 0.0, 0.15, 2)
    train, val = codes == 0, codes == 1
    be, a, b = _models()
    streamed = be.fit_stream(
        a,
        lambda epoch: stream.batches("train", 32, apply),
        epochs=3,
        validation=lambda: stream.batches("validation", 32, apply),
        seed=0,
    )
    memory = be.fit(
        b,
        {"x": x[train]},
        {"out": y[train]},
        epochs=3,
        batch_size=32,
        shuffle=False,
        seed=0,
        validation_data=({"x": x[val]}, {"out": y[val]}),
    )
    assert (
        list(streamed)
        == list(memory)
        == [
            "loss",
            "mean_absolute_error",
            "val_loss",
            "val_mean_absolute_error",
        ]
    )
    for key in memory:
        np.testing.assert_allclose(streamed[key], memory[key], rtol=RTOL, err_msg=key)
    for node, weights in be.get_weights(b).items():
        for w_stream, w_memory in zip(be.get_weights(a)[node], weights, strict=True):
            np.testing.assert_allclose(w_stream, w_memory, rtol=RTOL, atol=1e-7, err_msg=node)


def test_evaluate_stream_is_the_exact_sample_mean(table) -> None:
    """Batches of 50 (the last of 3) weigh by their rows: the same figures as evaluate()."""
    path, data = table
    stream, apply = _scaled(path)
    x, y = apply(data[:, :4], data[:, 4:])
    be, model, _ = _models()
    be.fit(model, {"x": x}, {"out": y}, epochs=1, batch_size=64, seed=0)
    streamed = be.evaluate_stream(model, lambda: stream.batches("train", 50, apply))
    memory = be.evaluate(model, {"x": x}, {"out": y}, batch_size=len(x))
    assert list(streamed) == ["loss", "mean_absolute_error"]
    for key in memory:
        np.testing.assert_allclose(streamed[key], memory[key], rtol=RTOL, err_msg=key)


def test_callbacks_hear_the_same_events_and_a_stop_ends_training(table) -> None:
    path, data = table
    stream, apply = _scaled(path)
    x, y = apply(data[:, :4], data[:, 4:])
    be, a, b = _models()
    heard_stream, heard_memory = Events(stop_at=(1, 4)), Events(stop_at=(1, 4))
    streamed = be.fit_stream(
        a, lambda e: stream.batches("train", 100, apply), epochs=3, seed=0, callbacks=[heard_stream]
    )
    memory = be.fit(
        b,
        {"x": x},
        {"out": y},
        epochs=3,
        batch_size=100,
        shuffle=False,
        seed=0,
        callbacks=[heard_memory],
    )
    assert heard_stream.events == heard_memory.events
    assert heard_stream.events[:8] == [
        ("begin", 0),
        *[("batch", 0, i, heard_stream.events[1 + i][3]) for i in range(6)],
        ("end", 0, ["loss", "mean_absolute_error"]),
    ]
    assert heard_stream.events[-1][:3] == ("batch", 1, 4)  # stopped: epoch 2 is not recorded
    assert len(streamed["loss"]) == len(memory["loss"]) == 1


def test_the_epoch_number_reaches_the_reader(table) -> None:
    path, _ = table
    stream, apply = _scaled(path)
    be, model, _ = _models()
    asked: list[int] = []

    def batches(epoch: int):
        asked.append(epoch)
        return stream.batches("train", 64, apply, shuffle_seed=epoch)

    history = be.fit_stream(model, batches, epochs=3, seed=0)
    assert asked == [0, 1, 2] and len(history["loss"]) == 3


def test_a_batch_of_the_wrong_shape_is_a_clear_error(table) -> None:
    path, _ = table
    stream, _ = _scaled(path)
    be, model, _ = _models()
    with pytest.raises(ValueError, match=r"input 'x' expects arrays of shape \(batch, 4\)"):
        be.fit_stream(
            model, lambda e: stream.batches("train", 32, lambda x, y: (x[:, :3], y)), epochs=1
        )


def _write_spec(tmp_path: Path, csv: Path, shuffle: bool) -> Path:
    spec = tmp_path / "s.yaml"
    spec.write_text(
        SPEC
        + f"data:\n  dataset: {{type: csv, path: '{csv}', target: target, stream: true, chunk_rows: 40}}\n"
        "  split: {test: 0.2, validation: 0.1, seed: 3}\n  preprocess: [{type: minmax_scaler}]\n"
        f"train: {{epochs: 3, batch_size: 32, seed: 0, shuffle: {str(shuffle).lower()}}}\n"
    )
    return spec


def test_specforge_train_numpy_on_a_streamed_csv_matches_an_in_memory_run(
    table, tmp_path: Path
) -> None:
    """A real ``specforge train --backend numpy`` process: the run directory a Keras
    streamed run writes (model.npz for model.keras), its history equal to an
    in-memory fit on the training rows in file order, its figures to evaluate()."""
    path, data = table
    spec = _write_spec(tmp_path, path, shuffle=False)
    run_dir = tmp_path / "run"
    command = [sys.executable, "-m", "specforge", "train", str(spec), "--backend=numpy"]
    done = subprocess.run(
        [*command, "--quiet", f"--out={run_dir}"],
        capture_output=True,
        text=True,
        env={**os.environ},
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in run_dir.iterdir()) == [
        "data.json",
        "history.csv",
        "learning_curves.png",
        "metrics.json",
        "model.npz",
        "predictions.png",
        "preprocessors.json",
        "preprocessors.npz",
        "spec.yaml",
    ]
    metrics = json.loads((run_dir / "metrics.json").read_text())
    codes = split_codes(np.arange(len(data)), 0.2, 0.1, 3)
    sizes = {s: int((codes == c).sum()) for s, c in (("train", 0), ("validation", 1), ("test", 2))}
    assert metrics["stream"] is True and metrics["backend"] == "numpy"
    assert metrics["samples"] == sizes and metrics["epochs_run"] == 3
    info = json.loads((run_dir / "data.json").read_text())
    assert info["feature_names"] == ["a", "b", "c", "d"] and info["target_names"] == ["target"]

    # The same steps in memory: the run's fitted scaler, the training rows in order.
    from specforge.training import rundir
    from specforge.training.prepare import make_preprocessors

    reg = get_registry()
    graph = check_text(spec.read_text(), str(spec)).graph
    steps = make_preprocessors(graph.data.preprocess, reg, rundir.read_preprocessor_states(run_dir))
    x, y = transformer(steps)(data[:, :4], data[:, 4:])
    split = {
        s: (x[codes == c], y[codes == c]) for s, c in (("train", 0), ("validation", 1), ("test", 2))
    }
    be = reg.backends["numpy"]
    model = be.build(graph, seed=0, registry=reg)
    memory = be.fit(
        model,
        {"x": split["train"][0]},
        {"out": split["train"][1]},
        epochs=3,
        batch_size=32,
        shuffle=False,
        seed=0,
        validation_data=({"x": split["validation"][0]}, {"out": split["validation"][1]}),
    )
    lines = (run_dir / "history.csv").read_text().splitlines()
    assert lines[0] == "epoch,loss,mean_absolute_error,val_loss,val_mean_absolute_error"
    recorded = np.array([[float(v) for v in line.split(",")[1:]] for line in lines[1:]])
    for j, key in enumerate(["loss", "mean_absolute_error", "val_loss", "val_mean_absolute_error"]):
        np.testing.assert_allclose(recorded[:, j], memory[key], rtol=RTOL, err_msg=key)
    saved = be.load(str(run_dir / "model.npz"), graph, registry=reg)
    for name, (xs, ys) in split.items():
        figures = be.evaluate(saved, {"x": xs}, {"out": ys}, batch_size=len(xs))
        for key, value in figures.items():
            assert metrics[name][key] == pytest.approx(value, rel=RTOL), (name, key)


def test_a_backend_without_fit_stream_is_refused_naming_the_ones_that_stream(
    table, tmp_path: Path
) -> None:
    from specforge.plugin import Backend, hookimpl
    from specforge.testing import plugins_installed
    from specforge.training.run import TrainError, train

    class Whole(Backend):
        name = "whole"
        label = "Whole"
        description = "trains on data in memory only"
        file_suffix = ".npz"
        requires = ("numpy",)

    class Plugin:
        @hookimpl
        def register_backends(self, register):
            register(Whole())

    path, _ = table
    spec = _write_spec(tmp_path, path, shuffle=True)
    with plugins_installed(("whole", Plugin())), pytest.raises(TrainError) as err:
        train(spec, backend="whole", out=tmp_path / "run", progress="quiet")
    assert str(err.value) == "backend 'whole' cannot train on a streamed dataset"
    assert "--backend numpy" in err.value.help and "drop stream: true" in err.value.help
    assert not (tmp_path / "run").exists()
