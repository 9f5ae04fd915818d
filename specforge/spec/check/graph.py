"""Graph passes: references, cycles, shapes and parameter counts, outputs, reachability.

They run on what the structure passes recorded, in topological order, and
yield diagnostics: a broken node stops only the nodes that read it, so one run
reports a bad reference, a cycle elsewhere and a shape mismatch elsewhere.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from typing import Any

from ...diagnostics import Diagnostic, did_you_mean
from ...ir import GraphNode, GraphOutput, topological_order
from ...plugin import ParamCount, ShapeError
from ..load import Document
from .context import CheckContext


def _inputs_path(doc: Document, i: int) -> tuple[Any, ...]:
    return ("nodes", i, "inputs") if ("nodes", i, "inputs") in doc.spans else ("nodes", i)


def check_graph(s: CheckContext) -> Generator[Diagnostic, None, tuple[list[GraphNode], bool]]:
    """References, cycles, shapes and parameter counts, in topological order.

    Returns the nodes that resolved, in topological order, and whether the whole
    graph did. A broken node only stops the nodes that read it, so one run
    reports a bad reference, a cycle elsewhere and a shape mismatch elsewhere.
    """
    doc = s.doc
    known = s.input_names | set(s.nodes)
    unresolved: set[str] = set()
    edges: dict[str, list[str]] = {}
    for name in s.node_order:
        e = s.nodes[name]
        i, node_type, params, inputs = e.index, e.node_type, e.params, e.inputs
        if inputs is None:  # the node itself is broken (reported)
            unresolved.add(name)
            edges[name] = []
            continue
        ok = name not in s.bad_inputs
        for j, ref in enumerate(inputs):
            if ref == name:
                yield (
                    doc.diagnostic(
                        "cycle",
                        f"node '{name}' reads itself",
                        _ref_path(doc, i, j),
                        help="a node must read inputs or other nodes",
                    )
                )
                ok = False
            elif ref not in known:
                ok = False
                others = sorted(known - {name})
                yield (
                    doc.diagnostic(
                        "unknown-reference",
                        f"node '{name}' reads '{ref}', which is not defined",
                        _ref_path(doc, i, j),
                        help=did_you_mean(ref, others)
                        or "inputs name model inputs or nodes: " + ", ".join(others),
                    )
                )
        if node_type is not None and name not in s.bad_inputs:
            n = len(inputs)
            lo, hi = node_type.min_inputs, node_type.max_inputs
            if n < lo or (hi is not None and n > hi):
                want = (
                    f"exactly {lo}"
                    if lo == hi
                    else (f"at least {lo}" if hi is None else f"{lo} to {hi}")
                )
                yield (
                    doc.diagnostic(
                        "input-count",
                        f"node '{name}' ({node_type.name}) takes {want} input{'s' if (hi or lo) != 1 else ''}, got {n}",
                        _inputs_path(doc, i),
                        help="list the inputs it joins: inputs: [a, b]" if lo > 1 else None,
                    )
                )
                ok = False
        if not ok:
            unresolved.add(name)
        edges[name] = [r for r in inputs if r != name]  # a self-reference is reported above
    order, cycles = topological_order(s.node_order, edges)
    for cycle in cycles:
        first = min(cycle, key=lambda n: s.nodes[n].index)
        loop = " → ".join([*cycle[cycle.index(first) :], *cycle[: cycle.index(first)], first])
        i = s.nodes[first].index
        yield (
            doc.diagnostic(
                "cycle",
                f"nodes form a cycle: {loop}",
                _inputs_path(doc, i),
                help="a model is a directed acyclic graph: one of these nodes must read something else",
                related=tuple(
                    (_inputs_path(doc, s.nodes[n].index), f"'{n}' reads its inputs here")
                    for n in cycle
                    if n != first
                ),
            )
        )
    shapes: dict[str, tuple[int, ...] | None] = {inp.name: inp.shape for inp in s.inputs}
    warned: dict[str, set[str]] = {}
    built: list[GraphNode] = []
    for name in order:
        e = s.nodes[name]
        i, node_type, params, inputs = e.index, e.node_type, e.params, e.inputs
        in_shapes = [shapes.get(r) for r in inputs or ()]
        if name in unresolved or node_type is None or params is None or None in in_shapes:
            shapes[name] = None  # the cause is reported already
            continue
        try:
            out_shape = tuple(int(d) for d in node_type.output_shape(params, in_shapes))  # type: ignore[arg-type]
            count = node_type.param_count(params, in_shapes)  # type: ignore[arg-type]
        except ShapeError as e:
            path = ("nodes", i, e.param) if e.param else _inputs_path(doc, i)
            yield (
                doc.diagnostic("shape-mismatch", f"node '{name}': {e.message}", path, help=e.help)
            )
            shapes[name] = None
            continue
        except Exception as e:  # a plugin's shape code failed: report, don't crash
            owner = s.reg.owner.get(("node_type", node_type.name), "?")
            yield (
                doc.diagnostic(
                    "plugin-error",
                    f"node '{name}': shape inference of {node_type.name} (plugin '{owner}') failed: {type(e).__name__}: {e}",
                    ("nodes", i),
                )
            )
            shapes[name] = None
            continue
        if any(d <= 0 for d in out_shape):
            yield (
                doc.diagnostic(
                    "shape-mismatch",
                    f"node '{name}' would have an empty output shape {out_shape}",
                    ("nodes", i),
                )
            )
            shapes[name] = None
            continue
        try:
            node_warnings = list(node_type.warnings(params, in_shapes))  # type: ignore[arg-type]
        except Exception:  # a plugin's warning code failed: a warning is not worth a crash
            node_warnings = []
        for warning in node_warnings:
            # Once per chain: a node whose first input got the same warning follows from it.
            warned.setdefault(warning.code, set()).add(name)
            if inputs and inputs[0] in warned[warning.code]:
                continue
            yield doc.diagnostic(
                warning.code,
                f"node '{name}' {warning.message}",
                ("nodes", i),
                help=warning.help,
                severity="warning",
            )
        shapes[name] = out_shape
        built.append(
            GraphNode(
                name=name,
                type=node_type.name,
                params=params,
                inputs=tuple(inputs or ()),
                input_shapes=tuple(in_shapes),  # type: ignore[arg-type]
                output_shape=out_shape,
                param_count=count if isinstance(count, ParamCount) else ParamCount(int(count)),
                span=doc.span(("nodes", i)),
            )
        )
    complete = not s.broken and not cycles and len(built) == len(s.node_order)
    return built, complete


def _ref_path(doc: Document, i: int, j: int) -> tuple[Any, ...]:
    for p in (("nodes", i, "inputs", j), ("nodes", i, "inputs"), ("nodes", i)):
        if p in doc.spans:
            return p
    return ("nodes", i)


def check_outputs_against_graph(
    s: CheckContext, nodes: list[GraphNode]
) -> Generator[Diagnostic, None, list[GraphOutput]]:
    doc = s.doc
    outs: list[GraphOutput] = []
    node_names = set(s.nodes)
    by_name = {n.name: n for n in nodes}
    for i, out in s.outputs:
        if out.node not in node_names:
            if out.node in s.input_names:
                msg = f"output names '{out.node}', which is a model input, not a node"
                help_ = "an output must be the name of a node"
            else:
                msg = f"output names '{out.node}', which is not a node"
                help_ = did_you_mean(out.node, sorted(node_names)) or "nodes: " + ", ".join(
                    sorted(node_names)
                )
            yield (doc.diagnostic("unknown-output", msg, ("outputs", i, "node"), help=help_))
            continue
        node = by_name.get(out.node)
        if node is None:
            continue
        loss = s.reg.get("loss", out.loss)
        if loss is not None and loss.needs_class_vector and len(node.output_shape) != 1:
            yield (
                doc.diagnostic(
                    "shape-mismatch",
                    f"output '{out.node}' has shape {node.output_shape}, but {out.loss} needs one vector "
                    f"of class scores per sample",
                    ("outputs", i, "node"),
                    help="insert a Flatten node before the last Dense node",
                )
            )
            continue
        outs.append(
            GraphOutput(
                out.node,
                out.loss,
                float(out.loss_weight),
                tuple(out.metrics),
                node.output_shape,
                loss.targets if loss is not None else "values",
            )
        )
    return outs


def check_reachability(
    s: CheckContext, nodes: list[GraphNode], outputs: list[GraphOutput]
) -> Iterator[Diagnostic]:
    doc = s.doc
    reads = {n.name: n.inputs for n in nodes}
    needed: set[str] = set()
    stack = [o.node for o in outputs]
    while stack:
        n = stack.pop()
        if n in needed:
            continue
        needed.add(n)
        stack.extend(reads.get(n, ()))
    for n in nodes:
        if n.name not in needed:
            i = s.nodes[n.name].index
            yield (
                doc.diagnostic(
                    "unused-node",
                    f"node '{n.name}' does not reach any output",
                    ("nodes", i, "name"),
                    help="list it (or a node that reads it) under 'outputs', or remove it",
                    severity="warning",
                )
            )
    for k, inp in enumerate(s.inputs):
        if inp.name not in needed:
            yield (
                doc.diagnostic(
                    "unused-input",
                    f"input '{inp.name}' is not read by any node that reaches an output",
                    ("inputs", k, "name"),
                    help="remove it, or make a node read it",
                    severity="warning",
                )
            )
