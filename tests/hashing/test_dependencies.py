"""The dependency plan: what it follows, how it is memoized, how versions count."""

from __future__ import annotations

import functools
import inspect
import sys
import textwrap
import types

import pytest

from hitnb.hashing import analysis, code
from hitnb.hashing.dependencies import build_plan, fingerprint, plan_for


def define(source: str, namespace: dict | None = None, name: str = "f") -> types.FunctionType:
    """Define functions from source in a fresh module-like namespace, with real source lines."""
    namespace = {} if namespace is None else namespace
    filename = f"<hitnb-test-{abs(hash(source))}>"
    import linecache

    text = textwrap.dedent(source)
    linecache.cache[filename] = (len(text), None, text.splitlines(True), filename)
    namespace.setdefault("__name__", "__main__")
    exec(compile(text, filename, "exec"), namespace)
    return namespace[name]


def test_source_is_read_once_per_code_object(monkeypatch):
    f = define("def helper(x):\n    return x\n\ndef f(x):\n    return helper(x) + 1\n")
    reads = []
    real = analysis._definition_ast
    monkeypatch.setattr(
        analysis, "_definition_ast", lambda fn: reads.append(fn.__code__) or real(fn)
    )
    for _ in range(50):
        fingerprint(f)
    assert len(reads) == 2  # f and helper, once each
    f.__globals__["helper"] = define("def helper(x):\n    return x + 1\n", name="helper")
    fingerprint(f)
    assert len(reads) == 3  # the rebound helper is new code; f's analysis is reused
    assert reads[-1].co_name == "helper"


def test_plan_is_reused_until_a_name_it_uses_is_rebound():
    ns: dict = {}
    f = define("def g(x):\n    return x\n\ndef f(x):\n    return g(x) + LIMIT\n\nLIMIT = 1\n", ns)
    plan = plan_for(f, "minor", frozenset())
    assert plan_for(f, "minor", frozenset()) is plan
    ns["unrelated"] = 5
    assert plan_for(f, "minor", frozenset()) is plan
    ns["LIMIT"] = 2  # a value: rebinding it rebuilds the plan too, values are hashed anyway
    assert plan_for(f, "minor", frozenset()) is not plan


def test_a_builtin_shadowed_later_is_picked_up():
    ns: dict = {}
    f = define("def f(x):\n    return len(x)\n", ns)
    before = fingerprint(f)
    define("def len(x):\n    return 0\n", ns, name="len")
    assert fingerprint(f).digest != before.digest


def test_library_code_counts_by_version_not_source():
    import json

    f = define("import json\n\ndef f(x):\n    return json.dumps(x)\n")
    plan = build_plan(f, "minor")
    assert "package json" not in plan.code  # the standard library: Python's version counts
    np = pytest.importorskip("numpy")
    g = define("import numpy as np\n\ndef f(x):\n    return np.mean(x)\n")
    version = build_plan(g, "minor").code["package numpy"]
    assert version == ".".join(np.__version__.split(".")[:2])
    assert build_plan(g, "major").code["package numpy"] == np.__version__.split(".")[0]
    assert build_plan(g, "patch").code["package numpy"] == np.__version__
    assert json.dumps  # used


def test_every_installed_library_is_named_and_versioned_as_its_metadata_says():
    """The name and version read from the head of each distribution's metadata file are
    what importlib.metadata's full parse gives, for every distribution installed here."""
    from importlib import metadata

    checked = 0
    for dist in metadata.distributions():
        assert code._name_and_version(dist) == (dist.metadata["Name"], dist.version)
        checked += 1
    assert checked > 50


def test_a_metadata_header_spelled_unusually_is_read_by_the_full_parse(tmp_path):
    from importlib import metadata

    info = tmp_path / "odd_pkg-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: odd-pkg\nversion: 9.9\n")
    assert code._name_and_version(metadata.PathDistribution(info)) == ("odd-pkg", "9.9")


def test_fingerprint_cost_is_small_when_warm():
    import time

    f = define(
        "def a(x):\n    return x\n\ndef b(x):\n    return a(x)\n\n"
        "def f(x):\n    return b(x) + K\n\nK = 3\n"
    )
    fingerprint(f)
    start = time.perf_counter()
    for _ in range(1000):
        fingerprint(f)
    per_call = (time.perf_counter() - start) / 1000
    assert per_call < 200e-6  # generous bound for loaded CI machines; benchmarks report ~3 us


