"""The digest of a value apart from some objects it holds.

A cell that changes a value in place changes it for every name sharing an object with it,
and a hit restores those names as the run left them (see
:func:`hitnb.core.cells.sharing_names`). The key covers what the cell's inputs held as the
run began, not what else a sharing name holds: ``cfg = {"opt": opt, "seed": 0}`` edited to
``seed: 1`` keys a cell changing ``opt`` alike. So the record keeps each sharing name's
digest with the objects the changed values reach, and the inputs, written as marks (the
input's name, or the object's type), and a hit compares it with the digest of what the
name holds now: the same, and the restored name is what a plain run would leave.

A numpy array viewing one of those objects' memory is written as the mark of the array
it views and where in its memory it looks (``head = arr[:3]``); a pandas value over such
memory (``pd.Series(x, copy=False)``) by its labels and, block by block, the marks of its
arrays. Such views are taken as the marked array's only while they view its memory:
pickled, each comes back with memory of its own, and a view holding what it held then is
as a plain run would find it. So the record also keeps the digest with the views written
as their values (:meth:`Marks.views_as_values`), which a hit falls back to. Long
containers holding one of the objects are walked, not hashed whole by their pickle, so the
object is met where it is.
"""

from __future__ import annotations

import sys
from typing import Any

from hitnb.hashing.packed import PACK_MIN
from hitnb.hashing.shared import held_elsewhere
from hitnb.hashing.values import ValueHasher, digest_deep, walk_digest


class Marks:
    """The objects a digest is taken apart from (``reached``, by id), each written as a
    mark: the name of the input it is (``names``), else its type. Not its place in a walk:
    what a run adds to an object (a results object's cache) moves every object met after
    it, and the digest taken after the run must match the one a hit takes before it."""

    __slots__ = ("_memory", "_met", "_owners", "marks", "outside", "reached", "viewed", "views")

    def __init__(self, reached: dict[int, Any], names: dict[int, str]) -> None:
        self.reached = reached
        self.marks = {
            ident: names.get(ident) or f"{type(obj).__module__}.{type(obj).__qualname__}"
            for ident, obj in reached.items()
        }
        self._memory: dict[int, list[tuple[str, int, int, int]]] | None = None
        self.views = True
        """Whether what views a marked array's memory is written as a mark, not its value."""
        self.viewed = False
        """Whether a digest taken with these marks wrote such a view as a mark."""
        self.outside = False
        """Whether, with views written as values, an array met views memory a marked
        array holds, or one the value digested does not hold (see :meth:`memory_outside`)."""
        self._met: set[int] = set()
        self._owners: set[int] = set()

    def views_as_values(self) -> Marks:
        """The same marks, with what views a marked array's memory written as its value:
        the digest of a value whose views came back apart from the arrays they viewed
        (pickled, a frame's block and ``arr = df.values`` hold a copy each)."""
        other = Marks({}, {})
        other.reached, other.marks, other.views = self.reached, self.marks, False
        return other

    def note_memory(self, arrays: list[Any]) -> None:
        """Note where the memory of numpy arrays a digest writes as values lies."""
        numpy = sys.modules["numpy"]
        for array in arrays:
            self._met.add(id(array))
            owner = memory_owner(array)
            if owner is not array and isinstance(owner, numpy.ndarray):
                self._owners.add(id(owner))
                self.outside = self.outside or id(owner) in self.reached

    def memory_outside(self) -> bool:
        """Whether an array a digest with views as values wrote views memory a marked
        array holds, or an array the value does not hold (``head = other[:3]``): then a
        value equal to what a view held is no copy standing for it after a restart."""
        return self.outside or not self._owners <= self._met

    def in_memory(self, array: Any) -> tuple[str, int] | None:
        """The mark of the marked array whose memory holds all of ``array``'s, and where
        ``array`` starts in it; None when no marked array holds it. Compared by memory,
        not by ``base``: unpickled, a frame's block views a buffer a view of it views too
        (``arr = df.values``), where in the run that made them ``arr`` viewed the block."""
        if self._memory is None:
            self._memory = {}
            numpy = sys.modules.get("numpy")
            for ident, obj in self.reached.items():
                if numpy is not None and isinstance(obj, numpy.ndarray) and obj.size:
                    low, high = byte_bounds(obj)
                    place = (self.marks[ident], low, high, data_start(obj))
                    self._memory.setdefault(id(memory_owner(obj)), []).append(place)
        if not array.size:
            return None
        low, high = byte_bounds(array)
        for mark, first, last, start in self._memory.get(id(memory_owner(array)), ()):
            if first <= low and high <= last:
                return mark, data_start(array) - start
        return None


def hash_apart(value: Any, marks: Marks) -> str:
    """The digest of ``value`` with each object of ``marks`` written as its mark (one met
    again, as where it was met first); raises
    :class:`~hitnb.hashing.values.UnhashableValue` for a value it cannot hash."""
    digest = walk_digest(_ApartHasher(marks), value)
    if digest is None:
        digest = digest_deep(value, lambda: _ApartHasher(marks))
    return digest.hex()


