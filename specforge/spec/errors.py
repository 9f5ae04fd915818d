"""pydantic validation errors as positioned diagnostics, in words people read."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pydantic import ValidationError

from ..diagnostics import Diagnostic, did_you_mean
from .load import Document, Path_

_TYPE_WORDS = {
    "int": "an integer",
    "float": "a number",
    "bool": "true or false",
    "string": "a string",
    "str": "a string",
    "list": "a list",
    "dict": "a mapping",
    "model": "a mapping",
    "tuple": "a list",
    "none": "null",
}


def describe_value(value: Any) -> str:
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, str):
        return f"the string '{value}'" if len(value) < 40 else "a string"
    if isinstance(value, (int, float)):
        return f"the number {value}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    if value is None:
        return "null"
    return type(value).__name__


def _yaml_text(value: Any) -> str:
    """A scalar as it is written in YAML (true, null, 1.5)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def _loc_text(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def pydantic_diagnostics(
    doc: Document,
    error: ValidationError,
    base: Path_,
    *,
    where: str,
    fields: list[str] | None = None,
) -> Iterator[Diagnostic]:
    """Turn pydantic's errors into positioned diagnostics.

    ``base`` is the document path of the validated value, ``where`` a phrase
    naming it for people ("node 'hidden1'"), ``fields`` the valid keys (for
    did-you-mean on unknown keys).
    """
    for err in error.errors(include_url=False):
        loc = tuple(err["loc"])
        path = (*base, *loc)
        kind = err["type"]
        field_text = _loc_text(loc)
        if kind == "invalid_key" or "[key]" in loc:
            # A key that is not a string (``1:``, ``null:``, ``true:``); pydantic writes
            # some keys into ``loc`` as text, so the key is taken from the input.
            if kind == "invalid_key":
                key, parent = err.get("input"), loc[:-1]
            else:
                cut = loc.index("[key]")
                key, parent = loc[cut - 1], loc[: cut - 1]
            yield doc.diagnostic(
                "wrong-type",
                f"{where}: the key {_yaml_text(key)} is not a name: keys must be strings",
                (*base, *parent, key),
                key=True,
                help=f"write a name, or quote it: '{_yaml_text(key)}'",
            )
            continue
        if kind == "missing":
            yield doc.diagnostic(
                "missing-field",
                f"{where} is missing required key '{field_text}'",
                path[:-1],
                help=f"add '{loc[-1]}:'" if loc else None,
            )
        elif kind == "extra_forbidden":
            yield doc.diagnostic(
                "unknown-field",
                f"{where} has unknown key '{loc[-1]}'",
                path,
                key=True,
                help=(
                    "YAML merge keys (<<) are not part of YAML 1.2: write the keys out"
                    if loc[-1] == "<<"
                    else did_you_mean(str(loc[-1]), fields or [])
                    or (f"valid keys: {', '.join(fields)}" if fields else None)
                ),
            )
        elif kind.endswith("_type") or kind in ("model_attributes_type", "dict_type", "list_type"):
            expected = kind[: -len("_type")].split("_")[0] if kind.endswith("_type") else kind
            word = _TYPE_WORDS.get(expected, expected)
            yield doc.diagnostic(
                "wrong-type",
                f"{where}: '{field_text}' must be {word}, not {describe_value(err.get('input'))}",
                path,
                help=_type_help(expected, err.get("input")),
            )
        elif kind == "literal_error":
            yield doc.diagnostic(
                "invalid-value",
                f"{where}: '{field_text}' {err['msg'].replace('Input should be', 'must be')}, "
                f"not {describe_value(err.get('input'))}",
                path,
            )
        elif kind == "too_short" and isinstance(err.get("input"), list):
            need = (err.get("ctx") or {}).get("min_length", 1)
            got = len(err["input"])
            yield doc.diagnostic(
                "invalid-value",
                f"{where}: '{field_text}' needs at least {need} item{'s' * (need != 1)}, "
                + (f"got {got}" if got else "but it is empty"),
                path,
            )
        elif (err.get("ctx") or {}).get("help"):
            # A validator's own sentence (PydanticCustomError with a help, maybe a code).
            ctx = err["ctx"]
            yield doc.diagnostic(
                ctx.get("code", "invalid-value"), f"{where} {err['msg']}", path, help=ctx["help"]
            )
        else:
            msg = err["msg"].replace("Input should", "must").replace("String should", "must")
            if kind == "finite_number":
                msg = "must be a finite number (not NaN or infinity)"
            elif kind == "string_pattern_mismatch":
                msg = "must start with a letter or '_' and contain only letters, digits, '_', '-' and '.'"
            yield doc.diagnostic(
                "invalid-value",
                f"{where}: '{field_text}' {msg}"
                + (f", got {describe_value(err.get('input'))}" if kind != "too_short" else ""),
                path,
                help="write an ordinary number: .nan, .inf and -.inf are not allowed here"
                if kind == "finite_number"
                else None,
            )


#: YAML 1.1 spellings of booleans, which YAML 1.2 (and so a spec) reads as strings.
_YAML11_BOOLEANS = {
    "yes": "true",
    "y": "true",
    "on": "true",
    "true": "true",
    "no": "false",
    "n": "false",
    "off": "false",
    "false": "false",
}


def _type_help(expected: str, value: Any) -> str | None:
    if expected == "int" and isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return f"remove the quotes: {value.strip()}"
    if expected == "float" and isinstance(value, str):
        try:
            float(value)
        except ValueError:
            return None
        return f"remove the quotes: {value.strip()}"
    if expected == "bool" and isinstance(value, str):
        word = _YAML11_BOOLEANS.get(value.strip().lower())
        if word is not None:
            return f"specs are YAML 1.2, where '{value}' is a string: write {word}"
        return "write true or false (without quotes)"
    if expected in ("list", "tuple"):
        return "write a list: [a, b] or one item per line starting with '- '"
    if expected in ("dict", "model") and isinstance(value, str):
        return (
            f"write a mapping, for example {{type: {value}}}"
            if value.isidentifier()
            else "write a mapping: {key: value}"
        )
    return None
