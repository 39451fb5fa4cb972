"""Objects shared between names survive a Restart & Run All (real kernels, a restart between
runs on one store): a cell that changes an object in place, through a name that shares it
with others (a model and the fitted results it keeps, a wrapper around them), and library
objects held inside a stored value (``scipy.stats.norm`` in a dict)."""

from __future__ import annotations

from pathlib import Path

import pytest
from nbhelpers import printed_in_fresh_kernels

from hitnb.store.local import open_store

pytestmark = pytest.mark.slow


def test_names_sharing_what_a_cell_changed_come_back_changed_and_shared(
    tmp_path: Path, isolated_store: Path
):
    cells = [
        "%load_ext hitnb\nimport json, types",
        # results, and a model keeping them: one object, two names
        "%%memo\nresults = {'cache': {}}\nmodel = {'results': results}",
        # a wrapper around unnamed results, and a diagnostic keeping those results
        "%%memo\nwrapper = types.SimpleNamespace(_results={'cache': {}})\n"
        "diagnostic = {'results': wrapper._results}",
        # each changes the shared results through a name other than the one that holds them
        "%%memo\nmodel['results']['cache']['resid'] = [1, 2]\n"
        "diagnostic['results']['cache']['resid'] = [3]",
        "%%memo\nfilled = len(results['cache']) + len(wrapper._results['cache'])\n"
        "print('filled', filled)",
        "print(json.dumps([results['cache'], model['results'] is results,"
        " wrapper._results['cache'], diagnostic['results'] is wrapper._results]))",
    ]
    first, second, stored = _twice(tmp_path, isolated_store, cells)
    expected = '[{"resid": [1, 2]}, true, {"resid": [3]}, true]\n'
    assert first[-1] == expected
    assert second[-1] == expected, "after the restart, the change came back to every name"
    assert second[4] == first[4] == "filled 2\n"
    assert stored[1] == stored[0], "once restarted, every cell hit: none was stored again"


def test_a_library_object_inside_a_stored_value_comes_back_as_itself(
    tmp_path: Path, isolated_store: Path
):
    """``norm`` holds scipy's global random state, so it counts by its name; a copy of it,
    restored inside a dict, counted by its state and made every reader of the dict miss."""
    cells = [
        "%load_ext hitnb\nfrom scipy.stats import norm\nimport numpy as np",
        "%%memo\nholder = {'dist': norm, 'scale': 2.0}",
        "np.random.normal(size=3);",  # unseeded draws move norm's state
        "%%memo\nprint('mean', holder['dist'].mean() * holder['scale'])",
        "print(holder['dist'] is norm)",
    ]
    first, second, stored = _twice(tmp_path, isolated_store, cells)
    assert first[-1] == second[-1] == "True\n", "the restored dict holds scipy's own norm"
    assert second[3] == first[3] == "mean 0.0\n"
    assert stored[1] == stored[0], "once restarted, the reader of holder hit"


def _twice(
    cwd: Path, store: Path, cells: list[str]
) -> tuple[list[str], list[str], tuple[int, int]]:
    """What each cell printed in two fresh kernels, and how many entries the store held
    after each."""
    env = {"HITNB_STORE": str(store)}
    first = printed_in_fresh_kernels(cwd, env, cells, kernels=1)[0]
    after_first = len(open_store(store).listing())
    second = printed_in_fresh_kernels(cwd, env, cells, kernels=1)[0]
    return first, second, (after_first, len(open_store(store).listing()))


def _as_plain_after_a_restart(
    cwd: Path, store: Path, cells: list[str], printed: str, status: str
) -> None:
    """Run ``cells`` in two fresh kernels on one store: the last cell prints ``printed``
    in both, and the auto-mode status the cell before it shows in the second holds
    ``status`` (how many cells came from the store)."""
    first, second, _ = _twice(cwd, store, cells)
    assert first[-1] == second[-1] == printed
    assert status in second[-2], second[-2]


def _hit_as_plain(cwd: Path, store: Path, cells: list[str], printed: str) -> None:
    """Run ``cells`` in two fresh kernels on one store: the last cell prints ``printed`` in
    both, and the ``%hitnb why`` cell says in the second that the cell before it came
    from the cache."""
    first, second = printed_in_fresh_kernels(cwd, {"HITNB_STORE": str(store)}, cells)
    assert first[-1] == second[-1] == printed
    why = cells.index("%hitnb why")
    assert "came from the cache" in second[why], second[why]


def test_what_a_cell_made_holds_the_inputs_it_read_not_copies(tmp_path: Path, isolated_store: Path):
    """A list of fitted models, a model keeping its data: the cell's record refers to the
    inputs it kept unchanged, so a hit neither copies them nor stores them again (a list of
    four statsmodels results took 37 ms to unpickle for a cell that ran in 1 ms)."""
    slow = "import time\ntime.sleep(0.3)  # worth storing, not running again\n"
    cells = [
        "%load_ext hitnb\nimport json\nimport numpy as np",
        f"%%memo\n{slow}data = np.arange(1_000_000.0)",
        f"%%memo\n{slow}kept = {{'data': data, 'n': 3}}\nalias = data",
        f"%%memo\n{slow}data.sort()\ntotal = float(kept['data'][:2].sum())",  # changes data
        "print(json.dumps([kept['data'] is data, alias is data, total]))",
    ]
    first, second, stored = _twice(tmp_path, isolated_store, cells)
    assert first[-1] == second[-1] == "[true, true, 1.0]\n"
    assert stored[1] == stored[0]
    total = sum(row.size for row in open_store(isolated_store).listing())
    assert 16_000_000 < total < 17_000_000, "data as made and as sorted; kept refers to it"


def test_reading_a_results_cached_attribute_does_not_change_it(
    tmp_path: Path, isolated_store: Path
):
    """statsmodels keeps ``res.pvalues`` in ``res._cache`` once read. The cell reading it
    does not store ``res`` (an attribute read changes nothing by syntax), so after a restart
    ``res`` came back without it, hashed as another value, and every later reader missed
    (glm_weights: 14 cells ran again on every restart)."""
    cells = [
        "%load_ext hitnb\nimport numpy as np\nimport statsmodels.api as sm",
        "%%memo\nx = np.arange(30.0)\nres = sm.GLM(3 * x + np.sin(x), sm.add_constant(x)).fit()",
        "%%memo\nworst = res.pvalues[1] * 2",  # fills res._cache
        "%%memo\nx[0] = -1.0",  # a change in place: readers hash their inputs again
        "%%memo\nprint('total', round(float(res.params.sum()), 6))",
    ]
    first, second, stored = _twice(tmp_path, isolated_store, cells)
    assert second[4] == first[4] == "total 3.095589\n"
    assert stored[1] == stored[0], "once restarted, every cell hit: none was stored again"


def test_a_summary_a_hit_replays_adds_to_the_live_results(tmp_path: Path, isolated_store: Path):
    """``print(res.summary())`` adds the figures it shows to ``res`` (``diagn``,
    ``_summary_cache``): the run changed ``res``, and a hit restored it whole, with ``y``,
    which it shares; ``res2``, fitted on the same ``y`` but holding it behind its private
    ``_results``, was not seen as sharing it, so after a restart ``res2.model.endog is y``
    was False, where a plain run leaves True (and the load of both models cost each hit
    more than the cell). The additions are kept as a patch now and added to the live
    ``res``."""
    cells = [
        "%load_ext hitnb\nimport numpy as np\nimport statsmodels.api as sm",
        "%%memo\nx = sm.add_constant(np.arange(50.0))\ny = 3 * x[:, 1] + np.sin(x[:, 1])\n"
        "res = sm.OLS(y, x).fit()\nres2 = sm.OLS(y, x).fit()",
        "%%memo\nimport time\ntime.sleep(0.3)\nprint(res.summary().tables[1])",
        "%hitnb why",
        "print(res2.model.endog is y, res.model.endog is y, sorted(res.diagn)[:2])",
    ]
    _hit_as_plain(tmp_path, isolated_store, cells, "True True ['condno', 'jb']\n")


def test_a_summary_beside_a_function_the_cell_defines_is_added_to_the_live_results(
    tmp_path: Path, isolated_store: Path
):
    """A cell defining the helper it shows a summary with (``def table(s): ...``): any
    code the cell bound counted as holding what it changed, so ``res`` was restored whole
    (after a restart ``res2.model.endog is y`` was False, as above). A function of the
    notebook is walked into (its defaults, closure and attributes) like any other output."""
    cells = [
        "%load_ext hitnb\nimport numpy as np\nimport statsmodels.api as sm",
        "%%memo\nx = sm.add_constant(np.arange(50.0))\ny = 3 * x[:, 1] + np.sin(x[:, 1])\n"
        "res = sm.OLS(y, x).fit()\nres2 = sm.OLS(y, x).fit()",
        "%%memo\nimport time\ntime.sleep(0.3)\n"
        "def table(s):\n    return s.tables[1]\n\nprint(table(res.summary()))",
        "%hitnb why",
        "print(res2.model.endog is y, res.model.endog is y, sorted(res.diagn)[:2])",
    ]
    _hit_as_plain(tmp_path, isolated_store, cells, "True True ['condno', 'jb']\n")


def test_a_summary_shown_as_a_frame_is_added_to_the_live_results(
    tmp_path: Path, isolated_store: Path
):
    """The frame a cell shows and the results it patched both reach pandas' ``Index``
    rebuilding function, the ``slice`` type and the ``_metadata`` list of pandas' frames:
    counted as objects the two shared, ``res`` was restored whole, with a copy of ``y``,
    which ``res2`` does not hold then. (The ids compared were also those of the state
    dicts a walk had let go of, which the next walk could be given.)"""
    cells = [
        "%load_ext hitnb\nimport numpy as np\nimport pandas as pd\nimport statsmodels.api as sm",
        "%%memo\nx = sm.add_constant(pd.DataFrame({'t': np.arange(50.0)}))\n"
        "y = 3 * x['t'] + np.sin(x['t'])\nres = sm.OLS(y, x).fit()\nres2 = sm.OLS(y, x).fit()",
        "%%memo\nimport io\nimport time\ntime.sleep(0.3)\n"
        "pd.read_csv(io.StringIO(res.summary().tables[1].as_csv()), index_col=0)",
        "%hitnb why",
        "print(res2.model.data.orig_endog is y, sorted(res.diagn)[:2])",
    ]
    _hit_as_plain(tmp_path, isolated_store, cells, "True ['condno', 'jb']\n")


