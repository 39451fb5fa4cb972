"""Looking after a store: check, repair, evict, and remove what no entry needs.

- :func:`verify` reads every entry (index row, manifest, bytes against their checksum)
  and reports; it changes nothing.
- :func:`repair` fixes what verify finds: drops entries whose bytes are gone or wrong,
  indexes manifests the index lacks, writes manifests the index has alone, then
  collects garbage.
- :func:`evict` removes the least recently used entries until the store is under a size
  and/or drops entries not used for a while; experiments are kept unless asked.
- :func:`collect_garbage` removes temp files of writes whose process is gone, blobs no
  entry uses and lock files nobody holds.
- :func:`gc` is ``hitnb gc``: leftovers first (they need no index, and on a full disk the
  index cannot be written until something goes), then eviction, then garbage.
"""

from __future__ import annotations

import dataclasses
import json
import re
import sqlite3
import time
import warnings
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hitnb.errors import ConfigError, CorruptEntryError, HitnbError, StoreWriteWarning
from hitnb.names import names_function
from hitnb.store.failures import IndexUnavailable
from hitnb.store.local import Entry, LocalStore, pid_alive
from hitnb.store.remote import Remote, RemoteUnavailable

STALE_TEMP_SECONDS = 3600.0
"""A temp file this old belongs to a write that died, whatever its process id says."""

_AGE_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}

Progress = Callable[[list[Any]], Iterable[Any]]
"""Wraps the items a pass walks over, e.g. in a progress bar (the CLI uses tqdm)."""


def _no_progress(items: list[Any]) -> Iterable[Any]:
    return items


@dataclass
class Report:
    """What a maintenance pass found or did; ``problems`` is empty for a healthy store."""

    checked: int = 0
    problems: list[str] = field(default_factory=list)
    """Corrupt or dangling entries: what can make a read fail."""
    notes: list[str] = field(default_factory=list)
    """What is harmless but untidy: entries the index has not caught up with yet (a crash
    between writing an entry and indexing it; found on use), leftovers of dead writers."""
    removed: list[str] = field(default_factory=list)
    fixed: list[str] = field(default_factory=list)
    freed_bytes: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems

    def add(self, other: Report) -> None:
        """Count what another pass found and did as part of this one."""
        self.checked += other.checked
        self.problems += other.problems
        self.notes += other.notes
        self.removed += other.removed
        self.fixed += other.fixed
        self.freed_bytes += other.freed_bytes


def parse_age(text: str | float) -> float:
    """``"30d"``, ``"12h"``, ``"2w"`` or a number of seconds, as seconds."""
    if isinstance(text, int | float):
        return float(text)
    match = re.fullmatch(r"\s*([\d.]+)\s*([smhdw]?)\s*", str(text))
    if not match:
        raise ConfigError(f"age {text!r} is not understood; write e.g. 90s, 12h, 30d or 2w")
    return float(match.group(1)) * _AGE_UNITS[match.group(2) or "s"]


_REBUILD = "`hitnb verify --repair` rebuilds it from the manifests"


def index_problems(store: LocalStore) -> list[str]:
    """What is wrong with the index file itself (SQLite's check, hitnb's check of the values,
    a file that could not be used), and damage met and repaired on the way."""
    found = [f"index: {event}" for event in store.index_events]
    if store.index_state != "file":
        found.append(f"index: {store.index_state} only ({_REBUILD} when the cause is gone)")
    try:
        found += [f"index: {line} ({_REBUILD})" for line in store.index.check()[:5]]
    except sqlite3.Error as exc:
        found.append(f"index: {exc}")
    return found


def _same(row: Entry, manifest: Entry) -> bool:
    """An index row agrees with its manifest (hit counts and last use live in the index)."""
    return dataclasses.replace(row, hits=0, last_access=0.0) == dataclasses.replace(
        manifest, hits=0, last_access=0.0
    )


