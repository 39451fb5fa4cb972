"""What kind of failure an error is, decided before anything is done about it.

A store meets five kinds of trouble, and only one of them is damage:

- ``busy``: another process holds the database; waiting is the cure.
- ``full``: no space left (``ENOSPC``, ``EDQUOT``, SQLite's "database or disk is full").
- ``read-only``: the file or file system cannot be written (``EROFS``, ``EACCES``).
- ``io``: the device failed to read or write (``EIO``, SQLite's "disk I/O error"); may pass.
- ``corrupt``: the bytes are not a database (SQLite's ``SQLITE_CORRUPT``/``SQLITE_NOTADB``),
  or a text value is not UTF-8, which hitnb (writing Python strings) never stores.

Only ``corrupt`` justifies moving an index aside and rebuilding it: a full disk or a
read-only mount says nothing about the file, and treating them as damage once replaced a
healthy index with an empty one.
"""

from __future__ import annotations

import errno
import os
import shutil
import sqlite3
from pathlib import Path
from typing import Literal

from hitnb.errors import HitnbError

Kind = Literal["busy", "full", "read-only", "io", "corrupt", "other"]

# SQLite's primary result codes (the low byte of an extended code)
_SQLITE_KINDS: dict[int, Kind] = {
    5: "busy",  # SQLITE_BUSY
    6: "busy",  # SQLITE_LOCKED
    8: "read-only",  # SQLITE_READONLY
    10: "io",  # SQLITE_IOERR
    11: "corrupt",  # SQLITE_CORRUPT
    13: "full",  # SQLITE_FULL
    14: "io",  # SQLITE_CANTOPEN
    23: "read-only",  # SQLITE_AUTH
    26: "corrupt",  # SQLITE_NOTADB
}
_SQLITE_MESSAGES: tuple[tuple[str, Kind], ...] = (
    ("locked", "busy"),
    ("busy", "busy"),
    ("disk is full", "full"),
    ("readonly", "read-only"),
    ("read-only", "read-only"),
    ("disk i/o error", "io"),
    ("unable to open", "io"),
    ("malformed", "corrupt"),
    ("not a database", "corrupt"),
    ("could not decode to utf-8", "corrupt"),  # Python's sqlite3 reading garbage as text
)
_OS_KINDS: dict[int, Kind] = {
    errno.ENOSPC: "full",
    errno.EDQUOT: "full",
    errno.EFBIG: "full",
    errno.EROFS: "read-only",
    errno.EACCES: "read-only",
    errno.EPERM: "read-only",
    errno.EIO: "io",
}

DESCRIPTIONS: dict[Kind, str] = {
    "busy": "another process is using it",
    "full": "the disk is full",
    "read-only": "it cannot be written (read-only file system or permissions)",
    "io": "the device reported an input/output error",
    "corrupt": "it is damaged",
    "other": "an unexpected error",
}


FULL_BELOW = 64 * 1024
"""A file system with less free room than this is full (SQLite needs pages, not bytes)."""


def disk_is_full(folder: Path) -> bool:
    """Whether the file system holding ``folder`` has (next to) no room for this user, and
    is writable (a read-only file system may report no room: it is read-only, not full)."""
    try:
        return shutil.disk_usage(folder).free < FULL_BELOW and os.access(folder, os.W_OK)
    except OSError:
        return False


def classify(exc: BaseException, where: Path | None = None) -> Kind:
    """The kind of failure ``exc`` is (see the module's docstring).

    SQLite reports a full disk met while opening its WAL as an I/O error, and a write to
    an index opened for reading because of it as "readonly"; given the folder ``where``
    the failure happened, those are taken for a full disk when it has no room."""
    if isinstance(exc, sqlite3.Error):
        kind = _sqlite_kind(exc)
        if kind in ("io", "read-only") and where is not None and disk_is_full(where):
            return "full"
        return kind
    if isinstance(exc, OSError) and exc.errno in _OS_KINDS:
        return _OS_KINDS[exc.errno]
    return "other"


def _sqlite_kind(exc: sqlite3.Error) -> Kind:
    code = getattr(exc, "sqlite_errorcode", None)
    if isinstance(code, int) and (code & 0xFF) in _SQLITE_KINDS:
        return _SQLITE_KINDS[code & 0xFF]
    text = str(exc).lower()
    for needle, kind in _SQLITE_MESSAGES:
        if needle in text:
            return kind
    return "other"


def is_damage(exc: BaseException) -> bool:
    """Whether ``exc`` says the bytes themselves are wrong (and only then)."""
    return classify(exc) == "corrupt"


class IndexUnavailable(HitnbError, sqlite3.OperationalError):
    """The index could not do what was asked, for a reason that is not damage.

    Both a :class:`~hitnb.errors.HitnbError` (the CLI prints one clear line) and an
    ``sqlite3.OperationalError`` (callers that catch SQLite's errors keep working).
    """

    def __init__(self, action: str, exc: BaseException, where: Path | None = None) -> None:
        self.kind = classify(exc, where)
        super().__init__(
            f"the store's index could not {action}: {DESCRIPTIONS[self.kind]} ({exc}). "
            + _FIXES[self.kind]
        )


_FIXES: dict[Kind, str] = {
    "busy": "Try again when the other process is done.",
    "full": "Free some space (`hitnb gc --max-size ...` or delete files) and try again.",
    "read-only": "Make the store folder writable, or point HITNB_STORE at a writable folder.",
    "io": "Check the disk; `hitnb verify --repair` rebuilds the index from the entries.",
    "corrupt": "`hitnb verify --repair` rebuilds it from the entries' manifests.",
    "other": "`hitnb verify` checks the store.",
}
