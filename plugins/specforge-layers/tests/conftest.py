"""Test the plugin as installed, or, from a source checkout without installing it, as if it were.

From a checkout, ``src/`` is put on ``sys.path`` and each test runs inside
:func:`specforge.testing.plugins_installed`, so the registry (and the CLI) see
the plugin exactly as an installed entry point.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
PACKAGE = HERE.parent
if importlib.util.find_spec("specforge_layers") is None:
    sys.path.insert(0, str(PACKAGE / "src"))

SPECS = PACKAGE / "specs"


@pytest.fixture(autouse=True)
def _layers_plugin():
    from specforge.testing import plugin_under_test

    with plugin_under_test("layers", "specforge_layers.plugin"):
        yield
