"""One lock per key, so a call already being computed elsewhere is waited for, not repeated.

The locks are ``flock`` locks on files under ``locks/`` (through filelock): the
operating system releases them when their process dies, so a crash leaves no stale
lock behind, and they work across threads, processes and kernels on one machine.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from hitnb.store.blobs import make_dirs


class KeyLocks:
    """The ``locks/`` folder of a store."""

    def __init__(self, root: Path) -> None:
        self.folder = root / "locks"

    def path(self, key: str) -> Path:
        return self.folder / key[:2] / f"{key}.lock"

    @contextmanager
    def hold(self, key: str, timeout: float) -> Iterator[bool]:
        """Hold the lock of ``key`` for the block; yields False if ``timeout`` ran out first."""
        path = self.path(key)
        make_dirs(path.parent)
        lock = FileLock(path, timeout=timeout, mode=0o600)
        try:
            lock.acquire()
        except Timeout:
            yield False
            return
        try:
            yield True
        finally:
            lock.release()

    def remove_unheld(self) -> int:
        """Delete lock files nobody holds (they are re-created on demand); return how many."""
        removed = 0
        if not self.folder.is_dir():
            return 0
        for path in self.folder.glob("??/*.lock"):
            lock = FileLock(path, timeout=0)
            try:
                lock.acquire()
            except Timeout:
                continue
            try:
                path.unlink(missing_ok=True)
                removed += 1
            finally:
                lock.release()
        return removed
