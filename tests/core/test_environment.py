"""Environment variables a run reads are inputs: a hit needs each as the run found it.

Before: ``os.getenv("SUFFIX")`` inside a memoized function or cell was not part of what a hit
checked, so with another value (or the variable unset) the old result came back.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import hitnb
from hitnb.core import environment

CALLS: list[str] = []


@hitnb.memo
def labelled(x):
    CALLS.append(x)
    return f"{x}{os.getenv('MYAPP_TEST_SUFFIX', '')}"


@hitnb.memo
def outer(x):
    return labelled(x) + "!"


def test_a_changed_unset_or_newly_set_variable_runs_the_call_again(monkeypatch):
    CALLS.clear()
    monkeypatch.delenv("MYAPP_TEST_SUFFIX", raising=False)
    assert [labelled("a"), labelled("a")] == ["a", "a"]
    assert CALLS == ["a"]
    monkeypatch.setenv("MYAPP_TEST_SUFFIX", "-x")
    assert [labelled("a"), labelled("a")] == ["a-x", "a-x"]
    monkeypatch.setenv("MYAPP_TEST_SUFFIX", "-y")
    assert labelled("a") == "a-y"
    monkeypatch.delenv("MYAPP_TEST_SUFFIX")
    assert labelled("a") == "a"
    assert CALLS == ["a", "a", "a", "a"]


def test_a_call_inside_a_run_passes_its_reads_up(monkeypatch):
    monkeypatch.setenv("MYAPP_TEST_SUFFIX", "-1")
    assert outer("b") == "b-1!"
    monkeypatch.setenv("MYAPP_TEST_SUFFIX", "-2")
    assert outer("b") == "b-2!"
    labelled("c")  # stored first, then a hit inside outer's run
    assert outer("c") == "c-2!"
    monkeypatch.setenv("MYAPP_TEST_SUFFIX", "-3")
    assert outer("c") == "c-3!"


def test_what_is_kept_and_said():
    for _ in range(50):  # the interpreter specializes these subscripts after a few calls
        assert "MYAPP_TEST_PRESENT" not in os.environ
        os.environ.get("MYAPP_TEST_ABSENT")
    with environment.observing() as reads:
        os.environ.get("MYAPP_TEST_ABSENT")
        os.environ["MYAPP_TEST_OWN"] = "secret"
        os.environ["MYAPP_TEST_OWN"]  # set by the run first: not an input
        os.environ.get("JPY_PARENT_PID")  # Jupyter's own, different in every session
        for copied in (dict(os.environ), {**os.environ}, os.environ.copy(),
                       dict(os.environ.items()), os.environ | {}):  # fmt: skip
            assert copied["MYAPP_TEST_OWN"] == "secret"  # listings are not counted
        assert "MYAPP_TEST_PRESENT" not in os.environ
    os.environ.pop("MYAPP_TEST_OWN")
    assert reads == {"MYAPP_TEST_ABSENT": None, "MYAPP_TEST_PRESENT": None}
    assert "secret" not in repr(reads)
    os.environ["MYAPP_TEST_API_TOKEN"] = "abc"
    try:
        with environment.observing() as secret:
            os.environ["MYAPP_TEST_API_TOKEN"]
        assert secret == {"MYAPP_TEST_API_TOKEN": "set"}  # not even a digest of its value
    finally:
        os.environ.pop("MYAPP_TEST_API_TOKEN")
    assert environment.unmet(reads) is None
    os.environ["MYAPP_TEST_ABSENT"] = "1"
    try:
        assert environment.unmet(reads) == (
            "environment variable MYAPP_TEST_ABSENT is set now, and was not when it was stored"
        )
    finally:
        os.environ.pop("MYAPP_TEST_ABSENT")


def test_a_nested_run_passes_up_what_it_set_and_imports_do_not_count(tmp_path, monkeypatch):
    with environment.observing() as outer:
        with environment.observing():
            os.environ["MYAPP_TEST_FLAG"] = "on"
        assert os.environ["MYAPP_TEST_FLAG"] == "on"  # the inner run's doing
        (tmp_path / "myapp_configured.py").write_text(
            "import os\nLEVEL = os.environ.get('MYAPP_TEST_LEVEL', '1')\n"
        )
        monkeypatch.syspath_prepend(str(tmp_path))
        import myapp_configured  # noqa: F401  (reads as it imports: configuration)
    os.environ.pop("MYAPP_TEST_FLAG")
    assert outer == {}


SCRIPT = textwrap.dedent(
    """
    import os, sys
    import hitnb

    @hitnb.memo
    def configured():
        print("ran", file=sys.stderr)
        os.environ["MYAPP_TEST_MODE"] = "fast"
        return os.environ["MYAPP_TEST_MODE"] + os.environ.get("MYAPP_TEST_SUFFIX", "")

    print(configured())
    """
)


@pytest.mark.parametrize("suffix", ["", "-z"])
def test_a_variable_the_run_set_itself_is_not_an_input_after_a_restart(
    tmp_path: Path, isolated_store: Path, suffix: str
):
    env = {k: v for k, v in os.environ.items() if k != "MYAPP_TEST_MODE"}
    env["MYAPP_TEST_SUFFIX"] = suffix
    runs = [
        subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True)
        for _ in range(2)
    ]
    assert [r.stdout for r in runs] == [f"fast{suffix}\n"] * 2
    assert [r.stderr.count("ran") for r in runs] == [1, 0]
