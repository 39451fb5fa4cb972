"""What a run added to an object, kept as a patch and added again to the live object."""

from __future__ import annotations

import functools
import pickle
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


def _run(fit: Any, change: Any, outputs: dict[str, Any] | None = None) -> Any:
    """The patch of what ``change(fit)`` did to ``fit`` (None when it is not one); what
    ``change`` returns is the cell's output ``outputs`` names (see :func:`patch_of`)."""
    snapshot = snapshot_of(fit)
    assert snapshot is not None
    before = hash_value(fit)
    made = dict.fromkeys(outputs or {}, change(fit))  # (what the cell did not bind is gone)
    return patch_of(fit, snapshot, before, made)


def test_plain_entries_a_run_added_are_a_patch_that_makes_the_same_value():
    fit, other = Fit(), Fit()
    patch = _run(fit, Fit.summary)
    assert patch is not None and patch.changes_value
    assert patch.unmet(other, {}) is None
    patch.apply(other, {})
    assert hash_value(other) == hash_value(fit)
    assert other.diagnostics == fit.diagnostics and other.settings == fit.settings
    assert "lacking 'shown'" in str(patch.unmet(other, {}))  # added once only


def test_a_cached_attribute_the_run_computed_is_in_the_patch():
    """Computed again on a later read, from state changed since, it could differ from
    what a plain run kept."""
    fit, other = Fit(), Fit()
    patch = _run(fit, lambda f: (f.summary(), f.doubled))
    assert patch is not None
    patch.apply(other, {})
    assert vars(other)["doubled"].tolist() == [0.0, 2.0, 4.0]
    assert hash_value(other) == hash_value(fit)


def test_a_read_filling_a_cache_alone_is_a_patch():
    """The digest leaves caches out: the value is the same, yet a later read after a hit
    would compute the entry again where a plain run finds it kept."""
    fit, other = Fit(), Fit()
    patch = _run(fit, lambda f: f.doubled)
    assert patch is not None and not patch.changes_value
    assert patch.unmet(other, {}) is None
    patch.apply(other, {})
    assert vars(other)["doubled"].tolist() == [0.0, 2.0, 4.0]


def test_an_object_the_value_held_is_added_as_the_live_values_own():
    """A formula model's data keeps its frame's index as ``row_labels``: the hit adds the
    index of the live value's frame, not a copy."""
    import pandas as pd

    class Data:
        def __init__(self) -> None:
            self.frame = pd.DataFrame({"y": [1.0, 2.0]}, index=["a", "b"])

        @functools.cached_property
        def row_labels(self) -> Any:
            return self.frame.index

    data, other = Data(), Data()
    patch = _run(data, lambda d: d.row_labels)
    assert patch is not None and not patch.changes_value
    assert patch.unmet(other, {}) is None
    patch.apply(other, {})
    assert vars(other)["row_labels"] is other.frame.index
    del other.frame
    assert "holds nothing at frame.[index]" in str(patch.unmet(other, {}))


class Series:
    """A time series model as statsmodels keeps one: its data, which a prediction notes its
    dates in, and forecast errors its cached residuals view."""

    def __init__(self) -> None:
        self.data = Data()
        self.errors = np.arange(6.0).reshape(1, 6).copy()  # (owning its memory)

    def predict(self) -> Any:
        import pandas as pd

        dates = pd.date_range("2020-01-01", periods=3, freq="D")
        self.data.predict_start, self.data.predict_dates = dates[0], dates
        return pd.Series([1.0, 2.0, 3.0], index=dates)

    @functools.cached_property
    def resid(self) -> np.ndarray:
        return self.errors[0]


class Data:
    """The data object a model keeps (with caches of its own, as statsmodels' does)."""

    @functools.cached_property
    def names(self) -> list[str]:
        return ["y"]


def test_a_prediction_noted_in_the_models_data_is_added_with_the_restored_outputs_index():
    """statsmodels' ``predict`` keeps its first date (a pandas timestamp: plain) and its
    dates, the very index of the series it returns, in the model's data, an object a few
    attributes into the results: the hit adds the restored series' own index."""
    model, other = Series(), Series()
    assert _run(Series(), Series.predict) is None  # (the index is held by the output too)
    predicted: list[Any] = []
    patch = _run(model, lambda m: predicted.append(m.predict()) or predicted[0], {"pred": 0})
    assert patch is not None and patch.changes_value
    restored = pickle.loads(pickle.dumps(predicted[0]))
    assert patch.unmet(other, {"pred": restored}) is None
    patch.apply(other, {"pred": restored})
    assert other.data.predict_dates is restored.index
    assert other.data.predict_start == model.data.predict_start
    assert hash_value(other) == hash_value(model)
    assert "`pred` holds nothing at [index]" in str(patch.unmet(Series(), {"pred": 1.0}))


