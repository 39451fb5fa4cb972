"""An unchanged big input is hashed once, not by every cell that reads it; and a change made
where hitnb does not watch (a plain cell) is still seen by the next cell."""

from __future__ import annotations

from pathlib import Path

import pytest
from nbhelpers import KernelSession

pytestmark = pytest.mark.slow

COUNT_HASHES = (
    "import hitnb.ipython.memo_cell as memo_cell\n"
    "hashed = []\n"
    "def counted(hash_function):\n"
    "    def counting(value):\n"
    "        if getattr(value, 'shape', None) == (2_000_000,):\n"
    "            hashed.append(1)\n"
    "        return hash_function(value)\n"
    "    return counting\n"
    "memo_cell.hash_value = counted(memo_cell.hash_value)"  # also after a run: changed?
)


def test_big_inputs_are_hashed_once_and_plain_cells_still_count(tmp_path: Path, isolated_store):
    with KernelSession(tmp_path, {"HITNB_STORE": str(isolated_store)}) as kernel:
        kernel.run("%load_ext hitnb\nimport numpy as np")
        kernel.run(COUNT_HASHES)
        kernel.run("%%memo\nbig = np.arange(2_000_000, dtype=np.float64)")
        for i in range(4):
            kernel.run(f"%%memo\ntotal_{i} = float(big.sum()) + {i}")
        assert kernel.run("print(len(hashed))") == "1\n", "hashed once, when it was stored"
        # the plain print cell above forgot every digest: hashed again once, then measured
        # again after the run, since sort() may change it
        kernel.run("%%memo\nbig.sort()")
        assert kernel.run("print(len(hashed))") == "3\n"
        kernel.run("big[0] = 1e9")  # a plain cell: hitnb cannot tell what it changed
        printed = kernel.run("%%memo\ntotal_0 = float(big.sum()) + 0\nprint(total_0)")
        assert printed.strip() == str(float(sum(range(2_000_000))) + 1e9)


def test_a_restored_dataset_hashes_like_the_stored_one(tmp_path: Path, isolated_store):
    """statsmodels' datasets are dicts that are their own ``__dict__``; unpickled they are
    not, and a cell reading one from a stored cell ran again after every restart."""
    cells = [
        "%load_ext hitnb",
        "%%memo\nimport statsmodels.api as sm\ndata = sm.datasets.anes96.load_pandas()",
        "%%memo --why\nages = data.exog['age'].describe()",
    ]
    printed = []
    for _ in range(2):
        with KernelSession(tmp_path, {"HITNB_STORE": str(isolated_store)}) as kernel:
            printed.append([kernel.run(cell) for cell in cells][-1])
    assert "restored 1 names" in printed[1], printed[1]


COUNT_NAMESPACES = (
    "import types, hitnb.ipython.memo_cell as memo_cell\n"
    "hashed = []\n"
    "_hash = memo_cell.hash_value\n"
    "def counting(value):\n"
    "    if isinstance(value, types.SimpleNamespace):\n"
    "        hashed.append(1)\n"
    "    return _hash(value)\n"
    "memo_cell.hash_value = counting\n"
    "class Slow:  # 0.2 s to hash (and to pickle)\n"
    "    def __reduce_ex__(self, protocol):\n"
    "        import time\n"
    "        time.sleep(0.2)\n"
    "        return (Slow, ())"
)
MAKE_GROUPS = "groups = types.SimpleNamespace(rows=[[float(i)] * i for i in range(60)])"
READ_GROUPS = "%%memo --why\nsizes = [len(row) for row in groups.rows]"


def _hashes_before_and_after_a_restart(tmp_path: Path, store: Path, cell: str) -> list[int]:
    """Run ``cell`` (which makes ``groups``) and a cell reading ``groups`` in two fresh
    kernels on one store; how often ``groups`` was hashed in each."""
    counts = []
    for _ in range(2):
        with KernelSession(tmp_path, {"HITNB_STORE": str(store)}) as kernel:
            kernel.run("%load_ext hitnb")
            kernel.run(COUNT_NAMESPACES)
            kernel.run(cell)
            why = kernel.run(READ_GROUPS)
            counts.append(int(kernel.run("print(len(hashed))")))
    assert "restored 1 names" in why, why
    return counts


