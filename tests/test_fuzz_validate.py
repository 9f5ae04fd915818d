"""Random mutations of the seed specs never crash ``validate``.

Whatever the input, ``specforge validate`` exits 0 or 1 with diagnostics, and
``api.check_text`` returns a result: no exception, no traceback.
"""

from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from specforge.api import check_text
from specforge.cli import cli

SPECS = Path(__file__).resolve().parent.parent / "specs"
SEEDS = sorted(p for p in SPECS.iterdir() if p.suffix in (".yaml", ".json"))
TEXTS = [(p.suffix, p.read_text(encoding="utf-8")) for p in SEEDS]

WORDS = [
    "Dense",
    "Flatten",
    "Concatenate",
    "relu",
    "softmax",
    "mse",
    "sgd",
    "adam",
    "inputs",
    "nodes",
    "outputs",
    "name",
    "type",
    "units",
    "shape",
    "loss",
    "weight",
    "axis",
    "specforge",
    "optimizer",
    "hidden1",
    "hidden2",
    "output",
    "true",
    "no",
    "null",
    "~",
    "1e-3",
    ".nan",
    "-.inf",
    "[]",
    "{}",
]
NUMBERS = [
    "0",
    "-1",
    "1",
    "2",
    "0.5",
    "1e-3",
    ".nan",
    ".inf",
    "-.inf",
    "99999999999999999999",
    "1.5",
    "010",
    "0x1F",
    '"3"',
    "true",
]
NOISE = st.sampled_from(
    [
        *"\t :-[]{},'\"&*!%#|>?@`\n\\",
        "\x00",
        "\x07",
        "é",
        "😀",
        "---",
        "&a",
        "*a",
        "!!python/name:os.system ",
    ]
)


@st.composite
def mutated_spec(draw) -> tuple[str, str]:
    suffix, text = draw(st.sampled_from(TEXTS))
    for _ in range(draw(st.integers(1, 4))):
        lines = text.split("\n")
        n = len(lines)
        op = draw(
            st.sampled_from(
                [
                    "delete",
                    "duplicate",
                    "swap",
                    "insert",
                    "number",
                    "rename",
                    "truncate",
                    "indent",
                    "dedent",
                    "tab",
                ]
            )
        )
        i = draw(st.integers(0, max(n - 1, 0)))
        if op == "delete" and n > 1:
            del lines[i]
        elif op == "duplicate":
            lines.insert(i, lines[i])
        elif op == "swap":
            j = draw(st.integers(0, max(n - 1, 0)))
            lines[i], lines[j] = lines[j], lines[i]
        elif op == "insert":
            pos = draw(st.integers(0, len(lines[i])))
            lines[i] = lines[i][:pos] + draw(NOISE) + lines[i][pos:]
        elif op == "number":
            spots = list(re.finditer(r"-?\d+(\.\d+)?", text))
            if spots:
                m = draw(st.sampled_from(spots))
                text = text[: m.start()] + draw(st.sampled_from(NUMBERS)) + text[m.end() :]
                continue
        elif op == "rename":
            spots = list(re.finditer(r"[A-Za-z_][A-Za-z0-9_]*", text))
            if spots:
                m = draw(st.sampled_from(spots))
                word = draw(
                    st.one_of(st.sampled_from(WORDS), st.text("abcxyz_", min_size=1, max_size=6))
                )
                text = text[: m.start()] + word + text[m.end() :]
                continue
        elif op == "truncate":
            text = text[: draw(st.integers(0, len(text)))]
            continue
        elif op == "indent":
            lines[i] = " " * draw(st.integers(1, 4)) + lines[i]
        elif op == "dedent":
            lines[i] = lines[i][draw(st.integers(1, 4)) :]
        elif op == "tab":
            lines[i] = "\t" + lines[i]
        text = "\n".join(lines)
    return suffix, text


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=mutated_spec())
def test_check_text_never_raises_on_a_mutated_spec(case):
    suffix, text = case
    result = check_text(text, f"fuzz{suffix}")
    assert result.ok == (result.graph is not None)
    for d in result.diagnostics:
        assert d.span.line >= 1 and d.span.column >= 1
        assert d.code and d.message
    if not result.ok:
        assert any(d.is_error for d in result.diagnostics)


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(case=mutated_spec())
def test_validate_exits_0_or_1_on_a_mutated_spec(case, tmp_path_factory):
    suffix, text = case
    folder = tmp_path_factory.mktemp("fuzz", numbered=True)
    path = folder / f"spec{suffix}"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    for fmt in ("text", "json"):
        result = CliRunner().invoke(cli, ["validate", "--format", fmt, str(path)])
        assert result.exception is None or isinstance(result.exception, SystemExit), (
            result.exception
        )
        assert result.exit_code in (0, 1), result.output
        assert "Traceback" not in result.output
