"""Type-tagged, canonical hashing of Python values with xxh3_128.

Rules (documented in docs/how-it-works.md):

* Every value is framed with a type tag, so ``1``, ``1.0``, ``True`` and ``"1"`` differ.
* Containers hash their elements recursively; long ones of plain data (lists, tuples and
  dicts of None, bools, ints, floats, str and bytes) by their pickle, written by pickle's C
  encoder (:mod:`hitnb.hashing.plain`). A dict hashes in its insertion order, which is part
  of its value; a set, and an object's attributes, in any order. Shared and cyclic
  references are handled.
* Floats hash by their IEEE-754 bits: ``0.0`` and ``-0.0`` are different keys (``1/x``
  tells them apart). A float alone hashes every NaN the same; inside a container of plain
  data, as in an array, a NaN hashes by its bits.
* numpy arrays, pandas objects and torch tensors feed their buffers straight into
  the hasher, without pickling. pyarrow tables hash their IPC stream.
* Functions hash by their code fingerprint (:mod:`hitnb.hashing.code`), classes and
  modules by name (and, for user code, their source).
* Anything else hashes through ``__reduce_ex__(5)``, the same protocol pickle uses,
  but with our canonical encoding of the parts. A value that pickle refuses
  (generators, open files, locks, sockets) raises :class:`UnhashableValue`, never a
  silent collision.
"""

from __future__ import annotations

import contextlib
import copyreg
import enum
import functools
import inspect
import math
import struct
import sys
import threading
import time
import types
import weakref
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

import xxhash

from hitnb.deep import DEEP_FRAMES, on_a_deep_stack
from hitnb.hashing.packed import PACK_MIN, pack_mapping, pack_records, pack_set
from hitnb.hashing.plain import plain_encoding
from hitnb.hashing.shared import held_elsewhere, holds_twice

Encoder = Callable[["ValueHasher", Any], None]

_custom: dict[type, Callable[[Any], Any]] = {}
_NAN = b"nan"
_pack_double = struct.Struct("<d").pack
_pack_len = struct.Struct("<Q").pack
_RAW_THRESHOLD = 1 << 14
_NEWOBJ = getattr(copyreg, "__newobj__")  # noqa: B009 - absent from typeshed


class UnhashableValue(TypeError):
    """A value cannot be hashed deterministically; ``path`` says where inside the value, and
    ``dependency`` which global or closure value of a function it is (when it is one)."""

    def __init__(self, type_name: str, reason: str, path: str = "", dependency: str = "") -> None:
        self.type_name = type_name
        self.reason = reason
        self.path = path
        self.dependency = dependency
        super().__init__(f"{type_name} at {dependency}{path or ' (top level)'}: {reason}")


def register_hasher(cls: type, to_hashable: Callable[[Any], Any]) -> None:
    """Hash instances of ``cls`` (and subclasses) as ``to_hashable(instance)`` instead.

    Use it for types whose pickled form is not deterministic or carries state that
    does not matter for results, e.g. ``register_hasher(Model, lambda m: m.config)``.
    """
    global _hashers_registered
    _custom[cls] = to_hashable
    _hashers_registered += 1


_hashers_registered = 0


def registered_hasher(kind: type) -> Callable[[Any], Any] | None:
    """The function :func:`register_hasher` gave ``kind`` or a class it derives from."""
    found = _registered(kind)
    return found[1] if found is not None else None


def _registered(kind: type) -> tuple[type, Callable[[Any], Any]] | None:
    """The class in ``kind``'s MRO a hasher was registered for, first, and that hasher."""
    if not _custom:
        return None
    return next(((base, _custom[base]) for base in kind.__mro__ if base in _custom), None)


def hashers_registered() -> int:
    """How many times :func:`register_hasher` was called: a value refused before one was
    registered may hash now."""
    return _hashers_registered


def qualified_name(obj: Any) -> str:
    """``module.qualname`` of a class or function, the stable identity of global code."""
    module = getattr(obj, "__module__", None) or "?"
    name = getattr(obj, "__qualname__", None) or getattr(obj, "__name__", None) or repr(obj)
    return f"{module}.{name}"


