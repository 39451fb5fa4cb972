"""Environment variables a run reads: inputs, found as the run reads them.

``os.getenv("DATA_DIR")`` in a cell or a memoized function decides what it computes, yet it
is neither an argument nor a name hitnb hashes (``os`` is a module): with another
``DATA_DIR`` a hit returned the data of the old one. While a run executes, reads of
``os.environ`` by name (``[]``, ``get``, ``in``, ``os.getenv``, ``os.path.expandvars``: all
go through its ``__getitem__``) are recorded with a digest of the value they found, or None
for a variable that was not set; a hit needs each to be the same (:func:`unmet`). Values
are kept as digests, never as text, and of a variable named like a secret
(:data:`SECRET_WORDS`: ``AWS_SECRET_ACCESS_KEY``, ``GITHUB_TOKEN``) only that it is set.

Not inputs:

- a variable the run set before reading it (its own doing; ``os.environ`` set again by a
  hit is the ambient state's business, :mod:`hitnb.core.ambient`);
- reads while the environment is copied or listed (``dict(os.environ)``, ``copy()``,
  ``{**os.environ, ...}``, ``items()``, ``for name in os.environ``): a run starting a process
  with a copy would else depend on every variable, and a kernel holds some that differ in
  every session (``JPY_PARENT_PID``);
- reads made while a module is imported (a library configuring itself once per process:
  scikit-learn sets ``KMP_DUPLICATE_LIB_OK`` as it imports, and a hit imports it again
  before its reads are checked);
- Jupyter's and hitnb's own variables (:data:`NOT_INPUTS`).

Reads by other threads than the run's, and by C code (``getenv`` in a compiled library),
are not seen.
"""

from __future__ import annotations

import functools
import opcode
import os
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from types import FrameType
from typing import Any

import xxhash

Reads = dict[str, str | None]
"""Variable name -> digest of the value the run found first, or None: it was not set."""

NOT_INPUTS = ("HITNB_", "JPY_", "IPY_", "IPYKERNEL_")
"""Prefixes of variables that are not a run's inputs: hitnb's settings (they change how
hitnb works, not what a run computes), and those Jupyter sets for each kernel or cell
(``JPY_PARENT_PID``, ``JPY_SESSION_NAME``, ``IPYKERNEL_CELL_NAME``)."""


class _Reading:
    """What one run read (and set before reading) so far."""

    def __init__(self) -> None:
        self.reads: Reads = {}
        self.set_first: set[str] = set()

    def read(self, name: str, found: str | None) -> None:
        if name not in self.set_first and not name.startswith(NOT_INPUTS):
            self.reads.setdefault(name, found)

    def wrote(self, name: str) -> None:
        if name not in self.reads:
            self.set_first.add(name)


_reading: ContextVar[_Reading | None] = ContextVar("hitnb_environment", default=None)
_lock = threading.Lock()
_installed = False


SECRET_WORDS = ("KEY", "SECRET", "TOKEN", "PASSWORD", "PASSWD", "CREDENTIAL", "AUTH")
"""Words of names whose variables count as set or not only: no digest of their value is
kept (a store may be shared, and a short secret could be found again from its digest)."""
_SET = "set"


def digest(value: str, name: str = "") -> str:
    """The digest a read keeps of a variable's value (of a secret's: only that it is set)."""
    if any(word in name.upper() for word in SECRET_WORDS):
        return _SET
    return xxhash.xxh3_64_hexdigest(value.encode("utf-8", "surrogateescape"))


_SUBSCRIPTS = frozenset(opcode.opmap[name] for name in ("BINARY_SUBSCR", "BINARY_OP")
                        if name in opcode.opmap)  # fmt: skip
"""The instructions of ``x[k]`` (3.14 makes it a ``BINARY_OP``)."""
_CACHE = opcode.opmap.get("CACHE", -1)
_LISTERS = frozenset({"__iter__", "popitem"})
"""Functions of ``collections.abc`` that read variables while they list the mapping."""


def _by_name(caller: FrameType) -> bool:
    """Whether Python code asked for one variable (``os.environ[name]``, also inside
    ``get``, ``in``, ``os.getenv``), rather than the whole mapping being copied or listed:
    ``dict(os.environ)`` and ``{**os.environ}`` read every variable from their caller's
    frame while it executes a call or a dict update, ``items()`` and ``values()`` from the
    ``__iter__`` of their views, ``popitem`` (``clear``) takes whichever comes first."""
    code = caller.f_code
    if code.co_name in _LISTERS and "_collections_abc" in code.co_filename:
        return False
    instructions, at = code.co_code, caller.f_lasti
    while at > 0 and instructions[at] == _CACHE:  # a specialized subscript stops past its
        at -= 2  # inline cache (3.11 onwards)
    return instructions[at] in _SUBSCRIPTS


def _importing(frame: FrameType | None) -> bool:
    """Whether a module is being imported on this thread's stack (up to 60 frames up)."""
    for _ in range(60):
        if frame is None:
            return False
        if frame.f_code.co_filename.startswith("<frozen importlib"):
            return True
        frame = frame.f_back
    return False


def _counted(environ: Any, caller: FrameType) -> bool:
    return environ is os.environ and _by_name(caller) and not _importing(caller)


def _watch(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def getitem(self: os._Environ[str], key: Any) -> Any:
        reading = _reading.get()
        if reading is None or not isinstance(key, str) or not _counted(self, sys._getframe(1)):
            return original(self, key)
        try:
            value = original(self, key)
        except KeyError:
            reading.read(key, None)
            raise
        reading.read(key, digest(value, key))
        return value

    return getitem


def _watch_writes(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def write(self: os._Environ[str], key: Any, *value: Any) -> Any:
        reading = _reading.get()
        if reading is not None and self is os.environ and isinstance(key, str):
            reading.wrote(key)
        return original(self, key, *value)

    return write


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
    _installed = True


@contextmanager
def observing() -> Iterator[Reads]:
    """Record the variables the block reads (in this thread and context). A run inside
    another (a memoized call in a cell) passes its reads, and what it set, up to it."""
    _install()
    reading = _Reading()
    token = _reading.set(reading)
    try:
        yield reading.reads
    finally:
        _reading.reset(token)
        pass_up(reading.reads)
        outer = _reading.get()
        if outer is not None:
            for name in reading.set_first:
                outer.wrote(name)


def pass_up(reads: Reads) -> None:
    """A run inside another, computed or served from the store: its reads are the other
    run's too."""
    outer = _reading.get()
    if outer is not None:
        for name, found in reads.items():
            outer.read(name, found)


def unmet(reads: Reads) -> str | None:
    """Why the environment differs from what a run read, or None when it is the same."""
    token = _reading.set(None)  # hitnb's own look, not the caller's read
    try:
        for name, was in reads.items():
            value = os.environ.get(name)
            now = None if value is None else digest(value, name)
            if now == was:
                continue
            if was is None:
                return f"environment variable {name} is set now, and was not when it was stored"
            if now is None:
                return f"environment variable {name} is not set now, and was when it was stored"
            return f"environment variable {name} changed since it was stored"
        return None
    finally:
        _reading.reset(token)
