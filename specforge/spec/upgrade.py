"""Rewrite a spec file in the current format, keeping its comments and layout.

YAML goes through ruamel.yaml's round-trip mode: it keeps comments, key
order, flow or block style of each mapping and list, quoting and folded
text, and the migrations edit that data in place (:func:`rename_key` keeps a
renamed key's place and comment). What ruamel.yaml does not keep is the
indentation of each block separately: one indentation is detected from the
file and used throughout, and :func:`upgrade_text` reports how many lines
changed besides the migration so that ``upgrade`` can say so. JSON has no
comments: only the keys and values the migrations change are rewritten, in
place, so the rest of the file stays byte for byte (a migration that adds,
removes or moves keys makes it write the whole file with its indentation).
"""

from __future__ import annotations

import difflib
import io
import itertools
import json
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .migrate import FORMAT_VERSION, Migration, migrate_data

if TYPE_CHECKING:
    from ..registry import Registry


@dataclass
class Upgrade:
    """The upgraded text and what changed."""

    text: str
    from_version: int
    to_version: int
    applied: list[Migration] = field(default_factory=list)
    #: Lines whose formatting the round trip changed although no migration touched them.
    reformatted: int = 0


def upgrade_text(text: str, fmt: str, from_version: int, registry: Registry) -> Upgrade:
    """``text`` (a spec of ``from_version``, already loaded without errors) in the current format."""
    if fmt == "json":
        return _upgrade_json(text, from_version, registry)
    return _upgrade_yaml(text, from_version, registry)


def _upgrade_json(text: str, from_version: int, registry: Registry) -> Upgrade:
    from .load import loads

    doc, _ = loads(text, "<spec>.json", format="json")
    data, applied = migrate_data(json.loads(text), registry)
    patched = _patch_json(doc, data)
    if patched is not None:
        return Upgrade(patched, from_version, FORMAT_VERSION, applied)
    # Keys added, removed or moved: write it all again, with the file's indentation.
    m = re.search(r"\n([ \t]+)\S", text)
    out = json.dumps(data, indent=m.group(1) if m else None, ensure_ascii="\\u" in text)
    lines = sum(1 for _ in text.splitlines())
    return Upgrade(out + "\n" * text.endswith("\n"), from_version, FORMAT_VERSION, applied, lines)


def _patch_json(doc: Any, new: Any) -> str | None:
    """The JSON text with only the renamed keys and changed values rewritten in place.

    Walks the old and the migrated data side by side; None when they differ in
    structure (a key added, removed or moved, a list of another length), which
    the caller handles by writing the whole document again.
    """
    edits: list[tuple[Any, str]] = []  # (span, replacement text)
    stack: list[tuple[tuple[Any, ...], Any, Any]] = [((), doc.data, new)]
    while stack:
        path, a, b = stack.pop()
        if isinstance(a, dict) and isinstance(b, dict):
            if len(a) != len(b):
                return None
            for (ka, va), (kb, vb) in zip(a.items(), b.items(), strict=True):
                if ka != kb:
                    if kb in a or (*path, ka) not in doc.key_spans:
                        return None  # a reordering, not a rename
                    edits.append((doc.key_spans[(*path, ka)], json.dumps(kb, ensure_ascii=False)))
                stack.append(((*path, ka), va, vb))
        elif isinstance(a, list) and isinstance(b, list):
            if len(a) != len(b):
                return None
            stack.extend(((*path, i), x, y) for i, (x, y) in enumerate(zip(a, b, strict=True)))
        elif isinstance(a, (dict, list)) or isinstance(b, (dict, list)):
            return None
        elif a != b or type(a) is not type(b):
            if path not in doc.spans:
                return None
            edits.append((doc.spans[path], json.dumps(b, ensure_ascii=False)))
    lines = doc.source.splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))
    text = doc.source
    for span, replacement in sorted(edits, key=lambda e: (e[0].line, e[0].column), reverse=True):
        start = starts[span.line - 1] + span.column - 1
        end = starts[span.end_line - 1] + span.end_column - 1
        text = text[:start] + replacement + text[end:]
    return text


def _yaml(text: str) -> Any:
    from ruamel.yaml import YAML

    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096  # never re-wrap long lines
    mapping, sequence, offset = detect_indent(text)
    yaml.indent(mapping=mapping, sequence=sequence, offset=offset)
    yaml.explicit_start = bool(re.match(r"(\s*#[^\n]*\n)*\s*---", text))
    return yaml


def _dump(yaml: Any, data: Any) -> str:
    buf = io.StringIO()
    yaml.dump(data, buf)
    return buf.getvalue()


def _upgrade_yaml(text: str, from_version: int, registry: Registry) -> Upgrade:
    yaml = _yaml(text)
    same = _dump(yaml, yaml.load(text))  # what the round trip alone does to the layout
    reformatted = sum(
        1 for line in difflib.ndiff(text.splitlines(), same.splitlines()) if line.startswith("- ")
    )
    data = yaml.load(text)
    data, applied = migrate_data(data, registry)
    return Upgrade(_dump(yaml, data), from_version, FORMAT_VERSION, applied, reformatted)


_KEY = re.compile(r"^(\s*)[^\s#-][^:#]*:\s*(#.*)?$")
_ITEM = re.compile(r"^(\s*)- ")
_CHILD = re.compile(r"^(\s*)[^\s#-]")


def detect_indent(text: str) -> tuple[int, int, int]:
    """(mapping, sequence, offset) indentation of the file's block collections, for ruamel.yaml.

    ``offset`` is how far a list's dash is indented under its key (``specs/``
    write ``inputs:`` then ``  - {...}``: offset 2, sequence 4); the default is
    PyYAML's and ruamel's (2, 2, 0).
    """
    lines = [
        line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")
    ]
    mapping, sequence, offset = 2, 2, 0
    found_map = found_seq = False
    for line, following in itertools.pairwise(lines):
        key = _KEY.match(line)
        if key is None:
            continue
        base = len(key.group(1))
        item = _ITEM.match(following)
        if item is not None and not found_seq:
            offset = max(0, len(item.group(1)) - base)
            sequence = offset + 2
            found_seq = True
        elif item is None and not found_map:
            child = _CHILD.match(following)
            if child is not None and len(child.group(1)) > base:
                mapping = len(child.group(1)) - base
                found_map = True
        if found_map and found_seq:
            break
    return mapping, sequence, offset
