"""Per-epoch training time: the chapter's hand-written ``fit`` against ``specforge train``.

Side by side in one run, on synthetic data of the chapter's shapes
(Fashion-MNIST MLP: 55,000 × 28×28; California MLP: 11,610 × 8), batch 32,
shuffling on:

- ``hand``: the chapter's Keras code (``specforge.testing.chapter``) and a
  plain ``model.fit`` with an epoch clock callback, in a process that does
  nothing else (TensorFlow's defaults, as the chapter's reader has them);
- ``keras``: the spec through the Keras backend exactly as ``specforge train``
  runs it: the backend's process settings for training
  (``prepare_training``: one TensorFlow thread per op for small products),
  its ``fit`` with the recorder and NaN/Ctrl-C guard callbacks and
  ``steps_per_execution`` from the spec (``auto``);
- ``numpy``: the same through the NumPy backend (a process without TensorFlow).

Each side runs in its own process, since TensorFlow's thread settings are
process-wide; for each round the three processes run one after the other
(the order rotates each round). A process trains one untimed warm-up epoch
(Keras traces its step), then one ``fit`` call of ``--epochs`` epochs. The
table gives the median epoch wall time over the rounds' timed epochs (from
each side's epoch clock: the targets' measure) with its ratio to ``hand``, and
the timed call's wall time per epoch (what a user waits for, including the
call's setup). Targets: keras ≤ 0.5 × hand (Fashion-MNIST) and ≤ 0.35 × hand
(California); numpy ≤ 0.35 × and ≤ 0.1 ×.

After the models, the README's main job (``specforge train specs/digits_mlp.yaml``,
both backends, fresh processes: ``benchmarks/main_job.py``) is timed in the same
run, so the README's figure and the ratios come from one machine state
(``--no-main-job`` leaves it out).

Run:  python benchmarks/train_speed.py           (--rounds 3, --epochs 3, --models NAME..., --quick)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
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
SIDES = ("hand", "keras", "numpy")


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


def side(name: str, model: str, n: int, epochs: int) -> dict[str, Any]:
    """One side's process: a warm-up epoch, then one timed call of ``epochs`` epochs."""
    from specforge.api import check_file
    from specforge.plugin import TrainingCallback
    from specforge.registry import get_registry
    from specforge.training.callbacks import Guard, Recorder

    reg = get_registry()
    graph = check_file(SPECS / f"{model}.yaml", registry=reg).graph
    x, y = synthetic(graph, n)
    outputs = [o.name for o in graph.outputs]
    train_cfg = graph.train_config
    times: list[float] = []

    if name == "hand":
        from specforge.quiet import quiet_environment

        quiet_environment()
        from specforge.keras_backend.env import import_keras

        keras = import_keras()
        from specforge.testing import chapter

        warnings.filterwarnings("ignore", category=UserWarning)  # input_shape= in the chapter

        class KerasClock(keras.callbacks.Callback):
            def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
                self.start = time.perf_counter()

            def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
                times.append(time.perf_counter() - self.start)

        keras.utils.set_random_seed(0)
        hand_model = getattr(chapter, model)()
        xs = [x[i.name] for i in graph.inputs]
        ys = [y[o] for o in outputs]
        hx, hy = (xs[0] if len(xs) == 1 else xs), (ys[0] if len(ys) == 1 else ys)

        def run(k: int, seed: int | None = None) -> None:
            hand_model.fit(hx, hy, epochs=k, batch_size=32, verbose=0, callbacks=[KerasClock()])

    else:
        be = reg.backends[name]
        extra: dict[str, Any] = {}
        if name == "keras":
            from specforge.quiet import quiet_environment

            quiet_environment()
            be.prepare_training(graph, batch_size=train_cfg.batch_size)
            extra = {"steps_per_execution": train_cfg.steps_per_execution}
        built = be.build(graph, seed=0, registry=reg)

        class Clock(TrainingCallback):
            def on_epoch_begin(self, epoch: int) -> None:
                self.start = time.perf_counter()

            def on_epoch_end(self, epoch: int, logs: Any) -> bool:
                times.append(time.perf_counter() - self.start)
                return False

        def run(k: int, seed: int | None = None) -> None:
            be.fit(
                built,
                x,
                y,
                epochs=k,
                batch_size=train_cfg.batch_size,
                shuffle=True,
                seed=seed,
                callbacks=[Recorder(), Guard(outputs), Clock()],
                **extra,
            )

    # Warm-up: traced, caches filled; not timed. ``specforge train`` makes one fit
    # call with the spec's seed; here the timed call continues the warm-up's
    # (reseeding Keras before a second call costs it a retrace, ~0.1 s, that no
    # real run has).
    run(1, seed=0)
    times.clear()
    start = time.perf_counter()
    run(epochs)
    call = (time.perf_counter() - start) / epochs
    return {"epochs": times, "call": call, "params": graph.total_params}


