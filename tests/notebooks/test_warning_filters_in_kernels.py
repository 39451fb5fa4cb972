"""The warnings filters, for the warnings a stored cell raised: a hit replays its warnings, or
returns its result, only while the filters treat them as they did when it ran."""

from __future__ import annotations

from pathlib import Path

import pytest
from nbformat.v4 import new_code_cell, new_notebook
from nbhelpers import KernelSession, printed_in_fresh_kernels

pytestmark = pytest.mark.slow

WARNS = "import warnings\nwarnings.warn('careful with x')\nx = 1\nprint('x is', x)"


def _shown(execute_notebook, *above: str) -> list[str]:
    """What the last cell showed (stdout, stderr, errors; hitnb's badges aside), after
    ``above``, in auto mode in a fresh kernel."""
    sources = ["%load_ext hitnb\n%hitnb auto", "import warnings", *above, WARNS]
    notebook = execute_notebook(
        new_notebook(cells=[new_code_cell(c) for c in sources]), allow_errors=True
    )
    return [
        o.get("text") or f"{o.get('ename')}: {o.get('evalue')}"
        for o in notebook.cells[-1].outputs
        if not o.get("metadata", {}).get("hitnb")
    ]


def _warned(shown: list[str]) -> bool:
    return any("UserWarning: careful with x" in text for text in shown)


def test_a_filter_added_above_a_stored_cell_is_read_both_ways(execute_notebook):
    """``warnings.filterwarnings("ignore")`` added above a cell stored with its warning: the
    hit showed the warning again. Taken out again: the cell, stored under "ignore", showed
    none (Python had asked the filters about it, and they ignored it). Set to "error": the
    hit printed and bound ``x`` where the plain cell raises."""
    assert _warned(_shown(execute_notebook))
    assert _warned(_shown(execute_notebook))  # a hit replays it
    ignored = _shown(execute_notebook, "warnings.filterwarnings('ignore')")
    assert ignored == ["x is 1\n"], ignored
    assert _shown(execute_notebook, "warnings.filterwarnings('ignore')") == ["x is 1\n"]
    assert _warned(_shown(execute_notebook))
    raised = _shown(execute_notebook, "warnings.filterwarnings('error')")
    assert raised == ["UserWarning: careful with x"], raised


def test_filters_a_library_adds_later_leave_the_cells_above_alone(tmp_path: Path, isolated_store):
    """Libraries add filters as they are first used (plotly, with its first figure): run
    again in the same kernel, the cells above meet other filters. They hit, unless a filter
    changed what happens to a warning they raised, and ``why`` says which."""
    cells = [WARNS, "warnings.filterwarnings('ignore', category=DeprecationWarning, module='lib')"]
    with KernelSession(tmp_path, {"HITNB_STORE": str(isolated_store)}) as kernel:
        kernel.run("%load_ext hitnb\n%hitnb auto")
        whys = [[kernel.run(cell), kernel.run("%hitnb why")][1] for _ in range(2) for cell in cells]
        assert "came from the cache" in whys[2], whys[2]
        kernel.run("warnings.filterwarnings('ignore', message='careful')")
        assert kernel.run(WARNS) == "x is 1\n"
        why = kernel.run("%hitnb why")
    assert "the warnings filters changed since it was stored: UserWarning: careful" in why, why


def test_filters_are_taken_as_the_cell_starts_not_after_its_record_loads(
    tmp_path: Path, isolated_store
):
    """A module that warns as it is imported and then adds a filter for its own warning (as
    statsmodels makes its own warnings "always" shown): a hit imports it again while the
    cell's record loads (it holds an object of the module's class), and the filters checked
    after that ignored the warning the cell had shown; the cell ran again after every
    restart."""
    (tmp_path / "noisy.py").write_text(
        "import warnings\n"
        "warnings.warn('noisy is importing', UserWarning)\n"
        "warnings.filterwarnings('ignore', message='noisy')\n"
        "class Thing:\n"
        "    pass\n"
    )
    cells = [
        "%load_ext hitnb\n%hitnb auto",
        "from noisy import Thing\nthing = Thing()",
        "%hitnb why",
    ]
    runs = printed_in_fresh_kernels(tmp_path, {"HITNB_STORE": str(isolated_store)}, cells)
    assert "came from the cache" in runs[1][2], runs[1][2]


def test_a_filter_added_above_a_cell_that_adds_filters_holds_after_its_hit(execute_notebook):
    """A hit of a cell that added a filter (as importing numpy, pandas or scikit-learn
    does) set the filters to the whole list its run left: a filter added in a cell above
    since was dropped, and the cells below replayed the warnings it silences (under
    "error": printed a result where the plain cell raises). The hit adds what its run
    added to the filters it finds."""
    cells = [
        "import numpy as np\nwarnings.filterwarnings('ignore', message='not raised here')",
        "with np.errstate(divide='warn'):\n    a = np.log(0)\nprint(a)",
    ]

    def shown(first: str) -> list[list[str]]:
        sources = ["%load_ext hitnb\n%hitnb auto", first, *cells]
        notebook = execute_notebook(
            new_notebook(cells=[new_code_cell(c) for c in sources]), allow_errors=True
        )
        return [
            [
                o.get("text") or f"{o.get('ename')}: {o.get('evalue')}"
                for o in cell.outputs
                if not o.get("metadata", {}).get("hitnb")
            ]
            for cell in notebook.cells[2:]
        ]

    warned = shown("import warnings")
    assert any("RuntimeWarning: divide by zero" in text for text in warned[1]), warned
    assert shown("import warnings\nwarnings.filterwarnings('ignore')")[1] == ["-inf\n"]
    raised = shown("import warnings\nwarnings.simplefilter('error')")[1]
    assert raised == ["RuntimeWarning: divide by zero encountered in log"], raised


def test_warnings_sent_to_logging_by_a_hit_come_back_when_the_user_stops_it(
    execute_notebook,
):
    """A hit of ``logging.captureWarnings(True)`` makes it again while hitnb drops what
    loading shows: logging kept hitnb's dropping function as the one to go back to, and
    after ``captureWarnings(False)`` no warning was ever shown again."""
    sources = [
        "%load_ext hitnb\n%hitnb auto",
        "import logging, warnings\nlogging.captureWarnings(True)",
        "%hitnb auto off",
        "logging.captureWarnings(False)\nwarnings.warn('seen again')",
    ]
    for _ in range(2):
        notebook = execute_notebook(new_notebook(cells=[new_code_cell(c) for c in sources]))
    shown = "".join(o.get("text", "") for o in notebook.cells[-1].outputs)
    assert "UserWarning: seen again" in shown, shown
