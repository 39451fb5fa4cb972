"""Library class counters: whole-number attributes of the classes whose objects runs produce.

Libraries number what they make in a class attribute: python-control names each system
``sys[N]`` from ``InputOutputSystem._idCounter``, SymPy numbers each ``Dummy`` from
``Dummy._count``. A hit brings the objects back, numbered, but a class attribute is no
output, so the counter stayed where it was: the next system made in that session was named
as one the hit had brought back, not as the uncached run would have named it.

The classes of what a run produced (its result, a cell's outputs, and the items of those
that are lists, tuples, sets or dicts) are watched from then on, with every attribute of
theirs that holds an ``int``. They make one ambient state (see :mod:`hitnb.core.ambient`),
a mapping from ``module:Class.attribute`` to its value: an attribute a run changed is an
effect, set again by a hit, and, for a run that started from a known value, a read too: the
hit is allowed only while the attribute is where the stored run found it (the numbers it
gave out are in the stored objects). A class first watched after the run that produced its
objects has no earlier value, so that run's hit sets the attribute without a check, as it
sets a library imported during the run.

Attributes that never change (most of them) cost a dict lookup per snapshot.
"""

from __future__ import annotations

import contextlib
import importlib
import sys
import weakref
from collections.abc import Iterable, Iterator
from typing import Any

from hitnb.core.ambient import REMOVED, StateProvider, register_state

NAME = "library class counters"
_ITEMS_LOOKED_AT = 16
"""Of a list, tuple, set or dict among the produced values, the items whose classes are
watched: enough for ``[ct.ss(...) for _ in range(3)]``, cheap for a million floats."""

_watched: dict[str, tuple[type, str]] = {}
"""``module:Class.attribute`` -> (the class, the attribute)."""
_looked_at: weakref.WeakSet[type] = weakref.WeakSet()


def watch_classes_of(values: Iterable[Any]) -> None:
    """Watch the classes of ``values`` (and of their items, for containers)."""
    for value in values:
        for item in _with_items(value):
            for cls in type(item).__mro__:
                if cls not in _looked_at:
                    _look_at(cls)


def _with_items(value: Any) -> Iterator[Any]:
    yield value
    if isinstance(value, dict):
        items: Iterable[Any] = value.values()
    elif isinstance(value, list | tuple | set | frozenset):
        items = value
    else:
        return
    for count, item in enumerate(items):
        if count == _ITEMS_LOOKED_AT:
            return
        yield item


def _look_at(cls: type) -> None:
    with contextlib.suppress(TypeError):  # no weak reference: looked at every time
        _looked_at.add(cls)
    module = getattr(cls, "__module__", None)
    qualname = getattr(cls, "__qualname__", "")
    if not isinstance(module, str) or module in ("builtins", "__main__") or "<" in qualname:
        return  # notebook classes are checked as code (see hitnb.core.cells)
    if module.partition(".")[0] == "hitnb":
        return
    for attribute, value in vars(cls).items():
        if type(value) is int:
            _watched[f"{module}:{qualname}.{attribute}"] = (cls, attribute)


def _state() -> dict[str, Any]:
    return {key: vars(cls).get(attribute) for key, (cls, attribute) in _watched.items()}


def _know(keys: Iterable[str]) -> None:
    """Watch the attributes a stored run names, finding their classes by name (importing
    their modules, as the run did)."""
    for key in keys:
        if key in _watched:
            continue
        found = _resolve(key)
        if found is not None:
            _watched[key] = found


def _resolve(key: str) -> tuple[type, str] | None:
    module_name, _, path = key.partition(":")
    qualname, _, attribute = path.rpartition(".")
    try:
        target: Any = sys.modules.get(module_name) or importlib.import_module(module_name)
        for part in qualname.split("."):
            target = getattr(target, part)
    except Exception:  # the class went away (another version of its library)
        return None
    return (target, attribute) if isinstance(target, type) else None


def _set(state: dict[str, Any]) -> None:
    _know(state)
    for key, value in state.items():
        found = _watched.get(key)
        if found is None or value == REMOVED or type(value) is not int:
            continue
        cls, attribute = found
        if vars(cls).get(attribute) != value:
            try:
                setattr(cls, attribute, value)
            except (TypeError, AttributeError):  # a class of C that cannot be set
                continue


register_state(
    StateProvider(
        NAME,
        "sys",
        _state,
        _set,
        reads=True,
        know=_know,
        fingerprint=lambda state: repr(sorted(state.items())).encode(),
    )
)
