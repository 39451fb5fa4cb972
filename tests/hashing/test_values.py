"""Value hashing: canonical, type-tagged, deterministic, and loud about what it cannot hash."""

from __future__ import annotations

import dataclasses
import enum
import functools
import pickle
import socket
import subprocess
import sys
import threading
import types
from collections import OrderedDict, defaultdict, namedtuple

import numpy as np
import pandas as pd
import pytest

from hitnb.hashing.values import UnhashableValue, hash_reaching, hash_value, register_hasher


def test_set_order_does_not_matter():
    assert hash_value({3, 1, 2}) == hash_value({2, 3, 1})
    assert hash_value({"b", "a", 1.5}) == hash_value({1.5, "a", "b"})
    assert hash_value({"a": {"x", "y"}}) == hash_value({"a": {"y", "x"}})
    assert hash_value([{"x", "y"}] * 10) == hash_value([{"y", "x"}] * 10)


def test_order_matters_where_it_means_something():
    assert hash_value([1, 2]) != hash_value([2, 1])
    assert hash_value((1, 2)) != hash_value((2, 1))
    assert hash_value(OrderedDict(a=1, b=2)) != hash_value(OrderedDict(b=2, a=1))


@pytest.mark.parametrize("size", [2, 20])
def test_dict_insertion_order_is_part_of_the_value(size):
    """Iterating a dict follows its order, and so does what is built from it: a DataFrame
    from {"b": ..., "a": ...} has its columns in that order. Equal dicts in two orders are
    two values, or a stored frame would come back with another column order."""
    pd = pytest.importorskip("pandas")
    forward = {f"c{i}": [i] for i in range(size)}
    backward = dict(reversed(forward.items()))
    assert forward == backward
    assert list(pd.DataFrame(forward).columns) != list(pd.DataFrame(backward).columns)
    assert hash_value(forward) != hash_value(backward)
    assert hash_value(forward) == hash_value({f"c{i}": [i] for i in range(size)})
    assert hash_value([forward] * 10) != hash_value([backward] * 10)


def test_types_are_tagged():
    values = [1, 1.0, True, "1", b"1", (1,), [1], {1}, frozenset({1}), None, 0, False, "", b""]
    digests = [hash_value(v) for v in values]
    assert len(set(digests)) == len(values)
    assert hash_value([1, 2]) != hash_value((1, 2))
    assert hash_value({"a": 1}) != hash_value([("a", 1)])


def test_framing_prevents_concatenation_collisions():
    assert hash_value(("ab", "c")) != hash_value(("a", "bc"))
    assert hash_value(["a", ["b"]]) != hash_value([["a"], "b"])
    assert hash_value(b"\x00" * 8) != hash_value(0)


def test_float_rules():
    assert hash_value(0.0) != hash_value(-0.0)
    assert hash_value(float("nan")) == hash_value(float("-nan"))
    assert hash_value(float("nan")) != hash_value(float("inf"))
    assert hash_value(0.1 + 0.2) != hash_value(0.3)
    assert hash_value(2**80) != hash_value(2**80 + 1)
    assert hash_value(-(2**80)) != hash_value(2**80)


def test_numpy_arrays_hash_by_dtype_shape_and_bytes():
    a = np.arange(12, dtype=np.float64).reshape(3, 4)
    assert hash_value(a) == hash_value(a.copy())
    fortran = np.asfortranarray(a)  # hashed in its own memory order, tagged as such
    assert hash_value(fortran) == hash_value(np.asfortranarray(a.copy()))
    assert hash_value(fortran) != hash_value(np.asfortranarray(a.T))
    assert hash_value(fortran) != hash_value(np.asfortranarray(a.reshape(4, 3)))
    assert hash_value(a) != hash_value(a.astype(np.float32))
    assert hash_value(a) != hash_value(a.reshape(4, 3))
    assert hash_value(a.T) != hash_value(a)
    assert hash_value(a[:, ::2]) == hash_value(np.ascontiguousarray(a[:, ::2]))
    b = a.copy()
    b[2, 3] += 1
    assert hash_value(a) != hash_value(b)
    assert hash_value(np.float64(1.0)) != hash_value(np.float32(1.0))
    assert hash_value(np.array([{"a": 1}, None], dtype=object)) == hash_value(
        np.array([{"a": 1}, None], dtype=object)
    )


