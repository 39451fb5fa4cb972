"""What a run added to an object it changed in place, added again to the live object on a hit.

``print(res.summary())`` changes a statsmodels results object: the library keeps the
figures it printed in new attributes (``diagn``, ``_summary_cache``, the
``_summary_statistics_cache`` a state space model keeps ``llf`` in, so that it outlives
``remove_data()``) and fills its caches. Restored whole, the object cost the load of the
fitted model and of every name sharing objects with it on each hit (30 to 140 ms for cells
of 5 to 20 ms plainly), and came back apart from what it shared.

Only additions are patched: attributes new to the object (or to the object a statsmodels
results wrapper hands out the attributes of, or to an object keeping caches it holds a few
attributes away: ``res._results.model.data``, whose ``xnames`` a summary keeps; see
:func:`_holders`), and new keys of a dict one of them holds (its caches too), whose values
are plain (numbers, strings, numpy and pandas scalars, numpy arrays of numbers, and lists,
tuples, named tuples and dicts of those) and held by nothing but the additions: a hit adds
copies, which only ``is`` could tell from what the run added, and only an object held
elsewhere too would be told apart (``m.b = m.a``, a list a notebook name holds, a view of
the array). An addition that is an object the value held before (a formula model's data
keeps its frame's own index as ``row_labels``), or one an output of the cell holds (the
index of the predictions ``pred = res.predict(...)`` made, which the model's data keeps as
``predict_dates``), is kept as where it lies (:class:`Held`), and a hit adds the live
value's own, or the restored output's; a view of an array the value held (statsmodels'
cached residuals of a state space model are its ``forecasts_error[0]``), as the place it
looks at (:class:`HeldView`), and a hit adds a view of the live value's array. Beside the
caches, an addition goes only to an object pickled and hashed by its ``__dict__``, whose
other state the digest then covers. :func:`snapshot_of` notes, before the run, the holders'
entries and the digest of every entry of their caches; :func:`patch_of` keeps the
additions as a :class:`Patch` when they are the whole change: taken out again, the object
hashes to its digest before the run, no entry it held was taken out or bound to another
object, its cache entries hold what they held, and no other object inside it keeping
caches gained an entry. A hit on a run that started from a value of that digest adds the
same entries to the live object, which every name holding it then sees, as after a plain
run, when the live object's caches hold exactly what the run found in them (the cache
entries the run added are in the patch: computed again later, from state changed since,
they would differ from what a plain run kept). A run that only filled caches makes a patch
too (:attr:`Patch.changes_value` is False): the value is the same, and a hit adds what
the run cached.

Not seen, as for inputs a cell leaves unchanged: a change inside an entry of the cache of
an object deeper in the value than the holders (they are counted, not hashed).
"""

from __future__ import annotations

import copy
import copyreg
import gc
import itertools
import sys
import types
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from hitnb.core.reaching import objects_reached
from hitnb.core.scalars import library_scalar
from hitnb.hashing.values import (
    cache_attributes,
    cache_entries,
    delegate_of,
    hash_value,
    keeps_caches,
)
from hitnb.store.codecs import placements_within, view_of

MAX_ENTRIES = 1024
"""Entries a holder (its attributes, or a dict cache it keeps) may have for a snapshot."""
MAX_PLAIN = 1000
"""Values a plain addition may hold in all."""
MAX_ARRAY = 100_000
"""Elements a numpy array among plain additions may have."""
CACHES_MAX_BYTES = 64 * 2**20
"""Bytes of arrays in an object's caches beyond which it takes no snapshot (their digests
would cost the run more than a patch saves a hit)."""

_ATOMS = (int, float, complex, str, bytes, bool, type(None))
_GONE = object()
_PASSED = ("numpy", "pandas", "builtins")
"""Top-level modules whose objects no walk for holders goes into (see :func:`_holders`)."""
MAX_DEPTH = 4
"""Attributes from the value at most to an object keeping caches a patch may add to."""
MAX_HOLDERS = 8
"""Objects a patch may add to."""

Step = tuple[str, ...]
"""Where a holder lies from the value: ``()`` for the value itself, ``("_results",)`` for
the object a results wrapper hands out the attributes of."""

