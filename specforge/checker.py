"""Check a loaded spec and resolve it into the Graph IR.

Checking is a sequence of small passes, each yielding diagnostics rather than
raising, so one run reports every problem. A pass that finds a broken section
skips only that section: a typo in one node does not hide a cycle elsewhere.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from .diagnostics import Diagnostic, did_you_mean
from .graph import (
    Graph,
    GraphInput,
    GraphNode,
    GraphOutput,
    OptimizerConfig,
    topological_order,
)
from .loader import Document, gc_paused
from .plugin import NodeType, ParamCount, ShapeError, freeze
from .registry import Registry, get_registry
from .spec import (
    FORMAT_VERSION,
    TOP_LEVEL_KEYS,
    InputSpec,
    NodeHeader,
    OptimizerHeader,
    OutputSpec,
    SpecHeader,
    pydantic_diagnostics,
)

#: Losses that expect one probability vector per sample (rank-1 outputs).
_CLASS_VECTOR_LOSSES = {"categorical_crossentropy", "sparse_categorical_crossentropy"}

#: Extra checks for the optional sections, filled in by the modules that own them
#: (``data`` and ``train``). Each takes (document, section data, registry) and
#: yields diagnostics.
SectionCheck = Callable[[Document, Any, Registry], Iterator[Diagnostic]]
SECTION_CHECKS: dict[str, SectionCheck] = {}


@dataclass
class _State:
    doc: Document
    reg: Registry
    diags: list[Diagnostic] = field(default_factory=list)
    inputs: list[GraphInput] = field(default_factory=list)
    input_names: set[str] = field(default_factory=set)
    # name -> (index in spec, node type or None, params or None, input names or None)
    nodes: dict[str, tuple[int, NodeType | None, Any, list[str] | None]] = field(
        default_factory=dict
    )
    node_order: list[str] = field(default_factory=list)
    #: Nodes whose 'inputs' were already reported as unusable (no second diagnostic).
    bad_inputs: set[str] = field(default_factory=set)
    #: Where each input or node name was first defined (for duplicate-name messages).
    first_defined: dict[str, tuple[Any, ...]] = field(default_factory=dict)
    outputs: list[tuple[int, OutputSpec]] = field(default_factory=list)
    optimizer: OptimizerConfig | None = None
    broken: bool = False  # a section failed structurally: skip whole-graph checks

    def add(self, d: Diagnostic) -> None:
        self.diags.append(d)

    def extend(self, ds: Iterator[Diagnostic]) -> None:
        self.diags.extend(ds)


def _unknown_name_help(reg: Registry, kind: str, name: object) -> str | None:
    hint = did_you_mean(name, reg.names(kind, with_aliases=True))
    if hint:
        return hint
    failed = reg.failed_plugins_hint(kind, str(name))
    if failed:
        return failed
    names = reg.names(kind)
    if len(names) <= 20:
        return "known: " + ", ".join(names)
    return None


def _check_top(s: _State, data: Any) -> bool:
    doc = s.doc
    if not isinstance(data, dict):
        from .spec import _describe_value

        what = _describe_value(data)
        s.add(
            doc.diagnostic(
                "not-a-mapping",
                f"a spec must be a mapping of keys (specforge, name, inputs, ...), not {what}",
                (),
                help="start the file with 'specforge: 1' and 'name: my_model'",
            )
        )
        return False
    version = data.get("specforge")
    if "specforge" in data and version != FORMAT_VERSION:
        s.add(
            doc.diagnostic(
                "unsupported-version",
                f"unsupported spec format version {version!r}",
                ("specforge",),
                help=f"this specforge reads format version {FORMAT_VERSION}: write 'specforge: {FORMAT_VERSION}'",
            )
        )
    header = dict(data)
    if "specforge" in data:
        header["specforge"] = FORMAT_VERSION  # a wrong version is reported above, once
    try:
        SpecHeader.model_validate(header)
    except ValidationError as e:
        s.extend(pydantic_diagnostics(doc, e, (), where="the spec", fields=list(TOP_LEVEL_KEYS)))
    return True


def _check_inputs(s: _State, items: Any) -> None:
    if not isinstance(items, list):
        return
    for i, item in enumerate(items):
        name = item.get("name") if isinstance(item, dict) else None
        where = f"input '{name}'" if isinstance(name, str) else f"inputs[{i}]"
        if not isinstance(item, dict):
            s.add(
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
            s.extend(
                pydantic_diagnostics(
                    s.doc, e, ("inputs", i), where=where, fields=list(InputSpec.model_fields)
                )
            )
            s.broken = True
            if isinstance(name, str):
                s.input_names.add(name)
                _define(s, name, ("inputs", i, "name"))
            continue
        if spec.name in s.input_names:
            s.add(_duplicate(s, spec.name, ("inputs", i, "name"), "input"))
            continue
        s.input_names.add(spec.name)
        _define(s, spec.name, ("inputs", i, "name"))
        s.inputs.append(
            GraphInput(spec.name, tuple(spec.shape), spec.dtype, s.doc.span(("inputs", i)))
        )


def _duplicate(s: _State, name: str, path: tuple[Any, ...], what: str) -> Diagnostic:
    first = s.first_defined.get(name)
    where = f" (first defined at line {s.doc.span(first).line})" if first is not None else ""
    return s.doc.diagnostic(
        "duplicate-name",
        f"{what} name '{name}' is already used{where}",
        path,
        help="names of inputs and nodes must be unique: rename one of them",
    )


def _define(s: _State, name: str, path: tuple[Any, ...]) -> None:
    s.first_defined.setdefault(name, path)


def _node_inputs(s: _State, i: int, name: str, raw: Any, where: str) -> list[str] | None:
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
            s.add(
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
        s.add(
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
            s.add(
                s.doc.diagnostic(
                    "wrong-type",
                    f"{where}: 'inputs' must list names (strings), not {type(x).__name__} values",
                    p,
                )
            )
    return []


def _check_nodes(s: _State, items: Any) -> None:
    if not isinstance(items, list):
        return
    doc, reg = s.doc, s.reg
    previous: str | None = None  # the node above; None if there is none or it is broken
    for i, item in enumerate(items):
        name = item.get("name") if isinstance(item, dict) else None
        where = f"node '{name}'" if isinstance(name, str) else f"nodes[{i}]"
        if not isinstance(item, dict):
            s.add(
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
                s.add(
                    doc.diagnostic(
                        "unknown-field",
                        f"{where} has unknown key '<<'",
                        ("nodes", i, "<<"),
                        key=True,
                        help="YAML merge keys (<<) are not part of YAML 1.2: write the keys out",
                    )
                )
            s.extend(pydantic_diagnostics(doc, e, ("nodes", i), where=where))
            s.broken = True
            if isinstance(name, str) and name not in s.nodes and name not in s.input_names:
                s.nodes[name] = (i, None, None, None)
                s.node_order.append(name)
                _define(s, name, ("nodes", i, "name"))
            previous = name if isinstance(name, str) else None
            continue
        if header.name in s.nodes or header.name in s.input_names:
            s.add(_duplicate(s, header.name, ("nodes", i, "name"), "node"))
            previous = header.name if header.name in s.nodes else None
            continue
        inputs = _node_inputs(s, i, header.name, header.inputs, where)
        if inputs is None:
            if previous is not None:
                inputs = [previous]
            else:  # the node above is broken and was reported: do not guess
                inputs = []
                s.bad_inputs.add(header.name)
        node_type = reg.get("node_type", header.type)
        params = None
        if node_type is None:
            s.add(
                doc.diagnostic(
                    "unknown-node-type",
                    f"{where} has unknown type '{header.type}'",
                    ("nodes", i, "type"),
                    help=_unknown_name_help(reg, "node_type", header.type),
                )
            )
        else:
            raw_params = {k: v for k, v in item.items() if k not in ("name", "type", "inputs")}
            try:
                params = node_type.Params.model_validate(raw_params)
            except ValidationError as e:
                fields = ["name", "type", "inputs", *node_type.Params.model_fields]
                s.extend(pydantic_diagnostics(doc, e, ("nodes", i), where=where, fields=fields))
                _check_names_in_params(s, i, where, node_type, raw_params)  # report these too
            else:
                params = _check_names_in_params(s, i, where, node_type, params)
        s.nodes[header.name] = (i, node_type, params, inputs)
        s.node_order.append(header.name)
        _define(s, header.name, ("nodes", i, "name"))
        previous = header.name


def _check_names_in_params(s: _State, i: int, where: str, node_type: NodeType, params: Any) -> Any:
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
                s.add(
                    s.doc.diagnostic(
                        f"unknown-{kind}",
                        f"{where}: unknown {kind} '{value}'",
                        ("nodes", i, pname),
                        help=_unknown_name_help(s.reg, kind, value),
                    )
                )
            elif canon != value:
                updates[pname] = canon
    if not ok or isinstance(params, dict):
        return None
    return params.model_copy(update=updates) if updates else params


def _check_outputs(s: _State, items: Any) -> None:
    if not isinstance(items, list):
        return
    doc = s.doc
    seen: dict[str, int] = {}
    for i, item in enumerate(items):
        where = f"outputs[{i}]"
        if not isinstance(item, dict):
            s.add(
                doc.diagnostic(
                    "wrong-type",
                    f"{where} must be a mapping with 'node' and 'loss'",
                    ("outputs", i),
                )
            )
            continue
        if isinstance(item.get("node"), str):
            where = f"output '{item['node']}'"
        loss, metrics, names_ok = _check_output_names(s, i, where, item)
        try:
            out = OutputSpec.model_validate(item)
        except ValidationError as e:
            s.extend(
                pydantic_diagnostics(
                    doc, e, ("outputs", i), where=where, fields=list(OutputSpec.model_fields)
                )
            )
            s.broken = True
            continue
        if out.node in seen:
            s.add(
                doc.diagnostic(
                    "duplicate-output",
                    f"node '{out.node}' is listed as an output twice",
                    ("outputs", i, "node"),
                    help=f"remove one of the entries (the first is outputs[{seen[out.node]}])",
                )
            )
            continue
        seen[out.node] = i
        if not names_ok:
            s.broken = True  # reported; the node it names is still checked below
        s.outputs.append((i, out.model_copy(update={"loss": loss or out.loss, "metrics": metrics})))


def _check_output_names(
    s: _State, i: int, where: str, item: dict[str, Any]
) -> tuple[str | None, list[str], bool]:
    """Resolve an output's loss and metric names (aliases normalised), reporting unknown ones."""
    doc, reg = s.doc, s.reg
    ok = True
    loss = None
    raw_loss = item.get("loss")
    if isinstance(raw_loss, str):
        loss = reg.canonical("loss", raw_loss)
        if loss is None:
            ok = False
            s.add(
                doc.diagnostic(
                    "unknown-loss",
                    f"{where}: unknown loss '{raw_loss}'",
                    ("outputs", i, "loss"),
                    help=_unknown_name_help(reg, "loss", raw_loss),
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
            s.add(
                doc.diagnostic(
                    "unknown-metric",
                    f"{where}: unknown metric '{m}'",
                    ("outputs", i, "metrics", j),
                    help=_unknown_name_help(reg, "metric", m),
                )
            )
        else:
            metrics.append(canon)
    return loss, metrics, ok


def _check_optimizer(s: _State, raw: Any) -> None:
    if not isinstance(raw, dict):
        return
    doc, reg = s.doc, s.reg
    try:
        header = OptimizerHeader.model_validate(raw)
    except ValidationError as e:
        s.extend(pydantic_diagnostics(doc, e, ("optimizer",), where="the optimizer"))
        return
    opt = reg.get("optimizer", header.type)
    if opt is None:
        s.add(
            doc.diagnostic(
                "unknown-optimizer",
                f"unknown optimizer '{header.type}'",
                ("optimizer", "type"),
                help=_unknown_name_help(reg, "optimizer", header.type),
            )
        )
        return
    params_raw = {k: v for k, v in raw.items() if k != "type"}
    try:
        params = opt.params.model_validate(params_raw)
    except ValidationError as e:
        fields = ["type", *opt.params.model_fields]
        s.extend(
            pydantic_diagnostics(
                doc, e, ("optimizer",), where=f"optimizer '{opt.name}'", fields=fields
            )
        )
        return
    s.optimizer = OptimizerConfig(opt.name, params)


def _inputs_path(doc: Document, i: int) -> tuple[Any, ...]:
    return ("nodes", i, "inputs") if ("nodes", i, "inputs") in doc.spans else ("nodes", i)


def _check_graph(s: _State) -> tuple[list[GraphNode], bool]:
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
        i, node_type, params, inputs = s.nodes[name]
        if inputs is None:  # the node itself is broken (reported)
            unresolved.add(name)
            edges[name] = []
            continue
        ok = name not in s.bad_inputs
        for j, ref in enumerate(inputs):
            if ref == name:
                s.add(
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
                s.add(
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
                s.add(
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
        first = min(cycle, key=lambda n: s.nodes[n][0])
        loop = " → ".join([*cycle[cycle.index(first) :], *cycle[: cycle.index(first)], first])
        i = s.nodes[first][0]
        s.add(
            doc.diagnostic(
                "cycle",
                f"nodes form a cycle: {loop}",
                _inputs_path(doc, i),
                help="a model is a directed acyclic graph: one of these nodes must read something else",
            )
        )
    shapes: dict[str, tuple[int, ...] | None] = {inp.name: inp.shape for inp in s.inputs}
    dense_on_rank: set[str] = set()
    built: list[GraphNode] = []
    for name in order:
        i, node_type, params, inputs = s.nodes[name]
        in_shapes = [shapes.get(r) for r in inputs or ()]
        if name in unresolved or node_type is None or params is None or None in in_shapes:
            shapes[name] = None  # the cause is reported already
            continue
        try:
            out_shape = tuple(int(d) for d in node_type.output_shape(params, in_shapes))  # type: ignore[arg-type]
            count = node_type.param_count(params, in_shapes)  # type: ignore[arg-type]
        except ShapeError as e:
            path = ("nodes", i, e.param) if e.param else _inputs_path(doc, i)
            s.add(
                doc.diagnostic("shape-mismatch", f"node '{name}': {e.message}", path, help=e.help)
            )
            shapes[name] = None
            continue
        except Exception as e:  # a plugin's shape code failed: report, don't crash
            owner = s.reg.owner.get(("node_type", node_type.name), "?")
            s.add(
                doc.diagnostic(
                    "plugin-error",
                    f"node '{name}': shape inference of {node_type.name} (plugin '{owner}') failed: {type(e).__name__}: {e}",
                    ("nodes", i),
                )
            )
            shapes[name] = None
            continue
        if any(d <= 0 for d in out_shape):
            s.add(
                doc.diagnostic(
                    "shape-mismatch",
                    f"node '{name}' would have an empty output shape {out_shape}",
                    ("nodes", i),
                )
            )
            shapes[name] = None
            continue
        if node_type.name == "Dense" and len(in_shapes[0]) > 1:  # type: ignore[arg-type]
            # Warn once per chain: the Dense nodes after the first follow from it.
            follows = bool(inputs) and inputs[0] in dense_on_rank  # type: ignore[index]
            dense_on_rank.add(name)
            if not follows:
                s.add(
                    doc.diagnostic(
                        "dense-on-rank",
                        f"node '{name}' applies Dense to an input of shape {in_shapes[0]}: it acts on the last axis only, "
                        f"giving output shape {out_shape}",
                        ("nodes", i),
                        help="insert a Flatten node before it if each sample should be one vector",
                        severity="warning",
                    )
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


def _check_outputs_against_graph(s: _State, nodes: list[GraphNode]) -> list[GraphOutput]:
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
            s.add(doc.diagnostic("unknown-output", msg, ("outputs", i, "node"), help=help_))
            continue
        node = by_name.get(out.node)
        if node is None:
            continue
        if out.loss in _CLASS_VECTOR_LOSSES and len(node.output_shape) != 1:
            s.add(
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
                out.node, out.loss, float(out.weight), tuple(out.metrics), node.output_shape
            )
        )
    return outs


def _check_reachability(s: _State, nodes: list[GraphNode], outputs: list[GraphOutput]) -> None:
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
            i = s.nodes[n.name][0]
            s.add(
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
            s.add(
                doc.diagnostic(
                    "unused-input",
                    f"input '{inp.name}' is not read by any node that reaches an output",
                    ("inputs", k, "name"),
                    help="remove it, or make a node read it",
                    severity="warning",
                )
            )


def check(doc: Document, registry: Registry | None = None) -> tuple[Graph | None, list[Diagnostic]]:
    """Check a loaded document; return its Graph (None if any error) and all diagnostics."""
    reg = registry or get_registry()  # outside the pause: plugins may import modules
    with gc_paused():
        return _check(doc, reg)


def _check(doc: Document, reg: Registry) -> tuple[Graph | None, list[Diagnostic]]:
    s = _State(doc, reg)
    data = doc.data
    if not _check_top(s, data):
        return None, s.diags
    _check_inputs(s, data.get("inputs"))
    _check_nodes(s, data.get("nodes"))
    _check_outputs(s, data.get("outputs"))
    _check_optimizer(s, data.get("optimizer"))
    for section, checker in SECTION_CHECKS.items():
        if isinstance(data.get(section), dict):
            try:
                s.extend(checker(doc, data[section], s.reg))
            except Exception as e:  # a plugin's validation failed: report, don't crash
                s.add(
                    doc.diagnostic(
                        "plugin-error",
                        f"checking '{section}' failed: {type(e).__name__}: {e}",
                        (section,),
                    )
                )
    nodes, complete = _check_graph(s) if s.nodes else ([], False)
    outputs = _check_outputs_against_graph(s, nodes)
    if complete and outputs and len(outputs) == len(s.outputs):
        _check_reachability(s, nodes, outputs)
    s.diags.sort(key=lambda d: (d.span.line, d.span.column))
    if any(d.is_error for d in s.diags) or not complete or s.optimizer is None or not outputs:
        if not any(d.is_error for d in s.diags):  # pragma: no cover - defensive
            s.add(doc.diagnostic("invalid-spec", "the spec could not be resolved", ()))
        return None, s.diags
    graph = Graph(
        name=data["name"],
        description=data.get("description"),
        inputs=tuple(s.inputs),
        nodes=tuple(nodes),
        outputs=tuple(outputs),
        optimizer=s.optimizer,
        data=freeze(data.get("data")) if data.get("data") is not None else None,
        train=freeze(data.get("train")) if data.get("train") is not None else None,
        file=doc.file,
    )
    return graph, s.diags
