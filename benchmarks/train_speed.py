"""Per-epoch training time: the chapter's hand-written ``fit`` against ``specforge train``.

Side by side in one process and one run, on synthetic data of the chapter's
shapes (Fashion-MNIST MLP: 55,000 × 28×28; California MLP: 11,610 × 8),
batch 32, shuffling on:

- ``hand``: the chapter's Keras code (``specforge.testing.chapter``) and a
  plain ``model.fit`` with an epoch clock callback;
- ``keras``: the spec built by the Keras backend and trained through the
  backend's ``fit`` exactly as ``specforge train`` calls it (its recorder and
  NaN/Ctrl-C guard callbacks, ``steps_per_execution`` from the spec: ``auto``);
- ``numpy``: the same through the NumPy backend.

Each side trains one untimed warm-up epoch (Keras traces its step), then
``--rounds`` ``fit`` calls of ``--epochs`` epochs per side, interleaved (the
order rotates each round). The table gives the median epoch wall time (from
each side's epoch clock: the targets' measure) and the ratio to ``hand``, and
the whole calls' wall time per epoch (what a user waits for, including each
call's setup). Targets: keras ≤ 0.5 × hand (Fashion-MNIST) and ≤ 0.35 × hand
(California); numpy ≤ 0.35 × and ≤ 0.1 ×.

After the models, the README's main job (``specforge train specs/digits_mlp.yaml``,
both backends, fresh processes: ``benchmarks/main_job.py``) is timed in the same
run, so the README's figure and the ratios come from one machine state
(``--no-main-job`` leaves it out).

Run:  python benchmarks/train_speed.py           (--rounds 3, --epochs 2, --models NAME..., --quick)
"""

from __future__ import annotations

import argparse
import functools
import os
import platform
import statistics
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "specs"

#: model → (training samples, targets: keras / hand, numpy / hand)
MODELS = {
    "fashion_mnist_mlp": (55_000, 0.5, 0.35),
    "california_mlp": (11_610, 0.35, 0.1),
}


