"""What a run did to a list state (the warnings filters, ``sys.path``), to do again on a hit.

A hit used to set such a list to the whole list its run left. With a filter added since in a
cell above (``warnings.filterwarnings("ignore")`` before ``import numpy``), the hit of the
import cell put back the list stored without it, and every later cell replayed the warnings
the filter was added to silence. What a run does to these lists is put entries first
(``filterwarnings``, ``sys.path.insert(0, ...)``), put them last (``append``) or take them
out; a :class:`ListChange` says that much, and :func:`made` does it again on the list a hit
finds. A change that says more (entries reordered, or put between others) is kept as the
whole list, as before.
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
    """How ``after`` came from ``before``; None when putting entries first and last and
    taking some out does not say it."""
    kept = [entry for entry in after if entry in before]
    if kept != [entry for entry in before if entry in after]:
        return None  # reordered
    if not kept:
        return ListChange(tuple(after), (), tuple(before))
    start = after.index(kept[0])
    end = start + len(kept)
    if list(after[start:end]) != kept:
        return None  # put between entries it found
    gone = tuple(entry for entry in before if entry not in after)
    return ListChange(tuple(after[:start]), tuple(after[end:]), gone)


def made(found: Sequence[Any], done: ListChange) -> list[Any]:
    """``found`` with ``done`` done again: what it took out, and the entries it put first
    or last found elsewhere, are taken out; then its entries go first and last."""
    moved = (*done.gone, *done.first, *done.last)
    return [*done.first, *(entry for entry in found if entry not in moved), *done.last]
