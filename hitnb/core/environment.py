"""Environment variables a run reads: inputs, found as the run reads them.

``os.getenv("DATA_DIR")`` in a cell or a memoized function decides what it computes, yet it
is neither an argument nor a name hitnb hashes (``os`` is a module): with another
``DATA_DIR`` a hit returned the data of the old one. While a run executes, reads of
``os.environ`` (``[]``, ``get``, ``in``, ``os.getenv``: all go through its ``__getitem__``)
are recorded with a digest of the value they found, or None for a variable that was not
set; a hit needs each to be the same (:func:`unmet`). Values are kept as digests, never as
text: environments hold secrets.

A variable the run set before reading it is its own doing, not an input; ``os.environ``
set again by a hit is the ambient state's business (:mod:`hitnb.core.ambient`).
``os.environ.copy()`` is not counted (a run starting a process with a modified copy would
else depend on every variable, and a kernel's hold some that differ in every session).
Reads by C code (``getenv`` in a library) are not seen.
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import xxhash

Reads = dict[str, str | None]
"""Variable name -> digest of the value the run found first, or None: it was not set."""


class _Reading:
    def __init__(self) -> None:
        self.reads: Reads = {}
        self.set_first: set[str] = set()


_reading: ContextVar[_Reading | None] = ContextVar("hitnb_environment", default=None)
_lock = threading.Lock()
_installed = False


def digest(value: str) -> str:
    return xxhash.xxh3_64_hexdigest(value.encode("utf-8", "surrogateescape"))


def _watch(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def getitem(self: os._Environ[str], key: Any) -> Any:
        reading = _reading.get()
        if reading is None or self is not os.environ or not isinstance(key, str):
            return original(self, key)
        try:
            value = original(self, key)
        except KeyError:
            if key not in reading.set_first:
                reading.reads.setdefault(key, None)
            raise
        if key not in reading.set_first:
            reading.reads.setdefault(key, digest(value))
        return value

    return getitem


def _watch_writes(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def write(self: os._Environ[str], key: Any, *value: Any) -> Any:
        reading = _reading.get()
        if reading is not None and self is os.environ and key not in reading.reads:
            reading.set_first.add(key)
        return original(self, key, *value)

    return write


def _copy_unread(self: os._Environ[str]) -> dict[str, str]:
    token = _reading.set(None)
    try:
        return dict(self)
    finally:
        _reading.reset(token)


def _install() -> None:
    """Wrap ``os.environ``'s class once, for the life of the process (a read outside any
    run costs one context variable lookup)."""
    if not _installed:
        with _lock:
            _wrap_once()


def _wrap_once() -> None:
    global _installed
    if _installed:  # another thread did, while this one waited for the lock
        return
    environ = type(os.environ)
    environ.__getitem__ = _watch(environ.__getitem__)  # type: ignore[method-assign]
    environ.__setitem__ = _watch_writes(environ.__setitem__)  # type: ignore[method-assign]
    environ.__delitem__ = _watch_writes(environ.__delitem__)  # type: ignore[method-assign]
    environ.copy = _copy_unread  # type: ignore[method-assign]
    _installed = True


@contextmanager
def observing() -> Iterator[Reads]:
    """Record the variables the block reads (in this thread and context)."""
    _install()
    reading = _Reading()
    token = _reading.set(reading)
    try:
        yield reading.reads
    finally:
        _reading.reset(token)
        outer = _reading.get()
        if outer is not None:  # a memoized call inside a run: its reads are the run's too
            for name, found in reading.reads.items():
                if name not in outer.set_first:
                    outer.reads.setdefault(name, found)


def unmet(reads: Reads) -> str | None:
    """Why the environment differs from what a run read, or None when it is the same."""
    data = os.environ
    for name, was in reads.items():
        value = data.get(name)
        now = None if value is None else digest(value)
        if now == was:
            continue
        if was is None:
            return f"environment variable {name} is set now, and was not when it was stored"
        if now is None:
            return f"environment variable {name} is not set now, and was when it was stored"
        return f"environment variable {name} changed since it was stored"
    return None
