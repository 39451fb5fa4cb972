"""Codecs turn result values into bytes and back, chosen by the value's type.

Built in, in the order they are tried:

=========  ==============================================  =====================
name       values                                           format
=========  ==============================================  =====================
bytes      ``bytes``                                        raw
str        ``str``                                          UTF-8
npy        numpy arrays without Python objects             ``.npy``, mmap-able
parquet    DataFrames Parquet keeps exactly (pyarrow)      Parquet
plotly     plotly figures                                  plotly JSON
pickle     anything picklable, lambdas inside it too        pickle 5, buffers out of band
dill       what pickle refuses (closures over objects)      dill
=========  ==============================================  =====================

A codec takes a value only when its round trip is exact for it (see
:mod:`hitnb.store.exact_frames`); otherwise the next one does.

Users add codecs for their own types with :func:`register_codec`; theirs are tried
first. A codec writes to a binary file object and reads from a :class:`BlobData`,
which holds the verified bytes (or a read-only memory map of them).
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import gc
import io
import pickle
import struct
import sys
import types
import warnings
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, BinaryIO, ClassVar, NamedTuple

from hitnb.deep import deep_if_needed
from hitnb.errors import CodecError, StaleReferenceError


@dataclass
class BlobData:
    """The stored bytes of one result, already checked against their checksum.

    ``buffer`` is a bytearray, or a read-only memory map when the caller asked for
    mmap; codecs slice it without copying where their format allows.
    """

    buffer: bytearray | memoryview
    mapped: bool = False

    def stream(self, limit: int | None = None) -> BinaryIO:
        """A file over the first ``limit`` bytes (all by default); BytesIO copies what it wraps."""
        view = memoryview(self.buffer)
        return io.BytesIO(view if limit is None else view[:limit])


class Codec:
    """Base class of codecs: subclass it, set ``name``, and implement the three methods.

    ``save`` may return a small JSON-able dict of metadata; it is stored with the
    entry and handed back to ``load`` (Curifactory's ``extra_metadata``).
    """

    name: ClassVar[str] = ""
    types: ClassVar[tuple[type, ...]] = ()

    def can_encode(self, value: Any) -> bool:
        return bool(self.types) and isinstance(value, self.types)

    def save(self, value: Any, file: BinaryIO) -> dict[str, Any] | None:
        raise NotImplementedError

    def load(self, data: BlobData, meta: dict[str, Any]) -> Any:
        raise NotImplementedError

    def load_in(self, data: BlobData, meta: dict[str, Any], namespace: dict[str, Any]) -> Any:
        """:meth:`load` for code whose globals are ``namespace``; only unpickling can depend
        on them (see :func:`loads_in`)."""
        return self.load(data, meta)


def _module_of(value: Any) -> str:
    return type(value).__module__.partition(".")[0]


class BytesCodec(Codec):
    name = "bytes"

    def can_encode(self, value: Any) -> bool:
        return type(value) is bytes

    def save(self, value: Any, file: BinaryIO) -> None:
        file.write(value)

    def load(self, data: BlobData, meta: dict[str, Any]) -> Any:
        return bytes(data.buffer)


class StrCodec(Codec):
    name = "str"

    def can_encode(self, value: Any) -> bool:
        return type(value) is str

    def save(self, value: Any, file: BinaryIO) -> None:
        file.write(value.encode("utf-8", "surrogatepass"))

    def load(self, data: BlobData, meta: dict[str, Any]) -> Any:
        return bytes(data.buffer).decode("utf-8", "surrogatepass")


_NPY_HEADER_MAX = 1 << 16  # .npy headers are padded to 64 bytes and stay far below this


class NpyCodec(Codec):
    """numpy arrays as ``.npy``; loaded without a copy, or memory-mapped on request."""

    name = "npy"

    def can_encode(self, value: Any) -> bool:
        if _module_of(value) != "numpy":
            return False
        import numpy as np

        return type(value) is np.ndarray and not value.dtype.hasobject

    def save(self, value: Any, file: BinaryIO) -> None:
        import numpy as np

        fmt = np.lib.format
        header = fmt.header_data_from_array_1_0(value)
        fmt.write_array_header_2_0(file, header)
        data = value if value.flags.c_contiguous or value.flags.f_contiguous else value.copy()
        file.write(memoryview(data.reshape(-1, order="A").view(np.uint8)))

    def load(self, data: BlobData, meta: dict[str, Any]) -> Any:
        import numpy as np

        fmt = np.lib.format
        stream = data.stream(limit=_NPY_HEADER_MAX)
        version = fmt.read_magic(stream)
        read_header = fmt.read_array_header_1_0 if version == (1, 0) else fmt.read_array_header_2_0
        shape, fortran, dtype = read_header(stream)
        count = int(np.prod(shape, dtype=np.int64))
        flat = np.frombuffer(data.buffer, dtype=dtype, count=count, offset=stream.tell())
        return flat.reshape(shape, order="F" if fortran else "C")


class ParquetCodec(Codec):
    """pandas DataFrames as Parquet, readable by any Arrow tool; needs pyarrow.

    Only frames whose round trip through Parquet is exact are taken (see
    :func:`hitnb.store.exact_frames.parquet_refusal`); the rest go to the next codec (pickle), so
    a hit always returns what the miss did. What Parquet drops but can be put back (a
    RangeIndex of column labels, the frequency of a datetime index) travels in the entry's
    metadata.
    """

    name = "parquet"

    def can_encode(self, value: Any) -> bool:
        if _module_of(value) != "pandas":
            return False
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            return False
        return self.refusal(value) is None

    def refusal(self, value: Any) -> str | None:
        """Why Parquet cannot hold ``value`` exactly, or None when it can."""
        from hitnb.store.exact_frames import parquet_refusal

        return parquet_refusal(value)

    def save(self, value: Any, file: BinaryIO) -> dict[str, Any]:
        from hitnb.store.exact_frames import restorable_parts

        reason = self.refusal(value)
        if reason is not None:
            raise CodecError(f"Parquet would not return this frame unchanged: {reason}")
        value.to_parquet(file, engine="pyarrow")
        return restorable_parts(value)

    def load(self, data: BlobData, meta: dict[str, Any]) -> Any:
        import pandas as pd
        import pyarrow as pa

        from hitnb.store.exact_frames import restore_parts

        frame = pd.read_parquet(pa.BufferReader(pa.py_buffer(data.buffer)), engine="pyarrow")
        return restore_parts(frame, meta)


class PlotlyCodec(Codec):
    """plotly figures as their JSON, the format plotly.js and the notebook renderers use."""

    name = "plotly"

    def can_encode(self, value: Any) -> bool:
        if _module_of(value) != "plotly":
            return False
        from plotly.basedatatypes import BaseFigure

        return isinstance(value, BaseFigure)

    def save(self, value: Any, file: BinaryIO) -> dict[str, Any]:
        file.write(value.to_json().encode())
        return {"class": f"{type(value).__module__}.{type(value).__qualname__}"}

    def load(self, data: BlobData, meta: dict[str, Any]) -> Any:
        import plotly.io

        return plotly.io.from_json(bytes(data.buffer).decode())


_PICKLE_MAGIC = b"HNPK\x01"
_MAGIC_LEN = len(_PICKLE_MAGIC)
_unpack_counts = struct.Struct("<IQ").unpack_from
_ALIGN = 64


def _padding(offset: int) -> int:
    return -offset % _ALIGN


Naming = Callable[[Any], "tuple[str, str] | None"]
_naming: list[Naming] = []


def pickle_by_name(naming: Naming) -> None:
    """Have the pickle codec write an object that ``naming`` says is ``(module, name)`` as
    that name, wherever it sits in a value, as pickle writes a function: loaded again, it is
    the module's own object, not a copy of it. The core names so the objects that libraries
    define at module level (a statsmodels variance function, ``scipy.stats.norm``), which it
    hashes by that name: a copy would hash by its state, and the value that came back from
    the store would be another key than the one that went in."""
    if naming not in _naming:
        _naming.append(naming)


class Reference(NamedTuple):
    """What a reference to a value kept elsewhere (see :func:`references`) loads as when no
    values are given to resolve it: the value's name, for display."""

    name: str


Part = tuple[tuple[str, Any], ...]
"""Where an object lies inside a value: steps ``("attribute", name)`` (its own
``__dict__``), ``("item", index or key)``, ``("axis", "index" or "columns")`` (of a
pandas value), and last only, ``("cached", (kept_in, name))``: a cached attribute, in the
dict the attributes ``kept_in`` lead to from the instance (none: its own ``__dict__``;
see :func:`load_cached`)."""
_referring: contextvars.ContextVar[
    tuple[dict[int, str | tuple[str, Part]], Mapping[str, Any], dict[int, Any]] | None
] = contextvars.ContextVar("hitnb_references", default=None)


@contextlib.contextmanager
def references(
    refer: dict[int, str | tuple[str, Part]],
    values: Mapping[str, Any],
    containers: dict[int, Any] | None = None,
) -> Iterator[None]:
    """Within the block, the pickle codec writes each object whose id is in ``refer`` as a
    reference to its name instead of its state, and loads a reference to a name as
    ``values[name]``; an object ``refer`` gives a name and a :data:`Part` for, as that part
    of that value (:func:`load_part`). ``refer`` may be filled in after the block starts.
    The lists, dicts and sets among those objects, which pickle writes itself without
    asking, are referred to only when they are in ``containers`` (by id: see
    :class:`_Preamble`), which may be filled in later too.

    A notebook cell's outputs often hold the inputs it read unchanged (a list of fitted
    models, a model keeping its data frame): written as references, they are not copied
    into the cell's record, and loaded, they are the very objects the namespace holds, as
    in the session that ran the cell. The names must be ones whose values are the same
    when the record is loaded: inputs of the cell, whose digests are part of its key.
    """
    token = _referring.set((refer, values, {} if containers is None else containers))
    pending = _cached_pending.set([])
    try:
        yield
    finally:
        _cached_pending.reset(pending)
        _referring.reset(token)


@contextlib.contextmanager
def without_references() -> Iterator[None]:
    """Within the block, a reference a stored value holds loads as a :class:`Reference`,
    whatever block of :func:`references` is active around it (``hitnb.load`` in a
    memoized cell reads another cell's record, whose references name that cell's inputs,
    not this one's)."""
    token = _referring.set(None)
    try:
        yield
    finally:
        _referring.reset(token)


def holds_other_references(value: Any) -> bool:
    """Whether ``value`` holds an object the active block of :func:`references` refers to,
    other than itself and the parts of itself: stored on its own (an input kept for an
    export), it would be loaded as a :class:`Reference` there, or stored as a copy."""
    active = _referring.get()
    if active is None or not active[0]:
        return False
    refer = active[0]
    own = refer.get(id(value))
    wanted = {
        ident
        for ident, to in refer.items()
        if ident != id(value) and not (isinstance(to, tuple) and to[0] == own)
    }
    return bool(wanted) and bool(_held_among(value, wanted, {}, untracked=True))


def written_as_reference(values: list[Any], container: Any) -> bool:
    """Whether pickling ``values`` under a block of :func:`references` that refers to
    ``container`` (a list, dict, set or bytearray) writes it as a reference: one of them
    holds it where :func:`_held_among` finds it, not only inside a function (a default, a
    closure: dill writes those by value)."""
    wanted = {id(container)}
    return any(_held_among(value, wanted, {}, untracked=True) for value in values)


def load_reference(name: str) -> Any:
    """The value a reference written under :func:`references` stands for (called by pickle)."""
    active = _referring.get()
    if active is None:
        return Reference(name)
    try:
        return active[1][name]
    except KeyError:
        raise StaleReferenceError(
            f"the stored run refers to `{name}`, which is not defined"
        ) from None


def load_part(name: str, part: Part) -> Any:
    """The object at ``part`` inside the value a reference to ``name`` stands for (called by
    pickle): a part of an input the cell read unchanged (a pipeline's step, a nested dict),
    loaded as the very object the input holds, as after the run."""
    whole = load_reference(name)
    if isinstance(whole, Reference):
        return Reference(name + "".join(f"[{step!r}]" for _, step in part))
    try:
        return part_of(whole, part)
    except (KeyError, IndexError, TypeError) as exc:
        raise StaleReferenceError(
            f"the stored run holds a part of `{name}` that `{name}` does not hold now ({exc!r})"
        ) from None


def load_cached(name: str, part: Part, reduced: tuple[Any, ...]) -> Any:
    """A cached attribute of an input the cell read unchanged (``r = res.resid``; called
    by pickle): the live input's own entry when it holds one, as reading the attribute in
    a plain run returns it; else the stored value, rebuilt from ``reduced`` (its
    ``__reduce_ex__``) and kept in the live input's cache, as a plain run computing it
    keeps it (once the hit is sure: see :func:`take_cached`). Restored as a copy beside
    the input, ``r`` was not ``res.resid``: a later ``r -= 1`` left ``res.resid`` as
    it was. The key holds the input's digest, which leaves its caches out (they are what
    its other values compute), so a live entry is checked against the stored one: one
    holding other values (changed in place since) makes the hit stale."""
    whole = load_reference(name)
    cache: dict[str, Any] | None = None
    if not isinstance(whole, Reference):
        *path, (_, (kept_in, entry)) = part
        try:
            cache = _cache_dict(part_of(whole, tuple(path)), kept_in)
        except (KeyError, IndexError, TypeError) as exc:
            raise StaleReferenceError(
                f"the stored run holds a part of `{name}` that `{name}` does not hold now ({exc!r})"
            ) from None
    value = _rebuilt(reduced)
    if cache is None:
        return value
    if entry not in cache:
        _cached_pending.get().append((cache, entry, value))
        return value
    if not _pickle_alike(cache[entry], value):  # (a plain run would read other values)
        raise StaleReferenceError(
            f"`{name}` holds its cached `{entry}` with other values than when the cell ran"
        )
    return cache[entry]


_cached_pending: contextvars.ContextVar[list[tuple[dict[str, Any], str, Any]]] = (
    contextvars.ContextVar("hitnb_cached_pending")
)
"""The cache entries :func:`load_cached` rebuilt for live inputs that held none: kept in
the inputs' caches only once the hit that loaded them is sure (:func:`take_cached`); a hit
given up after loading them (another entry holding other values) runs the cell, which must
find the inputs as the hit found them."""


def take_cached() -> list[tuple[dict[str, Any], str, Any]]:
    """The entries :func:`load_cached` rebuilt since the last call, in the order loaded
    (each: the live cache, the entry's name, the value), and forget them: the host keeps
    them in those caches when its hit is sure, and drops them when it gives the hit up."""
    pending = _cached_pending.get(None)
    if not pending:
        return []
    taken = list(pending)
    pending.clear()
    return taken


def _pickle_alike(one: Any, other: Any) -> bool:
    """Whether ``one`` and ``other`` pickle to the same bytes (so hold the same values);
    False when either cannot be pickled."""
    try:
        return pickle.dumps(one, protocol=5) == pickle.dumps(other, protocol=5)
    except Exception:
        return False


def _cache_dict(obj: Any, kept_in: tuple[str, ...]) -> dict[str, Any] | None:
    """The dict the attributes ``kept_in`` lead to from ``obj`` (none: its ``__dict__``);
    None when ``obj`` holds none there (a statsmodels results object made without
    ``_cache``)."""
    holder = getattr(obj, "__dict__", None)
    for attribute in kept_in:
        if type(holder) is not dict:
            return None
        held = holder.get(attribute)
        holder = held if type(held) is dict else getattr(held, "__dict__", None)
    return holder if type(holder) is dict else None


def _reduced_for_cache(obj: Any) -> tuple[Any, ...] | None:
    """``obj.__reduce_ex__(5)`` as :func:`_rebuilt` takes it (its item iterators made
    lists); None when ``obj`` reduces to a global's name (pickle writes it as such)."""
    reduced = obj.__reduce_ex__(5)
    if isinstance(reduced, str):
        return None
    parts = list(reduced) + [None] * (6 - len(reduced))
    for at in (3, 4):
        if parts[at] is not None:
            parts[at] = list(parts[at])
    return tuple(parts)


def _rebuilt(reduced: tuple[Any, ...]) -> Any:
    """The object ``reduced`` (see :func:`_reduced_for_cache`) describes, made as pickle
    makes it."""
    make, args, state, items, pairs, set_state = reduced
    obj = make(*args)
    if state is not None:
        if set_state is not None:
            set_state(obj, state)
        elif hasattr(obj, "__setstate__"):
            obj.__setstate__(state)
        else:
            slots = None
            if isinstance(state, tuple) and len(state) == 2:
                state, slots = state
            if state:
                vars(obj).update(state)
            for key, value in (slots or {}).items():
                setattr(obj, key, value)
    for item in items or ():
        obj.append(item)
    for key, value in pairs or ():
        obj[key] = value
    return obj


def is_cached_part(to: str | tuple[str, Part]) -> bool:
    """Whether a reference ``to`` is to a cached attribute (see :func:`load_cached`)."""
    return isinstance(to, tuple) and bool(to[1]) and to[1][-1][0] == "cached"


def part_of(whole: Any, part: Part) -> Any:
    """The object at ``part`` inside ``whole``; raises KeyError, IndexError or TypeError
    when ``whole`` holds none there (a cached attribute it does not hold now too)."""
    found = whole
    for kind, step in part:
        if kind == "cached":
            kept_in, entry = step
            cache = _cache_dict(found, kept_in)
            if cache is None:
                raise KeyError(kept_in)
            found = cache[entry]
        elif kind == "axis":
            if type(found).__module__.partition(".")[0] != "pandas":
                raise TypeError(f"{type(found).__name__} is no pandas value")
            found = getattr(found, step)
        else:
            found = vars(found)[step] if kind == "attribute" else found[step]
    return found


def _call_loads(loads: Callable[..., Any], data: Any, buffers: Any) -> Any:
    return loads(data, buffers=buffers)


def loads_in(namespace: dict[str, Any]) -> Callable[[Callable[..., Any], Any, Any], Any]:
    """A function calling ``loads(data, buffers=buffers)`` from a frame whose globals are
    ``namespace`` (:func:`_call_loads` is the same, in this module's globals).

    Some values look names up in the frame that unpickles them: a statsmodels formula
    model evaluates its formula again when it is loaded (``y ~ double_it(x)``), in its
    caller's globals. Loaded for a notebook, they must find the notebook's functions
    there, as they would if the notebook had unpickled them itself."""
    return types.FunctionType(_call_loads.__code__, namespace)


class _Pickler(pickle.Pickler):
    """Writes the objects :func:`references` refers to, and those :func:`pickle_by_name`
    names, as references; with ``by_dill``, the functions and classes pickle cannot name
    as dill's pickles of them (see :func:`_dill_reduced`); everything else as pickle does."""

    def __init__(
        self,
        file: BinaryIO,
        refer: dict[int, str | tuple[str, Part]],
        by_dill: bool = False,
        **options: Any,
    ) -> None:
        super().__init__(file, **options)
        self.refer = refer
        self.by_dill = by_dill
        self.rebuilding: set[int] = set()
        """Cached attributes written as :func:`load_cached` with their state (by id): one
        met again inside its state cannot be rebuilt so, and is not stored."""
        self.views: dict[int, tuple[Any, ...]] = {}
        """The arrays to write as views of another array of the value (see
        :func:`views_within`)."""

    def reducer_override(self, obj: Any) -> Any:
        kind = type(obj)
        if kind is _Preamble:
            references = tuple(reference for reference, _ in obj.pairs)
            return _last, (references, _MemoMark(obj.pairs), obj.value)
        if kind is _Referred:
            to = obj.to
            return (load_part, to) if isinstance(to, tuple) else (load_reference, (to,))
        if kind is _MemoMark:
            self._refer_in_memo(obj.pairs)
            return _last, (None,)
        name = self.refer.get(id(obj)) if self.refer else None
        if isinstance(name, tuple):
            if is_cached_part(name):
                if id(obj) in self.rebuilding:  # rebuilt from a state holding itself, it
                    raise pickle.PicklingError(  # would be the shell made before its state
                        f"cached attribute {name[1][-1][1][1]!r} of `{name[0]}` holds itself"
                    )
                reduced = _reduced_for_cache(obj)
                if reduced is None:
                    return NotImplemented
                self.rebuilding.add(id(obj))  # (pickle writes the state before the object)
                return load_cached, (*name, reduced)
            return load_part, name
        if name is not None:
            return load_reference, (name,)
        if self.views and (view := self.views.get(id(obj))) is not None:
            return view_of, view
        for naming in _naming:
            where = naming(obj)
            if where is not None and getattr(obj, "__module__", None) == where[0]:
                return where[1]  # a global: pickle finds it in obj.__module__ and checks it
        if self.by_dill and (type(obj) is types.FunctionType or isinstance(obj, type)):
            return _dill_reduced(obj)
        return NotImplemented

    def _refer_in_memo(self, pairs: list[tuple[_Referred, Any]]) -> None:
        """List each container of ``pairs`` in the memo as its reference, written before
        (see :class:`_Preamble`), in the reference's place: the memo numbers what it keeps
        by how many it holds, as the loading side does, so it must not grow. It holds only
        the preamble yet: a small copy."""
        memo = self.memo.copy()
        for reference, container in pairs:
            memo[id(container)] = (memo.pop(id(reference))[0], container)
        self.memo = memo


class _Preamble:
    """A value to pickle after references to the lists, dicts and sets it may hold that
    :func:`references` refers to, so that each is written as a reference too.

    Pickle writes those types itself, without asking :meth:`_Pickler.reducer_override`
    (``config = {"opt": defaults}`` stored a copy of ``defaults``, and after a hit a change
    to ``defaults`` no longer reached ``config``). So the references come first, each
    kept in pickle's memo; then a mark (:class:`_MemoMark`), on which the memo is made to
    list each container as its reference: pickle writes every later meeting of one as a
    fetch of the object loaded in its place. Loaded, the value is the last argument of
    :func:`_last`; a plain ``pickle.loads`` reads it."""

    def __init__(self, pairs: list[tuple[_Referred, Any]], value: Any) -> None:
        self.pairs = pairs
        self.value = value


class _Referred(NamedTuple):
    """A reference written in a :class:`_Preamble`: what :func:`references` gives for it."""

    to: str | tuple[str, Part]


class _MemoMark:
    """Where a :class:`_Preamble`'s references are written and its value not yet."""

    def __init__(self, pairs: list[tuple[_Referred, Any]]) -> None:
        self.pairs = pairs


def _last(*args: Any) -> Any:
    """The value of a :class:`_Preamble` (called by pickle with the references first)."""
    return args[-1]


def _containers_referred(
    value: Any, refer: dict[int, str | tuple[str, Part]], containers: dict[int, Any]
) -> list[tuple[_Referred, Any]]:
    """The lists, dicts and sets ``refer`` refers to that ``value`` holds, each with its
    reference. Only those: each is loaded with the value, and one an input no longer holds
    there would make the value unloadable (a record of an int output read 12 inputs' 2,000
    parts each, on every hit, when the preamble held them all)."""
    wanted = {i for i in containers if i in refer}
    if not wanted:
        return []
    untracked = any(type(containers[i]) is bytearray for i in wanted)
    found = _held_among(value, wanted, refer, untracked)
    return [(_Referred(refer[i]), containers[i]) for i in found]


def _tracked_or_plain(obj: Any) -> bool:
    return gc.is_tracked(obj) or type(obj) is dict or type(obj) is tuple


_OPAQUE = (type, types.ModuleType, types.FunctionType, types.CodeType)
"""What pickle writes by name, not by what it refers to: not looked into. (A method of a
builtin type is written as its object's attribute: ``log.append`` holds ``log``.)"""

_apart: list[type] = []
"""Types whose objects pickle as a payload of their own (see :func:`pickled_apart`)."""


def pickled_apart(kind: type) -> None:
    """Say that objects of ``kind`` pickle what they hold as a pickle of their own, made
    under the same block of :func:`references` and loaded later (a cell's outputs pickled
    apart from its record, loaded after its definitions run again): the pickle holding one
    refers to nothing inside it. Referred to in the outer pickle too, a value of a class
    the cell defines was looked up as the record loaded, before the class was defined."""
    if kind not in _apart:
        _apart.append(kind)


HELD_SEARCH_LIMIT = 1_000_000
"""Objects :func:`_held_among` looks at before it stops (what it found by then counts)."""


def _held_among(
    value: Any, wanted: set[int], refer: Mapping[int, Any], untracked: bool = False
) -> list[int]:
    """The ids of ``wanted`` that ``value`` holds, found through what the garbage collector
    sees each object refer to (level by level, in C): not into what pickle writes by name,
    nor into what ``refer`` refers to (written as a reference, its contents are not). A
    dict of numbers only is not tracked by the collector, and is found all the same; one
    holding only such values and a bytearray (which holds no objects) is not tracked either,
    and is looked into when ``untracked``."""
    tracked = _tracked_or_plain if untracked else gc.is_tracked
    found = {id(value)} & wanted
    seen = {id(value)}
    level = [value]
    looked = 0
    while level and len(found) < len(wanted) and looked < HELD_SEARCH_LIMIT:
        held = gc.get_referents(*level)
        found |= wanted.intersection(map(id, held))
        level = []
        for obj in filter(tracked, held):
            ident = id(obj)
            if (
                ident not in seen
                and ident not in refer
                and not isinstance(obj, _OPAQUE)
                and type(obj) not in _apart
            ):
                seen.add(ident)
                level.append(obj)
        looked += len(level)
    return sorted(found)


VIEW_SEARCH_LIMIT = 10_000
"""Objects :func:`views_within` looks at before it stops (the views found by then count)."""


def views_within(value: Any) -> dict[int, tuple[Any, ...]]:
    """The numpy arrays of ``value`` viewing the memory of another array it holds (``data =
    {"values": arr, "head": arr[:3]}``), by id, each with what :func:`view_of` makes it
    again from: the array of them spanning most of that memory in one block, where the
    view starts in it, its shape, strides and dtype, and whether it is writeable. Pickle
    writes a view as an array of its own: loaded, ``data["values"][0] = 99`` no longer
    reached ``data["head"]``.

    Only arrays held by dicts, lists, tuples and the attributes of the notebook's objects
    (and hitnb's records) are looked at, not those inside libraries' objects: two pandas
    frames sharing a block under Copy-on-Write know it by references pickle does not keep,
    and made views of one block again, a write to one would reach the other."""
    np = sys.modules.get("numpy")
    if np is None:
        return {}
    ndarray = np.ndarray
    arrays: dict[int, Any] = {}
    seen: set[int] = set()
    todo = [value]
    while todo and len(seen) < VIEW_SEARCH_LIMIT:
        obj = todo.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        kind = type(obj)
        if kind is ndarray:
            arrays[id(obj)] = obj
        elif kind is dict:
            todo.extend(obj.values())
        elif kind is list or kind is tuple:
            todo.extend(obj)
        elif kind is _Preamble:
            todo.append(obj.value)
        elif kind.__module__ == "__main__" or kind.__module__.startswith("hitnb."):
            attributes = getattr(obj, "__dict__", None)
            if type(attributes) is dict:
                todo.extend(attributes.values())
    if len(arrays) < 2:
        return {}
    owners: dict[int, list[Any]] = {}
    for array in arrays.values():
        owner = array
        while isinstance(owner.base, ndarray):
            owner = owner.base
        if not array.dtype.hasobject:
            owners.setdefault(id(owner.base if owner.base is not None else owner), []).append(array)
    views: dict[int, tuple[Any, ...]] = {}
    for group in owners.values():
        anchor, starts = anchor_placements(group)
        for array in group:
            if (start := starts.get(id(array))) is not None:
                writeable = bool(array.flags.writeable)
                views[id(array)] = (
                    anchor,
                    start,
                    array.shape,
                    array.strides,
                    array.dtype,
                    writeable,
                )
    return views


def anchor_placements(group: list[Any]) -> tuple[Any, dict[int, int]]:
    """Of numpy arrays sharing one memory: the one spanning most of it in one contiguous
    block (the anchor: the first of the largest), and, by id, where each other one lying
    within it starts in it, in bytes; (None, {}) when there are not two or none is
    contiguous."""
    blocks = [array for array in group if array.flags.c_contiguous]
    if len(group) < 2 or not blocks:
        return None, {}
    anchor = max(blocks, key=lambda array: array.nbytes)
    return anchor, placements_within(anchor, group)


def placements_within(anchor: Any, group: list[Any]) -> dict[int, int]:
    """By id, where each numpy array of ``group`` (``anchor`` aside) lying within the
    memory of the contiguous array ``anchor`` starts in it, in bytes."""
    bounds = getattr(sys.modules["numpy"].lib, "array_utils", sys.modules["numpy"]).byte_bounds
    low, high = bounds(anchor)
    starts = {}
    for array in group:
        first, end = bounds(array)
        if array is not anchor and low <= first <= end <= high:
            starts[id(array)] = data_start(array) - data_start(anchor)
    return starts


def data_start(array: Any) -> int:
    """The address of a numpy array's first element."""
    return int(array.__array_interface__["data"][0])


def view_of(owner: Any, offset: int, shape: Any, strides: Any, dtype: Any, writeable: bool) -> Any:
    """The view :func:`views_within` found, made again over ``owner`` (called by pickle:
    its name is in stored pickles, keep it)."""
    made = sys.modules["numpy"].ndarray(shape, dtype, buffer=owner, offset=offset, strides=strides)
    if not writeable:
        made.flags.writeable = False
    return made


class _Walker(_Pickler):
    """A :class:`_Pickler` showing each object it meets to ``visit`` (see
    :func:`walk_pickled`)."""

    def __init__(self, file: Any, visit: Callable[[Any], bool]) -> None:
        super().__init__(file, {}, protocol=5, buffer_callback=_out_of_band)
        self.visit = visit

    def persistent_id(self, obj: Any) -> Any:
        return 0 if self.visit(obj) else None


def _out_of_band(buffer: pickle.PickleBuffer) -> None:
    """Keeps every buffer out of the stream: a walk copies no array's memory."""


class _Nowhere:
    """A file that keeps nothing written to it."""

    @staticmethod
    def write(data: Any) -> int:
        return len(data)


def walk_pickled(value: Any, visit: Callable[[Any], bool]) -> None:
    """Pickle ``value`` as this codec writes it (the objects :func:`pickle_by_name` names
    as names), to nowhere, showing each object pickle meets to ``visit`` (met again, again):
    what a stored value holds, and so what restoring it makes one object again. An object
    ``visit`` returns True for is not looked into. Raises what pickle raises for a value it
    refuses (a lambda inside, a lock)."""
    _Walker(_Nowhere(), visit).dump(value)


def _dill_reduced(code: types.FunctionType | type) -> Any:
    """A function or class pickle cannot write by name (a lambda, a function or class
    local to another) as dill's pickle of it alone, when what it closes over is only
    numbers, strings and itself; else NotImplemented.

    Without it, one such object anywhere in a value (statsmodels' ``Tricube`` kernel keeps
    a lambda, its ``abline_plot`` draws a line of a class local to it) sends the whole
    value to dill, which pickles in Python: a figure beside the kernel took 121 ms where
    this takes 17. A function closing over other objects stays with dill's pickle of the
    whole value, where what it closes over keeps its identity."""
    if "<" not in code.__qualname__:
        return NotImplemented
    functions = [code] if isinstance(code, types.FunctionType) else list(_functions_of(code))
    if not all(_closes_over_constants(f, code) for f in functions):
        return NotImplemented
    return function_from_dill, (dill_dumps(code, protocol=5),)


def dill_dumps(value: Any, by_name: bool | None = None, **options: Any) -> bytes:
    """``dill.dumps``, without letting Python forget which warnings it has shown; the
    objects the active block of :func:`references` refers to are written as references
    (dill pickles in Python, which asks about every object, lists and dicts too), so a
    value dill takes whole (a closure over a list beside it) holds the very inputs too.
    With ``by_name`` (by default, for a cell's record: in a block of :func:`references`),
    the notebook's functions and classes defined at top level are written by name, as
    pickle writes them, not copied (a hit defines them again first; a copy of a class made
    ``isinstance(job, Job)`` False after it).

    dill pickles each code object inside ``warnings.catch_warnings()`` (on 3.12 and later
    to silence the DeprecationWarning of ``co_lnotab``, which on 3.11 it does not need),
    and leaving that block resets every module's record of the warnings already shown:
    after hitnb stored a closure, a notebook showed a warning again that it had shown once.
    For the call, dill's module sees a ``warnings`` whose ``catch_warnings`` and filter
    functions do nothing; the DeprecationWarning is ignored anyway by the default filters,
    outside ``__main__``."""
    import dill

    active = _referring.get()
    refer = active[0] if active is not None else {}
    if by_name is None:
        by_name = active is not None

    def dumps() -> bytes:
        if not (refer or by_name):
            return dill.dumps(value, **options)  # type: ignore[no-any-return]
        out = io.BytesIO()
        _dill_referring()(out, refer, by_name, **options).dump(value)
        return out.getvalue()

    module = sys.modules.get("dill._dill")
    if getattr(module, "warnings", None) is not warnings:  # not dill as we know it, or nested
        return dumps()
    module.warnings = _WARNINGS_KEPT  # type: ignore[union-attr]
    try:
        return dumps()
    finally:
        module.warnings = warnings  # type: ignore[union-attr]


def dill_loads(data: Any, buffers: Any = None) -> Any:
    """``dill.loads``, loading the references :func:`dill_dumps` wrote as
    :func:`load_reference` and :func:`load_part` do."""
    return _dill_referring(loading=True)(io.BytesIO(data), buffers=buffers).load()


@functools.cache
def _dill_referring(loading: bool = False) -> Any:
    """dill's pickler writing what a block of :func:`references` refers to as references
    (``refer``, by id), or its unpickler reading them back (made once: importing dill is
    left to the first value that needs it)."""
    import dill

    if loading:

        class Unpickler(dill.Unpickler):  # type: ignore[misc]
            def persistent_load(self, pid: Any) -> Any:
                to = pid[1]
                return load_part(*to) if isinstance(to, tuple) else load_reference(to)

        return Unpickler

    class Pickler(dill.Pickler):  # type: ignore[misc]
        def __init__(
            self, file: Any, refer: Mapping[int, Any], by_name: bool, **options: Any
        ) -> None:
            super().__init__(file, **options)
            self.refer = refer
            self.by_name = by_name

        def persistent_id(self, obj: Any) -> Any:
            to = self.refer.get(id(obj))
            if to is None or is_cached_part(to):  # (a reference holds no value to rebuild)
                return None
            return ("hitnb", to)

        def reducer_override(self, obj: Any) -> Any:
            if self.by_name and _defined_at_top(obj):
                return _main_attribute, (obj.__qualname__,)
            return NotImplemented

    return Pickler


class _WarningsKept:
    """``warnings`` as :func:`dill_dumps` shows it to dill: the module, but for a
    ``catch_warnings`` and filter functions that change nothing, and a ``warn`` that drops
    dill's own ``PicklingWarning`` ("Cannot locate reference to <class
    'mpmath.ctx_iv.ivmpf'>", printed under a cell that imported mpmath): what hitnb could
    not store it says itself, once (``%hitnb why``)."""

    def __getattr__(self, name: str) -> Any:
        return getattr(warnings, name)

    @staticmethod
    def warn(message: Any, category: Any = None, stacklevel: int = 1, source: Any = None) -> None:
        import dill

        if isinstance(category, type) and issubclass(category, dill.PicklingWarning):
            return
        warnings.warn(message, category, stacklevel + 1, source)

    @staticmethod
    def catch_warnings(*args: Any, **kwargs: Any) -> contextlib.nullcontext[None]:
        return contextlib.nullcontext()

    @staticmethod
    def filterwarnings(*args: Any, **kwargs: Any) -> None:
        """Changes nothing (see the class)."""

    simplefilter = filterwarnings


_WARNINGS_KEPT = _WarningsKept()


def _functions_of(cls: type) -> Iterator[Any]:
    """The functions a class body defined: methods, and those under static and class
    methods and properties."""
    for member in vars(cls).values():
        if isinstance(member, staticmethod | classmethod):
            member = member.__func__
        if isinstance(member, property):
            yield from (f for f in (member.fget, member.fset, member.fdel) if f is not None)
        elif isinstance(member, types.FunctionType):
            yield member


_CONSTANT = (int, float, complex, str, bytes, bool, type(None))


def _closes_over_constants(function: Any, owner: Any) -> bool:
    """Whether every variable ``function`` closes over, and every default value it has,
    holds a number, a string, None or ``owner`` (the ``__class__`` of a method calling
    ``super()``): values a copy of the function may hold copies of without anyone seeing
    the difference (``lambda out=seen: len(out)`` held a copy of ``seen``)."""
    held = [*(getattr(function, "__defaults__", None) or ())]
    held += (getattr(function, "__kwdefaults__", None) or {}).values()
    for cell in getattr(function, "__closure__", None) or ():
        try:
            held.append(cell.cell_contents)
        except ValueError:  # not bound yet
            continue
    return all(value is owner or _constant(value) for value in held)


def _constant(value: Any) -> bool:
    """A number, a string, None, or a tuple or frozen set of those."""
    kind = type(value)
    if kind is tuple or kind is frozenset:
        return all(map(_constant, value))
    return isinstance(value, _CONSTANT)


def _defined_at_top(obj: Any) -> bool:
    """Whether ``obj`` is a function or class the notebook binds at top level by its name."""
    if not (type(obj) is types.FunctionType or isinstance(obj, type)):
        return False
    if getattr(obj, "__module__", None) != "__main__" or not isinstance(obj.__qualname__, str):
        return False
    main = sys.modules.get("__main__")
    return "." not in obj.__qualname__ and getattr(main, obj.__qualname__, None) is obj


def _main_attribute(name: str) -> Any:
    """What the notebook binds to ``name`` (called by pickle)."""
    return getattr(sys.modules["__main__"], name)


def function_from_dill(payload: bytes) -> Any:
    """A function or class :func:`_dill_reduced` wrote (its name is in stored pickles:
    keep it)."""
    return dill_loads(payload)


def _dumps(
    value: Any,
    protocol: int,
    buffer_callback: Any,
    by_dill: bool = False,
    views: dict[int, tuple[Any, ...]] | None = None,
) -> bytes:
    """``views``: :func:`views_within` of ``value``, when the caller has it already."""
    active = _referring.get()
    refer = active[0] if active is not None else {}
    views = views_within(value) if views is None else views
    if not (_naming or refer or by_dill or views):
        return pickle.dumps(value, protocol=protocol, buffer_callback=buffer_callback)
    out = io.BytesIO()
    pickler = _Pickler(out, refer, by_dill, protocol=protocol, buffer_callback=buffer_callback)
    pickler.views = views
    pairs = _containers_referred(value, refer, active[2]) if active is not None and refer else []
    pickler.dump(_Preamble(pairs, value) if pairs else value)
    return out.getvalue()


def dumps_referring(value: Any) -> bytes:
    """``pickle.dumps(value)``, writing what :func:`references` refers to as references
    when a block of it is active (a value a cell's record pickles on its own: an instance
    of the notebook's class holding an input the cell left as it was)."""
    active = _referring.get()
    views = views_within(value)
    if (active is None or not active[0]) and not views:
        return pickle.dumps(value, protocol=5)
    return _dumps(value, 5, None, views=views)


def dumps_with_dill_functions(value: Any) -> bytes:
    """``pickle.dumps(value)`` where the functions pickle cannot name are dill's pickles of
    them (see :func:`_dill_reduced`); ``pickle.loads`` reads it."""
    return _dumps(value, 5, None, by_dill=True)


class PickleCodec(Codec):
    """Pickle protocol 5 with out-of-band buffers.

    Large buffers (numpy arrays of :data:`OUT_OF_BAND_BYTES` or more, inside tuples, dicts,
    objects) are written after the pickle stream, 64-byte aligned, and handed back to
    ``pickle.loads`` as slices of the blob: no copy on load, and a memory map when asked
    for. Objects named by :func:`pickle_by_name`, and those :func:`references` refers to,
    are written as names. A value pickle refuses for a lambda or a local function inside
    it is pickled again with dill's pickles of those functions (:func:`_dill_reduced`).
    """

    name = "pickle"
    _dumps: ClassVar[Callable[..., bytes]] = staticmethod(_dumps)
    _loads: ClassVar[Callable[..., Any]] = staticmethod(pickle.loads)

    def can_encode(self, value: Any) -> bool:
        return True

    def save(self, value: Any, file: BinaryIO) -> None:
        raws: list[memoryview] = []

        def out_of_band(buffer: pickle.PickleBuffer) -> bool:
            raw = buffer.raw()
            if raw.nbytes < OUT_OF_BAND_BYTES:
                return True  # in the stream
            raws.append(raw)
            return False

        def encode(by_dill: bool) -> bytes:
            raws.clear()  # what a failed attempt put out of band
            if by_dill:
                return _dumps(value, 5, out_of_band, by_dill=True)
            return self._dumps(value, protocol=5, buffer_callback=out_of_band)

        with gc_paused():  # see gc_paused: pickling allocates as loading does
            try:
                stream = deep_if_needed(lambda: encode(False), "hitnb-deep-pickle")
            except Exception:
                if self._dumps is not _dumps:  # dill's own (DillCodec): nothing to retry
                    raise
                stream = deep_if_needed(lambda: encode(True), "hitnb-deep-pickle")
        header = _PICKLE_MAGIC + struct.pack(
            f"<IQ{len(raws)}Q", len(raws), len(stream), *(r.nbytes for r in raws)
        )
        file.write(header)
        file.write(stream)
        offset = len(header) + len(stream)
        for raw in raws:
            file.write(b"\0" * _padding(offset))
            offset += _padding(offset)
            file.write(raw)
            offset += raw.nbytes

    def load(self, data: BlobData, meta: dict[str, Any]) -> Any:
        return self._load(data, _call_loads)

    def load_in(self, data: BlobData, meta: dict[str, Any], namespace: dict[str, Any]) -> Any:
        return self._load(data, loads_in(namespace))

    def _load(self, data: BlobData, call: Callable[[Callable[..., Any], Any, Any], Any]) -> Any:
        """The value ``data`` holds, on this thread's stack whatever the value's nesting:
        pickling recurses once per level (a deep value is pickled on a deep stack, see
        :mod:`hitnb.deep`), unpickling does not (pickle's machine builds the inner objects
        first, from its own stack). A load past the recursion limit is the value's own
        code recursing without end (a ``__getattr__`` that reads itself), which a deeper
        stack only makes slower to fail (1.8 s for scikit-image's ``FailedEstimation``)."""
        view = memoryview(data.buffer)
        if view[:_MAGIC_LEN] != _PICKLE_MAGIC:
            raise CodecError("not a hitnb pickle blob (bad magic)")
        count, length = _unpack_counts(view, _MAGIC_LEN)
        pos = _MAGIC_LEN + 12
        if count == 0:
            if length < _MANY_OBJECTS:  # the hit of a small result: no pause to pay for
                return call(self._loads, view[pos : pos + length], ())
            with gc_paused():
                return call(self._loads, view[pos : pos + length], ())
        sizes = struct.unpack_from(f"<{count}Q", view, pos)
        pos += 8 * count
        stream = view[pos : pos + length]
        pos += length
        buffers = []
        for size in sizes:
            pos += _padding(pos)
            buffers.append(view[pos : pos + size])
            pos += size
        with gc_paused():
            return call(self._loads, stream, buffers)


OUT_OF_BAND_BYTES = 1 << 16
"""Buffers from this size on are written after the stream; smaller ones stay inside it,
where pickle copies them: handing 30,000 small arrays (a GEE model's groups) back as
slices cost more than the copies (0.22 s to load, 0.1 s of it making the slices)."""

_MANY_OBJECTS = 1 << 16
"""Bytes of pickle stream from which loading pauses garbage collection (see below)."""


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Within the block, no cyclic garbage collection (as it was before, after it).

    Unpickling creates objects by the hundred thousand, all alive: each full collection
    the allocations set off walks every object in the process, again and again. Loading
    300,000 small dicts and tuples took 0.9 s with collections and 0.14 s without; what
    the load leaves behind is collected later, as usual. Pickling allocates too (an object
    or more for each one written): a cell's figure and fitted kernel took 155 ms to pickle
    in a kernel with statsmodels and matplotlib loaded, 22 ms with collections paused."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def pickle_stream(data: bytearray | memoryview) -> bytes | None:
    """The pickle stream of a pickle-codec blob with no out-of-band buffers, else None."""
    view = memoryview(data)
    if view[:_MAGIC_LEN] != _PICKLE_MAGIC:
        return None
    count, length = _unpack_counts(view, _MAGIC_LEN)
    start = _MAGIC_LEN + 12
    return bytes(view[start : start + length]) if count == 0 else None


class DillCodec(PickleCodec):
    """dill, for what pickle refuses: lambdas, closures, classes defined in a notebook cell."""

    name = "dill"

    @staticmethod
    def _dumps(value: Any, protocol: int, buffer_callback: Any) -> bytes:
        return dill_dumps(value, protocol=protocol, buffer_callback=buffer_callback)

    @staticmethod
    def _loads(data: Any, buffers: Any) -> Any:
        return dill_loads(bytes(data), buffers=buffers)


_user_codecs: list[Codec] = []
_builtin_codecs: list[Codec] = [
    BytesCodec(),
    StrCodec(),
    NpyCodec(),
    ParquetCodec(),
    PlotlyCodec(),
    PickleCodec(),
]
FALLBACK: Codec = DillCodec()
_BUILTIN_BY_NAME = {c.name: c for c in (*_builtin_codecs, FALLBACK)}


def register_codec(codec: Codec) -> Codec:
    """Register a codec for the user's own types; it is tried before the built-in ones.

    A codec of the same name replaces the earlier one, so re-running a notebook cell
    that registers it is harmless.
    """
    if not codec.name:
        raise CodecError(f"{type(codec).__qualname__} needs a non-empty `name` class attribute")
    if codec.name in {c.name for c in (*_builtin_codecs, FALLBACK)}:
        raise CodecError(f"codec name {codec.name!r} is built in; choose another name")
    _user_codecs[:] = [c for c in _user_codecs if c.name != codec.name]
    _user_codecs.insert(0, codec)
    return codec


def unregister_codec(name: str) -> None:
    """Remove a user codec by name (entries it wrote can no longer be loaded)."""
    _user_codecs[:] = [c for c in _user_codecs if c.name != name]


def codecs_for(value: Any, preferred: str | None = None) -> list[Codec]:
    """The codecs to try for ``value``, best first; the last is the dill fallback."""
    chosen = [c for c in (*_user_codecs, *_builtin_codecs) if c.can_encode(value)]
    if preferred is not None:
        chosen.sort(key=lambda c: c.name != preferred)
    return [*chosen, FALLBACK]


def codec_named(name: str) -> Codec:
    for codec in _user_codecs:
        if codec.name == name:
            return codec
    builtin = _BUILTIN_BY_NAME.get(name)
    if builtin is not None:
        return builtin
    raise CodecError(
        f"no codec named {name!r} is registered in this process; the entry was written with a "
        f"custom codec: call hitnb.register_codec(...) for it before loading"
    )
