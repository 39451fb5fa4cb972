"""A store that cannot be used (a file where its folder should be): in a real kernel the
``%%memo`` cell and the ``@memo`` call still run, with one message naming path and fix."""

from __future__ import annotations

import pytest
from nbhelpers import KernelSession

pytestmark = pytest.mark.slow


def test_memo_cell_runs_when_the_store_is_a_file(tmp_path):
    where = tmp_path / "store-file"
    where.write_text("")
    with KernelSession(tmp_path, {"HITNB_STORE": str(where)}) as kernel:
        shown = kernel.run("%load_ext hitnb")
        cell = "%%memo\nprint('cell ran')\nopen('runs.txt', 'a').write('x')\ntotal = sum(range(4))"
        shown += kernel.run(cell)
        shown += kernel.run(cell)  # a hit in the temporary store: replayed, not run
        shown += kernel.run(
            "from hitnb import memo\n@memo\ndef f(x):\n    print('f ran')\n    return x\n"
            "print(f(total), f(total))"
        )
    assert shown.count("cell ran") == 2
    assert (tmp_path / "runs.txt").read_text() == "x"
    assert "f ran\n6 6" in shown
    assert shown.count(f"{where} is a file, not a folder") == 1
    assert "FileExistsError" not in shown
