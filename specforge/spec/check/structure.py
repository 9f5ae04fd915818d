"""Structure passes: the top level, inputs, nodes, outputs and the optimizer.

Each pass yields diagnostics (never raises) and records what it resolved in the
:class:`~.context.CheckContext` for the graph pass. A broken entry is recorded
as broken, so later passes skip what reads it instead of reporting it again.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from typing import Any

from pydantic import ValidationError

from ...diagnostics import Diagnostic
from ...ir import GraphInput, OptimizerConfig
from ...plugin import NodeType
from ..errors import describe_value, pydantic_diagnostics
from ..migrate import version_problem
from ..models import (
    FORMAT_VERSION,
    TOP_LEVEL_KEYS,
    InputSpec,
    NodeHeader,
    OptimizerHeader,
    OutputSpec,
    SpecHeader,
)
from .context import CheckContext, NodeEntry


def check_top(s: CheckContext, data: Any) -> Generator[Diagnostic, None, bool]:
    doc = s.doc
    if not isinstance(data, dict):
        what = describe_value(data)
        yield (
            doc.diagnostic(
                "not-a-mapping",
                f"a spec must be a mapping of keys (specforge, name, inputs, ...), not {what}",
                (),
                help=f"start the file with 'specforge: {FORMAT_VERSION}' and 'name: my_model'",
            )
        )
        return False
    problem = version_problem(doc)
    if problem is not None:
        yield problem
    header = dict(data)
    if "specforge" in data:
        header["specforge"] = FORMAT_VERSION  # a wrong version is reported above, once
    try:
        SpecHeader.model_validate(header)
    except ValidationError as e:
        yield from (pydantic_diagnostics(doc, e, (), where="the spec", fields=list(TOP_LEVEL_KEYS)))
    return True


def check_inputs(s: CheckContext, items: Any) -> Iterator[Diagnostic]:
    if not isinstance(items, list):
        return
    for i, item in enumerate(items):
        name = item.get("name") if isinstance(item, dict) else None
        where = f"input '{name}'" if isinstance(name, str) else f"inputs[{i}]"
        if not isinstance(item, dict):
            yield (
                s.doc.diagnostic(
                    "wrong-type",
                    f"{where} must be a mapping with 'name' and 'shape'",
                    ("inputs", i),
                )
            )
            s.broken = True
            continue
        try:
            spec = InputSpec.model_validate(item)
        except ValidationError as e:
            yield from (
                pydantic_diagnostics(
                    s.doc, e, ("inputs", i), where=where, fields=list(InputSpec.model_fields)
                )
            )
            s.broken = True
            if isinstance(name, str):
                s.input_names.add(name)
                s.define(name, ("inputs", i, "name"))
            continue
        if spec.name in s.input_names:
            yield (_duplicate(s, spec.name, ("inputs", i, "name"), "input"))
            continue
        s.input_names.add(spec.name)
        s.define(spec.name, ("inputs", i, "name"))
        s.inputs.append(
            GraphInput(spec.name, tuple(spec.shape), spec.dtype, s.doc.span(("inputs", i)))
        )


def _duplicate(s: CheckContext, name: str, path: tuple[Any, ...], what: str) -> Diagnostic:
    first = s.first_defined.get(name)
    where = f" (first defined at line {s.doc.span(first).line})" if first is not None else ""
    return s.doc.diagnostic(
        "duplicate-name",
        f"{what} name '{name}' is already used{where}",
        path,
        help="names of inputs and nodes must be unique: rename one of them",
        related=((first, f"'{name}' first defined here"),) if first is not None else (),
    )


def _node_inputs(
    s: CheckContext, i: int, name: str, raw: Any, where: str
) -> Generator[Diagnostic, None, list[str] | None]:
    """The names a node reads, with the spec's defaults applied.

    None means "the node above" (the caller knows it). A problem is reported here
    and the node is put in ``s.bad_inputs``, so the graph pass does not report it again.
    """
    path = ("nodes", i, "inputs")
    if raw is None:
        if i > 0:
            return None  # filled in by the caller: the node above
        if len(s.input_names) == 1:
            return [next(iter(s.input_names))]
        if len(s.input_names) > 1:
            yield (
                s.doc.diagnostic(
                    "ambiguous-input",
                    f"{where} has no 'inputs' and the spec has {len(s.input_names)} inputs",
                    ("nodes", i),
                    help="say which input it reads: inputs: ["
                    + ", ".join(sorted(s.input_names))
                    + "]",
                )
            )
        s.bad_inputs.add(name)
        return []
    if isinstance(raw, str):
        return [raw]
    if isinstance(raw, list) and raw and all(isinstance(x, str) for x in raw):
        return list(raw)
    s.bad_inputs.add(name)
    if isinstance(raw, list) and not raw:
        yield (
            s.doc.diagnostic(
                "invalid-value",
                f"{where}: 'inputs' is empty",
                path,
                help="name at least one input or node, or remove 'inputs' to read the node above",
            )
        )
        return []
    for j, x in enumerate(raw if isinstance(raw, list) else [raw]):
        if not isinstance(x, str):
            p = (*path, j) if isinstance(raw, list) else path
            yield (
                s.doc.diagnostic(
                    "wrong-type",
                    f"{where}: 'inputs' must list names (strings), not {type(x).__name__} values",
                    p,
                )
            )
    return []


def check_nodes(s: CheckContext, items: Any) -> Iterator[Diagnostic]:
    if not isinstance(items, list):
        return
    doc, reg = s.doc, s.reg
    previous: str | None = None  # the node above; None if there is none or it is broken
    for i, item in enumerate(items):
        name = item.get("name") if isinstance(item, dict) else None
        where = f"node '{name}'" if isinstance(name, str) else f"nodes[{i}]"
        if not isinstance(item, dict):
            yield (
                doc.diagnostic(
                    "wrong-type", f"{where} must be a mapping with 'name' and 'type'", ("nodes", i)
                )
            )
            s.broken = True
            previous = None
            continue
        try:
            header = NodeHeader.model_validate(item)
        except ValidationError as e:
            if "<<" in item:  # a YAML 1.1 merge key, probably what hid 'type'
                yield (
                    doc.diagnostic(
                        "unknown-field",
                        f"{where} has unknown key '<<'",
                        ("nodes", i, "<<"),
                        key=True,
                        help="YAML merge keys (<<) are not part of YAML 1.2: write the keys out",
                    )
                )
            yield from (pydantic_diagnostics(doc, e, ("nodes", i), where=where))
            s.broken = True
            if isinstance(name, str) and name not in s.nodes and name not in s.input_names:
                s.nodes[name] = NodeEntry(i, None, None, None)
                s.node_order.append(name)
                s.define(name, ("nodes", i, "name"))
            previous = name if isinstance(name, str) else None
            continue
        if header.name in s.nodes or header.name in s.input_names:
            yield (_duplicate(s, header.name, ("nodes", i, "name"), "node"))
            previous = header.name if header.name in s.nodes else None
            continue
        inputs = yield from _node_inputs(s, i, header.name, header.inputs, where)
        if inputs is None:
            if previous is not None:
                inputs = [previous]
            else:  # the node above is broken and was reported: do not guess
                inputs = []
                s.bad_inputs.add(header.name)
        node_type = reg.get("node_type", header.type)
        params = None
        if node_type is None:
            yield (
                doc.diagnostic(
                    "unknown-node-type",
                    f"{where} has unknown type '{header.type}'",
                    ("nodes", i, "type"),
                    help=s.unknown_name_help("node_type", header.type),
                )
            )
        else:
            raw_params = {k: v for k, v in item.items() if k not in ("name", "type", "inputs")}
            try:
                params = node_type.params_model.model_validate(raw_params)
            except ValidationError as e:
                fields = ["name", "type", "inputs", *node_type.params_model.model_fields]
                yield from (pydantic_diagnostics(doc, e, ("nodes", i), where=where, fields=fields))
                yield from _check_names_in_params(s, i, where, node_type, raw_params)  # these too
            else:
                params = yield from _check_names_in_params(s, i, where, node_type, params)
        s.nodes[header.name] = NodeEntry(i, node_type, params, inputs)
        s.node_order.append(header.name)
        s.define(header.name, ("nodes", i, "name"))
        previous = header.name


def _check_names_in_params(
    s: CheckContext, i: int, where: str, node_type: NodeType, params: Any
) -> Generator[Diagnostic, None, Any]:
    """Validate and normalise activation/initializer names inside a node's params.

    ``params`` is the validated model, or the raw mapping when validation failed
    (so that a misspelt activation is reported alongside a wrong-typed unit count).
    """
    updates: dict[str, str] = {}
    ok = True
    for kind, names in (
        ("activation", node_type.activation_params),
        ("initializer", node_type.initializer_params),
    ):
        for pname in names:
            value = params.get(pname) if isinstance(params, dict) else getattr(params, pname, None)
            if not isinstance(value, str):
                continue
            canon = s.reg.canonical(kind, value)
            if canon is None:
                ok = False
                yield (
                    s.doc.diagnostic(
                        f"unknown-{kind}",
                        f"{where}: unknown {kind} '{value}'",
                        ("nodes", i, pname),
                        help=s.unknown_name_help(kind, value),
                    )
                )
            elif canon != value:
                updates[pname] = canon
    if not ok or isinstance(params, dict):
        return None
    return params.model_copy(update=updates) if updates else params


def check_outputs(s: CheckContext, items: Any) -> Iterator[Diagnostic]:
    if not isinstance(items, list):
        return
    doc = s.doc
    seen: dict[str, int] = {}
    for i, item in enumerate(items):
        where = f"outputs[{i}]"
        if not isinstance(item, dict):
            yield (
                doc.diagnostic(
                    "wrong-type",
                    f"{where} must be a mapping with 'node' and 'loss'",
                    ("outputs", i),
                )
            )
            continue
        if isinstance(item.get("node"), str):
            where = f"output '{item['node']}'"
        loss, metrics, names_ok = yield from _check_output_names(s, i, where, item)
        try:
            out = OutputSpec.model_validate(item)
        except ValidationError as e:
            yield from (
                pydantic_diagnostics(
                    doc, e, ("outputs", i), where=where, fields=list(OutputSpec.model_fields)
                )
            )
            s.broken = True
            continue
        if out.node in seen:
            yield (
                doc.diagnostic(
                    "duplicate-output",
                    f"node '{out.node}' is listed as an output twice",
                    ("outputs", i, "node"),
                    help=f"remove one of the entries (the first is outputs[{seen[out.node]}])",
                    related=((("outputs", seen[out.node], "node"), "first listed here"),),
                )
            )
            continue
        seen[out.node] = i
        if not names_ok:
            s.broken = True  # reported; the node it names is still checked below
        s.outputs.append((i, out.model_copy(update={"loss": loss or out.loss, "metrics": metrics})))


def _check_output_names(
    s: CheckContext, i: int, where: str, item: dict[str, Any]
) -> Generator[Diagnostic, None, tuple[str | None, list[str], bool]]:
    """Resolve an output's loss and metric names (aliases normalised), reporting unknown ones."""
    doc, reg = s.doc, s.reg
    ok = True
    loss = None
    raw_loss = item.get("loss")
    if isinstance(raw_loss, str):
        loss = reg.canonical("loss", raw_loss)
        if loss is None:
            ok = False
            yield (
                doc.diagnostic(
                    "unknown-loss",
                    f"{where}: unknown loss '{raw_loss}'",
                    ("outputs", i, "loss"),
                    help=s.unknown_name_help("loss", raw_loss),
                )
            )
    metrics: list[str] = []
    raw_metrics = item.get("metrics")
    for j, m in enumerate(raw_metrics if isinstance(raw_metrics, list) else []):
        if not isinstance(m, str):
            continue
        canon = reg.canonical("metric", m)
        if canon is None:
            ok = False
            yield (
                doc.diagnostic(
                    "unknown-metric",
                    f"{where}: unknown metric '{m}'",
                    ("outputs", i, "metrics", j),
                    help=s.unknown_name_help("metric", m),
                )
            )
        else:
            metrics.append(canon)
    return loss, metrics, ok


def check_optimizer(s: CheckContext, raw: Any) -> Iterator[Diagnostic]:
    if not isinstance(raw, dict):
        return
    doc, reg = s.doc, s.reg
    try:
        header = OptimizerHeader.model_validate(raw)
    except ValidationError as e:
        yield from (pydantic_diagnostics(doc, e, ("optimizer",), where="the optimizer"))
        return
    opt = reg.get("optimizer", header.type)
    if opt is None:
        yield (
            doc.diagnostic(
                "unknown-optimizer",
                f"unknown optimizer '{header.type}'",
                ("optimizer", "type"),
                help=s.unknown_name_help("optimizer", header.type),
            )
        )
        return
    params_raw = {k: v for k, v in raw.items() if k != "type"}
    try:
        params = opt.params_model.model_validate(params_raw)
    except ValidationError as e:
        fields = ["type", *opt.params_model.model_fields]
        yield from (
            pydantic_diagnostics(
                doc, e, ("optimizer",), where=f"optimizer '{opt.name}'", fields=fields
            )
        )
        return
    s.optimizer = OptimizerConfig(opt.name, params)
