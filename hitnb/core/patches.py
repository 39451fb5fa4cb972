"""What a run set inside an object it changed in place, set again there on a hit.

A cell calling ``print(res.summary())`` or ``res.predict(0, 5)`` changes a statsmodels
results object in place: the library keeps what it computed in ``res._cache`` and what was
asked in ``res.model.data.predict_start``. Restored as a new object, ``res`` cost the load
of the whole fitted model on every hit (15 to 80 ms for cells of 2 to 20 ms), and came back
apart from the values it shared with other names (``arx_res`` and ``sarimax_res``, fitted
on one ``y``), so that a later cell checking that sharing ran again in every session.

Before the run, :func:`layout_of` notes the objects inside the value that hold entries: the
value itself and the instances and dicts it reaches through them (never into numpy or
pandas objects, whose state is not such entries), each with where it lies (a
:data:`~hitnb.store.codecs.Part`) and a copy of its entries. After it, :func:`patch_of`
takes the entries the run added or bound to another object, in order, as a :class:`Patch`,
and keeps it only when it is the whole change: with those entries put back as they were,
the value hashes to the digest it had before the run (then the patch is made again). A hit
on a run that started from a value of that digest sets the same entries in the live
object, which then holds what the run left in it, while every name holding it, or an object
inside it, holds it still, as after a plain run.

Not a patch (the value is restored whole, as before): an entry taken out; entries put in
another order; a change the layout does not see (inside an array, a frame, a list); a
value set that holds an object the value held before the run (it would come back a copy),
or views the memory of one of its arrays.
"""

from __future__ import annotations

import functools
import sys
import types
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from hitnb.core.reaching import objects_reached
from hitnb.hashing.values import UnhashableValue, hash_value
from hitnb.store.codecs import Part, data_start, part_of

MAX_CONTAINERS = 256
"""Objects holding entries a layout notes at most (else there is no layout)."""
MAX_ENTRIES = 1024
"""Entries one of them holds at most."""
MAX_DEPTH = 6
"""How deep inside the value a layout looks."""

_NOT_ENTERED = (
    type,
    types.ModuleType,
    types.FunctionType,
    types.BuiltinFunctionType,
    types.MethodType,
    functools.partial,
)
_LEAF_LIBRARIES = frozenset({"numpy", "pandas"})
_KEY_TYPES = frozenset({str, int, bool, float, bytes, type(None)})
_GONE = object()


@dataclass(frozen=True)
class Patch:
    """The entries a run set inside a value: for each, where the object holding it lies in
    the value (a :data:`~hitnb.store.codecs.Part`), whether it is an attribute (an entry of
    its ``__dict__``) or an item of a dict, the key, and the object the run put there."""

    writes: tuple[tuple[Part, bool, Any, Any], ...]

    def targets(self, value: Any) -> list[tuple[dict[Any, Any], Any]]:
        """The entries of each write's holder inside ``value`` (its ``__dict__``, or the
        dict), with what to set there (a :class:`View` made over its array), all found
        before any is written; raises LookupError, TypeError or AttributeError when
        ``value`` holds no such object there."""
        found = []
        for part, attribute, _, item in self.writes:
            if type(item) is View:
                item = item.over(_entries_at(value, *item.anchor[:2])[item.anchor[2]])
            found.append((_entries_at(value, part, attribute), item))
        return found

    def holds(self) -> dict[int, Any]:
        """The objects what the run set holds, by id, but those a copy cannot be told from
        (see :func:`_with_state`); raises UnhashableValue for one it cannot walk."""
        return _with_state(objects_reached(tuple(item for *_, item in self.writes)))

    def write(self, targets: list[tuple[dict[Any, Any], Any]]) -> None:
        """Set the run's entries in the holders :meth:`targets` found."""
        for (entries, item), (_, _, key, _) in zip(targets, self.writes, strict=True):
            entries[key] = item


