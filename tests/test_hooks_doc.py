"""The hook reference is generated from the hookspecs, and every hook is documented and tested.

The datasette habit: docs/hooks.md is never edited by hand, a hook without a
full docstring fails, and so does a hook that no test mentions.
"""

from __future__ import annotations

import importlib.util
import inspect
import re
from pathlib import Path

import pytest

from specforge import hookspecs

ROOT = Path(__file__).resolve().parent.parent
_SPEC = importlib.util.spec_from_file_location("docs_generate", ROOT / "docs" / "generate.py")
generate = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(generate)
HOOKS = [
    name for name, fn in vars(hookspecs).items() if callable(fn) and hasattr(fn, "specforge_spec")
]


def test_docs_hooks_md_is_up_to_date():
    current = (ROOT / "docs" / "hooks.md").read_text(encoding="utf-8")
    assert current == generate.hooks_md(), "docs/hooks.md is stale: run python docs/generate.py"


def test_every_hookspec_is_a_registry_hook_listed_in_phase_order():
    assert sorted(HOOKS) == sorted(hookspecs.REGISTRY_HOOKS)


@pytest.mark.parametrize("hook", hookspecs.REGISTRY_HOOKS)
def test_every_hook_has_a_full_docstring(hook):
    doc = inspect.getdoc(getattr(hookspecs, hook)) or ""
    summary = doc.splitlines()[0] if doc else ""
    assert summary.endswith("."), f"{hook}: the docstring needs a one-line summary"
    assert "Called" in doc, f"{hook}: say when the hook is called"
    for param in inspect.signature(getattr(hookspecs, hook)).parameters:
        assert f":param {param}:" in doc, f"{hook}: document parameter {param}"
    assert ":return:" in doc, f"{hook}: say what the hook returns"


def _test_sources() -> dict[Path, str]:
    files = [*ROOT.glob("tests/**/test_*.py"), *ROOT.glob("plugins/*/tests/**/test_*.py")]
    return {p: p.read_text(encoding="utf-8") for p in files if p.name != Path(__file__).name}


@pytest.mark.parametrize("hook", hookspecs.REGISTRY_HOOKS)
def test_every_hook_has_a_test_of_its_own(hook):
    pattern = re.compile(rf"\b{hook}\b")
    users = [p for p, text in _test_sources().items() if pattern.search(text)]
    assert users, (
        f"no test mentions {hook}: add one (tests/test_plugin_isolation.py has one per hook)"
    )
