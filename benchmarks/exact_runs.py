"""What exact runs cost: the after-run comparison's share of a miss, and cells on big inputs.

Measured in a real IPython shell (the one a kernel runs), each figure against its anchor in
the same run:

* **after-run comparison**: a ``%%memo`` miss of a cell that calls a function on a
  1e6-row frame (the frame is a candidate, hashed again after the run to see whether the
  call changed it), against the same miss with that comparison switched off;
* **a cell reading a big input** (``labels.memory_usage(deep=True)`` on a 10-million-row
  Series made by a plain cell): the plain cell, the first ``%%memo`` run and the hit.

Run: ``.venv/bin/python benchmarks/exact_runs.py [--smoke] [--write-docs]``.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from typing import Any

from docs_section import write_section

START, END = "<!-- exact-runs:start -->", "<!-- exact-runs:end -->"


def _shell() -> Any:
    os.environ["HITNB_STORE"] = tempfile.mkdtemp(prefix="hitnb-bench-")
    from IPython.testing.globalipapp import start_ipython

    shell = start_ipython()
    assert shell is not None
    shell.run_cell("%load_ext hitnb\nimport numpy as np, pandas as pd")
    shell.run_cell("%%memo -q\nwarm = 1")  # hitnb's own first-use imports are not measured
    return shell


def _timed(shell: Any, source: str) -> float:
    start = time.perf_counter()
    result = shell.run_cell(source)
    elapsed = time.perf_counter() - start
    if not result.success:
        raise SystemExit(
            f"benchmark cell failed: {result.error_in_exec or result.error_before_exec}"
        )
    return elapsed


def _median(values: list[float]) -> float:
    return statistics.median(values)


def comparison_share(shell: Any, rows: int, repeats: int) -> tuple[float, float]:
    """Median miss time with the after-run comparison, and with it off (seconds)."""
    import hitnb.ipython.memo_cell as memo_cell

    shell.run_cell(
        f"frame = pd.DataFrame({{'a': np.arange({rows}) * 1.0, 'b': np.arange({rows}) + 1.0}})\n"
        "def ratio_of(f):\n    return float((f['a'] / f['b']).mean())"
    )
    measured: list[float] = []
    unmeasured: list[float] = []
    may_change = memo_cell.may_change
    _timed(shell, "%%memo -q\nr = ratio_of(frame) + 0.5")  # the first miss of a new cell
    for i in range(repeats):
        pairs = [(measured, may_change), (unmeasured, _never)]
        for j, (out, check) in enumerate(pairs if i % 2 else pairs[::-1]):  # either goes first
            memo_cell.may_change = check  # type: ignore[assignment]
            try:  # a new constant each time: a miss
                out.append(_timed(shell, f"%%memo -q\nr = ratio_of(frame) + {i + 1}.{j}"))
            finally:
                memo_cell.may_change = may_change  # type: ignore[assignment]
    return _median(measured), _median(unmeasured)


def _never(value: object) -> bool:
    return False


def big_input(shell: Any, rows: int, repeats: int) -> tuple[float, float, float]:
    """Median plain, first memoized and hit times of the memory_usage cell (seconds)."""
    cell = "used = int(labels.memory_usage(deep=True))"
    plain, first, hit = [], [], []
    for i in range(repeats):
        shell.run_cell(f"labels = pd.Series(np.arange({rows}) % 7 + {i})")  # new data: a miss
        plain.append(min(_timed(shell, cell) for _ in range(3)))
        first.append(_timed(shell, "%%memo -q\n" + cell))
        hit.append(min(_timed(shell, "%%memo -q\n" + cell) for _ in range(3)))
    return _median(plain), _median(first), _median(hit)


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:.2f} ms"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, one repeat")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--write-docs", action="store_true", help="rewrite the docs section")
    args = parser.parse_args(argv)
    repeats = 1 if args.smoke else args.repeats
    frames, series_rows = (
        ((1_000, 10_000), 100_000) if args.smoke else ((10_000, 1_000_000), 10_000_000)
    )
    shell = _shell()
    rows = ["| measure | hitnb | anchor | ratio |", "|---|---|---|---|"]
    for frame_rows in frames:
        measured, unmeasured = comparison_share(shell, frame_rows, repeats)
        share = (measured - unmeasured) / unmeasured
        rows.append(
            f"| miss of a cell calling a function on a {frame_rows:,}-row frame, with the "
            f"after-run comparison vs without | {_ms(measured)} | {_ms(unmeasured)} | "
            f"{share * 100:+.1f}% (target <= +10%) |"
        )
    plain, first, hit = big_input(shell, series_rows, repeats)
    rows += [
        f"| `labels.memory_usage(deep=True)` on {series_rows:,} rows, first `%%memo` run vs "
        f"the plain cell | {_ms(first)} | {_ms(plain)} | {first / plain:.1f}x |",
        f"| the same, a hit vs the plain cell | {_ms(hit)} | {_ms(plain)} | {hit / plain:.1f}x |",
    ]
    table = "\n".join(rows)
    print(table)
    if args.write_docs and not args.smoke:
        write_docs(table, repeats)
    return 0


def write_docs(table: str, repeats: int) -> None:
    """Replace this benchmark's section of docs/benchmarks.md, leaving the rest alone."""
    python = f"{platform.python_implementation()} {platform.python_version()}"
    section = (
        f"{START}\n## Exact runs: what measuring a run costs\n\n"
        "In-process IPython shell (the one a kernel runs, without the messaging: a kernel adds\n"
        "about 2-4 ms to every cell, plain or not). Medians of "
        f"{repeats} runs; machine: {platform.machine()}, {os.cpu_count()} cores, {python}, load\n"
        f"average {os.getloadavg()[0]:.1f}.\n\n"
        "Reproduce with:\n\n```\n.venv/bin/python benchmarks/exact_runs.py --write-docs\n```\n\n"
        + table
        + f"\n{END}"
    )
    write_section(START, END, section)


if __name__ == "__main__":
    sys.exit(main())
