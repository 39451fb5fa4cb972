"""Real notebooks no one here wrote: statsmodels' examples, every code cell under ``%%memo``.

A fixed sample of the faster notebooks of the corpus (benchmarks/notebooks.py) runs plainly
twice and memoized twice in fresh kernels on one store, and each is held to what a user
checks after Restart & Run All: no cell raises that did not raise without hitnb, the second
run shows exactly what the first showed, and every deterministic cell shows what it shows
without hitnb. Speed is the corpus benchmark's business, not this test's.

Notebooks that fail one of these today are strict xfails carrying the measured failure, so a
fix in hitnb flips them loudly. The archive is downloaded on first use into the user cache
folder (``HITNB_CORPUS_CACHE`` names another), never into the repository.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

from corpus_compare import cell_view, normalize_text
from corpus_run import run_notebook
from nbformat.v4 import new_code_cell, new_notebook
from notebooks import SAMPLE, NotebookResult, run_corpus_notebook

# Sample notebooks known not to replay exactly, with why (strict: a fix must remove them).
KNOWN_FAILURES: dict[str, str] = {}


def _cases() -> list[object]:
    return [
        pytest.param(name, marks=pytest.mark.xfail(strict=True, reason=KNOWN_FAILURES[name]))
        if name in KNOWN_FAILURES
        else name
        for name in SAMPLE
    ]


def _explain(result: NotebookResult) -> str:
    lines = [f"{result.name}: " + "; ".join(result.failures)]
    for label, diffs in (
        ("error added", result.errors_added),
        ("replay differs", result.replay_diffs),
        ("differs from plain", result.plain_diffs),
    ):
        lines += [f"  {label}: cell {d.cell} [{d.source}] {d.diff}" for d in diffs[:3]]
    return "\n".join(lines)


SUMMARY = """\
Dep. Variable:                      y   R-squared:                       0.933
Date:                Wed, 02 Dec 2026   Prob (F-statistic):           4.04e-11
Time:                        16:10:54   Log-Likelihood:                -34.438
"""


def test_only_volatile_text_is_normalized() -> None:
    later = SUMMARY.replace("Wed, 02 Dec 2026", "Thu, 03 Dec 2026").replace("16:10:54", "09:01:02")
    assert normalize_text(SUMMARY) == normalize_text(later)
    assert normalize_text(SUMMARY) != normalize_text(SUMMARY.replace("0.933", "0.934"))
    linearmodels = SUMMARY.replace("Wed, 02 Dec 2026", "Thu, Dec 03 2026")
    assert normalize_text(linearmodels) == normalize_text(SUMMARY.replace("02 Dec", "Dec 04"))
    assert normalize_text(linearmodels) != normalize_text(linearmodels.replace("0.933", "0.9"))
    assert normalize_text("<Figure at 0x7f3a2c1d0e50>") == normalize_text("<Figure at 0x7f00aa>")
    assert normalize_text("CPU times: user 1.2 s\nWall time: 3 s\n42\n") == normalize_text(
        "CPU times: user 9 ms\nWall time: 10 ms\n42\n"
    )
    assert normalize_text("42\n") != normalize_text("43\n")
    styled = '<style>#T_9ec7a_row0_col0 {color: red}</style><table id="T_9ec7a">'
    assert normalize_text(styled) == normalize_text(styled.replace("9ec7a", "0b31f"))
    assert normalize_text(styled) != normalize_text(styled.replace("red", "blue"))
    timeit = "7.36 ms ± 462 {}s per loop (mean ± std. dev. of 7 runs, 100 loops each)"
    assert normalize_text(timeit.format("\u03bc")) == normalize_text(timeit.format("\u00b5"))
    assert normalize_text(timeit.format("\u03bc")) == normalize_text(
        "6.8 ms ± 684 μs per loop (mean ± std. dev. of 7 runs, 100 loops each)"
    )
    spread = "The slowest run took 24.61 times longer than the fastest. This could mean that an "
    spread += "intermediate result is being cached.\n"
    assert normalize_text(spread + timeit.format("µ")) == normalize_text(timeit.format("µ"))
    warned = "/tmp/ipykernel_{}/{}.py:3: UserWarning: x\n"
    assert normalize_text(warned.format(4242, 1845)) == normalize_text(warned.format(77, 96))
    assert normalize_text(warned.format(4242, 1845)) != normalize_text(
        warned.format(4242, 1845).replace(":3:", ":4:")
    )


def test_hitnb_badge_and_notes_are_left_out_and_counted() -> None:
    plain = {"outputs": [{"output_type": "stream", "name": "stdout", "text": "3.14\n"}]}
    memo = {
        "outputs": [
            {"output_type": "stream", "name": "stdout", "text": "hitnb: x is stored\n3.14\n"},
            {
                "output_type": "display_data",
                "data": {"text/plain": "hitnb: from cache"},
                "metadata": {"hitnb": {"badge": True}},
            },
        ]
    }
    assert cell_view(memo).items == cell_view(plain).items
    assert cell_view(memo).hitnb_lines == ["hitnb: x is stored"]
    long_note = {
        "outputs": [
            {
                "output_type": "stream",
                "name": "stdout",
                "text": "hitnb: the stored run cannot be used (NameError: x\n    y ~ f(x)\n); "
                "running it again\n3.14\n",
            }
        ]
    }
    assert cell_view(long_note).items == cell_view(plain).items
    assert len(cell_view(long_note).hitnb_lines) == 1
    changed = {"outputs": [{"output_type": "stream", "name": "stdout", "text": "3.15\n"}]}
    assert cell_view(changed).items != cell_view(plain).items


def test_stdout_and_stderr_between_two_displays_compare_in_either_order() -> None:
    """ipykernel flushes each stream from its own buffer: metaanalysis1 cell 31 showed its
    warning before its printout in one plain run of two. Other outputs keep their order."""

    def cell(*outputs: tuple[str, str]) -> dict[str, Any]:
        made = []
        for kind, text in outputs:
            if kind == "figure":
                made.append({"output_type": "display_data", "data": {"text/plain": text}})
            else:
                made.append({"output_type": "stream", "name": kind, "text": text})
        return {"outputs": made}

    printed = cell(("stdout", "method RE\n"), ("stderr", "Warning\n"), ("figure", "<Figure>"))
    warned = cell(("stderr", "Warning\n"), ("stdout", "method RE\n"), ("figure", "<Figure>"))
    assert cell_view(printed).compared() == cell_view(warned).compared()
    late = cell(("stdout", "method RE\n"), ("figure", "<Figure>"), ("stderr", "Warning\n"))
    assert cell_view(printed).compared() != cell_view(late).compared()
    other = cell(("stdout", "method ML\n"), ("stderr", "Warning\n"), ("figure", "<Figure>"))
    assert cell_view(printed).compared() != cell_view(other).compared()


def test_full_collections_are_timed_in_the_cell_they_paused(tmp_path: Path) -> None:
    """The runner notes a run's full garbage collections, so that a slow hit can be told
    apart from a pause the collector takes plainly too; its own cells are not the
    notebook's."""
    notebook = new_notebook(
        cells=[new_code_cell("import gc\nx = 1"), new_code_cell("gc.collect()"), new_code_cell("x")]
    )
    run = run_notebook(
        notebook, tmp_path, memo=False, store=None, cell_timeout=60, deadline=time.monotonic() + 120
    )
    assert sorted(run.seconds) == sorted(run.cells) == [0, 1, 2] and not run.setup_seconds
    assert run.collections_in(1) > 0
    assert run.collections_in(0) == run.collections_in(2) == 0


