"""Saving and loading NumPy models: one .npz with the resolved spec inside, atomic, no pickle."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
from numpy.testing import assert_array_equal

import specforge
from specforge.numpy_backend.io import META_KEY, ModelFileError, read
from specforge.plugin import BackendError
from specforge.registry import get_registry

from .conftest import SPECS, graph_of, spec, synthetic

WIDE_DEEP = SPECS / "wide_deep_aux.yaml"


@pytest.fixture
def trained(numpy_backend):
    graph = specforge.resolve(WIDE_DEEP)
    model = numpy_backend.build(graph, seed=0, registry=get_registry())
    x, y = synthetic(graph, 64)
    numpy_backend.fit(model, x, y, epochs=2, seed=0)
    return model, graph, x


def test_save_and_load_round_trip_exactly(numpy_backend, trained, tmp_path):
    model, graph, x = trained
    path = tmp_path / "model.npz"
    numpy_backend.save(model, str(path))
    for loaded in (
        numpy_backend.load(str(path), graph, registry=get_registry()),
        numpy_backend.load(str(path), None, registry=get_registry()),
    ):
        for name, ws in numpy_backend.get_weights(model).items():
            for a, b in zip(ws, numpy_backend.get_weights(loaded)[name], strict=True):
                assert_array_equal(a, b)
        pred, back = numpy_backend.predict(model, x), numpy_backend.predict(loaded, x)
        assert all(np.array_equal(pred[k], back[k]) for k in pred)


def test_the_file_is_plain_arrays_with_the_resolved_spec_inside(numpy_backend, trained, tmp_path):
    model, graph, _ = trained
    path = tmp_path / "model.npz"
    numpy_backend.save(model, str(path))
    with np.load(path, allow_pickle=False) as data:  # no object arrays anywhere
        assert sorted(data.files) == sorted(
            [META_KEY]
            + [f"w/{n}/{i}" for n in ("hidden1", "hidden2", "output", "aux_output") for i in (0, 1)]
        )
        meta = json.loads(str(data[META_KEY][()]))
        assert data["w/hidden1/0"].dtype == np.float32 and data["w/hidden1/0"].shape == (6, 30)
    assert (
        meta["format"] == "specforge-numpy" and meta["version"] == 1 and meta["dtype"] == "float32"
    )
    assert meta["spec"] == graph.to_spec()
    assert meta["spec"]["outputs"][0] == {
        "node": "output",
        "loss": "mean_squared_error",
        "weight": 0.9,
        "metrics": [],
    }


def test_a_failed_save_leaves_the_previous_file_and_no_temporary(
    numpy_backend, trained, tmp_path, monkeypatch
):
    model, _, _ = trained
    path = tmp_path / "model.npz"
    numpy_backend.save(model, str(path))
    before = path.read_bytes()

    def explode(file, **arrays):
        file.write(b"half a zip")
        raise KeyboardInterrupt

    monkeypatch.setattr(np, "savez", explode)
    with pytest.raises(KeyboardInterrupt):
        numpy_backend.save(model, str(path))
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["model.npz"]


def test_a_suffix_other_than_npz_is_kept(numpy_backend, trained, tmp_path):
    model, _, _ = trained
    path = tmp_path / "weights.bin"
    numpy_backend.save(model, str(path))
    assert os.listdir(tmp_path) == ["weights.bin"]
    read(path)


def test_files_that_are_not_numpy_models_are_backend_errors(numpy_backend, tmp_path):
    graph = specforge.resolve(WIDE_DEEP)
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"not a zip at all")
    other = tmp_path / "other.npz"
    np.savez(other, a=np.zeros(3))
    pickled = tmp_path / "pickled.npz"
    np.savez(pickled, **{META_KEY: np.array([{"format": "specforge-numpy"}], dtype=object)})
    for path, message in (
        (garbage, "cannot read NumPy model"),
        (other, "not a specforge NumPy model"),
        (pickled, "cannot read"),
        (tmp_path / "missing.npz", "cannot read"),
    ):
        with pytest.raises(ModelFileError, match=message) as err:
            numpy_backend.load(str(path), graph, registry=get_registry())
        assert isinstance(err.value, BackendError)


def test_a_newer_file_format_is_refused(numpy_backend, trained, tmp_path):
    model, graph, _ = trained
    path = tmp_path / "model.npz"
    numpy_backend.save(model, str(path))
    with np.load(path, allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    meta = json.loads(str(arrays[META_KEY][()]))
    meta["version"] = 99
    arrays[META_KEY] = np.array(json.dumps(meta))
    np.savez(path, **arrays)
    with pytest.raises(ModelFileError, match="newer specforge"):
        numpy_backend.load(str(path), graph, registry=get_registry())


def test_weights_that_do_not_fit_the_graph_are_refused(numpy_backend, trained, tmp_path):
    model, _, _ = trained
    path = tmp_path / "model.npz"
    numpy_backend.save(model, str(path))
    wider = specforge.resolve(WIDE_DEEP).to_spec()
    wider["nodes"][1]["units"] = 99
    with pytest.raises(
        ModelFileError,
        match=r"weights do not fit 'wide_deep_aux': .*node 'hidden2' weight 0 has shape \(30, 99\), got \(30, 100\)",
    ):
        numpy_backend.load(str(path), graph_of(wider), registry=get_registry())
    other = graph_of(
        spec(
            [{"name": "hidden1", "type": "Dense", "units": 30}],
            [{"node": "hidden1", "loss": "mse"}],
            inputs=[{"name": "x", "shape": [6]}],
        )
    )
    with pytest.raises(ModelFileError, match="no node named aux_output, hidden2, output"):
        numpy_backend.load(str(path), other, registry=get_registry())
    missing = graph_of(
        spec([{"name": "fresh", "type": "Dense", "units": 2}], [{"node": "fresh", "loss": "mse"}])
    )
    with pytest.raises(ModelFileError, match="no weights for node"):
        numpy_backend.load(str(path), missing, registry=get_registry())
