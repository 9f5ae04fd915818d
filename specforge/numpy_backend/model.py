"""The NumPy model: a resolved Graph lowered to arrays and the registered NumPy lowerings.

:class:`NumpyModel` is what the ``numpy`` backend's ``build`` returns. It holds the
weights (``{node: [arrays in Keras order]}``, float32 by default), runs the graph
forward and backward through the node lowerings registered for backend ``numpy``
(built-ins and plugins alike, see :mod:`specforge.numpy_backend.lowering`), and trains
with the optimizer named by the spec.

Semantics follow Keras 3 where they are observable:

* the loss of each output is the mean over the batch of the per-sample loss; the total
  is the sum of the outputs' losses times their ``weight``;
* a crossentropy right after a softmax/sigmoid activation is computed from the
  activation's input (logits), as Keras does inside ``fit``/``evaluate`` (``predict``
  still returns probabilities);
* history figures are means over the epoch weighted by batch size, under Keras's key
  names (see :class:`specforge.plugin.Backend`); validation figures come from a pass
  in inference mode at the end of each epoch.
"""

from __future__ import annotations

import contextlib
import inspect
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..plugin import TrainingCallback
from .kernels import SGD
from .lowering import NumpyContext

Array = np.ndarray


@dataclass
class _Step:
    """One node of the plan, with everything the hot loop needs bound in advance."""

    index: int
    name: str
    node: Any
    inputs: tuple[str, ...]
    weights: list[Array]
    trainable: list[bool]
    forward: Callable[..., Any]
    backward: Callable[..., Any] | None
    forward_kw: dict[str, Any]
    backward_kw: dict[str, Any] = field(default_factory=dict)
    activation: str | None = None
    act_forward: Callable[[Array], Array] | None = None
    act_backward: Callable[[Array, Array, Array], Array] | None = None
    update_state: Callable[..., None] | None = None
    reaches_output: bool = False
    do_backward: bool = False
    needs: tuple[bool, ...] = ()
    #: (weight index, position in the flat parameter list) of each trained weight
    slots: list[tuple[int, int]] = field(default_factory=list)


@dataclass
class _Output:
    name: str
    node: str
    step: int
    weight: float
    value: Callable[[Array, Array], Array]
    grad: Callable[[Array, Array], Array]
    #: value and grad in one call where the loss offers it (a third party's may not)
    both: Callable[[Array, Array], tuple[Array, Array]] | None
    fused: bool
    sparse: bool
    shape: tuple[int, ...]
    metrics: list[tuple[str, Any]]


BLAS_THREADS_ENV = "SPECFORGE_BLAS_THREADS"


def _blas_threads() -> int:
    value = os.environ.get(BLAS_THREADS_ENV, "").strip()
    try:
        return max(int(value), 0) if value else 1
    except ValueError:
        return 1


@contextlib.contextmanager
def _limit_blas(threads: int) -> Iterator[None]:
    """Limit the BLAS thread pools while training (threadpoolctl, a scikit-learn dependency)."""
    if threads <= 0:
        yield
        return
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - installed with scikit-learn
        yield
        return
    with threadpool_limits(limits=threads, user_api="blas"):
        yield


#: (function, keyword) -> whether it accepts the keyword. ``inspect.signature`` costs
#: ~100 µs a call: once per lowering, not once per node (a 100,000-node build).
_ACCEPTS: dict[tuple[Any, str], bool] = {}


def _accepts(fn: Any, keyword: str) -> bool:
    key = (getattr(fn, "__func__", fn), keyword)
    try:
        return _ACCEPTS[key]
    except (KeyError, TypeError):  # TypeError: an unhashable callable
        pass
    try:
        found = keyword in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        found = False
    with contextlib.suppress(TypeError):
        _ACCEPTS[key] = found
    return found


