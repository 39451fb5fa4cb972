"""The cell analyzer: inputs, outputs, mutations, and what cannot be cached."""

from __future__ import annotations

import pickle

import pytest

from hitnb.core.cells import (
    CellRecord,
    Pickled,
    analyze_cell,
    drawn_only,
    environment_read,
    frames_viewed_apart,
    is_session_name,
    pure_methods_hold,
)


def io(source: str, **kw):
    a = analyze_cell(source, **kw)
    return set(a.inputs), set(a.outputs)


@pytest.mark.parametrize(
    "source, inputs, outputs",
    [
        ("df = load(path)\nresult = clean(df, t)", {"load", "path", "clean", "t"},
         {"df", "result"}),
        ("total = 0\nfor i in range(n):\n    total += i", {"range", "n"}, {"total", "i"}),
        ("x = x + 1", {"x"}, {"x"}),
        ("y = [v * k for v in data if v > lo]", {"data", "k", "lo"}, {"y"}),
        ("f = lambda z: z + offset", {"offset"}, {"f"}),
        ("msg = f'{name}: {value:.{digits}f}'", {"name", "value", "digits"}, {"msg"}),
        ("def h(a, b=B):\n    return a * S\nout = h(1)", {"B", "S"}, {"h", "out"}),
        ("import numpy as np\nimport os.path\nz = np.zeros(3)", set(), {"np", "os", "z"}),
        ("with open(p) as fh:\n    text = fh.read()", {"open", "p"}, {"fh", "text"}),
        ("if flag:\n    y = 1\nz = y", {"flag", "y"}, {"y", "z"}),
        ("if (m := pat.match(s)):\n    g = m.group(0)", {"pat", "s"}, {"m", "g", "pat"}),
        ("class A(Base):\n    k = K\n    def m(self):\n        return G", {"Base", "K", "G"},
         {"A"}),
        ("try:\n    v = f()\nexcept E as e:\n    v = None", {"f", "E"}, {"v", "e"}),
        ("del old", set(), {"old"}),
        ("d['k'] += 1", {"d"}, {"d"}),
        ("obj.attr = 3", {"obj"}, {"obj"}),
        ("rows.append(4)", {"rows"}, {"rows"}),
        ("def outer():\n    z = 1\n    def inner():\n        return z + W\n    return inner", {"W"},
         {"outer"}),
        ("match cmd:\n    case [a, b]:\n        r = a + b", {"cmd"}, {"a", "b", "r"}),
        ("x: int = 3\ny: int", set(), {"x"}),
    ],
)  # fmt: skip
def test_inputs_and_outputs(source, inputs, outputs):
    assert io(source) == (inputs, outputs)


def test_declared_inputs_are_pure_and_extra_outputs_and_ignore_apply():
    a = analyze_cell("df.update(other)\nx = df.mean()")
    assert "df" in a.mutated and "df" in a.candidates and "df" in a.outputs
    pure = analyze_cell("df.update(other)\nx = df.mean()", extra_inputs=["df"])
    assert "df" not in pure.outputs and "df" in pure.inputs
    reads_only = analyze_cell("df.describe()\nx = df.mean()")
    assert not reads_only.candidates, "a method known to return a new object is no write"
    in_place = analyze_cell("df.fillna(0, inplace=True)")
    assert in_place.candidates == {"df"}
    # a callable held in a dict (log.append) changes what the dict holds (review, A11)
    assert analyze_cell('sinks["log"]("first event")').candidates == {"sinks"}
    assert "cache" in analyze_cell("x = 1", extra_outputs=["cache"]).outputs
    assert "seed" not in analyze_cell("x = seed + 1", ignore=["seed"]).inputs


def test_a_loop_changing_what_it_is_given_may_change_what_it_iterates_over():
    """``models.items()`` is a method that reads ``models``, but the loop changes the
    models the dict holds: ``models`` is a candidate, measured after the run."""
    changing = [
        "for name, model in models.items():\n    model.fit(X, y)",
        "for model in sorted(models.values()):\n    model.fit(X, y)",
        "for pair in zip(models.values(), X):\n    pair[0].fit(X, y)",
        "fitted = [model.fit(X, y) for model in models.values()]",
        "fitted = {k: fit(m) for k, m in models.items()}",
        "for key, frame in frames.items():\n    frame['x2'] = frame['x'] ** 2",
    ]
    for source in changing:
        analysis = analyze_cell(source)
        assert {"models", "frames"} & analysis.candidates, source
    reading = [
        "for name, model in models.items():\n    print(name, model)",
        "total = sum(len(m) for m in models.values())",
    ]
    for source in reading:
        assert "models" not in analyze_cell(source).candidates, source
    summaries = "for res in fits.values():\n    print(res.summary())"
    assert analyze_cell(summaries).element_receivers == {"fits"}, "a pure method: the run tells"
    assert analyze_cell("[r.summary() for r in fits]").element_receivers == {"fits"}
    assert "fits" not in analyze_cell("[r.summary() for r in fits]").candidates
    # (found by the review: an in-place pure method; a list of what the dict holds)
    assert "frames" in analyze_cell("[f.fillna(0, inplace=True) for f in frames]").candidates
    listed = "ms = list(models.values())\nfor m in ms:\n    m.fit(X, y)"
    assert "models" in analyze_cell(listed).candidates