Place = tuple[Step, str, Any]
"""Where an addition goes: the holder (see :data:`Step`), the attribute, and the key when
it goes into a dict that attribute holds (else None)."""

CacheDigests = dict[tuple[tuple[str, ...], Any], str]
"""The digest of each entry of a value's caches, by where it is kept and its name (see
:func:`~hitnb.hashing.values.cache_entries`)."""


@dataclass(frozen=True)
class Held:
    """An addition that is an object the value held before the run, by where it lies in
    the value (attributes, and ``[index]`` or ``[columns]`` of a pandas object): a formula
    model's data keeps its frame's own index as ``row_labels``. A hit adds the live
    value's own, as a plain run does. Or one an output of the cell holds: a time series
    model's data keeps the index of the predictions ``pred = res.predict(...)`` made as
    ``predict_dates``, and a hit adds the restored ``pred``'s own."""

    path: tuple[str, ...]
    output: str | None = None
    """The output holding it (None: the value)."""

    def of(self, value: Any, outputs: Mapping[str, Any]) -> Any:
        """The object at :attr:`path` in ``value``, or in the output; ``_GONE`` when none."""
        root = value if self.output is None else outputs.get(self.output, _GONE)
        return _GONE if root is _GONE else _resolved(root, self.path)


@dataclass(frozen=True)
class HeldView:
    """An addition that is a numpy array viewing the memory of one the value held before
    the run, by where that one lies (see :class:`Held`) and where the view looks in it:
    statsmodels caches the residuals of a state space model as ``forecasts_error[0]``. A
    hit adds a view of the live value's own array, looking at the same elements."""

    path: tuple[str, ...]
    anchor: tuple[tuple[int, ...], str]
    """The shape and dtype of the array viewed, as the run found it."""
    offset: int
    shape: tuple[int, ...]
    strides: tuple[int, ...]
    dtype: Any
    writeable: bool

    def of(self, value: Any) -> Any:
        """The view of the array at :attr:`path` in ``value``; ``_GONE`` when that is not
        an array of the shape and dtype the run viewed."""
        anchor = _resolved(value, self.path)
        np: Any = sys.modules.get("numpy")
        if (
            np is None
            or type(anchor) is not np.ndarray
            or (anchor.shape, anchor.dtype.str) != self.anchor
            or not anchor.flags.c_contiguous
        ):
            return _GONE
        return view_of(anchor, self.offset, self.shape, self.strides, self.dtype, self.writeable)


