"""A hit leaves a library class's counter where the run left it (python-control names each
system ``sys[N]`` from a class attribute), and a stored run that drew numbers from a counter
now elsewhere runs again."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest

import hitnb

LIBRARY = '''
class System:
    """Numbered as python-control numbers its systems."""

    made = 0

    def __init__(self):
        self.name = f"sys[{System.made}]"
        System.made += 1
'''


@pytest.fixture
def library(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A module installed as a library is (in a ``site-packages`` folder)."""
    folder = tmp_path / "site-packages"
    folder.mkdir()
    (folder / "numbered_systems.py").write_text(LIBRARY)
    monkeypatch.syspath_prepend(str(folder))
    yield importlib.import_module("numbered_systems")
    sys.modules.pop("numbered_systems", None)


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
