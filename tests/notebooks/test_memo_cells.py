"""``%%memo`` in real kernels: replay across kernels, partial recomputation, messages."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from nbclient.exceptions import CellExecutionError
from nbhelpers import KernelSession, printed_in_fresh_kernels

import hitnb.ipython.memo_cell as memo_cell

pytestmark = pytest.mark.slow

SETUP = [
    "%load_ext hitnb",
    "import json, pathlib\nLOG = pathlib.Path('executions.log')\n"
    "def ran(name):\n    with LOG.open('a') as fh:\n        fh.write(name + '\\n')",
    "%matplotlib inline\nimport numpy as np\nimport pandas as pd\n"
    "import plotly.graph_objects as go\nimport matplotlib.pyplot as plt\nSCALE = 2",
    "def clean(v):\n    return v * 3",
]
MEMO = {
    "text": "%%memo\nran('text')\nprint('hello from the cell')\ndata = np.arange(10) * SCALE\n"
    "labels = ['a', 'b']\nint(data.sum())",
    "frame": "%%memo\nran('frame')\nfrom IPython.display import HTML, display\n"
    "frame = pd.DataFrame({'x': clean(data)})\ndisplay(HTML('<b>summary</b>'))\nframe.head(3)",
    "plot": "%%memo\nran('plot')\nfig_m, ax = plt.subplots()\nax.plot(data)\nplt.show()",
    "plotly": "%%memo\nran('plotly')\n"
    "fig = go.Figure(go.Scatter(x=list(range(5)), y=[1, 3, 2, 5, 4]))\nfig",
    "mutate": "%%memo\nran('mutate')\nframe['y'] = frame['x'] + 1",
}
STATE = (
    "print(json.dumps({'data': data.tolist(), 'labels': labels, 'frame': frame.to_dict('list'),"
    " 'fig': fig.to_plotly_json()['data'][0]['y'], 'lines': len(ax.lines)}, default=str))"
)


def executions(project: Path) -> list[str]:
    log = project / "executions.log"
    return log.read_text().split() if log.exists() else []


def shown(cell) -> list[tuple[str, dict]]:
    """What a cell showed, minus hitnb's badge and execution counts."""
    out = []
    for output in cell.outputs:
        if output.get("metadata", {}).get("hitnb", {}).get("badge"):
            continue
        if output.output_type == "stream":
            out.append((output.name, {"text": output.text}))
        else:
            out.append((output.output_type, dict(output.get("data", {}))))
    return out


@pytest.fixture
def project(tmp_path: Path) -> Path:
    path = tmp_path / "project"
    path.mkdir()
    return path


def env(store: Path) -> dict[str, str]:
    return {"HITNB_STORE": str(store), "PYTHONPATH": ""}


def test_second_kernel_runs_no_memo_body_and_shows_the_same(project, isolated_store):
    runs = []
    for _ in range(2):
        with KernelSession(project, env(isolated_store)) as kernel:
            for cell in [*SETUP, *MEMO.values()]:
                kernel.run(cell)
            state = json.loads(kernel.run(STATE))
            cells = kernel.notebook.cells[len(SETUP) :]
            runs.append((state, [shown(c) for c in cells], cells))
    (first_state, first_shown, _), (second_state, second_shown, second_cells) = runs
    assert executions(project) == list(MEMO)  # each body ran once, in the first kernel only
    assert second_state == first_state
    assert second_state["frame"]["y"] == [x + 1 for x in second_state["frame"]["x"]]  # mutation
    assert second_shown == first_shown
    kinds = {kind for cell in first_shown for kind, _ in cell}
    assert {"stdout", "display_data", "execute_result"} <= kinds
    mimes = {m for cell in first_shown for _, data in cell for m in data}
    assert {"text/html", "image/png", "application/vnd.plotly.v1+json"} <= mimes
    badges = [
        o
        for c in second_cells
        for o in c.outputs
        if o.get("metadata", {}).get("hitnb", {}).get("badge")
    ]
    assert len(badges) == len(MEMO)
    assert "from cache" in badges[0]["data"]["text/plain"]


