"""The value hashing and storage benchmark still runs (tiny sizes) and reports every ratio."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_values_benchmark_smoke_run_prints_every_ratio():
    out = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "values.py"), "--smoke"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    for words in ("the speed of pickle+xxh3", "of np.save+fsync", "of np.load",
                  "pyarrow's Parquet write", "pyarrow's Parquet read"):  # fmt: skip
        assert words in out.stdout, words
