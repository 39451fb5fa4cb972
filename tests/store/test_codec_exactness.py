"""A codec takes a value only when its round trip is exact: a hit returns what the miss did.

Every value of the corpus is stored and loaded back through a real store, and must come
back equal with identical dtypes, index and column names, attrs and object contents (the
type of every element, not just its value), and hash equal to the value stored. The codec
that took it is recorded, so the corpus also proves which frames Parquet may hold.
"""

# ruff: noqa: E501  (the corpus reads best as one value per line)
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hitnb.hashing.values import hash_value
from hitnb.store.codecs import ParquetCodec
from hitnb.store.local import LocalStore


def frame(**columns: Any) -> pd.DataFrame:
    return pd.DataFrame(columns)


def with_attrs(df: pd.DataFrame, **attrs: Any) -> pd.DataFrame:
    df.attrs.update(attrs)
    return df


def obj(values: list[Any]) -> pd.Series:
    return pd.Series(values, dtype=object)


_structured = np.dtype([("a", "i1"), ("b", "<f8"), ("c", "U3")], align=True)

# name -> (value, codec it must use, or None when any exact codec will do)
CORPUS: dict[str, tuple[Any, str | None]] = {
    # frames Parquet holds exactly
    "ints and floats": (frame(i=[1, 2, 3], f=[0.5, np.nan, -0.0]), "parquet"),
    "small ints": (frame(i8=np.array([1, -2], "i1"), u64=np.array([1, 2**63], "u8")), "parquet"),
    "float16 and bool": (frame(h=np.array([1, 2], "f2"), b=[True, False]), "parquet"),
    "default strings": (frame(s=["x", None, "z"]), "parquet"),
    "string[pyarrow]": (frame(s=pd.array(["x", None], dtype="string[pyarrow]")), "parquet"),
    "nullable ints": (frame(a=pd.array([1, None], dtype="Int64"), b=pd.array([1, None], dtype="UInt8")), "parquet"),
    "nullable float, bool": (frame(a=pd.array([1.5, None], dtype="Float32"), b=pd.array([True, None], dtype="boolean")), "parquet"),
    "categorical": (frame(c=pd.Categorical(["b", "a", "b"])), "parquet"),
    "ordered categorical": (frame(c=pd.Categorical(["b", "a"], categories=["b", "a"], ordered=True)), "parquet"),
    "tz-aware": (frame(t=pd.date_range("2026-01-01", periods=3, tz="Europe/Paris")), "parquet"),
    "datetime us": (frame(t=pd.date_range("2026-01-01", periods=3).as_unit("us")), "parquet"),
    "timedelta": (frame(d=pd.to_timedelta([1, 2], unit="s")), "parquet"),
    "period": (frame(p=pd.period_range("2026-01", periods=3, freq="M")), "parquet"),
    "interval": (frame(i=pd.interval_range(0, 3, closed="left")), "parquet"),
    "arrow numbers": (frame(a=pd.array([1, None], dtype="int64[pyarrow]"), b=pd.array([True, None], dtype="bool[pyarrow]")), "parquet"),
    "MultiIndex rows": (pd.DataFrame({"a": [1, 2]}, index=pd.MultiIndex.from_tuples([("x", 1), ("y", 2)], names=["k", "n"])), "parquet"),
    "MultiIndex columns": (pd.DataFrame([[1, 2]], columns=pd.MultiIndex.from_tuples([("x", "a"), ("x", "b")], names=["g", None])), "parquet"),
    "column names with NaN": (pd.DataFrame([[1, 2]], columns=pd.MultiIndex.from_tuples([("a", 1.0), ("a", np.nan)])), "pickle"),
    "named columns and index": (pd.DataFrame({"a": [1, 2]}, index=pd.Index(["p", "q"], name="id")).rename_axis(columns="feat"), "parquet"),
    "index with freq": (pd.DataFrame({"a": [1, 2, 3]}, index=pd.date_range("2026-01-01", periods=3, freq="D")), "parquet"),
    "range index with step": (pd.DataFrame({"a": [1, 2]}, index=pd.RangeIndex(5, 9, 2)), "parquet"),
    "JSON attrs": (with_attrs(frame(a=[1]), source="sensor", version=2, scale=[1.5, None]), "parquet"),
    "empty": (pd.DataFrame(), "parquet"),
    # frames Parquet would change: they must go elsewhere (pickle) and still come back exact
    "object column of lists": (frame(a=obj([[1], [2, 3], []])), "pickle"),
    "object column of dicts": (frame(a=obj([{"x": 1}, {"y": 2}, {}])), "pickle"),
    "object ints and None": (frame(a=obj([1, 2, None])), "pickle"),
    "object mixed": (frame(a=obj([1, "a", None, 2.5, b"x"])), "pickle"),
    "object strings": (frame(a=obj(["x", "y"])), "pickle"),
    "object strings, None and NaN": (frame(a=obj(["x", None, np.nan])), "pickle"),
    "string[python]": (frame(s=pd.array(["x", None], dtype="string[python]")), "pickle"),
    "arrow string": (frame(s=pd.array(["x", None], dtype=pd.ArrowDtype(pa.string()))), "pickle"),
    "arrow list": (frame(s=pd.array([[1], [2, 3]], dtype=pd.ArrowDtype(pa.list_(pa.int64())))), "pickle"),
    "categorical of ints": (frame(c=pd.Categorical([3, 1, 3])), "pickle"),
    "categorical, object categories": (frame(c=pd.Categorical(["b", "a"], categories=pd.Index(["b", "a"], dtype=object))), "pickle"),
    "datetime s": (frame(t=pd.date_range("2026-01-01", periods=3).as_unit("s")), "pickle"),
    "sparse": (frame(s=pd.arrays.SparseArray([0, 0, 1])), "pickle"),
    "complex": (frame(c=np.array([1j, 2])), "pickle"),
    "duplicate column names": (pd.DataFrame([[1, 2]], columns=["a", "a"]), "pickle"),
    "mixed column names": (pd.DataFrame([[1, 2]], columns=["a", 1]), "pickle"),
    "int index name": (pd.DataFrame({"a": [1, 2]}, index=pd.Index([1, 2], name=5)), "pickle"),
    "object index": (pd.DataFrame({"a": [1, 2]}, index=pd.Index(["p", "q"], dtype=object)), "pickle"),
    "nested attrs": (with_attrs(frame(a=[1]), src={"k": (1, 2)}), "pickle"),
    "no duplicate labels flag": (frame(a=[1]).set_flags(allows_duplicate_labels=False), "pickle"),
    # Series and arrays
    "Series of lists": (pd.Series([[1], None, {"a": 1}], name="s"), None),
    "Series categorical": (pd.Series(pd.Categorical(["b", "a"], ordered=True)), None),
    "Series with attrs": (with_attrs(pd.Series([1.0]), unit="m"), None),  # type: ignore[arg-type]
    "structured array": (np.array([(1, 2.5, "abc"), (-1, 0.0, "")], dtype=_structured), "npy"),
    "big-endian array": (np.arange(6, dtype=">i4").reshape(2, 3), "npy"),
    "datetime array": (np.array(["2026-01-01", "NaT"], dtype="datetime64[s]"), "npy"),
    "object array": (np.array([[1], "a", None, 2.5], dtype=object), "pickle"),
    "structured array with objects": (np.array([(1, [2])], dtype=[("a", "i8"), ("b", "O")]), "pickle"),
}  # fmt: skip


