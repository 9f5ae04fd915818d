"""Training callbacks: progress, NaN guard, Ctrl-C, early stopping, checkpoints.

Each is a :class:`specforge.plugin.TrainingCallback`, so they work with every
backend: a backend calls them after each batch and epoch and stops when one
returns True.
"""

from __future__ import annotations

import contextlib
import math
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any, TextIO

from ..plugin import TrainingCallback


def _finite(value: Any) -> bool:
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError):
        return True  # not a number: not ours to judge


def format_value(value: Any) -> str:
    """Four decimals for ordinary figures, four significant digits for huge or tiny ones."""
    v = float(value)
    return f"{v:.4f}" if v == 0 or not math.isfinite(v) or 1e-3 <= abs(v) < 1e6 else f"{v:.4g}"


def format_logs(logs: Mapping[str, float]) -> str:
    return " - ".join(f"{k}: {format_value(v)}" for k, v in logs.items())


class Recorder(TrainingCallback):
    """Keeps every finished epoch's logs: the history, even if ``fit`` never returns."""

    def __init__(self) -> None:
        self.history: dict[str, list[float]] = {}
        self.epochs = 0

    def on_epoch_end(self, epoch: int, logs: Mapping[str, float]) -> bool:
        for k, v in logs.items():
            self.history.setdefault(k, []).append(float(v))
        self.epochs += 1
        return False


class Heartbeat(TrainingCallback):
    """Tells a multi-worker run's watchdog that the cluster still makes progress."""

    def __init__(self, watchdog: Any) -> None:
        self.watchdog = watchdog

    def on_epoch_begin(self, epoch: int) -> None:
        self.watchdog.beat()

    def on_batch_end(self, epoch: int, batch: int, logs: Mapping[str, float]) -> bool:
        self.watchdog.beat()
        return False

    def on_epoch_end(self, epoch: int, logs: Mapping[str, float]) -> bool:
        self.watchdog.beat()
        return False


class Guard(TrainingCallback):
    """Stops on a NaN or infinite loss, and after the current batch on Ctrl-C.

    ``interrupted`` is set by the SIGINT handler that :func:`sigint_stops`
    installs (or by anything else: a test, a GUI's stop button).
    """

    def __init__(self, output_names: list[str]) -> None:
        self.outputs = list(output_names)
        self.interrupted = False
        #: (epoch, batch), 1-based, where training stopped for the interrupt.
        self.interrupted_at: tuple[int, int | None] | None = None
        self.diverged: dict[str, Any] | None = None

    def _output_of(self, key: str) -> str:
        base = key.removeprefix("val_")
        for name in sorted(self.outputs, key=len, reverse=True):
            if base.startswith(f"{name}_"):
                return name
        return self.outputs[0] if len(self.outputs) == 1 else "all outputs (total loss)"

    def _check(self, epoch: int, batch: int | None, logs: Mapping[str, float]) -> bool:
        bad = [k for k, v in logs.items() if not _finite(v)]
        if not bad:
            return False
        # Name an output whose own loss went (the first in the spec's order); the
        # total follows from it.
        own = [k for name in self.outputs for k in (f"{name}_loss", f"val_{name}_loss") if k in bad]
        key = (own or [k for k in bad if k.endswith("loss")] or bad)[0]
        self.diverged = {
            "epoch": epoch + 1,
            "batch": None if batch is None else batch + 1,
            "key": key,
            "value": float(logs[key]),
            "output": self._output_of(key),
        }
        return True

    def _stop_for_interrupt(self, epoch: int, batch: int | None) -> bool:
        if self.interrupted and self.interrupted_at is None:
            self.interrupted_at = (epoch + 1, None if batch is None else batch + 1)
        return self.interrupted

    def on_batch_end(self, epoch: int, batch: int, logs: Mapping[str, float]) -> bool:
        return self._stop_for_interrupt(epoch, batch) or self._check(epoch, batch, logs)

    def on_epoch_end(self, epoch: int, logs: Mapping[str, float]) -> bool:
        if self._stop_for_interrupt(epoch, None):
            return True
        return self.diverged is None and self._check(epoch, None, logs)

    def message(self) -> str | None:
        d = self.diverged
        if d is None:
            return None
        where = f"epoch {d['epoch']}" + (f", batch {d['batch']}" if d["batch"] else "")
        value = "NaN" if math.isnan(d["value"]) else str(d["value"])
        what = (
            f"the loss of output '{d['output']}'"
            if "total" not in d["output"]
            else "the total loss"
        )
        return f"training diverged at {where}: {what} ({d['key']}) is {value}"


