"""The IR: the one immutable, fully typed thing every later stage consumes.

A resolved :class:`Graph` has every name bound, every alias normalised, defaults
filled in, nodes in topological order, and each node's static output shape and
parameter count computed; its ``data`` and ``train`` sections are resolved too
(:class:`DataConfig`, :class:`TrainConfig`), so the run stage reads
``graph.train.seed`` and never validates anything again. Building one needs no
framework, and this module imports nothing but the spec's models.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from .diagnostics import Span
from .plugin import ParamCount, Shape
from .spec.models import (
    FORMAT_VERSION,
    CheckpointSpec,
    DistributionSpec,
    EarlyStoppingSpec,
    SplitSpec,
)


@dataclass(frozen=True)
class GraphInput:
    name: str
    shape: Shape
    dtype: str = "float32"
    span: Span | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class GraphNode:
    """A named use of a node type: its inputs are names of inputs or earlier nodes."""

    name: str
    type: str
    params: BaseModel
    inputs: tuple[str, ...]
    input_shapes: tuple[Shape, ...]
    output_shape: Shape
    param_count: ParamCount
    span: Span | None = field(default=None, compare=False, repr=False)

    def param(self, name: str, default: Any = None) -> Any:
        return getattr(self.params, name, default)


@dataclass(frozen=True)
class GraphOutput:
    node: str
    loss: str
    #: The spec's ``loss_weight`` (``weight`` in format 1).
    weight: float = 1.0
    metrics: tuple[str, ...] = ()
    shape: Shape = ()
    #: What the loss's targets are (:attr:`specforge.plugin.Loss.targets`).
    targets: str = "values"

    @property
    def name(self) -> str:
        """The output's name in histories and data: its node's name."""
        return self.node

    @property
    def classification(self) -> bool:
        """The targets are classes (the loss says so, whatever its name)."""
        return self.targets != "values"


@dataclass(frozen=True)
class OptimizerConfig:
    type: str
    params: BaseModel

    @property
    def learning_rate(self) -> float:
        return float(getattr(self.params, "learning_rate", 0.0))

    def as_dict(self) -> dict[str, Any]:
        return {"type": self.type, **self.params.model_dump()}


@dataclass(frozen=True)
class Graph:
    name: str
    inputs: tuple[GraphInput, ...]
    nodes: tuple[GraphNode, ...]
    outputs: tuple[GraphOutput, ...]
    optimizer: OptimizerConfig
    description: str | None = None
    #: The resolved data section; None when the spec has none.
    data: DataConfig | None = None
    #: The resolved train section; None when the spec has none (then
    #: :meth:`train_config` gives the defaults).
    train: TrainConfig | None = None
    file: str = "<spec>"

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_name", {n.name: n for n in self.nodes})
        object.__setattr__(self, "_inputs_by_name", {i.name: i for i in self.inputs})

    def node(self, name: str) -> GraphNode:
        return self._by_name[name]  # type: ignore[attr-defined]

    def input(self, name: str) -> GraphInput:
        return self._inputs_by_name[name]  # type: ignore[attr-defined]

    def shape_of(self, name: str) -> Shape:
        """Static shape (batch axis excluded) of an input or a node's output."""
        if name in self._inputs_by_name:  # type: ignore[attr-defined]
            return self.input(name).shape
        return self.node(name).output_shape

    @property
    def train_config(self) -> TrainConfig:
        """The train section, or its defaults when the spec has none."""
        return self.train if self.train is not None else TrainConfig()

    @property
    def seed(self) -> int | None:
        """``train.seed``: the seed of the weights; None when the spec sets none."""
        return self.train.seed if self.train is not None else None

    def history_keys(self, *, validation: bool = True) -> list[str]:
        """The keys of this model's training history, in the spec's order."""
        return history_keys(
            [(o.name, list(o.metrics)) for o in self.outputs], validation=validation
        )

    def __iter__(self) -> Iterator[GraphNode]:
        return iter(self.nodes)

    @property
    def param_count(self) -> ParamCount:
        total = ParamCount()
        for node in self.nodes:
            total = total + node.param_count
        return total

    @property
    def total_params(self) -> int:
        return self.param_count.total

    @property
    def trainable_params(self) -> int:
        return self.param_count.trainable

    @property
    def non_trainable_params(self) -> int:
        return self.param_count.non_trainable

    def to_spec(self) -> dict[str, Any]:
        """The resolved spec as plain data: canonical names, defaults filled in."""
        spec: dict[str, Any] = {"specforge": FORMAT_VERSION, "name": self.name}
        if self.description:
            spec["description"] = self.description
        spec["inputs"] = [
            {"name": i.name, "shape": list(i.shape), "dtype": i.dtype} for i in self.inputs
        ]
        spec["nodes"] = [
            {"name": n.name, "type": n.type, "inputs": list(n.inputs), **n.params.model_dump()}
            for n in self.nodes
        ]
        spec["outputs"] = [
            {
                "node": o.node,
                "loss": o.loss,
                "loss_weight": o.weight,
                "metrics": list(o.metrics),
            }
            for o in self.outputs
        ]
        spec["optimizer"] = self.optimizer.as_dict()
        if self.data is not None:
            spec["data"] = self.data.as_dict()
        if self.train is not None:
            spec["train"] = self.train.as_dict()
        return spec