class ValueHasher:
    """Accumulates the canonical encoding of values into one xxh3_128 digest.

    Small frames are collected in a bytearray and large buffers are fed to xxhash
    directly, so hashing a 1 GiB array is one pass over its memory and no copy.
    """

    __slots__ = ("_active", "_buf", "_done", "_fresh", "_h", "_path", "_seen")

    def __init__(
        self,
        _active: dict[int, int] | None = None,
        _done: dict[int, tuple[Any, bytes]] | None = None,
        _seen: dict[int, tuple[Any, int]] | None = None,
    ) -> None:
        self._h = xxhash.xxh3_128()
        self._buf = bytearray()
        self._active: dict[int, int] = {} if _active is None else _active
        self._done: dict[int, tuple[Any, bytes]] = {} if _done is None else _done
        """Objects already hashed in this traversal, with their digests: an object reached
        again through another path (a figure's artists share their axes) is not walked
        again, which made the walk exponential in how much an object graph shares."""
        self._seen: dict[int, tuple[Any, int]] = {} if _seen is None else _seen
        """The objects that can change in place met so far in this walk, in the order met
        (held, so their ids stay theirs): one met again is framed as a reference to the
        first meeting, so ``[row, row]`` and ``[row, copy(row)]`` differ, as they do to code
        that changes ``row``."""
        self._path: list[str] = []
        self._fresh = False
        """Whether the value being hashed was made for hashing (a column as an array), so
        no one else holds it: not noted as met, or the walk would keep every such copy."""

    # -- output -------------------------------------------------------------------------
    def digest(self) -> bytes:
        self._flush()
        return self._h.digest()

    def hexdigest(self) -> str:
        self._flush()
        return self._h.hexdigest()

    def _flush(self) -> None:
        if self._buf:
            self._h.update(self._buf)
            self._buf.clear()

    # -- framing ------------------------------------------------------------------------
    def frame(self, tag: bytes, payload: bytes | bytearray | memoryview = b"") -> None:
        """Append ``tag`` and a length-prefixed ``payload``: frames never run together."""
        buf = self._buf
        buf += tag
        buf += _pack_len(len(payload))
        if len(payload) >= _RAW_THRESHOLD:
            self._flush()
            self._h.update(payload)
        else:
            buf += payload

    def raw_buffer(self, tag: bytes, header: str, buffer: Any, nbytes: int) -> None:
        """Frame a large contiguous buffer, feeding it to xxhash without copying it."""
        self.frame(tag, header.encode())
        self._buf += _pack_len(nbytes)
        self._flush()
        self._h.update(buffer)

    def raw(self, buffer: Any) -> None:
        """Append a length-prefixed buffer of any size (packed encodings use it)."""
        view = memoryview(buffer)
        self._buf += _pack_len(view.nbytes)
        if view.nbytes >= _RAW_THRESHOLD:
            self._flush()
            self._h.update(view)
        else:
            self._buf += view

    def text(self, tag: bytes, text: str) -> None:
        self.frame(tag, text.encode("utf-8", "surrogatepass"))

    # -- values -------------------------------------------------------------------------
    def update(self, value: Any) -> None:
        """Add one value to the digest."""
        fresh, self._fresh = self._fresh, False  # (for this value, not what it holds)
        kind = type(value)
        encoder = _EXACT.get(kind)
        if encoder is None:
            self._update_other(value, fresh)
        elif kind not in _CHANGEABLE or fresh or self.met_again(value):
            encoder(self, value)

    def update_child(self, label: str, value: Any) -> None:
        """Hash a member of a container, remembering where it is for error messages."""
        self._path.append(label)
        try:
            self.update(value)
        finally:
            self._path.pop()

    def update_fresh(self, label: str, value: Any) -> None:
        """:meth:`update_child` of a value made for hashing (see ``_fresh``)."""
        self._fresh = True
        self.update_child(label, value)

    def update_state(self, state: Any) -> None:
        """Hash an object's state; a dict of attributes in any order (see :func:`_state`)."""
        self._path.append(".__dict__")
        try:
            if type(state) is dict:
                _state(self, state)
            else:
                self.update(state)
        finally:
            self._path.pop()

    def packed_whole(self, value: Any) -> None:
        """``value``, a list, tuple or dict, was hashed whole (by its pickle, or column by
        column), without a walk through what it holds."""

    def may_pack(self, value: Any) -> bool:
        """Whether ``value``, a long list, tuple or dict, may be hashed whole, without a
        walk through what it holds (always, here: see :mod:`hitnb.hashing.apart`)."""
        return True

    def _child(self) -> ValueHasher:
        """A hasher for one part of the value, sharing this traversal's bookkeeping."""
        return ValueHasher(self._active, self._done, self._seen)

    def fail(self, value: Any, reason: str) -> UnhashableValue:
        return UnhashableValue(type(value).__qualname__, reason, "".join(self._path))

    def _update_other(self, value: Any, fresh: bool = False) -> None:
        cls = type(value)
        registered = _registered(cls)
        if registered is not None:
            base, to_hashable = registered
            self.text(b"C", qualified_name(base))
            self.update(to_hashable(value))
            return
        module = cls.__module__.partition(".")[0]
        special = _BY_MODULE.get(module)
        if special is not None:
            self._fresh = fresh  # (numpy's and pandas' encoders read it first thing)
            done = special(self, value)
            self._fresh = False
            if done:
                return
        for kind, encoder in _BY_KIND:
            if isinstance(value, kind):
                encoder(self, value)
                return
        if _wraps_user_code(value) and (
            getattr(cls, "_hitnb_wraps_code", False) or _known_by_name_only(value)
        ):
            _wrapper(self, value)
            return
        self._reduce(value)

    # -- containers and objects, with cycle detection --------------------------------------
    def enter(self, value: Any) -> bool:
        """Start a container; return False (after framing a back-reference) if already open."""
        ident = id(value)
        depth = self._active.get(ident)
        if depth is not None:
            self.frame(b"@", str(len(self._active) - depth).encode())
            return False
        self._active[ident] = len(self._active)
        return True

    def met_again(self, value: Any) -> bool:
        """Note ``value`` as met; False (after framing a reference to its first meeting)
        when it was met before in this walk."""
        seen = self._seen.get(id(value))
        if seen is not None and seen[0] is value:
            self.frame(b"&", str(seen[1]).encode())
            return False
        self._seen[id(value)] = (value, len(self._seen))
        return True

    def leave(self, value: Any) -> None:
        del self._active[id(value)]

    def sequence(self, tag: bytes, items: Any, count: int, value: Any) -> None:
        if not self.enter(value):
            return
        self.frame(tag, str(count).encode())
        for i, item in enumerate(items):
            self.update_child(f"[{i}]", item)
        self.leave(value)

    def unordered(self, tag: bytes, items: Any, value: Any, *, pairs: bool) -> None:
        """Hash a dict's items or a set's elements independently of their order."""
        if not self.enter(value):
            return
        items = list(items)
        self.frame(tag, str(len(items)).encode())
        keys = [kv[0] for kv in items] if pairs else items
        key_type = type(keys[0]) if keys else str
        if key_type in (str, int, bytes) and all(type(k) is key_type for k in keys):
            for item in sorted(items, key=(lambda kv: kv[0]) if pairs else None):
                if pairs:
                    self.update_child(f"[{item[0]!r}]", item[0])
                    self.update_child(f"[{item[0]!r}]", item[1])
                else:
                    self.update_child("{}", item)
        else:
            alone = sorted((self._alone(item) for item in items), key=lambda a: a[0])
            self.frame(b"h", b"".join(digest for digest, _ in alone))
            if any(met for _, met in alone):
                for _, met in alone:
                    self._meet_all(met)
        self.leave(value)

    def _alone(self, item: Any) -> tuple[bytes, list[Any]]:
        """The digest of one element of an order-free container alone, and the objects
        that can change in place it met, in the order met. What it meets again is counted
        within it only, and it reuses no digest made outside it (whose references to where
        objects were first met count in another walk): the elements are visited in an
        order no digest may depend on."""
        child = self._child()
        child._seen, child._done = {}, {}
        child._path = self._path
        child.update(item)
        return child.digest(), [held for held, _ in child._seen.values()]

    def _meet_all(self, met: list[Any]) -> None:
        """Note the objects one element of an order-free container met (the elements in
        the order of their digests), framing each met before, in this walk or another
        element, by where it was first met: two elements sharing one list, or an element
        sharing one with a value outside, are not elements holding copies."""
        self.frame(b",")
        for at, held in enumerate(met):
            seen = self._seen.get(id(held))
            if seen is not None and seen[0] is held:
                self.frame(b"&", f"{at}:{seen[1]}".encode())
            else:
                self._seen[id(held)] = (held, len(self._seen))

    def _reduce(self, value: Any) -> None:
        """Hash an arbitrary object through the pickle protocol's ``__reduce_ex__``; an
        object a library defines at module level, by its name and the library's version."""
        from hitnb.hashing.code import library_attribute, package_version

        named = library_attribute(value)
        if named is not None:
            dist, version = package_version(value)
            self.text(b"N", f"{named[0]}.{named[1]}@{dist}={version}")
            return
        deadline = getattr(_limit, "deadline", None)
        if deadline is not None and time.perf_counter() > deadline:
            raise self.fail(value, "hashing it took longer than the caller allowed")
        reducer = copyreg.dispatch_table.get(type(value))  # pickle asks it first, too
        if reducer is None and _is_callback_registry(type(value)):
            reducer = _callback_registry_reduced
        try:
            reduced = value.__reduce_ex__(5) if reducer is None else reducer(value)
        except Exception as exc:
            raise self.fail(value, f"pickle refuses it: {exc}") from None
        if isinstance(reduced, str):
            found = _global_name(value, reduced)
            if found is None:
                raise self.fail(value, f"pickle cannot find it by its name {reduced!r}")
            self.text(b"G", found)
            return
        if id(value) in self._active:
            self.enter(value)  # frames the back-reference of a cycle
            return
        if not self.met_again(value):
            return
        done = self._done.get(id(value))
        if done is None or done[0] is not value:
            child = self._child()
            child._path = self._path
            child._reduced(value, reduced)
            done = self._done[id(value)] = (value, child.digest())
        self.frame(b"Q", done[1])

    def _reduced(self, value: Any, reduced: Any) -> None:
        """The body of :meth:`_reduce`: the object's class, constructor and state."""
        self.enter(value)
        self.frame(b"O", _class_identity(type(value)))
        func, args, *rest = (*reduced, None, None, None)[:5]
        if func is _NEWOBJ and args and args[0] is type(value):
            args = args[1:]
        else:
            self.update_child(".__reduce__", func)
        self.update_child(".__reduce__args", args)
        state, listitems, dictitems = rest
        if state is not None:
            if isinstance(state, tuple) and len(state) == 2 and state[0] is None:
                state = state[1]  # (None, slots) from objects with __slots__ only
            left_out = _left_out(type(value))
            if isinstance(state, dict) and (left_out.names or left_out.in_caches):
                state = left_out.apply(state, value)  # values derived from the rest, kept apart
            self.update_state(state)
        if listitems is not None:
            self.update_child(".items", list(listitems))
        if dictitems is not None:
            self.update_child(".items", dict(dictitems))
        self.leave(value)


