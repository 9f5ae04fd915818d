"""Training and building never reseed the caller's global random generators."""

from __future__ import annotations

import random

import numpy as np
import pytest

import specforge
from specforge.training import train

SPEC = """\
specforge: 1
name: tiny
inputs: [{name: x, shape: [4]}]
nodes: [{name: out, type: Dense, units: 3, activation: softmax}]
outputs: [{node: out, loss: sparse_categorical_crossentropy, metrics: [accuracy]}]
optimizer: {type: sgd}
data: {dataset: {type: iris}, preprocess: [{type: standard_scaler}]}
train: {epochs: 2, seed: 7}
"""


def _draws() -> tuple[float, float]:
    return random.random(), float(np.random.random())


@pytest.mark.parametrize("backend", ["numpy", "keras"])
def test_train_leaves_the_callers_random_and_numpy_random_state_alone(backend, tmp_path):
    if backend == "keras":
        pytest.importorskip("keras")
    spec = tmp_path / "tiny.yaml"
    spec.write_text(SPEC)
    # A first run imports scikit-learn, matplotlib and the framework, some of which
    # draw from the globals when first imported: not specforge's doing.
    train(spec, backend=backend, out=tmp_path / "warm-up", progress="quiet")
    random.seed(123)
    np.random.seed(123)
    expected = _draws()
    random.seed(123)
    np.random.seed(123)
    train(spec, backend=backend, out=tmp_path / "run", progress="quiet")
    assert _draws() == expected


def test_keras_build_with_a_seed_leaves_the_callers_random_state_alone():
    pytest.importorskip("keras")
    specforge.build("specs/wide_deep.yaml", seed=1)  # imports keras and TensorFlow first
    random.seed(5)
    np.random.seed(5)
    expected = _draws()
    random.seed(5)
    np.random.seed(5)
    specforge.build("specs/wide_deep.yaml", seed=42)
    assert _draws() == expected
