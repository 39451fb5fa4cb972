"""A KeyboardInterrupt mid-call stores nothing, releases its lock, and the next run computes."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from nbclient.exceptions import CellExecutionError

import hitnb

pytestmark = [pytest.mark.slow, pytest.mark.faults]


def test_interrupted_memo_call(isolated_store):
    attempts = []

    @hitnb.memo(ignore=("attempts",))
    def slow(x):
        attempts.append(x)
        if len(attempts) == 1:
            raise KeyboardInterrupt  # what Ctrl-C / the kernel's interrupt raises
        return x * 2

    with pytest.raises(KeyboardInterrupt):
        slow(21)
    assert not slow.is_cached(21)
    store = slow._store()
    with store.locks.hold(slow.key(21), 0.5) as acquired:
        assert acquired  # the lock went with the interrupted call
    assert slow(21) == 42 and attempts == [21, 21]


def test_interrupted_memo_cell_in_a_kernel(tmp_path: Path, isolated_store):
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "notebooks"))
    from nbhelpers import KernelSession

    env = {"HITNB_STORE": str(isolated_store), "PYTHONPATH": ""}
    with KernelSession(tmp_path, env) as kernel:
        kernel.run("%load_ext hitnb\nimport time")
        cell = "%%memo -n sleepy\nprint('start')\ntime.sleep(N)\ndone = True"
        kernel.run("N = 30")
        from jupyter_core.utils import run_sync

        client = kernel._client
        timer = threading.Timer(2.0, run_sync(client.km.interrupt_kernel))
        timer.start()
        start = time.monotonic()
        with pytest.raises(CellExecutionError, match="KeyboardInterrupt"):
            kernel.run(cell)
        assert time.monotonic() - start < 20
        assert "sleepy" not in kernel.run("%hitnb ls")  # nothing stored
        kernel.run("N = 30")
        assert kernel.run("print('done' in globals())") == "False\n"
        kernel.run("N = 0")
        assert kernel.run(cell) == "start\n"  # runs, no longer interrupted
        assert "sleepy" in kernel.run("%hitnb ls")
