"""Load, check and resolve specs: the spec language's Python API (the CLI is a thin layer on it).

Everything the CLI does is one call here, so a notebook can do the same::

    import specforge
    graph = specforge.resolve("specs/wide_deep.yaml")
    print(graph.total_params)   # 3479
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..diagnostics import Diagnostic, SpecError
from ..ir import Graph, GraphNode
from ..loader import Document, load, loads
from ..registry import Registry, get_registry
from .check import check_partial

SpecLike = str | os.PathLike[str] | Mapping[str, Any] | Graph


@dataclass
class CheckResult:
    """The outcome of checking one spec: its document, graph (if valid) and diagnostics."""

    document: Document
    graph: Graph | None
    diagnostics: list[Diagnostic] = field(default_factory=list)
    #: The nodes whose shapes and parameter counts resolved, in topological order: all of
    #: them when the spec is valid, and those the errors do not reach when it is not.
    nodes: list[GraphNode] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.graph is not None and not any(d.is_error for d in self.diagnostics)

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.is_error]


def check_document(
    doc: Document, load_diags: list[Diagnostic], registry: Registry | None = None
) -> CheckResult:
    """Check a loaded document; ``registry`` defaults to the installed plugins'."""
    if load_diags:
        return CheckResult(doc, None, load_diags)
    graph, diags, nodes = check_partial(doc, registry or get_registry())
    return CheckResult(doc, graph, diags, nodes)


def check_file(path: str | os.PathLike[str], *, registry: Registry | None = None) -> CheckResult:
    """Check a spec file. Raises :class:`specforge.loader.SpecFileError` if it cannot be read."""
    doc, diags = load(path)
    return check_document(doc, diags, registry)


def check_text(
    text: str | bytes,
    file: str = "<spec>",
    *,
    format: str | None = None,
    registry: Registry | None = None,
) -> CheckResult:
    """Check spec text (YAML, or JSON when ``format='json'`` or the file name ends in .json)."""
    doc, diags = loads(text, file, format=format)
    return check_document(doc, diags, registry)


def check_data(
    data: Mapping[str, Any], *, file: str = "<dict>", registry: Registry | None = None
) -> CheckResult:
    """Check a spec given as Python data (no positions: diagnostics point at line 1)."""
    doc = Document(data=dict(data), file=file, format="python")
    return check_document(doc, [], registry)


def resolve(spec: SpecLike, *, registry: Registry | None = None) -> Graph:
    """A spec file, text path or dict → its Graph; raises :class:`SpecError` if invalid."""
    if isinstance(spec, Graph):
        return spec
    if isinstance(spec, Mapping):
        result = check_data(spec, registry=registry)
    else:
        result = check_file(Path(spec), registry=registry)
    if not result.ok or result.graph is None:
        raise SpecError(result.diagnostics)
    return result.graph