@dataclass(frozen=True)
class Patch:
    """The entries a run added to a value, each with its place (see :data:`Place`), and the
    digests of the cache entries the value held when the run started."""

    additions: tuple[tuple[Step, str, Any, Any], ...]
    cached_before: CacheDigests
    changes_value: bool = True
    """False when every addition went into a cache (the value's digest, which leaves them
    out, is the same)."""
    deeper_before: str | None = None
    """The digest of the caches of the other objects inside the value keeping caches, as
    the run found them (see :func:`_deeper_digest`); None when it held none."""

    def unmet(self, value: Any, outputs: Mapping[str, Any]) -> str | None:
        """Why the entries cannot be added to ``value`` (a place for one is not free, or its
        caches hold other entries than the run found, which the run may have used or
        changed); None when they can. ``outputs``: the cell's, as the hit restored them."""
        for step, attribute, key, item in self.additions:
            if type(item) is Held and item.of(value, outputs) is _GONE:
                where = "it" if item.output is None else f"`{item.output}`"
                return f"{where} holds nothing at {'.'.join(item.path)}, which the run added"
            if type(item) is HeldView and item.of(value) is _GONE:
                return f"it holds no array at {'.'.join(item.path)} as the run viewed"
            entries = _entries(_holder(value, step))
            if entries is None:
                return f"it holds no {'.'.join(step) or 'attributes'} as the run found it"
            if key is None:
                if attribute in entries:
                    return f"it has an attribute {attribute!r} already"
            elif type(entries.get(attribute)) is not dict or key in entries[attribute]:
                return f"its attribute {attribute!r} is not a dict lacking {key!r}"
        holders = _holders(value)
        if _cache_digests(holders) != self.cached_before:
            return "its caches hold other entries than the run found"
        if self.deeper_before is not None:
            try:
                deeper = _deeper_digest(value, holders)
            except Exception:  # (UnhashableValue, or a library's own failure)
                return "the caches of the objects it holds cannot be read"
            if deeper != self.deeper_before:
                return "the objects it holds keep other cached entries than the run found"
        return None

    def targets(self, value: Any) -> list[Any]:
        """The objects in ``value`` the entries go into: only values reaching one hash to
        another digest once they are added."""
        return [_holder(value, step) for step in {step for step, *_ in self.additions}]

    def apply(self, value: Any, outputs: Mapping[str, Any]) -> None:
        """Add copies of the entries to ``value`` (where :meth:`unmet` found them free), one
        object where the run added one (a patch a session holds may be added again)."""
        for step, attribute, key, item in copy.deepcopy(self.additions):
            if type(item) is Held:
                item = item.of(value, outputs)
            elif type(item) is HeldView:
                item = item.of(value)
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
    cached: CacheDigests
    """The digest of each entry of the holders' caches."""
    deeper: tuple[tuple[Any, int, str], ...] = ()
    """The other objects inside the value that keep caches, each with the number of
    entries they keep (see :func:`cache_count`) and the digest of those (see
    :func:`_caches_digest`): a run changing them is no patch, which would not change them
    again. Not pandas' own (an index's ``_engine``): no copy keeps those."""
    unseen: tuple[tuple[Any, Any], ...] = ()
    """The numpy arrays and functions inside the value, each with what of it the digest
    leaves out (see :func:`_unseen_of`): a run changing that is no patch either."""
    reached: Mapping[int, Any] = field(default_factory=dict)
    """The objects the value's pickle reached, by id (see
    :func:`~hitnb.core.reaching.objects_reached`): what it held before the run, kept so
    that their ids stay theirs."""


def snapshot_of(value: Any) -> Snapshot | None:
    """The entries of ``value`` (and of the object it hands out the attributes of) and the
    digests of its cache entries; None for a value a patch cannot be made for (no
    ``__dict__``, pickled otherwise than by it, too many entries or caches too big)."""
    found = _holders(value)
    holders = []
    for step, holder in found:
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
    cached = _cache_digests(found, CACHES_MAX_BYTES)
    if cached is None:
        return None
    own = {id(holder) for _, holder, _, _ in holders}
    try:
        reached = objects_reached(value)
        deeper = tuple(
            (obj, cache_count(obj), _caches_digest(obj))
            for ident, obj in reached.items()
            if ident not in own and keeps_own_caches(obj)
        )
        unseen = tuple(
            (obj, fingerprint)
            for obj in reached.values()
            if (fingerprint := _unseen_of(obj)) is not None
        )
    except Exception:  # (UnhashableValue, or a library's own failure reading caches)
        return None
    return Snapshot(tuple(holders), cached, deeper, unseen, reached)


def keeps_own_caches(obj: Any) -> bool:
    """Whether ``obj`` may keep caches a copy of it keeps too (not pandas' own): what a
    patch may add to, or compares the caches of."""
    return type(obj).__module__.partition(".")[0] not in _PASSED and keeps_caches(type(obj))


def _caches_digest(obj: Any) -> str:
    """The digest of every entry of ``obj``'s caches (see
    :func:`~hitnb.hashing.values.cache_entries`), with where each lies."""
    return hash_value(
        [[list(kept_in), name, entry] for kept_in, name, entry in cache_entries(obj, every=True)]
    )


def _deeper_digest(value: Any, holders: list[tuple[Step, Any]]) -> str:
    """The digest of the caches of the objects inside ``value`` that keep caches, but its
    ``holders`` (see :func:`_holders`), in the order pickle meets them."""
    own = {id(holder) for _, holder in holders}
    return hash_value(
        [
            _caches_digest(obj)
            for ident, obj in objects_reached(value).items()
            if ident not in own and keeps_own_caches(obj)
        ]
    )


