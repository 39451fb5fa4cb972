"""Large blobs are written and read in pieces, hashed on the way: byte-exact and checked."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hitnb.errors import CorruptEntryError
from hitnb.store.blobs import CHUNK
from hitnb.store.local import LocalStore


@pytest.fixture
def store(tmp_path: Path) -> LocalStore:
    return LocalStore(tmp_path / "s")


def test_a_blob_of_several_pieces_round_trips(store):
    a = np.random.default_rng(1).random((3 * CHUNK + 12_345) // 8)
    entry = store.put("a" * 32, a, function="f", code="c", args="a", duration=0.0)
    assert entry.size > 3 * CHUNK
    back = store.load(entry)
    np.testing.assert_array_equal(back, a)
    back[0] = -1.0  # a loaded result is the caller's to change, as before
    np.testing.assert_array_equal(store.load(entry)[1:], a[1:])


@pytest.mark.parametrize(
    "damage", ["flip a byte in the first piece", "flip a byte in the last piece", "truncate"]
)
def test_damage_anywhere_in_a_large_blob_is_caught(store, damage):
    a = np.arange((2 * CHUNK + 999) // 8, dtype=np.int64)
    entry = store.put("b" * 32, a, function="f", code="c", args="a", duration=0.0)
    path = store.blobs.path(entry.blob)
    data = bytearray(path.read_bytes())
    if damage == "truncate":
        del data[-100:]
    elif damage == "flip a byte in the first piece":
        data[CHUNK // 2] ^= 0xFF
    else:
        data[-5] ^= 0xFF
    path.chmod(0o600)
    path.write_bytes(bytes(data))
    with pytest.raises(CorruptEntryError):
        store.load(entry)
