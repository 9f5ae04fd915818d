"""The Graph IR: the one immutable thing every backend consumes.

A resolved graph has every name bound, every alias normalised, defaults filled
in, nodes in topological order, and each node's static output shape and
parameter count computed. Building one needs no framework.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from .diagnostics import Span
from .plugin import ParamCount, Shape


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
    weight: float = 1.0
    metrics: tuple[str, ...] = ()
    shape: Shape = ()

    @property
    def name(self) -> str:
        return self.node


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
    data: Mapping[str, Any] | None = None
    train: Mapping[str, Any] | None = None
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
        spec: dict[str, Any] = {"specforge": 1, "name": self.name}
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
            {"node": o.node, "loss": o.loss, "weight": o.weight, "metrics": list(o.metrics)}
            for o in self.outputs
        ]
        spec["optimizer"] = self.optimizer.as_dict()
        if self.data is not None:
            spec["data"] = _thaw(self.data)
        if self.train is not None:
            spec["train"] = _thaw(self.train)
        return spec


def _thaw(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _thaw(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return [_thaw(v) for v in value]
    return value


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