class Interrupts:
    """What Ctrl-C does while :func:`sigint_stops` is active.

    The first Ctrl-C asks the guard to stop after the current batch; a second
    raises KeyboardInterrupt at once, except inside :meth:`deferred`, where it
    is only noted: the writes that make a run directory whole (the model,
    ``metrics.json``) always finish.
    """

    def __init__(self, guard: Guard) -> None:
        self.guard = guard
        self._deferring = 0

    def handler(self, signum: int, frame: Any) -> None:
        if self.guard.interrupted and not self._deferring:
            raise KeyboardInterrupt
        self.guard.interrupted = True

    @contextlib.contextmanager
    def deferred(self) -> Iterator[None]:
        """Within the block, every Ctrl-C only sets ``guard.interrupted``."""
        self._deferring += 1
        try:
            yield
        finally:
            self._deferring -= 1


@contextlib.contextmanager
def sigint_stops(guard: Guard) -> Iterator[Interrupts]:
    """While active, Ctrl-C asks ``guard`` to stop after the current batch.

    A second Ctrl-C raises KeyboardInterrupt at once (but not inside the
    yielded :meth:`Interrupts.deferred`). The previous handler is restored
    afterwards. Outside the main thread (where signals cannot be handled) this
    installs nothing.
    """
    interrupts = Interrupts(guard)
    if threading.current_thread() is not threading.main_thread():
        yield interrupts
        return
    previous = signal.signal(signal.SIGINT, interrupts.handler)
    try:
        yield interrupts
    finally:
        signal.signal(signal.SIGINT, previous)


def monitor_mode(monitor: str, mode: str) -> str:
    """Keras's rule for mode 'auto': maximise accuracy-like keys, minimise the rest."""
    if mode != "auto":
        return mode
    key = monitor.removeprefix("val_")
    return "max" if any(w in key for w in ("acc", "auc", "precision", "recall")) else "min"


class _Monitor:
    def __init__(
        self,
        monitor: str,
        mode: str,
        min_delta: float = 0.0,
        warn: Callable[[str], None] | None = None,
    ):
        self.monitor = monitor
        self.mode = monitor_mode(monitor, mode)
        self.min_delta = min_delta
        self.best: float | None = None
        self.best_epoch: int | None = None
        self._warn = warn
        self._warned = False

    def improved(self, epoch: int, logs: Mapping[str, float]) -> bool | None:
        """True if this epoch is the best so far; None if the key is missing."""
        if self.monitor not in logs:
            if not self._warned and self._warn is not None:
                self._warn(
                    f"warning: '{self.monitor}' is not in the training logs ({', '.join(logs)}); it is ignored"
                )
            self._warned = True
            return None
        value = float(logs[self.monitor])
        if not math.isfinite(value):
            return False
        if self.best is None:
            better = True
        elif self.mode == "min":
            better = value < self.best - self.min_delta
        else:
            better = value > self.best + self.min_delta
        if better:
            self.best, self.best_epoch = value, epoch + 1
        return better


