"""The plugin author's kit: conformance checks to call from a plugin's own tests.

Each ``check_*`` function runs what specforge will do with a plugin's
contribution, compares it with the reference (Keras, the NumPy backend, finite
differences, a JSON/npz round trip) and raises :class:`ConformanceError` (an
``AssertionError``, so pytest shows it as a plain test failure) saying what
disagrees and by how much. They return what they computed, for further
assertions::

    from specforge.testing import check_node_type, check_plugin
    import specforge_layers.plugin

    def test_the_plugin_loads_cleanly():
        check_plugin(specforge_layers.plugin)

    def test_batch_normalization_matches_keras():
        check_node_type("BatchNormalization", params={"momentum": 0.9}, input_shapes=[(6,)])

What each check covers:

* :func:`check_plugin`: the plugin loads next to the built-ins with no
  problem (import, API version, hook names, duplicate names).
* :func:`check_node_type`: validation of the parameters, shape inference and
  parameter count (trainable and not) against the layer its Keras lowering
  builds; the NumPy lowering's ``init`` shapes, trainable flags, forward and
  backward against Keras (inference and training mode, within 1e-5), its
  backward against central finite differences in float64, its
  ``update_state`` against Keras's moving statistics; the Keras import rule
  (the imported node rebuilds a layer with the same config).
* :func:`check_backend`: a backend's predictions match the NumPy reference
  backend's with the same weights, and save/load keeps them.
* :func:`check_dataset`: parameters validate through the pydantic model, the
  loader returns a well-formed :class:`specforge.data.readers.Dataset`, twice
  the same (seeded, no hidden state).
* :func:`check_preprocessor`: ``transform`` before ``fit`` fails, ``fit``
  learns from the training data only and keeps no reference to it, the state
  survives the run directory's JSON + npz round trip (never pickle) and gives
  the same output after ``set_state``.

Helpers: :func:`registry_with` builds a registry with a plugin that is not
installed (pass it as ``registry=``); :func:`plugins_installed` runs code (the
CLI included) as if a plugin were installed; :func:`resolve_node` gives the
``GraphNode`` a backend receives, to call a lowering directly;
:func:`make_distribution` writes an installed-looking distribution with an
entry point, to test what users see when a plugin is installed but broken.
numpy and Keras are imported inside the checks that need them; importing this
module costs nothing.
"""

from __future__ import annotations

import contextlib
import inspect
import io
import json
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from . import plugins as _plugins
from .plugin import DatasetType, NodeType, PreprocessorType

__all__ = [
    "ConformanceError",
    "NodeReport",
    "check_backend",
    "check_dataset",
    "check_node_type",
    "check_plugin",
    "check_preprocessor",
    "keras_structure",
    "make_distribution",
    "plugin_under_test",
    "plugins_installed",
    "registry_with",
    "resolve_node",
]

#: Default tolerances: NumPy against Keras, and analytic gradients against finite differences.
ATOL = RTOL = 1e-5
FD_RTOL, FD_ATOL = 1e-4, 1e-6


class ConformanceError(AssertionError):
    """A plugin does not do what specforge expects of it; the message says what and where."""


# ---------------------------------------------------------------- plugins in tests


def _named(plugins: Iterable[Any]) -> list[tuple[str, Any]]:
    named = []
    for p in plugins:
        if isinstance(p, tuple) and len(p) == 2 and isinstance(p[0], str):
            named.append(p)
        else:
            named.append((getattr(p, "__name__", None) or type(p).__name__, p))
    return named


def registry_with(*plugins: Any, entry_points: bool = False) -> _plugins.Registry:
    """A fresh registry: the built-ins plus ``plugins`` (modules, objects or (name, plugin) pairs).

    ``entry_points=True`` adds the installed third-party plugins too.
    """
    return _plugins.load_registry(_named(plugins), entry_points=entry_points)


@contextlib.contextmanager
def plugins_installed(*plugins: Any, entry_points: bool = True) -> Iterator[_plugins.Registry]:
    """Within the block, specforge (API and CLI alike) sees ``plugins`` as if installed.

    ``entry_points=False`` also hides the really installed third-party plugins.
    Blocks nest: an inner block adds its plugins to the outer block's.
    Yields the registry in use; the previous state is restored on exit.
    """
    saved = (
        _plugins._EXTRA_PLUGINS,
        _plugins._USE_ENTRY_POINTS,
        _plugins._FORCE_DISABLED,
        _plugins._REGISTRY,
        _plugins._PM,
    )
    # Nested blocks add up: the outer block's plugins stay installed.
    _plugins._EXTRA_PLUGINS = (*_plugins._EXTRA_PLUGINS, *_named(plugins))
    _plugins._USE_ENTRY_POINTS = entry_points and _plugins._USE_ENTRY_POINTS
    _plugins._REGISTRY = _plugins._PM = None
    try:
        yield _plugins.get_registry()
    finally:
        (
            _plugins._EXTRA_PLUGINS,
            _plugins._USE_ENTRY_POINTS,
            _plugins._FORCE_DISABLED,
            _plugins._REGISTRY,
            _plugins._PM,
        ) = saved


