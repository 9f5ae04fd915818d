"""Streamed ``.npz``: members read in row chunks (stored or deflated) equal the in-memory arrays.

Training on them (``stream: true``) takes the same steps as an in-memory NumPy fit
on the same rows in the same order: histories compared at rtol 1e-6 (measured
equal to the bit), evaluation figures at rtol 1e-6 (measured within 4e-8: batch
means grouped differently).
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

from specforge.data.dataset import DataError
from specforge.data.npz import read_npz
from specforge.data.npz_stream import NpzStream
from specforge.data.stream import CsvStream, fit_streaming, split_codes, transformer
from specforge.ir import Step
from specforge.registry import get_registry

RTOL = 1e-6
SAVERS = {"stored": np.savez, "deflated": np.savez_compressed}


@pytest.fixture
def arrays() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(4)
    x = (rng.normal(size=(301, 2, 3)) * [[1, 10, 100]] + 5).astype(np.float64)
    y = (x.reshape(301, -1)[:, 0] > 5).astype(np.int64) + (x[:, 1, 2] > 5)
    return x, y


def _chunks(stream, split=None):
    parts = list(stream.chunks(split))
    return np.concatenate([x for x, _ in parts]), np.concatenate([y for _, y in parts])


@pytest.mark.parametrize("kind", sorted(SAVERS))
def test_row_chunks_equal_the_in_memory_arrays(tmp_path: Path, arrays, kind: str) -> None:
    x, y = arrays
    path = tmp_path / "a.npz"
    SAVERS[kind](path, x=x, y=y)
    with zipfile.ZipFile(path) as zf:
        methods = {i.compress_type for i in zf.infolist()}
    assert methods == {zipfile.ZIP_STORED if kind == "stored" else zipfile.ZIP_DEFLATED}
    stream = NpzStream(str(path), chunk_rows=40)
    assert [len(c) for c, _ in stream.rows()] == [40] * 7 + [21]
    got_x, got_y = _chunks(stream)
    memory = read_npz(path)
    assert got_x.dtype == np.float32 and got_x.shape == (301, 6)
    assert np.array_equal(got_x, memory.x.reshape(301, -1))
    assert np.array_equal(got_y[:, 0], memory.y.astype(np.float32))
    assert stream.sample_shape == (2, 3) and stream.n_features == 6
    assert stream.feature_names() == memory.feature_names


def test_a_split_is_the_rows_whose_hash_falls_in_it(tmp_path: Path, arrays) -> None:
    x, y = arrays
    path = tmp_path / "a.npz"
    np.savez(path, x=x, y=y)
    stream = NpzStream(str(path), test=0.2, validation=0.1, seed=5, chunk_rows=17)
    codes = split_codes(np.arange(301), 0.2, 0.1, 5)
    for split, code in (("train", 0), ("validation", 1), ("test", 2)):
        got_x, got_y = _chunks(stream, split)
        assert np.array_equal(got_x, x.reshape(301, -1)[codes == code].astype(np.float32))
        assert np.array_equal(got_y[:, 0], y[codes == code])


def test_an_own_test_split_is_read_from_its_members(tmp_path: Path, arrays) -> None:
    x, y = arrays
    path = tmp_path / "a.npz"
    np.savez(path, x=x[:250], y=y[:250], xt=x[250:], yt=y[250:])
    stream = NpzStream(
        str(path), x_test_key="xt", y_test_key="yt", test=0.5, validation=0.1, chunk_rows=30
    )
    got_x, _ = _chunks(stream, "test")
    assert np.array_equal(got_x, x[250:].reshape(51, -1).astype(np.float32))
    codes = split_codes(np.arange(250), 0.0, 0.1, 0)  # the test fraction is not hashed off
    assert np.array_equal(
        _chunks(stream, "train")[0], x[:250].reshape(250, -1)[codes == 0].astype(np.float32)
    )
    reg = get_registry()
    pre = reg.preprocessors["standard_scaler"]
    scaler = pre.create(pre.params_model())
    sizes = fit_streaming(
        [(Step("standard_scaler", pre.params_model(), "features"), scaler)], stream
    )
    assert sizes == {
        "train": int((codes == 0).sum()),
        "validation": int((codes == 1).sum()),
        "test": 51,
    }
    np.testing.assert_allclose(
        scaler.state["mean"], x[:250].reshape(250, -1)[codes == 0].mean(axis=0), rtol=RTOL
    )


def test_class_targets_are_checked_and_one_hot_rows_become_indices(tmp_path: Path, arrays) -> None:
    x, y = arrays
    p = tmp_path / "a.npz"
    np.savez(p, x=x, y=np.eye(3, dtype=np.int64)[y])
    assert np.array_equal(_chunks(NpzStream(str(p), chunk_rows=64))[1][:, 0], y)
    bad = y.copy()
    bad[77] = -1
    np.savez(p, x=x, y=bad)
    e = _error(p, chunk_rows=64)
    assert (
        str(e)
        == f"{p}: row 77 of 'y' holds -1, not a class index; class indices are integers 0..K-1"
    )
    regression = NpzStream(str(p), chunk_rows=64, task="regression")
    assert _chunks(regression)[1][77, 0] == -1


def _error(path: Path, **kw) -> DataError:
    with pytest.raises(DataError) as err:
        stream = NpzStream(str(path), **kw)
        list(stream.rows())
    return err.value


def test_what_cannot_be_streamed_is_a_clear_error(tmp_path: Path, arrays) -> None:
    x, y = arrays
    p = tmp_path / "a.npz"

    np.savez(p, features=x, y=y)
    e = _error(p)
    assert str(e) == f"{p} has no array 'x' (keys present: 'features', 'y')"
    assert e.help == "pass x_key=<one of the keys present>"

    np.savez(p, x=np.asfortranarray(x[:, 0, :]), y=y)
    e = _error(p)
    assert str(e).startswith(f"array 'x' in {p} is stored in Fortran (column-major) order")
    assert e.help == "re-save it row-major: np.savez(path, x=np.ascontiguousarray(a), ...)"

    np.savez(p, x=np.array([[1, "a"]], dtype=object), y=y[:1])
    assert "object array; reading it would need pickle" in str(_error(p))

    np.savez(p, x=x, y=y[:-1])
    e = _error(p)
    assert str(e) == f"{p}: 'x' has 301 samples but 'y' has 300"

    bad = x.copy()
    bad[123, 1, 1] = np.nan
    np.savez(p, x=bad, y=y)
    e = _error(p, chunk_rows=50)
    assert str(e) == f"{p}: row 123 of array 'x' holds a NaN or infinity"

    np.savez(p, x=x, y=y, xt=x)
    e = _error(p, x_test_key="xt")
    assert str(e) == f"{p}: a streamed npz takes x_test_key and y_test_key together"

    np.save(tmp_path / "one.npy", x)
    e = _error(tmp_path / "one.npy")
    assert "is a single .npy array, not an .npz archive" in str(e)


def test_a_truncated_member_is_reported_with_the_rows_read(tmp_path: Path, arrays) -> None:
    x, y = arrays
    buf = io.BytesIO()
    np.save(buf, x.astype(np.float32))
    whole = buf.getvalue()
    p = tmp_path / "cut.npz"
    with zipfile.ZipFile(p, "w") as zf:  # a member shorter than its header says
        zf.writestr("x.npy", whole[: len(whole) - 24 * 100])
        zf.writestr("y.npy", _npy(y))
    e = _error(p, chunk_rows=64)
    assert str(e) == f"array 'x' in {p} ends after 201 of its 301 rows"
    assert e.help == "the file is truncated; re-create it"


def _npy(a: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, a)
    return buf.getvalue()


CLASSIFIER = """\
specforge: 2
name: arrays
inputs:
  - {{name: x, shape: [2, 3]}}
