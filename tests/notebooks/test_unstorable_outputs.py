"""In real kernels: a cell whose outputs cannot be stored runs in every session, and only
its first run pays for learning that (encoding its outputs, then each again to name the one
that fails); later sessions say the same and encode nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from nbhelpers import KernelSession

pytestmark = pytest.mark.slow

HANDLE = '''
import pathlib

class Handle:
    """An open resource: pickling it is refused, and each attempt is logged."""

    def __reduce__(self):
        with pathlib.Path(__file__).with_name("attempts.log").open("a") as fh:
            fh.write("pickle\\n")
        raise TypeError("a Handle cannot be pickled")
'''
CELL = "%%memo\nprint('opening')\nh = handle.Handle()\nn = 3"


def lines(path: Path) -> list[str]:
    return path.read_text().split() if path.exists() else []


def sessions(
    folder: Path, store: Path, module: str, cell: str, check: str, count: int
) -> tuple[list[str], list[int]]:
    """What ``cell``, `%hitnb why` and ``check`` print in each of ``count`` kernels on one
    store (``module``, a file in ``folder``, imported first), and how many attempts the
    module had logged after each."""
    said, attempts = [], []
    for _ in range(count):
        env = {"HITNB_STORE": str(store), "PYTHONPATH": str(folder)}
        with KernelSession(folder, env) as kernel:
            kernel.run(f"%load_ext hitnb\nimport {module}")
            said.append(kernel.run(cell) + kernel.run("%hitnb why") + kernel.run(check))
        attempts.append(len(lines(folder / "attempts.log")))
    return said, attempts


def test_a_cell_whose_output_cannot_be_stored_is_not_encoded_again_in_later_sessions(
    tmp_path, isolated_store
):
    (tmp_path / "handle.py").write_text(HANDLE)
    said, attempts = sessions(tmp_path, isolated_store, "handle", CELL, "print(n)", 3)
    note = "this cell ran but was not cached: output `h` (a Handle) cannot be stored"
    for text in said:
        assert text.startswith("opening"), text  # it runs in every session
        assert text.count(note) == 2, text  # the cell's note, and `%hitnb why`
        assert text.rstrip().endswith("3")
    assert attempts[0] >= 1
    assert attempts[2] == attempts[1] == attempts[0], "later sessions tried to encode it again"


def test_a_cell_whose_output_becomes_storable_is_stored_then(tmp_path, isolated_store):
    """What decided that an output cannot be stored is the cell's code and inputs: a new
    version of the module that makes the object picklable is a new key, stored as usual."""
    (tmp_path / "handle.py").write_text(HANDLE)
    env = {"HITNB_STORE": str(isolated_store), "PYTHONPATH": str(tmp_path)}
    said = []
    for session in range(3):
        if session == 1:
            picklable = HANDLE.replace("raise TypeError(", "return (Handle, ())  # ")
            (tmp_path / "handle.py").write_text(picklable)
        with KernelSession(tmp_path, env) as kernel:
            kernel.run("%load_ext hitnb\nimport handle")
            said.append(kernel.run(CELL) + kernel.run("%hitnb why"))
    assert "cannot be stored" in said[0]
    assert "cannot be stored" not in said[1] + said[2]
    assert said[2].endswith("the last %%memo cell came from the cache\n")


FRAGILE = '''
import pathlib

class Fragile:
    """Pickles, but cannot be rebuilt from its pickle (esda's Join_Counts: an attribute its
    state lacks); each attempt to rebuild it is logged."""

    def __init__(self):
        self.count = 3

    def __setstate__(self, state):
        with pathlib.Path(__file__).with_name("attempts.log").open("a") as fh:
            fh.write("load\\n")
        raise AttributeError("'Fragile' object has no attribute '__calc'")
'''


def test_a_cell_whose_outputs_do_not_load_back_is_remembered_as_such(tmp_path, isolated_store):
    """A stored run that cannot be loaded is run again; when the new run's outputs do not
    load back either, the cell is remembered as not storable, so later sessions neither
    store nor load it again: they run the cell and say why."""
    (tmp_path / "fragile.py").write_text(FRAGILE)
    cell = "%%memo\nprint('making')\nf = fragile.Fragile()"
    said, loads = sessions(tmp_path, isolated_store, "fragile", cell, "print(f.count)", 4)
    assert all("making" in text and text.rstrip().endswith("3") for text in said), said
    assert loads[0] == 0 and loads[1] >= 1, "the second session tried the stored run"
    assert loads[3] == loads[2] == loads[1], "later sessions loaded it again"
    assert "its outputs do not load back" in said[3], said[3]


def test_what_dill_warns_while_hitnb_tries_to_store_is_not_shown(execute_notebook):
    """``from mpmath import mp`` binds an object neither pickle nor dill can store, and dill
    warned of each class it could not find ("PicklingWarning: Cannot locate reference to
    <class 'mpmath.ctx_iv.ivmpf'>", six lines) under the cell. hitnb's own line says it."""
    from nbformat.v4 import new_code_cell, new_notebook

    sources = ["%load_ext hitnb\n%hitnb auto", "import mpmath\nfrom mpmath import mp"]
    sources.append("mp.dps = 40")
    notebook = execute_notebook(new_notebook(cells=[new_code_cell(s) for s in sources]))
    shown = ["".join(o.get("text", "") for o in cell.outputs) for cell in notebook.cells]
    assert not any("PicklingWarning" in text for text in shown), shown
    assert shown[1].startswith("hitnb: auto mode runs this cell uncached (") and shown[2] == ""
