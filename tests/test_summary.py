"""summary_text / summary_data: the Keras-style table of a resolved graph."""

from __future__ import annotations

from pathlib import Path

from specforge.api import resolve
from specforge.summary import summary_data, summary_text

SPECS = Path(__file__).resolve().parent.parent / "specs"

WIDE_DEEP_AUX = """\
Model: "wide_deep_aux"
━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━
Node (type)           Output shape  Params  Inputs
━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━
wide_input (Input)    (None, 5)          0
deep_input (Input)    (None, 6)          0
hidden1 (Dense)       (None, 30)       210  deep_input
hidden2 (Dense)       (None, 100)    3,100  hidden1
concat (Concatenate)  (None, 105)        0  wide_input, hidden2
output (Dense)        (None, 1)        106  concat
aux_output (Dense)    (None, 1)        101  hidden2
━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━
Outputs: output (mean_squared_error, weight 0.9), aux_output (mean_squared_error, weight 0.1)
Optimizer: sgd (learning_rate 0.01)
Total params: 3,517
Trainable params: 3,517
Non-trainable params: 0"""


def test_summary_text_is_a_keras_style_table_with_inputs():
    assert summary_text(resolve(SPECS / "wide_deep_aux.yaml")) == WIDE_DEEP_AUX


def test_summary_text_lists_metrics_and_omits_the_weight_of_a_single_output():
    text = summary_text(resolve(SPECS / "fashion_mnist_mlp.yaml"))
    assert "Outputs: dense_3 (sparse_categorical_crossentropy, metrics accuracy)" in text
    assert "flatten (Flatten)  (None, 784)           0  image" in text


def test_summary_data_has_per_node_and_total_counts():
    data = summary_data(resolve(SPECS / "fashion_mnist_mlp.yaml"))
    assert data["total_params"] == data["trainable_params"] == 266_610
    assert data["non_trainable_params"] == 0
    assert [(n["name"], n["output_shape"], n["params"]) for n in data["nodes"]] == [
        ("flatten", [None, 784], 0),
        ("dense_1", [None, 300], 235_500),
        ("dense_2", [None, 100], 30_100),
        ("dense_3", [None, 10], 1_010),
    ]
    assert data["inputs"] == [{"name": "image", "shape": [None, 28, 28], "dtype": "float32"}]
    assert data["outputs"] == [
        {
            "node": "dense_3",
            "loss": "sparse_categorical_crossentropy",
            "weight": 1.0,
            "metrics": ["accuracy"],
        }
    ]
    assert data["optimizer"] == {
        "type": "sgd",
        "learning_rate": 0.01,
        "momentum": 0.0,
        "nesterov": False,
    }
