"""Plugin core: registries built from on-the-fly plugins, with failures isolated and named."""

from __future__ import annotations

import textwrap

from pydantic import Field

from specforge.api import check_text
from specforge.plugin import NodeType, ParamCount, Params, ShapeError, hookimpl
from specforge.registry import load_registry


class DropoutParams(Params):
    rate: float = Field(0.5, ge=0, lt=1, allow_inf_nan=False)


class Dropout(NodeType):
    name = "Dropout"
    Params = DropoutParams
    description = "randomly zero inputs while training"

    def output_shape(self, params, input_shapes):
        (shape,) = input_shapes
        return shape

    def param_count(self, params, input_shapes):
        return ParamCount()


class LayersPlugin:
    @hookimpl
    def register_node_types(self, register):
        register(Dropout())


class RaisingPlugin:
    @hookimpl
    def register_node_types(self, register):
        register(Dropout())
        raise RuntimeError("the plugin's hook is broken")


class AnotherDropoutPlugin:
    @hookimpl
    def register_node_types(self, register):
        register(Dropout())


class MisspeltHookPlugin:
    @hookimpl
    def register_node_typs(self, register):  # sic
        register(Dropout())


class FutureApiPlugin:
    SPECFORGE_API = 99

    @hookimpl
    def register_node_types(self, register):
        register(Dropout())


class Exploding(NodeType):
    name = "Exploding"

    def output_shape(self, params, input_shapes):
        raise ZeroDivisionError("division by zero")


class Picky(NodeType):
    name = "Picky"

    def output_shape(self, params, input_shapes):
        raise ShapeError("Picky needs an even width", help="use an even number of units upstream")


class OddPlugin:
    @hookimpl
    def register_node_types(self, register):
        register(Exploding())
        register(Picky())


def registry(*plugins):
    return load_registry(extra_plugins=list(plugins), entry_points=False)


SPEC = textwrap.dedent(
    """\
    specforge: 1
    name: with_dropout
    inputs:
      - {name: x, shape: [8]}
    nodes:
      - {name: h, type: Dense, units: 4, activation: relu}
      - {name: drop, type: Dropout, rate: 0.2}
      - {name: out, type: Dense, units: 1}
    outputs:
      - {node: out, loss: mse}
    optimizer: {type: sgd}
    """
)


def test_a_third_party_node_type_is_usable_in_a_spec():
    reg = registry(("specforge-layers", LayersPlugin()))
    assert reg.problems == []
    assert reg.owner[("node_type", "Dropout")] == "specforge-layers"
    result = check_text(SPEC, registry=reg)
    assert result.ok, result.diagnostics
    assert result.graph.node("drop").params.rate == 0.2
    assert result.graph.total_params == 8 * 4 + 4 + 4 + 1


def test_a_third_party_node_type_s_parameters_are_checked():
    reg = registry(("specforge-layers", LayersPlugin()))
    result = check_text(SPEC.replace("rate: 0.2", "rate: 1.5, ratee: 1"), registry=reg)
    assert [(d.code, d.span.line) for d in result.diagnostics] == [
        ("invalid-value", 7),
        ("unknown-field", 7),
    ]


def test_without_the_plugin_the_node_type_is_unknown():
    result = check_text(SPEC, registry=registry())
    assert [d.code for d in result.diagnostics] == ["unknown-node-type"]


def test_a_hook_that_raises_is_reported_with_the_plugin_name_and_others_still_work():
    reg = registry(("specforge-broken", RaisingPlugin()), ("specforge-layers", LayersPlugin()))
    [problem] = reg.problems
    assert problem.plugin == "specforge-broken"
    assert problem.stage == "hook register_node_types"
    assert "RuntimeError: the plugin's hook is broken" in problem.message
    assert "plugin 'specforge-broken'" in problem.render()
    assert problem.lost == [("node_type", "Dropout")]
    # The other third-party plugin and the built-ins are unaffected.
    assert reg.owner[("node_type", "Dropout")] == "specforge-layers"
    assert {"Dense", "Flatten", "Concatenate", "Dropout"} <= set(reg.node_types)
    assert check_text(SPEC, registry=reg).ok


def test_an_unknown_name_points_at_the_failed_plugin_that_would_provide_it():
    reg = registry(("specforge-broken", RaisingPlugin()))
    [d] = check_text(SPEC, registry=reg).diagnostics
    assert d.code == "unknown-node-type"
    assert d.help.startswith("plugin 'specforge-broken' would provide it but failed")


def test_a_duplicate_node_type_name_is_reported_naming_both_plugins():
    reg = registry(
        ("specforge-layers", LayersPlugin()), ("specforge-more-layers", AnotherDropoutPlugin())
    )
    [problem] = reg.problems
    assert problem.plugin == "specforge-more-layers"
    assert problem.stage == "duplicate"
    assert "'Dropout'" in problem.message and "'specforge-layers'" in problem.message
    assert (
        reg.owner[("node_type", "Dropout")] == "specforge-layers"
    )  # the first one wins, nothing is renamed


