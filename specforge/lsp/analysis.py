"""One open spec as the server knows it: its text, its check result, and what is left from before.

Checking is :func:`specforge.spec.api.check_text`, the very function behind
``specforge validate``, so the editor shows the same diagnostics. While the text
does not parse, the features that need the parsed spec (names to complete, the
outline, hover on a node's shape) fall back to the last text that did, and to
the last graph that resolved.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import PurePosixPath
from urllib.parse import unquote, urlparse

from ..ir import Graph, GraphNode
from ..registry import Registry
from ..spec.api import CheckResult, check_document, check_text
from ..spec.load import Document
from .catalog import Names
from .incremental import splice
from .positions import split_lines


@dataclass
class Analysis:
    """The check of one version of a document, plus the last good parse and graph."""

    uri: str
    text: str
    version: int | None
    file: str
    format: str
    result: CheckResult
    #: The parsed text of this version, or None when it does not parse.
    document: Document | None
    #: The latest version's document that parsed (this one when it parses).
    last_good: Document | None
    #: The latest graph that resolved (possibly of an older version).
    graph: Graph | None
    lines: list[str] = field(default_factory=list)
    _names: Names | None = field(default=None, repr=False)
    _nodes: dict[str, GraphNode] | None = field(default=None, repr=False)

    @property
    def parsed(self) -> Document | None:
        """The best document to read names and positions from: this version's, else the last good."""
        return self.document or self.last_good

    def names(self, reg: Registry) -> Names:
        if self._names is None:
            doc = self.parsed
            self._names = Names.from_data(doc.data if doc is not None else None, reg)
        return self._names

    def node(self, name: str) -> tuple[GraphNode | None, bool]:
        """What the checker inferred for node ``name``, and whether it is of the current text
        (False: from the last graph that resolved)."""
        if self._nodes is None:
            self._nodes = {n.name: n for n in self.result.nodes}
        node = self._nodes.get(name)
        if node is not None:
            return node, True
        for node in self.graph.nodes if self.graph is not None else ():
            if node.name == name:
                return node, False
        return None, False

    @property
    def graph_is_current(self) -> bool:
        return self.result.graph is not None


def file_of(uri: str) -> str:
    """The file name diagnostics carry: the local path of a file: URI, else the URI's last part."""
    parsed = urlparse(uri)
    if parsed.scheme == "file":
        path = unquote(parsed.path)
        if len(path) > 2 and path[0] == "/" and path[2] == ":":  # file:///C:/...
            path = path[1:]
        return path or uri
    name = PurePosixPath(unquote(parsed.path)).name
    return name or uri


def format_of(file: str, language_id: str | None) -> str:
    """``json`` for JSON documents (by language or suffix), else ``yaml``."""
    if language_id in ("json", "jsonc"):
        return "json"
    if language_id in ("yaml",):
        return "yaml"
    return "json" if file.lower().endswith(".json") else "yaml"


def analyze(
    uri: str,
    text: str,
    version: int | None,
    *,
    language_id: str | None,
    registry: Registry,
    previous: Analysis | None = None,
) -> Analysis:
    """Check ``text``; carry the last good document and graph over from ``previous``."""
    file = file_of(uri)
    fmt = format_of(file, language_id)
    lines = split_lines(text)
    spliced = None
    if previous is not None and previous.document is not None and previous.format == fmt:
        # Spliced in place: the previous analysis is dropped for this one.
        spliced = splice(previous.document, previous.lines, text, lines)
    if spliced is not None:
        result = check_document(spliced, [], registry)
    else:
        result = check_text(text, file, format=fmt, registry=registry)
    parsed = result.document if result.document.data is not None else None
    return Analysis(
        uri=uri,
        text=text,
        version=version,
        file=file,
        format=fmt,
        result=result,
        document=parsed,
        last_good=parsed or (previous.last_good if previous else None),
        graph=result.graph or (previous.graph if previous else None),
        lines=lines,
    )
