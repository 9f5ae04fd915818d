"""The ``keras`` backend: build, save, load, fit, evaluate, predict, weights.

Data crosses the :class:`~specforge.plugin.Backend` interface as dicts keyed
by input and output names; Keras receives them in the model's own input and
output order, so a functional model with several inputs is called exactly as
the chapter calls it by hand.
"""

from __future__ import annotations

import contextlib
import os
import warnings
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..atomic import atomic_path
from ..backend_checks import Reporter
from ..compat import registry_of_call
from ..diagnostics import Diagnostic
from ..ir import Graph
from ..lower import require_lowerable
from ..plugin import Backend, BackendError, TrainingCallback
from ..relay import framework_message
from .context import KerasContext
from .deep import run_deep
from .env import callers_random_state_kept, import_keras
from .lowering import ModelInfo, lower_graph, model_info_for
from .speed import (
    resolve_steps_per_execution,
    set_steps_per_execution,
    step_flops,
    tune_threads,
)

if TYPE_CHECKING:
    from ..registry import Registry

#: Facts about models this backend built or loaded (Keras models are weak-referenceable).
_INFO: weakref.WeakKeyDictionary[Any, ModelInfo] = weakref.WeakKeyDictionary()


def _file_mode(target: Path) -> int:
    """The mode a plain ``open(target, "w")`` would give (temporary files are created 0600)."""
    try:
        return target.stat().st_mode & 0o777
    except OSError:
        mask = os.umask(0)
        os.umask(mask)
        return 0o666 & ~mask


def _depth(model: Any) -> int:
    return len(getattr(model, "layers", ()))


def model_info(model: Any) -> ModelInfo:
    """The info recorded when the model was built or loaded, else what the model tells."""
    info = _INFO.get(model)
    if info is not None:
        return info
    inputs = tuple(getattr(t, "name", f"input_{i}") for i, t in enumerate(model.inputs))
    outputs = tuple(getattr(model, "output_names", None) or [model.layers[-1].name])
    losses = (
        model.loss
        if isinstance(model.loss, Mapping)
        else {outputs[0]: model.loss}
        if len(outputs) == 1
        else {}
    )
    info = ModelInfo(inputs, outputs, dict(losses), {})
    _INFO[model] = info
    return info


def _feed(names: Sequence[str], data: Mapping[str, Any], what: str) -> Any:
    if not isinstance(data, Mapping):
        raise TypeError(
            f"{what} must be a dict keyed by {what} name ({', '.join(names)}), not {type(data).__name__}"
        )
    missing = [n for n in names if n not in data]
    if missing:
        raise ValueError(
            f"no data for {what} {', '.join(repr(n) for n in missing)} (got {', '.join(repr(k) for k in data) or 'nothing'})"
        )
    extra = [k for k in data if k not in names]
    if extra:
        raise ValueError(
            f"unknown {what} {', '.join(repr(k) for k in extra)} (the model has {', '.join(names)})"
        )
    arrays = [data[n] for n in names]
    return arrays[0] if len(arrays) == 1 else arrays


def _rename(info: ModelInfo, logs: Mapping[str, Any] | None) -> dict[str, float]:
    import numpy as np

    out: dict[str, float] = {}
    for key, value in (logs or {}).items():
        base, prefix = (key[4:], "val_") if key.startswith("val_") else (key, "")
        out[prefix + info.rename.get(base, base)] = float(np.asarray(value))
    return out


def _adapter(keras: Any, callbacks: Sequence[TrainingCallback], info: ModelInfo) -> Any:
    """A Keras callback that drives specforge TrainingCallbacks (and stops when one asks)."""

    class EpochAdapter(keras.callbacks.Callback):
        def __init__(self) -> None:
            super().__init__()
            self.epoch = 0

        def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
            self.epoch = epoch
            for cb in callbacks:
                cb.on_epoch_begin(epoch)

        def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
            named = _rename(info, logs)
            stops = [bool(cb.on_epoch_end(epoch, named)) for cb in callbacks]
            if any(stops):
                self.model.stop_training = True

    class BatchAdapter(EpochAdapter):
        def on_train_batch_end(self, batch: int, logs: Any = None) -> None:
            # With steps_per_execution Keras calls this once per chunk, with the index
            # the chunk would end at if full: the last chunk of an epoch may be shorter.
            steps = (self.params or {}).get("steps")
            if steps:
                batch = min(batch, steps - 1)
            named = _rename(info, logs)
            stops = [bool(cb.on_batch_end(self.epoch, batch, named)) for cb in callbacks]
            if any(stops):
                self.model.stop_training = True

    # Keras skips per-batch work (and the device sync it costs) when no callback
    # has batch hooks: only add them when a callback needs them.
    wants_batches = any(
        type(cb).on_batch_end is not TrainingCallback.on_batch_end for cb in callbacks
    )
    return BatchAdapter() if wants_batches else EpochAdapter()