def test_a_duplicate_of_a_built_in_is_reported_and_the_built_in_kept():
    from specforge.default_plugins.dense import Dense

    class Shadow:
        @hookimpl
        def register_node_types(self, register):
            register(Dense())

    reg = registry(("specforge-shadow", Shadow()))
    [problem] = reg.problems
    assert problem.stage == "duplicate"
    assert "'specforge.default_plugins.dense'" in problem.message
    assert reg.owner[("node_type", "Dense")] == "specforge.default_plugins.dense"


def test_a_misspelt_hook_name_is_reported_not_ignored():
    reg = registry(("specforge-typo", MisspeltHookPlugin()), ("specforge-layers", LayersPlugin()))
    [problem] = reg.problems
    assert problem.plugin == "specforge-typo"
    assert problem.stage == "validate"
    assert "register_node_typs" in problem.message
    assert "specforge-typo" not in [p.name for p in reg.plugins]
    assert "Dropout" in reg.node_types  # from the other plugin


def test_a_plugin_declaring_a_newer_api_is_refused():
    reg = registry(("specforge-future", FutureApiPlugin()))
    [problem] = reg.problems
    assert problem.plugin == "specforge-future"
    assert "99" in problem.message
    assert "Dropout" not in reg.node_types


def test_registering_something_that_is_not_a_node_type_is_reported():
    class Wrong:
        @hookimpl
        def register_node_types(self, register):
            register("Dropout")

    [problem] = registry(("specforge-wrong", Wrong())).problems
    assert problem.plugin == "specforge-wrong"
    assert "expected a NodeType" in problem.message


def test_a_plugin_whose_shape_inference_raises_is_a_plugin_error_diagnostic():
    reg = registry(("specforge-odd", OddPlugin()))
    text = SPEC.replace("type: Dropout, rate: 0.2", "type: Exploding")
    [d] = check_text(text, registry=reg).diagnostics
    assert (d.code, d.span.line, d.span.column) == ("plugin-error", 7, 5)
    assert "plugin 'specforge-odd'" in d.message and "ZeroDivisionError" in d.message


def test_a_plugin_s_shape_error_is_a_shape_mismatch_with_its_help():
    reg = registry(("specforge-odd", OddPlugin()))
    [d] = check_text(
        SPEC.replace("type: Dropout, rate: 0.2", "type: Picky"), registry=reg
    ).diagnostics
    assert (d.code, d.message, d.help) == (
        "shape-mismatch",
        "node 'drop': Picky needs an even width",
        "use an even number of units upstream",
    )


def test_the_disable_variable_skips_third_party_plugins(monkeypatch):
    monkeypatch.setenv("SPECFORGE_DISABLE_PLUGINS", "specforge-layers")
    reg = registry(("specforge-layers", LayersPlugin()))
    assert "Dropout" not in reg.node_types
    monkeypatch.setenv("SPECFORGE_DISABLE_PLUGINS", "1")
    assert "Dropout" not in registry(("specforge-layers", LayersPlugin())).node_types


def test_builtins_register_through_the_same_hooks():
    reg = registry()
    assert reg.owner[("node_type", "Dense")] == "specforge.default_plugins.dense"
    assert reg.owner[("activation", "relu")] == "specforge.default_plugins.vocabulary"
    assert reg.problems == []


# ---------------------------------------------------------------- the process-wide registry


def test_use_registry_makes_a_registry_the_process_wide_one_for_a_block():
    import specforge
    from specforge.registry import current_settings, use_registry

    before, settings = specforge.get_registry(), current_settings()
    reg = registry(("specforge-layers", LayersPlugin()))
    with use_registry(reg) as inside:
        assert inside is reg and specforge.get_registry() is reg
        assert check_text(SPEC, registry=specforge.get_registry()).ok
    assert specforge.get_registry() is before and current_settings() is settings


def test_use_settings_builds_the_registry_from_them_and_restores_the_old_one():
    from specforge.registry import PluginSettings, current_settings, get_registry, use_settings

    before = get_registry()
    settings = PluginSettings(extra_plugins=(("specforge-layers", LayersPlugin()),))
    with use_settings(settings) as reg:
        assert current_settings() is settings and get_registry() is reg
        assert "Dropout" in reg.node_types
        assert [p.name for p in reg.plugins if p.in_process] == ["specforge-layers"]
    assert get_registry() is before and "specforge-layers" not in {p.name for p in before.plugins}


def test_disable_third_party_is_a_setting_and_rebuilds_the_registry():
    from specforge.registry import (
        PluginSettings,
        current_settings,
        disable_third_party,
        get_registry,
        use_settings,
    )

    layers = (("specforge-layers", LayersPlugin()),)
    with use_settings(PluginSettings(extra_plugins=layers, entry_points=False)):
        assert "Dropout" in get_registry().node_types
        disable_third_party()
        assert current_settings().disable_third_party
        reg = get_registry()
        assert reg.third_party_disabled and "Dropout" not in reg.node_types
        assert reg.disabled == ["specforge-layers"]
        disable_third_party(False)
        assert "Dropout" in get_registry().node_types
