"""A full disk and a read-only store, on a real small tmpfs where mounting is permitted."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import hitnb
from hitnb.errors import StoreWriteWarning
from hitnb.store import maintenance
from hitnb.store.local import LocalStore

pytestmark = [pytest.mark.slow, pytest.mark.faults]


def test_disk_full_returns_results_leaves_nothing_half_written_and_recovers(small_disk):
    hitnb.configure(store=small_disk / "store")
    computed = []

    @hitnb.memo(ignore=("computed",))
    def block(i):
        computed.append(i)
        return np.full(250_000, float(i))  # 2 MB each: the second one does not fit

    assert block(0)[0] == 0.0
    with pytest.warns(StoreWriteWarning, match="No space left on device"):
        assert block(1)[0] == 1.0
    store = LocalStore(small_disk / "store")
    assert list(store.blobs.tmp.glob("*")) == []  # the failed write left no temp file
    assert maintenance.verify(store).ok
    assert block.is_cached(0) and not block.is_cached(1)
    block.clear()  # space returns
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        block(1)
    assert block.is_cached(1) and computed == [0, 1, 1]


def test_read_only_store_still_returns_results(small_disk, remount):
    store_path = small_disk / "store"
    hitnb.configure(store=store_path)

    @hitnb.memo
    def square(x):
        return x * x

    assert square(3) == 9
    from hitnb.store import local

    local.close_stores()
    assert remount(small_disk, "ro")
    try:
        assert square(3) == 9  # a hit still reads
        with pytest.warns(StoreWriteWarning, match="not stored"):
            assert square(4) == 16
    finally:
        remount(small_disk, "rw")
    assert square(4) == 16 and square.is_cached(4)
