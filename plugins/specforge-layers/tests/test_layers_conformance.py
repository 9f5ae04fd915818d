"""Each node type against Keras, with specforge's plugin author's kit (specforge.testing).

check_node_type compares shape inference and parameter counts with the Keras
layer the lowering builds, the NumPy forward and backward with Keras (within
1e-5, inference and training mode) and with finite differences, the NumPy
moving-statistics update with Keras's, and the Keras import rule round trip.
"""

from __future__ import annotations

import numpy as np
import pytest
import specforge_layers.plugin

from specforge import get_registry
from specforge.plugin import LoweringContext, ParamCount
from specforge.testing import check_node_type, check_plugin, resolve_node

pytestmark = pytest.mark.keras


def test_the_plugin_loads_cleanly_next_to_the_built_ins():
    reg = check_plugin(specforge_layers.plugin, "layers")
    assert {"Dropout", "Add", "BatchNormalization"} <= set(reg.node_types)
    for backend in ("keras", "numpy", "onnx"):
        for name in ("Dropout", "Add", "BatchNormalization"):
            assert reg.lowering(backend, "node", name) is not None, (backend, name)
    for keras_class in ("Dropout", "Add", "BatchNormalization"):
        assert reg.lowering("keras", "import", keras_class) is not None


@pytest.mark.parametrize(
    ("params", "shapes", "count"),
    [
        ({}, [(6,)], ParamCount(12, 12)),
        ({"momentum": 0.9, "epsilon": 0.01}, [(5,)], ParamCount(10, 10)),
        ({"axis": 1}, [(3, 4)], ParamCount(6, 6)),
        ({"axis": -1, "center": False}, [(2, 3)], ParamCount(3, 6)),
        ({"scale": False, "center": False}, [(4,)], ParamCount(0, 8)),
    ],
    ids=["default", "momentum-epsilon", "axis-1-of-rank-2", "no-center", "no-scale-no-center"],
)
def test_batch_normalization_conforms(params, shapes, count):
    report = check_node_type("BatchNormalization", params, shapes)
    assert report.node.param_count == count
    assert report.keras_params == (count.trainable, count.non_trainable)
    assert set(report.max_diff) >= {"forward inference", "forward training"}


def test_batch_normalization_has_four_times_the_features_half_of_them_frozen():
    report = check_node_type("BatchNormalization", {}, [(30,)], backends=())
    assert report.node.param_count == ParamCount(trainable=60, non_trainable=60)


@pytest.mark.parametrize("shapes", [[(4,), (4,)], [(3,), (3,), (3,)], [(2, 3), (2, 3)]])
def test_add_conforms(shapes):
    report = check_node_type("Add", {}, shapes)
    assert report.node.param_count == ParamCount()


def test_dropout_conforms_in_inference_and_at_rate_zero_in_training():
    check_node_type("Dropout", {"rate": 0.0}, [(5,)])
    report = check_node_type("Dropout", {"rate": 0.4, "seed": 7}, [(2, 3)], training=(False,))
    assert report.imported == {"type": "Dropout", "rate": 0.4, "seed": 7}


class KerasMask:
    """A stand-in for numpy's Generator whose draw reproduces a given keep-mask.

    Dropout keeps a value where ``rng.random(shape) >= rate``: 1.0 keeps, 0.0 drops.
    """

    def __init__(self, keep):
        self.keep = keep

    def random(self, shape):
        assert tuple(shape) == self.keep.shape
        return np.where(self.keep, 1.0, 0.0)


def test_dropout_in_training_matches_keras_given_keras_s_own_mask():
    import keras

    rate = 0.3
    x = (
        np.random.default_rng(0).uniform(0.5, 1.5, size=(64, 10)).astype(np.float32)
    )  # no zeros: the mask is readable
    k_out = keras.layers.Dropout(rate, seed=1)(x, training=True).numpy()
    keep = k_out != 0
    node = resolve_node("Dropout", {"rate": rate}, [(10,)])
    lowering = get_registry().lowering("numpy", "node", "Dropout")
    ctx = LoweringContext(get_registry(), "numpy")
    out, cache = lowering.forward(ctx, node, [], [x], True, rng=KerasMask(keep))
    np.testing.assert_allclose(out, k_out, rtol=1e-5, atol=1e-5)
    (grad,), _ = lowering.backward(ctx, node, [], cache, np.ones_like(x))
    np.testing.assert_allclose(grad, keep / (1 - rate), rtol=1e-6)


def test_dropout_in_training_drops_about_rate_and_keeps_the_expectation():
    node = resolve_node("Dropout", {"rate": 0.25}, [(1000,)])
    lowering = get_registry().lowering("numpy", "node", "Dropout")
    ctx = LoweringContext(get_registry(), "numpy")
    x = np.ones((100, 1000), np.float32)
    out, _ = lowering.forward(ctx, node, [], [x], True, rng=np.random.default_rng(0))
    dropped = np.mean(out == 0)
    assert abs(dropped - 0.25) < 0.01
    assert set(np.unique(out)) == {np.float32(0.0), np.float32(1 / 0.75)}
    assert abs(out.mean() - 1.0) < 0.02
    same, _ = lowering.forward(ctx, node, [], [x], False)
    assert same is x  # inference: the identity, no copy
