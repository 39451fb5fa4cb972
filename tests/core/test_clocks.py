"""Which values are readings of a clock taken while a run ran, and what they are at a hit."""

from __future__ import annotations

import datetime
import time

import pandas as pd

from hitnb.core.clocks import may_read_a_clock, moved, read_clocks, reading_of, readings_in

SAME_CLOCK = {"monotonic_ns", "perf_counter_ns"}
"""One clock where the operating system gives both (Linux): either name is right."""


def _around(read):
    before = read_clocks()
    value = read()
    return value, before, read_clocks()


def test_readings_of_each_clock_are_found_and_moved_to_a_later_moment_keeping_their_type():
    reads = {
        "time": time.time,
        "perf_counter": time.perf_counter,
        "monotonic_ns": time.monotonic_ns,
        "whole_seconds": lambda: int(time.time()),
        "now": datetime.datetime.now,
        "aware": lambda: pd.Timestamp.now(tz="Asia/Tokyo"),
        "today": datetime.date.today,
    }
    for clock, read in reads.items():
        value, before, after = _around(read)
        reading = reading_of(value, before, after)
        assert reading is not None, clock
        assert reading.clock == clock or {clock, reading.clock} == SAME_CLOCK, (clock, reading)
        time.sleep(0.02)
        later = read_clocks()
        new = moved(value, reading, later)
        assert type(new) is type(value)
        if clock == "aware":
            assert str(new.tz) == "Asia/Tokyo" and new > value
        elif clock in ("today", "whole_seconds"):
            assert new >= value
        else:
            assert new > value


def test_two_readings_of_one_run_keep_their_difference():
    before = read_clocks()
    t0 = time.perf_counter()
    time.sleep(0.05)
    t1 = time.perf_counter()
    after = read_clocks()
    found = readings_in({"t0": t0, "t1": t1, "n": 3}, before, after)
    assert set(found) == {"t0", "t1"}
    time.sleep(0.05)
    now = read_clocks()
    a, b = (moved(v, found[k], now) for k, v in (("t0", t0), ("t1", t1)))
    assert abs((b - a) - (t1 - t0)) < 1e-6 and a > t1


def test_values_that_are_no_reading_are_left_alone():
    before = read_clocks()
    time.sleep(0.01)
    after = read_clocks()
    values = {
        "flag": True,
        "count": int(before.perf_counter),  # whole seconds of the monotonic clocks: no
        "loss": 0.25,
        "deadline": before.time + 60,
        "old": datetime.datetime(2020, 1, 1),
        "label": str(before.time),
        "array_item": __import__("numpy").float64(before.time + 0.001),
    }
    assert readings_in(values, before, after) == {}


def test_only_cells_naming_a_clock_are_looked_at():
    assert may_read_a_clock("t0 = time.perf_counter()")
    assert may_read_a_clock("from time import time\nstart = time()")
    assert may_read_a_clock("stamp = pd.Timestamp.now()")
    assert not may_read_a_clock("aic = res.aic\ntimes = [1, 2]\nruntime = 3")