@dataclass(frozen=True)
class View:
    """A numpy array the run set that views the memory of one the value held before (the
    ``resid`` statsmodels keeps is a row of its ``forecasts_error``): kept as where it lies
    in that array, which ``anchor`` finds in the value as a write's holder and key do, and
    made over it again, so that what changes one changes the other, as after the run."""

    anchor: tuple[Part, bool, Any]
    offset: int
    shape: tuple[int, ...]
    strides: tuple[int, ...]
    dtype: Any
    writeable: bool

    def over(self, array: Any) -> Any:
        """This view, made over ``array``."""
        made = sys.modules["numpy"].ndarray(
            self.shape, self.dtype, buffer=array, offset=self.offset, strides=self.strides
        )
        if not self.writeable:
            made.flags.writeable = False
        return made


def _entries_at(value: Any, part: Part, attribute: bool) -> dict[Any, Any]:
    """The entries of the object at ``part`` in ``value``: its ``__dict__``, or the dict."""
    holder = part_of(value, part)
    if attribute:
        entries: dict[Any, Any] = vars(holder)
        return entries
    if type(holder) is not dict:
        raise TypeError(f"a {type(holder).__name__} where the run set items of a dict")
    return holder


Layout = tuple[tuple[Part, bool, Any, dict[Any, Any]], ...]
"""The objects holding entries inside a value as a run found them: where each lies, whether
its entries are its attributes, the object, and a copy of its entries."""


def layout_of(value: Any) -> Layout | None:
    """The objects holding entries inside ``value`` (itself first), breadth first; None when
    it holds none, or more than the limits allow."""
    found: list[tuple[Part, bool, Any, dict[Any, Any]]] = []
    seen = {id(value)}
    todo: list[tuple[Part, Any]] = [((), value)]
    while todo:
        part, obj = todo.pop(0)
        entries = _entries(obj)
        if entries is None:
            continue
        attribute = type(obj) is not dict
        if len(entries) > MAX_ENTRIES or len(found) >= MAX_CONTAINERS:
            return None
        if not attribute and not all(type(key) in _KEY_TYPES for key in entries):
            continue  # (a step to one of its items could not be written down)
        found.append((part, attribute, obj, dict(entries)))
        if len(part) >= MAX_DEPTH:
            continue
        kind = "attribute" if attribute else "item"
        for key, item in entries.items():
            if id(item) not in seen and _entries(item) is not None:
                seen.add(id(item))
                todo.append(((*part, (kind, key)), item))
    return tuple(found) if found else None


def _entries(obj: Any) -> dict[Any, Any] | None:
    """The entries ``obj`` holds that a layout notes: a dict's items, an instance's
    ``__dict__``; None for anything else (a proxy raising when asked for it)."""
    if type(obj) is dict:
        return obj
    if isinstance(obj, _NOT_ENTERED):
        return None
    if type(obj).__module__.partition(".")[0] in _LEAF_LIBRARIES:
        return None
    try:
        entries = object.__getattribute__(obj, "__dict__")
    except Exception:
        return None
    return entries if type(entries) is dict else None


def patch_of(value: Any, layout: Layout, digest_before: str) -> Patch | None:
    """The entries the run set inside ``value``, laid out as ``layout`` before it, when they
    are the whole change (put back as they were, ``value`` hashes to ``digest_before``) and
    hold nothing ``value`` held before; None otherwise. ``value`` is left as the run left
    it."""
    writes: list[tuple[Part, bool, Any, Any]] = []
    changes: list[tuple[dict[Any, Any], Any, Any, Any]] = []  # entries, key, old, new
    for part, attribute, obj, was in layout:
        now = vars(obj) if attribute else obj
        if type(now) is not dict or not _only_added_or_set(was, now):
            return None
        for key, item in now.items():
            old = was.get(key, _GONE)
            if old is not item:
                writes.append((part, attribute, key, item))
                changes.append((now, key, old, item))
    if not writes:
        return None
    _as_views(writes, layout)
    with _as_before(changes):
        try:
            if hash_value(value) != digest_before:
                return None
            before = objects_reached(value)
        except UnhashableValue:
            return None
    patch = Patch(tuple(writes))
    try:
        made = patch.holds()
        before = _with_state(before)
    except UnhashableValue:
        return None
    if not made.keys().isdisjoint(before) or _views_into(made, before):
        return None
    return patch


