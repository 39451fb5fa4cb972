"""@memo and @experiment as a user meets them."""

from __future__ import annotations

import os
import random
import threading
import time
import warnings

import numpy as np
import pandas as pd
import pytest

import hitnb
from hitnb import memo
from hitnb.core import memo as memo_module
from hitnb.core import recipe as recipe_module
from hitnb.errors import (
    ConfigError,
    CorruptEntryWarning,
    StoreWriteWarning,
    UnhashableArgumentError,
    UnknownKeyError,
)
from hitnb.hashing.values import hash_value
from hitnb.store.local import open_store


def test_hit_returns_stored_value_without_calling(counter):
    calls = counter()

    @memo
    def load(path, n=10):
        calls.hit("load")
        return {"path": path, "rows": list(range(n))}

    first = load("a.csv")
    assert load("a.csv") == first
    assert load("a.csv", n=10) == first  # defaults are applied before hashing
    assert load(path="a.csv") == first
    assert calls["load"] == 1
    load("a.csv", 3)
    assert calls["load"] == 2


def test_results_persist_across_processes(run_python):
    program = """
        from hitnb import memo
        @memo
        def slow(x):
            print("computing", x)
            return {"x": x, "sq": x * x}
        print(slow(7))
    """
    first = run_python(program)
    second = run_python(program)
    assert first == "computing 7\n{'x': 7, 'sq': 49}\n"
    assert second == "{'x': 7, 'sq': 49}\n"


def test_the_command_line_is_an_input_of_functions_that_read_it(run_python):
    """A script run again with other arguments: a function reading ``sys.argv``, or calling
    ``parse_args()``, hit with the first run's result. One reading neither still hits."""
    program = """
        import argparse, sys
        from hitnb import memo
        sys.argv[1:] = {argv!r}
        parser = argparse.ArgumentParser()
        parser.add_argument("--n", type=int)
        @memo
        def named():
            return sys.argv[2]
        @memo
        def parsed():
            return parser.parse_args().n * 10
        @memo
        def unrelated():
            print("unrelated ran")
            return 1
        print(named(), parsed(), unrelated())
    """
    first = run_python(program.format(argv=["--n", "1"]))
    second = run_python(program.format(argv=["--n", "2"]))
    assert first == "unrelated ran\n1 10 1\n"
    assert second == "2 20 1\n"


def test_exceptions_propagate_and_store_nothing(counter):
    calls = counter()

    @memo
    def flaky(x):
        calls.hit("f")
        if calls["f"] == 1:
            raise ValueError("first call fails")
        return x

    with pytest.raises(ValueError, match="first call fails"):
        flaky(1)
    assert not flaky.is_cached(1)
    assert flaky(1) == 1
    assert flaky.is_cached(1)


def test_is_cached_recompute_clear_runs_load(counter):
    calls = counter()

    @memo
    def f(x):
        calls.hit("f")
        return x * 2

    assert not f.is_cached(2)
    f(2)
    f(3)
    assert f.is_cached(2) and calls["f"] == 2
    assert f.recompute(2) == 4 and calls["f"] == 3
    runs = f.runs()
    assert [r.arguments for r in runs] == [{"x": 2}, {"x": 3}]  # newest (the recompute) first
    assert runs[0].value == 4
    assert hitnb.load(runs[1].key) == 6
    assert runs[0].duration >= 0 and not runs[0].experiment
    assert f.clear() == 2
    assert f.runs() == [] and not f.is_cached(2)
    with pytest.raises(UnknownKeyError, match="no entry with key"):
        hitnb.load(runs[0].key)


@pytest.mark.parametrize("how", ["context", "function", "call", "configure", "env"])
@pytest.mark.parametrize("mode", ["off", "recompute", "read-only"])
def test_cache_modes(how, mode, counter, monkeypatch):
    calls = counter()
    options = {"mode": mode} if how == "function" else {}

    @memo(**options)
    def f(x):
        calls.hit("f")
        return x + 1

    @memo
    def seed_store(x):  # the same function identity, stored in the default mode
        return x + 1

    def call(x):
        if how == "context":
            with hitnb.mode(mode):
                return f(x)
        if how == "call":
            return f.with_mode(mode)(x)
        return f(x)

    f.with_mode("on")(1)  # 1 is stored under mode "on"
    assert calls["f"] == 1
    if how == "configure":
        hitnb.configure(mode=mode)
    if how == "env":
        monkeypatch.setenv("HITNB_MODE", mode)
    # a stored argument
    assert call(1) == 2
    expected_after_stored = {"off": 2, "recompute": 2, "read-only": 1}[mode]
    assert calls["f"] == expected_after_stored
    # a new argument: computed in every mode, stored only by "recompute"
    assert call(5) == 6
    assert f.with_mode("on").__call__ is not None
    stored = f.is_cached(5)
    assert stored == (mode == "recompute")


