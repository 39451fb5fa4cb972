"""What a run added to an object, kept as a patch and added again to the live object."""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from hitnb.core.patches import patch_of, snapshot_of
from hitnb.hashing.values import hash_value


class Fit:
    """A fitted model as statsmodels keeps one: state, a dict of settings, and caches."""

    def __init__(self) -> None:
        self.params = np.arange(3.0)
        self.settings = {"method": "ols"}

    @functools.cached_property
    def doubled(self) -> np.ndarray:
        return self.params * 2

    def summary(self) -> str:
        self.diagnostics = {"jb": float(self.params.sum()), "names": ["a", "b"]}
        self.settings["shown"] = True
        return "summary"


def _run(fit: Any, change: Any) -> Any:
    """The patch of what ``change(fit)`` did to ``fit`` (None when it is not one)."""
    snapshot = snapshot_of(fit)
    assert snapshot is not None
    before = hash_value(fit)
    change(fit)
    return patch_of(fit, snapshot, before)


def test_plain_entries_a_run_added_are_a_patch_that_makes_the_same_value():
    fit, other = Fit(), Fit()
    patch = _run(fit, Fit.summary)
    assert patch is not None
    assert patch.unmet(other) is None
    patch.apply(other)
    assert hash_value(other) == hash_value(fit)
    assert other.diagnostics == fit.diagnostics and other.settings == fit.settings
    assert "lacking 'shown'" in str(patch.unmet(other))  # added once only


def test_a_cached_attribute_read_by_the_run_is_left_out_of_the_patch():
    fit, other = Fit(), Fit()
    patch = _run(fit, lambda f: (f.summary(), f.doubled))
    assert patch is not None
    patch.apply(other)
    assert "doubled" not in vars(other)  # computed again when read
    assert hash_value(other) == hash_value(fit)


def test_other_changes_are_not_a_patch():
    def rebind(f: Fit) -> None:
        f.summary()
        f.params = f.params + 1  # bound to another object

    def take_out(f: Fit) -> None:
        f.summary()
        del f.settings["method"]

    def grow_inside(f: Fit) -> None:
        f.summary()
        f.params[0] = 9.0  # a change inside an entry it held

    def add_view(f: Fit) -> None:
        f.head = f.params[:2]  # a view of an array it held: a copy would not be

    def add_object(f: Fit) -> None:
        f.helper = Fit()  # not a plain value

    for change in (rebind, take_out, grow_inside, add_view, add_object):
        assert _run(Fit(), change) is None, change.__name__


def test_an_array_a_run_added_is_added_as_one_object_with_the_cached_attribute_it_is():
    """statsmodels keeps the eigenvalues a summary shows, which are its cached
    ``eigenvals``: added with it, the two stay one object."""
    fit, other = Fit(), Fit()

    def change(f: Fit) -> None:
        f.residuals = np.zeros(3)
        f.shown = {"doubled": f.doubled}

    patch = _run(fit, change)
    assert patch is not None
    patch.apply(other)
    assert other.shown["doubled"] is other.doubled
    assert hash_value(other) == hash_value(fit)


def test_a_cached_attribute_changed_inside_by_the_run_is_not_a_patch():
    """A hit adding the entries would leave the cached array as it was (the digest leaves
    cached attributes out, so only their own digests taken before the run tell)."""
    fit = Fit()
    _ = fit.doubled

    def change(f: Fit) -> None:
        f.summary()
        f.doubled[0] = -1.0

    assert _run(fit, change) is None


def test_a_live_object_keeping_cached_attributes_the_run_did_not_find_is_not_patched():
    """The run might have taken them out or changed them (statsmodels' set_null_options
    takes out what it invalidates): the cell runs instead."""
    patch = _run(Fit(), Fit.summary)
    assert patch is not None
    live = Fit()
    _ = live.doubled
    assert "cached attributes the run did not find" in str(patch.unmet(live))


def test_an_object_pickled_otherwise_than_by_its_dict_has_no_snapshot():
    class Reduced(Fit):
        def __reduce__(self) -> Any:
            return (Fit, ())

    assert snapshot_of(Reduced()) is None
    assert snapshot_of([1, 2]) is None and snapshot_of(np.zeros(2)) is None
