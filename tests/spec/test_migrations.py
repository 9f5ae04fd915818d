"""Format versions: old specs are read through the migration chain, with a located warning."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from specforge.api import check_data, check_file, check_text
from specforge.plugin import hookimpl
from specforge.registry import get_registry
from specforge.spec.load import load, loads
from specforge.spec.migrate import FORMAT_VERSION, migrate_data, rename_key
from specforge.testing import registry_with

HERE = Path(__file__).resolve().parent
V1 = HERE / "fixtures" / "v1_aux.yaml"
V1_JSON = HERE / "fixtures" / "v1_aux.json"
ROOT = HERE.parents[1]


def test_the_current_format_is_2_and_its_migration_is_registered_by_a_builtin():
    assert FORMAT_VERSION == 2
    [m] = [m for m in get_registry().migrations if m.from_version == 1]
    assert (m.to_version, m.plugin) == (2, "specforge.default_plugins.migrations")
    assert m.description == "outputs[].weight is renamed loss_weight"


@pytest.mark.parametrize("path", [V1, V1_JSON], ids=["yaml", "json"])
def test_a_v1_spec_validates_with_one_warning_naming_upgrade(path):
    result = check_file(path)
    assert result.ok
    [warning] = result.diagnostics
    assert (warning.code, warning.severity) == ("old-format", "warning")
    assert "specforge upgrade" in warning.help and "--in-place" in warning.help
    assert warning.span.line == 2  # on the version, as written
    assert [o.weight for o in result.graph.outputs] == [0.9, 0.1]
    assert result.graph.to_spec()["specforge"] == FORMAT_VERSION
    assert result.document.data["outputs"][1]["weight"] == 0.1  # the document is untouched


def test_validate_exits_0_for_a_valid_v1_spec_and_1_with_strict(cli_run):
    result = cli_run("validate", str(V1))
    assert result.exit_code == 0, result.output
    assert f"{V1}:2:12: warning[old-format]" in result.stdout
    assert result.stdout.endswith("valid (3,517 params, 1 warning)\n")
    assert cli_run("validate", "--strict", str(V1)).exit_code == 1


def test_diagnostics_of_a_v1_spec_point_into_the_file_as_written():
    text = V1.read_text().replace("weight: 0.9 ", "weight: -1.0").replace("units: 100", "units: 0")
    result = check_text(text, "v1.yaml")
    # the renamed key: reported under its new name, at the value written under the old one
    [d] = [d for d in result.errors if "loss_weight" in d.message]
    line = text.splitlines()[d.span.line - 1]
    assert line[d.span.column - 1 : d.span.end_column - 1] == "-1.0"
    [units] = [d for d in result.errors if "units" in d.message]
    assert text.splitlines()[units.span.line - 1][units.span.column - 1] == "0"


def test_spans_follow_values_through_a_transformation():
    doc, _ = loads(V1.read_text(), "v1.yaml")

    def change(data):
        rename_key(data["outputs"][0], "weight", "loss_weight")
        data["nodes"].insert(0, data["nodes"].pop())  # move a node
        data["specforge"] = 2

    new = doc.transformed(change)
    assert new.span(("outputs", 0, "loss_weight")) == doc.span(("outputs", 0, "weight"))
    assert new.span(("outputs", 0, "loss_weight"), key=True) == doc.span(
        ("outputs", 0, "weight"), key=True
    )
    assert new.span(("nodes", 0, "name")) == doc.span(("nodes", 4, "name"))
    assert new.span(("specforge",)) == doc.span(("specforge",))
    assert list(new.data["outputs"][0]) == ["node", "loss", "loss_weight"]  # order kept
    assert doc.data["outputs"][0]["weight"] == 0.9 and doc.data["specforge"] == 1


def test_a_spec_newer_than_supported_is_a_located_error():
    text = V1.read_text().replace("specforge: 1 ", "specforge: 9 ")
    result = check_text(text, "new.yaml")
    assert not result.ok
    [d] = [d for d in result.errors if d.code == "unsupported-version"]
    assert "newer than this specforge reads (2)" in d.message
    assert (d.span.line, d.span.column) == (2, 12)
    assert "pip install -U specforge" in d.help


def test_python_data_in_format_1_is_migrated_too():
    doc, _ = load(V1)
    result = check_data(copy.deepcopy(doc.data))
    assert result.ok and [d.code for d in result.diagnostics] == ["old-format"]


def test_a_numpy_model_saved_with_a_format_1_spec_still_loads():
    """Run directories keep the resolved spec: old ones must stay readable."""
    from specforge.api import resolve

    doc, _ = load(V1)
    graph = resolve(copy.deepcopy(doc.data))
    assert graph.outputs[0].weight == 0.9


# ---------------------------------------------------------------- plugins migrate their own


class WidthPlugin:
    """A plugin migrating a (made-up) format-1 spelling of a node parameter: Dense 'width'."""

    @hookimpl
    def register_migrations(self, register):
        def width_to_units(spec):
            for node in spec.get("nodes", []):
                if isinstance(node, dict) and node.get("type") == "Dense":
                    rename_key(node, "width", "units")

        register(1, 2, width_to_units, "Dense: width is renamed units")


def test_a_plugins_migration_runs_after_the_builtin_one():
    reg = registry_with(("width", WidthPlugin()))
    assert [m.plugin for m in reg.migrations] == ["specforge.default_plugins.migrations", "width"]
    text = V1.read_text().replace("units: 30", "width: 30")
    result = check_text(text, "v1.yaml", registry=reg)
    assert result.ok, result.diagnostics
    [warning] = result.diagnostics
    assert "Dense: width is renamed units" in warning.message
    assert result.graph.node("hidden1").param("units") == 30
    # without the plugin, 'width' is an unknown key, reported where it is written
    plain = check_text(text, "v1.yaml")
    [err] = [d for d in plain.errors if d.code == "unknown-field"]
    column = text.splitlines()[9].index("width: 30") + 1
    assert "'width'" in err.message and (err.span.line, err.span.column) == (10, column)


def test_a_migration_that_raises_is_a_plugin_error_naming_the_plugin():
    class Broken:
        @hookimpl
        def register_migrations(self, register):
            register(1, 2, lambda spec: 1 / 0, "divides by zero")

    result = check_file(V1, registry=registry_with(("broken", Broken())))
    [d] = result.diagnostics
    assert d.code == "plugin-error" and "plugin 'broken'" in d.message
    assert "ZeroDivisionError" in d.message and d.span.line == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((1, 3, lambda s: None, "x"), "one version up"),
        ((2, 3, lambda s: None, "x"), "reads format 2 at most"),
        ((0, 1, lambda s: None, "x"), "from_version must be an int >= 1"),
        ((1, 2, "not callable", "x"), "must be callable"),
        ((1, 2, lambda s: None, ""), "needs a description"),
    ],
)
def test_invalid_registrations_are_plugin_problems(args, message):
    class Odd:
        @hookimpl
        def register_migrations(self, register):
            register(*args)

    reg = registry_with(("odd", Odd()))
    [problem] = [p for p in reg.problems if p.plugin == "odd"]
    assert problem.stage == "hook register_migrations" and message in problem.message
    assert [m.plugin for m in reg.migrations] == ["specforge.default_plugins.migrations"]


def test_migrate_data_sets_the_version_and_reports_what_ran():
    data = {"specforge": 1, "outputs": [{"node": "a", "loss": "mse", "weight": 2.0}]}
    new, ran = migrate_data(data, get_registry())
    assert new == {"specforge": 2, "outputs": [{"node": "a", "loss": "mse", "loss_weight": 2.0}]}
    assert [m.description for m in ran] == ["outputs[].weight is renamed loss_weight"]
    assert migrate_data({"specforge": 2}, get_registry()) == ({"specforge": 2}, [])


def test_every_spec_in_the_repository_is_in_the_current_format():
    specs = [*ROOT.glob("specs/*.*"), *ROOT.glob("plugins/*/specs/*.yaml")]
    assert specs
    for path in specs:
        doc, _ = load(path)
        assert doc.data["specforge"] == FORMAT_VERSION, path