nodes:
  - {{name: flat, type: Flatten}}
  - {{name: h, type: Dense, units: 8, activation: tanh}}
  - {{name: out, type: Dense, units: 3, activation: softmax}}
outputs:
  - {{node: out, loss: sparse_categorical_crossentropy, metrics: [accuracy]}}
optimizer: {{type: adam, learning_rate: 0.01}}
data:
  dataset: {dataset}
  split: {{test: 0.2, validation: 0.1, seed: 1}}
  preprocess: [{{type: standard_scaler}}]
train: {{epochs: 3, batch_size: 16, seed: 0, shuffle: false}}
"""


@pytest.mark.parametrize("kind", sorted(SAVERS))
def test_training_on_a_streamed_npz_equals_the_in_memory_arrays(
    tmp_path: Path, arrays, kind: str
) -> None:
    from specforge.api import check_text
    from specforge.training import rundir
    from specforge.training.prepare import make_preprocessors
    from specforge.training.run import train

    x, y = arrays
    path = tmp_path / "a.npz"
    SAVERS[kind](path, x=x, y=y)
    spec = tmp_path / "s.yaml"
    spec.write_text(
        CLASSIFIER.format(dataset=f"{{type: npz, path: '{path}', stream: true, chunk_rows: 50}}")
    )
    run = train(spec, backend="numpy", out=tmp_path / "run", progress="quiet")
    assert run.status == "completed" and run.metrics["stream"] is True
    names = sorted(p.name for p in (tmp_path / "run").iterdir())
    assert names == sorted(
        [
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
    )
    info = json.loads((tmp_path / "run" / "data.json").read_text())
    assert info["sample_shape"] == [2, 3] and info["target_names"] == ["y"]
    assert info["feature_names"][:2] == ["x_0_0", "x_0_1"]

    # In memory: the arrays as read_npz gives them, split by the same row hash,
    # scaled by the run's fitted scaler, trained in file order.
    memory = read_npz(path)
    codes = split_codes(np.arange(len(x)), 0.2, 0.1, 1)
    assert run.metrics["samples"] == {
        s: int((codes == c).sum()) for s, c in (("train", 0), ("validation", 1), ("test", 2))
    }
    reg = get_registry()
    graph = check_text(spec.read_text(), str(spec)).graph
    states = rundir.read_preprocessor_states(tmp_path / "run")
    steps = make_preprocessors(graph.data.preprocess, reg, states)
    flat, _ = transformer(steps)(memory.x.reshape(len(x), -1), memory.y[:, None])
    xs = flat.reshape(len(x), 2, 3)
    part = {
        s: (xs[codes == c], memory.y[codes == c])
        for s, c in (("train", 0), ("validation", 1), ("test", 2))
    }
    be = reg.backends["numpy"]
    model = be.build(graph, seed=0, registry=reg)
    history = be.fit(
        model,
        {"x": part["train"][0]},
        {"out": part["train"][1]},
        epochs=3,
        batch_size=16,
        shuffle=False,
        seed=0,
        validation_data=({"x": part["validation"][0]}, {"out": part["validation"][1]}),
    )
    assert list(run.history) == list(history)
    for key, values in history.items():
        np.testing.assert_allclose(run.history[key], values, rtol=RTOL, err_msg=key)
    for split, (xs_, ys_) in part.items():
        figures = be.evaluate(model, {"x": xs_}, {"out": ys_}, batch_size=len(xs_))
        for key, value in figures.items():
            assert run.metrics[split][key] == pytest.approx(value, rel=RTOL), (split, key)


def test_a_streamed_npz_and_a_streamed_csv_of_the_same_rows_train_alike(tmp_path: Path) -> None:
    from specforge.training.run import train

    rng = np.random.default_rng(2)
    x = rng.normal(size=(211, 3)).astype(np.float32)
    y = (x @ [1.0, -2.0, 0.5]).astype(np.float32)
    np.savez(tmp_path / "t.npz", x=x, y=y)
    (tmp_path / "t.csv").write_text(
        "a,b,c,y\n"
        + "".join(
            ",".join(repr(float(v)) for v in (*r, t)) + "\n" for r, t in zip(x, y, strict=True)
        )
    )
    body = (
        "specforge: 2\nname: t\ninputs:\n  - {name: x, shape: [3]}\nnodes:\n"
        "  - {name: out, type: Dense, units: 1}\noutputs:\n  - {node: out, loss: mse}\n"
        "optimizer: {type: sgd, learning_rate: 0.05}\n"
        "data:\n  dataset: DATASET\n  split: {test: 0.2, validation: 0.2}\n"
        "  preprocess: [{type: minmax_scaler}]\ntrain: {epochs: 2, batch_size: 8, seed: 0}\n"
    )
    runs = {}
    for kind, dataset in (
        ("npz", f"{{type: npz, path: '{tmp_path / 't.npz'}', stream: true, chunk_rows: 30}}"),
        (
            "csv",
            f"{{type: csv, path: '{tmp_path / 't.csv'}', target: y, stream: true, chunk_rows: 30}}",
        ),
    ):
        (tmp_path / f"{kind}.yaml").write_text(body.replace("DATASET", dataset))
        runs[kind] = train(
            tmp_path / f"{kind}.yaml", backend="numpy", out=tmp_path / kind, progress="quiet"
        )
    assert runs["npz"].history == runs["csv"].history  # shuffled within chunks, alike
    assert runs["npz"].metrics["test"] == runs["csv"].metrics["test"]


def test_an_npz_stream_cannot_be_loaded_whole(tmp_path: Path, arrays) -> None:
    from specforge.default_plugins.datasets.files import NpzParams, load_npz

    x, y = arrays
    np.savez(tmp_path / "a.npz", x=x, y=y)
    with pytest.raises(
        DataError, match="a streamed npz \\(stream: true\\) is read by specforge train"
    ):
        load_npz(NpzParams(path=str(tmp_path / "a.npz"), stream=True))


def test_csv_stream_reports_the_line_of_a_bad_row_in_any_split(tmp_path: Path) -> None:
    p = tmp_path / "t.csv"
    p.write_text("a,y\n" + "".join(f"{i},{i}\n" for i in range(40)) + "nan,1\n")
    with pytest.raises(DataError) as err:
        list(CsvStream(str(p), [0], [1], chunk_rows=16, test=0.5).chunks("train"))
    assert str(err.value) == f"{p}: the row on line 42 holds an empty or non-finite value"


def test_a_streamed_npz_with_its_own_test_split_trains_and_tests_on_it(
    tmp_path: Path, arrays
) -> None:
    from specforge.training.run import train

    x, y = arrays
    path = tmp_path / "a.npz"
    np.savez_compressed(path, x=x[:250], y=y[:250], xt=x[250:], yt=y[250:])
    spec = tmp_path / "s.yaml"
    spec.write_text(
        CLASSIFIER.format(
            dataset=f"{{type: npz, path: '{path}', x_test_key: xt, y_test_key: yt, stream: true}}"
        )
    )
    said: list[str] = []
    run = train(spec, backend="numpy", out=tmp_path / "run", progress="quiet", echo=said.append)
    codes = split_codes(np.arange(250), 0.0, 0.1, 1)
    assert run.metrics["samples"] == {
        "train": int((codes == 0).sum()),
        "validation": int((codes == 1).sum()),
        "test": 51,
    }
    assert "note: dataset 'npz' has its own test split; data.split.test is ignored" in said
    assert set(run.metrics["test"]) == {"loss", "accuracy"}
