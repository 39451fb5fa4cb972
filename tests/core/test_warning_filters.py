"""The warnings a run raised, with what the filters did with each, are read by a hit: under
other filters (``"error"``, ``"ignore"``) a memoized call runs again, as the plain call
would behave otherwise. Watching them changes nothing Python remembers or shows."""

from __future__ import annotations

import pickle
import warnings

import pytest

import hitnb
from hitnb.core import warning_filters

CALLS: list[int] = []


@hitnb.memo
def careful(x):
    CALLS.append(x)
    warnings.warn(f"careful with {x}", UserWarning, stacklevel=1)
    return x * 2


@hitnb.memo
def outer(x):
    return careful(x) + 1


def _shown_once_here() -> None:
    warnings.warn("shown once from this line", UserWarning, stacklevel=1)


def test_a_call_stored_under_other_filters_runs_again_and_raises_as_plainly():
    CALLS.clear()
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("default")
        assert [careful(1), careful(1)] == [2, 2]
    assert CALLS == [1]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(UserWarning, match="careful with 1"):
            careful(1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert [careful(1), careful(1)] == [2, 2]  # ran once more, stored as ignored
    assert CALLS == [1, 1, 1]


def test_a_call_inside_a_run_passes_its_warnings_up():
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        assert outer(5) == 11
        CALLS.clear()
        assert outer(5) == 11
        assert CALLS == []
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(UserWarning, match="careful with 5"):
            outer(5)


def test_watching_leaves_the_filters_and_python_s_memory_of_shown_warnings_alone():
    """Putting hitnb's filter in and out tells Python nothing changed: a warning shown
    once from a line is not shown again after a memoized run (a filter change would make
    Python forget it), and the filters are as they were."""
    with warnings.catch_warnings(record=True) as shown:
        warnings.simplefilter("default")
        before = list(warnings.filters)
        _shown_once_here()
        careful(7)
        _shown_once_here()
        assert list(warnings.filters) == before
    texts = [str(w.message) for w in shown]
    assert texts.count("shown once from this line") == 1, texts


def test_the_action_is_python_s_own_for_each_kind_of_filter():
    category = ("builtins.UserWarning", "builtins.Warning", "builtins.Exception")
    with warnings.catch_warnings():
        warnings.resetwarnings()
        warnings.filterwarnings("error", message="exact")
        warnings.filterwarnings("ignore", module=r"mine\.")
        warnings.filterwarnings("always", lineno=12)
        warnings.filterwarnings("once", category=DeprecationWarning)
        filters = (tuple(warnings.filters), "default")
        assert warning_filters.action_for(filters, category, "inexact", "theirs", 3) == "default"
        assert warning_filters.action_for(filters, category, "exact", "theirs", 3) == "error"
        assert warning_filters.action_for(filters, category, "x", "mine.sub", 3) == "ignore"
        assert warning_filters.action_for(filters, category, "x", "theirs", 12) == "always"


@hitnb.memo
def noisy(n):
    CALLS.append(n)
    for i in range(n):
        warnings.warn(f"row {i} is odd", DeprecationWarning, stacklevel=1)
    return n


def test_a_run_raising_hundreds_of_warnings_keeps_the_filters_instead():
    """Past ``MANY`` different warnings (a message naming each row), a run keeps the filters
    it started with, not each warning: a hit needs them all the same."""
    CALLS.clear()
    n = warning_filters.MANY + 50
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert [noisy(n), noisy(n)] == [n, n]
        assert [n] == CALLS
        warnings.filterwarnings("ignore", message="nothing this raises")
        noisy(n)
    assert [n, n] == CALLS


@hitnb.memo
def hushing(x):
    warnings.filterwarnings("ignore", message="hushed")
    return x


def test_a_hit_setting_filters_again_inside_a_run_leaves_the_run_watched():
    """A hit makes again the filters its run set (inside a cell's run, for one): hitnb's own
    filter stays first, so what the cell raises afterwards is still seen, and no copy of it
    is stored with the filters."""
    with warnings.catch_warnings():
        assert hushing(3) == 3
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("default")
        with warning_filters.observing() as raised:
            assert hushing(3) == 3
            assert ("ignore", "hushed") in [(f[0], getattr(f[1], "pattern", f[1])) for f in
                                           warnings.filters]  # fmt: skip
            warnings.warn("after the hit", UserWarning, stacklevel=1)
        assert "after the hit" in [warning.text for warning in raised]
        assert not [f for f in warnings.filters if warning_filters._own(f)]


@hitnb.memo
def in_parallel(n):
    from sklearn.utils.parallel import Parallel, delayed

    return sum(Parallel(n_jobs=1)(delayed(abs)(-i) for i in range(n)))


def test_code_that_copies_the_filters_runs_as_plainly():
    """scikit-learn's ``Parallel`` builds each filter again from its parts in every task
    (``message.pattern``, a ``Warning`` class): hitnb's filter, first during a run, broke
    every forest fit and cross-validation (``'_Spy' object has no attribute 'pattern'``)."""
    with warnings.catch_warnings():
        assert in_parallel(4) == 6


def test_a_memoized_call_under_its_caller_s_own_filter_is_asked_about_too():
    """A cell puts ``simplefilter("ignore")`` before calling a memoized function: hitnb's
    filter, put first when the cell's run began, was behind the cell's, so the call's
    warning went unseen and its stored run held none; under "error" later, its hit returned
    a result where the plain call raises."""
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("default")
        with warning_filters.observing(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            assert careful(11) == 22
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            with pytest.raises(UserWarning, match="careful with 11"):
                careful(11)


def test_a_stored_copy_of_hitnb_s_filter_set_again_is_taken_out_with_it():
    """A run that keeps ``list(warnings.filters)`` stores hitnb's filter with it; set again
    in a later session, the copy is hitnb's too, and no copy outlives the run."""
    copy = pickle.loads(pickle.dumps(warning_filters._SPY_FILTER))
    assert warning_filters._own(copy)
    with warnings.catch_warnings():
        with warning_filters.observing():
            warnings.filters[:] = [copy, *warnings.filters]
        assert not [f for f in warnings.filters if warning_filters._own(f)]


@hitnb.memo
def to_logging(x):
    import logging

    logging.captureWarnings(True)
    return x


def test_a_hit_sends_warnings_to_logging_again_as_its_run_did():
    """A hit of a run that called ``logging.captureWarnings(True)`` left later warnings
    printed in Python's format rather than logged."""
    import logging

    try:
        to_logging(1)
        logging.captureWarnings(False)
        assert to_logging(1) == 1  # a hit
        assert warnings.showwarning is logging._showwarning
    finally:
        logging.captureWarnings(False)


def test_a_filter_for_a_tuple_of_classes_matches_as_python_s_does():
    """``simplefilter`` takes a tuple of classes, as Python's matching does."""
    category = ("builtins.RuntimeWarning", "builtins.Warning", "builtins.Exception")
    with warnings.catch_warnings():
        warnings.resetwarnings()
        warnings.simplefilter("error", (UserWarning, RuntimeWarning))  # type: ignore[arg-type]
        filters = (tuple(warnings.filters), "default")
    assert warning_filters.action_for(filters, category, "x", "m", 1) == "error"


def test_a_warning_class_defined_again_is_matched_as_python_matches_it():
    """A cell run again defines its warning class again; a filter for the old class does
    not match the new one's warnings (Python matches by ``issubclass``), and the action a
    run keeps is Python's, not the one a match by name would give."""

    def defined() -> type[Warning]:
        class Mine(UserWarning):
            pass

        return Mine

    old, new = defined(), defined()
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("error", old)
        with warning_filters.observing() as raised:
            warnings.warn(new("of the new class"), stacklevel=1)
    (kept,) = [w for w in raised if w.text == "of the new class"]
    assert kept.action == "default"
