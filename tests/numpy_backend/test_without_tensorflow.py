"""The NumPy backend needs no TensorFlow: every spec builds, trains and predicts without it.

A fresh interpreter gets an import hook that makes ``tensorflow`` and ``keras`` (and
their submodules) impossible to import, exactly as on a machine where they are not
installed, before specforge is imported.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

from .conftest import ROOT, model_specs

HIDE = textwrap.dedent(
    """
    import importlib.abc, sys

    class _NotInstalled(importlib.abc.MetaPathFinder):
        HIDDEN = ("tensorflow", "keras", "tf_keras", "tensorboard")

        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in self.HIDDEN:
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)
            return None

    sys.meta_path.insert(0, _NotInstalled())
    """
)

RUN_EVERY_SPEC = HIDE + textwrap.dedent(
    """
    import json, sys
    import numpy as np
    import specforge
    from specforge.registry import get_registry

    backend = get_registry().backends["numpy"]
    report = {}
    for path in sys.argv[1:]:
        graph = specforge.resolve(path)
        rng = np.random.default_rng(0)
        n = 64
        x = {i.name: rng.standard_normal((n, *i.shape)).astype(np.float32) for i in graph.inputs}
        y = {}
        for out in graph.outputs:
            shape = graph.node(out.node).output_shape
            if out.loss == "sparse_categorical_crossentropy":
                y[out.name] = rng.integers(0, shape[-1], n)
            elif graph.optimizer.type == "perceptron" or out.loss == "categorical_crossentropy":
                y[out.name] = np.eye(shape[-1], dtype=np.float32)[rng.integers(0, shape[-1], n)]
            else:
                y[out.name] = rng.standard_normal((n, *shape)).astype(np.float32)
        model = backend.build(graph, seed=0, registry=get_registry())
        history = backend.fit(model, x, y, epochs=1, batch_size=16, seed=0)
        pred = backend.predict(model, x)
        assert all(p.shape == (n, *graph.node(o.node).output_shape) for p, o in zip(pred.values(), graph.outputs))
        assert all(np.isfinite(p).all() for p in pred.values())
        report[path] = history["loss"][0]
    leaked = sorted(m for m in sys.modules if m.split(".")[0] in ("tensorflow", "keras"))
    print(json.dumps({"trained": report, "leaked": leaked}))
    """
)


def _python(code: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=ROOT, timeout=180
    )


def test_tensorflow_is_really_hidden():
    res = _python(HIDE + "import keras")
    assert res.returncode != 0 and "No module named 'keras'" in res.stderr


def test_every_spec_builds_trains_and_predicts_without_tensorflow():
    specs = model_specs()
    res = _python(RUN_EVERY_SPEC, *map(str, specs))
    assert res.returncode == 0, res.stderr[-3000:]
    result = json.loads(res.stdout.strip().splitlines()[-1])
    assert result["leaked"] == []
    assert sorted(result["trained"]) == sorted(map(str, specs))
    assert all(v == v for v in result["trained"].values())  # no NaN


def test_specforge_build_writes_a_numpy_model_without_tensorflow(tmp_path):
    out = tmp_path / "model.npz"
    code = HIDE + "from specforge.cli import main; main(sys.argv[1:])"
    res = _python(
        code,
        "build",
        str(ROOT / "specs" / "wide_deep_aux.yaml"),
        "--backend",
        "numpy",
        "-o",
        str(out),
    )
    assert res.returncode == 0, res.stderr
    assert "Total params: 3,517" in res.stdout
    import numpy as np

    with np.load(out, allow_pickle=False) as data:
        meta = json.loads(str(data["__specforge__"][()]))
        assert meta["spec"]["name"] == "wide_deep_aux"
        assert data["w/output/0"].shape == (105, 1)