def test_a_prediction_hit_adds_what_the_model_noted_to_the_live_results(
    tmp_path: Path, isolated_store: Path
):
    """A time series model's ``predict`` notes its dates in the model's data (the index of
    the series it returns), and reading ``resid`` caches a view of the forecast errors:
    neither could be copied into the live results, which came back whole instead, apart
    from ``y`` (``res2.model.data.orig_endog is y`` False after a restart). The index is
    added as the restored prediction's own and the residuals as a view of the live
    errors."""
    cells = [
        "%load_ext hitnb\nimport numpy as np\nimport pandas as pd\n"
        "from statsmodels.tsa.arima.model import ARIMA",
        "%%memo\ny = pd.Series(np.sin(np.arange(100) / 5.0) + np.arange(100) / 50.0,\n"
        "    index=pd.date_range('2000-01-01', periods=100, freq='MS'))\n"
        "res = ARIMA(y, order=(1, 0, 0)).fit()\nres2 = ARIMA(y, order=(1, 0, 0)).fit()",
        "%%memo\nimport time\ntime.sleep(0.3)\nprint(round(float(res.resid.iloc[1]), 6))",
        "%%memo\nimport time\ntime.sleep(0.3)\npred = res.predict('2008-01-01', '2008-06-01')",
        "%hitnb why",
        "errors = res._results.forecasts_error\n"
        "print(res.model.data.predict_dates is pred.index, res2.model.data.orig_endog is y,\n"
        "      np.shares_memory(res._results._cache['resid'], errors))",
    ]
    _hit_as_plain(tmp_path, isolated_store, cells, "True True True\n")


def test_an_added_output_holding_the_input_it_is_added_to_is_that_input_after_a_hit(
    tmp_path: Path, isolated_store: Path
):
    """``child = Node(parent=m); m.child = child``: taken from the restored output, the
    added ``child`` held a copy of ``m`` (``m.child.parent is m`` False after a restart,
    and ``m.v = 42`` did not reach it). An output reaching what a patched input held
    before the run is restored with the input whole, as before."""
    node = (
        "class Node:\n    def __init__(self, parent=None):\n"
        "        self.parent = parent\n        self.v = 1\n\nm = Node()"
    )
    cells = [
        f"%load_ext hitnb\n{node}",
        "%%memo\nimport time\ntime.sleep(0.3)\nchild = Node(parent=m)\nm.child = child",
        "%hitnb why",
        "m.v = 42\nprint(m.child.parent is m, child.parent is m, m.child is child, child.parent.v)",
    ]
    _hit_as_plain(tmp_path, isolated_store, cells, "True True True 42\n")


def test_a_summary_hit_adds_the_figures_it_cached_as_the_run_kept_them(
    tmp_path: Path, isolated_store: Path
):
    """The patch carries the cache entries the summary filled (``ssr``, ``aic``): computed
    again after ``y`` changed, or after ``remove_data()``, they differ from what a plain run
    kept (``remove_data(); res.aic`` printed the value plainly and raised TypeError after a
    restart, when the patch left them out)."""
    fit = (
        "%%memo\nimport time\ntime.sleep(0.3)\nrng = np.random.default_rng(0)\n"
        "x = sm.add_constant(rng.normal(size=(50, 2)))\ny = x @ [1, 2, 3] + rng.normal(size=50)\n"
        "res = sm.OLS(y, x).fit()"
    )
    summary = "%%memo\nimport time\ntime.sleep(0.3)\nprint(res.summary().tables[0])"
    start = "%load_ext hitnb\nimport numpy as np\nimport statsmodels.api as sm"
    later = "y[0] += 100\nres.remove_data()\nprint(round(res.ssr, 6), round(res.aic, 6))"
    cells = [start, fit, summary, "%hitnb why", later]
    plain = printed_in_fresh_kernels(
        tmp_path, {}, [start, *(c[7:] for c in cells[1:3]), later], kernels=1
    )
    _hit_as_plain(tmp_path, isolated_store, cells, plain[0][-1])


def test_a_cached_attribute_a_read_filled_is_kept_after_a_hit(tmp_path: Path, isolated_store: Path):
    """``print(fit.total)`` keeps ``total``: plainly, a later read finds it, even after
    ``y`` changed. A hit left it out, and the later read computed it again from the new
    ``y`` (13 where a plain run prints 3)."""
    cells = [
        "%load_ext hitnb\nimport functools\nclass Fit:\n    def __init__(self, y):\n"
        "        self.y = y\n    @functools.cached_property\n    def total(self):\n"
        "        return sum(self.y)\ny = [1, 2]\nfit = Fit(y)",
        "%%memo\nimport time\ntime.sleep(0.3)\nprint(fit.total)",
        "%hitnb why",
        "y.append(10)\nprint(fit.total)",
    ]
    _hit_as_plain(tmp_path, isolated_store, cells, "3\n")


def test_an_object_a_cell_adds_that_a_name_holds_too_is_that_object_after_a_hit(
    tmp_path: Path, isolated_store: Path
):
    """Added as a copy, ``m.items`` would no longer be ``REG``: the cell's change is
    restored whole instead, with ``REG``, which it shares."""
    cells = [
        "%load_ext hitnb\nclass M:\n    def __init__(self):\n        self.a = 0\n\n"
        "m = M()\nREG = [1, 2]",
        "%%memo\nimport time\ntime.sleep(0.3)\nm.items = REG",
        "%hitnb why",
        "REG.append(3)\nprint(m.items, m.items is REG)",
    ]
    _hit_as_plain(tmp_path, isolated_store, cells, "[1, 2, 3] True\n")


LOGGED_READ = [
    "%load_ext hitnb\nimport json",
    "%%memo\nclass Log:\n    def __init__(self):\n        self.seen = []\n"
    "    @property\n    def value(self):\n        self.seen.append(1)\n        return 42\n"
    "log = Log()",
    "%%memo\nimport time\ntime.sleep(0.3)\nprint(log.value)",
    "%hitnb why",
    "print(json.dumps(log.seen))",
]
SUMMARY_READ = [
    "%load_ext hitnb\nimport warnings\nimport numpy as np\nimport statsmodels.api as sm\n"
    "warnings.simplefilter('ignore')",
    "%%memo\nx = np.arange(30.0)\nres = sm.tsa.SARIMAX(3 * x + np.sin(x), order=(1, 0, 0))"
    ".fit(disp=False)",
    "%%memo\nimport time\ntime.sleep(0.3)\nprint(round(res.aic, 3))",
    "%hitnb why",
    "res.remove_data()\nprint(round(res.llf, 3))",
]


@pytest.mark.parametrize(
    "cells, printed",
    [(LOGGED_READ, "[1]\n"), (SUMMARY_READ, "-79.052\n")],
    ids=["property-appending", "statsmodels-summary-statistics"],
)
def test_an_attribute_read_that_changes_the_object_is_replayed_by_a_hit(
    tmp_path: Path, isolated_store: Path, cells: list[str], printed: str
):
    """A cell only reading an attribute was not hashed again after it ran: a read was taken
    to change nothing. A property may add to its object, and statsmodels' state space
    results keep ``llf`` on the first ``res.aic`` so that it outlives ``remove_data()``:
    after a restart the hit left ``res`` without it, and the plain cell after it raised
    (``AttributeError``) where a plain run prints the value. The digest the session kept
    for the object was stale too, keying every later reader by the state before the read.
    An attribute added or a dict, list or set grown by the run is hashed again now."""
    _hit_as_plain(tmp_path, isolated_store, cells, printed)


REBOUND = [  # spopt's p-median notebook: a column added to `facilities`, which `model_args`
    # also holds, before the cell binds `facilities` to a copy. `facilities` was an output,
    # so the frame it held before was never measured: the hit left `model_args` without
    # the column, and every later cell reading it ran again.
    "%load_ext hitnb\nimport pandas as pd",
    "%%memo\ndf = pd.DataFrame({'a': [1, 2, 3]})\nargs = (df, 'a')",
    "%%memo\ndf['b'] = df['a'] * 2\ndf = df[['a', 'b']].copy()",
    "print(list(args[0].columns), list(df.columns))",
]
VIEW = [  # `v` views `arr`'s memory; the later cell writes through `v` only. `v` was stored
    # changed, but `arr` (not read by that cell) was not. (Restored, `v` is a view of `arr`
    # again: see ArrayView.)
    "%load_ext hitnb\nimport numpy as np",
    "%%memo\narr = np.arange(6).reshape(2, 3)\nv = arr[0]",
    "%%memo\nv[:] = -1",
    "print(arr.tolist(), v.tolist())",
]


@pytest.mark.parametrize(
    "cells, printed",
    [
        (REBOUND, "['a', 'b'] ['a', 'b']\n"),
        (VIEW, "[[-1, -1, -1], [3, 4, 5]] [-1, -1, -1]\n"),
    ],
    ids=["changed-then-bound-again", "written-through-a-view"],
)
def test_a_change_made_through_another_name_reaches_every_name_on_a_hit(
    tmp_path: Path, isolated_store: Path, cells: list[str], printed: str
):
    first, second, (entries_after_first, entries_after_second) = _twice(
        tmp_path, isolated_store, cells
    )
    assert first[-1] == printed
    assert second[-1] == first[-1]
    assert entries_after_second == entries_after_first, "the second session stored nothing"


def test_the_result_of_a_cell_that_changed_then_bound_an_input_again_is_its_own(
    tmp_path: Path, isolated_store: Path
):
    # The old object of `df` was hashed again under the name of the cell's result: the
    # record kept that frame as the result, and `_` was the old frame after the hit.
    cells = [
        "%load_ext hitnb\nimport pandas as pd",
        "%%memo\ndf = pd.DataFrame({'a': [1, 2, 3]})\nargs = (df, 'a')",
        "%%memo\ndf['b'] = df['a'] * 2\ndf = df[['a', 'b']].copy()\nlen(df.columns)",
        "print(repr(_))",
    ]
    first, second, _ = _twice(tmp_path, isolated_store, cells)
    assert first[-1] == second[-1] == "2\n"


def test_a_name_that_no_longer_shares_what_a_cell_changes_is_left_alone(
    tmp_path: Path, isolated_store: Path
):
    """``df2 = df`` fixed to ``df2 = df.copy()`` (and ``b = a`` to ``b = a.copy()``): the
    cell changing ``df2`` in place keys alike either way, and a hit restored ``df`` with the
    change it had when the two were one name. Now the hit checks who shares what the cell
    changes, and runs the cell when that differs from its run, either way round."""
    head = "%load_ext hitnb\n%hitnb auto\nimport numpy as np, pandas as pd\n"
    frame = "df = pd.DataFrame({'price': [10.0, 20.0]})\na = np.arange(3.0)\n"
    frame += "rows = [[0, 0, 0] for _ in range(10)]\n"  # long: hashed whole, by its pickle
    cells = [
        "df2['price'] *= 2",
        "b -= b.mean()",
        "rows[0][0] = 9",
        "print(list(df.price), a.tolist(), r0)",
    ]
    env = {"HITNB_STORE": str(isolated_store)}
    printed = []
    for copy in (False, True, False, False):
        made = "df2 = df.copy()\nb = a.copy()\nr0 = list(rows[0])"
        session = [head + frame + (made if copy else "df2 = df\nb = a\nr0 = rows[0]")]
        session += [*cells, "%hitnb auto status"]
        printed += printed_in_fresh_kernels(tmp_path, env, session, 1)
    assert "4 cells memoized (4 from the store)" in printed[3][-1], "as it ran: it hits"
    assert [run[-2] for run in printed] == [
        "[20.0, 40.0] [-1.0, 0.0, 1.0] [9, 0, 0]\n",
        "[10.0, 20.0] [0.0, 1.0, 2.0] [0, 0, 0]\n",
        "[20.0, 40.0] [-1.0, 0.0, 1.0] [9, 0, 0]\n",
        "[20.0, 40.0] [-1.0, 0.0, 1.0] [9, 0, 0]\n",
    ]


