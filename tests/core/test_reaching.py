"""What a changed value holds, as its pickle reaches it: the objects a name may share with
it, so that a hit restores them as one object where a plain run leaves one."""

from __future__ import annotations

import threading

import numpy as np
import pandas as pd
import pytest

from hitnb.core.cells import sharing_names
from hitnb.core.reaching import objects_reached
from hitnb.hashing.values import UnhashableValue


def test_the_objects_a_value_holds_are_reached_and_numbers_are_not_looked_into():
    shared = {"cache": [1.5, 2.5]}
    log: list[str] = []
    data = np.arange(4.0)
    cells = np.empty(2, dtype=object)
    cells[0] = shared
    value = {"k": (shared,), "data": data, "cells": cells, "write": log.append}
    reached = objects_reached(value)
    for obj in (value, shared, shared["cache"], data, cells, log):
        assert id(obj) in reached, obj
    assert all(type(obj) not in (int, float, str, tuple) for obj in reached.values())


def test_the_lists_and_dicts_inside_long_plain_data_are_reached_without_a_walk():
    rows = [{"id": i, "tags": ["a"]} for i in range(1_000)]
    first, tags = rows[0], rows[1]["tags"]  # held by names too
    reached = objects_reached({"rows": rows})
    assert id(rows) in reached and id(first) in reached and id(tags) in reached


def test_what_the_notebooks_functions_hold_is_reached_and_a_lock_is_refused():
    """Pickle writes a function by name, or refuses a lambda: what a call may change is
    in its defaults and what it closes over (``def record(e, sink=log)``)."""
    log: list[str] = []
    seen: list[str] = []

    def record(event: str, sink: list[str] = log) -> None:
        sink.append(event)
        seen.append(event)

    value = {"callbacks": [record, lambda x: seen.append(x)]}
    reached = objects_reached(value)
    assert id(log) in reached and id(seen) in reached
    with pytest.raises(UnhashableValue, match="lock"):
        objects_reached({"items": log, "lock": threading.Lock()})


def test_dtypes_and_missing_value_singletons_are_not_reached():
    """Every frame holds them: counted, any name holding one (a schema dict, a fill
    value) was taken for sharing what a cell changed."""
    frame = pd.DataFrame({"a": [1.5, None], "b": ["x", None]}).astype({"b": "string"})
    reached = objects_reached({"frame": frame, "fill": pd.NA, "when": pd.NaT})
    assert id(frame) in reached
    kept = {type(obj).__name__ for obj in reached.values()}
    assert not kept & {"StringDtype", "NAType", "NaTType", "Float64DType", "ObjectDType"}


def test_a_long_list_held_in_many_places_is_reached_once():
    lookup = list(range(1_000))
    records = [{"lookup": lookup, "id": i} for i in range(100)]
    reached = objects_reached(records)
    assert id(lookup) in reached and id(records[5]) in reached


def test_numpy_names_viewing_a_frames_memory_share_it_and_pandas_views_do_not():
    """A change to the frame reaches ``arr``, and a change to ``x`` reaches ``s``; a
    slice or a column of the frame is copied when either changes (Copy-on-Write)."""
    frame = pd.DataFrame({"a": [1.0, 2.0], "b": [3.0, 4.0]})
    x = np.arange(3.0)
    namespace = {
        "frame": frame,
        "arr": frame.values,
        "head": frame.iloc[:1],
        "column": frame["a"],
        "x": x,
        "s": pd.Series(x, copy=False),
        "other": np.arange(4.0),
    }
    assert sharing_names(namespace, objects_reached(frame)) == ["arr", "frame"]
    assert sharing_names(namespace, objects_reached(x)) == ["s", "x"]


def test_immutable_library_scalars_two_values_hold_are_no_sharing():
    """A model and the results appended to it hold one ``QuarterEnd`` and one
    ``np.True_``: neither changes in place, so the results share nothing with the model
    (statespace_forecasting cell 33 ran again on every hit); a structured array's record
    is a view, and counts."""
    offset = pd.tseries.offsets.QuarterEnd()
    records = np.zeros(2, dtype=[("x", "f8")])
    model = {"freq": offset, "missing": np.True_, "start": pd.Timestamp("2020-01-01")}
    namespace = {"model": model, "other": {"freq": offset, "flag": np.True_, "at": pd.NA}}
    assert sharing_names(namespace, objects_reached(model)) == ["model"]
    row = records[0]
    assert sharing_names({"records": records, "row": row}, objects_reached(records)) == [
        "records",
        "row",
    ]