def test_what_a_dict_holds_handed_on_by_other_ways_makes_it_a_candidate():
    """The elements of ``models`` reach code that may change them without a loop over it
    at top level: given to a function or to ``map``, spread into a call, taken by
    ``next``, named by a walrus, gone over by a comprehension inside another, or kept in a
    literal or a comprehension a later loop goes over (a review's cases: each left the
    models unfitted after a restart)."""
    handing_on = [
        "r = [*map(lambda kv: kv[1].fit(X, y), models.items())]",
        "fit_all(models.values())",
        "fit_all(*models.values())",
        "fit_all(*models)",
        "next(iter(models.values())).fit(X, y)",
        "(m := models['ridge']).fit(X, y)",
        "r = [[m.fit(X, y) for m in ms] for ms in models.values()]",
        "ms = [m for m in models.values() if m]\nfor m in ms:\n    m.fit(X, y)",
        "groups = {'g': list(models.values())}\nfor ms in groups.values():\n"
        "    for m in ms:\n        m.fit(X, y)",
    ]
    for source in handing_on:
        assert "models" in analyze_cell(source).candidates, source
    # (the second review's: literals given to a call, elements taken, either of two)
    for source, names in [
        ("fit_all([ridge, lasso])", {"ridge", "lasso"}),
        ("pipe = Pipeline([('sc', StandardScaler()), ('m', ridge)])\npipe.fit(X, y)", {"ridge"}),
        ("m = list(models.values())[0]\nm.fit(X, y)", {"models"}),
        ("[*models.values()][0].fit(X, y)", {"models"}),
        ("(ridge if big else lasso).fit(X, y)", {"ridge", "lasso"}),
        ("(ridge or lasso).fit(X, y)", {"ridge", "lasso"}),
        ("ms = [(k, m) for k, m in models.items()]\nms[0][1].fit(X, y)", {"models"}),
        ("if (m := models.get('a')) is not None:\n    m.fit(X, y)", {"models"}),
        ("m = next(iter(models.values()))\nm.fit(X, y)", {"models"}),
        ("fit_all(**{'ms': models.values()})", {"models"}),
    ]:
        assert names <= analyze_cell(source).candidates, source
    for source in ["n = len(list(models.values()))", "s = sum(v for v in models.values())"]:
        assert "models" not in analyze_cell(source).candidates, source


def test_values_a_loop_calls_pure_methods_on_are_pure_only_of_builtins_numpy_pandas():
    """``for c in byname.values(): c.get()`` with a notebook class whose ``get`` changes
    it: the dict is measured (a review's case); a list of frames is not."""
    import pandas as pd

    from hitnb.core.cells import elements_pure

    class Counter:
        def get(self) -> None:
            pass

    assert elements_pure([pd.DataFrame({"a": [1]}), 1.5, "s"])
    assert elements_pure({"a": pd.Series([1])})
    assert not elements_pure({"a": Counter()})
    assert not elements_pure([pd.Series([1]), Counter()])
    assert not elements_pure(Counter())


def test_receivers_of_pure_methods_are_measured_unless_those_methods_are_known_pure_for_them():
    """``res.summary()`` proposes ``res`` only as a receiver: the run measures it when its
    value is not of builtins, numpy or pandas; ``inplace=`` makes it a candidate outright."""
    import numpy as np
    import pandas as pd

    analysis = analyze_cell("res.summary()\ndf.head()\nrows.count(1)\nx = df.copy()")
    assert analysis.receivers == {"res", "df", "rows"}
    assert analysis.candidates == set()
    assert analyze_cell("df.fillna(0, inplace=True)").candidates == {"df"}
    assert analyze_cell("df.fillna(0, inplace=True)").receivers == set()
    assert analyze_cell("res.fit()\nres.summary()").receivers == set()
    assert analyze_cell("res.summary()", extra_inputs=["res"]).receivers == set()

    class Results:
        def summary(self) -> str:
            return ""

    assert pure_methods_hold(pd.DataFrame()) and pure_methods_hold(pd.Series([1.0]))
    assert pure_methods_hold(np.arange(3)) and pure_methods_hold({}) and pure_methods_hold([])
    assert not pure_methods_hold(Results())


