"""Fault isolation: a broken plugin is named, reported on every command, and takes nothing down.

Broken plugins are made on the fly, two ways: as real installed distributions
(a ``*.dist-info`` with an ``entry_points.txt`` on ``sys.path``, exactly what
pip leaves behind; the only way to see an import error as users do), and as
in-process plugin objects (``load_registry(extra_plugins=...)`` and
``specforge.testing.plugins_installed``) for the hook failures.
"""

from __future__ import annotations

import os
import sys
import textwrap
from pathlib import Path

import pytest

from specforge.api import check_text
from specforge.plugin import DatasetType, NodeType, NoParams, hookimpl
from specforge.registry import load_registry
from specforge.testing import make_distribution, plugins_installed

ROOT = Path(__file__).resolve().parent.parent

SPEC = textwrap.dedent(
    """\
    specforge: 1
    name: uses_{type}
    inputs:
      - {{name: x, shape: [8]}}
    nodes:
      - {{name: h, type: Dense, units: 4}}
      - {{name: special, type: {type}}}
      - {{name: out, type: Dense, units: 1}}
    outputs:
      - {{node: out, loss: mse}}
    optimizer: {{type: sgd}}
    """
)


class Identity(NodeType):
    name = "Identity"
    description = "returns its input"

    def output_shape(self, params, input_shapes):
        return tuple(input_shapes[0])


class Twice(NodeType):
    name = "Twice"

    def output_shape(self, params, input_shapes):
        return tuple(input_shapes[0])


# ---------------------------------------------------------------- installed plugins (subprocess)

BROKEN_IMPORT = "import specforge\nraise ImportError('the plugin needs libfoo 2.0')\n"

GOOD = textwrap.dedent(
    """\
    from specforge.plugin import NodeType, hookimpl

    SPECFORGE_API = 1

    class Identity(NodeType):
        name = "Identity"

        def output_shape(self, params, input_shapes):
            return tuple(input_shapes[0])

    @hookimpl
    def register_node_types(register):
        register(Identity())
    """
)


@pytest.fixture
def installed(tmp_path: Path):
    """A site directory with a broken plugin and a working one, as pip would install them."""
    site = tmp_path / "site"
    make_distribution(
        site, "specforge-broken", {"broken": "broken_plugin"}, {"broken_plugin.py": BROKEN_IMPORT}
    )
    make_distribution(
        site, "specforge-good", {"good": "good_plugin"}, {"good_plugin.py": GOOD}, version="1.2.3"
    )
    return site


