"""What a hit shows is what the run showed: a trailing `;` hides the value on both, and a
logging handler bound to the kernel's stream before the cell is replayed."""

from __future__ import annotations

from pathlib import Path

import pytest
from nbhelpers import KernelSession

pytestmark = pytest.mark.slow

SETUP = (
    "%load_ext hitnb\nimport logging, sys\nlog = logging.getLogger('demo')\n"
    "log.addHandler(logging.StreamHandler(sys.stderr))\nlog.setLevel(logging.INFO)"
)
CELL = "%%memo\nx = [1, 2, 3]\nlog.info('logged %d', len(x))\nx.copy();"


def _shown(cell) -> list[tuple[str, str]]:
    """Outputs other than hitnb's badge, as (kind, text)."""
    return [
        (o.output_type, o.get("text") or o.get("data", {}).get("text/plain", ""))
        for o in cell.outputs
        if not o.get("metadata", {}).get("hitnb", {}).get("badge")
    ]


def test_semicolons_and_logging_replay_as_they_ran(tmp_path: Path, isolated_store):
    shown = []
    for _ in range(2):  # the second kernel is a restart: the cell is a hit there
        with KernelSession(tmp_path, {"HITNB_STORE": str(isolated_store)}) as kernel:
            kernel.run(SETUP)
            kernel.run(CELL)
            shown.append(_shown(kernel.notebook.cells[-1]))
    assert shown[0] == [("stream", "logged 3\n")]
    assert shown[1] == shown[0]
