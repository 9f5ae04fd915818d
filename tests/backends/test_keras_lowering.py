"""Lowering through the registry: built-ins and plugins alike, and what cannot be lowered.

A plugin's node type, activation or initializer gets into a Keras model the
same way the built-ins do; whatever has no Keras lowering (or a step
activation, which Keras cannot train) is a positioned diagnostic, never a
traceback.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from pydantic import Field

from specforge.api import check_file, check_text
from specforge.diagnostics import SpecError
from specforge.plugin import Activation, NodeType, Params, hookimpl
from specforge.registry import load_registry

ROOT = Path(__file__).resolve().parents[2]


class ScaleParams(Params):
    factor: float = Field(2.0)


class Scale(NodeType):
    name = "Scale"
    Params = ScaleParams
    description = "multiply by a constant (Keras: Rescaling)"

    def output_shape(self, params, input_shapes):
        return input_shapes[0]


class NoKeras(NodeType):
    name = "NoKeras"

    def output_shape(self, params, input_shapes):
        return input_shapes[0]


class Exploding(NodeType):
    name = "Exploding"

    def output_shape(self, params, input_shapes):
        return input_shapes[0]


class Liar(NodeType):
    """Claims to keep the shape; its Keras lowering doubles the last axis."""

    name = "Liar"

    def output_shape(self, params, input_shapes):
        return input_shapes[0]


def lower_scale(node, inputs):
    import keras

    return keras.layers.Rescaling(scale=node.params.factor, name=node.name)(inputs[0])


def lower_exploding(node, inputs):
    raise RuntimeError("kaboom")


def lower_liar(node, inputs):
    import keras

    return keras.layers.Concatenate(name=node.name)([inputs[0], inputs[0]])


class LayersPlugin:
    @hookimpl
    def register_node_types(self, register):
        for node_type in (Scale(), NoKeras(), Exploding(), Liar()):
            register(node_type)

    @hookimpl
    def register_activations(self, register):
        register(Activation("tanh_shrink", description="x - tanh(x)"))
        register(Activation("sign", differentiable=False, description="a step"))

    @hookimpl
    def register_lowerings(self, register):
        register("keras", "node", "Scale", lower_scale)
        register(
            "keras",
            "import",
            "Rescaling",
            lambda layer: {"type": "Scale", "factor": float(layer.get_config()["scale"])},
        )
        register("keras", "node", "Exploding", lower_exploding)
        register("keras", "node", "Liar", lower_liar)
        register("keras", "activation", "tanh_shrink", lambda name: name)
        register("numpy", "node", "NoKeras", object())


@pytest.fixture(scope="module")
def registry():
    return load_registry([("test-layers", LayersPlugin())], entry_points=False)


def spec_text(node_lines: str, optimizer: str = "{type: sgd}") -> str:
    return textwrap.dedent(
        """\
        specforge: 1
        name: plugged
        inputs:
          - {name: x, shape: [4]}
        nodes:
        %s
        outputs:
          - {node: out, loss: mse}
        optimizer: %s
        """
    ) % (textwrap.indent(textwrap.dedent(node_lines).rstrip("\n"), "  "), optimizer)


def checked(text: str, registry):
    result = check_text(text, "plugged.yaml", registry=registry)
    assert result.ok, result.diagnostics
    return result


# ---------------------------------------------------------------- plugins lower like built-ins


def test_a_plugins_node_type_and_activation_lower_through_the_registry(registry):
    keras = pytest.importorskip("keras")
    import specforge

    result = checked(
        spec_text(
            """\
            - {name: hidden, type: Dense, units: 3, activation: tanh_shrink}
            - {name: out, type: Scale, factor: 0.5}
            """
        ),
        registry,
    )
    model = specforge.build(result, registry=registry, seed=0)
    assert isinstance(model.get_layer("out"), keras.layers.Rescaling)
    assert model.get_layer("out").get_config()["scale"] == 0.5
    assert model.get_layer("hidden").get_config()["activation"] == "tanh_shrink"


def test_a_node_type_without_a_keras_lowering_is_a_diagnostic_naming_node_and_line(registry):
    pytest.importorskip("keras")
    import specforge

    text = spec_text(
        """\
        - {name: hidden, type: Dense, units: 4}
        - {name: out, type: NoKeras}
        """
    )
    result = checked(text, registry)
    with pytest.raises(SpecError) as info:
        specforge.build(result, registry=registry)
    (d,) = info.value.diagnostics
    assert d.code == "unsupported-by-backend"
    assert "node 'out'" in d.message and "'NoKeras'" in d.message
    line = text.splitlines()[6]
    assert (d.span.line, d.span.column) == (7, line.index("NoKeras") + 1)
    assert "--backend numpy" in d.help


def test_a_step_activation_is_refused_for_keras_training_with_a_hint(tmp_path):
    pytest.importorskip("keras")
    import specforge

    path = tmp_path / "step.yaml"
    path.write_text(
        spec_text(
            "- {name: out, type: Dense, units: 1, activation: heaviside}\n", "{type: perceptron}"
        )
    )
    result = check_file(path)
    with pytest.raises(SpecError) as info:
        specforge.build(result)
    codes = {d.code: d for d in info.value.diagnostics}
    assert set(codes) == {"not-differentiable", "unsupported-by-backend"}
    step = codes["not-differentiable"]
    assert (
        "heaviside" in step.message and "--backend numpy" in step.help and "perceptron" in step.help
    )
    assert step.span.line == 6
    assert "optimizer 'perceptron'" in codes["unsupported-by-backend"].message
    assert codes["unsupported-by-backend"].span.line == 9


def test_a_plugins_non_differentiable_activation_is_refused_too(registry):
    pytest.importorskip("keras")
    import specforge

    result = checked(
        spec_text("- {name: out, type: Dense, units: 1, activation: sign}\n"), registry
    )
    with pytest.raises(SpecError) as info:
        specforge.build(result, registry=registry)
    assert [d.code for d in info.value.diagnostics] == ["not-differentiable"]


def test_a_lowering_that_raises_becomes_a_diagnostic_naming_the_plugin(registry):
    pytest.importorskip("keras")
    import specforge

    result = checked(spec_text("- {name: out, type: Exploding}\n"), registry)
    with pytest.raises(SpecError) as info:
        specforge.build(result, registry=registry)
    (d,) = info.value.diagnostics
    assert d.code == "backend-error"
    assert "node 'out' (Exploding)" in d.message and "RuntimeError: kaboom" in d.message
    assert "test-layers" in d.help
    assert d.span.line == 6


def test_a_lowering_whose_shape_disagrees_with_shape_inference_is_caught(registry):
    pytest.importorskip("keras")
    import specforge

    result = checked(spec_text("- {name: out, type: Liar}\n"), registry)
    with pytest.raises(SpecError) as info:
        specforge.build(result, registry=registry)
    (d,) = info.value.diagnostics
    assert d.code == "backend-error"
    assert "(None, 8)" in d.message and "(None, 4)" in d.message


def test_unsupported_things_are_all_reported_at_once_without_keras():
    """check() runs on the IR alone: it needs no framework."""
    from specforge.keras_backend import check
    from specforge.plugin import Loss, Metric

    class Extra:
        @hookimpl
        def register_losses(self, register):
            register(Loss("fancy_loss"))

        @hookimpl
        def register_metrics(self, register):
            register(Metric("fancy_metric"))

    reg = load_registry([("extra", Extra()), ("test-layers", LayersPlugin())], entry_points=False)
    text = spec_text(
        """\
        - {name: a, type: NoKeras}
        - {name: out, type: Dense, units: 1, activation: sign}
        """
    ).replace("loss: mse}", "loss: fancy_loss, metrics: [mae, fancy_metric]}")
    result = check_text(text, "many.yaml", registry=reg)
    assert result.ok, result.diagnostics
    diags = check(result.graph, registry=reg, document=result.document)
    assert [(d.code, d.span.line) for d in diags] == [
        ("unsupported-by-backend", 6),
        ("not-differentiable", 7),
        ("unsupported-by-backend", 9),
        ("unsupported-by-backend", 9),
    ]
    assert "fancy_loss" in diags[2].message and "fancy_metric" in diags[3].message


def test_every_builtin_name_has_a_keras_lowering_except_the_step_function_and_the_perceptron():
    from specforge.registry import get_registry

    reg = get_registry()
    missing = {
        (kind, name)
        for kind, registry_kind in (
            ("node", "node_type"),
            ("activation", "activation"),
            ("loss", "loss"),
            ("metric", "metric"),
            ("optimizer", "optimizer"),
            ("initializer", "initializer"),
        )
        for name in reg.names(registry_kind)
        if reg.owner.get((registry_kind, name), "").startswith("specforge.")
        and reg.lowering("keras", kind, name) is None
    }
    assert missing == {("activation", "heaviside"), ("optimizer", "perceptron")}


def test_every_builtin_keras_lowering_is_a_name_keras_knows():
    keras = pytest.importorskip("keras")
    from specforge.default_plugins.keras_names import names

    for name in names("activation"):
        keras.activations.get(name)
    for name in names("initializer"):
        keras.initializers.get(name)
    for name in names("loss"):
        keras.losses.get(name)
    for name in names("metric"):
        keras.metrics.get(name)


# ---------------------------------------------------------------- no framework at validate time


def test_validate_imports_neither_keras_nor_tensorflow():
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "specforge", "validate", "specs/wide_deep.yaml"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    modules = [
        line.rsplit("|", 1)[-1].strip()
        for line in proc.stderr.splitlines()
        if line.startswith("import time:")
    ]
    assert modules, proc.stderr
    assert [m for m in modules if m.split(".")[0] in ("keras", "tensorflow")] == []


def test_importing_specforge_and_its_keras_plugin_does_not_import_keras():
    code = (
        "import sys, specforge, specforge.builder, specforge.keras_backend.decompile, "
        "specforge.default_plugins.keras_names, specforge.default_plugins.dense, "
        "specforge.default_plugins.backends, specforge.cli.build, specforge.cli.import_;"
        "specforge.get_registry();"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('keras', 'tensorflow')))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def test_a_backend_rule_replaces_only_the_coverage_diagnostic_about_the_same_name():
    """Without the document every diagnostic of a node sits at the node: the rule still tells them apart."""
    from specforge.keras_backend import check
    from specforge.plugin import Initializer

    class Extra:
        @hookimpl
        def register_initializers(self, register):
            register(Initializer("fancy_init"))

    reg = load_registry([("extra", Extra()), ("test-layers", LayersPlugin())], entry_points=False)
    text = spec_text(
        "- {name: out, type: Dense, units: 1, activation: sign, kernel_initializer: fancy_init}\n"
    )
    result = check_text(text, "both.yaml", registry=reg)
    assert result.ok, result.diagnostics
    diags = check(result.graph, registry=reg)  # no document: one span per node
    assert [(d.code, d.span) for d in diags] == [
        ("unsupported-by-backend", result.graph.node("out").span),
        ("not-differentiable", result.graph.node("out").span),
    ]
    assert "initializer 'fancy_init' has no Keras lowering" in diags[0].message
    assert "activation 'sign' is a step function" in diags[1].message
