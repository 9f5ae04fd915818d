"""specforge.testing: the checks pass for correct plugins and catch each kind of mistake.

Every broken plugin here is wrong in exactly one way, and the test asserts the
check names that way; the built-ins pass, which is also how the kit is kept
honest about its own tolerances.
"""

from __future__ import annotations

import importlib

import numpy as np
import pytest

from specforge.default_plugins.dense import Dense, DenseParams
from specforge.plugin import (
    API_VERSION,
    Backend,
    DatasetType,
    NoParams,
    ParamCount,
    PreprocessorType,
    hookimpl,
)
from specforge.registry import BUILTIN_PLUGINS
from specforge.testing import (
    ConformanceError,
    check_backend,
    check_dataset,
    check_node_type,
    check_plugin,
    check_preprocessor,
    registry_with,
)

keras_only = pytest.mark.keras


def _keras_dense(ctx, node, inputs):
    import keras

    p = node.params
    return keras.layers.Dense(
        p.units, activation=p.activation, use_bias=p.use_bias, name=node.name
    )(inputs[0])


def _numpy_dense():
    from specforge.default_plugins.dense import DenseLowering

    return DenseLowering()


def plugin(node_type, *, keras=_keras_dense, numpy=None, imports=None):
    """A plugin registering ``node_type`` with the given lowerings."""

    class Plugin:
        SPECFORGE_API = 2

        @hookimpl
        def register_node_types(self, register):
            register(node_type)

        @hookimpl
        def register_lowerings(self, register):
            if keras is not None:
                register("keras", "node", node_type.name, keras)
            register(
                "numpy", "node", node_type.name, numpy if numpy is not None else _numpy_dense()
            )
            for class_name, rule in (imports or {}).items():
                register("keras", "import", class_name, rule)

    return registry_with(("under-test", Plugin()))


class Affine(Dense):
    """A Dense under another name, so that it can be broken without touching the built-in."""

    name = "Affine"


# ---------------------------------------------------------------- correct plugins pass


@keras_only
@pytest.mark.parametrize(
    ("node_type", "params", "shapes"),
    [
        ("Dense", {"units": 3, "activation": "tanh"}, [(4,)]),
        ("Dense", {"units": 2, "use_bias": False, "activation": "softmax"}, [(3, 5)]),
        ("Flatten", {}, [(2, 3)]),
        ("Concatenate", {"axis": 1}, [(2, 3), (1, 3)]),
    ],
)
def test_the_built_in_node_types_conform(node_type, params, shapes):
    report = check_node_type(node_type, params, shapes)
    assert report.keras_output_shape == report.node.output_shape
    assert report.imported is not None and report.imported["type"] == node_type
    assert max(report.max_diff.values(), default=0.0) < 1e-5


# ---------------------------------------------------------------- each mistake is caught


class Overcounting(Affine):
    def param_count(self, params, input_shapes):
        return super().param_count(params, input_shapes) + ParamCount(1)


class WrongShape(Affine):
    def output_shape(self, params, input_shapes):
        return (params.units + 1,)


@keras_only
def test_a_wrong_parameter_count_is_caught():
    reg = plugin(Overcounting())
    with pytest.raises(
        ConformanceError,
        match=r"param_count\(\) gives 16 trainable \+ 0 non-trainable, the Keras layer has 15 \+ 0",
    ):
        check_node_type("Affine", {"units": 3}, [(4,)], registry=reg)


@keras_only
def test_a_wrong_shape_inference_is_caught():
    reg = plugin(WrongShape())
    with pytest.raises(
        ConformanceError,
        match=r"shape inference gives \(None, 4\), the Keras layer computes \(None, 3\)",
    ):
        check_node_type("Affine", {"units": 3}, [(4,)], registry=reg)


def _two_layers(ctx, node, inputs):
    import keras

    return keras.layers.Dense(2, name=node.name)(keras.layers.Dense(2)(inputs[0]))


def _misnamed(ctx, node, inputs):
    import keras

    return keras.layers.Dense(node.params.units, name="something_else")(inputs[0])


@keras_only
@pytest.mark.parametrize(
    ("lowering", "message"),
    [
        (_two_layers, "must build exactly one layer, it built 2"),
        (_misnamed, "named after the node"),
    ],
)
def test_a_keras_lowering_must_build_one_layer_named_after_the_node(lowering, message):
    reg = plugin(Affine(), keras=lowering)
    with pytest.raises(ConformanceError, match=message):
        check_node_type("Affine", {"units": 2}, [(4,)], registry=reg, import_rule=False)


