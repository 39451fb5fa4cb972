"""Auto mode in real kernels: a notebook without ``%%memo`` replays from the store."""

from __future__ import annotations

from pathlib import Path

import pytest
from nbclient.exceptions import CellExecutionError
from nbhelpers import KernelSession

pytestmark = pytest.mark.slow

LOAD = "%load_ext hitnb"


def ran_cell(log: Path) -> str:
    return (
        f"import pathlib\nLOG = pathlib.Path({str(log)!r})\n"
        "def ran(name):\n    with LOG.open('a') as fh:\n        fh.write(name + '\\n')"
    )


CELLS = {
    "a": "ran('a')\nprint('hello')\ndata = list(range(10))\nsum(data)",
    "b": "ran('b')\ntotal = sum(data) * 2\ntotal",
    "shell": "!echo from the shell",
    "bash": "%%bash\necho from bash",
    "writefile": "%%writefile notes.txt\nsome text",
    "capture": "%%capture captured\nran('c')\nprint('captured text')",
    "star": "from os import *\nran('d')\nprint('star import')",
    "star2": "from sys import *\nran('e')",
    "shown": "print(captured.stdout)",
    "f": "ran('f')\nresult = total + 1\nresult",
}


def executions(log: Path) -> list[str]:
    return log.read_text().split() if log.exists() else []


def shown(cell) -> list[tuple[str, str]]:
    """What a cell showed, without hitnb's own lines and badges (a stream's pieces joined)."""
    out: list[tuple[str, str]] = []
    for output in cell.outputs:
        if output.get("metadata", {}).get("hitnb", {}).get("badge"):
            continue
        if output.output_type == "stream":
            text = "".join(line for line in output.text.splitlines(True) if "hitnb:" not in line)
            if out and out[-1][0] == output.name:
                out[-1] = (output.name, out[-1][1] + text)
            elif text:
                out.append((output.name, text))
        else:
            out.append((output.output_type, output.get("data", {}).get("text/plain", "")))
    return out


def hitnb_noise(cell) -> list[str]:
    """hitnb's lines and badges in a cell."""
    noise = [
        line
        for output in cell.outputs
        if output.output_type == "stream"
        for line in output.text.splitlines()
        if line.startswith("hitnb:")
    ]
    badges = [o for o in cell.outputs if o.get("metadata", {}).get("hitnb", {}).get("badge")]
    return noise + [f"badge: {b['data']['text/plain']}" for b in badges]


def run_notebook(tmp_path: Path, store: Path, cells: dict[str, str], name: str):
    """The notebook in a fresh kernel started in auto mode (HITNB_AUTO=1), its own folder."""
    folder = tmp_path / name
    folder.mkdir()
    env = {"HITNB_STORE": str(store), "HITNB_AUTO": "1", "PYTHONPATH": ""}
    with KernelSession(folder, env) as kernel:
        kernel.run(LOAD)
        kernel.run(ran_cell(tmp_path / "executions.log"))
        for source in cells.values():
            kernel.run(source)
        status = kernel.run("%hitnb auto status")
    return dict(zip(cells, kernel.notebook.cells[2:], strict=False)), status


def test_a_notebook_replays_from_the_store_without_memo_lines(tmp_path, isolated_store):
    log = tmp_path / "executions.log"
    first, first_status = run_notebook(tmp_path, isolated_store, CELLS, "run1")
    assert executions(log) == ["a", "b", "c", "d", "e", "f"]
    second, second_status = run_notebook(tmp_path, isolated_store, CELLS, "run2")
    # only the cells auto mode cannot cache ran again
    assert executions(log) == ["a", "b", "c", "d", "e", "f", "d", "e"]
    for name in CELLS:
        assert shown(second[name]) == shown(first[name]), name
    assert shown(first["a"]) == [("stdout", "hello\n"), ("execute_result", "45")]
    assert shown(first["shell"]) == [("stdout", "from the shell\r\n")]  # a pty
    assert shown(first["bash"]) == [("stdout", "from bash\n")]
    assert shown(first["writefile"]) == [("stdout", "Writing notes.txt\n")]
    assert shown(first["shown"]) == [("stdout", "captured text\n\n")]
    assert shown(second["f"]) == [("execute_result", "91")]
    # no per-cell noise: one line for the session, at the first cell that runs uncached
    for run in (first, second):
        noise = {name: hitnb_noise(cell) for name, cell in run.items() if hitnb_noise(cell)}
        assert list(noise) == ["star"]
        assert len(noise["star"]) == 1
        assert "`from os import *`" in noise["star"][0]
    assert "auto mode is on (the auto setting): 6 cells memoized (0 from the store)" in (
        first_status
    )
    assert "6 cells memoized (6 from the store), 2 run uncached" in second_status


def test_an_edited_cell_runs_again_and_so_do_its_dependents(tmp_path, isolated_store):
    log = tmp_path / "executions.log"
    run_notebook(tmp_path, isolated_store, CELLS, "run1")
    edited = {**CELLS, "b": "ran('b')\ntotal = sum(data) * 3\ntotal"}
    second, _ = run_notebook(tmp_path, isolated_store, edited, "run2")
    assert executions(log)[6:] == ["b", "d", "e", "f"]  # not a, not c
    assert shown(second["b"]) == [("execute_result", "135")]
    assert shown(second["f"]) == [("execute_result", "136")]


