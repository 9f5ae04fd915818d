"""Lower a resolved Graph into a compiled Keras functional model.

The Graph IR is the only input: one ``keras.Input`` per spec input (same name,
shape and dtype), one layer per node, built by the node type's Keras lowering
(registered through ``register_lowerings("keras", "node", ...)``, the
built-ins exactly like a plugin's), outputs named after their nodes, then
``compile()`` with the lowered optimizer, losses, loss weights and metrics.

What a spec asks for that Keras cannot do is found before Keras is touched and
reported as positioned diagnostics (:func:`check`); a Keras error that still
happens while a node is lowered becomes a diagnostic naming that node.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from ..backend_checks import Reporter, lowering_hint
from ..diagnostics import Diagnostic, Span, SpecError
from ..ir import Graph, GraphNode, OptimizerConfig
from ..plugin import BackendError
from ..registry import Registry, get_registry

BACKEND = "keras"
INSTALL_HINT = "install it with pip install 'specforge[tensorflow]'"

_registry: contextvars.ContextVar[Registry | None] = contextvars.ContextVar(
    "specforge_keras_registry", default=None
)


# ---------------------------------------------------------------- environment


def import_keras() -> Any:
    """``import keras``, or a :class:`BackendError` (exit 2) saying how to install it."""
    try:
        import keras
    except ImportError as exc:
        raise BackendError(
            f"the Keras backend needs keras and tensorflow, which cannot be imported ({exc})",
            help=INSTALL_HINT,
        ) from None
    return keras


# ---------------------------------------------------------------- the registry in use


@contextlib.contextmanager
def using_registry(registry: Registry | None) -> Iterator[Registry]:
    """Make ``registry`` the one lowerings look names up in, for the duration."""
    reg = registry or current_registry()
    token = _registry.set(reg)
    try:
        yield reg
    finally:
        _registry.reset(token)


def current_registry() -> Registry:
    return _registry.get() or get_registry()


class Unsupported(ValueError):
    """A name or setting the Keras backend cannot lower (or import)."""


def _lower_name(kind: str, name: str) -> Any:
    reg = current_registry()
    canonical = reg.canonical(kind, name) or name
    impl = reg.lowering(BACKEND, kind, canonical)
    if impl is None:
        raise Unsupported(f"{kind} '{name}' has no Keras lowering")
    return impl(canonical) if callable(impl) else impl


def activation(name: str) -> Any:
    """The Keras ``activation=`` value for a spec activation name.

    For node lowerings: ``Dense(..., activation=activation(node.params.activation))``.
    Looks the name up (aliases included) in the lowerings of kind ``activation``.
    """
    return _lower_name("activation", name)


def initializer(name: str) -> Any:
    """The Keras initializer (``kernel_initializer=`` value) for a spec initializer name."""
    return _lower_name("initializer", name)


def loss(name: str) -> Any:
    """The Keras loss for a spec loss name (lowering kind ``loss``)."""
    return _lower_name("loss", name)


def metric(name: str) -> Any:
    """The Keras metric for a spec metric name (lowering kind ``metric``)."""
    return _lower_name("metric", name)


def optimizer(config: OptimizerConfig) -> Any:
    """A new Keras optimizer for the spec's optimizer (lowering kind ``optimizer``)."""
    reg = current_registry()
    impl = reg.lowering(BACKEND, "optimizer", config.type)
    if impl is None:
        raise Unsupported(f"optimizer '{config.type}' has no Keras lowering")
    return impl(config)


def keras_name(identifier: Any) -> str:
    """The name Keras gives a metric (history key) for a lowered metric identifier."""
    if isinstance(identifier, str):
        return identifier
    return str(getattr(identifier, "name", None) or getattr(identifier, "__name__", identifier))


# ---------------------------------------------------------------- diagnostics


def _providers_hint(reg: Registry, kind: str, name: str) -> str:
    return lowering_hint(reg, BACKEND, "Keras", kind, name)


