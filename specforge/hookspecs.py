"""Hook specifications: the plugin API reference.

Every extension of specforge (node types, activations, losses, metrics,
optimizers, initializers, backends and their lowerings, datasets,
preprocessors) enters through one of these hooks, and the built-ins use them
exactly as a third-party plugin does. The docs' hook reference is generated
from these docstrings (``docs/hooks.md``, by ``python docs/generate.py``;
a test fails when it is stale, when a hook lacks a docstring, or when no test
mentions a hook).

Registry hooks all take one argument, ``register``: a callback to call once per
thing provided. The host checks what it receives, records which plugin
provided it, and reports a name registered by two plugins as an error naming
both (the first registration wins: built-ins load first, then third-party
plugins in entry-point name order). A hook that raises is reported with the
plugin's name; what it registered before raising is dropped and remembered, so
a spec naming it is told which plugin failed; the other plugins keep working.
Registry hooks are called once, plugin by plugin, the first time specforge
needs the registry, never at import time. Hook wrappers are refused: there is
nothing to wrap.

A plugin declares the plugin API it is written for at module level (or as a
class attribute of a plugin object): ``SPECFORGE_API = 2``, this API. One
declaring a newer API than specforge knows is refused with the reason. One
declaring 1, or nothing, is written for API 1 (lowerings without the lowering
context, backends whose ``build``/``load`` take no registry): what it registers
is wrapped once, at registration, and keeps working.

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

    Called once, when the registry is first built (by every command).

    :param register: call ``register(node_type)`` with an instance of a
        :class:`specforge.plugin.NodeType` subclass. Its ``name`` is the spec
        name (``Dense``); its ``params_model`` (a pydantic model) validates the
        node's parameters (unknown keys are errors, each reported at its line);
        ``min_inputs``/``max_inputs`` bound the number of inputs;
        ``output_shape`` and ``param_count`` give static shape inference and
        parameter counts (raise :class:`specforge.plugin.ShapeError` for inputs
        that do not fit), so ``validate`` and ``summary`` need no framework;
        ``warnings`` may yield :class:`specforge.plugin.NodeWarning` s about a
        valid node that is probably not what was meant (Dense on an input of
        rank 2 or more). A node type without ``output_shape`` or a parameter
        model is refused.
    :return: nothing; the return value is ignored.

    Backends learn to run the node type through ``register_lowerings``; check
    all of it against Keras with :func:`specforge.testing.check_node_type`. The
    built-in ``specforge/default_plugins/dense.py`` is a whole node-type plugin
    in one file.

    Example (``plugins/specforge-layers``)::

        @hookimpl
        def register_node_types(register):
            register(Dropout())
            register(BatchNormalization())
    """


@hookspec
def register_activations(register: Callable[[Any], None]) -> None:
    """Register activation function names (``activation: relu``).

    Called once, when the registry is first built.

    :param register: call ``register(activation)`` with a
        :class:`specforge.plugin.Activation`. ``aliases`` are normalised to
        ``name`` when a spec is resolved (an alias that already means something
        else is reported and ignored). Set ``differentiable=False`` for
        functions such as the step function: gradient-based backends then refuse
        to train through them with a diagnostic.
    :return: nothing.

    Each backend implements the names it supports through
    ``register_lowerings`` (kind ``activation``); a name without a lowering is
    a diagnostic when the spec is built for that backend.
    """


@hookspec
def register_losses(register: Callable[[Any], None]) -> None:
    """Register loss names for ``outputs[].loss``.

    Called once, when the registry is first built.

    :param register: call ``register(loss)`` with a :class:`specforge.plugin.Loss`;
        aliases (``mse``) normalise to the canonical name
        (``mean_squared_error``). Backends implement it through
        ``register_lowerings`` (kind ``loss``).
    :return: nothing.
    """


@hookspec
def register_metrics(register: Callable[[Any], None]) -> None:
    """Register metric names for ``outputs[].metrics``.

    Called once, when the registry is first built.

    :param register: call ``register(metric)`` with a
        :class:`specforge.plugin.Metric`. History keys use the canonical name
        (``accuracy``, ``val_accuracy``, ``<output>_accuracy``). Backends
        implement it through ``register_lowerings`` (kind ``metric``).
    :return: nothing.
    """


@hookspec
def register_optimizers(register: Callable[[Any], None]) -> None:
    """Register optimizers for ``optimizer.type``.

    Called once, when the registry is first built.

    :param register: call ``register(optimizer)`` with a
        :class:`specforge.plugin.Optimizer`, whose ``params_model`` (a pydantic
        model) validates the optimizer's keys (``learning_rate``, ``momentum``,
        ...); its defaults are filled into the resolved spec. Backends implement
        it through ``register_lowerings`` (kind ``optimizer``).
    :return: nothing.
    """


@hookspec
def register_initializers(register: Callable[[Any], None]) -> None:
    """Register weight initializer names (``kernel_initializer: he_normal``).

    Called once, when the registry is first built.

    :param register: call ``register(initializer)`` with a
        :class:`specforge.plugin.Initializer`. Node types list the parameters
        holding initializer names in ``initializer_params``, so they are checked
        with did-you-mean like every other name.
    :return: nothing.
    """


# ---------------------------------------------------------------- targets