def test_a_part_of_an_input_a_cell_bound_comes_back_as_that_part(
    tmp_path: Path, isolated_store: Path
):
    """``clf = pipe[-1]`` restored a copy of the step: after a hit, the edited next cell
    ``clf.set_params(C=0.001)`` changed the copy, and the pipeline kept C=1.0. Parts of an
    input the cell left unchanged are stored as references to where they lie in it."""
    head = (
        "%load_ext hitnb\n%hitnb auto\nimport types\n"
        "clf = types.SimpleNamespace(C=1.0)\n"
        "pipe = types.SimpleNamespace(steps=[('scale', None), ('clf', clf)])\ndel clf\n"
        "cfg = {'model': {'C': 1.0}, 'seed': 0}"
    )
    printed = []
    for value in (1.0, 0.001):
        cells = [
            head,
            "clf = pipe.steps[-1][1]\nmodel_cfg = cfg['model']",
            f"clf.C = {value}\nmodel_cfg['C'] = {value}",
            "print(pipe.steps[-1][1].C, cfg['model']['C'], clf is pipe.steps[-1][1])",
            "%hitnb auto status",
        ]
        printed += printed_in_fresh_kernels(
            tmp_path, {"HITNB_STORE": str(isolated_store)}, cells, 1
        )
    assert printed[0][3] == "1.0 1.0 True\n"
    assert printed[1][3] == "0.001 0.001 True\n"
    assert "(1 from the store)" in printed[1][4], "the cell binding the parts hit"


@pytest.mark.parametrize(
    "labels, change, hits",
    [
        ("np.array([1, 2])", "labels[0] = 5", True),
        ("[1, 2]", "labels[0] = 5", True),
    ],
    ids=["array", "list"],
)
@pytest.mark.parametrize("defines", ["", "\ndef helper():\n    return 1"], ids=["", "defining"])
def test_a_name_the_cell_made_share_an_input_stays_the_very_object(
    tmp_path: Path, isolated_store: Path, labels: str, change: str, hits: bool, defines: str
):
    """``dta.index = index`` (statsmodels' tsa_filters): the run makes ``index`` share the
    frame it changes. Kept as a shared output, ``index`` had no digest to check on a hit,
    so the cell ran again in every session; given one, a hit bound ``index`` to the
    restored copy, and a function default holding the old object no longer saw changes
    made through the name (review of this change). The record refers to such an input
    instead: restored, ``box.labels`` is the live ``labels`` (in a cell that defines a
    function too, whose other outputs are pickled apart). A list too, now that the codec
    refers to lists (it ran again in every session, right either way)."""
    cells = [
        "%load_ext hitnb\n%hitnb auto\nimport json\nimport numpy as np",
        f"labels = {labels}\ndef known(x, vocab=labels):\n    return x in vocab\n"
        "class Box:\n    pass\nbox = Box()",
        f"box.labels = labels{defines}",
        "%hitnb auto status\n%hitnb auto off",
        f"{change}\nshown = [known(5), box.labels is labels, [int(v) for v in box.labels]]\n"
        "print(json.dumps(shown))",
    ]
    first, second, _ = _twice(tmp_path, isolated_store, cells)
    assert first[-1] == second[-1] == "[true, true, [5, 2]]\n"
    hit = "2 cells memoized (2 from the store)" in second[-2]
    assert hit == hits, second[-2]


def test_outputs_of_a_cell_that_defines_code_stay_one_object(tmp_path: Path, isolated_store: Path):
    """A cell that defines a class or function pickles its other outputs apart from its
    record (they may be instances of what it defines); each was pickled alone, so ``model``
    came back holding a copy of ``cfg``, and a later change of ``cfg`` no longer reached
    it. They are pickled together now."""
    cells = [
        "%load_ext hitnb\n%hitnb auto\nimport json",
        "class Model:\n    def __init__(self, settings):\n        self.settings = settings\n"
        "cfg = {'lr': 1}\nmodel = Model(cfg)",
        "%hitnb auto status\n%hitnb auto off",
        "cfg['lr'] = 2\nprint(json.dumps([model.settings is cfg, model.settings['lr']]))",
    ]
    _as_plain_after_a_restart(
        tmp_path, isolated_store, cells, "[true, 2]\n", "1 cells memoized (1 from the store)"
    )


def test_a_step_fitted_through_its_own_name_is_fitted_in_the_pipeline(
    tmp_path: Path, isolated_store: Path
):
    """``reg = pipe[-1]`` then ``reg.fit(X, y)``: the cell changes what ``pipe`` holds three
    steps down (a list of tuples). Only names holding a changed object directly were found
    sharing it: a hit restored a fitted ``reg`` and left ``pipe`` holding the unfitted one
    (review of this change, a case older than it)."""
    cells = [
        "%load_ext hitnb\n%hitnb auto\nimport numpy as np\n"
        "from sklearn.pipeline import make_pipeline\nfrom sklearn.preprocessing import "
        "StandardScaler\nfrom sklearn.linear_model import Ridge",
        "X = np.arange(20.0).reshape(10, 2)\ny = X @ [1.0, 2.0]\n"
        "pipe = make_pipeline(StandardScaler(), Ridge())\nreg = pipe[-1]",
        "reg.fit(X, y);",
        "%hitnb auto status\n%hitnb auto off",
        "print(pipe[-1] is reg, hasattr(pipe[-1], 'coef_'))",
    ]
    _as_plain_after_a_restart(
        tmp_path, isolated_store, cells, "True True\n", "2 cells memoized (2 from the store)"
    )


SHARED_BEFORE = [  # the model held cfg before the cell: cfg, left as it was, is referred to
    "class Cfg:\n    lr = 0.1\nclass Model:\n    def __init__(self, cfg):\n"
    "        self.cfg, self.steps = cfg, 0\ncfg = Cfg()\nmodel = Model(cfg)",
    "model.steps += int(10 / cfg.lr)",
    "cfg.lr = 0.5\nprint(model.steps, model.cfg is cfg, model.cfg.lr)",
]
VIEW_INPUT = [  # referred to, a view would stay a view of the array the hit replaces
    "arr = np.zeros(6)\nhead = arr[:3]\nclass Box:\n    pass\nbox = Box()",
    "box.head = head\narr[5] = 1.0",
    "arr[0] = 99\nprint(head.tolist(), np.shares_memory(head, arr))",
]
CALLBACK = [  # pickled together with a callback dill must write, the class was dill's copy
    "class Box:\n    def __init__(self, v):\n        self.v = v\n"
    "def make_handler(seen):\n    def handle(x):\n        seen.append(x)\n    return handle\n"
    "seen = []\nb = Box([1])\nhandlers = {'h': make_handler(seen)}",
    "%hitnb auto status",
    "print(isinstance(b, Box), type(b) is Box)",
]


@pytest.mark.parametrize(
    "cells, printed, memoized",
    [
        (SHARED_BEFORE, "100 True 0.5\n", "2 cells memoized (2 from the store)"),
        (VIEW_INPUT, "[99.0, 0.0, 0.0] True\n", "2 cells memoized (2 from the store)"),
        (CALLBACK, "True True\n", "1 cells memoized (1 from the store)"),
    ],
    ids=["shared-before-the-run", "a-view-as-input", "a-callback-beside-instances"],
)
def test_what_a_hit_restores_beside_inputs_it_refers_to_is_as_plain(
    tmp_path: Path, isolated_store: Path, cells: list[str], printed: str, memoized: str
):
    """Found by the review of the change that refers to inputs a run left as they were:
    an input sharing the changed value before the run ran the cell again in every
    session; a view referred to was cut off from its array; a defining cell's values
    pickled together went to dill with a callback, which copied the notebook's class."""
    head = "%load_ext hitnb\n%hitnb auto\nimport numpy as np"
    session = [head, *cells[:2], "%hitnb auto status\n%hitnb auto off", cells[2]]
    _as_plain_after_a_restart(tmp_path, isolated_store, session, printed, memoized)


def test_a_name_that_shared_the_change_then_and_not_now_runs_the_cell(
    tmp_path: Path, isolated_store: Path
):
    """``model = {"w": w}`` edited to ``{"w": w.copy()}``: the cell changing ``model`` keys
    alike, and ``w`` holds what the run left it holding. A hit took that digest for
    enough and bound ``w`` to the array the restored ``model`` holds, one object where a
    plain run leaves two (a review's case, older than it): the cell runs again now."""
    env = {"HITNB_STORE": str(isolated_store)}
    printed = []
    for made in ("{'w': w}", "{'w': w.copy()}"):
        cells = [
            f"%load_ext hitnb\n%hitnb auto\nimport numpy as np\nw = np.zeros(3)\nmodel = {made}",
            "model['step'] = 1",
            "%hitnb why",
            "%hitnb auto off",
            "w += 1\nprint(model['w'].tolist(), model['w'] is w)",
        ]
        printed.append(printed_in_fresh_kernels(tmp_path, env, cells, kernels=1)[0])
    assert printed[0][-1] == "[1.0, 1.0, 1.0] True\n"
    assert printed[1][-1] == "[0.0, 0.0, 0.0] False\n"
    assert "`w` shared objects with `model` when the cell ran, and does not now" in printed[1][-3]


def test_a_name_sharing_the_change_edited_since_runs_the_cell(tmp_path: Path, isolated_store: Path):
    """``cfg = {"opt": opt, "seed": 0}`` edited to ``seed: 1``: the cell changing ``opt``
    keys alike (``cfg`` is none of its inputs), and its hit restored ``cfg`` as the run
    left it, with seed 0 (a review's case, older than this change). It runs again now,
    and is stored anew: the next session hits. (``opt`` holds a list: a dict of plain
    values only is changed in place by a hit, which ``cfg`` sees as it is.)"""
    env = {"HITNB_STORE": str(isolated_store)}
    printed = []
    for seed in (0, 1, 1):
        cells = [
            "%load_ext hitnb\n%hitnb auto\nopt = {'lr': 0.1, 'layers': [1]}",
            f"cfg = {{'opt': opt, 'seed': {seed}}}",
            "opt['lr'] = 0.5",
            "%hitnb why",
            "%hitnb auto off",
            "print(cfg, cfg['opt'] is opt)",
        ]
        printed.append(printed_in_fresh_kernels(tmp_path, env, cells, kernels=1)[0])
    assert [p[-1] for p in printed] == [
        "{'opt': {'lr': 0.5, 'layers': [1]}, 'seed': 0} True\n",
        "{'opt': {'lr': 0.5, 'layers': [1]}, 'seed': 1} True\n",
        "{'opt': {'lr': 0.5, 'layers': [1]}, 'seed': 1} True\n",
    ]
    assert "`cfg` shares objects with what the cell changes and holds other" in printed[1][3]
    assert "came from the cache" in printed[2][3]


