"""Cells whose outputs are big and cheap to compute, next to a slow cell with small outputs.

Each cell runs plainly (the anchor, in a fresh kernel), then under ``%%memo`` twice in fresh
kernels on one fresh store. Seconds are the kernel's busy time per cell (nbclient's
``record_timing``), medians of ``--repeat`` rounds. A big cheap cell (``np.zeros``: lazily
allocated) is stored as a re-run and computed again on a hit; ``np.ones`` of the same size
costs more to compute and is stored; the slow cell is restored.

    python benchmarks/cheap_cells.py [--repeat 3] [--smoke]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

SIZE, SMOKE_SIZE = 50_000_000, 1_000_000


def cells(size: int, sleep: float) -> dict[str, str]:
    return {
        f"x = np.zeros({size:_})": f"x = np.zeros({size:_})",
        f"z = np.ones({size:_})": f"z = np.ones({size:_})",
        f"time.sleep({sleep}); y = 1": f"time.sleep({sleep})\ny = 1",
    }


def _seconds(cell: Any) -> float:
    stamps = cell.metadata.get("execution", {})

    def when(key: str) -> dt.datetime:
        return dt.datetime.fromisoformat(stamps[key].replace("Z", "+00:00"))

    return (when("iopub.status.idle") - when("iopub.status.busy")).total_seconds()


def run_kernel(sources: list[str], store: Path, memo: bool) -> list[float]:
    """Seconds of each cell in a fresh kernel on ``store``."""
    import nbformat
    from nbclient import NotebookClient

    setup = (
        ["%load_ext hitnb", "import numpy as np, time"] if memo else ["import numpy as np, time"]
    )
    body = [f"%%memo\n{s}" if memo else s for s in sources]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in setup + body])
    client = NotebookClient(
        nb,
        timeout=600,
        kernel_name="python3",
        record_timing=True,
        resources={"metadata": {"path": str(store.parent)}},  # not a checkout's folder
    )
    client.execute(env={**os.environ, "HITNB_STORE": str(store)})
    return [_seconds(c) for c in nb.cells[len(setup) :]]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, one round")
    args = parser.parse_args(argv)
    size, sleep, repeat = (SMOKE_SIZE, 0.1, 1) if args.smoke else (SIZE, 1.0, args.repeat)
    named = cells(size, sleep)
    rounds: list[tuple[list[float], list[float], list[float]]] = []
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as folder:
            store = Path(folder) / "store"
            plain = run_kernel(list(named.values()), store, memo=False)
            first = run_kernel(list(named.values()), store, memo=True)
            second = run_kernel(list(named.values()), store, memo=True)
        rounds.append((plain, first, second))
    print("| cell | plain s | first run s | second run s | first / plain | second / plain |")
    print("|---|---|---|---|---|---|")
    for i, label in enumerate(named):
        plain, first, second = (statistics.median(r[k][i] for r in rounds) for k in range(3))
        print(
            f"| `{label}` | {plain:.3f} | {first:.3f} | {second:.3f} "
            f"| {first / plain:.1f}x | {second / plain:.2f}x |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
