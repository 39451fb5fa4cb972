"""The local store: atomic writes, verified reads, manifests that rebuild the index."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import numpy as np
import pytest

from hitnb.errors import CodecError, CorruptEntryError, HitnbWarning
from hitnb.store.blobs import INLINE_LIMIT
from hitnb.store.local import LocalStore

KEY = "ab" * 16


def put(store: LocalStore, value, key: str = KEY):
    return store.put(key, value, function="mod.f", code="c" * 32, args="a" * 32, duration=1.5)


def test_small_values_inline_large_values_in_blobs(tmp_path):
    store = LocalStore(tmp_path / "s")
    small = put(store, "x" * 100, key="1" * 32)
    large = put(store, "x" * (INLINE_LIMIT + 1), key="2" * 32)
    assert small.inline is not None and small.blob is None
    assert large.blob is not None and store.blobs.path(large.blob).exists()
    assert store.load(store.get(large.key)) == "x" * (INLINE_LIMIT + 1)


def test_identical_results_are_stored_once(tmp_path):
    store = LocalStore(tmp_path / "s")
    a = np.arange(100_000)
    e1, e2 = put(store, a, key="1" * 32), put(store, a.copy(), key="2" * 32)
    assert e1.blob == e2.blob
    assert len(store.blobs.ids()) == 1
    store.delete([e1.key])
    assert store.blobs.exists(e2.blob)  # still used by e2
    store.delete([e2.key])
    assert not store.blobs.exists(e2.blob)


@pytest.mark.parametrize("damage", ["flip", "truncate", "delete"])
def test_damaged_blobs_are_detected(tmp_path, damage):
    store = LocalStore(tmp_path / "s")
    entry = put(store, np.arange(50_000))
    path = store.blobs.path(entry.blob)
    if damage == "flip":
        data = bytearray(path.read_bytes())
        data[len(data) // 2] ^= 0x01
        path.write_bytes(data)
    elif damage == "truncate":
        path.write_bytes(path.read_bytes()[:1000])
    else:
        path.unlink()
    with pytest.raises(CorruptEntryError):
        store.load(store.get(KEY))


def test_damaged_inline_value_is_detected(tmp_path):
    store = LocalStore(tmp_path / "s")
    put(store, {"a": 1})
    store.index.conn.execute("UPDATE entries SET inline = ? WHERE key = ?", (b"junk", KEY))
    with pytest.raises(CorruptEntryError):
        store.load(store.get(KEY))


def test_index_is_rebuilt_from_manifests(tmp_path):
    store = LocalStore(tmp_path / "s")
    put(store, [1, 2, 3])
    store.index.conn.execute("DELETE FROM entries")
    assert store.index.get(KEY) is None
    assert store.load(store.get(KEY)) == [1, 2, 3]  # found through its manifest, re-indexed
    assert store.index.get(KEY) is not None
    store.close()
    (tmp_path / "s" / "index.sqlite").unlink()
    for extra in ("index.sqlite-wal", "index.sqlite-shm"):
        (tmp_path / "s" / extra).unlink(missing_ok=True)
    fresh = LocalStore(tmp_path / "s")
    assert fresh.load(fresh.get(KEY)) == [1, 2, 3]


def test_failed_encoding_leaves_nothing_behind(tmp_path):
    store = LocalStore(tmp_path / "s")

    class Unstorable:
        def __reduce__(self):
            raise TypeError("no")

    big = [np.zeros(INLINE_LIMIT), Unstorable()]  # fails after spilling to a temp file
    with pytest.raises(CodecError, match=r"Unstorable|list"):
        put(store, big)
    assert list((tmp_path / "s" / "tmp").glob("*")) == []
    assert store.get(KEY) is None
    assert store.blobs.ids() == []


def test_a_value_can_be_replaced_once_its_encoded_size_is_known(tmp_path):
    store = LocalStore(tmp_path / "s")
    sizes = []

    def instead(size, seconds):
        assert seconds > 0
        sizes.append(size)
        return "in its place" if size > INLINE_LIMIT else None

    entry = store.put(
        KEY, np.zeros(INLINE_LIMIT), function="mod.f", code="c" * 32, args="a" * 32,
        duration=1.5, instead=instead,
    )  # fmt: skip
    assert sizes[0] > INLINE_LIMIT * 8 and len(sizes) == 1  # asked once, not for the stand-in
    assert store.load(store.get(KEY)) == "in its place" and entry.inline is not None
    assert store.blobs.ids() == [] and list((tmp_path / "s" / "tmp").glob("*")) == []
    kept = store.put("cd" * 16, "small", function="mod.f", code="c" * 32, args="a" * 32,
                     duration=1.5, instead=instead)  # fmt: skip
    assert store.load(kept) == "small"


def test_bytes_replaced_once_their_size_is_known_never_reach_the_disk(tmp_path):
    """A cell's outputs stored as "run again on a hit" were written out in full first (161
    MB of simulated paths: half a second of a first run), to be thrown away."""
    from hitnb.core import files

    store = LocalStore(tmp_path / "s")
    with files.observing() as observed:
        entry = store.put(
            KEY, np.ones(4 * INLINE_LIMIT), function="mod.f", code="c" * 32, args="a" * 32,
            duration=1.5, instead=lambda size, seconds: "in its place",
        )  # fmt: skip
    assert store.load(entry) == "in its place"
    blobs_written = [p for p in observed.written if Path(p).is_relative_to(store.blobs.tmp)]
    assert blobs_written == []


def test_bytes_a_codec_changes_after_writing_them_are_stored_as_they_were_written(tmp_path):
    """A codec's buffers are kept by reference until the store knows it keeps the value; a
    codec that reuses one after writing it must not get other bytes stored than it wrote."""
    from hitnb.store.codecs import Codec, register_codec, unregister_codec

    class Reusing(Codec):
        name = "test-reusing"
        types = (tuple,)

        def save(self, value, file):
            scratch = np.zeros(INLINE_LIMIT, dtype=np.uint8)
            for byte in value:
                scratch[:] = byte
                file.write(memoryview(scratch))

        def load(self, data, meta):
            view = np.frombuffer(data.buffer, dtype=np.uint8).reshape(-1, INLINE_LIMIT)
            return tuple(int(row[0]) for row in view if (row == row[0]).all())

    register_codec(Reusing())
    try:
        entry = LocalStore(tmp_path / "s").put(
            KEY, (1, 2, 3), function="mod.f", code="c" * 32, args="a" * 32,
            duration=1.5, instead=lambda size, seconds: None,
        )  # fmt: skip
        assert entry.codec == "test-reusing"
        assert LocalStore(tmp_path / "s").load(entry) == (1, 2, 3)
    finally:
        unregister_codec("test-reusing")


def test_store_is_private_to_its_owner(tmp_path):
    root = tmp_path / "s"
    store = LocalStore(root)
    entry = put(store, "y" * (INLINE_LIMIT * 2))
    assert stat.S_IMODE(root.stat().st_mode) == 0o700
    assert stat.S_IMODE(store.blobs.path(entry.blob).stat().st_mode) == 0o600
    assert stat.S_IMODE(store.manifest_path(KEY).stat().st_mode) == 0o600
    assert stat.S_IMODE((root / "index.sqlite").stat().st_mode) == 0o600
    assert (root / ".gitignore").read_text().strip().endswith("*")


def test_warns_when_store_is_writable_by_others(tmp_path):
    root = tmp_path / "s"
    LocalStore(root)
    os.chmod(root, 0o777)
    with pytest.warns(HitnbWarning, match="chmod -R go-rwx"):
        LocalStore(root)


def test_keys_are_validated_before_touching_paths(tmp_path):
    store = LocalStore(tmp_path / "s")
    for bad in ("../../etc/passwd", "a" * 31 + "/", "ZZ" * 16, "\x00" * 32):
        with pytest.raises(CorruptEntryError):
            store.manifest_path(bad)
        with pytest.raises(CorruptEntryError):
            store.blobs.path(bad)


def test_hits_are_counted(tmp_path):
    store = LocalStore(tmp_path / "s")
    put(store, 1)
    for _ in range(3):
        store.note_hit(KEY)
    assert store.entries()[0].hits == 3
    assert store.entries()[0].last_access >= store.entries()[0].created


def test_threads_share_a_store(tmp_path):
    store = LocalStore(tmp_path / "s")
    errors = []

    def work(i: int) -> None:
        try:
            key = f"{i:032x}"
            put(store, {"i": i, "pad": "z" * (i * 1000)}, key=key)
            assert store.load(store.get(key))["i"] == i
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert store.index.count() == 16


def test_forked_child_reopens_connections(tmp_path):
    store = LocalStore(tmp_path / "s")
    put(store, "parent")
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        try:
            put(store, "child", key="c" * 32)
            os._exit(0 if store.load(store.get(KEY)) == "parent" else 1)
        except BaseException:
            os._exit(2)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert store.load(store.get("c" * 32)) == "child"


def test_store_dir_created_lazily_with_parents(tmp_path):
    root = tmp_path / "deep" / "er" / "store"
    LocalStore(root)
    assert (root / "index.sqlite").exists()
    assert Path(root / "store.json").read_text().strip() == '{"format": 1}'


def test_an_index_from_an_older_hitnb_gains_new_columns(tmp_path):
    import sqlite3

    root = tmp_path / "old"
    store = LocalStore(root)
    put(store, [1, 2])
    store.close()
    conn = sqlite3.connect(root / "index.sqlite")
    conn.execute("ALTER TABLE entries DROP COLUMN series")  # what schema 1 looked like
    conn.execute("UPDATE meta SET value = '1' WHERE name = 'schema_version'")
    conn.commit()
    conn.close()
    reopened = LocalStore(root)
    assert reopened.load(reopened.get(KEY)) == [1, 2]
    assert reopened.get(KEY).series == {}
    version = reopened.index.conn.execute(
        "SELECT value FROM meta WHERE name = 'schema_version'"
    ).fetchone()[0]
    assert version == "2"


def test_learned_output_digests_belong_to_the_bytes_they_were_learned_for(tmp_path):
    store = LocalStore(tmp_path / "s")
    first = put(store, {"model": [1, 2]})
    store.learn_digests([(KEY, first.checksum, "model", "d" * 32)])
    assert store.learned_digests(KEY, first.checksum) == {"model": "d" * 32}
    again = put(store, {"model": [3]})  # the same key stored again, other bytes
    assert store.learned_digests(KEY, again.checksum) == {}
    store.learn_digests([(KEY, again.checksum, "model", "not a digest")])
    assert store.learned_digests(KEY, again.checksum) == {}, "a damaged row is no digest"
    store.learn_digests([(KEY, again.checksum, "model", "e" * 32)])
    store.delete([KEY])
    put(store, {"model": [3]})
    assert store.learned_digests(KEY, again.checksum) == {}, "removed with its entry"


def test_a_store_opened_by_its_path_as_text_is_the_same_store(tmp_path):
    """``open_store("folder")`` failed with AttributeError ('str' object has no attribute
    'exists'); text and a Path name one store, opened once."""
    from hitnb.store.local import open_store

    folder = tmp_path / "s"
    put(open_store(str(folder)), "x")
    assert open_store(folder) is open_store(str(folder))
    assert open_store(folder).load(open_store(folder).get(KEY)) == "x"
