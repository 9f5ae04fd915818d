"""The loader: YAML 1.2 values, source positions, and refusing dangerous input."""

from __future__ import annotations

import math

import pytest

from specforge.diagnostics import Span
from specforge.loader import MAX_ALIASES, MAX_DEPTH, SpecFileError, load, loads


def value(text: str, key: str = "x"):
    doc, diags = loads(f"{key}: {text}\n")
    assert diags == []
    return doc.data[key]


# ---------------------------------------------------------------- YAML 1.2 values


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1e-3", 0.001),
        ("1e3", 1000.0),
        ("1.0e+3", 1000.0),
        ("-2.5E-2", -0.025),
        (".5", 0.5),
        ("010", 10),
        ("0o17", 15),
        ("0x1F", 31),
        ("-7", -7),
        ("+3", 3),
        ("3.10", 3.1),
    ],
)
def test_numbers_follow_yaml_1_2(text, expected):
    got = value(text)
    assert got == expected
    assert type(got) is type(expected)


def test_learning_rate_1e_minus_3_is_the_float_0_001():
    doc, _ = loads("optimizer: {type: sgd, learning_rate: 1e-3}\n")
    assert doc.data["optimizer"]["learning_rate"] == 0.001


@pytest.mark.parametrize("word", ["no", "No", "off", "on", "yes", "y", "n", "On"])
def test_yaml_1_1_boolean_words_stay_strings(word):
    assert value(word) == word


def test_the_key_on_stays_the_string_on():
    doc, _ = loads("on: 1\n")
    assert doc.data == {"on": 1}


@pytest.mark.parametrize("text", ["2001-12-14", "2001-12-14t21:59:43.10-05:00", "2001-13-14"])
def test_dates_stay_strings(text):
    assert value(text) == text


@pytest.mark.parametrize("text", ["1:20", "1_000", "0b101", "12:30:00"])
def test_sexagesimal_and_underscored_numbers_stay_strings(text):
    assert value(text) == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [("true", True), ("False", False), ("null", None), ("~", None), ("", None)],
)
def test_core_schema_booleans_and_nulls(text, expected):
    assert value(text) is expected


def test_nan_and_inf_load_as_floats_for_the_checker_to_refuse():
    assert math.isnan(value(".nan"))
    assert value("-.inf") == -math.inf


def test_quoted_numbers_stay_strings():
    assert value('"30"') == "30"
    assert value("'1e-3'") == "1e-3"


def test_standard_tags_convert_values():
    assert value("!!float 1") == 1.0
    assert value("!!str 10") == "10"
    assert value("!!int '7'") == 7


def test_aliases_of_small_values_are_fine():
    doc, diags = loads("a: &u 30\nb: *u\nc: &m {units: 1}\nd: *m\n")
    assert diags == []
    assert doc.data == {"a": 30, "b": 30, "c": {"units": 1}, "d": {"units": 1}}


# ---------------------------------------------------------------- positions


def test_every_value_and_key_has_its_line_and_column():
    text = "name: m\nnodes:\n  - {name: a, units: 3}\n  - name: b\n    units: 10\n"
    doc, _ = loads(text)
    assert doc.spans[("name",)] == Span(1, 7, 1, 8)
    assert doc.key_spans[("name",)] == Span(1, 1, 1, 5)
    assert doc.spans[("nodes", 0, "units")] == Span(3, 22, 3, 23)
    assert doc.key_spans[("nodes", 1, "units")] == Span(5, 5, 5, 10)
    assert doc.spans[("nodes", 1, "units")] == Span(5, 12, 5, 14)
    assert doc.spans[("nodes", 0)].line == 3


def test_span_of_a_missing_path_falls_back_to_the_nearest_ancestor():
    doc, _ = loads("nodes:\n  - {name: a}\n")
    assert doc.span(("nodes", 0, "units")) == doc.spans[("nodes", 0)]
    assert doc.span(("nothing", "here")) == doc.spans[()]


def test_json_values_have_positions_too():
    text = '{\n  "name": "m",\n  "nodes": [{"name": "a", "units": 3}]\n}\n'
    doc, diags = loads(text, "x.json")
    assert diags == []
    assert doc.format == "json"
    assert doc.spans[("nodes", 0, "units")] == Span(3, 36, 3, 37)


def test_columns_count_characters_not_bytes():
    doc, _ = loads("d: 'ééé'\nx: [ééé, b]\n")
    assert doc.spans[("x", 1)] == Span(2, 10, 2, 11)


def test_json_accepts_astral_characters_written_as_surrogate_pairs():
    doc, diags = loads('{"name": "\\ud83d\\ude00 \\u00e9"}', "x.json")
    assert diags == []
    assert doc.data["name"] == "😀 é"


def test_json_tabs_are_whitespace():
    doc, diags = loads('{\t"name":\t"m"}', "x.json")
    assert diags == []
    assert doc.data == {"name": "m"}


def test_a_utf8_bom_is_ignored():
    doc, diags = loads("\ufeffname: m\n".encode())
    assert diags == []
    assert doc.data == {"name": "m"}


# ---------------------------------------------------------------- refusals


def codes(text: str | bytes, file: str = "<spec>", **kw) -> list[tuple[str, int, int]]:
    _, diags = loads(text, file, **kw)
    return [(d.code, d.span.line, d.span.column) for d in diags]