def test_edits_recompute_only_what_they_affect(project, isolated_store):
    def rerun(kernel: KernelSession, changed: dict[int, str] | None = None) -> list[str]:
        before = len(executions(project))
        cells = [*SETUP, *MEMO.values()]
        for index, source in (changed or {}).items():
            cells[index] = source
        for cell in cells[1:]:
            kernel.run(cell)
        return executions(project)[before:]

    with KernelSession(project, env(isolated_store)) as kernel:
        kernel.run(SETUP[0])
        assert rerun(kernel) == list(MEMO)
        assert rerun(kernel) == []  # unchanged: every memo cell hits
        assert rerun(kernel, {3: "def clean(v):\n    return v * 4"}) == ["frame", "mutate"]
        assert rerun(kernel, {3: "def clean(v):\n    return v * 4", 2: SETUP[2][:-1] + "3"}) == [
            "text",
            "frame",
            "plot",
            "mutate",
        ]
        edited = dict(enumerate([*SETUP, *MEMO.values()]))
        edited[2] = SETUP[2][:-1] + "3"
        edited[3] = "def clean(v):\n    return v * 4"
        edited[len(SETUP) + 3] = MEMO["plotly"].replace("5, 4]", "5, 6]")
        assert rerun(kernel, edited) == ["plotly"]
        edited[len(SETUP) + 3] += "  # a comment\n\n"
        assert rerun(kernel, edited) == []


def expect_error(kernel: KernelSession, source: str, *needles: str) -> str:
    with pytest.raises(CellExecutionError) as info:
        kernel.run(source)
    text = str(info.value)
    for needle in needles:
        assert needle in text
    return text


def test_bad_options_uncacheable_cells_and_failures_say_so(project, isolated_store):
    with KernelSession(project, env(isolated_store)) as kernel:
        for cell in SETUP[:2]:
            kernel.run(cell)
        expect_error(
            kernel, "%%memo --in 'a b'\nx = 1", "UsageError", "comma-separated Python names"
        )
        expect_error(kernel, "%%memo --colour red\nx = 1", "UsageError", "unrecognized arguments")
        expect_error(kernel, "%%memo -n ''\nx = 1", "UsageError", "non-empty name")
        printed = kernel.run("%%memo\n!echo from-the-shell\nshell_ran = True")
        assert (
            "hitnb: this cell is not cached: it runs shell commands (`!`); it runs normally."
            in printed
        )
        assert "from-the-shell" in printed
        assert kernel.run("print(shell_ran)") == "True\n"
        printed = kernel.run("%%memo\n%timeit -n1 -r1 t = 1")
        assert "it runs the magic %timeit" in printed
        kernel.run("import threading\nlock = threading.Lock()")
        printed = kernel.run("%%memo\nwith lock:\n    guarded = 2")
        assert "input `lock` holds a lock" in printed and "--ignore lock" in printed
        assert "guarded" not in kernel.run("%hitnb ls")
        kernel.run("%%memo --ignore lock\nwith lock:\n    guarded = 2")
        shown = expect_error(kernel, "%%memo\nwith lock:\n    missing_name", "NameError")
        assert "UnhashableValue" not in shown and "During handling" not in shown  # as plainly
        for _ in range(2):
            expect_error(kernel, "%%memo -n boom\nran('fail')\nraise ValueError('boom')", "boom")
        assert executions(project).count("fail") == 2  # a failing cell stores nothing
        assert "boom" not in kernel.run("%hitnb ls")
        printed = kernel.run("%%memo\nsquares = (i * i for i in range(3))")
        assert "this cell ran but was not cached: output `squares` (a generator)" in printed
        assert kernel.run("print(list(squares))") == "[0, 1, 4]\n"  # the cell did run
        defining = "%%memo\ndef sq(i):\n    return i * i\ncubes = (sq(i) * i for i in range(3))"
        printed = kernel.run(defining)  # its values are pickled apart from its definitions
        assert "this cell ran but was not cached: output `cubes` (a generator)" in printed
        kernel.run("%unload_ext hitnb")
        expect_error(kernel, "%%memo\ny = 1", "UsageError", "%%memo")
        expect_error(kernel, "%hitnb ls", "UsageError")