def test_what_a_slow_cell_made_is_not_hashed_again_after_a_restart(tmp_path: Path, isolated_store):
    """A fitted model, restored after a restart, counts with the digest kept when it was
    stored; before, every cell reading it hashed it again (a GEE result: 0.6 s a cell)."""
    fit = f"%%memo\nimport time, types\ntime.sleep(0.2)\n{MAKE_GROUPS}"
    counts = _hashes_before_and_after_a_restart(tmp_path, isolated_store, fit)
    assert counts == [1, 0], "hashed once when stored, never after the restart"


def test_digests_kept_at_store_time_stay_within_a_share_of_the_cell(tmp_path: Path, isolated_store):
    """Hashing a cell's other outputs when it is stored costs at most about a quarter of
    the cell: past that, what is left is hashed by the cells that read it, if any do."""
    # outputs are hashed in name order: `a_raw` first (0.2 s, in a 0.15 s cell) spends it all
    make = f"%%memo\nimport time, types\ntime.sleep(0.15)\na_raw = Slow()\n{MAKE_GROUPS}"
    counts = _hashes_before_and_after_a_restart(tmp_path, isolated_store, make)
    assert counts[0] == 1, "left to the reading cell"


def test_a_digest_a_reading_cell_took_serves_the_restored_output(tmp_path: Path, isolated_store):
    """A cheap cell's output (a model fitted in 20 ms) has no digest in its record; the
    first cell that reads it hashes it, and that digest is kept for the entry's output:
    after a restart, the restored value counts with it (robust_models_1: cells printing a
    restored model's summary in 20 ms hashed it again on every restart, 0.16 s)."""
    make = f"%%memo\nimport types\n{MAKE_GROUPS}"
    counts = _hashes_before_and_after_a_restart(tmp_path, isolated_store, make)
    assert counts == [1, 0], "hashed by its first reader, never after the restart"


def test_a_learned_digest_is_only_kept_for_the_value_as_it_was_stored(
    tmp_path: Path, isolated_store
):
    """A plain cell may change an output behind hitnb's back: a digest taken after it is
    not the stored value's. Restored without that change, the value counts as itself."""
    make, read = f"%%memo\n{MAKE_GROUPS}", "%%memo\nprint(len(groups.rows))"
    change = "groups.rows.append([1.0])"  # not memoized: hitnb cannot tell what it changed
    printed = []
    for cells in ([make, change, read], [make, read]):
        with KernelSession(tmp_path, {"HITNB_STORE": str(isolated_store)}) as kernel:
            kernel.run("%load_ext hitnb\nimport types")
            printed.append([kernel.run(cell) for cell in cells][-1])
    assert printed == ["61\n", "60\n"]


def test_an_input_a_cheap_cell_changed_keeps_the_digest_measured_after_it(
    tmp_path: Path, isolated_store
):
    """A cell that changes its input in place hashes it after the run to see that; that
    digest is kept, however cheap the cell, so the next reader does not hash it again."""
    with KernelSession(tmp_path, {"HITNB_STORE": str(isolated_store)}) as kernel:
        kernel.run("%load_ext hitnb")
        kernel.run(COUNT_NAMESPACES)
        kernel.run(f"%%memo\nimport types\n{MAKE_GROUPS}")
        kernel.run("%%memo\ngroups.rows.append([1.0])")  # hashed before the run and after
        kernel.run(READ_GROUPS)
        assert kernel.run("print(len(hashed))") == "2\n", "not again by the reader"


def test_an_output_hashing_fails_on_is_left_unhashed_and_the_cell_runs(
    tmp_path: Path, isolated_store
):
    """Keeping outputs' digests is hitnb's own bookkeeping: an object whose hashing fails
    (kernel_density: a figure holding a masked array) must not fail the user's cell."""
    with KernelSession(tmp_path, {"HITNB_STORE": str(isolated_store)}) as kernel:
        kernel.run("%load_ext hitnb\nimport time, hitnb\nclass Odd:\n    pass")
        kernel.run("hitnb.register_hasher(Odd, lambda value: 1 / 0)")
        printed = kernel.run("%%memo\ntime.sleep(0.15)\nodd = Odd()\nprint('ran')")
        assert printed == "ran\n"
        assert kernel.run("print(type(odd).__name__)") == "Odd\n"


