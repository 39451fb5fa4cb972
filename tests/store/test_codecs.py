"""Every built-in codec round-trips its values; user codecs plug in with their metadata."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, BinaryIO, ClassVar

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from hitnb.errors import CodecError
from hitnb.store.codecs import BlobData, Codec, register_codec, unregister_codec
from hitnb.store.local import LocalStore


@pytest.fixture
def store(tmp_path: Path) -> LocalStore:
    return LocalStore(tmp_path / "s")


def roundtrip(store: LocalStore, value: Any, **kw: Any) -> tuple[Any, str]:
    entry = store.put("0" * 32, value, function="t", code="c", args="a", duration=0.0)
    return store.load(store.get(entry.key), **kw), entry.codec


@pytest.mark.parametrize(
    "value, codec",
    [
        (b"\x00raw bytes", "bytes"),
        ("unicode \u2603 text", "str"),
        ({"nested": [1, 2.5, None, ("t",)]}, "pickle"),
        (lambda x: x + 1, "pickle"),  # by dill's pickle of the lambda alone
        ((lambda box: lambda x: x + box[0])([1]), "dill"),  # closes over a list: all by dill
    ],
)
def test_builtin_codecs(store, value, codec):
    back, used = roundtrip(store, value)
    assert used == codec
    if callable(value):
        assert back(1) == 2
    else:
        assert back == value


def test_numpy_array_as_npy_including_fortran_order(store):
    a = np.asfortranarray(np.random.default_rng(0).random((300, 200)))
    back, codec = roundtrip(store, a)
    assert codec == "npy"
    np.testing.assert_array_equal(back, a)
    assert back.dtype == a.dtype
    strided, _ = roundtrip(store, a[::3, ::2])
    np.testing.assert_array_equal(strided, a[::3, ::2])


def test_npy_blob_is_a_real_npy_file(store):
    a = np.arange(10_000, dtype=np.int32)
    entry = store.put("1" * 32, a, function="t", code="c", args="a", duration=0.0)
    assert entry.blob is not None
    np.testing.assert_array_equal(np.load(store.blobs.path(entry.blob)), a)


def test_mmap_loading(store):
    a = np.arange(1_000_000, dtype=np.float64)
    back, _ = roundtrip(store, a, mmap=True)
    assert not back.flags.writeable
    np.testing.assert_array_equal(back, a)
    arrays = {"w": np.ones((500, 500)), "b": np.zeros(100)}
    back, codec = roundtrip(store, arrays, mmap=True)
    assert codec == "pickle"
    np.testing.assert_array_equal(back["w"], arrays["w"])
    assert not back["w"].flags.writeable  # the out-of-band buffer is the memory map itself


class Kernel:
    """A library object keeping a lambda, as statsmodels' Tricube kernel does."""

    def __init__(self) -> None:
        self.shape = lambda x: (1 - abs(x) ** 3) ** 3


def line_of_a_local_class(slope):
    """As statsmodels' ``abline_plot`` makes its line: an instance of a class local to it."""

    class Line(list):
        def __init__(self, *points):
            super().__init__(points)

        def at(self, x):
            return x * slope

    return Line(1, 2)


def test_a_lambda_inside_a_value_leaves_the_rest_of_it_to_pickle(store):
    # One lambda used to send the whole value to dill, which pickles in Python (a figure
    # beside it: 107 ms against 9): now only the lambda is, inside pickle's stream.
    shared = list(range(1000))
    value = {
        "kernel": Kernel(),
        "rows": [shared, shared],
        "big": np.arange(100_000.0),
        "lines": [line_of_a_local_class(2.0), line_of_a_local_class(2.0)],
    }
    back, codec = roundtrip(store, value)
    assert codec == "pickle"
    assert back["kernel"].shape(0.5) == value["kernel"].shape(0.5)
    assert back["lines"][0] == [1, 2] and back["lines"][0].at(3) == 6.0
    assert back["rows"][0] is back["rows"][1] and back["rows"][0] == shared
    np.testing.assert_array_equal(back["big"], value["big"])


def test_pickle_keeps_large_buffers_out_of_band(store):
    big = np.arange(200_000, dtype=np.float64)
    entry = store.put(
        "2" * 32, {"a": big, "b": big[:10]}, function="t", code="c", args="a", duration=0.0
    )
    assert entry.codec == "pickle"
    assert entry.size < big.nbytes + 100_000  # buffers stored once each, no pickle overhead
    back = store.load(entry)
    np.testing.assert_array_equal(back["a"], big)


