"""The cluster of a distributed run, framework-free: TF_CONFIG, the chief, the watchdog.

``train.distribution.strategy: multi_worker`` reads the cluster from the
``TF_CONFIG`` environment variable, as TensorFlow's own tools do;
``specforge train --workers host:port,... --worker-index I`` writes it for you.
The chief (task ``chief``, else worker 0) alone writes the run directory; a
worker that stops hearing from the others for ``distribution.timeout`` seconds
ends the run with exit 2 rather than wait forever (docs/scale-out.md).
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

#: Default seconds a worker waits for the others (startup and every step) before failing.
DEFAULT_TIMEOUT_S = 300.0


class ClusterError(Exception):
    """TF_CONFIG or --workers/--worker-index that cannot describe a cluster (exit 2)."""

    def __init__(self, message: str, help: str | None = None):
        super().__init__(message)
        self.message, self.help = message, help


@dataclass(frozen=True)
class Cluster:
    """This process's place in a multi-worker run."""

    task_type: str
    task_index: int
    workers: int  # processes that train (chief included)
    chiefs: int = 0  # 1 where TF_CONFIG names a chief task, else 0 (worker 0 is the chief)

    @property
    def is_chief(self) -> bool:
        if self.task_type == "chief":
            return True
        return self.chiefs == 0 and self.task_index == 0

    @property
    def rank(self) -> int:
        """0 for the chief, then the workers in order."""
        return 0 if self.task_type == "chief" else self.task_index + self.chiefs


def tf_config_for(workers: Sequence[str], index: int) -> str:
    """The TF_CONFIG of worker ``index`` in a cluster of ``workers`` (``host:port`` each)."""
    addresses = [w.strip() for w in workers if w.strip()]
    if not addresses:
        raise ClusterError("--workers is empty", "give host:port of every worker, comma-separated")
    for a in addresses:
        host, _, port = a.rpartition(":")
        if not host or not port.isdigit():
            raise ClusterError(
                f"--workers: '{a}' is not host:port", "e.g. --workers 10.0.0.1:2222,10.0.0.2:2222"
            )
    if not 0 <= index < len(addresses):
        raise ClusterError(
            f"--worker-index {index} is out of range for {len(addresses)} worker(s)",
            f"use 0 to {len(addresses) - 1}; worker 0 is the chief",
        )
    return json.dumps(
        {"cluster": {"worker": addresses}, "task": {"type": "worker", "index": index}}
    )


def read_cluster(environ: dict[str, str] | None = None) -> Cluster:
    """This process's :class:`Cluster` from ``TF_CONFIG``; a ClusterError if absent or malformed."""
    env = os.environ if environ is None else environ
    raw = env.get("TF_CONFIG")
    if not raw:
        raise ClusterError(
            "train.distribution.strategy is 'multi_worker' but TF_CONFIG is not set",
            "pass --workers host:port,... --worker-index I, or set TF_CONFIG (docs/scale-out.md)",
        )
    try:
        config = json.loads(raw)
        cluster = config["cluster"]
        task = config["task"]
        task_type, task_index = str(task["type"]), int(task["index"])
        chiefs = list(cluster.get("chief", []))
        workers = list(cluster.get("worker", []))
    except (ValueError, KeyError, TypeError, AttributeError) as e:
        raise ClusterError(
            f"TF_CONFIG is not a cluster description ({type(e).__name__}: {e})",
            'expected {"cluster": {"worker": ["host:port", ...]}, "task": {"type": "worker", "index": 0}}',
        ) from None
    if task_type not in ("chief", "worker"):
        raise ClusterError(
            f"TF_CONFIG task type '{task_type}' does not train",
            "specforge runs chief and worker tasks (no parameter servers, no evaluator)",
        )
    members = chiefs if task_type == "chief" else workers
    if not 0 <= task_index < len(members):
        raise ClusterError(
            f"TF_CONFIG task index {task_index} is out of range: the cluster has "
            f"{len(members)} {task_type} task(s)"
        )
    return Cluster(task_type, task_index, len(chiefs) + len(workers), len(chiefs))


