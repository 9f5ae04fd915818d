"""Column selectors: which feature (or target) columns reach a model input (or output).

A selector is what a spec writes under ``feeds.<input>.columns`` or
``targets.<output>.columns``:

* a slice string ``"a:b"`` or ``"a:b:step"`` (Python semantics, 0-based,
  negative numbers count from the end), e.g. ``"0:5"``;
* one column: an integer index or a column name;
* a list of integer indices and/or column names.

Columns are those of one sample flattened (a 28×28 image has 784). This module is
pure Python so that ``validate`` can count columns statically without numpy.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

Selector = str | int | list[str | int]

_SLICE = re.compile(r"^\s*(-?\d*)\s*:\s*(-?\d*)\s*(?::\s*(-?\d*)\s*)?$")


class SelectorError(ValueError):
    """A selector that does not fit the data; ``help`` says what would."""

    def __init__(self, message: str, help: str | None = None):
        super().__init__(message)
        self.message, self.help = message, help


def parse_slice(text: str) -> slice | None:
    """``"0:5"`` → ``slice(0, 5)``; None if ``text`` is not a slice string."""
    if not isinstance(text, str) or ":" not in text:
        return None
    m = _SLICE.match(text)
    if not m:
        return None
    start, stop, step = (int(g) if g not in (None, "") else None for g in m.groups())
    return slice(start, stop, step)


def static_count(selector: Selector) -> int | None:
    """How many columns ``selector`` picks, if that is known without the data."""
    if isinstance(selector, bool):
        return None
    if isinstance(selector, int):
        return 1
    if isinstance(selector, list):
        return len(selector)
    if isinstance(selector, str):
        s = parse_slice(selector)
        if s is None:
            return 1  # a column name
        start = 0 if s.start is None else s.start
        step = 1 if s.step is None else s.step
        if s.stop is None or start < 0 or s.stop < 0 or step <= 0:
            return None
        return len(range(start, s.stop, step))
    return None


def resolve(selector: Selector, names: Sequence[str], *, what: str = "features") -> list[int]:
    """The 0-based column indices ``selector`` picks among ``names``.

    Raises :class:`SelectorError` when a name is unknown, an index is out of
    range, a slice selects nothing, or a column is picked twice.
    """
    n = len(names)

    def index(item: str | int) -> int:
        if isinstance(item, bool) or not isinstance(item, (int, str)):
            raise SelectorError(f"a column must be an index or a name, not {item!r}")
        if isinstance(item, int):
            if not -n <= item < n:
                raise SelectorError(
                    f"column index {item} is out of range: the {what} have {n} column(s)",
                    f"valid indices are 0..{n - 1} (negative ones count from the end)",
                )
            return item % n
        hits = [j for j, name in enumerate(names) if name == item]
        if hits:
            return hits[0]
        from ..diagnostics import did_you_mean

        shown = ", ".join(repr(x) for x in list(names)[:12]) + (", ..." if n > 12 else "")
        raise SelectorError(
            f"no column named '{item}' in the {what}",
            did_you_mean(item, names) or f"the {what} are: {shown}",
        )

    if isinstance(selector, str):
        s = parse_slice(selector)
        if s is not None and selector not in names:
            if s.step == 0:
                raise SelectorError(f"slice '{selector}' has a zero step")
            picked = list(range(n))[s]
            if not picked:
                raise SelectorError(
                    f"slice '{selector}' selects no columns: the {what} have {n} column(s)",
                    "slices are Python-style 'start:stop' over 0-based column indices",
                )
            return picked
        return [index(selector)]
    if isinstance(selector, int):
        return [index(selector)]
    picked = [index(item) for item in selector]
    twice = sorted({j for j in picked if picked.count(j) > 1})
    if twice:
        raise SelectorError(f"column(s) {', '.join(map(str, twice))} are selected more than once")
    return picked