def test_arrays_of_one_value_viewing_each_other_come_back_viewing_each_other(store):
    """Pickle writes a view as an array of its own: loaded, a change through one name no
    longer reached the other. Views among a value's dicts, lists, tuples come back views,
    stored again as loaded too; arrays inside a pandas frame are left to pandas."""
    values = np.arange(10.0)
    value = {"values": values, "parts": [values[:3], values[1::2], values.reshape(2, 5)]}
    back, _ = roundtrip(store, value)
    twice = store.load(store.put("5" * 32, back, function="t", code="c", args="a", duration=0))
    for loaded in (back, twice):
        loaded["values"][1] = 99.0
        head, odd, grid = loaded["parts"]
        assert head[1] == odd[0] == grid[0, 1] == 99.0
    frame = pd.DataFrame({"a": np.arange(5.0)})
    kept = store.put("6" * 32, {"frame": frame, "a": frame["a"].to_numpy()}, function="t",
                     code="c", args="a", duration=0)  # fmt: skip
    loaded = store.load(kept)
    assert not np.shares_memory(loaded["a"], loaded["frame"]["a"].to_numpy())


def test_small_buffers_stay_in_the_pickle_stream(store):
    from hitnb.store.codecs import OUT_OF_BAND_BYTES, pickle_stream

    groups = [np.arange(i, i + 8, dtype=np.float64) for i in range(3000)]  # a model's groups
    small = store.put("3" * 32, groups, function="t", code="c", args="a", duration=0.0)
    assert pickle_stream(store.read_bytes(small).buffer) is not None  # no buffer after it
    back = store.load(small)
    assert all(np.array_equal(a, b) for a, b in zip(back, groups, strict=True))
    big = np.arange(OUT_OF_BAND_BYTES // 8, dtype=np.float64)
    both = store.put("4" * 32, [big, *groups], function="t", code="c", args="a", duration=0.0)
    assert pickle_stream(store.read_bytes(both).buffer) is None  # the big one after it
    assert np.array_equal(store.load(both)[0], big)


def test_dataframe_as_parquet(store):
    df = pd.DataFrame(
        {
            "i": [1, 2, 3],
            "s": ["a", None, "c"],
            "t": pd.date_range("2026-01-01", periods=3, tz="UTC"),
        },
        index=pd.Index([10, 20, 30], name="id"),
    )
    back, codec = roundtrip(store, df)
    assert codec == "parquet"
    pd.testing.assert_frame_equal(back, df)


def test_dataframe_parquet_cannot_take_falls_back_to_pickle(store):
    df = pd.DataFrame({"mixed": [1, "a", 2.5]})
    df.columns = [0]  # non-string column names are not Parquet
    back, codec = roundtrip(store, df)
    assert codec == "pickle"
    pd.testing.assert_frame_equal(back, df)


def test_plotly_figure_as_json(store):
    fig = go.Figure(go.Scatter(x=[1, 2, 3], y=[3, 1, 2], name="acc"))
    fig.update_layout(title="accuracy")
    back, codec = roundtrip(store, fig)
    assert codec == "plotly"
    assert isinstance(back, go.Figure)
    assert back.to_dict() == fig.to_dict()


class Vocab:
    def __init__(self, words: list[str]):
        self.words = words


class VocabCodec(Codec):
    """Stores a vocabulary as readable JSON, with metadata used when loading."""

    name = "vocab-json"
    types = (Vocab,)

    def save(self, value: Vocab, file: BinaryIO) -> dict[str, Any]:
        file.write(json.dumps(value.words).encode())
        return {"count": len(value.words)}

    def load(self, data: BlobData, meta: dict[str, Any]) -> Vocab:
        words = json.loads(bytes(data.buffer))
        assert len(words) == meta["count"]
        return Vocab(words)


def test_custom_codec_round_trip_with_metadata(store):
    register_codec(VocabCodec())
    try:
        entry = store.put(
            "3" * 32, Vocab(["a", "b"]), function="t", code="c", args="a", duration=0.0
        )
        assert entry.codec == "vocab-json"
        assert entry.codec_meta == {"count": 2}
        assert json.loads(store.read_bytes(entry).buffer) == ["a", "b"]
        assert store.load(store.get(entry.key)).words == ["a", "b"]
    finally:
        unregister_codec("vocab-json")
    with pytest.raises(CodecError, match="register_codec"):
        store.load(store.get(entry.key))


def test_codec_names_are_checked():
    class Nameless(Codec):
        pass

    with pytest.raises(CodecError, match="name"):
        register_codec(Nameless())

    class Clash(Codec):
        name = "pickle"

    with pytest.raises(CodecError, match="built in"):
        register_codec(Clash())


def test_references_are_written_by_name_and_loaded_as_the_values_given(store):
    from hitnb.store.codecs import Reference, references

    model = np.arange(5.0)
    other = np.arange(3.0)
    value = {"models": [model, model], "other": other}
    with references({id(model): "model"}, {}):
        entry = store.put("ab" * 16, value, function="f", code="c" * 32, args="a" * 32, duration=0)
    assert entry.size < 400, "the referenced array is not in the bytes"
    current = np.arange(5.0)
    with references({}, {"model": current}):
        loaded = store.load(store.get(entry.key))
    assert loaded["models"][0] is current and loaded["models"][1] is current
    assert loaded["other"] is not other and np.array_equal(loaded["other"], other)
    assert store.load(store.get(entry.key))["models"][0] == Reference("model")
    with references({}, {}), pytest.raises(CodecError, match="`model`, which is not defined"):
        store.load(store.get(entry.key))


def test_lists_dicts_and_sets_given_as_containers_are_referred_to_too(store):
    """Pickle writes them itself, without asking the codec: ``config = {"opt": defaults}``
    stored a copy of ``defaults``, and restored, ``config`` no longer saw its changes."""
    from hitnb.store.codecs import references

    defaults, layers, tags = {"lr": 0.1}, [1, 2], {"a"}
    value = {"opt": defaults, "again": [defaults, layers], "tags": tags, "n": 3}
    refer = {id(defaults): "defaults", id(layers): ("defaults", (("item", "layers"),))}
    refer[id(tags)] = "tags"
    containers = {id(defaults): defaults, id(layers): layers, id(tags): tags}
    with references(refer, {}, containers):
        entry = store.put("ab" * 16, value, function="f", code="c" * 32, args="a" * 32, duration=0)
    live = {"lr": 0.5, "layers": [7]}
    live_tags = {"b"}
    with references({}, {"defaults": live, "tags": live_tags}):
        loaded = store.load(store.get(entry.key))
    assert loaded["opt"] is live and loaded["again"][0] is live
    assert loaded["again"][1] is live["layers"] and loaded["tags"] is live_tags
    assert loaded["n"] == 3
    with references(refer, {}):  # not given as containers: pickled as before, copies
        entry = store.put("cd" * 16, value, function="f", code="c" * 32, args="a" * 32, duration=0)
    assert store.load(store.get(entry.key)) == value


def test_a_value_dill_takes_whole_refers_to_what_is_referred_to_too(store):
    """A closure over a list beside it sends the value to dill, which copied the lists
    and arrays the cell's inputs held: restored, ``cfg["f"]()`` no longer saw ``L``'s
    changes (a review's case, older than this change)."""
    from hitnb.store.codecs import Reference, references

    def make(x: object) -> object:
        return lambda: x

    L, model = [1], np.arange(3.0)
    value = {"L": L, "f": make(L), "model": model, "part": L}
    refer = {id(L): ("box", (("item", "L"),)), id(model): "model"}
    with references(refer, {}):  # type: ignore[arg-type]
        entry = store.put("ab" * 16, value, function="f", code="c" * 32, args="a" * 32, duration=0)
    assert entry.codec == "dill"
    live_L, live_model = [1, 2], np.arange(3.0)
    with references({}, {"box": {"L": live_L}, "model": live_model}):
        loaded = store.load(store.get(entry.key))
    assert loaded["L"] is live_L and loaded["f"]() is live_L and loaded["part"] is live_L
    assert loaded["model"] is live_model
    assert store.load(store.get(entry.key))["model"] == Reference("model")


def test_only_the_containers_a_value_holds_are_written_with_it(store):
    """Each is loaded with the value: a record of an int output loaded the thousands of
    parts of its cell's inputs on every hit, and one an input no longer held made it
    unloadable."""
    from hitnb.store.codecs import references

    held, other = {"lr": 0.1}, [[i] for i in range(2_000)]
    refer: dict[int, object] = {id(held): "held", id(other): "other"}
    refer.update({id(row): ("other", (("item", i),)) for i, row in enumerate(other)})
    containers = {id(held): held, id(other): other, **{id(row): row for row in other}}
    with references(refer, {}, containers):  # type: ignore[arg-type]
        entry = store.put("ab" * 16, {"opt": held, "n": 1}, function="f", code="c" * 32,
                          args="a" * 32, duration=0)  # fmt: skip
    assert entry.size < 1_000
    with references({}, {"held": {"lr": 0.5}}):  # `other` not given: not needed
        assert store.load(store.get(entry.key)) == {"opt": {"lr": 0.5}, "n": 1}


class _SeesCollector:
    """Records whether cyclic garbage collection was on while it was unpickled."""

    def __init__(self):
        self.collecting = None

    def __setstate__(self, state):
        import gc

        self.collecting = gc.isenabled()


def test_loading_pauses_garbage_collection_and_puts_it_back(store):
    import gc

    value = [_SeesCollector(), [f"row {i}" for i in range(20_000)]]  # a big pickle stream
    entry = store.put("ab" * 16, value, function="f", code="c", args="a", duration=0)
    assert gc.isenabled()
    loaded = store.load(store.get(entry.key))
    assert loaded[0].collecting is False, "no collection while objects are being made"
    assert gc.isenabled(), "and collection is back on after"
    gc.disable()
    try:
        store.load(store.get(entry.key))
        assert not gc.isenabled(), "a caller's own choice stays as it was"
    finally:
        gc.enable()


class _SeesCollectorWhenPickled:
    """Records whether cyclic garbage collection was on while it was pickled."""

    seen: ClassVar[list[bool]] = []

    def __reduce__(self):
        import gc

        self.seen.append(gc.isenabled())
        return (_SeesCollectorWhenPickled, ())


def test_storing_pauses_garbage_collection_and_puts_it_back(store):
    # Pickling a figure with thousands of artists set off a full collection of the whole
    # kernel (155 ms to store what took 22 ms with collections paused).
    import gc

    _SeesCollectorWhenPickled.seen.clear()
    store.put(
        "cd" * 16, [_SeesCollectorWhenPickled()], function="f", code="c", args="a", duration=0
    )
    assert _SeesCollectorWhenPickled.seen == [False], "no collection while pickling"
    assert gc.isenabled(), "and collection is back on after"


class Link:
    """One link of a chain, as mesa's agents hold their model and one another."""

    def __init__(self, value: int, after: Link | None) -> None:
        self.value, self.after = value, after


def test_a_value_nested_past_the_recursion_limit_is_stored_and_loaded(store):
    chain = None
    for i in range(20_000):
        chain = Link(i, chain)
    back, codec = roundtrip(store, {"chain": chain, "model": Kernel()})
    assert codec == "pickle"
    length, link = 0, back["chain"]
    while link is not None:
        length, link = length + 1, link.after
    assert length == 20_000 and back["chain"].value == 19_999


class LooksUpItself:
    """Pickles, but its ``__getattr__`` reads an attribute unpickling has not set yet, which
    calls ``__getattr__`` again: scikit-image's ``FailedEstimation`` does this."""

    lookups = 0

    def __init__(self) -> None:
        self.message = "failed"

    def __getattr__(self, name: str) -> Any:
        type(self).lookups += 1
        return getattr(self.message, name)


def test_a_value_whose_load_recurses_without_end_fails_at_the_recursion_limit(store):
    """Unpickling does not recurse by nesting (the 20,000-link chain above loads on this
    stack), so a load past the limit is no deep value: it is not tried again on a stack
    250 times deeper, which took 1.8 s to fail in a scikit-image example."""
    import sys

    entry = store.put("1" * 32, LooksUpItself(), function="t", code="c", args="a", duration=0)
    LooksUpItself.lookups = 0
    with pytest.raises(CodecError, match="recursion"):
        store.load(store.get(entry.key))
    assert 0 < LooksUpItself.lookups < 2 * sys.getrecursionlimit()
