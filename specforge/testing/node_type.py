"""Node-type conformance: shapes, parameter counts and lowerings against Keras.

:func:`check_node_type` resolves a one-node spec through the real checker,
builds the Keras layer the node's lowering makes, and compares with it the
node type's shape inference and parameter count, the NumPy lowering (weights,
forward, backward, state updates, and the backward against finite
differences), and the Keras import rule. :func:`resolve_node` gives the
``GraphNode`` a backend receives, to call a lowering directly.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..plugin import NodeType
from ..registry import Registry, get_registry
from .conformance import ATOL, FD_ATOL, FD_RTOL, RTOL, ConformanceError, assert_close


def _accepts(fn: Any, keyword: str) -> bool:
    try:
        return keyword in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False


def _node_type_of(node_type: NodeType | str, reg: Registry) -> NodeType:
    if isinstance(node_type, str):
        found = reg.node_types.get(node_type)
        if found is None:
            raise ConformanceError(
                f"node type '{node_type}' is not registered; install the plugin, or pass "
                f"registry=registry_with(your_plugin)"
            )
        return found
    registered = reg.node_types.get(node_type.name)
    if registered is None:
        raise ConformanceError(
            f"node type '{node_type.name}' is not in the registry used; pass registry=registry_with(your_plugin)"
        )
    if type(registered) is not type(node_type):
        owner = reg.owner.get(("node_type", node_type.name))
        raise ConformanceError(
            f"the registry's node type '{node_type.name}' is {type(registered).__name__} from plugin '{owner}', "
            f"not the {type(node_type).__name__} being checked"
        )
    return registered


def _graph_for(
    node_type: NodeType, params: Mapping[str, Any], input_shapes: Sequence[Sequence[int]], reg: Any
) -> Any:
    """Resolve a one-node spec through the real checker: what the backends will receive."""
    from ..api import check_data

    spec = {
        "specforge": 1,
        "name": "conformance",
        "inputs": [
            {"name": f"in_{k}", "shape": list(shape)} for k, shape in enumerate(input_shapes)
        ],
        "nodes": [
            {
                "name": "node",
                "type": node_type.name,
                "inputs": [f"in_{k}" for k in range(len(input_shapes))],
                **params,
            }
        ],
        "outputs": [{"node": "node", "loss": "mean_squared_error"}],
        "optimizer": {"type": "sgd"},
    }
    result = check_data(spec, registry=reg)
    if not result.ok or result.graph is None:
        lines = "\n".join(
            f"  {d.code}: {d.message}" + (f" ({d.help})" if d.help else "") for d in result.errors
        )
        raise ConformanceError(
            f"{node_type.name} with params {dict(params)} and inputs {list(input_shapes)} is invalid:\n{lines}"
        )
    return result.graph


def resolve_node(
    node_type: NodeType | str,
    params: Mapping[str, Any] | None = None,
    input_shapes: Sequence[Sequence[int]] = ((4,),),
    *,
    registry: Registry | None = None,
) -> Any:
    """The :class:`specforge.ir.GraphNode` a backend receives for one node of ``node_type``.

    Resolved through the real checker (parameters validated, names
    canonical, shapes and counts inferred), for calling a lowering directly in
    a test. The node is named ``node`` and its inputs ``in_0``, ``in_1``, ...
    """
    reg = registry or get_registry()
    return _graph_for(_node_type_of(node_type, reg), params or {}, input_shapes, reg).node("node")


@dataclass
class NodeReport:
    """What :func:`check_node_type` checked, for further assertions."""

    node: Any
    keras_output_shape: tuple[int, ...] | None = None
    keras_params: tuple[int, int] | None = None
    #: Largest absolute differences found, by check.
    max_diff: dict[str, float] = field(default_factory=dict)
    imported: dict[str, Any] | None = None


def check_node_type(
    node_type: NodeType | str,
    params: Mapping[str, Any] | None = None,
    input_shapes: Sequence[Sequence[int]] = ((4,),),
    *,
    registry: Registry | None = None,
    backends: Sequence[str] = ("keras", "numpy"),
    training: Sequence[bool] = (False, True),
    import_rule: bool = True,
    finite_differences: bool = True,
    batch: int = 5,
    seed: int = 0,
    rng: Any = None,
    rtol: float = RTOL,
    atol: float = ATOL,
) -> NodeReport:
    """Check a node type's shape inference, parameter count and lowerings against Keras.

    :param node_type: the node type instance (or its registered name).
    :param params: the node's parameters as a spec would write them.
    :param input_shapes: one shape per input, batch axis excluded.
    :param registry: where the node type and its lowerings are looked up
        (default: the installed plugins; use :func:`registry_with` for a plugin
        that is not installed).
    :param backends: ``keras`` checks shape and counts against the Keras layer;
        ``numpy`` (needs ``keras`` as the reference) checks the NumPy lowering.
    :param training: the modes compared. A stochastic node (Dropout) cannot
        match Keras sample by sample in training mode: check it with
        ``training=(False,)``, with a rate of 0, or with ``rng`` (passed to a
        NumPy ``forward`` accepting ``rng``) reproducing Keras's draw.
    :param import_rule: also check the Keras import rule of the layer's class.
    :param finite_differences: also check the NumPy backward in float64.
    """
    import numpy as np

    reg = registry or get_registry()
    nt = _node_type_of(node_type, reg)
    graph = _graph_for(nt, params or {}, input_shapes, reg)
    node = graph.node("node")
    report = NodeReport(node)

    # Static checks: what validate/summary print must be what the node type says.
    p = node.params
    shapes = tuple(tuple(s) for s in input_shapes)
    if tuple(nt.output_shape(p, shapes)) != tuple(node.output_shape):
        raise ConformanceError(f"{nt.name}: output_shape() is not deterministic")
    count = node.param_count
    if count.trainable < 0 or count.non_trainable < 0:
        raise ConformanceError(f"{nt.name}: negative parameter count {count}")

    if "keras" not in backends:
        if "numpy" in backends:
            raise ConformanceError(
                "the NumPy check compares with Keras: include 'keras' in backends"
            )
        return report

    keras, model, layer = _keras_layer(nt, graph, node, reg)
    out_shape = tuple(model.outputs[0].shape[1:])
    report.keras_output_shape = out_shape
    if out_shape != tuple(node.output_shape):
        raise ConformanceError(
            f"{nt.name}: shape inference gives {(None, *node.output_shape)}, the Keras layer computes {(None, *out_shape)}"
        )
    trainable = sum(math.prod(w.shape) for w in layer.trainable_weights)
    frozen = sum(math.prod(w.shape) for w in layer.non_trainable_weights)
    report.keras_params = (trainable, frozen)
    if (trainable, frozen) != (count.trainable, count.non_trainable):
        raise ConformanceError(
            f"{nt.name}: param_count() gives {count.trainable} trainable + {count.non_trainable} non-trainable, "
            f"the Keras layer has {trainable} + {frozen}"
        )

    # Random weights (perturbed from Keras's initial ones, so ones stay positive).
    gen = np.random.default_rng(seed)
    weights0 = [
        (w + gen.uniform(-0.25, 0.25, size=w.shape)).astype(np.float32) if w.size else w
        for w in layer.get_weights()
    ]
    layer.set_weights(weights0)
    xs = [gen.normal(size=(batch, *shape)).astype(np.float32) for shape in shapes]
    grad_out = gen.normal(size=(batch, *node.output_shape)).astype(np.float32)

    if "numpy" in backends:
        _check_numpy(
            report,
            nt,
            node,
            layer,
            model,
            keras,
            reg,
            weights0,
            xs,
            grad_out,
            training,
            rng,
            seed,
            rtol,
            atol,
        )
        if finite_differences:
            _check_finite_differences(
                report, nt, node, reg, weights0, xs, grad_out, training, rng, seed
            )

    if import_rule:
        report.imported = _check_import(nt, graph, node, layer, reg, input_shapes)
    return report


def _keras_layer(nt: NodeType, graph: Any, node: Any, reg: Any) -> tuple[Any, Any, Any]:
    lower = reg.lowering("keras", "node", nt.name)
    if lower is None:
        raise ConformanceError(
            f"{nt.name} has no Keras lowering (register('keras', 'node', '{nt.name}', fn))"
        )
    import random

    import numpy as np

    from ..keras_backend.context import KerasContext
    from ..keras_backend.env import import_keras

    keras = import_keras()
    # Seed Keras's initialisers for reproducible checks, leaving the caller's
    # Python and NumPy global random state as it was.
    saved = random.getstate(), np.random.get_state()
    keras.utils.set_random_seed(0)
    random.setstate(saved[0])
    np.random.set_state(saved[1])
    inputs = [keras.Input(shape=i.shape, name=i.name) for i in graph.inputs]
    out = lower(KerasContext(reg), node, list(inputs))
    if not isinstance(out, keras.KerasTensor):
        raise ConformanceError(
            f"{nt.name}: the Keras lowering returned {type(out).__name__}, not a Keras tensor"
        )
    model = keras.Model(inputs=inputs, outputs=out)
    layers = [lay for lay in model.layers if not isinstance(lay, keras.layers.InputLayer)]
    if len(layers) != 1:
        raise ConformanceError(
            f"{nt.name}: the Keras lowering must build exactly one layer, it built {len(layers)}: "
            + ", ".join(f"{lay.name} ({type(lay).__name__})" for lay in layers)
        )
    if layers[0].name != node.name:
        raise ConformanceError(
            f"{nt.name}: the Keras layer must be named after the node ('{node.name}'), got '{layers[0].name}'"
        )
    return keras, model, layers[0]


def _keras_run(
    keras: Any, model: Any, layer: Any, xs: list[Any], grad_out: Any, training: bool
) -> tuple[Any, list[Any], list[Any], list[Any]]:
    """Keras's output, input gradients and trainable-weight gradients of sum(output * grad_out),
    and its weights after the call (moving statistics move in training mode)."""
    import tensorflow as tf

    tensors = [tf.constant(x) for x in xs]
    with tf.GradientTape() as tape:
        tape.watch(tensors)
        out = model(tensors, training=training)
        objective = tf.reduce_sum(out * tf.constant(grad_out))
    grads = tape.gradient(objective, [*tensors, *layer.trainable_weights])
    n = len(tensors)
    as_np = [None if g is None else g.numpy() for g in grads]
    return out.numpy(), as_np[:n], as_np[n:], layer.get_weights()


def _numpy_pass(
    lowering: Any,
    node: Any,
    weights: list[Any],
    xs: list[Any],
    grad_out: Any,
    training: bool,
    rng: Any,
    seed: int,
    reg: Any,
) -> tuple[Any, list[Any], list[Any], Any]:
    """The NumPy lowering's output (activation applied as the backend does), its gradients, and its cache."""
    import numpy as np

    from ..numpy_backend.lowering import NumpyContext

    ctx = NumpyContext(reg)
    kwargs = {}
    if _accepts(lowering.forward, "rng"):
        kwargs["rng"] = rng if rng is not None else np.random.default_rng(seed)
    out, cache = lowering.forward(ctx, node, weights, list(xs), training, **kwargs)
    g = grad_out.astype(out.dtype)
    activation_name = getattr(node.params, "activation", None)
    if activation_name is not None and not getattr(lowering, "applies_activation", False):
        act = ctx.activation(activation_name)
        pre, out = out, act.forward(out)
        g = act.backward(pre, out, g)
    grad_inputs, grad_weights = lowering.backward(ctx, node, weights, cache, g)
    return out, list(grad_inputs), list(grad_weights), cache