def _shuffle_seed(model: Any, seed: int | None) -> int:
    """The seed of the model's per-epoch shuffling: ``seed``, or one drawn once and kept."""
    if seed is not None:
        model._specforge_shuffle_seed = int(seed)
    kept = getattr(model, "_specforge_shuffle_seed", None)
    if kept is None:
        import numpy as np

        kept = model._specforge_shuffle_seed = int(np.random.SeedSequence().entropy % 2**63)
    return int(kept)


def _epochs_of(batches: Callable[[int], Iterator[Any]]) -> Callable[[], Iterator[Any]]:
    """A generator factory that passes the epoch number (Keras iterates once per epoch)."""
    epoch = [0]

    def make() -> Iterator[Any]:
        epoch[0] += 1
        return batches(epoch[0] - 1)

    return make


def _stream_dataset(model: Any, make: Callable[[], Iterator[Any]]) -> Any:
    import tensorflow as tf

    x_spec = tf.TensorSpec((None, *model.inputs[0].shape[1:]), tf.float32)
    out = model.outputs[0]
    y_shape = (None, *out.shape[1:])
    loss = model_info(model).losses.get(model_info(model).outputs[0])
    if loss == "sparse_categorical_crossentropy":
        y_spec = tf.TensorSpec((None,), tf.int64)
    else:
        y_spec = tf.TensorSpec(y_shape, tf.float32)
    ds = tf.data.Dataset.from_generator(make, output_signature=(x_spec, y_spec))
    return ds.prefetch(tf.data.AUTOTUNE)


def _rename_history(info: ModelInfo, history: Any) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {}
    for key, values in history.history.items():
        base, prefix = (key[4:], "val_") if key.startswith("val_") else (key, "")
        out[prefix + info.rename.get(base, base)] = [float(v) for v in values]
    return out


def _first_len(data: Any) -> int:
    first = data[0] if isinstance(data, list) else data
    return len(first)


