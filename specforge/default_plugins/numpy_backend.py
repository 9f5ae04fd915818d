"""Built-in backend ``numpy``: the NumPy reference backend, registered like any plugin.

It adds the backend (``--backend numpy``) and the NumPy lowerings of the built-in
vocabulary: node types Dense, Flatten and Concatenate, every activation, loss,
metric and initializer, and the optimizers sgd, adam, rmsprop and perceptron. A
third-party plugin teaches the NumPy backend a new node type with the same call,
``register("numpy", "node", "Dropout", DropoutLowering())``; the contract is in
:mod:`specforge.numpy_backend.lowering` and ``docs/numpy_backend.md``.

Loading this module imports no NumPy: every lowering is registered as a
:class:`LazyLowering` that imports :mod:`specforge.numpy_backend.builtins` the first
time it is used, because ``specforge validate`` loads every plugin and must stay fast.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping, Sequence
from typing import Any

from specforge.plugin import Backend, TrainingCallback, hookimpl

SPECFORGE_API = 1

NODE_TYPES = ("Dense", "Flatten", "Concatenate")

ACTIVATIONS = (
    "linear", "relu", "sigmoid", "tanh", "softmax", "elu", "selu", "softplus", "softsign",
    "silu", "gelu", "exponential", "hard_sigmoid", "leaky_relu", "relu6", "mish",
    "log_softmax", "heaviside",
)  # fmt: skip

LOSSES = (
    "mean_squared_error", "mean_absolute_error", "mean_absolute_percentage_error",
    "mean_squared_logarithmic_error", "huber", "binary_crossentropy",
    "categorical_crossentropy", "sparse_categorical_crossentropy",
)  # fmt: skip

METRICS = (
    "accuracy", "binary_accuracy", "categorical_accuracy", "sparse_categorical_accuracy",
    "mean_squared_error", "mean_absolute_error", "root_mean_squared_error",
    "mean_absolute_percentage_error",
)  # fmt: skip

OPTIMIZERS = ("sgd", "adam", "rmsprop", "perceptron")

INITIALIZERS = (
    "glorot_uniform", "glorot_normal", "he_normal", "he_uniform", "lecun_normal",
    "lecun_uniform", "zeros", "ones", "random_normal", "random_uniform", "truncated_normal",
)  # fmt: skip

#: lowering kind -> names this plugin registers for backend "numpy"
PROVIDES: dict[str, tuple[str, ...]] = {
    "node": NODE_TYPES,
    "activation": ACTIVATIONS,
    "loss": LOSSES,
    "metric": METRICS,
    "optimizer": OPTIMIZERS,
    "initializer": INITIALIZERS,
}


class LazyLowering:
    """Stands for ``LOWERINGS[kind][name]`` of a module, imported on first use.

    Attribute access and calls go to the real object, so the proxy satisfies the
    same contract; :meth:`resolve` returns the real object.
    """

    __slots__ = ("_kind", "_module", "_name", "_target")

    def __init__(self, kind: str, name: str, module: str = "specforge.numpy_backend.builtins"):
        self._kind, self._name, self._module = kind, name, module
        self._target: Any = None

    def resolve(self) -> Any:
        if self._target is None:
            self._target = importlib.import_module(self._module).LOWERINGS[self._kind][self._name]
        return self._target

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("__"):
            raise AttributeError(attr)
        return getattr(self.resolve(), attr)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.resolve()(*args, **kwargs)

    def __repr__(self) -> str:
        return f"LazyLowering({self._kind!r}, {self._name!r})"


class NumpyBackend(Backend):
    """The NumPy reference backend: small, exact, and fast enough on its own."""

    name = "numpy"
    description = (
        "NumPy reference backend: float32, hand-written gradients, agrees with Keras to 1e-5"
    )
    file_suffix = ".npz"
    requires = ("numpy",)

    def check(self, graph: Any, *, registry: Any = None, document: Any = None) -> list[Any]:
        """Diagnostics for what in ``graph`` the NumPy backend cannot build or train."""
        from specforge.numpy_backend.check import check

        return check(graph, registry=registry, document=document)

    def build(self, graph: Any, *, seed: int | None = None, registry: Any = None) -> Any:
        """Lower ``graph`` to a :class:`~specforge.numpy_backend.model.NumpyModel`.

        :raises SpecError: something in the graph has no NumPy lowering, or the
            optimizer cannot train it (diagnostics name the node and its line).
        """
        from specforge.numpy_backend.model import NumpyModel

        return NumpyModel(graph, seed=seed, registry=registry)

    def save(self, model: Any, path: str) -> None:
        from specforge.numpy_backend.io import save

        save(model, path)

    def load(self, path: str, graph: Any = None) -> Any:
        """Read a model written by :meth:`save` (``np.load(allow_pickle=False)``: no code runs).

        Without ``graph``, the resolved spec stored in the file is used.
        """
        from specforge.numpy_backend.io import load

        return load(path, graph)

    def fit(
        self,
        model: Any,
        x: Mapping[str, Any],
        y: Mapping[str, Any],
        *,
        epochs: int,
        batch_size: int = 32,
        shuffle: bool = True,
        seed: int | None = None,
        validation_data: tuple[Mapping[str, Any], Mapping[str, Any]] | None = None,
        callbacks: Sequence[TrainingCallback] = (),
    ) -> dict[str, list[float]]:
        return model.fit(
            x,
            y,
            epochs=epochs,
            batch_size=batch_size,
            shuffle=shuffle,
            seed=seed,
            validation_data=validation_data,
            callbacks=callbacks,
        )

    def evaluate(
        self, model: Any, x: Mapping[str, Any], y: Mapping[str, Any], *, batch_size: int = 32
    ) -> dict[str, float]:
        return model.evaluate(x, y, batch_size=batch_size)

    def predict(self, model: Any, x: Mapping[str, Any], *, batch_size: int = 32) -> dict[str, Any]:
        return model.predict(x, batch_size=batch_size)

    def get_weights(self, model: Any) -> dict[str, list[Any]]:
        return model.get_weights()

    def set_weights(self, model: Any, weights: Mapping[str, Sequence[Any]]) -> None:
        model.set_weights(weights)


@hookimpl
def register_backends(register):
    register(NumpyBackend())


@hookimpl
def register_lowerings(register):
    for kind, names in PROVIDES.items():
        for name in names:
            register("numpy", kind, name, LazyLowering(kind, name))
