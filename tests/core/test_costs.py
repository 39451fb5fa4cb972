"""Caching never costs more than it saves: a result that is cheap to compute and big to
store is computed again on a hit, and only when that gives the same result."""

from __future__ import annotations

import itertools
import time
from pathlib import Path

import numpy as np

from hitnb import experiment, memo
from hitnb.core import costs


def _stored_bytes(store: Path) -> int:
    return sum(p.stat().st_size for p in (store / "objects").rglob("*") if p.is_file())


def test_a_big_cheap_result_is_computed_again_not_stored(isolated_store, counter):
    calls = counter()

    @memo
    def zeros(n):
        calls.hit("zeros")
        return np.zeros(n)

    first = zeros(50_000_000)  # 400 MB in well under a millisecond
    second = zeros(50_000_000)
    assert calls["zeros"] == 2  # the hit ran it again
    assert second.shape == first.shape and not second.any()
    assert _stored_bytes(isolated_store) < 1_000_000  # the 400 MB were never written


def test_a_slow_small_result_is_still_restored(counter):
    calls = counter()

    @memo
    def slow(n):
        calls.hit("slow")
        time.sleep(0.2)
        return n * 2

    assert slow(3) == 6
    started = time.perf_counter()
    assert slow(3) == 6
    assert calls["slow"] == 1
    assert time.perf_counter() - started < 0.2


def test_a_cheap_result_that_is_not_deterministic_is_stored_once_it_differs(counter):
    calls = counter()
    clock = itertools.count()

    @memo
    def stamped(n):
        calls.hit("stamped")
        values = np.zeros(n)
        values[0] = next(clock)  # state hitnb cannot see it read: a counter
        return values

    assert stamped(20_000_000)[0] == 0.0  # 160 MB in a millisecond: stored as a re-run
    assert stamped(20_000_000)[0] == 1.0  # run again: another result, so it is stored in full
    assert stamped(20_000_000)[0] == 1.0  # from now on restored
    assert calls["stamped"] == 2


def test_the_rule():
    assert costs.worth_rerunning(0.001, 400_000_000)
    assert not costs.worth_rerunning(1.0, 400_000_000)  # slower than restoring: restore
    assert not costs.worth_rerunning(0.0, costs.MIN_BYTES - 1)  # small: always stored
    assert costs.nbytes_of([np.zeros(10), b"abc", "de", object()]) == 85


def test_experiments_and_runs_that_write_files_are_always_stored(tmp_path, counter):
    calls = counter()

    @experiment
    def trial(n):
        calls.hit("trial")
        return np.zeros(n)

    @memo
    def write(n):
        calls.hit("write")
        (tmp_path / "out.txt").write_text("written")
        return np.zeros(n)

    for _ in range(2):
        trial(10_000_000)
        write(10_000_000)
    assert calls == {"trial": 1, "write": 1}
