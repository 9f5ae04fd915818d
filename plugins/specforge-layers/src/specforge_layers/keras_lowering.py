"""Keras lowerings (spec node → one Keras layer) and import rules (Keras layer → spec node).

The contract is the Keras backend's (``docs/plugins.md``): a node lowering
``fn(ctx, node, inputs)`` builds one layer named ``node.name`` and returns its
output tensor; an import rule ``fn(ctx, layer)``, registered under the Keras
class name, returns the spec node's ``type`` and parameters (the decompiler adds
``name`` and ``inputs``). Keras is imported inside the functions only.
"""

from __future__ import annotations

from typing import Any

from specforge.plugin import Unsupported


def lower_dropout(ctx: Any, node: Any, inputs: list[Any]) -> Any:
    import keras

    p = node.params
    return keras.layers.Dropout(rate=p.rate, seed=p.seed, name=node.name)(inputs[0])


def lower_add(ctx: Any, node: Any, inputs: list[Any]) -> Any:
    import keras

    return keras.layers.Add(name=node.name)(list(inputs))


def lower_batch_normalization(ctx: Any, node: Any, inputs: list[Any]) -> Any:
    import keras

    p = node.params
    return keras.layers.BatchNormalization(
        axis=p.axis,
        momentum=p.momentum,
        epsilon=p.epsilon,
        center=p.center,
        scale=p.scale,
        name=node.name,
    )(inputs[0])


def import_dropout(ctx: Any, layer: Any) -> dict[str, Any]:
    config = layer.get_config()
    if config.get("noise_shape") is not None:
        raise Unsupported(
            f"Dropout with noise_shape {config['noise_shape']} cannot be expressed in a spec"
        )
    node: dict[str, Any] = {"type": "Dropout", "rate": float(config["rate"])}
    if config.get("seed") is not None:
        node["seed"] = int(config["seed"])
    return node


def import_add(ctx: Any, layer: Any) -> dict[str, Any]:
    return {"type": "Add"}


def _spec_axis(layer: Any, axis: Any) -> int:
    """Keras stores the axis counted from the batch axis after building; -1 reads best in a spec."""
    if isinstance(axis, (list, tuple)):
        if len(axis) != 1:
            raise Unsupported(
                f"BatchNormalization over several axes {list(axis)} cannot be expressed in a spec"
            )
        axis = axis[0]
    axis = int(axis)
    try:
        rank = len(layer.input.shape)
    except Exception:  # not called yet: keep the number as it is
        return axis
    return -1 if axis == rank - 1 else axis


def import_batch_normalization(ctx: Any, layer: Any) -> dict[str, Any]:
    config = layer.get_config()
    defaults = {
        "beta_initializer": "Zeros",
        "gamma_initializer": "Ones",
        "moving_mean_initializer": "Zeros",
        "moving_variance_initializer": "Ones",
    }
    for key, class_name in defaults.items():
        value = config.get(key)
        name = value.get("class_name") if isinstance(value, dict) else value
        if name not in (class_name, class_name.lower(), None):
            raise Unsupported(
                f"BatchNormalization with {key} {name!r} cannot be expressed in a spec"
            )
    for key in ("beta_regularizer", "gamma_regularizer", "beta_constraint", "gamma_constraint"):
        if config.get(key) is not None:
            raise Unsupported(f"BatchNormalization with a {key} cannot be expressed in a spec")
    if config.get("renorm") or config.get("synchronized"):
        raise Unsupported(
            "BatchNormalization with renorm or synchronized cannot be expressed in a spec"
        )
    return {
        "type": "BatchNormalization",
        "axis": _spec_axis(layer, config["axis"]),
        "momentum": float(config["momentum"]),
        "epsilon": float(config["epsilon"]),
        "center": bool(config["center"]),
        "scale": bool(config["scale"]),
    }


NODE_LOWERINGS = {
    "Dropout": lower_dropout,
    "Add": lower_add,
    "BatchNormalization": lower_batch_normalization,
}

IMPORT_RULES = {
    "Dropout": import_dropout,
    "Add": import_add,
    "BatchNormalization": import_batch_normalization,
}
