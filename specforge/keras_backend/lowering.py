"""Lower a resolved Graph into a compiled Keras functional model.

The Graph IR is the only input: one ``keras.Input`` per spec input (same name,
shape and dtype), one layer per node, built by the node type's Keras lowering
(registered through ``register_lowerings("keras", "node", ...)``, the
built-ins exactly like a plugin's) called with the :class:`KerasContext` of
the registry in use, outputs named after their nodes, then ``compile()`` with
the lowered optimizer, losses, loss weights and metrics.

What a spec asks for that Keras cannot do is found before Keras is touched and
reported as positioned diagnostics (:func:`specforge.lower.check`); a Keras
error that still happens while a node is lowered becomes a diagnostic naming
that node.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..diagnostics import Diagnostic, Span, SpecError
from ..ir import Graph, GraphNode
from ..lowering import Unsupported
from ..plugin import BackendError
from .context import KerasContext, keras_name
from .env import BACKEND, import_keras

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


def _output_settings(
    graph: Graph, ctx: KerasContext
) -> tuple[dict[str, Any], dict[str, list[Any]], dict[str, str]]:
    """Lowered losses and metrics per output, and the history keys to rename."""
    outs = graph.outputs
    losses = {o.name: ctx.loss(o.loss) for o in outs}
    metrics = {o.name: [ctx.metric(m) for m in o.metrics] for o in outs}
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


def model_info_for(graph: Graph, ctx: KerasContext) -> ModelInfo:
    """The :class:`ModelInfo` of the model ``graph`` lowers to."""
    losses, _, rename = _output_settings(graph, ctx)
    return ModelInfo(
        tuple(i.name for i in graph.inputs), tuple(o.name for o in graph.outputs), losses, rename
    )


def compile_arguments(graph: Graph, ctx: KerasContext) -> tuple[dict[str, Any], ModelInfo]:
    """The keyword arguments of ``model.compile`` for ``graph``, and the model's info.

    One output: plain values, as a hand-written ``compile(loss='mse')``; several:
    dicts keyed by output name, so that a loss weight can never land on the
    wrong output.
    """
    outs = graph.outputs
    losses, metrics, rename = _output_settings(graph, ctx)
    kwargs: dict[str, Any] = {"optimizer": ctx.optimizer(graph.optimizer)}
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


def lower_graph(graph: Graph, ctx: KerasContext, *, compile: bool = True) -> tuple[Any, ModelInfo]:
    """Build (and compile) the Keras model of ``graph`` in the calling thread.

    Call it through :func:`specforge.keras_backend.backend.KerasBackend.build`,
    which checks the graph first and makes room for deep graphs.
    """
    keras = import_keras()
    tensors: dict[str, Any] = {}
    inputs = []
    for gi in graph.inputs:
        tensor = keras.Input(shape=gi.shape, dtype=gi.dtype, name=gi.name)
        tensors[gi.name] = tensor
        inputs.append(tensor)
    for node in graph.nodes:
        lower = ctx.find("node", node.type)
        if lower is None:  # lower.check() reports these before anything is built
            raise _node_error(graph, node, f"node type '{node.type}' has no Keras lowering")
        args = [tensors[name] for name in node.inputs]
        try:
            out = lower(ctx, node, args)
        except (SpecError, BackendError, RecursionError, KeyboardInterrupt):
            raise
        except Unsupported as exc:
            raise _node_error(graph, node, str(exc)) from None
        except Exception as exc:
            owner = ctx.owner("node", node.type)
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
            kwargs, info = compile_arguments(graph, ctx)
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


__all__ = [
    "BACKEND",
    "KerasContext",
    "ModelInfo",
    "Unsupported",
    "compile_arguments",
    "import_keras",
    "keras_name",
    "lower_graph",
    "model_info_for",
]
