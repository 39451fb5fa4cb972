"""What a run added to an object it changed in place, added again to the live object on a hit.

``print(res.summary())`` changes a statsmodels results object: the library keeps the
figures it printed in new attributes (``diagn``, ``_summary_cache``, the
``_summary_statistics_cache`` a state space model keeps ``llf`` in, so that it outlives
``remove_data()``) beside the cached attributes the digest leaves out. Restored whole, the
object cost the load of the fitted model and of every name sharing objects with it on each
hit (30 to 140 ms for cells of 5 to 20 ms plainly), and came back apart from what it shared.

Only additions are patched: attributes new to the object (or to the object a statsmodels
results wrapper hands out the attributes of), and new keys of a dict one of them holds,
whose values are plain (numbers, strings, numpy scalars, numpy arrays of numbers sharing
their memory with no other array the object holds, and lists, tuples, named tuples and
dicts of those); a cached attribute the run added that such an array is, is added with it.
:func:`snapshot_of` notes, before the run, the object's entries and the digests of the
cached attributes it keeps; :func:`patch_of` keeps the additions as a :class:`Patch` when
they are the whole change: taken out again, the object hashes to its digest before the
run, no entry it held was taken out or bound to another object, and its cached attributes
hold what they held. A hit on a run that started from a value of that digest adds the
same entries to the live object, which every name holding it then sees, as after a plain
run, unless the live object keeps cached attributes the run did not find (the run may
have taken them out: the cell runs instead).

Not seen, as for inputs a cell leaves unchanged: a change inside a cached attribute of an
object deeper in the value (``res.model``'s caches).
"""

from __future__ import annotations

import copy
import copyreg
import sys
from dataclasses import dataclass
from typing import Any

from hitnb.core.reaching import objects_reached
from hitnb.hashing.values import cache_entries, caches_of, delegate_of, hash_value

MAX_ENTRIES = 1024
"""Entries a holder (its attributes, or a dict one of them holds) may have for a snapshot."""
MAX_PLAIN = 1000
"""Values a plain addition may hold in all."""
MAX_ARRAY = 100_000
"""Elements a numpy array among plain additions may have."""
CACHES_MAX_BYTES = 64 * 2**20
"""Bytes of arrays in an object's cached attributes beyond which it takes no snapshot (their
digests would cost the run more than a patch saves a hit)."""

_ATOMS = (int, float, complex, str, bytes, bool, type(None))
_GONE = object()

Step = tuple[str, ...]
"""Where a holder lies from the value: ``()`` for the value itself, ``("_results",)`` for
the object a results wrapper hands out the attributes of."""


@dataclass(frozen=True)
class Patch:
    """The entries a run added to a value: for each, the holder (see :data:`Step`), the
    attribute, the key when it went into a dict that attribute holds (else None), and the
    value; with the names of the cached attributes each holder kept before the run."""

    additions: tuple[tuple[Step, str, Any, Any], ...]
    cached_before: frozenset[tuple[Step, str]]

    def unmet(self, value: Any) -> str | None:
        """Why the entries cannot be added to ``value`` (a place for one is not free, or it
        keeps cached attributes the run did not find, which the run may have changed);
        None when they can."""
        for step, attribute, key, _ in self.additions:
            entries = _entries(_holder(value, step))
            if entries is None:
                return f"it holds no {'.'.join(step) or 'attributes'} as the run found it"
            if key is None:
                if attribute in entries:
                    return f"it has an attribute {attribute!r} already"
            elif type(entries.get(attribute)) is not dict or key in entries[attribute]:
                return f"its attribute {attribute!r} is not a dict lacking {key!r}"
        found = _cached(value)
        if found is None or not found <= self.cached_before:
            return "it keeps cached attributes the run did not find, which the run may change"
        return None

    def apply(self, value: Any) -> None:
        """Add copies of the entries to ``value`` (where :meth:`unmet` found them free), one
        object where the run added one (a patch a session holds may be added again)."""
        for step, attribute, key, item in copy.deepcopy(self.additions):
            entries = vars(_holder(value, step))
            if key is None:
                entries[attribute] = item
            else:
                entries[attribute][key] = item


@dataclass(frozen=True)
class Snapshot:
    """A value's entries before a run (see :func:`snapshot_of`)."""

    holders: tuple[tuple[Step, Any, dict[str, Any], dict[str, dict[Any, Any]]], ...]
    """Each holder, with a copy of its attributes and of the dicts they hold."""
    cached: dict[tuple[Step, str], str]
    """The digest of each cached attribute the holders keep."""


