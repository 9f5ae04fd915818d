"""The plugin manager and the registry it fills.

Plugins are loaded on first use, never at import time (pluggy's eggsample
habit). Built-ins are registered first, through the same hooks as third-party
plugins, which come from the ``specforge`` entry-point group. Each entry point
is loaded on its own and each registry hook is called plugin by plugin, so one
broken plugin (an import error, a raising hook, a name another plugin already
has) is reported with its name and never takes the others down.
"""

from __future__ import annotations

import importlib
import os
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import pluggy
from pydantic import BaseModel

from . import hookspecs
from .plugin import (
    API_VERSION,
    Activation,
    Backend,
    DatasetType,
    Initializer,
    Loss,
    Metric,
    NodeType,
    Optimizer,
    PreprocessorType,
)

ENTRY_POINT_GROUP = "specforge"
#: Environment variable: "1"/"all" disables every third-party plugin; otherwise a
#: comma-separated list of plugin (entry point) or distribution names to skip.
DISABLE_ENV = "SPECFORGE_DISABLE_PLUGINS"

#: The built-in plugins, registered in this order before any third-party plugin.
BUILTIN_PLUGINS: tuple[str, ...] = (
    "specforge.default_plugins.vocabulary",
    "specforge.default_plugins.node_types",
)

#: Registry kinds: hook name -> (kind, expected class).
_KINDS: dict[str, tuple[str, type]] = {
    "register_node_types": ("node_type", NodeType),
    "register_activations": ("activation", Activation),
    "register_losses": ("loss", Loss),
    "register_metrics": ("metric", Metric),
    "register_optimizers": ("optimizer", Optimizer),
    "register_initializers": ("initializer", Initializer),
    "register_backends": ("backend", Backend),
    "register_datasets": ("dataset", DatasetType),
    "register_preprocessors": ("preprocessor", PreprocessorType),
}
LOWERING_KINDS = ("node", "activation", "loss", "optimizer", "metric", "initializer", "import")


@dataclass
class PluginInfo:
    """A loaded plugin and what it added."""

    name: str
    distribution: str
    version: str
    builtin: bool
    provides: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class PluginProblem:
    """A plugin that failed to load, raised in a hook, or registered a clashing name."""

    plugin: str
    stage: str
    message: str
    traceback: str | None = None
    #: (kind, name) pairs this plugin tried to provide but could not.
    lost: list[tuple[str, str]] = field(default_factory=list)

    def render(self) -> str:
        return f"plugin '{self.plugin}' ({self.stage}): {self.message}"


class Registry:
    """Everything the installed plugins provide, by kind and name."""

    def __init__(self) -> None:
        self.items: dict[str, dict[str, Any]] = {kind: {} for kind, _ in _KINDS.values()}
        self.aliases: dict[str, dict[str, str]] = {kind: {} for kind, _ in _KINDS.values()}
        self.owner: dict[tuple[str, str], str] = {}
        self.lowerings: dict[tuple[str, str, str], Any] = {}
        self.plugins: list[PluginInfo] = []
        self.problems: list[PluginProblem] = []

    # -- lookups ---------------------------------------------------------
    @property
    def node_types(self) -> dict[str, NodeType]:
        return self.items["node_type"]

    @property
    def backends(self) -> dict[str, Backend]:
        return self.items["backend"]

    @property
    def datasets(self) -> dict[str, DatasetType]:
        return self.items["dataset"]

    @property
    def preprocessors(self) -> dict[str, PreprocessorType]:
        return self.items["preprocessor"]

    def names(self, kind: str, *, with_aliases: bool = False) -> list[str]:
        names = list(self.items[kind])
        if with_aliases:
            names += list(self.aliases[kind])
        return names

    def canonical(self, kind: str, name: object) -> str | None:
        """The canonical name for ``name`` (an alias is normalised), or None."""
        if not isinstance(name, str):
            return None
        if name in self.items[kind]:
            return name
        return self.aliases[kind].get(name)

    def get(self, kind: str, name: str) -> Any:
        canon = self.canonical(kind, name)
        return self.items[kind][canon] if canon is not None else None

    def lowering(self, backend: str, kind: str, name: str) -> Any:
        return self.lowerings.get((backend, kind, name))

    def failed_provider(self, kind: str, name: str) -> PluginProblem | None:
        """The failed plugin that would have provided (kind, name), if known."""
        for problem in self.problems:
            if (kind, name) in problem.lost:
                return problem
        return None

    def failed_plugins_hint(self, kind: str, name: str) -> str | None:
        """A help line for an unknown name: which broken plugin may provide it."""
        exact = self.failed_provider(kind, name)
        if exact is not None:
            return f"plugin '{exact.plugin}' would provide it but failed: {exact.message}"
        failed = sorted({p.plugin for p in self.problems if p.stage in ("import", "validate")})
        if failed:
            return "it may come from a plugin that failed to load: " + ", ".join(failed)
        return None


