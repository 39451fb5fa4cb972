"""A store that cannot be used as it is gives one clear message naming the path and the fix,
and the user's code still runs: a file where the store folder should be, and a read-only
store whose last writer was killed before it closed the index."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

import hitnb
from hitnb.errors import HitnbWarning


def test_a_file_where_the_store_should_be(tmp_path, monkeypatch, counter):
    calls = counter()
    where = tmp_path / "not-a-folder"
    where.write_text("my notes\n")
    monkeypatch.setenv("HITNB_STORE", str(where))
    hitnb.config.reset()

    @hitnb.memo
    def f(x):
        calls.hit("f")
        return x + 1

    with pytest.warns(HitnbWarning) as caught:
        assert f(1) == 2  # the user's code runs
        assert f(1) == 2
        assert f(2) == 3
    messages = [str(w.message) for w in caught if issubclass(w.category, HitnbWarning)]
    assert len(messages) == 1, messages  # one message, not one per call
    assert str(where) in messages[0]
    assert "is a file, not a folder" in messages[0]
    assert "HITNB_STORE" in messages[0]  # the fix names the setting
    assert where.read_text() == "my notes\n"  # the user's file is untouched


def test_a_file_where_the_store_should_be_in_a_fresh_process(tmp_path):
    where = tmp_path / "store-file"
    where.write_text("")
    script = textwrap.dedent(
        """
        from hitnb import memo

        @memo
        def f(x):
            print("ran", x)
            return x

        f(1)
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env={"HITNB_STORE": str(where), "PATH": "/usr/bin:/bin"},
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "ran 1\n"
    assert "FileExistsError" not in proc.stderr
    assert proc.stderr.count(f"{where} is a file, not a folder") == 1


_SCRIPT = """
import os, sys
from hitnb import memo

@memo
def square(x):
    print("computing", x)
    return x * x

if sys.argv[1] == "killed":
    square(3)
    sys.stdout.flush()
    os._exit(0)  # killed: the index's write-ahead log is never folded into it
print(square(3), square(4))
"""


@pytest.mark.slow
@pytest.mark.faults
def test_read_only_store_whose_last_writer_was_killed(small_disk, remount):
    store = small_disk / "store"
    script = small_disk.parent / "square.py"
    script.write_text(_SCRIPT)
    env = {"HITNB_STORE": str(store), "PATH": "/usr/bin:/bin"}

    def run(how: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, str(script), how], capture_output=True, text=True, env=env
        )

    killed = run("killed")
    assert killed.stdout == "computing 3\n", killed.stderr
    assert (store / "index.sqlite-wal").stat().st_size > 0  # the crash left the log
    assert remount(small_disk, "ro")
    try:
        reader = run("read")
    finally:
        remount(small_disk, "rw")
    assert reader.returncode == 0, reader.stderr
    assert reader.stdout == "computing 4\n9 16\n"  # the stored call is served, the new one runs
    assert "sqlite3" not in reader.stderr
    assert reader.stderr.count("was not closed by the last process that wrote it") == 1
    assert f"the hitnb store at {store.resolve()} is read-only" in reader.stderr
    assert "Fix: open the store once with write access" in reader.stderr
