"""Work on a thread with a deep stack, for values nested deeper than the recursion limit.

Python's pickle and hitnb's hasher recurse once or more per level of nesting. A 10,000-level
list, or a mesa model whose agents each hold the model and the next agent, goes past the
interpreter's recursion limit (1,000 frames) and its main thread's stack. Such work runs
again here: on a new thread with a 512 MiB stack and the limit raised to
:data:`DEEP_FRAMES`, in a copy of the caller's context (its context variables), while the
caller waits.
"""

from __future__ import annotations

import contextvars
import sys
import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

DEEP_FRAMES = 250_000
"""Python frames a deeply nested value may use (a few per level of nesting)."""
_DEEP_STACK = 512 << 20
_lock = threading.Lock()
_here = threading.local()
"""``deep`` is set on the threads :func:`on_a_deep_stack` starts."""


def on_a_deep_stack(work: Callable[[], T], name: str) -> T:
    """``work()``, run on a thread named ``name`` with a deep stack; what it raises is
    raised here (a :class:`RecursionError` when even :data:`DEEP_FRAMES` are not enough).
    Called again from such a thread (a value pickled inside a value pickled there), it runs
    ``work()`` right there: that stack is as deep as it gets."""
    if getattr(_here, "deep", False):
        return work()
    context = contextvars.copy_context()
    outcome: list[tuple[bool, object]] = []

    def run() -> None:
        _here.deep = True
        try:
            outcome.append((True, context.run(work)))
        except BaseException as exc:  # re-raised in the caller's thread
            outcome.append((False, exc))

    with _lock:
        limit = sys.getrecursionlimit()
        stack = threading.stack_size(_DEEP_STACK)
        try:
            sys.setrecursionlimit(max(limit, DEEP_FRAMES))
            worker = threading.Thread(target=run, name=name)
            worker.start()
            worker.join()
        finally:
            threading.stack_size(stack)
            sys.setrecursionlimit(limit)
    done, result = outcome[0]
    if not done:
        assert isinstance(result, BaseException)
        raise result
    return result  # type: ignore[return-value]


def deep_if_needed(work: Callable[[], T], name: str) -> T:
    """``work()``, and again on a deep stack when it went past the recursion limit (a mesa
    model: each agent holds the model, and the model its agents)."""
    try:
        return work()
    except RecursionError:
        return on_a_deep_stack(work, name)
