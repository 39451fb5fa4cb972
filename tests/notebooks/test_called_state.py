"""State a cell changes by calling something by name: a random function imported from a
library, a method bound to data, a notebook function that changes the globals it reads.
Each memoized run must print what the plain notebook prints, after a restart too; found
on arch's example notebooks (a bootstrap whose "fresh" noise repeated earlier draws)."""

from __future__ import annotations

from pathlib import Path

import pytest
from nbhelpers import printed_in_fresh_kernels

pytestmark = pytest.mark.slow

LOAD = "%load_ext hitnb\n%hitnb auto"


def plain_then_memoized(tmp_path: Path, store: Path, cells: list[str]) -> list[list[str]]:
    """What each cell printed: plainly, then in two fresh kernels in auto mode on one store."""
    env = {"HITNB_STORE": str(store)}
    plain = printed_in_fresh_kernels(tmp_path, env, ["", *cells], kernels=1)
    memoized = printed_in_fresh_kernels(tmp_path, env, [LOAD, *cells])
    return [run[1:] for run in plain + memoized]


@pytest.mark.parametrize(
    "setup, draw",
    [
        ("import numpy as np\nfrom numpy.random import randn\nnp.random.seed(0)", "randn(2)"),
        ("from random import seed, random\nseed(1)", "random()"),
    ],
    ids=["numpy.random.randn", "random.random"],
)
def test_a_random_function_imported_by_name_draws_from_the_global_stream(
    tmp_path, isolated_store, setup, draw
):
    """Restored from a pickle, the function was bound to a copy of the global generator:
    after a restart, the next cell drew numbers the first had drawn already (or others),
    and seeding no longer reached it."""
    changes_an_input = "log.append(1)"  # the next cell's inputs are hashed afresh
    cells = [f"{setup}\nlog = []", f"a = {draw}\n{changes_an_input}", f"b = {draw}\nprint(a, b)"]
    plain, first, second = plain_then_memoized(tmp_path, isolated_store, cells)
    assert first == plain and second == plain
    assert plain[-1].split()[0] != plain[-1].split()[-1]


@pytest.mark.parametrize(
    "setup",
    [
        "seen = []\nadd = seen.append",  # a method bound to data
        "seen = []\ndef add(item):\n    seen.append(item)",  # a function changing a global
        "seen = []\ndef _put(item):\n    seen.append(item)\ndef add(item):\n    _put(item)",
    ],
    ids=["bound-method", "notebook-function", "through-a-helper"],
)
def test_a_call_that_changes_a_global_is_replayed_and_never_served_stale(
    tmp_path, isolated_store, setup
):
    """The second ``add("x")`` cell was a hit of the first (its key held ``add`` as it
    was before any call), and a hit did not append: one item where the plain run has two."""
    cells = [setup, 'add("x")', 'add("x")', "print(len(seen), seen)"]
    plain, first, second = plain_then_memoized(tmp_path, isolated_store, cells)
    assert plain[-1] == "2 ['x', 'x']\n"
    assert first == plain and second == plain


@pytest.mark.parametrize(
    "setup, call",
    [
        ("class Add:\n    def __init__(self, item):\n        seen.append(item)", 'Add("x")'),
        ("class Log:\n    def add(self, item):\n        seen.append(item)\nlog = Log()",
         'log.add("x")'),
        ("def add(item):\n    seen.append(item)\nhooks = {'add': add}", 'hooks["add"]("x")'),
        ("def add(item):\n    seen.append(item)", 'list(map(add, ["x"]))'),
        ("class Log:\n    def add(self, item):\n        seen.append(item)\nlogs = [Log()]",
         'logs[0].add("x")'),
        ("import functools\ndef add(item):\n    seen.append(item)\np = functools.partial(add)",
         'p("x")'),
        ("class Log:\n    def add(self, item):\n        seen.append(item)\ncb = Log().add",
         'cb("x")'),
    ],
    ids=["class-called", "method", "function-in-a-dict", "function-passed", "object-in-a-list",
         "partial", "bound-method-by-name"],
)  # fmt: skip
def test_notebook_code_reached_otherwise_than_by_its_name_changing_a_global_is_replayed(
    tmp_path, isolated_store, setup, call
):
    """Only functions called by name were watched: the notebook code a cell ran through a
    class (``Add("x")`` runs ``__init__``), a method, a dict, a library's callback, a
    partial or a method bound to an object
    changed ``seen`` unseen, and after a restart the hit left ``seen`` empty (``0 []``
    where the plain run prints ``2 ['x', 'x']``). The last cell runs uncached: a replayed
    print would hide what the session holds."""
    _assert_seen_as_plainly(tmp_path, isolated_store, [f"seen = []\n{setup}", call, call],
                            "2 ['x', 'x']")  # fmt: skip


def _assert_seen_as_plainly(tmp_path, store, cells: list[str], expected: str) -> None:
    """Run ``cells`` plainly, then in auto mode in two kernels on ``store``: after each, an
    uncached cell printing ``len(seen), seen`` shows ``expected``, as the plain run does."""
    check = "print(len(seen), seen)"
    env = {"HITNB_STORE": str(store)}
    plain = printed_in_fresh_kernels(tmp_path, env, ["", *cells, check], kernels=1)
    memoized = printed_in_fresh_kernels(tmp_path, env, [LOAD, *cells, f"%hitnb auto off\n{check}"])
    assert plain[0][-1] == f"{expected}\n"
    for run in memoized:
        assert run[-1].splitlines()[-1] == expected, run[-1]


