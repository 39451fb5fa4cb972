"""Run one notebook once in a fresh kernel, plainly or with every code cell memoized.

Each run uses a real kernel (nbclient, the environment's ``python3`` kernel) whose working
folder is the notebook's own, so relative data paths work. Errors do not stop a run (a user's
Restart & Run All shows them and goes on); a cell that exceeds its timeout, or a run that
exceeds its deadline, ends the run and is reported as a timeout.
"""

from __future__ import annotations

import asyncio
import copy
import datetime as dt
import json
import os
import re
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat

LOAD_CELL = "%load_ext hitnb"
MEMO_LINE = "%%memo"
AUTO_STATUS_CELL = "%hitnb auto status"
COLLECTIONS_CELL = """\
def _note_full_collections():
    import gc, time

    def note(phase, info, started=[]):
        if phase == "start":
            started[:] = [time.time()]
        elif info["generation"] == 2 and started:
            note.pauses.append((started[0], time.time() - started[0]))

    note.pauses = []
    gc.callbacks.append(note)


_note_full_collections()
del _note_full_collections"""
COLLECTIONS_DUMP_CELL = (
    "_ = %pwd\n"  # a magic: auto mode runs the cell uncached
    "print(__import__('json').dumps("
    "next(c.pauses for c in __import__('gc').callbacks if hasattr(c, 'pauses'))))"
)
_UNCACHED = re.compile(r"(\d+) run uncached")


@dataclass
class Run:
    """One execution of a notebook: its executed cells (original indexes) and timings."""

    cells: dict[int, dict[str, Any]] = field(default_factory=dict)
    seconds: dict[int, float] = field(default_factory=dict)
    setup_seconds: float = 0.0  # the injected `%load_ext hitnb` cell, memoized runs only
    wall: float = 0.0  # kernel start to kernel stop
    timed_out: str = ""  # why the run was cut short, empty when it finished
    auto_uncached: int | None = None  # auto mode: cells it ran uncached (its status line)
    collections: list[list[float]] = field(default_factory=list)
    """The run's full garbage collections (generation 2): when each started (Unix time, the
    clock of nbclient's stamps) and how long it took. They pause whichever cell is running
    when the heap grows past the collector's threshold, plainly as under hitnb."""

    def collections_in(self, index: int) -> float:
        """Seconds of full collections that started while cell ``index`` ran."""
        stamps = self.cells.get(index, {}).get("metadata", {}).get("execution", {})
        start = _stamp(stamps.get("iopub.status.busy"))
        end = _stamp(stamps.get("iopub.status.idle"))
        if start is None or end is None:
            return 0.0
        low, high = start.timestamp(), end.timestamp()
        return sum(seconds for began, seconds in self.collections if low <= began <= high)

    @property
    def cell_total(self) -> float:
        """Seconds spent in the notebook's cells, hitnb's setup cell included."""
        return sum(self.seconds.values()) + self.setup_seconds


def code_cells(notebook: nbformat.NotebookNode) -> list[int]:
    """Indexes of the code cells that have something to run."""
    return [i for i, c in enumerate(notebook.cells) if c.cell_type == "code" and c.source.strip()]


def starts_with_cell_magic(source: str) -> bool:
    """True when the cell is already a cell magic (``%%time``, ``%%capture``...): left as is."""
    return source.lstrip().startswith("%%")


def prepared(
    notebook: nbformat.NotebookNode, memo: bool, auto: bool = False
) -> tuple[nbformat.NotebookNode, list[int]]:
    """A copy to execute, outputs cleared, and each of its cells' original index (-1: our
    setup cell, -2: auto mode's status cell at the end, -3 and -4: the cells that note the
    run's full garbage collections, first of all, and print them, last of all).

    Memoized, every code cell gets a ``%%memo`` line; in auto mode (``auto``) the cells stay
    as written and the kernel is started with ``HITNB_AUTO=1`` instead."""
    nb = copy.deepcopy(notebook)
    origin = list(range(len(nb.cells)))
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
            wrap = memo and not auto
            if wrap and cell.source.strip() and not starts_with_cell_magic(cell.source):
                cell.source = f"{MEMO_LINE}\n{cell.source}"
    if memo:
        nb.cells.insert(0, nbformat.v4.new_code_cell(LOAD_CELL))
        origin.insert(0, -1)
    if memo and auto:
        nb.cells.append(nbformat.v4.new_code_cell(AUTO_STATUS_CELL))
        origin.append(-2)
    nb.cells.insert(0, nbformat.v4.new_code_cell(COLLECTIONS_CELL))
    origin.insert(0, -3)
    nb.cells.append(nbformat.v4.new_code_cell(COLLECTIONS_DUMP_CELL))
    origin.append(-4)
    return nb, origin


