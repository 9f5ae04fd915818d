"""How fast, and how lean, is ``specforge predict`` on a large CSV? One run, two sides.

On the same 1,000,000 x 64 CSV (about 290 MB) and the same trained run (the
NumPy backend, 64 features -> Dense 64 relu -> Dense 32 relu -> 1, standard
scaler), each a fresh process, timed from start to exit, peak memory (max RSS)
read from the kernel for that process alone (``os.wait4``):

(a) ``specforge predict RUN input.csv -o out.csv``: streamed in chunks of
    65,536 rows, preprocessed, predicted, written as CSV;
(b) the hand-written way: ``pandas.read_csv`` of the whole file, the run's
    scaler, ``model.predict`` (the run's own backend and model), nothing written.

Targets: time(a) / time(b) <= 1.5 and peak(a) / peak(b) <= 2. Time is judged
twice, on the best (shortest) of the interleaved runs of each side: wall time,
and CPU time (user + system, all threads), which other processes on a shared
machine hardly inflate; medians are printed too.

``--readers`` also times the CSV parsers specforge could use, each alone on the
same file: pandas' C engine (whole file, and in chunks) and pyarrow's CSV
reader (whole file, and streamed), when pyarrow is installed.

    python benchmarks/predict_csv.py [--rows N] [--runs N] [--workdir DIR] [--readers] [--check]

``--check`` exits 1 when a target is missed. Record the figures in
docs/benchmarks.md under "predict on a large CSV".
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FEATURES = 64

SPEC = """\
specforge: 1
name: wide_regression
inputs:
  - {{name: x, shape: [{n}]}}
nodes:
  - {{name: h1, type: Dense, units: 64, activation: relu}}
  - {{name: h2, type: Dense, units: 32, activation: relu}}
  - {{name: out, type: Dense, units: 1}}
outputs:
  - {{node: out, loss: mse}}
optimizer: {{type: adam, learning_rate: 0.001}}
data:
  dataset: {{type: csv, path: {train}, target: y}}
  preprocess:
    - {{type: standard_scaler}}
train: {{epochs: 2, batch_size: 64, seed: 0}}
"""

BASELINE = """\
import sys
import numpy as np
import pandas as pd
from specforge.training.run import load_run
from specforge.training.prepare import features_to_inputs, make_preprocessors

run = load_run(sys.argv[1])
x = pd.read_csv(sys.argv[2]).to_numpy(dtype=np.float32)
for step, obj in make_preprocessors(run.data.preprocess, run.registry, run.states):
    if step.applies_to == "features":
        x = np.asarray(obj.transform(x))
preds = run.backend.predict(
    run.model, features_to_inputs(x, run.info, run.result.graph), batch_size=run.batch_size
)
print(len(preds["out"]))
"""

READERS = {
    "pandas C engine, whole file": """\
import sys, numpy as np, pandas as pd
x = pd.read_csv(sys.argv[1], engine="c", dtype="float64").to_numpy()
""",
    "pandas C engine, 65,536-row chunks": """\
import sys, numpy as np, pandas as pd
for frame in pd.read_csv(sys.argv[1], engine="c", dtype="float64", chunksize=65536):
    x = frame.to_numpy()
""",
    "pyarrow, whole file": """\
import sys, numpy as np, pyarrow.csv as pc
table = pc.read_csv(sys.argv[1])
x = np.column_stack([c.to_numpy() for c in table.columns])
""",
    "pyarrow, streamed (1 MiB blocks)": """\
import sys, numpy as np, pyarrow.csv as pc
for batch in pc.open_csv(sys.argv[1], read_options=pc.ReadOptions(block_size=1 << 20)):
    x = np.column_stack([c.to_numpy() for c in batch.columns])
