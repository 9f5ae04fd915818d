"""The ``numpy`` backend: the NumPy reference, behind the :class:`~specforge.plugin.Backend` contract.

Importing this module imports no NumPy (``specforge validate`` loads every plugin
and must stay fast): the model, its file format and its rules are imported when
a method runs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from ..compat import registry_of_call
from ..lower import require_lowerable
from ..plugin import Backend, TrainingCallback


class NumpyBackend(Backend):
    """The NumPy reference backend: small, exact, and fast enough on its own."""

    name = "numpy"
    label = "NumPy"
    description = (
        "NumPy reference backend: float32, hand-written gradients, agrees with Keras to 1e-5"
    )
    file_suffix = ".npz"
    requires = ("numpy",)

    def check(self, graph: Any, *, registry: Any, document: Any = None) -> list[Any]:
        """What the NumPy backend cannot train: step functions under gradient descent, the perceptron's rules."""
        from .check import check

        return check(graph, registry=registry, document=document)

    def build(self, graph: Any, *, seed: int | None = None, registry: Any = None) -> Any:
        """Lower ``graph`` to a :class:`~specforge.numpy_backend.model.NumpyModel` with ``registry``'s lowerings.

        :raises SpecError: something in the graph has no NumPy lowering, or the
            optimizer cannot train it (diagnostics name the node and its line).
        """
        from .model import NumpyModel

        reg = registry_of_call(registry, "build")
        require_lowerable(graph, reg, self)
        return NumpyModel(graph, seed=seed, registry=reg)

    def save(self, model: Any, path: str) -> None:
        from .io import save

        save(model, path)

    def load(self, path: str, graph: Any = None, *, registry: Any = None) -> Any:
        """Read a model written by :meth:`save` (``np.load(allow_pickle=False)``: no code runs).

        Without ``graph``, the resolved spec stored in the file is used.
        """
        from .io import load

        reg = registry_of_call(registry, "load")
        if graph is not None:
            require_lowerable(graph, reg, self)
        return load(path, graph, registry=reg)

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
        initial_epoch: int = 0,
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
            initial_epoch=initial_epoch,
        )

    def fit_stream(
        self,
        model: Any,
        batches: Callable[[int], Iterator[tuple[Any, Any]]],
        *,
        epochs: int,
        validation: Callable[[], Iterator[tuple[Any, Any]]] | None = None,
        seed: int | None = None,
        callbacks: Sequence[TrainingCallback] = (),
    ) -> dict[str, list[float]]:
        """Train on batches read from a file: ``batches(epoch)`` yields (x, y) NumPy batches.

        Each batch is one step of the same loop as :meth:`fit`; memory holds the
        reader's chunk and one batch.
        """
        return model.fit_stream(
            batches, epochs=epochs, validation=validation, seed=seed, callbacks=callbacks
        )

    def evaluate_stream(
        self, model: Any, batches: Callable[[], Iterator[tuple[Any, Any]]]
    ) -> dict[str, float]:
        """Loss and metrics over every batch of ``batches()`` (weighted by batch size)."""
        return model.evaluate_stream(batches)

    def get_training_state(self, model: Any) -> dict[str, Any]:
        return model.training_state()

    def set_training_state(self, model: Any, state: Mapping[str, Any]) -> None:
        model.set_training_state(state)

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