def test_mode_precedence(counter):
    calls = counter()

    @memo(mode="off")
    def f(x):
        calls.hit("f")
        return x

    f(1)
    f(1)
    assert calls["f"] == 2  # per-function "off"
    with hitnb.mode("on"):
        f(1)
        f(1)
    assert calls["f"] == 3  # the context overrides the function
    with hitnb.mode("off"):
        f.with_mode("on")(1)
    assert calls["f"] == 3  # the call overrides the context: a hit


def test_bad_mode_names_the_choices():
    with pytest.raises(ConfigError, match="'on', 'off', 'recompute', 'read-only'"):
        hitnb.mode("sometimes").__enter__()
    with pytest.raises(ConfigError, match="unknown cache mode"):
        memo(mode="nope")(lambda: 1)


def test_ignore_leaves_arguments_out_of_the_key(counter):
    calls = counter()

    @memo(ignore=("verbose", "n_jobs"))
    def clean(df, threshold=0.5, verbose=False, n_jobs=1):
        calls.hit("clean")
        return df[df["v"] > threshold]

    df = pd.DataFrame({"v": [0.1, 0.7, 0.9]})
    a = clean(df, 0.5)
    b = clean(df, 0.5, verbose=True, n_jobs=4)
    pd.testing.assert_frame_equal(a, b)
    assert calls["clean"] == 1
    assert "verbose" not in clean.runs()[0].arguments
    clean(df, 0.8)
    assert calls["clean"] == 2


def test_ignore_of_unknown_parameter_is_an_error():
    with pytest.raises(ConfigError, match=r"neither takes nor reads.*\['x'\]"):

        @memo(ignore=("verbose",))
        def f(x):
            return x


def test_version_bump_recomputes(counter):
    calls = counter()

    def make(version):
        @memo(version=version)
        def f(x):
            calls.hit("f")
            return x

        return f

    make("1")(1)
    make("1")(1)
    assert calls["f"] == 1
    make("2")(1)
    assert calls["f"] == 2
    make("1")(1)
    assert calls["f"] == 2  # the old version's result is still there


def test_seed_makes_random_functions_reproducible_and_is_keyed(counter):
    calls = counter()

    @memo(seed=True)
    def noisy(n):
        calls.hit("noisy")
        return [random.random() for _ in range(n)], np.random.rand(n).tolist()

    random.seed(123)
    before = random.random()
    random.seed(123)
    a = noisy(3)
    assert random.random() == before  # the caller's random stream is restored
    b = noisy.recompute(3)
    assert a == b  # seed 0 by default: same numbers every time
    c = noisy(3, seed=1)
    assert c != a and calls["noisy"] == 3
    assert noisy(3, seed=1) == c and calls["noisy"] == 3
    assert noisy.runs()[0].arguments["seed"] in ("1", 1)


def test_seed_can_be_the_functions_own_parameter(counter):
    calls = counter()

    @memo(seed="rng_seed")
    def sample(n, rng_seed=7):
        calls.hit("s")
        return np.random.rand(n).tolist()

    assert sample(2) == sample(2, rng_seed=7)
    assert calls["s"] == 1
    assert sample(2, rng_seed=8) != sample(2)
    np.random.seed(7)
    assert sample(2) == np.random.rand(2).tolist()


def test_seed_must_be_an_int():
    @memo(seed=True)
    def f():
        return 1

    with pytest.raises(TypeError, match="seed must be an int"):
        f(seed="abc")