_global_names: dict[int, tuple[Any, str]] = {}


def _global_name(value: Any, name: str) -> str | None:
    """An object reduced to the global ``name``, as pickle stores it (numpy registers its
    ufuncs so: ``scipy.special.erf`` is the name ``erf``): its module, the name, and that
    library's version. The module is the object's ``__module__`` when that holds it; else
    (a ufunc has none) the imported module holding it under that name with the shortest
    dotted name, then the first by name (``scipy.special``, not its ``_special_ufuncs``):
    pickle takes the first in import order, which another process may not share. Searched
    once per object: such objects are a module's, and live as long. None when no module
    holds it (pickle refuses it too)."""
    found = _global_names.get(id(value))
    if found is not None and found[0] is value:
        return found[1]
    from hitnb.hashing.code import library_versions

    module = getattr(value, "__module__", None)
    if not (isinstance(module, str) and _attribute(sys.modules.get(module), name) is value):
        holding = [
            m for m, mod in list(sys.modules.items())
            if m not in ("__main__", "__mp_main__") and _attribute(mod, name) is value
        ]  # fmt: skip
        if not holding:
            return None
        module = min(holding, key=lambda m: (m.count("."), m))
    versions = library_versions([module], "minor")
    text = f"{module}.{name}" + "".join(f"@{dist}={v}" for dist, v in sorted(versions.items()))
    if len(_global_names) >= 4096:
        _global_names.clear()
    _global_names[id(value)] = (value, text)
    return text


def _attribute(owner: Any, dotted: str) -> Any:
    """``owner.a.b`` for the name ``"a.b"``, as pickle looks up a qualified name; None where
    one is missing. The module's part comes from its own ``__dict__``, never from its
    ``__getattr__``: a lazy loader would import a submodule of that name, and a deprecated
    name warns. (Silencing that warning with ``warnings.catch_warnings`` made Python forget
    which warnings it had shown: a notebook showed them again, cell after cell.)"""
    first, _, rest = dotted.partition(".")
    try:
        namespace = getattr(owner, "__dict__", None)
        owner = namespace.get(first) if isinstance(namespace, dict) else None
        for part in rest.split(".") if rest else ():
            owner = getattr(owner, part, None)
    except Exception:  # an odd object in sys.modules, an attribute that raises
        return None
    return owner


class LeftOut(NamedTuple):
    """What of an instance's state is not part of its value (see :func:`_left_out`)."""

    names: frozenset[str]
    """Attributes left out."""
    in_caches: tuple[tuple[str, frozenset[str], tuple[tuple[str, Callable[[Any], Any]], ...]], ...]
    """Per cache attribute (a dict), the entries left out of it (read-only cached
    attributes), and the entries of writable cached attributes with the function computing
    each: left out only while they hold what it computes (see :func:`_as_computed`)."""
    properties: frozenset[str] = frozenset()
    """Those of ``names`` that are ``functools.cached_property`` members (the rest:
    matplotlib's ``_parents``)."""

    def apply(self, state: dict[str, Any], value: Any = None) -> dict[str, Any]:
        """``state`` (of ``value``) without what is left out. A cache left empty goes too:
        statsmodels makes it on the first read when the class did not, and an object
        without it is the same value as one with it empty."""
        kept = {k: v for k, v in state.items() if k not in self.names}
        for attribute, entries, computed in self.in_caches:
            cache = kept.get(attribute)
            if isinstance(cache, dict):
                rest = {k: v for k, v in cache.items() if k not in entries}
                for name, compute in computed:
                    if name in rest and _as_computed(value, attribute, compute, rest[name]):
                        del rest[name]
                if rest:
                    kept[attribute] = rest
                else:
                    del kept[attribute]
        return kept


def _as_computed(value: Any, attribute: str, compute: Callable[[Any], Any], entry: Any) -> bool:
    """Whether ``entry``, kept in ``value``'s cache ``attribute`` by one of statsmodels'
    writable cached attributes (``cache_writable``: ``res.scale``, ``data.ynames``), is what
    that attribute computes from the rest of ``value`` now (None too: such an attribute
    computes again on a read). Reading the attribute keeps the entry, which made a cell
    reading ``res.resid`` of an ARIMA model (its rows named by ``ynames``) count as
    changing ``res``; assigning another value (``res.scale = 2.0``) is a change. Hashing
    changes nothing: the entries computing it added to the cache are taken out again, and
    a computation that binds any attribute of ``value`` anew is undone and counts as
    another value, as does one that fails."""
    if entry is None:
        return True
    if value is None:
        return False
    own = getattr(value, "__dict__", None)
    if type(own) is not dict:
        return False
    state = dict(own)
    cache = own.get(attribute)
    before = set(cache) if type(cache) is dict else None
    try:
        computed = compute(value)
    except Exception:  # (a library's own failure: the entry counts, as any other state)
        return False
    finally:
        if before is not None and type(cache) is dict and len(cache) != len(before):
            for added in [name for name in cache if name not in before]:
                del cache[added]
        touched = own.keys() != state.keys() or any(own[k] is not v for k, v in state.items())
        if touched:
            own.clear()
            own.update(state)
    if touched:
        return False
    try:
        return hash_value(computed) == hash_value(entry)
    except UnhashableValue:
        return False


_left_out_of: weakref.WeakKeyDictionary[type, LeftOut] = weakref.WeakKeyDictionary()


def _left_out(cls: type) -> LeftOut:
    """What of ``cls``'s instances is not part of their value:

    * ``functools.cached_property`` members: an instance's ``__dict__`` keeps their values
      once read, which is a cache of the instance, not more of its state;
    * the same for statsmodels' read-only cached attributes (``cache_readonly``), kept in
      a dict attribute (``_cache``): reading ``res.bse`` fills it, and a results object
      read that way would otherwise count as changed, and every cell reading it after a
      restart as missing. Entries no such descriptor names stay;
    * entries of statsmodels' writable cached attributes (``cache_writable``:
      ``res.scale``) while they hold what the attribute computes: a read keeps them, and
      users may assign them (:func:`_as_computed`);
    * ``_parents`` of matplotlib's transforms: who depends on a transform, keyed by the
      dependents' memory addresses (a figure hashed as another value in every process).
    """
    found = _left_out_of.get(cls)
    if found is None:
        names = set()
        properties = set()
        caches: dict[str, set[str]] = {}
        writable: dict[str, dict[str, Callable[[Any], Any]]] = {}
        seen: set[str] = set()
        for klass in cls.__mro__:
            if _is_transform_node(klass):
                names.add("_parents")
            for name, member in vars(klass).items():
                if isinstance(member, functools.cached_property):
                    properties.add(name)
                elif (cache := _read_only_cache_of(member)) is not None:
                    caches.setdefault(cache, set()).add(name)
                elif name not in seen and (cache := _writable_cache_of(member)) is not None:
                    writable.setdefault(cache, {})[name] = member.fget
                seen.add(name)
        in_caches = tuple(
            (attr, frozenset(caches.get(attr, ())), tuple(sorted(writable.get(attr, {}).items())))
            for attr in sorted(caches.keys() | writable.keys())
        )
        found = _left_out_of[cls] = LeftOut(
            frozenset(names | properties), in_caches, frozenset(properties)
        )
    return found