def test_equal_pandas_frames_hash_equal():
    df = pd.DataFrame({"x": [1, 2, 3], "y": ["a", "b", None], "z": [0.5, 1.5, 2.5]})
    built_otherwise = pd.DataFrame({"z": [0.5, 1.5, 2.5]})
    built_otherwise.insert(0, "x", [1, 2, 3])
    built_otherwise.insert(1, "y", ["a", "b", None])
    assert df.equals(built_otherwise)
    assert hash_value(df) == hash_value(built_otherwise)
    assert hash_value(df) == hash_value(df.copy())
    assert hash_value(df) != hash_value(df.assign(z=[0.5, 1.5, 2.6]))
    assert hash_value(df) != hash_value(df.rename(columns={"x": "w"}))
    assert hash_value(df) != hash_value(df.set_index(pd.Index([1, 2, 3])))
    assert hash_value(df) != hash_value(df.astype({"x": "float64"}))
    mixed = pd.DataFrame({"o": [1, "1"]})
    assert hash_value(mixed) != hash_value(pd.DataFrame({"o": ["1", "1"]}))
    assert hash_value(df["x"]) != hash_value(df["x"].rename("q"))
    assert hash_value(df.set_index(["x", "y"])) == hash_value(df.copy().set_index(["x", "y"]))


def test_pyarrow_tables():
    pa = pytest.importorskip("pyarrow")
    t = pa.table({"a": [1, 2, 3], "b": ["x", "y", "z"]})
    chunked = pa.concat_tables([t.slice(0, 1), t.slice(1)])
    assert hash_value(t) == hash_value(chunked)
    assert hash_value(t) != hash_value(pa.table({"a": [1, 2, 4], "b": ["x", "y", "z"]}))


@dataclasses.dataclass
class Params:
    lr: float
    layers: list[int]


class Color(enum.Enum):
    RED = 1
    BLUE = 2


Point = namedtuple("Point", "x y")


class Plain:
    def __init__(self, a, b):
        self.a = a
        self.b = b


def test_objects_hash_by_class_and_state():
    assert hash_value(Params(0.1, [1, 2])) == hash_value(Params(0.1, [1, 2]))
    assert hash_value(Params(0.1, [1, 2])) != hash_value(Params(0.2, [1, 2]))
    assert hash_value(Color.RED) != hash_value(Color.BLUE)
    assert hash_value(Point(1, 2)) != hash_value((1, 2))
    # attribute order in __dict__ does not matter, values do
    p, q = Plain(1, 2), Plain.__new__(Plain)
    q.b, q.a = 2, 1
    assert hash_value(p) == hash_value(q)
    assert hash_value(p) != hash_value(Plain(1, 3))
    dd = defaultdict(list, {"a": [1]})
    assert hash_value(dd) != hash_value(defaultdict(set, {"a": [1]}))


def test_shared_and_cyclic_references():
    """A list held twice is not two equal lists to code that changes it in place: a grid
    made as ``[[0] * 3] * 3`` and one made row by row hashed alike, and a cell changing the
    grid replayed one's result for the other. Long lists (hashed by their pickle) too."""
    inner = [1, 2]
    assert hash_value([inner, inner]) != hash_value([[1, 2], [1, 2]])
    assert hash_value([[0] * 3] * 30) != hash_value([[0] * 3 for _ in range(30)])
    assert hash_value({"a": inner, "b": inner}) != hash_value({"a": [1, 2], "b": [1, 2]})
    tags = ["x"]
    records = [{"id": i, "tags": tags} for i in range(20)]
    assert hash_value(records) != hash_value([{"id": i, "tags": ["x"]} for i in range(20)])
    for value in ([inner, inner], [[0] * 3] * 30, records, [inner, (inner, {"k": inner})] * 5):
        assert hash_value(pickle.loads(pickle.dumps(value))) == hash_value(value)
    cyc: list = [1]
    cyc.append(cyc)
    other: list = [1]
    other.append(other)
    assert hash_value(cyc) == hash_value(other)
    d: dict = {"k": 1}
    d["self"] = d
    assert len(hash_value(d)) == 32


def _gen():
    yield 1


@pytest.mark.parametrize(
    "make, kind",
    [
        (lambda: _gen(), "generator"),
        (lambda: open(__file__, "rb"), "BufferedReader"),  # noqa: SIM115
        (lambda: threading.Lock(), "lock"),
        (lambda: socket.socket(), "socket"),
        (lambda: open(__file__), "TextIOWrapper"),  # noqa: SIM115
    ],
)
def test_unhashable_values_raise(make, kind):
    value = make()
    try:
        with pytest.raises(UnhashableValue) as info:
            hash_value({"cfg": [value]})
        assert kind in info.value.type_name
        assert info.value.path == "['cfg'][0]"
    finally:
        if hasattr(value, "close"):
            value.close()


