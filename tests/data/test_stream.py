"""Streamed CSVs: one-pass fits equal the in-memory ones; streamed training equals in-memory."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from specforge.data.stream import CsvStream, RunningMoments, fit_streaming, split_codes
from specforge.ir import Step
from specforge.registry import get_registry

HEADER = "a,b,c,d,target"


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


def _stream(path: Path, **kw) -> CsvStream:
    return CsvStream(str(path), [0, 1, 2, 3], [4], chunk_rows=37, **kw)


def test_split_codes_are_a_function_of_the_row_index() -> None:
    rows = np.arange(100_000)
    codes = split_codes(rows, 0.2, 0.1, seed=3)
    assert np.array_equal(codes[500:600], split_codes(rows[500:600], 0.2, 0.1, seed=3))
    fractions = np.bincount(codes, minlength=3) / len(rows)
    np.testing.assert_allclose(fractions, [0.7, 0.1, 0.2], atol=0.01)
    assert not np.array_equal(codes, split_codes(rows, 0.2, 0.1, seed=4))


def test_running_moments_match_numpy() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(1000, 3)) * 1e3 + 1e6  # large offset: the naive formula loses digits
    m = RunningMoments()
    for part in np.array_split(x, 17):
        m.update(part)
    np.testing.assert_allclose(m.mean, x.mean(axis=0), rtol=1e-13)
    np.testing.assert_allclose(m.var, x.var(axis=0), rtol=1e-9)
    assert np.array_equal(m.min, x.min(axis=0)) and np.array_equal(m.max, x.max(axis=0))


@pytest.mark.parametrize("kind", ["standard_scaler", "minmax_scaler"])
def test_one_pass_fit_equals_in_memory_fit(table, kind: str) -> None:
    path, data = table
    reg = get_registry()
    pre = reg.preprocessors[kind]
    stream = _stream(path, test=0.2, validation=0.1, seed=0)
    streamed = pre.create(pre.params_model())
    sizes = fit_streaming([(Step(kind, pre.params_model(), "features"), streamed)], stream)
    codes = split_codes(np.arange(len(data)), 0.2, 0.1, 0)
    assert sizes == {
        "train": int((codes == 0).sum()),
        "validation": int((codes == 1).sum()),
        "test": int((codes == 2).sum()),
    }
    memory = pre.create(pre.params_model())
    memory.fit(data[codes == 0, :4])
    for key, value in memory.state.items():
        np.testing.assert_allclose(streamed.state[key], value, rtol=1e-6)
    rows = np.concatenate([x for x, _ in stream.chunks("train")])
    assert np.array_equal(rows, data[codes == 0, :4])


def test_batches_cross_chunk_boundaries(table) -> None:
    path, data = table
    stream = _stream(path)
    sizes = [len(x) for x, _ in stream.batches("train", 50)]
    assert sizes == [50] * 10 + [3]
    x = np.concatenate([x for x, _ in stream.batches("train", 50)])
    assert np.array_equal(x, data[:, :4])
    shuffled = np.concatenate([x for x, _ in stream.batches("train", 50, shuffle_seed=1)])
    assert not np.array_equal(shuffled, x)
    assert np.array_equal(np.sort(shuffled, axis=0), np.sort(x, axis=0))


@pytest.mark.slow
def test_streamed_keras_training_equals_in_memory(table) -> None:
    """Same rows, same order, same seed: the losses agree to float32 round-off (rtol 1e-5)."""
    pytest.importorskip("tensorflow")
    from specforge.api import check_text

    path, data = table
    reg = get_registry()
    be = reg.backends["keras"]
    graph = check_text(
        "specforge: 2\nname: s\ninputs:\n  - {name: x, shape: [4]}\nnodes:\n"
        "  - {name: h, type: Dense, units: 8, activation: relu}\n  - {name: out, type: Dense, units: 1}\n"
        "outputs:\n  - {node: out, loss: mse}\noptimizer: {type: sgd, learning_rate: 0.01}\n",
        "s.yaml",
    ).graph
    pre = reg.preprocessors["standard_scaler"]
    scaler = pre.create(pre.params_model())
    stream = _stream(path)
    fit_streaming([(Step("standard_scaler", pre.params_model(), "features"), scaler)], stream)

    def shaped(x, y):
        return np.asarray(scaler.transform(x)), y.reshape(-1, 1)

    a = be.build(graph, seed=0, registry=reg)
    streamed = be.fit_stream(a, lambda e: stream.batches("train", 32, shaped), epochs=2, seed=0)
    b = be.build(graph, seed=0, registry=reg)
    x = np.asarray(scaler.transform(data[:, :4]))
    memory = be.fit(
        b, {"x": x}, {"out": data[:, 4:5]}, epochs=2, batch_size=32, shuffle=False, seed=0
    )
    np.testing.assert_allclose(streamed["loss"], memory["loss"], rtol=1e-5)


@pytest.mark.slow
def test_specforge_train_on_a_streamed_csv_writes_a_complete_run(table, tmp_path: Path) -> None:
    pytest.importorskip("tensorflow")
    from specforge.training.run import train

    path, _ = table
    spec = tmp_path / "s.yaml"
    spec.write_text(
        "specforge: 2\nname: s\ninputs:\n  - {name: x, shape: [4]}\nnodes:\n"
        "  - {name: h, type: Dense, units: 8, activation: relu}\n  - {name: out, type: Dense, units: 1}\n"
        "outputs:\n  - {node: out, loss: mse}\noptimizer: {type: sgd, learning_rate: 0.01}\n"
        f"data:\n  dataset: {{type: csv, path: '{path}', target: target, stream: true, chunk_rows: 40}}\n"
        "  split: {test: 0.2, validation: 0.1}\n  preprocess: [{type: minmax_scaler}]\n"
        "train: {epochs: 2, batch_size: 32}\n"
    )
    run = train(spec, out=tmp_path / "run", progress="quiet")
    assert run.status == "completed"
    for name in (
        "spec.yaml",
        "data.json",
        "preprocessors.json",
        "model.keras",
        "history.csv",
        "metrics.json",
        "learning_curves.png",
        "predictions.png",
    ):
        assert (tmp_path / "run" / name).is_file(), name
    assert run.metrics["stream"] is True and set(run.metrics) >= {"train", "validation", "test"}
    assert sum(run.metrics["samples"].values()) == 503