@pytest.mark.parametrize("defines", ["", "def helper():\n    return 1\n"], ids=["", "defining"])
def test_a_dict_or_list_input_held_by_what_a_cell_made_stays_the_input(
    tmp_path: Path, isolated_store: Path, defines: str
):
    """``config = {"opt": defaults}``: pickle writes a dict itself, past the codec's
    references, so the hit restored ``config`` holding a copy of ``defaults``, and a
    change to ``defaults`` after it no longer reached ``config`` (a review's case, older
    than this change). Parts of an input (``defaults["layers"]``) alike."""
    cells = [
        "%load_ext hitnb\n%hitnb auto\ndefaults = {'lr': 0.1, 'layers': [1, 2]}",
        f"{defines}config = {{'opt': defaults, 'layers': [defaults['layers']]}}",
        "%hitnb auto status\n%hitnb auto off",
        "defaults['lr'] = 0.5\ndefaults['layers'].append(3)\n"
        "print(config['opt'], config['layers'][0], config['opt'] is defaults)",
    ]
    _as_plain_after_a_restart(
        tmp_path,
        isolated_store,
        cells,
        "{'lr': 0.5, 'layers': [1, 2, 3]} [1, 2, 3] True\n",
        "1 cells memoized (1 from the store)",
    )


@pytest.mark.parametrize(
    "setup, check",
    [
        ("DEFAULTS = {'lr': 0.1}\nclass Model:\n    def __init__(self):\n"
         "        self.cfg = DEFAULTS",
         "DEFAULTS['lr'] = 0.5\nprint(m.cfg, m.cfg is DEFAULTS)"),
        ("class Model:\n    registry = {}\n    def __init__(self):\n"
         "        self.reg = Model.registry",
         "Model.registry['a'] = 1\nprint(m.reg, m.reg is Model.registry)"),
    ],
    ids=["a-global", "a-class-attribute"],
)  # fmt: skip
def test_an_object_made_holding_what_its_class_reads_holds_it_after_a_hit(
    tmp_path: Path, isolated_store: Path, setup: str, check: str
):
    """``m = Model()`` keeping a notebook global (``self.cfg = DEFAULTS``) or a value of
    its class (``Model.registry``): the cell reads neither by name, so the hit restored
    ``m`` holding copies, and a later change to ``DEFAULTS`` no longer reached ``m.cfg``
    (``{'lr': 0.1} False`` where the plain run prints ``{'lr': 0.5} True``)."""
    cells = [
        f"%load_ext hitnb\n%hitnb auto\n{setup}",
        "m = Model()",
        "%hitnb auto status\n%hitnb auto off",
        check,
    ]
    value = "{'lr': 0.5}" if "DEFAULTS" in setup else "{'a': 1}"
    _as_plain_after_a_restart(
        tmp_path, isolated_store, cells, f"{value} True\n", "1 cells memoized (1 from the store)"
    )


def test_an_object_holding_a_value_of_the_class_its_cell_defines_holds_it_after_a_hit(
    tmp_path: Path, isolated_store: Path
):
    """A hit defines the class again from its source, then loads the objects the cell
    made: ``m`` and ``reg`` came back holding copies of the class's ``registry``, not the
    new class's own (``{} False False`` where the plain run prints ``{'a': 1} True
    True``). Run again in the same session, the hit takes the class it defines again,
    not the one the namespace held."""
    define = (
        "class Model:\n    registry = {}\n    def __init__(self):\n"
        "        self.reg = Model.registry\nm = Model()\nreg = Model.registry"
    )
    check = "print(m.reg, m.reg is Model.registry, reg is Model.registry)"
    cells = [
        "%load_ext hitnb\n%hitnb auto",
        define,
        "%hitnb auto off\nModel.registry['a'] = 1\n" + check + "\n%hitnb auto on",
        define,
        "%hitnb auto status\n%hitnb auto off",
        "Model.registry['b'] = 2\n" + check,
    ]
    first, second, _ = _twice(tmp_path, isolated_store, cells)
    for run in (first, second):
        assert "{'a': 1} True True" in run[2].splitlines(), run[2]
        assert run[-1] == "{'b': 2} True True\n", run[-1]
    assert "(2 from the store)" in second[-2], second[-2]


def test_inputs_bound_to_one_object_are_part_of_the_key(tmp_path: Path, isolated_store: Path):
    """``b = a`` edited to ``b = [1]``: the cell reading both keyed alike (each holds
    ``[1]``), and its record referred to the one list by one of the names, which the hit
    gave back where the other was (a review's case against the first version of the
    references to lists: ``pair[0] is b``); a copy before it. The key says which inputs
    are one object now: the cell runs again."""
    env = {"HITNB_STORE": str(isolated_store)}
    printed = []
    for made in ("b = a", "b = [1]"):
        cells = [
            f"%load_ext hitnb\n%hitnb auto\na = [1]\n{made}",
            "pair = [a]\nn = len(b)",
            "%hitnb auto off",
            "b.append(2)\nprint(pair, pair[0] is a, pair[0] is b)",
        ]
        printed.append(printed_in_fresh_kernels(tmp_path, env, cells, kernels=1)[0][-1])
    assert printed == ["[[1, 2]] True True\n", "[[1]] True False\n"]


@pytest.mark.parametrize(
    "made, use",
    [
        (
            "sinks['log'] = log.append",
            "sinks['log']('x')\nprint(log, sinks['log'].__self__ is log)",
        ),
        ("sinks['n'] = lambda out=log: len(out)", "log.append('x')\nprint(log, sinks['n']())"),
    ],
    ids=["bound-method", "lambda-default"],
)
def test_a_list_input_a_changed_value_holds_comes_back_the_input(
    tmp_path: Path, isolated_store: Path, made: str, use: str
):
    """A list left as it was is referred to where a changed value holds it: through a
    builtin's bound method too (the first version of the references to lists passed over
    builtins, and ``log.append`` came back appending to a copy); inside a lambda's default,
    which dill writes by value, it cannot be, and stays a shared output (a review's cases)."""
    cells = [
        "%load_ext hitnb\n%hitnb auto\nlog = []\nsinks = {}",
        made,
        "%hitnb auto off",
        use,
    ]
    first, second, _ = _twice(tmp_path, isolated_store, cells)
    assert first[-1] == second[-1]
    assert second[-1] in ("['x'] True\n", "['x'] 1\n")


def test_a_view_made_in_a_cell_that_defines_code_comes_back_a_view(
    tmp_path: Path, isolated_store: Path
):
    """Such a cell pickles its values apart from its definitions, and pickle stores a view
    as an array of its own: after a hit, ``head[0] = 9`` no longer reached ``data`` (a
    review's case, older than this change). Views go into that pickle as views now."""
    cells = [
        "%load_ext hitnb\n%hitnb auto\nimport numpy as np",
        "def total(a):\n    return a.sum()\ndata = np.arange(6.0)\nhead = data[:2]",
        "%hitnb auto status\n%hitnb auto off",
        "head[0] = 9\nprint(np.shares_memory(head, data), data[0])",
    ]
    _as_plain_after_a_restart(
        tmp_path, isolated_store, cells, "True 9.0\n", "1 cells memoized (1 from the store)"
    )


def test_arrays_sharing_a_frames_memory_follow_its_changes_after_a_hit(
    tmp_path: Path, isolated_store: Path
):
    """``arr = df.values`` views the frame's block, ``pd.Series(x, copy=False)`` holds
    ``x`` itself: a cell changing the frame or the array in place changes the other name
    too. Neither was seen as sharing (a name holds the memory two levels down, in pandas'
    blocks): a hit restored the frame changed and ``arr`` as it was (a review's cases,
    older than this change). Now the cell restores them together, and a later change to
    the frame still reaches ``arr``."""
    cells = [
        "%load_ext hitnb\n%hitnb auto\nimport numpy as np\nimport pandas as pd",
        "df = pd.DataFrame({'a': [1.0, 2.0], 'b': [3.0, 4.0]})\narr = df.values\n"
        "x = np.arange(4.0)\ns = pd.Series(x, copy=False)",
        "df.loc[0, 'a'] = 9.0\nx *= 10",
        "%hitnb auto status\n%hitnb auto off",
        "df.loc[1, 'b'] = 7.0\nprint(arr.tolist(), s.tolist(), np.shares_memory(arr, df.values))",
    ]
    _as_plain_after_a_restart(
        tmp_path,
        isolated_store,
        cells,
        "[[9.0, 3.0], [2.0, 7.0]] [0.0, 10.0, 20.0, 30.0] True\n",
        "2 cells memoized (2 from the store)",
    )


def test_a_slice_of_a_frame_a_later_cell_changes_is_not_restored_by_its_hit(
    tmp_path: Path, isolated_store: Path
):
    """Under Copy-on-Write a slice of a frame does not see the frame's changes: it is no
    name sharing them. Counted as one (its blocks view the frame's), the split edited to
    8 rows came back with 6 from the hit of the cell changing the frame (a review's case
    against the first version of the frames' memory)."""
    env = {"HITNB_STORE": str(isolated_store)}
    printed = []
    for rows in (6, 8):
        cells = [
            "%load_ext hitnb\n%hitnb auto\nimport numpy as np\nimport pandas as pd\n"
            "df = pd.DataFrame({'x': np.arange(10.0)})",
            f"train = df.iloc[:{rows}]",
            "df['z'] = df['x'] * 2",
            "%hitnb auto off",
            "print(len(train), 'z' in train)",
        ]
        printed.append(printed_in_fresh_kernels(tmp_path, env, cells, kernels=1)[0][-1])
    assert printed == ["6 False\n", "8 False\n"]


@pytest.mark.parametrize(
    "change",
    ["model['cache']['sum'] = float(model['y'].sum())", "model['y'] *= 2"],
    ids=["view-left-as-it-was", "view-changed-then"],
)
def test_a_view_restored_with_the_array_it_viewed_stays_its_view(
    tmp_path: Path, isolated_store: Path, change: str
):
    """``data["head"]`` viewed the memory of ``data["values"]``, which ``model`` holds and a
    cell changes. Restored after a restart, ``head`` held its own copy: taken for a sharing
    name holding other values than when the cell ran, a cell leaving that memory as it was
    ran again in every session (tsa_dates cells 11 and 12), and one changing it left
    ``head`` apart from the array it viewed. Both hit now, ``head`` a view as in a plain
    run."""
    env = {"HITNB_STORE": str(isolated_store)}
    cells = [
        "%load_ext hitnb\n%hitnb auto\nimport numpy as np",
        "data = {'values': np.arange(6.0), 'tag': ['t']}\ndata['head'] = data['values'][:3]",
        "model = {'tag': data['tag'], 'y': data['values'], 'cache': {}}",
        change,
        "%hitnb why",
        "%hitnb auto off",
        "print(data['head'].tolist(), np.shares_memory(data['head'], data['values']))",
    ]
    first, second = (printed_in_fresh_kernels(tmp_path, env, cells, kernels=1)[0] for _ in "12")
    assert (
        first[-1]
        == second[-1]
        == ("[0.0, 1.0, 2.0] True\n" if "cache" in change else "[0.0, 2.0, 4.0] True\n")
    )
    assert "from the cache" in second[4], second[4]


