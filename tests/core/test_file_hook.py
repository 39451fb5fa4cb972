"""The audit hook that observes a run's files is filtered in C once the package is installed:
the rest of the process's audited events (``id()``, ``copy.deepcopy``, every import) no
longer call Python, and the files seen are the same as with the hook written in Python.

Each case runs in a fresh interpreter: an audit hook stays for the life of its process."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path


def _run(script: str, cwd: Path) -> str:
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)], cwd=cwd, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


OBSERVED_RUN = """
    import glob, json, os, pathlib, sys
    from hitnb.core import files
    files.compiled_hook = {compiled}
    with files.observing() as seen:
        open("data.txt").read()
        pathlib.Path("other.txt").read_bytes()
        os.close(os.open("raw.bin", os.O_RDONLY))
        open("out.txt", "w").write("x")
        open("log.txt", "a").write("line")
        os.listdir("folder")
        list(os.scandir("scanned"))
        glob.glob("matched/*.csv")
        glob.glob("plain.txt")
        id(seen)
    print(json.dumps({{"hook": files.hook, "read": sorted(seen.read),
        "written": sorted(seen.written), "listed": sorted(seen.listed)}}))
"""


def test_both_hooks_see_the_same_files_and_the_installed_one_is_compiled(tmp_path):
    for name in ("data.txt", "other.txt", "raw.bin", "plain.txt"):
        (tmp_path / name).write_text("1")
    for name in ("folder", "scanned", "matched"):
        (tmp_path / name).mkdir()
    compiled = json.loads(_run(OBSERVED_RUN.format(compiled=True), tmp_path))
    python = json.loads(_run(OBSERVED_RUN.format(compiled=False), tmp_path))

    assert (compiled.pop("hook"), python.pop("hook")) == ("compiled", "python")
    assert compiled == python
    assert compiled == {
        "read": ["data.txt", "other.txt", "plain.txt", "raw.bin"],
        "written": ["out.txt"],
        "listed": ["folder", "matched", "scanned"],
    }


def test_only_the_events_asked_for_reach_the_callback(tmp_path):
    (tmp_path / "data.txt").write_text("1")
    out = _run(
        """
        import copy, json
        from hitnb.core._file_events import install
        calls = []
        install(lambda event, args: calls.append([event, args[0]]), ("open", "os.listdir"))
        for value in range(1000):
            id(value)
        copy.deepcopy([{"a": [1]}] * 100)
        open("data.txt").close()
        print(json.dumps(calls))
        """,
        tmp_path,
    )
    assert json.loads(out) == [["open", "data.txt"]]


def test_an_error_in_the_callback_is_the_audited_calls_error(tmp_path):
    out = _run(
        """
        from hitnb.core._file_events import install
        def refuse(event, args):
            raise PermissionError(f"no {event} of {args[0]}")
        install(refuse, ("open",))
        try:
            open("data.txt")
        except PermissionError as exc:
            print(exc)
        """,
        tmp_path,
    )
    assert out.strip() == "no open of data.txt"


def test_a_subinterpreter_gets_a_hook_of_its_own(tmp_path):
    """The C hook serves the interpreter that installed it; a subinterpreter observing a run
    raised "the hook is installed already" and now gets the hook written in Python."""
    (tmp_path / "data.txt").write_text("1")
    inside = (
        "from hitnb.core import files\n"
        "with files.observing() as seen:\n"
        "    open('data.txt').read()\n"
        "print(files.hook, sorted(seen.read))\n"
    )
    out = _run(
        f"""
        import _xxsubinterpreters as interpreters
        from hitnb.core import files
        with files.observing():
            pass
        print(files.hook)
        interpreters.run_string(interpreters.create(), {inside!r})
        """,
        tmp_path,
    )
    assert out.split("\n")[:2] == ["compiled", "python ['data.txt']"]
