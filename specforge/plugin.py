"""The public plugin API: everything a plugin imports from specforge.

A plugin is a module (or object) with functions marked ``@hookimpl`` whose names
are hooks from :mod:`specforge.hookspecs`. Registry hooks receive a
``register`` callback; call it once per thing the plugin provides::

    from specforge.plugin import hookimpl, NodeType, ParamCount

    class Dropout(NodeType):
        name = "Dropout"
        ...

    @hookimpl
    def register_node_types(register):
        register(Dropout())

The built-in node types, backends, datasets and preprocessors use exactly this
API (see ``specforge/default_plugins/``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple

import pluggy
from pydantic import BaseModel, ConfigDict

from .atomic import atomic_path, atomic_write_bytes, atomic_write_text
from .backend_checks import Reporter as BackendReporter
from .backend_checks import lowering_help
from .data.dataset import DataError, Dataset
from .data.preprocessor import Preprocessor
from .lowering import LoweringContext, NodeLowering, Unsupported

if TYPE_CHECKING:  # imported on first use by __getattr__ below
    from .data.fetch import RemoteFile, fetch

if TYPE_CHECKING:  # pragma: no cover
    from .diagnostics import Diagnostic
    from .registry import Registry

#: Version of the plugin API. A plugin declares ``SPECFORGE_API = 2`` at module level
#: (or as a class attribute of a plugin object); one declaring a newer version than this
#: is refused with a clear message instead of failing in obscure ways. A plugin declaring
#: 1, or nothing, is written for API 1: what it registers is wrapped once, at
#: registration, so that it keeps working (:mod:`specforge.compat`).
API_VERSION = 2

hookimpl = pluggy.HookimplMarker("specforge")

#: The plugin-API-1 name of :func:`lowering_help`.
lowering_hint = lowering_help

Shape = tuple[int, ...]


class Params(BaseModel):
    """Base for every parameter model in a spec: strict types, no unknown keys, immutable.

    Validators are built on first use (``defer_build``): a registry holds many
    parameter models and a spec uses a few, so ``validate`` does not pay at
    start-up for the models of node types and optimizers it never meets.
    """

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, defer_build=True)


class NoParams(Params):
    """For node types that take no parameters."""


@dataclass(frozen=True)
class ParamCount:
    """Number of weights a node owns."""

    trainable: int = 0
    non_trainable: int = 0

    @property
    def total(self) -> int:
        return self.trainable + self.non_trainable

    def __add__(self, other: ParamCount) -> ParamCount:
        return ParamCount(
            self.trainable + other.trainable, self.non_trainable + other.non_trainable
        )


class ShapeError(ValueError):
    """Raised by a node type's shape inference when its inputs do not fit.

    ``param`` names the parameter at fault (the diagnostic then points at it);
    without it, the diagnostic points at the node's inputs.
    """

    def __init__(self, message: str, *, help: str | None = None, param: str | None = None):
        super().__init__(message)
        self.message, self.help, self.param = message, help, param


class BackendError(Exception):
    """A backend problem the user can fix, reported without a traceback (exit 2).

    Raise it from a :class:`Backend` method for an unsupported operation
    (``fit`` on an inference-only backend), a node type or activation the
    backend has no lowering for, an unreadable or mismatched model file, or a
    missing framework. ``help`` is printed as a ``help:`` line under the message.
    """

    def __init__(self, message: str, *, help: str | None = None):
        super().__init__(message)
        self.message, self.help = message, help


class NodeWarning(NamedTuple):
    """A warning about one node, from :meth:`NodeType.warnings`.

    ``message`` continues "node '<name>' ..." (the checker prefixes the node's
    name); ``help`` is the fix line, or None.
    """

    code: str
    message: str
    help: str | None = None


class NodeType:
    """A kind of node a spec can use (``type: Dense``).

    Subclasses set ``name`` and ``params_model`` (a :class:`Params` subclass) and
    implement :meth:`output_shape` and :meth:`param_count`. Both receive validated
    parameters and the static shapes (batch axis excluded) of the node's inputs, in
    order. Backends lower node types through the ``register_lowerings`` hook, so a
    node type knows nothing about Keras.

    ``Params`` is the API-1 name of ``params_model``: a subclass may set either,
    and both name the same model.
    """

    name: ClassVar[str]
    params_model: ClassVar[type[BaseModel]] = NoParams
    Params: ClassVar[type[BaseModel]] = NoParams
    #: Fewest and most inputs the node accepts (None: no upper bound).
    min_inputs: ClassVar[int] = 1
    max_inputs: ClassVar[int | None] = 1
    #: One line for `specforge plugins` and the docs.
    description: ClassVar[str] = ""
    #: Parameter names whose values are activation / initializer names, checked
    #: against the registries (with did-you-mean) before shape inference.
    activation_params: ClassVar[tuple[str, ...]] = ()
    initializer_params: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        own = vars(cls)
        if "params_model" in own:
            cls.Params = cls.params_model
        elif "Params" in own:
            cls.params_model = cls.Params

    def output_shape(self, params: Any, input_shapes: Sequence[Shape]) -> Shape:
        raise NotImplementedError

    def param_count(self, params: Any, input_shapes: Sequence[Shape]) -> ParamCount:
        return ParamCount()

    def warnings(self, params: Any, input_shapes: Sequence[Shape]) -> Iterable[NodeWarning]:
        """Warnings about a node that is valid but probably not what was meant.

        Called after :meth:`output_shape` succeeded, with the same arguments;
        yield :class:`NodeWarning` s (code, message, help). Default: none.
        """
        return ()


@dataclass(frozen=True)
class Activation:
    """An activation function name usable in node parameters."""

    name: str
    aliases: tuple[str, ...] = ()
    #: False for functions like the step function, whose gradient is zero almost
    #: everywhere: gradient-based backends refuse to train through them.
    differentiable: bool = True
    description: str = ""


#: What a loss's targets are (:attr:`Loss.targets`).
LOSS_TARGETS = ("values", "class_indices", "one_hot", "binary")


@dataclass(frozen=True)
class Loss:
    """A loss function name usable in ``outputs[].loss``."""

    name: str
    aliases: tuple[str, ...] = ()
    description: str = ""
    #: What the targets are: ``values`` (regression), ``class_indices`` or ``one_hot``
    #: (the output is one vector of class scores per sample) or ``binary``. The
    #: checker and the training pipeline read this, never the loss's name.
    targets: str = "values"

    @property
    def classification(self) -> bool:
        """The targets are classes: predictions get a confusion matrix, not a scatter."""
        return self.targets != "values"

    @property
    def needs_class_vector(self) -> bool:
        """The output must be one vector of class scores per sample (rank 1)."""
        return self.targets in ("class_indices", "one_hot")


@dataclass(frozen=True)
class Metric:
    """A metric name usable in ``outputs[].metrics``."""

    name: str
    aliases: tuple[str, ...] = ()
    description: str = ""


class OptimizerParams(Params):
    learning_rate: float | None = None


@dataclass(frozen=True)
class Optimizer:
    """An optimizer usable as ``optimizer.type``, with its parameter model.

    ``params_model`` validates the optimizer's keys (``learning_rate``, ...); its
    defaults are the resolved spec's. ``description`` is keyword-only.
    """

    name: str
    params_model: type[BaseModel] = OptimizerParams
    aliases: tuple[str, ...] = ()
    description: str = field(default="", kw_only=True)

    @property
    def params(self) -> type[BaseModel]:
        """The API-1 name of :attr:`params_model`."""
        return self.params_model


@dataclass(frozen=True)
class Initializer:
    """A weight initializer name usable in node parameters."""

    name: str
    aliases: tuple[str, ...] = ()
    description: str = ""


class TrainingCallback:
    """Hooks a backend calls during ``fit``; the training pipeline implements them.

    Return True from a method to stop training (after the current batch for
    ``on_batch_end``, after the current epoch for ``on_epoch_end``). ``logs``
    hold the running figures under the history's key names.
    """

    def on_epoch_begin(self, epoch: int) -> None:  # epoch is 0-based
        return None

    def on_batch_end(self, epoch: int, batch: int, logs: Mapping[str, float]) -> bool:
        return False

    def on_epoch_end(self, epoch: int, logs: Mapping[str, float]) -> bool:
        return False


class Backend:
    """A compilation target. See ``register_backends`` in :mod:`specforge.hookspecs`.

    Data crosses this interface as dicts of NumPy arrays: ``x`` keyed by input
    name, ``y`` keyed by output name (the output's node name). Histories and
    evaluation results use Keras's key names, for every backend alike:

    * one output: ``loss``, then each metric by name (``accuracy``);
    * several outputs: ``loss`` (the weighted total), ``<output>_loss`` for each
      output, ``<output>_<metric>`` for each metric;
    * validation figures: the same keys prefixed with ``val_``.

    Weights cross it as ``{node_name: [array, ...]}`` in Keras's order for that
    node type (Dense: kernel of shape (in, units), then bias), so that weights
    can move between backends.
    """

    name: ClassVar[str]
    description: ClassVar[str] = ""
    #: What the backend is called in messages ("has no Keras lowering"); default: ``name``.
    label: ClassVar[str] = ""
    #: Default file suffix of saved models (".keras", ".npz").
    file_suffix: ClassVar[str] = ""
    #: Importable modules the backend needs: a missing one is an environment error (exit 2).
    requires: ClassVar[tuple[str, ...]] = ()
    #: False for inference-only backends (``onnx``): ``fit`` raises :class:`BackendError`,
    #: and ``train`` can refuse before loading any data.
    can_train: ClassVar[bool] = True
    #: The lowering kinds the backend needs for every name a spec uses: the shared
    #: coverage pass reports each such name without a lowering for this backend
    #: (``unsupported-by-backend``) before :meth:`build` is called. An inference-only
    #: backend needs no loss or optimizer lowerings.
    lowering_kinds: ClassVar[tuple[str, ...]] = (
        "node",
        "activation",
        "initializer",
        "loss",
        "metric",
        "optimizer",
    )

    def check(
        self, graph: Any, *, registry: Registry, document: Any = None
    ) -> Iterable[Diagnostic]:
        """Rules of this backend alone (beyond lowering coverage), as positioned diagnostics.

        E.g. Keras cannot train through a step activation. Called after the shared
        coverage pass; a diagnostic at the same position as one of the pass's
        replaces it (the backend's explanation is better). Use
        :class:`BackendReporter` for positions.
        """
        return ()

    def build(self, graph: Any, *, seed: int | None = None, registry: Registry) -> Any:
        """Lower a resolved Graph into a compiled, trainable model, with ``registry``'s lowerings."""
        raise NotImplementedError

    def save(self, model: Any, path: str) -> None:
        """Write the model to ``path`` atomically (:func:`atomic_path` helps)."""
        raise NotImplementedError

    def load(self, path: str, graph: Any, *, registry: Registry) -> Any:
        """Read a model written by :meth:`save` (safely: no code execution)."""
        raise NotImplementedError

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
        """Train; return the history (one value per completed epoch per key).

        ``initial_epoch`` (0-based, passed only when > 0) resumes a run: train
        epochs ``initial_epoch`` .. ``epochs - 1`` from the state restored by
        :meth:`set_training_state`, returning those epochs' history only.

        A backend whose ``fit`` also takes ``steps_per_execution`` (``auto`` or
        a number: batches per call into its framework, the Keras backend's)
        gets the spec's ``train.steps_per_execution`` from ``specforge train``;
        others are called without it.
        """
        raise NotImplementedError

    def evaluate(
        self, model: Any, x: Mapping[str, Any], y: Mapping[str, Any], *, batch_size: int = 32
    ) -> dict[str, float]:
        """Loss and metrics on the given data, under the history's key names."""
        raise NotImplementedError

    def predict(self, model: Any, x: Mapping[str, Any], *, batch_size: int = 32) -> dict[str, Any]:
        """Outputs keyed by output name."""
        raise NotImplementedError

    def get_weights(self, model: Any) -> dict[str, list[Any]]:
        raise NotImplementedError

    def get_training_state(self, model: Any) -> dict[str, Any]:
        """What resuming a run needs beyond the weights (optimizer state, random state).

        Values are NumPy arrays or JSON data. Optional: a backend without it
        trains, but its runs write no checkpoints and cannot be resumed.
        """
        raise NotImplementedError

    def set_training_state(self, model: Any, state: Mapping[str, Any]) -> None:
        """Restore :meth:`get_training_state`'s result into a model built from the same spec."""
        raise NotImplementedError

    def set_weights(self, model: Any, weights: Mapping[str, Sequence[Any]]) -> None:
        raise NotImplementedError


@dataclass(frozen=True)
class DatasetType:
    """A dataset loader usable as ``data.dataset.type``.

    ``load(params)`` returns a :class:`Dataset` (or raises :class:`DataError`);
    ``params`` is an instance of ``params_model``, validated with positioned
    diagnostics.
    """

    name: str
    params_model: type[BaseModel]
    load: Any
    description: str = ""


@dataclass(frozen=True)
class PreprocessorType:
    """A preprocessor usable in ``data.preprocess``.

    ``create(params)`` returns an object with ``fit(x)``, ``transform(x)``,
    ``get_state() -> dict`` (JSON/array data only, never pickled) and
    ``set_state(state)``: a :class:`Preprocessor` subclass, usually, whose
    class is then ``create`` itself.
    """

    name: str
    params_model: type[BaseModel]
    create: Any
    description: str = ""
    #: "features" (default) or "targets".
    applies_to: str = "features"


def freeze(value: Any) -> Any:
    """A hashable, immutable copy of plain spec data (for the IR)."""
    if isinstance(value, Mapping):
        from types import MappingProxyType

        return MappingProxyType({k: freeze(v) for k, v in value.items()})
    if isinstance(value, (list, tuple)):
        return tuple(freeze(v) for v in value)
    return value


def __getattr__(name: str) -> Any:
    # The download helpers import urllib (25 ms): only plugins that download pay for it.
    if name in ("fetch", "RemoteFile"):
        from .data import fetch as _fetch

        return getattr(_fetch, name)
    raise AttributeError(f"module 'specforge.plugin' has no attribute {name!r}")


__all__ = [
    "API_VERSION",
    "Activation",
    "Backend",
    "BackendError",
    "BackendReporter",
    "DataError",
    "Dataset",
    "DatasetType",
    "Initializer",
    "Loss",
    "LoweringContext",
    "Metric",
    "NoParams",
    "NodeLowering",
    "NodeType",
    "NodeWarning",
    "Optimizer",
    "OptimizerParams",
    "ParamCount",
    "Params",
    "Preprocessor",
    "PreprocessorType",
    "RemoteFile",
    "Shape",
    "ShapeError",
    "TrainingCallback",
    "Unsupported",
    "atomic_path",
    "atomic_write_bytes",
    "atomic_write_text",
    "fetch",
    "hookimpl",
    "lowering_help",
    "lowering_hint",
]