def synthetic(graph: Any, n: int, seed: int = 0) -> tuple[dict[str, Any], dict[str, Any]]:
    rng = np.random.default_rng(seed)
    x = {i.name: rng.normal(size=(n, *i.shape)).astype("float32") for i in graph.inputs}
    y = {}
    for o in graph.outputs:
        if o.loss == "sparse_categorical_crossentropy":
            y[o.name] = rng.integers(0, o.shape[-1], size=n)
        else:
            y[o.name] = rng.normal(size=(n, *o.shape)).astype("float32")
    return x, y


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3, help="timed calls per side (default 3)")
    parser.add_argument("--epochs", type=int, default=2, help="epochs per call (default 2)")
    parser.add_argument("--models", nargs="*", choices=list(MODELS), help="default: both")
    parser.add_argument("--quick", action="store_true", help="a smoke run on 10%% of the data")
    parser.add_argument("--no-main-job", action="store_true", help="skip the README's main job")
    args = parser.parse_args(argv)

    from specforge.quiet import quiet_environment

    quiet_environment()
    from specforge.keras_backend.env import import_keras

    keras = import_keras()
    import tensorflow as tf

    from specforge.api import check_file
    from specforge.plugin import TrainingCallback
    from specforge.registry import get_registry
    from specforge.testing import chapter
    from specforge.training.callbacks import Guard, Recorder

    reg = get_registry()
    warnings.filterwarnings("ignore", category=UserWarning)  # input_shape= in the chapter

    class Clock(TrainingCallback):
        def __init__(self) -> None:
            self.times: list[float] = []

        def on_epoch_begin(self, epoch: int) -> None:
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch: int, logs: Any) -> bool:
            self.times.append(time.perf_counter() - self.start)
            return False

    class KerasClock(keras.callbacks.Callback):
        def __init__(self) -> None:
            super().__init__()
            self.times: list[float] = []

        def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
            self.times.append(time.perf_counter() - self.start)

    print(
        f"machine: {platform.platform()}, {os.cpu_count()} CPUs; load average "
        f"{', '.join(f'{v:.2f}' for v in os.getloadavg())}"
    )
    print(
        f"python {platform.python_version()}, keras {keras.__version__}, tensorflow {tf.__version__}"
    )
    print(
        f"per-epoch wall time, median over {args.rounds} fit() calls of {args.epochs} epochs per side, "
        "interleaved, after one untimed warm-up epoch; batch 32; (ratio to hand)\n"
    )
    failed = False
    for name in args.models or list(MODELS):
        n, keras_target, numpy_target = MODELS[name]
        if args.quick:
            n //= 10
        graph = check_file(SPECS / f"{name}.yaml", registry=reg).graph
        x, y = synthetic(graph, n)
        outputs = [o.name for o in graph.outputs]
        train_cfg = graph.train_config

        keras.utils.set_random_seed(0)
        hand_model = getattr(chapter, name)()
        hand_clock = KerasClock()
        xs = [x[i.name] for i in graph.inputs]
        ys = [y[o] for o in outputs]
        hx, hy = (xs[0] if len(xs) == 1 else xs), (ys[0] if len(ys) == 1 else ys)

        hand = functools.partial(
            hand_model.fit, hx, hy, batch_size=32, verbose=0, callbacks=[hand_clock]
        )

        sides: dict[str, tuple[Any, list[float]]] = {"hand": (hand, hand_clock.times)}
        for be_name in ("keras", "numpy"):
            be = reg.backends[be_name]
            model = be.build(graph, seed=0, registry=reg)
            clock = Clock()
            extra = {"steps_per_execution": train_cfg.steps_per_execution}

            run = functools.partial(
                be.fit,
                model,
                x,
                y,
                batch_size=train_cfg.batch_size,
                shuffle=True,
                seed=0,
                callbacks=[Recorder(), Guard(outputs), clock],
                **(extra if be_name == "keras" else {}),
            )
            sides[be_name] = (run, clock.times)

        for fn, _ in sides.values():  # warm-up: traced, caches filled; not timed
            fn(epochs=1)
        for times in (t for _, t in sides.values()):
            times.clear()
        calls: dict[str, list[float]] = {side: [] for side in sides}
        order = list(sides)
        for r in range(args.rounds):
            for side in order[r % 3 :] + order[: r % 3]:
                start = time.perf_counter()
                sides[side][0](epochs=args.epochs)
                calls[side].append((time.perf_counter() - start) / args.epochs)
        med = {side: statistics.median(times) for side, (_, times) in sides.items()}
        per_call = {side: statistics.median(times) for side, times in calls.items()}
        ratio_k, ratio_n = med["keras"] / med["hand"], med["numpy"] / med["hand"]
        ok_k, ok_n = ratio_k <= keras_target, ratio_n <= numpy_target
        failed |= not (ok_k and ok_n)
        print(f"{name} ({n:,} samples, {graph.total_params:,} params)")
        for side in sides:
            ts = ", ".join(f"{t:.3f}" for t in sides[side][1])
            print(
                f"  {side:6s} {med[side]:7.3f} s/epoch ({med[side] / med['hand']:.3f})"
                f"   whole calls {per_call[side]:.3f} s/epoch ({per_call[side] / per_call['hand']:.3f})"
                f"   [{ts}]"
            )
        print(
            f"  ratio keras / hand {ratio_k:.3f} (target <= {keras_target}: {'met' if ok_k else 'MISSED'})"
            f"   numpy / hand {ratio_n:.3f} (target <= {numpy_target}: {'met' if ok_n else 'MISSED'})\n",
            flush=True,
        )
    if not args.no_main_job:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from main_job import SPEC, run_once

        print(f"README main job: specforge train {SPEC.relative_to(ROOT)} (3 fresh processes each)")
        for backend in ("keras", "numpy"):
            runs = [run_once(backend) for _ in range(3)]
            walls = [w for w, _ in runs]
            print(
                f"  {backend:6s} wall median {statistics.median(walls):5.1f} s (min {min(walls):.1f} s)"
                f"   test accuracy {sorted({round(a, 4) for _, a in runs})}"
            )
    print(f"load average at the end: {', '.join(f'{v:.2f}' for v in os.getloadavg())}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
