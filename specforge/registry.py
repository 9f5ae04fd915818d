"""The registry of everything plugins provide, and the plugin manager that fills it.

Plugins are loaded on first use, never at import time (pluggy's eggsample
habit). Built-ins are registered first, through the same hooks as third-party
plugins, which come from the ``specforge`` entry-point group. Each entry point
is loaded on its own and each registry hook is called plugin by plugin, so one
broken plugin (an import error, any exception but Ctrl-C in a hook, a name
another plugin already has) is reported with its name and never takes the
others down; what a plugin prints meanwhile goes to stderr, and one that takes
long is named while specforge waits (:mod:`specforge.isolation`).

The process-wide registry (:func:`get_registry`) is built from one
:class:`PluginSettings` value; :func:`use_settings` and :func:`use_registry`
change it for the length of a ``with`` block, which is how tests install
plugins without touching this module's state.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import os
import traceback
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pluggy
from pydantic import BaseModel

from . import hookspecs, isolation
from .compat import adapt_backend, adapt_lowering, plugin_api
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
    "specforge.default_plugins.migrations",
    "specforge.default_plugins.vocabulary",
    "specforge.default_plugins.dense",
    "specforge.default_plugins.flatten",
    "specforge.default_plugins.concatenate",
    "specforge.default_plugins.datasets",
    "specforge.default_plugins.preprocessors",
    "specforge.default_plugins.backends",
    "specforge.default_plugins.keras_names",
    "specforge.default_plugins.numpy_names",
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
_HOOK_OF_KIND: dict[str, str] = {kind: hook for hook, (kind, _) in _KINDS.items()}
LOWERING_KINDS = ("node", "activation", "loss", "optimizer", "metric", "initializer", "import")


@dataclass
class PluginInfo:
    """A loaded plugin and what it added."""

    name: str
    distribution: str
    version: str
    builtin: bool
    provides: dict[str, list[str]] = field(default_factory=dict)
    #: Registered by a test or tool (``load_registry(extra_plugins=...)``), not installed.
    in_process: bool = False


@dataclass
class PluginProblem:
    """A plugin that failed to load, raised in a hook, or registered a clashing name."""

    plugin: str
    #: Where it failed: ``import``, ``validate`` (API version, hook names),
    #: ``register`` (plugin manager), ``hook <name>`` (a registry hook raised or
    #: registered something invalid) or ``duplicate`` (a name another plugin has).
    stage: str
    message: str
    traceback: str | None = None
    #: (kind, name) pairs this plugin tried to provide but could not.
    lost: list[tuple[str, str]] = field(default_factory=list)
    #: The distribution the plugin comes from, and its version, when known.
    distribution: str | None = None
    version: str | None = None

    def render(self) -> str:
        origin = (
            f" from {self.distribution} {self.version or ''}".rstrip() if self.distribution else ""
        )
        return f"plugin '{self.plugin}'{origin} ({self.stage}): {self.message}"

    def to_dict(self, *, debug: bool = False) -> dict[str, Any]:
        data: dict[str, Any] = {
            "plugin": self.plugin,
            "distribution": self.distribution,
            "version": self.version,
            "stage": self.stage,
            "message": self.message,
            "lost": [{"kind": k, "name": n} for k, n in self.lost],
        }
        if debug:
            data["traceback"] = self.traceback
        return data


class Registry:
    """Everything the installed plugins provide, by kind and name."""

    def __init__(self) -> None:
        self.items: dict[str, dict[str, Any]] = {kind: {} for kind, _ in _KINDS.values()}
        self.aliases: dict[str, dict[str, str]] = {kind: {} for kind, _ in _KINDS.values()}
        self.owner: dict[tuple[str, str], str] = {}
        self.lowerings: dict[tuple[str, str, str], Any] = {}
        #: Format migrations (:class:`specforge.spec.migrate.Migration`), in chain order.
        self.migrations: list[Any] = []
        self.plugins: list[PluginInfo] = []
        self.problems: list[PluginProblem] = []
        #: Third-party plugins skipped on purpose (SPECFORGE_DISABLE_PLUGINS, --no-plugins).
        self.disabled: list[str] = []
        #: True when every third-party plugin was turned off.
        self.third_party_disabled: bool = False

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
        """A help line for an unknown name: which broken plugin may provide it.

        Exact when the plugin's hook registered the name before raising; otherwise
        the plugins that failed to load, or whose hook for this kind raised, are
        named as the likely providers.
        """
        exact = self.failed_provider(kind, name)
        if exact is not None:
            return f"plugin '{exact.plugin}' would provide it but failed: {exact.message}"
        hook_stage = f"hook {_HOOK_OF_KIND.get(kind, '')}"
        failed = [
            p for p in self.problems if p.stage in ("import", "validate") or p.stage == hook_stage
        ]
        if len(failed) == 1:
            p = failed[0]
            return f"plugin '{p.plugin}' may provide it but failed ({p.stage}): {p.message}"
        if failed:
            names = sorted({p.plugin for p in failed})
            return "it may come from a plugin that failed to load: " + ", ".join(
                f"'{n}'" for n in names
            )
        return None


@dataclass(frozen=True)
class PluginSettings:
    """Which plugins the process-wide registry loads besides the built-ins."""

    #: Turn every third-party plugin off: what ``--no-plugins`` does. The
    #: ``SPECFORGE_DISABLE_PLUGINS`` variable is read as well, on every load.
    disable_third_party: bool = False
    #: (name, plugin) pairs registered as if installed (tests, tools).
    extra_plugins: tuple[tuple[str, Any], ...] = ()
    #: Whether the installed ``specforge`` entry points are loaded.
    entry_points: bool = True


@dataclass
class _ProcessRegistry:
    """The process-wide registry: the settings it is built from, and the cached build."""

    settings: PluginSettings = field(default_factory=PluginSettings)
    registry: Registry | None = None


_PROCESS = _ProcessRegistry()


def disable_third_party(disabled: bool = True) -> None:
    """Turn every third-party plugin off (or back on) for this process.

    What ``--no-plugins`` does; the cached registry is rebuilt on next use when
    the setting changes (a registry pinned by :func:`use_registry` included).
    """
    if disabled != _PROCESS.settings.disable_third_party:
        _PROCESS.settings = dataclasses.replace(_PROCESS.settings, disable_third_party=disabled)
        _PROCESS.registry = None


def current_settings() -> PluginSettings:
    """The settings the process-wide registry is built from."""
    return _PROCESS.settings


@contextlib.contextmanager
def use_settings(settings: PluginSettings) -> Iterator[Registry]:
    """Within the block, the process-wide registry is built from ``settings``.

    Yields that registry. On exit the previous settings and the registry built
    before the block come back, so blocks nest.
    """
    saved = _PROCESS.settings, _PROCESS.registry
    _PROCESS.settings, _PROCESS.registry = settings, None
    try:
        yield get_registry()
    finally:
        _PROCESS.settings, _PROCESS.registry = saved


@contextlib.contextmanager
def use_registry(registry: Registry) -> Iterator[Registry]:
    """Within the block, :func:`get_registry` (API and CLI alike) returns ``registry``.

    Restores the previous registry and settings on exit.
    """
    saved = _PROCESS.settings, _PROCESS.registry
    _PROCESS.registry = registry
    try:
        yield registry
    finally:
        _PROCESS.settings, _PROCESS.registry = saved


def _disabled(settings: PluginSettings) -> tuple[bool, set[str]]:
    if settings.disable_third_party:
        return True, set()
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


def _norm(name: str) -> str:
    """Distribution names compare like pip compares them (PEP 503)."""
    import re

    return re.sub(r"[-_.]+", "-", name).lower()


def make_plugin_manager(
    settings: PluginSettings,
    *,
    disabled: list[str] | None = None,
) -> tuple[pluggy.PluginManager, list[PluginInfo], list[PluginProblem]]:
    """A plugin manager with the built-ins and the plugins ``settings`` asks for.

    ``settings.extra_plugins`` are (name, plugin object) pairs registered as if
    they came from entry points; tests use them to load broken plugins on the
    fly. Names of plugins skipped on purpose (``--no-plugins``,
    ``SPECFORGE_DISABLE_PLUGINS``) are appended to ``disabled`` when given.
    """
    pm = pluggy.PluginManager("specforge")
    pm.add_hookspecs(hookspecs)
    infos: list[PluginInfo] = []
    problems: list[PluginProblem] = []
    for module_name in BUILTIN_PLUGINS:
        module = importlib.import_module(module_name)
        pm.register(module, name=module_name)
        infos.append(PluginInfo(module_name, "specforge", _version(), True))

    all_off, skip = _disabled(settings)
    skip_norm = {_norm(s) for s in skip}
    skipped = disabled if disabled is not None else []
    candidates: list[tuple[str, Callable[[], Any], tuple[str, str] | None]] = []
    if settings.entry_points:
        try:
            eps = _entry_points()
        except Exception as exc:  # broken metadata on sys.path must not stop specforge
            problems.append(
                PluginProblem("<entry points>", "import", _describe(exc), _format_exc(exc))
            )
            eps = []
        for ep in eps:
            dist = _dist_of(ep)
            if all_off or ep.name in skip or _norm(dist[0]) in skip_norm:
                skipped.append(ep.name)
                continue
            candidates.append((ep.name, ep.load, dist))
    for name, plugin in settings.extra_plugins:
        if all_off or name in skip:
            skipped.append(name)
            continue
        candidates.append((name, lambda plugin=plugin: plugin, None))

    for name, load, dist in candidates:
        dist_name, dist_version = dist or (name, "")
        where = {"distribution": dist_name, "version": dist_version} if dist else {}
        try:
            with isolation.output_to_stderr(name), isolation.watch(name, "import", DISABLE_ENV):
                plugin = load()
        except isolation.CAUGHT as exc:  # a broken plugin must not take the others down
            isolation.reraise_interrupt(exc)
            problems.append(
                PluginProblem(name, "import", _describe(exc), _format_exc(exc), **where)
            )
            continue
        api_problem = _check_api(plugin)
        if api_problem:
            problems.append(PluginProblem(name, "validate", api_problem, **where))
            continue
        wrapper = _registry_wrapper(plugin)
        if wrapper:
            problems.append(PluginProblem(name, "validate", wrapper, **where))
            continue
        try:
            pm.register(plugin, name=name)
        except ValueError as exc:
            other = pm.get_plugin(name)
            if other is not None and other is not plugin:
                message = f"another plugin is already registered under the name '{name}'; this one is ignored"
            else:
                message = f"the same plugin object is already registered ({_describe(exc)})"
            problems.append(PluginProblem(name, "register", message, _format_exc(exc), **where))
            continue
        except pluggy.PluginValidationError as exc:
            problems.append(PluginProblem(name, "validate", str(exc), **where))
            continue
        except isolation.CAUGHT as exc:  # pluggy reads the plugin's attributes: they may raise
            isolation.reraise_interrupt(exc)
            problems.append(
                PluginProblem(name, "register", _describe(exc), _format_exc(exc), **where)
            )
            continue
        infos.append(PluginInfo(name, dist_name, dist_version, False, in_process=dist is None))

    # A misspelt hook name is an error, not silence.
    while True:
        try:
            pm.check_pending()
            break
        except pluggy.PluginValidationError as exc:
            bad = pm.get_name(exc.plugin) or "?"
            pm.unregister(exc.plugin)
            info = next((i for i in infos if i.name == bad), None)
            problems.append(
                PluginProblem(
                    bad,
                    "validate",
                    _unknown_hook_message(exc),
                    distribution=info.distribution if info and not info.in_process else None,
                    version=info.version if info and not info.in_process else None,
                )
            )
            infos = [i for i in infos if i.name != bad]
    return pm, infos, problems


def _unknown_hook_message(exc: pluggy.PluginValidationError) -> str:
    import difflib

    unknown = [
        attr
        for attr in dir(exc.plugin)
        if hasattr(getattr(exc.plugin, attr, None), "specforge_impl")
        and not hasattr(hookspecs, attr)
    ]
    if not unknown:
        return str(exc)
    parts = []
    for attr in unknown:
        close = difflib.get_close_matches(attr, hookspecs.REGISTRY_HOOKS, n=1)
        parts.append(f"unknown hook '{attr}'" + (f" (did you mean '{close[0]}'?)" if close else ""))
    return "; ".join(parts) + "; the plugin is not loaded"


def _registry_wrapper(plugin: Any) -> str | None:
    """Registry hooks are called directly, one plugin at a time: wrappers make no sense."""
    for hook_name in hookspecs.REGISTRY_HOOKS:
        function = getattr(plugin, hook_name, None)
        opts = getattr(function, "specforge_impl", None)
        if isinstance(opts, dict) and (opts.get("hookwrapper") or opts.get("wrapper")):
            return f"{hook_name} is declared as a hook wrapper; registry hooks must be plain @hookimpl functions"
    return None


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
        if type(item).output_shape is NodeType.output_shape:
            return f"node type '{name}' does not implement output_shape()"
        lo, hi = item.min_inputs, item.max_inputs
        if (
            not isinstance(lo, int)
            or lo < 0
            or (hi is not None and (not isinstance(hi, int) or hi < lo))
        ):
            return f"node type '{name}' has invalid min_inputs/max_inputs ({lo!r}, {hi!r})"
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

    def problem(
        plugin_name: str, stage: str, message: str, tb: str | None = None, lost=()
    ) -> PluginProblem:
        info = by_name.get(plugin_name)
        return PluginProblem(
            plugin_name,
            stage,
            message,
            tb,
            lost=list(lost),
            distribution=None
            if info is None or info.builtin or info.in_process
            else info.distribution,
            version=None if info is None or info.builtin or info.in_process else info.version,
        )

    for hook_name in hookspecs.REGISTRY_HOOKS:
        hook = getattr(pm.hook, hook_name)
        # Plugin order, whatever tryfirst/trylast say: built-ins first, so a
        # third-party plugin can never take a built-in's name.
        position = {info.name: k for k, info in enumerate(infos)}
        impls = sorted(
            hook.get_hookimpls(), key=lambda impl: position.get(impl.plugin_name, len(position))
        )
        for impl in impls:
            plugin_name = impl.plugin_name
            # What an API-1 plugin registers is wrapped once, here, into the API-2 contract.
            api = plugin_api(impl.plugin)
            staged: list[tuple[str, str, Any, tuple[str, ...]]] = []
            errors: list[str] = []

            if hook_name == "register_migrations":

                def register(
                    from_version: Any,
                    to_version: Any,
                    migrate: Any,
                    description: Any,
                    *,
                    _staged=staged,
                    _errors=errors,
                    _plugin=plugin_name,
                ) -> None:
                    from .spec.migrate import Migration, check_migration

                    wrong = check_migration(from_version, to_version, migrate, description)
                    if wrong:
                        _errors.append(wrong)
                        return
                    m = Migration(from_version, to_version, migrate, description, _plugin)
                    _staged.append(("migration", f"{from_version}->{to_version}", m, ()))

            elif hook_name == "register_lowerings":

                def register(
                    backend: str,
                    kind: str,
                    name: str,
                    implementation: Any,
                    *,
                    _staged=staged,
                    _errors=errors,
                    _api=api,
                ) -> None:
                    if kind not in LOWERING_KINDS:
                        _errors.append(
                            f"unknown lowering kind {kind!r} (expected one of {', '.join(LOWERING_KINDS)})"
                        )
                        return
                    implementation = adapt_lowering(_api, backend, kind, implementation)
                    _staged.append(
                        (
                            "lowering",
                            f"{backend}:{kind}:{name}",
                            (backend, kind, name, implementation),
                            (),
                        )
                    )

            else:
                kind, expected = _KINDS[hook_name]

                def register(
                    item: Any,
                    *,
                    _kind: str = kind,
                    _expected: type = expected,
                    _staged=staged,
                    _errors=errors,
                    _api=api,
                ) -> None:
                    wrong = _check_item(_kind, _expected, item)
                    if wrong:
                        _errors.append(wrong)
                        return
                    if _kind == "backend":
                        item = adapt_backend(_api, item)
                    _staged.append((_kind, item.name, item, tuple(getattr(item, "aliases", ()))))

            try:
                with contextlib.ExitStack() as guard:
                    owner = by_name.get(plugin_name)
                    if owner is None or not owner.builtin:
                        guard.enter_context(isolation.output_to_stderr(plugin_name))
                        guard.enter_context(
                            isolation.watch(plugin_name, f"hook {hook_name}", DISABLE_ENV)
                        )
                    impl.function(register=register)
            except isolation.CAUGHT as exc:
                isolation.reraise_interrupt(exc)
                # All or nothing: what the hook registered before raising is dropped,
                # and remembered so that a spec using it is told which plugin failed.
                problems.append(
                    problem(
                        plugin_name,
                        f"hook {hook_name}",
                        _describe(exc),
                        _format_exc(exc),
                        lost=[(k, n) for k, n, _, _ in staged],
                    )
                )
                continue
            for message in errors:
                problems.append(problem(plugin_name, f"hook {hook_name}", message))
            info = by_name.get(plugin_name)
            for kind, name, item, aliases in staged:
                if kind == "migration":  # several per step are fine: each plugin migrates its own
                    reg.migrations.append(item)
                    if info is not None:
                        info.provides.setdefault("migrations", []).append(name)
                    continue
                key = (kind, name)
                what = kind.replace("_", " ")
                if key in reg.owner:
                    problems.append(
                        problem(
                            plugin_name,
                            "duplicate",
                            f"registers {what} '{name}', which plugin '{reg.owner[key]}' already provides; "
                            f"the second registration is ignored",
                        )
                    )
                    continue
                if kind != "lowering" and name in reg.aliases[kind]:
                    target = reg.aliases[kind][name]
                    problems.append(
                        problem(
                            plugin_name,
                            "duplicate",
                            f"registers {what} '{name}', which plugin '{reg.owner[(kind, target)]}' already "
                            f"provides as an alias of '{target}'; the second registration is ignored",
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
                    if alias == name:
                        continue
                    taken = reg.aliases[kind].get(alias) or (
                        alias if alias in reg.items[kind] else None
                    )
                    if taken is None:
                        reg.aliases[kind][alias] = name
                    elif reg.owner.get((kind, taken)) != plugin_name:
                        problems.append(
                            problem(
                                plugin_name,
                                "duplicate",
                                f"registers '{alias}' as an alias of {what} '{name}', but '{alias}' already "
                                f"means '{taken}' (plugin '{reg.owner[(kind, taken)]}'); the alias is ignored",
                            )
                        )
                if info is not None:
                    info.provides.setdefault(kind, []).append(name)
    return reg


def get_registry() -> Registry:
    """The process-wide registry, built from :func:`current_settings` on first use."""
    if _PROCESS.registry is None:
        _PROCESS.registry = _load(_PROCESS.settings)
    return _PROCESS.registry


def _load(settings: PluginSettings) -> Registry:
    disabled: list[str] = []
    pm, infos, problems = make_plugin_manager(settings, disabled=disabled)
    reg = build_registry(pm, infos, problems)
    reg.disabled = disabled
    reg.third_party_disabled = _disabled(settings)[0]
    return reg


def load_registry(
    extra_plugins: Iterable[tuple[str, Any]] = (),
    *,
    entry_points: bool = True,
    disable_third_party: bool = False,
) -> Registry:
    """A fresh registry (not cached): for tests and for tools that load plugins explicitly.

    ``extra_plugins`` are (name, plugin) pairs treated like installed third-party
    plugins; ``entry_points=False`` leaves out the installed ones, so a test sees
    the built-ins and its own plugins only. The process settings play no part.
    """
    return _load(
        PluginSettings(
            disable_third_party=disable_third_party,
            extra_plugins=tuple(extra_plugins),
            entry_points=entry_points,
        )
    )