def _check_numpy(
    report: NodeReport,
    nt: NodeType,
    node: Any,
    layer: Any,
    model: Any,
    keras: Any,
    reg: Any,
    weights0: list[Any],
    xs: list[Any],
    grad_out: Any,
    training: Sequence[bool],
    rng: Any,
    seed: int,
    rtol: float,
    atol: float,
) -> None:
    import numpy as np

    from ..numpy_backend.lowering import NumpyContext

    ctx = NumpyContext(reg)

    lowering = reg.lowering("numpy", "node", nt.name)
    if lowering is None:
        raise ConformanceError(
            f"{nt.name} has no NumPy lowering (register('numpy', 'node', '{nt.name}', lowering))"
        )
    fresh = lowering.init(ctx, node, np.random.default_rng(seed))
    shapes = [tuple(np.shape(w)) for w in fresh]
    keras_shapes = [tuple(w.shape) for w in weights0]
    if shapes != keras_shapes:
        raise ConformanceError(
            f"{nt.name}: NumPy init() gives weights of shapes {shapes}, Keras has {keras_shapes}"
        )
    flags_fn = getattr(lowering, "trainable", None)
    try:
        flags = list(flags_fn(ctx, node)) if flags_fn is not None else [True] * len(fresh)
    except NotImplementedError:
        flags = [True] * len(fresh)
    keras_flags = [bool(w.trainable) for w in layer.weights]
    if flags != keras_flags:
        raise ConformanceError(
            f"{nt.name}: NumPy trainable() flags {flags}, Keras's weights are trainable {keras_flags}"
        )

    for mode in training:
        what = f"{nt.name} ({'training' if mode else 'inference'})"
        layer.set_weights(weights0)
        k_out, k_gin, k_gw, k_after = _keras_run(keras, model, layer, xs, grad_out, mode)
        layer.set_weights(weights0)
        weights = [w.copy() for w in weights0]
        out, g_in, g_w, cache = _numpy_pass(
            lowering, node, weights, xs, grad_out, mode, rng, seed, reg
        )
        assert_close(f"{what} forward", out, k_out, rtol=rtol, atol=atol)
        if len(g_in) != len(xs):
            raise ConformanceError(
                f"{what}: backward returned {len(g_in)} input gradients for {len(xs)} inputs"
            )
        for k, (mine, theirs) in enumerate(zip(g_in, k_gin, strict=True)):
            assert_close(
                f"{what} gradient of input {k}",
                mine,
                theirs if theirs is not None else np.zeros_like(xs[k]),
                rtol=rtol,
                atol=atol,
            )
        if len(g_w) != len(weights0):
            raise ConformanceError(
                f"{what}: backward returned {len(g_w)} weight gradients for {len(weights0)} weights"
            )
        trainable_grads = iter(k_gw)
        for k, (mine, flag) in enumerate(zip(g_w, flags, strict=True)):
            if not flag:
                if mine is not None:
                    raise ConformanceError(
                        f"{what}: weight {k} is non-trainable, its gradient must be None"
                    )
                continue
            theirs = next(trainable_grads)
            assert_close(
                f"{what} gradient of weight {k}",
                mine,
                theirs if theirs is not None else np.zeros_like(weights0[k]),
                rtol=rtol,
                atol=atol,
            )
        update = getattr(lowering, "update_state", None)
        if mode and callable(update):
            update(ctx, node, weights, cache)
        # Keras moved its moving statistics in training mode: so must update_state.
        for k, (mine, theirs) in enumerate(zip(weights, k_after, strict=True)):
            assert_close(
                f"{what} weight {k} after one step's state update",
                mine,
                theirs,
                rtol=rtol,
                atol=atol,
            )
        report.max_diff[f"forward {'training' if mode else 'inference'}"] = (
            float(np.max(np.abs(out - k_out))) if out.size else 0.0
        )