def verify(store: LocalStore, progress: Progress = _no_progress) -> Report:
    """Check the index, every entry's manifest and bytes; report problems without changing
    anything (damage met on the way is repaired like anywhere else, and reported)."""
    report = Report()
    entries = store.entries()
    report.problems += index_problems(store)
    for entry in progress(entries):
        report.checked += 1
        try:
            manifest = store.read_manifest(entry.key)
            if manifest is None:
                report.problems.append(f"{entry.key}: index row without a manifest")
            elif not _same(entry, manifest):
                report.problems.append(f"{entry.key}: index row differs from its manifest")
            store.read_bytes(entry)
        except CorruptEntryError as exc:
            report.problems.append(f"{entry.key}: {exc}")
    indexed = {e.key for e in entries}
    for path in store.manifests.glob("??/*.json"):
        if path.stem in indexed:
            continue
        try:
            unindexed = store.read_manifest(path.stem)
            if unindexed is None:
                continue
            store.read_bytes(unindexed)
            report.notes.append(f"{path.stem}: not indexed yet (repair indexes it)")
        except CorruptEntryError as exc:
            report.problems.append(f"{path.stem}: {exc}")
    for path in _stale_temp_files(store, time.time()):
        report.notes.append(f"leftover temp file {path.name} (gc removes it)")
    return report


def _manifest_or_none(store: LocalStore, key: str) -> Entry | None:
    try:
        return store.read_manifest(key)
    except CorruptEntryError:
        return None


def repair(store: LocalStore, progress: Progress = _no_progress) -> Report:
    """Make the store consistent; drop what cannot be read. Returns what it did."""
    report = free_leftovers(store)
    damage = index_problems(store)
    differs = any(
        manifest is not None and not _same(entry, manifest)
        for entry in store.entries()
        for manifest in [_manifest_or_none(store, entry.key)]
    )
    if damage or differs:
        count = store.replace_index()
        why = "; ".join(damage) or "rows differed from their manifests"
        report.fixed.append(f"index rebuilt from {count} manifests ({why})")
        store.index_events.clear()
    indexed = {e.key for e in store.entries()}
    for path in store.manifests.glob("??/*.json"):
        if path.stem in indexed:
            continue
        try:
            entry = store.read_manifest(path.stem)
        except CorruptEntryError:
            path.unlink(missing_ok=True)
            report.removed.append(f"unreadable manifest {path.stem}")
            continue
        if entry is not None:
            store.index.put(entry)
            report.fixed.append(f"{entry.key}: indexed again from its manifest")
    for entry in progress(store.entries()):
        report.checked += 1
        try:
            store.read_bytes(entry)
        except CorruptEntryError as exc:
            store.drop_corrupt(entry.key)
            report.removed.append(f"{entry.key}: {exc}")
            continue
        if store.read_manifest(entry.key) is None:
            store.write_manifest(entry, store.index.recipe(entry.key))
            report.fixed.append(f"{entry.key}: manifest written again from the index")
    report.add(collect_garbage(store))
    return report


def reconcile(store: LocalStore) -> Report:
    """Index every manifest the index lacks (a write or an eviction killed half way), so
    that eviction and the sizes it works from see the whole store."""
    report = Report()
    indexed = store.index.keys()
    missing = []
    for path in store.manifests.glob("??/*.json"):
        if path.stem in indexed:
            continue
        try:
            found = store.read_record(path.stem)
        except CorruptEntryError:
            continue  # verify reports it; repair removes it
        if found is not None:
            missing.append(found)
    if missing:
        store.index.put_many(
            [entry for entry, _ in missing],
            {entry.key: recipe for entry, recipe in missing if recipe is not None},
        )
        report.fixed = [f"{entry.key}: indexed again from its manifest" for entry, _ in missing]
    return report


