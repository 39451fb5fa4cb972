"""Long lists, records, dicts and sets hash fast and keep every rule of value hashing.

Plain data is hashed by its pickle (hitnb.hashing.plain); records with a column that is not
plain data, objects' attributes and sets, column by column (hitnb.hashing.packed). These
properties check that neither changes what a user can observe: equal values hash equal
however they were built (shared elements, fresh containers, a set's order), and any change
of one element, of a type (1 and 1.0 and True), of None against NaN, of where a string
boundary falls, or of a dict's order gives another key.
"""

from __future__ import annotations

import copy
import math
import struct
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hitnb.hashing.packed import PACK_MIN
from hitnb.hashing.values import hash_value

pytestmark = pytest.mark.slow

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(-(2**80), 2**80),
    st.floats(allow_nan=True), st.text(), st.text(alphabet="a\0\ud800"), st.binary(),
)  # fmt: skip
homogeneous = st.one_of(
    st.lists(st.integers(), min_size=PACK_MIN, max_size=40),
    st.lists(st.floats(allow_nan=True), min_size=PACK_MIN, max_size=40),
    st.lists(st.text(max_size=4), min_size=PACK_MIN, max_size=40),
    st.lists(st.binary(max_size=4), min_size=PACK_MIN, max_size=40),
    st.lists(st.booleans(), min_size=PACK_MIN, max_size=40),
    st.lists(st.one_of(st.none(), st.integers()), min_size=PACK_MIN, max_size=40),
    st.lists(st.one_of(st.none(), st.text(max_size=3)), min_size=PACK_MIN, max_size=40),
    st.lists(st.lists(st.text(max_size=2), max_size=3), min_size=PACK_MIN, max_size=20),
    st.lists(st.tuples(st.integers(), st.integers()), min_size=PACK_MIN, max_size=20),
    st.lists(scalars, min_size=PACK_MIN, max_size=20),
)
records = st.lists(
    st.fixed_dictionaries(
        {"id": st.integers(), "name": st.one_of(st.none(), st.text(max_size=3))},
        optional={"score": st.floats(allow_nan=True)},
    ),
    min_size=PACK_MIN,
    max_size=20,
)
big_dicts = st.dictionaries(st.text(max_size=4), scalars, min_size=PACK_MIN, max_size=30)
values = st.one_of(homogeneous, records, big_dicts, st.frozensets(st.text(), min_size=PACK_MIN))


def canonical(value):
    """What equal values agree on: type-tagged, floats by their bits (as in arrays), sets
    unordered, dicts in their order."""
    if isinstance(value, float):
        return ("float", struct.pack("<d", value))
    if isinstance(value, list | tuple):
        return (type(value).__name__, tuple(canonical(v) for v in value))
    if isinstance(value, dict):
        return ("dict", tuple((canonical(k), canonical(v)) for k, v in value.items()))
    if isinstance(value, frozenset):
        return ("frozenset", frozenset(canonical(v) for v in value))
    return (type(value).__name__, value)


def rebuilt(value):
    """An equal value built another way: fresh containers, shared nothing."""
    if isinstance(value, dict):
        return {k: rebuilt(value[k]) for k in value}
    if isinstance(value, list):
        return [rebuilt(v) for v in value]
    if isinstance(value, tuple):
        return tuple(rebuilt(v) for v in value)
    return copy.copy(value)


@settings(max_examples=500, deadline=None)
@given(values, values)
def test_equal_keys_exactly_for_equal_values(a, b):
    assert (hash_value(a) == hash_value(b)) == (canonical(a) == canonical(b))


@settings(max_examples=300, deadline=None)
@given(values)
def test_rebuilt_values_hash_equal(value):
    assert hash_value(rebuilt(value)) == hash_value(value)


@settings(max_examples=300, deadline=None)
@given(homogeneous, st.data())
def test_changing_one_element_changes_the_key(items, data):
    i = data.draw(st.integers(0, len(items) - 1))
    replacement = data.draw(scalars)
    changed = [*items[:i], replacement, *items[i + 1 :]]
    same = canonical(changed) == canonical(items)
    assert (hash_value(changed) == hash_value(items)) == same


def test_types_and_boundaries_inside_packed_lists():
    n = PACK_MIN
    forms = [
        [1] * n, [1.0] * n, [True] * n, ["1"] * n, [b"1"] * n, [None] * n,
        [1] * (n - 1) + [None], [1.0] * (n - 1) + [math.nan], [1] * (n + 1),
        ["ab", "c"] + ["x"] * (n - 2), ["a", "bc"] + ["x"] * (n - 2),
        ["a\0b", "c"] + ["x"] * (n - 2), ["a", "b\0c"] + ["x"] * (n - 2),
        [[1, 2], [3]] + [[]] * (n - 2), [[1], [2, 3]] + [[]] * (n - 2),
        [(1, 2), (3,)] + [()] * (n - 2), tuple([1] * n), [2**63] + [1] * (n - 1),
        [0.0] * n, [-0.0] * n,
    ]  # fmt: skip
    assert len({hash_value(f) for f in forms}) == len(forms)
    assert hash_value([math.nan] * n) == hash_value([float("nan")] * n)


@pytest.mark.parametrize("plain", [True, False], ids=["plain data", "with a numpy scalar"])
def test_records_keep_their_key_order_and_keys(plain):
    """Records hash by their pickle when plain data, else column by column (packed): either
    way another key order or another key is another value."""
    extra = None if plain else pytest.importorskip("numpy").float64(1.5)
    rows = [{"a": i, "b": str(i), "x": extra} for i in range(20)]
    reordered = [{"b": str(i), "a": i, "x": extra} for i in range(20)]
    mixed = [
        row if i % 2 else {"b": row["b"], "a": row["a"], "x": extra} for i, row in enumerate(rows)
    ]
    renamed = [{"a": i, "c": str(i), "x": extra} for i in range(20)]
    digests = {hash_value(v) for v in (rows, reordered, mixed, renamed)}
    assert len(digests) == 4
    assert hash_value(rows) == hash_value([dict(row) for row in rows])


def test_cycles_through_packed_containers():
    rows: list = [{"a": i, "b": None} for i in range(10)]
    rows[3]["b"] = rows
    other: list = [{"a": i, "b": None} for i in range(10)]
    other[3]["b"] = other
    assert hash_value(rows) == hash_value(other)
    other[4]["a"] = -1
    assert hash_value(rows) != hash_value(other)


def test_packed_hashes_are_the_same_in_another_process():
    code = (
        "from hitnb.hashing.values import hash_value\n"
        "print(hash_value({'ints': list(range(100)), 'rows': [{'k': i, 'v': [str(i)]} "
        "for i in range(50)], 'f': [i / 3 for i in range(30)], 's': set(map(str, range(20)))}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    local = hash_value(
        {
            "ints": list(range(100)),
            "rows": [{"k": i, "v": [str(i)]} for i in range(50)],
            "f": [i / 3 for i in range(30)],
            "s": set(map(str, range(20))),
        }
    )
    assert out.stdout.strip() == local
