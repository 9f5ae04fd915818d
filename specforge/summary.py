"""``model.summary()``-style tables of a resolved graph, for people and for machines."""

from __future__ import annotations

from typing import Any

from .ir import Graph


def _shape(shape: tuple[int, ...]) -> str:
    return "(" + ", ".join(["None", *(str(d) for d in shape)]) + ")"


def summary_data(graph: Graph) -> dict[str, Any]:
    """The summary as plain data (what ``summary --format json`` prints)."""
    return {
        "name": graph.name,
        "file": graph.file,
        "inputs": [
            {"name": i.name, "shape": [None, *i.shape], "dtype": i.dtype} for i in graph.inputs
        ],
        "nodes": [
            {
                "name": n.name,
                "type": n.type,
                "output_shape": [None, *n.output_shape],
                "params": n.param_count.total,
                "trainable_params": n.param_count.trainable,
                "non_trainable_params": n.param_count.non_trainable,
                "inputs": list(n.inputs),
            }
            for n in graph.nodes
        ],
        "outputs": [
            {"node": o.node, "loss": o.loss, "weight": o.weight, "metrics": list(o.metrics)}
            for o in graph.outputs
        ],
        "optimizer": graph.optimizer.as_dict(),
        "total_params": graph.total_params,
        "trainable_params": graph.trainable_params,
        "non_trainable_params": graph.non_trainable_params,
    }


def summary_text(graph: Graph) -> str:
    """A table like Keras's ``model.summary()``, with each node's inputs."""
    rows = [("Node (type)", "Output shape", "Params", "Inputs")]
    for i in graph.inputs:
        rows.append((f"{i.name} (Input)", _shape(i.shape), "0", ""))
    for n in graph.nodes:
        rows.append(
            (
                f"{n.name} ({n.type})",
                _shape(n.output_shape),
                f"{n.param_count.total:,}",
                ", ".join(n.inputs),
            )
        )
    widths = [max(len(r[c]) for r in rows) for c in range(4)]
    total_width = sum(widths) + 3 * 2

    def fmt(r: tuple[str, ...]) -> str:
        return "  ".join(
            [r[0].ljust(widths[0]), r[1].ljust(widths[1]), r[2].rjust(widths[2]), r[3]]
        ).rstrip()

    lines = [f'Model: "{graph.name}"', "━" * total_width, fmt(rows[0]), "━" * total_width]
    lines += [fmt(r) for r in rows[1:]]
    lines.append("━" * total_width)
    outs = ", ".join(
        f"{o.node} ({o.loss}"
        + (f", weight {o.weight:g}" if len(graph.outputs) > 1 or o.weight != 1 else "")
        + (f", metrics {' '.join(o.metrics)}" if o.metrics else "")
        + ")"
        for o in graph.outputs
    )
    lines += [
        f"Outputs: {outs}",
        f"Optimizer: {graph.optimizer.type} (learning_rate {graph.optimizer.learning_rate:g})",
        f"Total params: {graph.total_params:,}",
        f"Trainable params: {graph.trainable_params:,}",
        f"Non-trainable params: {graph.non_trainable_params:,}",
    ]
    return "\n".join(lines)