def _unseen_of(obj: Any) -> Any:
    """What of ``obj`` a digest leaves out and pickle keeps, to compare in one process: a
    numpy array's ``writeable`` flag and its dtype's metadata, a function's own
    attributes (by identity); None for other objects."""
    np: Any = sys.modules.get("numpy")
    if np is not None and type(obj) is np.ndarray:
        return (obj.flags.writeable, obj.dtype, obj.dtype.metadata)  # (== leaves it out)
    if isinstance(obj, types.FunctionType):
        return tuple((k, id(v)) for k, v in obj.__dict__.items())
    return None


def patch_of(
    value: Any, before: Snapshot, digest_before: str, outputs: Mapping[str, Any]
) -> Patch | None:
    """The entries the run added to ``value`` as a :class:`Patch`, when they are its whole
    change (see the module's docstring); None otherwise. ``value`` is left as the run left
    it. ``outputs``: the values the cell bound, which a hit restores before it patches."""
    holders = _holders(value)
    if [(step, holder) for step, holder, _, _ in before.holders] != holders:
        return None
    places: list[tuple[Place, dict[Any, Any], Held | HeldView | None]] = []  # (None: plain)
    had = {id(holder): was for _, holder, was, _ in before.holders}
    lying = _Paths(value, had, outputs)
    budget = [MAX_PLAIN]
    entries: dict[Step, dict[str, Any]] = {}  # (each holder's, as the run left them)
    for step, holder, was, dicts in before.holders:
        now = _entries(holder)
        if now is None or not _only_added(was, now):
            return None
        entries[step] = now
        for attribute in list(now):
            if attribute not in was:
                if not _place_into(places, (step, attribute, None), now, lying, budget):
                    return None
            elif type(now[attribute]) is dict:
                grown = now[attribute]
                old = dicts.get(attribute)
                if old is None:  # (too big to copy: a change inside shows in the
                    continue  # digest, an entry added to a cache in the check below)
                if not _only_added(old, grown):
                    return None
                for key in [k for k in grown if k not in old]:
                    if not _place_into(places, (step, attribute, key), grown, lying, budget):
                        return None
    if not places or not _held_only_there(
        [(p, h) for p, h, held in places if held is None],
        [(p, h) for p, h, held in places if type(held) is HeldView],
    ):
        return None
    try:
        if any(_caches_digest(obj) != digest for obj, _, digest in before.deeper):
            return None  # (a cache deeper in the value changed: not in the patch)
    except Exception:  # (UnhashableValue, or a library's own failure reading caches)
        return None
    if any(_unseen_of(obj) != fingerprint for obj, fingerprint in before.unseen):
        return None  # (`m.arr.flags.writeable = False`: not in the digest, nor the patch)
    additions = [
        (step, attribute, key, held or holder[attribute if key is None else key])
        for (step, attribute, key), holder, held in places
    ]
    try:
        after = _cache_digests(holders)
        if after is None or any(after.get(place) != d for place, d in before.cached.items()):
            return None  # a cache entry taken out, or changed inside
        if not after.keys() - before.cached.keys() <= _cache_places(additions):
            return None  # (a cache entry added to a dict too big to note: not in the patch)
        if _digest_without(value, additions, entries) != digest_before:
            return None
    except Exception:  # (UnhashableValue, or a library's own failure)
        return None
    cached = [_into_cache(addition, after) for addition in additions]
    for (step, _, _, _), into_cache in zip(additions, cached, strict=True):
        if not (into_cache or _whole_state(_holder(value, step))):
            return None  # (beside the caches of an object pickled otherwise than by its
            # __dict__: its other state may have changed in place unseen)
    deeper = hash_value([digest for _, _, digest in before.deeper]) if before.deeper else None
    return Patch(tuple(additions), before.cached, not all(cached), deeper)


def _into_cache(addition: tuple[Step, str, Any, Any], after: CacheDigests) -> bool:
    """Whether ``addition`` went into a cache (see :data:`CacheDigests`): an entry of a
    cache dict, a ``functools.cached_property`` value, or a cache dict made with entries."""
    step, attribute, key, item = addition
    if key is not None:
        return ((*step, attribute), key) in after
    return (step, attribute) in after or (
        type(item) is dict and bool(item) and all(((*step, attribute), k) in after for k in item)
    )


