"""The user's API: load, check and resolve specs with the installed plugins.

Everything the CLI does is one call here or in :mod:`specforge.builder` and
:mod:`specforge.training`, so a notebook can do the same::

    import specforge
    graph = specforge.resolve("specs/wide_deep.yaml")
    print(graph.total_params)   # 3479

Each function takes ``registry=`` (a :class:`~specforge.registry.Registry`, e.g.
from :func:`specforge.testing.registry_with`); without it, the installed
plugins' registry is used. This is the one layer that chooses a default: the
front end (:mod:`specforge.spec`) is always given its registry.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from .ir import Graph
from .registry import Registry, get_registry
from .spec import api as _spec
from .spec.api import CheckResult, SpecLike
from .spec.load import Document
from .spec.schema import json_schema as _json_schema

__all__ = [
    "CheckResult",
    "check_data",
    "check_document",
    "check_file",
    "check_text",
    "json_schema",
    "resolve",
]


def check_document(
    doc: Document,
    load_diags: list[Any],
    registry: Registry | None = None,
    overrides: Sequence[str] = (),
) -> CheckResult:
    """Check a loaded document, after applying ``overrides`` (``key.path=value`` strings)."""
    return _spec.check_document(doc, load_diags, registry or get_registry(), overrides)


def check_file(
    path: str | os.PathLike[str],
    *,
    overrides: Sequence[str] = (),
    registry: Registry | None = None,
) -> CheckResult:
    """Check a spec file, with ``overrides`` applied first (``["train.epochs=5"]``, as ``--set``).

    Raises :class:`specforge.spec.load.SpecFileError` if it cannot be read.
    """
    return _spec.check_file(path, registry=registry or get_registry(), overrides=overrides)


def check_text(
    text: str | bytes,
    file: str = "<spec>",
    *,
    format: str | None = None,
    overrides: Sequence[str] = (),
    registry: Registry | None = None,
) -> CheckResult:
    """Check spec text (YAML, or JSON when ``format='json'`` or the file name ends in .json)."""
    return _spec.check_text(
        text, file, format=format, registry=registry or get_registry(), overrides=overrides
    )


def check_data(
    data: Mapping[str, Any],
    *,
    file: str = "<dict>",
    overrides: Sequence[str] = (),
    registry: Registry | None = None,
) -> CheckResult:
    """Check a spec given as Python data (no positions: diagnostics point at line 1)."""
    return _spec.check_data(
        data, file=file, registry=registry or get_registry(), overrides=overrides
    )


def resolve(
    spec: SpecLike, *, overrides: Sequence[str] = (), registry: Registry | None = None
) -> Graph:
    """A spec file path or dict → its Graph; raises :class:`~specforge.diagnostics.SpecError` if invalid."""
    return _spec.resolve(spec, registry=registry or get_registry(), overrides=overrides)


def json_schema(registry: Registry | None = None) -> dict[str, Any]:
    """The JSON Schema of the spec format for the installed plugins (``specforge schema``)."""
    return _json_schema(registry or get_registry())
