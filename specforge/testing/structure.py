"""Keras models as comparable data, to check that a spec builds the model written by hand."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any


def _clean_config(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: _clean_config(v) for k, v in value.items() if k not in ("name", "shared_object_id")
        }
    if isinstance(value, list | tuple):
        return [_clean_config(v) for v in value]
    return value


def _keras_tensors(obj: Any) -> Iterator[dict[str, Any]]:
    if isinstance(obj, dict) and obj.get("class_name") == "__keras_tensor__":
        yield obj
    elif isinstance(obj, dict):
        for v in obj.values():
            yield from _keras_tensors(v)
    elif isinstance(obj, list | tuple):
        for v in obj:
            yield from _keras_tensors(v)


def keras_structure(model: Any) -> tuple[Any, ...]:
    """A Keras model as comparable data: each output as a tree of (layer class,
    config without names, inputs). Two models with equal structures have the same
    layers, settings and wiring, whatever their layers are called; use it to
    check that a spec builds the model a user would write by hand.
    """
    import keras

    config = json.loads(json.dumps(keras.saving.serialize_keras_object(model)["config"]))
    layers = config["layers"]
    if type(model).__name__ == "Sequential":
        sig: Any = (
            "Input",
            0,
            tuple(layers[0]["config"]["batch_shape"]),
            layers[0]["config"]["dtype"],
        )
        for layer in layers[1:]:
            sig = (
                layer["class_name"],
                json.dumps(_clean_config(layer["config"]), sort_keys=True),
                (sig,),
            )
        return (sig,)
    by_name = {layer["name"]: layer for layer in layers}
    leaves = config["input_layers"]
    leaves = [leaves] if isinstance(leaves[0], str) else leaves
    input_order = [leaf[0] for leaf in leaves]

    def sig_of(name: str) -> Any:
        layer = by_name[name]
        if layer["class_name"] == "InputLayer":
            c = layer["config"]
            return ("Input", input_order.index(name), tuple(c["batch_shape"]), c["dtype"])
        (call,) = layer["inbound_nodes"]
        sources = [t["config"]["keras_history"][0] for t in _keras_tensors(call["args"])]
        return (
            layer["class_name"],
            json.dumps(_clean_config(layer["config"]), sort_keys=True),
            tuple(sig_of(s) for s in sources),
        )

    outs = config["output_layers"]
    outs = [outs] if isinstance(outs[0], str) else outs
    return tuple(sig_of(leaf[0]) for leaf in outs)
