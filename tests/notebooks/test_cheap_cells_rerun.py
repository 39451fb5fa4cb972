"""In real kernels: a cell whose outputs cost more to store and load than to compute runs
again on a hit (and `%hitnb why` says so); a slow cell with small outputs is restored."""

from __future__ import annotations

from pathlib import Path

import pytest
from nbhelpers import KernelSession

pytestmark = pytest.mark.slow

SETUP = (
    "import pathlib, time\nimport numpy as np\n"
    "def ran(name):\n    with open({log!r}, 'a') as fh:\n        fh.write(name + '\\n')"
)
BIG = "%%memo\nran('big')\nx = np.zeros(50_000_000)\nprint('made', x.shape)"
SLOW = "%%memo\nran('slow')\ntime.sleep(0.5)\ny = 7\nprint('slept')"
CLOCK = "%%memo\nran('clock')\nstamp = np.zeros(20_000_000)\nstamp[0] = time.time()"
WRITES = "%%memo\nran('writes')\npathlib.Path('out.txt').write_text('x')\nw = np.zeros(20_000_000)"
EXPERIMENT = "%%memo --experiment\nran('experiment')\ne = np.zeros(20_000_000)"
CHECK = "print(x.shape, int(x.sum()), y, repr(stamp[0]))"


def executions(log: Path) -> list[str]:
    return log.read_text().split() if log.exists() else []


def stored_bytes(store: Path) -> int:
    return sum(p.stat().st_size for p in (store / "objects").rglob("*") if p.is_file())


def two_sessions(tmp_path: Path, store: Path, definition: str, cell: str, check: str) -> list[str]:
    """What ``cell``, `%hitnb why` and ``check`` print in each of two kernels on one store,
    after the setup and ``definition``."""
    said = []
    for _ in range(2):
        with KernelSession(tmp_path, {"HITNB_STORE": str(store), "PYTHONPATH": ""}) as kernel:
            kernel.run("%load_ext hitnb")
            kernel.run(SETUP.format(log=str(tmp_path / "executions.log")))
            kernel.run(definition)
            said.append(kernel.run(cell) + kernel.run("%hitnb why") + kernel.run(check))
    return said


def run_once(tmp_path: Path, store: Path) -> dict[str, str]:
    log = tmp_path / "executions.log"
    said = {}
    with KernelSession(tmp_path, {"HITNB_STORE": str(store), "PYTHONPATH": ""}) as kernel:
        kernel.run("%load_ext hitnb")
        kernel.run(SETUP.format(log=str(log)))
        said["big"] = kernel.run(BIG)
        said["big why"] = kernel.run("%hitnb why")
        said["slow"] = kernel.run(SLOW)
        said["slow why"] = kernel.run("%hitnb why")
        said["clock"] = kernel.run(CLOCK)
        said["clock why"] = kernel.run("%hitnb why")
        kernel.run(WRITES)
        kernel.run(EXPERIMENT)
        said["check"] = kernel.run(CHECK)
    return said


def test_big_cheap_cells_run_again_slow_small_ones_are_restored(tmp_path, isolated_store):
    log = tmp_path / "executions.log"
    first = run_once(tmp_path, isolated_store)
    assert executions(log) == ["big", "slow", "clock", "writes", "experiment"]
    # the 400 MB and the clock's 160 MB were not stored; the two cells always stored in full
    # (one wrote a file, one is an experiment) were: 160 MB each
    assert 320_000_000 < stored_bytes(isolated_store) < 330_000_000

    second = run_once(tmp_path, isolated_store)
    assert executions(log)[5:] == ["big", "clock"]  # the slow cell came from the store
    assert second["big"] == first["big"] == "made (50000000,)\n"
    assert second["big why"].startswith("re-executed: running it again takes ")
    assert "storing and restoring its 400 MB of outputs about" in second["big why"]
    assert second["slow"] == first["slow"] == "slept\n"
    assert second["slow why"] == "the last %%memo cell came from the cache\n"
    # the clock cell gave another result: it is stored in full, and restored from now on
    assert "it gave another result than the stored run" in second["clock why"]
    assert second["check"] != first["check"]
    assert second["check"].startswith("(50000000,) 0 7 ")

    third = run_once(tmp_path, isolated_store)
    assert executions(log)[7:] == ["big"]
    assert third["check"] == second["check"]
    assert third["clock why"] == "the last %%memo cell came from the cache\n"


def test_a_cell_stored_as_a_rerun_exports_without_outputs_and_loads_with_a_reason(
    tmp_path, isolated_store
):
    import hitnb
    from hitnb.errors import HitnbError

    with KernelSession(tmp_path, {"HITNB_STORE": str(isolated_store), "PYTHONPATH": ""}) as k:
        k.run("%load_ext hitnb")
        k.run("import numpy as np")
        k.run("%%memo\nx = np.zeros(50_000_000)\nprint('made')")
    (run,) = hitnb.runs(store=str(isolated_store))  # the one %%memo cell
    with pytest.raises(HitnbError, match="outputs were not stored: computing them is cheaper"):
        hitnb.load(run.key, store=str(isolated_store))
    path = hitnb.export(run.key, str(tmp_path / "cell.ipynb"), store=str(isolated_store))
    assert "x = np.zeros(50_000_000)" in Path(path).read_text()


