"""Looking after a store: check every entry, and remove what no entry needs.

``verify`` reads every entry (index row, manifest, bytes against their checksum) and
reports; it changes nothing. ``collect_garbage`` removes temp files left by writes that
never finished and blobs that no entry refers to.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from hitnb.errors import CorruptEntryError
from hitnb.store.local import LocalStore

STALE_TEMP_SECONDS = 3600.0
"""A temp file older than this belongs to a write that died (writes take seconds)."""


@dataclass
class Report:
    """What a maintenance pass found or did; ``problems`` is empty for a healthy store."""

    checked: int = 0
    problems: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    freed_bytes: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(store: LocalStore) -> Report:
    """Check every entry's manifest and bytes; report problems without changing anything."""
    report = Report()
    for entry in store.entries():
        report.checked += 1
        try:
            manifest = store.read_manifest(entry.key)
            if manifest is None:
                report.problems.append(f"{entry.key}: index row without a manifest")
            store.read_bytes(entry)
        except CorruptEntryError as exc:
            report.problems.append(f"{entry.key}: {exc}")
    indexed = {e.key for e in store.entries()}
    for path in store.manifests.glob("??/*.json"):
        if path.stem not in indexed:
            report.problems.append(f"{path.stem}: manifest without an index row")
    return report


def collect_garbage(store: LocalStore, *, now: float | None = None) -> Report:
    """Remove stale temp files and blobs no entry uses."""
    report = Report()
    now = time.time() if now is None else now
    if store.blobs.tmp.is_dir():
        for path in store.blobs.tmp.iterdir():
            stat = path.stat()
            if now - stat.st_mtime > STALE_TEMP_SECONDS:
                path.unlink(missing_ok=True)
                report.removed.append(f"temp file {path.name}")
                report.freed_bytes += stat.st_size
    for blob_id in store.blobs.ids():
        report.checked += 1
        if not store.index.blob_in_use(blob_id) and not _blob_young(store, blob_id, now):
            path = store.blobs.path(blob_id)
            size = path.stat().st_size
            store.blobs.delete(blob_id)
            report.removed.append(f"orphan blob {blob_id}")
            report.freed_bytes += size
    return report


def _blob_young(store: LocalStore, blob_id: str, now: float) -> bool:
    """A blob written moments ago may belong to an entry whose index row is on its way."""
    try:
        return now - store.blobs.path(blob_id).stat().st_mtime < STALE_TEMP_SECONDS
    except FileNotFoundError:
        return True
