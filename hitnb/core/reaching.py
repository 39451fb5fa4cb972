"""What a value a cell changed holds, as its pickle reaches it.

A name sharing an object with a value a cell changed in place sees the change (see
:func:`hitnb.core.cells.sharing_names`); stored and restored together, the two are one
object again only where pickle writes one object. So the objects that count are the ones
the value's pickle reaches. Found by pickling the value to nowhere (see
:func:`hitnb.store.codecs.walk_pickled`), which is pickle's own C walk: a hit checking the
names sharing a statsmodels results object paid 11 ms for the hash walk, which also
digests every array it passes, where this costs about 2.

Where pickle does not go, or goes too far, the walk is steered as the hasher is:

* a function is not pickled; the notebook's own (and lambdas, local functions) are
  followed into their defaults and closures, which a call changes (``def record(e,
  sink=log)``), as the hash walk went;
* a type with a hasher the user registered is followed into what that hasher gives;
* arrays of numbers, long containers of plain data and dtypes are not looked into: nothing
  in them is an object a name could share, but for the lists and dicts inside plain data
  (``r0 = rows[0]``), which :data:`~hitnb.hashing.shared.held_elsewhere` finds in C; and
  dtypes, ``pd.NA`` and ``pd.NaT`` are singletons every frame holds, shared by design, not
  by a name;
* a value pickle refuses (a lock, a generator) is walked by the hasher instead
  (:func:`~hitnb.hashing.values.hash_reaching`), which refuses what it cannot walk.
"""

from __future__ import annotations

import sys
import types
from typing import Any

from hitnb.hashing.packed import PACK_MIN
from hitnb.hashing.plain import plain_encoding
from hitnb.hashing.shared import held_elsewhere, holds_twice
from hitnb.hashing.values import hash_reaching, registered_hasher
from hitnb.store.codecs import walk_pickled

_ATOMS = frozenset({int, float, complex, str, bytes, bool, type(None), range})
_NOT_KEPT = frozenset({tuple, frozenset})
"""Met, and looked into, but not kept: no change in place reaches them."""
_SINGLETONS = frozenset({"NAType", "NaTType"})


def objects_reached(value: Any) -> dict[int, Any]:
    """The objects ``value``'s pickle reaches, ``value`` among them, by id (immutable ones
    aside); raises :class:`~hitnb.hashing.values.UnhashableValue` for a value neither pickle
    nor the hasher can walk."""
    return _Reach().of(value)


class _Reach:
    """One walk: the objects kept (``met``), those passed over (``passed``, held so their
    ids stay theirs), and the values still to walk (``pending``)."""

    def __init__(self) -> None:
        self.met: dict[int, Any] = {}
        self.passed: dict[int, Any] = {}
        self.pending: list[Any] = []
        numpy = sys.modules.get("numpy")
        self.array = numpy.ndarray if numpy is not None else ()
        self.dtype = numpy.dtype if numpy is not None else ()

    def of(self, value: Any) -> dict[int, Any]:
        self._walk(value, root=True)
        while self.pending:
            self._walk(self.pending.pop(), root=False)
        self.met[id(value)] = value
        return self.met

    def _walk(self, value: Any, root: bool) -> None:
        if type(value) in _ATOMS or id(value) in self.met or id(value) in self.passed:
            return
        try:
            walk_pickled(value, self._visit)
        except Exception:
            reached = hash_reaching(value)[1]  # (raises UnhashableValue for what it cannot walk)
            if root:
                self.met.clear()
                self.pending.clear()
            self.met.update(reached)

    def _visit(self, obj: Any) -> bool:
        """Keep ``obj``; True when pickle is not to look into it."""
        ident = id(obj)
        if ident in self.met or ident in self.passed:
            return True  # walked already (pickle would walk a passed-over container again)
        kind = type(obj)
        if kind in _ATOMS:
            return False
        if kind is types.FunctionType:
            self.met[ident] = obj
            if follows_into(obj):
                self.pending.extend(_held_by_function(obj))
            return True
        hasher = registered_hasher(kind)
        if hasher is not None:
            self.met[ident] = obj
            self.pending.append(hasher(obj))
            return True
        if isinstance(obj, self.dtype) or (
            kind.__module__.partition(".")[0] == "pandas"
            and (kind.__name__ in _SINGLETONS or kind.__name__.endswith("Dtype"))
        ):
            self.passed[ident] = obj
            return True
        if self._plain(obj, kind):
            return True
        if kind in _NOT_KEPT:
            return False
        self.met[ident] = obj
        if isinstance(obj, self.array):
            return not obj.dtype.hasobject or self._plain_items(obj)
        return False

    def _plain(self, obj: Any, kind: type) -> bool:
        """Whether ``obj`` is a long container of plain data, kept (a tuple passed over)
        with the lists and dicts inside it another object may hold."""
        if kind is set or kind is frozenset:
            if len(obj) < PACK_MIN or plain_encoding(list(obj)) is None:
                return False
        elif kind is list or kind is dict or kind is tuple:
            if len(obj) < PACK_MIN or holds_twice(obj) or plain_encoding(obj) is None:
                return False
            self.met.update((id(held), held) for held in held_elsewhere(obj))
        else:
            return False
        if kind in _NOT_KEPT:
            self.met.pop(id(obj), None)
            self.passed[id(obj)] = obj
        else:
            self.met[id(obj)] = obj
        return True

    def _plain_items(self, array: Any) -> bool:
        """Whether an object array holds only plain data (strings, numbers), keeping the
        lists and dicts among them another object may hold: pickle would meet each item."""
        items = array.tolist()
        if holds_twice(items) or plain_encoding(items) is None:
            return False
        self.met.update((id(held), held) for held in held_elsewhere(items) if held is not items)
        return True


def follows_into(code: Any) -> bool:
    """Whether :func:`objects_reached` walks into what ``code`` holds: a function of the
    notebook, or one local to another (a lambda); not a library's function, nor a class,
    a method or another callable, whose holdings the walk does not see."""
    return type(code) is types.FunctionType and (
        code.__module__ == "__main__" or "<" in code.__qualname__
    )


def _held_by_function(function: types.FunctionType) -> list[Any]:
    """What a function of the notebook holds that a call may change: its defaults, what
    it closes over, and its own attributes (pickle writes the function by name, or dill
    copies it)."""
    held: list[Any] = list(function.__defaults__ or ())
    held += (function.__kwdefaults__ or {}).values()
    held += vars(function).values()
    for cell in function.__closure__ or ():
        try:
            held.append(cell.cell_contents)
        except ValueError:  # not bound yet
            continue
    return held
