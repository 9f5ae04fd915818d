"""Signs that a run that "completed" did not learn: a training loss that stays put.

A network whose ReLUs all died, or a zero learning rate, trains to the end with a
constant loss; Keras says nothing. :func:`flat_loss` finds the first stretch of
``FLAT_EPOCHS`` or more epochs over which the loss did not move.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

#: Consecutive epochs without a change that make a warning.
FLAT_EPOCHS = 3
#: A change smaller than this, relative to the loss, is no change.
FLAT_RTOL = 1e-7


def flat_loss(
    losses: Sequence[float], *, epochs: int = FLAT_EPOCHS, rtol: float = FLAT_RTOL
) -> str | None:
    """A warning when the loss did not change for ``epochs`` consecutive epochs, else None.

    Epoch ``e`` is unchanged when ``|loss[e] - loss[e-1]| <= rtol * max(|loss[e-1]|, tiny)``.
    """
    run, start = 0, 0
    for e in range(1, len(losses)):
        prev, cur = float(losses[e - 1]), float(losses[e])
        if not (math.isfinite(prev) and math.isfinite(cur)):
            run = 0
            continue
        if abs(cur - prev) <= rtol * max(abs(prev), 1e-30):
            if run == 0:
                start = e  # 0-based index of the epoch before the first unchanged one
            run += 1
            if run >= epochs:
                end = e
                while end + 1 < len(losses) and abs(
                    float(losses[end + 1]) - float(losses[end])
                ) <= rtol * max(abs(float(losses[end])), 1e-30):
                    end += 1
                return (
                    f"the training loss did not change from epoch {start} to epoch {end + 1} "
                    f"(loss {prev:.6g}): are all units dead (e.g. ReLUs that never fire), or is "
                    "the learning rate zero?"
                )
        else:
            run = 0
    return None
