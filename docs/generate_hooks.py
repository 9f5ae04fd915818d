"""Generate docs/hooks.md from the docstrings in specforge/hookspecs.py.

    python docs/generate_hooks.py          # rewrite docs/hooks.md
    python docs/generate_hooks.py --check  # exit 1 if docs/hooks.md is stale

The hook reference is written once, in the hookspecs; this turns it into
Markdown (reST roles such as ``:class:`x``` become code spans, ``:param:``
and ``:return:`` fields become lists, ``Example::`` blocks become fenced
code). ``tests/test_hooks_doc.py`` fails when the file is stale.
"""

from __future__ import annotations

import inspect
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "docs" / "hooks.md"


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


def render() -> str:
    sys.path.insert(0, str(ROOT))
    from specforge import hookspecs

    source = Path(hookspecs.__file__).read_text(encoding="utf-8")
    phases = _phases(source)
    parts = [
        "# Hook reference",
        "",
        "<!-- Generated from specforge/hookspecs.py by `python docs/generate_hooks.py`: edit the docstrings, not this file. -->",
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


def main(argv: list[str]) -> int:
    text = render()
    if "--check" in argv:
        if not TARGET.exists() or TARGET.read_text(encoding="utf-8") != text:
            print(
                f"{TARGET.relative_to(ROOT)} is stale: run python docs/generate_hooks.py",
                file=sys.stderr,
            )
            return 1
        return 0
    TARGET.write_text(text, encoding="utf-8")
    print(f"wrote {TARGET.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
