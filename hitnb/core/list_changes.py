"""What a run did to a list state (the warnings filters, ``sys.path``), to do again on a hit.

A hit used to set such a list to the whole list its run left. With a filter added since in a
cell above (``warnings.filterwarnings("ignore")`` before ``import numpy``), the hit of the
import cell put back the list stored without it, and every later cell replayed the warnings
the filter was added to silence. What a run does to these lists is put entries first
(``filterwarnings``, which takes an equal filter out first; ``sys.path.insert(0, ...)``),
put them last (``append``, which leaves a filter already there where it is) or take them
out; a :class:`ListChange` says that much, and :func:`made` does it again on the list a hit
finds. A change that says more (entries put between others, or every entry replaced:
``resetwarnings()``, ``sys.path[:] = ...``) is kept as the whole list, as before.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple


class ListChange(NamedTuple):
    """How a run changed a list: entries it put first, entries it put last, entries it
    took out."""

    first: tuple[Any, ...]
    last: tuple[Any, ...]
    gone: tuple[Any, ...]


def change(before: Sequence[Any], after: Sequence[Any]) -> ListChange | None:
    """How ``after`` came from ``before``, with as few entries put first as can say it;
    None when putting entries first (new ones, or ones moved there) and last (new ones) and
    taking some out does not say it, or when nothing of ``before`` is left."""
    gone = tuple(entry for entry in before if entry not in after)
    if before and len(gone) == len(before):
        return None  # everything replaced: the whole list is what the run left
    for start in range(len(after) + 1):
        first = after[:start]
        rest = list(after[start:])
        end = len(rest)
        while end and rest[end - 1] not in before:
            end -= 1
        kept = [entry for entry in before if entry not in first and entry not in gone]
        if rest[:end] == kept:
            return ListChange(tuple(first), tuple(rest[end:]), gone)
    return None


def made(found: Sequence[Any], done: ListChange) -> list[Any]:
    """``found`` with ``done`` done again: what it took out is taken out, its first entries
    go first (taken out where else they are), and its last entries go last unless they are
    there already."""
    middle = [entry for entry in found if entry not in done.gone and entry not in done.first]
    return [*done.first, *middle, *(entry for entry in done.last if entry not in middle)]


def applied(found: Sequence[Any], state: Sequence[Any] | ListChange) -> list[Any]:
    """The list a hit leaves for a stored ``state``: its change done again on ``found``, or,
    a change kept as the whole list, that list."""
    return made(found, state) if isinstance(state, ListChange) else list(state)