def test_a_timestamp_an_output_holds_too_is_added_as_the_restored_outputs():
    """A pandas timestamp is plain, but copied, ``m.when is t`` would be False after a
    hit where the cell bound ``t = pd.Timestamp(...); m.when = t``."""
    import pandas as pd

    def stamp(fit: Fit) -> Any:
        fit.when = pd.Timestamp("2020-01-01")
        return fit.when

    patch = _run(Fit(), stamp, {"t": 0})
    assert patch is not None
    other, restored = Fit(), pickle.loads(pickle.dumps(pd.Timestamp("2020-01-01")))
    patch.apply(other, {"t": restored})
    assert other.when is restored
    alone = _run(Fit(), lambda f: setattr(f, "when", pd.Timestamp("2020-01-01")))
    assert alone is not None, "held by nothing else: copied"


def test_a_cached_view_of_an_array_the_value_holds_is_added_as_a_view_of_the_live_one():
    """A state space model's cached residuals are its ``forecasts_error[0]``: a copy would
    not see a change to the errors; the hit adds a view of the live value's errors."""
    model, other = Series(), Series()
    patch = _run(model, lambda m: m.resid)
    assert patch is not None and not patch.changes_value
    patch.apply(other, {})
    resid = vars(other)["resid"]
    assert resid.tolist() == model.resid.tolist() and np.shares_memory(resid, other.errors)
    other.errors[0, 1] = 7.0
    assert other.resid[1] == 7.0
    shaped = Series()
    shaped.errors = np.arange(6.0)
    assert "holds no array at errors as the run viewed" in str(patch.unmet(shaped, {}))


def test_what_something_else_holds_too_is_not_a_patch():
    """A hit adds copies: an added object held elsewhere too would come back apart."""
    shared = [1, 2]
    outside = np.zeros(3)

    def held_by_a_name(f: Fit) -> None:
        f.log = shared

    def inside_held(f: Fit) -> None:
        f.log = {"rows": shared}

    def array_held(f: Fit) -> None:
        f.array = outside

    def viewed(f: Fit) -> None:
        f.array = np.zeros(3)
        f.view_kept_by = [f.array[:2]]  # (a view: not plain either way)

    for change in (held_by_a_name, inside_held, array_held):
        assert _run(Fit(), change) is None, change.__name__
    assert _run(Fit(), viewed) is None
    fresh = _run(Fit(), lambda f: setattr(f, "log", [[1], {"a": np.zeros(2)}, (3, [4])]))
    assert fresh is not None, "held by the additions alone"
    other = Fit()
    patch = _run(Fit(), lambda f: (setattr(f, "a", [1]), setattr(f, "b", f.a)))
    assert patch is not None
    patch.apply(other, {})
    assert other.a is other.b, "one object where the run added one"
    patch = _run(Fit(), lambda f: setattr(f, "again", f.settings))
    assert patch is not None, "an entry it had: added as the live value's own"
    patch.apply(other, {})
    assert other.again is other.settings


def test_a_cached_entry_the_object_had_is_not_a_patch_when_added_again():
    """``f.shown = {"doubled": f.doubled}`` with ``doubled`` cached before: the copy a hit
    adds would not be the live object's entry."""
    fit = Fit()
    _ = fit.doubled
    assert _run(fit, lambda f: setattr(f, "shown", {"d": f.doubled})) is None


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

    def add_object(f: Fit) -> None:
        f.helper = Fit()  # not a plain value

    for change in (rebind, take_out, grow_inside, add_object):
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
    patch.apply(other, {})
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