def test_a_restored_sharing_name_holds_the_live_objects_of_other_names(
    tmp_path: Path, isolated_store: Path
):
    """``pipe`` holds ``scaler`` beside the ``clf`` a cell fits: restored for sharing
    ``clf``, ``pipe`` came back holding a copy of ``scaler``, and after a restart
    ``scaler.fit(X)`` no longer reached the pipeline (a review's case for a list in a dict,
    older than this change). It holds the live ``scaler`` now, as a plain run leaves it."""
    cells = [
        "%load_ext hitnb\n%hitnb auto\nimport numpy as np\n"
        "from sklearn.linear_model import Ridge\nfrom sklearn.pipeline import Pipeline\n"
        "from sklearn.preprocessing import StandardScaler\n"
        "X = np.arange(20.0).reshape(10, 2)\ny = X @ [1.0, 2.0]\n"
        "scaler, clf = StandardScaler(), Ridge()\n"
        "pipe = Pipeline([('scaler', scaler), ('clf', clf)])\nlabels = ['a']\n"
        "cfg = {'pipe': pipe, 'labels': labels}",
        "clf.fit(X, y);",
        "%hitnb why",
        "%hitnb auto off",
        "scaler.fit(X)\nlabels.append('b')\n"
        "print(pipe.steps[0][1] is scaler, pipe.steps[1][1] is clf, hasattr(clf, 'coef_'),"
        " cfg['pipe'] is pipe, cfg['labels'])",
    ]
    _hit_as_plain(tmp_path, isolated_store, cells, "True True True True ['a', 'b']\n")


def test_a_sharing_name_edited_since_runs_the_cell_and_is_stored_again(
    tmp_path: Path, isolated_store: Path
):
    """The record refers to what a restored sharing name holds by where it lies in it:
    edited so that it holds it elsewhere, the cell runs again, saying why, and is stored
    anew (it is not a record that cannot be loaded, run uncached). (``opt`` holds a
    list: a list of plain values only is changed in place by a hit.)"""
    env = {"HITNB_STORE": str(isolated_store)}
    printed = []
    for key in ("labels", "names", "names"):
        cells = [
            f"%load_ext hitnb\n%hitnb auto\nopt = [[0]]\nlabels = ['a']\n"
            f"cfg = {{'opt': opt, '{key}': labels}}",
            "opt.append(1)",
            "%hitnb why",
            "%hitnb auto status\n%hitnb auto off",
            f"labels.append('b')\nprint(cfg, cfg['opt'] is opt, cfg['{key}'] is labels)",
        ]
        printed.append(printed_in_fresh_kernels(tmp_path, env, cells, kernels=1)[0])
    assert [p[-1] for p in printed] == [
        "{'opt': [[0], 1], 'labels': ['a', 'b']} True True\n",
        "{'opt': [[0], 1], 'names': ['a', 'b']} True True\n",
        "{'opt': [[0], 1], 'names': ['a', 'b']} True True\n",
    ]
    assert "holds a part of `cfg` that `cfg` does not hold now" in printed[1][2], printed[1][2]
    assert "0 run uncached" in printed[1][3], printed[1][3]
    assert "came from the cache" in printed[2][2], printed[2][2]


def test_a_closure_over_an_input_comes_back_over_the_input(tmp_path: Path, isolated_store: Path):
    """A closure over a list sends the cell's record to dill, which copied the inputs its
    outputs held: after a restart, ``L.append(2)`` reached neither ``cfg["L"]`` nor what
    ``cfg["f"]`` closes over (a review's case, older than this change)."""
    cells = [
        "%load_ext hitnb\n%hitnb auto\ndef make(x):\n    return lambda: x",
        "L = [1]",
        "cfg = {'L': L, 'f': make(L)}",
        "%hitnb why",
        "%hitnb auto off",
        "L.append(2)\nprint(cfg['L'], cfg['L'] is L, cfg['f']() is L)",
    ]
    _hit_as_plain(tmp_path, isolated_store, cells, "[1, 2] True True\n")


def test_a_function_default_holding_what_a_hit_restores_holds_the_restored_value(
    tmp_path: Path, isolated_store: Path
):
    """``def record(event, sink=log)``, and a cell appending to ``log`` through it: the hit
    restores ``log`` changed, as a new object, and ``record`` went on appending to the
    old one (a review's case, older than this change). Its default follows now, as a
    plain run leaves it: the very ``log``."""
    cells = [
        "%load_ext hitnb\n%hitnb auto\nlog = []",
        "def record(event, sink=log):\n    sink.append(event)\n"
        "def keep(event, *, into=log):\n    into.append(event)",
        "record('first')",
        "%hitnb why",
        "%hitnb auto off",
        "record('second')\nkeep('third')\n"
        "print(log, record.__defaults__[0] is log, keep.__kwdefaults__['into'] is log)",
    ]
    _hit_as_plain(tmp_path, isolated_store, cells, "['first', 'second', 'third'] True True\n")


@pytest.mark.parametrize(
    "holder, call",
    [
        ("import functools\nrec = functools.partial(list.append, log)", "rec('second')"),
        ("hooks = {'rec': make(log)}", "hooks['rec']('second')"),
        (
            "class Job:\n    pass\njob = Job()\njob.rec = lambda e, out=log: out.append(e)",
            "job.rec('second')",
        ),
    ],
    ids=["partial", "closure-in-dict", "lambda-in-object"],
)
def test_what_holds_a_value_a_hit_restores_holds_the_restored_value(
    tmp_path: Path, isolated_store: Path, holder: str, call: str
):
    """A partial, a closure in a dict, a lambda default in an object, holding ``log``; a
    cell appending to ``log``: its hit restores ``log`` as a new object, and after a
    restart the holder went on appending to the old one (``['first']`` printed, where a
    plain run prints both; a review's cases, older than this change)."""
    cells = [
        "%load_ext hitnb\n%hitnb auto\nlog = []\n"
        "def make(sink):\n    def f(e):\n        sink.append(e)\n    return f",
        holder,
        "log.append('first')",
        "%hitnb why",
        "%hitnb auto off",
        f"{call}\nprint(log)",
    ]
    _hit_as_plain(tmp_path, isolated_store, cells, "['first', 'second']\n")


@pytest.mark.parametrize(
    "made, change, shown",
    [
        (
            "data = {'values': np.arange(10.0)}\ndata['head'] = data['values'][:3]",
            "data['values'][0] = 99",
            "data['head']",
        ),
        (
            "class Box:\n    pass\nb = Box()\nb.x = np.arange(6.0).reshape(2, 3)\nb.row = b.x[1]",
            "b.x[1, 1] = -5",
            "b.row",
        ),
    ],
    ids=["dict", "object"],
)
def test_arrays_of_one_value_viewing_each_other_still_do_after_a_hit(
    tmp_path: Path, isolated_store: Path, made: str, change: str, shown: str
):
    """``data['head'] = data['values'][:3]``: restored after a restart, ``head`` was a copy,
    and a change to ``data['values']`` no longer reached it (a review's case, older than
    this change; the second through a cell changing ``data`` that hit)."""
    cells = [
        "%load_ext hitnb\n%hitnb auto\nimport numpy as np",
        made,
        "%hitnb why",
        "%hitnb auto off",
        f"{change}\nprint({shown})",
    ]
    plain = ["import numpy as np", made, f"{change}\nprint({shown})"]
    shown_plainly = printed_in_fresh_kernels(tmp_path, {}, plain, kernels=1)[0][-1]
    _hit_as_plain(tmp_path, isolated_store, cells, shown_plainly)


@pytest.mark.parametrize(
    "holder",
    ["def record(e, sink=log):\n    sink.append(e)",
     "class R:\n    def record(self, e, sink=log):\n        sink.append(e)\nrecord = R().record"],
    ids=["function", "method"],
)  # fmt: skip
def test_a_default_holding_what_a_cell_changed_then_bound_anew_leaves_the_cell_uncached(
    tmp_path: Path, isolated_store: Path, holder: str
):
    """``log.append(1); log = log + [2]`` with ``def record(e, sink=log)``: the default holds
    the first list, changed, which no name holds after the run. A hit restored ``log``
    alone, and the default was left empty after a restart (``[3]`` printed where a plain
    run prints ``[1, 3]``; a review's case, older than this change): the cell runs."""
    cells = [
        f"%load_ext hitnb\n%hitnb auto\nlog = []\n{holder}",
        "log.append(1)\nlog = log + [2]",
        "%hitnb why",
        "%hitnb auto off",
        "record(3)\nprint(log, record.__defaults__[-1])",
    ]
    first, second = printed_in_fresh_kernels(tmp_path, {"HITNB_STORE": str(isolated_store)}, cells)
    assert first[-1] == second[-1] == "[1, 2] [1, 3]\n"
    assert "not cached: it changed `log` in place" in second[2], second[2]
    assert "record` holds the one it changed" in second[2], second[2]


@pytest.mark.parametrize(
    "holder",
    [
        "sc = functools.partial(score, models['a'])",
        "def sc(x, m=models['a']):\n    return score(m, x)",
        "sc = make(models['a'])",
    ],
    ids=["partial", "default", "closure"],
)
def test_code_holding_an_item_of_a_dict_a_hit_restores_holds_the_restored_item(
    tmp_path: Path, isolated_store: Path, holder: str
):
    """``sc = partial(score, models['a'])`` and a cell fitting the models in place: the
    hit restores ``models`` with new model objects, and ``sc`` went on scoring the old,
    unfitted one (``(None, 0)`` where a plain run gives ``(1, 0)``; the second review's
    cases, older than this change). An item the cell replaced is left alone: a plain run
    leaves ``sc`` holding the old one."""
    model = (
        "import functools\nclass M:\n    w = None\n    def fit(self, v):\n"
        "        self.w = v\ndef score(m, x):\n    return (m.w, x)\n"
        "def make(m):\n    return lambda x: score(m, x)\nmodels = {'a': M(), 'b': M()}"
    )
    for change, printed in [
        ("for m in models.values():\n    m.fit(1)", "(1, 0) 1\n"),
        ("models['a'] = M()\nfor m in models.values():\n    m.fit(1)", "(None, 0) 1\n"),
    ]:
        cells = [
            f"%load_ext hitnb\n%hitnb auto\n{model}",
            holder,
            change,
            "%hitnb why",
            "%hitnb auto off",
            "print(sc(0), models['a'].w)",
        ]
        _hit_as_plain(tmp_path, isolated_store, cells, printed)


def test_a_dict_subclass_input_a_cell_changes_is_measured_and_restored(
    tmp_path: Path, isolated_store: Path
):
    """An ``OrderedDict`` a cell changes in place: which of its items stayed was read from
    a copy made as a list of its keys, and the run was not stored ("hitnb could not measure
    what it changed (AttributeError: 'list' object has no attribute 'items')"; tsa_dates in
    the corpus, made by this change)."""
    cells = [
        "%load_ext hitnb\n%hitnb auto\nfrom collections import OrderedDict\nd = OrderedDict(a=[1])",
        "d['a'].append(2)\nd['b'] = [3]",
        "%hitnb why",
        "%hitnb auto off",
        "print(dict(d))",
    ]
    _hit_as_plain(tmp_path, isolated_store, cells, "{'a': [1, 2], 'b': [3]}\n")


def test_a_cell_reading_a_partial_a_hit_followed_is_keyed_by_what_it_holds_now(
    tmp_path: Path, isolated_store: Path
):
    """A hit that makes a partial hold the restored ``log`` changes the partial in place:
    the digest the session kept for it was stale, and a later cell reading it hit the
    record of the earlier cell of the same code (``0`` printed where a plain run prints
    ``1``; the second review's case, made by this change)."""
    cells = [
        "%load_ext hitnb\n%hitnb auto\nimport functools\nlog = []\n"
        "rec = functools.partial(list.append, log)",
        "n = len(rec.args[0])",
        "log.append(1)",
        "n = len(rec.args[0])",
        "%hitnb auto off",
        "print(n, rec.args[0] is log)",
    ]
    first, second = printed_in_fresh_kernels(tmp_path, {"HITNB_STORE": str(isolated_store)}, cells)
    assert first[-1] == second[-1] == "1 True\n"