def test_two_generators_never_collide_silently():
    with pytest.raises(UnhashableValue):
        hash_value(_gen())


class Model:
    def __init__(self, config, cache):
        self.config = config
        self.cache = cache


def test_register_hasher_for_own_types():
    register_hasher(Model, lambda m: m.config)
    assert hash_value(Model({"d": 3}, threading.Lock())) == hash_value(Model({"d": 3}, None))
    assert hash_value(Model({"d": 3}, None)) != hash_value(Model({"d": 4}, None))


def test_functions_hash_by_code():
    def f(x):
        return x + 1

    def g(x):
        return x + 2

    assert hash_value(f) != hash_value(g)
    assert hash_value(len) != hash_value(sum)
    assert hash_value(np) == hash_value(np)


def test_a_frame_hashes_the_same_whether_its_columns_are_read_as_stored_or_as_series(
    monkeypatch,
):
    """Plain number columns are read as pandas stores them, without making a Series each
    (50 us a column); the digest must be the one the Series would give, or every stored
    key of a frame would change."""
    numbers = np.arange(60, dtype="float64").reshape(12, 5)
    unconsolidated = pd.DataFrame({"x": [1.0, 2.0, 3.0]})
    unconsolidated["y"] = [4, 5, 6]
    frames = [
        pd.DataFrame(numbers),
        pd.DataFrame(np.asfortranarray(numbers)),
        pd.DataFrame(numbers).iloc[::3, ::2],  # strided views of the block
        unconsolidated,
        pd.DataFrame(numbers[:, :3], columns=["a", "a", "b"]),
        pd.DataFrame(
            {
                "i8": np.arange(4, dtype="int8"),
                "u2": np.arange(4, dtype="uint16"),
                "b": [True, False, True, True],
                "c": np.arange(4) + 1j,
                "s": np.array([b"ab", b"cd", b"e", b""], dtype="S2"),
                "t": pd.date_range("2020", periods=4),
                "tz": pd.date_range("2020", periods=4, tz="UTC"),
                "d": pd.to_timedelta(np.arange(4), unit="s"),
                "o": ["a", None, 1, [2]],
                "cat": pd.Categorical(list("xyzx"), ordered=True),
                "n": pd.array([1, None, 3, 4], dtype="Int64"),
            }
        ),
        pd.DataFrame(),
    ]
    stored = [hash_value(frame) for frame in frames]
    monkeypatch.delattr(pd.DataFrame, "_get_column_array")  # every column through its Series
    assert [hash_value(frame) for frame in frames] == stored


def test_hashes_are_stable_across_processes():
    code = (
        "import numpy as np, pandas as pd; from hitnb.hashing.values import hash_value;"
        "print(hash_value({'a': [1, 2.5, None], 'b': {3, 4}, 'arr': np.arange(5),"
        " 'df': pd.DataFrame({'x': ['u', 'v']})}))"
    )
    runs = {
        subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            check=True,
            env={"PYTHONHASHSEED": str(seed), "PATH": ""},
        ).stdout
        for seed in (1, 2)
    }
    assert len(runs) == 1
    local = hash_value(
        {
            "a": [1, 2.5, None],
            "b": {3, 4},
            "arr": np.arange(5),
            "df": pd.DataFrame({"x": ["u", "v"]}),
        }
    )
    assert runs == {local + "\n"}


def test_arrow_string_columns_hash_from_buffers_whatever_the_chunking():
    pa = pytest.importorskip("pyarrow")
    texts = ["alpha", "", None, "\u00e9t\u00e9", "b"] * 10
    column = pd.Series(texts, dtype="string[pyarrow]")
    chunked = pd.Series(
        pd.arrays.ArrowStringArray(
            pa.chunked_array([pa.array(texts[:7]), pa.array(texts[7:], type=pa.string())])
        )
    )
    assert column.equals(chunked)
    assert hash_value(column) == hash_value(chunked)
    sliced = pd.Series(texts[3:], dtype="string[pyarrow]")
    assert hash_value(column.iloc[3:].reset_index(drop=True)) == hash_value(sliced)
    empty_not_null = pd.Series(["" if t is None else t for t in texts], dtype="string[pyarrow]")
    assert hash_value(empty_not_null) != hash_value(column)
    boundary = pd.Series(["ab", "c"], dtype="string[pyarrow]")
    assert hash_value(boundary) != hash_value(pd.Series(["a", "bc"], dtype="string[pyarrow]"))
    assert hash_value(pd.Series(texts, dtype="str")) != hash_value(column)  # another dtype


