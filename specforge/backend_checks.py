"""Shared helpers for a backend's pre-build checks: positioned diagnostics about a graph.

A backend checks a resolved graph before allocating anything (names it has no
lowering for, activations it cannot train through) and reports each problem at
the node's line and column. Every backend needs the same two things for that:
where a node or a spec path is in the source, and a help line pointing at the
backends or plugins that do support a name. Built-in and plugin backends share
them from here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .diagnostics import Diagnostic, Span


def _node_index(document: Any, name: str) -> int | None:
    nodes = getattr(document, "data", {}).get("nodes") if document is not None else None
    if isinstance(nodes, list):
        for i, item in enumerate(nodes):
            if isinstance(item, Mapping) and item.get("name") == name:
                return i
    return None


@dataclass
class Reporter:
    """Collects a backend's diagnostics about ``graph``.

    With the spec's ``document`` (from :func:`specforge.check_file`) spans are
    exact; without it, they fall back to the node's own span in the graph.
    """

    graph: Any
    document: Any = None
    diagnostics: list[Diagnostic] = field(default_factory=list)

    def span(self, path: tuple[Any, ...], fallback: Span | None = None) -> Span:
        if self.document is not None:
            return self.document.span(path)
        return fallback or Span(1, 1, 1, 2)

    def node_span(self, node: Any, *rest: Any) -> Span:
        i = _node_index(self.document, node.name)
        if i is None:
            return node.span or Span(1, 1, 1, 2)
        return self.span(("nodes", i, *rest), node.span)

    def add(self, code: str, message: str, span: Span, help: str | None = None) -> None:
        self.diagnostics.append(Diagnostic(code, message, "error", self.graph.file, span, help))


def supported_names(registry: Any, backend: str, kind: str) -> list[str]:
    """The names of ``kind`` that ``backend`` has a lowering for."""
    return sorted(n for (b, k, n) in registry.lowerings if b == backend and k == kind)


def _third_party_owner(registry: Any, kind: str, name: str) -> str | None:
    """The plugin that registered node type ``name``, unless it is a built-in."""
    if kind != "node":
        return None
    owner = registry.owner.get(("node_type", name))
    builtin = any(p.name == owner and p.builtin for p in getattr(registry, "plugins", ()))
    return owner if owner and not builtin else None


def lowering_help(registry: Any, backend: str, label: str, kind: str, name: str) -> str:
    """Help for a name ``backend`` (shown as ``label``) cannot lower: who can, or what it has.

    A plugin's node type without a lowering for the backend names the plugin, whose
    author can add one.
    """
    others = sorted(
        {b for (b, k, n) in registry.lowerings if k == kind and n == name and b != backend}
    )
    owner = _third_party_owner(registry, kind, name)
    if owner is not None:
        article = "an" if label[:1].lower() in "aeiou" else "a"
        other = f"use --backend {others[0]}, which supports it, or " if others else ""
        return (
            f"plugin '{owner}' provides '{name}' without {article} {label} lowering; "
            f"{other}ask its author for one (docs/plugins.md shows how)"
        )
    base = f"install a plugin that lowers {kind} '{name}' for {label}"
    if others:
        return f"{base}, or use --backend {others[0]}, which supports it"
    have = supported_names(registry, backend, kind)
    if have and len(have) <= 25:
        return f"{base}; {label} has: {', '.join(have)}"
    return f"{base}; `specforge plugins` lists what each installed plugin provides"
