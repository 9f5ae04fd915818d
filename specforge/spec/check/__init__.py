"""Check a loaded spec and resolve it into the IR.

Checking is an explicit list of small passes (:data:`PASSES` says which, in
order), each a generator that yields diagnostics rather than raising, as
jsonschema's keywords do, so one run reports every problem. A pass that finds
a broken section skips only that section: a typo in one node does not hide a
cycle elsewhere. The last step resolves the ``data`` and ``train`` sections, so
the :class:`~specforge.ir.Graph` it returns is complete and typed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...diagnostics import Diagnostic
from ...ir import Graph, GraphNode
from ..load import Document, gc_paused
from ..migrate import migrate_document
from . import graph, sections, structure
from .context import CheckContext, collect

if TYPE_CHECKING:
    from ...registry import Registry

#: The passes, in order; documented in docs/architecture.md.
PASSES = (
    "migrate.migrate_document",
    "structure.check_top",
    "structure.check_inputs",
    "structure.check_nodes",
    "structure.check_outputs",
    "structure.check_optimizer",
    "sections.check_data_section",
    "sections.check_train_section",
    "graph.check_graph",
    "graph.check_outputs_against_graph",
    "graph.check_reachability",
    "sections.resolve_data / resolve_train",
)


def check(doc: Document, registry: Registry) -> tuple[Graph | None, list[Diagnostic]]:
    """Check a loaded document; return its Graph (None if any error) and all diagnostics.

    A spec in an older format is first migrated in memory (with a warning);
    positions still point into the file as written.
    """
    graph, diags, _ = check_partial(doc, registry)
    return graph, diags


def check_partial(
    doc: Document, registry: Registry
) -> tuple[Graph | None, list[Diagnostic], list[GraphNode]]:
    """Like :func:`check`, plus the nodes whose shapes resolved even if the spec has
    errors elsewhere (an editor shows their shapes while the spec is being written)."""
    resolved: list[GraphNode] = []
    with gc_paused():
        doc, migrated = migrate_document(doc, registry)
        if any(d.is_error for d in migrated):
            return None, migrated, resolved
        graph, diags = _check(doc, registry, resolved)
    return graph, (migrated + diags if migrated else diags), resolved


def _check(
    doc: Document, reg: Registry, resolved: list[GraphNode]
) -> tuple[Graph | None, list[Diagnostic]]:
    s = CheckContext(doc, reg)
    diags: list[Diagnostic] = []
    data = doc.data
    if not collect(structure.check_top(s, data), diags):
        return None, diags
    diags.extend(structure.check_inputs(s, data.get("inputs")))
    diags.extend(structure.check_nodes(s, data.get("nodes")))
    diags.extend(structure.check_outputs(s, data.get("outputs")))
    diags.extend(structure.check_optimizer(s, data.get("optimizer")))
    section_errors = len(diags)
    for name, section_check in (
        ("data", sections.check_data_section),
        ("train", sections.check_train_section),
    ):
        if isinstance(data.get(name), dict):
            try:
                diags.extend(section_check(doc, data[name], reg))
            except Exception as e:  # a plugin's parameter model failed: report, don't crash
                diags.append(
                    doc.diagnostic(
                        "plugin-error",
                        f"checking '{name}' failed: {type(e).__name__}: {e}",
                        (name,),
                    )
                )
    sections_ok = not any(d.is_error for d in diags[section_errors:])
    nodes, complete = collect(graph.check_graph(s), diags) if s.nodes else ([], False)
    resolved.extend(nodes)
    outputs = collect(graph.check_outputs_against_graph(s, nodes), diags)
    if complete and outputs and len(outputs) == len(s.outputs):
        diags.extend(graph.check_reachability(s, nodes, outputs))
    diags.sort(key=lambda d: (d.span.line, d.span.column))
    errors = any(d.is_error for d in diags)
    if errors or not complete or s.optimizer is None or not outputs or not sections_ok:
        if not errors:  # pragma: no cover - defensive
            diags.append(doc.diagnostic("invalid-spec", "the spec could not be resolved", ()))
        return None, diags
    try:
        data_cfg = (
            sections.resolve_data(data["data"], reg, sections.base_dir(doc))
            if data.get("data") is not None
            else None
        )
        train_cfg = sections.resolve_train(data["train"]) if data.get("train") is not None else None
    except Exception as e:  # a plugin's parameter model changed its mind: report, don't crash
        diags.append(doc.diagnostic("plugin-error", f"resolving the spec failed: {e}", ()))
        return None, diags
    resolved = Graph(
        name=data["name"],
        description=data.get("description"),
        inputs=tuple(s.inputs),
        nodes=tuple(nodes),
        outputs=tuple(outputs),
        optimizer=s.optimizer,
        data=data_cfg,
        train=train_cfg,
        file=doc.file,
    )
    return resolved, diags


__all__ = ["PASSES", "check", "check_partial"]