class _ApartHasher(ValueHasher):
    """A hasher writing the objects of ``marks`` (and what views their memory) as marks."""

    __slots__ = ("_deeper", "_marks")

    def __init__(
        self,
        marks: Marks,
        _active: dict[int, int] | None = None,
        _done: dict[int, tuple[Any, bytes]] | None = None,
        _seen: dict[int, tuple[Any, int]] | None = None,
    ) -> None:
        super().__init__(_active, _done, _seen)
        self._marks = marks
        self._deeper: Any = None
        """The long container :meth:`_long` found marked objects below its items in, which
        the base hasher asks about next (:meth:`may_pack`): walked, not packed."""

    def update(self, value: Any) -> None:
        marks = self._marks.marks
        mark = marks.get(id(value))
        if mark is not None:
            if self.met_again(value):
                self.text(b"A", mark)
        elif type(value) in _PACKED and len(value) >= PACK_MIN:
            self._long(value)
        elif not self._viewed(value):
            super().update(value)

    def may_pack(self, value: Any) -> bool:
        return value is not self._deeper

    def _long(self, value: Any) -> None:
        """A long list, tuple or dict: when marked objects are among its items (a table of
        records, ``first = rows[0]`` changed), as a copy holding their marks as strings,
        which packs as plain data does (walked item by item, 10,000 records took 150 ms);
        else as any other (walked, when a marked object lies deeper)."""
        marks = self._marks.marks
        held = [h for h in held_elsewhere(value) if h is not value and id(h) in marks]
        items = value.values() if type(value) is dict else value
        if not held or not {id(h) for h in held} <= {id(item) for item in items}:
            self._deeper = value if held else None
            super().update(value)
            return
        if not self.met_again(value):
            return
        marked = [_MARK + marks[id(item)] if id(item) in marks else item for item in items]
        copy = dict(zip(value, marked, strict=True)) if type(value) is dict else type(value)(marked)
        self._fresh = True  # (the copy is no object of the value's)
        super().update(copy)

    def _child(self) -> ValueHasher:
        return _ApartHasher(self._marks, self._active, self._done, self._seen)

    def _viewed(self, value: Any) -> bool:
        """Frame a numpy array viewing a marked array's memory, or a pandas value over
        such memory; False for anything else."""
        numpy = sys.modules.get("numpy")
        if numpy is None:
            return False
        if isinstance(value, numpy.ndarray):
            if not self._marks.views:
                self._marks.note_memory([value])
                return False
            return self._array_view(value)
        if type(value).__module__.partition(".")[0] != "pandas":
            return False
        blocks = getattr(getattr(value, "_mgr", None), "blocks", None)
        if not self._marks.views:
            arrays = [b.values for b in blocks or () if isinstance(b.values, numpy.ndarray)]
            self._marks.note_memory(arrays)
            return False
        if not blocks or not any(
            isinstance(block.values, numpy.ndarray) and self._marks.in_memory(block.values)
            for block in blocks
        ):
            return False
        self.text(b"AP", type(value).__qualname__)
        self.update_child(".index", value.index)
        if hasattr(value, "columns"):
            self.update_child(".columns", value.columns)
        else:
            self.update_child(".name", value.name)
        for block in blocks:
            self.update_child(".blocks", block.mgr_locs.as_array.tolist())
            self.update_child(".blocks", block.values)
        if value.attrs:
            self.update_child(".attrs", value.attrs)
        self._marks.viewed = True
        return True

    def _array_view(self, array: Any) -> bool:
        found = self._marks.in_memory(array)
        if found is None:
            return False
        mark, start = found
        self.text(b"Av", f"{mark}|{start}|{array.dtype.str}|{array.shape}|{array.strides}")
        self._marks.viewed = True
        return True


_PACKED = frozenset({list, tuple, dict})
_MARK = "\x00hitnb apart "


def memory_owner(array: Any) -> Any:
    """What holds a numpy array's memory at the end of its chain of bases (an array owning
    its memory, or a buffer: bytes, a memory view, a memory map)."""
    while True:
        base = array.base
        if base is None:
            return array
        if type(base).__module__.partition(".")[0] != "numpy":
            return base
        array = base


def byte_bounds(array: Any) -> tuple[int, int]:
    """The first and one past the last address of a numpy array's memory (numpy's own
    ``byte_bounds``, moved to ``numpy.lib.array_utils`` in numpy 2)."""
    numpy = sys.modules["numpy"]
    bounds: tuple[int, int] = getattr(numpy.lib, "array_utils", numpy).byte_bounds(array)
    return bounds


def data_start(array: Any) -> int:
    """The address of a numpy array's first element: the high end of a reversed view's
    memory."""
    return int(array.__array_interface__["data"][0])
