"""What runs change in library classes: the counters they number objects with, and the
members a call adds to them.

Libraries number what they make in a class attribute: python-control names each system
``sys[N]`` from ``InputOutputSystem._idCounter``, SymPy numbers each ``Dummy`` from
``Dummy._count``. A hit brings the objects back, numbered, but a class attribute is no
output, so the counter stayed where it was: the next system made in that session was named
as one the hit had brought back, not as the uncached run would have named it.

And some calls add methods to a library's classes: ``tqdm.pandas()`` gives ``DataFrame``
its ``progress_apply``. A hit of the cell that called it added nothing, and a later cell
calling ``df.progress_apply`` failed with an AttributeError.

The classes of what a run produced (its result, a cell's outputs, and the items of those
that are lists, tuples, sets or dicts) are watched from then on, and pandas' ``DataFrame``,
``Series`` and ``Index`` as soon as pandas is imported. They make two ambient states (see
:mod:`hitnb.core.ambient`), mappings by ``module:Class`` (``.attribute``):

- ``library class counters``: every attribute of theirs that holds an ``int``. One a run
  changed is an effect, set again by a hit, and, for a run that started from a known
  value, a read too: the hit is allowed only while the attribute is where the stored run
  found it (the numbers it gave out are in the stored objects). A class first watched
  after the run that produced its objects has no earlier value, so that run's hit sets the
  attribute without a check, as it sets a library imported during the run.
- ``library class members``: the names each class holds. A hit cannot make a member a run
  added, so it checks for them once the run's imports are made again (an import that
  registers an accessor, ``import hvplot.pandas``, makes them again): a member missing then
  runs the call again (:class:`~hitnb.core.ambient.CannotMake`).

A class that changes nothing costs a dict lookup and a length per snapshot.
"""

from __future__ import annotations

import contextlib
import importlib
import sys
import weakref
from collections.abc import Iterable, Iterator
from typing import Any

from hitnb.core.ambient import (
    REMOVED,
    CannotMake,
    StateProvider,
    first_names,
    register_state,
)

COUNTERS = "library class counters"
MEMBERS = "library class members"
_ITEMS_LOOKED_AT = 16
"""Of a list, tuple, set or dict among the produced values, the items whose classes are
watched: enough for ``[ct.ss(...) for _ in range(3)]``, cheap for a million floats."""
_PANDAS_CLASSES = ("DataFrame", "Series", "Index")
"""Watched from pandas' import on: what ``tqdm.pandas()`` and accessors extend."""

_counters: dict[str, tuple[type, str]] = {}
"""``module:Class.attribute`` -> (the class, the attribute)."""
_classes: dict[str, type] = {}
"""``module:Class`` -> the class, for its members."""
_joining: dict[str, type] = {}
"""Classes watched since the last snapshot of members: they join the next one, so a class
first seen in what a run produced is no change of that run's (its members are what its
module made)."""
_members: dict[str, tuple[int, frozenset[str]]] = {}
"""``module:Class`` -> the number of names its ``__dict__`` held when last looked at, and
those names (named again only when the number moved)."""
_looked_at: weakref.WeakSet[type] = weakref.WeakSet()
_pandas_watched = False


def watch_classes_of(values: Iterable[Any]) -> None:
    """Watch the classes of ``values`` (and of their items, for containers). Never raises:
    a container whose iteration fails is watched by its own classes."""
    for value in values:
        with contextlib.suppress(Exception):
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
    key = _key_of(cls)
    if key is None or _resolve(key, imported=False) is not cls:  # numpy's _FloatAbstractDType
        return
    _joining[key] = cls
    for attribute, value in list(vars(cls).items()):
        if type(value) is int:
            _counters[f"{key}.{attribute}"] = (cls, attribute)