""",
}


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), *sys.path[1:]])}


def measure(cmd: list[str]) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds and peak RSS (MiB) of one fresh process."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        err = proc.stderr.read().decode() if proc.stderr else ""
        raise SystemExit(f"{' '.join(cmd[:4])} ... failed ({proc.returncode}):\n{err}")
    if proc.stderr:
        proc.stderr.close()
    return seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024  # KiB on Linux


def make_input(path: Path, rows: int) -> None:
    """``rows`` x 64 features with a header, one decimal each (~290 MB for 1,000,000)."""
    import numpy as np

    rows_file = path.with_suffix(".rows")
    if path.exists() and rows_file.exists() and rows_file.read_text() == str(rows):
        return  # made by an earlier run
    rng = np.random.default_rng(0)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(",".join(f"f{j}" for j in range(FEATURES)) + "\n")
        for start in range(0, rows, 100_000):
            block = rng.normal(size=(min(100_000, rows - start), FEATURES))
            np.savetxt(fh, block, delimiter=",", fmt="%.1f")
    path.with_suffix(".rows").write_text(str(rows))


def make_run(workdir: Path) -> Path:
    import numpy as np

    from specforge.training import train

    rng = np.random.default_rng(1)
    x = rng.normal(size=(2000, FEATURES))
    y = x @ rng.normal(size=FEATURES) + rng.normal(scale=0.1, size=2000)
    table = workdir / "train.csv"
    header = ",".join([*(f"f{j}" for j in range(FEATURES)), "y"])
    np.savetxt(
        table, np.column_stack([x, y]), delimiter=",", fmt="%.4f", header=header, comments=""
    )
    spec = workdir / "wide_regression.yaml"
    spec.write_text(SPEC.format(n=FEATURES, train=table))
    run = workdir / "run"
    train(spec, backend="numpy", out=run, overwrite=True, progress="quiet")
    return run


def _machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return f"{cpu}, {cores} core(s), Python {platform.python_version()}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--readers", action="store_true", help="also time pandas and pyarrow alone")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args()

    import pandas as pd

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="specforge-predict-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    data = workdir / f"input-{args.rows}.csv"
    make_input(data, args.rows)
    run = make_run(workdir)
    out = workdir / "predictions.csv"
    ours = [sys.executable, "-m", "specforge", "--no-plugins", "predict", str(run), str(data)]
    ours += ["-o", str(out)]
    theirs = [sys.executable, "-c", BASELINE, str(run), str(data)]

    print(f"machine: {_machine()}; pandas {pd.__version__}")
    size = data.stat().st_size / 1e6
    print(
        f"input: {args.rows:,} rows x {FEATURES} features, {size:.0f} MB; {args.runs} run(s) each"
    )
    measure(theirs)  # warm the page cache and the bytecode caches, untimed
    a, b = [], []
    for _ in range(args.runs):  # interleaved, so that a busy spell hits both sides
        a.append(measure(ours))
        b.append(measure(theirs))
    t_a, t_b = min(r[0] for r in a), min(r[0] for r in b)
    med_a, med_b = statistics.median(r[0] for r in a), statistics.median(r[0] for r in b)
    c_a, c_b = min(r[1] for r in a), min(r[1] for r in b)
    m_a, m_b = max(r[2] for r in a), max(r[2] for r in b)
    for label, t, med, c, m in (
        ("(a) specforge predict        ", t_a, med_a, c_a, m_a),
        ("(b) pandas.read_csv + predict", t_b, med_b, c_b, m_b),
    ):
        print(
            f"{label} wall best {t:6.2f} s (median {med:6.2f} s)  CPU {c:6.2f} s  peak {m:5.0f} MiB"
        )
    wall_ratio, cpu_ratio, mem_ratio = t_a / t_b, c_a / c_b, m_a / m_b
    ok = max(wall_ratio, cpu_ratio) <= 1.5 and mem_ratio <= 2.0
    print(f"time ratio (a)/(b): wall {wall_ratio:.2f}, CPU {cpu_ratio:.2f} (target <= 1.5)")
    print(f"peak memory ratio (a)/(b): {mem_ratio:.2f} (target <= 2)")
    print(f"targets {'met' if ok else 'MISSED'} (load average now {os.getloadavg()[0]:.1f})")
    lines = sum(1 for _ in out.open()) - 1
    assert lines == args.rows, (lines, args.rows)

    if args.readers:
        print("\nCSV readers alone (same file; best and median of the runs, peak of the runs):")
        for label, code in READERS.items():
            if label.startswith("pyarrow"):
                try:
                    import pyarrow  # noqa: F401
                except ImportError:
                    print(f"  {label}: pyarrow is not installed")
                    continue
            runs = [measure([sys.executable, "-c", code, str(data)]) for _ in range(args.runs)]
            best, med = min(r[0] for r in runs), statistics.median(r[0] for r in runs)
            cpu, peak = min(r[1] for r in runs), max(r[2] for r in runs)
            print(
                f"  {label:36s} wall best {best:6.2f} s (median {med:6.2f} s)  "
                f"CPU {cpu:6.2f} s  peak {peak:5.0f} MiB"
            )
    return 0 if ok or not args.check else 1


if __name__ == "__main__":
    sys.exit(main())
