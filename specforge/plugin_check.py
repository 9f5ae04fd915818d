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
#: The line a check process prints once Python and specforge are loaded.
_READY = "specforge-plugin-check: ready"


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


#: Seconds a check process may take to start Python and specforge, before the
#: plugin's own timeout starts (a loaded machine can be slow to start Python).
STARTUP_LIMIT = 120.0


class _Child:
    """One check process, with a thread reading its stdout as it comes."""

    def __init__(self, name: str, dist: str, version: str, disabled: bool, env: dict[str, str]):
        import threading

        self.name, self.dist, self.version, self.disabled = name, dist, version, disabled
        self.started = time.perf_counter()
        self.ready: float | None = None
        self.lines: list[str] = []
        self.proc = subprocess.Popen(
            [sys.executable, "-c", _CHILD, name],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env=env,
        )
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if line.strip() == _READY and self.ready is None:
                self.ready = time.perf_counter()
            else:
                self.lines.append(line)

    def result(self, outcome: str, seconds: float, stage: str | None, message: str | None):
        return PluginCheck(
            self.name,
            self.dist,
            self.version,
            outcome,
            round(seconds, 3),
            stage,
            message,
            self.disabled,
        )


def check_plugins(timeout: float = 10.0) -> list[PluginCheck]:
    """Load every ``specforge`` entry point in its own process, all at once.

    A plugin still loading ``timeout`` seconds after its process was ready to
    load it (Python and specforge imported) is stopped and reported as hanging.
    """
    from .registry import _disabled, _dist_of, _entry_points, _norm, current_settings

    all_off, skip = _disabled(current_settings())
    skip_norm = {_norm(s) for s in skip}
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    children = []
    for ep in _entry_points():
        dist, version = _dist_of(ep)
        disabled = all_off or ep.name in skip or _norm(dist) in skip_norm
        children.append(_Child(ep.name, dist, version, disabled, env))
    results: dict[str, PluginCheck] = {}
    while len(results) < len(children):
        now = time.perf_counter()
        for child in children:
            if child.name in results:
                continue
            if child.proc.poll() is not None:
                child.reader.join()
                results[child.name] = _finished(child, now)
            elif child.ready is not None and now - child.ready > timeout:
                _stop(child)
                results[child.name] = child.result("hangs", timeout, None, None)
            elif child.ready is None and now - child.started > STARTUP_LIMIT:
                _stop(child)
                results[child.name] = child.result(
                    "failed", now - child.started, "import", "the check process did not start"
                )
        time.sleep(0.05)
    return [results[c.name] for c in children]


def _stop(child: _Child) -> None:
    child.proc.kill()
    child.proc.wait()
    child.reader.join()


def _finished(child: _Child, now: float) -> PluginCheck:
    seconds = now - (child.ready or child.started)
    report = _last_json_line("".join(child.lines))
    if report is None:
        return child.result(
            "failed",
            seconds,
            "import",
            f"the check process ended with exit code {child.proc.returncode} and no report",
        )
    return child.result(report["outcome"], seconds, report.get("stage"), report.get("message"))


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
    print(_READY, flush=True)
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
