"""Snapshots of ambient state see every change, with the faster per-provider digests."""

from __future__ import annotations

import logging
import os
import random
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hitnb.core import ambient


def _changed(before: ambient.Snapshot, after: ambient.Snapshot) -> dict[str, object]:
    return {e.provider: e.state for e in after.changes_since(before)[1]}


def test_a_pandas_option_set_or_registered_later_is_seen():
    before = ambient.Snapshot.take()
    with pd.option_context("display.max_rows", 7):
        inside = ambient.Snapshot.take()
    assert _changed(before, inside)["pandas options"] == {"display.max_rows": 7}
    config = pd._config.config
    config.register_option("hitnbtest.width", 3)
    try:
        registered = ambient.Snapshot.take()
        pd.set_option("hitnbtest.width", 4)
        assert _changed(registered, ambient.Snapshot.take())["pandas options"] == {
            "hitnbtest.width": 4
        }
    finally:
        config._registered_options.pop("hitnbtest.width")
        config._global_config.pop("hitnbtest")


def test_reading_plotly_defaults_loads_no_more_of_plotly(run_python) -> None:
    """plotly loads its renderers (and nbformat, jsonschema: 1.2 s) when ``pio.renderers``
    is first read; a cell importing ``plotly.express`` does not read it, nor may hitnb."""
    printed = run_python(
        """
        import sys
        from hitnb.core.ambient import Snapshot
        import plotly.express
        before = Snapshot.take(cell=True).states["plotly defaults"]
        print(before, "plotly.io._renderers" in sys.modules)
        import plotly.io as pio
        pio.renderers.default = "png"
        print(Snapshot.take(cell=True).states["plotly defaults"])
        """
    )
    assert printed.splitlines() == [
        "{'templates': 'plotly'} False",
        "{'templates': 'plotly', 'renderers': 'png'}",
    ]


def test_numpy_drawing_its_cached_gaussian_is_a_change(monkeypatch: pytest.MonkeyPatch):
    """The legacy stream caches the second normal of each pair: drawing it leaves the
    Mersenne Twister's words alone and changes only the cache flag."""
    monkeypatch.setattr(ambient, "_seeded", {"numpy's global random state"})
    np.random.seed(0)
    np.random.standard_normal()  # draws a pair, keeps one
    before = ambient.Snapshot.take()
    np.random.standard_normal()  # the kept one: no new words
    state = _changed(before, ambient.Snapshot.take())["numpy's global random state"]
    assert state[3] == 0  # has_gauss: consumed


def test_a_draw_from_random_changes_its_digest():
    provider = next(p for p in ambient.providers() if p.name == "Python's global random state")
    random.seed(1)
    first = provider.digest(provider.get())
    assert provider.digest(provider.get()) == first
    random.random()
    assert provider.digest(provider.get()) != first


