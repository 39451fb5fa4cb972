"""A memoized cell's code runs at the start of a fresh chunk of the frame stack, in a kernel.

CPython before 3.13 maps and unmaps a chunk on every call that crosses a chunk's end; a hit
of ``import numpy as np`` ran numpy's import at such a depth inside hitnb's frames and took
twice as long as the plain import (``hitnb.frame_room``)."""

from __future__ import annotations

import sys

import pytest
from nbformat.v4 import new_code_cell, new_notebook
from nbhelpers import stream_text

pytestmark = pytest.mark.slow

SWEEP = """\
import resource
def at(depth, work):
    return work() if depth == 0 else at(depth - 1, work)
def leaf():
    pass
def calls():
    for _ in range(5_000):
        leaf()
def faults(depth):
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    at(depth, calls)
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
worst = max(faults(depth) for depth in range(300))
print(worst)
"""
"""5,000 calls at each depth from the cell's own to 300 frames below it (about 30 KiB):
the page faults of the worst depth, one per call where each call maps a fresh chunk."""


def test_a_memoized_cell_runs_its_calls_clear_of_a_chunk_s_end(execute_notebook):
    cells = ["%load_ext hitnb", f"%%memo\n{SWEEP}", SWEEP]
    notebook = execute_notebook(new_notebook(cells=[new_code_cell(c) for c in cells]))
    memoized, plain = (int(stream_text(c)) for c in notebook.cells[1:])
    assert memoized < 500
    if sys.version_info < (3, 13):  # the same cell, plainly, finds the costly depth
        assert plain >= 5_000
