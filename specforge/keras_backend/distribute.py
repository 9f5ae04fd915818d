"""tf.distribute for the Keras backend: the strategy of ``train.distribution`` and its input.

The model is built and compiled inside the strategy's scope (Keras then fits
with that strategy). Input is sharded explicitly by data: every global batch of
``batch_size`` samples (the same batches, in the same order, a single-device run
draws) is cut into one contiguous piece per replica; worker ``w`` reads only its
replicas' pieces and TensorFlow's auto-sharding is off. So no sample is seen twice
per epoch and each step's gradient is the mean over the same global batch.
"""

from __future__ import annotations

import contextlib
import weakref
from collections.abc import Iterator
from typing import Any

from ..plugin import BackendError
from .env import import_keras


def _tf() -> Any:
    import_keras()
    import tensorflow as tf

    return tf


#: The strategy each model was built under.
STRATEGY: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()


def _logical_cpus(tf: Any, n: int) -> list[str]:
    """``n`` logical CPU devices (configured before TensorFlow initialises its devices)."""
    cpu = tf.config.list_physical_devices("CPU")[0]
    try:
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration() for _ in range(n)]
        )
    except RuntimeError:  # devices already initialised in this process
        have = len(tf.config.list_logical_devices("CPU"))
        if have < n:
            raise BackendError(
                f"TensorFlow's devices were initialised before train.distribution could split "
                f"the CPU into {n} logical devices (there are {have})",
                help="run specforge train in a fresh process",
            ) from None
    return [f"/cpu:{i}" for i in range(n)]


def make_strategy(distribution: Any) -> Any:
    """The ``tf.distribute`` strategy of a :class:`~specforge.spec.models.DistributionSpec`."""
    tf = _tf()
    kind = distribution.strategy
    if kind == "mirrored":
        gpus = tf.config.list_physical_devices("GPU")
        if gpus:
            n = min(distribution.devices or len(gpus), len(gpus))
            return tf.distribute.MirroredStrategy([f"/gpu:{i}" for i in range(n)])
        devices = _logical_cpus(tf, distribution.devices or 2)
        return tf.distribute.MirroredStrategy(
            devices, cross_device_ops=tf.distribute.ReductionToOneDevice()
        )
    if kind == "multi_worker":
        patch_multi_worker_logs()
        options = tf.distribute.experimental.CommunicationOptions(
            timeout_seconds=float(distribution.timeout)
        )
        return tf.distribute.MultiWorkerMirroredStrategy(communication_options=options)
    raise BackendError(f"unknown train.distribution.strategy '{kind}'")


@contextlib.contextmanager
def scope(strategy: Any) -> Iterator[Any]:
    with strategy.scope():
        yield strategy


def build_from_local_batch(model: Any, strategy: Any, xs: Any, ys: Any) -> None:
    """Build the model's training state from one local sample, not a reduced batch.

    Keras 3.15 builds a model under a strategy from ``strategy.reduce("MEAN",
    batch)`` of the first distributed batch, which MultiWorkerMirroredStrategy
    refuses for an (x, y) structure; the build needs shapes and dtypes only.
    """
    tf = _tf()
    sample = tf.nest.map_structure(lambda a: tf.constant(a[:1]), (xs, ys))

    def symbolic_build(iterator: Any = None, data_batch: Any = None) -> None:
        with strategy.scope():
            model._symbolic_build(data_batch=(*sample, None))

    object.__setattr__(model, "_maybe_symbolic_build", symbolic_build)


def patch_multi_worker_logs() -> None:
    """Let Keras 3.15 average scalar logs over the workers of MultiWorkerMirroredStrategy.

    Its ``reduce_per_replica`` reduces every log with ``strategy.reduce("MEAN", v,
    axis=0)``, which fails for the scalar loss and metrics; a scalar is reduced
    over the replicas instead (``axis=None``), as the docs of that function say.
    """
    tf = _tf()
    from keras.src.backend.tensorflow import trainer

    if getattr(trainer.reduce_per_replica, "specforge", False):
        return
    original = trainer.reduce_per_replica

    def reduce_per_replica(values: Any, strategy: Any, reduction: str) -> Any:
        if reduction not in ("auto", "mean") or not trainer._collective_all_reduce_multi_worker(
            strategy
        ):
            return original(values, strategy, reduction)

        def one(v: Any) -> Any:
            local = v.values[0] if hasattr(v, "values") else v
            if getattr(local, "shape", None) is not None and local.shape.rank == 0:
                return strategy.reduce("MEAN", v, axis=None)
            return original(v, strategy, reduction)

        return tf.nest.map_structure(one, values)

    reduce_per_replica.specforge = True  # type: ignore[attr-defined]
    trainer.reduce_per_replica = reduce_per_replica


def distributed_input(
    strategy: Any,
    xs: Any,
    ys: Any,
    *,
    batch_size: int,
    shuffle: bool,
    seed: int | None,
    first_epoch: int = 0,
) -> Any:
    """A DistributedDataset of (x, y): each global batch cut into one piece per replica.

    Keras iterates it once per epoch, and each new iterator draws the next
    permutation of the seeded shuffle; a run resumed at ``first_epoch`` draws
    (and drops) that many iterators first, so it shuffles epoch ``first_epoch``
    as the uninterrupted run did.
    """
    tf = _tf()
    first = xs[0] if isinstance(xs, list) else xs
    n = len(first)
    replicas = strategy.num_replicas_in_sync
    # A last batch too short to give every replica a sample is dropped (docs/scale-out.md).
    drop = 0 < n % batch_size < replicas
    tensors = tf.nest.map_structure(tf.constant, (xs, ys))

    def dataset_fn(ctx: Any) -> Any:
        per_pipeline = replicas // ctx.num_input_pipelines
        first_replica = ctx.input_pipeline_id * per_pipeline
        idx = tf.data.Dataset.range(n)
        if shuffle:
            # The same seed on every worker: every worker draws the same global batches.
            idx = idx.shuffle(n, seed=0 if seed is None else seed, reshuffle_each_iteration=True)
        idx = idx.batch(batch_size, drop_remainder=drop)

        def pieces(b: Any) -> Any:
            size = tf.cast(tf.shape(b)[0], tf.int64)

            def piece(j: Any) -> Any:
                k = first_replica + j
                return b[(size * k) // replicas : (size * (k + 1)) // replicas]

            return tf.data.Dataset.range(per_pipeline).map(piece)

        ds = idx.flat_map(pieces).map(
            lambda b: tf.nest.map_structure(lambda t: tf.gather(t, b), tensors)
        )
        options = tf.data.Options()
        options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.OFF
        options.deterministic = True
        return ds.with_options(options).prefetch(tf.data.AUTOTUNE)

    dataset = strategy.distribute_datasets_from_function(dataset_fn)
    for _ in range(first_epoch if shuffle else 0):
        iter(dataset)  # each new iterator draws one epoch's permutation; this one is dropped
    return dataset


__all__ = ["STRATEGY", "build_from_local_batch", "distributed_input", "make_strategy", "scope"]
