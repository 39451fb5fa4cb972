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


def test_what_else_may_hold_a_part_is_found_both_ways() -> None:
    """``r0 = rows[0]``: a long list of plain data is hashed whole, without a walk, so the
    check that names sharing what a cell changed still do missed ``r0`` on a hit."""
    rows = [[0, 0, 0] for _ in range(10)]
    r0 = rows[0]
    compiled = shared._compiled("held_elsewhere")
    if compiled is not None:  # first: a test's own references make a row held twice
        found_in_c = [id(part) for part in compiled(rows)]
        assert found_in_c == [id(rows), id(r0)], "rows held by the list alone: left out"
    nested = {"rows": rows, "other": [[1]]}
    for look in (shared._held_in_python, shared._compiled("held_elsewhere")):
        if look is None:
            pytest.skip("built without a C compiler")
        for value in (rows, nested, (rows,)):
            found = look(value)
            assert any(part is r0 for part in found)
            assert len({id(part) for part in found}) == len(found)