def test_cycles_through_values_terminate():
    ns: dict = {}
    f = define(
        "def f(x):\n    return TABLE['g'](x)\n\ndef g(x):\n    return TABLE and x\n\n"
        "TABLE = {'g': g}\n",
        ns,
    )
    assert len(fingerprint(f).digest) == 16


def test_partial_and_bound_method_are_followed():
    ns: dict = {}
    f = define(
        "import functools\n\ndef power(x, k):\n    return x ** k\n\n"
        "class Scaler:\n    def __init__(self, k):\n        self.k = k\n"
        "    def scale(self, x):\n        return x * self.k\n\n"
        "cube = functools.partial(power, k=3)\nscale = Scaler(2).scale\n\n"
        "def f(x):\n    return cube(x) + scale(x)\n",
        ns,
    )
    labels = set(fingerprint(f).deps)
    assert {"function __main__.power", "function __main__.Scaler.scale"} <= labels
    before = fingerprint(f).digest
    ns["scale"].__self__.k = 5  # the bound instance is a value
    assert fingerprint(f).digest != before
    assert isinstance(ns["cube"], functools.partial)


def test_user_module_detection(tmp_path, monkeypatch):
    (tmp_path / "mymod.py").write_text("def h():\n    return 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    import mymod

    assert code.is_user_code(mymod)
    assert code.is_user_code(mymod.h)
    assert not code.is_user_code(inspect)
    assert not code.is_user_code(pytest)
    del sys.modules["mymod"]


def test_a_user_module_counts_by_the_values_it_holds(tmp_path, monkeypatch):
    """Its import may read the world (a config file): two sessions importing the same
    source can hold different values. What cannot be hashed (a lock) counts by its type,
    and a module holding itself is no endless walk."""
    import threading

    (tmp_path / "settings_mod.py").write_text(
        "import threading, sys\nCONFIG = {'lr': 0.1}\nLOCK = threading.Lock()\n"
        "REFS = {'me': sys.modules[__name__]}\ndef scale(x, k=CONFIG['lr']):\n    return x * k\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    import settings_mod

    try:
        before = code.module_fingerprint(settings_mod)
        assert code.module_fingerprint(settings_mod) == before
        settings_mod.CONFIG["lr"] = 0.5
        assert code.module_fingerprint(settings_mod) != before
        settings_mod.CONFIG["lr"] = 0.1
        settings_mod.scale.__defaults__ = (0.5,)  # what the import evaluated
        assert code.module_fingerprint(settings_mod) != before
        settings_mod.scale.__defaults__ = (0.1,)
        settings_mod.LOCK = threading.RLock()  # unhashable either way: by its type
        assert code.module_fingerprint(settings_mod) != before
    finally:
        del sys.modules["settings_mod"]


def test_assigned_globals_are_not_inputs():
    f = define(
        "def f(x):\n    global N\n    N += 1\n    LOG.append(x)\n    CACHE[x] = 1\n"
        "    return x + LIMIT\n"
    )
    info = analysis.analyze(f)
    assert info.assigned == {"N"}
    assert {"LOG", "CACHE", "LIMIT"} <= set(info.reads), "in-place changes are measured"
    assert "LIMIT" in info.reads


def test_a_class_whose_instance_was_pickled_keeps_its_digest():
    """pickle caches ``__slotnames__`` in a class the first time it pickles an instance: a
    function reading a notebook class whose instance an earlier cell stored missed once in
    the next session ("input `make` changed"), found by the twelfth corpus."""
    import copy

    source = (
        "class Point:\n    def __init__(self, x):\n        self.x = x\n\n"
        "def make(x):\n    return Point(x)\n"
    )
    fresh = define(source, name="make")
    stored = define(source, name="make")
    copy.copy(stored.__globals__["Point"](1))  # reduces it as pickle does
    assert "__slotnames__" in vars(stored.__globals__["Point"])
    assert fingerprint(stored).digest == fingerprint(fresh).digest