def test_duplicate_keys_are_an_error_at_the_second_key():
    assert codes("a: 1\nb: 2\na: 3\n") == [("duplicate-key", 3, 1)]


def test_keys_that_collide_only_after_resolution_are_duplicates():
    assert codes("1: a\n01: b\n") == [("duplicate-key", 2, 1)]


@pytest.mark.parametrize(
    "text",
    [
        "x: !!python/object/apply:os.system ['true']\n",
        "x: !!python/name:os.system\n",
        "x: !!python/object:collections.OrderedDict {}\n",
        "x: !custom 1\n",
        "x: !!set {a, b}\n",
        "x: !!binary aGVsbG8=\n",
        "x: !!timestamp 2001-12-14\n",
    ],
)
def test_non_core_tags_are_refused(text):
    assert codes(text) == [("forbidden-tag", 1, 4)]


@pytest.mark.parametrize(
    "text", ["x: !!int 'abc'\n", "x: !!int\n", "x: !!bool 'maybe'\n", "x: !!float 'one'\n"]
)
def test_a_core_tag_on_the_wrong_value_is_a_type_error(text):
    assert codes(text) == [("wrong-type", 1, 4)]


def test_a_self_referencing_alias_is_refused():
    assert codes("layers: &x [*x]\n") == [("recursive-alias", 1, 13)]


def test_an_alias_bomb_fails_fast():
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 9):
        prev, cur = chr(ord("a") + i - 1), chr(ord("a") + i)
        lines.append(f"{cur}: &{cur} [" + ",".join([f"*{prev}"] * 9) + "]")
    [(code, line, _)] = codes("\n".join(lines) + "\n")
    assert code == "alias-limit"
    assert line == 7  # 9**6 = 531,441 values fit, the 7th level goes over 1,000,000


def test_too_many_aliases_are_refused():
    text = "x: &x 1\nys: [" + ", ".join(["*x"] * (MAX_ALIASES + 1)) + "]\n"
    [(code, line, _)] = codes(text)
    assert (code, line) == ("alias-limit", 2)


def test_nesting_deeper_than_the_limit_is_refused_without_recursion():
    text = "x: " + "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1) + "\n"
    [(code, line, col)] = codes(text)
    assert (code, line, col) == ("too-deep", 1, 4 + MAX_DEPTH - 1)
    ok = "x: " + "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1) + "\n"
    assert codes(ok) == []


def test_a_huge_integer_is_an_error_not_a_crash():
    assert codes("x: " + "9" * 5000 + "\n") == [("invalid-value", 1, 4)]


def test_multiple_documents_are_refused():
    assert codes("a: 1\n---\nb: 2\n") == [("multiple-documents", 2, 1)]


def test_an_explicit_single_document_is_fine():
    assert codes("---\na: 1\n...\n") == []


@pytest.mark.parametrize("text", ["", "   \n\n", "# only a comment\n", "---\n", "~\n"])
def test_empty_documents_are_reported(text):
    assert [c for c, _, _ in codes(text)] == ["empty-file"]


def test_bytes_that_are_not_utf8_are_reported_where_they_start():
    assert codes(b"a: 1\nb: caf\xe9\n") == [("not-utf8", 2, 7)]


def test_nul_bytes_are_reported():
    assert codes("a: 1\nb: x\x00\n") == [("not-utf8", 2, 5)]


def test_control_characters_are_reported_where_they_are():
    assert codes('a: "ééé"\nb: "x\x07"\n') == [("yaml-syntax", 2, 6)]


def test_tabs_get_a_help_line_about_tabs():
    _, [d] = loads("a:\n\t- 1\n")
    assert (d.code, d.span.line, d.span.column) == ("yaml-syntax", 2, 1)
    assert "tab" in d.help


def test_a_size_limit_applies_to_text_and_files(tmp_path, monkeypatch):
    assert codes("a: 1\n" * 10, max_bytes=20) == [("too-large", 1, 1)]
    monkeypatch.setenv("SPECFORGE_MAX_SPEC_BYTES", "20")
    assert codes("a: 1\n" * 10) == [("too-large", 1, 1)]
    path = tmp_path / "big.yaml"
    path.write_text("a: 1\n" * 10)
    _, [d] = load(path)
    assert d.code == "too-large" and d.file == str(path)


def test_an_invalid_size_limit_setting_is_an_environment_error(monkeypatch):
    monkeypatch.setenv("SPECFORGE_MAX_SPEC_BYTES", "lots")
    with pytest.raises(SpecFileError, match="SPECFORGE_MAX_SPEC_BYTES"):
        loads("a: 1\n")


def test_json_syntax_errors_point_at_the_problem():
    assert codes('{"a": 1,\n "b" 2}', "x.json") == [("json-syntax", 2, 6)]


def test_json_duplicate_keys_are_an_error():
    assert codes('{"a": 1,\n "a": 2}', "x.json") == [("duplicate-key", 2, 2)]


def test_a_missing_file_or_a_directory_is_a_file_error(tmp_path):
    with pytest.raises(SpecFileError, match="no such file"):
        load(tmp_path / "missing.yaml")
    with pytest.raises(SpecFileError, match="is a directory"):
        load(tmp_path)


def test_the_loader_never_raises_on_random_bytes():
    import random

    rng = random.Random(0)
    for _ in range(300):
        blob = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 64)))
        loads(blob)
        loads(blob, "x.json")
