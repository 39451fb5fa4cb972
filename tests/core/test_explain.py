"""Why a call misses, in words a user recognizes."""

from __future__ import annotations

import sys

import numpy as np
import pytest

import hitnb
from hitnb import memo
from hitnb.errors import ConfigError, UnhashableArgumentError

THRESHOLD = 0.5


def clean(v):
    return v * 2


@memo
def train(lr, data=(1, 2)):
    return clean(lr) > THRESHOLD


def test_first_call_and_hit():
    assert str(train.explain(0.1)) == "test_explain.train: no stored call to compare with"
    train(0.1)
    explanation = train.explain(0.1)
    assert explanation.cached
    assert "hit" in str(explanation)


def test_argument_change_names_old_and_new_values():
    train(0.1)
    explanation = train.explain(0.2)
    assert not explanation.cached
    assert explanation.reasons == ["argument `lr` changed 0.1 -> 0.2"]


def test_global_change_names_old_and_new_values(monkeypatch):
    train(0.1)
    monkeypatch.setitem(globals(), "THRESHOLD", 0.7)
    assert train.explain(0.1).reasons == ["global `test_explain.THRESHOLD` changed 0.5 -> 0.7"]


def test_helper_change_is_named(monkeypatch):
    train(0.1)
    monkeypatch.setitem(globals(), "clean", lambda v: v * 3)
    reasons = train.explain(0.1).reasons
    assert reasons == [
        "no longer uses helper `test_explain.clean`",
        "now uses helper `test_explain.test_helper_change_is_named.<locals>.<lambda>`",
    ]


def test_python_and_package_versions_are_explained(monkeypatch):
    import hitnb.core.memo as memo_module

    @memo
    def mean(x):
        return float(np.mean(x))

    mean([1.0, 2.0])
    monkeypatch.setattr(memo_module, "PYTHON", "3.99")

    @memo
    def mean(x):
        return float(np.mean(x))

    real = f"{sys.version_info.major}.{sys.version_info.minor}"
    assert mean.explain([1.0, 2.0]).reasons == [f"Python {real} -> 3.99"]


def test_unhashable_global_names_the_global_and_the_fix():
    import threading

    lock = threading.Lock()

    @memo
    def guarded(x):
        with lock:
            return x

    with pytest.raises(UnhashableArgumentError, match=r"closure 'lock'|global 'lock'|'.*lock'"):
        guarded(1)

    @memo(ignore=("lock",))
    def guarded_ok(x):
        with lock:
            return x

    assert guarded_ok(1) == 1


def test_ignore_names_must_be_parameters_or_names_the_function_reads():
    with pytest.raises(ConfigError, match="neither takes nor reads"):

        @memo(ignore=("nothing_like_this",))
        def f(x):
            return x

    @memo(ignore=("THRESHOLD",))
    def g(x):
        return x > THRESHOLD

    assert g(1) is True


def test_miss_line_is_printed_only_in_a_kernel(capsys):
    train(0.1)
    assert capsys.readouterr().out == ""  # plain Python prints nothing
    assert hitnb.settings().quiet is False


@memo
def count_rows(path):
    with open(path) as fh:
        rows = fh.read().splitlines()
    with open("count.txt", "w") as fh:
        fh.write(str(len(rows)))
    return len(rows)


def test_explain_names_the_files_a_stored_call_read_and_wrote_and_a_changed_one(tmp_path):
    data = tmp_path / "data.csv"
    data.write_text("a\n1\n")
    count_rows("data.csv")
    explanation = count_rows.explain("data.csv")
    assert explanation.cached and explanation.stale is None
    assert str(explanation).splitlines()[1:] == [
        f"  read data.csv (4 bytes, xxh3 {explanation.files.read[0].digest[:12]})",
        f"  wrote count.txt (1 byte, xxh3 {explanation.files.written[0].digest[:12]})",
    ]
    assert explanation.files.read[0].path == "data.csv", "as the call named it: from the cwd"

    data.write_text("a\n1\n2\n")
    explanation = count_rows.explain("data.csv")
    assert not explanation.cached
    assert explanation.stale == "file data.csv changed"
    assert str(explanation).splitlines()[0] == (
        "test_explain.count_rows: stored, but file data.csv changed; this call runs again"
    )
    assert count_rows("data.csv") == 3
    assert count_rows.explain("data.csv").cached
