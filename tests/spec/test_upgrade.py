"""``specforge upgrade``: rewrites a spec in the current format, comments and layout kept."""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

import pytest

from specforge.api import check_file
from specforge.plugin import hookimpl
from specforge.spec.migrate import rename_key
from specforge.spec.upgrade import detect_indent
from specforge.testing import plugins_installed

HERE = Path(__file__).resolve().parent
FIXTURES = HERE / "fixtures"


@pytest.fixture
def v1(tmp_path) -> Path:
    path = tmp_path / "aux.yaml"
    shutil.copy(FIXTURES / "v1_aux.yaml", path)
    return path


def _changed_lines(before: str, after: str) -> list[tuple[str, str]]:
    a, b = before.splitlines(), after.splitlines()
    assert len(a) == len(b)
    return [(x, y) for x, y in zip(a, b, strict=True) if x != y]


def test_in_place_rewrites_only_what_the_migration_changes(cli_run, v1):
    before = v1.read_text()
    os.chmod(v1, 0o640)
    result = cli_run("upgrade", str(v1), "--in-place")
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        f"upgraded {v1} in place: format 1 -> 2 (outputs[].weight is renamed loss_weight)\n"
    )
    after = v1.read_text()
    assert _changed_lines(before, after) == [
        ("specforge: 1   # the format version", "specforge: 2   # the format version"),
        ("    weight: 0.9        # the loss weight", "    loss_weight: 0.9   # the loss weight"),
        (
            "  - {node: aux_output, loss: mse, weight: 0.1}",
            "  - {node: aux_output, loss: mse, loss_weight: 0.1}",
        ),
    ]
    # every comment survives, the file keeps its mode, no temporary file is left
    for comment in [line for line in before.splitlines() if "#" in line]:
        assert comment.split("#", 1)[1] in after
    assert stat.S_IMODE(v1.stat().st_mode) == 0o640
    assert sorted(p.name for p in v1.parent.iterdir()) == ["aux.yaml"]
    upgraded = check_file(v1)
    assert upgraded.ok and upgraded.diagnostics == []


def test_output_option_leaves_the_spec_alone(cli_run, v1, tmp_path):
    before = v1.read_text()
    out = tmp_path / "sub" / "new.yaml"
    result = cli_run("upgrade", str(v1), "-o", str(out))
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"upgraded {v1} -> {out}: format 1 -> 2")
    assert v1.read_text() == before
    assert "loss_weight: 0.9" in out.read_text() and check_file(out).ok


def test_without_a_target_it_prints_the_upgraded_spec(cli_run, v1):
    result = cli_run("upgrade", str(v1))
    assert result.exit_code == 0
    assert (
        result.stdout.startswith("# A spec written in format 1")
        and "loss_weight: 0.1" in result.stdout
    )
    assert "format 1 -> 2" in result.stderr


def test_json_keeps_its_layout_byte_for_byte_but_the_changes(cli_run, tmp_path):
    path = tmp_path / "aux.json"
    shutil.copy(FIXTURES / "v1_aux.json", path)
    before = path.read_text()
    assert cli_run("upgrade", str(path), "--in-place").exit_code == 0
    after = path.read_text()
    assert after == before.replace('"specforge": 1', '"specforge": 2').replace(
        '"weight"', '"loss_weight"'
    )
    assert check_file(path).ok and check_file(path).diagnostics == []


def test_a_current_spec_is_left_alone_with_a_message(cli_run, v1):
    assert cli_run("upgrade", str(v1), "--in-place").exit_code == 0
    text, mtime = v1.read_text(), v1.stat().st_mtime_ns
    result = cli_run("upgrade", str(v1), "--in-place")
    assert result.exit_code == 0
    assert result.stderr == f"{v1}: already in format 2; nothing to do\n"
    assert v1.read_text() == text and v1.stat().st_mtime_ns == mtime


def test_a_newer_spec_is_a_located_error(cli_run, tmp_path):
    path = tmp_path / "new.yaml"
    path.write_text("specforge: 7\nname: m\n")
    result = cli_run("upgrade", str(path), "--in-place")
    assert result.exit_code == 1
    assert f"{path}:1:12: error[unsupported-version]" in result.stdout
    assert path.read_text() == "specforge: 7\nname: m\n"


def test_a_spec_that_does_not_load_is_not_upgraded(cli_run, tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("specforge: 1\nname: m\nname: n\n")
    result = cli_run("upgrade", str(path), "--in-place")
    assert result.exit_code == 1 and "error[duplicate-key]" in result.stdout
    assert "cannot be upgraded" in result.stderr


def test_usage_errors(cli_run, v1, tmp_path):
    both = cli_run("upgrade", str(v1), "--in-place", "-o", str(tmp_path / "x.yaml"))
    assert both.exit_code == 2 and "exclude each other" in both.stderr
    assert cli_run("upgrade", str(tmp_path / "missing.yaml")).exit_code == 2


class RenameUnits:
    @hookimpl
    def register_migrations(self, register):
        def units_comment_kept(spec):
            for node in spec["nodes"]:
                rename_key(node, "width", "units")

        register(1, 2, units_comment_kept, "Dense: width is renamed units")


def test_a_plugins_migration_rewrites_the_file_too(cli_run, v1):
    v1.write_text(v1.read_text().replace("units: 100", "width: 100"))
    with plugins_installed(("width", RenameUnits()), entry_points=False):
        result = cli_run("upgrade", str(v1), "--in-place")
        assert result.exit_code == 0, result.output
        assert "Dense: width is renamed units" in result.stdout
        assert "{name: hidden2, type: Dense, units: 100, activation: relu}" in v1.read_text()
        assert check_file(v1).ok


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a:\n  - 1\nb:\n  c: 1\n", (2, 4, 2)),
        ("a:\n- 1\nb:\n    c: 1\n", (4, 2, 0)),
        ("a: 1\n", (2, 2, 0)),
    ],
)
def test_indentation_is_detected_from_the_file(text, expected):
    assert detect_indent(text) == expected
