"""Seconds per training epoch: the NumPy backend against the Keras backend, same run.

Trains the chapter's two workhorse models for one epoch at batch size 32 on both
backends, on synthetic data of the real shapes:

* ``specs/fashion_mnist_mlp.yaml``: 55,000 images of 28×28 (Flatten, Dense 300/100/10,
  sparse categorical crossentropy, SGD); target: NumPy ≤ 0.5× Keras's epoch;
* ``specs/california_mlp.yaml``: 11,610 rows of 8 features (Dense 30/100/1, MSE, SGD);
  target: NumPy ≤ 0.2× Keras's epoch.

Each backend first trains one warm-up epoch on a slice of the data (Keras traces its
train function then), then ``--repeat`` timed epochs; the median is reported. The BLAS
library and thread counts in use are printed first, because they decide the NumPy figures.

Run from the repository root::

    python benchmarks/numpy_vs_keras.py            # both backends, 3 timed epochs each
    python benchmarks/numpy_vs_keras.py --repeat 5 --backend numpy

This is a benchmark, not a test: it takes about a minute and its figures depend on
the machine and on what else runs on it.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import specforge  # noqa: E402
from specforge.registry import get_registry  # noqa: E402

CASES = (
    # spec, samples, target ratio numpy/keras
    ("fashion_mnist_mlp.yaml", 55_000, 0.5),
    ("california_mlp.yaml", 11_610, 0.2),
)


def blas_report() -> list[str]:
    """The BLAS library and thread count NumPy uses (threadpoolctl, else numpy's build config)."""
    lines = [
        f"numpy {np.__version__}, python {platform.python_version()}, {os.cpu_count()} CPU(s), {platform.machine()}"
    ]
    try:
        from threadpoolctl import threadpool_info

        for pool in threadpool_info():
            path = pool.get("filepath", "?")
            owner = "numpy's" if "numpy" in path else "another library's (scipy/TensorFlow)"
            lines.append(
                f"{pool.get('user_api')}: {pool.get('internal_api')} {pool.get('version')} "
                f"({pool.get('architecture', '?')}), {pool.get('num_threads')} thread(s) by default, "
                f"{Path(path).name}: {owner}"
            )
    except ImportError:  # pragma: no cover - threadpoolctl ships with scikit-learn
        config = np.show_config(mode="dicts")
        blas = config.get("Build Dependencies", {}).get("blas", {})
        lines.append(
            f"blas: {blas.get('name')} {blas.get('version')} (thread count unknown: install threadpoolctl)"
        )
    return lines


def synthetic(graph, n: int, rng: np.random.Generator) -> tuple[dict, dict]:
    x = {i.name: rng.random((n, *i.shape), dtype=np.float32) for i in graph.inputs}
    y = {}
    for out in graph.outputs:
        shape = graph.node(out.node).output_shape
        if out.loss == "sparse_categorical_crossentropy":
            y[out.name] = rng.integers(0, shape[-1], n)
        else:
            y[out.name] = rng.random((n, *shape), dtype=np.float32) * 4.0
    return x, y


def time_epochs(backend, graph, x, y, repeat: int) -> tuple[list[float], list[float]]:
    """Wall seconds and CPU seconds (all threads of this process) of ``repeat`` epochs."""
    model = backend.build(graph, seed=0, registry=get_registry())
    warm = {k: v[:2048] for k, v in x.items()}, {k: v[:2048] for k, v in y.items()}
    backend.fit(model, *warm, epochs=1, batch_size=32, seed=0)
    walls, cpus = [], []
    for r in range(repeat):
        cpu, start = time.process_time(), time.perf_counter()
        backend.fit(model, x, y, epochs=1, batch_size=32, shuffle=True, seed=r)
        walls.append(time.perf_counter() - start)
        cpus.append(time.process_time() - cpu)
    return walls, cpus


def load_average() -> str:
    try:
        return ", ".join(f"{v:.2f}" for v in os.getloadavg())
    except OSError:  # pragma: no cover - not on every platform
        return "unknown"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--repeat", type=int, default=3, help="timed epochs per backend and model (median reported)"
    )
    parser.add_argument("--backend", choices=("both", "numpy", "keras"), default="both")
    args = parser.parse_args(argv)

    registry = get_registry()
    names = ["numpy", "keras"] if args.backend == "both" else [args.backend]
    if "keras" in names:
        try:
            import keras
            import tensorflow as tf

            print(
                f"keras {keras.__version__}, tensorflow {tf.__version__}, "
                f"intra-op threads {tf.config.threading.get_intra_op_parallelism_threads() or 'auto'}, "
                f"inter-op {tf.config.threading.get_inter_op_parallelism_threads() or 'auto'}"
            )
        except ImportError:
            print("keras is not installed: timing the NumPy backend only")
            names = ["numpy"]
    for line in blas_report():
        print(line)
    from specforge.numpy_backend.model import BLAS_THREADS_ENV, _blas_threads

    print(
        f"NumPy backend fit: {_blas_threads() or 'the library default number of'} BLAS thread(s) ({BLAS_THREADS_ENV}={os.environ.get(BLAS_THREADS_ENV, '')!r})"
    )
    print(
        f"command: python benchmarks/numpy_vs_keras.py --repeat {args.repeat} --backend {args.backend}"
    )
    print(f"load average before: {load_average()}")
    print()

    rows = []
    for spec, n, target in CASES:
        graph = specforge.resolve(ROOT / "specs" / spec)
        graph = specforge.resolve({**_without_data(graph.to_spec())})
        x, y = synthetic(graph, n, np.random.default_rng(0))
        medians = {}
        for name in names:
            walls, cpus = time_epochs(registry.backends[name], graph, x, y, args.repeat)
            medians[name] = statistics.median(walls)
            print(
                f"{spec:<24} {name:<6} wall s/epoch: "
                + ", ".join(f"{t:.3f}" for t in walls)
                + f"  (median {medians[name]:.3f});  cpu s/epoch: "
                + ", ".join(f"{t:.3f}" for t in cpus)
            )
        rows.append((spec, n, target, medians))

    print()
    print(
        f"{'model':<24} {'samples':>8} {'numpy s/epoch':>14} {'keras s/epoch':>14} {'ratio':>7} {'target':>7}"
    )
    ok = True
    for spec, n, target, medians in rows:
        npy, ker = medians.get("numpy"), medians.get("keras")
        ratio = npy / ker if npy is not None and ker else None
        met = ratio is not None and ratio <= target
        ok &= met or ratio is None
        print(
            f"{spec:<24} {n:>8,} {_fmt(npy):>14} {_fmt(ker):>14} "
            f"{(f'{ratio:.3f}' if ratio is not None else '-'):>7} {'≤ ' + str(target):>7}"
            + ("" if ratio is None else ("  met" if met else "  MISSED"))
        )
    print(f"load average after: {load_average()}")
    return 0 if ok else 1


def _without_data(spec: dict) -> dict:
    spec.pop("data", None)
    spec.pop("train", None)
    return spec


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


if __name__ == "__main__":
    sys.exit(main())