def test_object_columns_keep_element_types():
    def col(values):
        return pd.Series(values * 5, dtype=object)

    forms = [
        col([1, None]),
        col([1, np.nan]),
        col(["1", None]),
        col([1.0, None]),
        col([True, None]),
    ]
    assert len({hash_value(f) for f in forms}) == len(forms)
    assert hash_value(col(["a", "b"])) == hash_value(col(["a", "b"]).copy())


def test_extension_columns_hash_their_values_and_gaps():
    ints = pd.Series([1, None, 3] * 4, dtype="Int64")
    assert hash_value(ints) == hash_value(ints.copy())
    assert hash_value(ints) != hash_value(ints.fillna(0))
    assert hash_value(ints) != hash_value(ints.astype("Float64"))
    # the two 01:30 of a DST change are different instants with the same wall time
    first, second = (
        pd.Series(pd.to_datetime([utc], utc=True).tz_convert("Europe/London"))
        for utc in ("2026-10-25 00:30", "2026-10-25 01:30")
    )
    assert first.dt.tz_localize(None).equals(second.dt.tz_localize(None))  # same wall time
    assert hash_value(first) != hash_value(second)
    periods = pd.Series(pd.period_range("2026-01", periods=3, freq="M"))
    assert hash_value(periods) != hash_value(periods.shift(1))
    intervals = pd.Series(pd.interval_range(0, 3))
    assert hash_value(intervals) == hash_value(intervals.copy())
    assert hash_value(intervals) != hash_value(pd.Series(pd.interval_range(0, 3, closed="left")))


@pytest.mark.parametrize("shape", [(1, 5), (3000, 200), (7, 40_000), (50, 60, 70)], ids=str)
def test_a_strided_array_hashes_like_its_copy_whatever_its_size(shape):
    """Views that are neither C- nor Fortran-ordered are hashed a few rows at a time."""
    a = np.random.default_rng(0).random(tuple(2 * n for n in shape))
    view = a[tuple(slice(None, None, 2) for _ in shape)]
    assert not view.flags.c_contiguous and not view.flags.f_contiguous
    assert hash_value(view) == hash_value(view.copy())
    changed = view.copy()
    if changed.size:
        changed.flat[-1] += 1
        assert hash_value(view) != hash_value(changed)


class _SlowPart:
    def __reduce_ex__(self, protocol):
        import time

        time.sleep(0.01)
        return (_SlowPart, ())


def test_a_time_limit_gives_up_on_a_long_walk_and_only_inside_it():
    """Callers that hash only to save time later (a cell keeping its outputs' digests) give up
    on a value that takes longer to walk than they allow; other hashing is unaffected."""
    from hitnb.hashing.values import time_limit

    parts = [_SlowPart() for _ in range(100)]  # about a second to walk
    with time_limit(0.05), pytest.raises(UnhashableValue, match="took longer"):
        hash_value(parts)
    assert hash_value(parts[:3]) == hash_value([_SlowPart() for _ in range(3)])


def test_hash_reaching_gives_the_digest_and_the_objects_a_value_holds():
    shared = {"cache": [1.5, 2.5]}
    frame = pd.DataFrame({"a": [1, 2]})
    values = [
        7,
        "text",
        [1, shared, (shared, 3)],
        {"k": shared, "frame": frame},
        np.arange(4.0),
        {1, 2, 3},
        list(range(20)),
        OrderedDict(a=shared),
    ]
    for value in values:
        digest, held = hash_reaching(value)
        assert digest == hash_value(value)
    _, held = hash_reaching({"k": (shared,), "frame": frame})
    assert id(shared) in held and id(shared["cache"]) in held and id(frame) in held
    assert all(type(obj) not in (int, float, str, tuple) for obj in held.values())


@pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")  # np.matrix, still met
def test_array_subclasses_hash_with_what_they_add():
    masked = np.ma.masked_array([1.0, 2.0, 3.0], mask=[0, 1, 0])
    keys = {
        hash_value(masked),
        hash_value(np.ma.masked_array([1.0, 2.0, 3.0], mask=[0, 0, 0])),
        hash_value(np.ma.masked_array([1.0, 2.0, 3.0], mask=[0, 1, 0], fill_value=-1.0)),
        hash_value(np.array([1.0, 2.0, 3.0])),
        hash_value(np.matrix([[1.0, 2.0, 3.0]])),
        hash_value(np.array([[1.0, 2.0, 3.0]])),
    }
    assert len(keys) == 6, "the mask, the fill value and the class are part of the value"
    assert hash_value(masked) == hash_value(np.ma.masked_array([1.0, 2.0, 3.0], mask=[0, 1, 0]))


def test_a_failure_inside_the_walk_is_a_refusal_that_names_it():
    class Odd:
        pass

    register_hasher(Odd, lambda value: 1 / 0)
    with pytest.raises(UnhashableValue, match="hashing it failed with ZeroDivisionError"):
        hash_value({"odd": Odd()})
    with pytest.raises(UnhashableValue, match="ZeroDivisionError"):
        hash_reaching([Odd()])


FIGURE = (
    "import matplotlib; matplotlib.use('Agg'); import matplotlib.pyplot as plt;"
    "from hitnb.hashing.values import hash_value;"
    "fig = plt.figure(figsize=(6, 4)); ax = fig.add_subplot(111); ax.plot([1, 2, {last}]);"
    "print(hash_value(fig))"
)


@pytest.mark.slow  # three interpreters importing matplotlib
def test_a_figure_hashes_the_same_in_every_process_and_by_what_it_shows():
    """matplotlib's transforms keep who depends on them keyed by memory address: a figure
    made by a cell that runs uncached was another key in every process."""

    def digest(last: int) -> str:
        code = FIGURE.format(last=last)
        run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        assert run.returncode == 0, run.stderr
        return run.stdout

    first = digest(3)
    assert digest(3) == first, "the same figure made in two processes"
    assert digest(4) != first, "another line drawn"


def test_statsmodels_read_only_caches_are_not_part_of_a_results_value():
    import statsmodels.api as sm

    x = np.arange(30.0)
    res = sm.GLM(3 * x + np.sin(x), sm.add_constant(x)).fit()
    before = hash_value(res)
    _ = res.pvalues, res._results.resid_response  # cache_readonly: kept in res._cache
    assert "pvalues" in res._results._cache
    assert hash_value(res) == before
    res._results._cache["not_an_attribute"] = 1.0  # an entry no read-only descriptor names
    assert hash_value(res) != before
    ols = sm.OLS(3 * x + np.sin(x), sm.add_constant(x)).fit()
    fitted = hash_value(ols)
    ols.scale = 2.0  # cache_writable: users assign it, so it counts
    assert hash_value(ols) != fitted
    ols.params[0] += 1.0
    assert hash_value(sm.OLS(3 * x + np.sin(x), sm.add_constant(x)).fit()) == fitted


def test_a_statsmodels_writable_cache_a_read_filled_is_not_part_of_the_value():
    """``res.scale`` and the model data's ``ynames`` are ``cache_writable``: the first read
    keeps what it computed in ``_cache``, and users may assign them. Kept as computed, the
    entry is no change (a cell reading ``res.resid`` of an ARIMA model, which names its
    rows by ``ynames``, counted as changing ``res``); assigned another value, it is."""
    import pandas as pd
    import statsmodels.api as sm

    x = pd.DataFrame({"x": np.arange(30.0)})
    y = pd.Series(3 * x["x"] + np.sin(x["x"]), name="y")
    res = sm.OLS(y, sm.add_constant(x)).fit()
    before = hash_value(res)
    _ = res.scale, res.model.data.ynames, res.model.data.xnames
    assert {"ynames", "xnames"} <= res.model.data._cache.keys()
    assert "scale" in res._results._cache
    assert hash_value(res) == before
    kept = dict(res._results._cache)
    hash_value(res)  # computing `scale` again to compare fills no entry it had not
    assert res._results._cache.keys() == kept.keys()
    res._results.scale = 2.0  # (set on the wrapper, it is an attribute of the wrapper's)
    assert hash_value(res) != before
    res._results.scale = type(res._results).scale(res._results)  # what a read computes
    assert hash_value(res) == before
    res.model.data.ynames = "sales"
    assert hash_value(res) != before


