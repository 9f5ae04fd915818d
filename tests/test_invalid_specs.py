"""Broken specs, side by side with the diagnostics they must produce.

Each ``tests/fixtures/invalid/NAME.yaml`` (or ``.json``) has a ``NAME.expected``
listing, in order, the ``file:line:col: severity[code]`` head of every
diagnostic ``specforge validate`` prints for it. Lines starting with ``#`` are
directives: ``# args: --strict`` adds CLI options, ``# env: NAME=VALUE`` sets an
environment variable. Every case must exit 1 with positioned diagnostics and no
traceback.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

INVALID = Path(__file__).resolve().parent / "fixtures" / "invalid"
HEAD = re.compile(
    r"^(?P<file>\S+):(?P<line>\d+):(?P<col>\d+): (?P<severity>error|warning|note)\[(?P<code>[a-z0-9-]+)\]",
    re.M,
)

#: Codes no spec file can produce on its own, and where they are tested instead.
NOT_FROM_A_FILE = {
    "plugin-error": "a plugin's shape inference raising: tests/test_plugins_core.py",
    "invalid-spec": "defensive: every path that fails to build a graph reports its own error first",
}


def read_expected(case: Path) -> tuple[list[str], dict[str, str], list[str]]:
    """(expected heads, environment, extra CLI args) of a fixture."""
    heads: list[str] = []
    env: dict[str, str] = {}
    args: list[str] = []
    for line in case.with_suffix(".expected").read_text(encoding="utf-8").splitlines():
        if line.startswith("# env: "):
            name, value = line[len("# env: ") :].split("=", 1)
            env[name] = value
        elif line.startswith("# args: "):
            args += line[len("# args: ") :].split()
        elif line.strip() and not line.startswith("#"):
            heads.append(line.strip())
    return heads, env, args


def test_there_are_at_least_30_broken_spec_fixtures():
    cases = [p for p in INVALID.iterdir() if p.suffix in (".yaml", ".json")]
    assert len(cases) >= 30
    for case in cases:
        assert case.with_suffix(".expected").is_file(), f"{case.name} has no .expected file"


def test_broken_spec_exits_1_with_exactly_the_expected_diagnostics(
    invalid_case, cli_run, monkeypatch
):
    expected, env, args = read_expected(invalid_case)
    monkeypatch.chdir(INVALID)
    result = cli_run("validate", *args, invalid_case.name, env=env)
    assert result.exception is None, result.exception
    assert "Traceback" not in result.output
    assert result.exit_code == 1, result.output
    heads = [m.group(0) for m in HEAD.finditer(result.stdout)]
    assert heads == expected, result.stdout
    assert heads, "a broken spec must produce at least one positioned diagnostic"
    assert re.fullmatch(
        rf"{re.escape(invalid_case.name)}: invalid \(\d+ errors?, \d+ warnings?\)",
        result.stdout.splitlines()[-1],
    )


def test_broken_spec_json_output_matches_the_text_output(invalid_case, cli_run, monkeypatch):
    expected, env, args = read_expected(invalid_case)
    monkeypatch.chdir(INVALID)
    result = cli_run("validate", "--format", "json", *args, invalid_case.name, env=env)
    assert result.exit_code == 1
    diagnostics = json.loads(result.stdout)
    got = [
        f"{d['file']}:{d['line']}:{d['column']}: {d['severity']}[{d['code']}]" for d in diagnostics
    ]
    assert got == expected
    for d in diagnostics:
        assert set(d) == {
            "file",
            "line",
            "column",
            "end_line",
            "end_column",
            "severity",
            "code",
            "message",
            "help",
        }
        assert (d["end_line"], d["end_column"]) >= (d["line"], d["column"])
        assert d["message"]


def test_broken_spec_in_a_real_process_prints_no_traceback(run_specforge):
    """End to end, a handful of the nastiest inputs: exit 1, no traceback, nothing on stderr but the summary."""
    names = [
        "billion_laughs.yaml",
        "binary_garbage.yaml",
        "python_object_apply.yaml",
        "self_alias.yaml",
        "tabs.yaml",
    ]
    proc = run_specforge("validate", *names, cwd=INVALID)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stdout + proc.stderr
    for name in names:
        assert f"{name}: invalid" in proc.stdout


def test_every_code_the_loader_and_checker_emit_is_covered_by_a_fixture(core_codes):
    covered: dict[str, list[str]] = {}
    for case in sorted(INVALID.iterdir()):
        if case.suffix != ".expected":
            continue
        for head in read_expected(case.with_suffix(".yaml"))[0]:
            m = HEAD.match(head)
            assert m, f"{case.name}: malformed line {head!r}"
            covered.setdefault(m.group("code"), []).append(head)
    missing = sorted(set(core_codes) - set(covered) - set(NOT_FROM_A_FILE))
    assert not missing, f"codes without a fixture: {missing}"
    assert "cycle" in core_codes and "unknown-activation" in core_codes  # the scan works


@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_1000_deep_nesting_is_a_positioned_error_not_a_recursion_error(
    fmt, cli_run, tmp_path, monkeypatch
):
    """At the 65th level with every PyYAML: libyaml 0.2.6 refuses 1,000 levels itself."""
    depth = 1000
    if fmt == "yaml":
        prefix, line = "specforge: 2\nname: deep\ntrain: {x: ", 3
        text = prefix + "[" * depth + "]" * depth + "}\n"
    else:
        prefix, line = '{"specforge": 2, "name": "deep", "train": {"x": ', 1
        text = prefix + "[" * depth + "]" * depth + "}}\n"
    # The spec and train are levels 1 and 2: the 63rd '[' opens the 65th level.
    col = len(prefix.split("\n")[-1]) + 63
    path = tmp_path / f"deep.{fmt}"
    path.write_text(text)
    monkeypatch.chdir(tmp_path)
    result = cli_run("validate", path.name)
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    heads = [m.group(0) for m in HEAD.finditer(result.stdout)]
    assert heads == [f"deep.{fmt}:{line}:{col}: error[too-deep]"], result.stdout


def test_1000_deep_block_mapping_is_a_positioned_error(cli_run, tmp_path, monkeypatch):
    text = "specforge: 2\nname: deep\ntrain:\n" + "".join(
        "  " * (i + 1) + f"k{i}:\n" for i in range(1000)
    )
    (tmp_path / "deep.yaml").write_text(text)
    monkeypatch.chdir(tmp_path)
    result = cli_run("validate", "deep.yaml")
    assert result.exit_code == 1
    heads = [m.group(0) for m in HEAD.finditer(result.stdout)]
    # The mapping under k62 is the 65th level (the spec is the 1st, train's value the 2nd):
    # it starts at its first key, k63, on line 3 + 64, indented 2 × 64.
    assert heads == ["deep.yaml:67:129: error[too-deep]"]
