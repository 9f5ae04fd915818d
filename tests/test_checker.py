"""The checker: wiring rules, name normalisation, and reporting every problem at once."""

from __future__ import annotations

import textwrap

import pytest

from specforge.api import check_data, check_text, resolve
from specforge.diagnostics import SpecError


def check(text: str):
    return check_text(textwrap.dedent(text).lstrip())


def codes(result) -> list[tuple[str, int, int]]:
    return [(d.code, d.span.line, d.span.column) for d in result.diagnostics]


MLP = """
specforge: 1
name: mlp
inputs:
  - {name: x, shape: [8]}
nodes:
  - {name: h1, type: Dense, units: 30, activation: relu}
  - {name: h2, type: Dense, units: 100, activation: relu}
  - {name: out, type: Dense, units: 1}
outputs:
  - {node: out, loss: mse}
optimizer: {type: sgd}
"""


def test_a_node_without_inputs_reads_the_node_above_and_the_first_reads_the_only_input():
    graph = check(MLP).graph
    assert [(n.name, n.inputs) for n in graph.nodes] == [
        ("h1", ("x",)),
        ("h2", ("h1",)),
        ("out", ("h2",)),
    ]


def test_inputs_may_be_a_single_name():
    result = check(
        MLP.replace("units: 100, activation: relu}", "units: 100, activation: relu, inputs: h1}")
    )
    assert result.ok
    assert result.graph.node("h2").inputs == ("h1",)


def test_defaults_are_filled_in_and_aliases_normalised():
    text = MLP.replace(
        "activation: relu}", "activation: logistic, kernel_initializer: HeNormal}", 1
    )
    text = text.replace("loss: mse}", "loss: mse, metrics: [mae]}").replace(
        "{type: sgd}", "{type: Adam, learning_rate: 1e-3}"
    )
    graph = check(text).graph
    h1 = graph.node("h1")
    assert (h1.params.activation, h1.params.kernel_initializer, h1.params.bias_initializer) == (
        "sigmoid",
        "he_normal",
        "zeros",
    )
    assert graph.node("out").params.activation == "linear"
    assert graph.node("out").params.use_bias is True
    [out] = graph.outputs
    assert (out.loss, out.weight, out.metrics) == (
        "mean_squared_error",
        1.0,
        ("mean_absolute_error",),
    )
    assert graph.optimizer.type == "adam"
    assert graph.optimizer.learning_rate == 0.001
    assert graph.optimizer.as_dict()["beta_1"] == 0.9


def test_the_optimizer_default_learning_rate_is_keras_s():
    assert check(MLP).graph.optimizer.learning_rate == 0.01


def test_a_valid_spec_has_no_diagnostics_and_exact_counts():
    result = check(MLP)
    assert result.ok and result.diagnostics == []
    assert result.graph.total_params == 8 * 30 + 30 + 30 * 100 + 100 + 100 + 1 == 3471


def test_every_problem_is_reported_in_one_run():
    result = check(
        """
        specforge: 1
        name: m
        inputs:
          - {name: x, shape: [8]}
          - {name: img, shape: [28, 28]}
        nodes:
          - {name: h1, type: Dense, units: "30", activation: rleu, inputs: [x]}
          - {name: h2, type: Dense, units: 100, inputs: [hh1]}
          - {name: c, type: Concatenate, inputs: [x, img]}
          - {name: a, type: Dense, units: 4, inputs: [b]}
          - {name: b, type: Dense, units: 4, inputs: [a]}
          - {name: out, type: Dense, units: 1, inputs: [h2]}
        outputs:
          - {node: out, loss: mse}
          - {node: nope, loss: msee}
        optimizer: {type: sgd, learning_rate: .nan}
        """
    )
    assert not result.ok and result.graph is None
    assert codes(result) == [
        ("wrong-type", 7, 36),
        ("unknown-activation", 7, 54),
        ("unknown-reference", 8, 50),
        ("shape-mismatch", 9, 42),
        ("cycle", 10, 46),
        ("unknown-output", 15, 12),
        ("unknown-loss", 15, 24),
        ("invalid-value", 16, 39),
    ]


def test_diagnostics_are_sorted_by_position():
    result = check(MLP.replace("loss: mse", "loss: msee").replace("units: 30", "units: -1"))
    positions = [(d.span.line, d.span.column) for d in result.diagnostics]
    assert positions == sorted(positions) and len(positions) == 2


def test_a_broken_node_does_not_cascade_into_its_readers():
    result = check(MLP.replace("type: Dense, units: 30", "type: Dens, units: 30"))
    assert [c for c, _, _ in codes(result)] == ["unknown-node-type"]


