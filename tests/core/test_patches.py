"""What a run set inside an object, taken as a patch only when it is the whole change."""

from __future__ import annotations

import pickle
from typing import Any

import numpy as np
import pytest

from hitnb.core.patches import layout_of, patch_of
from hitnb.hashing.values import hash_value


class Results:
    """A fitted model's results as statsmodels keeps them: a cache filled on first read,
    and the model, whose data keeps what the last prediction asked for."""

    def __init__(self) -> None:
        self.params = np.arange(3.0)
        self.model = Model()
        self._cache: dict[str, Any] = {}

    def summary(self) -> str:
        self._cache["bse"] = self.params / 10
        self._cache["llf"] = -12.5
        self.diagnostics = {"jb": 1.5}
        return "summary"

    def predict(self, start: int) -> None:
        self.model.data.predict_start = start


class Model:
    def __init__(self) -> None:
        self.endog = np.ones(4)
        self.data = Data()


class Data:
    def __init__(self) -> None:
        self.names = ["y"]


def _patched(obj: Any, change: Any) -> Any:
    digest = hash_value(obj)
    layout = layout_of(obj)
    assert layout is not None
    change(obj)
    return patch_of(obj, layout, digest)


def test_what_a_run_set_inside_an_object_is_its_patch_and_makes_the_same_object_again():
    """The entries set (in a cache dict, on the object, on an object inside it), in the
    order they were set; written into a copy of the object as it was, they make it hash
    as the run left it."""
    res = Results()
    before = pickle.dumps(res)
    patch = _patched(res, lambda r: (r.summary(), r.predict(2)))
    assert patch is not None
    assert [(part, key) for part, _, key, _ in patch.writes] == [
        ((), "diagnostics"),
        ((("attribute", "_cache"),), "bse"),
        ((("attribute", "_cache"),), "llf"),
        ((("attribute", "model"), ("attribute", "data")), "predict_start"),
    ]
    again = pickle.loads(before)
    patch.write(patch.targets(again))
    assert hash_value(again) == hash_value(res)
    assert list(again._cache) == ["bse", "llf"]


@pytest.mark.parametrize(
    "change",
    [
        lambda r: r._cache.update(bse=1) or r._cache.pop("seen"),  # an entry taken out
        lambda r: r._cache.update(seen=r._cache.pop("seen")),  # entries in another order
        lambda r: r.model.data.names.append("x"),  # inside a list: not an entry
        lambda r: r.model.endog.__setitem__(0, 5.0),  # inside an array
        lambda r: setattr(r, "alias", r.model.data.names),  # holds what it held before
        lambda r: setattr(r, "head", r.model.data.blocks[0][:2]),  # views an array in a list
    ],
    ids=["taken-out", "reordered", "list", "array", "held-before", "view"],
)
def test_a_change_a_patch_cannot_make_again_is_no_patch(change: Any):
    """Each of these comes back apart or not at all from a patch: the value is restored
    whole, as before."""
    res = Results()
    res._cache["seen"] = 1.0
    res._cache["first"] = 2.0
    res.model.data.blocks = [np.zeros(4)]
    assert _patched(res, change) is None


def test_an_array_set_as_a_view_of_one_held_before_is_made_a_view_of_it_again():
    """statsmodels keeps ``resid`` as a row of its ``forecasts_error``: written into a copy
    of the value as it was, it is a view of that copy's array again, so a change to one
    reaches the other, as after the run."""
    res = Results()
    res.errors = np.arange(8.0).reshape(2, 4)
    before = pickle.dumps(res)
    patch = _patched(res, lambda r: r._cache.update(resid=r.errors[1], head=r.errors[0, :2]))
    assert patch is not None
    again = pickle.loads(before)
    patch.write(patch.targets(again))
    again.errors[1, 0] = -1.0
    again.errors[0, 1] = -2.0
    assert again._cache["resid"].tolist() == [-1.0, 5.0, 6.0, 7.0]
    assert again._cache["head"].tolist() == [0.0, -2.0]
    assert hash_value(again._cache["resid"]) != hash_value(res._cache["resid"])


def test_the_value_is_left_as_the_run_left_it():
    """Checking the patch puts the entries back as they were, then as the run left them."""
    res = Results()
    patch = _patched(res, lambda r: r.summary())
    assert patch is not None
    assert list(res._cache) == ["bse", "llf"] and res.diagnostics == {"jb": 1.5}


def test_an_object_without_what_the_run_set_entries_in_is_refused_before_any_is_written():
    """A hit finds every object the entries go in before it writes one."""
    res = Results()
    patch = _patched(res, lambda r: (r.summary(), r.predict(2)))
    assert patch is not None
    other = Results()
    del other.model.data
    with pytest.raises(KeyError):
        patch.targets(other)
    assert other._cache == {}