@contextlib.contextmanager
def plugin_under_test(name: str, module: str) -> Iterator[_plugins.Registry]:
    """The plugin being tested, whether it is installed or run from its source checkout.

    If an entry point ``name`` is loaded already, nothing changes; otherwise the
    module ``module`` (importable, e.g. from ``src/`` on ``sys.path``) is loaded
    as if installed under ``name``. Use it from an autouse fixture in the
    plugin's ``conftest.py``, so its tests pass installed or not.
    """
    import importlib

    registry = _plugins.get_registry()
    if name in {p.name for p in registry.plugins}:
        yield registry
        return
    with plugins_installed((name, importlib.import_module(module))) as reg:
        yield reg


def make_distribution(
    directory: Any,
    name: str,
    entry_points: Mapping[str, str],
    modules: Mapping[str, str] | None = None,
    *,
    version: str = "0.0.1",
) -> Any:
    """Write an installed-looking distribution into ``directory``: modules plus a ``.dist-info``.

    ``entry_points`` maps plugin names to ``module`` or ``module:attribute``
    (group ``specforge``); ``modules`` maps file names (``my_plugin.py``) to
    source. Put ``directory`` on ``sys.path`` (or ``PYTHONPATH`` for a
    subprocess) and specforge finds the plugin exactly as if pip had installed
    it: the way to test what users see when a plugin fails to import. Returns
    the directory as a :class:`pathlib.Path`.
    """
    from pathlib import Path

    root = Path(directory)
    root.mkdir(parents=True, exist_ok=True)
    for filename, source in dict(modules or {}).items():
        target = root / filename
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(source, encoding="utf-8")
    info = root / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir(exist_ok=True)
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n", encoding="utf-8"
    )
    lines = ["[specforge]", *(f"{ep} = {target}" for ep, target in entry_points.items())]
    (info / "entry_points.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return root


def check_plugin(plugin: Any, name: str | None = None) -> _plugins.Registry:
    """Load ``plugin`` next to the built-ins; fail on any problem it causes.

    Checks that it declares ``SPECFORGE_API`` (an int no newer than this
    specforge's), that every hook it implements exists, that each registry hook
    runs and registers valid things, and that none of its names clashes with a
    built-in. Returns the registry (built-ins + this plugin).
    """
    from .plugin import API_VERSION

    label = name or getattr(plugin, "__name__", None) or type(plugin).__name__
    declared = getattr(plugin, "SPECFORGE_API", None)
    if declared is None:
        raise ConformanceError(
            f"plugin '{label}' does not declare SPECFORGE_API (add SPECFORGE_API = {API_VERSION})"
        )
    builtin = getattr(plugin, "__name__", None) in _plugins.BUILTIN_PLUGINS
    if builtin:  # loaded with every registry: check it where it is, under its own name
        label = plugin.__name__
        reg = _plugins.load_registry(entry_points=False)
    else:
        reg = _plugins.load_registry([(label, plugin)], entry_points=False)
    problems = [p for p in reg.problems if p.plugin == label]
    if problems:
        raise ConformanceError("\n".join(p.render() for p in problems))
    if not any(p.name == label for p in reg.plugins):
        raise ConformanceError(f"plugin '{label}' was not loaded")
    return reg


# ---------------------------------------------------------------- helpers


def _close(what: str, actual: Any, expected: Any, *, rtol: float, atol: float) -> None:
    import numpy as np

    actual, expected = np.asarray(actual, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    if actual.shape != expected.shape:
        raise ConformanceError(f"{what}: shape {actual.shape}, expected {expected.shape}")
    if not np.all(np.isfinite(actual)):
        raise ConformanceError(f"{what}: contains NaN or infinity")
    bad = ~np.isclose(actual, expected, rtol=rtol, atol=atol)
    if bad.any():
        diff = np.abs(actual - expected)
        worst = np.unravel_index(int(np.argmax(np.where(bad, diff, -1))), actual.shape)
        raise ConformanceError(
            f"{what}: {int(bad.sum())} of {actual.size} values differ beyond rtol={rtol:g}, atol={atol:g}; "
            f"worst at {tuple(int(i) for i in worst)}: {actual[worst]!r} vs {expected[worst]!r} "
            f"(max abs diff {float(diff.max()):.3g})"
        )


def _accepts(fn: Any, keyword: str) -> bool:
    try:
        return keyword in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False


def _node_type_of(node_type: NodeType | str, reg: _plugins.Registry) -> NodeType:
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
    from .api import check_data

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
    registry: _plugins.Registry | None = None,
) -> Any:
    """The :class:`specforge.graph.GraphNode` a backend receives for one node of ``node_type``.

    Resolved through the real checker (parameters validated, names
    canonical, shapes and counts inferred), for calling a lowering directly in
    a test. The node is named ``node`` and its inputs ``in_0``, ``in_1``, ...
    """
    reg = registry or _plugins.get_registry()
    return _graph_for(_node_type_of(node_type, reg), params or {}, input_shapes, reg).node("node")


# ---------------------------------------------------------------- node types


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
    registry: _plugins.Registry | None = None,
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

    reg = registry or _plugins.get_registry()
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

    from .keras_backend.context import KerasContext
    from .keras_backend.env import import_keras

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

    from .numpy_backend.lowering import NumpyContext

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

    from .numpy_backend.lowering import NumpyContext

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
        _close(f"{what} forward", out, k_out, rtol=rtol, atol=atol)
        if len(g_in) != len(xs):
            raise ConformanceError(
                f"{what}: backward returned {len(g_in)} input gradients for {len(xs)} inputs"
            )
        for k, (mine, theirs) in enumerate(zip(g_in, k_gin, strict=True)):
            _close(
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
            _close(
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
            _close(
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

    from .numpy_backend.lowering import NumpyContext

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
            _close(
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
    from .keras_backend.context import KerasContext

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


# ---------------------------------------------------------------- backends


def check_backend(
    backend: Any,
    spec: Any,
    *,
    reference: str = "numpy",
    registry: _plugins.Registry | None = None,
    seed: int = 0,
    batch: int = 8,
    rtol: float = RTOL,
    atol: float = ATOL,
    tmp_path: Any = None,
) -> dict[str, float]:
    """Predictions of ``backend`` against the ``reference`` backend, with the same weights.

    ``backend`` is a Backend instance or name; ``spec`` a spec file, dict or
    Graph. Builds the reference model, moves its weights over with
    ``set_weights``, compares ``predict`` on random inputs, and, when
    ``tmp_path`` is given, checks that ``save`` then ``load`` keeps the
    predictions. Returns the largest absolute difference per output.
    """
    import numpy as np

    from .api import resolve

    reg = registry or _plugins.get_registry()
    b = reg.backends[backend] if isinstance(backend, str) else backend
    ref = reg.backends[reference]
    graph = resolve(spec, registry=reg)
    ref_model = ref.build(graph, seed=seed, registry=reg)
    model = b.build(graph, seed=seed, registry=reg)
    b.set_weights(model, ref.get_weights(ref_model))
    gen = np.random.default_rng(seed)
    x = {i.name: gen.normal(size=(batch, *i.shape)).astype(i.dtype) for i in graph.inputs}
    expected = ref.predict(ref_model, x, batch_size=batch)
    got = b.predict(model, x, batch_size=batch)
    diffs: dict[str, float] = {}
    for o in graph.outputs:
        if o.node not in got:
            raise ConformanceError(f"backend '{b.name}' gave no prediction for output '{o.node}'")
        _close(
            f"{graph.name}: output '{o.node}' of backend '{b.name}' vs '{reference}'",
            got[o.node],
            expected[o.node],
            rtol=rtol,
            atol=atol,
        )
        diffs[o.node] = float(
            np.max(np.abs(np.asarray(got[o.node], dtype=np.float64) - expected[o.node]))
        )
    if tmp_path is not None:
        from pathlib import Path

        path = Path(tmp_path) / f"{graph.name}{b.file_suffix}"
        b.save(model, str(path))
        loaded = b.load(str(path), graph, registry=reg)
        again = b.predict(loaded, x, batch_size=batch)
        for o in graph.outputs:
            _close(
                f"{graph.name}: output '{o.node}' after save/load",
                again[o.node],
                got[o.node],
                rtol=0,
                atol=0,
            )
    return diffs


# ---------------------------------------------------------------- datasets


def check_dataset(
    dataset_type: DatasetType | str,
    params: Mapping[str, Any] | None = None,
    *,
    registry: _plugins.Registry | None = None,
) -> Any:
    """Validate ``params``, load the dataset twice and check what comes back. Returns the Dataset."""
    import numpy as np

    from .data.readers import Dataset

    reg = registry or _plugins.get_registry()
    dt = reg.datasets.get(dataset_type) if isinstance(dataset_type, str) else dataset_type
    if dt is None:
        raise ConformanceError(f"dataset '{dataset_type}' is not registered")
    try:
        dt.params_model.model_json_schema()
    except Exception as exc:
        raise ConformanceError(
            f"dataset '{dt.name}': its params model has no JSON Schema ({exc})"
        ) from None
    p = dt.params_model.model_validate(dict(params or {}))
    first, second = dt.load(p), dt.load(p)
    where = f"dataset '{dt.name}' with {dict(params or {})}"
    if not isinstance(first, Dataset):
        raise ConformanceError(
            f"{where}: load() returned {type(first).__name__}, not specforge.data.readers.Dataset"
        )
    x, y = first.x, first.y
    if not isinstance(x, np.ndarray) or x.ndim < 2 or len(x) == 0:
        raise ConformanceError(
            f"{where}: x must be a non-empty array of shape (samples, features...), got {getattr(x, 'shape', x)}"
        )
    if not np.issubdtype(x.dtype, np.floating) or not np.all(np.isfinite(x)):
        raise ConformanceError(f"{where}: x must hold finite floats, got dtype {x.dtype}")
    width = math.prod(x.shape[1:])
    if len(first.feature_names) not in (width, x.shape[-1]):
        raise ConformanceError(
            f"{where}: {len(first.feature_names)} feature names for {width} features"
        )
    if y is not None:
        if first.task == "classification":
            if not np.issubdtype(y.dtype, np.integer):
                raise ConformanceError(
                    f"{where}: classification targets must be integer class indices, got {y.dtype}"
                )
            names = first.class_names or []
            if y.min() < 0 or y.max() >= len(names):
                raise ConformanceError(
                    f"{where}: class indices {int(y.min())}..{int(y.max())} do not fit {len(names)} class names"
                )
        elif not np.all(np.isfinite(y)):
            raise ConformanceError(f"{where}: regression targets contain NaN or infinity")
    for a, b, what in (
        (first.x, second.x, "x"),
        (first.y, second.y, "y"),
        (first.x_test, second.x_test, "x_test"),
    ):
        if (a is None) != (b is None) or (a is not None and not np.array_equal(a, b)):
            raise ConformanceError(
                f"{where}: two loads gave different {what}: the loader must be deterministic (seeded)"
            )
    json.dumps(
        {
            "features": first.feature_names,
            "targets": first.target_names,
            "classes": first.class_names,
        }
    )
    return first


# ---------------------------------------------------------------- preprocessors


def _state_round_trip(state: Mapping[str, Any], where: str) -> dict[str, Any]:
    """What a run directory gives back: arrays through an npz (no pickle), the rest through JSON."""
    import numpy as np

    arrays, plain = {}, {}
    for key, value in state.items():
        if not isinstance(key, str):
            raise ConformanceError(f"{where}: state keys must be strings, got {key!r}")
        if isinstance(value, np.ndarray):
            if value.dtype == object:
                raise ConformanceError(
                    f"{where}: state array '{key}' has dtype object (it would need pickle)"
                )
            arrays[key] = value
        else:
            plain[key] = value
    try:
        text = json.dumps(plain, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ConformanceError(
            f"{where}: state is not plain JSON data plus numpy arrays: {exc}"
        ) from None
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    buf.seek(0)
    with np.load(buf, allow_pickle=False) as npz:
        back = {k: npz[k] for k in npz.files}
    return {**json.loads(text), **back}


def check_preprocessor(
    preprocessor_type: PreprocessorType | str,
    params: Mapping[str, Any] | None = None,
    x_train: Any = None,
    x_test: Any = None,
    *,
    registry: _plugins.Registry | None = None,
    seed: int = 0,
) -> Any:
    """Fit on ``x_train``, transform ``x_test``, round-trip the state; returns the transformed ``x_test``.

    The data default to random normal features (40 × 4 and 15 × 4); give
    your own for a preprocessor that needs particular values (class labels
    for a targets preprocessor).
    """
    import numpy as np

    reg = registry or _plugins.get_registry()
    pt = (
        reg.preprocessors.get(preprocessor_type)
        if isinstance(preprocessor_type, str)
        else preprocessor_type
    )
    if pt is None:
        raise ConformanceError(f"preprocessor '{preprocessor_type}' is not registered")
    where = f"preprocessor '{pt.name}' with {dict(params or {})}"
    gen = np.random.default_rng(seed)
    if x_train is None:
        x_train = gen.normal(2.0, 3.0, size=(40, 4)).astype(np.float32)
    if x_test is None:
        x_test = gen.normal(-1.0, 0.5, size=(15, *np.shape(x_train)[1:])).astype(
            np.asarray(x_train).dtype
        )
    p = pt.params_model.model_validate(dict(params or {}))
    obj = pt.create(p)
    for method in ("fit", "transform", "get_state", "set_state"):
        if not callable(getattr(obj, method, None)):
            raise ConformanceError(f"{where}: the object create() returns has no {method}()")
    try:
        obj.transform(x_test)
    except Exception:
        pass
    else:
        raise ConformanceError(f"{where}: transform() before fit() must fail, not guess")

    train = np.array(x_train, copy=True)
    obj.fit(train)
    state = obj.get_state()
    if not isinstance(state, Mapping):
        raise ConformanceError(f"{where}: get_state() must return a dict")
    frozen = _state_round_trip(state, where)
    out = np.asarray(obj.transform(np.array(x_test, copy=True)))
    if len(out) != len(x_test):
        raise ConformanceError(
            f"{where}: transform() changed the number of samples ({len(x_test)} → {len(out)})"
        )
    if np.issubdtype(out.dtype, np.floating) and not np.all(np.isfinite(out)):
        raise ConformanceError(f"{where}: transform() produced NaN or infinity")
    # Fit on train only: transforming other data must not change what was learnt ...
    after = _state_round_trip(obj.get_state(), where)
    for key in frozen:
        if not np.array_equal(np.asarray(frozen[key]), np.asarray(after[key])):
            raise ConformanceError(
                f"{where}: transform() changed the fitted state '{key}': fit must see the training data only"
            )
    # ... nor must the training array, changed after fit, reach the state.
    train[...] = 0
    again = np.asarray(obj.transform(np.array(x_test, copy=True)))
    if not np.array_equal(again, out):
        raise ConformanceError(
            f"{where}: the fitted state refers to the training array instead of copying what it learnt"
        )
    fresh = pt.create(p)
    fresh.set_state(frozen)
    restored = np.asarray(fresh.transform(np.array(x_test, copy=True)))
    _close(
        f"{where}: output after the state's JSON/npz round trip", restored, out, rtol=1e-7, atol=0
    )
    return out


# ---------------------------------------------------------------- comparing Keras models


def _clean_config(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: _clean_config(v) for k, v in value.items() if k not in ("name", "shared_object_id")
        }
    if isinstance(value, list | tuple):
        return [_clean_config(v) for v in value]
    return value


def _keras_tensors(obj: Any) -> Iterator[dict[str, Any]]:
    if isinstance(obj, dict) and obj.get("class_name") == "__keras_tensor__":
        yield obj
    elif isinstance(obj, dict):
        for v in obj.values():
            yield from _keras_tensors(v)
    elif isinstance(obj, list | tuple):
        for v in obj:
            yield from _keras_tensors(v)


def keras_structure(model: Any) -> tuple[Any, ...]:
    """A Keras model as comparable data: each output as a tree of (layer class,
    config without names, inputs). Two models with equal structures have the same
    layers, settings and wiring, whatever their layers are called; use it to
    check that a spec builds the model a user would write by hand.
    """
    import keras

    config = json.loads(json.dumps(keras.saving.serialize_keras_object(model)["config"]))
    layers = config["layers"]
    if type(model).__name__ == "Sequential":
        sig: Any = (
            "Input",
            0,
            tuple(layers[0]["config"]["batch_shape"]),
            layers[0]["config"]["dtype"],
        )
        for layer in layers[1:]:
            sig = (
                layer["class_name"],
                json.dumps(_clean_config(layer["config"]), sort_keys=True),
                (sig,),
            )
        return (sig,)
    by_name = {layer["name"]: layer for layer in layers}
    leaves = config["input_layers"]
    leaves = [leaves] if isinstance(leaves[0], str) else leaves
    input_order = [leaf[0] for leaf in leaves]

    def sig_of(name: str) -> Any:
        layer = by_name[name]
        if layer["class_name"] == "InputLayer":
            c = layer["config"]
            return ("Input", input_order.index(name), tuple(c["batch_shape"]), c["dtype"])
        (call,) = layer["inbound_nodes"]
        sources = [t["config"]["keras_history"][0] for t in _keras_tensors(call["args"])]
        return (
            layer["class_name"],
            json.dumps(_clean_config(layer["config"]), sort_keys=True),
            tuple(sig_of(s) for s in sources),
        )

    outs = config["output_layers"]
    outs = [outs] if isinstance(outs[0], str) else outs
    return tuple(sig_of(leaf[0]) for leaf in outs)
