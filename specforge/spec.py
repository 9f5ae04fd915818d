"""The spec language, version 1, as pydantic models.

These models are the single source of the format: the checker validates each
section with them, and ``specforge schema`` generates the JSON Schema from them
(plus each registered node type's ``Params``). Node parameters and optimizer
parameters belong to plugins, so the node and optimizer models here only hold
the keys every node and optimizer share.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .diagnostics import Diagnostic
from .loader import Document, Path_

FORMAT_VERSION = 1
NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_.\-]*$"

Name = Annotated[
    str,
    Field(
        pattern=NAME_PATTERN,
        min_length=1,
        max_length=128,
        description="A name: letters, digits, '_', '-', '.'; starting with a letter or '_'.",
    ),
]
DTYPES = ("float32", "float64", "float16", "int32", "int64", "uint8", "bool")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class InputSpec(_Strict):
    """A model input. ``shape`` excludes the batch axis."""

    name: Name
    shape: list[Annotated[int, Field(gt=0)]] = Field(
        min_length=1, description="Dimensions without the batch axis."
    )
    dtype: Literal[DTYPES] = "float32"  # type: ignore[valid-type]


class NodeHeader(BaseModel):
    """The keys every node has; the remaining keys are the node type's parameters."""

    model_config = ConfigDict(extra="allow", strict=True, frozen=True)

    name: Name
    type: str = Field(description="A registered node type, e.g. Dense.")
    inputs: Any = Field(
        None,
        description="Names of the inputs or nodes this node reads; default: the node above it "
        "(the first node reads the only input).",
    )


class OutputSpec(_Strict):
    """A model output: the node it comes from and how it is trained."""

    node: str = Field(description="The node whose output this is.")
    loss: str = Field(description="Loss name, e.g. mse or sparse_categorical_crossentropy.")
    weight: Annotated[float, Field(ge=0, allow_inf_nan=False)] = Field(
        1.0, description="Loss weight of this output in the total loss."
    )
    metrics: list[str] = Field(default_factory=list, description="Metric names, e.g. accuracy.")


class OptimizerHeader(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True, frozen=True)

    type: str = Field(description="Optimizer name: sgd, adam, rmsprop, ...")


class SpecHeader(_Strict):
    """The top level of a spec (sections validated on their own are typed loosely here)."""

    specforge: Literal[1] = Field(description="Format version of the spec language; must be 1.")
    name: Name = Field(description="The model's name.")
    description: str | None = Field(None, description="Free text: what the model is for.")
    inputs: list[Any] = Field(
        min_length=1, description="The model's inputs: {name, shape, dtype?} each."
    )
    nodes: list[Any] = Field(
        min_length=1, description="The graph: {name, type, inputs?, ...parameters} each."
    )
    outputs: list[Any] = Field(
        min_length=1,
        description="What the model is trained on: {node, loss, weight?, metrics?} each.",
    )
    # Keys inside these sections are checked by the section's own model (once).
    optimizer: dict[Any, Any] = Field(description="The optimizer: {type, ...parameters}.")
    data: dict[Any, Any] | None = Field(
        None, description="Dataset, split, preprocessing and feeds (for training)."
    )
    train: dict[Any, Any] | None = Field(
        None, description="Training settings: epochs, batch size, seed, ..."
    )


TOP_LEVEL_KEYS = tuple(SpecHeader.model_fields)

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


def _describe_value(value: Any) -> str:
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
    from .diagnostics import did_you_mean

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
                f"{where}: '{field_text}' must be {word}, not {_describe_value(err.get('input'))}",
                path,
                help=_type_help(expected, err.get("input")),
            )
        elif kind == "literal_error":
            yield doc.diagnostic(
                "invalid-value",
                f"{where}: '{field_text}' {err['msg'].replace('Input should be', 'must be')}, "
                f"not {_describe_value(err.get('input'))}",
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
        else:
            msg = err["msg"].replace("Input should", "must").replace("String should", "must")
            if kind == "finite_number":
                msg = "must be a finite number (not NaN or infinity)"
            elif kind == "string_pattern_mismatch":
                msg = "must start with a letter or '_' and contain only letters, digits, '_', '-' and '.'"
            yield doc.diagnostic(
                "invalid-value",
                f"{where}: '{field_text}' {msg}"
                + (f", got {_describe_value(err.get('input'))}" if kind != "too_short" else ""),
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
