"""Run Keras work on deep graphs without RecursionError.

Keras builds, saves and loads functional graphs with code that recurses once
or more per layer: past about a thousand layers Python's default recursion
limit (1,000) is hit, and raising the limit alone is not enough because the C
stack of the main thread (8 MiB by default) then overflows. :func:`run_deep`
raises the limit in proportion to the graph's depth for the duration of one
call (and restores it), and runs deep work in a thread with a large stack.
"""

from __future__ import annotations

import contextvars
import sys
import threading
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

#: Recursion limit per node (measured: about 2 frames per layer in Keras 3.15;
#: the margin covers plugins' layers and TensorFlow's tracing).
FRAMES_PER_NODE = 10
#: Frames left for whatever runs around the Keras call.
BASE_FRAMES = 2_000
#: Graphs with more nodes than this run in a thread with a larger stack.
THREAD_ABOVE = 400
#: Stack per node for that thread (measured: 3,000 Dense layers need < 64 MiB).
STACK_PER_NODE = 64 * 1024
MIN_STACK = 64 * 1024 * 1024
MAX_STACK = 1024 * 1024 * 1024


def recursion_limit_for(depth: int) -> int:
    return BASE_FRAMES + FRAMES_PER_NODE * max(depth, 0)


def stack_size_for(depth: int) -> int:
    return min(max(MIN_STACK, STACK_PER_NODE * depth), MAX_STACK)


def run_deep(fn: Callable[[], T], depth: int) -> T:
    """Call ``fn()`` with room for a graph of ``depth`` nodes; return its result.

    Exceptions (KeyboardInterrupt included) propagate unchanged. Shallow graphs
    run in the calling thread. Deep ones run in a non-daemon thread that
    inherits the caller's context variables (so an API-1 lowering's helpers keep
    their context, :mod:`specforge.compat`); if the caller is interrupted while waiting, the thread finishes its
    work before the process exits, so a file it is writing atomically is
    either complete or removed, never half-written.
    """
    needed = recursion_limit_for(depth)
    if depth <= THREAD_ABOVE:
        old = sys.getrecursionlimit()
        if needed <= old:
            return fn()
        sys.setrecursionlimit(needed)
        try:
            return fn()
        finally:
            sys.setrecursionlimit(old)

    result: dict[str, Any] = {}
    context = contextvars.copy_context()

    def work() -> None:
        try:
            result["value"] = context.run(fn)
        except BaseException as exc:
            result["error"] = exc

    old_limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(old_limit, needed))
    try:
        old_stack = threading.stack_size(stack_size_for(depth))
        try:
            thread = threading.Thread(target=work, name="specforge-deep-graph")
            thread.start()
        finally:
            threading.stack_size(old_stack)
        thread.join()
    finally:
        sys.setrecursionlimit(old_limit)
    if "error" in result:
        raise result["error"]
    return result["value"]
