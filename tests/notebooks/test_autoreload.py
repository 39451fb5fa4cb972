"""``%autoreload 2``, the common way to work on modules from a notebook: it patches ``__code__``
on the same function objects, and hitnb must see the edit (in functions and in cells)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from nbhelpers import KernelSession

pytestmark = pytest.mark.slow


def _write(path: Path, text: str, tick: int) -> None:
    path.write_text(text)
    stamp = 1_700_000_000 + tick  # a visibly newer mtime, whatever the clock's resolution
    os.utime(path, (stamp, stamp))


def test_autoreloaded_edits_recompute_functions_and_cells(tmp_path: Path, isolated_store):
    utils = tmp_path / "utils.py"
    _write(utils, "def helper(x):\n    return x + 1\n", 0)
    with KernelSession(tmp_path, {"HITNB_STORE": str(isolated_store)}) as kernel:
        kernel.run("%load_ext hitnb\n%load_ext autoreload\n%autoreload 2")
        kernel.run(
            "import hitnb, utils\nfrom utils import helper\n"
            "@hitnb.memo\ndef f(x):\n    return utils.helper(x) * 10\n"
            "@hitnb.memo\ndef g(x):\n    return helper(x) * 100"
        )
        cell = "%%memo\ncelled = helper(5)\nprint('cell', celled)"
        before = kernel.run("print(f(1), g(1))"), kernel.run(cell)
        _write(utils, "def helper(x):\n    return x + 2\n", 10)
        after = kernel.run("print(f(1), g(1))"), kernel.run(cell)
    assert before == ("20 200\n", "cell 6\n")
    assert after[0].endswith("30 300\n")
    assert "recomputing f: helper `utils.helper` changed" in after[0]  # and it says why
    assert after[1].startswith("cell 7\n")


def test_a_memoized_function_imported_by_name_runs_its_new_code(tmp_path: Path, isolated_store):
    """``from utils import load`` where ``load`` is ``@hitnb.memo``: autoreload updates the
    functions of a reloaded module in place, not other objects, and the imported name kept
    the old wrapper, which ran and served the old code while ``utils.load`` had the new."""
    utils = tmp_path / "utils.py"
    source = "import hitnb\n@hitnb.memo\ndef load(n):\n    return n * {}\n"
    _write(utils, source.format(10), 0)
    with KernelSession(tmp_path, {"HITNB_STORE": str(isolated_store)}) as kernel:
        kernel.run("%load_ext hitnb\n%load_ext autoreload\n%autoreload 2")
        kernel.run("import utils\nfrom utils import load")
        before = kernel.run("print(load(2), utils.load(2))")
        _write(utils, source.format(20), 10)
        after = kernel.run("print(load(2), utils.load(2))")
    assert before == "20 20\n"
    assert after.endswith("40 40\n")
