"""Packed encodings of long containers that are not plain data throughout.

Plain data (lists, tuples and dicts of scalars and strings) hashes by its pickle
(:mod:`hitnb.hashing.plain`). What is left would cost a Python call per element; these
encodings hash it column by column instead, each column a list that is plain data again:

* a list of records (dicts with the same str keys in one order) with a column that is
  not plain data (numpy scalars, dates): the keys in their order, then one column per key;
* an object's attributes (str or int names): the names sorted, so the order they were set
  in never counts, then the values in that order;
* a set of str or of ints: its elements sorted.

Each frame starts with ``L`` and a letter naming the encoding, so a packed value never
reads like another value, and which encoding a value gets depends only on the value.
Everything here is the standard library, so ``import hitnb`` stays cheap.
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hitnb.hashing.values import ValueHasher

PACK_MIN = 8
"""Containers shorter than this keep the per-element encoding (packing has a fixed cost)."""


def pack_records(h: ValueHasher, items: list[Any] | tuple[Any, ...], kind: bytes) -> bool:
    """Hash a list (``kind`` b"l") or tuple (b"t") of records column by column; False when
    it is not a long sequence of dicts with the same str keys in one order."""
    if len(items) < PACK_MIN or set(map(type, items)) != {dict}:
        return False
    first = list(items[0])
    if not all(type(k) is str for k in first) or set(map(len, items)) != {len(first)}:
        return False
    columns = _columns_in_one_order(items, first)
    if columns is None:
        return False
    h.frame(b"LR", kind + str(len(items)).encode())
    h.update(first)
    for key in first:
        h.update_child(f"[*][{key!r}]", columns[key])
    return True


def _columns_in_one_order(items: Any, first: list[str]) -> dict[str, list[Any]] | None:
    """Columns read in one sequential pass, when every dict lists its keys in one order."""
    width, count = len(first), len(items)
    keys = list(itertools.chain.from_iterable(items))
    for position, key in enumerate(first):
        if keys[position::width].count(key) != count:
            return None
    values = list(itertools.chain.from_iterable(map(dict.values, items)))
    return {key: values[position::width] for position, key in enumerate(first)}


def pack_mapping(h: ValueHasher, mapping: dict[Any, Any]) -> bool:
    """An object's attributes (str keys, or int keys): sorted keys packed, then the values
    in that order."""
    if len(mapping) < PACK_MIN:
        return False
    keys = list(mapping)
    types = set(map(type, keys))
    if types != {str} and types != {int}:
        return False
    values = list(mapping.values())
    order = sorted(range(len(keys)), key=keys.__getitem__)
    h.frame(b"LD", str(len(keys)).encode())
    h.update(list(map(keys.__getitem__, order)))
    h.update_child("[*]", list(map(values.__getitem__, order)))
    return True


def pack_set(h: ValueHasher, items: set[Any] | frozenset[Any], kind: bytes) -> bool:
    """A set of str (or of ints): its elements sorted, then packed."""
    if len(items) < PACK_MIN:
        return False
    types = set(map(type, items))
    if types != {str} and types != {int}:
        return False
    h.frame(b"LS", kind)
    h.update(sorted(items))
    return True