class NumpyModel:
    """A Graph compiled for the NumPy backend.

    :param graph: the resolved :class:`specforge.ir.Graph`.
    :param seed: seeds the weight initialisers and the training randomness (shuffling,
        stochastic layers); None draws fresh entropy.
    :param registry: the plugin registry to lower with; every lowering receives a
        :class:`~specforge.numpy_backend.lowering.NumpyContext` of it.
    :param dtype: floating dtype of weights and activations (float32 like Keras; float64
        is useful for gradient checks).
    :param blas_threads: BLAS threads while ``fit`` runs (default 1, or the environment
        variable ``SPECFORGE_BLAS_THREADS``; 0 leaves the BLAS library's own setting).
        Mini-batch products are small: a second thread gains little, and OpenBLAS's
        spinning threads lose up to 10× when other processes compete for the cores.

    The graph is not checked here: build models with ``NumpyBackend.build``, which
    reports what the backend cannot lower or train as diagnostics first (a missing
    lowering here is a ``KeyError``).
    """

    def __init__(
        self,
        graph: Any,
        *,
        seed: int | None = None,
        registry: Any,
        dtype: Any = "float32",
        blas_threads: int | None = None,
    ):
        self.graph = graph
        self.registry = registry
        self._ctx = NumpyContext(registry)
        self.dtype = np.dtype(dtype)
        if self.dtype.kind != "f":
            raise ValueError(f"dtype must be a floating type, got {self.dtype}")
        self.seed = seed
        self.blas_threads = _blas_threads() if blas_threads is None else blas_threads
        init_seq, run_seq = np.random.SeedSequence(seed).spawn(2)
        self._rng_kw: dict[str, Any] = {"rng": np.random.default_rng(run_seq)}
        #: The shuffling generator of the last ``fit`` (kept for :meth:`training_state`).
        self._shuffle_rng: np.random.Generator | None = None
        self.weights: dict[str, list[Array]] = {}
        self.trainable: dict[str, list[bool]] = {}
        self._plan: list[_Step] = []
        self._outputs: list[_Output] = []
        self._params: list[Array] = []
        self._grads: list[Array | None] = []
        self.optimizer: Any = None
        self._rule: Any = None
        self._plain_sgd = False
        self._make_optimizer()
        self._lower(np.random.default_rng(init_seq))
        self._keys, self._finalizers = self._history_keys()

    # ------------------------------------------------------------------ lowering
    def _make_optimizer(self) -> None:
        opt = self.graph.optimizer
        factory = self._ctx.lowering("optimizer", opt.type)
        self.optimizer = factory(dict(opt.params.model_dump()))
        self._rule = self.optimizer if hasattr(self.optimizer, "train_step") else None
        self._plain_sgd = (
            type(self.optimizer) is SGD
            and self.optimizer.momentum == 0
            and not any(
                self.optimizer.hyperparameters[k]
                for k in ("weight_decay", "clipnorm", "clipvalue", "global_clipnorm")
            )
        )

    def _lower(self, rng: np.random.Generator) -> None:
        """Bind every node to its lowering and allocate the weights (``check`` passed)."""
        graph, ctx = self.graph, self._ctx
        # Lookups by name, once per name: a 100,000-node chain uses a handful of them.
        lowerings: dict[str, Any] = {}
        activations: dict[str, tuple[str, Any]] = {}
        for node in graph.nodes:
            lowering = lowerings.get(node.type)
            if lowering is None:
                lowering = lowerings[node.type] = ctx.lowering("node", node.type)
            act_name = act = None
            raw_act = getattr(node.params, "activation", None)
            if isinstance(raw_act, str) and not getattr(lowering, "applies_activation", False):
                if raw_act not in activations:
                    canonical = ctx.canonical("activation", raw_act)
                    activations[raw_act] = (canonical, ctx.activation(canonical))
                act_name, act = activations[raw_act]
            weights = [
                np.ascontiguousarray(w, dtype=self.dtype) for w in lowering.init(ctx, node, rng)
            ]
            try:
                flags = [bool(f) for f in lowering.trainable(ctx, node)]
            except (AttributeError, NotImplementedError):
                flags = [True] * len(weights)
            if len(flags) != len(weights):
                raise ValueError(
                    f"numpy lowering of {node.type}: trainable() gave {len(flags)} flags for {len(weights)} weights"
                )
            self.weights[node.name] = weights
            self.trainable[node.name] = flags
            self._plan.append(
                _Step(
                    index=len(self._plan),
                    name=node.name,
                    node=node,
                    inputs=tuple(node.inputs),
                    weights=weights,
                    trainable=flags,
                    forward=lowering.forward,
                    backward=getattr(lowering, "backward", None),
                    forward_kw=self._rng_kw if _accepts(lowering.forward, "rng") else {},
                    activation=act_name,
                    act_forward=act.forward if act is not None else None,
                    act_backward=act.backward if act is not None else None,
                    update_state=getattr(lowering, "update_state", None),
                )
            )

        # Which values carry a gradient (depend on a trained weight), which nodes feed an output.
        requires: dict[str, bool] = {}
        for st in self._plan:
            requires[st.name] = any(st.trainable) or any(requires.get(n, False) for n in st.inputs)
        reaches: set[str] = {o.node for o in graph.outputs}
        for st in reversed(self._plan):
            if st.name in reaches:
                st.reaches_output = True
                reaches.update(st.inputs)
        for st in self._plan:
            st.needs = tuple(requires.get(n, False) for n in st.inputs)
            st.do_backward = st.reaches_output and (any(st.trainable) or any(st.needs))
            if (
                st.do_backward
                and st.backward is not None
                and _accepts(st.backward, "needs_input_grad")
            ):
                st.backward_kw = {"needs_input_grad": st.needs}
            if st.reaches_output:
                for j, flag in enumerate(st.trainable):
                    if flag:
                        st.slots.append((j, len(self._params)))
                        self._params.append(st.weights[j])
        self._grads = [None] * len(self._params)

        index = {st.name: st.index for st in self._plan}
        for out in graph.outputs:
            loss = ctx.loss(out.loss)
            step = self._plan[index[out.node]]
            act = ctx.activation(step.activation) if step.activation else None
            logits_loss = getattr(loss, "from_logits", None)
            fused = bool(
                act is not None
                and getattr(act, "produces_logits", False)
                and logits_loss is not None
            )
            source = logits_loss if fused else loss
            metrics = [(m, ctx.metric(m)) for m in out.metrics]
            self._outputs.append(
                _Output(
                    name=out.name,
                    node=out.node,
                    step=index[out.node],
                    weight=float(out.weight),
                    value=source.value,
                    grad=source.grad,
                    both=getattr(source, "value_and_grad", None),
                    fused=fused,
                    sparse=bool(getattr(loss, "sparse", False)),
                    shape=tuple(graph.node(out.node).output_shape),
                    metrics=metrics,
                )
            )

    def _history_keys(self) -> tuple[list[str], list[Callable[[float], float]]]:
        identity: Callable[[float], float] = float
        keys, fins = ["loss"], [identity]
        single = len(self._outputs) == 1
        for o in self._outputs:
            if not single:
                keys.append(f"{o.name}_loss")
                fins.append(identity)
            for m, impl in o.metrics:
                keys.append(m if single else f"{o.name}_{m}")
                fins.append(getattr(impl, "result", identity))
        return keys, fins

    # ------------------------------------------------------------------ data
    def _prepare(self, x: Any, y: Any | None) -> tuple[dict[str, Array], dict[str, Array], int]:
        graph = self.graph
        if not isinstance(x, Mapping):
            if len(graph.inputs) != 1:
                raise ValueError(
                    f"x must be a dict keyed by input name ({', '.join(i.name for i in graph.inputs)})"
                )
            x = {graph.inputs[0].name: x}
        missing = [i.name for i in graph.inputs if i.name not in x]
        extra = sorted(set(x) - {i.name for i in graph.inputs})
        if missing or extra:
            raise ValueError(
                "x must have one array per model input: "
                + (f"missing {', '.join(missing)}" if missing else "")
                + ("; " if missing and extra else "")
                + (f"unknown {', '.join(extra)}" if extra else "")
                + f" (inputs: {', '.join(i.name for i in graph.inputs)})"
            )
        xs: dict[str, Array] = {}
        n: int | None = None
        for inp in graph.inputs:
            a = np.asarray(x[inp.name])
            if a.ndim == 0 or tuple(a.shape[1:]) != tuple(inp.shape):
                raise ValueError(
                    f"input '{inp.name}' expects arrays of shape (batch, {', '.join(map(str, inp.shape))}), got {a.shape}"
                )
            xs[inp.name] = (
                a
                if (a.dtype == self.dtype and a.flags.c_contiguous)
                else np.ascontiguousarray(a, dtype=self.dtype)
            )
            n = a.shape[0] if n is None else n
            if a.shape[0] != n:
                raise ValueError(
                    f"inputs have different numbers of samples ({n} and {a.shape[0]} for '{inp.name}')"
                )
        ys: dict[str, Array] = {}
        if y is not None:
            if not isinstance(y, Mapping):
                if len(self._outputs) != 1:
                    raise ValueError(
                        f"y must be a dict keyed by output name ({', '.join(o.name for o in self._outputs)})"
                    )
                y = {self._outputs[0].name: y}
            missing = [o.name for o in self._outputs if o.name not in y]
            extra = sorted(set(y) - {o.name for o in self._outputs})
            if missing or extra:
                raise ValueError(
                    f"y must have one array per output ({', '.join(o.name for o in self._outputs)}); "
                    + (
                        f"missing {', '.join(missing)}"
                        if missing
                        else f"unknown {', '.join(extra)}"
                    )
                )
            prepare = getattr(self._rule, "prepare_targets", None)
            for o in self._outputs:
                a = np.asarray(y[o.name])
                if prepare is not None:
                    a = prepare(o.shape, a, self.dtype)
                if o.sparse:
                    a = a.astype(np.int64, copy=False)
                else:
                    a = np.ascontiguousarray(a, dtype=self.dtype)
                    if a.ndim == 1 and o.shape == (1,):
                        a = a.reshape(-1, 1)
                if a.ndim == 0 or a.shape[0] != n:
                    raise ValueError(
                        f"targets of output '{o.name}' have {a.shape[0] if a.ndim else 0} samples, inputs have {n}"
                    )
                ys[o.name] = a
        return xs, ys, int(n or 0)

    # ------------------------------------------------------------------ passes
    def _forward(
        self, feeds: Mapping[str, Array], training: bool
    ) -> tuple[dict[str, Array], list[Any]]:
        values = dict(feeds)
        caches: list[Any] = [None] * len(self._plan)
        ctx = self._ctx
        for st in self._plan:
            out, cache = st.forward(
                ctx, st.node, st.weights, [values[n] for n in st.inputs], training, **st.forward_kw
            )
            if st.act_forward is not None:
                pre = out
                out = st.act_forward(pre)
                caches[st.index] = (cache, pre, out)
            else:
                caches[st.index] = (cache, None, out)
            values[st.name] = out
        return values, caches

    def _losses(
        self, values: Mapping[str, Array], caches: list[Any], ys: Mapping[str, Array], grads: bool
    ) -> tuple[list[float], dict[str, Array], dict[str, Array]]:
        """Per-batch figures in key order, and d total / d output (or pre-activation)."""
        logs = [0.0]
        total = 0.0
        single = len(self._outputs) == 1
        g_out: dict[str, Array] = {}
        g_pre: dict[str, Array] = {}
        for o in self._outputs:
            t = ys[o.name]
            pred = values[o.node]
            src = caches[o.step][1] if o.fused else pred
            if grads and o.both is not None:
                value, g = o.both(t, src)
            else:
                value = o.value(t, src)
                g = o.grad(t, src) if grads else None
            loss = float(np.mean(value))
            total += o.weight * loss
            if not single:
                logs.append(loss)
            for _, metric in o.metrics:
                logs.append(float(metric(t, pred)))
            if g is not None:
                if o.weight != 1.0:
                    g = g * o.weight
                into = g_pre if o.fused else g_out
                into[o.node] = into[o.node] + g if o.node in into else g
        logs[0] = total
        return logs, g_out, g_pre

    def _backward(
        self, caches: list[Any], g_out: dict[str, Array], g_pre: dict[str, Array]
    ) -> None:
        grads = g_out
        params_grads = self._grads
        ctx = self._ctx
        for st in reversed(self._plan):
            g = grads.pop(st.name, None)
            gp = g_pre.pop(st.name, None)
            if not st.do_backward or (g is None and gp is None):
                continue
            cache, pre, out = caches[st.index]
            if st.act_backward is not None:
                gz = st.act_backward(pre, out, g) if g is not None else None
                if gp is not None:
                    gz = gp if gz is None else gz + gp
            else:
                gz = g
            grad_inputs, grad_weights = st.backward(
                ctx, st.node, st.weights, cache, gz, **st.backward_kw
            )
            for j, pos in st.slots:
                params_grads[pos] = grad_weights[j]
            for name, need, gi in zip(st.inputs, st.needs, grad_inputs, strict=False):
                if need and gi is not None:
                    grads[name] = grads[name] + gi if name in grads else gi

    def _train_batch(self, xb: Mapping[str, Array], yb: Mapping[str, Array]) -> list[float]:
        values, caches = self._forward(xb, True)
        rule = self._rule
        logs, g_out, g_pre = self._losses(values, caches, yb, grads=rule is None)
        if rule is not None:
            rule.train_step(self, xb, yb, values)
        else:
            if self._plain_sgd:
                # Backpropagation is linear in the output gradient: scaling it by the
                # learning rate here gives every weight gradient already times lr, so
                # the update below is one in-place subtraction per weight.
                lr = self.dtype.type(self.optimizer.learning_rate)
                for grads in (g_out, g_pre):
                    for k in grads:
                        grads[k] = grads[k] * lr
            self._backward(caches, g_out, g_pre)
        for st in self._plan:
            if st.update_state is not None:
                st.update_state(self._ctx, st.node, st.weights, caches[st.index][0])
        if rule is None:
            if any(g is None for g in self._grads):
                self._no_gradient()
            if self._plain_sgd:
                # Keras's SGD without momentum, p -= lr * g (lr folded in above), without
                # the generic step's per-call validation (a third of a small model's batch).
                for p, g in zip(self._params, self._grads, strict=True):
                    p -= g
                self.optimizer.iterations += 1
            else:
                self.optimizer.step(self._params, self._grads)
            self._grads = [None] * len(self._params)
        return logs

    def _no_gradient(self) -> None:
        missing = sorted(
            {st.name for st in self._plan for j, pos in st.slots if self._grads[pos] is None}
        )
        self._grads = [None] * len(self._params)
        raise RuntimeError(
            f"no gradient reached the weights of {', '.join(missing)}: a NumPy lowering on the way "
            "returned None for an input gradient the backend asked for (needs_input_grad True)"
        )

    def _finalize(self, sums: Sequence[float], count: int) -> dict[str, float]:
        c = max(count, 1)
        return {k: fin(s / c) for k, fin, s in zip(self._keys, self._finalizers, sums, strict=True)}

    # ------------------------------------------------------------------ public API
    @property
    def history_keys(self) -> list[str]:
        """Keys of ``fit``'s history (without the ``val_`` ones) and of ``evaluate``."""
        return list(self._keys)

    def forward(self, x: Any, *, training: bool = False) -> dict[str, Array]:
        """Every value of the graph (inputs and node outputs) for one batch, by name."""
        xs, _, _ = self._prepare(x, None)
        return self._forward(xs, training)[0]

    def loss_and_gradients(
        self, x: Any, y: Any, *, training: bool = True
    ) -> tuple[dict[str, float], dict[str, list[Array | None]]]:
        """The batch's figures (history keys) and d total loss / d weight for every node.

        Nothing is updated. Non-trainable weights and nodes that reach no output get None.
        """
        xs, ys, _ = self._prepare(x, y)
        values, caches = self._forward(xs, training)
        logs, g_out, g_pre = self._losses(values, caches, ys, grads=True)
        self._grads = [None] * len(self._params)
        self._backward(caches, g_out, g_pre)
        grads: dict[str, list[Array | None]] = {}
        for st in self._plan:
            per: list[Array | None] = [None] * len(st.weights)
            for j, pos in st.slots:
                per[j] = self._grads[pos]
            grads[st.name] = per
        self._grads = [None] * len(self._params)
        return self._finalize(logs, 1), grads

    def train_on_batch(self, x: Any, y: Any) -> dict[str, float]:
        """One training step on one batch; returns its figures (before the update)."""
        xs, ys, _ = self._prepare(x, y)
        return self._finalize(self._train_batch(xs, ys), 1)

    def fit(
        self,
        x: Any,
        y: Any,
        *,
        epochs: int = 1,
        batch_size: int = 32,
        shuffle: bool = True,
        seed: int | None = None,
        validation_data: tuple[Any, Any] | None = None,
        callbacks: Sequence[TrainingCallback] = (),
        initial_epoch: int = 0,
    ) -> dict[str, list[float]]:
        """Train with mini-batches; return the history (one value per completed epoch per key).

        With ``initial_epoch`` k > 0, training runs epochs k+1 .. ``epochs`` and continues
        the random state the model has (:meth:`set_training_state`): ``seed`` is ignored,
        so a resumed run shuffles as the uninterrupted one did.
        """
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        with _limit_blas(self.blas_threads):
            return self._fit(
                x, y, epochs, batch_size, shuffle, seed, validation_data, callbacks, initial_epoch
            )

    def training_state(self) -> dict[str, Any]:
        """What resuming needs beyond the weights: the optimizer's state and the random state.

        Values are arrays (the optimizer's slots) or JSON data (counters, the
        generators' ``bit_generator.state``).
        """
        opt = self.optimizer
        state: dict[str, Any] = {
            "optimizer.iterations": int(getattr(opt, "iterations", 0)),
            "rng.layers": self._rng_kw["rng"].bit_generator.state,
        }
        if self._shuffle_rng is not None:
            state["rng.shuffle"] = self._shuffle_rng.bit_generator.state
        for i, slots in enumerate(getattr(opt, "_slots", None) or ()):
            for name, value in slots.items():
                state[f"optimizer.slot.{i}.{name}"] = value.copy()
        return state

    def set_training_state(self, state: Mapping[str, Any]) -> None:
        """Restore what :meth:`training_state` returned (after :meth:`set_weights`)."""
        opt = self.optimizer
        opt.iterations = int(state.get("optimizer.iterations", 0))
        self._rng_kw["rng"].bit_generator.state = state["rng.layers"]
        if "rng.shuffle" in state:
            rng = np.random.default_rng()
            rng.bit_generator.state = state["rng.shuffle"]
            self._shuffle_rng = rng
        slots: dict[int, dict[str, Array]] = {}
        for key, value in state.items():
            if key.startswith("optimizer.slot."):
                i, name = key[len("optimizer.slot.") :].split(".", 1)
                slots.setdefault(int(i), {})[name] = np.array(value, dtype=self.dtype)
        if slots and hasattr(opt, "_slots"):
            opt._slots = [slots.get(i, {}) for i in range(len(self._params))]
            opt._shapes = [(p.shape, p.dtype) for p in self._params]

    def _fit(
        self,
        x: Any,
        y: Any,
        epochs: int,
        batch_size: int,
        shuffle: bool,
        seed: int | None,
        validation_data: tuple[Any, Any] | None,
        callbacks: Sequence[TrainingCallback],
        initial_epoch: int = 0,
    ) -> dict[str, list[float]]:
        xs, ys, n = self._prepare(x, y)
        val = self._prepare(*validation_data) if validation_data is not None else None
        if initial_epoch > 0 and self._shuffle_rng is not None:
            rng = self._shuffle_rng  # resuming: the restored generators carry on
        elif seed is not None:
            shuffle_seq, layer_seq = np.random.SeedSequence(seed).spawn(2)
            rng = np.random.default_rng(shuffle_seq)
            self._rng_kw["rng"] = np.random.default_rng(layer_seq)
        else:
            rng = self._rng_kw["rng"]
        self._shuffle_rng = rng
        # Gather buffers for shuffled batches, reused across batches (np.take(out=...)).
        size = min(batch_size, n)
        xbuf = {k: np.empty((size, *a.shape[1:]), a.dtype) for k, a in xs.items()}
        ybuf = {k: np.empty((size, *a.shape[1:]), a.dtype) for k, a in ys.items()}

        def epoch_batches(epoch: int) -> Iterator[tuple[dict[str, Array], dict[str, Array], int]]:
            order = rng.permutation(n) if shuffle else None
            for start in range(0, n, batch_size):
                end = min(start + batch_size, n)
                m = end - start
                if order is None:
                    yield (
                        {k: a[start:end] for k, a in xs.items()},
                        {k: a[start:end] for k, a in ys.items()},
                        m,
                    )
                    continue
                idx = order[start:end]
                xb = {
                    k: np.take(a, idx, axis=0, out=xbuf[k][:m], mode="clip") for k, a in xs.items()
                }
                yb = {
                    k: np.take(a, idx, axis=0, out=ybuf[k][:m], mode="clip") for k, a in ys.items()
                }
                yield xb, yb, m

        validate = (
            (lambda: self._evaluate_batches(self._slices(*val, batch_size)))
            if val is not None
            else None
        )
        return self._epochs(epoch_batches, initial_epoch, epochs, validate, callbacks)

    def _epochs(
        self,
        epoch_batches: Callable[[int], Iterable[tuple[dict[str, Array], dict[str, Array], int]]],
        initial_epoch: int,
        epochs: int,
        validate: Callable[[], dict[str, float]] | None,
        callbacks: Sequence[TrainingCallback],
    ) -> dict[str, list[float]]:
        """The training loop of ``fit`` and ``fit_stream``: one step per (x, y, rows) batch.

        Epoch figures are means weighted by batch size; callbacks hear every epoch's
        beginning and end and every batch's end (running means), and any of them
        returning True stops training (an unfinished epoch is not recorded).
        """
        history: dict[str, list[float]] = {k: [] for k in self._keys}
        if validate is not None:
            history.update({f"val_{k}": [] for k in self._keys})
        callbacks = list(callbacks)
        nkeys = len(self._keys)
        for epoch in range(initial_epoch, epochs):
            for cb in callbacks:
                cb.on_epoch_begin(epoch)
            sums = [0.0] * nkeys
            seen = 0
            stop = False
            for batch, (xb, yb, m) in enumerate(epoch_batches(epoch)):
                logs = self._train_batch(xb, yb)
                for j in range(nkeys):
                    sums[j] += logs[j] * m
                seen += m
                if callbacks:
                    running = self._finalize(sums, seen)
                    stop = any([cb.on_batch_end(epoch, batch, running) for cb in callbacks])
                    if stop:
                        break
            if stop:
                break  # an unfinished epoch is not recorded
            epoch_logs = self._finalize(sums, seen)
            if validate is not None:
                epoch_logs.update({f"val_{k}": v for k, v in validate().items()})
            for k, v in epoch_logs.items():
                history[k].append(v)
            if callbacks and any([cb.on_epoch_end(epoch, dict(epoch_logs)) for cb in callbacks]):
                break
        return history

    @staticmethod
    def _slices(
        xs: dict[str, Array], ys: dict[str, Array], n: int, batch_size: int
    ) -> Iterator[tuple[dict[str, Array], dict[str, Array], int]]:
        for start in range(0, n, batch_size):
            end = min(start + batch_size, n)
            yield (
                {k: a[start:end] for k, a in xs.items()},
                {k: a[start:end] for k, a in ys.items()},
                end - start,
            )

    def _evaluate_batches(
        self, batches: Iterable[tuple[dict[str, Array], dict[str, Array], int]]
    ) -> dict[str, float]:
        """Figures over every batch, each batch weighted by its rows: the exact sample mean."""
        sums = [0.0] * len(self._keys)
        seen = 0
        for xb, yb, m in batches:
            values, caches = self._forward(xb, False)
            logs, _, _ = self._losses(values, caches, yb, grads=False)
            for j, v in enumerate(logs):
                sums[j] += v * m
            seen += m
        return self._finalize(sums, seen)

    def _prepared(
        self, batches: Iterable[tuple[Any, Any]]
    ) -> Iterator[tuple[dict[str, Array], dict[str, Array], int]]:
        """Check and convert each (x, y) batch read from a file, as ``fit`` does its arrays."""
        for x, y in batches:
            xs, ys, m = self._prepare(x, y)
            if m:
                yield xs, ys, m

    def fit_stream(
        self,
        batches: Callable[[int], Iterable[tuple[Any, Any]]],
        *,
        epochs: int = 1,
        validation: Callable[[], Iterable[tuple[Any, Any]]] | None = None,
        seed: int | None = None,
        callbacks: Sequence[TrainingCallback] = (),
    ) -> dict[str, list[float]]:
        """Train on batches read from a file: ``batches(epoch)`` yields (x, y) NumPy batches.

        The same steps as :meth:`fit` on the same batches: only one batch (and the
        reader's chunk) is in memory. Order and shuffling are the reader's; ``seed``
        seeds the stochastic layers as :meth:`fit`'s does.
        """
        if seed is not None:
            _, layer_seq = np.random.SeedSequence(seed).spawn(2)
            self._rng_kw["rng"] = np.random.default_rng(layer_seq)
        validate = (
            (lambda: self._evaluate_batches(self._prepared(validation())))
            if validation is not None
            else None
        )
        with _limit_blas(self.blas_threads):
            return self._epochs(
                lambda epoch: self._prepared(batches(epoch)), 0, epochs, validate, callbacks
            )

    def evaluate_stream(self, batches: Callable[[], Iterable[tuple[Any, Any]]]) -> dict[str, float]:
        """Loss and metrics over every (x, y) batch of ``batches()``: exact means over the samples."""
        return self._evaluate_batches(self._prepared(batches()))

    def evaluate(self, x: Any, y: Any, *, batch_size: int = 32) -> dict[str, float]:
        """Loss and metrics on the given data (inference mode), under the history's key names."""
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        xs, ys, n = self._prepare(x, y)
        return self._evaluate_batches(self._slices(xs, ys, n, batch_size))

    def predict(self, x: Any, *, batch_size: int = 32) -> dict[str, Array]:
        """Outputs keyed by output name (inference mode)."""
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        xs, _, n = self._prepare(x, None)
        graph = self.graph
        out = {
            o.name: np.empty((n, *graph.node(o.node).output_shape), self.dtype)
            for o in graph.outputs
        }
        for start in range(0, n, batch_size):
            end = min(start + batch_size, n)
            values, _ = self._forward({k: a[start:end] for k, a in xs.items()}, False)
            for o in graph.outputs:
                out[o.name][start:end] = values[o.node]
        return out

    def count_params(self) -> int:
        """Number of weight values, trainable and non-trainable (Keras's ``count_params``)."""
        return int(sum(w.size for ws in self.weights.values() for w in ws))

    def get_weights(self) -> dict[str, list[Array]]:
        """Copies of every node's weights, ``{node: [arrays in Keras order]}`` (nodes without weights omitted)."""
        return {name: [w.copy() for w in ws] for name, ws in self.weights.items() if ws}

    def set_weights(self, weights: Mapping[str, Sequence[Any]]) -> None:
        """Copy weights in (cast to the model's dtype); nodes not named keep theirs."""
        unknown = sorted(set(weights) - set(self.weights))
        if unknown:
            raise ValueError(
                f"set_weights: no node named {', '.join(unknown)} in '{self.graph.name}'"
            )
        staged = []
        for name, new in weights.items():
            mine = self.weights[name]
            new = list(new)
            if len(new) != len(mine):
                raise ValueError(
                    f"set_weights: node '{name}' has {len(mine)} weight array(s), got {len(new)}"
                )
            for j, (w, v) in enumerate(zip(mine, new, strict=True)):
                v = np.asarray(v)
                if v.shape != w.shape:
                    raise ValueError(
                        f"set_weights: node '{name}' weight {j} has shape {w.shape}, got {v.shape}"
                    )
                staged.append((w, v))
        for w, v in staged:  # all checked first: no half-applied update
            w[...] = v

    def __repr__(self) -> str:
        return f"NumpyModel({self.graph.name!r}, {self.count_params():,} params, {self.dtype})"
