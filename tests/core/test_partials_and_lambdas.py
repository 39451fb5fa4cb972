"""``memo(functools.partial(f, ...))`` and lambdas are keyed stably: a fresh process hits."""

from __future__ import annotations

import functools

from hitnb import memo

_SCRIPT = """
import functools
from hitnb import memo

def scale(x, factor):
    print("computing scale")
    return x * factor

triple = memo(functools.partial(scale, factor=3))
double = memo(functools.partial(scale, factor=2))
nested = memo(functools.partial(functools.partial(scale), factor=5))
short, longer = memo(lambda w: w in {"ab", "cd", "ef", "gh"}), memo(lambda w: len(w) > 2)
print(triple(2), double(2), nested(1), short("ab"), longer("abc"))
print(triple.identity)
"""


def test_partials_and_lambdas_hit_in_a_fresh_process(run_python):
    first = run_python(_SCRIPT, env={"PYTHONHASHSEED": "1"})
    assert first.count("computing scale") == 3
    # another process, with another hash seed (set order differs): every call hits
    second = run_python(_SCRIPT, env={"PYTHONHASHSEED": "2"})
    assert second == "6 4 5 True True\nfunctools.partial(__main__.scale)\n"


def test_a_partials_arguments_are_part_of_the_key(counter):
    calls = counter()

    def power(x, n):
        calls.hit("power")
        return x**n

    square = memo(functools.partial(power, n=2))
    cube = memo(functools.partial(power, n=3))
    assert (square(3), cube(3), square(3)) == (9, 27, 9)
    assert calls["power"] == 2
    assert square.key(3) != cube.key(3)
