"""What the check passes learn about a spec as they go, for the passes after them."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ...diagnostics import Diagnostic, did_you_mean
from ...ir import GraphInput, OptimizerConfig
from ...plugin import NodeType
from ..load import Document, Path_
from ..models import OutputSpec

if TYPE_CHECKING:
    from ...registry import Registry


@dataclass
class NodeEntry:
    """A node as the structure pass left it, for the graph pass."""

    index: int
    #: None when the type is unknown (reported).
    node_type: NodeType | None
    #: The validated parameters; None when they are invalid (reported).
    params: Any
    #: The names the node reads; None when the node itself is broken (reported).
    inputs: list[str] | None


@dataclass
class CheckContext:
    """Shared state of one check: each pass yields diagnostics and records what it resolved."""

    doc: Document
    reg: Registry
    inputs: list[GraphInput] = field(default_factory=list)
    input_names: set[str] = field(default_factory=set)
    nodes: dict[str, NodeEntry] = field(default_factory=dict)
    node_order: list[str] = field(default_factory=list)
    #: Nodes whose 'inputs' were already reported as unusable (no second diagnostic).
    bad_inputs: set[str] = field(default_factory=set)
    #: Where each input or node name was first defined (for duplicate-name messages).
    first_defined: dict[str, Path_] = field(default_factory=dict)
    outputs: list[tuple[int, OutputSpec]] = field(default_factory=list)
    optimizer: OptimizerConfig | None = None
    #: A section failed structurally: skip the whole-graph checks that need it.
    broken: bool = False

    def define(self, name: str, path: Path_) -> None:
        self.first_defined.setdefault(name, path)

    def unknown_name_help(self, kind: str, name: object) -> str | None:
        return unknown_name_help(self.reg, kind, name)


def unknown_name_help(reg: Registry, kind: str, name: object) -> str | None:
    """The help line for an unknown registry name: did-you-mean, a failed plugin, or the list."""
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


def collect(passes: Iterator[Diagnostic], into: list[Diagnostic]) -> Any:
    """Run a pass, appending what it yields to ``into``; return what it returns."""
    while True:
        try:
            into.append(next(passes))
        except StopIteration as stop:
            return stop.value