def snapshot_of(value: Any) -> Snapshot | None:
    """The entries of ``value`` (and of the object it hands out the attributes of) and the
    digests of its cached attributes; None for a value a patch cannot be made for (no
    ``__dict__``, pickled otherwise than by it, too many entries or caches too big)."""
    holders = []
    for step, holder in _holders(value):
        entries = _entries(holder)
        if entries is None or len(entries) > MAX_ENTRIES:
            return None
        dicts = {
            attribute: dict(item)
            for attribute, item in entries.items()
            if type(item) is dict and len(item) <= MAX_ENTRIES
        }
        holders.append((step, holder, dict(entries), dicts))
    if not holders:
        return None
    cached: dict[tuple[Step, str], str] = {}
    total = 0
    try:
        for kept_in, name, entry in cache_entries(value):
            total += getattr(entry, "nbytes", 0) or 0
            if total > CACHES_MAX_BYTES:
                return None
            cached[(kept_in, name)] = hash_value(entry)
    except Exception:  # (UnhashableValue, or a library's own failure reading them)
        return None
    return Snapshot(tuple(holders), cached)


def patch_of(value: Any, before: Snapshot, digest_before: str) -> Patch | None:
    """The entries the run added to ``value`` as a :class:`Patch`, when they are its whole
    change (see the module's docstring); None otherwise. ``value`` is left as the run left
    it."""
    if [(step, holder) for step, holder, _, _ in before.holders] != [
        (step, holder) for step, holder in _holders(value)
    ]:
        return None
    additions: list[tuple[Step, str, Any, Any]] = []
    for step, holder, was, dicts in before.holders:
        now = _entries(holder)
        if now is None or not _only_added(was, now):
            return None
        caches = caches_of(type(holder))
        budget = [MAX_PLAIN]
        for attribute in list(now):
            if attribute not in was:
                if attribute in caches:  # (new cached attributes: left out, not added)
                    continue
                if not _plain_at(now, attribute, budget):
                    return None
                additions.append((step, attribute, None, now[attribute]))
            elif attribute in dicts:
                old, grown = dicts[attribute], now[attribute]
                if attribute in caches:
                    if any(grown.get(k, _GONE) is not v for k, v in old.items()):
                        return None  # a cached entry taken out or replaced
                    continue
                if not _only_added(old, grown):
                    return None
                for key in [k for k in grown if k not in old]:
                    if not _plain_at(grown, key, budget):
                        return None
                    additions.append((step, attribute, key, grown[key]))
    if not additions:
        return None
    try:
        entries = list(cache_entries(value))
        with_digests = {(k, n): hash_value(e) for k, n, e in entries}
        if any(with_digests.get(place) != digest for place, digest in before.cached.items()):
            return None  # a cached attribute taken out, or changed inside
        if _digest_without(value, additions) != digest_before:
            return None
        cached = _cached_added(value, additions, entries, before)
    except Exception:  # (UnhashableValue, or a library's own failure)
        return None
    if cached is None:
        return None
    return Patch(tuple(additions + cached), frozenset(before.cached))


def _cached_added(
    value: Any,
    additions: list[tuple[Step, str, Any, Any]],
    entries: list[tuple[tuple[str, ...], str, Any]],
    before: Snapshot,
) -> list[tuple[Step, str, Any, Any]] | None:
    """The cached attributes the run added that the arrays among ``additions`` are
    (``res._summary_cache["eigvals"]`` is ``res.eigenvals``), as additions too, so that the
    hit adds them as one object, as the run left them; None when an array among the
    additions shares its memory with another array ``value`` holds (a view of it, or one
    it views), which a copy would not."""
    np: Any = sys.modules.get("numpy")
    arrays = _arrays_in([item for *_, item in additions]) if np is not None else []
    if not arrays:
        return []
    new = {
        id(e): (kept_in, name)
        for kept_in, name, e in entries
        if (kept_in, name) not in before.cached
    }
    steps = {step for step, _ in _holders(value)}
    held = [o for o in objects_reached(value).values() if type(o) is np.ndarray]
    found: list[tuple[Step, str, Any, Any]] = []
    for array in arrays:
        if any(o is not array and np.may_share_memory(o, array) for o in held):
            return None
        if id(array) in new:
            kept_in, name = new.pop(id(array))
            if kept_in in steps:  # (a functools.cached_property, in the holder's __dict__)
                found.append((kept_in, name, None, array))
            else:
                found.append((kept_in[:-1], kept_in[-1], name, array))
    return found


def _arrays_in(items: list[Any]) -> list[Any]:
    """The numpy arrays among plain ``items`` (see :func:`_plain_at`) and inside them."""
    np: Any = sys.modules["numpy"]
    found: list[Any] = []
    todo = list(items)
    while todo:
        item = todo.pop()
        if type(item) is np.ndarray:
            found.append(item)
        elif isinstance(item, tuple | list):
            todo.extend(item)
        elif type(item) is dict:
            todo.extend(item.values())
    return found


