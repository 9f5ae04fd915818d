"""Load, check and resolve specs against a given registry: the front end's entry points.

The registry is always passed in: the front end never reaches for the
installed plugins itself (that is :mod:`specforge.api`'s job, one layer up, for
users and the CLI), so a backend or plugin can check a spec with the registry it
was given without importing the plugin manager.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..diagnostics import Diagnostic, SpecError
from ..ir import Graph, GraphNode
from .check import check_partial
from .load import Document, load, loads
from .overrides import apply_overrides

if TYPE_CHECKING:
    from ..registry import Registry

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
    doc: Document,
    load_diags: list[Diagnostic],
    registry: Registry,
    overrides: Sequence[str] = (),
) -> CheckResult:
    """Check a loaded document against ``registry``, after applying ``overrides``.

    ``overrides`` are ``key.path=value`` strings (:mod:`.overrides`); a bad one
    is an error located in the ``--set`` argument, and so is an overridden value
    the checker refuses.
    """
    if load_diags:
        return CheckResult(doc, None, load_diags)
    bad = apply_overrides(doc, overrides)
    if bad:
        return CheckResult(doc, None, bad)
    graph, diags, nodes = check_partial(doc, registry)
    return CheckResult(doc, graph, [doc.repoint(d) for d in diags], nodes)


def check_file(
    path: str | os.PathLike[str], *, registry: Registry, overrides: Sequence[str] = ()
) -> CheckResult:
    """Check a spec file. Raises :class:`specforge.spec.load.SpecFileError` if it cannot be read."""
    doc, diags = load(path)
    return check_document(doc, diags, registry, overrides)


def check_text(
    text: str | bytes,
    file: str = "<spec>",
    *,
    format: str | None = None,
    registry: Registry,
    overrides: Sequence[str] = (),
) -> CheckResult:
    """Check spec text (YAML, or JSON when ``format='json'`` or the file name ends in .json)."""
    doc, diags = loads(text, file, format=format)
    return check_document(doc, diags, registry, overrides)


def check_data(
    data: Mapping[str, Any],
    *,
    file: str = "<dict>",
    registry: Registry,
    overrides: Sequence[str] = (),
) -> CheckResult:
    """Check a spec given as Python data (no positions: diagnostics point at line 1)."""
    doc = Document(
        data=copy.deepcopy(dict(data)) if overrides else dict(data), file=file, format="python"
    )
    return check_document(doc, [], registry, overrides)


def resolve(spec: SpecLike, *, registry: Registry, overrides: Sequence[str] = ()) -> Graph:
    """A spec file, text path or dict → its Graph; raises :class:`SpecError` if invalid."""
    if isinstance(spec, Graph):
        if overrides:
            raise TypeError("overrides apply to a spec file or dict, not to a resolved Graph")
        return spec
    if isinstance(spec, Mapping):
        result = check_data(spec, registry=registry, overrides=overrides)
    else:
        result = check_file(Path(spec), registry=registry, overrides=overrides)
    if not result.ok or result.graph is None:
        raise SpecError(result.diagnostics)
    return result.graph
