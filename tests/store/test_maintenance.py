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
    store.manifest_path("2" * 32).unlink()  # (a manifest still naming it would keep it)
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


def entries_with_access(tmp_path, *, experiments=()):
    """A store with entries k0..k4 of 100 kB each, k0 least recently used."""
    store = LocalStore(tmp_path / "lru")
    for i in range(5):
        key = f"{i:032x}"
        store.put(key, np.full(12_500, i, dtype=np.float64), function="f", code="c", args="a",
                  duration=0.0, experiment=key in experiments)  # fmt: skip
        store.index.conn.execute(
            "UPDATE entries SET last_access = ? WHERE key = ?", (1000 + i, key)
        )
    return store


def test_evict_by_size_removes_least_recently_used_and_keeps_experiments(tmp_path):
    keep = f"{0:032x}"
    store = entries_with_access(tmp_path, experiments={keep})
    total = store.index.total_size()
    assert total > 5 * 100_000
    report = maintenance.evict(store, max_size=total - 150_000)
    left = {e.key for e in store.entries()}
    assert left == {keep, f"{3:032x}", f"{4:032x}"}  # k1, k2 went; the experiment k0 stayed
    assert report.freed_bytes >= 150_000
    maintenance.evict(store, max_size=0, include_experiments=True)
    assert store.entries() == []


def test_evict_by_age_and_dry_run(tmp_path):
    store = entries_with_access(tmp_path)
    plan = maintenance.evict(store, older_than=1, now=1003.5, dry_run=True)
    assert len(plan.removed) == 3 and len(store.entries()) == 5
    maintenance.evict(store, older_than=1, now=1003.5)
    assert {e.key for e in store.entries()} == {f"{3:032x}", f"{4:032x}"}


def test_a_size_limit_is_kept_after_writes(tmp_path, monkeypatch):
    import hitnb

    monkeypatch.setattr(maintenance, "LIMIT_CHECK_SECONDS", 0.0)
    hitnb.configure(store=tmp_path / "limited", max_size="250kB")

    @hitnb.memo
    def block(i):
        return np.full(12_500, i, dtype=np.float64)  # 100 kB

    @hitnb.experiment
    def precious(i):
        return np.full(12_500, -i, dtype=np.float64)

    precious(1)
    for i in range(6):
        block(i)
    store = block._store()
    assert store.index.total_size() <= 250_000 or [e.experiment for e in store.entries()] == [True]
    assert precious.is_cached(1)
    assert block.is_cached(5) and not block.is_cached(0)


def damaged_store(tmp_path):
    """A store with one of each kind of damage, and one healthy entry."""
    store = LocalStore(tmp_path / "damaged")
    keys = {name: f"{i:032x}" for i, name in enumerate(
        ["healthy", "deleted_blob", "truncated_blob", "no_index_row", "inline"])}  # fmt: skip
    for i, (name, key) in enumerate(keys.items()):
        value = "small" if name == "inline" else np.arange(10_000) * (i + 1)
        store.put(key, value, function=name, code="c", args="a", duration=0.0)
    store.blobs.path(store.get(keys["deleted_blob"]).blob).unlink()
    path = store.blobs.path(store.get(keys["truncated_blob"]).blob)
    path.write_bytes(path.read_bytes()[:100])
    store.index.conn.execute("DELETE FROM entries WHERE key = ?", (keys["no_index_row"],))
    store.blobs.tmp.mkdir(exist_ok=True)
    (store.blobs.tmp / "999999999-crashed.part").write_bytes(b"half a blob")
    return store, keys


def test_verify_then_repair_a_damaged_store(tmp_path):
    store, keys = damaged_store(tmp_path)
    found = maintenance.verify(store)
    text = "\n".join(found.problems)
    assert keys["deleted_blob"] in text and "missing" in text
    assert keys["truncated_blob"] in text and "checksum" in text
    notes = "\n".join(found.notes)
    assert f"{keys['no_index_row']}: not indexed yet" in notes
    assert "leftover temp file 999999999-crashed.part" in notes
    report = maintenance.repair(store)
    assert any(keys["no_index_row"] in line for line in report.fixed)
    assert (
        sum(keys["deleted_blob"] in r or keys["truncated_blob"] in r for r in report.removed) == 2
    )
    assert maintenance.verify(store).ok
    assert {e.function for e in store.entries()} == {"healthy", "no_index_row", "inline"}
    assert store.load(store.get(keys["no_index_row"]))[1] == 4


def test_a_deleted_index_database_is_rebuilt_from_manifests(tmp_path):
    store, keys = damaged_store(tmp_path)
    store.close()
    for name in ("index.sqlite", "index.sqlite-wal", "index.sqlite-shm"):
        (tmp_path / "damaged" / name).unlink(missing_ok=True)
    reopened = LocalStore(tmp_path / "damaged")
    assert {e.key for e in reopened.entries()} == set(keys.values())
    maintenance.repair(reopened)
    assert maintenance.verify(reopened).ok
    assert len(reopened.entries()) == 3


def test_a_corrupt_index_database_is_set_aside_and_rebuilt(tmp_path):
    import pytest

    from hitnb.errors import CorruptEntryWarning

    store, keys = damaged_store(tmp_path)
    store.close()
    (tmp_path / "damaged" / "index.sqlite").write_bytes(b"this is not sqlite" * 100)
    for name in ("index.sqlite-wal", "index.sqlite-shm"):
        (tmp_path / "damaged" / name).unlink(missing_ok=True)
    with pytest.warns(CorruptEntryWarning, match="unreadable"):
        reopened = LocalStore(tmp_path / "damaged")
    assert len(reopened.entries()) == len(keys)
    assert list((tmp_path / "damaged").glob("index.sqlite.corrupt-*"))