def _digest_without(value: Any, additions: list[tuple[Step, str, Any, Any]]) -> str:
    """The digest of ``value`` with ``additions`` taken out; they are put back after, in
    the order the run left them in."""
    holders = {step: _entries(holder) for step, holder in _holders(value)}
    taken: list[tuple[dict[Any, Any], list[tuple[Any, Any]]]] = []
    try:
        for step, attribute, key, _ in additions:
            entries = holders[step]
            assert entries is not None
            target = entries if key is None else entries[attribute]
            taken.append((target, list(target.items())))
            del target[attribute if key is None else key]
        return hash_value(value)
    finally:
        for target, items in reversed(taken):
            target.clear()
            target.update(items)


def _holders(value: Any) -> list[tuple[Step, Any]]:
    """``value``, and the object it hands out the attributes of, each with its step."""
    found: list[tuple[Step, Any]] = [((), value)]
    delegate = delegate_of(value)
    if delegate is not None:
        found.append(((delegate[0],), delegate[1]))
    return found


def _holder(value: Any, step: Step) -> Any:
    """The holder at ``step`` in ``value`` (None when it holds none there)."""
    for s, holder in _holders(value):
        if s == step:
            return holder
    return None


def _entries(holder: Any) -> dict[str, Any] | None:
    """``holder``'s ``__dict__`` when pickle and hashing take its state from it alone: no
    reducer registered for its type, ``__reduce_ex__`` and ``__reduce__`` as ``object``
    has them, and a ``__getstate__`` giving that dict (a statsmodels results wrapper's
    does); None otherwise (None too)."""
    if holder is None:
        return None
    kind = type(holder)
    if kind.__module__.partition(".")[0] in ("numpy", "pandas", "builtins"):
        return None
    reduce_ex: Any = kind.__reduce_ex__
    reduce: Any = kind.__reduce__
    if kind in copyreg.dispatch_table or (
        reduce_ex is not object.__reduce_ex__ or reduce is not object.__reduce__
    ):
        return None
    try:
        entries = object.__getattribute__(holder, "__dict__")
        state = holder.__getstate__()
    except Exception:
        return None
    if type(entries) is not dict or not (
        state is entries or (type(state) is dict and state.keys() == entries.keys())
    ):
        return None
    return entries


def _cached(value: Any) -> frozenset[tuple[Step, str]] | None:
    """Where each cached attribute ``value`` keeps lies, and its name; None when they
    cannot be read."""
    try:
        return frozenset((kept_in, name) for kept_in, name, _ in cache_entries(value))
    except Exception:
        return None


def _only_added(was: dict[Any, Any], now: dict[Any, Any]) -> bool:
    """Whether ``now`` holds every entry of ``was`` as the very object it held, in the
    same order, with any new keys after them."""
    if len(now) < len(was):
        return False
    keys = iter(now)
    return all(next(keys) == key and now[key] is item for key, item in was.items())


def _plain_at(parent: Any, key: Any, budget: list[int]) -> bool:
    """Whether the value at ``parent[key]`` is a number, a string, bytes, None, a numpy
    scalar or a numpy array owning its memory (see :func:`_own_array`), or a tuple (a named
    one too), list or dict (with such keys) of plain values: a copy a hit adds
    cannot be told from it but by ``is`` (the caller checks that nothing else the cell
    made or showed holds it). At most :data:`MAX_PLAIN` values in all."""
    budget[0] -= 1
    kind = type(parent[key])
    if budget[0] < 0:
        return False
    if kind in _ATOMS or _numpy_scalar(parent[key]) or _own_array(parent[key]):
        return True
    if kind is tuple or (issubclass(kind, tuple) and hasattr(kind, "_fields")):
        return all(_plain_at(parent[key], i, budget) for i in range(len(parent[key])))
    if kind is not list and kind is not dict:
        return False
    if kind is list:
        return all(_plain_at(parent[key], i, budget) for i in range(len(parent[key])))
    return all(type(k) in _ATOMS for k in parent[key]) and all(
        _plain_at(parent[key], k, budget) for k in list(parent[key])
    )


def _own_array(item: Any) -> bool:
    """Whether ``item`` is a numpy array (exactly) of numbers of at most :data:`MAX_ARRAY`
    elements: statsmodels keeps the eigenvalues a summary shows so (whether it shares its
    memory with another array the value holds is checked apart: see
    :func:`_cached_added`)."""
    np: Any = sys.modules.get("numpy")
    return (
        np is not None
        and type(item) is np.ndarray
        and not item.dtype.hasobject
        and item.size <= MAX_ARRAY
    )


def _numpy_scalar(item: Any) -> bool:
    np: Any = sys.modules.get("numpy")
    return np is not None and isinstance(item, np.generic) and not isinstance(item, np.object_)
