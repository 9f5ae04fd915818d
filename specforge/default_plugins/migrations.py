"""The format's own migrations: how specs of older format versions are read.

Format 2 (specforge 0.1): ``outputs[].weight`` is renamed ``loss_weight``.
In a model compiler "weight" means the trained parameters (``get_weights``,
``model.keras``'s weights, ``weights.npz``), so the loss weight of an output
said ``weight`` ambiguously; ``loss_weight`` is the name Keras's ``compile``
uses (``loss_weights``) and what the docs and pictures call it.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

from specforge.plugin import hookimpl
from specforge.spec.migrate import rename_key

#: The plugin API this built-in is written against.
SPECFORGE_API = 2


def output_weight_to_loss_weight(spec: MutableMapping[str, Any]) -> None:
    """Format 1 -> 2: ``outputs[].weight`` becomes ``outputs[].loss_weight``."""
    outputs = spec.get("outputs")
    for output in outputs if isinstance(outputs, list) else ():
        if isinstance(output, MutableMapping):
            rename_key(output, "weight", "loss_weight")


@hookimpl
def register_migrations(register):
    register(1, 2, output_weight_to_loss_weight, "outputs[].weight is renamed loss_weight")