def test_a_users_own_writable_cached_attribute_counts_and_is_never_computed_by_hashing():
    """Hashing leaves a writable entry out only for statsmodels' own getters, which it calls
    to compare: a user's getter may do anything (here count its calls, which a plain run
    would not see again)."""
    from statsmodels.tools._decorators import cache_writable

    class Scaled:
        def __init__(self) -> None:
            self._cache: dict[str, float] = {}
            self.calls = 0

        @cache_writable()
        def scale(self) -> float:
            self.calls += 1
            return 2.0

    obj = Scaled()
    before = hash_value(obj)
    assert obj.scale == 2.0 and obj.calls == 1
    assert hash_value(obj) != before  # (`calls` moved too: compare the entry alone below)
    counted = hash_value(obj)
    obj._cache.clear()
    assert hash_value(obj) != counted and obj.calls == 1


def test_what_a_statsmodels_summary_memoizes_is_part_of_the_results_value():
    """``summary()`` keeps the figures it computes (``_summary_statistics_cache``) so that
    they outlive ``remove_data()``: a results object read by ``summary()`` and one not are
    two values once the data is removed (``res.llf`` then raises for the second). Left out
    of the digest, a hit of a summary cell left ``res`` without them (a review's case)."""
    import statsmodels.api as sm

    x = np.arange(30.0)
    res = sm.tsa.SARIMAX(3 * x + np.sin(x), order=(1, 0, 0)).fit(disp=False)
    before = hash_value(res)
    res.summary()
    assert "_summary_statistics_cache" in vars(res._results)
    assert hash_value(res) != before


def test_a_statsmodels_cache_made_by_the_first_read_is_not_part_of_the_value():
    """statsmodels makes the ``_cache`` dict on the first read of a cached attribute when
    the results class did not make it (``GMMResults``: ``res.results_gmm.summary()``):
    the object read is the same value as before."""
    from statsmodels.tools._decorators import cache_readonly

    class Fitted:
        def __init__(self, x: np.ndarray) -> None:
            self.x = x

        @cache_readonly
        def total(self) -> float:
            return float(self.x.sum())

    fitted = Fitted(np.arange(3.0))
    before = hash_value(fitted)
    assert fitted.total == 3.0 and "total" in fitted._cache
    assert hash_value(fitted) == before
    fitted._cache["kept"] = 1  # an entry no read-only descriptor names
    assert hash_value(fitted) != before


def test_a_random_function_a_library_binds_by_name_hashes_as_that_name():
    """``from numpy.random import randn`` binds a method of numpy's global generator; it
    hashes as the library's name (the stream's state is ambient state, followed on its own),
    while a method bound to a generator of the user's hashes with that generator's state."""
    import random

    before = hash_value(np.random.randn), hash_value(random.random)
    np.random.randn(3)
    random.random()
    assert (hash_value(np.random.randn), hash_value(random.random)) == before
    rng = np.random.default_rng(0)
    draw = rng.standard_normal
    mine = hash_value(draw)
    draw()
    assert hash_value(draw) != mine


def test_a_ufunc_outside_numpy_hashes_as_pickle_names_it():
    """scipy.special's ufuncs have no ``__module__``; numpy registers a reducer that pickles
    them by name. They hash by the module holding them (the same whatever the order the
    modules were imported in) and the library's version, not refused: lmfit's parameters
    hold a dozen of them."""
    special = pytest.importorskip("scipy.special")
    table = {"erf": special.erf, "x": 1.5}
    assert hash_value(table) == hash_value({"erf": special.erf, "x": 1.5})
    assert hash_value(table) != hash_value({"erf": special.erfc, "x": 1.5})
    assert hash_value(special.erf) != hash_value(np.exp)
    program = (
        "import sys\nexec(sys.argv[1])\nimport scipy.special as sp\n"
        "from hitnb.hashing.values import hash_value\nprint(hash_value({'erf': sp.erf, 'x': 1.5}))"
    )
    digests = {
        subprocess.run(
            [sys.executable, "-c", program, first], capture_output=True, text=True, check=True
        ).stdout.strip()
        for first in ("import scipy.special._ufuncs", "import scipy.stats", "pass")
    }
    assert digests == {hash_value(table)}


def test_an_object_reduced_to_a_name_no_module_holds_is_refused():
    class Orphan:
        def __reduce__(self):
            return "orphan_nobody_defines"

    with pytest.raises(UnhashableValue, match="cannot find it by its name 'orphan_nobody"):
        hash_value([Orphan()])


