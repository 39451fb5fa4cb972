"""Run work at the start of a fresh chunk of the interpreter's frame stack.

CPython (3.11 and 3.12, and 3.13 and 3.14 before their fix of gh-142183) keeps a thread's
Python frames in chunks of 16 KiB and frees a chunk as soon as the frame at its start
returns. A loop whose calls cross the end of a chunk then maps and unmaps a chunk on every
call; in a process with threads, as a Jupyter kernel is, each unmapping interrupts the other
cores too. At an unlucky depth, 20,000 calls of a trivial function take 125 ms rather than
0.55 ms (``python benchmarks/frame_room.py``). Which depth is unlucky depends on every frame
below: a hit of ``import numpy as np`` in a kernel took 60 ms against 28 ms plainly, since
numpy's import ran inside the hit at a depth where ``typing``'s helpers crossed a chunk's end
two thousand times.

:func:`with_frame_room` runs a cell's work in a frame too big for any chunk but a fresh one,
which leaves about 64 KiB (a few hundred frames) before the next boundary: whatever the cell
does at a common depth never crosses one. It costs one mapping and unmapping, a few
microseconds, per call.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

ROOM_WORDS = 8192
"""Words of frame stack the big frame reserves (64 KiB). The chunk CPython allocates for it
is the next power of two past the frame and 1,000 words of headroom (128 KiB), and the rest of
that chunk, about as much again, is the room its callees run in."""


def with_frame_room(work: Callable[[], T]) -> T:
    """``work()``, called from a frame at the start of a fresh chunk of the frame stack (the
    frame's value stack is made :data:`ROOM_WORDS` deep below; it is never used)."""
    __tracebackhide__ = True
    return work()


with_frame_room.__code__ = with_frame_room.__code__.replace(
    co_stacksize=with_frame_room.__code__.co_stacksize + ROOM_WORDS
)