def test_a_cell_importing_in_a_block_is_an_import_cell() -> None:
    from notebooks import _imports

    assert _imports("%matplotlib inline\nimport numpy as np")
    assert _imports("import warnings\nwith warnings.catch_warnings():\n    import giddy")
    assert _imports("try:\n    import fast\nexcept ImportError:\n    fast = None")
    assert not _imports("def f():\n    import numpy\n    return numpy.pi")
    assert not _imports("x = 1")


def test_a_cell_timing_code_is_told_apart() -> None:
    from notebooks import _times

    assert _times("# NBVAL_SKIP\n%timeit f(x)\n%timeit g(x)")
    assert _times("%%timeit -n3\nf(x)")
    assert not _times("y = f(x)  # %timeit f(x) was slow")


def test_both_kinds_of_uncached_note_are_collected() -> None:
    from notebooks import _uncached

    assert _uncached("hitnb: the cell reads a socket; it runs normally.")
    assert _uncached("hitnb: auto mode runs this cell uncached (it reads a socket); later ones ...")
    assert not _uncached("hitnb: from cache (saved 1.2 s)")


def test_the_sample_is_fixed_and_big_enough() -> None:
    assert len(SAMPLE) >= 10
    assert len(set(SAMPLE)) == len(SAMPLE)
    assert set(KNOWN_FAILURES) <= set(SAMPLE)


@pytest.mark.slow
@pytest.mark.parametrize("name", _cases())
def test_memoized_notebook_replays_exactly_and_matches_plain(name: str) -> None:
    result = run_corpus_notebook(name, cell_timeout=120, notebook_timeout=240)

    assert result.status != "timeout", result.timeout
    assert result.cells > 0
    assert result.deterministic > 0, "no cell gave the same output twice without hitnb"
    assert not result.errors_added, _explain(result)
    assert result.replay_exact == result.cells, _explain(result)
    assert result.same_as_plain == result.deterministic, _explain(result)