def same_objects(a: Any, b: Any) -> bool:
    """Equal and of the same type all the way down (1 is not 1.0, a list is not an array)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(same_objects(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same_objects(a[k], b[k]) for k in a)
    if isinstance(a, float) and np.isnan(a):
        return bool(np.isnan(b))
    if isinstance(a, np.ndarray):
        return a.dtype == b.dtype and a.shape == b.shape and bool((a == b).all())
    return bool(a == b) if a is not None else b is None


def assert_same_index(a: pd.Index, b: pd.Index) -> None:
    assert type(a) is type(b), (type(a), type(b))
    assert a.equals(b)
    assert list(a.names) == list(b.names)
    assert a.dtype == b.dtype, (a.dtype, b.dtype)
    if isinstance(a, pd.MultiIndex):
        for level in range(a.nlevels):
            assert_same_index(a.get_level_values(level), b.get_level_values(level))
    assert getattr(a, "freq", None) == getattr(b, "freq", None)
    if a.dtype == object:
        assert same_objects(list(a), list(b))


def assert_exact(value: Any, back: Any) -> None:
    assert type(back) is type(value)
    if isinstance(value, pd.DataFrame):
        assert value.equals(back)
        assert list(back.dtypes) == list(value.dtypes)
        assert_same_index(value.index, back.index)
        assert_same_index(value.columns, back.columns)
        assert back.flags.allows_duplicate_labels == value.flags.allows_duplicate_labels
        columns = [value.iloc[:, i] for i in range(value.shape[1])]
        restored = [back.iloc[:, i] for i in range(back.shape[1])]
    elif isinstance(value, pd.Series):
        assert value.equals(back) and back.dtype == value.dtype and back.name == value.name
        assert_same_index(value.index, back.index)
        columns, restored = [value], [back]
    else:
        assert back.dtype == value.dtype and back.shape == value.shape
        assert same_objects(value.tolist(), back.tolist())
        return
    assert back.attrs == value.attrs and same_objects(back.attrs, value.attrs)
    for mine, theirs in zip(columns, restored, strict=True):
        if mine.dtype == object:
            assert same_objects(list(mine), list(theirs))


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> LocalStore:
    return LocalStore(Path(tmp_path_factory.mktemp("exact")) / "s")


@pytest.mark.parametrize("name", list(CORPUS))
def test_round_trip_is_exact_or_the_codec_is_not_chosen(store: LocalStore, name: str) -> None:
    value, expected_codec = CORPUS[name]
    key = hash_value(name)
    entry = store.put(key, value, function="t", code="c", args="a", duration=0.0)
    if expected_codec is not None:
        assert entry.codec == expected_codec
    back = store.load(store.get(key))
    assert_exact(value, back)
    assert hash_value(back) == hash_value(value)


def test_parquet_says_why_it_refuses_a_frame() -> None:
    codec = ParquetCodec()
    reasons = {
        "object column of lists": "column 'a' holds Python objects",
        "duplicate column names": "duplicate column names",
        "string[python]": "column 's' has dtype string[python]",
        "nested attrs": "attrs",
        "int index name": "index name 5",
    }
    for name, words in reasons.items():
        reason = codec.refusal(CORPUS[name][0])
        assert reason is not None and words in reason, (name, reason)
    assert codec.refusal(CORPUS["ordered categorical"][0]) is None


# -- random frames built from the parts Parquet admits, and from parts it must refuse --------
def _column(kind: str, rows: int, draw: Any) -> Any:
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    if kind == "int8":
        return rng.integers(-100, 100, rows).astype("i1")
    if kind == "float32":
        return rng.standard_normal(rows).astype("f4")
    if kind == "bool":
        return rng.random(rows) < 0.5
    if kind == "datetime ms":
        return pd.Series(pd.date_range("2026-01-01", periods=rows, freq="h")).astype("M8[ms]")
    if kind == "tz":
        return pd.date_range("2026-03-29", periods=rows, freq="37min", tz="Europe/Berlin")
    if kind == "Int64":
        return pd.array([None if i % 3 == 0 else int(i) for i in range(rows)], dtype="Int64")
    if kind == "boolean":
        return pd.array([None if i % 4 == 0 else i % 2 == 0 for i in range(rows)], dtype="boolean")
    if kind == "str":
        return pd.array([None if i % 5 == 0 else f"s{i}\u00e9" for i in range(rows)], dtype="str")
    if kind == "category":
        labels = draw(st.permutations(["lo", "mid", "hi"]))
        return pd.Categorical(
            rng.choice(labels, rows), categories=labels, ordered=draw(st.booleans())
        )
    if kind == "period":
        return pd.period_range("2026-01", periods=rows, freq="M")
    if kind == "timedelta":
        return pd.to_timedelta(rng.integers(0, 10**6, rows), unit="ms")
    # refused kinds
    if kind == "object lists":
        return pd.Series([[i] if i % 2 else None for i in range(rows)], dtype=object)
    if kind == "object ints":
        return pd.Series([i if i % 2 else None for i in range(rows)], dtype=object)
    if kind == "string[python]":
        return pd.array([f"p{i}" for i in range(rows)], dtype="string[python]")
    raise AssertionError(kind)


ADMITTED = ["int8", "float32", "bool", "datetime ms", "tz", "Int64", "boolean", "str",
            "category", "period", "timedelta"]  # fmt: skip
REFUSED = ["object lists", "object ints", "string[python]"]


@st.composite
def frames(draw: Any) -> pd.DataFrame:
    rows = draw(st.integers(1, 30))
    kinds = draw(st.lists(st.sampled_from(ADMITTED + REFUSED), min_size=1, max_size=5))
    names = draw(st.lists(st.text(min_size=1, max_size=4), min_size=len(kinds),
                          max_size=len(kinds), unique=True))  # fmt: skip
    df = pd.DataFrame({n: _column(k, rows, draw) for n, k in zip(names, kinds, strict=True)})
    index = draw(st.sampled_from(["range", "str", "dates", "multi", "categorical"]))
    if index == "str":
        df.index = pd.Index([f"r{i}" for i in range(rows)], name=draw(st.none() | st.text()))
    elif index == "dates":
        df.index = pd.date_range("2026-01-01", periods=rows, freq=draw(st.sampled_from(["D", "h"])))
    elif index == "multi":
        df.index = pd.MultiIndex.from_arrays(
            [np.arange(rows) % 3, [f"k{i}" for i in range(rows)]], names=["a", None]
        )
    elif index == "categorical":
        df.index = pd.CategoricalIndex([f"c{i % 2}" for i in range(rows)])
    if draw(st.booleans()):
        df.attrs["meta"] = draw(st.dictionaries(st.text(max_size=3), st.integers() | st.text()))
    return df


@pytest.mark.slow
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frames())
def test_random_frames_round_trip_exactly(tmp_path_factory: pytest.TempPathFactory, df):
    store = LocalStore(Path(tmp_path_factory.mktemp("random")) / "s")
    key = hash_value(("random", hash_value(df)))
    entry = store.put(key, df, function="t", code="c", args="a", duration=0.0)
    refused = any(str(t) == "object" or "python" in repr(t) for t in df.dtypes)
    assert entry.codec == ("pickle" if refused else "parquet")
    back = store.load(store.get(key))
    assert_exact(df, back)
    assert hash_value(back) == hash_value(df)
