"""``specforge plugins``: every plugin with its distribution, version and what it adds; failures and why."""

from __future__ import annotations

import json
from importlib.metadata import entry_points

import pytest

from specforge import __version__
from specforge.plugin import hookimpl
from specforge.registry import BUILTIN_PLUGINS
from specforge.testing import plugins_installed

#: The example packages in plugins/ and what each must be listed with.
PACKAGES = {
    "layers": ("specforge-layers", {"node_type": ["Add", "BatchNormalization", "Dropout"]}),
    "onnx": ("specforge-onnx", {"backend": ["onnx"]}),
    "synthetic": (
        "specforge-synthetic",
        {
            "dataset": ["blobs", "circles", "moons", "regression"],
            "preprocessor": ["pca", "polynomial_features"],
        },
    ),
}
INSTALLED = {ep.name for ep in entry_points(group="specforge")}


class Broken:
    @hookimpl
    def register_backends(self, register):
        raise OSError("no GPU driver")


def test_text_lists_every_built_in_with_what_it_adds(cli_run):
    result = cli_run("plugins")
    assert result.exit_code == 0
    out = result.stdout
    for name in BUILTIN_PLUGINS:
        assert f"{name} (built-in, specforge {__version__})" in out
    for node_type in ("Concatenate", "Dense", "Flatten"):  # one built-in plugin each
        assert f"  node_type: {node_type}\n" in out
    assert "  backend: keras, numpy\n" in out
    assert "iris" in out and "standard_scaler" in out
    assert "lowerings[keras]:" in out and "lowerings[numpy]:" in out


@pytest.mark.parametrize("plugin", sorted(PACKAGES))
def test_text_lists_each_installed_example_package(cli_run, plugin):
    if plugin not in INSTALLED:
        pytest.skip(
            f"plugins/{PACKAGES[plugin][0]} is not installed (pip install -e ./plugins/{PACKAGES[plugin][0]})"
        )
    distribution, provides = PACKAGES[plugin]
    out = cli_run("plugins").stdout
    assert f"{plugin} ({distribution} 0.1.0)\n" in out
    for kind, names in provides.items():
        assert f"  {kind}: {', '.join(names)}\n" in out


def test_json_has_the_documented_fields(cli_run):
    result = cli_run("plugins", "--format", "json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert set(data) == {"specforge", "api_version", "plugins", "failed", "disabled"}
    assert data["specforge"] == __version__ and data["api_version"] == 2
    names = [p["name"] for p in data["plugins"]]
    assert names[: len(BUILTIN_PLUGINS)] == list(BUILTIN_PLUGINS)
    first = data["plugins"][0]
    assert set(first) == {"name", "distribution", "version", "builtin", "in_process", "provides"}
    assert first["builtin"] is True and first["distribution"] == "specforge"
    dense = next(p for p in data["plugins"] if p["name"] == "specforge.default_plugins.dense")
    assert dense["provides"] == {
        "node_type": ["Dense"],
        "lowerings[keras]": ["import:Dense", "node:Dense"],
        "lowerings[numpy]": ["node:Dense"],
    }
    for plugin in sorted(PACKAGES.keys() & INSTALLED):
        entry = next(p for p in data["plugins"] if p["name"] == plugin)
        assert entry["builtin"] is False
        assert (entry["distribution"], entry["version"]) == (PACKAGES[plugin][0], "0.1.0")
        for kind, provided in PACKAGES[plugin][1].items():
            assert entry["provides"][kind] == provided
    assert data["failed"] == []
    assert data["disabled"]["all_third_party"] is False


@pytest.fixture
def debug_env(monkeypatch):
    """--debug exports SPECFORGE_DEBUG=1 into the process: undo it after the test."""
    monkeypatch.setenv("SPECFORGE_DEBUG", "")


def test_json_reports_a_failed_plugin_without_traceback_unless_debug(cli_run, debug_env):
    with plugins_installed(("gpu", Broken()), entry_points=False):
        plain = json.loads(cli_run("plugins", "--format", "json").stdout)
        debug = json.loads(cli_run("--debug", "plugins", "--format", "json").stdout)
    (failed,) = plain["failed"]
    assert failed == {
        "plugin": "gpu",
        "distribution": None,
        "version": None,
        "stage": "hook register_backends",
        "message": "OSError: no GPU driver",
        "lost": [],
    }
    assert "Traceback" in debug["failed"][0]["traceback"]
    gpu = next(p for p in plain["plugins"] if p["name"] == "gpu")
    assert gpu["in_process"] is True and gpu["provides"] == {}


def test_text_reports_failures_after_the_listing_and_exits_0(cli_run, debug_env):
    with plugins_installed(("gpu", Broken()), entry_points=False):
        result = cli_run("plugins")
        debug = cli_run("--debug", "plugins")
    assert result.exit_code == 0
    assert result.stdout.endswith(
        "failed:\n"
        "  plugin 'gpu' (hook register_backends): OSError: no GPU driver\n"
        "  (rerun as `specforge --debug plugins` for tracebacks)\n"
    )
    assert "gpu (registered in-process, not installed)\n  (adds nothing)\n" in result.stdout
    assert "Traceback" not in result.output
    assert "Traceback" in debug.stdout


def test_no_plugins_lists_the_built_ins_and_says_the_rest_is_off(cli_run):
    with plugins_installed(("gpu", Broken())):
        result = cli_run("--no-plugins", "plugins", "--format", "json")
        text = cli_run("--no-plugins", "plugins").stdout
    data = json.loads(result.stdout)
    assert [p["name"] for p in data["plugins"]] == list(BUILTIN_PLUGINS)
    assert data["failed"] == []
    assert data["disabled"]["all_third_party"] is True
    assert "gpu" in data["disabled"]["plugins"]
    assert "third-party plugins are disabled (--no-plugins or SPECFORGE_DISABLE_PLUGINS)" in text


def test_the_variable_can_disable_one_plugin_by_name(cli_run, monkeypatch):
    monkeypatch.setenv("SPECFORGE_DISABLE_PLUGINS", "gpu")
    with plugins_installed(("gpu", Broken()), entry_points=False):
        data = json.loads(cli_run("plugins", "--format", "json").stdout)
    assert data["failed"] == [] and data["disabled"]["plugins"] == ["gpu"]