class Watchdog:
    """Ends the process with exit 2 when no progress is reported for ``timeout`` seconds.

    TensorFlow's collectives can wait forever for a worker that died before
    joining; the watchdog bounds every wait. ``cleanup`` runs first (it removes
    the run's unfinished directory).
    """

    def __init__(
        self,
        timeout: float,
        what: str,
        cleanup: Callable[[], None] = lambda: None,
        exit_code: int = 2,
    ):
        self.timeout, self.what, self.cleanup, self.exit_code = timeout, what, cleanup, exit_code
        self._last = time.monotonic()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="specforge-watchdog", daemon=True)

    def __enter__(self) -> Watchdog:
        LOCAL_PHASE_OVER.set()  # from here on, only progress of the cluster counts
        touch_heartbeat()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()

    def beat(self) -> None:
        now = time.monotonic()
        if now - self._touched > 0.5:
            touch_heartbeat()
            self._touched = now
        self._last = now

    _touched = 0.0

    def _watch(self) -> None:
        while not self._stop.wait(min(1.0, self.timeout / 10)):
            idle = time.monotonic() - self._last
            if idle > self.timeout:
                print(
                    f"error: {self.what}: no progress from the cluster for {idle:.0f} s "
                    f"(train.distribution.timeout is {self.timeout:g} s): another worker "
                    "failed or never started",
                    file=sys.stderr,
                    flush=True,
                )
                print(
                    "  help: check every worker's log; restart all workers together",
                    file=sys.stderr,
                    flush=True,
                )
                try:
                    self.cleanup()
                finally:
                    os._exit(self.exit_code)


#: Set by :func:`supervise` in the worker process it starts: the heartbeat file.
HEARTBEAT_ENV = "SPECFORGE_HEARTBEAT"


#: Set when the worker joins the cluster: the local phase's heartbeat stops.
LOCAL_PHASE_OVER = threading.Event()


def touch_heartbeat() -> None:
    path = os.environ.get(HEARTBEAT_ENV)
    if path:
        with contextlib.suppress(OSError):
            os.utime(path)


def beat_while_local() -> None:
    """In a supervised worker: beat every second until it joins the cluster.

    Importing TensorFlow and loading the data take as long as they take; the
    timeout is about waiting for the other workers.
    """

    def run() -> None:
        while not LOCAL_PHASE_OVER.wait(1.0):
            touch_heartbeat()

    if os.environ.get(HEARTBEAT_ENV):
        threading.Thread(target=run, name="specforge-local-beat", daemon=True).start()


def register_stage(stage: str) -> None:
    """Tell the supervisor what to do with this worker's folder if it has to end it:
    a path (remove it) or the chief's JSON line (:func:`.chief.salvage_entry`)."""
    path = os.environ.get(HEARTBEAT_ENV)
    if path:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(stage + "\n")


def supervise(argv: list[str], timeout: float, what: str, salvage: Callable[[str], None]) -> int:
    """Run ``python -m specforge *argv`` as a worker and end it if it stops beating.

    A worker blocked inside TensorFlow (waiting for a peer that never joins) may
    hold the interpreter, so its own watchdog thread cannot run; this parent
    process can: after ``timeout`` seconds without a heartbeat it kills the
    worker, hands each folder the worker registered to ``salvage`` (removed, or
    the chief's published as failed if it holds a checkpoint:
    :func:`.chief.salvage_entry`) and returns 2. Otherwise it returns the
    worker's exit status.
    """
    import signal
    import subprocess
    import tempfile

    fd, beat = tempfile.mkstemp(prefix="specforge-heartbeat-")
    os.close(fd)
    env = dict(os.environ, **{HEARTBEAT_ENV: beat})
    child = subprocess.Popen([sys.executable, "-m", "specforge", *argv], env=env)
    try:
        while True:
            try:
                return child.wait(timeout=0.5)
            except subprocess.TimeoutExpired:
                pass
            except KeyboardInterrupt:
                child.send_signal(signal.SIGINT)
                continue
            idle = time.time() - os.stat(beat).st_mtime
            if idle > timeout:
                child.kill()
                child.wait()
                with open(beat, encoding="utf-8") as fh:
                    for stage in fh.read().split("\n"):
                        if stage:
                            salvage(stage)
                print(
                    f"error: {what}: no progress from the cluster for {idle:.0f} s "
                    f"(train.distribution.timeout is {timeout:g} s): another worker "
                    "failed or never started",
                    file=sys.stderr,
                    flush=True,
                )
                print(
                    "  help: check every worker's log; restart all workers together",
                    file=sys.stderr,
                    flush=True,
                )
                return 2
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        os.unlink(beat)


__all__ = [
    "DEFAULT_TIMEOUT_S",
    "HEARTBEAT_ENV",
    "Cluster",
    "ClusterError",
    "Watchdog",
    "read_cluster",
    "register_stage",
    "supervise",
    "tf_config_for",
    "touch_heartbeat",
]
