"""How much does specforge cost over writing the Keras model by hand?

For each of the chapter's models, in one process and one run:

(a) build: an already-checked Graph → compiled ``keras.Model`` through the Keras
    backend, versus the chapter's hand-written Keras code (+ ``compile``), median
    of N builds each, interleaved (A, B, B, A, ...). Reading and checking the YAML
    is a one-off cost per spec and is reported on its own.
(b) training: the built model versus the hand-written one, same synthetic data,
    same batch size: one untimed epoch each (TensorFlow traces the train step),
    then N one-epoch ``fit`` calls each, alternating A, B, B, A, ...; the median
    wall time of a call; less sensitive to other load on the machine, the
    ratio of the fastest calls and the ratio of median CPU times. The built model trains through the backend's
    ``fit`` (the training pipeline's path, with an epoch callback), the
    hand-written one through ``model.fit`` with an equivalent Keras callback.

Run:  python benchmarks/keras_overhead.py            (about 5 minutes on 2 cores)
      python benchmarks/keras_overhead.py --quick    (a smoke run)

Targets: build ratio ≤ 1.05, epoch-time ratio within 2%.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "specs"


# ---------------------------------------------------------------- the chapter's code, by hand


def hand_written(keras: Any) -> dict[str, Callable[[], Any]]:
    """The chapter's models as the chapter writes them (shared with the fidelity tests)."""
    from specforge.testing import chapter

    return dict(chapter.MODELS)


# ---------------------------------------------------------------- data