def _stamp(value: Any) -> dt.datetime | None:
    if not value:
        return None
    try:
        return dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None


def cell_seconds(cell: dict[str, Any]) -> float:
    """How long the kernel was busy with the cell (nbclient's record_timing stamps)."""
    stamps = cell.get("metadata", {}).get("execution", {})
    for start_key, end_key in (
        ("iopub.status.busy", "iopub.status.idle"),
        ("shell.execute_reply.started", "shell.execute_reply"),
    ):
        start, end = _stamp(stamps.get(start_key)), _stamp(stamps.get(end_key))
        if start and end:
            return max(0.0, (end - start).total_seconds())
    return 0.0


def compile_hitnb() -> None:
    """Write hitnb's bytecode, as installing a wheel does, so memoized runs measure hitnb as a
    user has it. Installed editable (``pip install -e``), hitnb has none until a process
    writes it, and with ``PYTHONDONTWRITEBYTECODE`` set none ever does: every kernel then
    compiles its sources at ``%load_ext`` (about 70 ms here, against 40 ms for the load).
    The libraries the notebooks import have theirs from their installation."""
    import compileall

    import hitnb

    for folder in hitnb.__path__:
        compileall.compile_dir(folder, quiet=1)


def run_notebook(
    notebook: nbformat.NotebookNode,
    folder: Path,
    *,
    memo: bool,
    store: Path | None,
    cell_timeout: float,
    deadline: float,
    auto: bool = False,
) -> Run:
    """Execute the notebook once in a fresh kernel and collect what each code cell showed
    (memoized with ``memo``: by ``%%memo`` lines, or with ``auto`` by auto mode)."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    nb, origin = prepared(notebook, memo, auto)
    if memo:
        compile_hitnb()
    env = dict(os.environ)
    env.pop("HITNB_STORE", None)
    env.pop("HITNB_AUTO", None)
    if store is not None:
        env["HITNB_STORE"] = str(store)
    if memo and auto:
        env["HITNB_AUTO"] = "1"
    client = NotebookClient(
        nb,
        timeout=int(cell_timeout),
        kernel_name="python3",
        resources={"metadata": {"path": str(folder)}},
        allow_errors=True,
        record_timing=True,
        interrupt_on_timeout=False,
    )
    run = Run()
    started = time.perf_counter()
    budget = max(1.0, deadline - time.monotonic())
    try:
        asyncio.run(
            asyncio.wait_for(client.async_execute(env=env, stderr=subprocess.DEVNULL), budget)
        )
    except CellTimeoutError:  # a TimeoutError too: caught first
        run.timed_out = f"a cell exceeded the per-cell timeout ({cell_timeout:.0f} s)"
    except (asyncio.TimeoutError, TimeoutError):
        run.timed_out = f"the run exceeded its deadline ({budget:.0f} s left for it)"
    except DeadKernelError as exc:
        run.timed_out = f"the kernel died ({str(exc)[:80]})"
    finally:
        _stop_kernel(client)
    run.wall = time.perf_counter() - started
    for position, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        index = origin[position]
        if index == -2:
            text = "".join(o.get("text", "") for o in cell.get("outputs", []))
            found = _UNCACHED.search(text)
            run.auto_uncached = int(found.group(1)) if found else None
        elif index == -4:
            run.collections = _collections(cell)
        elif index == -1:
            run.setup_seconds = cell_seconds(cell)
        elif index >= 0 and cell.source.strip():
            run.cells[index] = cell
            run.seconds[index] = cell_seconds(cell)
    return run


def _collections(cell: dict[str, Any]) -> list[list[float]]:
    """The full collections the last cell printed (none if it did not get to run)."""
    text = "".join(o.get("text", "") for o in cell.get("outputs", []) if o.get("name") == "stdout")
    lines = text.strip().splitlines()
    try:
        return [list(map(float, pause)) for pause in json.loads(lines[-1])] if lines else []
    except (ValueError, TypeError):
        return []


def _stop_kernel(client: Any) -> None:
    """Make sure a cut-short run leaves no kernel behind."""
    km = getattr(client, "km", None)
    if km is None:
        return
    try:
        if km.has_kernel:
            stopping = km.shutdown_kernel(now=True)
            if asyncio.iscoroutine(stopping):
                asyncio.run(stopping)
    except Exception:
        pass