def test_a_live_object_whose_caches_differ_from_those_the_run_found_is_not_patched():
    """The run might have taken them out, changed them or read them (statsmodels'
    set_null_options takes out what it invalidates): the cell runs instead."""
    cached = Fit()
    _ = cached.doubled
    patch = _run(cached, Fit.summary)
    assert patch is not None
    for live in (Fit(), Fit()):
        assert patch.unmet(live, {}) is not None  # (none cached)
    live = Fit()
    live.__dict__["doubled"] = np.array([0.0, 2.0, 5.0])
    assert "caches hold other entries" in str(patch.unmet(live, {}))
    live.__dict__["doubled"] = np.array([0.0, 2.0, 4.0])
    assert patch.unmet(live, {}) is None
    patch = _run(Fit(), Fit.summary)
    assert patch is not None
    _ = live.doubled
    assert "caches hold other entries" in str(patch.unmet(live, {}))


class Details(dict[str, Any]):
    """statsmodels' ``Bunch``: a dict whose ``__dict__`` is itself (``details.inner``)."""

    def __init__(self, **entries: Any) -> None:
        super().__init__(**entries)
        self.__dict__ = self


class FitWithDetails(Fit):
    """Fit keeping details of the fit, as ARIMA's Hannan-Rissanen results keep theirs."""

    def __init__(self) -> None:
        super().__init__()
        self.details = Details(inner=Fit())
        _ = self.details.inner.doubled


def test_a_value_restored_from_the_store_takes_the_patch_the_live_one_took():
    """Pickle gives such a dict back with a ``__dict__`` of its own; walked then and not
    before, the caches inside it counted for the restored value and not for the live one,
    and a hit of ``res.plot_diagnostics()`` after a restart ran the cell again."""
    fit = FitWithDetails()
    restored = pickle.loads(pickle.dumps(fit))
    patch = _run(fit, Fit.summary)
    assert patch is not None
    assert patch.unmet(restored, {}) is None


def test_an_object_pickled_otherwise_than_by_its_dict_has_no_snapshot():
    class Reduced(Fit):
        def __reduce__(self) -> Any:
            return (Fit, ())

    assert snapshot_of(Reduced()) is None
    assert snapshot_of([1, 2]) is None and snapshot_of(np.zeros(2)) is None


class Inner:
    """An object keeping a cache, deeper in a value than its holders."""

    def __init__(self) -> None:
        self.n = 3

    @functools.cached_property
    def values(self) -> list[int]:
        return list(range(self.n))


class Outer:
    def __init__(self) -> None:
        self.items = [Inner()]

    @functools.cached_property
    def total(self) -> int:
        return sum(self.items[0].values)


def test_entries_come_back_in_the_order_the_run_added_them():
    fit, other = Fit(), Fit()
    fit.helper, other.helper = Inner(), Inner()

    def change(f: Fit) -> None:
        f.ref = f.settings["method"]  # (a string: plain)
        f.again = f.helper  # held: kept as where it lies, added after the string
        f.x = 1

    patch = _run(fit, change)
    assert patch is not None
    patch.apply(other, {})
    assert list(vars(other)) == list(vars(fit))
    assert other.again is other.helper


def test_changes_the_digest_leaves_out_are_not_a_patch():
    """Restored whole, pickle kept them; added as a patch, they would be lost."""

    def deep_cache(o: Outer) -> None:
        o.items[0].values.append(99)
        o.tag = 1

    def read_only(o: Outer) -> None:
        o.array = np.zeros(2)
        o.array.flags.writeable = False  # (a copy is writeable)

    def unseen_flag(o: Outer) -> None:
        o.held = np.zeros(2)
        o.tag = 1

    outer = Outer()
    _ = outer.items[0].values
    assert _run(outer, deep_cache) is None
    assert _run(Outer(), read_only) is None
    holding = Outer()
    holding.array = np.zeros(2)
    assert (
        _run(
            holding, lambda o: (setattr(o, "tag", 1), o.array.flags.__setattr__("writeable", False))
        )
        is None
    )

    class Point(tuple[int, int]):
        _fields = ("x", "y")

    def tuple_with_dict(o: Outer) -> None:
        p = Point((1, 2))
        p.extra = [1]  # type: ignore[attr-defined]
        o.p = p

    assert _run(Outer(), tuple_with_dict) is None


def test_a_hit_needs_the_caches_deeper_in_the_value_as_the_run_found_them():
    """``total`` sums a deeper object's cached ``values``: with those changed since, the
    stored ``total`` is not what a plain read computes."""
    outer, live = Outer(), Outer()
    _ = outer.items[0].values, live.items[0].values
    patch = _run(outer, lambda o: o.total)
    assert patch is not None and patch.unmet(live, {}) is None
    live.items[0].values.append(10)
    assert "keep other cached entries" in str(patch.unmet(live, {}))