def synthetic(
    graph: Any, n: int, seed: int = 0
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    rng = np.random.default_rng(seed)
    x = {i.name: rng.normal(size=(n, *i.shape)).astype("float32") for i in graph.inputs}
    y = {}
    for o in graph.outputs:
        if o.loss == "sparse_categorical_crossentropy":
            y[o.name] = rng.integers(0, o.shape[-1], size=n)
        else:
            y[o.name] = rng.normal(size=(n, *o.shape)).astype("float32")
    return x, y


# ---------------------------------------------------------------- timing


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def time_builds(
    build_spec: Callable[[], Any],
    build_hand: Callable[[], Any],
    repeats: int,
    clear: Callable[[], None],
) -> tuple[list[float], list[float]]:
    spec_times: list[float] = []
    hand_times: list[float] = []
    for i in range(repeats):
        order = [(build_spec, spec_times), (build_hand, hand_times)]
        if i % 2:
            order.reverse()
        for fn, times in order:
            clear()
            gc.collect()
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
    return spec_times, hand_times


def time_training(
    spec_epoch: Callable[[], Any], hand_epoch: Callable[[], Any], epochs: int
) -> dict[str, list[tuple[float, float]]]:
    """(wall, CPU) seconds of one-epoch fit() calls, alternating sides, after one untimed call each."""
    spec_epoch()  # TensorFlow traces each model's train step here: not timed
    hand_epoch()
    times: dict[str, list[tuple[float, float]]] = {"spec": [], "hand": []}
    for i in range(epochs):
        order = [("spec", spec_epoch), ("hand", hand_epoch)]
        if i % 2:
            order.reverse()
        for side, fn in order:
            wall, cpu = time.perf_counter(), time.process_time()
            fn()
            times[side].append((time.perf_counter() - wall, time.process_time() - cpu))
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--repeats", type=int, default=21, help="builds per model and side (default 21)"
    )
    parser.add_argument(
        "--epochs",
        type=int,
        default=12,
        help="timed epochs per model and side, interleaved one by one (default 12)",
    )
    parser.add_argument(
        "--samples",
        type=int,
        default=11_610,
        help="training samples (default 11,610: the chapter's California training set)",
    )
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument(
        "--quick", action="store_true", help="a smoke run: few repeats, one short run"
    )
    parser.add_argument("--models", nargs="*", help="limit to these models")
    args = parser.parse_args(argv)
    if args.quick:
        args.repeats, args.epochs, args.samples = 3, 2, 2_000

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras
    import tensorflow as tf

    from specforge.api import check_file
    from specforge.plugin import TrainingCallback
    from specforge.registry import get_registry

    backend = get_registry().backends["keras"]
    by_hand = hand_written(keras)
    names = args.models or list(by_hand)

    class EpochClock(TrainingCallback):
        def __init__(self) -> None:
            self.times: list[float] = []
            self.start = 0.0

        def on_epoch_begin(self, epoch: int) -> None:
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch: int, logs: Any) -> bool:
            self.times.append(time.perf_counter() - self.start)
            return False

    class KerasEpochClock(keras.callbacks.Callback):
        def __init__(self) -> None:
            super().__init__()
            self.times: list[float] = []
            self.start = 0.0

        def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
            self.times.append(time.perf_counter() - self.start)

    print(
        f"machine: {platform.platform()}, {os.cpu_count()} CPUs ({platform.processor() or platform.machine()})"
    )
    print(
        f"python {platform.python_version()}, keras {keras.__version__}, tensorflow {tf.__version__}"
    )
    print(f"command: {' '.join([Path(sys.executable).name, *sys.argv])}")
    print(
        f"builds: median of {args.repeats} per side, interleaved; training: median of {args.epochs} one-epoch fit() "
        f"calls per side, interleaved, after one untimed epoch each (tracing); {args.samples:,} samples, "
        f"batch {args.batch_size}\n"
    )

    rows = []
    warnings.filterwarnings(
        "ignore", category=UserWarning
    )  # input_shape= in the chapter's Sequential code
    for name in names:
        path = SPECS / f"{name}.yaml"
        parse_times = []
        for _ in range(max(5, args.repeats // 2)):
            start = time.perf_counter()
            result = check_file(path)
            parse_times.append(time.perf_counter() - start)
        graph = result.graph
        assert result.ok, result.diagnostics

        spec_b, hand_b = time_builds(
            lambda g=graph: backend.build(g, registry=get_registry()),
            by_hand[name],
            args.repeats,
            keras.backend.clear_session,
        )

        x, y = synthetic(graph, args.samples)
        keras.backend.clear_session()
        spec_model = backend.build(graph, seed=0, registry=get_registry())
        keras.utils.set_random_seed(0)
        hand_model = by_hand[name]()
        xs = [x[i.name] for i in graph.inputs]
        ys = [y[o.name] for o in graph.outputs]
        hand_x, hand_y = (xs[0] if len(xs) == 1 else xs), (ys[0] if len(ys) == 1 else ys)

        times = time_training(
            partial(
                backend.fit,
                spec_model,
                x,
                y,
                epochs=1,
                batch_size=args.batch_size,
                callbacks=[EpochClock()],
            ),
            partial(
                hand_model.fit,
                hand_x,
                hand_y,
                epochs=1,
                batch_size=args.batch_size,
                callbacks=[KerasEpochClock()],
                verbose=0,
            ),
            args.epochs,
        )
        rows.append(
            (
                name,
                median_ms(parse_times),
                median_ms(spec_b),
                median_ms(hand_b),
                statistics.median(t[0] for t in times["spec"]),
                statistics.median(t[0] for t in times["hand"]),
                statistics.median(t[1] for t in times["spec"])
                / statistics.median(t[1] for t in times["hand"]),
                min(t[0] for t in times["spec"]) / min(t[0] for t in times["hand"]),
            )
        )
        r = rows[-1]
        print(
            f"  {name}: build {r[2]:.1f} ms vs {r[3]:.1f} ms; epoch {r[4]:.3f} s vs {r[5]:.3f} s",
            flush=True,
        )

    header = (
        f"\n{'model':<22} {'parse+check':>12} {'build spec':>11} {'build hand':>11} {'ratio':>6} "
        f"{'epoch spec':>11} {'epoch hand':>11} {'ratio':>6} {'min ratio':>9} {'cpu ratio':>9}"
    )
    print(header)
    print("-" * (len(header) - 1))
    for name, parse, bs, bh, es, eh, cpu, fastest in rows:
        print(
            f"{name:<22} {parse:>9.1f} ms {bs:>8.1f} ms {bh:>8.1f} ms {bs / bh:>6.3f} "
            f"{es:>9.3f} s {eh:>9.3f} s {es / eh:>6.3f} {fastest:>9.3f} {cpu:>9.3f}"
        )
    build_ratios = [r[2] / r[3] for r in rows]
    print(
        f"\nbuild ratio: median {statistics.median(build_ratios):.3f}, max {max(build_ratios):.3f} (target ≤ 1.05)"
    )
    for label, ratios in (
        ("median epoch", [r[4] / r[5] for r in rows]),
        ("fastest epoch", [r[7] for r in rows]),
        ("median CPU time", [r[6] for r in rows]),
    ):
        print(
            f"{label} ratio: median over models {statistics.median(ratios):.3f}, range {min(ratios):.3f}–{max(ratios):.3f} (target within 2%)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
