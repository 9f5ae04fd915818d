"""specforge: a declarative model-spec compiler.

Specs (YAML/JSON) are checked like programs, resolved into an immutable
:class:`Graph` with static shapes and parameter counts, and lowered to a
backend (Keras, the NumPy reference, or a plugin's).

The public names below are imported on first use (PEP 562), so that
``import specforge`` and the CLI's start-up stay cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

#: Public name -> module that defines it.
_EXPORTS = {
    "CheckResult": "api",
    "check_data": "api",
    "check_file": "api",
    "check_text": "api",
    "resolve": "api",
    "build": "builder",
    "Diagnostic": "diagnostics",
    "Span": "diagnostics",
    "SpecError": "diagnostics",
    "Graph": "ir",
    "GraphInput": "ir",
    "GraphNode": "ir",
    "GraphOutput": "ir",
    "DataConfig": "ir",
    "TrainConfig": "ir",
    "SpecFileError": "spec.load",
    "get_registry": "registry",
    "RunResult": "training.run",
    "train": "training.run",
    "evaluate_run": "training.run",
    "predict_run": "training.run",
}

__all__ = ["__version__", *sorted(_EXPORTS)]

if TYPE_CHECKING:  # pragma: no cover - for type checkers and editors
    # ruff: noqa: F401 (re-exported through __getattr__ and __all__)
    from .api import CheckResult, check_data, check_file, check_text, resolve
    from .builder import build
    from .diagnostics import Diagnostic, Span, SpecError
    from .ir import DataConfig, Graph, GraphInput, GraphNode, GraphOutput, TrainConfig
    from .registry import get_registry
    from .spec.load import SpecFileError
    from .training.run import RunResult, evaluate_run, predict_run, train


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'specforge' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