@dataclass(frozen=True)
class Step:
    """One preprocessor of the data section, validated."""

    type: str
    params: BaseModel
    applies_to: str = "features"

    def as_dict(self) -> dict[str, Any]:
        return {"type": self.type, **self.params.model_dump(mode="json")}


@dataclass(frozen=True)
class DataConfig:
    """The data section with its defaults filled in and its paths made absolute
    (relative paths resolve against the spec file's folder)."""

    dataset: str
    dataset_params: BaseModel
    split: SplitSpec
    preprocess: tuple[Step, ...] = ()
    feeds: Mapping[str, Any] = field(default_factory=dict)
    targets: Mapping[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "dataset": {"type": self.dataset, **self.dataset_params.model_dump(mode="json")},
            "split": self.split.model_dump(mode="json"),
            "preprocess": [s.as_dict() for s in self.preprocess],
        }
        if self.feeds:
            out["feeds"] = {k: {"columns": _plain(v)} for k, v in self.feeds.items()}
        if self.targets:
            out["targets"] = {k: {"columns": _plain(v)} for k, v in self.targets.items()}
        return out


@dataclass(frozen=True)
class TrainConfig:
    """The train section with its defaults filled in.

    Change a value for one run with :func:`dataclasses.replace`
    (``replace(graph.train_config, epochs=2)``), never by editing the spec data.
    """

    epochs: int = 10
    batch_size: int = 32
    #: Seed of the weights and the shuffles; None: not reproducible.
    seed: int | None = 0
    shuffle: bool = True
    #: Batches per call into the framework ("auto": the backend picks); NumPy ignores it.
    steps_per_execution: int | str = "auto"
    backend: str | None = None
    early_stopping: EarlyStoppingSpec | None = None
    checkpoint: CheckpointSpec | None = None
    #: How training is replicated; ``strategy == "none"``: one device, one process.
    distribution: DistributionSpec = field(default_factory=DistributionSpec)

    @property
    def distributed(self) -> bool:
        return self.distribution.strategy != "none"

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "epochs": self.epochs,
            "batch_size": self.batch_size,
            "seed": self.seed,
            "shuffle": self.shuffle,
        }
        if self.steps_per_execution != "auto":
            out["steps_per_execution"] = self.steps_per_execution
        if self.backend is not None:
            out["backend"] = self.backend
        if self.early_stopping is not None:
            out["early_stopping"] = self.early_stopping.model_dump(mode="json")
        if self.checkpoint is not None:
            out["checkpoint"] = self.checkpoint.model_dump(mode="json")
        if self.distributed:
            out["distribution"] = self.distribution.model_dump(mode="json", exclude_none=True)
        return out


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def history_keys(outputs: list[tuple[str, list[str]]], *, validation: bool = True) -> list[str]:
    """The keys a backend's history holds for these outputs ([(name, metric names)]).

    Keras's convention (see :class:`specforge.plugin.Backend`): one output gives
    ``loss`` and its metrics by name; several give ``loss``, ``<out>_loss`` and
    ``<out>_<metric>``; validation keys are prefixed with ``val_``.
    """
    keys = ["loss"]
    if len(outputs) == 1:
        keys += list(outputs[0][1])
    else:
        for name, metrics in outputs:
            keys += [f"{name}_loss", *(f"{name}_{m}" for m in metrics)]
    return keys + ([f"val_{k}" for k in keys] if validation else [])


def topological_order(
    names: Sequence[str], edges: Mapping[str, Sequence[str]]
) -> tuple[list[str], list[list[str]]]:
    """Order ``names`` so that each comes after the names it reads.

    ``edges[name]`` lists what ``name`` reads (names not in ``names``, such as
    model inputs, are ignored). Returns the order (stable: ties keep the spec's
    order) and the cycles found, each as a list of names. Iterative, so a
    10,000-node chain needs no recursion.
    """
    known = set(names)
    position = {n: i for i, n in enumerate(names)}
    readers: dict[str, list[str]] = {n: [] for n in names}
    pending: dict[str, int] = {}
    for n in names:
        deps = {d for d in edges.get(n, ()) if d in known}
        pending[n] = len(deps)
        for d in deps:
            readers[d].append(n)
    import heapq

    ready = [(position[n], n) for n in names if pending[n] == 0]
    heapq.heapify(ready)
    order: list[str] = []
    while ready:
        _, n = heapq.heappop(ready)
        order.append(n)
        for r in readers[n]:
            pending[r] -= 1
            if pending[r] == 0:
                heapq.heappush(ready, (position[r], r))
    if len(order) == len(names):
        return order, []
    return order, _cycles([n for n in names if pending[n] > 0], edges, known)


def _cycles(
    stuck: list[str], edges: Mapping[str, Sequence[str]], known: set[str]
) -> list[list[str]]:
    """Distinct cycles among the nodes left over by Kahn's algorithm."""
    stuck_set = set(stuck)
    seen: set[str] = set()
    cycles: list[list[str]] = []
    for start in stuck:
        if start in seen:
            continue
        # Walk backwards along unresolved dependencies until a name repeats.
        path: list[str] = []
        index: dict[str, int] = {}
        n = start
        while n not in index and n not in seen:
            index[n] = len(path)
            path.append(n)
            nxt = next((d for d in edges.get(n, ()) if d in stuck_set), None)
            if nxt is None:
                break
            n = nxt
        if n in index:
            cycle = path[index[n] :]
            cycles.append(list(reversed(cycle)))
        seen.update(path)
    return cycles
