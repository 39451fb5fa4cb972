"""The exact-runs benchmark still runs (tiny sizes) and reports each measure with its anchor."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_exact_runs_benchmark_smoke_run_prints_every_ratio():
    out = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "exact_runs.py"), "--smoke"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    for words in ("after-run comparison vs without", "first `%%memo` run vs the plain cell",
                  "a hit vs the plain cell"):  # fmt: skip
        assert words in out.stdout, words
