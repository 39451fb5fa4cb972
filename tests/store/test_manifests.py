"""Manifests are checked against the key they are read for, and read by older hitnbs.

A signature covers every field of a manifest (its key, blob digest and checksum included),
and a manifest found under another key's path is refused, signed or not: it would give
that other call's value. Fields a newer hitnb added are ignored with one warning.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from hitnb.errors import CorruptEntryError, CorruptEntryWarning, HitnbWarning
from hitnb.store import local
from hitnb.store.local import LocalStore, open_store
from hitnb.store.remote import sign


@pytest.fixture
def shared(tmp_path: Path) -> str:
    """A shared store in fsspec's in-memory file system (any fsspec URL works alike)."""
    return f"memory://{tmp_path.name}"


def laptop(tmp_path: Path, name: str, shared: str) -> LocalStore:
    """A local store of its own with ``shared`` behind it, as on another machine."""
    local._open.pop(tmp_path / name, None)
    return open_store(tmp_path / name, remote=shared, signing_key="team secret")


def shared_fs():
    import fsspec

    return fsspec.filesystem("memory")


def manifest_at(shared: str, key: str) -> str:
    return f"{shared[len('memory://') :]}/entries/{key[:2]}/{key}.json"


def put(store: LocalStore, key: str, value: object) -> None:
    store.put(key, value, function="mod.f", code="c", args=key, duration=0.1)


def test_a_signed_manifest_copied_to_another_keys_path_is_refused(tmp_path: Path, shared):
    """Before: every reader of key B returned A's value, silently, in every process."""
    a, b = "a" * 32, "b" * 32
    first = laptop(tmp_path, "one", shared)
    put(first, a, "value of A")
    put(first, b, "value of B")
    fs = shared_fs()
    fs.pipe_file(manifest_at(shared, b), fs.cat_file(manifest_at(shared, a)))
    second = laptop(tmp_path, "two", shared)
    with pytest.warns(CorruptEntryWarning, match="that of entry 'a+'"):
        assert second.get(b) is None  # refused: B is computed again, never served A's value
    assert second.load(second.get(a)) == "value of A"


def test_the_signature_covers_the_key_and_the_blob_digest(tmp_path: Path, shared):
    first = laptop(tmp_path, "one", shared)
    put(first, "c" * 32, "x" * 40_000)  # a blob
    fs = shared_fs()
    record = json.loads(fs.cat_file(manifest_at(shared, "c" * 32)))
    for field, forged in (("key", "d" * 32), ("blob", "0" * 32), ("checksum", "0" * 32)):
        assert sign({**record, field: forged}, b"team secret") != record["signature"], field
    forged = {**record, "blob": "0" * 32}  # another digest under the old signature
    fs.pipe_file(manifest_at(shared, "c" * 32), json.dumps(forged).encode())
    second = laptop(tmp_path, "two", shared)
    with pytest.warns(CorruptEntryWarning, match="changed"):
        assert second.get("c" * 32) is None


def test_unknown_fields_are_ignored_with_one_warning(tmp_path: Path, shared):
    """Before: one unknown field in a shared manifest made the call raise TypeError."""
    first = laptop(tmp_path, "one", shared)
    put(first, "e" * 32, {"the": "value"})
    fs = shared_fs()
    record = json.loads(fs.cat_file(manifest_at(shared, "e" * 32)))
    del record["signature"]
    record["added_by_a_newer_hitnb"] = {"anything": 1}
    record["signature"] = sign(record, b"team secret")
    fs.pipe_file(manifest_at(shared, "e" * 32), json.dumps(record).encode())
    getattr(local, "_unknown_warned", set()).clear()
    second = laptop(tmp_path, "two", shared)
    with pytest.warns(HitnbWarning, match="added_by_a_newer_hitnb") as caught:
        assert second.load(second.get("e" * 32)) == {"the": "value"}
        assert second.load(second.get("e" * 32)) == {"the": "value"}
    assert len([w for w in caught if "does not know" in str(w.message)]) == 1


def test_a_local_manifest_under_another_keys_path_is_refused(tmp_path: Path):
    store = LocalStore(tmp_path / "s")
    put(store, "e" * 32, "value of E")
    target = store.manifest_path("f" * 32)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(store.manifest_path("e" * 32), target)
    with pytest.raises(CorruptEntryError, match=r"that of entry 'e+'"):
        store.get("f" * 32)  # never E's value (a memoized call warns and recomputes)
    from hitnb.store import maintenance

    assert any("f" * 32 in p for p in maintenance.verify(store).problems)
