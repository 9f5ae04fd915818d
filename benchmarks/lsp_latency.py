"""How long after an edit does an editor show the new diagnostics? ``specforge lsp`` on a big spec.

A real LSP client (pygls's) starts ``python -m specforge lsp`` over stdio, opens a
generated chain of 1,000 Dense nodes (64 KB), and makes N edits to one node in
the middle, alternately breaking its type (``Dense`` -> ``Dens``: one error) and
mending it (no diagnostics). Each latency is the wall time from sending the
``didChange`` to receiving the ``publishDiagnostics`` of that version. Edits
are spaced further apart than the debounce, as a person makes single edits,
so each is checked at once (the leading edge); target: median and p95 <= 100 ms.

It also times a burst (typing: 10 edits 20 ms apart), whose last edit is checked
once the burst pauses for the debounce (150 ms), and the in-process floor:
``check_text`` on the same text, which is what the server spends most of its
time in.

    python benchmarks/lsp_latency.py [--nodes N] [--edits N] [--gap S] [--check]

Results go to stdout; record them in docs/benchmarks.md under "Language server".
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import sys
import time
from pathlib import Path

from lsprotocol import types
from pygls.lsp.client import LanguageClient

ROOT = Path(__file__).resolve().parent.parent
TARGET_MS = 100.0


def chain_spec(n: int) -> str:
    """A spec of ``n`` Dense nodes in a chain (as benchmarks/validate_speed.py writes it)."""
    lines = [
        "specforge: 2",
        f"name: chain_{n}",
        "inputs:",
        "  - {name: x, shape: [16]}",
        "nodes:",
        *(f"  - {{name: dense_{i}, type: Dense, units: 16, activation: relu}}" for i in range(n)),
        "outputs:",
        f"  - {{node: dense_{n - 1}, loss: mse}}",
        "optimizer: {type: adam}",
        "",
    ]
    return "\n".join(lines)


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _process_cpu(pid: int | None) -> float:
    """CPU seconds (user + system) the server process has used so far (Linux; else 0)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return 0.0


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


class Bench:
    def __init__(self) -> None:
        self.client = LanguageClient("lsp-latency", "1")
        self.arrived: dict[int, tuple[float, int]] = {}
        self.event = asyncio.Event()

        @self.client.feature(types.WINDOW_LOG_MESSAGE)
        def logged(params: types.LogMessageParams) -> None:
            print(f"server log: {params.message}", file=sys.stderr)

        @self.client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        def published(params: types.PublishDiagnosticsParams) -> None:
            if params.version is not None:
                self.arrived[params.version] = (time.perf_counter(), len(params.diagnostics))
                self.event.set()

    async def wait_for(self, version: int, timeout: float = 30) -> tuple[float, int]:
        deadline = time.monotonic() + timeout
        while version not in self.arrived:
            self.event.clear()
            await asyncio.wait_for(self.event.wait(), max(deadline - time.monotonic(), 0.001))
        return self.arrived[version]

    def change_lines(self, uri: str, version: int, first: int, last: int, text: str) -> None:
        """Replace lines ``first`` to ``last`` (exclusive) with ``text``."""
        self.client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
                content_changes=[
                    types.TextDocumentContentChangePartial(
                        range=types.Range(
                            start=types.Position(line=first, character=0),
                            end=types.Position(line=last, character=0),
                        ),
                        text=text,
                    )
                ],
            )
        )

    def change(self, uri: str, version: int, line: int, start: int, end: int, text: str) -> None:
        self.client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
                content_changes=[
                    types.TextDocumentContentChangePartial(
                        range=types.Range(
                            start=types.Position(line=line, character=start),
                            end=types.Position(line=line, character=end),
                        ),
                        text=text,
                    )
                ],
            )
        )