def test_a_wrapper_taking_star_args_under_memo_gets_the_arguments_by_position():
    """``@memo`` over a ``functools.wraps`` decorator whose wrapper takes ``*args``: the
    signature read is the wrapped function's, and the wrapper was called with every
    argument by keyword, its ``args`` empty (plain [2, 4], memoized [1, 2, 1, 2])."""
    import functools

    def as_arrays(fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            return fn(*[np.asarray(a) for a in args], **kwargs)

        return wrapper

    @memo
    @as_arrays
    def double(x, scale=1):
        return (x * 2 * scale).tolist()

    assert double([1, 2]) == [2, 4]
    assert double([1, 2], scale=3) == [6, 12]


def test_a_wrapper_taking_keywords_only_under_memo_gets_them_by_keyword():
    """The other way round: a wrapper of ``**params`` only, called by position, raised
    TypeError; and an instance whose class has a method reading a lock (unhashable) keys
    by the class's code, instead of refusing the call."""
    import functools

    def logged(fn):
        @functools.wraps(fn)
        def wrapper(**params):
            return fn(**params)

        return wrapper

    class Model:
        lock = threading.Lock()

        def log(self):
            with LOCK_FOR_TESTS:
                return 1

        def predict(self, x):
            return x * 2

    @memo
    @logged
    def scaled(x, k=2):
        return x * k

    @memo
    def predicted(model, x):
        return model.predict(x)

    assert scaled(x=3) == 6
    assert predicted(Model(), 4) == 8


LOCK_FOR_TESTS = threading.Lock()


def test_unhashable_argument_names_the_argument_and_the_fix():
    @memo
    def consume(data, log=None):
        return sum(data)

    with pytest.raises(UnhashableArgumentError) as info:
        consume(x for x in range(3))
    message = str(info.value)
    assert "argument 'data'" in message and "generator" in message
    assert "ignore=('data',)" in message
    with pytest.raises(UnhashableArgumentError, match=r"argument 'log'.* at log\['lock'\]"):
        consume([1], log={"lock": threading.Lock()})


STOPWORDS = {"the"}


class _Tokenizer:
    def tokenize(self, text: str) -> list[str]:
        return [word for word in text.split() if word not in STOPWORDS]


TOKENIZER = _Tokenizer()


def test_what_the_methods_of_an_instance_read_is_part_of_the_key():
    """``tok.tokenize`` reads ``STOPWORDS``: an instance hashes by its state and its class's
    source, so with the stop words edited, a call through a global instance, or with one
    as its argument, hit with the old tokens."""
    global STOPWORDS

    @memo
    def through_global(docs):
        return [TOKENIZER.tokenize(d) for d in docs]

    @memo
    def through_argument(tok, docs):
        return [tok.tokenize(d) for d in docs]

    docs = ["the cat", "a dog"]
    assert through_global(docs) == through_argument(_Tokenizer(), docs) == [["cat"], ["a", "dog"]]
    STOPWORDS = {"the", "a"}
    try:
        assert through_global(docs) == through_argument(_Tokenizer(), docs) == [["cat"], ["dog"]]
    finally:
        STOPWORDS = {"the"}


ACCESSOR_SCALE = 1


@pd.api.extensions.register_dataframe_accessor("hitnb_test_feat")
class _Feat:
    def __init__(self, frame):
        self._frame = frame

    def total(self):
        return float(self._frame.sum().sum()) * ACCESSOR_SCALE


def test_what_a_pandas_accessor_of_the_users_runs_is_part_of_the_key():
    """``df.feat.total()`` runs the accessor's code, which no name of the function reaches:
    with it edited (here, a global it reads), the call hit with the old total."""
    global ACCESSOR_SCALE

    @memo
    def total(frame):
        return frame.hitnb_test_feat.total()

    frame = pd.DataFrame({"a": [1.0, 2.0]})
    assert total(frame) == 3.0
    ACCESSOR_SCALE = 2
    try:
        assert total(frame) == 6.0
    finally:
        ACCESSOR_SCALE = 1


SIMULATION = {"rng": np.random.default_rng(0)}
BATCHES = iter(range(10))


def test_a_call_drawing_from_a_stream_inside_a_global_is_run_every_time():
    """A generator in a global dict (or an iterator) that the function draws from was
    learned as state it writes and left out of the key: a second call hit with the first
    call's draws, where a plain call draws new ones."""

    @memo
    def draw(k):
        return float(SIMULATION["rng"].normal()) * k

    @memo
    def next_batch():
        return next(BATCHES)

    with pytest.warns(StoreWriteWarning, match="drew from `.*SIMULATION`"):
        first, second = draw(1), draw(1)
    assert first != second
    with pytest.warns(StoreWriteWarning, match="drew from `.*BATCHES`"):
        assert [next_batch(), next_batch()] == [0, 1]


FEATURES = pd.DataFrame({"a": [1, 2]})


def test_a_call_adding_a_column_to_a_global_frame_is_not_cached():
    """The column added in place was learned as state the function writes: in a new
    process the call hit, and the frame was left without it."""

    @memo
    def add_features():
        FEATURES["a2"] = FEATURES["a"] * 2
        return list(FEATURES.columns)

    with pytest.warns(StoreWriteWarning, match="changed `.*FEATURES` in place"):
        assert add_features() == ["a", "a2"]
    del FEATURES["a2"]
    with pytest.warns(StoreWriteWarning):
        assert add_features() == ["a", "a2"]
    assert list(FEATURES.columns) == ["a", "a2"]
    del FEATURES["a2"]


SPLIT_TRAIN = [1, 2, 3]


def test_a_function_reading_names_through_globals_or_eval_is_refused_by_name():
    """``globals()[f"SPLIT_{split}"]`` reads a global no name in the code shows, so the key
    would not change when it does: such a function is refused, saying how to opt out."""

    @memo
    def size(split):
        return len(globals()[f"SPLIT_{split}"])

    @memo
    def evaluated(expression):
        return eval(expression)

    with pytest.raises(UnhashableArgumentError, match=r"size\(\) cannot be keyed: .*`globals"):
        size("TRAIN")
    with pytest.raises(UnhashableArgumentError, match=r"ignore=\('eval',\)"):
        evaluated("SPLIT_TRAIN")

    @memo(ignore=("globals",))
    def opted_out(split):
        return len(globals()[f"SPLIT_{split}"])

    assert opted_out("TRAIN") == 3


def test_unpicklable_result_is_returned_with_a_warning(counter):
    calls = counter()

    @memo
    def opens():
        calls.hit("o")
        return (i for i in range(3))  # neither pickle nor dill can store a generator

    with pytest.warns(StoreWriteWarning, match="not stored.*generator"):
        gen = opens()
    assert list(gen) == [0, 1, 2]
    with pytest.warns(StoreWriteWarning):
        opens()
    assert calls["o"] == 2
    assert not opens.is_cached()


def test_corrupt_blob_is_detected_and_recomputed(counter, isolated_store):
    calls = counter()

    @memo
    def big(n):
        calls.hit("big")
        return np.arange(n, dtype=np.float64)

    expected = big(100_000)
    entry = hitnb.runs(big)[0]
    blob_path = next((isolated_store / "objects").glob("*/*"))
    data = bytearray(blob_path.read_bytes())
    data[-5] ^= 0xFF
    blob_path.write_bytes(data)
    with pytest.warns(CorruptEntryWarning, match="corrupt"):
        again = big(100_000)
    np.testing.assert_array_equal(again, expected)
    assert calls["big"] == 2
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_array_equal(big(100_000), expected)  # repaired: a clean hit
    assert calls["big"] == 2
    assert entry.key == big.key(100_000)


def _revive(log: str) -> Revived:
    with open(log, "a") as fh:
        fh.write("load\n")
    if os.path.exists(log + ".broken"):
        raise RuntimeError("this process cannot rebuild it")
    return Revived(log)


class Revived:
    """A value that logs each load and fails to load once ``<log>.broken`` exists."""

    def __init__(self, log: str) -> None:
        self.log = log

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return _revive, (self.log,)


def test_a_stored_result_that_cannot_be_loaded_is_loaded_once_said_once_and_recomputed(
    counter, tmp_path
):
    calls = counter()
    log = tmp_path / "loads.log"

    @memo
    def make(path):
        calls.hit("make")
        time.sleep(0.05)  # worth storing rather than running again
        return Revived(path)

    make(str(log))
    log.write_text("")
    (tmp_path / "loads.log.broken").touch()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        again = memo(make.__wrapped__)(str(log))  # a new wrapper: no copy kept in memory
    assert again.log == str(log) and calls["make"] == 2
    notes = [str(w.message) for w in caught if issubclass(w.category, CorruptEntryWarning)]
    assert len(notes) == 1 and "cannot be loaded in this process" in notes[0], notes
    assert log.read_text().split() == ["load"], "loaded once, not again under the lock"


def test_lazy_results_load_on_first_use(counter):
    calls = counter()

    @memo(lazy=True)
    def table(n):
        calls.hit("t")
        return pd.DataFrame({"x": range(n)})

    handle = table(5)
    assert handle.loaded and len(handle.value) == 5  # a miss has the value at hand
    again = table(5)
    assert calls["t"] == 1
    assert not again.loaded
    assert again.value["x"].sum() == 10
    assert again.loaded and again.key == handle.key


def test_mmap_results_are_read_only_maps(counter):
    @memo(mmap=True)
    def grid(n):
        return np.ones((n, n))

    first = grid(300)
    assert first.flags.writeable  # the computed value is the caller's own
    second = grid(300)
    assert not second.flags.writeable
    assert isinstance(second.base, (memoryview, np.ndarray)) or second.base is not None
    np.testing.assert_array_equal(first, second)


def test_experiment_is_memo_with_the_flag(counter):
    calls = counter()

    @hitnb.experiment
    def train(lr, batch_size):
        calls.hit("train")
        return {"acc": 1 - lr}

    @hitnb.experiment(version="b")
    def train2(lr):
        return lr

    train(0.1, 32)
    train(0.1, 32)
    train2(0.5)
    assert calls["train"] == 1
    run = train.runs()[0]
    assert run.experiment and run.arguments == {"lr": 0.1, "batch_size": 32}
    assert [r.function for r in hitnb.runs(experiments_only=True)] == [
        train2.identity,
        train.identity,
    ]
    assert repr(train).startswith("<hitnb experiment")


def test_methods_can_be_memoized(counter):
    calls = counter()

    class Model:
        def __init__(self, depth):
            self.depth = depth

        @memo
        def predict(self, x):
            calls.hit("p")
            return x * self.depth

    assert Model(2).predict(3) == 6
    assert Model(2).predict(3) == 6
    assert calls["p"] == 1
    assert Model(3).predict(3) == 9  # the instance's state is part of the key
    assert calls["p"] == 2


def test_configure_store_moves_results(tmp_path, counter):
    calls = counter()

    @memo
    def f(x):
        calls.hit("f")
        return x

    f(1)
    hitnb.configure(store=tmp_path / "other")
    f(1)
    assert calls["f"] == 2
    assert (tmp_path / "other" / "index.sqlite").exists()


def test_per_function_store(tmp_path):
    @memo(store=tmp_path / "private")
    def f(x):
        return x

    f(1)
    assert len(hitnb.runs(store=tmp_path / "private")) == 1
    assert hitnb.runs() == []


def test_keys_do_not_depend_on_the_order_named_parameters_are_passed_in():
    @memo
    def f(a, b, *args, c=1, **kw):
        return (a, b, args, c, kw)

    assert (
        f.key(1, 2, c=3, z=1, y=2) == f.key(1, b=2, c=3, z=1, y=2) == f.key(c=3, b=2, a=1, z=1, y=2)
    )
    assert f.key(1, 2, 3) != f.key(1, 2)
    assert f(1, 2, 3, c=4, q=5) == (1, 2, (3,), 4, {"q": 5})


def test_extra_keywords_count_in_their_order():
    """``**columns`` keeps the order keywords were passed in, and so does what the function
    builds from it: a frame made from ``b=..., a=...`` has its columns in that order."""

    @memo
    def frame(**columns):
        return list(columns)

    assert frame(b=1, a=2) == ["b", "a"]
    assert frame(a=2, b=1) == ["a", "b"]


def test_decorating_a_non_function_is_a_clear_error():
    with pytest.raises(TypeError, match="decorates functions"):
        memo(42)


def test_disk_full_returns_the_result_and_leaves_nothing_behind(
    counter, isolated_store, monkeypatch
):
    import errno

    from hitnb.store.blobs import BlobWriter

    calls = counter()
    real_write = BlobWriter.write

    def write_until_full(self, data):
        if self.size + memoryview(data).nbytes > 100_000:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(self, data)

    @memo
    def big(n):
        calls.hit("big")
        return np.ones(n)

    monkeypatch.setattr(BlobWriter, "write", write_until_full)
    with pytest.warns(StoreWriteWarning, match="No space left on device"):
        value = big(50_000)
    assert value.sum() == 50_000
    assert list((isolated_store / "tmp").glob("*")) == []
    assert not big.is_cached(50_000)
    monkeypatch.setattr(BlobWriter, "write", real_write)  # space is back
    big(50_000)
    big(50_000)
    assert calls["big"] == 2


def test_repeat_hits_in_one_process_stay_exact(counter, monkeypatch):
    calls = counter()

    @memo
    def describe(x):
        calls.hit("d")
        return [type(x).__name__, repr(x)]

    for _ in range(3):  # the second and third rounds are repeat hits
        assert describe(1) == ["int", "1"]
        assert describe(True) == ["bool", "True"]
        assert describe(1.0) == ["float", "1.0"]
        assert describe(0.0) == ["float", "0.0"]
        assert describe(-0.0) == ["float", "-0.0"]
        assert describe("1") == ["str", "'1'"]
    assert calls["d"] == 6
    first = describe(1)
    first.append("mutated")
    assert describe(1) == ["int", "1"]  # every hit is a fresh copy


def test_repeat_hits_notice_globals_modes_stores_and_clears(counter, tmp_path):
    calls = counter()
    namespace = {"memo": memo, "calls": calls, "LIMIT": 1}
    exec(
        "@memo(ignore=('calls',))\ndef capped(x):\n    calls.hit('c')\n    return min(x, LIMIT)",
        namespace,
    )
    capped = namespace["capped"]
    assert capped(5) == 1 and capped(5) == 1 and calls["c"] == 1
    namespace["LIMIT"] = 3  # a global the function reads
    assert capped(5) == 3 and calls["c"] == 2
    with hitnb.mode("recompute"):
        capped(5)
    assert calls["c"] == 3
    hitnb.configure(store=tmp_path / "elsewhere")
    capped(5)
    assert calls["c"] == 4
    capped.clear()
    capped(5)
    assert calls["c"] == 5


def test_defaults_patched_in_place_are_used_and_keyed(counter):
    """``%autoreload`` and other patching replace ``__defaults__`` on the same function."""
    calls = counter()

    @memo
    def shift(x, k=1):
        calls.hit("shift")
        return x + k

    assert shift(2) == 3
    shift.function.__defaults__ = (5,)
    assert shift(2) == 7, "the new default is the one a plain call uses"
    assert shift(2) == 7 and calls["shift"] == 2
    shift.function.__defaults__ = (1,)
    assert shift(2) == 3 and calls["shift"] == 2, "the first default's result is still stored"


def test_a_library_object_inside_a_result_comes_back_as_the_librarys_own(counter):
    """``scipy.stats.norm`` holds the global random state and counts by its name; a result
    holding it comes back holding scipy's object itself, not a copy (which would hash by
    its state, as another key)."""
    from scipy.stats import norm

    calls = counter()

    def model(scale):
        calls.hit("model")
        return {"dist": norm, "scale": scale}

    first = memo(model)(2.0)
    again = memo(model)(2.0)  # another wrapper of the same function: read from the store
    assert calls["model"] == 1
    assert again["dist"] is norm
    assert again == first


class _Model:
    """A fitted model, as far as hashing goes: an object hashed by walking its state."""

    def __init__(self, weights: list[int]) -> None:
        self.weights = weights


def test_a_miss_hashes_an_argument_for_its_key_and_its_recipe_keeps_it_by_that_digest(
    isolated_store, monkeypatch
):
    hashed = []

    def counting(value):
        if isinstance(value, _Model):
            hashed.append(1)
        return hash_value(value)

    monkeypatch.setattr(memo_module, "hash_value", counting)
    monkeypatch.setattr(recipe_module, "hash_value", counting)

    @memo
    def score(model):
        return sum(model.weights)

    model = _Model(list(range(1000)))
    assert score(model) == sum(range(1000))
    # for the key, and after the run to see that the call did not change it; a big model
    # is not hashed a third time for the recipe, which keeps it under the key's digest
    assert len(hashed) == 2
    digest = hash_value(model)  # the value's own (the key's also covers its class's code)
    store = open_store(hitnb.config.store_path())
    assert store.recipe(score.key(model))["arguments"]["model"]["key"] == digest
    assert store.load(store.get(digest)).weights == model.weights


CONFIG = {"lr": 0.1}


def test_a_call_returning_its_input_itself_gives_that_input_on_a_hit(counter):
    """``dedupe(df)`` returns ``df`` when there is nothing to drop: plainly, the caller's
    change of the result is a change of ``df``. A hit gave a copy from the store, which
    ``df`` did not see (red team 2, f18); it gives ``df`` itself now, and a global the
    function returns (``settings()``) likewise."""
    calls, settings_calls = counter(), counter()  # (one each: a counter is state)

    @memo
    def dedupe(d):
        calls.hit("dedupe")
        return d if not d.duplicated().any() else d.drop_duplicates()

    @memo
    def settings():
        settings_calls.hit("settings")
        return CONFIG

    df = pd.DataFrame({"a": [1, 2, 3]})
    for _ in range(3):
        out = dedupe(df)
        out["flag"] = 1  # the same value again: it was there already
        assert out is df
        assert settings() is CONFIG
    assert list(df.columns) == ["a", "flag"]
    assert (calls["dedupe"], settings_calls["settings"]) == (2, 1), "df changed once; then hits"
    assert hitnb.load(settings.key()) == CONFIG, "loaded by its key: the value as stored"
    assert [run.value for run in settings.runs()] == [CONFIG]