class OffForward:
    def __init__(self):
        self.inner = _numpy_dense()

    def init(self, ctx, node, rng):
        return self.inner.init(ctx, node, rng)

    def trainable(self, ctx, node):
        return self.inner.trainable(ctx, node)

    def forward(self, ctx, node, weights, inputs, training):
        out, cache = self.inner.forward(ctx, node, weights, inputs, training)
        return out * np.float32(1.001), cache

    def backward(self, ctx, node, weights, cache, grad_output):
        return self.inner.backward(ctx, node, weights, cache, grad_output * np.float32(1.001))


class OffBackward(OffForward):
    def forward(self, ctx, node, weights, inputs, training):
        return self.inner.forward(ctx, node, weights, inputs, training)

    def backward(self, ctx, node, weights, cache, grad_output):
        (gx,), gw = self.inner.backward(ctx, node, weights, cache, grad_output)
        return [gx * np.float32(1.01)], gw


class AllFrozen(OffBackward):
    def backward(self, ctx, node, weights, cache, grad_output):
        return self.inner.backward(ctx, node, weights, cache, grad_output)

    def trainable(self, ctx, node):
        return [False, False]


@keras_only
@pytest.mark.parametrize(
    ("lowering", "message"),
    [
        (OffForward(), r"Affine \(inference\) forward: \d+ of 15 values differ"),
        (OffBackward(), r"Affine \(inference\) gradient of input 0"),
        (
            AllFrozen(),
            r"NumPy trainable\(\) flags \[False, False\], Keras's weights are trainable \[True, True\]",
        ),
    ],
    ids=["forward", "backward", "trainable-flags"],
)
def test_numpy_lowerings_that_disagree_with_keras_are_caught(lowering, message):
    reg = plugin(Affine(), numpy=lowering)
    with pytest.raises(ConformanceError, match=message):
        check_node_type("Affine", {"units": 3}, [(4,)], registry=reg, import_rule=False, batch=5)


@keras_only
def test_finite_differences_catch_a_backward_the_keras_comparison_was_told_to_ignore():
    reg = plugin(Affine(), numpy=OffBackward())
    with pytest.raises(ConformanceError, match="backward vs finite differences, input 0"):
        check_node_type(
            "Affine", {"units": 3}, [(4,)], registry=reg, import_rule=False, rtol=1e9, atol=1e9
        )


@keras_only
def test_a_missing_update_of_moving_statistics_is_caught():
    layers = pytest.importorskip("specforge_layers.numpy_lowering")
    from specforge_layers.keras_lowering import lower_batch_normalization
    from specforge_layers.node_types import BatchNormalization

    class Forgetful(layers.BatchNormalizationLowering):
        def update_state(self, ctx, node, weights, cache):
            pass

    reg = plugin(BatchNormalization(), keras=lower_batch_normalization, numpy=Forgetful())
    with pytest.raises(
        ConformanceError,
        match=r"BatchNormalization \(training\) weight 2 after one step's state update",
    ):
        check_node_type("BatchNormalization", {}, [(3,)], registry=reg, import_rule=False)


@keras_only
def test_an_import_rule_must_name_the_node_type():
    reg = plugin(Affine())
    with pytest.raises(ConformanceError, match="the import rule gives type 'Dense'"):
        check_node_type("Affine", {"units": 3}, [(4,)], registry=reg)


def _my_dense_class():
    import keras

    class MyDense(keras.layers.Dense):
        pass

    return MyDense


@keras_only
def test_an_import_rule_that_loses_a_setting_is_caught():
    my_dense = _my_dense_class()

    def lower(ctx, node, inputs):
        p = node.params
        return my_dense(p.units, use_bias=p.use_bias, name=node.name)(inputs[0])

    def forgetful_rule(ctx, layer):
        return {"type": "Affine", "units": layer.units}  # use_bias forgotten

    reg = plugin(Affine(), keras=lower, imports={"MyDense": forgetful_rule})
    with pytest.raises(
        ConformanceError, match=r"the import rule loses settings.*'use_bias': \(False, True\)"
    ):
        check_node_type("Affine", {"units": 3, "use_bias": False}, [(4,)], registry=reg)


def test_invalid_parameters_are_reported_with_the_checker_s_diagnostics():
    with pytest.raises(ConformanceError, match=r"Dense with params \{'units': 0\}.*is invalid"):
        check_node_type("Dense", {"units": 0}, [(4,)], backends=())


def test_shape_and_count_checks_alone_need_no_framework():
    report = check_node_type("Dense", {"units": 3}, [(4,)], backends=())
    assert report.node.param_count == ParamCount(15)
    assert report.keras_params is None