async def run(nodes: int, edits: int, gap: float) -> dict[str, object]:
    text = chain_spec(nodes)
    bench = Bench()
    client = bench.client
    env = dict(os.environ)
    await client.start_io(
        sys.executable,
        "-m",
        "specforge",
        "lsp",
        cwd=str(ROOT),
        env=env,
    )
    await client.initialize_async(types.InitializeParams(capabilities=types.ClientCapabilities()))
    client.initialized(types.InitializedParams())
    uri = (ROOT / f"chain_{nodes}.yaml").as_uri()
    t0 = time.perf_counter()
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(uri=uri, language_id="yaml", version=1, text=text)
        )
    )
    t_open, _ = await bench.wait_for(1)
    open_ms = (t_open - t0) * 1000

    pid = client._server.pid if client._server is not None else None
    cpu: dict[str, float] = {}

    # The `type: Dense` of the middle node: characters 23-28 of its line.
    line = 5 + nodes // 2
    start = text.splitlines()[line].index("Dense")
    version = 1
    single: list[tuple[float, int]] = []
    cpu0 = _process_cpu(pid)
    for k in range(edits):
        await asyncio.sleep(gap)
        version += 1
        broken = k % 2 == 0
        sent = time.perf_counter()
        bench.change(
            uri, version, line, start, start + (5 if broken else 4), "Dens" if broken else "Dense"
        )
        arrived, count = await bench.wait_for(version)
        assert count == (1 if broken else 0), (version, count)
        single.append(((arrived - sent) * 1000, count))
    cpu["single"] = (_process_cpu(pid) - cpu0) * 1000 / edits

    # Edits that add or remove a line (a new node after the middle one, then gone again):
    # the new line is parsed alone and everything below it moves down or up.
    structural: list[float] = []
    cpu0 = _process_cpu(pid)
    new_node = "  - {name: extra, type: Dense, units: 16, activation: relu, inputs: [x]}\n"
    for k in range(edits):
        await asyncio.sleep(gap)
        version += 1
        sent = time.perf_counter()
        if k % 2 == 0:
            bench.change(uri, version, line + 1, 0, 0, new_node)
        else:
            bench.change_lines(uri, version, line + 1, line + 2, "")
        arrived, _ = await bench.wait_for(version)
        structural.append((arrived - sent) * 1000)
    cpu["structural"] = (_process_cpu(pid) - cpu0) * 1000 / edits

    # A burst: 10 edits 20 ms apart to the units of the same node (16 -> 1 -> 16 ...).
    await asyncio.sleep(gap)
    units = text.splitlines()[line].index("16")
    current = "16"
    for k in range(10):
        version += 1
        new = "1" if current == "16" else "16"
        last_sent = time.perf_counter()
        bench.change(uri, version, line, units, units + len(current), new)
        current = new
        if k < 9:
            await asyncio.sleep(0.02)
    arrived, _ = await bench.wait_for(version)
    burst_ms = (arrived - last_sent) * 1000
    checks_in_burst = sum(1 for v in bench.arrived if version - 9 <= v <= version)

    await client.shutdown_async(None)
    client.exit(None)
    await client.stop()

    # The floor: the check itself, in process.
    from specforge.api import check_text

    check_text(text, "chain.yaml")
    floor = []
    for _ in range(7):
        t = time.perf_counter()
        check_text(text, "chain.yaml")
        floor.append((time.perf_counter() - t) * 1000)

    all_ms = [ms for ms, _ in single]
    return {
        "nodes": nodes,
        "bytes": len(text.encode()),
        "open_ms": open_ms,
        "all": all_ms,
        "broken": [ms for ms, c in single if c],
        "fixed": [ms for ms, c in single if not c],
        "structural": structural,
        "cpu": cpu,
        "burst_ms": burst_ms,
        "checks_in_burst": checks_in_burst,
        "floor_ms": statistics.median(floor),
    }


def _row(name: str, values: list[float]) -> str:
    return (
        f"  {name:<22} n={len(values):<3} median {statistics.median(values):6.1f} ms   "
        f"p95 {_percentile(values, 0.95):6.1f} ms   min {min(values):6.1f}   max {max(values):6.1f}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nodes", type=int, default=1000)
    parser.add_argument("--edits", type=int, default=60)
    parser.add_argument("--gap", type=float, default=0.25, help="seconds between single edits")
    parser.add_argument("--check", action="store_true", help="exit 1 if a target is missed")
    args = parser.parse_args()
    r = asyncio.run(run(args.nodes, args.edits, args.gap))
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(
        f"machine: {cores} cores ({_cpu_model()}), Python {platform.python_version()}, "
        f"load average {os.getloadavg()[0]:.2f}"
    )
    print(f"spec: a chain of {r['nodes']:,} Dense nodes, {r['bytes']:,} bytes")
    print(f"didOpen -> publishDiagnostics: {r['open_ms']:.1f} ms (first check, plugins loaded)")
    print("didChange -> publishDiagnostics, edits within the middle node's line (checked at once):")
    cpu = r["cpu"]
    print(_row("all edits", r["all"]))  # type: ignore[arg-type]
    print(_row("breaking (1 error)", r["broken"]))  # type: ignore[arg-type]
    print(_row("mending (clean)", r["fixed"]))  # type: ignore[arg-type]
    print("didChange -> publishDiagnostics, adding/removing a node's line (checked at once):")
    print(_row("line edits", r["structural"]))  # type: ignore[arg-type]
    print(
        f"server CPU per edit (user + system): {cpu['single']:.1f} ms within a line, "  # type: ignore[index]
        f"{cpu['structural']:.1f} ms adding/removing a line"  # type: ignore[index]
    )
    print(
        f"burst of 10 edits 20 ms apart: last edit -> diagnostics {r['burst_ms']:.1f} ms "
        f"(debounce 150 ms + one check); {r['checks_in_burst']} of 10 versions checked"
    )
    print(f"in-process check_text on the same text: {r['floor_ms']:.1f} ms (median of 7)")
    ok = True
    for name in ("all", "structural"):
        median = statistics.median(r[name])  # type: ignore[arg-type]
        p95 = _percentile(r[name], 0.95)  # type: ignore[arg-type]
        met = median <= TARGET_MS and p95 <= TARGET_MS
        ok &= met
        print(
            f"target ({'single edits' if name == 'all' else 'line edits'}): median and p95 <= "
            f"{TARGET_MS:.0f} ms: {'met' if met else 'MISSED'} (median {median:.1f} ms, p95 {p95:.1f} ms)"
        )
    return 0 if ok or not args.check else 1


if __name__ == "__main__":
    sys.exit(main())
