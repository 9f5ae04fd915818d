"""The README's main job, timed: ``specforge train specs/digits_mlp.yaml`` in a fresh process.

Prints, for each installed backend, the wall time of the whole command (start-up,
data, training, evaluation, plots) and the test accuracy it reports, so that the
README's figures come from a command. Run from the repository root::

    python benchmarks/main_job.py            # --backend keras|numpy (repeatable), --repeat N
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "specs" / "digits_mlp.yaml"


def run_once(backend: str) -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "run"
        started = time.perf_counter()
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "specforge",
                "train",
                str(SPEC),
                "--backend",
                backend,
                "--out",
                str(out),
                "--quiet",
            ],
            capture_output=True,
            text=True,
            cwd=ROOT,
        )
        wall = time.perf_counter() - started
        if proc.returncode != 0:
            raise SystemExit(f"specforge train failed on {backend}:\n{proc.stdout}{proc.stderr}")
        accuracy = json.loads((out / "metrics.json").read_text())["test"]["accuracy"]
    return wall, accuracy


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", action="append", help="keras, numpy (default: both)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    backends = args.backend or ["numpy", "keras"]
    print(
        f"machine: {os.cpu_count()} CPU(s), python {sys.version.split()[0]}; load average {os.getloadavg()[0]:.2f}"
    )
    print(
        f"command: specforge train {SPEC.relative_to(ROOT)} --backend B  ({args.repeat} fresh processes each)"
    )
    for backend in backends:
        runs = [run_once(backend) for _ in range(args.repeat)]
        walls = [w for w, _ in runs]
        accs = sorted({round(a, 4) for _, a in runs})
        print(
            f"  {backend:6s} wall median {statistics.median(walls):6.1f} s (min {min(walls):.1f} s)   test accuracy {accs}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
