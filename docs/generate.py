"""Generate the reference parts of docs/ from the code, so that they cannot drift.

    python docs/generate.py          # rewrite the generated docs
    python docs/generate.py --check  # exit 1, with a diff summary, if one is stale

* ``docs/hooks.md``, whole, from the docstrings in ``specforge/hookspecs.py``
  (reST roles such as ``:class:`x``` become code spans, ``:param:`` and
  ``:return:`` fields become lists, ``Example::`` blocks become fenced code).
* The tables of ``docs/spec.md`` between ``<!-- BEGIN GENERATED: name -->``
  and ``<!-- END GENERATED: name -->``, from the pydantic models and the
  registry the checker uses; the prose around them is written by hand. Only
  the built-in plugins are used, whatever is installed.

``tests/test_hooks_doc.py`` and ``tests/test_docs.py`` fail when a file is
stale. This is a script of the repository, not part of the package: it
imports specforge from the checkout it lives in.
"""

from __future__ import annotations

import difflib
import inspect
import json
import re
import sys
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pydantic import BaseModel

    from specforge.registry import Registry

ROOT = Path(__file__).resolve().parent.parent
HOOKS = ROOT / "docs" / "hooks.md"
SPEC = ROOT / "docs" / "spec.md"
_BLOCK = re.compile(
    r"(<!-- BEGIN GENERATED: (?P<name>[a-z0-9-]+) -->\n)(?P<body>.*?)(<!-- END GENERATED: (?P=name) -->)",
    re.S,
)

# ---------------------------------------------------------------- docs/hooks.md


def _inline(text: str) -> str:
    text = re.sub(r":(?:class|func|mod|meth|attr|data):`~?([^`]+)`", r"`\1`", text)
    return re.sub(r"``([^`]+)``", r"`\1`", text)


def _markdown(doc: str) -> str:
    """A hookspec docstring (reST-ish) as Markdown."""
    lines = inspect.cleandoc(doc).splitlines()
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        field = re.match(r":(param (\w+)|return):\s*(.*)", line)
        if field:
            body = [field.group(3)]
            i += 1
            while i < len(lines) and lines[i].startswith("    "):
                body.append(lines[i].strip())
                i += 1
            label = f"`{field.group(2)}`" if field.group(2) else "returns"
            out.append(f"- **{label}**: {_inline(' '.join(body))}")
            continue
        if line.rstrip().endswith("::"):
            head = line.rstrip()[:-2].rstrip()
            if head:
                out.append(_inline(head + ":"))
            out.append("")
            out.append("```python")
            i += 1
            while i < len(lines) and not lines[i].strip():
                i += 1
            while i < len(lines) and (not lines[i].strip() or lines[i].startswith("    ")):
                out.append(lines[i][4:])
                i += 1
            while out[-1] == "":
                out.pop()
            out.append("```")
            continue
        out.append(_inline(line))
        i += 1
    return "\n".join(out).strip() + "\n"


def _phases(source: str) -> dict[str, str]:
    """hook name -> the phase heading (the ``# ---- name`` comment above it)."""
    phase, found = "", {}
    for line in source.splitlines():
        marker = re.match(r"#\s*-{8,}\s*(\w+)", line)
        if marker:
            phase = marker.group(1)
        hook = re.match(r"def (register_\w+)\(", line)
        if hook:
            found[hook.group(1)] = phase
    return found


def hooks_md() -> str:
    """docs/hooks.md, whole."""
    from specforge import hookspecs

    source = Path(hookspecs.__file__).read_text(encoding="utf-8")
    phases = _phases(source)
    parts = [
        "# Hook reference",
        "",
        "<!-- Generated from specforge/hookspecs.py by `python docs/generate.py`: edit the docstrings, not this file. -->",
        "",
        _markdown(hookspecs.__doc__ or "").replace(
            "Hook specifications: the plugin API reference.", "The plugin API, hook by hook.", 1
        ),
        "How to write, test and package a plugin: [plugins.md](plugins.md).",
        "",
    ]
    current = None
    for name in hookspecs.REGISTRY_HOOKS:
        fn = getattr(hookspecs, name)
        if phases.get(name) != current:
            current = phases.get(name)
            parts += [f"## {current.capitalize()}", ""]
        params = ", ".join(
            f"{p.name}: {p.annotation}" for p in inspect.signature(fn).parameters.values()
        )
        signature = f"({params}) -> {inspect.signature(fn).return_annotation}"
        parts += [f"### `{name}{signature}`", "", _markdown(fn.__doc__ or "")]
    return "\n".join(parts).rstrip() + "\n"


# ---------------------------------------------------------------- docs/spec.md


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
    from specforge import diagnostics
    from specforge.spec import load as loader

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
    """The generated blocks of docs/spec.md, by marker name (built-in plugins only)."""
    from specforge.registry import load_registry
    from specforge.spec.schema import json_schema

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


def render_spec_blocks(text: str, generated: Mapping[str, str]) -> str:
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


def spec_md(current: str) -> str:
    """docs/spec.md with every generated block rewritten; a missing block is an error."""
    generated = blocks()
    missing = missing_blocks(current, generated)
    if missing:
        raise KeyError(f"docs/spec.md has no markers for block(s) {', '.join(missing)}")
    return render_spec_blocks(current, generated)


# ---------------------------------------------------------------- the command

#: Each generated file and how to make it from its current text.
TARGETS: dict[Path, Callable[[str], str]] = {
    HOOKS: lambda current: hooks_md(),
    SPEC: spec_md,
}


def stale() -> dict[Path, tuple[str, str]]:
    """The generated files that differ from what the code gives: path -> (current, wanted)."""
    found = {}
    for path, make in TARGETS.items():
        current = path.read_text(encoding="utf-8") if path.exists() else ""
        wanted = make(current)
        if wanted != current:
            found[path] = (current, wanted)
    return found


def diff_summary(path: Path, current: str, wanted: str, *, max_lines: int = 40) -> str:
    """What a rewrite would change: +/- line counts and the start of the unified diff."""
    name = path.relative_to(ROOT).as_posix()
    diff = list(
        difflib.unified_diff(
            current.splitlines(),
            wanted.splitlines(),
            f"{name} (now)",
            f"{name} (generated)",
            lineterm="",
        )
    )
    added = sum(1 for line in diff if line.startswith("+") and not line.startswith("+++"))
    removed = sum(1 for line in diff if line.startswith("-") and not line.startswith("---"))
    lines = [f"{name} is stale: {added} line(s) to add, {removed} to remove"]
    lines += diff[:max_lines]
    if len(diff) > max_lines:
        lines.append(f"... {len(diff) - max_lines} more diff line(s)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    found = stale()
    if "--check" in args:
        for path, (current, wanted) in found.items():
            print(diff_summary(path, current, wanted), file=sys.stderr)
        if found:
            print("run python docs/generate.py to rewrite them", file=sys.stderr)
        return 1 if found else 0
    for path, (_, wanted) in found.items():
        path.write_text(wanted, encoding="utf-8")
        print(f"wrote {path.relative_to(ROOT).as_posix()}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))  # this checkout's specforge, whatever is installed
    raise SystemExit(main())