def evict(
    store: LocalStore,
    *,
    max_size: int | None = None,
    older_than: float | None = None,
    include_experiments: bool = False,
    now: float | None = None,
    dry_run: bool = False,
    complete: bool = True,
) -> Report:
    """Remove least recently used entries: all unused for ``older_than`` seconds, then more
    until the store holds at most ``max_size`` bytes. Experiments stay unless included.

    With ``complete`` (the default) entries the index lacks are indexed first, so the
    leftovers of an eviction that was killed are counted, and removed, this time."""
    report = Report()
    unreconciled = False
    if complete and not dry_run:
        try:
            report.fixed = reconcile(store).fixed
        except IndexUnavailable as exc:
            if exc.kind != "full":
                raise
            unreconciled = True  # indexed once the eviction made room
    now = time.time() if now is None else now
    candidates = store.index.least_recently_used(include_experiments=include_experiments)
    doomed = []
    if older_than is not None:
        doomed += [key for key, _, last in candidates if now - last > older_than]
    if max_size is not None:
        excess = store.index.total_size() - max_size
        for key, size, _ in candidates:
            if excess <= 0:
                break
            if key not in doomed:
                doomed.append(key)
                excess -= size
    if dry_run:
        sizes = {key: size for key, size, _ in candidates}
        report.removed = [f"{key} (would be removed)" for key in doomed]
        report.freed_bytes = sum(sizes[key] for key in doomed)
        return report
    before = store.index.total_size()
    keep = None
    if unreconciled:  # the index lacks entries: only their manifests say which blobs they use
        keep, unsure = _blobs_named_by_manifests(store, leaving=set(doomed))
        if unsure:
            raise HitnbError(
                f"{unsure} manifests of the store at {store.root} could not be read (an I/O "
                "error) and the index cannot be completed (the disk is full): nothing was "
                "evicted, since a blob they name could be lost. Free some space by other "
                "means, or check the disk, and run `hitnb gc` again"
            )
    for start in range(0, len(doomed), _EVICT_BATCH):
        for entry in _delete(store, doomed[start : start + _EVICT_BATCH], keep):
            report.removed.append(f"{entry.key} ({entry.function})")
    report.freed_bytes = before - store.index.total_size()
    if unreconciled:
        report.fixed = reconcile(store).fixed
    return report


def _delete(store: LocalStore, keys: list[str], keep: set[str] | None) -> list[Entry]:
    """Delete entries, but not the blobs ``keep`` (those other entries' manifests name, when
    the index may lack entries). On a full disk, where even removing rows needs room, their
    blob files go first (the rows, which would name missing bytes, go right after)."""
    try:
        return store.delete(keys, keep=keep or ())
    except IndexUnavailable as exc:
        if exc.kind != "full":
            raise
        if keep is None:
            keep, unsure = _blobs_named_by_manifests(store, leaving=set(keys))
            if unsure:
                raise
        if not store.free_blob_files(keys, keep=keep):
            raise
    store.reopen_index()
    return store.delete(keys, keep=keep)


_EVICT_BATCH = 500
"""Entries removed per index transaction (a kill loses the progress of one batch at most)."""

LIMIT_CHECK_SECONDS = 5.0
_CREATED_SLACK = 60.0
"""An entry's row is written after its ``created`` time (the time to encode it); rows this
much older than the last exact check are counted again, to be sure none is missed."""


@dataclass
class _LimitCheck:
    at: float
    """Wall-clock time of the last exact size query."""
    total: int
    """What it found."""
    monotonic: float


_limit_checks: dict[Path, _LimitCheck] = {}


def keep_under_limit(store: LocalStore, max_size: int) -> Report | None:
    """After a write: evict least recently used entries if the store passed ``max_size``.

    The exact size (a query over every blob) is asked at most every few seconds; between,
    the size is the last exact one plus the bytes of every entry created since, by any
    process (an indexed range query), so a burst of writes is caught by the write that
    crosses the limit. Never raises: a failure here must not cost the caller its result.
    """
    try:
        return _keep_under_limit(store, max_size)
    except (sqlite3.Error, OSError, HitnbError) as exc:
        warnings.warn(
            f"the hitnb store at {store.root} could not be kept under its size limit: {exc}",
            StoreWriteWarning,
            stacklevel=3,
        )
        return None


