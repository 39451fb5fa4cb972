"""Many processes on one store while everything that can break does, at random.

Four workers call a memoized function and an experiment in a loop, checking every value
they get back, under a size limit that makes them evict. Meanwhile: workers are killed
(mid-write, mid-eviction) and restarted; ``gc --max-size`` runs are killed half way;
garbage is written into the index while it is in use (processes rebuild it, and some are
killed while they do); the disk fills up (a small tmpfs) and, where the kernel allows, the
file system goes read-only for a moment.

Afterwards: no call returned a wrong value, none raised, every experiment result that was
stored is still there with its value, and ``hitnb verify`` finds the store clean.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.stress, pytest.mark.faults]

SECONDS = 30.0
WORKERS = 4

SCRIPT = textwrap.dedent(
    """
    import random, sys, time, warnings
    from pathlib import Path
    import numpy as np
    import hitnb
    from hitnb.errors import StoreWriteWarning

    @hitnb.memo
    def block(k):
        return np.full(250 * (1 + k % 40), float(k))  # 2 kB to 80 kB

    @hitnb.experiment
    def train(run):
        return {"score": run * 0.5, "weights": np.arange(3000) * run}  # a 24 kB blob

    def work(log_path, seed, deadline):
        rng = random.Random(seed)
        with open(log_path, "a", buffering=1) as log:
            while time.time() < deadline:
                try:
                    with warnings.catch_warnings(record=True) as caught:
                        warnings.simplefilter("always")
                        if rng.random() < 0.2:
                            run = rng.randrange(200)
                            value = train(run)
                            ok = value["score"] == run * 0.5 and int(value["weights"][7]) == 7 * run
                            stored = not any(
                                issubclass(w.category, StoreWriteWarning) for w in caught
                            )
                            log.write(f"{'ok' if ok else 'wrong'} exp {run} {int(stored)}\\n")
                        else:
                            k = rng.randrange(60)
                            value = block(k)
                            ok = value.shape == (250 * (1 + k % 40),) and float(value[-1]) == k
                            log.write(f"{'ok' if ok else 'wrong'} block {k}\\n")
                except Exception as exc:
                    text = f"{type(exc).__name__}: {exc}".replace("\\n", " ")
                    log.write(f"raised {text}\\n")

    def check(runs):
        from hitnb.store.local import LocalStore

        store = LocalStore(Path(sys.argv[2]))
        lost = [
            run for run in runs
            if (entry := store.get(train.key(run))) is None
            or int(store.load(entry)["weights"][7]) != 7 * run
        ]
        print("lost", len(lost), lost[:10])

    if sys.argv[1] == "work":
        work(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]))
    else:
        check([int(r) for r in sys.argv[3:]])
    """
)

GC = """
import sys
from pathlib import Path
from hitnb.store.local import LocalStore
from hitnb.store import maintenance
store = LocalStore(Path(sys.argv[1]))
maintenance.evict(store, max_size=int(sys.argv[2]))
maintenance.collect_garbage(store)
"""

OPEN = """
import sys
from pathlib import Path
from hitnb.store.local import LocalStore
LocalStore(Path(sys.argv[1])).index.count()
"""


def _mount(*args: str) -> bool:
    return subprocess.run(["mount", *args], capture_output=True).returncode == 0


@pytest.fixture
def disk(tmp_path: Path) -> Iterator[tuple[Path, bool]]:
    """A 24 MB tmpfs that can fill up (and be remounted read-only), where mounting is
    permitted; else a plain folder (then the full-disk and read-only faults are skipped)."""
    where = tmp_path / "disk"
    where.mkdir()
    mounted = _mount("-t", "tmpfs", "-o", "size=24m", "tmpfs", str(where))
    try:
        yield where, mounted
    finally:
        if mounted:
            _mount("-o", "remount,rw", str(where))
            subprocess.run(["umount", "-l", str(where)], capture_output=True)


def _garbage(index: Path, rng: random.Random) -> None:
    """512 random bytes in the middle of the index file, written in place."""
    try:
        size = index.stat().st_size
        with open(index, "r+b") as fh:
            fh.seek(rng.randrange(4096, max(4097, size - 512)))
            fh.write(rng.randbytes(512))
    except OSError:
        pass


def test_no_wrong_value_no_lost_experiment_whatever_breaks(disk, tmp_path: Path):
    where, mounted = disk
    store = where / "store"
    script = tmp_path / "worker.py"
    script.write_text(SCRIPT)
    env = {**os.environ, "HITNB_STORE": str(store), "HITNB_MAX_SIZE": "6MB",
           "HITNB_CONFIG": str(tmp_path / "c.toml"), "HITNB_QUIET": "1"}  # fmt: skip
    rng = random.Random(20)
    deadline = time.time() + SECONDS
    faults: Counter[str] = Counter()

    def start(i: int) -> subprocess.Popen[bytes]:
        log = tmp_path / f"worker-{i}.log"
        return subprocess.Popen(
            [sys.executable, str(script), "work", str(log), str(rng.randrange(10**9)),
             str(deadline)],
            env=env, stderr=subprocess.DEVNULL,
        )  # fmt: skip

    def kill_soon(args: list[str]) -> None:
        proc = subprocess.Popen([sys.executable, "-c", *args], env=env,
                                stderr=subprocess.DEVNULL)  # fmt: skip
        time.sleep(rng.uniform(0.2, 0.8))  # start-up, then somewhere in the work
        proc.send_signal(signal.SIGKILL)
        proc.wait()

    workers = [start(i) for i in range(WORKERS)]
    time.sleep(1.5)
    while time.time() < deadline - 4.0:  # the last seconds are calm: workers finish
        fault = rng.choice(["kill", "kill", "gc", "garbage", "rebuild", "full", "read-only"])
        if fault == "kill":
            i = rng.randrange(WORKERS)
            workers[i].send_signal(signal.SIGKILL)
            workers[i].wait()
            workers[i] = start(i)
        elif fault == "gc":
            kill_soon([GC, str(store), "1000000"])
        elif fault == "garbage":
            _garbage(store / "index.sqlite", rng)
        elif fault == "rebuild":  # damage, then kill a process while it rebuilds
            _garbage(store / "index.sqlite", rng)
            kill_soon([OPEN, str(store)])
        elif fault == "full" and mounted:
            filler = where / "filler"
            fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
            try:
                while os.write(fd, b"\0" * 65536):
                    pass
            except OSError:
                pass  # full
            finally:
                os.close(fd)
            time.sleep(rng.uniform(0.3, 1.0))
            filler.unlink()
        elif fault == "read-only" and mounted:
            if not _mount("-o", "remount,ro", str(where)):
                continue  # files open for writing: the kernel refuses, as it may
            time.sleep(rng.uniform(0.3, 1.0))
            _mount("-o", "remount,rw", str(where))
        else:
            continue
        faults[fault] += 1
        time.sleep(rng.uniform(0.1, 0.4))
    for worker in workers:
        worker.wait(timeout=120)

    lines = [line for log in tmp_path.glob("worker-*.log") for line in log.read_text().splitlines()]
    outcomes = Counter(line.split()[0] for line in lines)
    raised = [line for line in lines if line.startswith("raised")]
    stored = sorted({int(line.split()[2]) for line in lines
                     if line.startswith("ok exp") and line.endswith(" 1")})  # fmt: skip
    print(f"\nfaults {dict(faults)}; calls {dict(outcomes)}; experiments stored {len(stored)}")
    assert outcomes["wrong"] == 0
    assert raised == [], raised[:5]
    assert outcomes["ok"] > 200 and len(stored) > 10
    assert sum(faults.values()) > 20 and faults["kill"] >= 3

    check = subprocess.run(
        [sys.executable, str(script), "check", str(store), *map(str, stored)],
        env=env, capture_output=True, text=True,
    )  # fmt: skip
    assert check.returncode == 0, check.stderr
    assert check.stdout.startswith("lost 0 "), check.stdout

    hitnb_cli = [sys.executable, "-m", "hitnb", "--store", str(store)]
    for verb in (["gc"], ["verify", "--repair"]):
        done = subprocess.run([*hitnb_cli, *verb], env=env, capture_output=True, text=True)
        assert "Traceback" not in done.stderr, done.stderr
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    final = subprocess.run([*hitnb_cli, "verify"], env=env, capture_output=True, text=True)
    assert final.returncode == 0, final.stdout + final.stderr
    assert "problem" not in final.stdout