@hookspec
def register_backends(register: Callable[[Any], None]) -> None:
    """Register backends that compile a resolved graph (``--backend NAME``).

    Called once, when the registry is first built; the backend's methods are
    called by ``build``, ``train``, ``evaluate`` and ``predict``.

    :param register: call ``register(backend)`` with an instance of a
        :class:`specforge.plugin.Backend` subclass: ``build(graph, *, seed,
        registry)`` and ``load(path, graph, *, registry)`` lower with the
        lowerings of the registry they are given (never a process-wide one),
        ``save``, ``fit``, ``evaluate``, ``predict``, ``get_weights``,
        ``set_weights``, with data as dicts of arrays keyed by input and output
        names and weights as ``{node: [arrays in Keras's order]}``. Before
        ``build``, one coverage pass reports every name of the spec without a
        lowering for the backend, for the kinds in its ``lowering_kinds``
        (``unsupported-by-backend``, named after its ``label``); its optional
        ``check(graph, *, registry, document)`` adds the rules of that backend
        alone (Keras cannot train through a step function). Set ``can_train =
        False`` for an inference-only backend, whose ``fit`` raises
        :class:`specforge.plugin.BackendError`. A backend imports its framework
        lazily, inside its methods, never at module import: ``validate`` and
        ``summary`` load every plugin and must stay fast.
    :return: nothing.

    Example (``plugins/specforge-onnx``)::

        @hookimpl
        def register_backends(register):
            register(OnnxBackend())

    Check it against the NumPy reference with :func:`specforge.testing.check_backend`.
    """


@hookspec
def register_lowerings(register: Callable[..., None]) -> None:
    """Register how one backend implements one node type, activation, loss or optimizer.

    Called once, after the vocabulary and the backends are registered. This is
    how a node-type plugin teaches an existing backend its node (the
    ``specforge-layers`` plugin gives Keras, NumPy and ONNX lowerings for
    ``Dropout``), and how a backend plugin supports built-in node types
    (``specforge-onnx`` lowers ``Dense``). A lowering for a backend that is not
    installed is kept and simply unused.

    :param register: call ``register(backend, kind, name, implementation)``:
        ``backend`` is a backend name (``keras``), ``kind`` one of ``node``,
        ``activation``, ``loss``, ``optimizer``, ``metric``, ``initializer``
        or ``import`` (a rule turning the backend's saved layer, named by its
        class name, back into a spec node), ``name`` the registered name, and
        ``implementation`` whatever that backend documents for that kind.
        Node lowerings and import rules receive a
        :class:`specforge.plugin.LoweringContext` first: the registry the model
        is built with, and the backend's helpers. Keras: ``fn(ctx, node,
        inputs) -> KerasTensor`` building one layer named ``node.name``, with
        ``ctx.activation(name)`` and ``ctx.initializer(name)`` for the names in
        its parameters, and ``fn(ctx, layer) -> dict`` import rules; NumPy: a
        :class:`specforge.plugin.NodeLowering` whose methods take ``ctx`` first
        (``init``, ``forward``, ``backward``, optional ``update_state``); ONNX:
        ``fn(ctx, node, inputs) -> value name``. The other kinds are values
        (``"relu"``) or plain functions of their own arguments. Registering the
        same (backend, kind, name) twice is an error naming both plugins; an
        unknown ``kind`` is reported. ``docs/plugins.md`` has the contract of
        every kind on every built-in backend.
    :return: nothing.

    Example (``specforge/default_plugins/dense.py``)::

        @hookimpl
        def register_lowerings(register):
            register("keras", "node", "Dense", lower_keras)  # fn(ctx, node, inputs)
            register("keras", "import", "Dense", import_keras)  # fn(ctx, layer)
            register("numpy", "node", "Dense", DenseLowering())
    """


# ---------------------------------------------------------------- data


@hookspec
def register_datasets(register: Callable[[Any], None]) -> None:
    """Register dataset loaders for ``data.dataset.type``.

    Called once, when the registry is first built; ``load`` is called by
    ``train`` (never by ``validate``, which only validates the parameters).

    :param register: call ``register(dataset_type)`` with a
        :class:`specforge.plugin.DatasetType`: a ``name``, a pydantic
        ``params_model`` (every key of ``data.dataset`` but ``type`` is
        validated by it, with positioned diagnostics), and ``load(params) ->``
        :class:`specforge.plugin.Dataset`. Loaders read local files or
        generate data (downloads go through :func:`specforge.plugin.fetch`:
        checked by SHA-256, cached, atomic, mirror-aware), are deterministic for
        given parameters (take a ``seed``), and raise
        :class:`specforge.plugin.DataError` with a ``help`` line when a file
        is missing or malformed.
    :return: nothing.

    Example (``plugins/specforge-synthetic``)::

        @hookimpl
        def register_datasets(register):
            register(DatasetType("moons", MoonsParams, load_moons, "two half circles"))

    Check it with :func:`specforge.testing.check_dataset`.
    """


@hookspec
def register_preprocessors(register: Callable[[Any], None]) -> None:
    """Register preprocessors for ``data.preprocess``.

    Called once, when the registry is first built; the preprocessor objects are
    created by ``train`` (fitted on the training split only) and again, from
    their saved state, by ``evaluate`` and ``predict``.

    :param register: call ``register(preprocessor_type)`` with a
        :class:`specforge.plugin.PreprocessorType`: a ``name``, a pydantic
        ``params_model``, ``create(params)`` returning an object with
        ``fit(x)``, ``transform(x)``, ``get_state()`` and ``set_state(state)``
        (a :class:`specforge.plugin.Preprocessor` subclass provides the last
        two), and ``applies_to`` (``features`` or ``targets``). Fitted state
        must be plain JSON data and numpy arrays, never pickled, so that
        loading a run directory never executes code.
    :return: nothing.

    Check it with :func:`specforge.testing.check_preprocessor`.
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
