"""Hostile names, keys and values never escape the store folder or break it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import hitnb
from hitnb.errors import ConfigError, HitnbError, UnknownKeyError

pytestmark = [pytest.mark.slow, pytest.mark.faults]

HOSTILE = [
    "../../escape",
    "/etc/passwd",
    "..",
    "a/../../b",
    "nul\x00byte",
    "x" * 5000,
    "\udcff\udcfe not utf-8",
    "C:\\windows\\system32",
    "name with spaces and ; rm -rf",
]


def files_under(root: Path) -> set[Path]:
    return set(root.rglob("*"))


def outside_store(root: Path, store: Path) -> set[Path]:
    """Everything under ``root`` that is not the store or in it."""
    return {p for p in files_under(root) if p != store and not p.is_relative_to(store)}


@pytest.mark.parametrize("name", HOSTILE)
@pytest.mark.filterwarnings("ignore:exported to .* was defined inside")  # lambdas made here
def test_hostile_function_names_stay_inside(name, tmp_path, isolated_store, monkeypatch):
    monkeypatch.chdir(tmp_path)
    outside_before = outside_store(tmp_path, isolated_store)
    try:
        memoized = hitnb.memo(name=name)(lambda x: [x, name])
    except ConfigError as exc:
        assert "name" in str(exc)  # refused with a reason, before anything is written
        return
    assert memoized(1) == [1, name] and memoized(1) == [1, name]
    key = memoized.runs()[0].key
    path = hitnb.export(key, tmp_path / "exports" / "run.ipynb")
    assert path.parent == tmp_path / "exports"
    new = outside_store(tmp_path, isolated_store) - outside_before
    assert new <= {tmp_path / "exports", tmp_path / "exports" / "run.ipynb"}, new
    from hitnb.exporting.notebook import default_path

    default = default_path(memoized._store(), [key])
    assert default.parent == Path(".") and "/" not in default.name and "\x00" not in default.name


@pytest.mark.parametrize(
    "key", ["../../etc/passwd", "a" * 31 + "/", "\x00" * 32, "ZZ" * 16, "", "a" * 10_000]
)
def test_hostile_keys_are_refused_without_touching_paths(key, isolated_store):
    with pytest.raises((UnknownKeyError, HitnbError)):
        hitnb.load(key)
    with pytest.raises((UnknownKeyError, HitnbError)):
        hitnb.export(key, "x.ipynb")


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_argument_and_cell_values(value, isolated_store):
    @hitnb.experiment
    def echo(text):
        return {"length": len(text)}

    assert echo(value) == {"length": len(value)}
    assert echo(value) == {"length": len(value)}
    assert hitnb.experiments(echo).iloc[0]["length"] == len(value)
    for path in files_under(isolated_store):
        assert os.path.commonpath([path, isolated_store]) == str(isolated_store)