def test_named_cells_say_why_they_ran(project, isolated_store):
    with KernelSession(project, env(isolated_store)) as kernel:
        for cell in SETUP[:2]:
            kernel.run(cell)
        kernel.run("N = 10")
        body = "%%memo -n squares\nran('squares')\nsquares = [i * i for i in range(N)]"
        assert kernel.run(body) == ""
        assert kernel.run("%hitnb why") == "squares: no stored call to compare with\n"
        kernel.run("N = 20")
        assert kernel.run(body) == "hitnb: recomputing squares: input `N` changed 10 -> 20\n"
        assert kernel.run("%hitnb why") == "squares: input `N` changed 10 -> 20\n"
        kernel.run(body)
        assert kernel.run("%hitnb why") == "the last %%memo cell came from the cache\n"
        listing = kernel.run("%hitnb ls squares")
        assert listing.count("squares") == 2
        assert kernel.run("%hitnb verify") == "checked 2 entries\nall good\n"
        assert kernel.run("%hitnb clear squares") == "removed 2 entries\n"
        assert "no entries" in kernel.run("%hitnb ls squares")
        assert "store:" in kernel.run("%hitnb store")
        expect_error(kernel, "%hitnb frobnicate", "UsageError", "No such command 'frobnicate'")
        assert "--max-size" in kernel.run("%hitnb gc --help")  # the CLI's own options


def test_a_hit_never_summarizes_its_inputs_a_miss_keeps_them_as_they_were(project, isolated_store):
    """Tables show a cell's inputs by a summary (an object's repr). A miss makes it before
    its run changes them; a hit never does: a result's repr can cost more than the whole hit
    (linearmodels prints its summary table in it: 62 ms, for a cell of 9 ms)."""
    import hitnb

    loud = (
        "class Loud:\n    def __init__(self):\n        self.items = []\n"
        "    def __repr__(self):\n        ran('repr')\n        return f'Loud({len(self.items)})'"
    )
    printed = []
    for _ in range(2):
        with KernelSession(project, env(isolated_store)) as kernel:
            for cell in SETUP[:2]:
                kernel.run(cell)
            kernel.run(loud + "\nloud = Loud()")
            printed.append(kernel.run("%%memo\nloud.items.append(1)\nprint(len(loud.items))"))
    assert printed == ["1\n", "1\n"]
    assert executions(project) == ["repr"]  # the miss's summary, and none on the hit
    (run,) = [r for r in hitnb.runs(store=str(isolated_store)) if "loud" in r.arguments]
    assert run.arguments["loud"] == {"type": "Loud", "repr": "Loud(0)"}


def test_inputs_hitnb_cannot_summarize_never_fail_the_cell(project, isolated_store):
    """A miss summarizes its inputs for tables; a class (``pandas.DataFrame``, whose
    ``shape`` is a property), a module with a ``shape`` submodule (esda's) or an object whose
    repr raises must not turn the cell into an error: the cell runs and shows what it shows
    plainly, in a cell and as a ``@memo`` argument."""
    import hitnb

    setup = (
        "import types\nimport hitnb\nfrom pandas import DataFrame\n"
        "lib = types.ModuleType('lib')\nlib.shape = types.ModuleType('lib.shape')\n"
        "class Broken:\n    def __repr__(self):\n        raise RuntimeError('no repr')\n"
        "broken = Broken()\n"
        "@hitnb.memo\ndef columns(kind, module, thing):\n    return list(kind({'a': [1]}).columns)"
    )
    with KernelSession(project, env(isolated_store)) as kernel:
        kernel.run(SETUP[0])
        kernel.run(setup)
        shown = kernel.run(
            "%%memo\nprint(DataFrame({'a': [1, 2]}).shape, lib.__name__, type(broken).__name__)"
        )
        called = kernel.run("print(columns(DataFrame, lib, broken))")
    assert shown == "(2, 1) lib Broken\n"
    assert called == "['a']\n"
    (run,) = [r for r in hitnb.runs(store=str(isolated_store)) if "DataFrame" in r.arguments]
    assert run.arguments["DataFrame"] == {"type": "function", "name": "DataFrame"}
    assert run.arguments["broken"] == {"type": "Broken", "repr": "<not shown: RuntimeError>"}


