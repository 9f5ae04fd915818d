"""The public plugin API's names: one parameter-model name, the node-type warnings hook."""

from __future__ import annotations

import dataclasses

import pytest

from specforge.api import check_text
from specforge.default_plugins.dense import Dense, DenseParams
from specforge.plugin import NodeType, NodeWarning, NoParams, Optimizer, OptimizerParams, Params


class OwnParams(Params):
    k: int = 1


def test_params_model_and_the_api1_name_params_are_one_model():
    class New(NodeType):
        name = "New"
        params_model = OwnParams

    class Old(NodeType):
        name = "Old"
        Params = OwnParams

    class Plain(NodeType):
        name = "Plain"

    for cls in (New, Old):
        assert cls.params_model is OwnParams and cls.Params is OwnParams
    assert Plain.params_model is NoParams and Plain.Params is NoParams


def test_an_optimizer_has_a_params_model_and_no_default_learning_rate():
    opt = Optimizer("lion", OwnParams, ("Lion",), description="a lion")
    assert opt.params_model is OwnParams and opt.params is OwnParams  # params: API 1
    assert "default_learning_rate" not in {f.name for f in dataclasses.fields(Optimizer)}
    assert Optimizer("plain").params_model is OptimizerParams
    with pytest.raises(TypeError):  # the API-1 positional default learning rate
        Optimizer("sgd", OwnParams, (), 0.01, "stochastic")  # type: ignore[misc]


def test_node_types_have_no_warnings_by_default():
    class Quiet(NodeType):
        name = "Quiet"

        def output_shape(self, params, input_shapes):
            return input_shapes[0]

    assert list(Quiet().warnings(NoParams(), [(3, 4)])) == []


def test_dense_warns_on_an_input_of_rank_two_through_the_hook():
    params = DenseParams(units=8)
    assert list(Dense().warnings(params, [(4,)])) == []
    (warning,) = Dense().warnings(params, [(10, 4)])
    assert warning == NodeWarning(
        "dense-on-rank",
        "applies Dense to an input of shape (10, 4): it acts on the last axis only, "
        "giving output shape (10, 8)",
        "insert a Flatten node before it if each sample should be one vector",
    )
    # The checker's diagnostic reads "node '<name>' " + the hook's message.
    text = (
        "specforge: 1\nname: w\ninputs:\n  - {name: x, shape: [10, 4]}\nnodes:\n"
        "  - {name: hidden, type: Dense, units: 8}\n  - {name: f, type: Flatten}\n"
        "outputs:\n  - {node: f, loss: mse}\noptimizer: {type: sgd}\n"
    )
    (diag,) = [d for d in check_text(text, "w.yaml").diagnostics if d.code == warning.code]
    assert (diag.message, diag.help) == (f"node 'hidden' {warning.message}", warning.help)
