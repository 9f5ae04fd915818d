"""``specforge schema``: a valid draft 2020-12 schema, on stdout or in a file."""

from __future__ import annotations

import json

import jsonschema


def test_schema_prints_a_valid_draft_2020_12_schema(cli_run):
    result = cli_run("schema")
    assert result.exit_code == 0, result.output
    schema = json.loads(result.stdout)
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["required"] == ["specforge", "name", "inputs", "nodes", "outputs", "optimizer"]


def test_schema_output_option_writes_the_same_schema_to_a_file(cli_run, tmp_path):
    target = tmp_path / "specforge.schema.json"
    result = cli_run("schema", "-o", str(target))
    assert result.exit_code == 0
    assert result.stdout == ""
    assert f"wrote {target}" in result.stderr
    assert json.loads(target.read_text()) == json.loads(cli_run("schema").stdout)


def test_schema_in_a_real_process(run_specforge):
    proc = run_specforge("schema")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["title"] == "specforge model spec, format 1"
