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


def test_a_value_pickle_refuses_is_walked_by_the_hasher():
    shared = [1, 2]
    value = {"items": shared, "key": lambda x: x}
    assert id(shared) in objects_reached(value)
    with pytest.raises(UnhashableValue, match="lock"):
        objects_reached({"items": shared, "lock": threading.Lock()})


def test_names_viewing_a_frames_memory_share_it():
    frame = pd.DataFrame({"a": [1.0, 2.0], "b": [3.0, 4.0]})
    x = np.arange(3.0)
    namespace = {
        "frame": frame,
        "arr": frame.values,
        "x": x,
        "s": pd.Series(x, copy=False),
        "other": np.arange(4.0),
    }
    assert sharing_names(namespace, objects_reached(frame)) == ["arr", "frame"]
    assert sharing_names(namespace, objects_reached(x)) == ["s", "x"]