def check(
    graph: Graph, *, registry: Registry | None = None, document: Any = None
) -> list[Diagnostic]:
    """Everything in ``graph`` the Keras backend cannot build or train, as diagnostics.

    Pass the spec's ``document`` (from :func:`specforge.check_file`) for exact
    positions; without it, diagnostics point at the node concerned.
    """
    reg = registry or current_registry()
    r = Reporter(graph, document)
    for node in graph.nodes:
        if reg.lowering(BACKEND, "node", node.type) is None:
            r.add(
                "unsupported-by-backend",
                f"node '{node.name}': node type '{node.type}' has no Keras lowering",
                r.node_span(node, "type"),
                _providers_hint(reg, "node", node.type),
            )
        node_type = reg.node_types.get(node.type)
        for param in getattr(node_type, "activation_params", ()):
            value = node.param(param)
            if not isinstance(value, str):
                continue
            canonical = reg.canonical("activation", value) or value
            act = reg.get("activation", canonical)
            if act is not None and not act.differentiable:
                r.add(
                    "not-differentiable",
                    f"node '{node.name}': activation '{canonical}' is a step function whose gradient is zero "
                    "almost everywhere; Keras trains by gradient descent and cannot train through it",
                    r.node_span(node, param),
                    "train it with the perceptron rule on the NumPy backend (--backend numpy, "
                    "optimizer: {type: perceptron}), or use a differentiable activation such as sigmoid",
                )
            elif reg.lowering(BACKEND, "activation", canonical) is None:
                r.add(
                    "unsupported-by-backend",
                    f"node '{node.name}': activation '{canonical}' has no Keras lowering",
                    r.node_span(node, param),
                    _providers_hint(reg, "activation", canonical),
                )
        for param in getattr(node_type, "initializer_params", ()):
            value = node.param(param)
            if not isinstance(value, str):
                continue
            canonical = reg.canonical("initializer", value) or value
            if reg.lowering(BACKEND, "initializer", canonical) is None:
                r.add(
                    "unsupported-by-backend",
                    f"node '{node.name}': initializer '{canonical}' has no Keras lowering",
                    r.node_span(node, param),
                    _providers_hint(reg, "initializer", canonical),
                )
    for j, out in enumerate(graph.outputs):
        node_span = graph.node(out.node).span if out.node in {n.name for n in graph.nodes} else None
        if reg.lowering(BACKEND, "loss", out.loss) is None:
            r.add(
                "unsupported-by-backend",
                f"output '{out.name}': loss '{out.loss}' has no Keras lowering",
                r.span(("outputs", j, "loss"), node_span),
                _providers_hint(reg, "loss", out.loss),
            )
        for k, m in enumerate(out.metrics):
            if reg.lowering(BACKEND, "metric", m) is None:
                r.add(
                    "unsupported-by-backend",
                    f"output '{out.name}': metric '{m}' has no Keras lowering",
                    r.span(("outputs", j, "metrics", k), node_span),
                    _providers_hint(reg, "metric", m),
                )
    opt = graph.optimizer.type
    if reg.lowering(BACKEND, "optimizer", opt) is None:
        help = (
            "the perceptron rule runs on the NumPy backend: --backend numpy"
            if opt == "perceptron"
            else _providers_hint(reg, "optimizer", opt)
        )
        r.add(
            "unsupported-by-backend",
            f"optimizer '{opt}' has no Keras lowering",
            r.span(("optimizer", "type"), None),
            help,
        )
    return r.diagnostics


# ---------------------------------------------------------------- lowering


@dataclass(frozen=True)
class ModelInfo:
    """What the runtime needs to know about a model built from (or loaded for) a graph."""

    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    #: Output name -> the Keras loss it was compiled with.
    losses: Mapping[str, Any]
    #: Keras history key -> spec history key, where they differ (a plugin's metric
    #: object named differently from its spec name).
    rename: Mapping[str, str]


def _output_settings(graph: Graph) -> tuple[dict[str, Any], dict[str, list[Any]], dict[str, str]]:
    """Lowered losses and metrics per output, and the history keys to rename."""
    outs = graph.outputs
    losses = {o.name: loss(o.loss) for o in outs}
    metrics = {o.name: [metric(m) for m in o.metrics] for o in outs}
    rename: dict[str, str] = {}
    for o in outs:
        for spec_name, ident in zip(o.metrics, metrics[o.name], strict=True):
            kname = keras_name(ident)
            if kname != spec_name:
                if len(outs) == 1:
                    rename[kname] = spec_name
                else:
                    rename[f"{o.name}_{kname}"] = f"{o.name}_{spec_name}"
    return losses, metrics, rename


def model_info_for(graph: Graph) -> ModelInfo:
    """The :class:`ModelInfo` of the model ``graph`` lowers to."""
    losses, _, rename = _output_settings(graph)
    return ModelInfo(
        tuple(i.name for i in graph.inputs), tuple(o.name for o in graph.outputs), losses, rename
    )


