"""docs/backends.md, "Deep graphs": what plain Keras needs to load a deep model saved by specforge."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytest.importorskip("keras")

#: Keras recurses once per layer on the longest path: a limit of ``nodes + HEADROOM`` loads
#: a chain, ``nodes - SHORT`` does not (the docs advise 1,000 + nodes).
NODES, HEADROOM, SHORT = 300, 100, 50

LOAD = """
import sys
sys.modules["specforge"] = None  # plain Keras, as where specforge is not installed
import keras
for limit in map(int, sys.argv[2:]):
    sys.setrecursionlimit(limit)
    try:
        model = keras.models.load_model(sys.argv[1])
        print(limit, "loads", len(model.layers))
    except RecursionError:
        print(limit, "RecursionError")
"""


@pytest.mark.slow
def test_a_deep_saved_model_loads_with_plain_keras_once_the_limit_is_raised(
    cli_run, tmp_path, monkeypatch
):
    spec = {
        "specforge": 1,
        "name": f"chain_{NODES}",
        "inputs": [{"name": "x", "shape": [2]}],
        "nodes": [{"name": f"d{i}", "type": "Dense", "units": 2} for i in range(NODES)],
        "outputs": [{"node": f"d{NODES - 1}", "loss": "mse"}],
        "optimizer": {"type": "sgd"},
    }
    (tmp_path / "chain.json").write_text(json.dumps(spec))
    monkeypatch.chdir(tmp_path)
    result = cli_run("build", "chain.json", "-o", "chain.keras")
    assert result.exit_code == 0, result.output
    low, high = NODES - SHORT, NODES + HEADROOM
    proc = subprocess.run(
        [sys.executable, "-c", LOAD, str(tmp_path / "chain.keras"), str(low), str(high)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd="/",
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split("\n")[:2] == [
        f"{low} RecursionError",
        f"{high} loads {NODES + 1}",
    ]
