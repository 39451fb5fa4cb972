"""The benchmark suite still runs (tiny sizes): it must never rot."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_benchmark_smoke_run_prints_the_table():
    out = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "run.py"), "--smoke"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    assert "| disk-backed hit, small args |" in out.stdout
    assert "x faster than joblib" in out.stdout
    assert "of raw xxh3" in out.stdout


def test_files_benchmark_smoke_run_prints_every_ratio():
    out = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "files.py"), "--smoke"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    assert "| hit whose run read a 300 MB file |" in out.stdout
    assert "a hit whose run read no file" in out.stdout
    for reader in ("pandas.read_csv of each", "json.load of each", "bytes only"):
        for when in ("first miss", "later miss"):
            assert f"| {when}, 1,000 small files read ({reader}) |" in out.stdout
    assert out.stdout.count("observing adds") == 6
    assert out.stdout.count("the hook adds") == 3


@pytest.mark.slow
def test_cheap_cells_benchmark_smoke_run_prints_the_table():
    out = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "cheap_cells.py"), "--smoke"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    assert "| `x = np.zeros(1_000_000)` |" in out.stdout