def cache_count(value: Any) -> int:
    """The number of entries the caches of ``value`` and of the object it hands out the
    attributes of hold (every entry of them), or -1 when they cannot be read."""
    try:
        return sum(1 for _ in cache_entries(value, every=True))
    except Exception:  # (a library's own failure reading them)
        return -1


def caches_filled(snapshot: Snapshot) -> bool:
    """Whether the caches of the value ``snapshot`` was taken of hold other entries than
    then, by their number: a run only reading the value may have filled them (``res.ssr``,
    ``print(fit.total)``), which its digest leaves out."""
    try:
        held = sum(
            1
            for _, holder, _, _ in snapshot.holders
            for _ in cache_entries(holder, every=True, through=False)
        )
    except Exception:  # (a library's own failure reading them)
        return True
    return held != len(snapshot.cached) or any(
        cache_count(obj) != count for obj, count, _ in snapshot.deeper
    )


def _cache_places(additions: list[tuple[Step, str, Any, Any]]) -> set[tuple[Step, Any]]:
    """Where each entry ``additions`` put into a cache would lie (see :data:`CacheDigests`):
    an attribute itself (``functools.cached_property``), or a key of a dict attribute,
    also when the dict is new."""
    places: set[tuple[Step, Any]] = set()
    for step, attribute, key, item in additions:
        if key is not None:
            places.add(((*step, attribute), key))
        else:
            places.add((step, attribute))
            if type(item) is dict:
                places.update(((*step, attribute), k) for k in item)
    return places


def _place_into(
    places: list[tuple[Place, dict[Any, Any], Held | HeldView | None]],
    place: Place,
    container: dict[Any, Any],
    lying: _Paths,
    budget: list[int],
) -> bool:
    """Note in ``places`` the entry the run added at ``place`` (in ``container``): an
    object the value held before the run (see :class:`Held`), a view of an array it held
    (see :class:`HeldView`), plain (copied on a hit), or an object an output holds (an
    immutable one before it is taken for plain); False when it is none of those."""
    _, attribute, key = place
    target = container[attribute if key is None else key]
    held: Held | HeldView | None = None
    if type(target) not in _ATOMS:
        path = lying.path(target)
        held = Held(path) if path is not None else _view_in(target, lying)
        if held is None and _immutable(target):  # (`t = pd.Timestamp(...); m.when = t`:
            held = lying.in_output(target)  # copied, `m.when is t` would be False)
    if held is None and _plain_at(container, attribute if key is None else key, budget):
        places.append((place, container, None))
        return True
    if held is None:
        held = lying.in_output(target)
    if held is None:
        return False
    places.append((place, container, held))
    return True


class _Paths:
    """Where objects lie in a value (see :class:`Held`), found through attributes of its
    objects (those ``had`` before the run, for the objects there, by id), not through
    caches, at most :data:`MAX_DEPTH` + 2 steps away; and in the cell's ``outputs``.
    Each is walked once, when first asked about."""

    def __init__(
        self, value: Any, had: dict[int, dict[str, Any]], outputs: Mapping[str, Any]
    ) -> None:
        self.value = value
        self.had = had
        self.outputs = outputs
        self.found: dict[str | None, dict[int, tuple[str, ...]]] = {}

    def path(self, target: Any, output: str | None = None) -> tuple[str, ...] | None:
        """Where ``target`` lies in the value (or in ``output``); None when nowhere."""
        found = self.found.get(output)
        if found is None:
            root = self.value if output is None else self.outputs[output]
            found = self.found[output] = _paths_in(root, self.had if output is None else {})
        return found.get(id(target))

    def in_output(self, target: Any) -> Held | None:
        """``target`` as held by one of the outputs (the first by name); None when none
        holds it."""
        for name in sorted(self.outputs):
            if (path := self.path(target, name)) is not None:
                return Held(path, name)
        return None


