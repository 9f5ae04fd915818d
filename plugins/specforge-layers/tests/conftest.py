"""Test the plugin as installed, or, from a source checkout without installing it, as if it were."""

from specforge.testing import plugin_conftest

_plugin, pytest_collection_modifyitems = plugin_conftest(
    __file__, "layers", "specforge_layers.plugin"
)