def _key_of(cls: type) -> str | None:
    """``module:Class``, or None for classes not of a library (notebook classes are checked
    as code: see :mod:`hitnb.core.cells`) or not reachable by that name."""
    module = getattr(cls, "__module__", None)
    qualname = getattr(cls, "__qualname__", "")
    if not isinstance(module, str) or module in ("builtins", "__main__") or "<" in qualname:
        return None
    if module.partition(".")[0] == "hitnb":
        return None
    return f"{module}:{qualname}"


def _resolve(key: str, *, imported: bool = True) -> type | None:
    """The class ``module:Class`` names, importing its module as the run did (not with
    ``imported=False``: only a module imported already)."""
    module_name, _, qualname = key.partition(":")
    try:
        target: Any = sys.modules.get(module_name)
        if target is None and imported:
            target = importlib.import_module(module_name)
        for part in qualname.split("."):
            target = getattr(target, part)
    except Exception:  # the class went away (another version of its library)
        return None
    return target if isinstance(target, type) else None


# -- counters ----------------------------------------------------------------------------
def _counter_state() -> dict[str, Any]:
    return {key: vars(cls).get(attribute) for key, (cls, attribute) in list(_counters.items())}


def _know_counters(keys: Iterable[str]) -> None:
    """Watch the attributes a stored run names, finding their classes by name."""
    for key in keys:
        if key in _counters:
            continue
        class_key, _, attribute = key.rpartition(".")
        cls = _resolve(class_key)
        if cls is not None:
            _counters[key] = (cls, attribute)


def _set_counters(state: dict[str, Any]) -> None:
    _know_counters(state)
    for key, value in state.items():
        found = _counters.get(key)
        if found is None or value == REMOVED or type(value) is not int:
            continue
        cls, attribute = found
        if vars(cls).get(attribute) != value:
            with contextlib.suppress(TypeError, AttributeError):  # a class of C: read-only
                setattr(cls, attribute, value)


# -- members -----------------------------------------------------------------------------
def _member_state() -> dict[str, frozenset[str]]:
    global _pandas_watched
    if not _pandas_watched and "pandas" in sys.modules:
        _pandas_watched = True
        for name in _PANDAS_CLASSES:
            cls = getattr(sys.modules["pandas"], name, None)
            if isinstance(cls, type):
                _look_at(cls)
    state = {}
    for key, cls in list(_classes.items()):
        names = vars(cls)
        seen = _members.get(key)
        if seen is None or seen[0] != len(names):
            seen = (len(names), frozenset(n for n in list(names) if not _dunder(n)))
            _members[key] = seen
        state[key] = seen[1]
    while _joining:
        key, cls = _joining.popitem()
        _classes[key] = cls
    return state


def _dunder(name: str) -> bool:
    """Python's own members (``__slotnames__``, which pickling caches in a class, and
    ``__annotations__``, made when read): none a run's call adds."""
    return name.startswith("__") and name.endswith("__")


def _check_members(state: dict[str, Any]) -> None:
    """Raise :class:`~hitnb.core.ambient.CannotMake` when a class lacks a member the run
    left it with (removed members are left alone)."""
    for key, names in sorted(state.items()):
        if names == REMOVED:
            continue
        cls = _classes.get(key) or _joining.get(key) or _resolve(key)
        if cls is None:
            raise CannotMake(f"class {key} is not available here")
        missing = sorted(names - vars(cls).keys())
        if missing:
            raise CannotMake(
                f"the stored run added {first_names(missing)} to class {key}, which a hit "
                "cannot add"
            )


register_state(
    StateProvider(
        COUNTERS,
        "sys",
        _counter_state,
        _set_counters,
        reads=True,
        know=_know_counters,
        fingerprint=lambda state: repr(sorted(state.items())).encode(),
    )
)
register_state(
    StateProvider(
        MEMBERS,
        "sys",
        _member_state,
        _check_members,
        only_checks=True,
        fingerprint=lambda state: repr(sorted((k, sorted(v)) for k, v in state.items())).encode(),
    )
)
