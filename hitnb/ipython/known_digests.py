"""Digests of the values a session's ``%%memo`` cells made or restored, kept while nothing
hitnb does not watch could have changed them.

A restored or freshly computed output is hashed once, when it is stored (its digest is kept
in the cell's record); the cells that read it next find its digest here instead of hashing
it again, and a restored value counts with the digest of the value that was stored, however
it unpickles. The cache is sound because it is emptied whenever a value could change behind
its back: before any cell that is not a ``%%memo`` cell (in auto mode: that it does not memoize,
unless the cell only runs magics that change no value), and after a ``%%memo`` cell that was
seen to change one of its inputs in place, or whose notebook functions changed a global
they read (another name may share that object). Notebook functions and classes are never
kept: their digest covers the globals they read, which a hit rebinds by name; nor are
modules, whose digest covers the values they hold.

A hit that adds to a live object what its run added (a patch: see
:mod:`hitnb.core.patches`) changes only the values reaching the objects it added to; the
digests kept before it are checked when next asked for, by what the value's pickle reaches
(see :func:`~hitnb.core.reaching.objects_reached`, which a value's digest follows too), and
kept when that is none of those objects: a walk costs a fraction of hashing the value
again (an ARIMA results object: 4 ms against 27).

A stored output whose digest the cell's record lacks (a cheap cell's fitted model) is
hashed by the first cell that reads it; since the cache still holds it, it is unchanged
since it was stored, and that digest is kept in the store for the entry's output: after a
restart, the restored value counts with it, and no reader hashes it again.
"""

from __future__ import annotations

import types
import weakref
from typing import Any, NamedTuple, TypeVar

from hitnb.core.reaching import objects_reached
from hitnb.hashing.values import UnhashableValue, hash_value, hashers_registered

_READS_GLOBALS = (types.FunctionType, type, types.ModuleType)
"""Code: a function's digest covers the values of the globals it reads, and a user
module's the values it holds, which change without a cell saying so."""


class Origin(NamedTuple):
    """The stored output a value is: output ``name`` of the entry ``key`` with these bytes."""

    key: str
    checksum: str
    name: str


_T = TypeVar("_T")

MAX_PATCHED = 16
"""Patches applied since a value's digest was kept beyond which it is dropped, not walked."""


class KnownDigests:
    """Value digests by object identity (the object is held, so its id stays its own), and
    for values whose digest is not known yet, which stored output they are. Each is kept
    with the number of patches applied when it was (see :meth:`patched`)."""

    def __init__(self) -> None:
        self._by_id: dict[int, tuple[Any, str, int]] = {}
        self._origins: dict[int, tuple[Any, Origin, int]] = {}
        self._refused: dict[int, tuple[weakref.ref[Any], UnhashableValue, int]] = {}
        self._hashed: dict[int, tuple[Any, str, int]] = {}
        self._patched: list[dict[int, Any]] = []
        """The objects each patch applied added to, by id (held, so the ids stay theirs)."""
        self.learned: dict[tuple[str, str], dict[str, str]] = {}
        """Digests learned for stored outputs, by entry key and checksum, as this session
        read or wrote them: a cell hit again in the session does not ask the store again.
        About stored bytes, not live values, so :meth:`clear` keeps them."""

    def get(self, value: Any) -> str | None:
        return self._current(self._by_id, value)

    def put(self, value: Any, digest: str) -> None:
        if isinstance(value, _READS_GLOBALS):  # its digest holds the globals it reads, which
            return  # a hit rebinds by name: the same object may hash otherwise after it
        self._by_id[id(value)] = (value, digest, len(self._patched))

    def note_origin(self, value: Any, origin: Origin) -> None:
        """``value`` is, unchanged, the output ``origin`` names (just stored or restored)."""
        self._origins[id(value)] = (value, origin, len(self._patched))

    def origin(self, value: Any) -> Origin | None:
        """The stored output ``value`` still is, if nothing could have changed it since."""
        return self._current(self._origins, value)

    def patched(self, targets: list[Any]) -> None:
        """A hit added entries to the objects ``targets`` (see
        :meth:`~hitnb.core.patches.Patch.targets`): what was kept of the values reaching one
        is stale, which :meth:`_current` finds when it is asked for."""
        if len(self._patched) >= MAX_PATCHED:
            self.clear()
        self._patched.append({id(target): target for target in targets})

    def _current(self, kept: dict[int, tuple[Any, _T, int]], value: Any) -> _T | None:
        """What ``kept`` holds for ``value``, when no patch applied since added to an object
        ``value`` reaches (else it is dropped); None when it holds nothing."""
        found = kept.get(id(value))
        if found is None or found[0] is not value:
            return None
        if found[2] < len(self._patched):
            targets = {k: v for added in self._patched[found[2] :] for k, v in added.items()}
            try:
                apart = targets.keys().isdisjoint(objects_reached(value))
            except UnhashableValue:
                apart = False
            if not apart:
                del kept[id(value)]
                return None
            kept[id(value)] = (value, found[1], len(self._patched))
        return found[1]

    def refused(self, value: Any) -> UnhashableValue | None:
        """Why ``value`` could not be hashed when a cell last tried, if one did."""
        found = self._refused.get(id(value))
        if found is None or found[0]() is not value or found[2] != hashers_registered():
            return None  # not refused, or refused before a hasher was registered
        return found[1]

    def refuse(self, value: Any, why: UnhashableValue) -> None:
        """``value`` cannot be hashed: the cells that read it next run uncached without
        walking it again (a pint ``UnitRegistry`` holds a weakref deep inside: 25 ms a
        cell). Kept across :meth:`clear`, held weakly: a value that stopped holding what
        could not be hashed only costs cells their caching, never a wrong result, and one
        that cannot be held weakly is walked every time. A hasher registered since
        (:func:`~hitnb.hashing.values.register_hasher`) lifts every refusal. ``why`` must
        carry no traceback, whose frames would hold the value."""
        key = id(value)
        refused = self._refused

        def forget(_: Any) -> None:
            if key in refused and refused[key][0] is held:
                del refused[key]

        try:
            held = weakref.ref(value, forget)
        except TypeError:
            return
        refused[key] = (held, why, hashers_registered())

    def hashed(self, value: Any) -> str:
        """``hash_value(value)``, hashed once while nothing could change the value: what a
        notebook function holds (``fib.memo`` of a million entries), which every cell run
        checks. Kept apart from :meth:`get`, whose digest of a restored value is that of
        the value stored, which the live one need not hash to: a run's check compares
        digests of the live value before and after it."""
        found = self._current(self._hashed, value)
        if found is not None:
            return found
        digest = hash_value(value)
        if not isinstance(value, _READS_GLOBALS):
            self._hashed[id(value)] = (value, digest, len(self._patched))
        return digest

    def drop_hashed(self, idents: set[int]) -> None:
        """Forget what :meth:`hashed` kept of the objects of ``idents`` (by id): values a run
        may have changed where no check after it looked (the cell's outputs)."""
        for ident in idents & self._hashed.keys():
            del self._hashed[ident]

    def clear(self) -> None:
        self._by_id.clear()
        self._origins.clear()
        self._hashed.clear()
        self._patched.clear()

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