def test_an_object_holding_big_arrays_is_judged_by_the_size_it_encodes_to(tmp_path, isolated_store):
    # A fitted model and its results are objects, whose size in memory hitnb does not
    # measure: the bytes they encode to decide (statsmodels' ARIMA results: 135 MB in 0.1 s).
    log = tmp_path / "executions.log"
    holder = "%%memo\nran('holder')\nfitted = Fitted(np.zeros(20_000_000))\nprint('fitted')"
    fitted = "class Fitted:\n    def __init__(self, values):\n        self.values = values"
    said = two_sessions(tmp_path, isolated_store, fitted, holder, "print(fitted.values.shape)")
    assert executions(log) == ["holder", "holder"]  # run again, not restored
    assert stored_bytes(isolated_store) < 1_000_000  # its 160 MB were not stored
    assert said[0].startswith("fitted\n") and said[0].endswith("(20000000,)\n")
    assert said[1].startswith("fitted\nre-executed: running it again takes ")
    assert "storing and restoring its 160 MB of outputs" in said[1]
    assert said[1].endswith("(20000000,)\n")


def test_a_cell_whose_outputs_are_slow_to_check_is_restored_not_run_again(tmp_path, isolated_store):
    # Running a cell again on a hit includes hashing what it produced, to check it against
    # the stored run. 5000 notebook objects take 3 ms to make and about 90 ms to hash: next
    # to 8 MB of array, restoring them costs less than running again and checking.
    log = tmp_path / "executions.log"
    cell = (
        "%%memo\nran('points')\npoints = [Point(i) for i in range(5000)]\n"
        "grid = np.zeros(1_000_000)\nprint(len(points))"
    )
    point = "class Point:\n    def __init__(self, i):\n        self.i, self.name = i, str(i)"
    said = two_sessions(tmp_path, isolated_store, point, cell, "print(points[-1].name)")
    assert executions(log) == ["points"]  # the second session restored it
    assert said[1] == "5000\nthe last %%memo cell came from the cache\n4999\n"


NETWORK = """
class Network:
    def __init__(self, size):
        self.nodes = [Node(i) for i in range(size)]

    def distances(self):
        self.cache = np.ones(1_000_000)
        return float(self.cache.sum())


class Node:
    def __init__(self, i):
        self.i, self.name = i, str(i)
"""


def test_a_cell_whose_measuring_is_slow_is_restored_not_run_again(tmp_path, isolated_store):
    # A cell that calls a method on a value changes it, as far as hitnb knows: the value is
    # hashed after the run, which a hit that runs the cell again repeats. Here the method
    # takes a millisecond and 8 MB of array, the 30,000 nodes it keeps 0.4 s
    # to hash (spaghetti's street network: 0.2 s to run, 1 s to hash, 2.3 s a hit).
    log = tmp_path / "executions.log"
    said = []
    for _ in range(2):
        with KernelSession(tmp_path, {"HITNB_STORE": str(isolated_store), "PYTHONPATH": ""}) as k:
            k.run("%load_ext hitnb")
            k.run(SETUP.format(log=str(log)))
            k.run(NETWORK)
            k.run("%%memo\nnetwork = Network(30_000)")
            cell = "%%memo\nran('distances')\ntotal = network.distances()\nprint(total)"
            said.append(k.run(cell) + k.run("%hitnb why") + k.run("print(network.cache.shape)"))
    assert executions(log) == ["distances"]  # the second session restored it
    assert said[1] == "1000000.0\nthe last %%memo cell came from the cache\n(1000000,)\n"


TAGS = '''
class Tag:
    """Unpickles to one object per name, as pyproj's CRS does from its cache."""

    def __init__(self, name):
        self.name = name

    def __reduce__(self):
        return (tag, (self.name,))


def tag(name):
    return __import__("builtins").__dict__.setdefault("_tags", {}).setdefault(name, Tag(name))
'''


def test_a_run_again_is_not_judged_on_which_objects_happen_to_be_shared(tmp_path, isolated_store):
    """Two values that each hold an equal object come back from the store sharing one when
    their class unpickles from a cache (geopandas frames and their CRS). Names sharing an
    object with a changed value are outputs, restored with it; the check of a re-execution
    leaves them out, or a deterministic cell counts as not deterministic and is stored in
    full (esda's notebook: a 4 ms cell took 543 ms on its hit)."""
    (tmp_path / "tags.py").write_text(TAGS)
    env = {"HITNB_STORE": str(isolated_store), "PYTHONPATH": str(tmp_path)}
    said = []
    for _ in range(2):
        with KernelSession(tmp_path, env) as kernel:
            kernel.run("%load_ext hitnb")
            kernel.run(SETUP.format(log=str(tmp_path / "executions.log")) + "\nimport tags")
            kernel.run("%%memo\nframe, other = {'crs': tags.Tag('4')}, {'crs': tags.Tag('4')}")
            cell = "%%memo\nframe['values'] = np.zeros(20_000_000)"
            said.append(kernel.run(cell) + kernel.run("%hitnb why"))
    assert "re-executed" in said[1], said[1]
    assert "another result" not in said[1], said[1]