def two_sessions(project: Path, store: Path, cells: list[str], check: str) -> list[str]:
    """What ``check`` prints in each of two kernels on one store, after the first setup
    cells and ``cells``."""
    shown = []
    for _ in range(2):
        with KernelSession(project, env(store)) as kernel:
            for cell in [*SETUP[:2], *cells]:
                kernel.run(cell)
            shown.append(kernel.run(check))
    return shown


def test_a_value_a_semicolon_hides_is_not_stored(project, isolated_store):
    """``gdf.plot(...);`` hides the Axes the call returns: a plain cell shows nothing of it,
    so a memoized cell neither shows nor stores it (a figure pickled by dill took 1.9 s in
    the fifth corpus's first runs). Its outputs are stored and restored as ever."""
    setup = (
        "class Figure:\n    def __reduce__(self):\n"
        "        ran('reduce')\n        return (Figure, ())"
    )
    cells = [setup, "%%memo\nran('cell')\nkept = [1, 2]\nFigure();"]
    shown = two_sessions(project, isolated_store, cells, "print(kept)")
    assert shown == ["[1, 2]\n", "[1, 2]\n"]
    assert executions(project) == ["cell"], "run once, restored once, never pickled the value"


def test_a_cell_that_defines_code_stores_what_only_dill_can_pickle(project, isolated_store):
    """A cell defining a function stores its other values each as a pickle of its own; one
    that pickle refuses (a typing alias holding a forward reference: formulaic's
    ``FormulaSpec``) is pickled by dill, as in a cell that defines nothing, instead of
    leaving the cell uncached every session."""
    cell = (
        "%%memo\nran('cell')\nfrom typing import Union\nSpec = Union['Foo', int]\n"
        "def f():\n    return 1"
    )
    shown = two_sessions(project, isolated_store, [cell], "print(Spec, f())")
    assert shown == ["typing.Union[ForwardRef('Foo'), int] 1\n"] * 2
    assert executions(project) == ["cell"], "stored by the first session, restored by the second"


def test_a_function_whose_defaults_read_the_cells_values_gets_them_as_the_run_did(
    project, isolated_store
):
    """A hit defines a cell's functions again before its values load: ``def f(k=N)`` after
    ``N = 2`` took the session's ``N`` (5 from another cell: a hit returned 5, plain 2), or
    failed where the session had none. Such a function is now defined once the values are
    back, and its defaults are checked against the run's (``P`` rebound after ``h`` is
    defined: the cell runs again)."""
    defines = (
        "%%memo\nran('a')\nN = 2\ndef f(k=N):\n    return k\n"
        "M = [2]\ndef g(m=M):\n    return m\nM.append(3)"
    )
    rebinds = "%%memo\nran('b')\nP = 2\ndef h(p=P):\n    return p\nP = 3"
    shown = []
    for earlier in ([], ["N = 5\nP = 5"]):
        with KernelSession(project, env(isolated_store)) as kernel:
            for cell in [*SETUP[:2], *earlier, defines, rebinds]:
                kernel.run(cell)
            shown.append(kernel.run("print(f(), g(), g() is M, h(), P)"))
    assert shown == ["2 [2, 3] True 2 3\n"] * 2
    assert executions(project) == ["a", "b", "b"], "the first cell hits, the second cannot"


REGISTRY = (
    "class Registry:\n    items = {}\n    @classmethod\n    def add(cls, name):\n"
    "        cls.items[name] = len(cls.items)"
)