class KerasBackend(Backend):
    """Keras 3 functional models, saved as ``.keras`` files that load without specforge."""

    name = "keras"
    label = "Keras"
    description = "Keras 3 functional models (TensorFlow), saved as .keras files"
    file_suffix = ".keras"
    requires = ("keras",)

    # -- compile ----------------------------------------------------------
    def check(self, graph: Graph, *, registry: Registry, document: Any = None) -> list[Diagnostic]:
        """Keras trains by gradient descent: a step activation (``differentiable=False``) is refused."""
        r = Reporter(graph, document)
        for node in graph.nodes:
            node_type = registry.node_types.get(node.type)
            for param in getattr(node_type, "activation_params", ()):
                value = node.param(param)
                if not isinstance(value, str):
                    continue
                canonical = registry.canonical("activation", value) or value
                act = registry.get("activation", canonical)
                if act is not None and not act.differentiable:
                    r.add(
                        "not-differentiable",
                        f"node '{node.name}': activation '{canonical}' is a step function whose gradient "
                        "is zero almost everywhere; Keras trains by gradient descent and cannot train "
                        "through it",
                        r.node_span(node, param),
                        "train it with the perceptron rule on the NumPy backend (--backend numpy, "
                        "optimizer: {type: perceptron}), or use a differentiable activation such as sigmoid",
                    )
        return r.diagnostics

    # -- distribution -------------------------------------------------------
    @contextlib.contextmanager
    def distribute(self, distribution: Any) -> Iterator[Any]:
        """Build (and fit) under ``train.distribution``'s ``tf.distribute`` strategy.

        Models built while this context is active are built and compiled inside the
        strategy's scope; :meth:`fit` then shards their input by data
        (:mod:`specforge.keras_backend.distribute`).
        """
        from .distribute import make_strategy

        previous = self._strategy
        self._strategy = make_strategy(distribution)
        try:
            yield self._strategy
        finally:
            self._strategy = previous

    _strategy: Any = None

    def build(
        self, graph: Graph, *, seed: int | None = None, registry: Registry | None = None
    ) -> Any:
        """Lower ``graph`` to a compiled ``keras.Model`` with ``registry``'s lowerings.

        :raises SpecError: something in the graph has no Keras lowering, or Keras
            rejected a node (diagnostics name the node and its line).
        :raises BackendError: keras/tensorflow cannot be imported.
        """
        reg = registry_of_call(registry, "build")
        require_lowerable(graph, reg, self)
        keras = import_keras()
        ctx = KerasContext(reg)
        strategy = self._strategy

        def work() -> tuple[Any, ModelInfo]:
            in_scope = strategy.scope() if strategy is not None else contextlib.nullcontext()
            with callers_random_state_kept(), in_scope:
                if seed is not None:
                    keras.utils.set_random_seed(int(seed))
                return lower_graph(graph, ctx)

        model, info = run_deep(work, len(graph.nodes))
        _INFO[model] = info
        if strategy is not None:
            from .distribute import STRATEGY

            STRATEGY[model] = strategy
        return model

    # -- files ------------------------------------------------------------
    def save(self, model: Any, path: str | os.PathLike[str]) -> None:
        """Write ``model`` to ``path`` (a ``.keras`` file) atomically.

        A failure or an interrupt leaves ``path`` as it was (absent, or the
        previous complete file) and no temporary file behind.
        """
        import_keras()
        target = Path(path)
        if target.suffix != ".keras":
            raise BackendError(
                f"{target}: Keras saves models to files ending in .keras",
                help=f"use -o {target.with_suffix('.keras').name}",
            )

        def work() -> None:
            with atomic_path(target) as tmp:
                model.save(str(tmp))
                os.chmod(tmp, _file_mode(target))

        run_deep(work, _depth(model))

    def load(
        self, path: str | os.PathLike[str], graph: Graph, *, registry: Registry | None = None
    ) -> Any:
        """Read a ``.keras`` file in safe mode (no code is executed) and check it fits ``graph``."""
        reg = registry_of_call(registry, "load")
        keras = import_keras()
        target = Path(path)
        if not target.is_file():
            raise BackendError(f"{target}: no such model file")
        try:
            with callers_random_state_kept():  # load_model draws from Python's random
                model = run_deep(
                    lambda: keras.models.load_model(str(target), safe_mode=True, compile=True),
                    len(graph.nodes),
                )
        except (KeyboardInterrupt, RecursionError):
            raise
        except Exception as exc:
            raise BackendError(
                f"{target} is not a Keras model this backend can load: {framework_message(exc)}",
                help="models are loaded in safe mode: files with Lambda layers or custom code are refused",
            ) from None
        want_in = [i.name for i in graph.inputs]
        want_out = [o.name for o in graph.outputs]
        got_in = [getattr(t, "name", "?") for t in model.inputs]
        got_out = list(model.output_names)
        if got_in != want_in or got_out != want_out:
            raise BackendError(
                f"{target} does not match spec '{graph.name}': the model has inputs {got_in} and outputs "
                f"{got_out}, the spec inputs {want_in} and outputs {want_out}",
                help="load the model with the spec it was built from",
            )
        _INFO[model] = model_info_for(graph, KerasContext(reg))
        return model

    # -- run --------------------------------------------------------------
    def prepare_training(self, graph: Graph, *, batch_size: int) -> dict[str, Any]:
        """Process-wide settings for training ``graph`` (called by ``specforge train`` only).

        Before anything else runs in TensorFlow: one thread per op for a model of
        small products (:func:`.speed.tune_threads`). Returns what was set, for the
        run's metrics.
        """
        import_keras()
        threads = tune_threads(graph, batch_size)
        return {"tensorflow_threads": threads} if threads else {}

    def fit(
        self,
        model: Any,
        x: Mapping[str, Any],
        y: Mapping[str, Any],
        *,
        epochs: int,
        batch_size: int = 32,
        shuffle: bool = True,
        seed: int | None = None,
        validation_data: tuple[Mapping[str, Any], Mapping[str, Any]] | None = None,
        callbacks: Sequence[TrainingCallback] = (),
        initial_epoch: int = 0,
        steps_per_execution: int | str | None = None,
    ) -> dict[str, list[float]]:
        """Train with ``model.fit(verbose=0)``; return the history under the documented key names.

        With ``shuffle``, each epoch's order is a permutation drawn from
        ``(shuffle seed, epoch)`` (the shuffle seed is ``seed``, or drawn once per
        model): an epoch's order then does not depend on the epochs before it,
        so a run resumed at ``initial_epoch`` (after :meth:`set_training_state`)
        shuffles exactly as the uninterrupted run did. One ``model.fit`` runs every epoch on a
        ``tf.data`` pipeline that gathers each batch by index (:mod:`.pipeline`):
        no copy of the data per epoch, and the next batches are prefetched.

        ``steps_per_execution`` (``auto``, N, or None: as the model was compiled)
        runs that many batches per call into TensorFlow: the same losses and
        metrics, faster (:mod:`.speed`); batch callbacks then run once per
        chunk, with the chunk's last batch index.

        Keras 3.15 averages each output's loss (``<output>_loss``) over batches
        without weighting the batches by size (the total ``loss`` is weighted),
        so when ``batch_size`` does not divide the number of samples the
        per-output figures of a multi-output history are slightly off their
        exact means; :meth:`evaluate` corrects them.
        """
        keras = import_keras()
        info = model_info(model)
        xs, ys = _feed(info.inputs, x, "input"), _feed(info.outputs, y, "output")
        val = None
        if validation_data is not None:
            vx, vy = validation_data
            val = (_feed(info.inputs, vx, "input"), _feed(info.outputs, vy, "output"))
        keras_callbacks = [_adapter(keras, callbacks, info)] if callbacks else []
        from .distribute import STRATEGY, build_from_local_batch, distributed_input

        strategy = STRATEGY.get(model)
        steps = resolve_steps_per_execution(
            steps_per_execution, _first_len(xs), batch_size, step_flops(model, batch_size)
        )
        if steps is not None and strategy is None:  # measured on one device only
            set_steps_per_execution(model, steps)

        def one_fit(xs: Any, ys: Any, first: int, last: int) -> dict[str, list[Any]]:
            return model.fit(
                xs,
                ys,
                epochs=last,
                initial_epoch=first,
                batch_size=batch_size,
                shuffle=False,
                validation_data=val,
                callbacks=keras_callbacks,
                verbose=0,
            ).history

        def work() -> dict[str, list[Any]]:
            import numpy as np

            with callers_random_state_kept():
                if seed is not None and initial_epoch == 0:
                    keras.utils.set_random_seed(int(seed))
                if strategy is not None:
                    # batch_size is the global batch; each replica gets a piece of it.
                    build_from_local_batch(model, strategy, xs, ys)
                    with strategy.scope():
                        data = distributed_input(
                            strategy,
                            xs,
                            ys,
                            batch_size=batch_size,
                            shuffle=shuffle,
                            seed=seed,
                            first_epoch=initial_epoch,
                        )
                        val_data = (
                            distributed_input(
                                strategy, *val, batch_size=batch_size, shuffle=False, seed=seed
                            )
                            if val is not None
                            else None
                        )
                    with warnings.catch_warnings():
                        # The distributed input's length is learnt in the first epoch; Keras
                        # warns that it "ran out of data" at its end.
                        warnings.filterwarnings("ignore", message=".*ran out of data")
                        return model.fit(
                            data,
                            epochs=epochs,
                            initial_epoch=initial_epoch,
                            shuffle=False,  # the input shuffles itself, the same on every worker
                            validation_data=val_data,
                            callbacks=keras_callbacks,
                            verbose=0,
                        ).history
                if not shuffle:
                    return one_fit(xs, ys, initial_epoch, epochs)
                from .pipeline import shuffled_epochs

                base = _shuffle_seed(model, seed)
                n = _first_len(xs)
                dataset, reorder = shuffled_epochs(
                    keras,
                    xs,
                    ys,
                    batch_size=batch_size,
                    order_of=lambda epoch: np.random.default_rng([base, epoch]).permutation(n),
                )
                return model.fit(
                    dataset,
                    epochs=epochs,
                    initial_epoch=initial_epoch,
                    validation_data=val,
                    validation_batch_size=batch_size,
                    shuffle=False,  # the pipeline orders each epoch itself
                    callbacks=[reorder, *keras_callbacks],
                    verbose=0,
                ).history

        history = run_deep(work, _depth(model))
        out: dict[str, list[float]] = {}
        for key, values in history.items():
            base, prefix = (key[4:], "val_") if key.startswith("val_") else (key, "")
            out[prefix + info.rename.get(base, base)] = [float(v) for v in values]
        return out

    def fit_stream(
        self,
        model: Any,
        batches: Callable[[int], Iterator[tuple[Any, Any]]],
        *,
        epochs: int,
        validation: Callable[[], Iterator[tuple[Any, Any]]] | None = None,
        seed: int | None = None,
        callbacks: Sequence[TrainingCallback] = (),
        steps_per_execution: int | str | None = None,
        samples: int | None = None,
        batch_size: int | None = None,
    ) -> dict[str, list[float]]:
        """Train on batches read from a file: ``batches(epoch)`` yields (x, y) NumPy batches.

        A ``tf.data`` pipeline over the generator prefetches the next batches while
        the model trains on this one; memory holds a chunk and a few batches.
        ``steps_per_execution`` works as in :meth:`fit` (``auto`` needs ``samples``
        and ``batch_size``, the training split's rows and the batch): each epoch's
        data ends where the file's split does, so a chunk never spans two epochs.
        """
        keras = import_keras()
        info = model_info(model)
        keras_callbacks = [_adapter(keras, callbacks, info)] if callbacks else []
        if steps_per_execution is not None and (
            steps_per_execution != "auto" or (samples and batch_size)
        ):
            steps = resolve_steps_per_execution(
                steps_per_execution,
                samples or 1,
                batch_size or 1,
                step_flops(model, batch_size or 1),
            )
            if steps is not None:
                set_steps_per_execution(model, steps)
        train = _stream_dataset(model, _epochs_of(batches))
        val = _stream_dataset(model, lambda: validation()) if validation is not None else None

        def work() -> Any:
            with callers_random_state_kept(), warnings.catch_warnings():
                warnings.filterwarnings("ignore", message=".*ran out of data")
                if seed is not None:
                    keras.utils.set_random_seed(int(seed))
                return model.fit(
                    train,
                    epochs=epochs,
                    validation_data=val,
                    callbacks=keras_callbacks,
                    verbose=0,
                    shuffle=False,
                )

        history = run_deep(work, _depth(model))
        return {k: [float(v) for v in vs] for k, vs in _rename_history(info, history).items()}

    def evaluate_stream(
        self, model: Any, batches: Callable[[], Iterator[tuple[Any, Any]]]
    ) -> dict[str, float]:
        """Loss and metrics over every batch of ``batches()`` (weighted by batch size)."""
        import_keras()
        info = model_info(model)
        data = _stream_dataset(model, batches)

        def work() -> Any:
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", message=".*ran out of data")
                return model.evaluate(data, verbose=0, return_dict=True)

        results = run_deep(work, _depth(model))
        return _rename(info, results)

    def evaluate(
        self, model: Any, x: Mapping[str, Any], y: Mapping[str, Any], *, batch_size: int = 32
    ) -> dict[str, float]:
        """Loss and metrics over all of ``x``/``y``, each an exact mean over the samples."""
        import_keras()
        info = model_info(model)
        xs, ys = _feed(info.inputs, x, "input"), _feed(info.outputs, y, "output")

        def work() -> dict[str, float]:
            results = model.evaluate(xs, ys, batch_size=batch_size, verbose=0, return_dict=True)
            named = _rename(info, results)
            n = _first_len(xs)
            if len(info.outputs) > 1 and n % batch_size:
                named.update(self._exact_output_losses(model, info, xs, ys, batch_size))
            return named

        return run_deep(work, _depth(model))

    @staticmethod
    def _exact_output_losses(
        model: Any, info: ModelInfo, xs: Any, ys: Any, batch_size: int
    ) -> dict[str, float]:
        """Each output's loss over all samples (Keras weights a short last batch like a full one)."""
        import numpy as np

        keras = import_keras()
        preds = model.predict(xs, batch_size=batch_size, verbose=0)
        out = {}
        for name, y_true, y_pred in zip(info.outputs, ys, preds, strict=True):
            ident = info.losses.get(name)
            if ident is None:
                continue
            fn = keras.losses.get(ident) if isinstance(ident, str | dict) else ident
            y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
            if not isinstance(fn, keras.losses.Loss):
                # A plain loss function: match ranks as compile() does (targets of shape
                # (n,) against predictions of shape (n, 1)), then average over samples.
                if y_pred.ndim == y_true.ndim + 1 and y_pred.shape[-1] == 1:
                    y_pred = y_pred[..., 0]
                elif y_true.ndim == y_pred.ndim + 1 and y_true.shape[-1] == 1:
                    y_true = y_true[..., 0]
            values = np.asarray(keras.ops.convert_to_numpy(fn(y_true, y_pred)), dtype=np.float64)
            out[f"{name}_loss"] = float(values.mean())
        return out

    def predict(self, model: Any, x: Mapping[str, Any], *, batch_size: int = 32) -> dict[str, Any]:
        import numpy as np

        import_keras()
        info = model_info(model)
        xs = _feed(info.inputs, x, "input")
        preds = run_deep(lambda: model.predict(xs, batch_size=batch_size, verbose=0), _depth(model))
        if len(info.outputs) == 1:
            return {info.outputs[0]: np.asarray(preds)}
        if isinstance(preds, Mapping):
            return {name: np.asarray(preds[name]) for name in info.outputs}
        return {name: np.asarray(p) for name, p in zip(info.outputs, preds, strict=True)}

    # -- weights ----------------------------------------------------------
    def get_training_state(self, model: Any) -> dict[str, Any]:
        """The optimizer's variables, the non-trainable variables (dropout's seed-generator
        states, normalisation statistics) and the shuffle seed, for resuming."""
        import numpy as np

        state: dict[str, Any] = {"shuffle_seed": _shuffle_seed(model, None)}
        for i, v in enumerate(model.optimizer.variables):
            state[f"optimizer.{i}"] = np.array(v.numpy())
        for i, v in enumerate(model.non_trainable_variables):
            state[f"variables.{i}"] = np.array(v.numpy())
        return state

    def set_training_state(self, model: Any, state: Mapping[str, Any]) -> None:
        opt = model.optimizer
        if not opt.built:
            opt.build(model.trainable_variables)
        for prefix, variables in (
            ("optimizer", opt.variables),
            ("variables", model.non_trainable_variables),
        ):
            saved = sorted(
                (int(k.split(".", 1)[1]), v) for k, v in state.items() if k.startswith(prefix + ".")
            )
            if len(saved) != len(variables):
                raise BackendError(
                    f"the checkpoint holds {len(saved)} {prefix} variable(s), the model has {len(variables)}",
                    help="resume with the spec and specforge version that wrote the checkpoint",
                )
            for (_, value), var in zip(saved, variables, strict=True):
                var.assign(value)
        model._specforge_shuffle_seed = int(state["shuffle_seed"])

    def get_weights(self, model: Any) -> dict[str, list[Any]]:
        """``{node: [kernel, bias]}`` for every node that has weights, in Keras's order."""
        import numpy as np

        return {
            layer.name: [np.asarray(w) for w in layer.get_weights()]
            for layer in model.layers
            if layer.weights
        }

    def set_weights(self, model: Any, weights: Mapping[str, Sequence[Any]]) -> None:
        import numpy as np

        names = {layer.name for layer in model.layers}
        unknown = [n for n in weights if n not in names]
        if unknown:
            raise ValueError(f"the model has no node {', '.join(repr(n) for n in unknown)}")
        for name, arrays in weights.items():
            layer = model.get_layer(name)
            if not layer.weights and not arrays:
                continue
            expected = [tuple(w.shape) for w in layer.weights]
            got = [tuple(np.shape(a)) for a in arrays]
            if expected != got:
                raise ValueError(
                    f"node '{name}': weights of shapes {got} given, the layer has {expected}"
                )
            layer.set_weights([np.asarray(a) for a in arrays])
