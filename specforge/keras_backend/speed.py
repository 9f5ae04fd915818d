"""Fast defaults for Keras training: how many batches run per call into TensorFlow.

Keras runs one Python → TensorFlow round trip per batch by default; with
``steps_per_execution=N`` one call runs N batches in a TensorFlow loop. The
arithmetic is the same (same batches, same order, same updates), so losses
and metrics equal plain ``fit``'s; callbacks' batch hooks run once per chunk,
with the chunk's last batch index. Measured on 2 cores (docs/benchmarks.md):
32 batches per call cut an epoch of the chapter's MLPs to 0.3-0.55x of
plain ``fit``, 128 to 0.25-0.5x; the gain is the per-call overhead, so a
small model gains most. ``auto`` therefore takes as many batches as an
estimated compute budget per call allows (the progress bar and Ctrl-C act
between calls), up to 128. XLA (``jit_compile``) was slower on CPU.
"""

from __future__ import annotations

import math
from typing import Any

#: The most batches ``auto`` runs per call.
MAX_AUTO = 128

#: Estimated floating-point operations ``auto`` allows one call (a chunk of
#: batches): about a tenth of a second on 2 CPU cores, so the progress bar
#: moves and Ctrl-C stops within a fraction of a second on a CPU.
CHUNK_FLOPS = 4e9


def step_flops(model: Any, batch_size: int) -> float:
    """A rough cost of one training step: 6 x weights x positions each weight is applied at.

    A weight is used twice forward (multiply, add) and about twice that
    backward, once per sample and per position of its layer's output other
    than the channels (1 for Dense, H x W for a 2-D convolution). An estimate,
    not a count: it only has to tell a tiny MLP from a wide network.
    """
    total = 0.0
    for layer in getattr(model, "layers", ()):
        params = layer.count_params() if getattr(layer, "built", False) else 0
        if not params:
            continue
        try:
            shape = tuple(layer.output.shape)
        except (AttributeError, ValueError):
            shape = ()
        positions = math.prod(int(d) for d in shape[1:-1] if d) if len(shape) > 2 else 1
        total += params * max(1, positions)
    return 6.0 * total * batch_size


def auto_steps_per_execution(batches: int, flops_per_step: float | None = None) -> int:
    """Batches per call for an epoch of ``batches`` batches.

    As many as fit in :data:`CHUNK_FLOPS` (up to :data:`MAX_AUTO`), never
    more than the epoch has: under the limit, the whole epoch is one call.
    The last chunk of an epoch runs whatever is left (Keras stops the loop at
    the end of the data), so nothing is padded or dropped.
    """
    cap = MAX_AUTO
    if flops_per_step:
        cap = max(1, min(MAX_AUTO, int(CHUNK_FLOPS // flops_per_step)))
    return max(1, min(cap, int(batches)))


def resolve_steps_per_execution(
    setting: int | str | None,
    samples: int,
    batch_size: int,
    flops_per_step: float | None = None,
) -> int | None:
    """The number for ``setting`` (``auto`` or a number); None: the model's own (as compiled)."""
    if setting is None:
        return None
    if setting == "auto":
        return auto_steps_per_execution(math.ceil(samples / batch_size), flops_per_step)
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


#: Multiply-adds of the largest layer's product per step below which TensorFlow
#: runs each op on one thread (:func:`tune_threads`).
SMALL_OP_MACS = 1e7


def largest_op_macs(graph: Any, batch_size: int) -> float:
    """Multiply-adds of the costliest layer in one step: weights x positions x batch.

    From the checked graph (no model needed): a Dense layer's weights are applied
    once per sample, a convolution's at every output position (the output shape
    but its channels).
    """
    largest = 0.0
    for node in getattr(graph, "nodes", ()):
        weights = node.param_count.total
        if not weights:
            continue
        shape = tuple(node.output_shape)
        positions = math.prod(int(d) for d in shape[:-1] if d) if len(shape) > 1 else 1
        largest = max(largest, float(weights) * max(1, positions) * batch_size)
    return largest


def tune_threads(graph: Any, batch_size: int) -> dict[str, int] | None:
    """One thread per op, ops side by side, for a model whose products are all small.

    TensorFlow splits every op over all cores by default. For the chapter's
    MLPs at batch 32 (the largest product 32 x 784 x 300, 7.5 M multiply-adds)
    splitting costs more than it gains: on 2 cores an epoch of the
    Fashion-MNIST MLP took 1.10 s with one thread per op against 1.33-1.45 s
    (docs/benchmarks.md); at batch 64 (15 M) the default was faster again. So
    under :data:`SMALL_OP_MACS` this sets one intra-op thread and one inter-op
    thread per core. It changes TensorFlow's process-wide settings, so only
    ``specforge train`` calls it, before TensorFlow starts; it does nothing
    where TensorFlow has already run an op, or where the user set
    ``TF_NUM_INTRAOP_THREADS``/``TF_NUM_INTEROP_THREADS``. Returns what it
    set, or None.
    """
    import os

    if largest_op_macs(graph, batch_size) >= SMALL_OP_MACS:
        return None
    if os.environ.get("TF_NUM_INTRAOP_THREADS") or os.environ.get("TF_NUM_INTEROP_THREADS"):
        return None
    import tensorflow as tf

    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cores = os.cpu_count() or 1
    try:
        tf.config.threading.set_intra_op_parallelism_threads(1)
        tf.config.threading.set_inter_op_parallelism_threads(cores)
    except RuntimeError:  # TensorFlow has started: its settings are fixed
        return None
    return {"intra_op": 1, "inter_op": cores}
