"""Issue 10: damaged run directories and ``.keras`` files never end in an internal error.

Hypothesis mutates one value anywhere in a run's JSON files (or truncates an npz),
or one value anywhere in a ``.keras`` file's ``config.json`` (or truncates the
zip), and feeds the result to ``evaluate``, ``predict``, ``build --weights`` and
``import`` in-process. Every run must end with exit 0, 1 or 2, without
"internal error" and without a traceback. ``SPECFORGE_MAX_MODEL_BYTES`` is set
low, so that a mutation declaring a huge layer is refused rather than allocated.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=True,
)

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**40), 2**40)
    | st.floats(allow_nan=False)
    | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every position in a JSON document (the root included)."""
    out = [prefix]
    if isinstance(value, dict):
        for k, v in value.items():
            out += paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += paths(v, (*prefix, i))
    return out


def replaced(doc: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    doc = json.loads(json.dumps(doc))
    node = doc
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return doc


@st.composite
def json_mutation(draw, doc: Any) -> Any:
    return replaced(doc, draw(st.sampled_from(paths(doc))), draw(JSON))


def assert_clean(result) -> None:
    text = result.stdout + result.stderr
    assert result.exception is None, f"{result.exception!r}\n{text}"
    assert result.exit_code in (0, 1, 2), text
    assert "internal error" not in text and "Traceback" not in text, text


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    from specforge.training import train

    out = tmp_path_factory.mktemp("run") / "digits"
    run = train(
        ROOT / "specs" / "digits_mlp.yaml", backend="numpy", out=out, epochs=1, progress="quiet"
    )
    assert run.status == "completed"
    return out


@pytest.fixture(autouse=True)
def _small_memory_limit(monkeypatch):
    monkeypatch.setenv("SPECFORGE_MAX_MODEL_BYTES", str(256 * 2**20))


RUN_FILES = ("metrics.json", "data.json", "preprocessors.json")


def damaged_copy(run_dir: Path, where: Path, name: str, mutate: Any) -> Path:
    run = where / "run"
    shutil.rmtree(run, ignore_errors=True)
    shutil.copytree(run_dir, run)
    if mutate is None:  # truncate
        data = (run / name).read_bytes()
        (run / name).write_bytes(data[: len(data) // 3])
    else:
        (run / name).write_text(json.dumps(mutate))
    return run


@st.composite
def run_damage(draw, run_dir: Path) -> tuple[str, Any]:
    name = draw(st.sampled_from((*RUN_FILES, "preprocessors.npz", "model.npz")))
    if name.endswith(".npz"):
        return name, None
    doc = json.loads((run_dir / name).read_text())
    return name, draw(json_mutation(doc))


@pytest.mark.parametrize("command", ["evaluate", "predict", "build"])
def test_damaged_run_directories_end_cleanly(run_dir, cli_run, command):
    x = Path(tempfile.mkdtemp()) / "x.npz"
    np.savez(x, x=np.zeros((2, 64)))

    @EXAMPLES
    @given(damage=run_damage(run_dir))
    def check(damage):
        name, mutate = damage
        with tempfile.TemporaryDirectory() as tmp:
            run = damaged_copy(run_dir, Path(tmp), name, mutate)
            if command == "evaluate":
                result = cli_run("evaluate", str(run))
            elif command == "predict":
                result = cli_run("predict", str(run), str(x), "-o", str(Path(tmp) / "p.csv"))
            else:
                spec = ROOT / "specs" / "digits_mlp.yaml"
                out = str(Path(tmp) / "m.npz")
                result = cli_run(
                    "build", str(spec), "--backend", "numpy", "--weights", str(run), "-o", out
                )
            assert_clean(result)

    check()


def keras_base() -> tuple[dict[str, Any], bytes]:
    """A functional Keras 3 model's config.json and weights, written by hand (no TensorFlow)."""
    import io

    import h5py

    def tensor(layer: str) -> dict[str, Any]:
        return {
            "class_name": "__keras_tensor__",
            "config": {"shape": [None, 4], "dtype": "float32", "keras_history": [layer, 0, 0]},
        }

    config = {
        "module": "keras.src.models.functional",
        "class_name": "Functional",
        "config": {
            "name": "m",
            "trainable": True,
            "layers": [
                {
                    "module": "keras.layers",
                    "class_name": "InputLayer",
                    "config": {"batch_shape": [None, 4], "dtype": "float32", "name": "a"},
                    "registered_name": None,
                    "name": "a",
                    "inbound_nodes": [],
                },
                {
                    "module": "keras.layers",
                    "class_name": "Dense",
                    "config": {"name": "out", "units": 2, "activation": "linear", "use_bias": True},
                    "registered_name": None,
                    "build_config": {"input_shape": [None, 4]},
                    "name": "out",
                    "inbound_nodes": [{"args": [tensor("a")], "kwargs": {}}],
                },
            ],
            "input_layers": [["a", 0, 0]],
            "output_layers": [["out", 0, 0]],
        },
        "registered_name": "Functional",
        "compile_config": {"optimizer": "sgd", "loss": "mse"},
    }
    buf = io.BytesIO()
    with h5py.File(buf, "w") as h5:
        h5.create_dataset("layers/dense/vars/0", data=np.zeros((4, 2), np.float32))
        h5.create_dataset("layers/dense/vars/1", data=np.zeros((2,), np.float32))
    return config, buf.getvalue()


def write_keras(path: Path, config: Any, weights: bytes, truncate: bool) -> None:
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("metadata.json", json.dumps({"keras_version": "3.0.0"}))
        z.writestr("config.json", json.dumps(config))
        z.writestr("model.weights.h5", weights)
    if truncate:
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])


BASE_CONFIG, BASE_WEIGHTS = keras_base()


@EXAMPLES
@given(config=json_mutation(BASE_CONFIG), truncate=st.booleans())
def test_damaged_keras_files_end_cleanly(cli_run, config, truncate):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "m.keras"
        write_keras(path, config, BASE_WEIGHTS, truncate)
        assert_clean(cli_run("import", str(path)))
