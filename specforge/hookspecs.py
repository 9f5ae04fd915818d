"""Hook specifications: the plugin API reference.

Every extension of specforge (node types, activations, losses, metrics,
optimizers, initializers, backends and their lowerings, datasets,
preprocessors) enters through one of these hooks, and the built-ins use them
exactly as a third-party plugin does. The docs' hook reference is generated
from these docstrings (``docs/hooks.md``; a test keeps it in sync).

Registry hooks all take one argument, ``register``: a callback to call once per
thing provided. The host checks what it receives, records which plugin
provided it, and reports a name registered by two plugins as an error naming
both. A hook that raises is reported with the plugin's name; the other plugins
keep working. Registry hooks are called once, the first time specforge needs
the registry, never at import time.

Phases, in the order specforge uses them:

1. *Vocabulary* (``register_node_types``, ``register_activations``,
   ``register_losses``, ``register_metrics``, ``register_optimizers``,
   ``register_initializers``): what a spec may name. Used by ``validate``.
2. *Targets* (``register_backends``, ``register_lowerings``): how a resolved
   graph becomes a runnable model. Used by ``build`` and ``train``.
3. *Data* (``register_datasets``, ``register_preprocessors``): how the ``data``
   section becomes arrays. Used by ``train``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pluggy

hookspec = pluggy.HookspecMarker("specforge")


# ---------------------------------------------------------------- vocabulary


@hookspec
def register_node_types(register: Callable[[Any], None]) -> None:
    """Register node types that specs can use as ``nodes[].type``.

    Called once when the registry is first built.

    :param register: call ``register(node_type)`` with an instance of a
        :class:`specforge.plugin.NodeType` subclass. Its ``name`` is the spec
        name (``Dense``); its ``Params`` pydantic model validates the node's
        parameters (unknown keys are errors); ``output_shape`` and
        ``param_count`` give static shape inference and parameter counts, so
        ``validate`` and ``summary`` need no framework.
    :return: nothing; the return value is ignored.
    """


@hookspec
def register_activations(register: Callable[[Any], None]) -> None:
    """Register activation function names (``activation: relu``).

    :param register: call ``register(activation)`` with a
        :class:`specforge.plugin.Activation`. ``aliases`` are normalised to
        ``name`` when a spec is resolved. Set ``differentiable=False`` for
        functions such as the step function: gradient-based backends then refuse
        to train through them with a diagnostic. Each backend implements the
        names it supports through ``register_lowerings`` (kind ``activation``).
    :return: nothing.
    """


@hookspec
def register_losses(register: Callable[[Any], None]) -> None:
    """Register loss names for ``outputs[].loss``.

    :param register: call ``register(loss)`` with a :class:`specforge.plugin.Loss`;
        aliases (``mse``) normalise to the canonical name
        (``mean_squared_error``).
    :return: nothing.
    """


@hookspec
def register_metrics(register: Callable[[Any], None]) -> None:
    """Register metric names for ``outputs[].metrics``.

    :param register: call ``register(metric)`` with a :class:`specforge.plugin.Metric`.
    :return: nothing.
    """


@hookspec
def register_optimizers(register: Callable[[Any], None]) -> None:
    """Register optimizers for ``optimizer.type``.

    :param register: call ``register(optimizer)`` with a
        :class:`specforge.plugin.Optimizer`, whose ``params`` pydantic model
        validates the optimizer's keys (``learning_rate``, ``momentum``, ...).
    :return: nothing.
    """


@hookspec
def register_initializers(register: Callable[[Any], None]) -> None:
    """Register weight initializer names (``kernel_initializer: he_normal``).

    :param register: call ``register(initializer)`` with a
        :class:`specforge.plugin.Initializer`.
    :return: nothing.
    """


# ---------------------------------------------------------------- targets


@hookspec
def register_backends(register: Callable[[Any], None]) -> None:
    """Register backends that compile a resolved graph (``--backend NAME``).

    :param register: call ``register(backend)`` with an instance of a
        :class:`specforge.plugin.Backend` subclass. A backend must import its
        framework lazily, inside ``build``/``save``, never at module import:
        ``validate`` and ``summary`` load every plugin and must stay fast.
    :return: nothing.
    """


@hookspec
def register_lowerings(register: Callable[..., None]) -> None:
    """Register how one backend implements one node type, activation, loss or optimizer.

    This is how a node-type plugin teaches an existing backend its node (the
    ``specforge-layers`` plugin gives Keras and NumPy lowerings for ``Dropout``)
    and how a backend plugin supports built-in node types (``specforge-onnx``
    lowers ``Dense``).

    :param register: call ``register(backend, kind, name, implementation)``:
        ``backend`` is a backend name (``keras``), ``kind`` one of ``node``,
        ``activation``, ``loss``, ``optimizer``, ``metric``, ``initializer``
        or ``import`` (a rule turning the backend's saved layer, named by its
        class name, back into a spec node), ``name`` the registered name, and
        ``implementation`` whatever that
        backend documents for that kind (the Keras backend expects, for a node,
        a callable ``(node, inputs) -> keras tensor``). Registering the same
        (backend, kind, name) twice is an error naming both plugins.
    :return: nothing.
    """


# ---------------------------------------------------------------- data


@hookspec
def register_datasets(register: Callable[[Any], None]) -> None:
    """Register dataset loaders for ``data.dataset.type``.

    :param register: call ``register(dataset_type)`` with a
        :class:`specforge.plugin.DatasetType`. Loaders read local files only
        (never download at run time) and raise
        :class:`specforge.data.readers.DataError` with a hint when a file is
        missing or malformed.
    :return: nothing.
    """


@hookspec
def register_preprocessors(register: Callable[[Any], None]) -> None:
    """Register preprocessors for ``data.preprocess``.

    :param register: call ``register(preprocessor_type)`` with a
        :class:`specforge.plugin.PreprocessorType`. Fitted state must be plain
        JSON/array data (``get_state``/``set_state``), never pickled, so that
        loading a run directory never executes code.
    :return: nothing.
    """


#: Every registry hook, in phase order (used by the registry and the docs test).
REGISTRY_HOOKS = (
    "register_node_types",
    "register_activations",
    "register_losses",
    "register_metrics",
    "register_optimizers",
    "register_initializers",
    "register_backends",
    "register_lowerings",
    "register_datasets",
    "register_preprocessors",
)