def test_a_closure_made_beside_the_value_it_holds_holds_it_after_a_hit(
    tmp_path: Path, isolated_store: Path
):
    """``log = []``, ``def make(sink)`` and ``rec = make(log)`` in one cell: ``rec`` went to
    dill alone, and came back closing over a copy of ``log`` (``rec`` no longer reached
    ``log`` after a restart; a review's case, older than this change)."""
    cells = [
        "%load_ext hitnb\n%hitnb auto",
        "log = []\ndef make(sink):\n    def f(e):\n        sink.append(e)\n    return f\n"
        "rec = make(log)",
        "%hitnb why",
        "%hitnb auto off",
        "rec('first')\nprint(log)",
    ]
    _hit_as_plain(tmp_path, isolated_store, cells, "['first']\n")


def test_a_cell_defining_a_function_whose_default_it_bound_is_restored(
    tmp_path: Path, isolated_store: Path
):
    """``log = []``, ``def record(e, sink=log)`` and ``pipe = Pipeline(record)`` in one
    cell: ``record`` is defined again once ``log`` is back, and ``pipe``, which holds it,
    could not be loaded before it. The cell ran uncached in every session ("Can't get
    attribute 'record'"); ``log`` loads first now, then ``record``, then ``pipe``."""
    cells = [
        "%load_ext hitnb\n%hitnb auto",
        "log = []\ndef record(event, sink=log):\n    sink.append(event)\n"
        "class Pipeline:\n    def __init__(self, on_step):\n        self.on_step = on_step\n"
        "pipe = Pipeline(record)",
        "%hitnb why",
        "pipe.on_step('step')",
        "%hitnb auto off",
        "print(log, pipe.on_step is record, record.__defaults__[0] is log)",
    ]
    _hit_as_plain(tmp_path, isolated_store, cells, "['step'] True True\n")


def test_a_lambda_default_holding_a_value_of_its_cell_comes_back_holding_it(
    tmp_path: Path, isolated_store: Path
):
    """``job.report = lambda out=seen: len(out)`` in a cell that defines a class: the
    lambda went to dill alone, with a copy of ``seen``; after a restart the next cell
    found ``seen`` no longer shared with ``job`` and ran again, and ``seen.append`` no
    longer reached the report (a review's case, older than this change)."""
    cells = [
        "%load_ext hitnb\n%hitnb auto",
        "class Job:\n    pass\nseen = []\njob = Job()\njob.report = lambda out=seen: len(out)",
        "job.runs = 1",
        "%hitnb why",
        "%hitnb auto off",
        "seen.append('x')\nprint(job.report(), job.report.__defaults__[0] is seen,"
        " isinstance(job, Job))",
    ]
    _hit_as_plain(tmp_path, isolated_store, cells, "1 True True\n")


@pytest.mark.parametrize(
    ("first", "then", "check", "printed"),
    [
        (  # both names held L; one holds an equal L2 since: cfg2 must not get L2
            "cfg1 = {'opt': opt, 'L': L}\ncfg2 = {'opt': opt, 'L': L}",
            "cfg1 = {'opt': opt, 'L': L2}\ncfg2 = {'opt': opt, 'L': L}",
            "L2.append('c')\nprint(cfg2['L'], cfg2['L'] is L2)",
            "['a'] False",
        ),
        (  # a part of N held elsewhere in the name: the two places stay one object
            "cfg = {'opt': opt, 'L': N, 'inner': N[0]}",
            "cfg = {'opt': opt, 'L': N, 'inner': N[0]}",
            "cfg['L'][0].append('c')\nprint(cfg['inner'], cfg['inner'] is cfg['L'][0])",
            "['a', 'c'] True",
        ),
    ],
    ids=["two-names-one-edited", "held-twice"],
)
def test_what_a_restored_sharing_name_holds_stays_as_a_plain_run_leaves_it(
    tmp_path: Path, isolated_store: Path, first: str, then: str, check: str, printed: str
):
    """Found by the review of taking the parts a restored sharing name holds from the live
    name: an object recorded under the first name holding it was taken from that name for
    every name holding it (``cfg2['L']`` became ``L2``), and a part held twice in the name
    came back as the live object in one place and a copy in the other."""
    env = {"HITNB_STORE": str(isolated_store)}
    outputs = []
    for made in (first, then):
        cells = [
            "%load_ext hitnb\n%hitnb auto\nopt = [0]\nL = ['a']\nL2 = ['a']\nN = [['a']]",
            made,
            "opt.append(1)",
            "%hitnb auto off",
            check,
        ]
        outputs.append(printed_in_fresh_kernels(tmp_path, env, cells, kernels=1)[0][-1])
    assert outputs == [f"{printed}\n"] * 2 if first == then else outputs[1] == f"{printed}\n"


@pytest.mark.parametrize(
    ("cells", "printed"),
    [
        (
            [
                "log = []\ndef record(event, sink=log):\n    sink.append(event)",
                "record('a')\nlog2 = log\nlog = []",
                "record('x')\nprint(log, log2, record.__defaults__[0] is log2)",
            ],
            "[] ['a', 'x'] True",
        ),
        (
            [
                "def into(registry):\n    def add(f):\n        registry.append(f.__name__)\n"
                "        return f\n    return add",
                "reg = []\n@into(reg)\ndef g():\n    return 1",
                "print(reg)",
            ],
            "['g']",
        ),
    ],
    ids=["default-renamed", "decorator-registry"],
)
def test_defaults_and_decorators_end_as_a_plain_run_leaves_them(
    tmp_path: Path, isolated_store: Path, cells: list[str], printed: str
):
    """Found by the review of following a restored value into the defaults holding it: a
    default renamed by the cell that changed it (``log2 = log; log = []``) was left on the
    old object, and a decorator adding the function to a registry the cell made added it
    again to the restored registry (older than this change, met more often with it)."""
    env = {"HITNB_STORE": str(isolated_store)}
    session = ["%load_ext hitnb\n%hitnb auto", *cells[:-1], "%hitnb auto off", cells[-1]]
    first, second = printed_in_fresh_kernels(tmp_path, env, session)
    assert first[-1] == second[-1] == f"{printed}\n"


def test_an_array_changed_in_place_is_written_into_the_live_array_on_a_hit(
    tmp_path: Path, isolated_store: Path
):
    """``y += 1`` on the endog of a fitted statsmodels model, which ``v`` views too: a hit
    restored ``y`` as a new array, the model was not seen holding it (behind its private
    ``_results``), and after a restart ``res.model.endog`` held the old values where a
    plain run changes them (and statespace_sarimax_faq cell 12, whose models were seen,
    stored them all with ``y``: 135 MB for a cell of 1 ms). A hit now writes what the run
    left into the live ``y``: every name holding or viewing it sees the change, as after a
    plain run, and the record holds ``y`` alone. An array whose shape the cell changed is
    restored as before, with the names sharing it."""
    slow = "import time\ntime.sleep(0.3)  # worth storing, not running again\n"
    cells = [
        "%load_ext hitnb\nimport json\nimport numpy as np\nimport statsmodels.api as sm",
        "%%memo\nrng = np.random.default_rng(0)\ny = rng.random(1_000_000)\n"
        "res = sm.OLS(y, sm.add_constant(rng.random(1_000_000))).fit()\nv = y[1:3]\n"
        "z = np.arange(6.0)\nkeep = {'z': z}",
        f"%%memo\n{slow}y += 1",
        f"%%memo\n{slow}z.shape = (2, 3)\nz *= 2",
        "y[1] = 50.0\nprint(json.dumps([res.model.endog is y, float(res.model.endog[0] - y[0]),"
        " bool(v[0] == 50.0), keep['z'].tolist(), keep['z'] is z]))",
    ]
    first, second, stored = _twice(tmp_path, isolated_store, cells)
    expected = "[true, 0.0, true, [[0.0, 2.0, 4.0], [6.0, 8.0, 10.0]], true]\n"
    assert first[-1] == second[-1] == expected
    assert stored[1] == stored[0] == 3, "once restarted, every cell hit"
    sizes = sorted(row.size for row in open_store(isolated_store).listing())
    assert sizes[1] < 9_000_000, "the cell changing y stored y (8 MB), not the model"


def test_a_list_or_dict_of_plain_values_changed_in_place_is_refilled_on_a_hit(
    tmp_path: Path, isolated_store: Path
):
    """``notes.append("checked")`` on a list a statsmodels model holds, ``counts["a"] += 1``
    on a dict an object keeps: a hit restored a new list, the model (holding it behind
    its private ``_results``) was not seen as sharing it, and after a restart it held the
    old list, empty. A hit now refills the live list or dict with what the run left, when
    they hold only values that cannot change. An object array is never written into in
    place: its elements would be copies (``a[0] is inner``)."""
    slow = "import time\ntime.sleep(0.3)  # worth storing, not running again\n"
    cells = [
        "%load_ext hitnb\nimport json\nimport numpy as np\nimport statsmodels.api as sm",
        "%%memo\nrng = np.random.default_rng(0)\n"
        "res = sm.OLS(rng.random(50), sm.add_constant(rng.random(50))).fit()\n"
        "notes = []\nres.model.notes = notes\ncounts = {'a': 1}\nkept = [counts]\n"
        "a = np.empty(2, dtype=object)\na[0] = [1]\na[1] = [2]\ninner = a[0]",
        f"%%memo\n{slow}notes.append('checked')\ncounts['a'] += 1\ncounts['b'] = 7",
        f"%%memo\n{slow}a[1] = [3]",
        "print(json.dumps([res.model.notes, res.model.notes is notes, kept[0], kept[0] is counts,"
        " a.tolist(), a[0] is inner]))",
    ]
    first, second, stored = _twice(tmp_path, isolated_store, cells)
    expected = '[["checked"], true, {"a": 2, "b": 7}, true, [[1], [3]], true]\n'
    assert first[-1] == second[-1] == expected
    assert stored[1] == stored[0] == 3, "once restarted, every cell hit"


def test_code_holding_a_list_a_hit_refills_appends_to_it_and_the_cell_hits(
    tmp_path: Path, isolated_store: Path
):
    """A default, a partial in a dict in a dict, a bound ``append`` in a dict: each holds
    ``log``, which a cell appends to. A hit restored a new list, and the check of names
    sharing it ran the cell again in every session (``rec`` holding other values beside
    it than when it ran). Refilled in place, every holder appends to the list the cell
    changed, and the cell hits."""
    cells = [
        "%load_ext hitnb\n%hitnb auto\nimport functools",
        "log = []\ndef record(e, sink=log):\n    sink.append(e)\n"
        "rec = functools.partial(record, sink=log)\n"
        "hooks = {'r': {'x': functools.partial(record, sink=log)}}\nadders = {'add': log.append}",
        "import time\ntime.sleep(0.3)\nlog.append(1)",
        "%hitnb why",
        "%hitnb auto off",
        "record(2)\nrec(3)\nhooks['r']['x'](4)\nadders['add'](5)\nprint(log)",
    ]
    first, second = printed_in_fresh_kernels(tmp_path, {"HITNB_STORE": str(isolated_store)}, cells)
    assert first[-1] == second[-1] == "[1, 2, 3, 4, 5]\n"
    assert "came from the cache" in second[3], second[3]


