"""Values that differ in anything a computation can see never share a key.

Property tests (hypothesis) over the ways two values can look alike: the same number in
another type, the same bytes under another dtype or shape, the same labels in another
categorical order, the same frame under other column names, index or time zone, the same
function with other defaults; and the deep and cyclic structures docs/how-it-works.md
promises to handle.
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from hitnb.hashing.values import UnhashableValue, hash_value

pytestmark = pytest.mark.slow

numbers = st.integers(-(2**70), 2**70)
small = st.integers(-1000, 1000)


@settings(max_examples=200, deadline=None)
@given(numbers)
def test_same_number_in_another_type_is_another_key(n):
    forms = [n, float(n) if abs(n) < 2**53 else None, str(n), bytes(str(n), "ascii"), [n], (n,)]
    if n in (0, 1):
        forms.append(bool(n))
    forms = [f for f in forms if f is not None]
    assert len({hash_value(f) for f in forms}) == len(forms)


@settings(max_examples=100, deadline=None)
@given(hnp.arrays(np.uint8, st.integers(8, 64).map(lambda n: n - n % 8)))
def test_same_bytes_under_another_dtype_or_shape_is_another_key(raw):
    views = [raw, raw.view(np.int8), raw.view(np.int64), raw.view(np.float64), raw.view("M8[ns]")]
    views += [raw.reshape(2, -1), raw.reshape(-1, 1)]
    assert len({hash_value(v) for v in views}) == len(views)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from("abcd"), min_size=1, max_size=20), st.randoms())
def test_categorical_categories_and_order_count(labels, rng):
    categories = sorted(set(labels))
    reordered = categories[:]
    rng.shuffle(reordered)
    base = pd.Series(pd.Categorical(labels, categories=categories, ordered=True))
    others = [
        pd.Series(pd.Categorical(labels, categories=categories, ordered=False)),
        pd.Series(pd.Categorical(labels, categories=[*categories, "zz"], ordered=True)),
        pd.Series(labels, dtype="str"),
    ]
    if reordered != categories:
        others.append(pd.Series(pd.Categorical(labels, categories=reordered, ordered=True)))
    assert hash_value(base) == hash_value(base.copy())
    for other in others:
        assert hash_value(other) != hash_value(base), other.dtype


@settings(max_examples=100, deadline=None)
@given(st.lists(small, min_size=1, max_size=10), st.text(min_size=1, max_size=5))
def test_frames_differ_by_column_names_index_and_dtype(values, name):
    df = pd.DataFrame({"a": values})
    variants = [
        df.rename(columns={"a": name + "_"}),
        df.set_axis(pd.RangeIndex(1, len(values) + 1)),
        df.set_axis(pd.Index([str(i) for i in range(len(values))])),
        df.astype("float64"),
        df.astype("Int64"),
        df.astype("int32"),
        df.rename_axis("row"),
        df.rename_axis(columns="feature"),
    ]
    tagged = df.copy()
    tagged.attrs["unit"] = name
    variants.append(tagged)
    digests = {hash_value(v) for v in variants}
    assert hash_value(df) not in digests
    assert len(digests) == len(variants)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.text(max_size=5), min_size=1, max_size=10))
def test_string_storage_counts(texts):
    series = pd.Series(texts)
    forms = [series.astype(t) for t in ("string[python]", "string[pyarrow]", "str", "object")]
    assert len({hash_value(f) for f in forms}) == len(forms)


@settings(max_examples=50, deadline=None)
@given(st.sampled_from(["UTC", "Europe/Paris", "Asia/Tokyo", "America/New_York"]))
def test_time_zone_counts(zone):
    stamps = pd.Series(pd.date_range("2026-01-01", periods=3, freq="h", tz="UTC"))
    naive = stamps.dt.tz_localize(None)
    assert hash_value(stamps.dt.tz_convert(zone)) != hash_value(naive)
    if zone != "UTC":
        assert hash_value(stamps.dt.tz_convert(zone)) != hash_value(stamps)
    index = pd.date_range("2026-01-01", periods=3, freq="D")
    assert hash_value(index) != hash_value(pd.DatetimeIndex(index, freq=None))


def _scaled(x, factor=1):
    return x * factor


@settings(max_examples=50, deadline=None)
@given(small, small)
def test_function_defaults_count(a, b):
    def make(default):
        def f(x, factor=default):
            return x * factor

        return f

    assert (hash_value(make(a)) == hash_value(make(b))) == (a == b)
    assert (hash_value(functools.partial(_scaled, factor=a)) == hash_value(
        functools.partial(_scaled, factor=b)
    )) == (a == b)  # fmt: skip


def test_mutated_defaults_count():
    before = hash_value(_scaled)
    _scaled.__defaults__ = (2,)
    try:
        assert hash_value(_scaled) != before
    finally:
        _scaled.__defaults__ = (1,)
    assert hash_value(_scaled) == before


def nested(depth, leaf):
    value = leaf
    for _ in range(depth):
        value = [value]
    return value


def test_ten_thousand_levels_hash_and_differ_by_depth():
    assert hash_value(nested(10_000, 1)) == hash_value(nested(10_000, 1))
    assert hash_value(nested(10_000, 1)) != hash_value(nested(10_001, 1))
    assert hash_value(nested(10_000, 1)) != hash_value(nested(10_000, 2))
    deep_dict: dict = {}
    node = deep_dict
    for _ in range(10_000):
        node["k"] = {}
        node = node["k"]
    assert len(hash_value(deep_dict)) == 32


def test_nesting_beyond_the_limit_is_refused_by_name():
    with pytest.raises(UnhashableValue, match="nested too deeply"):
        hash_value(nested(200_000, 1))


def test_cycles_hash_by_shape():
    a: list = [1]
    a.append(a)
    c: list = [2]
    c.append(c)
    assert hash_value(a) != hash_value(c)
    d: dict = {"x": 1}
    d["self"] = d
    e: dict = {"x": 2}
    e["self"] = e
    assert hash_value(d) != hash_value(e)
