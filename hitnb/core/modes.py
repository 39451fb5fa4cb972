"""Cache modes, settable per call, per ``with`` block, per function and globally.

========== ==================================================================
``on``         read hits, compute and store misses (the default)
``off``        call the function; neither read nor write the store
``recompute``  always compute, and overwrite what is stored
``read-only``  read hits; compute misses without storing them
========== ==================================================================

Precedence, highest first: ``f.with_mode(...)`` for one call, the innermost
``with hitnb.mode(...)`` block, ``@memo(mode=...)``, then :func:`hitnb.configure`
(or ``HITNB_MODE``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from hitnb.config import Mode, check_mode

_context_mode: ContextVar[Mode | None] = ContextVar("hitnb_mode", default=None)


@contextmanager
def mode(name: str) -> Iterator[None]:
    """Use cache mode ``name`` for every memoized call inside the block.

    >>> with hitnb.mode("recompute"):
    ...     train(0.1)   # computed again and stored over the old result
    """
    token = _context_mode.set(check_mode(name))
    try:
        yield
    finally:
        _context_mode.reset(token)


def context_mode() -> Mode | None:
    """The mode set by the innermost ``with hitnb.mode(...)`` block, if any."""
    return _context_mode.get()


def resolve(call: Mode | None, function: Mode | None, configured: Mode) -> Mode:
    """The mode in force for one call, given its per-call, per-function and configured modes."""
    if call is not None:
        return call
    context = _context_mode.get()
    if context is not None:
        return context
    if function is not None:
        return function
    return configured
