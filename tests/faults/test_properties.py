"""Value hashing, property by property, on values hypothesis makes up."""

from __future__ import annotations

import math
import pickle
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hitnb.hashing.values import hash_value

pytestmark = [pytest.mark.slow, pytest.mark.faults]

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True),
    st.text(), st.binary(), st.complex_numbers(),
)  # fmt: skip
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=5),
        st.tuples(inner, inner),
        st.dictionaries(st.one_of(st.text(), st.integers()), inner, max_size=5),
        st.frozensets(st.one_of(st.integers(), st.text()), max_size=5),
    ),
    max_leaves=20,
)


def canonical(value):
    """What hitnb's rules say two values must agree on: type-tagged, order-free for sets,
    dicts in their order, floats by bits with every NaN alike (in these short containers;
    long containers of plain data hash NaNs by their bits, as arrays do)."""
    if isinstance(value, float):
        return ("float", "nan" if math.isnan(value) else value.hex())
    if isinstance(value, complex):
        return ("complex", canonical(value.real), canonical(value.imag))
    if isinstance(value, list | tuple):
        return (type(value).__name__, tuple(canonical(v) for v in value))
    if isinstance(value, dict):
        return ("dict", tuple((canonical(k), canonical(v)) for k, v in value.items()))
    if isinstance(value, frozenset):
        return ("frozenset", frozenset(canonical(v) for v in value))
    return (type(value).__name__, value)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(values, values)
def test_equal_values_equal_keys_distinct_values_distinct_keys(a, b):
    assert (hash_value(a) == hash_value(b)) == (canonical(a) == canonical(b))


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.text(), values, max_size=8), st.randoms())
def test_set_order_never_matters_and_dict_order_does(mapping, rng):
    items = list(mapping.items())
    rng.shuffle(items)
    reordered = dict(items)
    same_order = list(reordered) == list(mapping)
    assert (hash_value(mapping) == hash_value(reordered)) == same_order
    keys = list(mapping)
    rng.shuffle(keys)
    assert hash_value(frozenset(mapping)) == hash_value(frozenset(keys))


def test_float_rules():
    assert hash_value(0.0) != hash_value(-0.0)
    assert hash_value(float("nan")) == hash_value(-float("nan")) == hash_value(math.nan)
    assert hash_value([float("nan")]) == hash_value([math.nan])


@settings(max_examples=30, deadline=None)
@given(st.lists(values, min_size=1, max_size=10))
def test_hashes_are_the_same_in_another_process(batch):
    code = (
        "import pickle, sys\nfrom hitnb.hashing.values import hash_value\n"
        "print(' '.join(hash_value(v) for v in pickle.loads(sys.stdin.buffer.read())))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], input=pickle.dumps(batch), capture_output=True, check=True
    )
    assert out.stdout.decode().split() == [hash_value(v) for v in batch]