def test_looking_for_a_global_name_survives_modules_whose_getattr_fails(monkeypatch):
    """Finding the module holding an object reduced to a name asks every imported module
    for that name; a module whose ``__getattr__`` raises (a lazy loader) is passed over."""
    special = pytest.importorskip("scipy.special")
    from hitnb.hashing import values

    lazy = types.ModuleType("hitnb_test_lazy")

    def broken(name):
        raise ImportError(f"no submodule {name}")

    lazy.__getattr__ = broken  # type: ignore[method-assign]
    monkeypatch.setitem(sys.modules, "hitnb_test_lazy", lazy)
    monkeypatch.setattr(values, "_global_names", {})
    assert hash_value(special.erf) == hash_value(special.erf)


def test_hashing_a_broadcast_view_shows_no_numpy_warning():
    """numpy warns when ``flags.writeable`` is read on a view ``np.broadcast_arrays`` made;
    hitnb asked it while hashing, and the warning showed under the user's cell."""
    import warnings

    from hitnb.hashing.values import _is_frozen

    x, _ = np.broadcast_arrays(np.arange(3.0), np.arange(2.0)[:, None])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        digest = hash_value(x)
        assert not _is_frozen(x)  # writable through the view: its digest is never kept
    assert digest == hash_value(x)
    frozen = np.frombuffer(b"\x00" * 24, dtype=np.float64)[1:]  # read-only down to bytes
    assert _is_frozen(frozen)
    assert not _is_frozen(np.arange(3.0)[1:])