def cache_entries(
    value: Any, every: bool = False, through: bool = True
) -> Iterator[tuple[tuple[str, ...], Any, Any]]:
    """The cached attributes ``value`` holds now (see :func:`_left_out`), each as the
    attributes leading from ``value`` to the dict keeping it (none: its own ``__dict__``,
    as ``functools.cached_property`` keeps it; ``("_cache",)`` for statsmodels' read-only
    caches; ``("_results", "_cache")`` through the wrapper statsmodels hands out), its
    name and its value: ``fit.doubled`` read once, ``res._cache["resid"]``. With
    ``every``, each entry of the dicts keeping them too, whatever keeps it there
    (statsmodels' writable cached attributes: ``res._cache["scale"]``). Not ``through``,
    only ``value``'s own (not those of the object it hands out the attributes of)."""
    own = getattr(value, "__dict__", None)
    if type(own) is not dict:
        return
    kind = type(value)
    left = _left_out(kind)
    for name in sorted(left.properties & own.keys()):
        yield (), name, own[name]
    for attribute, entries, _ in left.in_caches:
        cache = own.get(attribute)
        if type(cache) is dict and (entries or every):
            for name in list(cache) if every else sorted(entries & cache.keys()):
                yield (attribute,), name, cache[name]
    delegate = _delegating_attribute(kind)
    if through and delegate is not None and delegate in own:
        for kept_in, name, entry in cache_entries(own[delegate], every):
            yield (delegate, *kept_in), name, entry


def _delegating_attribute(kind: type) -> str | None:
    """The attribute ``kind``'s instances hold the object they delegate to in (see
    :data:`_DELEGATING`); None for a class that does not delegate."""
    return next(
        (to for k in kind.__mro__ if (to := _DELEGATING.get((k.__module__, k.__name__)))), None
    )


def delegate_of(value: Any) -> tuple[str, Any] | None:
    """The attribute of ``value`` holding the object it hands out the attributes of, and
    that object (``("_results", res._results)`` for a statsmodels results wrapper); None
    for a value that hands out its own."""
    attribute = _delegating_attribute(type(value))
    own = getattr(value, "__dict__", None)
    if attribute is None or type(own) is not dict or attribute not in own:
        return None
    return attribute, own[attribute]


_DELEGATING = {("statsmodels.base.wrapper", "ResultsWrapper"): "_results"}
"""Classes whose instances hand out the attributes of another object they hold, by the
attribute holding it: ``res.resid`` of a fitted statsmodels model is ``res._results``'s."""


def keeps_caches(cls: type) -> bool:
    """Whether ``cls``'s instances may keep cached attributes (see :func:`cache_entries`)."""
    left = _left_out(cls)
    return bool(left.properties or left.in_caches or _delegating_attribute(cls))


def cache_attributes(cls: type) -> frozenset[str]:
    """The attributes of ``cls``'s instances holding what their digest leaves out (see
    :func:`_left_out`): cache dicts, read-only or writable, and cached properties."""
    left = _left_out(cls)
    return left.names | {attribute for attribute, _, _ in left.in_caches}


def caches_of(cls: type) -> frozenset[str]:
    """The attributes of ``cls``'s instances that hold caches (see :func:`_left_out`): what
    an instance holds there now, another equal to it may not hold."""
    left = _left_out(cls)
    return left.names | {attribute for attribute, entries, _ in left.in_caches if entries}


_READ_ONLY_CACHING = frozenset(
    {
        ("statsmodels.tools._decorators", "cache_readonly"),
        ("statsmodels.tools._decorators", "CachedAttribute"),
        ("statsmodels.tools.decorators", "CachedAttribute"),  # statsmodels before 0.15
        ("pandas._libs.properties", "CachedProperty"),  # what statsmodels used before
    }
)


_WRITABLE_CACHING = frozenset(
    {
        ("statsmodels.tools._decorators", "CachedWritableAttribute"),
        ("statsmodels.tools.decorators", "CachedWritableAttribute"),  # before 0.15
    }
)


def _writable_cache_of(member: Any) -> str | None:
    """The dict attribute a writable caching descriptor (statsmodels' ``cache_writable``)
    keeps its values in, when statsmodels itself defines the function computing them
    (hashing calls it: see :func:`_as_computed`); None for any other class member (a
    user's own ``cache_writable`` attribute: its entries count, whatever they hold)."""
    kind = type(member)
    if (kind.__module__, kind.__name__) not in _WRITABLE_CACHING:
        return None
    cache = getattr(member, "cachename", None)
    fget = getattr(member, "fget", None)
    if not (isinstance(cache, str) and callable(fget)):
        return None
    return cache if str(getattr(fget, "__module__", "")).startswith("statsmodels.") else None


def _read_only_cache_of(member: Any) -> str | None:
    """The dict attribute a read-only caching descriptor keeps its values in (None for any
    other class member): ``_cache`` unless it names another."""
    kind = type(member)
    if (kind.__module__, kind.__name__) not in _READ_ONLY_CACHING:
        return None
    cache = getattr(member, "cachename", None)
    return cache if isinstance(cache, str) else "_cache"


def _is_callback_registry(klass: type) -> bool:
    return klass.__name__ == "CallbackRegistry" and klass.__module__ == "matplotlib.cbook"


def _callback_registry_reduced(value: Any) -> tuple[Any, ...]:
    """A matplotlib ``CallbackRegistry`` as pickle keeps it, read without its
    ``__getstate__``, which draws the next number from the registry's counter of
    connections: hashing a figure through it changed the figure, and its digest, each time
    (a cell only reading ``ax.get_title()`` counted as changing ``ax``; found by the
    fourteenth corpus). The counter is left out: it numbers connections yet to be made."""
    left_out = ("_cid_gen", "_func_cid_map", "callbacks")
    state = {name: item for name, item in vars(value).items() if name not in left_out}
    kept: set[int] = getattr(value, "_pickled_cids", set())
    state["callbacks"] = {
        signal: {cid: proxy() for cid, proxy in proxies.items() if cid in kept}
        for signal, proxies in getattr(value, "callbacks", {}).items()
    }
    return (_NEWOBJ, (type(value),), state)


def _is_transform_node(klass: type) -> bool:
    return klass.__name__ == "TransformNode" and klass.__module__ == "matplotlib.transforms"


def _class_identity(cls: type) -> bytes:
    """A library class by name (its package version counts where code uses it); a user class
    by its code, so an instance of an edited class is a different value."""
    from hitnb.hashing.code import class_code_fingerprint, is_user_code

    if is_user_code(cls):
        return class_code_fingerprint(cls)
    return qualified_name(cls).encode()


# -- encoders for exact builtin types ------------------------------------------------------
def _none(h: ValueHasher, v: None) -> None:
    h.frame(b"N")


def _bool(h: ValueHasher, v: bool) -> None:
    h.frame(b"T" if v else b"F")


def _int(h: ValueHasher, v: int) -> None:
    h.frame(b"i", str(v).encode() if v.bit_length() > 62 else v.to_bytes(8, "little", signed=True))


