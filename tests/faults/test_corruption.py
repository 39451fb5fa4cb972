"""Every kind of damage is detected on use, warned about once, and never returns a wrong value."""

from __future__ import annotations

import sqlite3
import warnings
from pathlib import Path

import numpy as np
import pytest

import hitnb
from hitnb.errors import CorruptEntryWarning
from hitnb.store.local import LocalStore

pytestmark = [pytest.mark.slow, pytest.mark.faults]


def make(store_path: Path):
    calls = []

    @hitnb.memo(ignore=("calls",))
    def block(i):
        calls.append(i)
        return np.arange(100_000) * i

    @hitnb.memo(ignore=("calls",))
    def small(i):
        calls.append(-i)
        return {"i": i}

    return block, small, calls


def blob_of(store_path: Path, function) -> Path:
    store = LocalStore(store_path)
    entry = store.get(function.runs()[0].key)
    return store.blobs.path(entry.blob)


def flip(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 3] ^= 0x40
    path.write_bytes(data)


@pytest.mark.parametrize("damage", ["flip", "truncate", "delete"])
def test_damaged_blob(isolated_store, damage):
    block, _, calls = make(isolated_store)
    expected = block(3)
    path = blob_of(isolated_store, block)
    {"flip": flip, "truncate": lambda p: p.write_bytes(p.read_bytes()[:4096]),
     "delete": Path.unlink}[damage](path)  # fmt: skip
    with pytest.warns(CorruptEntryWarning) as record:
        again = block(3)
    assert len([w for w in record if issubclass(w.category, CorruptEntryWarning)]) == 1
    np.testing.assert_array_equal(again, expected)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_array_equal(block(3), expected)  # repaired: warned once only
    assert calls == [3, 3]


def test_damaged_inline_value(isolated_store):
    _, small, calls = make(isolated_store)
    small(5)
    store = LocalStore(isolated_store)
    key = small.runs()[0].key
    store.index.conn.execute("UPDATE entries SET inline = ? WHERE key = ?", (b"\x80garbage", key))
    with pytest.warns(CorruptEntryWarning):
        assert small(5) == {"i": 5}
    assert small(5) == {"i": 5} and calls == [-5, -5]


def test_deleted_index_is_rebuilt(isolated_store):
    block, small, calls = make(isolated_store)
    block(2)
    small(2)
    from hitnb.store import local

    local.close_stores()
    for name in ("index.sqlite", "index.sqlite-wal", "index.sqlite-shm"):
        (isolated_store / name).unlink(missing_ok=True)
    assert small(2) == {"i": 2} and int(block(2)[1]) == 2
    assert calls == [2, -2]  # both came back from their manifests: nothing recomputed


def test_corrupt_index_is_rebuilt(isolated_store):
    _, small, calls = make(isolated_store)
    small(4)
    from hitnb.store import local

    local.close_stores()
    (isolated_store / "index.sqlite").write_bytes(b"\x00garbage" * 512)
    for name in ("index.sqlite-wal", "index.sqlite-shm"):
        (isolated_store / name).unlink(missing_ok=True)
    with pytest.warns(CorruptEntryWarning, match="unreadable"):
        assert small(4) == {"i": 4}
    assert calls == [-4]
    assert (
        sqlite3.connect(isolated_store / "index.sqlite")
        .execute("SELECT COUNT(*) FROM entries")
        .fetchone()[0]
        >= 1
    )


def test_corrupt_manifest_of_an_unindexed_entry(isolated_store):
    _, small, calls = make(isolated_store)
    small(7)
    store = LocalStore(isolated_store)
    key = small.runs()[0].key
    store.index.conn.execute("DELETE FROM entries WHERE key = ?", (key,))
    store.manifest_path(key).write_text("{not json")
    with pytest.warns(CorruptEntryWarning):
        assert small(7) == {"i": 7}
    assert calls == [-7, -7]


OPEN_AT_ONCE = """
import sys, time, warnings
warnings.simplefilter("error")  # a CorruptEntryWarning fails this process
from pathlib import Path
from hitnb.store.local import LocalStore
start = float(sys.argv[2])
time.sleep(max(0.0, start - time.time()))
store = LocalStore(Path(sys.argv[1]))
print(len(store.index.entries()))
"""


def test_processes_opening_a_store_at_once_never_mistake_a_lock_for_damage(tmp_path):
    import subprocess
    import sys
    import time

    store = LocalStore(tmp_path / "store")
    for i in range(30):
        store.put(f"{i:032x}", i, function="f", code="c", args="a", duration=0.1)
    store.index.close()
    start = time.time() + 1.5
    for _round in range(3):
        for name in ("index.sqlite", "index.sqlite-wal", "index.sqlite-shm"):
            (tmp_path / "store" / name).unlink(missing_ok=True)
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", OPEN_AT_ONCE, str(tmp_path / "store"), str(start)],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(8)
        ]
        outputs = [p.communicate(timeout=120) for p in procs]
        assert all(p.returncode == 0 for p in procs), [err for _, err in outputs]
        assert {out.strip() for out, _ in outputs} == {"30"}
        assert not list((tmp_path / "store").glob("index.sqlite.corrupt-*"))
        start = time.time() + 1.5
