"""Whether a value of plain data holds one list or dict in two places.

Long lists and dicts of plain data are hashed by their pickle, written without a memo, and
records column by column (:mod:`hitnb.hashing.plain`, :mod:`hitnb.hashing.packed`): neither
says that two places hold one object. ``[[0] * 3] * 3`` and ``[[0] * 3 for _ in range(3)]``
hashed alike, and a cell changing the grid in place (``grid[0][0] = 1``: one row or three)
replayed the other's result. A value that holds one list or dict twice is walked instead,
and the walk records where it meets an object again (``ValueHasher.met_again``).

The look is written in C (``_shared.c``, built with the package); without a compiler it is
this module's Python, which does the same, more slowly.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from typing import Any


def _lists_and_dicts(value: Any) -> Iterator[tuple[Any, bool]]:
    """Each list and dict in ``value`` (a list, tuple or dict), ``value`` among them, with
    whether it was met before; what one met again holds is not looked through again."""
    met: set[int] = set()
    todo = [value]
    while todo:
        obj = todo.pop()
        kind = type(obj)
        if kind is list or kind is dict:
            again = id(obj) in met
            yield obj, again
            if again:
                continue
            met.add(id(obj))
        if kind is dict:
            todo.extend(obj.values())
        elif kind is list or kind is tuple:
            todo.extend(obj)


def _in_python(value: Any) -> bool:
    """Whether ``value`` (a list, tuple or dict) holds one list or dict in two places."""
    return any(again for _, again in _lists_and_dicts(value))


def _held_in_python(value: Any) -> list[Any]:
    """Every list and dict in ``value`` (a list, tuple or dict), ``value`` among them, each
    once: what C narrows to those another object may hold too, Python cannot tell."""
    return [obj for obj, again in _lists_and_dicts(value) if not again]


def _compiled(name: str) -> Any:
    """The function ``name`` of ``_shared.c``, or None when the package was installed
    without a C compiler. Imported by name: a compiled module has no source for
    import-linter to read."""
    try:
        module = importlib.import_module("hitnb.hashing._shared")
    except ImportError:
        return None
    return getattr(module, name)


holds_twice: Callable[[Any], bool] = _compiled("holds_twice") or _in_python
"""Whether a list, tuple or dict holds one list or dict in two places."""

held_elsewhere: Callable[[Any], list[Any]] = _compiled("held_elsewhere") or _held_in_python
"""The lists and dicts in a list, tuple or dict (itself among them) that an object besides
their container may hold too (a name: ``r0 = rows[0]``), each once. A value hashed whole
by its pickle is not walked, so what it holds is found this way for
:func:`hitnb.hashing.values.hash_reaching`."""


__all__ = ["held_elsewhere", "holds_twice"]
