"""Built-in plugin: the Keras lowerings of the built-in names (activations, losses, ...).

Every name of the vocabulary tables (:mod:`specforge.default_plugins.vocabulary`)
is registered, minus :data:`UNSUPPORTED`. The vocabulary's names are Keras's own
identifiers, so each lowering is the name itself: a saved model then loads with
plain ``keras.models.load_model`` and no custom objects. Optimizers become the
Keras class with the spec's parameters as keyword arguments.
"""

from __future__ import annotations

from typing import Any

from specforge.plugin import hookimpl

from .vocabulary import TABLES

SPECFORGE_API = 2

#: Names Keras has no lowering for: the step function (not a Keras activation, and
#: Keras could not train through it) and the perceptron rule (not gradient descent).
UNSUPPORTED: dict[str, frozenset[str]] = {
    "activation": frozenset({"heaviside"}),
    "optimizer": frozenset({"perceptron"}),
}

#: Optimizer name -> Keras optimizer class name.
OPTIMIZER_CLASSES = {"sgd": "SGD", "adam": "Adam", "rmsprop": "RMSprop"}


def names(kind: str) -> list[str]:
    """The built-in names of ``kind`` that this plugin lowers for Keras."""
    return [item.name for item in TABLES[kind] if item.name not in UNSUPPORTED.get(kind, ())]


def lower_optimizer(config: Any) -> Any:
    """A new Keras optimizer: the spec's parameters are its keyword arguments."""
    import keras

    cls = getattr(keras.optimizers, OPTIMIZER_CLASSES[config.type])
    return cls(**config.params.model_dump())


@hookimpl
def register_lowerings(register):
    for kind in TABLES:
        for name in names(kind):
            register("keras", kind, name, lower_optimizer if kind == "optimizer" else name)
