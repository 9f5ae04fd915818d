"""The reference chapter's models, written by hand in Keras as the chapter writes them.

Hands-On Machine Learning, chapter 10 (``shared/reference``): the specs in
``specs/`` must compile to exactly these models (``tests/backends/
test_keras_fidelity.py``), and ``benchmarks/keras_overhead.py`` times specforge
against them. A fixture of specforge's own tests and benchmarks, not library
code; Keras is imported only when a model is built.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

#: Parameter counts the chapter prints for each model.
PARAM_COUNTS = {
    "fashion_mnist_mlp": 266_610,
    "california_mlp": 3_471,
    "wide_deep": 3_479,
    "wide_deep_two_inputs": 3_416,
    "wide_deep_aux": 3_517,
}


def _keras() -> Any:
    import keras

    return keras


def fashion_mnist_mlp() -> Any:
    keras = _keras()
    model = keras.models.Sequential()
    model.add(keras.layers.Flatten(input_shape=[28, 28]))
    model.add(keras.layers.Dense(300, activation="relu", name="dense_1"))
    model.add(keras.layers.Dense(100, activation="relu", name="dense_2"))
    model.add(keras.layers.Dense(10, activation="softmax", name="dense_3"))
    model.compile(loss="sparse_categorical_crossentropy", optimizer="sgd", metrics=["accuracy"])
    return model


def california_mlp() -> Any:
    keras = _keras()
    model = keras.models.Sequential(
        [
            keras.layers.Dense(30, activation="relu", input_shape=(8,)),
            keras.layers.Dense(100, activation="relu"),
            keras.layers.Dense(1, activation="relu"),
        ]
    )
    model.compile(loss="mean_squared_error", optimizer="sgd")
    return model


def wide_deep() -> Any:
    keras = _keras()
    input_ = keras.layers.Input(shape=(8,))
    hidden1 = keras.layers.Dense(30, activation="relu")(input_)
    hidden2 = keras.layers.Dense(100, activation="relu")(hidden1)
    concat = keras.layers.Concatenate()([input_, hidden2])
    output = keras.layers.Dense(1, activation="relu")(concat)
    model = keras.Model(inputs=[input_], outputs=[output])
    model.compile(loss="mean_squared_error", optimizer="sgd")
    return model


def wide_deep_two_inputs() -> Any:
    keras = _keras()
    input_A = keras.layers.Input(shape=[5], name="wide_input")
    input_B = keras.layers.Input(shape=[6], name="deep_input")
    hidden1 = keras.layers.Dense(30, activation="relu")(input_B)
    hidden2 = keras.layers.Dense(100, activation="relu")(hidden1)
    concat = keras.layers.concatenate([input_A, hidden2])
    output = keras.layers.Dense(1, name="output")(concat)
    model = keras.Model(inputs=[input_A, input_B], outputs=[output])
    # The chapter writes SGD(lr=1e-3): Keras 3 spells the argument learning_rate.
    model.compile(loss="mse", optimizer=keras.optimizers.SGD(learning_rate=1e-3))
    return model


def wide_deep_aux() -> Any:
    keras = _keras()
    input_A = keras.layers.Input(shape=[5], name="wide_input")
    input_B = keras.layers.Input(shape=[6], name="deep_input")
    hidden1 = keras.layers.Dense(30, activation="relu")(input_B)
    hidden2 = keras.layers.Dense(100, activation="relu")(hidden1)
    concat = keras.layers.concatenate([input_A, hidden2])
    output = keras.layers.Dense(1, name="output")(concat)
    aux_output = keras.layers.Dense(1, name="aux_output")(hidden2)
    model = keras.Model(inputs=[input_A, input_B], outputs=[output, aux_output])
    model.compile(loss=["mse", "mse"], loss_weights=[0.9, 0.1], optimizer="sgd")
    return model


#: Spec name (``specs/<name>.yaml``) -> the function building the chapter's model.
MODELS: dict[str, Callable[[], Any]] = {
    "fashion_mnist_mlp": fashion_mnist_mlp,
    "california_mlp": california_mlp,
    "wide_deep": wide_deep,
    "wide_deep_two_inputs": wide_deep_two_inputs,
    "wide_deep_aux": wide_deep_aux,
}


def hand_written(name: str) -> Any:
    """The chapter's compiled model ``name``, built as the chapter builds it."""
    with warnings.catch_warnings():
        warnings.simplefilter(
            "ignore"
        )  # Keras 3 prefers Input() over input_shape=, as the chapter writes it
        return MODELS[name]()
