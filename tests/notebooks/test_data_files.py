"""Data files are reads and effects of a run, with nothing to declare (real kernels; each
phase is a fresh kernel on the same store, as after a restart)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from nbclient.exceptions import CellExecutionError
from nbhelpers import KernelSession

pytestmark = pytest.mark.slow

SETUP = (
    "%load_ext hitnb\n%matplotlib inline\n"
    "import json, pathlib\nimport numpy as np\nimport pandas as pd\nimport hitnb\n"
    "import matplotlib.pyplot as plt\n"
    "def ran(name):\n"
    "    with open('executions.log', 'a') as fh:\n"
    "        fh.write(name + '\\n')\n"
    "@hitnb.memo\ndef load(path):\n    ran('load')\n    with open(path) as fh:\n"
    "        return fh.read().strip()"
)
READERS = {
    "open": "v_open = open('data.txt').read().strip()",
    "path": "v_path = pathlib.Path('data.txt').read_text().strip()",
    "numpy": "v_numpy = int(np.load('data.npy').sum())",
    "csv": "v_csv = int(pd.read_csv('data.csv')['v'].sum())",
    "parquet": "v_parquet = int(pd.read_parquet('data.parquet')['v'].sum())",
    "json": "v_json = json.load(open('data.json'))['v']",
}
WRITER = (
    "%%memo -n writer\nran('writer')\n"
    "pd.DataFrame({'x': [1, 2]}).to_csv('report.csv', index=False)\n"
    "fig, ax = plt.subplots()\nax.plot([1, 3, 2])\nfig.savefig('fig.png')\nplt.close(fig)"
)
LIBRARY_FILES = (
    "%%memo\nran('plot')\nfig2, ax2 = plt.subplots()\nax2.plot([1, 2])\nax2.set_title('t')\n"
    "plt.show()",
    "%%memo\nran('zone')\nimport datetime\nfrom zoneinfo import ZoneInfo\n"
    "offset = str(datetime.datetime(2024, 1, 1, tzinfo=ZoneInfo('Europe/Paris')).utcoffset())",
)
SHOW = (
    "print(json.dumps([v_open, v_path, v_numpy, v_csv, v_parquet, v_json, "
    "load('data.txt'), offset]))"
)


def _write_data(folder: Path, value: int) -> None:
    (folder / "data.txt").write_text(f"{value}\n")
    np.save(folder / "data.npy", np.array([value, 0]))
    frame = pd.DataFrame({"k": ["a"], "v": [value]})
    frame.to_csv(folder / "data.csv", index=False)
    frame.to_parquet(folder / "data.parquet")
    (folder / "data.json").write_text(json.dumps({"v": value}))


def _session(folder: Path, store: Path, *, writer: bool = True) -> tuple[list, str]:
    """Run the whole notebook in a fresh kernel; return the runs it made and what it showed."""
    log = folder / "executions.log"
    log.unlink(missing_ok=True)
    with KernelSession(folder, {"HITNB_STORE": str(store)}) as kernel:
        kernel.run(SETUP)
        for name, code in READERS.items():
            kernel.run(f"%%memo -n {name}\nran('{name}')\n{code}")
        if writer:
            kernel.run(WRITER)
        for cell in LIBRARY_FILES:
            kernel.run(cell)
        shown = kernel.run(SHOW)
    return (log.read_text().split() if log.exists() else []), shown


def test_files_read_are_inputs_and_files_written_come_back(tmp_path: Path, isolated_store):
    folder = tmp_path / "project"
    folder.mkdir()
    _write_data(folder, 1)
    runs, shown = _session(folder, isolated_store)
    assert set(runs) == {*READERS, "load", "writer", "plot", "zone"}
    assert json.loads(shown) == ["1", "1", 1, 1, 1, 1, "1", "1:00:00"]
    written = {name: (folder / name).read_bytes() for name in ("report.csv", "fig.png")}

    runs, _ = _session(folder, isolated_store)
    assert runs == [], "a restart hits everything, plots and time zones included"

    for name in ("data.txt", "data.npy", "data.csv", "data.parquet", "data.json"):
        os.utime(folder / name)  # a touch
    (folder / "data.txt").write_text("1\n")  # an identical rewrite
    runs, _ = _session(folder, isolated_store)
    assert runs == [], "a touch or an identical rewrite is still a hit"

    for name in written:
        (folder / name).unlink()
    runs, _ = _session(folder, isolated_store)
    assert runs == []
    assert {name: (folder / name).read_bytes() for name in written} == written

    _write_data(folder, 7)
    runs, shown = _session(folder, isolated_store, writer=False)
    assert set(runs) == {*READERS, "load"}, "a content change recomputes every reader"
    said, _, values = shown.rpartition("\n[")
    assert json.loads("[" + values) == ["7", "7", 7, 7, 7, 7, "7", "1:00:00"]
    assert "hitnb: recomputing load: file data.txt changed" in said


def test_a_changed_file_is_named_and_a_deleted_one_fails_as_the_user_expects(
    tmp_path: Path, isolated_store
):
    _write_data(tmp_path, 1)
    cell = "%%memo -n totals\ntotal = int(pd.read_csv('data.csv')['v'].sum())\ntotal"
    with KernelSession(tmp_path, {"HITNB_STORE": str(isolated_store)}) as kernel:
        kernel.run(SETUP)
        kernel.run(cell)
        kernel.run(cell)
        why_hit = kernel.run("%hitnb why")
        _write_data(tmp_path, 2)
        printed = kernel.run(cell)
        why = kernel.run("%hitnb why")
        (tmp_path / "data.csv").unlink()
        with pytest.raises(CellExecutionError, match="FileNotFoundError"):
            kernel.run(cell)
    assert "hitnb: recomputing totals: file data.csv changed" in printed
    assert why_hit.startswith("the last %%memo cell came from the cache\n  read data.csv (8 bytes")
    assert why.startswith("it ran again: file data.csv changed\n  read data.csv (8 bytes, xxh3 ")


def test_a_path_kept_in_a_variable_names_what_a_reader_in_c_reads(tmp_path: Path, isolated_store):
    """Parquet is read in C, out of sight of the hook that sees Python's ``open``: a cell
    reading a path that an earlier cell put in a variable (a path, a folder joined to a
    name, a list of them) missed the edited file, and showed the old sum after a restart."""
    (tmp_path / "data").mkdir()
    cells = [
        "%load_ext hitnb\n%hitnb auto\nfrom pathlib import Path\nimport pandas as pd\n"
        "DATA = Path('data')\nSALES = 'data/sales.parquet'\nPATHS = [SALES]",
        "print(pd.read_parquet(SALES)['v'].sum())",
        "print(pd.read_parquet(DATA / 'sales.parquet')['v'].sum())",
        "print(sum(pd.read_parquet(p)['v'].sum() for p in PATHS))",
    ]
    printed = []
    for total in (5, 50, 50):
        pd.DataFrame({"v": [total, 1]}).to_parquet(tmp_path / "data" / "sales.parquet")
        with KernelSession(tmp_path, {"HITNB_STORE": str(isolated_store)}) as kernel:
            printed.append([kernel.run(cell).splitlines()[-1:] for cell in cells][1:])
            status = kernel.run("%hitnb auto status")
    assert printed == [[["6"]] * 3, [["51"]] * 3, [["51"]] * 3]
    assert "3 cells memoized (3 from the store)" in status, "unchanged: they hit"


def test_files_a_query_names_count_for_cells_and_functions(tmp_path: Path, isolated_store):
    """DuckDB reads the files a SQL string names, in C (red team 2, f25): a cell and a
    ``@memo`` function querying ``'data/sales.parquet'`` or ``read_csv('logs/*.csv')`` hit
    with the old sums after the data changed. Files named in quotes count now, and a
    pattern's folder by its listing (one more log matches)."""
    (tmp_path / "data").mkdir()
    (tmp_path / "logs").mkdir()
    cells = [
        "%load_ext hitnb\n%hitnb auto\nimport duckdb, hitnb\n"
        "@hitnb.memo\ndef total():\n"
        "    return duckdb.sql(\"SELECT sum(v) FROM 'data/sales.parquet'\").fetchall()[0][0]",
        "print(duckdb.sql(\"SELECT sum(v) FROM 'data/sales.parquet'\").fetchall()[0][0])",
        "print(total())",
        "print(duckdb.sql(\"SELECT count(*) FROM read_csv('logs/*.csv')\").fetchall()[0][0])",
    ]
    printed = []
    for total, logs in ((3, 1), (8, 1), (8, 2), (8, 2)):
        pd.DataFrame({"v": [total - 1, 1]}).to_parquet(tmp_path / "data" / "sales.parquet")
        for i in range(logs):
            (tmp_path / "logs" / f"{i}.csv").write_text("k,v\na,1\nb,2\n")
        with KernelSession(tmp_path, {"HITNB_STORE": str(isolated_store)}) as kernel:
            printed.append([kernel.run(cell).split()[-1:] for cell in cells][1:])
            status = kernel.run("%hitnb auto status")
    expected = [["3", "3", "2"], ["8", "8", "2"], ["8", "8", "4"], ["8", "8", "4"]]
    assert printed == [[[shown] for shown in session] for session in expected]
    assert "3 cells memoized (3 from the store)" in status, "unchanged: they hit"


