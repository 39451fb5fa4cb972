"""Every benchmark still runs (tiny sizes) and reports each measure with its anchor: they
must never rot. The slow ones (a kernel-sized shell, big values) carry the slow marker."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def smoke(script: str) -> str:
    """What ``benchmarks/SCRIPT --smoke`` printed (it must succeed)."""
    out = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / script), "--smoke"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_benchmark_smoke_run_prints_the_table():
    printed = smoke("run.py")
    assert "| disk-backed hit, small args |" in printed
    assert "x faster than joblib" in printed
    assert "of raw xxh3" in printed
    assert "| first call in a fresh process (a hit) |" in printed


def test_files_benchmark_smoke_run_prints_every_ratio():
    printed = smoke("files.py")
    assert "| hit whose run read a 300 MB file |" in printed
    assert "a hit whose run read no file" in printed
    for reader in ("pandas.read_csv of each", "json.load of each", "bytes only"):
        for when in ("first miss", "later miss"):
            assert f"| {when}, 1,000 small files read ({reader}) |" in printed
    assert printed.count("observing adds") == 6
    assert printed.count("the hook adds") == 3


@pytest.mark.slow
def test_values_benchmark_smoke_run_prints_every_ratio():
    printed = smoke("values.py")
    for words in ("the speed of pickle+xxh3", "of np.save+fsync", "of np.load",
                  "pyarrow's Parquet write", "pyarrow's Parquet read"):  # fmt: skip
        assert words in printed, words


@pytest.mark.slow
def test_exact_runs_benchmark_smoke_run_prints_every_ratio():
    printed = smoke("exact_runs.py")
    for words in ("after-run comparison vs without", "first `%%memo` run vs the plain cell",
                  "a hit vs the plain cell"):  # fmt: skip
        assert words in printed, words


@pytest.mark.slow
def test_cheap_cells_benchmark_smoke_run_prints_the_table():
    printed = smoke("cheap_cells.py")
    assert "| `x = np.zeros(1_000_000)` |" in printed


@pytest.mark.slow
def test_frame_room_benchmark_smoke_run_prints_every_ratio():
    printed = smoke("frame_room.py")
    for words in ("| plainly |", "| below the frame room |", "| a hit |",
                  "| a hit without the frame room |"):  # fmt: skip
        assert words in printed, words
