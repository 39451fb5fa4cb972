"""Memoized functions under IPython's ``%autoreload``.

autoreload updates the functions and classes of a reloaded module in place, so a name
imported from it (``from utils import load``) runs the new code. A ``@hitnb.memo`` function
is neither: the imported name kept the old wrapper, which went on running, and serving
from the store, the old code, silently, while ``utils.load`` used the new. A rule of our
own makes autoreload update an old wrapper from the new one.
"""

from __future__ import annotations

from typing import Any

from hitnb.core.memo import MemoizedFunction


def _both_memoized(old: Any, new: Any) -> bool:
    return isinstance(old, MemoizedFunction) and isinstance(new, MemoizedFunction)


def _take_over(old: Any, new: Any) -> None:
    """Make the old wrapper the new one: its function, settings and caches."""
    old.__dict__.update(new.__dict__)


def follow_autoreload() -> None:
    """Add the rule to autoreload's, once (IPython without the extension: nothing)."""
    try:
        from IPython.extensions import autoreload
    except ImportError:
        return
    rules = getattr(autoreload, "UPDATE_RULES", None)
    if isinstance(rules, list) and not any(rule[1] is _take_over for rule in rules):
        rules.append((_both_memoized, _take_over))