def _keep_under_limit(store: LocalStore, max_size: int) -> Report | None:
    last = _limit_checks.get(store.root)
    if (
        last is not None
        and time.monotonic() - last.monotonic < LIMIT_CHECK_SECONDS
        and last.total + store.index.bytes_since(last.at - _CREATED_SLACK) <= max_size
    ):
        return None
    at, mono = time.time(), time.monotonic()
    total = store.index.total_size()
    report = None
    if total > max_size:
        report = evict(store, max_size=max_size, complete=False)
        total = store.index.total_size()
    _limit_checks[store.root] = _LimitCheck(at, total, mono)
    return report


def collect_garbage(store: LocalStore, *, now: float | None = None) -> Report:
    """Remove temp files of dead writes, blobs nothing names, and lock files nobody holds.

    A blob is kept while any manifest or index row names it (the manifests are read, not
    trusted to the index, which may lack rows), while it is young (its entry may be being
    written), and while a writer holds its lock. If a manifest cannot be read for a reason
    other than its content (an I/O error), no blob is removed this time.
    """
    now = time.time() if now is None else now
    report = _remove_temp_files(store, now)
    named, unsure = _blobs_named_by_manifests(store)
    if unsure:
        report.problems.append(
            f"{unsure} manifests could not be read (an I/O error); no blob was removed"
        )
    else:
        for blob_id in store.blobs.ids():
            report.checked += 1
            if blob_id in named:
                continue
            path = store.blobs.path(blob_id)
            try:
                st = path.stat()
            except FileNotFoundError:
                continue
            if now - st.st_mtime < STALE_TEMP_SECONDS:
                continue  # a young blob may belong to an entry being written now
            if store.delete_blob_if_unused(blob_id, wait=0):
                report.removed.append(f"orphan blob {blob_id}")
                report.freed_bytes += st.st_size
    store.locks.remove_unheld()
    return report


def free_leftovers(store: LocalStore, *, now: float | None = None, dry_run: bool = False) -> Report:
    """Remove what needs no index to be found and freed: temp files of dead writes, and the
    damaged indexes kept aside for a post-mortem (each with its WAL: megabytes a full disk
    needs before the index can be written). Then, if this process could only read its index
    (a full disk at opening), open it again. With ``dry_run``, say what would go."""
    report = _remove_temp_files(store, time.time() if now is None else now, dry_run)
    for name, size in store.drop_damaged_indexes(dry_run=dry_run):
        said = " (would be removed)" if dry_run else ""
        report.removed.append(f"damaged index {name} (kept aside when the index was rebuilt){said}")
        report.freed_bytes += size
    if report.freed_bytes and not dry_run:
        store.reopen_index()
    return report


def gc(
    store: LocalStore,
    *,
    max_size: int | None = None,
    older_than: float | None = None,
    include_experiments: bool = False,
    dry_run: bool = False,
) -> Report:
    """``hitnb gc``: leftovers, then eviction by size and age, then garbage (see the
    module's docstring for why in this order)."""
    report = free_leftovers(store, dry_run=dry_run)
    evicted = evict(store, max_size=max_size, older_than=older_than,
                    include_experiments=include_experiments, dry_run=dry_run)  # fmt: skip
    report.add(evicted)
    if not dry_run:
        report.add(collect_garbage(store))
    return report


def _remove_temp_files(store: LocalStore, now: float, dry_run: bool = False) -> Report:
    report = Report()
    for path in _stale_temp_files(store, now):
        try:
            size = path.stat().st_size
            if not dry_run:
                path.unlink()
        except FileNotFoundError:
            continue
        report.removed.append(f"temp file {path.name}{' (would be removed)' if dry_run else ''}")
        report.freed_bytes += size
    return report