def _with_state(reached: dict[int, Any]) -> dict[int, Any]:
    """The objects among ``reached`` a copy could be told apart from, but by ``is``: not
    what pickle writes by name (classes, functions), numpy scalars, or pandas' immutable
    values (an index, a timestamp, a date offset) and what they hold. A ``predict`` keeps
    the dates asked for, a slice of the model's index viewing its memory: restored apart,
    no one can write through either to tell."""
    np: Any = sys.modules.get("numpy")
    pd: Any = sys.modules.get("pandas")
    frozen = (np.generic,) if np is not None else ()
    if pd is not None:
        frozen += (pd.Index, pd.Timestamp, pd.Timedelta, pd.Period, pd.Interval)
        frozen += (pd.offsets.BaseOffset,)
    inside: set[int] = set()
    for obj in reached.values():
        if frozen and isinstance(obj, frozen) and not isinstance(obj, np.generic):
            inside.update(ident for ident in objects_reached(obj) if ident != id(obj))
    return {
        ident: obj
        for ident, obj in reached.items()
        if ident not in inside and not _by_name(obj) and not (frozen and isinstance(obj, frozen))
    }


def _by_name(obj: Any) -> bool:
    """Whether pickle writes ``obj`` by its name (a class, a function, a module): loaded,
    it is the object itself."""
    return isinstance(obj, _BY_NAME) or type(obj).__name__ in _BY_NAME_TYPES


_BY_NAME = (type, types.FunctionType, types.BuiltinFunctionType, types.ModuleType)
_BY_NAME_TYPES = frozenset({"cython_function_or_method", "ufunc", "method_descriptor"})


def _as_views(writes: list[tuple[Part, bool, Any, Any]], layout: Layout) -> None:
    """Each array the run set that lies within the memory of an array the value held
    before as an entry (whole, in one block) written as a :class:`View` of it instead."""
    np: Any = sys.modules.get("numpy")
    if np is None or not any(type(item) is np.ndarray for *_, item in writes):
        return
    anchors = [
        ((part, attribute, key), old)
        for part, attribute, _, was in layout
        for key, old in was.items()
        if type(old) is np.ndarray and (old.flags.c_contiguous or old.flags.f_contiguous)
    ]
    for at, (part, attribute, key, item) in enumerate(writes):
        if type(item) is not np.ndarray:
            continue
        low, high = _bounds(item)
        for anchor, old in anchors:
            start = data_start(old)
            if start <= low and high <= start + old.nbytes:
                offset = data_start(item) - start
                view = View(
                    anchor, offset, item.shape, item.strides, item.dtype, item.flags.writeable
                )
                writes[at] = (part, attribute, key, view)
                break


def _bounds(array: Any) -> tuple[int, int]:
    """The addresses of the first byte a numpy array reaches and of the one past its last."""
    low = high = data_start(array)
    if array.size:
        for extent, stride in zip(array.shape, array.strides, strict=True):
            reach = (extent - 1) * stride
            low, high = (low + reach, high) if reach < 0 else (low, high + reach)
        high += array.itemsize
    return low, high


def _only_added_or_set(was: dict[Any, Any], now: dict[Any, Any]) -> bool:
    """Whether ``now`` holds every key ``was`` held, in the same order, new keys after them."""
    if len(now) < len(was):
        return False
    keys = iter(now)
    return all(next(keys) == key for key in was)


@contextmanager
def _as_before(changes: list[tuple[dict[Any, Any], Any, Any, Any]]) -> Iterator[None]:
    """Within the block, the entries the run set are as they were before it (taken out
    when it added them); after it, as the run left them, in the order it left them."""
    for entries, key, old, _ in changes:
        if old is _GONE:
            del entries[key]
        else:
            entries[key] = old
    try:
        yield
    finally:
        for entries, key, _, new in changes:
            entries[key] = new


def _views_into(made: dict[int, Any], before: dict[int, Any]) -> bool:
    """Whether an array among ``made`` shares memory with one among ``before``."""
    np: Any = sys.modules.get("numpy")
    if np is None:
        return False
    new = [obj for obj in made.values() if isinstance(obj, np.ndarray)]
    if not new:
        return False
    old = [obj for obj in before.values() if isinstance(obj, np.ndarray)]
    return any(np.may_share_memory(a, b) for a in new for b in old)
