"""Built-in plugin: the names a spec can use (activations, losses, metrics, optimizers, initializers).

The only table of built-in names per kind. The names and aliases are Keras's, so
a spec reads like the Keras code it replaces. Each backend registers its
lowerings by iterating these tables, minus the names it declares unsupported
(:mod:`specforge.default_plugins.keras_names`,
:mod:`specforge.default_plugins.numpy_names`).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from specforge.plugin import (
    Activation,
    Initializer,
    Loss,
    Metric,
    Optimizer,
    Params,
    hookimpl,
)

SPECFORGE_API = 2

LearningRate = Annotated[float, Field(gt=0, allow_inf_nan=False)]
Fraction = Annotated[float, Field(ge=0, lt=1, allow_inf_nan=False)]
Epsilon = Annotated[float, Field(gt=0, allow_inf_nan=False)]

ACTIVATIONS = [
    Activation("linear", ("identity", "None"), description="f(x) = x"),
    Activation("relu", description="max(x, 0)"),
    Activation("sigmoid", ("logistic",), description="1 / (1 + exp(-x))"),
    Activation("tanh", description="hyperbolic tangent"),
    Activation("softmax", description="normalised exponentials over the last axis"),
    Activation("elu", description="exponential linear unit (alpha 1)"),
    Activation("selu", description="scaled exponential linear unit"),
    Activation("softplus", description="log(1 + exp(x))"),
    Activation("softsign", description="x / (1 + |x|)"),
    Activation("silu", ("swish",), description="x * sigmoid(x)"),
    Activation("gelu", description="Gaussian error linear unit (exact erf form)"),
    Activation("exponential", description="exp(x)"),
    Activation("hard_sigmoid", description="relu6(x + 3) / 6"),
    Activation("leaky_relu", description="x if x > 0 else 0.2 x"),
    Activation("relu6", description="min(max(x, 0), 6)"),
    Activation("mish", description="x * tanh(softplus(x))"),
    Activation("log_softmax", description="log of softmax over the last axis"),
    Activation(
        "heaviside",
        ("step",),
        differentiable=False,
        description="step function (1 if x >= 0 else 0), the perceptron's; trains only with the perceptron rule",
    ),
]

LOSSES = [
    Loss("mean_squared_error", ("mse", "MSE", "MeanSquaredError"), "regression"),
    Loss("mean_absolute_error", ("mae", "MAE", "MeanAbsoluteError"), "regression"),
    Loss("mean_absolute_percentage_error", ("mape", "MAPE"), "regression"),
    Loss("mean_squared_logarithmic_error", ("msle", "MSLE"), "regression"),
    Loss("huber", ("huber_loss", "Huber"), "regression, delta 1"),
    Loss(
        "binary_crossentropy",
        ("bce", "BinaryCrossentropy"),
        "two classes, sigmoid probabilities",
        targets="binary",
    ),
    Loss(
        "categorical_crossentropy",
        ("cce", "CategoricalCrossentropy"),
        "one-hot targets, probabilities",
        targets="one_hot",
    ),
    Loss(
        "sparse_categorical_crossentropy",
        ("scce", "SparseCategoricalCrossentropy"),
        "integer class targets, probabilities",
        targets="class_indices",
    ),
]

METRICS = [
    Metric("accuracy", ("acc",), "the accuracy that fits the output's loss"),
    Metric("binary_accuracy", description="threshold 0.5"),
    Metric("categorical_accuracy"),
    Metric("sparse_categorical_accuracy"),
    Metric("mean_squared_error", ("mse",)),
    Metric("mean_absolute_error", ("mae",)),
    Metric("root_mean_squared_error", ("rmse",)),
    Metric("mean_absolute_percentage_error", ("mape",)),
]


_LR = "Step size of each update."
_EPS = "Small constant added to denominators for numerical stability."


class SGDParams(Params):
    learning_rate: LearningRate = Field(0.01, description=_LR)
    momentum: Fraction = Field(
        0.0, description="Fraction of the previous update added to the next one (0: none)."
    )
    nesterov: bool = Field(False, description="Use Nesterov momentum.")


class AdamParams(Params):
    learning_rate: LearningRate = Field(0.001, description=_LR)
    beta_1: Fraction = Field(0.9, description="Decay rate of the first-moment (mean) estimates.")
    beta_2: Fraction = Field(
        0.999, description="Decay rate of the second-moment (variance) estimates."
    )
    epsilon: Epsilon = Field(1e-7, description=_EPS)
    amsgrad: bool = Field(False, description="Use the AMSGrad variant.")


class RMSpropParams(Params):
    learning_rate: LearningRate = Field(0.001, description=_LR)
    rho: Fraction = Field(0.9, description="Decay rate of the moving average of squared gradients.")
    momentum: Fraction = Field(
        0.0, description="Fraction of the previous update added to the next one (0: none)."
    )
    epsilon: Epsilon = Field(1e-7, description=_EPS)
    centered: bool = Field(
        False, description="Normalise by the estimated variance of the gradient."
    )


class PerceptronParams(Params):
    learning_rate: LearningRate = Field(1.0, description=_LR)


OPTIMIZERS = [
    Optimizer(
        "sgd",
        SGDParams,
        ("SGD",),
        description="stochastic gradient descent, optional (Nesterov) momentum",
    ),
    Optimizer("adam", AdamParams, ("Adam",), description="Adam"),
    Optimizer("rmsprop", RMSpropParams, ("RMSprop", "RMSProp"), description="RMSprop"),
    Optimizer(
        "perceptron",
        PerceptronParams,
        description="Rosenblatt's perceptron rule (NumPy backend; heaviside outputs only)",
    ),
]

INITIALIZERS = [
    Initializer("glorot_uniform", ("GlorotUniform", "xavier_uniform")),
    Initializer("glorot_normal", ("GlorotNormal", "xavier_normal")),
    Initializer("he_normal", ("HeNormal",)),
    Initializer("he_uniform", ("HeUniform",)),
    Initializer("lecun_normal", ("LecunNormal",)),
    Initializer("lecun_uniform", ("LecunUniform",)),
    Initializer("zeros", ("Zeros", "zero")),
    Initializer("ones", ("Ones", "one")),
    Initializer("random_normal", ("RandomNormal",)),
    Initializer("random_uniform", ("RandomUniform",)),
    Initializer("truncated_normal", ("TruncatedNormal",)),
]

#: Registry kind -> the built-in names of that kind (what backends register lowerings for).
TABLES = {
    "activation": ACTIVATIONS,
    "loss": LOSSES,
    "metric": METRICS,
    "optimizer": OPTIMIZERS,
    "initializer": INITIALIZERS,
}


@hookimpl
def register_activations(register):
    for item in ACTIVATIONS:
        register(item)


@hookimpl
def register_losses(register):
    for item in LOSSES:
        register(item)


@hookimpl
def register_metrics(register):
    for item in METRICS:
        register(item)


@hookimpl
def register_optimizers(register):
    for item in OPTIMIZERS:
        register(item)


@hookimpl
def register_initializers(register):
    for item in INITIALIZERS:
        register(item)
