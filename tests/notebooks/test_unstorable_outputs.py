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


def test_a_cell_whose_output_cannot_be_stored_is_not_encoded_again_in_later_sessions(
    tmp_path, isolated_store
):
    (tmp_path / "handle.py").write_text(HANDLE)
    said, attempts = [], []
    for _ in range(3):
        env = {"HITNB_STORE": str(isolated_store), "PYTHONPATH": str(tmp_path)}
        with KernelSession(tmp_path, env) as kernel:
            kernel.run("%load_ext hitnb\nimport handle")
            said.append(kernel.run(CELL) + kernel.run("%hitnb why") + kernel.run("print(n)"))
        attempts.append(len(lines(tmp_path / "attempts.log")))
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
