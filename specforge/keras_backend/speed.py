"""Fast defaults for Keras training: how many batches run per call into TensorFlow.

Keras runs one Python → TensorFlow round trip per batch by default; with
``steps_per_execution=N`` one call runs N batches in a TensorFlow loop. The
arithmetic is the same (same batches, same order, same updates), so losses
and metrics equal plain ``fit``'s; callbacks' batch hooks run once per chunk,
with the chunk's last batch index. Measured on 2 cores (docs/benchmarks.md):
8, 16 and 32 batches per call cut an epoch of the chapter's MLPs to
0.3-0.6x of plain ``fit``, larger values gained nothing more while making the
progress bar and Ctrl-C coarser; XLA (``jit_compile``) was slower on CPU.
"""

from __future__ import annotations

import math
from typing import Any

#: The most batches ``auto`` runs per call.
MAX_AUTO = 32


def auto_steps_per_execution(batches: int) -> int:
    """Batches per call for an epoch of ``batches`` batches: all of them, up to 32.

    Under 32 batches the whole epoch is one call. Above, 32 gives the last
    chunk of an epoch whatever is left (Keras stops the loop at the end of the
    data), so nothing is padded or dropped.
    """
    return max(1, min(MAX_AUTO, int(batches)))


def resolve_steps_per_execution(
    setting: int | str | None, samples: int, batch_size: int
) -> int | None:
    """The number for ``setting`` (``auto`` or a number); None: the model's own (as compiled)."""
    if setting is None:
        return None
    if setting == "auto":
        return auto_steps_per_execution(math.ceil(samples / batch_size))
    if isinstance(setting, bool) or not isinstance(setting, int) or setting < 1:
        raise ValueError(f"steps_per_execution must be 'auto' or an integer > 0, not {setting!r}")
    return setting


def set_steps_per_execution(model: Any, steps: int) -> None:
    """What ``model.compile(steps_per_execution=steps)`` sets, without recompiling.

    The compiled loss, metrics and optimizer state stay as they are, and so
    does the compile configuration saved with the model (a ``.keras`` file
    loads with Keras's default of 1). Keras traces its functions again for
    the new value.
    """
    if getattr(model, "steps_per_execution", 1) == steps:
        return
    model.steps_per_execution = steps
    model.train_function = model.test_function = model.predict_function = None
