"""The docs stay true: generated tables in sync, every diagnostic code documented."""

from __future__ import annotations

import re
from pathlib import Path

from specforge import docs_gen

DOCS = Path(__file__).resolve().parent.parent / "docs"


def test_spec_reference_is_up_to_date_with_the_generator():
    current = (DOCS / "spec.md").read_text(encoding="utf-8")
    generated = docs_gen.blocks()
    assert docs_gen.missing_blocks(current, generated) == []
    assert docs_gen.render(current, generated) == current, (
        "docs/spec.md is out of date: run python -m specforge.docs_gen"
    )


def test_the_docs_generator_check_mode_agrees():
    assert docs_gen.main(["--check"]) == 0


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
