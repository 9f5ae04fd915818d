"""Backend conformance: a backend predicts what the NumPy reference predicts, saved or not."""

from __future__ import annotations

from typing import Any

from ..registry import Registry, get_registry
from .conformance import ATOL, RTOL, ConformanceError, assert_close


def check_backend(
    backend: Any,
    spec: Any,
    *,
    reference: str = "numpy",
    registry: Registry | None = None,
    seed: int = 0,
    batch: int = 8,
    rtol: float = RTOL,
    atol: float = ATOL,
    tmp_path: Any = None,
) -> dict[str, float]:
    """Predictions of ``backend`` against the ``reference`` backend, with the same weights.

    ``backend`` is a Backend instance or name; ``spec`` a spec file, dict or
    Graph. Builds the reference model, moves its weights over with
    ``set_weights``, compares ``predict`` on random inputs, and, when
    ``tmp_path`` is given, checks that ``save`` then ``load`` keeps the
    predictions. Returns the largest absolute difference per output.
    """
    import numpy as np

    from ..api import resolve

    reg = registry or get_registry()
    b = reg.backends[backend] if isinstance(backend, str) else backend
    ref = reg.backends[reference]
    graph = resolve(spec, registry=reg)
    ref_model = ref.build(graph, seed=seed, registry=reg)
    model = b.build(graph, seed=seed, registry=reg)
    b.set_weights(model, ref.get_weights(ref_model))
    gen = np.random.default_rng(seed)
    x = {i.name: gen.normal(size=(batch, *i.shape)).astype(i.dtype) for i in graph.inputs}
    expected = ref.predict(ref_model, x, batch_size=batch)
    got = b.predict(model, x, batch_size=batch)
    diffs: dict[str, float] = {}
    for o in graph.outputs:
        if o.node not in got:
            raise ConformanceError(f"backend '{b.name}' gave no prediction for output '{o.node}'")
        assert_close(
            f"{graph.name}: output '{o.node}' of backend '{b.name}' vs '{reference}'",
            got[o.node],
            expected[o.node],
            rtol=rtol,
            atol=atol,
        )
        diffs[o.node] = float(
            np.max(np.abs(np.asarray(got[o.node], dtype=np.float64) - expected[o.node]))
        )
    if tmp_path is not None:
        from pathlib import Path

        path = Path(tmp_path) / f"{graph.name}{b.file_suffix}"
        b.save(model, str(path))
        loaded = b.load(str(path), graph, registry=reg)
        again = b.predict(loaded, x, batch_size=batch)
        for o in graph.outputs:
            assert_close(
                f"{graph.name}: output '{o.node}' after save/load",
                again[o.node],
                got[o.node],
                rtol=0,
                atol=0,
            )
    return diffs
