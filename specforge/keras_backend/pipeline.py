"""In-memory training data as one ``tf.data`` pipeline for a whole ``fit``, shuffled per epoch.

specforge shuffles each epoch by a permutation drawn from ``(shuffle seed,
epoch)``, so that an epoch's order does not depend on the epochs before it and
a resumed run shuffles exactly as the uninterrupted one. Handing Keras the
permuted arrays meant a copy of the data set and a new ``fit`` call per epoch
(each call rebuilds Keras's input adapter, iterators and callbacks: about 80 ms
a call on 2 cores, more than a whole epoch of the California MLP takes with
``steps_per_execution``). Here the arrays become tensors once; each epoch the
permutation (drawn by NumPy from the shuffle seed and the epoch) is written into a
variable at the start of the epoch, and the pipeline gathers each batch's rows
by index, with the next batches prefetched while the model trains. One
``fit`` runs every epoch, so Keras's own epoch loop (early stopping, the
callbacks' epoch hooks, ``initial_epoch``) is unchanged.

Measured against Keras's own array input on the chapter's MLPs (2 cores,
docs/benchmarks.md): the same batches in the same order, and faster per
epoch, because Keras's adapter also gathers per batch but without prefetch.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np


def _as_tensor_ready(a: Any) -> np.ndarray:
    """``a`` as an array of the dtype Keras's own array input would give the model."""
    a = np.asarray(a)
    if a.dtype.kind == "f" and a.dtype != np.float32:  # Keras casts floats to floatx
        return a.astype(np.float32)
    return a


def _structure(data: Any) -> Any:
    """Arrays as tf.data wants them: a list of several inputs becomes a tuple."""
    if isinstance(data, list | tuple):
        return tuple(_as_tensor_ready(a) for a in data)
    return _as_tensor_ready(data)


def shuffled_epochs(
    keras: Any,
    xs: Any,
    ys: Any,
    *,
    batch_size: int,
    order_of: Callable[[int], np.ndarray],
) -> tuple[Any, Any]:
    """A ``tf.data`` dataset of one epoch's batches, and the Keras callback that orders each epoch.

    ``order_of(epoch)`` gives the sample indices of ``epoch`` in the order to
    train them. The callback writes them into the pipeline's index variable at
    the start of each epoch, before Keras opens the epoch's iterator; the
    dataset declares its number of batches, so Keras iterates it once per epoch
    and the last batch of an epoch may be short, as with arrays.
    """
    import tensorflow as tf

    x, y = _structure(xs), _structure(ys)
    first = x[0] if isinstance(x, tuple) else x
    n = len(first)
    batches = -(-n // batch_size)
    order = tf.Variable(tf.range(n, dtype=tf.int64), trainable=False, name="specforge_order")

    def rows(b: Any) -> Any:
        start = b * batch_size
        return order[start : tf.minimum(start + batch_size, n)]

    def gather(index: Any, data: Any) -> Any:
        return tf.nest.map_structure(lambda t: tf.gather(t, index), data)

    # The arrays enter the pipeline as one dataset element repeated (not as
    # constants captured in a function), as Keras's own adapter does: no 2 GB
    # graph limit, one copy in memory.
    data = tf.data.Dataset.from_tensors((x, y)).repeat()
    index = tf.data.Dataset.range(batches).map(rows)
    dataset = tf.data.Dataset.zip((index, data)).map(
        gather, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True
    )
    dataset = dataset.prefetch(tf.data.AUTOTUNE).apply(
        tf.data.experimental.assert_cardinality(batches)
    )

    class Reorder(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
            order.assign(np.asarray(order_of(epoch), dtype=np.int64))

    return dataset, Reorder()