def test_code_digest_ignores_comments_blank_lines_and_docstrings():
    a = analyze_cell('"""Load."""\nx = f(1)  # load\n\n')
    b = analyze_cell("x = f( 1 )")
    assert a.code == b.code
    assert a.code != analyze_cell("x = f(2)").code


def test_last_expression_is_noticed():
    assert analyze_cell("x = 1\nx + 1").has_result
    assert not analyze_cell("x = 1").has_result


@pytest.mark.parametrize(
    "source, reason",
    [
        ("x = await fetch()", "top-level await"),
        ("yield 1", "yield"),
        ("return 3", "return"),
        ("from os import *", "import *"),
        ("get_ipython().system('ls')", "shell commands"),
        ("files = get_ipython().getoutput('ls')", "shell commands"),
        ("get_ipython().run_line_magic('timeit', 'x = 1')", "%timeit"),
        ("get_ipython().run_cell_magic('bash', '', 'ls')", "%bash"),
        ("x = (", "does not parse"),
    ],
)
def test_cells_that_cannot_be_cached_say_why(source, reason):
    analysis = analyze_cell(source)
    assert not analysis.cacheable
    assert reason in analysis.reason


def test_pure_magics_are_allowed_and_listed_for_a_hit_to_run_again():
    analysis = analyze_cell(
        "get_ipython().run_line_magic('matplotlib', 'notebook')\nx = 1\n"
        "get_ipython().run_line_magic('config', 'InlineBackend.figure_format = \"svg\"')"
    )
    assert analysis.cacheable
    assert analysis.magics == (
        ("matplotlib", "notebook"),
        ("config", 'InlineBackend.figure_format = "svg"'),
    )


def test_only_a_pure_magic_standing_as_a_statement_is_made_again_by_a_hit():
    # one inside a block may not have run (`try: %load_ext x` / `except`): the cell is
    # cached all the same, as before, and a hit does not run it
    analysis = analyze_cell(
        "try:\n    get_ipython().run_line_magic('load_ext', 'autoreload')\nexcept ImportError:\n"
        "    pass\nget_ipython().run_line_magic('matplotlib', 'inline')"
    )
    assert analysis.cacheable
    assert analysis.magics == (("matplotlib", "inline"),)


def test_session_names_are_never_outputs_and_history_values_read_are_inputs():
    a = analyze_cell("_ = 3\ny = _i2 + _ + __ + _5\n_i3 = 1")
    assert a.outputs == ("_", "y")  # `_` bound by the cell itself: a hit binds it too
    assert a.inputs == ("_5", "__", "_i2")  # `_` is the cell's own, bound first
    assert is_session_name("_12") and is_session_name("_i7") and not is_session_name("_private")
    whole = analyze_cell("y = Out[3] + 1")
    assert not whole.cacheable and "IPython's history `Out`" in (whole.reason or "")


@pytest.mark.parametrize(
    "interactivity, source, plain, interactive, result",
    [
        ("last_expr", "a\nb", 1, 0, "b"),
        ("last_expr", "a\nx = 1", 2, 0, None),
        ("none", "a\nb", 2, 0, None),
        ("all", "a\nb\nc", 0, 2, "c"),
        ("all", "a\nfor i in r:\n    i", 0, 2, None),
        ("last", "a\nfor i in r:\n    i", 1, 1, None),
        ("last_expr_or_assign", "a\nx = 1", 2, 0, "x"),
        ("last_expr_or_assign", "x += 1", 1, 0, "x"),
        ("last_expr_or_assign", "a, b = t", 1, 0, None),
    ],
)
def test_a_cell_is_split_as_ipython_runs_it_for_each_interactivity(
    interactivity, source, plain, interactive, result
):
    import ast

    from hitnb.ipython.interactivity import split

    parts = split(ast.parse(source).body, interactivity)
    assert (len(parts.plain), len(parts.interactive)) == (plain, interactive)
    assert (None if parts.result is None else ast.unparse(parts.result)) == result


