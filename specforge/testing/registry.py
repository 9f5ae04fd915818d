"""Plugins in tests: a registry with a plugin, a plugin installed for a block, a clean load.

Everything here goes through the public settings of :mod:`specforge.registry`
(:func:`~specforge.registry.use_settings`), never its private state.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from ..plugin import API_VERSION
from ..registry import (
    BUILTIN_PLUGINS,
    Registry,
    current_settings,
    get_registry,
    load_registry,
    use_settings,
)
from .conformance import ConformanceError


def _named(plugins: Iterable[Any]) -> list[tuple[str, Any]]:
    named = []
    for p in plugins:
        if isinstance(p, tuple) and len(p) == 2 and isinstance(p[0], str):
            named.append(p)
        else:
            named.append((getattr(p, "__name__", None) or type(p).__name__, p))
    return named


def registry_with(*plugins: Any, entry_points: bool = False) -> Registry:
    """A fresh registry: the built-ins plus ``plugins`` (modules, objects or (name, plugin) pairs).

    ``entry_points=True`` adds the installed third-party plugins too.
    """
    return load_registry(_named(plugins), entry_points=entry_points)


@contextlib.contextmanager
def plugins_installed(*plugins: Any, entry_points: bool = True) -> Iterator[Registry]:
    """Within the block, specforge (API and CLI alike) sees ``plugins`` as if installed.

    ``entry_points=False`` also hides the really installed third-party plugins.
    Blocks nest: an inner block adds its plugins to the outer block's.
    Yields the registry in use; the previous state is restored on exit.
    """
    outer = current_settings()
    settings = dataclasses.replace(
        outer,
        extra_plugins=(*outer.extra_plugins, *_named(plugins)),
        entry_points=entry_points and outer.entry_points,
    )
    with use_settings(settings) as registry:
        yield registry


@contextlib.contextmanager
def plugin_under_test(name: str, module: str) -> Iterator[Registry]:
    """The plugin being tested, whether it is installed or run from its source checkout.

    If an entry point ``name`` is loaded already, nothing changes; otherwise the
    module ``module`` (importable, e.g. from ``src/`` on ``sys.path``) is loaded
    as if installed under ``name``. :func:`specforge.testing.plugin_conftest`
    wraps every test of a plugin package in it, so its tests pass installed or not.
    """
    registry = get_registry()
    if name in {p.name for p in registry.plugins}:
        yield registry
        return
    with plugins_installed((name, importlib.import_module(module))) as reg:
        yield reg


def make_distribution(
    directory: Any,
    name: str,
    entry_points: Mapping[str, str],
    modules: Mapping[str, str] | None = None,
    *,
    version: str = "0.0.1",
) -> Path:
    """Write an installed-looking distribution into ``directory``: modules plus a ``.dist-info``.

    ``entry_points`` maps plugin names to ``module`` or ``module:attribute``
    (group ``specforge``); ``modules`` maps file names (``my_plugin.py``) to
    source. Put ``directory`` on ``sys.path`` (or ``PYTHONPATH`` for a
    subprocess) and specforge finds the plugin exactly as if pip had installed
    it: the way to test what users see when a plugin fails to import. Returns
    the directory as a :class:`pathlib.Path`.
    """
    root = Path(directory)
    root.mkdir(parents=True, exist_ok=True)
    for filename, source in dict(modules or {}).items():
        target = root / filename
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(source, encoding="utf-8")
    info = root / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir(exist_ok=True)
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n", encoding="utf-8"
    )
    lines = ["[specforge]", *(f"{ep} = {target}" for ep, target in entry_points.items())]
    (info / "entry_points.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return root


def check_plugin(plugin: Any, name: str | None = None) -> Registry:
    """Load ``plugin`` next to the built-ins; fail on any problem it causes.

    Checks that it declares ``SPECFORGE_API`` (an int no newer than this
    specforge's), that every hook it implements exists, that each registry hook
    runs and registers valid things, and that none of its names clashes with a
    built-in. Returns the registry (built-ins + this plugin).
    """
    label = name or getattr(plugin, "__name__", None) or type(plugin).__name__
    declared = getattr(plugin, "SPECFORGE_API", None)
    if declared is None:
        raise ConformanceError(
            f"plugin '{label}' does not declare SPECFORGE_API (add SPECFORGE_API = {API_VERSION})"
        )
    builtin = getattr(plugin, "__name__", None) in BUILTIN_PLUGINS
    if builtin:  # loaded with every registry: check it where it is, under its own name
        label = plugin.__name__
        reg = load_registry(entry_points=False)
    else:
        reg = load_registry([(label, plugin)], entry_points=False)
    problems = [p for p in reg.problems if p.plugin == label]
    if problems:
        raise ConformanceError("\n".join(p.render() for p in problems))
    if not any(p.name == label for p in reg.plugins):
        raise ConformanceError(f"plugin '{label}' was not loaded")
    return reg
