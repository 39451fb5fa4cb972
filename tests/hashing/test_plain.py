"""Plain data hashes by its pickle only when that pickle is a sound encoding of the value."""

from __future__ import annotations

import enum
import pickle

import numpy as np
import pytest

from hitnb.hashing.plain import plain_encoding
from hitnb.hashing.values import hash_value


class Level(enum.IntEnum):
    LOW = 1


class Name(str):
    pass


@pytest.mark.parametrize(
    "odd",
    [{1, 2}, frozenset({"a"}), bytearray(b"x"), np.float64(1.0), np.int64(1), Level.LOW,
     Name("a"), 1j, object(), int, len, Ellipsis, range(3)],
    ids=repr,
)  # fmt: skip
def test_anything_but_plain_data_is_refused(odd):
    assert plain_encoding([1, 2, [3, {"k": odd}]]) is None


def test_plain_data_round_trips_through_its_encoding():
    value = [None, True, 1, -(2**80), 0.5, float("-inf"), "é\ud800", b"\0", (1, [2]), {"a": {}}]
    encoded = plain_encoding(value)
    assert encoded is not None
    back = pickle.loads(encoded)
    assert back == value and [type(v) for v in back] == [type(v) for v in value]


def test_shared_objects_encode_like_copies():
    row = {"a": [1, 2]}
    assert plain_encoding([row, row]) == plain_encoding([{"a": [1, 2]}, {"a": [1, 2]}])


def test_cycles_are_refused_and_still_hash():
    loop: list = [1, 2]
    loop.append(loop)
    assert plain_encoding(loop) is None
    other: list = [1, 2]
    other.append(other)
    assert hash_value(loop * 4) == hash_value(other * 4)


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ([b"x"] * 10, [bytearray(b"x")] * 10),
        (["a"] * 10, [Name("a")] * 10),
        ([1.0] * 10, [np.float64(1.0)] * 10),
        ([1] * 10, [Level.LOW] * 10),
        ([{1, 2}] * 10, [[1, 2]] * 10),
        ([1] * 10, [True] * 10),
        ([1] * 10, [1.0] * 10),
        (
            {"a": 1, "b": 2, **{str(i): i for i in range(8)}},
            {"a": 1, "b": 2.0, **{str(i): i for i in range(8)}},
        ),
    ],
    ids=[
        "bytes/bytearray",
        "str/subclass",
        "float/numpy",
        "int/IntEnum",
        "set/list",
        "int/bool",
        "int/float",
        "dict values",
    ],
)
def test_a_type_the_encoding_refuses_never_collides_with_plain_data(one, other):
    assert hash_value(one) != hash_value(other)