def run_side(name: str, model: str, n: int, epochs: int) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, __file__, "--side", name, model, str(n), str(epochs)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    if proc.returncode != 0:
        raise SystemExit(f"{name} on {model} failed:\n{proc.stdout}{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3, help="processes per side (default 3)")
    parser.add_argument("--epochs", type=int, default=3, help="timed epochs per process")
    parser.add_argument("--models", nargs="*", choices=list(MODELS), help="default: both")
    parser.add_argument("--quick", action="store_true", help="a smoke run on 10%% of the data")
    parser.add_argument("--no-main-job", action="store_true", help="skip the README's main job")
    parser.add_argument(
        "--side", nargs=4, metavar=("SIDE", "MODEL", "N", "EPOCHS"), help=argparse.SUPPRESS
    )
    args = parser.parse_args(argv)
    if args.side:
        name, model, n, epochs = args.side
        print(json.dumps(side(name, model, int(n), int(epochs))))
        return 0

    import keras
    import tensorflow as tf

    print(
        f"machine: {platform.platform()}, {os.cpu_count()} CPUs; load average "
        f"{', '.join(f'{v:.2f}' for v in os.getloadavg())}"
    )
    print(
        f"python {platform.python_version()}, keras {keras.__version__}, tensorflow {tf.__version__}"
    )
    print(
        f"per-epoch wall time: {args.rounds} processes per side, each a warm-up epoch and one fit() "
        f"call of {args.epochs} epochs; median over the timed epochs; batch 32; (ratio to hand)\n"
    )
    failed = False
    for model in args.models or list(MODELS):
        n, keras_target, numpy_target = MODELS[model]
        if args.quick:
            n //= 10
        epochs: dict[str, list[float]] = {s: [] for s in SIDES}
        calls: dict[str, list[float]] = {s: [] for s in SIDES}
        params = 0
        for r in range(args.rounds):
            for name in SIDES[r % 3 :] + SIDES[: r % 3]:
                result = run_side(name, model, n, args.epochs)
                epochs[name] += result["epochs"]
                calls[name].append(result["call"])
                params = result["params"]
        med = {s: statistics.median(epochs[s]) for s in SIDES}
        per_call = {s: statistics.median(calls[s]) for s in SIDES}
        ratio_k, ratio_n = med["keras"] / med["hand"], med["numpy"] / med["hand"]
        ok_k, ok_n = ratio_k <= keras_target, ratio_n <= numpy_target
        failed |= not (ok_k and ok_n)
        print(f"{model} ({n:,} samples, {params:,} params)")
        for s in SIDES:
            ts = ", ".join(f"{t:.3f}" for t in epochs[s])
            print(
                f"  {s:6s} {med[s]:7.3f} s/epoch ({med[s] / med['hand']:.3f})"
                f"   whole calls {per_call[s]:.3f} s/epoch ({per_call[s] / per_call['hand']:.3f})"
                f"   [{ts}]"
            )
        fastest = min(epochs["hand"])
        print(
            f"  against hand's fastest epoch ({fastest:.3f} s): keras {med['keras'] / fastest:.3f}, "
            f"numpy {med['numpy'] / fastest:.3f}"
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
