"""verify reports problems without changing anything; gc removes only what nothing needs."""

from __future__ import annotations

import os
import time

import numpy as np

from hitnb.store import maintenance
from hitnb.store.local import LocalStore


def put(store: LocalStore, key: str, value) -> None:
    store.put(key, value, function="f", code="c", args="a", duration=0.0)


def test_verify_reports_each_kind_of_damage(tmp_path):
    store = LocalStore(tmp_path / "s")
    put(store, "1" * 32, np.arange(10_000))
    put(store, "2" * 32, np.arange(20_000))
    put(store, "3" * 32, "small")
    assert maintenance.verify(store).ok
    store.blobs.path(store.get("1" * 32).blob).write_bytes(b"truncated")
    store.manifest_path("3" * 32).unlink()
    report = maintenance.verify(store)
    assert report.checked == 3
    assert any("1" * 32 in p and "checksum" in p for p in report.problems)
    assert any("3" * 32 in p and "without a manifest" in p for p in report.problems)
    assert store.get("1" * 32) is not None  # verify changes nothing


def test_gc_removes_stale_temp_files_and_orphan_blobs_only(tmp_path):
    store = LocalStore(tmp_path / "s")
    put(store, "1" * 32, np.arange(10_000))
    kept = store.get("1" * 32).blob
    put(store, "2" * 32, np.arange(30_000))
    orphan = store.get("2" * 32).blob
    store.index.delete(["2" * 32])  # as if the entry went but its blob stayed
    store.blobs.tmp.mkdir(exist_ok=True)
    stale, fresh = store.blobs.tmp / "dead.part", store.blobs.tmp / "live.part"
    stale.write_bytes(b"x" * 100)
    fresh.write_bytes(b"y")
    old = time.time() - 2 * maintenance.STALE_TEMP_SECONDS
    os.utime(stale, (old, old))
    os.utime(store.blobs.path(orphan), (old, old))
    report = maintenance.collect_garbage(store)
    assert not stale.exists() and fresh.exists()
    assert not store.blobs.exists(orphan) and store.blobs.exists(kept)
    assert report.freed_bytes >= 100 + 30_000 * 8
    assert store.load(store.get("1" * 32))[-1] == 9_999
