"""A value's digest apart from the objects a cell changed: what else a name sharing them
holds, which a hit checks before restoring the name as the run left it."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd

from hitnb.core.cells import reach_marks
from hitnb.hashing.apart import hash_apart


def _apart(value: object, *changed: object) -> str:
    return hash_apart(value, reach_marks({f"input{i}": v for i, v in enumerate(changed)}, {}))


def test_what_the_changed_values_reach_does_not_count_and_everything_else_does():
    opt = {"lr": 0.1, "decay": [0.9]}
    cfg = {"opt": opt, "decay": opt["decay"], "seed": 0}
    before = _apart(cfg, opt)
    opt["lr"] = 0.5
    opt["decay"].append(0.8)
    assert _apart(cfg, opt) == before, "the change is the cell's, which the key covers"
    cfg["seed"] = 1
    assert _apart(cfg, opt) != before, "an edit beside the shared object counts"


def test_which_input_sits_where_counts_and_not_where_a_run_put_new_objects():
    a, b = [1], [2]
    assert _apart({"x": a, "y": b}, a, b) != _apart({"x": b, "y": a}, a, b)
    assert _apart({"x": a}, a) != _apart({"x": a, "again": a}, a)
    assert _apart({"x": a, "y": a}, a, b) != _apart({"x": a, "y": b}, a, b)
    model = {"params": [0.5]}
    results = {"model": model}
    holder = {"model": model}
    before = _apart(holder, results)
    results["cache"] = {"resid": [1.0]}  # met first by a walk, before the model
    results["model"] = results.pop("model")
    assert _apart(holder, results) == before


def test_a_long_list_of_records_holding_a_changed_one_is_walked_to_find_it():
    rows = [{"id": i, "score": 0.0} for i in range(10_000)]
    first = rows[0]
    before = _apart(rows, first)
    first["score"] = 1.0
    assert _apart(rows, first) == before
    rows[5]["score"] = 2.0
    assert _apart(rows, first) != before


def test_a_long_list_holding_a_changed_object_below_its_items_is_walked():
    rows = [{"id": i, "tags": ["a"]} for i in range(10_000)]
    tags = rows[0]["tags"]
    before = _apart(rows, tags)
    tags.append("b")
    assert _apart(rows, tags) == before
    rows[5]["tags"].append("c")
    assert _apart(rows, tags) != before


def test_a_view_of_a_changed_array_counts_by_where_it_looks():
    data = np.arange(10.0)
    head = data[:3]
    before = _apart({"head": head}, data)
    data *= 2
    assert _apart({"head": head}, data) == before
    assert _apart({"head": data[:4]}, data) != before
    assert _apart({"head": data[1:4]}, data) != _apart({"head": data[:3]}, data)


def test_views_as_values_write_a_view_as_what_it_holds_as_a_copy_of_it_would_be():
    """Pickled, a view comes back holding its own memory: apart from the changed array it
    viewed, a copy holding what the view held then has the digest the view had as values."""
    data = np.arange(10.0)
    marks = reach_marks({"data": data}, {})
    as_view = hash_apart({"head": data[:3]}, marks)
    assert marks.viewed, "the view was written as a mark"
    values = marks.views_as_values()
    assert not values.viewed
    by_value = hash_apart({"head": data[:3]}, values)
    assert not values.viewed and by_value != as_view
    assert hash_apart({"head": data[:3].copy()}, values) == by_value
    assert hash_apart({"head": data[:3].copy()}, marks) != as_view
    assert hash_apart({"head": data[:3] * 2}, values) != by_value


def test_views_as_values_say_when_an_array_views_memory_outside_the_value():
    """A value equal to what a view held stands for its copy restored apart only when its
    memory is its own: not a changed array's (``head = data[3:]``), nor another name's."""
    data, other = np.arange(10.0), np.arange(10.0)
    marks = reach_marks({"data": data}, {})
    for value, outside in [
        ({"head": data[3:6]}, True),
        ({"head": other[:3]}, True),
        ({"head": other[:3].copy()}, False),
        ({"whole": other, "head": other[:3]}, False),
        ({"frame": pd.DataFrame(data.reshape(5, 2), copy=False)}, True),
    ]:
        values = marks.views_as_values()
        hash_apart(value, values)
        assert values.memory_outside() is outside, value


def test_a_view_is_found_by_memory_when_its_base_is_another_view_of_the_buffer():
    """Unpickled, a frame's block views a buffer that ``arr = df.values`` views too: the
    changed block is not ``arr``'s base, yet ``arr`` is its memory."""
    buffer = np.arange(8.0)
    block = buffer.reshape(2, 4)
    arr = buffer[4:]  # the second row of the block, through the buffer, not the block
    assert arr.base is buffer and arr.base is not block
    before = _apart(arr, block)
    block[1] = -1.0
    assert _apart(arr, block) == before
    assert _apart(buffer[3:7], block) != before  # another place


def test_a_frame_over_a_changed_array_counts_by_its_labels_not_the_array():
    m = np.arange(6.0).reshape(3, 2)
    frame = pd.DataFrame(m, columns=["a", "b"], copy=False)
    assert np.shares_memory(frame.to_numpy(), m)
    before = _apart(frame, m)
    m *= 10
    assert _apart(frame, m) == before
    frame.columns = ["a", "c"]
    assert _apart(frame, m) != before


def test_a_copy_is_not_the_changed_object():
    opt = {"lr": 0.1}
    copied = pickle.loads(pickle.dumps(opt))
    assert _apart({"opt": opt}, opt) != _apart({"opt": copied}, opt)