def _paths_in(value: Any, had: dict[int, dict[str, Any]]) -> dict[int, tuple[str, ...]]:
    """The path to each object in ``value`` (see :class:`_Paths`), by id: the first found,
    breadth first; a pandas object's index and columns as ``[index]`` and ``[columns]``."""

    def follow(obj: Any, attribute: str, entries: dict[str, Any]) -> bool:
        return attribute in had.get(id(obj), entries) and attribute not in cache_attributes(
            type(obj)
        )

    found: dict[int, tuple[str, ...]] = {}
    walk = _attribute_walk([((), value)], MAX_DEPTH + 2, follow)
    for path, item in itertools.chain([((), value)], walk):
        found.setdefault(id(item), path)
        if type(item).__module__.partition(".")[0] == "pandas":
            for axis in ("index", "columns"):
                held = getattr(item, axis, None)
                if held is not None:
                    found.setdefault(id(held), (*path, f"[{axis}]"))
    return found


def _view_in(view: Any, lying: _Paths) -> HeldView | None:
    """``view`` as a :class:`HeldView` of an array the value holds (the nearest of the
    arrays ``view`` views that one does); None when it is no numpy array of numbers
    viewing one, or that one is not contiguous."""
    np: Any = sys.modules.get("numpy")
    if np is None or type(view) is not np.ndarray or view.dtype.hasobject:
        return None
    base = view.base
    while type(base) is np.ndarray:
        if base.flags.c_contiguous and (path := lying.path(base)) is not None:
            offset = placements_within(base, [view]).get(id(view))
            if offset is None:
                return None
            return HeldView(
                path,
                (base.shape, base.dtype.str),
                offset,
                view.shape,
                view.strides,
                view.dtype,
                bool(view.flags.writeable),
            )
        base = base.base
    return None


def _cache_digests(
    holders: list[tuple[Step, Any]], max_bytes: int | None = None
) -> CacheDigests | None:
    """The digest of each entry of the caches of a value's ``holders`` (see
    :func:`_holders`: read-only and writable cached attributes); None when one cannot be
    hashed, or when their arrays hold more than ``max_bytes``."""
    found: CacheDigests = {}
    total = 0
    try:
        for step, holder in holders:
            for kept_in, name, entry in cache_entries(holder, every=True, through=False):
                total += getattr(entry, "nbytes", 0) or 0
                if max_bytes is not None and total > max_bytes:
                    return None
                found[((*step, *kept_in), name)] = hash_value(entry)
    except Exception:  # (UnhashableValue, or a library's own failure reading them)
        return None
    return found


def _held_only_there(
    places: list[tuple[Place, dict[Any, Any]]], views: list[tuple[Place, dict[Any, Any]]]
) -> bool:
    """Whether each object inside the additions at ``places`` that a copy could be told
    from (a list, dict or array, and a tuple holding one) is held by nothing but the
    additions: a reference from anywhere else (another name, a closure, a class, the
    object's own entries, a view of an array, the cell's shown values) is one more than
    the additions account for. An array another added array views must be held by that
    view alone (copies share no memory). The ``views`` added (see :class:`HeldView`),
    made again on a hit (at ``views``), must be held by the additions alone too. Garbage
    the collector has not freed yet counts as a holder until it has: the young
    generations are collected once when a reference is found beyond the additions (the
    table a GLM's ``print(res.summary())`` made and dropped holds its ``ynames``, in a
    cycle; about 0.2 ms, where a full collection takes 160)."""
    counted: dict[int, list[Any]] = {}
    for (_, attribute, key), holder in places:
        _count(holder[attribute if key is None else key], counted, False)
    for (_, attribute, key), holder in views:
        entry = counted.setdefault(
            id(holder[attribute if key is None else key]),
            [holder[attribute if key is None else key], 0, False],
        )
        entry[1] += 1

    def alone() -> bool:
        return all(
            sys.getrefcount(entry[0]) == entry[1] + 2 and (not entry[2] or entry[1] == 1)
            for entry in counted.values()
        )

    if alone():
        return True
    gc.collect(1)
    return alone()


def _count(item: Any, counted: dict[int, list[Any]], viewed: bool) -> None:
    """Note in ``counted`` ``item`` and the objects inside it a copy could be told from,
    each with the number of references the additions hold to it and whether an added array
    views it (``viewed``)."""
    if _immutable(item):
        return
    entry = counted.get(id(item))
    if entry is not None:
        entry[1] += 1
        entry[2] = entry[2] or viewed
        return
    counted[id(item)] = [item, 1, viewed]
    base = getattr(item, "base", None)  # (an array viewing another: plain, see _own_array)
    if base is not None and _own_array(item):
        _count(base, counted, True)
    elif isinstance(item, tuple | list):
        for inner in item:
            _count(inner, counted, False)
    elif type(item) is dict:
        for inner in item.values():
            _count(inner, counted, False)


