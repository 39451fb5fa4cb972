"""Which values are readings of a clock taken while a run ran."""

from __future__ import annotations

import datetime
import time

import numpy as np
import pandas as pd

from hitnb.core.clocks import clock_of, is_clock, may_read_a_clock, read_clocks, readings_in


def test_a_reading_of_each_clock_taken_during_the_run_is_found():
    reads = {
        "time.time": time.time,
        "time.perf_counter": time.perf_counter,
        "time.time_ns": time.time_ns,
        "whole seconds": lambda: int(time.time()),
        "naive now": datetime.datetime.now,
        "utcnow": lambda: datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None),
        "aware Timestamp": lambda: pd.Timestamp.now(tz="Asia/Tokyo"),
        "today": datetime.date.today,
    }
    for what, read in reads.items():
        before = read_clocks()
        value = read()
        after = read_clocks()
        assert clock_of(value, before, after) is not None, what
    before = read_clocks()
    ticks = time.monotonic_ns()
    assert clock_of(ticks, before, read_clocks()) in ("time.monotonic_ns", "time.perf_counter_ns")


def test_values_that_are_no_reading_are_not_found():
    before = read_clocks()
    time.sleep(0.01)
    after = read_clocks()
    values = {
        "flag": True,
        "count": int(before.perf_counter),  # whole seconds of the monotonic clocks: no
        "loss": 0.25,
        "deadline": before.time + 60,
        "old": datetime.datetime(2020, 1, 1),
        "yesterday": datetime.date.today() - datetime.timedelta(days=1),
        "label": str(before.time),
        "numpy": np.float64(before.time + 0.001),
    }
    assert readings_in(values, before, after) == {}
    assert readings_in({"t0": before.time + 0.001, "n": 3}, before, after) == {"t0": "time.time"}


def test_only_cells_naming_a_clock_are_looked_at():
    assert may_read_a_clock("t0 = time.perf_counter()")
    assert may_read_a_clock("from time import time\nstart = time()")
    assert may_read_a_clock("stamp = pd.Timestamp.now()")
    assert not may_read_a_clock("aic = res.aic\ntimes = [1, 2]\nruntime = 3")


def test_clocks_are_known_under_other_names():
    import timeit
    from time import perf_counter as pc

    assert is_clock(pc) and is_clock(timeit.default_timer) and is_clock(datetime.datetime.now)
    assert not is_clock(print) and not is_clock(np.array([1.0, 2.0])) and not is_clock(time.sleep)