def test_a_value_written_in_place_read_through_another_name_or_shown_stays_itself(
    tmp_path: Path, isolated_store: Path
):
    """From a review of the writes in place: ``snap = counts`` read by the cell changing
    ``counts`` made the record refer to ``snap`` for the changed dict, and the hit wrote
    the live dict into itself, emptying it; a list the cell shows as its result came back
    apart from the name (``_ is log`` False)."""
    cells = [
        "%load_ext hitnb\n%hitnb auto",
        "counts = {'a': 1}\nsnap = counts\nlog = ['a']",
        "import time\ntime.sleep(0.3)\ncounts['b'] = 2\nn = len(snap)\nlog.append(1)\nlog",
        "%hitnb why",
        "%hitnb auto off",
        "r = _\nr.append('later')\nprint(n, counts, snap is counts, r is log, log)",
    ]
    first, second = printed_in_fresh_kernels(tmp_path, {"HITNB_STORE": str(isolated_store)}, cells)
    assert first[-1] == second[-1] == "2 {'a': 1, 'b': 2} True True ['a', 1, 'later']\n"
    assert "came from the cache" in second[3], second[3]


@pytest.mark.parametrize(
    ("change", "variants", "sums"),
    [
        ("y += 1\ns = float(z.sum())", ("y[:]", "y.copy()"), ("4.0", "0.0")),
        ("y += 1\ns = total()", ("y.copy()", "y[:]"), ("0.0", "4.0")),
        ("y[:2] += 1\ns = float(z.sum())", ("y[0:2]", "y[2:4]"), ("2.0", "0.0")),
    ],
    ids=["view-then-copy", "read-by-a-function", "another-part"],
)
def test_a_cell_reading_through_a_view_of_what_it_changes_runs_when_that_differs(
    tmp_path: Path,
    isolated_store: Path,
    change: str,
    variants: tuple[str, str],
    sums: tuple[str, str],
):
    """``z = y[:]`` (a view) edited to ``z = y.copy()``: the cell ``y += 1; s = z.sum()``
    keys alike (``z`` holds the same values), and computes another sum. Written in place,
    the hit left ``y`` right and replayed the sum the view gave (reviews' cases: also when
    a function the cell calls reads ``z``, which the cell's inputs leave out, and when the
    view looks at another part of ``y``): the names sharing what the cell changes, and
    where each looks in it, are checked, and it runs again."""
    env = {"HITNB_STORE": str(isolated_store)}
    printed = []
    for made in variants:
        cells = [
            f"%load_ext hitnb\n%hitnb auto\nimport numpy as np\ny = np.zeros(4)\nz = {made}\n"
            "def total():\n    return float(z.sum())",
            f"import time\ntime.sleep(0.3)\n{change}",
            "%hitnb why",
            "%hitnb auto off",
            "print(s, y.sum())",
        ]
        printed.append(printed_in_fresh_kernels(tmp_path, env, cells, kernels=1)[0])
    total = "4.0" if "y +=" in change else "2.0"
    assert [p[-1] for p in printed] == [f"{s} {total}\n" for s in sums]
    assert "the names sharing `y`" in printed[1][2], printed[1][2]


def test_an_iterator_over_a_dict_written_in_place_goes_on_as_after_a_plain_run(
    tmp_path: Path, isolated_store: Path
):
    """A dict iterator taken after a deletion, and a cell setting a key the dict holds: the
    hit emptied and filled the dict, its table was rebuilt, and the iterator skipped an
    entry (a review's case). Only what changed is set now."""
    cells = [
        "%load_ext hitnb",  # (an iterator a hit restores is a copy's: the setup runs plainly)
        "d = {'a': 1, 'b': 2, 'c': 3}\ndel d['a']\nit = iter(d)\nfirst = next(it)",
        "%hitnb auto",
        "import time\ntime.sleep(0.3)\nd['b'] = 5",
        "%hitnb why",
        "%hitnb auto off",
        "print(first, list(it), d)",
    ]
    first, second = printed_in_fresh_kernels(tmp_path, {"HITNB_STORE": str(isolated_store)}, cells)
    assert first[-1] == second[-1] == "b ['c'] {'b': 5, 'c': 3}\n"
    assert "came from the cache" in second[4], second[4]


def test_a_set_shrunk_in_place_iterates_as_after_a_plain_run(tmp_path: Path, isolated_store: Path):
    """A set of 20 cut down to two items in place keeps its big table, where 3 comes before
    10; the hit rebuilt a small one (``intersection_update``), where 10 comes first (a
    review's case). The items that went are taken out of the live set now."""
    cells = [
        "%load_ext hitnb\n%hitnb auto\ns = set(range(20))",
        "import time\ntime.sleep(0.3)\n"
        "s.difference_update([v for v in range(20) if v not in (3, 10)])",
        "%hitnb why",
        "%hitnb auto off",
        "print(list(s))",
    ]
    first, second = printed_in_fresh_kernels(tmp_path, {"HITNB_STORE": str(isolated_store)}, cells)
    assert first[-1] == second[-1] == "[3, 10]\n"
    assert "came from the cache" in second[2], second[2]


@pytest.mark.parametrize(
    ("setup", "variants", "printed"),
    [
        ("y = np.zeros(4)", ("y[:]", "y.copy()"), ("4.0", "0.0")),
        ("y = [0, 0]", ("y", "list(y)"), ("3", "2")),
    ],
    ids=["view-then-copy", "alias-then-copy"],
)
def test_values_a_called_function_changes_through_another_name_run_when_that_differs(
    tmp_path: Path,
    isolated_store: Path,
    setup: str,
    variants: tuple[str, str],
    printed: tuple[str, str],
):
    """``z = y[:]`` edited to ``z = y.copy()`` (or ``z = y`` to ``list(y)``), and a cell
    changing ``y`` that calls a function reading ``z``: with the view, ``z`` changed too
    and was stored as a changed value. The key holds values, not which view which, and the
    hit restored ``z`` changed where a plain run leaves the copy as it was (a review's
    case, wrong before too). Which changed values are one object or view each other is
    kept with the record, and the cell runs again."""
    env = {"HITNB_STORE": str(isolated_store)}
    change = "y += 1" if "zeros" in setup else "y.append(1)"
    read = "float(z.sum())" if "zeros" in setup else "len(z)"
    outputs = []
    for made in variants:
        cells = [
            f"%load_ext hitnb\n%hitnb auto\nimport numpy as np\n{setup}\nz = {made}\n"
            f"def total():\n    return {read}",
            f"import time\ntime.sleep(0.3)\n{change}\ns = total()",
            "%hitnb why",
            "%hitnb auto off",
            "print(s)",
        ]
        outputs.append(printed_in_fresh_kernels(tmp_path, env, cells, kernels=1)[0])
    assert [o[-1] for o in outputs] == [f"{p}\n" for p in printed]
    assert "it ran again" in outputs[1][2], outputs[1][2]


@pytest.mark.parametrize(
    ("made", "where", "why"),
    [
        ("def f():\n    pass", "before", "it set attribute `items` of function `f`"),
        ("f = lambda: 0", "before", "it set attribute `items` of function `f`"),
        ("def f():\n    pass", "in", "function `f` made again is not as the run left it"),
        ("f = lambda: 0", "in", "came from the cache"),
    ],
    ids=["def-before", "lambda-before", "def-in-cell", "lambda-in-cell"],
)
def test_an_attribute_a_cell_sets_on_a_function_is_there_after_a_restart(
    tmp_path: Path, isolated_store: Path, made: str, where: str, why: str
):
    """``f.items = log`` in a cell: a function is code, so no change to it was measured,
    and after a restart the hit left ``f`` without ``items`` (AttributeError; a review's
    case, wrong before too). A function another cell made is not restored by a hit: the
    run is not stored. One the cell defines by ``def`` is made again from its source,
    without the attribute: the cell runs. A lambda, stored by value, comes back holding
    the restored ``log`` itself."""
    cells = [
        f"%load_ext hitnb\n%hitnb auto\nlog = [1]\n{made if where == 'before' else ''}",
        "import time\ntime.sleep(0.3)\n"
        f"{made if where == 'in' else ''}\nlog.append(2)\nf.items = log",
        "%hitnb why",
        "%hitnb auto off",
        "log.append(9)\nprint(f.items is log, f.items, log)",
    ]
    first, second = printed_in_fresh_kernels(tmp_path, {"HITNB_STORE": str(isolated_store)}, cells)
    assert first[-1] == second[-1] == "True [1, 2, 9] [1, 2, 9]\n"
    assert why in second[2], second[2]


def test_an_attribute_of_a_function_changed_in_place_leaves_the_cell_uncached(
    tmp_path: Path, isolated_store: Path
):
    """``f.items.append(2)``, ``f`` made by another cell: the hit left ``f.items`` as
    the first cell made it (``[1]`` after a restart, ``[1, 2]`` after a plain run)."""
    cells = [
        "%load_ext hitnb\n%hitnb auto\nf = lambda: 0\nf.items = [1]",
        "import time\ntime.sleep(0.3)\nf.items.append(2)",
        "%hitnb why",
        "%hitnb auto off",
        "print(f.items)",
    ]
    first, second = printed_in_fresh_kernels(tmp_path, {"HITNB_STORE": str(isolated_store)}, cells)
    assert first[-1] == second[-1] == "[1, 2]\n"
    assert "it changed attribute `items` of function `f` in place" in second[2], second[2]


def test_a_function_attribute_holding_what_a_hit_restores_holds_the_restored_value(
    tmp_path: Path, isolated_store: Path
):
    """``f.items = log`` in an earlier cell, a cell appending a list to ``log``: the hit
    restores ``log`` as a new object, and the function's attribute must follow it, as a
    default or a closure does (see :func:`_defaults_follow`)."""
    cells = [
        "%load_ext hitnb\n%hitnb auto\nlog = [[1]]\nf = lambda: 0\nf.items = log",
        "import time\ntime.sleep(0.3)\nlog.append([2])",
        "%hitnb why",
        "%hitnb auto off",
        "print(f.items is log, log)",
    ]
    _hit_as_plain(tmp_path, isolated_store, cells, "True [[1], [2]]\n")


