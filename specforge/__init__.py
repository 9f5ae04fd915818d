"""specforge: a declarative model-spec compiler.

Specs (YAML/JSON) are checked like programs, resolved into an immutable
:class:`Graph` with static shapes and parameter counts, and lowered to a
backend (Keras, the NumPy reference, or a plugin's).
"""

from __future__ import annotations

__version__ = "0.1.0"

from .api import CheckResult, check_data, check_file, check_text, resolve
from .build import build
from .diagnostics import Diagnostic, Span, SpecError
from .graph import Graph, GraphInput, GraphNode, GraphOutput
from .loader import SpecFileError
from .plugins import get_registry

__all__ = [
    "CheckResult",
    "Diagnostic",
    "Graph",
    "GraphInput",
    "GraphNode",
    "GraphOutput",
    "Span",
    "SpecError",
    "SpecFileError",
    "__version__",
    "build",
    "check_data",
    "check_file",
    "check_text",
    "get_registry",
    "resolve",
]