def _check_finite_differences(
    report: NodeReport,
    nt: NodeType,
    node: Any,
    reg: Any,
    weights0: list[Any],
    xs: list[Any],
    grad_out: Any,
    training: Sequence[bool],
    rng: Any,
    seed: int,
) -> None:
    import numpy as np

    from ..numpy_backend.lowering import NumpyContext

    lowering = reg.lowering("numpy", "node", nt.name)
    flags_fn = getattr(lowering, "trainable", None)
    try:
        flags = (
            list(flags_fn(NumpyContext(reg), node))
            if flags_fn is not None
            else [True] * len(weights0)
        )
    except NotImplementedError:
        flags = [True] * len(weights0)
    x64 = [x.astype(np.float64) for x in xs]
    w64 = [w.astype(np.float64) for w in weights0]
    g64 = grad_out.astype(np.float64)
    pick = np.random.default_rng(seed + 1)

    for mode in training:
        if mode and rng is not None:
            continue  # a stub generator cannot be replayed for every perturbed evaluation

        def objective(inputs: list[Any], weights: list[Any], mode: bool = mode) -> float:
            out, _, _, _ = _numpy_pass(
                lowering, node, [w.copy() for w in weights], inputs, g64, mode, None, seed, reg
            )
            return float(np.sum(out * g64))

        _, g_in, g_w, _ = _numpy_pass(
            lowering, node, [w.copy() for w in w64], x64, g64, mode, None, seed, reg
        )
        targets = [("input", k, x64, g_in[k]) for k in range(len(x64))]
        targets += [("weight", k, w64, g_w[k]) for k in range(len(w64)) if flags[k]]
        for kind, k, arrays, analytic in targets:
            if analytic is None or arrays[k].size == 0:
                continue
            flat = arrays[k].reshape(-1)
            coords = pick.choice(flat.size, size=min(flat.size, 12), replace=False)
            numeric, expected = [], []
            for c in coords:
                eps = 1e-6 * max(1.0, abs(flat[c]))
                old = flat[c]
                flat[c] = old + eps
                up = objective(x64, w64)
                flat[c] = old - eps
                down = objective(x64, w64)
                flat[c] = old
                numeric.append((up - down) / (2 * eps))
                expected.append(np.asarray(analytic).reshape(-1)[c])
            assert_close(
                f"{nt.name} ({'training' if mode else 'inference'}) backward vs finite differences, {kind} {k}",
                expected,
                numeric,
                rtol=FD_RTOL,
                atol=FD_ATOL,
            )
            report.max_diff[f"finite differences {kind} {k}"] = float(
                np.max(np.abs(np.subtract(expected, numeric)))
            )


