"""The loader: YAML 1.2 values, source positions, and refusing dangerous input."""

from __future__ import annotations

import math

import pytest
import yaml

from specforge.diagnostics import Span
from specforge.spec import load as loader
from specforge.spec.load import MAX_ALIASES, MAX_DEPTH, SpecFileError, load, loads


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


# ---------------------------------------------------------------- JSON read as JSON


def json_value(text: str):
    doc, diags = loads('{"x": ' + text + "}", "x.json")
    assert diags == []
    return doc.data["x"]


@pytest.mark.parametrize("word", ["NaN", "Infinity", "-Infinity"])
def test_json_has_no_nan_or_infinity(word):
    _, [d] = loads('{"a": 1,\n "b": ' + word + "}", "x.json")
    assert (d.code, d.span) == ("json-syntax", Span(2, 7, 2, 7 + len(word)))
    assert word in d.message and "null" in d.help


def test_json_nan_is_reported_before_later_problems():
    # json.loads stops at the constant; a duplicate key before it is not reached first.
    assert codes('{"a": 1, "a": NaN}', "x.json") == [("json-syntax", 1, 15)]
    assert codes('{"s": "NaN", "b": [Infinity]}', "x.json") == [("json-syntax", 1, 20)]


@pytest.mark.parametrize(
    "chars", ["\x7f", "\uffff", "\ufffe", "\x80", "\x9f", "\x85", "\u2028", "\u2029", "\ud7ff"]
)
def test_json_strings_hold_every_character_json_allows(chars):
    text = f'{{"a": "x{chars}y", "k{chars}": 1,\n "b": 2}}'
    doc, diags = loads(text, "x.json")
    assert diags == []
    assert doc.data == {"a": f"x{chars}y", f"k{chars}": 1, "b": 2}
    assert doc.spans[("b",)] == Span(2, 7, 2, 8)  # no line break counted inside the strings


def test_json_keys_may_be_longer_than_yamls_1024_characters():
    key = "k" * 5000
    doc, diags = loads(f'{{"{key}": 1, "b": [2]}}', "x.json")
    assert diags == []
    assert doc.data == {key: 1, "b": [2]}
    assert doc.spans[("b", 0)].column == len(key) + 15


def test_json_allows_a_line_break_between_a_key_and_its_colon():
    doc, diags = loads('{"a"\n  : 1}', "x.json")
    assert diags == [] and doc.data == {"a": 1}
    assert doc.spans[("a",)] == Span(2, 5, 2, 6)


def test_json_columns_after_surrogate_pairs_count_characters():
    text = '{"e": "\\ud83d\\ude00\\ud83d\\ude00", "a": 1, "a": 2}'
    assert codes(text, "x.json") == [("duplicate-key", 1, 43)]
    doc, _ = loads(text.replace('"a": 2', '"b": 2'), "x.json")
    assert doc.data["e"] == "😀😀"
    assert doc.spans[("b",)] == Span(1, 48, 1, 49)


def test_json_lines_end_at_lf_crlf_and_cr():
    doc, diags = loads('{"a": 1,\r\n"b": 2,\r"c": 3,\n"d": [4]}', "x.json")
    assert diags == []
    assert [doc.spans[(k,)].line for k in "abcd"] == [1, 2, 3, 4]
    assert doc.spans[("d", 0)] == Span(4, 7, 4, 8)


def test_json_numbers_and_words_resolve_as_in_yaml():
    assert json_value("[-0, 1E+2, -1.5e-3, 10, true, false, null]") == [
        0,
        100.0,
        -0.0015,
        10,
        True,
        False,
        None,
    ]
    assert json_value('"12"') == "12"


def test_json_escapes_are_decoded():
    assert json_value(r'"\/\b\f\n\r\t\"\\\u00e9"') == '/\b\f\n\r\t"\\é'


def test_a_huge_json_integer_is_an_error_not_a_crash():
    assert codes('{"x": ' + "9" * 5000 + "}", "x.json") == [("invalid-value", 1, 7)]


def test_a_lone_surrogate_escape_is_a_json_error():
    _, [d] = loads('{"x": "a\\ud800b"}', "x.json")
    assert (d.code, d.span) == ("json-syntax", Span(1, 7, 1, 17))
    assert "surrogate" in d.message


