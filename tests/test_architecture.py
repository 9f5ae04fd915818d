"""The import rules of docs/architecture.md, checked on the source.

The graph is built from every ``import`` statement in ``specforge/``, the
function-local ones included (they are imports all the same, only later), plus
the built-in plugins the registry loads by name. Imports under
``if TYPE_CHECKING:`` are left out: they never run.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "specforge"

#: The front end: it may import only the front end, the plugin API and pure helpers.
FRONT_END = ("specforge.spec", "specforge.ir", "specforge.registry")
#: What the front end must never import, directly or through anything it imports.
LATER_STAGES = (
    "specforge.keras_backend",
    "specforge.numpy_backend",
    "specforge.training",
    "specforge.default_plugins",
    "specforge.cli",
    "specforge.builder",
    "specforge.lower",
)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _runtime_nodes(tree: ast.AST) -> Iterator[ast.AST]:
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and _is_type_checking(node):
            stack.extend(node.orelse)
            continue
        yield node
        stack.extend(ast.iter_child_nodes(node))


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """The specforge modules that ``name`` imports, at any depth of its code."""
    is_package = path.name == "__init__.py"
    out: set[str] = set()
    for node in _runtime_nodes(ast.parse(path.read_text(encoding="utf-8"))):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".")
                base = base if is_package else base[:-1]
                base = base[: len(base) - (node.level - 1)]
                prefix = ".".join(base + ([node.module] if node.module else []))
            else:
                prefix = node.module or ""
            targets = [prefix] + [f"{prefix}.{alias.name}" for alias in node.names]
        for target in targets:
            while target and target not in known:  # `import a.b.c` of a module a.b
                target = target.rpartition(".")[0]
            # A module's own packages are imported before it anyway: not an edge.
            if target.startswith("specforge") and not (name + ".").startswith(target + "."):
                out.add(target)
    return out


def import_graph() -> dict[str, set[str]]:
    from specforge.registry import BUILTIN_PLUGINS

    mods = modules()
    known = set(mods)
    graph = {name: imports_of(name, path, known) for name, path in mods.items()}
    # The registry imports the built-in plugins by name: an import all the same.
    graph["specforge.registry"] |= set(BUILTIN_PLUGINS)
    return graph


def closure(graph: dict[str, set[str]], start: str) -> set[str]:
    seen: set[str] = set()
    stack = [start]
    while stack:
        for nxt in graph.get(stack.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return seen


def _in(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def test_the_front_end_never_imports_a_later_stage():
    graph = import_graph()
    front = [m for m in graph if _in(m, FRONT_END)]
    assert "specforge.spec.check" in front and "specforge.ir" in front
    bad = {}
    for module in front:
        reached = closure(
            {k: v for k, v in graph.items() if k != "specforge.registry"}, module
        )  # the registry's by-name loading of plugins is the plugin mechanism itself
        later = sorted(m for m in reached if _in(m, LATER_STAGES))
        if later:
            bad[module] = later
    direct = sorted(m for m in graph["specforge.registry"] if _in(m, LATER_STAGES))
    assert direct == sorted(__import__("specforge.registry").registry.BUILTIN_PLUGINS)
    assert bad == {}


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iteratively: the import cycles, each as a sorted list."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.get(root, ()))))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_there_is_no_import_cycle_function_local_imports_included():
    assert strongly_connected(import_graph()) == []


def test_the_cycle_finder_finds_a_cycle():
    assert strongly_connected({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


@pytest.mark.parametrize(
    "module", ["specforge.spec.check", "specforge.spec.schema", "specforge.ir"]
)
def test_no_module_registers_anything_by_being_imported(module):
    """Module-level code in the front end defines things; it never fills another
    module's tables (the old SECTION_CHECKS pattern)."""
    path = modules()[module]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign | ast.AugAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                assert not isinstance(target, ast.Subscript), ast.unparse(node)
