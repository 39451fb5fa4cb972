"""What the ``hitnb`` command line and the ``%hitnb`` magic do, once for both.

Each operation takes a store and returns data; the hosts only parse words and print.
Keys can be given by any unique prefix of at least six characters (listings show 12).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from hitnb.core.run_files import RunFiles
from hitnb.core.runs import Run
from hitnb.errors import ConfigError, HitnbError, UnknownKeyError
from hitnb.hashing.differences import differences
from hitnb.hashing.keys import KeyParts
from hitnb.names import display_name, names_function
from hitnb.store import maintenance
from hitnb.store.index import Listed
from hitnb.store.local import Entry, LocalStore

MIN_PREFIX = 6


def resolve_key(store: LocalStore, key: str) -> str:
    """The full key for ``key`` or a unique prefix of it."""
    if len(key) == 32 and store.contains(key):
        return key
    if len(key) < MIN_PREFIX or not all(c in "0123456789abcdef" for c in key):
        raise UnknownKeyError(key, str(store.root))
    keys = store.keys_with_prefix(key, limit=2)
    if not keys:
        raise UnknownKeyError(key, str(store.root))
    if len(keys) > 1:
        raise HitnbError(f"key prefix {key!r} is ambiguous; give more characters")
    return keys[0]


def matches(entry: Entry, function: str) -> bool:
    """Whether ``function`` names the entry's function (with or without its module)."""
    return names_function(function, entry.function)


def parse_since(text: str, now: float | None = None) -> float:
    """``"2d"``/``"12h"`` ago, or an ISO date or time, as a timestamp."""
    now = time.time() if now is None else now
    try:
        return now - maintenance.parse_age(text)
    except ConfigError:
        pass
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise ConfigError(
            f"--since {text!r} is neither an age (30m, 12h, 2d) nor a date (2026-11-20)"
        ) from None
    if moment.tzinfo is None:
        moment = moment.astimezone()
    return moment.timestamp()


def list_runs(
    store: LocalStore,
    function: str | None = None,
    *,
    experiments: bool = False,
    since: float | None = None,
) -> list[Run]:
    """Stored runs, newest first, filtered by function, experiment flag and creation time."""
    entries = store.entries(experiment=True if experiments else None)
    if function is not None:
        entries = [e for e in entries if matches(e, function)]
    if since is not None:
        entries = [e for e in entries if e.created >= since]
    return [Run.from_entry(e, store) for e in entries]


def format_size(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} GB"


def list_entries(
    store: LocalStore,
    function: str | None = None,
    *,
    experiments: bool = False,
    since: float | None = None,
) -> list[Listed]:
    """Like :func:`list_runs`, reading only what a table shows (fast for large stores)."""
    rows = store.listing(experiment=True if experiments else None)
    if function is not None:
        rows = [r for r in rows if names_function(function, r.function)]
    if since is not None:
        rows = [r for r in rows if r.created >= since]
    return rows


def format_runs(rows: Sequence[Run | Listed]) -> list[str]:
    """A plain table of runs, one line each, an asterisk marking experiments."""
    lines = [f"{'key':12s}  {'function':32s}  {'created':16s}  {'size':>9s}  {'took':>8s}  hits"]
    for row in rows:
        created = row.created if isinstance(row, Run) else dt.datetime.fromtimestamp(row.created)
        flag = " *" if row.experiment else ""
        lines.append(
            f"{row.key[:12]}  {display_name(row.function)[:32]:32s}  "
            f"{created:%Y-%m-%d %H:%M}  {format_size(row.size):>9s}  "
            f"{row.duration:7.2f}s  {row.hits}{flag}"
        )
    return lines


def run_record(run: Run) -> dict[str, Any]:
    """A run as JSON-able data (``--json`` output)."""
    return {
        "key": run.key,
        "function": run.function,
        "arguments": run.arguments,
        "created": run.created.isoformat(),
        "duration": run.duration,
        "experiment": run.experiment,
        "hits": run.hits,
        "size": run.size,
        "codec": run.codec,
        "status": run.status,
        "metrics": run.metrics,
    }