def _disabled() -> tuple[bool, set[str]]:
    value = os.environ.get(DISABLE_ENV, "").strip()
    if value.lower() in ("1", "all", "*", "true", "yes"):
        return True, set()
    return False, {v.strip() for v in value.split(",") if v.strip()}


def _entry_points() -> list[Any]:
    from importlib.metadata import entry_points

    return sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda ep: ep.name)


def _dist_of(ep: Any) -> tuple[str, str]:
    dist = getattr(ep, "dist", None)
    if dist is None:
        return ep.name, "?"
    return dist.metadata["Name"] or ep.name, dist.version or "?"


def _check_api(plugin: Any) -> str | None:
    declared = getattr(plugin, "SPECFORGE_API", API_VERSION)
    if not isinstance(declared, int) or declared > API_VERSION:
        return f"declares plugin API {declared!r}, this specforge supports API {API_VERSION}"
    return None


def _format_exc(exc: BaseException) -> str:
    return "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def _version() -> str:
    from . import __version__

    return __version__


def make_plugin_manager(
    extra_plugins: Iterable[tuple[str, Any]] = (),
    *,
    entry_points: bool = True,
) -> tuple[pluggy.PluginManager, list[PluginInfo], list[PluginProblem]]:
    """A plugin manager with the built-ins, the entry-point plugins and ``extra_plugins``.

    ``extra_plugins`` are (name, plugin object) pairs registered as if they came
    from entry points; tests use it to load broken plugins on the fly.
    """
    pm = pluggy.PluginManager("specforge")
    pm.add_hookspecs(hookspecs)
    infos: list[PluginInfo] = []
    problems: list[PluginProblem] = []
    for module_name in BUILTIN_PLUGINS:
        module = importlib.import_module(module_name)
        pm.register(module, name=module_name)
        infos.append(PluginInfo(module_name, "specforge", _version(), True))

    all_off, skip = _disabled()
    candidates: list[tuple[str, Callable[[], Any], tuple[str, str]]] = []
    if entry_points and not all_off:
        for ep in _entry_points():
            dist = _dist_of(ep)
            if ep.name in skip or dist[0] in skip:
                continue
            candidates.append((ep.name, ep.load, dist))
    for name, plugin in extra_plugins:
        if not all_off and name not in skip:
            candidates.append((name, lambda plugin=plugin: plugin, (name, "?")))

    for name, load, (dist_name, dist_version) in candidates:
        try:
            plugin = load()
        except Exception as exc:  # a broken plugin must not take the others down
            problems.append(PluginProblem(name, "import", _describe(exc), _format_exc(exc)))
            continue
        api_problem = _check_api(plugin)
        if api_problem:
            problems.append(PluginProblem(name, "validate", api_problem))
            continue
        try:
            pm.register(plugin, name=name)
        except ValueError as exc:
            problems.append(PluginProblem(name, "register", _describe(exc), _format_exc(exc)))
            continue
        except pluggy.PluginValidationError as exc:
            problems.append(PluginProblem(name, "validate", str(exc)))
            continue
        infos.append(PluginInfo(name, dist_name, dist_version, False))

    # A misspelt hook name is an error, not silence.
    while True:
        try:
            pm.check_pending()
            break
        except pluggy.PluginValidationError as exc:
            bad = pm.get_name(exc.plugin) or "?"
            pm.unregister(exc.plugin)
            problems.append(PluginProblem(bad, "validate", str(exc)))
            infos = [i for i in infos if i.name != bad]
    return pm, infos, problems


