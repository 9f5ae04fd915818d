"""What a plugin package's ``tests/conftest.py`` needs, in one call.

A plugin package's tests should pass both with the package installed and
from its source checkout without installing it. :func:`plugin_conftest`
puts the checkout's ``src/`` on ``sys.path`` when the plugin is not
importable, and returns an autouse fixture that runs every test inside
:func:`~specforge.testing.plugin_under_test` (so specforge, API and CLI alike,
sees the plugin as if installed), plus a collection hook that skips the
package's tests, with a reason, when a module the plugin needs is missing::

    # plugins/specforge-onnx/tests/conftest.py
    from specforge.testing import plugin_conftest

    _plugin, pytest_collection_modifyitems = plugin_conftest(
        __file__, "onnx", "specforge_onnx.plugin", requires=("onnx", "onnxruntime")
    )
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from .registry import plugin_under_test


class PluginConftest(NamedTuple):
    """The two things a plugin package's conftest assigns at module level."""

    #: An autouse fixture: each test runs with the plugin loaded.
    fixture: Any
    #: A ``pytest_collection_modifyitems`` hook skipping the tests when ``requires`` is missing.
    pytest_collection_modifyitems: Callable[[Any, list[Any]], None]


def plugin_conftest(
    conftest_file: str | Path,
    name: str,
    module: str,
    *,
    requires: Sequence[str] = (),
    hint: str | None = None,
) -> PluginConftest:
    """Set up a plugin package's tests to run installed or from its checkout.

    :param conftest_file: the conftest's ``__file__``; the package's source is
        looked for in ``src/`` next to its ``tests/`` folder.
    :param name: the plugin's entry-point name (``onnx``).
    :param module: the plugin module registered under ``name`` when the
        plugin is not installed (``specforge_onnx.plugin``).
    :param requires: modules without which the tests cannot run; when one is
        missing, every test under the conftest's folder is skipped with a reason.
    :param hint: how to get them, for the skip reason.
    """
    import pytest

    here = Path(conftest_file).resolve().parent
    package = module.split(".", 1)[0]
    if importlib.util.find_spec(package) is None:
        sys.path.insert(0, str(here.parent / "src"))
    missing = [m for m in requires if importlib.util.find_spec(m) is None]

    @pytest.fixture(autouse=True)
    def _plugin_under_test() -> Iterator[None]:
        with plugin_under_test(name, module):
            yield

    def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
        if not missing:
            return
        reason = f"{' and '.join(missing)} not installed: " + (
            hint or f"install the package in {here.parent.name} to run these tests"
        )
        for item in items:
            if here in item.path.parents:
                item.add_marker(pytest.mark.skip(reason=reason))

    return PluginConftest(_plugin_under_test, pytest_collection_modifyitems)
