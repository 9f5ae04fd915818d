"""Test the plugin as installed, or, from a source checkout without installing it, as if it were.

The backend runs models with onnxruntime and writes them with onnx: without them
(a checkout where the plugin package is not installed) its tests are skipped.
"""

from specforge.testing import plugin_conftest

_plugin, pytest_collection_modifyitems = plugin_conftest(
    __file__,
    "onnx",
    "specforge_onnx.plugin",
    requires=("onnx", "onnxruntime"),
    hint="pip install -e plugins/specforge-onnx (as .ci/run does) to run these tests",
)