def test_a_cells_values_are_pickled_when_its_record_is_stored_not_when_the_cell_ran():
    # A cell that defines code stores its other values as pickles of their own; a run that
    # is never stored (run again on a hit) must not pay for them.
    import pickle

    from hitnb.core.cells import pack_outputs, unpack_outputs

    class Refuses:
        def __reduce__(self):
            raise TypeError("refused to pickle")

    definitions = [("f", "def f(): pass")]
    packed = pack_outputs({"kept": [1, 2], "refuses": Refuses()}, definitions)
    with pytest.raises(TypeError, match="refused to pickle"):
        pickle.dumps(packed)
    namespace: dict = {}
    kept = pack_outputs({"kept": [1, 2], "shared": {"k": 1}}, definitions)
    unpack_outputs(pickle.loads(pickle.dumps(kept)), print, namespace)
    assert namespace == {"kept": [1, 2], "shared": {"k": 1}}


def test_a_cells_definitions_are_made_again_in_the_order_the_cell_made_them() -> None:
    """A hit defines a class and its subclass again from their source, the base first.
    The run binds them in the order string hashing gives, which changes from kernel to
    kernel: in some, a hit said "name 'Base' is not defined" and ran the cell again."""
    from hitnb.core.cells import analyze_cell, pack_outputs, unpack_outputs

    source = "class Base:\n    pass\n\nclass Sub(Base):\n    pass\n"
    ran: dict = {"__name__": "__main__"}
    exec(source, ran)
    bound = {"Sub": ran["Sub"], "Base": ran["Base"]}
    packed = pack_outputs(bound, analyze_cell(source).definitions)
    namespace: dict = {"__name__": "__main__"}
    unpack_outputs(packed, lambda code: exec(code, namespace), namespace)
    assert namespace["Sub"].__bases__ == (namespace["Base"],)


def test_values_a_later_definition_reads_load_before_it_and_the_rest_after() -> None:
    """``def record(e, sink=log)`` is defined again once ``log`` is back; ``holder``, which
    holds ``record`` (by name), loads after it. Values sharing an object stay one pickle
    (the old order: ``record`` last, and a value holding it cannot load)."""
    from hitnb.core.cells import PickledTogether, analyze_cell, pack_outputs

    source = "log = []\ndef record(e, sink=log):\n    sink.append(e)\n"
    ran: dict = {"__name__": "__main__"}
    exec(source, ran)
    definitions = analyze_cell(source).definitions
    apart = pack_outputs({"log": ran["log"], "record": ran["record"], "n": [1]}, definitions)
    flags = {n: v.early for n, v in apart.items() if isinstance(v, PickledTogether)}
    assert flags == {"log": True, "n": False}
    sharing = pack_outputs(
        {"log": ran["log"], "record": ran["record"], "n": [ran["log"]]}, definitions
    )
    flags = {n: v.early for n, v in sharing.items() if isinstance(v, PickledTogether)}
    assert flags == {"log": False, "n": False}


def test_a_class_redefined_after_its_subclass_comes_back_as_the_run_left_it() -> None:
    """``Sub`` derives from the first ``Base``; the name ``Base`` ends on the second. A hit
    made ``Sub`` again from the second (in a new session) or from the one already in the
    namespace (the session's own, a run earlier)."""
    from hitnb.core.cells import analyze_cell, pack_outputs, unpack_outputs

    source = (
        "class Base:\n    kind = 'first'\n\n"
        "class Sub(Base):\n    pass\n\n"
        "class Base:\n    kind = 'second'\n"
    )
    ran: dict = {"__name__": "__main__"}
    exec(source, ran)
    bound = {"Sub": ran["Sub"], "Base": ran["Base"]}
    packed = pack_outputs(bound, analyze_cell(source).definitions)
    for namespace in ({"__name__": "__main__"}, dict(ran)):
        unpack_outputs(packed, lambda code, ns=namespace: exec(code, ns), namespace)
        assert (namespace["Sub"].kind, namespace["Base"].kind) == ("first", "second")
        assert namespace["Sub"].__bases__[0] is not namespace["Base"]


def test_the_output_a_note_names_as_unstorable_does_not_depend_on_the_order_of_binding() -> None:
    """A cell with two outputs that cannot be stored is named by the same one in every
    kernel (the order its run bound them in follows string hashing, which changes)."""
    from hitnb.core.cells import CellRecord
    from hitnb.ipython.memo_cell import _unstorable_output

    def numbers() -> object:
        yield 1

    for order in (["design", "endog"], ["endog", "design"]):
        record = CellRecord({name: numbers() for name in order}, [], [], None, False, 0.0)
        assert _unstorable_output(record) == ("design", "generator", "builtins")


