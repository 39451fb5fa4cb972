"""Index rows written after the caller has moved on, many to a transaction.

A stored entry exists once its manifest is written (see :mod:`hitnb.store.local`); its index
row only makes it quick to find and list. A transaction for one row costs about 120 us here,
against about 35 us a row in batches of 32, and most of a miss's time goes to small calls. So
the row of a new entry whose value is held inline is queued (not a blob's, which an
eviction elsewhere could take for unused while no row names it, nor a row that replaces
another, which other processes would go on reading meanwhile). The queue is written:

- by the caller, once it holds :data:`BATCH` rows (a loop of misses);
- by a thread, once no row has been queued for :data:`IDLE` seconds (a notebook's miss, then
  nothing): the thread never competes with a busy caller for the interpreter, which would
  cost the caller more than the transaction it saves;
- before anything in this process reads the index (:meth:`RowWriter.flush`), so a listing, a
  count or an eviction sees every entry this process stored, and before the process ends.

Until then this process finds a queued entry here (:meth:`RowWriter.pending`), and every
other process through its manifest, as it finds an entry whose row a crash lost. A process
that is killed leaves manifests, which are indexed again on use. Each queued row carries the
state (inode, mtime) of the manifest written with it: another process may store the same key
meanwhile, and then its manifest, not the queued row, is the entry (the store checks).
"""

from __future__ import annotations

import atexit
import os
import threading
import time
import weakref
from collections.abc import Callable
from typing import Any, NamedTuple

from hitnb.store.index import EncodedEntry, Entry

BATCH = 32
"""Rows the caller writes at once when it has queued that many."""
IDLE = 0.1
"""Seconds without a new row after which the thread writes the queue."""
LINGER = 10.0
"""Seconds the thread waits for a new queue before it ends (a store written once in a long
session, or one of many a test opens, keeps no thread)."""

ManifestState = tuple[int, int]
"""A manifest file's inode and mtime (ns) as its writer left it."""


class Row(NamedTuple):
    """A queued index row: the entry, its recipe, the state of the manifest written with
    them, and the row as encoded for that manifest (None: encoded when written)."""

    entry: Entry
    recipe: dict[str, Any] | None
    manifest: ManifestState
    encoded: EncodedEntry | None = None


_writers: weakref.WeakSet[RowWriter] = weakref.WeakSet()


class RowWriter:
    """The queued index rows of one store, and who writes them when."""

    def __init__(
        self, write: Callable[[list[Row]], None], release: Callable[[], None] = lambda: None
    ) -> None:
        """``write`` puts a batch of rows in the index; it must not raise (a row it cannot
        write is left to the entry's manifest). ``release`` is called on the thread after
        each of its writes, to close what the write opened there: between writes the
        thread holds no file of the store open, so the store can be closed (and its folder
        unmounted) while the thread waits for the next queue."""
        self._write = write
        self._release = release
        self._queue: list[Row] = []
        self._pending: dict[str, Row] = {}
        """The rows in the queue, by key (the newest, when a key was queued twice)."""
        self._last = 0.0
        self._changed = threading.Condition()
        self._writing = threading.RLock()
        self._thread: threading.Thread | None = None
        _writers.add(self)

    def submit(
        self,
        entry: Entry,
        recipe: dict[str, Any] | None,
        manifest: ManifestState,
        encoded: EncodedEntry | None = None,
    ) -> None:
        """Queue the row of ``entry``, whose manifest is written and left as ``manifest``
        (``encoded``: its row, encoded already)."""
        row = Row(entry, recipe, manifest, encoded)
        with self._changed:
            self._queue.append(row)
            self._pending[entry.key] = row
            self._last = time.monotonic()
            full = len(self._queue) >= BATCH
            if len(self._queue) == 1:  # the thread sleeps until a queue starts, not per row
                if self._thread is None or not self._thread.is_alive():
                    self._thread = threading.Thread(
                        target=self._run, name="hitnb-rows", daemon=True
                    )
                    self._thread.start()
                self._changed.notify_all()
        if full:
            self.flush()

    def pending(self, key: str) -> Row | None:
        """The row of ``key`` if it is still queued (a dict lookup: the hit path)."""
        return self._pending.get(key)

    def flush(self) -> None:
        """Write every row queued so far (on this thread), once a write in progress is done."""
        if not self._pending:
            return
        with self._writing:
            with self._changed:
                batch, self._queue = self._queue, []
            if batch:
                try:
                    self._write(batch)
                finally:
                    with self._changed:
                        for row in batch:
                            if self._pending.get(row.entry.key) is row:
                                del self._pending[row.entry.key]

    def settle(self) -> None:
        """Write every row queued so far, once the thread's write in progress is done and
        released (:meth:`flush` returns at once when the thread has taken the last rows)."""
        with self._writing:
            self.flush()

    def _run(self) -> None:
        """The thread: write the queue once the caller has queued nothing for :data:`IDLE`;
        end when no queue starts for :data:`LINGER` (:meth:`submit` starts another)."""
        while True:
            with self._changed:
                if not self._queue:
                    self._changed.wait(LINGER)
                    if not self._queue:
                        self._thread = None
                        return
                quiet = time.monotonic() - self._last
                if quiet < IDLE:
                    self._changed.wait(IDLE - quiet)
                    continue
            with self._writing:
                self.flush()
                self._release()

    def _forked(self) -> None:
        """In a forked child: the thread was not copied and its queue is the parent's to
        write; start afresh."""
        self._changed = threading.Condition()
        self._writing = threading.RLock()
        self._queue, self._pending, self._thread = [], {}, None


@atexit.register
def flush_all() -> None:
    """Write every queued row before the process ends."""
    for writer in list(_writers):
        writer.flush()


def _after_fork() -> None:
    for writer in list(_writers):
        writer._forked()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork)