def test_an_environment_variable_set_or_removed_is_seen(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("HITNB_TEST_A", "1")
    before = ambient.Snapshot.take()
    monkeypatch.setenv("HITNB_TEST_A", "2")
    effect = next(e for e in ambient.Snapshot.take().changes_since(before)[1]
                  if e.provider == "os.environ")  # fmt: skip
    assert effect.state == {"HITNB_TEST_A": "2"}
    again = ambient.Snapshot.take()
    monkeypatch.delenv("HITNB_TEST_A")
    effect = next(e for e in ambient.Snapshot.take().changes_since(again)[1]
                  if e.provider == "os.environ")  # fmt: skip
    assert effect.removed == ("HITNB_TEST_A",)


def test_a_state_compared_by_value_or_by_digest_is_an_effect_only_when_it_changed():
    """States Python compares (options, the environment) and states it cannot (a dict
    holding an array, whose ``==`` answers elementwise) are told apart just the same."""
    weights = {"w": np.zeros(3), "scale": 1.0}
    ambient.register_state(ambient.StateProvider(
        "test weights", "numpy", lambda: {k: v.copy() if isinstance(v, np.ndarray) else v
                                         for k, v in weights.items()},
        lambda state: weights.update(state),
    ))  # fmt: skip
    try:
        before = ambient.Snapshot.take()
        assert "test weights" not in _changed(before, ambient.Snapshot.take())
        weights["w"][1] = 5.0
        changed = _changed(before, ambient.Snapshot.take())["test weights"]
        assert list(changed) == ["w"] and changed["w"][1] == 5.0
        again = ambient.Snapshot.take()
        weights["scale"] = 2.0
        assert _changed(again, ambient.Snapshot.take())["test weights"] == {"scale": 2.0}
    finally:
        ambient.unregister_state("test weights")


def test_a_seeded_stream_a_run_drew_from_is_read_as_it_was_before(
    monkeypatch: pytest.MonkeyPatch,
):
    name = "Python's global random state"
    monkeypatch.setattr(ambient, "_seeded", {name})
    provider = next(p for p in ambient.providers() if p.name == name)
    random.seed(3)
    before = ambient.Snapshot.take()
    assert name not in _changed(before, ambient.Snapshot.take())
    started = provider.digest(random.getstate())
    random.random()
    reads, effects = ambient.Snapshot.take().changes_since(before)
    assert [(r.provider, r.digest) for r in reads] == [(name, started)]
    assert [e.state for e in effects if e.provider == name] == [random.getstate()]


def test_a_relative_chdir_is_an_effect_read_from_the_folder_it_started_in(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path)
    before = ambient.Snapshot.take()
    os.chdir("sub")
    reads, effects = ambient.Snapshot.take().changes_since(before)
    assert [e.state for e in effects if e.provider == "the working folder"] == [
        str(tmp_path / "sub")
    ]
    assert ambient.unmet(reads) == "the working folder is not where the stored run started from"
    os.chdir(tmp_path)
    assert ambient.unmet(reads) is None
    ambient.apply(effects)
    assert os.getcwd() == str(tmp_path / "sub")


def test_a_logger_set_or_set_back_is_an_effect_and_one_an_import_makes_is_not():
    name = "hitnb.tests.chatty"
    before = ambient.Snapshot.take()
    logger = logging.getLogger(name)
    assert "logger levels" not in _changed(before, ambient.Snapshot.take())  # as made
    logger.setLevel(logging.ERROR)
    quiet = ambient.Snapshot.take()
    assert _changed(before, quiet)["logger levels"] == {name: (logging.ERROR, False, True)}
    logger.setLevel(logging.NOTSET)
    _, effects = ambient.Snapshot.take().changes_since(quiet)
    assert effects == [ambient.AmbientEffect("logger levels", {}, (name,))]
    logger.setLevel(logging.WARNING)
    ambient.apply(effects)  # what the run left: the level it set back
    assert logger.level == logging.NOTSET


def test_a_root_handler_is_made_again_and_one_that_cannot_be_is_said(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    import sys

    monkeypatch.setattr(logging.root, "handlers", [])
    monkeypatch.setattr(logging.root, "level", logging.root.level)
    before = ambient.Snapshot.take()
    logging.basicConfig(level=logging.INFO, format="%(name)s said %(message)s", stream=sys.stderr)
    _, effects = ambient.Snapshot.take().changes_since(before)
    made = [e for e in effects if e.provider == "logging handlers"]
    logging.root.handlers = []
    ambient.apply(made)
    (handler,) = logging.root.handlers
    assert handler.stream is sys.stderr and handler.formatter._fmt == "%(name)s said %(message)s"
    logging.root.handlers = []
    before = ambient.Snapshot.take()
    logging.root.addHandler(logging.FileHandler(tmp_path / "run.log"))
    _, effects = ambient.Snapshot.take().changes_since(before)
    logging.root.handlers[0].close()
    logging.root.handlers = []
    with pytest.raises(ambient.CannotMake, match="a logging handler a hit cannot make again"):
        ambient.apply([e for e in effects if e.provider == "logging handlers"])


def test_state_that_cannot_be_made_leaves_what_was_set_as_it_was(monkeypatch: pytest.MonkeyPatch):
    """A hit refused halfway must not leave some effects made: the call then ran again from
    the state the run had left (numpy's stream drawn from twice, a folder entered twice)."""
    held = {"value": 1}

    def broken(state: object) -> None:
        raise ValueError("no template 'brand' here")

    ambient.register_state(ambient.StateProvider(
        "test value", "sys", lambda: held["value"], lambda v: held.update(value=v)))  # fmt: skip
    ambient.register_state(ambient.StateProvider("test broken", "sys", lambda: 0, broken))
    try:
        effects = [ambient.AmbientEffect("test value", 2), ambient.AmbientEffect("test broken", 1)]
        with pytest.raises(ambient.CannotMake, match="no template 'brand' here"):
            ambient.apply(effects)
        assert held["value"] == 1
    finally:
        ambient.unregister_state("test value")
        ambient.unregister_state("test broken")


def test_a_setting_pickle_refuses_is_read_by_its_code():
    """``display.float_format`` given as a lambda could not be pickled: the settings read
    was left out, and a cell stored under another formatter showed its old numbers."""
    pd.set_option("display.float_format", lambda v: f"{v:.1f}")
    try:
        before = ambient.Snapshot.take(cell=True)
        reads, _ = ambient.Snapshot.take(cell=True).changes_since(before)
        options = [read for read in reads if read.provider == "pandas options"]
        assert options and ambient.unmet(options) is None
        pd.set_option("display.float_format", lambda v: f"{v:.1f}")  # the same code
        assert ambient.unmet(options) is None
        pd.set_option("display.float_format", lambda v: f"{v:.4f}")
        assert ambient.unmet(options) == "pandas options changed since the cell was stored"
    finally:
        pd.reset_option("display.float_format")
