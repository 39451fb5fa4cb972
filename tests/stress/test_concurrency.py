"""Many processes and threads on one store: every result right, every key computed once."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
from collections import Counter
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.stress]

WORKER = textwrap.dedent(
    """
    import os, random, sys, time
    import hitnb

    LOG = sys.argv[1]

    @hitnb.memo
    def slow_square(k):
        with open(LOG, "a") as fh:  # one short append per computation: atomic
            fh.write(f"{k} {os.getpid()}\\n")
        time.sleep(random.uniform(0.01, 0.05))
        return {"k": k, "square": k * k}

    rng = random.Random(int(sys.argv[2]))
    for _ in range(int(sys.argv[3])):
        k = rng.randrange(int(sys.argv[4]))
        assert slow_square(k) == {"k": k, "square": k * k}, k
        time.sleep(rng.uniform(0, 0.002))
    print("ok")
    """
)


def test_processes_share_keys_without_computing_twice(tmp_path: Path, isolated_store: Path) -> None:
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    log = tmp_path / "computed.log"
    env = {**os.environ, "HITNB_STORE": str(isolated_store)}
    workers = [
        subprocess.Popen(
            [sys.executable, str(script), str(log), str(seed), "200", "20"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for seed in range(8)
    ]
    outcomes = [w.communicate(timeout=600) for w in workers]
    for worker, (out, err) in zip(workers, outcomes, strict=True):
        assert worker.returncode == 0, err
        assert out.strip() == "ok"
        assert "Warning" not in err, err
    computed = Counter(line.split()[0] for line in log.read_text().splitlines())
    assert sorted(computed) == sorted(str(k) for k in range(20))
    assert set(computed.values()) == {1}, computed


def test_threads_share_keys_without_computing_twice(isolated_store: Path) -> None:
    import random
    import time

    import hitnb

    computed: Counter[int] = Counter()
    lock = threading.Lock()

    @hitnb.memo(ignore=("lock", "computed"))  # bookkeeping, not inputs
    def cube(k: int) -> int:
        with lock:
            computed[k] += 1
        time.sleep(0.02)
        return k**3

    errors: list[BaseException] = []

    def work(seed: int) -> None:
        rng = random.Random(seed)
        try:
            for _ in range(100):
                k = rng.randrange(10)
                assert cube(k) == k**3
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(s,)) for s in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(computed) == list(range(10))
    assert set(computed.values()) == {1}, computed


def test_the_wait_can_be_turned_off(isolated_store: Path) -> None:
    import time

    import hitnb

    started = threading.Event()
    runs: list[int] = []

    @hitnb.memo(wait=False, ignore=("runs", "started"))
    def slow(k: int) -> int:
        runs.append(k)
        started.set()
        time.sleep(0.3)
        return k

    other = threading.Thread(target=slow, args=(1,))
    other.start()
    started.wait(5)
    assert slow(1) == 1  # did not wait: computed here too
    other.join()
    assert runs == [1, 1]


def test_a_crashed_holder_leaves_no_stale_lock(tmp_path: Path, isolated_store: Path) -> None:
    import signal
    import time

    from hitnb.store.local import LocalStore

    key = "ab" * 16
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\nfrom pathlib import Path\nfrom hitnb.store.local import LocalStore\n"
            f"store = LocalStore(Path({str(isolated_store)!r}))\n"
            f"with store.locks.hold({key!r}, 5):\n"
            "    print('holding', flush=True)\n"
            "    time.sleep(60)\n",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
    store = LocalStore(isolated_store)
    with store.locks.hold(key, 0.2) as acquired:
        assert not acquired  # really held by the other process
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    start = time.monotonic()
    with store.locks.hold(key, 5) as acquired:
        assert acquired
    assert time.monotonic() - start < 1.0