@pytest.mark.parametrize(
    "text, at",
    [
        ('{"a" 1}', (1, 6)),
        ("[1,]", (1, 4)),
        ('{"a": 1}}', (1, 9)),
        ("[1 2]", (1, 4)),
        ('["x', (1, 2)),
        ("[1", (1, 3)),
        ("[1}", (1, 3)),
        ('{"a": 1,}', (1, 9)),
        ("{1: 2}", (1, 2)),
        ("[nan]", (1, 2)),
        ("1 2", (1, 3)),
    ],
)
def test_the_json_reader_checks_the_grammar_itself(text, at):
    """What json.loads would refuse first, were it not too deep for its recursion."""
    doc = loader.Document(None)
    with pytest.raises(loader._LoadError) as e:
        loader._build_json(text, doc)
    assert e.value.code == "json-syntax"
    assert (e.value.span.line, e.value.span.column) == at


def test_json_too_deep_for_json_loads_is_still_checked(monkeypatch):
    def too_deep(*args, **kwargs):
        raise RecursionError

    monkeypatch.setattr(loader.json, "loads", too_deep)
    assert codes('{"a": [1 2]}', "x.json") == [("json-syntax", 1, 10)]
    assert codes('{"a": [1, 2]}', "x.json") == []


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


def test_the_non_specific_tag_makes_a_string():
    doc, diags = loads("a: ! 12\nb: ! true\nc: ! null\nd: ! [1]\ne: ! {f: 2}\n")
    assert diags == []
    assert doc.data == {"a": "12", "b": "true", "c": "null", "d": [1], "e": {"f": 2}}


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


class _Libyaml026(yaml.SafeLoader):
    """A parser that refuses nesting as libyaml 0.2.6 does (PyYAML >= 6.0.4's wheels).

    It raises before giving any event when its text opens 1,000 flow collections at
    once; libyaml's mark (``mark_index``: at the refused bracket, or unknown) is kept.
    """

    mark_index = True

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.refused_at = None
        level = 0
        for i, ch in enumerate(stream):
            level += ch in "[{"
            level -= ch in "]}"
            if level >= 1000:
                self.refused_at = i
                break

    def check_event(self, *choices):
        at = self.refused_at
        if at is not None:
            text = self.buffer
            line = text.count("\n", 0, at)
            mark = yaml.Mark(
                "<unicode string>", at, line, at - (text.rfind("\n", 0, at) + 1), None, None
            )
            raise yaml.scanner.ScannerError(
                "while increasing flow level",
                mark,
                "exceeded maximum nesting depth",
                mark if self.mark_index else None,
            )
        return super().check_event(*choices)


@pytest.mark.parametrize("mark", ["at the bracket", "unknown"])
def test_libyamls_own_nesting_limit_is_reported_as_too_deep_at_the_65th_level(monkeypatch, mark):
    """libyaml 0.2.6 refuses 1,000 levels before the builder sees the 65th: parse again."""
    monkeypatch.setattr(_Libyaml026, "mark_index", mark == "at the bracket")
    monkeypatch.setattr(loader, "_EventLoader", _Libyaml026)
    text = "a: 1\nb: {c: " + "[" * 1000 + "]" * 1000 + "}\n"
    with pytest.raises(yaml.YAMLError, match="exceeded maximum nesting depth"):
        list(loader._events(text))
    # The spec is level 1, b's mapping level 2: the 63rd '[' opens level 65.
    assert codes(text) == [("too-deep", 2, len("b: {c: ") + 63)]
    assert codes("x: [[1]]\n") == []


def test_libyamls_nesting_limit_after_a_syntax_error_reports_the_syntax_error(monkeypatch):
    monkeypatch.setattr(_Libyaml026, "mark_index", False)
    monkeypatch.setattr(loader, "_EventLoader", _Libyaml026)
    text = "a: [1, 2\nb: c: {d: " + "[" * 1000 + "]" * 1000 + "}\n"
    assert [c for c, _, _ in codes(text)] == ["yaml-syntax"]


def test_1000_flow_levels_are_too_deep_at_the_65th_with_any_libyaml():
    """The real parser: libyaml before 0.2.6 streams, 0.2.6 refuses the text itself."""
    deep = "[" * 1000 + "]" * 1000
    # The spec is level 1; "a: [" opens level 2, so the 63rd '[' after it opens level 65.
    assert codes("a: [" + deep + "]\n") == [("too-deep", 1, 4 + 63)]
    # Columns count characters, not UTF-8 bytes; a byte-order mark is not a column.
    assert codes("é: ü\nb: {ü: " + deep + "}\n") == [("too-deep", 2, 7 + 63)]
    assert codes("\ufeffa: {x: ".encode() + deep.encode() + b"}\n") == [("too-deep", 1, 7 + 63)]


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