def _float(h: ValueHasher, v: float) -> None:
    h.frame(b"f", _NAN if math.isnan(v) else _pack_double(v))


def _complex(h: ValueHasher, v: complex) -> None:
    h.frame(b"c", b"".join(_NAN if math.isnan(x) else _pack_double(x) for x in (v.real, v.imag)))


def _str(h: ValueHasher, v: str) -> None:
    h.text(b"s", v)


def _bytes(h: ValueHasher, v: bytes | bytearray) -> None:
    h.frame(b"b", v)


def _memoryview(h: ValueHasher, v: memoryview) -> None:
    data = v if v.c_contiguous else v.tobytes()
    h.raw_buffer(b"m", f"{v.format}|{v.shape}", data, v.nbytes)


def _plain(h: ValueHasher, v: list[Any] | tuple[Any, ...] | dict[Any, Any], tag: bytes) -> bool:
    """Frame a long container of plain data by its pickle (:mod:`hitnb.hashing.plain`);
    False when it is short or not plain data."""
    if len(v) < PACK_MIN:
        return False
    encoded = plain_encoding(v)
    if encoded is None:
        return False
    h.frame(b"K", tag)
    h.raw(encoded)
    return True


def _numpy_scalars(h: ValueHasher, v: list[Any] | tuple[Any, ...], tag: bytes) -> bool:
    """Frame a long container of numpy scalars of one type (``list(zip(ids, scores))``'s
    columns, records built from array elements) as the array they make, whose bytes are
    theirs: walked, they cost a microsecond each. False for anything else."""
    kind = type(v[0])
    if kind.__module__ != "numpy" or set(map(type, v)) != {kind}:
        return False
    import numpy as np

    if not issubclass(kind, np.number | np.bool_ | np.datetime64 | np.timedelta64):
        return False
    array = np.array(v, dtype=v[0].dtype)
    h.frame(b"KN", tag + array.dtype.str.encode())
    h.raw(_buffer_digest(array))
    return True


def _sequence_of(h: ValueHasher, v: list[Any] | tuple[Any, ...], tag: bytes) -> None:
    """A list or tuple: by its pickle when long and plain data, column by column when long
    records that are not, else item by item."""
    if len(v) >= PACK_MIN and not holds_twice(v) and h.may_pack(v):  # (see hitnb.hashing.shared)
        if not h.enter(v):
            return
        packed = _plain(h, v, tag) or pack_records(h, v, tag) or _numpy_scalars(h, v, tag)
        h.leave(v)
        if packed:
            h.packed_whole(v)
            return
    h.sequence(tag, v, len(v), v)


def _tuple(h: ValueHasher, v: tuple[Any, ...]) -> None:
    _sequence_of(h, v, b"t")


def _list(h: ValueHasher, v: list[Any]) -> None:
    _sequence_of(h, v, b"l")


def _dict(h: ValueHasher, v: dict[Any, Any]) -> None:
    """A dict, in its insertion order: iteration follows it, and so does every value built
    by iterating (a DataFrame's columns), so two orders are two values."""
    if not h.enter(v):
        return
    if not (len(v) >= PACK_MIN and (holds_twice(v) or not h.may_pack(v))) and _plain(h, v, b"d"):
        h.packed_whole(v)
    else:
        h.frame(b"d", str(len(v)).encode())
        if len(v) >= PACK_MIN:  # keys, then values: each list packs when it can
            h.update_child("[*keys]", list(v))
            h.update_child("[*]", list(v.values()))
        else:
            for key, item in v.items():
                h.update_child(f"[{key!r}]", key)
                h.update_child(f"[{key!r}]", item)
    h.leave(v)


def _state(h: ValueHasher, state: dict[Any, Any]) -> None:
    """An object's attributes, in any order: the order attributes were set in (a cache
    filled in the order it was read) is not part of an object's value."""
    if len(state) >= PACK_MIN:
        if not h.enter(state):
            return
        packed = pack_mapping(h, state)
        h.leave(state)
        if packed:
            return
    h.unordered(b"d", state.items(), state, pairs=True)


def _set(h: ValueHasher, v: set[Any] | frozenset[Any]) -> None:
    kind = b"S" if type(v) is set else b"Z"
    if not pack_set(h, v, kind):
        h.unordered(kind, v, v, pairs=False)


def _range(h: ValueHasher, v: range) -> None:
    h.frame(b"r", f"{v.start},{v.stop},{v.step}".encode())


def _slice(h: ValueHasher, v: slice) -> None:
    h.frame(b"x")
    h.update((v.start, v.stop, v.step))


def _type(h: ValueHasher, v: type) -> None:
    from hitnb.hashing.code import class_fingerprint

    h.frame(b"y", class_fingerprint(v))


def _function(h: ValueHasher, v: Any) -> None:
    from hitnb.hashing.code import function_fingerprint

    h.frame(b"u", function_fingerprint(v))
    if v.__defaults__ or v.__kwdefaults__:
        # A function's own defaults are values, not code: two functions made by one factory
        # differ only there, and assigning __defaults__ changes what a call does.
        h.update_child(".__defaults__", (v.__defaults__, v.__kwdefaults__))


def _wraps_user_code(value: Any) -> bool:
    """Whether ``value`` is a callable wrapping the user's code (``@hitnb.memo``,
    ``functools.lru_cache``, a decorator object made with ``functools.wraps``, toolz's
    ``curry``): pickle knows it by its name alone, so its key would not change with its
    code."""
    from hitnb.hashing.code import is_user_code

    if not callable(value):
        return False
    try:
        wrapped = _wrapped(value)
        return wrapped is not None and is_user_code(inspect.unwrap(wrapped))
    except Exception:  # a cycle of __wrapped__, a proxy whose __getattr__ raises
        return False


def _known_by_name_only(value: Any) -> bool:
    """Whether pickle refuses ``value`` or names it alone (by a global name, or a loader
    given only names: ``_memoized_at(module, name)``): a wrapper whose state pickle writes
    (a class-based decorator's ``self.factor``) is hashed by it, as any object."""
    try:
        reduced = value.__reduce_ex__(5)
    except Exception:
        return True
    if isinstance(reduced, str):
        return True
    return (
        isinstance(reduced, tuple)
        and len(reduced) == 2
        and all(isinstance(a, str) for a in reduced[1])
    )


def _wrapped(value: Any) -> Any:
    """What ``value`` wraps: its ``__wrapped__``, or a curried function's ``func``."""
    wrapped = getattr(value, "__wrapped__", None)
    if wrapped is None and type(value).__module__.partition(".")[0] in ("toolz", "cytoolz"):
        wrapped = getattr(value, "func", None)
    return wrapped


def _wrapper(h: ValueHasher, v: Any) -> None:
    """A wrapper of the user's code: its class, and the code it wraps hashed as code (with
    what that code reads), where pickle names it (a cell calling a ``@memo`` function hit
    after its body, a helper or a global it reads changed); a curried function's arguments
    too."""
    h.frame(b"w", _class_identity(type(v)))
    h.update_child(".__wrapped__", _wrapped(v))
    for name in ("args", "keywords", "_self_wrapper", "_self_instance"):  # (wrapt's own)
        held = getattr(v, name, None)
        if held is not None and (name.startswith("_self") or not callable(held)):
            h.update_child(f".{name}", held)