def test_a_cell_hashes_an_input_for_its_key_not_again_for_its_recipe(
    tmp_path: Path, isolated_store
):
    """The recipe of a cell (how to run it again, for export) keeps each input under the
    digest its key took. Hashed again, a fitted model read by a plotting cell cost a miss
    twice its hashing (statespace_seasonal: half a second of a 2 s cell)."""
    with KernelSession(tmp_path, {"HITNB_STORE": str(isolated_store)}) as kernel:
        kernel.run("%load_ext hitnb")
        kernel.run(COUNT_NAMESPACES + "\nimport hitnb.core.recipe as recipe\n")
        kernel.run("recipe.hash_value = counting")
        kernel.run(f"import types\n{MAKE_GROUPS}")  # a plain cell: no digest of it is known
        kernel.run(READ_GROUPS)
        assert kernel.run("print(len(hashed))") == "1\n"
        kept = "import hitnb\nprint(len(hitnb.store.local.open_store(hitnb.config.store_path())"
        assert kernel.run(kept + ".entries('hitnb.input')))") == "1\n", "kept all the same"


def test_the_objects_an_array_output_holds_are_hashed_within_a_limit(
    tmp_path: Path, isolated_store
):
    """An array is hashed as an output whatever its cell cost (at memory speed, for the
    next cells); an object array is not data of that kind. ``axes`` of ``plt.subplots(1,
    2)`` reached 2000 plotted lines, and hashing them made a cell of 1 s take 3.5 s
    (arch's volatility scenarios). Its objects now stop being walked after a short limit."""
    with KernelSession(tmp_path, {"HITNB_STORE": str(isolated_store)}) as kernel:
        kernel.run("%load_ext hitnb\nimport numpy as np, time")
        kernel.run(
            "reduced = []\n"
            "class Slow:  # 0.1 s to hash (and to pickle)\n"
            "    def __reduce_ex__(self, protocol):\n"
            "        reduced.append(1)\n"
            "        time.sleep(0.1)\n"
            "        return (Slow, ())"
        )
        kernel.run("%%memo\nslow = np.array([Slow() for _ in range(6)] + [None], dtype=object)")
        # pickled once to be stored (6 calls); hashed up to the limit: the first object
        assert kernel.run("print(len(reduced))") == "7\n"
        assert kernel.run("print(type(slow[0]).__name__, len(slow))") == "Slow 7\n"


def test_an_input_only_drawn_by_matplotlib_is_not_hashed_again_after_the_cell(
    tmp_path: Path, isolated_store
):
    """A name given to a call may be changed by it, so it is hashed again after the run; a
    call to matplotlib's drawing functions leaves it as it was. Plotting parts of big
    statsmodels results hashed them again after each plotting cell (statespace_seasonal
    cell 23: 1 s of a 0.1 s cell). A call to another function still counts."""
    with KernelSession(tmp_path, {"HITNB_STORE": str(isolated_store)}) as kernel:
        kernel.run(
            "%load_ext hitnb\nimport numpy as np\nimport matplotlib\nmatplotlib.use('agg')\n"
            "import matplotlib.pyplot as plt"
        )
        kernel.run(COUNT_HASHES)
        kernel.run("%%memo\nseries = np.arange(2_000_000.0)")
        assert kernel.run("print(len(hashed))") == "1\n"  # as an output, for later cells
        # that plain cell forgot every digest: hashed again for the key, and no more
        kernel.run(
            "%%memo\nfig, axes = plt.subplots(1, 2)\naxes[0].plot(series[::1000])\n"
            "plt.scatter(series[:10], series[10:20])\naxes[1].set_title('drawn', fontsize=8)"
        )
        assert kernel.run("print(len(hashed))") == "2\n"
        kernel.run("def look(a):\n    return a[0]")
        kernel.run("%%memo\nfirst = look(series)")
        assert kernel.run("print(len(hashed))") == "4\n"  # for the key, then measured again