def compile_arguments(graph: Graph) -> tuple[dict[str, Any], ModelInfo]:
    """The keyword arguments of ``model.compile`` for ``graph``, and the model's info.

    One output: plain values, as a hand-written ``compile(loss='mse')``; several:
    dicts keyed by output name, so that a loss weight can never land on the
    wrong output.
    """
    outs = graph.outputs
    losses, metrics, rename = _output_settings(graph)
    kwargs: dict[str, Any] = {"optimizer": optimizer(graph.optimizer)}
    if len(outs) == 1:
        o = outs[0]
        kwargs["loss"] = losses[o.name]
        if o.weight != 1.0:
            kwargs["loss_weights"] = [o.weight]
        if metrics[o.name]:
            kwargs["metrics"] = metrics[o.name]
    else:
        kwargs["loss"] = losses
        kwargs["loss_weights"] = {o.name: o.weight for o in outs}
        with_metrics = {name: ms for name, ms in metrics.items() if ms}
        if with_metrics:
            kwargs["metrics"] = with_metrics
    info = ModelInfo(
        tuple(i.name for i in graph.inputs), tuple(o.name for o in outs), losses, rename
    )
    return kwargs, info


def _node_error(graph: Graph, node: GraphNode, message: str, help: str | None = None) -> SpecError:
    return SpecError(
        [
            Diagnostic(
                "backend-error",
                f"node '{node.name}' ({node.type}): {message}",
                "error",
                graph.file,
                node.span or Span(1, 1, 1, 2),
                help,
            )
        ]
    )


def _static_shape(tensor: Any) -> tuple[Any, ...] | None:
    shape = getattr(tensor, "shape", None)
    return tuple(shape[1:]) if shape is not None else None


def lower_graph(graph: Graph, *, compile: bool = True) -> tuple[Any, ModelInfo]:
    """Build (and compile) the Keras model of ``graph`` in the calling thread.

    Call it through :func:`specforge.keras_backend.backend.KerasBackend.build`,
    which checks the graph first and makes room for deep graphs.
    """
    keras = import_keras()
    reg = current_registry()
    tensors: dict[str, Any] = {}
    inputs = []
    for gi in graph.inputs:
        tensor = keras.Input(shape=gi.shape, dtype=gi.dtype, name=gi.name)
        tensors[gi.name] = tensor
        inputs.append(tensor)
    for node in graph.nodes:
        lower = reg.lowering(BACKEND, "node", node.type)
        if lower is None:  # check() reports these; a direct caller gets the same diagnostic
            raise SpecError(check(graph, registry=reg))
        args = [tensors[name] for name in node.inputs]
        try:
            out = lower(node, args)
        except (SpecError, BackendError, RecursionError, KeyboardInterrupt):
            raise
        except Unsupported as exc:
            raise _node_error(graph, node, str(exc)) from None
        except Exception as exc:
            owner = reg.owner.get(("lowering", f"{BACKEND}:node:{node.type}"), "?")
            raise _node_error(
                graph,
                node,
                f"Keras rejected it: {type(exc).__name__}: {exc}",
                f"the Keras lowering of '{node.type}' comes from plugin '{owner}'",
            ) from None
        if not isinstance(out, keras.KerasTensor):
            raise _node_error(
                graph, node, f"its Keras lowering returned {type(out).__name__}, not a Keras tensor"
            )
        got = _static_shape(out)
        if got is not None and tuple(got) != tuple(node.output_shape):
            raise _node_error(
                graph,
                node,
                f"Keras computes output shape {(None, *got)}, but the spec's shape inference gives "
                f"{(None, *node.output_shape)}",
                "the node type's output_shape() and its Keras lowering disagree: report it to the plugin's author",
            )
        tensors[node.name] = out
    outputs = [tensors[o.node] for o in graph.outputs]
    try:
        model = keras.Model(
            inputs=inputs[0] if len(inputs) == 1 else inputs,
            outputs=outputs[0] if len(outputs) == 1 else outputs,
            name=graph.name,
        )
        if compile:
            kwargs, info = compile_arguments(graph)
            model.compile(**kwargs)
    except (SpecError, BackendError, RecursionError, KeyboardInterrupt):
        raise
    except Exception as exc:  # a plugin's loss/metric/optimizer lowering, or Keras refusing them
        raise SpecError(
            [
                Diagnostic(
                    "backend-error",
                    f"Keras rejected the model's outputs or compile settings: {type(exc).__name__}: {exc}",
                    "error",
                    graph.file,
                    Span(1, 1, 1, 2),
                    "check the losses, metrics and optimizer of the spec, and the plugins that provide them",
                )
            ]
        ) from None
    if not compile:
        info = ModelInfo(
            tuple(i.name for i in graph.inputs), tuple(o.name for o in graph.outputs), {}, {}
        )
    return model, info