def _builtin(h: ValueHasher, v: Any) -> None:
    owner = getattr(v, "__self__", None)
    if owner is not None and not isinstance(owner, types.ModuleType):
        if not _library_method(h, v):
            h.text(b"M", getattr(v, "__qualname__", v.__name__))
            h.update_child(".__self__", owner)
    else:
        h.text(b"B", qualified_name(v))


def _method(h: ValueHasher, v: types.MethodType) -> None:
    if _library_method(h, v):
        return
    h.frame(b"M")
    h.update_child(".__func__", v.__func__)
    h.update_child(".__self__", v.__self__)


def _library_method(h: ValueHasher, v: Any) -> bool:
    """A method a library module binds by name (``numpy.random.randn``), hashed as that name
    of that library version; its generator's state is ambient state, not part of it."""
    from hitnb.hashing.code import library_method, package_version

    named = library_method(v)
    if named is None:
        return False
    dist, version = package_version(type(v.__self__))
    h.text(b"N", f"{named[0]}.{named[1]}@{dist}={version}")
    return True


def _module(h: ValueHasher, v: types.ModuleType) -> None:
    from hitnb.hashing.code import module_fingerprint

    h.frame(b"Q", module_fingerprint(v))


_CHANGEABLE = frozenset({list, dict, set})
"""Containers whose identity a walk records (see ``ValueHasher._seen``); objects hashed
through pickle's protocol and dict subclasses are recorded where they are hashed."""

_EXACT: dict[type, Encoder] = {
    type(None): _none,
    bool: _bool,
    int: _int,
    float: _float,
    complex: _complex,
    str: _str,
    bytes: _bytes,
    bytearray: _bytes,
    memoryview: _memoryview,
    tuple: _tuple,
    list: _list,
    dict: _dict,
    set: _set,
    frozenset: _set,
    range: _range,
    slice: _slice,
    type: _type,
    types.FunctionType: _function,
    types.BuiltinFunctionType: _builtin,
    types.MethodType: _method,
    types.ModuleType: _module,
}


# -- encoders by kind, for subclasses and library types -------------------------------------
def _enum(h: ValueHasher, v: enum.Enum) -> None:
    h.text(b"E", f"{qualified_name(type(v))}.{v.name}")


def _namedtuple_or_tuple(h: ValueHasher, v: tuple[Any, ...]) -> None:
    h.text(b"T", qualified_name(type(v)))
    h.sequence(b"t", v, len(v), v)


def _dict_subclass(h: ValueHasher, v: dict[Any, Any]) -> None:
    if not h.met_again(v):
        return
    h.text(b"D", qualified_name(type(v)))
    if isinstance(v, OrderedDict):
        h.sequence(b"o", list(v.items()), len(v), v)
    else:
        h.unordered(b"d", v.items(), v, pairs=True)
    if isinstance(v, defaultdict):
        h.update_child(".default_factory", v.default_factory)
    state = getattr(v, "__dict__", None)
    if state and not _mirrors(state, v):
        h.update_state(state)


def _mirrors(state: dict[str, Any], mapping: dict[Any, Any]) -> bool:
    """Whether an object's ``__dict__`` is its own items: a Bunch (statsmodels' Dataset) is
    its own ``__dict__``, and unpickled it holds a copy of them, which must hash the same."""
    if state is mapping:
        return True
    if len(state) != len(mapping):
        return False
    return all(mapping.get(key, _ABSENT) is value for key, value in state.items())


_ABSENT = object()


def _type_subclass(h: ValueHasher, v: type) -> None:
    _type(h, v)


_BY_KIND: list[tuple[type | tuple[type, ...], Encoder]] = [
    (enum.Enum, _enum),
    (type, _type_subclass),
    (tuple, _namedtuple_or_tuple),
    (dict, _dict_subclass),
    ((types.BuiltinMethodType, types.WrapperDescriptorType, types.MethodDescriptorType), _builtin),
]


# -- array libraries, looked up by the value's top-level module, so none is imported here ----
def _numpy(h: ValueHasher, v: Any) -> bool:
    import numpy as np

    fresh, h._fresh = h._fresh, False
    if isinstance(v, np.ndarray):
        if not fresh and not h.met_again(v):  # `[a, a]` is not `[a, a.copy()]`
            return True
        kind = type(v)
        if kind is not np.ndarray and kind is not np.memmap:
            _array_subclass(h, v, np)
            return True
        if v.dtype.hasobject:
            h.frame(b"a", f"O|{v.shape}".encode())
            h.update_child(".flat", v.ravel(order="C").tolist())
            return True
        _plain_array(h, v)
        return True
    if isinstance(v, np.generic):
        h.frame(b"g", f"{v.dtype.str}|".encode() + v.tobytes())
        return True
    if isinstance(v, np.dtype):
        h.text(b"7", str(v.descr))
        return True
    return False


def _plain_array(h: ValueHasher, v: Any) -> None:
    """An ``ndarray`` of fixed-size items: its dtype, shape and memory."""
    dtype = repr(v.dtype.descr) if v.dtype.fields else v.dtype.str
    if v.flags.f_contiguous and not v.flags.c_contiguous:  # Fortran order: its memory
        h.frame(b"A", f"{dtype}|{v.shape}|F".encode() + _buffer_digest(v.T))
    else:
        h.frame(b"A", f"{dtype}|{v.shape}".encode() + _buffer_digest(v))


def _array_subclass(h: ValueHasher, v: Any, np: Any) -> None:
    """An array of a subclass (a masked array, a matrix, a user's subclass): its class, its
    values as a plain array, what the class adds (a masked array's mask and fill value),
    and any attributes it carries. Never the same key as the plain array of its values."""
    h.frame(b"S", _class_identity(type(v)))
    h.update_child(".data", v.view(np.ndarray))
    if isinstance(v, np.ma.MaskedArray):  # its attributes hold flags of how it was made
        h.update_child(".mask", np.ma.getmaskarray(v))
        h.update_child(".fill_value", np.asarray(v.fill_value))
        h.update_child(".hardmask", bool(v.hardmask))
    elif isinstance(getattr(v, "__dict__", None), dict) and v.__dict__:
        h.update_state(v.__dict__)


_frozen_digests: dict[int, tuple[weakref.ref[Any], bytes]] = {}


def _buffer_digest(array: Any) -> bytes:
    """xxh3_128 of an array's bytes in C order: one pass over memory, no copy if contiguous
    (a Fortran-ordered array comes here transposed, so its memory is hashed as it lies:
    gathering it into C order cost ten times as much as hashing it).

    Arrays whose memory cannot change (read-only all the way down to an immutable buffer,
    like the memory maps ``@memo(mmap=True)`` returns) are hashed once per object.
    """
    import numpy as np

    frozen = _is_frozen(array)
    if frozen:
        cached = _frozen_digests.get(id(array))
        if cached is not None and cached[0]() is array:
            return cached[1]
    if array.flags.c_contiguous:
        flat: Any = array.reshape(-1).view(np.uint8)
        digest: bytes = xxhash.xxh3_128_digest(flat)
    else:
        digest = _gathered_digest(array)
    if frozen:
        key = id(array)
        _frozen_digests[key] = (
            weakref.ref(array, lambda _: _frozen_digests.pop(key, None)),
            digest,
        )
    return digest


_GATHER_BYTES = 1 << 18


