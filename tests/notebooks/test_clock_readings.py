"""A cell that binds a reading of a clock runs every time, as plainly: restored, it would
bring back the time of the run that was stored (and what it made from it agrees with that
time only)."""

from __future__ import annotations

import time

import pytest
from nbhelpers import KernelSession

pytestmark = pytest.mark.slow

READ = """%%memo
import datetime, random, time
import pandas as pd
time.sleep(0.2)
t0 = time.perf_counter()
wall = time.time()
ticks = time.monotonic_ns()
seed = int(time.time())
random.seed(seed)
drawn = random.random()
now = datetime.datetime.now()
stamp = pd.Timestamp.now(tz="Europe/Paris")
day = datetime.date.today()
time.sleep(0.3)
t1 = time.perf_counter()
print("read")
"""

LATER = """
random.seed(seed)
print(round(time.perf_counter() - t0, 0), round(time.time() - wall, 0),
      round((time.monotonic_ns() - ticks) / 1e9), abs(time.time() - seed) < 3,
      random.random() == drawn, round((datetime.datetime.now() - now).total_seconds()),
      round((pd.Timestamp.now(tz="UTC") - stamp).total_seconds()),
      day == datetime.date.today(), round(t1 - t0, 1))
"""

DELETED = """%%memo
import time
t0 = time.perf_counter()
time.sleep(0.3)
print("took", round(time.perf_counter() - t0, 1))
del t0
"""


def test_a_cell_binding_readings_of_a_clock_runs_every_session_as_plainly(isolated_store, tmp_path):
    env = {"HITNB_STORE": str(isolated_store)}
    runs = []
    for _ in range(2):
        with KernelSession(tmp_path, env) as kernel:
            kernel.run("%load_ext hitnb")
            shown = kernel.run(READ)
            why = kernel.run("%hitnb why")
            later = kernel.run(LATER)
            assert kernel.run(DELETED) == "took 0.3\n"
            runs.append((shown, why, later, kernel.run("%hitnb why")))
        time.sleep(4)  # what a stored reading would be off by, besides the restart
    expected = "0.0 0.0 0 True True 0 0 True 0.3\n"
    for shown, why, later, _ in runs:
        assert shown.startswith("read\nhitnb: this cell ran but was not cached: `day` holds")
        assert "`day` holds a reading of the clock (date.today)" in why, why
        assert "`del day` at the end of the cell lets it be cached" in why
        assert later == expected
    assert runs[1][3] == "the last %%memo cell came from the cache\n"


def test_a_clock_called_under_another_name_is_found(isolated_store, tmp_path):
    env = {"HITNB_STORE": str(isolated_store)}
    setup = "from time import perf_counter as pc, sleep\nimport timeit"
    for cell, name in (("x0 = pc()", "x0"), ("w0 = timeit.default_timer()", "w0")):
        with KernelSession(tmp_path, env) as kernel:
            kernel.run("%load_ext hitnb")
            kernel.run(setup)
            shown = kernel.run(f"%%memo\n{cell}\nsleep(0.2)")
        assert f"not cached: `{name}` holds a reading of the clock (time.perf_counter)" in shown