class Kernel:
    """A library object keeping a lambda, as statsmodels' Tricube kernel does."""

    def __init__(self) -> None:
        self.shape = lambda x: 1 - abs(x)


def test_a_value_pickled_on_its_own_leaves_only_its_lambdas_to_dill():
    # A cell that defines code pickles its other values one by one: a figure holding a
    # fitted kernel went to dill whole, in Python; now pickle writes it, dill the lambda.
    shared = [1, 2, 3]
    value = {"kernel": Kernel(), "rows": [shared, shared]}
    packed = Pickled(value)
    back = pickle.loads(packed.payload)
    assert not packed.by_dill
    assert back["kernel"].shape(0.25) == 0.75
    assert back["rows"][0] is back["rows"][1] == shared


def test_names_only_drawn_by_matplotlib_are_told_apart_after_the_run():
    import matplotlib
    import numpy as np

    matplotlib.use("agg")
    import matplotlib.pyplot as plt

    analysis = analyze_cell(
        "fig, axes = plt.subplots(2)\naxes[0].plot(x, y[:5])\nplt.scatter(z, w)\n"
        "axes[1].set_title(t)\nframe.plot(v)\nshow(r)\naxes[1].plot(s)\nshow(s)"
    )
    assert {"x", "y", "z", "w", "t", "v", "r", "s"} <= analysis.candidates
    fig, axes = plt.subplots(2)
    namespace = {"plt": plt, "axes": axes, "frame": np.ones(3), "show": print}
    try:
        drawn = drawn_only(namespace, analysis)
    finally:
        plt.close(fig)
    # an array's own `plot` is no matplotlib function; `s` is also given to another call
    assert drawn == {"x", "y", "z", "w", "t"}
    # an iterator, which a drawing call uses up; a callee whose name the cell binds again
    # after calling it (looked up after the run, it is not the object that was called)
    analysis = analyze_cell("ax.set_xticklabels(labels)\nax.plot(q)\nfig, ax = plt.subplots()")
    fig, ax = plt.subplots()
    try:
        namespace = {"plt": plt, "ax": ax, "labels": iter(["a"]), "q": [1.0]}
        assert drawn_only(namespace, analysis) == set()
        kept = analyze_cell("ax.set_xticklabels(labels)\nax.plot(q)\nplt.gca().plot(r)")
        namespace["r"] = [2.0]
        assert drawn_only(namespace, kept) == {"q"}  # a callee no name names: not known
    finally:
        plt.close(fig)


def test_environment_variables_read_by_name_through_os_are_found(monkeypatch):
    import os

    monkeypatch.setenv("HITNB_TEST_SET", "yes")
    monkeypatch.delenv("HITNB_TEST_UNSET", raising=False)
    cell = (
        "import os\nfrom os import environ, getenv\na = os.environ.get('HITNB_TEST_SET')\n"
        "b = environ['HITNB_TEST_SET']\nc = getenv('HITNB_TEST_UNSET', 'z')\n"
        "d = settings.get('HITNB_TEST_OTHER')"
    )
    read = environment_read({"settings": {}}, analyze_cell(cell))
    assert read == {"HITNB_TEST_SET": "yes", "HITNB_TEST_UNSET": "<unset>"}
    assert os.environ["HITNB_TEST_SET"] == "yes"


def test_a_value_that_cannot_be_hashed_is_not_walked_again_by_the_next_cell(monkeypatch):
    """A pint UnitRegistry holds a weakref deep inside: every cell reading `u` walked it
    (25 ms) before running uncached. The refusal is kept for the object while it lives."""
    import gc
    import weakref

    from hitnb.core.cells import analyze_cell
    from hitnb.hashing import values
    from hitnb.hashing.values import UnhashableValue
    from hitnb.ipython.known_digests import KnownDigests
    from hitnb.ipython.memo_cell import _input_digests

    class Registry:
        pass

    walked: list[object] = []

    def to_hashable(registry: Registry) -> object:
        walked.append(registry)
        return {"table": list(range(5)), "self": weakref.ref(registry)}

    monkeypatch.setitem(values._custom, Registry, to_hashable)
    known = KnownDigests()
    namespace = {"u": Registry()}
    analysis = analyze_cell("length = 100 * u.m")
    for _ in range(3):
        with pytest.raises(UnhashableValue):
            _input_digests(namespace, analysis, known)
    assert len(walked) == 1
    values.register_hasher(Registry, lambda registry: "one registry")  # lifts the refusal
    assert _input_digests(namespace, analysis, known)[0]["u"]
    held = weakref.ref(namespace.pop("u"))
    walked.clear()
    known.clear()  # the digest just learned holds the value, as a session's cache does
    gc.collect()
    assert held() is None, "a refusal does not keep the value alive"
    assert not known._refused, "nor its entry, once the value is gone"


