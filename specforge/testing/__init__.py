"""The plugin author's kit: conformance checks to call from a plugin's own tests.

Each ``check_*`` function runs what specforge will do with a plugin's
contribution, compares it with the reference (Keras, the NumPy backend, finite
differences, a JSON/npz round trip) and raises :class:`ConformanceError` (an
``AssertionError``, so pytest shows it as a plain test failure) saying what
disagrees and by how much. They return what they computed, for further
assertions::

    from specforge.testing import check_node_type, check_plugin
    import specforge_layers.plugin

    def test_the_plugin_loads_cleanly():
        check_plugin(specforge_layers.plugin)

    def test_batch_normalization_matches_keras():
        check_node_type("BatchNormalization", params={"momentum": 0.9}, input_shapes=[(6,)])

What each check covers:

* :func:`check_plugin`: the plugin loads next to the built-ins with no
  problem (import, API version, hook names, duplicate names).
* :func:`check_node_type`: validation of the parameters, shape inference and
  parameter count (trainable and not) against the layer its Keras lowering
  builds; the NumPy lowering's ``init`` shapes, trainable flags, forward and
  backward against Keras (inference and training mode, within 1e-5), its
  backward against central finite differences in float64, its
  ``update_state`` against Keras's moving statistics; the Keras import rule
  (the imported node rebuilds a layer with the same config).
* :func:`check_backend`: a backend's predictions match the NumPy reference
  backend's with the same weights, and save/load keeps them.
* :func:`check_dataset`: parameters validate through the pydantic model, the
  loader returns a well-formed :class:`specforge.plugin.Dataset`, twice
  the same (seeded, no hidden state).
* :func:`check_preprocessor`: ``transform`` before ``fit`` fails, ``fit``
  learns from the training data only and keeps no reference to it, the state
  survives the run directory's JSON + npz round trip (never pickle) and gives
  the same output after ``set_state``.

Helpers: :func:`registry_with` builds a registry with a plugin that is not
installed (pass it as ``registry=``); :func:`plugins_installed` runs code (the
CLI included) as if a plugin were installed; :func:`plugin_conftest` is the
whole ``conftest.py`` of a plugin package's tests; :func:`resolve_node` gives
the ``GraphNode`` a backend receives, to call a lowering directly;
:func:`make_distribution` writes an installed-looking distribution with an
entry point, to test what users see when a plugin is installed but broken;
:func:`keras_structure` turns a Keras model into comparable data.
numpy and Keras are imported inside the checks that need them; importing this
package costs nothing.

One module per job: ``registry`` (plugins in tests), ``plugin_tests`` (a
plugin package's conftest), ``node_type``, ``backend`` and ``data`` (the
conformance checks), ``conformance`` (the shared failure and comparison),
``structure`` (Keras models as data) and ``chapter`` (the reference chapter's
hand-written Keras models, a fixture of specforge's own tests and benchmarks).
"""

from __future__ import annotations

from .backend import check_backend
from .conformance import ConformanceError
from .data import check_dataset, check_preprocessor
from .node_type import NodeReport, check_node_type, resolve_node
from .plugin_tests import PluginConftest, plugin_conftest
from .registry import (
    check_plugin,
    make_distribution,
    plugin_under_test,
    plugins_installed,
    registry_with,
)
from .structure import keras_structure

__all__ = [
    "ConformanceError",
    "NodeReport",
    "PluginConftest",
    "check_backend",
    "check_dataset",
    "check_node_type",
    "check_plugin",
    "check_preprocessor",
    "keras_structure",
    "make_distribution",
    "plugin_conftest",
    "plugin_under_test",
    "plugins_installed",
    "registry_with",
    "resolve_node",
]
