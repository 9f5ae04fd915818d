"""The spec language: load, check and resolve a spec into the IR (:mod:`specforge.ir`).

One package holds all of it, in pipeline order:

* :mod:`.load`: YAML/JSON text to data with the position of every value;
* :mod:`.models`: the pydantic models of every section, the single source of the format;
* :mod:`.errors`: pydantic's errors as positioned diagnostics;
* :mod:`.check`: the passes that yield diagnostics and resolve the IR;
* :mod:`.schema`: the JSON Schema, generated from the models and the registry;
* :mod:`.api`: ``check_file``, ``check_text``, ``check_data``, ``resolve`` with a given registry
  (:mod:`specforge.api` is the same with the installed plugins by default).

Names are imported lazily, so that importing :mod:`specforge.spec.models` (as the
IR does) does not import the checker.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .api import CheckResult, check_data, check_document, check_file, check_text, resolve

__all__ = ["CheckResult", "check_data", "check_document", "check_file", "check_text", "resolve"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from . import api

        return getattr(api, name)
    raise AttributeError(f"module 'specforge.spec' has no attribute {name!r}")
