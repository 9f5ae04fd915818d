"""How fast is ``specforge validate``? Two measurements, one run.

(a) Cold start: the median wall time of fresh ``python -m specforge validate
    specs/wide_deep_aux.yaml`` processes against fresh ``python -c "import keras"``
    processes. ``validate`` never imports a framework, so it should cost a small
    fraction of what merely importing Keras costs (target: ratio <= 0.05).
(b) Scaling: the in-process time of ``specforge.spec.api.check_text`` (load + check +
    resolve) on generated chains of 1,000, 10,000 and 100,000 Dense nodes, with
    the load (parse) and check phases also timed apart (target: 10,000 nodes < 1 s,
    t(10k) / t(1k) <= 12 and t(100k) / t(10k) <= 12, i.e. linear growth).
(c) ``specforge.build(..., backend="numpy")`` of the checked 100,000-node chain
    (target: < 10 s). The targets are judged on the
    best CPU time of 7 runs, which a busy machine does not inflate; the median
    wall time is printed too.

Before timing, one untimed run of each command writes Python's bytecode caches
the way any normal installation has them (this matters where
PYTHONDONTWRITEBYTECODE is set, as in some CI images); both sides are then
timed under the same environment.

    python benchmarks/validate_speed.py [--runs N] [--keras-runs N] [--check]

``--check`` exits 1 when a target is missed. Results go to stdout; record them in
docs/benchmarks.md under "validate".
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPEC = "specs/wide_deep_aux.yaml"
VALIDATE = [sys.executable, "-m", "specforge", "validate", SPEC]
IMPORT_KERAS = [sys.executable, "-c", "import keras"]


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _time_process(
    cmd: list[str], runs: int, env: dict[str, str]
) -> tuple[list[float], list[float]]:
    """Wall and CPU (user + system) seconds of ``runs`` fresh processes."""
    walls, cpus = [], []
    for _ in range(runs):
        cpu0 = _children_cpu()
        start = time.perf_counter()
        proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
        walls.append(time.perf_counter() - start)
        cpus.append(_children_cpu() - cpu0)
        if proc.returncode != 0:
            raise SystemExit(
                f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout}{proc.stderr}"
            )
    return walls, cpus


def cold_start(runs: int, keras_runs: int) -> dict[str, float]:
    env = dict(os.environ)
    warm_env = {k: v for k, v in env.items() if k != "PYTHONDONTWRITEBYTECODE"}
    for cmd in (VALIDATE, IMPORT_KERAS):  # untimed: write the bytecode caches
        subprocess.run(cmd, cwd=ROOT, env=warm_env, capture_output=True)
    validate, validate_cpu = _time_process(VALIDATE, runs, env)
    keras, keras_cpu = _time_process(IMPORT_KERAS, keras_runs, env)
    return {
        "validate": statistics.median(validate),
        "validate_min": min(validate),
        "validate_cpu": statistics.median(validate_cpu),
        "keras": statistics.median(keras),
        "keras_min": min(keras),
        "keras_cpu": statistics.median(keras_cpu),
    }


def chain_spec(n: int) -> str:
    """A spec of ``n`` Dense nodes in a chain, written the way people write specs."""
    lines = [
        "specforge: 2",
        f"name: chain_{n}",
        "inputs:",
        "  - {name: features, shape: [16]}",
        "nodes:",
    ]
    lines += [
        f"  - {{name: dense_{i}, type: Dense, units: 16, activation: relu}}" for i in range(n)
    ]
    lines += [
        "outputs:",
        f"  - {{node: dense_{n - 1}, loss: mse}}",
        "optimizer: {type: adam, learning_rate: 1e-3}",
        "",
    ]
    return "\n".join(lines)


def _clock() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def scaling(sizes: tuple[int, ...], repeats: int) -> dict[int, dict[str, float]]:
    """Per chain size: the best CPU time of check_text and of its two phases, and the median wall time.

    CPU time (``time.process_time``) of this single-threaded process is what the
    code costs; wall time also counts whatever else the machine is running.
    """
    from specforge.api import check_text
    from specforge.registry import get_registry
    from specforge.spec.check import check
    from specforge.spec.load import loads

    reg = get_registry()

    check_text(chain_spec(10))  # warm up: registry, validators
    results: dict[int, dict[str, float]] = {}
    for n in sizes:
        text = chain_spec(n)
        wall, cpu, parse, checking = [], [], [], []
        for _ in range(repeats):
            # Each result is dropped (and collected) before the next timer starts, so
            # freeing the previous run's 100,000 objects is not charged to the next.
            gc.collect()
            w0, c0 = _clock()
            result = check_text(text, f"chain_{n}.yaml")
            w1, c1 = _clock()
            wall.append(w1 - w0)
            cpu.append(c1 - c0)
            if not result.ok or result.graph is None or len(result.graph.nodes) != n:
                raise SystemExit(f"the {n}-node chain did not validate: {result.diagnostics[:3]}")
            del result
            gc.collect()
            c0 = time.process_time()
            doc, _ = loads(text, f"chain_{n}.yaml")
            c1 = time.process_time()
            graph, _ = check(doc, reg)
            c2 = time.process_time()
            parse.append(c1 - c0)
            checking.append(c2 - c1)
            del doc, graph
        results[n] = {
            "cpu": min(cpu),
            "wall": statistics.median(wall),
            "parse": min(parse),
            "check": min(checking),
            "bytes": len(text.encode()),
        }
    return results


def numpy_build(n: int, repeats: int) -> dict[str, float]:
    """Best CPU and median wall time of building the checked ``n``-node chain on NumPy."""
    import specforge
    from specforge.api import check_text

    result = check_text(chain_spec(n), f"chain_{n}.yaml")
    wall, cpu = [], []
    for _ in range(repeats):
        gc.collect()
        w0, c0 = _clock()
        model = specforge.build(result, backend="numpy")
        w1, c1 = _clock()
        wall.append(w1 - w0)
        cpu.append(c1 - c0)
        del model
    return {"cpu": min(cpu), "wall": statistics.median(wall)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--runs", type=int, default=7, help="cold validate processes (median; at least 5)"
    )
    parser.add_argument(
        "--keras-runs",
        type=int,
        default=3,
        help="cold 'import keras' processes (median; at least 3)",
    )
    parser.add_argument(
        "--repeats", type=int, default=7, help="in-process repetitions per chain size"
    )
    parser.add_argument("--check", action="store_true", help="exit 1 if a target is missed")
    args = parser.parse_args()
    runs, keras_runs = max(args.runs, 5), max(args.keras_runs, 3)

    print(
        f"machine: {_cores()} cores, {_cpu_model()}; Python {platform.python_version()} on {platform.system()}"
    )
    print(f"command: {' '.join([Path(sys.executable).name, *sys.argv])}")
    print()

    cold = cold_start(runs, keras_runs)
    ratio = cold["validate"] / cold["keras"]
    print("(a) cold process (wall: median and min; cpu: median user+system)")
    print(
        f"  python -m specforge validate {SPEC}   wall {cold['validate']:.3f} s (min {cold['validate_min']:.3f} s)"
        f"   cpu {cold['validate_cpu']:.3f} s   [{runs} runs]"
    )
    print(
        f"  python -c 'import keras'                          wall {cold['keras']:.3f} s (min {cold['keras_min']:.3f} s)"
        f"   cpu {cold['keras_cpu']:.3f} s   [{keras_runs} runs]"
    )
    print(
        f"  ratio validate / import keras: {ratio:.3f} wall   (target <= 0.05: {'met' if ratio <= 0.05 else 'MISSED'})"
    )
    print(f"                                 {cold['validate_cpu'] / cold['keras_cpu']:.3f} cpu")
    print()

    # A 100,000-node spec is 6.6 MB, over the default 2 MB limit on spec files.
    os.environ.setdefault("SPECFORGE_MAX_SPEC_BYTES", str(64 * 2**20))
    sizes = (1_000, 10_000, 100_000)
    scale = scaling(sizes, args.repeats)
    print(
        f"(b) in-process, specforge.spec.api.check_text on a chain of Dense nodes ({args.repeats} runs each)"
    )
    print(
        f"  {'nodes':>6}  {'bytes':>9}  {'cpu (best)':>10}  {'parse':>8}  {'check':>8}  {'per node':>9}  {'wall (median)':>13}"
    )
    for n in sizes:
        r = scale[n]
        print(
            f"  {n:>6,}  {r['bytes']:>9,}  {r['cpu']:>9.3f}s  {r['parse']:>7.3f}s  {r['check']:>7.3f}s"
            f"  {r['cpu'] / n * 1e6:>7.1f}µs  {r['wall']:>12.3f}s"
        )
    growth = scale[10_000]["cpu"] / scale[1_000]["cpu"]
    big = scale[10_000]["cpu"]
    print(f"  10,000 nodes: {big:.3f} s CPU   (target < 1 s: {'met' if big < 1 else 'MISSED'})")
    print(
        f"  growth t(10k) / t(1k): {growth:.1f}   (target <= 12: {'met' if growth <= 12 else 'MISSED'})"
    )
    growth_100k = scale[100_000]["cpu"] / scale[10_000]["cpu"]
    print(
        f"  growth t(100k) / t(10k): {growth_100k:.1f}   (target <= 12: {'met' if growth_100k <= 12 else 'MISSED'})"
    )
    print(
        f"  (wall-time growth {scale[10_000]['wall'] / scale[1_000]['wall']:.1f} and "
        f"{scale[100_000]['wall'] / scale[10_000]['wall']:.1f}, load average {os.getloadavg()[0]:.2f})"
    )
    print()

    build = numpy_build(100_000, repeats=max(1, min(args.repeats, 3)))
    print("(c) in-process, specforge.build(..., backend='numpy') of the checked 100,000-node chain")
    print(
        f"  cpu (best) {build['cpu']:.3f} s   wall (median) {build['wall']:.3f} s"
        f"   (target < 10 s: {'met' if build['cpu'] < 10 else 'MISSED'})"
    )

    missed = ratio > 0.05 or big >= 1 or growth > 12 or growth_100k > 12 or build["cpu"] >= 10
    return 1 if (args.check and missed) else 0


if __name__ == "__main__":
    raise SystemExit(main())
