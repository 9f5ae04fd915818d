"""Spec format versions, and the chain of migrations that reads old specs.

A spec says which format it is written in (``specforge: N``). When the format
changes, the change comes with a *migration*: a function that rewrites data
of version N into version N + 1. Migrations are registered through the
``register_migrations`` hook, so a plugin that renames one of its node types'
parameters migrates the specs that use it alongside the built-in ones.

The checker reads an old spec through the chain, in memory, and warns
(``old-format``) that ``specforge upgrade`` rewrites the file; diagnostics
still point into the file as written (:meth:`specforge.spec.load.Document.transformed`
carries positions over). ``specforge upgrade`` runs the same chain on the
round-trip YAML data (:mod:`specforge.spec.upgrade`).
"""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..diagnostics import Diagnostic
from .models import FORMAT_VERSION

if TYPE_CHECKING:
    from ..registry import Registry
    from .load import Document

#: The oldest format version the chain starts from.
FIRST_VERSION = 1


@dataclass(frozen=True)
class Migration:
    """One step of the chain: rewrites a spec of ``from_version`` into ``to_version``.

    ``migrate`` gets the whole spec as a mapping (a copy, or the round-trip
    YAML data that ``upgrade`` writes back) and edits it in place, returning
    None, or returns the new data. It never changes ``specforge``: the chain
    sets the version once every migration of the step has run. Use
    :func:`rename_key` to rename keys, so their position and comments stay.
    """

    from_version: int
    to_version: int
    migrate: Callable[[MutableMapping[str, Any]], Any]
    description: str
    #: The plugin that registered it (filled in by the registry).
    plugin: str = "?"


class MigrationError(Exception):
    """A migration raised: which one, and what it raised."""

    def __init__(self, migration: Migration, cause: BaseException):
        super().__init__(
            f"migration {migration.from_version} -> {migration.to_version} "
            f"('{migration.description}', plugin '{migration.plugin}') failed: "
            f"{type(cause).__name__}: {cause}"
        )
        self.migration, self.cause = migration, cause


def check_migration(
    from_version: Any, to_version: Any, migrate: Any, description: Any
) -> str | None:
    """Why a registration is refused, or None (used by the registry)."""
    if type(from_version) is not int or from_version < FIRST_VERSION:
        return f"a migration's from_version must be an int >= {FIRST_VERSION}, not {from_version!r}"
    if type(to_version) is not int or to_version != from_version + 1:
        return (
            f"a migration goes one version up: from {from_version} to {from_version + 1}, "
            f"not to {to_version!r}"
        )
    if to_version > FORMAT_VERSION:
        return (
            f"a migration to format {to_version}, but this specforge reads format "
            f"{FORMAT_VERSION} at most; the migration is ignored"
        )
    if not callable(migrate):
        return f"a migration's function must be callable, not {type(migrate).__name__}"
    if not isinstance(description, str) or not description.strip():
        return "a migration needs a description (what it changes, in a few words)"
    return None


def version_of(data: Any) -> int | None:
    """The spec's ``specforge`` version when it is a plain int, else None."""
    if isinstance(data, dict):
        version = data.get("specforge")
        if type(version) is int:
            return version
    return None


def version_problem(doc: Document) -> Diagnostic | None:
    """The ``unsupported-version`` error of a spec whose version this specforge cannot read.

    None for the current version, for one the migrations read, and when there
    is no ``specforge`` key (the header check reports it missing).
    """
    data = doc.data
    if not isinstance(data, dict) or "specforge" not in data:
        return None
    version = data["specforge"]
    if type(version) is int and FIRST_VERSION <= version <= FORMAT_VERSION:
        return None
    if type(version) is int and version > FORMAT_VERSION:
        return doc.diagnostic(
            "unsupported-version",
            f"spec format version {version} is newer than this specforge reads ({FORMAT_VERSION})",
            ("specforge",),
            help="upgrade specforge (pip install -U specforge) to read it",
        )
    return doc.diagnostic(
        "unsupported-version",
        f"unsupported spec format version {version!r}",
        ("specforge",),
        help=f"this specforge reads format versions {FIRST_VERSION} to {FORMAT_VERSION}: "
        f"write 'specforge: {FORMAT_VERSION}'",
    )


def needs_migration(data: Any) -> bool:
    version = version_of(data)
    return version is not None and FIRST_VERSION <= version < FORMAT_VERSION


def migrate_data(data: MutableMapping[str, Any], registry: Registry) -> tuple[Any, list[Migration]]:
    """Run the chain on ``data`` (edited in place where the migrations do so).

    Returns the migrated data, its ``specforge`` set to the current version,
    and the migrations that ran. Raises :class:`MigrationError` when one raises.
    """
    version = version_of(data)
    if version is None or not FIRST_VERSION <= version < FORMAT_VERSION:
        return data, []
    applied: list[Migration] = []
    steps = getattr(registry, "migrations", [])
    for to in range(version + 1, FORMAT_VERSION + 1):
        for m in (m for m in steps if m.from_version == to - 1):
            try:
                result = m.migrate(data)
            except Exception as e:
                raise MigrationError(m, e) from e
            if result is not None:
                data = result
            applied.append(m)
        data["specforge"] = to
    return data, applied


def migrate_document(doc: Document, registry: Registry) -> tuple[Document, list[Diagnostic]]:
    """An old spec's document migrated in memory, with the ``old-format`` warning.

    A current (or unreadable) version comes back unchanged. A migration that
    raises is reported as a ``plugin-error`` on the version, and the document
    is returned unchanged (checking it then reports what the old format lacks).
    """
    if not needs_migration(doc.data):
        return doc, []
    version = version_of(doc.data)
    applied: list[Migration] = []

    def run(data: Any) -> Any:
        new, ran = migrate_data(data, registry)
        applied.extend(ran)
        return new

    try:
        migrated = doc.transformed(run)
    except MigrationError as e:
        return doc, [doc.diagnostic("plugin-error", str(e), ("specforge",))]
    changes = "; ".join(dict.fromkeys(m.description for m in applied)) or "no changes"
    name = doc.file if not doc.file.startswith("<") else "SPEC"
    warning = doc.diagnostic(
        "old-format",
        f"spec format version {version} is older than the current {FORMAT_VERSION}; "
        f"read as upgraded in memory ({changes})",
        ("specforge",),
        severity="warning",
        help=f"run `specforge upgrade {name} --in-place` to rewrite it in format "
        f"{FORMAT_VERSION}, comments kept",
    )
    return migrated, [warning]


def rename_key(mapping: MutableMapping[str, Any], old: str, new: str) -> bool:
    """Rename ``old`` to ``new`` in place, keeping its position (and its comments in
    round-trip YAML); False, and nothing changed, if ``old`` is absent or ``new`` taken."""
    if old not in mapping or new in mapping:
        return False
    insert = getattr(mapping, "insert", None)  # ruamel.yaml's CommentedMap
    if insert is not None:
        position = list(mapping).index(old)
        comments = getattr(getattr(mapping, "ca", None), "items", {})
        comment = comments.pop(old, None)
        value = mapping.pop(old)
        insert(position, new, value)
        if comment is not None:
            comments[new] = comment
        return True
    items = list(mapping.items())
    mapping.clear()
    mapping.update((new if k == old else k, v) for k, v in items)
    return True