def _immutable(item: Any) -> bool:
    """Whether ``item`` is a number, string, bytes, None, a numpy scalar or a pandas one (a
    timestamp, period, offset: see :func:`~hitnb.core.scalars.library_scalar`), or a tuple
    of those: a copy of it cannot be told from it but by ``is``."""
    if type(item) is tuple:
        return all(_immutable(i) for i in item)
    return type(item) in _ATOMS or (library_scalar(item) and not callable(item))


def _digest_without(
    value: Any,
    additions: list[tuple[Step, str, Any, Any]],
    entries: dict[Step, dict[str, Any]],
) -> str:
    """The digest of ``value`` with ``additions`` taken out of its holders' ``entries``;
    they are put back after, in the order the run left them in."""
    taken: list[tuple[dict[Any, Any], list[tuple[Any, Any]]]] = []
    try:
        for step, attribute, key, _ in additions:
            target = entries[step] if key is None else entries[step][attribute]
            taken.append((target, list(target.items())))
            del target[attribute if key is None else key]
        return hash_value(value)
    finally:
        for target, items in reversed(taken):
            target.clear()
            target.update(items)


def _attribute_walk(
    starts: list[tuple[tuple[str, ...], Any]],
    depth: int,
    follow: Callable[[Any, str, dict[str, Any]], bool],
) -> Iterator[tuple[tuple[str, ...], Any]]:
    """The objects held through attributes from ``starts`` (each once, breadth first, at
    most ``depth`` attributes away), each with the attributes leading to it; an object's
    attribute is followed when ``follow(obj, attribute, its attributes)`` says so, into
    objects pickled as ``object`` does (see :func:`_attributes`)."""
    seen = {id(obj) for _, obj in starts}
    frontier = starts
    for _ in range(depth):
        reached: list[tuple[tuple[str, ...], Any]] = []
        for path, obj in frontier:
            entries = _attributes(obj)
            if entries is None:
                continue
            for attribute, item in list(entries.items()):
                if id(item) in seen or not follow(obj, attribute, entries):
                    continue
                seen.add(id(item))
                reached.append(((*path, attribute), item))
                yield (*path, attribute), item
        frontier = reached


def _resolved(value: Any, path: tuple[str, ...]) -> Any:
    """The object at ``path`` in ``value`` (see :class:`Held`); ``_GONE`` when none."""
    obj = value
    for step in path:
        if step in ("[index]", "[columns]"):
            obj = getattr(obj, step[1:-1], _GONE)
        else:
            entries = _attributes(obj)
            obj = _GONE if entries is None else entries.get(step, _GONE)
        if obj is _GONE:
            return _GONE
    return obj


def _whole_state(holder: Any) -> bool:
    """Whether pickle and hashing take ``holder``'s state from its ``__dict__`` as it is
    (its ``__getstate__`` gives that dict, or one with the same keys): then a change inside
    any attribute shows in the value's digest."""
    entries = _attributes(holder)
    if entries is None:
        return False
    try:
        state = holder.__getstate__()
    except Exception:
        return False
    return state is entries or (type(state) is dict and state.keys() == entries.keys())


def _holders(value: Any) -> list[tuple[Step, Any]]:
    """``value``, the object it hands out the attributes of, and the objects keeping caches
    it holds through attributes (``res._results.model.data``, whose ``xnames`` a summary
    keeps), at most :data:`MAX_DEPTH` attributes away, each with its step (the first
    found, breadth first); at most :data:`MAX_HOLDERS`."""
    found: list[tuple[Step, Any]] = [((), value)]
    delegate = delegate_of(value)
    if delegate is not None:
        found.append(((delegate[0],), delegate[1]))
    for step, item in _attribute_walk(list(found), MAX_DEPTH, lambda *_: True):
        if type(item).__module__.partition(".")[0] in _PASSED:
            continue
        if keeps_caches(type(item)) and _entries(item) is not None:
            found.append((step, item))
            if len(found) >= MAX_HOLDERS:
                return found
    return found