def test_what_a_notebook_function_holds_is_hashed_once_a_run_not_by_every_cell(
    tmp_path: Path, isolated_store
):
    """``fib.memo`` of a million entries made every cell run cost two hashings of it (what
    each notebook function holds, before the run and after: changed in place?) and every
    cell reading ``fib`` one more for its key, hits too: 90 to 145 ms a cell where the
    cell took 5 to 15 ms. Now it is hashed after each run only, and kept for the next
    cell, while nothing could change it; a change in place is still seen."""
    with KernelSession(tmp_path, {"HITNB_STORE": str(isolated_store)}) as kernel:
        kernel.run(
            "%load_ext hitnb\nimport hitnb\nhashed = []\nclass Table:\n    rows = None\n"
            "hitnb.register_hasher(Table, lambda t: (hashed.append(1), list(t.rows))[1])\n"
            "def fib(n):\n    return n\nfib.memo = Table()\nfib.memo.rows = [1, 2]"
        )
        reads = "%%memo\nimport time\ntime.sleep(0.2)\na = fib(1)"
        kernel.run(reads)  # its key, then after its run
        kernel.run("%%memo\nimport time\ntime.sleep(0.2)\nb = 2")  # after its run
        assert "restored" in kernel.run(reads.replace("%%memo", "%%memo --why"))  # a hit
        assert kernel.run("print(len(hashed))") == "3\n"
        changed = kernel.run("%%memo --why\nfib.memo.rows.append(3)")
        assert "changed attribute `memo` of function `fib` in place" in changed, changed


def test_a_function_attribute_changed_through_a_name_the_cell_binds_is_hashed_again(
    tmp_path: Path, isolated_store
):
    """``log = f.items; log.append(1)``: ``log`` is an output, which the check of what ``f``
    holds after the run leaves to the record, so the digest kept of ``f.items`` was stale,
    and the next ``c = len(f.items)`` hit the first one's entry (0 where a plain run
    gives 1; a review's case, found in this change)."""
    slow = "import time\ntime.sleep(0.2)\n"
    with KernelSession(tmp_path, {"HITNB_STORE": str(isolated_store)}) as kernel:
        kernel.run("%load_ext hitnb\n%hitnb auto\ndef f():\n    return 1\nf.items = []")
        kernel.run(f"{slow}c = len(f.items)")
        kernel.run(f"{slow}log = f.items\nlog.append(1)")
        kernel.run(f"{slow}c = len(f.items)")
        kernel.run("%hitnb auto off")
        assert kernel.run("print(c, len(f.items))") == "1 1\n"


FIT_AND_SUMMARY = [
    "%%memo\nimport time\ntime.sleep(0.2)\nbig = np.arange(2_000_000, dtype=np.float64)",
    "%%memo\nimport time\ntime.sleep(0.2)\nx = sm.add_constant(np.arange(50.0))\n"
    "res = sm.OLS(3 * x[:, 1] + np.sin(x[:, 1]), x).fit()\nholder = {'r': res}",
    "%%memo\nimport time\ntime.sleep(0.2)\nprint(hasattr(holder['r'], 'diagn'))",
    "%%memo\nimport time\ntime.sleep(0.2)\nprint(res.summary().tables[0])",
]


def test_a_summary_hit_keeps_the_digests_of_values_apart_from_the_results(
    tmp_path: Path, isolated_store
):
    """A run or a hit adding what a summary added to the live results (a patch) changes
    only the values reaching them; before, each dropped every digest the session kept,
    and the next cell reading a big array hashed it again."""
    printed = []
    for _ in range(2):
        with KernelSession(tmp_path, {"HITNB_STORE": str(isolated_store)}) as kernel:
            kernel.run("%load_ext hitnb\nimport numpy as np\nimport statsmodels.api as sm")
            kernel.run(COUNT_HASHES)
            for cell in FIT_AND_SUMMARY:
                kernel.run(cell)
            kernel.run("%%memo\ntotal = float(big.sum())")
            printed.append(kernel.run("print(len(hashed))"))
    assert printed == ["1\n", "0\n"], "hashed when stored; known after the restart; kept"


def test_a_value_holding_what_a_hit_added_to_is_hashed_again(tmp_path: Path, isolated_store):
    """``holder`` holds the results the summary's hit added to: the digest kept of it
    before the hit is stale, and the cell reading it must not be taken for the one that
    read it before the summary (which printed False)."""
    printed = []
    for _ in range(2):
        with KernelSession(tmp_path, {"HITNB_STORE": str(isolated_store)}) as kernel:
            kernel.run("%load_ext hitnb\nimport numpy as np\nimport statsmodels.api as sm")
            for cell in FIT_AND_SUMMARY:
                kernel.run(cell)
            printed.append(kernel.run(FIT_AND_SUMMARY[2]))
    assert printed == ["True\n", "True\n"]
