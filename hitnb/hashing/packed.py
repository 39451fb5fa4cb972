"""Packed encodings: a long list, tuple, dict or set of plain data as a few buffers.

Hashing ``[0, 1, ..., 999_999]`` one frame per element costs a Python call per element
(about 0.5 s). When every element is of one scalar type the sequence is instead packed
by C loops (``array``, ``str.join``, ``map``) into a handful of buffers fed to xxh3, and
lists of records (dicts with the same keys) or of short lists are hashed column by column
the same way. The encodings stay type-tagged and canonical:

* each packed frame starts with ``L`` and a letter naming the element type, then the
  count, so a packed list never reads like another value or another type's packing;
* which encoding a value gets depends only on the value (its length and element types),
  never on the order it was built in or on which libraries are installed;
* a dict's keys are sorted (str or int keys only; other dicts keep the order-free digest
  encoding of :mod:`hitnb.hashing.values`), so insertion order never counts;
* floats pack as IEEE-754 bits with every NaN made one NaN, as single floats hash.

Everything here is the standard library, so ``import hitnb`` stays cheap.
"""

from __future__ import annotations

import itertools
import operator
import struct
import sys
from array import array
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hitnb.hashing.values import ValueHasher

PACK_MIN = 8
"""Sequences shorter than this keep the per-element encoding (packing has a fixed cost)."""

_NAN = struct.unpack("<d", bytes.fromhex("000000000000f87f"))[0]
_BIG_ENDIAN = sys.byteorder == "big"
_NONE = type(None)
_SCALAR_KINDS = {_NONE: b"n", bool: b"b", int: b"i", float: b"f", str: b"s", bytes: b"y"}
_is_none = operator.is_
_is_not_none = operator.is_not


def _little(values: array[Any]) -> array[Any]:
    if _BIG_ENDIAN:
        values.byteswap()
    return values


def pack_sequence(h: ValueHasher, items: list[Any] | tuple[Any, ...], kind: bytes) -> bool:
    """Hash a list (``kind`` b"l") or tuple (b"t") packed; False when it does not pack."""
    if len(items) < PACK_MIN:
        return False
    types = set(map(type, items))
    if len(types) == 1:
        (element,) = types
        if element in _SCALAR_KINDS:
            return _pack_scalars(h, kind, items, element)
        if element is dict:
            return _pack_records(h, kind, items)
        if element is list or element is tuple:
            return _pack_nested(h, kind, items, element)
        return False
    if len(types) == 2 and _NONE in types:
        (element,) = types - {_NONE}
        if element in _SCALAR_KINDS:
            return _pack_optional(h, kind, items, element)
    return False


def _pack_scalars(h: ValueHasher, kind: bytes, items: Any, element: type) -> bool:
    """Elements all of one scalar type: one frame for the whole sequence."""
    letter = _SCALAR_KINDS[element]
    buffers = _scalar_buffers(items, element)
    if buffers is None:
        return False
    h.frame(b"L" + letter, kind + str(len(items)).encode())
    for buffer in buffers:
        h.raw(buffer)
    return True


def _scalar_buffers(items: Any, element: type) -> list[Any] | None:
    """The packed buffers of a sequence of one scalar type, or None if it cannot pack."""
    if element is _NONE:
        return []
    if element is bool:
        return [bytes(items)]
    if element is int:
        try:
            return [_little(array("q", items))]
        except OverflowError:  # beyond int64: per-element frames keep exactness
            return None
    if element is float:
        total = sum(items)
        if total != total or total in (float("inf"), float("-inf")):  # NaN or inf present
            items = [x if x == x else _NAN for x in items]
        return [_little(array("d", items))]
    if element is str:
        joined = "\0".join(items)
        if joined.count("\0") != len(items) - 1:  # a string holds NUL: lengths frame it
            data = "".join(items).encode("utf-8", "surrogatepass")
            return [_little(array("q", map(len, items))), data]
        return [b"\0", joined.encode("utf-8", "surrogatepass")]
    if element is bytes:
        joined_bytes = b"\0".join(items)
        if joined_bytes.count(b"\0") != len(items) - 1:
            return [_little(array("q", map(len, items))), b"".join(items)]
        return [b"\0", joined_bytes]
    return None


def _pack_optional(h: ValueHasher, kind: bytes, items: Any, element: type) -> bool:
    """One scalar type and None (a JSON column with gaps): a None mask, then the rest packed."""
    mask = bytes(map(_is_none, itertools.repeat(None, len(items)), items))
    present = list(itertools.compress(items, map(_is_not_none, itertools.repeat(None), items)))
    buffers = _scalar_buffers(present, element)
    if buffers is None:
        return False
    h.frame(b"L?" + _SCALAR_KINDS[element], kind + str(len(items)).encode())
    h.raw(mask)
    for buffer in buffers:
        h.raw(buffer)
    return True


def _pack_records(h: ValueHasher, kind: bytes, items: Any) -> bool:
    """Dicts that all have the same str keys: the sorted keys, then one column per key."""
    first = list(items[0])
    if not all(type(k) is str for k in first) or set(map(len, items)) != {len(first)}:
        return False
    columns = _columns_in_one_order(items, first)
    if columns is None:
        try:  # same size and every key of the first present: the same key set, any order
            columns = {key: list(map(operator.itemgetter(key), items)) for key in first}
        except KeyError:
            return False
    keys = sorted(first)
    h.frame(b"LR", kind + str(len(items)).encode())
    h.update(keys)
    for key in keys:
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


def _pack_nested(h: ValueHasher, kind: bytes, items: Any, element: type) -> bool:
    """Short lists (or tuples) of scalars, e.g. a tags column: lengths, then all elements."""
    flat = list(itertools.chain.from_iterable(items))
    types = set(map(type, flat))
    if len(types) > 1 or not types <= _SCALAR_KINDS.keys():
        return False
    (inner,) = types or {_NONE}
    buffers = _scalar_buffers(flat, inner)
    if buffers is None:
        return False
    lengths = _little(array("q", map(len, items)))
    inner_kind = b"l" if element is list else b"t"
    h.frame(b"LN" + inner_kind + _SCALAR_KINDS[inner], kind + str(len(items)).encode())
    h.raw(lengths)
    for buffer in buffers:
        h.raw(buffer)
    return True


def pack_mapping(h: ValueHasher, mapping: dict[Any, Any]) -> bool:
    """A dict with str keys (or int keys): sorted keys packed, then the values in that order."""
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