def show(store: LocalStore, key: str) -> dict[str, Any]:
    """Everything stored about one entry except its value."""
    entry = store.get(resolve_key(store, key))
    assert entry is not None
    return {
        **run_record(Run.from_entry(entry, store)),
        "origin": entry.origin,
        "blob": entry.blob,
        "code_version": entry.code,
        "dependencies": KeyParts.from_json(entry.parts).deps,
        "files": RunFiles.from_parts(entry.parts).to_json(),
        "last_access": dt.datetime.fromtimestamp(entry.last_access).astimezone().isoformat(),
    }


@dataclass
class Why:
    """How an entry's key differs from another entry's, and the files its run read and wrote."""

    entry: Entry
    other: Entry | None
    """The entry compared with; None when the function has no other."""
    reasons: list[str]
    files: RunFiles
    changed: list[str]
    """How the files the run read differ here and now ("file data.csv changed"): a call
    would run again for any of them."""

    def lines(self) -> list[str]:
        """What ``hitnb why`` prints."""
        entry, other, name = self.entry, self.other, display_name(self.entry.function)
        if other is None:
            first = f"{name}: no other entry to compare with"
        elif not self.reasons:
            first = f"{name}: {entry.key[:12]} and {other.key[:12]} have the same parts"
        else:
            first = f"{name} {entry.key[:12]} vs {other.key[:12]}: " + "; ".join(self.reasons)
        lines = [first, *(f"  {line}" for line in self.files.lines())]
        if self.changed:
            lines.append(f"  since then: {'; '.join(self.changed)}; a call would run again")
        return lines


def why(store: LocalStore, key: str, against: str | None = None) -> Why:
    """How entry ``key`` differs from ``against`` (default: the newest other entry of its
    function): what made their keys different; and the files its run read and wrote, with
    those that changed since."""
    entry = store.get(resolve_key(store, key))
    assert entry is not None
    if against is not None:
        other = store.get(resolve_key(store, against))
    else:
        siblings = [e for e in store.entries(entry.function, limit=200) if e.key != entry.key]
        other = siblings[0] if siblings else None
    run_files = RunFiles.from_parts(entry.parts)
    reasons = []
    if other is not None:
        reasons = differences(
            KeyParts.from_json(other.parts),
            other.params,
            KeyParts.from_json(entry.parts),
            entry.params,
            noun="input" if entry.function == "cell" else "argument",
        )
    return Why(entry, other, reasons, run_files, run_files.changed())


@dataclass
class Cleared:
    removed: list[Entry]
    kept_experiments: int


def clear(
    store: LocalStore,
    targets: Sequence[str] = (),
    *,
    everything: bool = False,
    older_than: float | None = None,
    include_experiments: bool = True,
) -> Cleared:
    """Remove entries named by function or key (prefix), all of them, or those not used for
    ``older_than`` seconds. Experiments go too unless ``include_experiments`` is False."""
    entries = store.entries()
    chosen: list[Entry] = []
    if everything:
        chosen = entries
    for target in targets:
        hits = [e for e in entries if matches(e, target)]
        if not hits:
            try:
                full = resolve_key(store, target)
            except UnknownKeyError:
                raise HitnbError(
                    f"{target!r} is neither a function with stored entries nor a key; "
                    "see `hitnb ls`"
                ) from None
            hits = [e for e in entries if e.key == full]
        chosen += hits
    if older_than is not None:
        cutoff = time.time() - older_than
        chosen += [e for e in entries if e.last_access < cutoff]
    unique = {e.key: e for e in chosen}
    kept = [k for k, e in unique.items() if e.experiment and not include_experiments]
    removed = store.delete(k for k in unique if k not in kept)
    return Cleared(removed, len(kept))
