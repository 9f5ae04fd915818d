"""``specforge plugins --check``: load each installed plugin in a process of its own.

A plugin that hangs at import hangs every command that loads it; run in a
child process with a timeout, it is named instead, along with the plugins that
fail. The parent never imports a third-party plugin itself, so the check
cannot hang.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from typing import Any

#: The child's code: load one entry point and run its registry hooks, then
#: print one JSON line (everything the plugin prints goes to stderr).
_CHILD = "from specforge.plugin_check import _child; _child()"


@dataclass
class PluginCheck:
    """How one installed plugin fared, loaded alone."""

    name: str
    distribution: str
    version: str
    #: ``ok``, ``failed`` (with ``stage`` and ``message``) or ``hangs``.
    outcome: str
    seconds: float
    stage: str | None = None
    message: str | None = None
    #: Skipped by SPECFORGE_DISABLE_PLUGINS or --no-plugins in normal commands.
    disabled: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def check_plugins(timeout: float = 10.0) -> list[PluginCheck]:
    """Load every ``specforge`` entry point in its own process, all at once; a
    process still running after ``timeout`` seconds is stopped and its plugin
    reported as hanging."""
    from .registry import _disabled, _dist_of, _entry_points, _norm, current_settings

    all_off, skip = _disabled(current_settings())
    skip_norm = {_norm(s) for s in skip}
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    running = []
    for ep in _entry_points():
        dist, version = _dist_of(ep)
        disabled = all_off or ep.name in skip or _norm(dist) in skip_norm
        proc = subprocess.Popen(
            [sys.executable, "-c", _CHILD, ep.name],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env=env,
        )
        running.append((ep.name, dist, version, disabled, proc, time.perf_counter()))
    results = []
    for name, dist, version, disabled, proc, started in running:
        left = max(0.0, timeout - (time.perf_counter() - started))
        try:
            out, _ = proc.communicate(timeout=left)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            results.append(
                PluginCheck(name, dist, version, "hangs", round(timeout, 3), disabled=disabled)
            )
            continue
        seconds = round(time.perf_counter() - started, 3)
        report = _last_json_line(out)
        if report is None:
            results.append(
                PluginCheck(
                    name,
                    dist,
                    version,
                    "failed",
                    seconds,
                    "import",
                    f"the check process ended with exit code {proc.returncode} and no report",
                    disabled,
                )
            )
            continue
        results.append(
            PluginCheck(
                name,
                dist,
                version,
                report["outcome"],
                seconds,
                report.get("stage"),
                report.get("message"),
                disabled,
            )
        )
    return results


def _last_json_line(text: str) -> dict[str, Any] | None:
    for line in reversed(text.splitlines()):
        try:
            data = json.loads(line)
        except ValueError:
            continue
        if isinstance(data, dict) and "outcome" in data:
            return data
    return None


def _child() -> None:  # pragma: no cover - runs in the child process
    from . import isolation
    from .registry import DISABLE_ENV, _describe, _entry_points, load_registry

    name = sys.argv[1]
    report: dict[str, Any] = {"outcome": "ok"}
    try:
        ep = next(e for e in _entry_points() if e.name == name)
        with isolation.output_to_stderr(name), isolation.watch(name, "import", DISABLE_ENV):
            plugin = ep.load()
    except BaseException as exc:
        isolation.reraise_interrupt(exc)
        report = {"outcome": "failed", "stage": "import", "message": _describe(exc)}
    else:
        reg = load_registry([(name, plugin)], entry_points=False)
        problems = [p for p in reg.problems if p.plugin == name]
        if problems:
            report = {
                "outcome": "failed",
                "stage": problems[0].stage,
                "message": "; ".join(p.message for p in problems),
            }
    print(json.dumps(report), flush=True)