@pytest.mark.parametrize("decorator", ["functools.cache", "functools.lru_cache(maxsize=8)"])
def test_a_cached_notebook_function_changing_a_global_is_replayed(
    tmp_path, isolated_store, decorator
):
    """The wrapper ``functools.cache`` makes runs the function on a call it has not seen:
    that run's change of ``seen`` was not watched, and after a restart the hits left it
    empty (``0 []`` where the plain run prints ``2 ['x', 'y']``)."""
    setup = f"import functools\n@{decorator}\ndef add(item):\n    seen.append(item)"
    cells = [f"seen = []\n{setup}", 'add("x")', 'add("y")']
    _assert_seen_as_plainly(tmp_path, isolated_store, cells, "2 ['x', 'y']")


def test_a_global_a_method_never_called_rebinds_leaves_the_cell_cached(tmp_path, isolated_store):
    """What every method of an input's class assigns with ``global`` was made an input of
    the cell: a connection an unused method opens made every cell reading the object run
    uncached ("input `conn` holds a Connection that cannot be hashed")."""
    setup = (
        "import sqlite3\n"
        "class DB:\n"
        "    def name(self):\n"
        "        return 'db'\n"
        "    def open(self):\n"
        "        global conn\n"
        "        conn = sqlite3.connect(':memory:')\n"
        "d = DB()\n"
        "d.open()"
    )
    cells = [LOAD, setup, "n = d.name()\nprint(n)", "%hitnb why"]
    env = {"HITNB_STORE": str(isolated_store)}
    first, second = printed_in_fresh_kernels(tmp_path, env, cells)
    assert first[2] == second[2] == "db\n"
    assert "came from the cache" in second[3], second[3]


def test_a_generator_method_called_by_name_moves_on(tmp_path, isolated_store):
    setup = "import numpy as np\nrng = np.random.default_rng(0)\ndraw = rng.standard_normal"
    cells = [setup, "x = draw()\nprint(x)", "x = draw()\nprint(x)"]
    plain, first, second = plain_then_memoized(tmp_path, isolated_store, cells)
    assert plain[1] != plain[2]
    assert first == plain and second == plain


def test_a_call_that_changes_state_a_hit_cannot_restore_runs_uncached(tmp_path, isolated_store):
    """A closure's counter is no name of the notebook: the cell runs every time, and
    ``%hitnb why`` says what the call changed."""
    setup = (
        "def make_counter():\n"
        "    count = [0]\n"
        "    def bump():\n"
        "        count[0] += 1\n"
        "        return count[0]\n"
        "    return bump\n"
        "bump = make_counter()"
    )
    cells = [setup, "n = bump()\nprint(n)", "n = bump()\nprint(n)", "%hitnb why"]
    env = {"HITNB_STORE": str(isolated_store)}
    for run in printed_in_fresh_kernels(tmp_path, env, [LOAD, *cells]):
        first, note = run[2].split("\n", 1)  # the first uncached cell of a session says so
        assert [first, run[3]] == ["1", "2\n"]
        assert "calling `bump()` changed closure" in note
        assert "calling `bump()` changed closure" in run[4], run[4]


def test_a_cell_whose_function_annotation_names_an_imported_class_is_restored(
    tmp_path, isolated_store
):
    """Imported classes came back after the cell's own definitions ran again, so an
    annotation naming one failed and the cell ran again on every restart."""
    cell = (
        "%%memo\n"
        "import time\n"
        "from numpy.random import RandomState\n"
        "def draw(rng: RandomState):\n"
        "    return rng.standard_normal(2)\n"
        "time.sleep(0.2)\n"
        "x = draw(RandomState(1))"
    )
    cells = ["%load_ext hitnb", cell, "%hitnb why", "print(x, draw.__annotations__)"]
    first, second = printed_in_fresh_kernels(tmp_path, {"HITNB_STORE": str(isolated_store)}, cells)
    assert second[2] == "the last %%memo cell came from the cache\n", second
    assert second[3] == first[3]


def test_a_global_a_called_function_rebinds_is_read_and_bound_again(tmp_path, isolated_store):
    """``global counter; counter += 1`` rebinds the name: the function's own key leaves such
    a name out (state it writes), so two ``bump()`` cells had one key, and a hit left the
    counter where it was."""
    setup = "counter = 0\ndef bump():\n    global counter\n    counter += 1"
    cells = [setup, "bump()", "bump()", "print(counter)"]
    plain, first, second = plain_then_memoized(tmp_path, isolated_store, cells)
    assert plain[-1] == "2\n"
    assert first == plain and second == plain


HELPERS = """
params = {"lr": 0.5}
COUNT = 0


def bump():
    global COUNT
    COUNT += 1
    return COUNT
"""


@pytest.mark.parametrize(
    "change, why",
    [
        ("helpers.params['lr'] = 0.1", "it changed module `helpers`"),
        ("helpers.extra = 'added'", "it changed module `helpers`"),
        ("b = helpers.bump()", "it changed `helpers.COUNT`"),
        ("from helpers import bump\nb = bump()", "it changed `helpers.COUNT`"),
    ],
    ids=["assigned-into", "attribute-added", "module-function", "imported-function"],
)
def test_a_cell_that_changes_a_user_modules_globals_runs_every_time(
    tmp_path, isolated_store, change, why
):
    """A hit could not change the module's globals again: after a restart, the next cell
    saw the module as it was before the cell (``lr 0.5``, ``COUNT 0``)."""
    (tmp_path / "helpers.py").write_text(HELPERS)
    check = "print(helpers.params['lr'], helpers.COUNT, getattr(helpers, 'extra', None))"
    cells = ["import helpers", change, "?len\n" + check]
    runs = plain_then_memoized(tmp_path, isolated_store, cells)
    assert runs[1][2] == runs[2][2] == runs[0][2], runs
    assert all(why in run[1] for run in runs[1:])  # the session's one note on running uncached