def run(site: Path, *args: str, env: dict[str, str] | None = None):
    import subprocess

    full_env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("SPECFORGE_DEBUG", "SPECFORGE_DISABLE_PLUGINS")
    }
    full_env.update({"PYTHONPATH": os.pathsep.join([str(site), str(ROOT)]), **(env or {})})
    return subprocess.run(
        [sys.executable, "-m", "specforge", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=full_env,
        timeout=120,
    )


def test_a_plugin_that_fails_to_import_is_named_on_stderr_and_the_command_still_works(installed):
    result = run(installed, "validate", "specs/wide_deep.yaml")
    assert result.returncode == 0, result.stderr
    assert "specs/wide_deep.yaml: valid (3,479 params)" in result.stdout
    assert (
        "warning: plugin 'broken' from specforge-broken 0.0.1 (import): ImportError: the plugin needs libfoo 2.0"
        in result.stderr
    )
    assert "Traceback" not in result.stderr + result.stdout
    assert "--debug" in result.stderr


def test_the_other_installed_plugin_keeps_working(installed, tmp_path):
    spec = tmp_path / "identity.yaml"
    spec.write_text(SPEC.format(type="Identity"))
    result = run(installed, "summary", str(spec))
    assert result.returncode == 0, result.stderr
    assert "special (Identity)" in result.stdout
    assert "plugin 'broken'" in result.stderr


def test_a_spec_using_a_name_of_the_failed_plugin_is_told_which_plugin_failed(installed, tmp_path):
    spec = tmp_path / "missing.yaml"
    spec.write_text(SPEC.format(type="Frobnicate"))
    result = run(installed, "validate", str(spec))
    assert result.returncode == 1
    assert "error[unknown-node-type]: node 'special' has unknown type 'Frobnicate'" in result.stdout
    assert (
        "help: plugin 'broken' may provide it but failed (import): ImportError: the plugin needs libfoo 2.0"
        in result.stdout
    )
    assert "Traceback" not in result.stderr + result.stdout


def test_debug_shows_the_plugin_s_traceback(installed):
    result = run(installed, "--debug", "validate", "specs/wide_deep.yaml")
    assert result.returncode == 0
    assert "Traceback" in result.stderr
    assert "broken_plugin.py" in result.stderr


def test_plugins_lists_the_failure_with_its_distribution_and_the_good_plugin(installed):
    result = run(installed, "plugins")
    assert result.returncode == 0
    assert "good (specforge-good 1.2.3)\n  node_type: Identity" in result.stdout
    assert (
        "failed:\n  plugin 'broken' from specforge-broken 0.0.1 (import): ImportError: the plugin needs libfoo 2.0"
        in result.stdout
    )
    assert "Traceback" not in result.stdout + result.stderr


def test_no_plugins_flag_and_the_variable_turn_third_party_plugins_off(installed, tmp_path):
    spec = tmp_path / "identity.yaml"
    spec.write_text(SPEC.format(type="Identity"))
    for args, env in (
        (("--no-plugins", "validate", str(spec)), None),
        (("validate", str(spec)), {"SPECFORGE_DISABLE_PLUGINS": "1"}),
    ):
        result = run(installed, *args, env=env)
        assert result.returncode == 1, (args, result.stdout)
        assert "unknown type 'Identity'" in result.stdout
        assert "warning" not in result.stderr  # the broken plugin is not even imported


def test_disabling_one_plugin_by_name_keeps_the_others(installed, tmp_path):
    spec = tmp_path / "identity.yaml"
    spec.write_text(SPEC.format(type="Identity"))
    result = run(
        installed, "validate", str(spec), env={"SPECFORGE_DISABLE_PLUGINS": "specforge-broken"}
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stderr == ""


def test_a_plugin_that_exits_at_import_does_not_end_specforge(tmp_path):
    site = make_distribution(
        tmp_path,
        "specforge-quitter",
        {"quitter": "quitter"},
        {"quitter.py": "import sys\nsys.exit(3)\n"},
    )
    result = run(site, "validate", "specs/wide_deep.yaml")
    assert result.returncode == 0
    assert "plugin 'quitter' from specforge-quitter 0.0.1 (import): SystemExit: 3" in result.stderr


# ---------------------------------------------------------------- hooks that fail (in process)


class RaisingNodeTypes:
    @hookimpl
    def register_node_types(self, register):
        register(Identity())
        raise RuntimeError("cannot read the layer table")


class GoodNodeTypes:
    @hookimpl
    def register_node_types(self, register):
        register(Twice())


def test_a_raising_hook_is_reported_with_the_plugin_name_and_stage():
    reg = load_registry(
        [("raiser", RaisingNodeTypes()), ("good", GoodNodeTypes())], entry_points=False
    )
    (problem,) = reg.problems
    assert problem.plugin == "raiser"
    assert problem.stage == "hook register_node_types"
    assert problem.message == "RuntimeError: cannot read the layer table"
    assert "Traceback" in problem.traceback
    # what it registered before raising is dropped, the other plugins are intact
    assert "Identity" not in reg.node_types
    assert {"Twice", "Dense", "Flatten", "Concatenate"} <= set(reg.node_types)


def test_a_spec_using_a_name_from_a_raising_hook_names_that_plugin():
    reg = load_registry([("raiser", RaisingNodeTypes())], entry_points=False)
    result = check_text(SPEC.format(type="Identity"), registry=reg)
    (diag,) = result.errors
    assert diag.code == "unknown-node-type"
    assert (
        diag.help
        == "plugin 'raiser' would provide it but failed: RuntimeError: cannot read the layer table"
    )


class DatasetHookRaises:
    @hookimpl
    def register_datasets(self, register):
        raise KeyError("config")


def test_a_hook_of_another_kind_failing_names_the_plugin_as_likely_provider():
    reg = load_registry([("datasets-broken", DatasetHookRaises())], entry_points=False)
    assert reg.failed_plugins_hint("dataset", "moons") == (
        "plugin 'datasets-broken' may provide it but failed (hook register_datasets): KeyError: 'config'"
    )
    assert reg.failed_plugins_hint("node_type", "Foo") is None  # that hook did not fail


def test_a_raising_hook_in_the_cli_is_a_warning_on_every_command(cli_run, tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    with plugins_installed(("raiser", RaisingNodeTypes()), entry_points=False):
        for args in (
            ("validate", "specs/wide_deep.yaml"),
            ("summary", "specs/wide_deep.yaml"),
            ("schema",),
            ("build", "specs/wide_deep.yaml", "--backend", "numpy", "-o", str(tmp_path / "m.npz")),
        ):
            result = cli_run(*args)
            assert result.exit_code == 0, (args, result.output)
            assert (
                result.stderr.count(
                    "warning: plugin 'raiser' (hook register_node_types): RuntimeError: cannot read the layer table"
                )
                == 1
            ), args
            assert "Traceback" not in result.output


# ---------------------------------------------------------------- duplicate names


class SecondDense:
    @hookimpl
    def register_node_types(self, register):
        from specforge.default_plugins.dense import Dense

        register(Dense())


class SecondIris:
    @hookimpl
    def register_datasets(self, register):
        register(DatasetType("iris", NoParams, lambda params: None, "an impostor"))


def test_a_second_dense_is_reported_naming_both_plugins_and_the_built_in_kept():
    reg = load_registry([("dense-again", SecondDense())], entry_points=False)
    (problem,) = reg.problems
    assert problem.render() == (
        "plugin 'dense-again' (duplicate): registers node type 'Dense', which plugin "
        "'specforge.default_plugins.dense' already provides; the second registration is ignored"
    )
    assert reg.owner[("node_type", "Dense")] == "specforge.default_plugins.dense"
    wide_deep = (ROOT / "specs" / "wide_deep.yaml").read_text()
    assert check_text(wide_deep, registry=reg).graph.total_params == 3479


def test_a_second_dataset_iris_is_reported_and_the_built_in_kept():
    reg = load_registry([("iris-again", SecondIris())], entry_points=False)
    (problem,) = reg.problems
    assert (
        "registers dataset 'iris', which plugin 'specforge.default_plugins.datasets' already provides"
        in problem.message
    )
    assert reg.datasets["iris"].description != "an impostor"


def test_two_third_party_plugins_with_one_name_are_both_named():
    reg = load_registry(
        [("first", GoodNodeTypes()), ("second", GoodNodeTypes())], entry_points=False
    )
    (problem,) = reg.problems
    assert problem.plugin == "second"
    assert "registers node type 'Twice', which plugin 'first' already provides" in problem.message


class SecondKerasDense:
    @hookimpl
    def register_lowerings(self, register):
        register("keras", "node", "Dense", lambda node, inputs: None)


def test_a_second_lowering_for_the_same_backend_and_name_is_a_duplicate():
    reg = load_registry([("lowers-dense", SecondKerasDense())], entry_points=False)
    (problem,) = reg.problems
    assert (
        "registers lowering 'keras:node:Dense', which plugin 'specforge.default_plugins.dense' already provides"
        in problem.message
    )


class AliasThief:
    @hookimpl
    def register_activations(self, register):
        from specforge.plugin import Activation

        register(Activation("my_swish", aliases=("swish",)))


def test_an_alias_that_already_means_something_else_is_reported():
    reg = load_registry([("thief", AliasThief())], entry_points=False)
    (problem,) = reg.problems
    assert problem.stage == "duplicate"
    assert "'swish' already means 'silu'" in problem.message
    assert reg.canonical("activation", "swish") == "silu"
    assert reg.canonical("activation", "my_swish") == "my_swish"


# ---------------------------------------------------------------- plugins refused before their hooks run


class MisspeltHook:
    SPECFORGE_API = 1

    @hookimpl
    def register_node_type(self, register):
        register(Twice())


class FromTheFuture:
    SPECFORGE_API = 3

    @hookimpl
    def register_node_types(self, register):
        register(Twice())


class WrapperHook:
    @hookimpl(wrapper=True)
    def register_node_types(self, register):
        return (yield)


class NoShapeInference(NodeType):
    name = "Lazy"


class RegistersJunk:
    @hookimpl
    def register_node_types(self, register):
        register("Dense2")
        register(NoShapeInference())
        register(Twice())


@pytest.mark.parametrize(
    ("plugin", "stage", "message"),
    [
        (
            MisspeltHook(),
            "validate",
            "unknown hook 'register_node_type' (did you mean 'register_node_types'?)",
        ),
        (FromTheFuture(), "validate", "declares plugin API 3, this specforge supports API 2"),
        (WrapperHook(), "validate", "register_node_types is declared as a hook wrapper"),
    ],
    ids=["misspelt-hook", "newer-api", "wrapper"],
)
def test_plugins_that_cannot_work_are_refused_with_the_reason(plugin, stage, message):
    reg = load_registry([("odd", plugin)], entry_points=False)
    (problem,) = reg.problems
    assert (problem.plugin, problem.stage) == ("odd", stage)
    assert message in problem.message
    assert "odd" not in {p.name for p in reg.plugins}
    assert "Twice" not in reg.node_types


def test_invalid_registrations_are_reported_one_by_one_and_the_valid_ones_kept():
    reg = load_registry([("junk", RegistersJunk())], entry_points=False)
    messages = [p.message for p in reg.problems]
    assert messages == [
        "register_node_types got str, expected a NodeType",
        "node type 'Lazy' does not implement output_shape()",
    ]
    assert "Twice" in reg.node_types


def test_the_plugin_listing_records_what_each_plugin_added_even_next_to_failures():
    reg = load_registry(
        [("raiser", RaisingNodeTypes()), ("good", GoodNodeTypes())], entry_points=False
    )
    by_name = {p.name: p for p in reg.plugins}
    assert by_name["good"].provides == {"node_type": ["Twice"]}
    assert by_name["raiser"].provides == {}
    assert by_name["specforge.default_plugins.dense"].builtin


def test_plugins_installed_restores_the_registry():
    from specforge.registry import get_registry

    before = get_registry()
    with plugins_installed(("good", GoodNodeTypes())) as reg:
        assert get_registry() is reg
        assert "Twice" in reg.node_types
    assert get_registry() is before


# ---------------------------------------------------------------- every hook, one by one

from specforge.plugin import (  # noqa: E402
    Activation,
    Backend,
    Initializer,
    Loss,
    Metric,
    Optimizer,
    OptimizerParams,
    PreprocessorType,
)


class NullBackend(Backend):
    name = "null"


#: hook -> (registry kind, name, the arguments of one register() call)
CONTRIBUTIONS = {
    "register_node_types": ("node_type", "Twice", (Twice(),)),
    "register_activations": ("activation", "hard_tanh", (Activation("hard_tanh"),)),
    "register_losses": ("loss", "log_cosh", (Loss("log_cosh"),)),
    "register_metrics": ("metric", "r2", (Metric("r2"),)),
    "register_optimizers": ("optimizer", "lion", (Optimizer("lion", OptimizerParams),)),
    "register_initializers": ("initializer", "identity_init", (Initializer("identity_init"),)),
    "register_backends": ("backend", "null", (NullBackend(),)),
    "register_lowerings": (
        "lowering",
        "numpy:activation:hard_tanh",
        ("numpy", "activation", "hard_tanh", object()),
    ),
    "register_datasets": (
        "dataset",
        "constant",
        (DatasetType("constant", NoParams, lambda params: None),),
    ),
    "register_preprocessors": (
        "preprocessor",
        "noop",
        (PreprocessorType("noop", NoParams, lambda params: None),),
    ),
}


def _plugin_for(hook: str, *, raises: bool) -> object:
    _, _, args = CONTRIBUTIONS[hook]

    def implementation(register):
        register(*args)
        if raises:
            raise ValueError(f"{hook} broke")

    implementation.__name__ = hook
    return type("Plugin", (), {hook: staticmethod(hookimpl(implementation))})()


@pytest.mark.parametrize("hook", sorted(CONTRIBUTIONS))
def test_each_hook_takes_a_third_party_contribution_and_isolates_its_failure(hook):
    kind, name, _ = CONTRIBUTIONS[hook]
    reg = load_registry([("extra", _plugin_for(hook, raises=False))], entry_points=False)
    assert reg.problems == []
    assert reg.owner[(kind, name)] == "extra"
    broken = load_registry(
        [("extra", _plugin_for(hook, raises=True)), ("good", GoodIdentity())], entry_points=False
    )
    (problem,) = broken.problems
    assert (problem.plugin, problem.stage, problem.message) == (
        "extra",
        f"hook {hook}",
        f"ValueError: {hook} broke",
    )
    assert problem.lost == [(kind, name)]
    assert (kind, name) not in broken.owner
    assert broken.owner[("node_type", "Identity")] == "good"


class GoodIdentity:
    @hookimpl
    def register_node_types(self, register):
        register(Identity())


def test_a_third_party_vocabulary_is_usable_in_a_spec():
    plugins = [(hook, _plugin_for(hook, raises=False)) for hook in CONTRIBUTIONS]
    reg = load_registry(plugins, entry_points=False)
    assert reg.problems == []
    spec = textwrap.dedent(
        """\
        specforge: 1
        name: third_party_vocabulary
        inputs:
          - {name: x, shape: [3]}
        nodes:
          - {name: h, type: Dense, units: 4, activation: hard_tanh, kernel_initializer: identity_init}
          - {name: twice, type: Twice}
          - {name: out, type: Dense, units: 1}
        outputs:
          - {node: out, loss: log_cosh, metrics: [r2]}
        optimizer: {type: lion, learning_rate: 0.01}
        data:
          dataset: {type: constant}
          preprocess: [{type: noop}]
        """
    )
    result = check_text(spec, registry=reg)
    assert result.ok, [d.message for d in result.diagnostics]
