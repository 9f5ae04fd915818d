"""Streamed CSV vs in-memory: one epoch of the California MLP (batch 1,024) on a generated file.

    python benchmarks/stream_csv.py [--size GB] [--memory-rows N] [--dir DIR] [--keep]

Writes a California-like CSV (8 features + target) of ``--size`` GB (default 2)
in chunks, after checking the free disk space; trains one epoch streamed
(``stream: true``) in a fresh process and reports the file size, the process's
peak RSS, the epoch time and rows/s; then trains one epoch in memory on a file
of ``--memory-rows`` rows, the same way, for the rows/s to compare. The files are
deleted at the end (unless ``--keep``). Each run is its own process, so each
peak RSS is that run's alone.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
COLUMNS = [
    "MedInc",
    "HouseAge",
    "AveRooms",
    "AveBedrms",
    "Population",
    "AveOccup",
    "Latitude",
    "Longitude",
    "MedHouseVal",
]
SPEC = """specforge: 2
name: california_mlp
inputs:
  - {{name: features, shape: [8]}}
nodes:
  - {{name: hidden1, type: Dense, units: 30, activation: relu}}
  - {{name: hidden2, type: Dense, units: 100, activation: relu}}
  - {{name: output, type: Dense, units: 1, activation: relu}}
outputs:
  - {{node: output, loss: mean_squared_error}}
optimizer: {{type: sgd}}
data:
  dataset: {{type: csv, path: '{path}', target: MedHouseVal, stream: {stream}, chunk_rows: 262144}}
  split: {{test: 0.01, validation: 0.0, seed: 0}}
  preprocess: [{{type: standard_scaler}}]
train: {{epochs: 1, batch_size: 1024, seed: 0}}
"""


def _chunk(rng: np.random.Generator, n: int) -> str:
    inc = rng.lognormal(1.3, 0.5, n)
    x = np.column_stack(
        [
            inc,
            rng.integers(1, 52, n),
            rng.normal(5.4, 2.5, n),
            rng.normal(1.1, 0.5, n),
            rng.integers(3, 35000, n),
            rng.normal(3.0, 10.0, n),
            rng.uniform(32.5, 42.0, n),
            rng.uniform(-124.3, -114.3, n),
        ]
    )
    y = np.clip(0.4 * inc + 0.2 * rng.normal(size=n), 0.15, 5.0)
    return "\n".join(",".join(f"{v:.5g}" for v in row) for row in np.column_stack([x, y])) + "\n"


def generate(path: Path, size_bytes: int, max_rows: int = 0, pool: int = 4) -> int:
    """A California-like table (target correlated with MedInc), written in chunks.

    Formatting text is the slow part, so ``pool`` distinct chunks of 250,000 rows
    are formatted once and written in turn until the file is ``size_bytes`` long
    (or has ``max_rows`` rows): the rows repeat every million, which changes
    neither the reading cost nor the memory of a streamed epoch.
    """
    rng = np.random.default_rng(0)
    n = 250_000 if not max_rows else min(250_000, max_rows)
    chunks = [_chunk(rng, n) for _ in range(pool if not max_rows else -(-max_rows // n))]
    rows = 0
    with open(path, "w") as fh:
        fh.write(",".join(COLUMNS) + "\n")
        k = 0
        while fh.tell() < size_bytes or rows < max_rows:
            fh.write(chunks[k % len(chunks)])
            rows += n
            k += 1
    return rows


def child(spec: str, out: str) -> None:
    """Train one epoch and print JSON: epoch seconds, rows, peak RSS."""
    from specforge.plugin import TrainingCallback
    from specforge.training.run import train

    class Clock(TrainingCallback):
        def on_epoch_begin(self, epoch: int) -> None:
            self.t0 = time.perf_counter()

        def on_epoch_end(self, epoch: int, logs) -> bool:
            self.seconds = time.perf_counter() - self.t0
            return False

    clock = Clock()
    run = train(spec, out=out, progress="quiet", callbacks=(clock,))
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    rows = run.metrics["samples"]["train"]
    print(
        json.dumps(
            {
                "epoch_s": clock.seconds,
                "rows": rows,
                "rows_per_s": rows / clock.seconds,
                "peak_rss_mib": peak_kib / 1024,
                "loss": run.history["loss"][-1],
                "duration_s": run.metrics["duration_s"],
            }
        )
    )


def run_child(spec: Path, out: Path) -> dict:
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    done = subprocess.run(
        [sys.executable, __file__, "--child", str(spec), str(out)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode:
        sys.exit(f"child failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=float, default=2.0, help="GB of CSV to stream (default 2)")
    ap.add_argument("--memory-rows", type=int, default=1_000_000, help="rows of the in-memory file")
    ap.add_argument("--dir", default=None, help="where to write the files (default: a temp dir)")
    ap.add_argument("--keep", action="store_true", help="keep the generated files")
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(*args.child)
        return
    work = Path(args.dir or tempfile.mkdtemp(prefix="stream-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    size = int(args.size * 1e9)
    free = shutil.disk_usage(work).free
    if free < size * 1.2 + 1e9:
        sys.exit(f"{work}: {free / 1e9:.1f} GB free, need about {size * 1.2 / 1e9 + 1:.1f} GB")
    try:
        big, small = work / "big.csv", work / "small.csv"
        t0 = time.perf_counter()
        rows = generate(big, size)
        print(
            f"generated {big.stat().st_size / 1e9:.2f} GB ({rows:,} rows) in {time.perf_counter() - t0:.0f} s"
        )
        generate(small, 0, max_rows=args.memory_rows)
        results = {}
        for name, path, stream in (("streamed", big, "true"), ("in_memory", small, "false")):
            spec = work / f"{name}.yaml"
            spec.write_text(SPEC.format(path=path, stream=stream))
            results[name] = r = run_child(spec, work / f"run-{name}")
            print(
                f"{name:9s}: {path.stat().st_size / 1e9:6.2f} GB, {r['rows']:>11,} train rows, "
                f"epoch {r['epoch_s']:7.1f} s, {r['rows_per_s']:>10,.0f} rows/s, "
                f"peak RSS {r['peak_rss_mib']:6.0f} MiB, run {r['duration_s']:.0f} s"
            )
        ratio = results["in_memory"]["rows_per_s"] / results["streamed"]["rows_per_s"]
        print(f"in-memory / streamed throughput: {ratio:.2f}x")
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
