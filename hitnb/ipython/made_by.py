"""Which memoized cell made the object each name holds, in this session.

A hit restores a cell's outputs from that cell's record alone: two objects that cells
restored by different records shared in the session that ran them (a model, and the
results another cell fitted from it, holding its index) come back with copies of their
own. A later cell that changed one of them in place, stored when they shared, keeps the
name sharing it as a shared output; finding it not sharing now, its hit could be an edit
(``model = {"w": w}`` made ``{"w": w.copy()}``: restored together, ``w`` would be bound to
the model's array, one object where a plain run leaves two) or only that separation.
The keys of the cells that made both objects tell the two apart: the same cells, with
the same code and inputs, as when the record was made, made them sharing then, and so
would a plain run now (see ``_sharing_unmet`` in :mod:`hitnb.ipython.memo_cell`).

An object is noted with the key of the cell that bound it or changed it in place, as long
as its name holds it; rebound by any other cell, the name has no maker.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

_UNBOUND = object()


class MadeBy:
    """For each name a memoized cell bound or changed, the object and the cell's key."""

    def __init__(self) -> None:
        self._made: dict[str, tuple[Any, str]] = {}

    def note(self, namespace: dict[str, Any], names: Iterable[str], key: str) -> None:
        """The cell ``key`` made what ``names`` hold now; names holding other objects
        than were noted for them are forgotten (not kept alive by this)."""
        made = self._made
        for name in [n for n, (obj, _) in made.items() if namespace.get(n, _UNBOUND) is not obj]:
            del made[name]
        for name in names:
            if name in namespace:
                made[name] = (namespace[name], key)

    def key_of(self, namespace: dict[str, Any], name: str) -> str | None:
        """The key of the cell that made what ``name`` holds, if a memoized cell did."""
        found = self._made.get(name)
        return found[1] if found is not None and namespace.get(name, _UNBOUND) is found[0] else None


_sessions: dict[int, MadeBy] = {}


def made_by(shell: Any) -> MadeBy:
    """The record of ``shell``'s session."""
    found = _sessions.get(id(shell))
    if found is None:
        found = _sessions[id(shell)] = MadeBy()
    return found


def forget_session(shell: Any) -> None:
    _sessions.pop(id(shell), None)