@pytest.mark.parametrize(
    ("source", "swapped"),
    [
        ("orig = json.dumps\njson.dumps = None\njson.dumps = orig", True),
        (
            "print(json.dumps)\norig = json.dumps\ntry:\n    json.dumps = 1\nfinally:\n"
            "    json.dumps = orig",
            True,
        ),
        ("json.dumps = None\norig = json.dumps\njson.dumps = orig", False),
        ("json.dumps = True", False),
        ("if c:\n    orig = json.dumps\njson.dumps = None\njson.dumps = orig", False),
        ("orig = json.dumps\njson.dumps = None\njson.dumps = orig\norig = 2", False),
        ("orig = json.dumps\njson.dumps = orig\njson.dumps = None", False),
        ("orig = json.dumps\njson.dumps = None\njson.dumps = other", False),
    ],
)
def test_a_cell_puts_back_an_attribute_only_from_a_name_that_read_it_first(
    source: str, swapped: bool
) -> None:
    """The attribute ends as the cell found it, whatever it held, only when the value put
    back last was read from it before any set; the run then checks that it did."""
    from hitnb.core.cells import analyze_cell

    assert (("json", "dumps") in analyze_cell("import json\n" + source).put_back) is swapped


def test_what_a_cell_swaps_is_looked_up_before_its_run_without_running_code() -> None:
    """Before a run, hitnb notes what the attributes a cell swaps hold, to tell after it
    whether the cell put them back; it may not run a property (or a module's lazy
    ``__getattr__``) to find their owner: only the cell's own code may."""
    import json
    import types

    from hitnb.core.cells import analyze_cell
    from hitnb.ipython.memo_cell import _attributes_as_found

    reads = []

    class Box:
        @property
        def inner(self) -> types.SimpleNamespace:
            reads.append("inner")
            return types.SimpleNamespace(x=0)

    source = "orig = box.inner.x\nbox.inner.x = 1\nbox.inner.x = orig\n"
    source += "keep = json.dumps\njson.dumps = None\njson.dumps = keep"
    cell = analyze_cell(source)
    assert ("box", "inner", "x") in cell.put_back
    found = _attributes_as_found({"box": Box(), "json": json}, cell.put_back)
    assert reads == []
    assert found["json", "dumps"] == (json, json.dumps)


def test_a_figure_or_its_axes_among_the_inputs_is_found_in_what_holds_them() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from hitnb.core.cells import figure_among

    fig, axes = plt.subplots(2, 2)
    mosaic = plt.figure().subplot_mosaic("AB")
    namespace = {
        "data": np.zeros((2, 2)), "grid": axes, "fig": fig, "mosaic": mosaic,
        "pair": (axes[0][0], 1), "names": ["a"], "empty": np.array([], dtype=object),
    }  # fmt: skip
    assert figure_among(namespace, ["data", "names", "empty", "missing"]) is None
    for name in ("grid", "fig", "mosaic", "pair"):
        assert figure_among(namespace, ["data", name]) == name
    plt.close("all")


def test_a_numpy_view_among_the_outputs_comes_back_a_view_of_its_anchor() -> None:
    """``v = arr[0]`` stored and restored: pickle makes ``v`` an array of its own, and
    ``v[:] = -1`` after a hit left ``arr`` unchanged. A view of an input the record refers
    to (``head = a[:3]``) comes back a view of the live input."""
    import pickle

    import numpy as np

    from hitnb.core.cells import pack_outputs, unpack_outputs

    arr = np.arange(6).reshape(2, 3)
    a = np.arange(6.0)
    packed = pack_outputs({"arr": arr, "v": arr[0], "col": arr[:, 1], "head": a[2:5]}, [], [a])
    loaded = pickle.loads(pickle.dumps({k: v for k, v in packed.items() if k != "head"}))
    namespace: dict = {}
    unpack_outputs({**loaded, "head": packed["head"]}, print, namespace)
    namespace["v"][:] = -1
    namespace["col"][:] = 7
    namespace["head"][:] = 0
    assert namespace["arr"].tolist() == [[-1, 7, -1], [3, 7, 5]]
    assert a.tolist() == [0.0, 1.0, 0.0, 0.0, 0.0, 5.0]


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        ("for s in splits:\n    print(len(globals()[f'df_{s}']))", "`globals()`"),
        ("print('{thr}'.format(**globals()))", "`globals()`"),
        ("print(vars()['thr'])", "`vars()`"),
        ("import __main__\nprint(__main__.thr)", "`__main__`"),
        ("import sys\nprint(sys.modules['__main__'].thr)", "`__main__`"),
        ("print(eval(expression))", "`eval()`"),
        ("names = [n for n in dir() if n.startswith('df_')]", "`dir()`"),
    ],
)
def test_a_cell_reading_names_no_code_shows_runs_uncached(source: str, reason: str) -> None:
    """Its key would leave out what it reads: ``globals()[f"df_{split}"]`` with the frames
    drawn again replayed the old lengths."""
    from hitnb.core.cells import analyze_cell

    analysis = analyze_cell(source)
    assert analysis.reason is not None and reason in analysis.reason


