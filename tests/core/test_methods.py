"""Methods of every kind under ``@memo``: instance, class and static methods in either
decorator order, properties, ``cached_property`` state and ``lru_cache`` members."""

from __future__ import annotations

import functools
import textwrap
import warnings

import pytest

from hitnb import memo


def _classes(calls):
    """One class per decorator order, each with a class method and a static method."""

    class Outer:  # @memo above @classmethod / @staticmethod
        scale = 10

        @memo
        @classmethod
        def made(cls, x):
            calls.hit("made")
            return x * cls.scale

        @memo
        @staticmethod
        def double(x):
            calls.hit("double")
            return 2 * x

    class Inner:  # @memo below
        scale = 10

        @classmethod
        @memo
        def made(cls, x):
            calls.hit("made")
            return x * cls.scale

        @staticmethod
        @memo
        def double(x):
            calls.hit("double")
            return 2 * x

    return Outer, Inner


@pytest.mark.parametrize("order", ["memo above", "memo below"])
def test_class_and_static_methods_in_either_order_on_class_and_instance(order, counter):
    calls = counter()
    Outer, Inner = _classes(calls)
    cls = Outer if order == "memo above" else Inner
    assert cls.made(3) == 30
    assert cls().made(3) == 30  # on an instance: the same call (the class is the argument)
    assert cls.made(3) == 30
    assert calls["made"] == 1
    assert cls.double(4) == 8
    assert cls().double(4) == 8
    assert calls["double"] == 1
    assert cls.made(4) == 40  # other arguments compute
    assert calls["made"] == 2


def test_instance_method_on_the_class_and_on_instances(counter):
    calls = counter()

    class Model:
        def __init__(self, depth):
            self.depth = depth

        @memo
        def predict(self, x):
            calls.hit("p")
            return x * self.depth

    assert Model(2).predict(3) == 6
    assert Model.predict(Model(2), 3) == 6  # unbound, instance passed explicitly
    assert calls["p"] == 1
    assert Model(5).predict(3) == 15
    assert calls["p"] == 2


def test_property_over_memo_works_and_memo_over_property_is_refused(counter):
    calls = counter()

    class Box:
        def __init__(self, side):
            self.side = side

        @property
        @memo
        def volume(self):
            calls.hit("v")
            return self.side**3

    assert Box(2).volume == 8
    assert Box(2).volume == 8
    assert calls["v"] == 1

    for kind in (property, functools.cached_property):
        with pytest.raises(TypeError, match=rf"put @memo below @{kind.__name__}"):

            class Bad:
                @memo
                @kind
                def volume(self):
                    return 1

            del Bad


def test_cached_property_values_are_not_instance_state(counter):
    calls = counter()

    class Data:
        def __init__(self, rows):
            self.rows = rows

        @functools.cached_property
        def total(self):
            return sum(self.rows)

        @memo
        def mean(self):
            calls.hit("mean")
            return self.total / len(self.rows)

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "changed its argument in place" would be an error
        assert Data([1, 2, 3]).mean() == 2
        assert Data([1, 2, 3]).mean() == 2  # a fresh instance: a hit
        warm = Data([1, 2, 3])
        assert warm.total == 6  # read before the call: still the same value
        assert warm.mean() == 2
    assert calls["mean"] == 1
    assert Data([2, 4]).mean() == 3
    assert calls["mean"] == 2


_LRU_SOURCE = """
import functools

class Helpers:
    @staticmethod
    @functools.lru_cache
    def helper(x):
        return x + {step}

    @functools.cache
    def scaled(self, x):
        return x * {step}

@memo{options}
def use(x):
    return Helpers.helper(x) + Helpers().scaled(x)
"""


def _use(step: int, options: str = ""):
    namespace = {"__name__": "__main__", "memo": memo}
    exec(textwrap.dedent(_LRU_SOURCE.format(step=step, options=options)), namespace)
    return namespace["use"]


def test_lru_cache_members_are_hashed_by_their_code():
    use = _use(1)
    assert use(2) == 5
    assert use(2) == 5
    assert _use(1).key(2) == use.key(2)  # the same code: the same key
    assert _use(2).key(2) != use.key(2)  # the cached helpers' code changed: another key


def test_ignore_of_a_class_member_named_in_the_error_works():
    use = _use(1, options="(ignore=('helper',))")
    assert use(2) == 5
    edited = _use(7, options="(ignore=('helper',))")
    # helper is left out; scaled still counts
    assert edited.key(2) != use.key(2)
    assert _use(1, options="(ignore=('helper', 'scaled'))").key(2) == _use(
        9, options="(ignore=('helper', 'scaled'))"
    ).key(2)
