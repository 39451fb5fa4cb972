"""Index rows written behind the caller: a stored entry is found, listed and evicted as if its
row were written at once, and the rows a process queued are written before it ends."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from contextlib import closing
from pathlib import Path

import pytest

from hitnb.store import row_writer
from hitnb.store.blobs import INLINE_LIMIT
from hitnb.store.local import LocalStore

KEYS = [f"{i:032x}" for i in range(1, 201)]


def put(store: LocalStore, key: str, value: object = "v") -> None:
    store.put(key, value, function="mod.f", code="c" * 32, args="a" * 32, duration=0.001)


def rows_in_file(root: Path) -> int:
    with closing(sqlite3.connect(root / "index.sqlite")) as conn:
        return int(conn.execute("SELECT count(*) FROM entries").fetchone()[0])


def test_an_entry_is_found_while_its_row_waits_and_readers_wait_for_the_row(tmp_path):
    store = LocalStore(tmp_path / "s")
    release = threading.Event()
    write = store._rows._write
    store._rows._write = lambda rows: (release.wait(10), write(rows))[1]
    put(store, KEYS[0], {"a": 1})

    found = store.lookup(KEYS[0])
    assert found is not None and store.load(found) == {"a": 1}
    assert store.contains(KEYS[0])
    assert rows_in_file(store.root) == 0, "the row is written behind the caller"
    assert LocalStore(store.root).get(KEYS[0]) is not None, "another process finds it too"

    counted: list[int] = []
    reader = threading.Thread(target=lambda: counted.append(store.count()))
    reader.start()
    reader.join(0.3)
    assert reader.is_alive(), "a listing waits for the rows this process queued"
    release.set()
    reader.join(10)
    assert counted == [1]
    assert [e.key for e in store.entries()] == [KEYS[0]]


def test_an_entry_evicted_before_its_row_is_written_leaves_no_row(tmp_path):
    store = LocalStore(tmp_path / "s")
    release = threading.Event()
    write = store._rows._write
    store._rows._write = lambda rows: (release.wait(10), write(rows))[1]
    put(store, KEYS[0])
    LocalStore(store.root).manifest_path(KEYS[0]).unlink()  # another process evicts it
    release.set()
    store._rows.flush()
    assert rows_in_file(store.root) == 0
    assert store.lookup(KEYS[0]) is None


def run_python(code: str) -> None:
    subprocess.run([sys.executable, "-c", textwrap.dedent(code)], check=True, timeout=120)


def test_the_rows_a_process_queued_are_written_before_it_ends(tmp_path):
    root = tmp_path / "s"
    run_python(
        f"""
        from pathlib import Path
        from hitnb.store.local import LocalStore
        store = LocalStore(Path({str(root)!r}))
        for i in range(1, 201):
            store.put(f"{{i:032x}}", i, function="mod.f", code="c" * 32, args="a" * 32,
                      duration=0.001)
        """
    )
    assert rows_in_file(root) == len(KEYS)


def test_a_killed_process_leaves_entries_that_are_found(tmp_path):
    root = tmp_path / "s"
    run_python(
        f"""
        import os, threading
        from pathlib import Path
        from hitnb.store.local import LocalStore
        store = LocalStore(Path({str(root)!r}))
        store._rows._write = lambda rows: threading.Event().wait()  # never written
        store.put({KEYS[0]!r}, 41, function="mod.f", code="c" * 32, args="a" * 32,
                  duration=0.001)
        os._exit(0)  # killed: no exit handler runs
        """
    )
    assert rows_in_file(root) == 0
    store = LocalStore(root)
    found = store.lookup(KEYS[0])
    assert found is not None and store.load(found) == 41
    assert store.count() == 1, "found through its manifest, and indexed again"


def test_the_row_of_a_value_in_a_blob_is_written_at_once(tmp_path):
    """Another process's eviction frees a blob no row names: a row naming a blob that was
    stored a moment ago must be there before the blob's lock is let go."""
    store = LocalStore(tmp_path / "s")
    store._rows._write = lambda rows: threading.Event().wait()  # never written
    put(store, KEYS[0], "x" * (INLINE_LIMIT + 1))
    assert rows_in_file(store.root) == 1
    other = LocalStore(store.root)
    blob = other.get(KEYS[0]).blob
    assert blob is not None and not other.delete_blob_if_unused(blob)


def test_a_row_is_written_soon_after_the_caller_goes_quiet(tmp_path):
    """Another process (the JupyterLab panel's server, `hitnb ls`) lists what a kernel
    stored a moment ago, without the kernel reading its index again."""
    store = LocalStore(tmp_path / "s")
    put(store, KEYS[0])
    deadline = time.monotonic() + 5
    while rows_in_file(store.root) == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert rows_in_file(store.root) == 1
    assert store._rows.pending(KEYS[0]) is None


def test_another_process_storing_the_key_while_the_row_waits_wins(tmp_path):
    """The manifest written last is the entry: the row queued before it neither hides it
    from this process nor replaces its row when it is written."""
    store = LocalStore(tmp_path / "s")
    release = threading.Event()
    write = store._rows._write
    store._rows._write = lambda rows: (release.wait(10), write(rows))[1]
    put(store, KEYS[0], "ours")
    other = LocalStore(store.root)
    put(other, KEYS[0], "theirs")
    other._rows.flush()
    assert store.load(store.lookup(KEYS[0])) == "theirs"
    release.set()
    store._rows.flush()
    assert store.load(store.lookup(KEYS[0])) == "theirs"
    assert store.load(LocalStore(store.root).lookup(KEYS[0])) == "theirs"


def test_the_thread_ends_when_nothing_is_queued_and_starts_again(tmp_path, monkeypatch):
    monkeypatch.setattr(row_writer, "LINGER", 0.2)
    store = LocalStore(tmp_path / "s")
    for key in KEYS[:2]:
        put(store, key)
        deadline = time.monotonic() + 5
        while store._rows._thread is not None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert store._rows._thread is None, "no thread is kept once the queue is written"
    assert rows_in_file(store.root) == 2


def files_open_under(root: Path) -> list[str]:
    """The files under ``root`` this process holds open (Linux's /proc)."""
    found = []
    for fd in Path("/proc/self/fd").iterdir():
        try:
            target = fd.readlink()
        except OSError:  # closed meanwhile (the listing's own)
            continue
        if target.is_relative_to(root):
            found.append(target.name)
    return found


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs Linux's /proc")
def test_a_closed_store_keeps_no_file_open_after_the_thread_wrote_its_rows(tmp_path):
    """The folder of a closed store can be unmounted or remounted read-only: the thread's
    connection, which the garbage collector alone would close, is closed once it wrote."""
    store = LocalStore(tmp_path / "s")
    put(store, KEYS[0])
    deadline = time.monotonic() + 5
    while store._rows.pending(KEYS[0]) is not None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert store._rows.pending(KEYS[0]) is None, "the thread wrote the row"
    store.close()
    assert files_open_under(store.root) == []


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs Linux's /proc")
def test_closing_a_store_waits_for_the_threads_write_in_progress(tmp_path):
    store = LocalStore(tmp_path / "s")
    started, release = threading.Event(), threading.Event()
    write = store._rows._write
    store._rows._write = lambda rows: (started.set(), release.wait(10), write(rows))[2]
    put(store, KEYS[0])
    assert started.wait(5), "the thread took the row"
    closing = threading.Thread(target=store.close)
    closing.start()
    time.sleep(0.1)
    assert closing.is_alive(), "close waits for the write"
    release.set()
    closing.join(5)
    assert rows_in_file(store.root) == 1 and files_open_under(store.root) == []