def _check_import(
    nt: NodeType, graph: Any, node: Any, layer: Any, reg: Any, input_shapes: Sequence[Sequence[int]]
) -> dict[str, Any]:
    class_name = type(layer).__name__
    rule = reg.lowering("keras", "import", class_name)
    if rule is None:
        raise ConformanceError(
            f"{nt.name}: no Keras import rule for layer class '{class_name}' "
            f"(register('keras', 'import', '{class_name}', fn)), or pass import_rule=False"
        )
    from ..keras_backend.context import KerasContext

    imported = dict(rule(KerasContext(reg), layer))
    if imported.get("type") != nt.name:
        raise ConformanceError(f"{nt.name}: the import rule gives type {imported.get('type')!r}")
    if "name" in imported or "inputs" in imported:
        raise ConformanceError(
            f"{nt.name}: an import rule returns type and parameters only (no name/inputs)"
        )
    params = {k: v for k, v in imported.items() if k != "type"}
    again = _graph_for(nt, params, input_shapes, reg)
    _, _, rebuilt = _keras_layer(nt, again, again.node("node"), reg)

    def config(lay: Any) -> dict[str, Any]:
        return {k: v for k, v in lay.get_config().items() if k not in ("name",)}

    if config(rebuilt) != config(layer):
        a, b = config(layer), config(rebuilt)
        diff = {k: (a.get(k), b.get(k)) for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)}
        raise ConformanceError(
            f"{nt.name}: the import rule loses settings; original vs re-imported config: {diff}"
        )
    if again.node("node").param_count != node.param_count:
        raise ConformanceError(f"{nt.name}: the re-imported node has a different parameter count")
    return imported