def _check_item(kind: str, expected: type, item: Any) -> str | None:
    if not isinstance(item, expected):
        return f"register_{kind}s got {type(item).__name__}, expected a {expected.__name__}"
    name = getattr(item, "name", None)
    if not isinstance(name, str) or not name:
        return f"a {kind} was registered without a name"
    if kind == "node_type":
        params = getattr(item, "Params", None)
        if not (isinstance(params, type) and issubclass(params, BaseModel)):
            return f"node type '{name}' has no pydantic Params model"
    if kind in ("dataset", "preprocessor"):
        model = item.params_model
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            return f"{kind} '{name}' has no pydantic params model"
    return None


def build_registry(
    pm: pluggy.PluginManager, infos: list[PluginInfo], problems: list[PluginProblem]
) -> Registry:
    """Call every registry hook plugin by plugin, isolating failures."""
    reg = Registry()
    reg.plugins = infos
    reg.problems = problems
    by_name = {i.name: i for i in infos}

    for hook_name in hookspecs.REGISTRY_HOOKS:
        hook = getattr(pm.hook, hook_name)
        for impl in hook.get_hookimpls():  # registration order: built-ins first
            plugin_name = impl.plugin_name
            staged: list[tuple[str, str, Any, tuple[str, ...]]] = []
            errors: list[str] = []

            if hook_name == "register_lowerings":

                def register(backend: str, kind: str, name: str, implementation: Any) -> None:
                    if kind not in LOWERING_KINDS:
                        errors.append(f"unknown lowering kind {kind!r} (expected one of {', '.join(LOWERING_KINDS)})")
                        return
                    staged.append(("lowering", f"{backend}:{kind}:{name}", (backend, kind, name, implementation), ()))

            else:
                kind, expected = _KINDS[hook_name]

                def register(item: Any, *, _kind: str = kind, _expected: type = expected) -> None:
                    problem = _check_item(_kind, _expected, item)
                    if problem:
                        errors.append(problem)
                        return
                    staged.append((_kind, item.name, item, tuple(getattr(item, "aliases", ()))))

            try:
                impl.function(register=register)
            except Exception as exc:
                problems.append(
                    PluginProblem(
                        plugin_name,
                        f"hook {hook_name}",
                        _describe(exc),
                        _format_exc(exc),
                        lost=[(k, n) for k, n, _, _ in staged],
                    )
                )
                continue
            for message in errors:
                problems.append(PluginProblem(plugin_name, f"hook {hook_name}", message))
            info = by_name.get(plugin_name)
            for kind, name, item, aliases in staged:
                key = (kind, name)
                if key in reg.owner:
                    what = kind.replace("_", " ")
                    problems.append(
                        PluginProblem(
                            plugin_name,
                            "duplicate",
                            f"registers {what} '{name}', which plugin '{reg.owner[key]}' already provides; "
                            f"the second registration is ignored",
                            lost=[],
                        )
                    )
                    continue
                reg.owner[key] = plugin_name
                if kind == "lowering":
                    backend, lkind, lname, implementation = item
                    reg.lowerings[(backend, lkind, lname)] = implementation
                    label = f"lowerings[{backend}]"
                    if info is not None:
                        info.provides.setdefault(label, []).append(f"{lkind}:{lname}")
                    continue
                reg.items[kind][name] = item
                for alias in aliases:
                    if alias != name and alias not in reg.items[kind]:
                        reg.aliases[kind].setdefault(alias, name)
                if info is not None:
                    info.provides.setdefault(kind, []).append(name)
    return reg


_REGISTRY: Registry | None = None
_PM: pluggy.PluginManager | None = None


def get_plugin_manager() -> pluggy.PluginManager:
    """The process-wide plugin manager, built on first use."""
    get_registry()
    assert _PM is not None
    return _PM


def get_registry() -> Registry:
    """The process-wide registry, built on first use."""
    global _REGISTRY, _PM
    if _REGISTRY is None:
        pm, infos, problems = make_plugin_manager()
        _PM = pm
        _REGISTRY = build_registry(pm, infos, problems)
    return _REGISTRY


def load_registry(extra_plugins: Iterable[tuple[str, Any]] = (), *, entry_points: bool = True) -> Registry:
    """A fresh registry (not cached): for tests and for tools that load plugins explicitly."""
    pm, infos, problems = make_plugin_manager(extra_plugins, entry_points=entry_points)
    return build_registry(pm, infos, problems)


def reset() -> None:
    """Forget the cached manager and registry (tests that install plugins call this)."""
    global _REGISTRY, _PM
    _REGISTRY = None
    _PM = None