def test_names_in_a_string_given_to_eval_are_inputs_and_main_checks_read_nothing() -> None:
    from hitnb.core.cells import analyze_cell

    assert "thr" in analyze_cell("y = eval('thr + 1')").inputs
    assert analyze_cell("if __name__ == '__main__':\n    print(1)").cacheable
    assert analyze_cell("def f():\n    return locals()\nf()").cacheable
    assert analyze_cell("import logging\nlog = logging.getLogger('__main__')").cacheable


def test_outputs_that_are_parts_of_unchanged_inputs_come_back_as_those_parts() -> None:
    """Found by where they lie: items, public attributes an object holds itself; not what
    an equal object may lack (a cache), nor parts of what the cell changed."""
    import functools
    import pickle
    import types

    from hitnb.core.cells import pack_outputs, parts_of_inputs, unpack_outputs

    class Model:
        def __init__(self) -> None:
            self.steps = [("scale", {"k": 2}), ("clf", types.SimpleNamespace(C=1.0))]
            self._private = {"x": 1}

        @functools.cached_property
        def summary(self) -> dict:
            return {"rows": 3}

    pipe, cfg = Model(), {"model": {"C": 1.0}, "seed": 0}
    pipe.summary  # noqa: B018 (fills the cache)
    read = {"pipe": pipe, "cfg": cfg}
    refer: dict = {id(pipe): "pipe", id(cfg): "cfg"}
    parts = parts_of_inputs(read, refer)
    assert parts[id(cfg["model"])] == ("cfg", (("item", "model"),))
    assert parts[id(pipe.steps[1][1])] == (
        "pipe",
        (("attribute", "steps"), ("item", 1), ("item", 1)),
    )
    assert id(pipe._private) not in parts and id(pipe.__dict__["summary"]) not in parts
    refer.update(parts)
    values = {"clf": pipe.steps[1][1], "model_cfg": cfg["model"], "alias": cfg}
    packed = pickle.loads(pickle.dumps(pack_outputs(values, [], [], refer)))
    namespace: dict = dict(read)
    unpack_outputs(packed, print, namespace)
    assert namespace["clf"] is pipe.steps[1][1]
    assert namespace["model_cfg"] is cfg["model"] and namespace["alias"] is cfg


def test_a_cell_that_only_writes_names_through_globals_stays_cached() -> None:
    """What it binds, the run finds by comparing the namespace (it hit before)."""
    from hitnb.core.cells import analyze_cell

    for source in ("globals()[n] = 1", "del globals()['old']", "globals().update(d)"):
        assert analyze_cell(source).cacheable, source
    assert not analyze_cell("globals()['a'] += 1").cacheable


def test_a_reversed_view_comes_back_a_view() -> None:
    """Its first element lies at the high end of its memory: placed from the low end, the
    view did not fit its anchor, and the cell ran again on every hit."""
    import pickle

    import numpy as np

    from hitnb.core.cells import pack_outputs, unpack_outputs

    arr = np.arange(6.0)
    packed = pickle.loads(pickle.dumps(pack_outputs({"arr": arr, "r": arr[::-2]}, [])))
    namespace: dict = {}
    unpack_outputs(packed, print, namespace)
    assert namespace["r"].tolist() == [5.0, 3.0, 1.0]
    namespace["r"][0] = -1
    assert namespace["arr"][5] == -1


