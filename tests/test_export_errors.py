"""Export's clear messages: unknown keys, unwritable paths, code that cannot be sourced."""

from __future__ import annotations

import warnings

import nbformat
import pytest

import hitnb
from hitnb.errors import HitnbError, HitnbWarning, UnknownKeyError


@hitnb.memo
def double(x):
    return x * 2


@hitnb.memo
def total(values):
    return float(values.sum())


def test_unknown_key(tmp_path):
    with pytest.raises(UnknownKeyError, match="no entry with key 'abcdef123456'"):
        hitnb.export("abcdef123456", tmp_path / "x.ipynb")


def test_unwritable_path(tmp_path):
    double(2)
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(HitnbError, match=r"cannot write the notebook to .*choose another path"):
        hitnb.export(double.runs()[0].key, blocker / "run.ipynb")


def test_runs_of_different_functions_are_refused(tmp_path):
    double(2)

    @hitnb.memo
    def triple(x):
        return x * 3

    triple(2)
    with pytest.raises(HitnbError, match="runs of one function"):
        hitnb.export([double.runs()[0].key, triple.runs()[0].key], tmp_path / "x.ipynb")


def test_code_that_cannot_be_written_as_source_is_loaded_instead(tmp_path, monkeypatch):
    (tmp_path / "helpers_mod.py").write_text("scale = lambda v: v * 10\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    import helpers_mod

    namespace = {"__name__": "__main__", "scale": helpers_mod.scale, "hitnb": hitnb}
    source = "@hitnb.memo\ndef scaled(x):\n    return scale(x) + 1\n"
    import linecache

    linecache.cache["<cell-scaled>"] = (len(source), None, source.splitlines(True), "<cell-scaled>")
    exec(compile(source, "<cell-scaled>", "exec"), namespace)
    assert namespace["scaled"](2) == 21
    key = namespace["scaled"].runs()[0].key
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        path = hitnb.export(key, tmp_path / "scaled.ipynb")
    messages = [str(w.message) for w in caught if issubclass(w.category, HitnbWarning)]
    assert any(
        "`scale` is code that cannot be written as source; it is loaded" in m for m in messages
    )
    cells = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells)
    assert 'scale = hitnb.load("' in cells
    assert "def scaled(x):" in cells


def test_big_inputs_are_not_copied_into_the_store_and_the_export_says_so(tmp_path):
    """Keeping a copy of every input for export doubled the store for a 200 MB array read by
    a call that takes a millisecond; inputs over keep_inputs_max are left out."""
    import numpy as np

    from hitnb.core.stores import current_store

    small = np.random.default_rng(0).random(5_000)  # too long for a literal: kept (40 kB)
    big = np.arange(2_000_000, dtype=float)  # 16 MB
    total(small)
    total(big)

    store = current_store()
    kept = store.entries("hitnb.input")
    assert len(kept) == 1 and kept[0].size < 1_000_000, "only the small input is kept"
    path = tmp_path / "big.ipynb"
    hitnb.export(total.runs()[0].key, path)  # the newest run: the big input's
    text = path.read_text()
    assert "was not kept" in text and "keep_inputs_max" in text
