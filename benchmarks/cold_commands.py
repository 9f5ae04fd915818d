"""Cold start of every command: the wall time of a fresh ``python -m specforge ...`` process.

Also says whether the process imported TensorFlow (a probe reads ``sys.modules``
at exit). The commands that do not need a framework must not import one:
``validate``, ``summary``, ``schema``, ``plugins``, ``build --backend numpy``,
``evaluate``/``predict`` of a NumPy-trained run, and ``import`` of a file that is
not a Keras model. Run from the repository root::

    python benchmarks/cold_commands.py          # --repeat N (default 3)
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PROBE = """
import sys
sys.argv = ["specforge", *{args!r}]
from specforge.cli import main
try:
    main()
except SystemExit as e:
    code = e.code
tf = "tensorflow" in sys.modules
print("TF=" + str(tf), "EXIT=" + str(code), file=sys.stderr)
"""


def run(args: list[str]) -> tuple[float, bool, str]:
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", PROBE.format(args=args)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    wall = time.perf_counter() - started
    last = proc.stderr.strip().splitlines()[-1]
    return wall, "TF=True" in last, last.split("EXIT=")[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="specforge-cold-"))
    digits = "specs/digits_mlp.yaml"
    setup = [
        ["train", digits, "--backend", "numpy", "--epochs", "1", "--out", str(tmp / "np"), "-q"],
        ["train", digits, "--epochs", "1", "--out", str(tmp / "k"), "-q"],
        ["build", "specs/wide_deep.yaml", "-o", str(tmp / "m.keras")],
    ]
    for cmd in setup:
        run(cmd)
    (tmp / "in.csv").write_text(",".join(["0.5"] * 64) + "\n")
    (tmp / "text.keras").write_text("not a model\n")
    commands = [
        ["validate", "specs/wide_deep_aux.yaml"],
        ["summary", "specs/wide_deep_aux.yaml"],
        ["schema"],
        ["plugins"],
        ["build", "specs/wide_deep.yaml", "--backend", "numpy", "-o", str(tmp / "m.npz")],
        ["build", "specs/wide_deep.yaml", "-o", str(tmp / "m2.keras")],
        ["evaluate", str(tmp / "np")],
        ["predict", str(tmp / "np"), str(tmp / "in.csv"), "-o", str(tmp / "o.csv")],
        ["evaluate", str(tmp / "k")],
        ["predict", str(tmp / "k"), str(tmp / "in.csv"), "-o", str(tmp / "o.csv")],
        ["import", str(tmp / "text.keras")],
        ["import", str(tmp / "m.keras"), "-o", str(tmp / "m.yaml")],
    ]
    print(
        f"{os.cpu_count()} CPU(s), python {sys.version.split()[0]}; load average "
        f"{', '.join(f'{v:.2f}' for v in os.getloadavg())}; median of {args.repeat} fresh processes"
    )
    for cmd in commands:
        runs = [run(cmd) for _ in range(args.repeat)]
        walls = [w for w, _, _ in runs]
        shown = " ".join(a if not a.startswith(str(tmp)) else Path(a).name for a in cmd)
        print(
            f"  specforge {shown:58s} {statistics.median(walls):6.2f} s  "
            f"(min {min(walls):.2f})  tensorflow: {'yes' if runs[0][1] else 'no '}  exit {runs[0][2]}",
            flush=True,
        )
    print(f"load average at the end: {', '.join(f'{v:.2f}' for v in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
