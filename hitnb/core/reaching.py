"""What a value a cell changed holds, as its pickle reaches it.

A name sharing an object with a value a cell changed in place sees the change (see
:func:`hitnb.core.cells.sharing_names`); stored and restored together, the two are one
object again only where pickle writes one object. So the objects that count are the ones
the value's pickle reaches. Found by pickling the value to nowhere (see
:func:`hitnb.store.codecs.walk_pickled`), which is pickle's own C walk: a hit checking the
names sharing a statsmodels results object paid 11 ms for the hash walk, which also
digests every array it passes, where this costs about 2.

Arrays of numbers and long containers of plain data are not looked into: nothing in them
is an object a name could share, but for the lists and dicts inside plain data
(``r0 = rows[0]``), which :data:`~hitnb.hashing.shared.held_elsewhere` finds in C. A value
pickle refuses (a lambda inside, a lock) is walked by the hasher instead
(:func:`~hitnb.hashing.values.hash_reaching`), as before.
"""

from __future__ import annotations

import sys
from typing import Any

from hitnb.hashing.packed import PACK_MIN
from hitnb.hashing.plain import plain_encoding
from hitnb.hashing.shared import held_elsewhere
from hitnb.hashing.values import hash_reaching
from hitnb.store.codecs import walk_pickled

_NOT_KEPT = frozenset({int, float, complex, str, bytes, bool, type(None), tuple, frozenset, range})
"""Types met but not kept: no change in place reaches them (a tuple's items are met)."""


def objects_reached(value: Any) -> dict[int, Any]:
    """The objects ``value``'s pickle reaches, ``value`` among them, by id (immutable ones
    aside); raises :class:`~hitnb.hashing.values.UnhashableValue` for a value neither pickle
    nor the hasher can walk."""
    met: dict[int, Any] = {id(value): value}
    numpy = sys.modules.get("numpy")
    array = numpy.ndarray if numpy is not None else None

    def visit(obj: Any) -> bool:
        kind = type(obj)
        long = (kind is list or kind is dict or kind is tuple) and len(obj) >= PACK_MIN
        if long and plain_encoding(obj) is not None:  # plain data: its lists and dicts
            met.update((id(held), held) for held in held_elsewhere(obj) if type(held) is not tuple)
            if kind is not tuple:
                met[id(obj)] = obj
            return True
        if kind in _NOT_KEPT:
            return False
        met[id(obj)] = obj
        return kind is array and not obj.dtype.hasobject

    try:
        walk_pickled(value, visit)
    except Exception:
        met.clear()
        met.update(hash_reaching(value)[1])
        met[id(value)] = value
    return met