def test_what_a_cell_does_to_a_notebook_class_is_not_lost_on_a_hit(project, isolated_store):
    """A hit defines a class again from its source, and a class was never seen to change:
    a registry a cell filled came back empty, a counter another cell raised came back 0."""
    cells = [
        "runs = 0",  # the cell run instead of the refused hit starts from this, not from 1
        f"%%memo\nran('define')\n{REGISTRY}\nRegistry.add('x')\nruns = runs + 1",
        "%%memo\nclass Counter:\n    n = 0",
        "%%memo\nran('raise')\nCounter.n += 5\nraised = True",
    ]
    check = "print(Registry.items, Counter.n, runs)"
    shown = two_sessions(project, isolated_store, cells, check)
    assert shown == ["{'x': 0} 5 1\n"] * 2
    # the registry's cell is run again (its class does not come back as the run left it);
    # the cell changing a class another cell defines is not stored
    assert executions(project) == ["define", "raise", "define", "raise"]


def test_a_class_a_cell_defines_and_leaves_as_defined_is_restored(project, isolated_store):
    # an abc.ABC subclass holds `_abc_impl`, which cannot be hashed: left out of the check
    cells = [
        f"%%memo\nran('define')\n{REGISTRY}\nsize = len(Registry.items)\n"
        "import abc\nclass Base(abc.ABC):\n    kind = 'base'"
    ]
    shown = two_sessions(project, isolated_store, cells, "print(Registry.items, size, Base.kind)")
    assert shown == ["{} 0 base\n"] * 2
    assert executions(project) == ["define"]


THROUGH_AN_INSTANCE = [  # a class another cell defines, changed through an instance
    "%%memo\nclass C:\n    count = 0\n    def bump(self):\n        type(self).count += 1\n"
    "        return type(self).count",
    "%%memo\nobj = C()",
    "%%memo\nran('call')\nr = obj.bump()",
    "print(r, C.count)",
]
OWN_DEFAULT = [  # a function's own defaults enter its fingerprint as they were defined (a
    # call binds them like arguments): a hit left `seen` empty, and the next call counted 1
    "%%memo\ndef acc(x, seen=[]):\n    seen.append(x)\n    return len(seen)",
    "%%memo\nran('call')\nr = acc(1)",
    "print(r, acc(2))",
]


@pytest.mark.parametrize(
    "cells, printed",
    [(THROUGH_AN_INSTANCE, "1 1\n"), (OWN_DEFAULT, "1 2\n")],
    ids=["class-through-an-instance", "function-default"],
)
def test_a_cell_changing_state_a_hit_could_not_change_again_is_not_stored(
    project, isolated_store, cells, printed
):
    shown = two_sessions(project, isolated_store, cells[:-1], cells[-1])
    assert shown == [printed] * 2
    assert executions(project) == ["call", "call"]  # run in both sessions: not stored


def test_names_bound_where_no_statement_shows_come_back_on_a_hit(project, isolated_store):
    """``exec`` and ``globals()[...]`` bind names the cell's code never names: the hit
    left them out, and the next cell failed with a NameError where the run had none."""
    cells = [
        "%%memo\nran('bind')\nexec('z = 5')\nfor nm in ['x', 'y']:\n"
        "    globals()[nm + '_val'] = len(nm)",
        "%%memo\nold = 1",
        "%%memo\ndel globals()['old']",
    ]
    shown = two_sessions(project, isolated_store, cells, "print(z, x_val, y_val, 'old' in dir())")
    assert shown == ["5 1 1 False\n"] * 2
    assert executions(project) == ["bind"], "the second session's cell was a hit"


def test_a_cell_calling_a_function_that_reads_names_through_globals_runs_uncached(
    project, isolated_store
):
    """``get("train")`` reads ``df_train`` through ``globals()`` in a function an earlier
    cell defined: the calling cell was keyed without it and replayed the old length."""
    shown = []
    for rows in ("[1, 2, 3]", "[1, 2, 3, 4]"):
        with KernelSession(project, env(isolated_store)) as kernel:
            for cell in [
                *SETUP[:2],
                "def get(split):\n    return globals()[f'df_{split}']",
                f"df_train = {rows}",
                "%%memo\nran('call')\nn = len(get('train'))",
            ]:
                kernel.run(cell)
            shown.append(kernel.run("print(n)"))
    assert shown == ["3\n", "4\n"]
    assert executions(project) == ["call", "call"]


