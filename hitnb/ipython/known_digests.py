"""Digests of the values a session's ``%%memo`` cells made or restored, kept while nothing
hitnb does not watch could have changed them.

A restored or freshly computed output is hashed once, when it is stored (its digest is kept
in the cell's record); the cells that read it next find its digest here instead of hashing
it again, and a restored value counts with the digest of the value that was stored, however
it unpickles. The cache is sound because it is emptied whenever a value could change behind
its back: before any cell that is not a ``%%memo`` cell (in auto mode: that it does not memoize,
unless the cell only runs magics that change no value), and after a ``%%memo`` cell that was
seen to change one of its inputs in place (another name may share that object).
"""

from __future__ import annotations

from typing import Any


class KnownDigests:
    """Value digests by object identity (the object is held, so its id stays its own)."""

    def __init__(self) -> None:
        self._by_id: dict[int, tuple[Any, str]] = {}

    def get(self, value: Any) -> str | None:
        found = self._by_id.get(id(value))
        return found[1] if found is not None and found[0] is value else None

    def put(self, value: Any, digest: str) -> None:
        self._by_id[id(value)] = (value, digest)

    def clear(self) -> None:
        self._by_id.clear()

    def __len__(self) -> int:
        return len(self._by_id)


_sessions: dict[int, KnownDigests] = {}


def known_digests(shell: Any) -> KnownDigests:
    """The cache of ``shell``'s session."""
    found = _sessions.get(id(shell))
    if found is None:
        found = _sessions[id(shell)] = KnownDigests()
    return found


def forget_unless_memo(shell: Any, info: Any = None) -> None:
    """Before a cell: a cell that is not a ``%%memo`` cell may change anything."""
    from hitnb.ipython.auto import auto_session

    raw = getattr(info, "raw_cell", None) or ""
    if not raw.lstrip().startswith("%%memo") and not auto_session(shell).keeps_values(info):
        known_digests(shell).clear()


def forget_session(shell: Any) -> None:
    _sessions.pop(id(shell), None)
