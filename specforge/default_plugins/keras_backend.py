"""Built-in plugin: the Keras backend, and how it lowers the built-in names.

It uses only the public hooks, exactly as a third-party plugin would: the
backend through ``register_backends``, and a Keras lowering for each built-in
node type, activation, initializer, loss, metric and optimizer through
``register_lowerings`` (the contract is in :mod:`specforge.keras_backend`).
Keras is imported inside the lowerings only, when a model is built.
"""

from __future__ import annotations

from typing import Any

from specforge.keras_backend import (
    Unsupported,
    activation,
    activation_name,
    initializer,
    initializer_name,
)
from specforge.keras_backend.backend import KerasBackend
from specforge.plugin import hookimpl

# ---------------------------------------------------------------- node types


def lower_dense(node: Any, inputs: list[Any]) -> Any:
    import keras

    p = node.params
    layer = keras.layers.Dense(
        p.units,
        activation=activation(p.activation),
        use_bias=p.use_bias,
        kernel_initializer=initializer(p.kernel_initializer),
        bias_initializer=initializer(p.bias_initializer),
        name=node.name,
    )
    return layer(inputs[0])


def lower_flatten(node: Any, inputs: list[Any]) -> Any:
    import keras

    return keras.layers.Flatten(name=node.name)(inputs[0])


def lower_concatenate(node: Any, inputs: list[Any]) -> Any:
    import keras

    return keras.layers.Concatenate(axis=node.params.axis, name=node.name)(list(inputs))


NODE_LOWERINGS = {"Dense": lower_dense, "Flatten": lower_flatten, "Concatenate": lower_concatenate}


# ---------------------------------------------------------------- import rules (Keras layer -> spec node)


def import_dense(layer: Any) -> dict[str, Any]:
    c = layer.get_config()
    return {
        "type": "Dense",
        "units": c["units"],
        "activation": activation_name(c["activation"]),
        "use_bias": c["use_bias"],
        "kernel_initializer": initializer_name(c["kernel_initializer"]),
        "bias_initializer": initializer_name(c["bias_initializer"]),
    }


def import_flatten(layer: Any) -> dict[str, Any]:
    if layer.get_config().get("data_format", "channels_last") != "channels_last":
        raise Unsupported("Flatten with data_format='channels_first' has no spec equivalent")
    return {"type": "Flatten"}


def import_concatenate(layer: Any) -> dict[str, Any]:
    return {"type": "Concatenate", "axis": layer.get_config()["axis"]}


IMPORT_RULES = {"Dense": import_dense, "Flatten": import_flatten, "Concatenate": import_concatenate}


# ---------------------------------------------------------------- names (Keras's own identifiers)

#: Every built-in activation but ``heaviside``: a step function is not a Keras
#: activation, and Keras could not train through it anyway.
ACTIVATIONS = (
    "linear",
    "relu",
    "sigmoid",
    "tanh",
    "softmax",
    "elu",
    "selu",
    "softplus",
    "softsign",
    "silu",
    "gelu",
    "exponential",
    "hard_sigmoid",
    "leaky_relu",
    "relu6",
    "mish",
    "log_softmax",
)
INITIALIZERS = (
    "glorot_uniform",
    "glorot_normal",
    "he_normal",
    "he_uniform",
    "lecun_normal",
    "lecun_uniform",
    "zeros",
    "ones",
    "random_normal",
    "random_uniform",
    "truncated_normal",
)
LOSSES = (
    "mean_squared_error",
    "mean_absolute_error",
    "mean_absolute_percentage_error",
    "mean_squared_logarithmic_error",
    "huber",
    "binary_crossentropy",
    "categorical_crossentropy",
    "sparse_categorical_crossentropy",
)
#: ``accuracy`` stays the string: Keras picks the accuracy that fits the output's loss.
METRICS = (
    "accuracy",
    "binary_accuracy",
    "categorical_accuracy",
    "sparse_categorical_accuracy",
    "mean_squared_error",
    "mean_absolute_error",
    "root_mean_squared_error",
    "mean_absolute_percentage_error",
)


def lower_optimizer(config: Any) -> Any:
    """SGD, Adam, RMSprop: the spec's parameters are Keras's keyword arguments."""
    import keras

    classes = {
        "sgd": keras.optimizers.SGD,
        "adam": keras.optimizers.Adam,
        "rmsprop": keras.optimizers.RMSprop,
    }
    return classes[config.type](**config.params.model_dump())


OPTIMIZERS = ("sgd", "adam", "rmsprop")


# ---------------------------------------------------------------- hooks


@hookimpl
def register_backends(register):
    register(KerasBackend())


@hookimpl
def register_lowerings(register):
    for name, fn in NODE_LOWERINGS.items():
        register("keras", "node", name, fn)
    for name, fn in IMPORT_RULES.items():
        register("keras", "import", name, fn)
    for name in ACTIVATIONS:
        register("keras", "activation", name, name)
    for name in INITIALIZERS:
        register("keras", "initializer", name, name)
    for name in LOSSES:
        register("keras", "loss", name, name)
    for name in METRICS:
        register("keras", "metric", name, name)
    for name in OPTIMIZERS:
        register("keras", "optimizer", name, lower_optimizer)