@pytest.mark.parametrize(
    ("before", "cell", "printed", "why"),
    [
        ("", "ba[0] = 5\na = np.frombuffer(ba, dtype=np.uint8)", "[5, 0, 0, 7]", "from the cache"),
        (
            "",
            "ba[0] = 5\na = np.frombuffer(ba, dtype=np.uint8, offset=1)[::2]\n"
            "def helper():\n    return 1",
            "[0, 7]",
            "from the cache",
        ),
        ("", "a = np.frombuffer(ba, dtype=np.uint8)", "[0, 0, 0, 7]", "from the cache"),
        ("a = np.frombuffer(ba, dtype=np.uint8)", "ba[0] = 5", "[5, 0, 0, 7]", "it ran again"),
        ("a = memoryview(ba)", "ba[0] = 5", "[5, 0, 0, 7]", "`a` (a memoryview) cannot be"),
    ],
    ids=["made", "made-offset-defining", "made-input-unchanged", "before", "memoryview-before"],
)
def test_an_array_or_memoryview_over_a_bytearray_views_it_after_a_hit(
    tmp_path: Path, isolated_store: Path, before: str, cell: str, printed: str, why: str
):
    """``a = np.frombuffer(ba)`` viewing a bytearray: pickled, the array held a copy of
    the bytes, and after a restart ``ba[3] = 7`` no longer reached it (a review's case,
    wrong before too); it is stored as a view of ``ba``, made holding ``ba``'s memory as
    ``np.frombuffer`` does, so ``ba`` cannot be resized under it (a review found the first
    version's view reading freed memory after ``ba.extend``). Made before the cell, ``a`` (or
    a memory view) was not seen sharing ``ba``, which the hit restored as a new object,
    leaving ``a`` over the old one: it shares it now, so the cell runs (the array's
    values apart from ``ba`` differ from the run's; a memory view cannot be stored)."""
    cells = [
        f"%load_ext hitnb\n%hitnb auto\nimport numpy as np\nba = bytearray(4)\n{before}",
        f"import time\ntime.sleep(0.3)\n{cell}",
        "%hitnb why",
        "%hitnb auto off",
        "ba[3] = 7\ntry:\n    ba.extend(b'x')\n    grew = 'resized'\nexcept BufferError:\n"
        "    grew = 'held'\nprint([int(v) for v in a], list(ba), grew)",
    ]
    first, second = printed_in_fresh_kernels(tmp_path, {"HITNB_STORE": str(isolated_store)}, cells)
    held = "[5, 0, 0, 7]" if "ba[0]" in cell else "[0, 0, 0, 7]"
    assert first[-1] == second[-1] == f"{printed} {held} held\n"
    assert why in second[2], second[2]


def test_a_cell_reading_an_attribute_of_a_function_is_keyed_by_it(
    tmp_path: Path, isolated_store: Path
):
    """``f.count = 1`` edited to ``f.count = 7`` in the cell defining ``f``, and a cell
    reading ``f.count``: the key held ``f``'s digest, its code and defaults, and the cell
    hit with the ``10`` of the first session (found beside this change's case)."""
    env = {"HITNB_STORE": str(isolated_store)}
    printed = []
    for count in (1, 7):
        cells = [
            f"%load_ext hitnb\n%hitnb auto\ndef f():\n    pass\nf.count = {count}",
            "import time\ntime.sleep(0.3)\nc = f.count * 10",
            "%hitnb why",
            "%hitnb auto off",
            "print(c)",
        ]
        printed.append(printed_in_fresh_kernels(tmp_path, env, cells, kernels=1)[0])
    assert [p[-1] for p in printed] == ["10\n", "70\n"]
    assert "the last cell ran" in printed[1][2], printed[1][2]


@pytest.mark.parametrize(
    ("made", "axis"),
    [
        ("pd.DataFrame({'y': [1.0, 2.0]}, index=pd.Index(['a', 'b'], name='k'))", "index"),
        ("pd.DataFrame({'y': [1.0, 2.0]}, index=pd.Index(['a', 'b'], name='k'))", "columns"),
        ("pd.Series([1.0, 2.0], index=pd.date_range('2000-01-01', periods=2))", "index"),
    ],
    ids=["frame-index", "frame-columns", "series-index"],
)
def test_what_holds_an_inputs_index_holds_the_inputs_own_after_a_hit(
    tmp_path: Path, isolated_store: Path, made: str, axis: str
):
    """statsmodels' models keep their data's index (``model._index is co2.index``), and
    two models fitted on one frame share it. Restored, each held a copy of the index of
    its own: after a restart ``a.idx is df.index`` was False, and a cell changing one of
    the models (arima_alternative_estimators cell 17, ``res_hr.plot_diagnostics()``) found
    the other holding other values beside what they shared, and ran again on every hit
    (2.3 s where the plain cell took 0.6 s). The index of an input is referred to as the
    input's own, as a part of it is."""
    slow = "import time\ntime.sleep(0.3)\n"
    cells = [
        f"%load_ext hitnb\n%hitnb auto\nimport pandas as pd, types\ndf = {made}",
        f"{slow}a = types.SimpleNamespace(idx=df.{axis}, log=[])",
        f"{slow}b = types.SimpleNamespace(idx=df.{axis})",
        "%hitnb auto off",
        f"print(a.idx is df.{axis}, b.idx is df.{axis})",
        "%hitnb auto",
        f"{slow}a.log.append(1)",
        "%hitnb why",
        "%hitnb auto off",
        "print(a.log, list(a.idx) == list(b.idx))",
    ]
    first, second = printed_in_fresh_kernels(tmp_path, {"HITNB_STORE": str(isolated_store)}, cells)
    assert first[4] == second[4] == "True True\n"
    assert first[-1] == second[-1] == "[1] True\n"
    assert "came from the cache" in second[7], second[7]


@pytest.mark.parametrize(
    ("setup", "read"),
    [
        (
            "import functools\nclass Fit:\n    def __init__(self, x):\n        self.x = x\n"
            "    @functools.cached_property\n    def doubled(self):\n        return self.x * 2\n"
            "fit = Fit(np.arange(3.0))",
            "fit.doubled",
        ),
        (
            "import statsmodels.api as sm\nx = np.arange(6.0)\n"
            "fit = sm.OLS(x ** 2, sm.add_constant(x)).fit()",
            "fit.resid",
        ),
    ],
    ids=["cached_property", "statsmodels-cache_readonly"],
)
def test_a_cached_attribute_an_output_holds_is_the_inputs_own_after_a_hit(
    tmp_path: Path, isolated_store: Path, setup: str, read: str
):
    """``d = fit.doubled`` (a ``functools.cached_property``; statsmodels' ``res.resid``,
    kept in ``res._cache``): after a plain run ``d`` is the entry the input keeps. The hit
    restored a copy, and ``d += 1`` in a later cell left ``fit.doubled`` as it was: the
    last cell printed other values than plainly (wrong before). The entry is referred to:
    the live input's own when it holds one, else the stored value, kept in its cache."""
    slow = "import time\ntime.sleep(0.3)\n"
    cells = [
        f"%load_ext hitnb\n%hitnb auto\nimport numpy as np\n{setup}",
        f"{slow}d = {read}",
        f"{slow}d += 1",
        "%hitnb why",
        "%hitnb auto off",
        f"print(d is {read}, np.asarray({read}).round(3).tolist())",
    ]
    first, second = printed_in_fresh_kernels(tmp_path, {"HITNB_STORE": str(isolated_store)}, cells)
    assert first[-1] == second[-1], (first[-1], second[-1])
    assert first[-1].startswith("True"), first[-1]
    assert "came from the cache" in second[3], second[3]


def test_a_cached_attribute_changed_in_the_live_input_makes_the_hit_run_the_cell(
    tmp_path: Path, isolated_store: Path
):
    """The key leaves an input's caches out, so a hit may meet the input holding the
    entry a stored output is, with other values (``fit.doubled[0] = 99`` in a plain cell
    of the second session): a plain run reads those. The hit restored the stored copy
    (``False [0.0, 2.0, 4.0]``, wrong before); now it runs the cell."""
    env = {"HITNB_STORE": str(isolated_store)}
    setup = (
        "%load_ext hitnb\nimport functools, numpy as np\nclass Fit:\n"
        "    def __init__(self, x):\n        self.x = x\n    @functools.cached_property\n"
        "    def doubled(self):\n        return self.x * 2\nfit = Fit(np.arange(3.0))"
    )
    printed = []
    for before in ("", "fit.doubled[0] = 99"):
        cells = [
            setup,
            before,
            "%%memo --why\nimport time\ntime.sleep(0.3)\nd = fit.doubled",
            "print(d is fit.doubled, d.tolist())",
        ]
        printed.append(printed_in_fresh_kernels(tmp_path, env, cells, kernels=1)[0])
    assert printed[0][-1] == "True [0.0, 2.0, 4.0]\n"
    assert printed[1][-1] == "True [99.0, 2.0, 4.0]\n", printed[1]
    assert "other values than when the cell ran" in printed[1][2], printed[1][2]


FIT_TWO_CACHES = (
    "import functools, numpy as np\nclass Fit:\n    def __init__(self, x):\n        self.x = x\n"
    "    @functools.cached_property\n    def doubled(self):\n        return self.x * 2\n"
    "    @functools.cached_property\n    def tripled(self):\n        return self.x * 3\n"
    "fit = Fit(np.arange(3.0))"
)


def test_a_hit_given_up_leaves_the_inputs_caches_as_it_found_them(
    tmp_path: Path, isolated_store: Path
):
    """``d = fit.doubled; d += 1; u = fit.tripled`` after a cell that changed
    ``fit.tripled`` (running in every session): the hit put the stored ``d`` into ``fit``'s
    cache as it loaded it, then found ``fit.tripled`` holding other values and ran the
    cell, which incremented that ``d`` again (``[2.0, 4.0, 6.0]``; a review's case, found
    in this change). Entries are kept only once the hit is sure."""
    cells = [
        f"%load_ext hitnb\n%hitnb auto\n{FIT_TWO_CACHES}",
        "import os, math\nmath.flag = 1\nfit.tripled[0] = os.getpid()",  # (not stored)
        "import time\ntime.sleep(0.3)\nd = fit.doubled\nd += 1\nu = fit.tripled",
        "%hitnb why",
        "%hitnb auto off",
        "print(d.tolist(), fit.doubled.tolist(), d is fit.doubled, u is fit.tripled)",
    ]
    first, second = printed_in_fresh_kernels(tmp_path, {"HITNB_STORE": str(isolated_store)}, cells)
    assert first[-1] == second[-1] == "[1.0, 3.0, 5.0] [1.0, 3.0, 5.0] True True\n"
    assert "holds its cached `tripled` with other values" in second[3], second[3]


def test_a_cell_clearing_a_cached_attribute_of_an_input_is_not_stored(
    tmp_path: Path, isolated_store: Path
):
    """``del fit.doubled`` changes nothing ``fit``'s digest holds, and a hit did not clear
    it: after a restart, ``e = fit.doubled`` then found the entry ``d``'s hit kept and was
    ``d`` (a review's case: ``d is e`` True where a plain run gives False). Such a cell runs
    in every session, saying why."""
    slow = "import time\ntime.sleep(0.3)\n"
    cells = [
        f"%load_ext hitnb\n%hitnb auto\n{FIT_TWO_CACHES}",
        f"{slow}d = fit.doubled",
        f"{slow}del fit.doubled",
        "%hitnb why",
        f"{slow}e = fit.doubled",
        "%hitnb auto off",
        "print(d is e, e is fit.doubled, d.tolist() == e.tolist())",
    ]
    first, second = printed_in_fresh_kernels(tmp_path, {"HITNB_STORE": str(isolated_store)}, cells)
    assert first[-1] == second[-1] == "False True True\n"
    assert "removed the cached attribute `doubled` of `fit`" in second[3], second[3]
