"""The plugin module named by the entry point: ``synthetic = "specforge_synthetic.plugin"``.

Importing it is cheap: pydantic models only, scikit-learn is imported when data
is generated.
"""

from __future__ import annotations

from specforge.plugin import hookimpl

from .datasets import DATASETS
from .preprocessors import PREPROCESSORS

#: The plugin API this plugin was written against.
SPECFORGE_API = 2


@hookimpl
def register_datasets(register):
    for dataset in DATASETS:
        register(dataset)


@hookimpl
def register_preprocessors(register):
    for preprocessor in PREPROCESSORS:
        register(preprocessor)
