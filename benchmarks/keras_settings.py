"""Which Keras settings make the chapter's MLPs train faster: one setting at a time, side by side.

Trains the chapter's hand-written model (``specforge.testing.chapter``) on
synthetic data of the chapter's shapes, batch 32, under each setting below, in
one process, interleaved; prints the median epoch (from an epoch clock) and
the whole ``fit`` call's wall time per epoch, each with its ratio to plain
``fit``. This is how the Keras backend's defaults were chosen
(docs/benchmarks.md, "Per-epoch training time"):

- ``plain``: the chapter's ``model.fit(x, y, batch_size=32)``;
- ``spe N``: with ``steps_per_execution=N`` (``all``: the whole epoch per call);
- ``spe N + jit``: and ``jit_compile=True`` (XLA);
- ``spe N + pipeline``: on specforge's input pipeline (one ``tf.data`` pipeline
  for every epoch, each epoch's permutation gathered by index:
  :mod:`specforge.keras_backend.pipeline`).

TensorFlow's thread settings are process-wide: compare them with two runs,
e.g. ``--intra 1 --inter 2`` against the default (what ``specforge train``
picks for small products: docs/benchmarks.md, "one thread per op").

Run:  python benchmarks/keras_settings.py [--model california_mlp|fashion_mnist_mlp] [--rounds 3]
                                          [--batch 32] [--intra N] [--inter N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import warnings
from typing import Any

import numpy as np

SAMPLES = {"california_mlp": 11_610, "fashion_mnist_mlp": 55_000}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", choices=list(SAMPLES), default="california_mlp")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=2, help="epochs per timed call")
    parser.add_argument("--batch", type=int, default=32, help="batch size (default 32)")
    parser.add_argument("--intra", type=int, help="TensorFlow intra-op threads (default: its own)")
    parser.add_argument("--inter", type=int, help="TensorFlow inter-op threads (default: its own)")
    args = parser.parse_args(argv)

    from specforge.quiet import quiet_environment

    quiet_environment()
    from specforge.keras_backend.env import import_keras

    keras = import_keras()
    import tensorflow as tf

    if args.intra is not None:
        tf.config.threading.set_intra_op_parallelism_threads(args.intra)
    if args.inter is not None:
        tf.config.threading.set_inter_op_parallelism_threads(args.inter)
    from specforge.keras_backend.pipeline import shuffled_epochs
    from specforge.testing import chapter

    warnings.filterwarnings("ignore", category=UserWarning)
    n = SAMPLES[args.model]
    rng = np.random.default_rng(0)
    if args.model == "california_mlp":
        x = rng.normal(size=(n, 8)).astype("float32")
        y = rng.normal(size=(n, 1)).astype("float32")
    else:
        x = rng.normal(size=(n, 28, 28)).astype("float32")
        y = rng.integers(0, 10, size=n)
    bs = args.batch
    batches = -(-n // bs)

    class Clock(keras.callbacks.Callback):
        def __init__(self) -> None:
            super().__init__()
            self.times: list[float] = []

        def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
            self.times.append(time.perf_counter() - self.start)

    def model(spe: int, jit: bool = False) -> Any:
        keras.utils.set_random_seed(0)
        m = getattr(chapter, args.model)()
        m.steps_per_execution, m.jit_compile = spe, jit
        m.train_function = None
        return m

    cases: dict[str, tuple[Any, Clock, list[float]]] = {}

    def case(label: str, spe: int, jit: bool = False, pipeline: bool = False) -> None:
        m, clock = model(spe, jit), Clock()
        if pipeline:
            data, reorder = shuffled_epochs(
                keras,
                x,
                y,
                batch_size=bs,
                order_of=lambda e: np.random.default_rng([0, e]).permutation(n),
            )

            def run(epochs: int) -> None:
                m.fit(data, epochs=epochs, shuffle=False, verbose=0, callbacks=[reorder, clock])

        else:

            def run(epochs: int) -> None:
                m.fit(x, y, epochs=epochs, batch_size=bs, verbose=0, callbacks=[clock])

        cases[label] = (run, clock, [])

    case("plain", 1)
    for spe in (32, 128):
        case(f"spe {spe}", spe)
    case(f"spe all ({batches})", batches)
    case("spe 32 + jit", 32, jit=True)
    for spe in (32, 128):
        case(f"spe {spe} + pipeline", spe, pipeline=True)

    threads = f"intra-op {args.intra or 'default'}, inter-op {args.inter or 'default'}"
    print(
        f"{args.model}: {n:,} samples, batch {bs}, {threads}; load average {os.getloadavg()[0]:.2f}"
    )
    for run, clock, _ in cases.values():  # warm-up: traced, not timed
        run(1)
        clock.times.clear()
    for _ in range(args.rounds):
        for run, _, calls in cases.values():
            start = time.perf_counter()
            run(args.epochs)
            calls.append((time.perf_counter() - start) / args.epochs)
    base_epoch = statistics.median(cases["plain"][1].times)
    base_call = statistics.median(cases["plain"][2])
    print(f"{'setting':24s} {'epoch':>8s} {'ratio':>6s} {'whole calls':>12s} {'ratio':>6s}")
    for label, (_, clock, calls) in cases.items():
        epoch, call = statistics.median(clock.times), statistics.median(calls)
        print(
            f"{label:24s} {epoch:7.3f}s {epoch / base_epoch:6.2f} {call:11.3f}s {call / base_call:6.2f}"
        )
    print(f"load average at the end: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
