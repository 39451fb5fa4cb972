"""Memoized recursion goes about as deep as plain Python recursion: at least half as deep
under the same recursion limit, and the limit is as it was afterwards."""

from __future__ import annotations

import sys

import pytest

from hitnb import memo


def _deepest(fn, high: int) -> int:
    """The largest ``n`` for which ``fn(n)`` recurses without RecursionError."""
    low = 1
    while low < high:
        mid = (low + high + 1) // 2
        try:
            fn(mid)
            low = mid
        except RecursionError:
            high = mid - 1
    return low


def _plain(n):
    return 0 if n == 0 else _plain(n - 1) + 1


def test_fib_200_with_the_default_limit(counter):
    calls = counter()

    @memo
    def fib(n):
        calls.hit("fib")
        return n if n < 2 else fib(n - 1) + fib(n - 2)

    limit = sys.getrecursionlimit()
    assert fib(200) == 280571172992510140037611932413038677189525
    assert calls["fib"] == 201  # each level once; fib(n - 2) is a hit
    assert fib(200) == 280571172992510140037611932413038677189525
    assert calls["fib"] == 201
    assert sys.getrecursionlimit() == limit


def test_memoized_recursion_reaches_half_the_plain_depth():
    limit = sys.getrecursionlimit()
    plain = _deepest(_plain, limit)

    @memo
    def chain(n):
        return 0 if n == 0 else chain(n - 1) + 1

    depth = plain // 2
    assert chain(depth) == depth  # every level a miss, stored on the way back
    assert sys.getrecursionlimit() == limit


def test_too_deep_recursion_is_a_recursion_error_and_the_limit_comes_back():
    limit = sys.getrecursionlimit()

    @memo
    def chain(n):
        return 0 if n == 0 else chain(n - 1) + 1

    with pytest.raises(RecursionError):
        chain(limit * 2)
    assert sys.getrecursionlimit() == limit
    assert chain(50) == 50  # and memoized recursion still works after it
