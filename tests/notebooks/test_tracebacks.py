"""An error in a memoized cell shows the traceback a plain cell shows: from the cell's own
code, numbered as the cell is, without hitnb's frames or the magic call around them."""

from __future__ import annotations

import re

import pytest
from nbformat.v4 import new_code_cell, new_notebook

pytestmark = pytest.mark.slow

DEFINE = "def helper(x):\n    return x + undefined_name"
FAILING = "y = 1\nhelper(y)"


def _traceback(execute_notebook, first: str, failing: str) -> str:
    notebook = new_notebook(
        cells=[new_code_cell(first), new_code_cell(DEFINE), new_code_cell(failing)]
    )
    done = execute_notebook(notebook, allow_errors=True)
    (error,) = [o for o in done.cells[2].outputs if o.output_type == "error"]
    assert (error.ename, error.evalue) == ("NameError", "name 'undefined_name' is not defined")
    return re.sub(r"\x1b\[[0-9;]*m", "", "\n".join(error.traceback))


@pytest.mark.parametrize("how", ["auto mode", "%%memo"])
def test_a_failing_memoized_cell_shows_the_plain_traceback(execute_notebook, how):
    plain = _traceback(execute_notebook, "pass", FAILING)
    if how == "auto mode":
        memoized = _traceback(execute_notebook, "%load_ext hitnb\n%hitnb auto", FAILING)
    else:
        memoized = _traceback(execute_notebook, "%load_ext hitnb", "%%memo\n" + FAILING)
    assert "Cell In[3], line 2" in plain
    assert memoized == plain
    assert "run_cell_magic" not in memoized and "skipping hidden" not in memoized


def test_a_function_a_hit_defined_again_is_named_by_its_cell_in_tracebacks(execute_notebook):
    """A hit defines the cell's functions again from their source; a traceback through one
    named that code ``Cell In[0]``, where the run and a plain cell name the cell's number."""
    plain = _traceback(execute_notebook, "pass", "helper(1)")
    first = _traceback(execute_notebook, "%load_ext hitnb\n%hitnb auto", "helper(1)")
    hit = _traceback(execute_notebook, "%load_ext hitnb\n%hitnb auto", "helper(1)")
    assert "Cell In[2], line 2, in helper(x)" in plain
    assert first == plain
    assert hit == plain
