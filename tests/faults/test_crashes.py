"""SIGKILL a process while it writes results, 50 times: nothing corrupt, nothing wrong."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from hitnb.store import maintenance
from hitnb.store.local import LocalStore

pytestmark = [pytest.mark.slow, pytest.mark.faults]

# Writes new 1 MB results (temp file, fsync, rename, manifest, index row) until killed,
# printing each one it finished; asked to check, it calls the ones given and compares.
WORKER = textwrap.dedent(
    """
    import itertools, sys
    import numpy as np
    import hitnb

    @hitnb.memo
    def block(run, j):
        return np.full(125_000, run * 1000.0 + j)

    if sys.argv[1] == "write":
        run = int(sys.argv[2])
        for j in itertools.count():
            block(run, j)
            print(j, flush=True)
    else:
        for pair in sys.argv[2:]:
            run, j = map(int, pair.split(","))
            value = block(run, j)
            assert value.shape == (125_000,) and float(value[7]) == run * 1000.0 + j, pair
        print("checked", len(sys.argv) - 2)
    """
)
KILLS = 50


def test_fifty_kills_mid_write_lose_nothing_and_corrupt_nothing(tmp_path: Path, isolated_store):
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    env = {**os.environ, "HITNB_STORE": str(isolated_store)}
    rng = random.Random(11)
    attempted: list[str] = []
    for run in range(KILLS):
        worker = subprocess.Popen(
            [sys.executable, str(script), "write", str(run)], env=env,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        # kill at a random moment after its first finished write (however slow its start-up
        # is on a busy machine), so every kill lands in the middle of some write
        first = worker.stdout.readline() if worker.stdout else ""
        assert first, worker.stderr.read() if worker.stderr else "the worker died"
        time.sleep(rng.uniform(0.0, 0.3))
        worker.send_signal(signal.SIGKILL)
        out, _ = worker.communicate()
        finished = [int(j) for j in (first + out).split()]
        # the one it was writing when killed, and the next, may be half done or absent
        attempted += [f"{run},{j}" for j in range(len(finished) + 2)]
    store = LocalStore(isolated_store)
    first_report = report = maintenance.verify(store)
    assert report.ok, report.problems
    check = subprocess.run(
        [sys.executable, str(script), "check", *attempted], env=env, capture_output=True, text=True
    )
    assert check.returncode == 0, check.stderr
    assert check.stdout.strip() == f"checked {len(attempted)}"
    assert "Warning" not in check.stderr, check.stderr  # no corrupt entry was met on the way
    report = maintenance.verify(LocalStore(isolated_store))
    assert report.ok and report.checked >= len(attempted), report.problems
    garbage = maintenance.collect_garbage(LocalStore(isolated_store))
    assert all(r.startswith(("temp file", "orphan blob")) for r in garbage.removed)
    late = sum("not indexed yet" in note for note in first_report.notes)
    print(
        f"{KILLS} kills, {len(attempted)} calls checked, {late} entries indexed late, "
        f"{len(garbage.removed)} leftovers of killed writes removed"
    )
