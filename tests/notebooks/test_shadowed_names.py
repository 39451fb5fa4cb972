"""A user's own binding of a name IPython also defines (``display``) is the user's."""

from __future__ import annotations

from pathlib import Path

import pytest
from nbhelpers import KernelSession

pytestmark = pytest.mark.slow

CELL = (
    "%%memo\nopen('ran.log', 'a').write('ran\\n')\n"
    "class display:\n    def __init__(self, x):\n        self.x = x\n\n"
    "shown = display(3)"
)


def test_a_user_class_named_display_comes_back(tmp_path: Path, isolated_store):
    printed = []
    for _ in range(2):  # the second kernel is a restart: the cell is a hit there
        with KernelSession(tmp_path, {"HITNB_STORE": str(isolated_store)}) as kernel:
            kernel.run("%load_ext hitnb")
            kernel.run(CELL)
            printed.append(kernel.run("print(display.__module__, isinstance(shown, display))"))
            printed.append(kernel.run("%%memo\nwrapped = display(4).x\nprint(wrapped)"))
    assert printed == ["__main__ True\n", "4\n", "__main__ True\n", "4\n"]
    assert (tmp_path / "ran.log").read_text() == "ran\n", "the restart is a hit"
