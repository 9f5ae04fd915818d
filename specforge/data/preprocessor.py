"""The preprocessor contract: :class:`Preprocessor`, public as ``specforge.plugin.Preprocessor``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from .dataset import DataError

__all__ = ["Preprocessor"]


class Preprocessor:
    """Base class for what a :class:`~specforge.plugin.PreprocessorType`'s ``create(params)`` returns.

    A subclass sets :attr:`type_name` and implements :meth:`fit` and
    :meth:`transform`; the base class keeps the parameters and the fitted state:

    * ``fit(x)`` sees the training split only: a *features* preprocessor gets a
      2-D float array, one row per sample, images flattened; a *targets* one
      the target array as the dataset has it. It stores what it learns in
      ``self.state``, a dict of plain data: numbers, strings, lists and numpy
      arrays (copies, never a reference to ``x``, never a fitted estimator).
    * ``transform(x)`` reads the state through :meth:`fitted_state`, which
      fails before ``fit``; it may change the number of columns.
    * :meth:`get_state` and :meth:`set_state` carry the state into and out of
      the run directory, which writes the arrays to an ``.npz`` read with
      ``allow_pickle=False`` and the rest as JSON: the state is never pickled,
      so loading a run never executes code. ``evaluate`` and ``predict`` then
      call ``set_state`` and ``transform`` without refitting.

    Any object with these four methods will do; subclassing saves the plumbing.
    """

    #: The registered name, used in error messages.
    type_name: ClassVar[str] = ""
    #: What ``fit`` learnt; None until then (also for a subclass whose
    #: ``__init__`` does not call this one).
    state: dict[str, Any] | None = None

    def __init__(self, params: Any) -> None:
        self.params = params
        self.state: dict[str, Any] | None = None

    def fit(self, x: Any) -> None:
        """Learn from the training split; store the result in ``self.state``."""
        raise NotImplementedError

    def transform(self, x: Any) -> Any:
        """Apply what ``fit`` learnt (read it with :meth:`fitted_state`)."""
        raise NotImplementedError

    def get_state(self) -> dict[str, Any]:
        """A copy of the fitted state (numbers, strings, lists, numpy arrays)."""
        if self.state is None:
            raise RuntimeError(f"{self.type_name} was not fitted")
        return dict(self.state)

    def set_state(self, state: Mapping[str, Any]) -> None:
        """Restore a state :meth:`get_state` returned, as the run directory gives it back."""
        self.state = dict(state)

    def fitted_state(self) -> dict[str, Any]:
        """The state, or a RuntimeError when ``transform`` comes before ``fit``."""
        if self.state is None:
            raise RuntimeError(f"{self.type_name}: transform before fit")
        return self.state

    def check_width(self, x: Any, width: int) -> None:
        """Raise a DataError when ``x`` (2-D) has not the ``width`` columns ``fit`` saw."""
        if x.shape[1] != width:
            raise DataError(
                f"{self.type_name} was fitted on {width} feature(s) but got {x.shape[1]}",
                help="the data must have the same columns as the data the run was trained on",
            )
