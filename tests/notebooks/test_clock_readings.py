"""A cached cell that binds a reading of a clock: after a restart, the hit binds the clock's
reading at the hit (as a plain run would), not the time of the run it stored."""

from __future__ import annotations

import time

import pytest
from nbhelpers import KernelSession

pytestmark = pytest.mark.slow

READ = """%%memo
import datetime, time
import pandas as pd
t0 = time.perf_counter()
wall = time.time()
ticks = time.monotonic_ns()
seed = int(time.time())
now = datetime.datetime.now()
stamp = pd.Timestamp.now(tz="Europe/Paris")
day = datetime.date.today()
time.sleep(0.3)
t1 = time.perf_counter()
print("read")
"""

LATER = """
print(round(time.perf_counter() - t0, 0), round(time.time() - wall, 0),
      round((time.monotonic_ns() - ticks) / 1e9), abs(time.time() - seed) < 3,
      round((datetime.datetime.now() - now).total_seconds()),
      round((pd.Timestamp.now(tz="UTC") - stamp).total_seconds()), stamp.tz,
      day == datetime.date.today(), round(t1 - t0, 1))
"""


def test_a_hit_binds_the_clock_readings_of_the_cell_at_the_time_of_the_hit(
    isolated_store, tmp_path
):
    env = {"HITNB_STORE": str(isolated_store)}
    with KernelSession(tmp_path, env) as kernel:
        kernel.run("%load_ext hitnb")
        assert kernel.run(READ) == "read\n"
        first = kernel.run(LATER)
        time.sleep(4)  # what a stored reading would be off by, besides the restart
    with KernelSession(tmp_path, env) as kernel:
        kernel.run("%load_ext hitnb")
        assert kernel.run(READ) == "read\n"
        assert kernel.run("%hitnb why") == "the last %%memo cell came from the cache\n"
        second = kernel.run(LATER)
    expected = "0.0 0.0 0 True 0 0 Europe/Paris True 0.3\n"
    assert first == expected
    assert second == expected