def test_a_cell_calling_a_method_that_reads_a_global_sees_the_global_change(
    project, isolated_store
):
    """``tok.tokenize(d)`` reads ``STOPWORDS`` in the method: with the stop words edited
    in the next session, the cell hit with the old tokens (the instance's digest covers
    its state and its class's source, not what its methods read)."""
    tokenizer = (
        "class Tokenizer:\n    def tokenize(self, text):\n"
        "        return [w for w in text.split() if w not in STOPWORDS]\ntok = Tokenizer()"
    )
    shown = []
    for words in ("{'the'}", "{'the', 'a'}"):
        with KernelSession(project, env(isolated_store)) as kernel:
            for cell in [*SETUP[:2], f"STOPWORDS = {words}", tokenizer]:
                kernel.run(cell)
            kernel.run(
                "%%memo\nran('call')\ntokens = [tok.tokenize(d) for d in ['the cat', 'a dog']]"
            )
            shown.append(kernel.run("print(tokens)"))
    assert shown == ["[['cat'], ['a', 'dog']]\n", "[['cat'], ['dog']]\n"]
    assert executions(project) == ["call", "call"]


def test_a_cell_calling_a_memoized_function_sees_its_global_change(project, isolated_store):
    """``@hitnb.memo def f(x): return x * K``: a cell calling ``f`` keyed it by the name
    pickle knows it by, so with ``K`` edited the cell hit with the old value."""
    shown = []
    for k in (1, 2):
        with KernelSession(project, env(isolated_store)) as kernel:
            memoized = "import hitnb\n@hitnb.memo\ndef f(x):\n    return x * K"
            for cell in [*SETUP[:2], f"K = {k}", memoized]:
                kernel.run(cell)
            kernel.run("%%memo\nran('call')\nv = f(1)")
            shown.append(kernel.run("print(v)"))
    assert shown == ["1\n", "2\n"]
    assert executions(project) == ["call", "call"]


def test_a_failure_of_hitnbs_own_measuring_leaves_the_cell_run_and_uncached(
    project, isolated_store
):
    """A bug in what hitnb measures after a run (a callee with no name made one raise
    IndexError in the eighth corpus) failed the user's cell, which had run fine."""
    with KernelSession(project, env(isolated_store)) as kernel:
        kernel.run("%load_ext hitnb\nimport hitnb.ipython.memo_cell as memo_cell")
        kernel.run("def broken(*args):\n    raise ZeroDivisionError('a bug of hitnb')")
        kernel.run("memo_cell.drawn_only = broken")
        printed = kernel.run("%%memo\ntotal = sum(range(4))\nprint(total)")
        assert printed == (
            "6\nhitnb: this cell ran but was not cached: hitnb could not measure what it "
            "changed (ZeroDivisionError: a bug of hitnb)\n"
        )
        assert kernel.notebook.cells[-1].outputs[-1].output_type == "stream"  # no error
        assert kernel.run("print(total)") == "6\n"


def test_records_of_an_older_version_of_hitnb_are_not_served(tmp_path, isolated_store):
    """A version of hitnb that records more of what a run does (what a loop over
    ``models.items()`` changes) keys cells by it: a record made before, which lacks it,
    would restore the loop's models unfitted. Each cell runs once more, saying why."""
    env = {"HITNB_STORE": str(isolated_store)}
    older = "import hitnb.ipython.memo_cell as memo_cell\nmemo_cell.CELL_RECORDS = '1'"
    cell = "%%memo --why\ny = 2"
    first = printed_in_fresh_kernels(tmp_path, env, ["%load_ext hitnb", older, cell], kernels=1)
    second = printed_in_fresh_kernels(tmp_path, env, ["%load_ext hitnb", cell, cell], kernels=1)
    assert "recomputing" not in first[0][-1]
    now = f"the version of hitnb's cell records 1 -> {memo_cell.CELL_RECORDS}"
    assert now in second[0][1], second[0][1]
    assert "is stored" in second[0][2], second[0][2]
