"""The look for lists and dicts held twice in a value, in C and in Python alike."""

from __future__ import annotations

import pytest

from hitnb.hashing import shared

ROW = [0, 0]
CASES = [
    ([[0] * 3] * 3, True),
    ([[0] * 3 for _ in range(3)], False),
    ({"a": ROW, "b": ROW}, True),
    ((ROW, [ROW]), True),
    ([ROW], False),
    ([{"id": i, "tags": ["x"]} for i in range(50)], False),
    ([(1, "a")] * 10, False),  # a tuple held twice holds nothing that changes
    ([([1],)] * 2, True),  # but this one does: its list is met twice through it
    (list(range(1000)), False),
]


@pytest.mark.parametrize(("value", "twice"), CASES)
def test_both_ways_find_what_is_held_twice(value: object, twice: bool) -> None:
    assert shared._in_python(value) is twice
    compiled = shared._compiled("holds_twice")
    if compiled is None:
        pytest.skip("built without a C compiler")
    assert compiled(value) is twice
