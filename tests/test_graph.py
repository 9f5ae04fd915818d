"""The Graph IR: topological order, static shapes, parameter counts, immutability."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from pydantic import ValidationError

from specforge.api import check_data, resolve
from specforge.ir import topological_order

SPECS = Path(__file__).resolve().parent.parent / "specs"


def test_topological_order_puts_each_name_after_what_it_reads():
    order, cycles = topological_order(
        ["c", "a", "b"], {"c": ["a", "b"], "b": ["a"], "a": ["input"]}
    )
    assert (order, cycles) == (["a", "b", "c"], [])


def test_topological_order_keeps_the_spec_order_between_independent_nodes():
    names = ["z", "y", "x", "w"]
    order, _ = topological_order(names, {"w": ["z"]})
    assert order == ["z", "y", "x", "w"]


def test_cycles_are_returned_once_each():
    order, cycles = topological_order(
        ["a", "b", "c", "d", "e", "f"],
        {"a": ["b"], "b": ["a"], "c": ["e"], "d": ["c"], "e": ["d"], "f": ["a"]},
    )
    assert order == []
    assert sorted(sorted(c) for c in cycles) == [["a", "b"], ["c", "d", "e"]]


def test_a_10000_node_chain_needs_no_recursion():
    names = [f"n{i}" for i in range(10_000)]
    edges = {names[i]: [names[i - 1]] for i in range(1, len(names))}
    order, cycles = topological_order(list(reversed(names)), edges)
    assert order == names and cycles == []


def test_nodes_are_in_topological_order_even_when_the_spec_is_not():
    spec = {
        "specforge": 1,
        "name": "m",
        "inputs": [{"name": "x", "shape": [3]}],
        "nodes": [
            {"name": "out", "type": "Dense", "units": 1, "inputs": ["h"]},
            {"name": "h", "type": "Dense", "units": 2, "inputs": ["x"]},
        ],
        "outputs": [{"node": "out", "loss": "mse"}],
        "optimizer": {"type": "sgd"},
    }
    graph = check_data(spec).graph
    assert [n.name for n in graph.nodes] == ["h", "out"]


def test_shapes_and_counts_of_the_wide_and_deep_model():
    graph = resolve(SPECS / "wide_deep_aux.yaml")
    assert graph.shape_of("wide_input") == (5,)
    assert [(n.name, n.input_shapes, n.output_shape, n.param_count.total) for n in graph.nodes] == [
        ("hidden1", ((6,),), (30,), 6 * 30 + 30),
        ("hidden2", ((30,),), (100,), 30 * 100 + 100),
        ("concat", ((5,), (100,)), (105,), 0),
        ("output", ((105,),), (1,), 106),
        ("aux_output", ((100,),), (1,), 101),
    ]
    assert graph.total_params == graph.trainable_params == 3517
    assert graph.non_trainable_params == 0
    assert [(o.node, o.loss, o.weight, o.shape) for o in graph.outputs] == [
        ("output", "mean_squared_error", 0.9, (1,)),
        ("aux_output", "mean_squared_error", 0.1, (1,)),
    ]


def test_flatten_and_a_dense_without_bias():
    spec = {
        "specforge": 1,
        "name": "m",
        "inputs": [{"name": "img", "shape": [28, 28]}],
        "nodes": [
            {"name": "f", "type": "Flatten"},
            {"name": "d", "type": "Dense", "units": 10, "use_bias": False},
        ],
        "outputs": [{"node": "d", "loss": "mse"}],
        "optimizer": {"type": "sgd"},
    }
    graph = check_data(spec).graph
    assert graph.node("f").output_shape == (784,)
    assert graph.node("d").param_count.total == 7840


def test_concatenate_on_a_middle_axis():
    spec = {
        "specforge": 1,
        "name": "m",
        "inputs": [{"name": "a", "shape": [4, 3]}, {"name": "b", "shape": [2, 3]}],
        "nodes": [
            {"name": "c", "type": "Concatenate", "inputs": ["a", "b"], "axis": 1},
            {"name": "f", "type": "Flatten"},
        ],
        "outputs": [{"node": "f", "loss": "mse"}],
        "optimizer": {"type": "sgd"},
    }
    graph = check_data(spec).graph
    assert graph.node("c").output_shape == (6, 3)
    assert graph.node("f").output_shape == (18,)


def test_the_graph_is_immutable():
    graph = resolve(SPECS / "wide_deep.yaml")
    with pytest.raises(dataclasses.FrozenInstanceError):
        graph.name = "other"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        graph.nodes[0].output_shape = (1,)  # type: ignore[misc]
    with pytest.raises(ValidationError, match="frozen"):
        graph.nodes[0].params.units = 3  # type: ignore[misc]
    assert isinstance(graph.nodes, tuple)


def test_to_spec_round_trips_to_the_same_graph(spec_path):
    graph = resolve(spec_path)
    again = resolve(graph.to_spec())
    assert again.nodes == graph.nodes
    assert again.outputs == graph.outputs
    assert again.optimizer == graph.optimizer
