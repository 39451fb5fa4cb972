"""Cells that time themselves are cached too: ``%%time``, ``%time`` and ``%%capture``, in real
kernels, run twice on one store (the second kernel is a restart)."""

from __future__ import annotations

import time
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook
from nbhelpers import stream_text

pytestmark = pytest.mark.slow

SETUP = [
    "%load_ext hitnb",
    "import pathlib, time\n"
    "def ran(name):\n"
    "    with pathlib.Path('executions.log').open('a') as fh:\n"
    "        fh.write(name + '\\n')\n"
    "a = 6",
]
CELLS = {
    "memo_time": "%%memo\n%%time\nran('memo_time')\ntime.sleep(2)\nb = a * 7\nprint('b is', b)\nb",
    "time_memo": "%%time\n%%memo\nran('time_memo')\nc = a + 1\nprint('c is', c)\nc",
    "time_lines": (
        "%%memo\nran('time_lines')\n%time d = b + c\nprint('d is', d)\ne = %time d * 2\ne"
    ),
    "capture": "%%memo\n%%capture out\nran('capture')\nprint('captured', d)\nf = e + 1",
    "timeit": "%%memo\nran('timeit')\n%timeit -n1 -r1 sum(range(10))",
    "check": "print('state', b, c, d, e, f, out.stdout.strip())",
}


def _notebook() -> nbformat.NotebookNode:
    return new_notebook(cells=[new_code_cell(s) for s in [*SETUP, *CELLS.values()]])


def _by_name(notebook: nbformat.NotebookNode) -> dict[str, nbformat.NotebookNode]:
    return dict(zip(CELLS, notebook.cells[len(SETUP) :], strict=True))


def _result(cell: nbformat.NotebookNode) -> str | None:
    for output in cell.outputs:
        if output.output_type == "execute_result":
            return str(output.data["text/plain"])
    return None


def _badged(cell: nbformat.NotebookNode) -> bool:
    return any(o.get("metadata", {}).get("hitnb", {}).get("badge") for o in cell.outputs)


def test_timed_and_captured_cells_replay_after_a_restart(execute_notebook, tmp_path: Path):
    log = tmp_path / "executions.log"
    start = time.perf_counter()
    first = _by_name(execute_notebook(_notebook()))
    first_seconds = time.perf_counter() - start
    assert log.read_text().split() == ["memo_time", "time_memo", "time_lines", "capture", "timeit"]
    for name in ("memo_time", "time_memo", "time_lines"):
        assert "Wall time" in stream_text(first[name]), name  # IPython's own timing output
    assert "captured" not in stream_text(first["capture"])
    assert "per loop" in stream_text(first["timeit"])
    assert "not cached" in stream_text(first["timeit"])  # %timeit is a measurement: it runs

    log.unlink()
    start = time.perf_counter()
    second = _by_name(execute_notebook(_notebook()))
    second_seconds = time.perf_counter() - start
    assert log.read_text().split() == ["timeit"], "only the %timeit cell runs again"
    assert first_seconds - second_seconds > 1.5  # the 2 s %%time cell came from the store

    memo_time = second["memo_time"]
    assert _badged(memo_time), "a replayed timing line is marked as coming from the store"
    assert stream_text(memo_time) == stream_text(first["memo_time"])
    assert _result(memo_time) == _result(first["memo_time"]) == "42"
    assert "Wall time" in stream_text(second["time_memo"])  # %%time over %%memo times the hit
    assert "c is 7" in stream_text(second["time_memo"])
    assert _result(second["time_memo"]) == "7"
    assert stream_text(second["time_lines"]) == stream_text(first["time_lines"])
    assert _result(second["time_lines"]) == "98"
    assert (
        stream_text(second["check"])
        == stream_text(first["check"])
        == ("state 42 7 49 98 99 captured 49\n")
    )