def test_a_broken_node_above_does_not_make_a_guess_for_the_next():
    result = check(
        MLP.replace("  - {name: h1, type: Dense, units: 30, activation: relu}", "  - just a string")
    )
    assert [c for c, _, _ in codes(result)] == ["wrong-type"]


def test_ambiguous_input_is_reported_once():
    text = MLP.replace(
        "  - {name: x, shape: [8]}", "  - {name: x, shape: [8]}\n  - {name: y, shape: [2]}"
    )
    assert [c for c, _, _ in codes(check(text))] == ["ambiguous-input"]


def test_unknown_reference_suggests_the_closest_name():
    result = check(MLP.replace("units: 1}", "units: 1, inputs: [h22]}"))
    [d] = result.diagnostics
    assert d.code == "unknown-reference"
    assert d.help == "did you mean 'h2'?"


def test_unknown_names_list_the_known_ones_when_nothing_is_close():
    result = check(MLP.replace("loss: mse", "loss: zzzzzz"))
    [d] = result.diagnostics
    assert d.help.startswith("known: ") and "mean_squared_error" in d.help


def test_duplicate_names_say_where_the_first_one_is():
    result = check(MLP.replace("name: h2,", "name: h1,"))
    [d] = result.diagnostics
    assert d.code == "duplicate-name"
    assert "first defined at line 6" in d.message


def test_dense_on_a_rank_2_input_is_a_warning_and_the_graph_still_resolves():
    text = MLP.replace("shape: [8]", "shape: [4, 8]")
    result = check(text)
    assert result.ok
    assert [(d.code, d.severity) for d in result.diagnostics] == [("dense-on-rank", "warning")]
    assert result.graph.node("out").output_shape == (4, 1)


def test_unused_nodes_and_inputs_are_warnings():
    text = MLP.replace(
        "  - {name: out,", "  - {name: probe, type: Dense, units: 2, inputs: [h1]}\n  - {name: out,"
    )
    text = text.replace(
        "  - {name: x, shape: [8]}", "  - {name: x, shape: [8]}\n  - {name: spare, shape: [1]}"
    )
    text = text.replace("activation: relu}", "activation: relu, inputs: [x]}", 1)
    result = check(text)
    assert result.ok
    assert [(d.code, d.severity) for d in result.diagnostics] == [
        ("unused-input", "warning"),
        ("unused-node", "warning"),
    ]


def test_losses_for_class_vectors_need_a_rank_1_output():
    text = MLP.replace("shape: [8]", "shape: [28, 28]").replace(
        "loss: mse", "loss: sparse_categorical_crossentropy"
    )
    result = check(text)
    assert [c for c, _, _ in codes(result) if c != "dense-on-rank"] == ["shape-mismatch"]


def test_check_data_accepts_python_data_without_positions():
    import yaml

    result = check_data(yaml.safe_load(MLP))
    assert result.ok and result.graph.total_params == 3471
    bad = check_data({"specforge": 1, "name": "m"})
    assert {d.code for d in bad.diagnostics} == {"missing-field"}
    assert all(d.span.line == 1 for d in bad.diagnostics)


def test_resolve_raises_spec_error_with_the_diagnostics(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(textwrap.dedent(MLP).replace("loss: mse", "loss: msee"))
    with pytest.raises(SpecError) as info:
        resolve(path)
    assert [d.code for d in info.value.diagnostics] == ["unknown-loss"]
    assert "bad.yaml:11:" in str(info.value)


def test_resolve_accepts_a_path_a_mapping_or_a_graph(tmp_path):
    path = tmp_path / "ok.yaml"
    path.write_text(textwrap.dedent(MLP))
    graph = resolve(path)
    assert resolve(graph) is graph
    assert resolve(graph.to_spec()).total_params == graph.total_params


def test_a_plain_string_where_a_mapping_belongs_gets_a_useful_hint():
    result = check(MLP.replace("optimizer: {type: sgd}", "optimizer: sgd"))
    [d] = result.diagnostics
    assert d.code == "wrong-type" and d.help == "write a mapping, for example {type: sgd}"


def test_quoted_numbers_get_a_remove_the_quotes_hint():
    [d] = check(MLP.replace("units: 30", 'units: "30"')).diagnostics
    assert d.help == "remove the quotes: 30"


def test_yaml_1_1_booleans_get_a_yaml_1_2_hint():
    [d] = check(MLP.replace("units: 1}", "units: 1, use_bias: off}")).diagnostics
    assert d.help == "specs are YAML 1.2, where 'off' is a string: write false"


def test_data_and_train_must_be_mappings_when_present():
    result = check(MLP + "data: [1]\ntrain: 5\n")
    assert [c for c, _, _ in codes(result)] == ["wrong-type", "wrong-type"]
