"""Generate the reference tables of ``docs/spec.md`` from the schema and the registry.

The prose of ``docs/spec.md`` is written by hand; the tables between
``<!-- BEGIN GENERATED: name -->`` and ``<!-- END GENERATED: name -->`` are
produced here, from the same pydantic models and registry the checker uses, so
they cannot drift (a test fails if the file is out of date). Only the built-in
plugins are used, whatever is installed::

    python -m specforge.docs_gen            # rewrite docs/spec.md
    python -m specforge.docs_gen --check    # exit 1 if it is out of date
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from . import diagnostics, loader
from .plugins import Registry, load_registry
from .spec.schema import json_schema

DOC = Path(__file__).resolve().parent.parent / "docs" / "spec.md"
_BLOCK = re.compile(
    r"(<!-- BEGIN GENERATED: (?P<name>[a-z0-9-]+) -->\n)(?P<body>.*?)(<!-- END GENERATED: (?P=name) -->)",
    re.S,
)


def _sentence(text: str) -> str:
    text = text.strip().rstrip(".")
    return text[:1].upper() + text[1:] + "." if text else ""


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ").strip()


def _table(header: Iterable[str], rows: Iterable[Iterable[object]]) -> str:
    head = list(header)
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join(" --- " for _ in head) + "|"]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _literal(value: Any) -> str:
    return (
        f"`{json.dumps(value, ensure_ascii=False)}`" if not isinstance(value, str) else f"`{value}`"
    )


def type_text(prop: Mapping[str, Any]) -> str:
    """A short description of a JSON Schema property: its type and constraints."""
    if "const" in prop:
        return _literal(prop["const"])
    if "anyOf" in prop:
        return " or ".join(type_text(p) for p in prop["anyOf"])
    if "$ref" in prop:
        return "mapping (" + prop["$ref"].rsplit("/", 1)[-1] + ")"
    kind = prop.get("type")
    if "enum" in prop:
        return "one of " + ", ".join(_literal(v) for v in prop["enum"])
    words = {
        "integer": "integer",
        "number": "number",
        "string": "string",
        "boolean": "boolean",
        "null": "null",
        "object": "mapping",
    }
    if kind == "array":
        items = prop.get("items", {})
        text = "list of " + (type_text(items) if items else "values")
        if prop.get("minItems"):
            text += f", at least {prop['minItems']}"
        return text
    text = words.get(kind, "value") if isinstance(kind, str) else "value"
    bounds = []
    for key, sign in (
        ("exclusiveMinimum", ">"),
        ("minimum", "≥"),
        ("exclusiveMaximum", "<"),
        ("maximum", "≤"),
    ):
        if key in prop:
            bounds.append(
                f"{sign} {prop[key]:g}"
                if isinstance(prop[key], (int, float))
                else f"{sign} {prop[key]}"
            )
    if bounds:
        text += " " + ", ".join(bounds)
    if "pattern" in prop:
        text = "name"
    return text


def _props_table(schema: Mapping[str, Any], notes: Mapping[str, str] | None = None) -> str:
    """A key / type / default / description table of an object schema."""
    required = set(schema.get("required", []))
    rows = []
    for key, prop in schema.get("properties", {}).items():
        kind = (notes or {}).get(key) or type_text(prop)
        if key in required:
            default = "required"
        elif "default" in prop:
            default = _literal(prop["default"])
        else:
            default = "optional"
        rows.append((f"`{key}`", kind, default, prop.get("description", "")))
    return _table(["key", "type", "default", "meaning"], rows)


def _model_schema(model: type[BaseModel]) -> dict[str, Any]:
    return model.model_json_schema(mode="validation")


def _inputs_text(node_type: Any) -> str:
    lo, hi = node_type.min_inputs, node_type.max_inputs
    if hi == lo:
        return f"exactly {lo}"
    return f"at least {lo}" if hi is None else f"{lo} to {hi}"


def _node_types(reg: Registry) -> str:
    parts = []
    for name, node_type in sorted(reg.node_types.items()):
        parts.append(f"### `{name}`\n")
        parts.append(f"{_sentence(node_type.description)} Inputs: {_inputs_text(node_type)}.\n")
        schema = _model_schema(node_type.Params)
        notes = {p: "activation name" for p in node_type.activation_params}
        notes.update({p: "initializer name" for p in node_type.initializer_params})
        if schema.get("properties"):
            parts.append(_props_table(schema, notes) + "\n")
        else:
            parts.append("No parameters besides `name`, `type` and `inputs`.\n")
    return "\n".join(parts).rstrip() + "\n"


def _optimizers(reg: Registry) -> str:
    parts = []
    for name, opt in sorted(reg.items["optimizer"].items()):
        aliases = ", ".join(f"`{a}`" for a in opt.aliases)
        parts.append(f"### `{name}`\n")
        parts.append(
            _sentence(opt.description) + (f" Also written {aliases}." if aliases else "") + "\n"
        )
        parts.append(_props_table(_model_schema(opt.params)) + "\n")
    return "\n".join(parts).rstrip() + "\n"


def _names(reg: Registry, kind: str) -> str:
    rows = []
    for name, item in sorted(reg.items[kind].items()):
        aliases = ", ".join(f"`{a}`" for a in getattr(item, "aliases", ()))
        note = getattr(item, "description", "")
        if kind == "activation" and not getattr(item, "differentiable", True):
            note += " (not differentiable)"
        rows.append((f"`{name}`", aliases, note))
    return _table([kind, "also written", "meaning"], rows) + "\n"


def _limits() -> str:
    rows = [
        (
            "file size",
            f"{loader.DEFAULT_MAX_BYTES:,} bytes",
            "`too-large`; raise it with the environment variable `SPECFORGE_MAX_SPEC_BYTES`",
        ),
        ("nesting depth", f"{loader.MAX_DEPTH} levels of mappings and lists", "`too-deep`"),
        ("aliases", f"{loader.MAX_ALIASES:,} uses of `*name` per file", "`alias-limit`"),
        (
            "expanded size",
            f"{loader.MAX_VALUES:,} values once aliases are followed",
            "`alias-limit`",
        ),
        ("documents", "one per file", "`multiple-documents`"),
        ("diagnostics printed", f"{diagnostics.MAX_PRINTED} per file (the rest are counted)", "—"),
    ]
    return _table(["limit", "value", "diagnostic"], rows) + "\n"


def blocks(registry: Registry | None = None) -> dict[str, str]:
    """The generated blocks of docs/spec.md, by marker name."""
    reg = registry or load_registry(entry_points=False)
    schema = json_schema(reg)
    props = schema["properties"]
    top = {
        "properties": {k: v for k, v in props.items()},
        "required": schema["required"],
    }
    top_notes = {
        "inputs": "list of inputs, at least 1",
        "nodes": "list of nodes, at least 1",
        "outputs": "list of outputs, at least 1",
        "optimizer": "mapping with `type`",
        "data": "mapping (checked by the data plugins)",
        "train": "mapping (checked by the training settings)",
    }
    node_header = {
        "properties": {
            "name": {
                "type": "string",
                "pattern": ".",
                "description": "Unique among inputs and nodes.",
            },
            "type": {"type": "string", "description": "A node type (below)."},
            "inputs": props["nodes"]["items"]["properties"]["inputs"],
        },
        "required": ["name", "type"],
    }
    output_notes = {"loss": "loss name", "metrics": "list of metric names"}
    gens: dict[str, Callable[[], str]] = {
        "top-level": lambda: _props_table(top, top_notes) + "\n",
        "inputs": lambda: _props_table(props["inputs"]["items"]) + "\n",
        "node-keys": lambda: _props_table(node_header, {"inputs": "name or list of names"}) + "\n",
        "node-types": lambda: _node_types(reg),
        "outputs": lambda: _props_table(props["outputs"]["items"], output_notes) + "\n",
        "optimizers": lambda: _optimizers(reg),
        "activations": lambda: _names(reg, "activation"),
        "losses": lambda: _names(reg, "loss"),
        "metrics": lambda: _names(reg, "metric"),
        "initializers": lambda: _names(reg, "initializer"),
        "limits": _limits,
    }
    return {name: gen() for name, gen in gens.items()}


def render(text: str, generated: Mapping[str, str]) -> str:
    """``text`` with every generated block replaced; an unknown block name is an error."""

    def sub(m: re.Match[str]) -> str:
        name = m.group("name")
        if name not in generated:
            raise KeyError(f"docs/spec.md has a block {name!r} the generator does not know")
        return m.group(1) + generated[name] + m.group(4)

    return _BLOCK.sub(sub, text)


def missing_blocks(text: str, generated: Mapping[str, str]) -> list[str]:
    present = {m.group("name") for m in _BLOCK.finditer(text)}
    return sorted(set(generated) - present)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    check = "--check" in args
    current = DOC.read_text(encoding="utf-8")
    generated = blocks()
    missing = missing_blocks(current, generated)
    if missing:
        print(f"{DOC}: no markers for block(s) {', '.join(missing)}", file=sys.stderr)
        return 1
    wanted = render(current, generated)
    if wanted == current:
        return 0
    if check:
        print(f"{DOC} is out of date: run python -m specforge.docs_gen", file=sys.stderr)
        return 1
    DOC.write_text(wanted, encoding="utf-8")
    print(f"wrote {DOC}", file=sys.stderr)
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
