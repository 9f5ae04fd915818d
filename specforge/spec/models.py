"""The spec language, format version 2, as pydantic models.

These models are the single source of the format: the checker validates each
section with them, and ``specforge schema`` generates the JSON Schema from them
(plus each registered node type's and optimizer's ``params_model``). Node,
optimizer, dataset and preprocessor parameters belong to plugins, so the models
here only hold the keys every node, optimizer, dataset and preprocessor share,
and the ``data`` and ``train`` sections' own keys.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

from ..plugin import Params

#: The current format version (``specforge: 2``); older specs are read through
#: the migrations of :mod:`specforge.spec.migrate` (format 1: ``outputs[].weight``).
FORMAT_VERSION = 2
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
#: The largest seed NumPy's and Keras's generators accept (they take 32-bit seeds).
MAX_SEED = 2**32 - 1
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
    loss_weight: Annotated[float, Field(ge=0, allow_inf_nan=False)] = Field(
        1.0,
        description="Weight of this output's loss in the total loss (format 1 called it 'weight').",
    )
    metrics: list[str] = Field(default_factory=list, description="Metric names, e.g. accuracy.")


class OptimizerHeader(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True, frozen=True)

    type: str = Field(description="Optimizer name: sgd, adam, rmsprop, ...")


class SpecHeader(_Strict):
    """The top level of a spec (sections validated on their own are typed loosely here)."""

    specforge: Literal[2] = Field(
        description="Format version of the spec language: 2 (1 is read through a migration)."
    )
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
        description="What the model is trained on: {node, loss, loss_weight?, metrics?} each.",
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


# ---------------------------------------------------------------- data and train sections


def _fraction_or_count(value: Any, *, zero_ok: bool) -> float | int:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise PydanticCustomError(
            "fraction_or_count", "must be a fraction between 0 and 1 or a whole number of samples"
        )
    if isinstance(value, float):
        if not math.isfinite(value) or not 0 < value < 1:
            if value == 0 and zero_ok:
                return 0
            raise PydanticCustomError(
                "fraction_or_count",
                "must be a fraction strictly between 0 and 1, or a whole number of samples (no decimal point)",
            )
        return value
    if value < 0 or (value == 0 and not zero_ok):
        raise PydanticCustomError(
            "fraction_or_count",
            "must be a positive number of samples or a fraction between 0 and 1",
        )
    return value


class SplitSpec(Params):
    """How the data is split into training, validation and test sets."""

    test: Any = Field(
        0.25,
        description="Test set: a fraction of the samples (0 < f < 1) or a count; "
        "ignored when the dataset has its own test split.",
        json_schema_extra={
            "anyOf": [
                {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
                {"type": "integer", "minimum": 1},
            ]
        },
    )
    validation: Any = Field(
        0.25,
        description="Validation set, taken from what is left for training: a fraction or a count (0: none).",
        json_schema_extra={
            "anyOf": [
                {"type": "number", "minimum": 0, "exclusiveMaximum": 1},
                {"type": "integer", "minimum": 0},
            ]
        },
    )
    seed: int = Field(
        0, ge=0, le=MAX_SEED, description="Seed of the shuffles that make the splits (0..2**32-1)."
    )
    stratify: bool = Field(
        False, description="Keep class proportions equal across the splits (classification)."
    )

    @field_validator("test", mode="plain")
    @classmethod
    def _test(cls, value: Any) -> float | int:
        return _fraction_or_count(value, zero_ok=False)

    @field_validator("validation", mode="plain")
    @classmethod
    def _validation(cls, value: Any) -> float | int:
        return _fraction_or_count(value, zero_ok=True)


def _selector(value: Any) -> Any:
    ok_item = lambda v: isinstance(v, str) or (isinstance(v, int) and not isinstance(v, bool))  # noqa: E731
    if ok_item(value) or (isinstance(value, list) and value and all(ok_item(v) for v in value)):
        return value
    raise PydanticCustomError(
        "selector",
        "must be a slice string such as '0:5', a column index or name, or a non-empty list of indices and names",
    )


_SELECTOR_SCHEMA = {
    "anyOf": [
        {"type": "string", "description": "a slice 'start:stop' or a column name"},
        {"type": "integer"},
        {
            "type": "array",
            "minItems": 1,
            "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
        },
    ]
}


class FeedSpec(Params):
    """Which feature columns reach one model input."""

    columns: Any = Field(
        description="Slice string ('0:5'), index, name or list of them, over the features of one sample flattened.",
        json_schema_extra=_SELECTOR_SCHEMA,
    )

    @field_validator("columns", mode="plain")
    @classmethod
    def _columns(cls, value: Any) -> Any:
        return _selector(value)


class TargetSpec(Params):
    """Which target column(s) reach one model output."""

    columns: Any = Field(
        description="Slice string, index, name or list of them, over the dataset's target columns.",
        json_schema_extra=_SELECTOR_SCHEMA,
    )

    @field_validator("columns", mode="plain")
    @classmethod
    def _columns(cls, value: Any) -> Any:
        return _selector(value)


class DataHeader(Params):
    """The keys of the data section; each part is validated on its own."""

    dataset: dict[str, Any] = Field(description="The dataset: {type: NAME, ...its parameters}.")
    split: dict[str, Any] = Field(default_factory=dict, description="Test/validation split.")
    preprocess: list[Any] = Field(
        default_factory=list, description="Preprocessors, applied in order."
    )
    feeds: dict[str, Any] = Field(
        default_factory=dict, description="Feature columns per model input."
    )
    targets: dict[str, Any] = Field(
        default_factory=dict, description="Target columns per model output."
    )


Mode = Literal["auto", "min", "max"]


class EarlyStoppingSpec(Params):
    monitor: str = Field(
        "val_loss", description="History key to watch, e.g. val_loss or val_accuracy."
    )
    patience: int = Field(5, ge=0, description="Epochs without improvement before stopping.")
    min_delta: float = Field(
        0.0, ge=0, allow_inf_nan=False, description="Smallest change that counts as an improvement."
    )
    restore_best: bool = Field(
        True, description="Restore the weights of the best epoch when stopping."
    )
    mode: Mode = Field(
        "auto", description="min or max; auto: max for accuracy-like keys, min otherwise."
    )


class CheckpointSpec(Params):
    monitor: str = Field("val_loss", description="History key that decides which epoch is best.")
    mode: Mode = Field(
        "auto", description="min or max; auto: max for accuracy-like keys, min otherwise."
    )


Strategy = Literal["none", "mirrored", "multi_worker"]


class DistributionSpec(Params):
    """How training is spread over devices and machines (docs/scale-out.md)."""

    strategy: Strategy = Field(
        "none",
        description="none: one device; mirrored: the GPUs of this machine (or `devices` "
        "logical CPU devices where there is none); multi_worker: several processes or "
        "machines configured by TF_CONFIG or --workers/--worker-index.",
    )
    devices: int | None = Field(
        None,
        gt=0,
        description="mirrored: how many devices to replicate over (default: every GPU, "
        "else 2 logical CPU devices); multi_worker: devices per worker.",
    )
    timeout: float = Field(
        300.0,
        gt=0,
        allow_inf_nan=False,
        description="multi_worker: seconds to wait for another worker (startup, every "
        "collective) before the run fails with exit 2.",
    )


class TrainSection(Params):
    """The train section; early_stopping and checkpoint are validated on their own."""

    epochs: int = Field(10, gt=0, description="Number of passes over the training data.")
    batch_size: int = Field(32, gt=0, description="Samples per gradient step.")
    seed: int | None = Field(
        0,
        ge=0,
        le=MAX_SEED,
        description="Seed of the weights and the shuffling, 0..2**32-1 (null: not reproducible).",
    )
    shuffle: bool = Field(True, description="Shuffle the training data every epoch.")
    steps_per_execution: Any = Field(
        "auto",
        json_schema_extra={"anyOf": [{"type": "integer", "minimum": 1}, {"const": "auto"}]},
        description="Batches the Keras backend runs per call into TensorFlow (the same "
        "results, fewer round trips); auto picks it from the batches per epoch and the model's "
        "estimated cost per batch (at most 128). "
        "The NumPy backend ignores it.",
    )
    backend: str | None = Field(
        None,
        description="Backend to train on when --backend is not given (default keras); "
        "e.g. numpy for the perceptron, which only the NumPy backend can train.",
    )
    early_stopping: Any = Field(
        None,
        description="Stop when the monitored key stops improving: true or {monitor, patience, min_delta, restore_best}.",
    )
    checkpoint: Any = Field(
        None,
        description="Keep the best model in the run directory: true or {monitor, mode}.",
    )
    distribution: DistributionSpec = Field(
        default_factory=DistributionSpec,
        description="Replicate training: {strategy: none | mirrored | multi_worker, devices: N}; "
        "batch_size is the global batch, split over the replicas.",
    )

    @field_validator("steps_per_execution", mode="plain")
    @classmethod
    def _steps_per_execution(cls, value: Any) -> int | str:
        if value == "auto" or (
            isinstance(value, int) and not isinstance(value, bool) and value > 0
        ):
            return value
        raise PydanticCustomError(
            "steps_per_execution", "must be auto or a whole number of batches greater than 0"
        )
