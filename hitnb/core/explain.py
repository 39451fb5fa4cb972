"""Explaining misses: compare a call's key parts with the nearest stored call.

``f.explain(...)`` returns an :class:`Explanation`; in a notebook kernel a miss that
is not just new arguments prints one line with the reason, unless hitnb is quiet.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from hitnb.core.run_files import RunFiles
from hitnb.hashing.differences import differences
from hitnb.hashing.keys import KeyParts
from hitnb.names import display_name
from hitnb.notes import say
from hitnb.store.local import Entry, LocalStore

_NEAREST_AMONG = 200


@dataclass
class Explanation:
    """Why a call would miss (or that it would hit), and the files its stored run read and
    wrote."""

    function: str
    key: str
    cached: bool
    reasons: list[str] = field(default_factory=list)
    compared_with: str | None = None
    """The key of the stored call the reasons compare against."""
    files: RunFiles = field(default_factory=RunFiles)
    """The files read and written by the stored call: this one's when it is stored, else the
    one compared with."""
    stale: str | None = None
    """How the files this call's stored run read differ now ("file data.csv changed"): the
    call is stored, and runs again."""

    @property
    def summary(self) -> str:
        """The verdict in one line, without the files."""
        name = display_name(self.function)
        if self.stale is not None:
            return f"{name}: stored, but {self.stale}; this call runs again"
        if self.cached:
            return f"{name}: stored; this call is a hit"
        if self.compared_with is None:
            return f"{name}: no stored call to compare with"
        return f"{name}: " + "; ".join(self.reasons)

    def __str__(self) -> str:
        return "\n".join([self.summary, *(f"  {line}" for line in self.files.lines())])

    __repr__ = __str__


def _distance(parts: KeyParts, other: KeyParts) -> int:
    total = 0
    for mine, theirs in ((parts.deps, other.deps), (parts.args, other.args)):
        total += sum(mine.get(k) != theirs.get(k) for k in set(mine) | set(theirs))
    mine_x, theirs_x = parts.extras, other.extras
    return total + sum(mine_x.get(k) != theirs_x.get(k) for k in set(mine_x) | set(theirs_x))


def nearest(store: LocalStore, parts: KeyParts) -> Entry | None:
    """The stored call of the same function whose parts differ least (newest on ties)."""
    entries = store.entries(parts.identity, limit=_NEAREST_AMONG)
    return min(entries, key=lambda e: _distance(parts, KeyParts.from_json(e.parts)), default=None)


def explain_call(
    store: LocalStore, parts: KeyParts, params: Mapping[str, Any], *, noun: str = "argument"
) -> Explanation:
    key = parts.key
    stored = store.get(key)
    if stored is not None:
        run_files = RunFiles.from_parts(stored.parts)
        changed = run_files.changed()
        if changed:
            return Explanation(
                parts.identity, key, False, changed, files=run_files, stale="; ".join(changed)
            )
        return Explanation(parts.identity, key, cached=True, files=run_files)
    entry = nearest(store, parts)
    if entry is None:
        return Explanation(parts.identity, key, cached=False)
    reasons = differences(KeyParts.from_json(entry.parts), entry.params, parts, params, noun=noun)
    return Explanation(
        parts.identity, key, False, reasons, compared_with=entry.key,
        files=RunFiles.from_parts(entry.parts),
    )  # fmt: skip


def in_kernel() -> bool:
    """Whether this process is a Jupyter kernel (checked without importing IPython)."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return getattr(shell, "kernel", None) is not None


def announce_miss(
    store: LocalStore, parts: KeyParts, params: Callable[[], Mapping[str, Any]]
) -> None:
    """In a notebook kernel, print why a call recomputes, when it is not just new arguments.

    New arguments (and seeds) are what the user just typed; a changed helper or global is
    the news.
    """
    if not in_kernel():
        return
    entry = nearest(store, parts)
    if entry is None:
        return
    reasons = differences(KeyParts.from_json(entry.parts), entry.params, parts, params())
    news = [r for r in reasons if not r.startswith(("argument ", "seed "))]
    if news:
        more = f" (+{len(news) - 3} more)" if len(news) > 3 else ""
        name = display_name(parts.identity)
        say(f"hitnb: recomputing {name}: {'; '.join(news[:3])}{more}")