def test_a_proxy_passing_for_a_function_is_not_read_as_one() -> None:
    """A ``@wrapt.decorator`` object says it is a function (``__class__``) and hands out a
    code object that is not its own: reading the globals it uses raised IndexError from
    ``dis``, and a cell defining one failed where plain IPython ran it."""
    import types

    from hitnb.ipython.memo_cell import _touches

    broken = (lambda: undefined_name).__code__.replace(co_names=())  # noqa: F821

    class Proxy:
        __class__ = types.FunctionType  # type: ignore[assignment]
        __code__ = broken
        __globals__ = types.MappingProxyType({})
        __module__ = "wrapt"

    assert isinstance(Proxy(), types.FunctionType)
    assert _touches([Proxy()], ("wrapt",))
    assert not _touches([Proxy()], ("numpy",))


def test_code_stored_by_value_reads_the_notebooks_globals_once_restored() -> None:
    """A lambda, or a class defined inside an ``if``, is stored by value (dill), which
    copies the globals it reads: restored, ``lambda x: x * K`` went on using the stored
    run's ``K`` after the notebook set ``K = 2``."""
    from hitnb.core.cells import ByValue, unpack_outputs

    ran: dict = {"__name__": "__main__"}
    exec(
        "K = 1\nf = lambda x: x * K\nif True:\n    class C:\n        @staticmethod\n"
        "        def s(x):\n            return x * K\n        def m(self, x):\n"
        "            return x * K",
        ran,
    )
    packed = {"f": ByValue.of(ran["f"]), "C": ByValue.of(ran["C"])}
    namespace: dict = {"__name__": "__main__", "K": 1}
    unpack_outputs(packed, print, namespace)
    f, cls = namespace["f"], namespace["C"]
    namespace["K"] = 2
    assert (f(1), cls.s(1), cls().m(1)) == (2, 2, 2)
    assert f.__globals__ is namespace


def test_a_library_wrapper_stored_by_value_keeps_its_own_globals() -> None:
    """``functools.wraps`` copies ``__module__ = "__main__"`` onto a library's wrapper (a
    ``@contextmanager`` defined inside an ``if``): given the notebook's globals, it raised
    NameError (``_GeneratorContextManager``) after a hit."""
    from hitnb.core.cells import ByValue, unpack_outputs

    ran: dict = {"__name__": "__main__"}
    exec(
        "import contextlib\nif True:\n    @contextlib.contextmanager\n"
        "    def opened():\n        yield 5",
        ran,
    )
    namespace: dict = {"__name__": "__main__"}
    unpack_outputs({"opened": ByValue.of(ran["opened"])}, print, namespace)
    with namespace["opened"]() as value:
        assert value == 5


def test_a_record_made_before_views_of_frames_were_kept_is_not_restored_when_it_may_hold_one():
    """Records stored by the hitnb before the frames' views were kept load without the
    field: one binding a numpy array beside a frame may have lost ``arr = df.values``'s
    link, so it runs again; records without both kinds, and new ones, are restored."""
    import numpy as np
    import pandas as pd

    frame = pd.DataFrame({"a": [1.0, 2.0]})

    def stored(outputs: dict, **fields: object) -> CellRecord:
        record = CellRecord(outputs, [], [], None, False, 0.1, **fields)  # type: ignore[arg-type]
        old = pickle.loads(pickle.dumps(record))
        if "frames_viewed" not in fields:
            del old.__dict__["frames_viewed"]  # as pickled by the hitnb before
        return old

    assert frames_viewed_apart(stored({"df": frame, "arr": frame.values}))
    assert not frames_viewed_apart(stored({"df": frame, "arr": frame.values}, frames_viewed=True))
    assert not frames_viewed_apart(stored({"df": frame, "n": 3}))
    assert not frames_viewed_apart(stored({"a": np.arange(3.0), "b": np.arange(2.0)}))


def test_a_record_made_before_a_field_was_added_still_loads_and_restores() -> None:
    """A loaded record holds only the fields it was made with: one added since must have a
    class default, or the hit of every record from the version before fails (the cell
    raised ``AttributeError: 'CellRecord' object has no attribute 'shared_by_value'``)."""
    import dataclasses
    import pickle

    from hitnb.core.cells import CellRecord

    record = CellRecord({"x": [1]}, [], [], None, False, 0.1)
    always = {"outputs", "deleted", "events", "result", "has_result", "duration"}
    always |= {"digests", "classes", "functions"}  # (in records older than any kept)
    for field in dataclasses.fields(CellRecord):
        if field.name in always:
            continue
        old = pickle.loads(pickle.dumps(record))
        del old.__dict__[field.name]  # as a record made before the field was
        restored = dataclasses.replace(old, result=None)
        assert getattr(restored, field.name) == getattr(record, field.name), field.name