class EarlyStopping(TrainingCallback):
    """Stops when ``monitor`` has not improved for ``patience`` epochs; keeps the best weights."""

    def __init__(
        self, spec: Any, backend: Any, model: Any, warn: Callable[[str], None] | None = None
    ):
        self.watch = _Monitor(spec.monitor, spec.mode, spec.min_delta, warn)
        self.patience = spec.patience
        self.restore_best = spec.restore_best
        self.backend, self.model = backend, model
        self.wait = 0
        self.stopped_epoch: int | None = None
        self.best_weights: dict[str, list[Any]] | None = None

    def on_epoch_end(self, epoch: int, logs: Mapping[str, float]) -> bool:
        improved = self.watch.improved(epoch, logs)
        if improved is None:
            return False
        if improved:
            self.wait = 0
            if self.restore_best:
                import numpy as np

                weights = self.backend.get_weights(self.model)
                self.best_weights = {
                    k: [np.array(w, copy=True) for w in ws] for k, ws in weights.items()
                }
            return False
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = epoch + 1
            return True
        return False

    def restore(self, epochs_run: int) -> bool:
        """Put the best epoch's weights back (if it was not the last one)."""
        if (
            self.restore_best
            and self.best_weights is not None
            and self.watch.best_epoch != epochs_run
        ):
            self.backend.set_weights(self.model, self.best_weights)
            return True
        return False


class Checkpoint(TrainingCallback):
    """Saves the model whenever ``monitor`` improves: the best model is always on disk."""

    def __init__(
        self,
        spec: Any,
        backend: Any,
        model: Any,
        path: Any,
        warn: Callable[[str], None] | None = None,
    ):
        self.watch = _Monitor(spec.monitor, spec.mode, 0.0, warn)
        self.backend, self.model, self.path = backend, model, path
        self.saved = False

    def on_epoch_end(self, epoch: int, logs: Mapping[str, float]) -> bool:
        if self.watch.improved(epoch, logs):
            self.backend.save(self.model, str(self.path))
            self.saved = True
        return False


class Progress(TrainingCallback):
    """A tqdm bar per epoch in a terminal; one plain line per epoch otherwise; nothing when quiet."""

    def __init__(
        self, epochs: int, batches: int, *, mode: str = "auto", stream: TextIO | None = None
    ):
        self.stream = stream or sys.stderr
        if mode == "auto":
            mode = "bar" if getattr(self.stream, "isatty", lambda: False)() else "lines"
        self.mode = mode
        self.epochs, self.batches = epochs, batches
        self._bar: Any = None
        self._start = 0.0

    def on_epoch_begin(self, epoch: int) -> None:
        self._start = time.perf_counter()
        if self.mode == "bar":
            import shutil

            from tqdm import tqdm

            # shutil falls back to 100×20 for a terminal that reports no size, where
            # tqdm's own detection (0 rows) would hide the bar altogether.
            size = shutil.get_terminal_size((100, 20))
            self._bar = tqdm(
                total=self.batches,
                desc=f"epoch {epoch + 1}/{self.epochs}",
                unit="batch",
                file=self.stream,
                leave=True,
                ncols=min(size.columns, 120),
                nrows=max(size.lines, 2),
                mininterval=0.2,
            )

    def on_batch_end(self, epoch: int, batch: int, logs: Mapping[str, float]) -> bool:
        # ``batch`` is the index of the last batch done: a backend that runs several
        # batches per call (Keras's steps_per_execution) reports once per chunk.
        if self._bar is not None:
            done = min(batch + 1, self.batches) if self.batches else batch + 1
            step = done - self._bar.n
            if step > 0:
                self._bar.update(step)
            if "loss" in logs and (step >= 10 or batch % 10 == 0 or done == self.batches):
                self._bar.set_postfix_str(f"loss {format_value(logs['loss'])}", refresh=False)
        return False

    def on_epoch_end(self, epoch: int, logs: Mapping[str, float]) -> bool:
        seconds = time.perf_counter() - self._start
        if self._bar is not None:
            shown = {k: v for k, v in logs.items() if k in ("loss", "val_loss")}
            self._bar.set_postfix_str(
                " ".join(f"{k} {format_value(v)}" for k, v in shown.items()), refresh=True
            )
            self._bar.close()
            self._bar = None
        elif self.mode == "lines":
            print(
                f"epoch {epoch + 1}/{self.epochs} - {format_logs(logs)} - {seconds:.1f}s",
                file=self.stream,
                flush=True,
            )
        return False

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