# ---------------------------------------------------------------- backends


class Shifted(Backend):
    name = "shifted"

    def __init__(self):
        from specforge.registry import get_registry

        self.inner = get_registry().backends["numpy"]

    def build(self, graph, *, seed=None, registry):
        return self.inner.build(graph, seed=seed, registry=registry)

    def set_weights(self, model, weights):
        self.inner.set_weights(model, weights)

    def predict(self, model, x, *, batch_size=32):
        return {k: v + 1e-3 for k, v in self.inner.predict(model, x, batch_size=batch_size).items()}


def test_a_backend_that_predicts_differently_from_numpy_is_caught():
    with pytest.raises(
        ConformanceError, match=r"wide_deep: output 'output' of backend 'shifted' vs 'numpy'"
    ):
        check_backend(Shifted(), "specs/wide_deep.yaml")


@keras_only
def test_the_keras_backend_agrees_with_numpy_and_survives_save_and_load(tmp_path, monkeypatch):
    from pathlib import Path

    monkeypatch.chdir(Path(__file__).resolve().parent.parent)
    diffs = check_backend("keras", "specs/wide_deep_aux.yaml", tmp_path=tmp_path)
    assert set(diffs) == {"output", "aux_output"}


# ---------------------------------------------------------------- datasets


def _dataset(load):
    return DatasetType("made_up", NoParams, load)


def _data(y, task="classification", classes=("a", "b")):
    from specforge.plugin import Dataset

    return Dataset(
        np.zeros((len(y), 2), np.float32),
        np.asarray(y),
        ["f0", "f1"],
        ["t"],
        task,
        list(classes) if classes else None,
    )


def test_the_built_in_iris_dataset_conforms():
    ds = check_dataset("iris")
    assert ds.x.shape == (150, 4)


@pytest.mark.parametrize(
    ("load", "message"),
    [
        (lambda p: {"x": []}, "returned dict, not specforge.plugin.Dataset"),
        (lambda p: _data([0, 1, 2]), r"class indices 0..2 do not fit 2 class names"),
        (
            lambda p: _data([0.5, 1.0], classes=None),
            "classification targets must be integer class indices",
        ),
        (
            lambda p, calls=iter(range(100)): _data([next(calls) % 2, 0, 1]),
            "two loads gave different y",
        ),
    ],
    ids=["not-a-dataset", "labels-out-of-range", "float-labels", "not-deterministic"],
)
def test_dataset_mistakes_are_caught(load, message):
    with pytest.raises(ConformanceError, match=message):
        check_dataset(_dataset(load))


# ---------------------------------------------------------------- preprocessors


class Centre:
    """A correct preprocessor, used as the base of the broken ones."""

    def __init__(self, params):
        self.state = None

    def fit(self, x):
        self.state = {"mean": np.asarray(x, np.float64).mean(axis=0)}

    def transform(self, x):
        if self.state is None:
            raise RuntimeError("not fitted")
        return (np.asarray(x) - self.state["mean"]).astype(np.float32)

    def get_state(self):
        return dict(self.state)

    def set_state(self, state):
        self.state = dict(state)


class Aliasing(Centre):
    def fit(self, x):
        self.state = {"data": x}

    def transform(self, x):
        return (np.asarray(x) - self.state["data"].mean(axis=0)).astype(np.float32)


class Refitting(Centre):
    def transform(self, x):
        if self.state is not None:
            self.fit(x)  # learns from whatever it is shown
        return super().transform(x)


class Pickly(Centre):
    def fit(self, x):
        super().fit(x)
        self.state["scaler"] = object()


class Guessing(Centre):
    def transform(self, x):
        return np.asarray(x, np.float32) if self.state is None else super().transform(x)


def _pre(cls):
    return PreprocessorType("made_up", NoParams, cls)


def test_a_correct_preprocessor_and_the_built_in_scaler_conform():
    out = check_preprocessor(_pre(Centre))
    assert out.shape == (15, 4)
    check_preprocessor("standard_scaler")


@pytest.mark.parametrize(
    ("cls", "message"),
    [
        (Aliasing, "refers to the training array"),
        (Refitting, "transform\\(\\) changed the fitted state 'mean'"),
        (Pickly, "not plain JSON data plus numpy arrays"),
        (Guessing, "transform\\(\\) before fit\\(\\) must fail"),
    ],
    ids=[
        "keeps-training-array",
        "refits-in-transform",
        "unpicklable-state",
        "transform-before-fit",
    ],
)
def test_preprocessor_mistakes_are_caught(cls, message):
    with pytest.raises(ConformanceError, match=message):
        check_preprocessor(_pre(cls))