def _holder(value: Any, step: Step) -> Any:
    """The object at ``step`` in ``value`` (None when there is none)."""
    holder = value
    for attribute in step:
        entries = _attributes(holder)
        if entries is None or attribute not in entries:
            return None
        holder = entries[attribute]
    return holder


def _entries(holder: Any) -> dict[str, Any] | None:
    """``holder``'s ``__dict__`` when pickle and hashing take its state from it: no
    reducer registered for its type, ``__reduce_ex__`` and ``__reduce__`` as ``object``
    has them, and a ``__getstate__`` giving that dict or another (a statsmodels formula
    model's data leaves out its formula's spec, which it builds again); None otherwise
    (None too)."""
    entries = _attributes(holder)
    getstate: Any = type(holder).__getstate__
    if entries is None or getstate is object.__getstate__:
        return entries
    try:
        state = holder.__getstate__()
    except Exception:
        return None
    return entries if state is entries or type(state) is dict else None


def _attributes(holder: Any) -> dict[str, Any] | None:
    """``holder``'s ``__dict__`` when its type pickles it as ``object`` does (reducers
    alike, none registered), whatever its ``__getstate__`` gives (not called: matplotlib's
    callback registries count their connections in it); None otherwise (None too)."""
    if holder is None or isinstance(holder, dict):
        return None
    kind = type(holder)
    if kind.__module__.partition(".")[0] in _PASSED:
        return None
    reduce_ex: Any = kind.__reduce_ex__
    reduce: Any = kind.__reduce__
    if kind in copyreg.dispatch_table or (
        reduce_ex is not object.__reduce_ex__ or reduce is not object.__reduce__
    ):
        return None
    try:
        entries = object.__getattribute__(holder, "__dict__")
    except Exception:
        return None
    return entries if type(entries) is dict else None


def _only_added(was: dict[Any, Any], now: dict[Any, Any]) -> bool:
    """Whether ``now`` holds every entry of ``was`` as the very object it held, in the
    same order, with any new keys after them."""
    if len(now) < len(was):
        return False
    keys = iter(now)
    return all(next(keys) == key and now[key] is item for key, item in was.items())


def _plain_at(parent: Any, key: Any, budget: list[int]) -> bool:
    """Whether the value at ``parent[key]`` is immutable (see :func:`_immutable`) or a
    numpy array owning its memory (see :func:`_own_array`), or a tuple (a named one too),
    list or dict (with such keys) of plain values. At most :data:`MAX_PLAIN` values in
    all."""
    budget[0] -= 1
    kind = type(parent[key])
    if budget[0] < 0:
        return False
    if _immutable(parent[key]) or _own_array(parent[key]):
        return True
    if kind is tuple or (
        issubclass(kind, tuple)
        and hasattr(kind, "_fields")
        and not hasattr(parent[key], "__dict__")  # (a subclass's instances keep more there)
    ):
        return all(_plain_at(parent[key], i, budget) for i in range(len(parent[key])))
    if kind is not list and kind is not dict:
        return False
    if kind is list:
        return all(_plain_at(parent[key], i, budget) for i in range(len(parent[key])))
    return all(type(k) in _ATOMS for k in parent[key]) and all(
        _plain_at(parent[key], k, budget) for k in list(parent[key])
    )


def _own_array(item: Any) -> bool:
    """Whether ``item`` is a numpy array (exactly) of numbers, of at most
    :data:`MAX_ARRAY` elements, owning its memory or a view of such an array
    (statsmodels' ``eigenvals`` is a sorted array reversed): whether anything else holds
    or views the arrays, :func:`_held_only_there` tells."""
    np: Any = sys.modules.get("numpy")
    if np is None or type(item) is not np.ndarray or item.dtype.hasobject:
        return False
    if item.size > MAX_ARRAY or not item.flags.writeable:
        return False  # (a copy is writeable)
    base = item.base
    return item.flags.owndata if base is None else _own_array(base)
