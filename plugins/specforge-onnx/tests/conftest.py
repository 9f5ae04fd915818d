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
if importlib.util.find_spec("specforge_onnx") is None:
    sys.path.insert(0, str(PACKAGE / "src"))

SPECS = PACKAGE / "specs"

#: The backend runs models with onnxruntime and writes them with onnx; without them
#: (a checkout where the plugin package is not installed) its tests cannot run.
_MISSING = [m for m in ("onnx", "onnxruntime") if importlib.util.find_spec(m) is None]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not _MISSING:
        return
    reason = (
        f"{' and '.join(_MISSING)} not installed: "
        "pip install -e plugins/specforge-onnx (as .ci/run does) to run these tests"
    )
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(autouse=True)
def _onnx_plugin():
    from specforge.testing import plugin_under_test

    with plugin_under_test("onnx", "specforge_onnx.plugin"):
        yield