def test_auto_off_stops_and_status_and_why_say_so(tmp_path, isolated_store):
    log = tmp_path / "executions.log"
    with KernelSession(tmp_path, {"HITNB_STORE": str(isolated_store)}) as kernel:
        cleanup_transforms = int(kernel.run("print(len(get_ipython().input_transformers_cleanup))"))
        kernel.run(LOAD)
        kernel.run(ran_cell(log))
        assert kernel.run("%hitnb auto status").startswith("auto mode is off (the auto setting)")
        assert kernel.run("%hitnb auto").startswith("auto mode is on (this session)")
        kernel.run("ran('x')\nvalue = 1")
        kernel.run("ran('x')\nvalue = 1")
        assert kernel.run("%hitnb why") == "the last cell came from the cache\n"
        kernel.run("%%timeit -n3 -r1\nran('t')")  # code a magic runs is not memoized
        assert kernel.run("%hitnb why") == (  # not of the cell before it
            "the last cell ran as IPython runs it: auto mode leaves %%timeit cells to IPython\n"
        )
        kernel.run("%timeit -n1 -r1 1 + 1\n%time 2 + 2")
        assert kernel.run("%hitnb why") == (
            "the last cell ran as IPython runs it: it only runs magics (%timeit, %time)\n"
        )
        kernel.run("import subprocess\nran('s')\nsubprocess.run(['true'])\n!true")
        assert kernel.run("%hitnb why") == "this cell is not cached: it runs shell commands (`!`)\n"
        assert kernel.run("%hitnb auto off").startswith("auto mode is off (this session)")
        kernel.run("ran('y')\nvalue = 2")
        kernel.run("ran('y')\nvalue = 2")
        assert kernel.run("value") == ""
        assert kernel.notebook.cells[-1].outputs[0]["data"]["text/plain"] == "2"
        kernel.run("%hitnb auto on")
        kernel.run("%unload_ext hitnb")  # takes its transformer and hooks away
        kernel.run("ran('z')\nvalue = 3")
        kernel.run("ran('z')\nvalue = 3")
        left = (
            "ip = get_ipython()\n"
            "print('run_cell' in ip.__dict__, len(ip.input_transformers_cleanup))"
        )
        assert kernel.run(left) == f"False {cleanup_transforms}\n"
    assert executions(log) == ["x", "t", "t", "t", "s", "y", "y", "z", "z"]


def test_a_badge_only_where_the_hit_saved_noticeable_time(tmp_path, isolated_store):
    cells = {"quick": "quick = 1", "slow": "import time\ntime.sleep(0.8)\nslow = 2"}
    run_notebook(tmp_path, isolated_store, cells, "run1")
    second, _ = run_notebook(tmp_path, isolated_store, cells, "run2")
    assert hitnb_noise(second["quick"]) == []
    (badge,) = hitnb_noise(second["slow"])
    assert badge.startswith("badge: hitnb: from cache, saved 8")  # 800 ms and more


def test_auto_mode_decides_about_each_cell_once(tmp_path, isolated_store):
    """The transformer, the event before the cell and the digest cache all ask whether a
    cell is memoized; the transformer's text ends in a newline the others lack, and each
    answer parsed and analysed the cell anew (an eighth of a small cell's hit)."""
    with KernelSession(tmp_path, {"HITNB_STORE": str(isolated_store)}) as kernel:
        kernel.run(LOAD)
        kernel.run("%hitnb auto")
        kernel.run(
            "from hitnb.ipython.auto import auto_session\n"
            "session = auto_session(get_ipython())\n"
            "decided, _decide = [], session._decide\n"
            "session._decide = lambda text: decided.append(text) or _decide(text)"
        )
        for i in range(3):
            kernel.run(f"value_{i} = {i}")
        assert kernel.run("print(len(decided))") == "4\n", "three cells, and this one"


def test_why_names_a_stored_run_that_could_not_be_restored(tmp_path, isolated_store):
    """A stored run that cannot be loaded runs again; ``%hitnb why`` said no stored run had
    the cell's code and inputs, as if nothing were stored."""
    fragile = (
        "import os, time\n"
        "class Fragile:\n"
        "    def __setstate__(self, state):\n"
        "        if os.environ.get('BREAK'):\n"
        "            raise RuntimeError('this process cannot load it')\n"
        "        self.__dict__.update(state)"
    )
    said = []
    for env in ({}, {"BREAK": "1"}):
        with KernelSession(tmp_path, {"HITNB_STORE": str(isolated_store), **env}) as kernel:
            kernel.run(LOAD)
            kernel.run("%hitnb auto")
            kernel.run(fragile)
            kernel.run("thing = Fragile()\nthing.size = 3\ntime.sleep(0.2)")
            said.append(kernel.run("%hitnb why"))
    assert "this process cannot load it" in said[1], said


def test_why_after_a_cell_that_raised_speaks_of_that_cell(tmp_path, isolated_store):
    """Not of the cell before it, which came from the cache."""
    with KernelSession(tmp_path, {"HITNB_STORE": str(isolated_store)}) as kernel:
        kernel.run(LOAD)
        kernel.run("%hitnb auto")
        kernel.run("value = 1")
        kernel.run("value = 1")
        assert kernel.run("%hitnb why") == "the last cell came from the cache\n"
        with pytest.raises(CellExecutionError, match="ZeroDivisionError"):
            kernel.run("ratio = value / 0")
        assert kernel.run("%hitnb why") == (
            "the last cell raised ZeroDivisionError: a run that raises is never served from "
            "the store, so the cell runs again next time\n"
        )
        with pytest.raises(CellExecutionError, match="ZeroDivisionError"):
            kernel.run("%%memo\nratio = value / 0")
        assert kernel.run("%hitnb why").startswith("the last cell raised ZeroDivisionError")
