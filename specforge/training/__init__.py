"""The training pipeline: dataset → split → preprocess → feeds → fit → evaluate → run directory.

Importing this package is cheap: numpy, scikit-learn, matplotlib and the
backends' frameworks are imported when a run actually happens. It reads the
resolved IR only (``graph.data``, ``graph.train``); checking the ``data`` and
``train`` sections is the spec package's job. The entry points::

    from specforge.training import train, evaluate_run, predict_run
    result = train("specs/digits_mlp.yaml", backend="keras")
    print(result.run_dir, result.metrics["test"])
"""

from __future__ import annotations

from typing import Any

__all__ = ["evaluate_run", "predict_run", "train"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from . import run

        return getattr(run, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
