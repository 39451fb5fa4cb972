"""hitnb's own notes, told apart from the output of the code it runs.

A memoized cell records what it prints, to show it again on a hit. A note hitnb prints
while a call inside the cell runs (``hitnb: recomputing load: file data.txt changed``, a
warning that the store is full) speaks of that run only: recorded with the cell's output, a
hit showed it again in every later session, where nothing was recomputed. Notes are
written inside :func:`speaking`, which the recording leaves out.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

_own = threading.local()


@contextmanager
def speaking() -> Iterator[None]:
    """Whatever the block writes is hitnb's own note (warnings included)."""
    depth = getattr(_own, "depth", 0)
    _own.depth = depth + 1
    try:
        yield
    finally:
        _own.depth = depth


def is_speaking() -> bool:
    """Whether this thread is writing one of hitnb's notes now."""
    return getattr(_own, "depth", 0) > 0


def say(message: str) -> None:
    """Print one of hitnb's notes to standard output."""
    with speaking():
        print(message)
