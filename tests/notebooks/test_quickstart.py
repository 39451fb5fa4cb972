"""The quickstart notebook, run twice in fresh kernels on one store, as `make demo` does."""

from __future__ import annotations

import pytest
from nbhelpers import EXAMPLES, printed

pytestmark = pytest.mark.slow


def shown(cell) -> list[str]:
    """The results a cell showed (text form), leaving out hitnb's badge and run-time lines."""
    return [
        o["data"]["text/plain"]
        for o in cell.get("outputs", [])
        if "data" in o and not o.get("metadata", {}).get("hitnb", {}).get("badge")
    ]


def test_second_run_is_served_by_the_store(execute_notebook):
    first = execute_notebook(EXAMPLES / "quickstart.ipynb")
    second = execute_notebook(EXAMPLES / "quickstart.ipynb")
    printed_first = printed(first)
    printed_second = printed(second)
    assert printed_first.count("counting words...") == 3  # three argument sets computed
    assert "counting words..." not in printed_second  # ...and never again
    results = [shown(c) for c in first.cells if c.cell_type == "code"]
    again = [shown(c) for c in second.cells if c.cell_type == "code"]
    assert results == again
    assert any(r for r in results)  # the notebook does show results
    badges = [
        o
        for c in second.cells
        for o in c.get("outputs", [])
        if o.get("metadata", {}).get("hitnb", {}).get("badge")
    ]
    # the %%memo cell, and the two cells whose result is a cached word_counts(...) call
    assert len(badges) == 3
    assert all("from cache" in b["data"]["text/plain"] for b in badges)