# ---------------------------------------------------------------- whole plugins


class WellFormed:
    SPECFORGE_API = 2

    @hookimpl
    def register_node_types(self, register):
        register(Affine())


class Undeclared:
    @hookimpl
    def register_node_types(self, register):
        register(Affine())


class Misspelt:
    SPECFORGE_API = 2

    @hookimpl
    def register_nodetypes(self, register):
        register(Affine())


def test_check_plugin_returns_a_registry_with_the_plugin():
    reg = check_plugin(WellFormed(), "well-formed")
    assert reg.owner[("node_type", "Affine")] == "well-formed"
    assert DenseParams.model_validate({"units": 1})


@pytest.mark.parametrize(
    ("plugin_object", "message"),
    [
        (Undeclared(), "does not declare SPECFORGE_API"),
        (
            Misspelt(),
            "unknown hook 'register_nodetypes' \\(did you mean 'register_node_types'\\?\\)",
        ),
    ],
)
def test_check_plugin_catches_what_would_be_a_warning_for_users(plugin_object, message):
    with pytest.raises(ConformanceError, match=message):
        check_plugin(plugin_object, "odd")


@pytest.mark.parametrize("module_name", BUILTIN_PLUGINS)
def test_every_built_in_plugin_passes_check_plugin(module_name):
    """The built-ins are held to the bar of a third-party plugin."""
    module = importlib.import_module(module_name)
    assert module.SPECFORGE_API == API_VERSION
    reg = check_plugin(module)
    info = next(p for p in reg.plugins if p.name == module_name)
    assert info.builtin and info.provides, info


def test_plugin_under_test_loads_a_source_checkout_as_if_installed(tmp_path, monkeypatch):
    from specforge.registry import get_registry
    from specforge.testing import plugin_under_test

    (tmp_path / "kit_demo_plugin.py").write_text(
        "from specforge.plugin import Loss, hookimpl\n"
        "@hookimpl\n"
        "def register_losses(register):\n"
        "    register(Loss('kit_demo_loss'))\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    assert "kit_demo_loss" not in get_registry().names("loss")
    with plugin_under_test("kit-demo", "kit_demo_plugin") as reg:
        assert "kit_demo_loss" in reg.names("loss")
        assert "kit-demo" in {p.name for p in get_registry().plugins}
        with plugin_under_test("kit-demo", "kit_demo_plugin") as again:  # already loaded: unchanged
            assert again is get_registry()
    assert "kit_demo_loss" not in get_registry().names("loss")


def test_plugin_conftest_runs_a_checkout_s_tests_and_skips_them_without_what_they_need(tmp_path):
    """The whole conftest of a plugin package: its src/ loads as if installed, or the tests skip."""
    import os
    import subprocess
    import sys
    import textwrap

    def package(name, requires):
        root = tmp_path / name
        (root / "src" / f"{name}_pkg").mkdir(parents=True)
        (root / "tests").mkdir()
        (root / "src" / f"{name}_pkg" / "__init__.py").write_text("")
        (root / "src" / f"{name}_pkg" / "plugin.py").write_text(
            "from specforge.plugin import Loss, hookimpl\n"
            "SPECFORGE_API = 1\n"
            "@hookimpl\n"
            "def register_losses(register):\n"
            f"    register(Loss('{name}_loss'))\n"
        )
        (root / "tests" / "conftest.py").write_text(
            "from specforge.testing import plugin_conftest\n"
            "_plugin, pytest_collection_modifyitems = plugin_conftest(\n"
            f"    __file__, '{name}', '{name}_pkg.plugin', requires={requires!r}\n"
            ")\n"
        )
        (root / "tests" / f"test_{name}.py").write_text(
            textwrap.dedent(
                f"""\
                from specforge.registry import get_registry


                def test_the_plugin_is_loaded():
                    assert '{name}_loss' in get_registry().names('loss')
                """
            )
        )

    package("kitready", ())
    package("kitneedy", ("specforge_kit_no_such_module",))
    args = ["-q", "-rs", "-p", "no:cacheprovider", "--import-mode=importlib"]
    result = subprocess.run(
        [sys.executable, "-m", "pytest", *args, "kitready/tests", "kitneedy/tests"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={**os.environ, "SPECFORGE_DISABLE_PLUGINS": ""},
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed, 1 skipped" in result.stdout
    assert "specforge_kit_no_such_module not installed" in result.stdout
