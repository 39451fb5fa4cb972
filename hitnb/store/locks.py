"""One lock per key, so a call already being computed elsewhere is waited for, not repeated.

The locks are ``flock`` locks on files: the operating system releases them when their
process dies, so a crash leaves no stale lock behind, and since each holder opens its
own descriptor they exclude threads of one process as well as other processes and
kernels on the machine. Being machine-local by nature, they live in shared memory
(``/dev/shm/hitnb-<uid>/<store>``) where there is some, since creating a file there
costs microseconds rather than the tenth of a millisecond a disk may take; elsewhere in
the store's ``locks/`` folder.

(filelock does the same with more machinery: 80 us a lock here against 7 us for these.)
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import xxhash

from hitnb.store.blobs import make_dirs

SHARED_MEMORY = Path("/dev/shm")
_POLL_FIRST, _POLL_MAX = 0.001, 0.05


def _lock_folder(root: Path) -> Path:
    if SHARED_MEMORY.is_dir() and os.access(SHARED_MEMORY, os.W_OK):
        store_id = xxhash.xxh3_64_hexdigest(str(root.resolve()).encode())
        return SHARED_MEMORY / f"hitnb-{os.getuid()}" / store_id
    return root / "locks"


def _acquire(fd: int, timeout: float) -> bool:
    """Take an exclusive flock on ``fd``, polling with backoff for up to ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    delay = _POLL_FIRST
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if time.monotonic() >= deadline:
                return False
            time.sleep(delay)
            delay = min(delay * 2, _POLL_MAX)


class KeyLocks:
    """The lock files of a store's keys."""

    def __init__(self, root: Path) -> None:
        self.folder = _lock_folder(root)
        self._made: set[Path] = set()

    def path(self, key: str) -> Path:
        return self.folder / key[:2] / f"{key}.lock"

    def _open(self, path: Path) -> int:
        if path.parent not in self._made:
            make_dirs(path.parent)
            self._made.add(path.parent)
        try:
            return os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        except FileNotFoundError:  # the folder went away (a cleaned /dev/shm): make it again
            make_dirs(path.parent)
            return os.open(path, os.O_RDWR | os.O_CREAT, 0o600)

    @contextmanager
    def hold(self, key: str, timeout: float) -> Iterator[bool]:
        """Hold the lock of ``key`` for the block; yields False if ``timeout`` ran out first."""
        fd = self._open(self.path(key))
        try:
            acquired = _acquire(fd, timeout)
            try:
                yield acquired
            finally:
                if acquired:
                    fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    def remove_unheld(self) -> int:
        """Delete lock files nobody holds (they are made again on demand); return how many."""
        removed = 0
        if not self.folder.is_dir():
            return 0
        for path in self.folder.glob("??/*.lock"):
            try:
                fd = os.open(path, os.O_RDWR)
            except FileNotFoundError:
                continue
            try:
                if _acquire(fd, 0):
                    path.unlink(missing_ok=True)
                    removed += 1
            finally:
                os.close(fd)
        self._made.clear()
        return removed