def _gathered_digest(array: Any) -> bytes:
    """xxh3_128 of a strided array's bytes in C order, gathered a few rows at a time into a
    small copy that stays in the CPU cache (a full copy costs twice as much)."""
    import numpy as np

    hasher = xxhash.xxh3_128()  # a strided array has rows (a 0-d or empty one is contiguous)
    rows = max(1, _GATHER_BYTES // max(array[0].nbytes, 1))
    for start in range(0, array.shape[0], rows):
        piece: Any = np.ascontiguousarray(array[start : start + rows])
        hasher.update(piece.reshape(-1).view(np.uint8))
    return hasher.digest()


_WRITEABLE = 0x0400
"""numpy's ``NPY_ARRAY_WRITEABLE`` flag bit."""


def _writeable(array: Any) -> bool:
    """``array.flags.writeable``, read from the flag bits: numpy warns when that property is
    read on a view ``np.broadcast_arrays`` made ("future versions will not create a writeable
    array"), and the warning showed under the user's cell as if the cell had raised it."""
    flags = array.flags
    bits = getattr(flags, "num", None)
    return bool(bits & _WRITEABLE) if isinstance(bits, int) else bool(flags.writeable)


def _is_frozen(array: Any) -> bool:
    """Whether no one can write to the array's memory: every array down the chain is read-only
    (numpy refuses to make such views writable) and the buffer at the bottom is immutable,
    and none is a map of a file the user opened (``np.load(path, mmap_mode="r")``), which
    ``np.save`` to that path rewrites under it; hitnb's own maps of its store are frozen."""
    import numpy as np

    node = array
    while isinstance(node, np.ndarray):
        if node.base is None or _writeable(node):  # an owner can be made writable again
            return False
        if isinstance(node, np.memmap):  # a file another writer may rewrite in place
            return False
        node = node.base
    try:
        return memoryview(node).readonly
    except TypeError:
        return False


def _pandas(h: ValueHasher, v: Any) -> bool:
    import pandas as pd

    fresh, h._fresh = h._fresh, False
    if isinstance(v, pd.DataFrame | pd.Series) and not fresh and not h.met_again(v):
        return True  # (indexes, which cannot change, are not noted)
    if isinstance(v, pd.DataFrame):
        h.frame(b"PF", str(v.shape).encode())
        h.update_child(".columns", v.columns)
        h.update_child(".index", v.index)
        _frame_columns(h, v)
        _pandas_extras(h, v)
        return True
    if isinstance(v, pd.Series):
        h.frame(b"PS")
        h.update_child(".name", v.name)
        h.update_child(".index", v.index)
        _pandas_values(h, v, ".values")
        _pandas_extras(h, v)
        return True
    if isinstance(v, pd.MultiIndex):
        h.frame(b"PM", str(v.nlevels).encode())
        h.update_child(".names", list(v.names))
        for level in range(v.nlevels):
            _pandas_values(h, v.get_level_values(level), f".levels[{level}]")
        return True
    if isinstance(v, pd.RangeIndex):  # by its bounds: its values would be made to hash them
        h.frame(b"PR", f"{v.start}|{v.stop}|{v.step}".encode())
        h.update_child(".name", v.name)
        return True
    if isinstance(v, pd.Index):
        h.frame(b"PI")
        h.update_child(".name", v.name)
        _pandas_values(h, v, ".values")
        freq = getattr(v, "freq", None)
        if freq is not None and not isinstance(v, pd.PeriodIndex):  # a period's is its dtype
            h.text(b"Pq", freq.freqstr)
        return True
    return False


def _frame_columns(h: ValueHasher, frame: Any) -> None:
    """Each column's values, as :func:`_pandas_values` hashes the column's Series.

    A column of plain numbers is read as pandas stores it (``_get_column_array``, where
    pandas has it) and framed as that function frames it, without making the Series:
    ``iloc`` and the generic dispatch cost 50 us a column, which a wide frame (a state-space
    model's 100 states) paid a hundred times over its bytes."""
    import numpy as np

    stored: Callable[[int], Any] | None = getattr(frame, "_get_column_array", None)
    if _registered(np.ndarray) is not None:
        stored = None  # a hasher registered for arrays: every column through its Series
    names: dict[Any, str] = {}  # numpy's str() of a dtype takes 5 us
    for i in range(frame.shape[1]):
        column = stored(i) if stored is not None else None
        if type(column) is np.ndarray and not column.dtype.hasobject:
            dtype = column.dtype
            name = names.get(dtype)
            if name is None:
                name = names[dtype] = _dtype_text(dtype)
            h.text(b"Pd", name)
            _plain_array(h, column)
        else:
            _pandas_values(h, frame.iloc[:, i], f".iloc[:, {i}]")


def _pandas_extras(h: ValueHasher, v: Any) -> None:
    """What a frame or series carries beside its data: attrs, and the duplicate-labels flag."""
    if v.attrs:
        h.update_child(".attrs", v.attrs)
    if not v.flags.allows_duplicate_labels:
        h.frame(b"Pl")


def _dtype_text(dtype: Any) -> str:
    """A dtype as text that tells apart what str() does not (string[python] from pyarrow)."""
    import numpy as np

    return str(dtype) if isinstance(dtype, np.dtype) else repr(dtype)


def _pandas_values(h: ValueHasher, data: Any, label: str) -> None:
    """Hash the values of a Series or Index by dtype and buffer, never by pickling."""
    import numpy as np
    import pandas as pd

    dtype = data.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        # Categories in their order, the ordered flag, then the codes: the same labels under
        # another category order rank differently, so they are another value.
        categorical = data.array
        h.text(b"Pc", "ordered" if dtype.ordered else "unordered")
        h.update_child(label + ".categories", dtype.categories)
        h.update_fresh(label + ".codes", np.asarray(categorical.codes))
        return
    h.text(b"Pd", _dtype_text(dtype))
    if isinstance(dtype, np.dtype):
        if dtype.hasobject:  # Python objects: a list, which packs when it is plain data
            h.update_fresh(label, data.tolist())
        else:
            h.update_fresh(label, np.asarray(data))
        return
    _extension_values(h, data.array, label)


def _extension_values(h: ValueHasher, array: Any, label: str) -> None:
    """The values of a pandas extension array, from its buffers where pandas exposes them."""
    import numpy as np
    import pandas as pd

    dtype = array.dtype
    if isinstance(dtype, pd.DatetimeTZDtype | pd.PeriodDtype):
        h.update_fresh(label, np.asarray(array.asi8))  # UTC instants / period ordinals
        return
    if dtype.name in _MASKED_DTYPES:
        h.update_fresh(label + ".isna", np.asarray(array.isna()))
        filler = False if dtype.name == "boolean" else 0
        h.update_fresh(label, array.to_numpy(dtype=dtype.numpy_dtype, na_value=filler))
        return
    if hasattr(array, "__arrow_array__"):
        try:
            import pyarrow as pa
        except ImportError:
            pa = None
        if pa is not None:
            chunked = array.__arrow_array__()
            if isinstance(chunked, pa.Array):
                chunked = pa.chunked_array([chunked])
            if pa.types.is_string(chunked.type) or pa.types.is_large_string(chunked.type):
                _arrow_strings(h, chunked)
            else:
                _pyarrow(h, chunked)
            return
    h.update_fresh(label, list(array))


_MASKED_DTYPES = {f"{p}{n}" for p in ("Int", "UInt") for n in (8, 16, 32, 64)} | {
    "Float32",
    "Float64",
    "boolean",
}


def _arrow_strings(h: ValueHasher, chunked: Any) -> None:
    """Arrow strings straight from their buffers: validity, byte lengths and UTF-8 data.

    Each part streams into its own hasher chunk by chunk, so the digest does not depend on
    how the column is chunked or sliced; null slots count as empty strings plus the mask.
    """
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    validity, lengths, text = xxhash.xxh3_128(), xxhash.xxh3_128(), xxhash.xxh3_128()
    for chunk in chunked.chunks:
        if len(chunk) == 0:
            continue
        if chunk.null_count:
            validity.update(np.asarray(chunk.is_valid()).view(np.uint8).tobytes())
            chunk = pc.fill_null(chunk, "")
        else:
            validity.update(b"\1" * len(chunk))
        width = np.int64 if pa.types.is_large_string(chunk.type) else np.int32
        offsets = np.frombuffer(chunk.buffers()[1], dtype=width)
        offsets = offsets[chunk.offset : chunk.offset + len(chunk) + 1]
        lengths.update(np.diff(offsets).astype("<i8").tobytes())
        data = chunk.buffers()[2]
        if data is not None:
            text.update(memoryview(data)[int(offsets[0]) : int(offsets[-1])])
    h.frame(b"Ws", str(len(chunked)).encode())
    h.raw(validity.digest() + lengths.digest() + text.digest())


def _pyarrow(h: ValueHasher, v: Any) -> bool:
    import pyarrow as pa

    if isinstance(v, pa.Array | pa.ChunkedArray):
        v = pa.table({"_": v})
    elif isinstance(v, pa.RecordBatch):
        v = pa.Table.from_batches([v])
    if not isinstance(v, pa.Table):
        return False
    sink = pa.BufferOutputStream()
    table = v.combine_chunks()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    buf = sink.getvalue()
    h.raw_buffer(b"W", "arrow-ipc", buf, buf.size)
    return True


def _torch(h: ValueHasher, v: Any) -> bool:
    import torch

    if not isinstance(v, torch.Tensor):
        return False
    t = v.detach().cpu().contiguous()
    data = t.reshape(-1).view(torch.uint8).numpy()
    h.raw_buffer(b"X", f"{t.dtype}|{tuple(t.shape)}", data, data.nbytes)
    return True


_BY_MODULE: dict[str, Callable[[ValueHasher, Any], bool]] = {
    "numpy": _numpy,
    "pandas": _pandas,
    "pyarrow": _pyarrow,
    "torch": _torch,
}


def _scalar_frame(value: Any) -> bytes | None:
    """The frame of a small scalar, as ValueHasher would write it, or None for other values."""
    kind = type(value)
    if kind is int and value.bit_length() <= 62:
        number: int = value
        return b"i" + _EIGHT + number.to_bytes(8, "little", signed=True)
    if kind is str and len(value) < 256:
        text: str = value
        data = text.encode("utf-8", "surrogatepass")
        return b"s" + _pack_len(len(data)) + data
    if kind is float:
        return b"f" + (_pack_len(3) + _NAN if math.isnan(value) else _EIGHT + _pack_double(value))
    return None


_EIGHT = _pack_len(8)


_limit = threading.local()


@contextlib.contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Within the block, hashing a value whose object graph takes longer than ``seconds`` to
    walk raises :class:`UnhashableValue`: for callers that hash only to save time later
    (a figure's artists can take a second to walk)."""
    outer = getattr(_limit, "deadline", None)
    deadline = time.perf_counter() + seconds
    _limit.deadline = deadline if outer is None else min(deadline, outer)
    try:
        yield
    finally:
        _limit.deadline = outer


def digest_value(value: Any) -> bytes:
    """Binary xxh3_128 digest of one value (16 bytes) under the rules of this module."""
    frame = _scalar_frame(value)
    if frame is not None:
        return xxhash.xxh3_128_digest(frame)
    digest = walk_digest(ValueHasher(), value)
    return digest_deep(value) if digest is None else digest


def walk_digest(h: ValueHasher, value: Any) -> bytes | None:
    """``h``'s digest of ``value``, or None when it is nested too deeply for this stack.

    A failure inside the walk is the refusal it amounts to: the value is not keyed, and
    whoever asked says why (a cell runs uncached), instead of the caller failing with it."""
    try:
        h.update(value)
    except RecursionError:
        return None
    except UnhashableValue:
        raise
    except Exception as exc:  # a library object that breaks a rule the walk relies on
        reason = f"hashing it failed with {type(exc).__name__}: {exc}"
        raise UnhashableValue(type(value).__qualname__, reason, "".join(h._path)) from exc
    return h.digest()


_ATOMS = frozenset({int, float, complex, str, bytes, bool, type(None), tuple, frozenset, range})


class _ReachingHasher(ValueHasher):
    """A hasher that also keeps every object its walk passes through, scalars aside."""

    __slots__ = ("_met",)

    def __init__(
        self,
        met: dict[int, Any],
        _active: dict[int, int] | None = None,
        _done: dict[int, tuple[Any, bytes]] | None = None,
        _seen: dict[int, tuple[Any, int]] | None = None,
    ) -> None:
        super().__init__(_active, _done, _seen)
        self._met = met

    def update(self, value: Any) -> None:
        if type(value) not in _ATOMS:
            self._met[id(value)] = value
        super().update(value)

    def packed_whole(self, value: Any) -> None:
        for held in held_elsewhere(value):  # what a name may share in it (`r0 = rows[0]`)
            self._met[id(held)] = held

    def _child(self) -> ValueHasher:
        return _ReachingHasher(self._met, self._active, self._done, self._seen)


def hash_reaching(value: Any) -> tuple[str, dict[int, Any]]:
    """:func:`hash_value`, and the objects the walk went through (``value`` itself among
    them), by id: what ``value`` holds, so what else may share it. The digest is the one
    :func:`hash_value` gives. Objects inside a long container of plain data (hashed whole
    by its pickle) are reported when something besides their container may hold them
    (:data:`~hitnb.hashing.shared.held_elsewhere`); values nested too deeply for one walk
    are not."""
    if _scalar_frame(value) is not None:
        return hash_value(value), {}
    met: dict[int, Any] = {}
    digest = walk_digest(_ReachingHasher(met), value)
    if digest is None:
        return digest_deep(value).hex(), {id(value): value}
    return digest.hex(), met


def digest_deep(value: Any, hasher: Callable[[], ValueHasher] = ValueHasher) -> bytes:
    """Hash a value nested deeper than the interpreter's recursion limit allows: the same
    encoder (a fresh ``hasher()``) runs again on a deep stack (:mod:`hitnb.deep`), so a
    10,000-level list hashes like any other; beyond :data:`~hitnb.deep.DEEP_FRAMES` the
    value is refused by name rather than crashing the interpreter."""

    def work() -> bytes:
        h = hasher()
        h.update(value)
        return h.digest()

    try:
        return on_a_deep_stack(work, "hitnb-deep-hash")
    except RecursionError:
        raise UnhashableValue(
            type(value).__qualname__,
            f"nested too deeply to hash (more than {DEEP_FRAMES:,} Python frames, "
            "tens of thousands of levels); flatten it or register_hasher(...) for it",
        ) from None


def hash_value(value: Any) -> str:
    """Hex form of :func:`digest_value`: the digest hitnb shows and stores per argument."""
    frame = _scalar_frame(value)
    if frame is not None:
        return xxhash.xxh3_128_hexdigest(frame)
    return digest_value(value).hex()
