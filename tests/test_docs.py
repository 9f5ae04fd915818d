"""The docs stay true: generated tables in sync, every diagnostic code documented."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

DOCS = Path(__file__).resolve().parent.parent / "docs"
_SPEC = importlib.util.spec_from_file_location("docs_generate", DOCS / "generate.py")
generate = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(generate)


def test_spec_reference_is_up_to_date_with_the_generator():
    current = (DOCS / "spec.md").read_text(encoding="utf-8")
    generated = generate.blocks()
    assert generate.missing_blocks(current, generated) == []
    assert generate.render_spec_blocks(current, generated) == current, (
        "docs/spec.md is out of date: run python docs/generate.py"
    )


def test_the_docs_generator_check_mode_agrees():
    assert generate.main(["--check"]) == 0


def test_the_check_mode_fails_with_a_diff_summary_when_a_doc_is_stale(
    tmp_path, monkeypatch, capsys
):
    stale = tmp_path / "spec.md"
    text = (DOCS / "spec.md").read_text(encoding="utf-8")
    stale.write_text(text.replace("| `units` |", "| `unitz` |", 1), encoding="utf-8")
    monkeypatch.setattr(generate, "ROOT", tmp_path)
    monkeypatch.setattr(generate, "TARGETS", {stale: generate.spec_md})
    assert generate.main(["--check"]) == 1
    err = capsys.readouterr().err
    assert "spec.md is stale: 1 line(s) to add, 1 to remove" in err
    assert "-| `unitz` |" in err and "+| `units` |" in err
    assert "run python docs/generate.py" in err
    assert stale.read_text(encoding="utf-8") != text  # --check writes nothing


def test_spec_reference_says_how_to_use_the_schema_in_an_editor():
    text = (DOCS / "spec.md").read_text(encoding="utf-8")
    assert "# yaml-language-server: $schema=./specforge.schema.json" in text
    assert "specforge schema -o specforge.schema.json" in text
    assert '"yaml.schemas"' in text


def documented_codes() -> list[str]:
    text = (DOCS / "diagnostics.md").read_text(encoding="utf-8")
    return re.findall(r"^### `([a-z0-9-]+)` \((?:error|warning)\)$", text, re.M)


def test_every_emitted_diagnostic_code_is_documented(all_codes):
    missing = sorted(set(all_codes) - set(documented_codes()))
    assert not missing, (
        f"add these codes to docs/diagnostics.md: {missing} (emitted at {[all_codes[c] for c in missing]})"
    )


def test_every_documented_code_is_emitted_somewhere(all_codes):
    documented = documented_codes()
    assert len(documented) == len(set(documented)), "a code is documented twice"
    assert sorted(set(documented) - set(all_codes)) == []


def test_each_documented_code_has_an_example_and_a_fix():
    text = (DOCS / "diagnostics.md").read_text(encoding="utf-8")
    sections = re.split(r"^### ", text, flags=re.M)[1:]
    for section in sections:
        code = section.split("`")[1]
        assert "```" in section, f"{code}: no example"
        assert "Fix:" in section, f"{code}: no fix"
        if not section.lstrip().startswith(("`file-not-readable`", "`invalid-spec`")):
            assert f"[{code}]" in section, f"{code}: the example does not show the code"