def test_hashing_a_figure_neither_changes_it_nor_its_digest():
    """matplotlib's CallbackRegistry numbers each pickling from a counter: hashing through
    it advanced the counter inside the user's figure and gave another digest every time."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    ax.plot([1, 2, 3])
    try:
        counter = fig.canvas.callbacks._cid_gen
        before = repr(counter)
        assert hash_value(ax) == hash_value(ax) == hash_value(ax)
        assert repr(counter) == before
    finally:
        plt.close(fig)


class _Board:
    """State keyed by tuples, not packable as attributes (a review found its content left
    out of the digest: every board hashed alike)."""

    def __init__(self, fill: int) -> None:
        self.cells = {(i, j): fill for i in range(3) for j in range(3)}

    def __getstate__(self) -> dict:
        return {(i, 0): v for (i, _), v in self.cells.items()} | {(9, 9): 0, (8, 8): 0}


class _Row(list):
    pass


def test_objects_whose_state_is_not_packable_and_list_subclasses_hash_by_content():
    assert hash_value(_Board(0)) != hash_value(_Board(1))
    assert hash_value(_Row([1, 2])) != hash_value(_Row([1, 3]))
    row = _Row([1])
    assert hash_value([row, row]) != hash_value([row, _Row([1])])


class _Holder:
    def __init__(self, name: str, items: list) -> None:
        self.name, self.items = name, items


def test_sharing_counts_inside_sets_dicts_of_mixed_keys_arrays_and_frames():
    """Elements of a set (and items of a dict whose keys are of several types) are hashed
    each on its own, so that their order does not count: two objects sharing one list
    hashed like two holding copies, and so did ``[a, a]`` and ``[a, a.copy()]`` of numpy
    arrays and pandas frames. Code changing the list, or ``a``, tells them apart."""
    np = pytest.importorskip("numpy")
    pd = pytest.importorskip("pandas")
    shared = [0]
    assert hash_value({_Holder("a", shared), _Holder("b", shared)}) != hash_value(
        {_Holder("a", shared), _Holder("b", list(shared))}
    )
    assert hash_value({1: shared, "k": shared}) != hash_value({1: shared, "k": list(shared)})
    assert hash_value([shared, {1: shared, "k": 0}]) != hash_value(
        [shared, {1: list(shared), "k": 0}]
    )
    assert hash_value([{_Holder("a", shared)}, shared]) != hash_value(
        [{_Holder("a", list(shared))}, shared]
    )
    twins = {_Holder("a", shared), _Holder("a", [0])}  # alike alone: their order is a tie
    assert len({hash_value(twins) for _ in range(3)}) == 1
    array = np.arange(3)
    frame = pd.DataFrame({"x": [1, 2]})
    for value in (array, frame, frame["x"]):
        assert hash_value([value, value]) != hash_value([value, value.copy()])
        assert hash_value(value) == hash_value(value.copy())
        assert hash_value([value, value]) == hash_value(pickle.loads(pickle.dumps([value, value])))


def test_a_set_of_objects_sharing_one_hashes_alike_in_every_process(tmp_path):
    """Sets are walked in an order string hashing decides: a digest depending on it changes
    from one kernel to the next."""
    import subprocess
    import sys

    script = tmp_path / "digest.py"
    script.write_text(
        "from hitnb.hashing.values import hash_value\n"
        "class Obj:\n"
        "    def __init__(self, name, **kw):\n"
        "        self.name = name\n"
        "        self.__dict__.update(kw)\n"
        "    def __hash__(self):\n"
        "        return hash(self.name)\n"
        "row = [1, 2]\n"
        "x = Obj('x', row=row)\n"
        "print(hash_value({Obj('a', first=row, x=x), Obj('b', x=x)}))\n"
    )
    digests = {
        subprocess.run(
            [sys.executable, str(script)],
            env={**__import__("os").environ, "PYTHONHASHSEED": str(seed)},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in range(1, 6)
    }
    assert len(digests) == 1


_SCALE = 1


@functools.cache
def _scaled_lru(x: int) -> int:
    return x * _SCALE


@functools.singledispatch
def _scaled_dispatch(x: object) -> int:
    return 0


@_scaled_dispatch.register(int)
def _(x: int) -> int:
    return x * _SCALE


def test_wrappers_of_user_code_hash_by_the_code_they_wrap_and_what_it_reads():
    """A cell calling a ``@memo``, ``lru_cache`` or ``singledispatch`` function, or a call
    taking one, keyed it by the name pickle knows it by: with the global it reads (or its
    body) edited, the cell hit with the old result."""
    import hitnb

    global _SCALE
    memoized = hitnb.memo(_scaled_lru.__wrapped__)
    wrappers = (_scaled_lru, _scaled_dispatch, memoized)
    before = [hash_value(w) for w in wrappers]
    _SCALE = 2
    try:
        after = [hash_value(w) for w in wrappers]
    finally:
        _SCALE = 1
    assert all(b != a for b, a in zip(before, after, strict=True))
    assert [hash_value(w) for w in wrappers] == before


def test_a_map_of_a_file_rewritten_in_place_hashes_as_it_reads_now(tmp_path):
    """``np.load(path, mmap_mode="r")`` is read-only, but ``np.save`` to that path rewrites
    what it shows: its digest, kept per object, gave a call the old result."""
    path = tmp_path / "x.npy"
    np.save(path, np.arange(5.0))
    mapped = np.load(path, mmap_mode="r")
    before = hash_value(mapped)
    np.save(path, np.arange(5.0) * 10)
    assert hash_value(mapped) != before
    assert hash_value(mapped) == hash_value(np.arange(5.0) * 10)


def test_long_lists_of_numpy_scalars_hash_as_the_array_they_make_and_apart_from_others():
    """Records built from array elements hold numpy scalars, walked one by one at about a
    microsecond each (200,000 records: 1.4 s a hit); a long run of one scalar type is
    hashed as an array now, and still apart from Python numbers, other dtypes and arrays."""
    scores = np.random.default_rng(0).normal(size=50)
    values = list(scores)
    assert hash_value(values) == hash_value(list(scores.copy()))
    changed = list(scores)
    changed[7] = np.float64(0.5)
    others = [changed, [float(x) for x in values], list(scores.astype(np.float32)), scores]
    assert len({hash_value(values), *map(hash_value, others)}) == 5
    assert hash_value(values) == hash_value(pickle.loads(pickle.dumps(values)))
    mixed = [*values[:-1], 1.0]  # one Python float among them: walked, as before
    assert hash_value(mixed) != hash_value(values)


class _Scaled:
    """A decorator object keeping its own setting beside the function it wraps."""

    def __init__(self, fn, factor: int) -> None:
        functools.update_wrapper(self, fn)
        self.factor = factor

    def __call__(self, x: int) -> int:
        return self.__wrapped__(x) * self.factor


def test_a_wrapper_keeping_state_of_its_own_hashes_by_it_too():
    """Hashed as the code it wraps alone, ``_Scaled(f, 2)`` and ``_Scaled(f, 3)`` were one
    value to a cell calling them (plain 6, hitnb 4)."""
    base = _scaled_lru.__wrapped__
    assert hash_value(_Scaled(base, 2)) != hash_value(_Scaled(base, 3))
    assert hash_value(_Scaled(base, 2)) == hash_value(_Scaled(base, 2))