def _blobs_named_by_manifests(
    store: LocalStore, leaving: Collection[str] = ()
) -> tuple[set[str], int]:
    """The blob ids every manifest names (but those of the entries ``leaving``), and how
    many manifests could not be read for a reason that may pass (their content is then
    unknown, not wrong)."""
    named: set[str] = set()
    unsure = 0
    for path in store.manifests.glob("??/*.json"):
        if path.stem in leaving:
            continue
        try:
            with path.open("rb") as fh:
                record = json.loads(fh.read())
        except FileNotFoundError:
            continue
        except OSError:
            unsure += 1
            continue
        except ValueError:
            continue  # not JSON: it names nothing (verify reports it, repair removes it)
        blob = record.get("blob") if isinstance(record, dict) else None
        if isinstance(blob, str):
            named.add(blob)
    return named, unsure


def _stale_temp_files(store: LocalStore, now: float) -> list[Path]:
    """Temp files whose writing process is gone, or that are older than any write takes."""
    stale = []
    folders = [store.blobs.tmp, *store.manifests.glob("??")]
    for folder in folders:
        if not folder.is_dir():
            continue
        for path in folder.glob("*.part"):
            pid = path.name.lstrip(".").partition("-")[0]
            try:
                old = now - path.stat().st_mtime > STALE_TEMP_SECONDS
            except FileNotFoundError:
                continue
            if old or (pid.isdigit() and not pid_alive(int(pid))):
                stale.append(path)
    for path in store.root.glob("index.sqlite.rebuild-*"):  # an index rebuild that died
        pid = path.name.removeprefix("index.sqlite.rebuild-").partition("-")[0]
        if pid.isdigit() and not pid_alive(int(pid)):
            stale.append(path)
    return stale


def _remote_of(store: LocalStore) -> Remote:
    if store.remote is None:
        raise HitnbError(
            "no shared store is configured: set store to a URL such as s3://bucket/prefix "
            "(HITNB_STORE, [tool.hitnb] or hitnb.configure)"
        )
    return store.remote


def push(store: LocalStore, progress: Progress = _no_progress) -> Report:
    """Upload every local entry the shared store lacks (stored while it was unreachable)."""
    remote = _remote_of(store)
    remote.retry_now()
    report = Report()
    try:
        there = remote.keys()
    except RemoteUnavailable as exc:
        report.problems.append(f"the shared store cannot be reached: {exc}")
        return report
    missing = [e for e in store.entries() if e.key not in there]
    for entry in progress(missing):
        report.checked += 1
        if not store.upload(entry, store.recipe(entry.key)):
            report.problems.append(f"the shared store stopped answering after {len(report.fixed)}")
            break
        report.fixed.append(f"{entry.key} uploaded")
    return report


def pull(
    store: LocalStore,
    function: str | None = None,
    *,
    experiments: bool = False,
    progress: Progress = _no_progress,
) -> Report:
    """Fetch the shared store's entries this store lacks (of one function, or experiments)."""
    remote = _remote_of(store)
    remote.retry_now()
    report = Report()
    try:
        wanted = sorted(remote.keys() - {e.key for e in store.entries()})
    except RemoteUnavailable as exc:
        report.problems.append(f"the shared store cannot be reached: {exc}")
        return report
    for key in progress(wanted):
        report.checked += 1
        record = remote.manifest(key)
        if record is None:
            continue
        name = str(record.get("function", ""))
        if function is not None and not names_function(function, name):
            continue
        if experiments and not record.get("experiment"):
            continue
        if store.from_remote(key, record) is not None:  # the manifest is not fetched twice
            report.fixed.append(f"{key} pulled")
    return report


def store_stats(store: LocalStore) -> dict[str, object]:
    """Entries, experiments, bytes, and the same per function; ``unindexed`` counts the
    entries whose manifest the index lacks (left by a killed write or gc; not in the
    figures until used, or until the next gc indexes them)."""
    functions = store.index.by_function()
    indexed = store.index.keys()
    unindexed = sum(1 for p in store.manifests.glob("??/*.json") if p.stem not in indexed)
    return {
        "store": str(store.root),
        "unindexed": unindexed,
        "entries": sum(n for _, n, _, _ in functions),
        "experiments": sum(e for _, _, e, _ in functions),
        "bytes": store.index.total_size(),
        "functions": [
            {"function": f, "entries": n, "experiments": e, "bytes": s} for f, n, e, s in functions
        ],
    }