def test_a_project_copied_with_its_store_reads_its_own_files(tmp_path: Path):
    """``cp -r exp1 exp2`` copies the store in the project too; ``exp2/data.csv`` edited,
    the cell reading ``data.csv`` checked ``exp1/data.csv`` (unchanged) and showed exp1's
    sum. A file the run named relatively is checked where that name leads now."""
    import shutil

    first, second = tmp_path / "exp1", tmp_path / "exp2"
    first.mkdir()
    (first / "data.csv").write_text("x\n1\n2\n")
    cells = [
        "%load_ext hitnb\n%hitnb auto\nimport pandas as pd",
        "print(pd.read_csv('data.csv').x.sum())",
    ]
    printed = []
    for folder in (first, second, second):
        if folder is second and not second.exists():
            shutil.copytree(first, second)
            (second / "data.csv").write_text("x\n10\n20\n")
        with KernelSession(folder, {"HITNB_STORE": str(folder / ".hitnb")}) as kernel:
            printed.append([kernel.run(cell) for cell in cells][-1])
            status = kernel.run("%hitnb auto status")
    assert printed == ["3\n", "30\n", "30\n"]
    assert "(1 from the store)" in status, "unchanged since: a hit"


def test_a_library_looking_for_plugins_does_not_make_the_notebook_folder_an_input(
    tmp_path: Path, isolated_store
):
    """importlib.metadata lists every folder on ``sys.path`` when a library looks for its
    plugins (scikit-learn does, through narwhals, the first time it is given pandas data),
    the notebook's own folder included; a result the notebook then saves next to itself
    must not make the cell run again."""
    folder = tmp_path / "project"
    folder.mkdir()
    cell = (
        "%%memo\nimport importlib.metadata, pathlib, time\n"
        "pathlib.Path('executions.log').open('a').write('ran\\n')\n"
        "plugins = sorted(e.name for e in importlib.metadata.entry_points(group='no.such'))\n"
        "time.sleep(0.2)"
    )
    said = []
    for session in range(2):
        with KernelSession(folder, {"HITNB_STORE": str(isolated_store)}) as kernel:
            kernel.run("%load_ext hitnb")
            kernel.run(cell)
            said.append(kernel.run("%hitnb why"))
            kernel.run(f"open('result_{session}.csv', 'w').write('1')")
    assert (folder / "executions.log").read_text().split() == ["ran"], said
    assert said[1].startswith("the last %%memo cell came from the cache\n"), said
