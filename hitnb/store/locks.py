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

import contextlib
import fcntl
import os
import stat
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import xxhash

from hitnb.errors import HitnbWarning
from hitnb.store.blobs import make_dirs

SHARED_MEMORY = Path("/dev/shm")
_POLL_FIRST, _POLL_MAX = 0.001, 0.05


def private_folder_problem(path: Path) -> str | None:
    """Why ``path`` is not a folder only this user can use (None when it is): it must be a
    real folder (not a link), owned by this user, with no access for group or others."""
    try:
        st = path.lstat()
    except FileNotFoundError:
        return "it does not exist"
    if not stat.S_ISDIR(st.st_mode):
        return "it is not a folder (a link or a file)"
    if st.st_uid != os.getuid():
        return f"it is owned by user {st.st_uid}, not by you ({os.getuid()})"
    if st.st_mode & 0o077:
        return f"its mode is {stat.S_IMODE(st.st_mode):04o}, not 0700"
    return None


_refused: set[Path] = set()


def _lock_folder(root: Path) -> Path:
    """``/dev/shm/hitnb-<uid>/<store id>`` where that folder is this user's own, else the
    store's ``locks/`` folder.

    Another local user can create ``/dev/shm/hitnb-<uid>`` before us: left alone, that
    made every call fail (a folder we cannot enter) or wait 120 s on a lock they held. Such
    a folder is refused, with a warning saying whose it is and how to remove it.
    """
    if not (SHARED_MEMORY.is_dir() and os.access(SHARED_MEMORY, os.W_OK)):
        return root / "locks"
    mine = SHARED_MEMORY / f"hitnb-{os.getuid()}"
    with contextlib.suppress(FileExistsError):
        mine.mkdir(mode=0o700)
    problem = private_folder_problem(mine)
    if problem is not None and problem.startswith("its mode"):  # ours (an older hitnb made
        with contextlib.suppress(OSError):  # it with the umask's mode): make it private
            mine.chmod(0o700)
        problem = private_folder_problem(mine)
    if problem is not None:
        if mine in _refused:
            return root / "locks"
        _refused.add(mine)
        warnings.warn(
            f"the lock folder {mine} is refused: {problem}. Another user may have made it to "
            f"interfere with your calls; the store's own {root / 'locks'} is used instead. "
            f"Fix: remove {mine} (as its owner, or ask an administrator)",
            HitnbWarning,
            stacklevel=4,
        )
        return root / "locks"
    store_id = xxhash.xxh3_64_hexdigest(str(root.resolve()).encode())
    return mine / store_id


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
        self._folder_text = f"{self.folder}{os.sep}"
        self._made: set[str] = set()

    def path(self, key: str) -> Path:
        return Path(self._file(key))

    def _file(self, key: str) -> str:
        """The lock file's path as text (a ``Path`` costs 4 us, on every miss)."""
        return f"{self._folder_text}{key[:2]}{os.sep}{key}.lock"

    def _open(self, path: str) -> int:
        folder = os.path.dirname(path)  # noqa: PTH120 (str paths: this runs on every miss)
        if folder not in self._made:
            make_dirs(Path(folder))
            self._made.add(folder)
        try:
            return os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        except FileNotFoundError:  # the folder went away (a cleaned /dev/shm): make it again
            make_dirs(Path(folder))
            return os.open(path, os.O_RDWR | os.O_CREAT, 0o600)

    @contextmanager
    def hold(self, key: str, timeout: float) -> Iterator[bool]:
        """Hold the lock of ``key`` for the block; yields False if ``timeout`` ran out first."""
        fd = self._open(self._file(key))
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
