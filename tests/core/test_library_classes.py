"""A hit leaves a library class's counter where the run left it (python-control names each
system ``sys[N]`` from a class attribute), and a stored run that drew numbers from a counter
now elsewhere runs again; a run that added methods to a library's class (``tqdm.pandas()``)
runs again where they are missing."""

from __future__ import annotations

import copy
import importlib
import sys
from pathlib import Path
from typing import Any

import pytest
from library_cases import install_numbered

import hitnb


@pytest.fixture
def library(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest):
    """A module installed as a library is (in a ``site-packages`` folder), named after the
    test: its classes are watched for the rest of the process."""
    name = f"numbered_{request.node.name.removeprefix('test_')[:40]}"
    monkeypatch.syspath_prepend(str(install_numbered(tmp_path, name)))
    yield importlib.import_module(name)
    sys.modules.pop(name, None)


def test_a_hit_moves_a_counter_as_the_run_did_or_runs_again_when_it_moved(counter, library):
    calls = counter()
    System = library.System

    @hitnb.memo
    def make(n: int) -> list[str]:
        calls.hit("make")
        return [System() for _ in range(n)]

    def names(n: int) -> list[str]:
        return [s.name for s in make(n)]

    assert names(2) == ["sys[0]", "sys[1]"]  # a miss: the class is watched from now on
    System.made = 0  # as in a new session
    assert names(2) == ["sys[0]", "sys[1]"] and System.made == 2  # a hit moves it too
    assert names(1) == ["sys[2]"] and System.made == 3  # a miss that started from 2
    System.made = 2
    assert names(1) == ["sys[2]"] and System.made == 3  # its hit, from where it started
    assert calls["make"] == 2
    System.made = 5  # other systems were made meanwhile: sys[2] is not the next name
    assert names(1) == ["sys[5]"] and System.made == 6
    assert calls["make"] == 3


def test_a_run_that_added_a_method_to_a_library_class_runs_again_where_it_is_missing(
    counter, library
):
    calls = counter()
    System = library.System

    @hitnb.memo
    def make() -> Any:
        calls.hit("make")
        return copy.deepcopy(System())  # copying caches __slotnames__ in System

    @hitnb.memo
    def extend() -> int:
        calls.hit("extend")
        library.register()
        return 1

    make()  # System is watched from here on
    assert "__slotnames__" in vars(System)
    del System.__slotnames__  # as in a new session: no change of the run's, still a hit
    make()
    assert calls["make"] == 1
    extend()
    assert System().describe() == "described sys[1]"
    del System.describe  # as in a new session
    assert extend() == 1 and calls["extend"] == 2  # a hit could not add it: run again
    assert System().describe() == "described sys[2]"
    assert extend() == 1 and calls["extend"] == 2  # there now: a hit


def test_classes_not_found_by_their_name_are_not_watched():
    """numpy's dtypes derive from classes no module names (``_FloatAbstractDType``): a hit
    looking for them failed, and the cell ran again in every session."""
    import numpy as np

    from hitnb.core import library_classes

    library_classes.watch_classes_of([np.dtype("f8"), {"a": np.dtype("i8")}])
    watched = {*library_classes._classes, *library_classes._joining}
    assert not any("AbstractDType" in key for key in watched)
    assert "numpy.dtypes:Float64DType" in watched
