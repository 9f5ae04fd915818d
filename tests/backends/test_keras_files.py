"""Saving and loading ``.keras`` files: atomic, safe, portable, and deep graphs too."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

keras = pytest.importorskip("keras")

import specforge  # noqa: E402
from specforge.api import check_data, check_file  # noqa: E402
from specforge.plugin import BackendError  # noqa: E402
from specforge.registry import get_registry  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
SPECS = ROOT / "specs"
SEEDS = (
    "fashion_mnist_mlp",
    "california_mlp",
    "wide_deep",
    "wide_deep_two_inputs",
    "wide_deep_aux",
)


@pytest.fixture(scope="module")
def backend():
    return get_registry().backends["keras"]


@pytest.fixture(scope="module")
def saved_seed_models(tmp_path_factory, backend):
    """Each seed spec built with seed 0 and saved: {name: path}."""
    folder = tmp_path_factory.mktemp("models")
    paths = {}
    for name in SEEDS:
        model = specforge.build(SPECS / f"{name}.yaml", seed=0)
        paths[name] = folder / f"{name}.keras"
        backend.save(model, paths[name])
    return paths


def chain_spec(n: int) -> dict:
    return {
        "specforge": 1,
        "name": f"chain_{n}",
        "inputs": [{"name": "x", "shape": [2]}],
        "nodes": [{"name": f"d{i}", "type": "Dense", "units": 2} for i in range(n)],
        "outputs": [{"node": f"d{n - 1}", "loss": "mse"}],
        "optimizer": {"type": "sgd"},
    }


# ---------------------------------------------------------------- portable files


def test_saved_models_load_with_plain_keras_where_specforge_is_not_importable(saved_seed_models):
    code = (
        "import sys\n"
        "sys.modules['specforge'] = None\n"
        "import keras\n"
        "for path in sys.argv[1:]:\n"
        "    model = keras.models.load_model(path)\n"
        "    model.summary(print_fn=lambda *a, **k: None)\n"
        "    print(model.name, model.count_params(), type(model.optimizer).__name__)\n"
        "try:\n"
        "    import specforge\n"
        "except ImportError:\n"
        "    print('no specforge')\n"
    )
    paths = [str(saved_seed_models[name]) for name in SEEDS]
    proc = subprocess.run(
        [sys.executable, "-c", code, *paths], capture_output=True, text=True, timeout=180, cwd="/"
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert lines == [
        "fashion_mnist_mlp 266610 SGD",
        "california_mlp 3471 SGD",
        "wide_deep 3479 SGD",
        "wide_deep_two_inputs 3416 SGD",
        "wide_deep_aux 3517 SGD",
        "no specforge",
    ]


def _modules(value):
    if isinstance(value, dict):
        if "module" in value:
            yield value["module"], value.get("registered_name"), value.get("class_name")
        for v in value.values():
            yield from _modules(v)
    elif isinstance(value, list):
        for v in value:
            yield from _modules(v)


def test_saved_config_names_only_keras_builtins(saved_seed_models):
    for path in saved_seed_models.values():
        config = json.loads(zipfile.ZipFile(path).read("config.json"))
        for module, registered, class_name in _modules(config):
            assert module.split(".")[0] == "keras", (path.name, module)
            assert registered in (None, class_name), (path.name, registered)


def test_load_reads_the_model_back_compiled_and_checks_it_fits_the_spec(saved_seed_models, backend):
    graph = check_file(SPECS / "wide_deep_aux.yaml").graph
    model = backend.load(saved_seed_models["wide_deep_aux"], graph, registry=get_registry())
    original = specforge.build(SPECS / "wide_deep_aux.yaml", seed=0)
    for name, arrays in backend.get_weights(original).items():
        for a, b in zip(arrays, backend.get_weights(model)[name], strict=True):
            np.testing.assert_array_equal(a, b)
    rng = np.random.default_rng(0)
    x = {"wide_input": rng.normal(size=(8, 5)), "deep_input": rng.normal(size=(8, 6))}
    y = {"output": np.ones((8, 1)), "aux_output": np.ones((8, 1))}
    assert set(backend.evaluate(model, x, y)) == {"loss", "output_loss", "aux_output_loss"}
    other = check_file(SPECS / "wide_deep.yaml").graph
    with pytest.raises(BackendError, match="does not match spec 'wide_deep'"):
        backend.load(saved_seed_models["wide_deep_aux"], other, registry=get_registry())


def test_load_refuses_what_is_not_a_safe_keras_model(tmp_path, backend):
    graph = check_file(SPECS / "california_mlp.yaml").graph
    with pytest.raises(BackendError, match="no such model file"):
        backend.load(tmp_path / "nothing.keras", graph, registry=get_registry())
    junk = tmp_path / "junk.keras"
    junk.write_text("not a zip")
    with pytest.raises(BackendError, match="not a Keras model"):
        backend.load(junk, graph, registry=get_registry())
    inputs = keras.Input((8,), name="features")
    out = keras.layers.Lambda(lambda t: t[:, :1], name="output")(inputs)
    lam = keras.Model(inputs, out)
    lam.save(tmp_path / "lambda.keras")
    with pytest.raises(BackendError, match="Lambda") as info:
        backend.load(tmp_path / "lambda.keras", graph, registry=get_registry())
    assert "safe mode" in info.value.help


# ---------------------------------------------------------------- atomic writes


def _broken_save(payload: bytes, error: BaseException):
    def save(self, filepath, *args, **kwargs):
        Path(filepath).write_bytes(payload)  # half a file...
        raise error  # ...then the crash

    return save


@pytest.mark.parametrize(
    "error", [OSError("disk full"), KeyboardInterrupt()], ids=["crash", "interrupt"]
)
def test_a_crash_while_writing_leaves_no_file_and_no_temporary(
    tmp_path, backend, monkeypatch, error
):
    model = specforge.build(SPECS / "california_mlp.yaml", seed=0)
    monkeypatch.setattr(keras.Model, "save", _broken_save(b"PK\x03\x04half", error))
    target = tmp_path / "model.keras"
    with pytest.raises(type(error)):
        backend.save(model, target)
    assert os.listdir(tmp_path) == []


def test_a_crash_while_writing_leaves_an_existing_file_unchanged(tmp_path, backend, monkeypatch):
    model = specforge.build(SPECS / "california_mlp.yaml", seed=0)
    target = tmp_path / "model.keras"
    backend.save(model, target)
    before = target.read_bytes()
    monkeypatch.setattr(keras.Model, "save", _broken_save(b"PK\x03\x04half", OSError("disk full")))
    with pytest.raises(OSError):
        backend.save(specforge.build(SPECS / "california_mlp.yaml", seed=1), target)
    assert target.read_bytes() == before
    assert os.listdir(tmp_path) == ["model.keras"]


def test_saving_replaces_a_file_with_a_complete_new_one_readable_like_a_normal_file(
    tmp_path, backend
):
    target = tmp_path / "model.keras"
    target.write_bytes(b"old")
    os.chmod(target, 0o644)
    backend.save(specforge.build(SPECS / "wide_deep.yaml", seed=0), target)
    assert zipfile.is_zipfile(target)
    assert os.listdir(tmp_path) == ["model.keras"]
    assert target.stat().st_mode & 0o777 == 0o644


def test_save_insists_on_the_keras_suffix(tmp_path, backend):
    with pytest.raises(BackendError, match=r"\.keras"):
        backend.save(specforge.build(SPECS / "wide_deep.yaml"), tmp_path / "model.h5")


# ---------------------------------------------------------------- deep graphs


def test_deep_graphs_get_room_to_recurse_and_the_limit_is_restored(tmp_path, backend):
    """A 300-node chain under a recursion limit of 200 (Keras alone raises RecursionError):
    the same situation as a 3,000-node chain under the default limit, ten times cheaper."""
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(200)
    try:
        graph = check_data(chain_spec(300)).graph
        model = backend.build(graph, seed=0, registry=get_registry())
        backend.save(model, tmp_path / "chain.keras")
        loaded = backend.load(tmp_path / "chain.keras", graph, registry=get_registry())
        assert sys.getrecursionlimit() == 200
    finally:
        sys.setrecursionlimit(old)
    assert loaded.count_params() == 1800


def test_a_1000_node_chain_builds_and_saves_without_recursion_error(tmp_path, backend):
    limit = sys.getrecursionlimit()
    graph = check_data(chain_spec(1000)).graph
    model = backend.build(graph, seed=0, registry=get_registry())
    assert len(model.layers) == 1001
    assert model.count_params() == graph.total_params == 6000
    backend.save(model, tmp_path / "chain.keras")
    assert zipfile.is_zipfile(tmp_path / "chain.keras")
    assert sys.getrecursionlimit() == limit


@pytest.mark.slow
def test_a_3000_node_chain_builds_saves_and_loads(tmp_path, backend):
    limit = sys.getrecursionlimit()
    graph = check_data(chain_spec(3000)).graph
    model = backend.build(graph, seed=0, registry=get_registry())
    path = tmp_path / "chain.keras"
    backend.save(model, path)
    loaded = backend.load(path, graph, registry=get_registry())
    assert loaded.count_params() == graph.total_params == 18000
    assert sys.getrecursionlimit() == limit


@pytest.mark.slow
def test_a_1000_node_chain_predicts_and_trains(backend):
    """TensorFlow traces the whole graph (about a minute here): as slow as a hand-written Keras model."""
    limit = sys.getrecursionlimit()
    model = backend.build(check_data(chain_spec(1000)).graph, seed=0, registry=get_registry())
    x = {"x": np.ones((4, 2), dtype="float32")}
    assert backend.predict(model, x)["d999"].shape == (4, 2)
    history = backend.fit(
        model, x, {"d999": np.zeros((4, 2), dtype="float32")}, epochs=1, batch_size=4
    )
    assert list(history) == ["loss"]
    assert sys.getrecursionlimit() == limit
