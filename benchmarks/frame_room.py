"""Calls across a chunk of the frame stack's end, with and without hitnb's frame room.

Two measures, each beside its anchor in the same run:

- **Depths**: in this process (with six idle threads, as a kernel has), 20,000 calls of a
  trivial function made at each depth from 0 to 300 frames below here, then the same below
  :func:`hitnb.frame_room.with_frame_room`. Reported: the median depth's milliseconds (the
  anchor) and the worst depth's, as a ratio of it.
- **A hit of** ``import numpy as np`` as a notebook's first cell after ``%load_ext hitnb``, in
  fresh kernels on one store: plain (the anchor), the hit, and the hit with the room taken out
  (the magic calls the cell's work directly). Seconds are the kernel's busy time per cell,
  medians of ``--repeat`` rounds.

    python benchmarks/frame_room.py [--repeat 5] [--smoke]
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import os
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hitnb.frame_room import with_frame_room

CALLS, SMOKE_CALLS = 20_000, 2_000
DEPTHS = 300
NO_ROOM = "import hitnb.ipython.magics as _m; _m.with_frame_room = lambda work: work()"
"""Run before the cell, for the hit without the room."""


def _at(depth: int, work: Callable[[], float]) -> float:
    return work() if depth == 0 else _at(depth - 1, work)


def _leaf() -> None:
    pass


def _timed(calls: int) -> Callable[[], float]:
    def work() -> float:
        started = time.perf_counter()
        for _ in range(calls):
            _leaf()
        return time.perf_counter() - started

    return work


def depths(calls: int) -> tuple[list[float], list[float]]:
    """Seconds of ``calls`` calls at each depth: plainly, and below the room."""
    idle = threading.Event()
    for _ in range(6):
        threading.Thread(target=idle.wait, daemon=True).start()
    work = _timed(calls)
    try:
        plain = [_at(depth, work) for depth in range(DEPTHS)]
        room = [with_frame_room(functools.partial(_at, depth, work)) for depth in range(DEPTHS)]
    finally:
        idle.set()
    return plain, room


def _seconds(cell: Any) -> float:
    stamps = cell.metadata.get("execution", {})

    def when(key: str) -> dt.datetime:
        return dt.datetime.fromisoformat(stamps[key].replace("Z", "+00:00"))

    return (when("iopub.status.idle") - when("iopub.status.busy")).total_seconds()


def import_cell(store: Path, setup: list[str]) -> float:
    """Seconds of ``import numpy as np`` after ``setup``, in a fresh kernel on ``store``."""
    import nbformat
    from nbclient import NotebookClient

    sources = [*setup, "%%memo\nimport numpy as np" if setup else "import numpy as np"]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])
    NotebookClient(
        nb,
        timeout=600,
        kernel_name="python3",
        record_timing=True,
        resources={"metadata": {"path": str(store.parent)}},
    ).execute(env={**os.environ, "HITNB_STORE": str(store)})
    return _seconds(nb.cells[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--smoke", action="store_true", help="fewer calls, one round")
    args = parser.parse_args(argv)
    calls, repeat = (SMOKE_CALLS, 1) if args.smoke else (CALLS, args.repeat)

    plain, room = depths(calls)
    anchor = statistics.median(plain)
    header = f"{calls:,} calls at each depth 0-{DEPTHS - 1}"
    print(f"| {header} | median ms | worst ms | worst / median |")
    print("|---|---|---|---|")
    for label, times in (("plainly", plain), ("below the frame room", room)):
        worst = max(times)
        print(f"| {label} | {anchor * 1e3:.2f} | {worst * 1e3:.2f} | {worst / anchor:.1f}x |")

    rounds: list[tuple[float, float, float]] = []
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as folder:
            store = Path(folder) / "store"
            loaded = ["%load_ext hitnb"]
            plain_s = import_cell(store, [])
            import_cell(store, loaded)  # the miss that stores it
            hit = import_cell(store, loaded)
            hit_no_room = import_cell(store, [*loaded, NO_ROOM])
        rounds.append((plain_s, hit, hit_no_room))
    plain_s, hit, hit_no_room = (statistics.median(r[k] for r in rounds) for k in range(3))
    print()
    print("| `import numpy as np`, first cell | seconds | / plain |")
    print("|---|---|---|")
    print(f"| plain | {plain_s:.3f} | 1.00x |")
    print(f"| a hit | {hit:.3f} | {hit / plain_s:.2f}x |")
    print(f"| a hit without the frame room | {hit_no_room:.3f} | {hit_no_room / plain_s:.2f}x |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
