"""Every read is verified, memory-mapped ones included; a damaged blob heals.

A mapped blob is hashed in full when it is mapped (once per file state in a process), so a
flipped byte or a same-size replacement is refused before any codec sees it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import numpy as np
import pytest

import hitnb
from hitnb.errors import CorruptEntryWarning
from hitnb.store.local import LocalStore

pytestmark = [pytest.mark.slow, pytest.mark.faults]


def flip(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(data)


def blob_path(store: Path, key: str) -> Path:
    opened = LocalStore(store)
    entry = opened.get(key)
    assert entry is not None and entry.blob is not None
    return opened.blobs.path(entry.blob)


CALL_MAPPED = textwrap.dedent(
    """
    import warnings
    import numpy as np
    import hitnb
    warnings.simplefilter("always")

    @hitnb.memo(mmap=True)
    def ramp(n):
        return np.arange(n, dtype=np.float64)

    value = ramp(100_000)
    print(bool((value == np.arange(100_000, dtype=np.float64)).all()))
    """
)


def test_a_flipped_byte_in_a_mapped_blob_is_refused_in_every_process(
    isolated_store: Path, tmp_path: Path
):
    """Before: `mmap=True` returned the flipped value silently, in every later process."""
    env = {**os.environ, "HITNB_STORE": str(isolated_store)}

    def call() -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-c", CALL_MAPPED], env=env,
                              capture_output=True, text=True, cwd=tmp_path)  # fmt: skip

    assert call().stdout.strip() == "True"
    (blob,) = [p for p in (isolated_store / "objects").rglob("*") if p.is_file()]
    flip(blob)
    first, second = call(), call()
    assert first.stdout.strip() == second.stdout.strip() == "True"
    assert first.stderr.count("CorruptEntryWarning") == 1, first.stderr
    assert "Warning" not in second.stderr  # stored again by the first process


class Payload:
    def __reduce__(self):
        return (os.system, ("touch PWNED",))


def test_a_same_size_malicious_pickle_in_a_mapped_blob_never_runs(
    isolated_store: Path, tmp_path: Path
):
    """Before: a pickle of the same size put in place of a mapped blob was executed."""

    @hitnb.memo(mmap=True, codec="pickle")
    def table(n):
        return {"rows": list(range(n))}

    expected = table(50_000)
    path = blob_path(isolated_store, table.key(50_000))
    size = path.stat().st_size
    import io

    from hitnb.store.codecs import codec_named

    crafted = io.BytesIO()
    codec_named("pickle").save(Payload(), crafted)  # a valid hitnb pickle blob
    evil = crafted.getvalue()
    path.write_bytes(evil + b"\x00" * (size - len(evil)))  # what follows the stream is ignored
    assert path.stat().st_size == size
    with pytest.warns(CorruptEntryWarning):
        assert table(50_000) == expected
    assert not (tmp_path / "PWNED").exists()


def test_a_damaged_blob_shared_by_two_entries_heals(isolated_store: Path):
    """Before: the recomputed bytes were discarded because the damaged blob "existed", so
    the other entry sharing it stayed broken (a warning and a recomputation every time)."""
    calls = []

    @hitnb.memo(ignore=("calls",))
    def same(i):
        calls.append(i)
        return np.ones(50_000)  # identical bytes for every i: one blob

    same(1)
    same(2)
    path = blob_path(isolated_store, same.key(1))
    assert path == blob_path(isolated_store, same.key(2))
    flip(path)
    with pytest.warns(CorruptEntryWarning):
        assert float(same(1).sum()) == 50_000.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert float(same(2).sum()) == 50_000.0  # healed by the fresh bytes of same(1)
    assert calls == [1, 2, 1]


def test_a_repeat_hit_sees_another_process_delete_or_store_again(isolated_store: Path):
    """Before: a live process kept returning its in-memory copy after another process had
    deleted the entry or stored a new result under its key."""
    calls = []

    @hitnb.memo(ignore=("calls",))
    def draw(i):
        calls.append(i)
        return {"draw": len(calls)}

    assert draw(1) == {"draw": 1}
    assert draw(1) == draw(1) == {"draw": 1}  # repeat hits, served from this process
    other = LocalStore(isolated_store)  # another process's view of the store
    key = draw.key(1)
    other.delete([key])
    assert draw(1) == {"draw": 2}  # computed again, not the kept copy
    assert draw(1) == {"draw": 2}
    entry = other.get(key)
    other.put(key, {"draw": 99}, function=entry.function, code=entry.code, args=entry.args,
              duration=0.0)  # fmt: skip
    assert draw(1) == {"draw": 99}
