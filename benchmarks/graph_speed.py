"""How fast is ``specforge graph``? The layout and each writer, on a 1,000-node spec.

The spec is generated: 250 blocks of four nodes (two Dense, a Concatenate that
joins the block's input to the second Dense as a skip connection, and a Dense
that brings the width back), with an auxiliary output every 50 blocks, so the
layout has merges, long edges (dummy nodes) and crossings to minimise, not just
a chain. Each phase is timed in process (best CPU time of ``--runs`` runs, and
the median wall time): building the scene from the resolved graph, the
layout, and writing SVG, DOT, Mermaid, PNG and PDF. Checking the spec is
timed apart (it is ``validate``'s cost, measured by validate_speed.py).

    python benchmarks/graph_speed.py [--nodes 1000] [--runs 5]

Results go to stdout; record them in docs/benchmarks.md under "graph".
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def block_spec(n_nodes: int) -> str:
    """A spec of ``n_nodes`` nodes in skip-connected blocks of four, with side outputs."""
    blocks = max(1, n_nodes // 4)
    lines = [
        "specforge: 2",
        f"name: blocks_{blocks * 4}",
        "inputs:",
        "  - {name: features, shape: [16]}",
        "nodes:",
    ]
    outputs = []
    prev = "features"
    for b in range(blocks):
        lines += [
            f"  - {{name: b{b}_d1, type: Dense, units: 16, activation: relu, inputs: [{prev}]}}",
            f"  - {{name: b{b}_d2, type: Dense, units: 16, activation: relu}}",
            f"  - {{name: b{b}_cat, type: Concatenate, inputs: [{prev}, b{b}_d2]}}",
            f"  - {{name: b{b}_out, type: Dense, units: 16, activation: relu}}",
        ]
        prev = f"b{b}_out"
        if b % 50 == 49 and b != blocks - 1:
            outputs.append(f"  - {{node: b{b}_out, loss: mse, loss_weight: 0.1}}")
    outputs.append(f"  - {{node: {prev}, loss: mse}}")
    lines += ["outputs:", *outputs, "optimizer: {type: adam}", ""]
    return "\n".join(lines)


def _timed(fn, runs: int) -> tuple[float, float]:
    cpu, wall = [], []
    for _ in range(runs):
        w, c = time.perf_counter(), time.process_time()
        fn()
        cpu.append(time.process_time() - c)
        wall.append(time.perf_counter() - w)
    return min(cpu), statistics.median(wall)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    from specforge.api import check_text
    from specforge.render import write_graph
    from specforge.render.dot import render_dot
    from specforge.render.layout import layout
    from specforge.render.mermaid import render_mermaid
    from specforge.render.scene import scene
    from specforge.render.svg import render_svg

    text = block_spec(args.nodes)
    result = check_text(text)
    assert result.ok, [d.message for d in result.errors]
    graph = result.graph
    sc = scene(graph)
    sizes = [(b.width, b.height) for b in sc.boxes]
    lay = layout(sizes, sc.edges)
    long_edges = sum(1 for u, v in sc.edges if lay.layers[v] - lay.layers[u] > 1)
    print(
        f"spec: {len(graph.nodes)} nodes + {len(graph.inputs)} input, {len(sc.edges)} edges "
        f"({long_edges} spanning several layers), {len(graph.outputs)} outputs; "
        f"layout {lay.width:.0f} × {lay.height:.0f} units, {max(lay.layers) + 1} layers"
    )
    rows = [
        ("check (validate's cost)", lambda: check_text(text)),
        ("scene (labels, sizes)", lambda: scene(graph)),
        ("layout", lambda: layout(sizes, sc.edges)),
        ("layout LR", lambda: layout(sizes, sc.edges, "LR")),
        ("svg text", lambda: render_svg(sc, lay)),
        ("dot text", lambda: render_dot(sc)),
        ("mermaid text", lambda: render_mermaid(sc)),
    ]
    with tempfile.TemporaryDirectory() as tmp:
        for fmt in ("svg", "png", "pdf"):
            path = os.path.join(tmp, f"g.{fmt}")
            rows.append((f"write_graph .{fmt} (all)", lambda p=path: write_graph(graph, p)))
        print(f"{'phase':<26} {'cpu (best)':>10} {'wall (median)':>14}   [{args.runs} runs]")
        for name, fn in rows:
            fn()  # warm up (imports, matplotlib's font cache)
            cpu, wall = _timed(fn, args.runs)
            print(f"{name:<26} {cpu:>9.3f}s {wall:>13.3f}s")
        sizes_out = {f: os.path.getsize(os.path.join(tmp, f"g.{f}")) for f in ("svg", "png", "pdf")}
    print("file sizes: " + ", ".join(f"{f} {s / 1024:,.0f} KiB" for f, s in sizes_out.items()))


if __name__ == "__main__":
    main()
