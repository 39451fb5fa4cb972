"""Every test gets its own empty store and working directory; nothing touches the user's."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import hitnb
from hitnb import config


@pytest.fixture(autouse=True)
def isolated_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point hitnb at a fresh store under the test's temp folder, and run from there."""
    store = tmp_path / "store"
    for name in [n for n in os.environ if n.startswith("HITNB_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("HITNB_STORE", str(store))
    monkeypatch.setenv("HITNB_CONFIG", str(tmp_path / "user-config.toml"))  # never the user's
    monkeypatch.chdir(tmp_path)
    config.reset()
    yield store
    config.reset()


@pytest.fixture
def run_python(tmp_path: Path, isolated_store: Path):
    """Run a Python snippet in a fresh interpreter on the same store; return its stdout."""

    def run(code: str, *, env: dict[str, str] | None = None, check: bool = True) -> str:
        script = tmp_path / f"snippet_{abs(hash(code))}.py"
        script.write_text(textwrap.dedent(code))
        full_env = {**os.environ, "HITNB_STORE": str(isolated_store), **(env or {})}
        proc = subprocess.run(
            [sys.executable, str(script)],
            capture_output=True,
            text=True,
            env=full_env,
            cwd=tmp_path,
        )
        if check and proc.returncode != 0:
            raise AssertionError(f"snippet failed:\n{proc.stdout}\n{proc.stderr}")
        return proc.stdout

    return run


@pytest.fixture
def counter():
    """A call counter: ``calls = counter(); calls.hit('name')``; ``calls['name']`` counts."""

    class Counter(dict):
        def hit(self, name: str) -> None:
            self[name] = self.get(name, 0) + 1

    return Counter


__all__ = ["hitnb"]


def _mount(*args: str) -> bool:
    return subprocess.run(["mount", *args], capture_output=True).returncode == 0


@pytest.fixture
def small_disk(tmp_path: Path):
    """A 3 MB tmpfs; skipped cleanly where this process may not mount."""
    where = tmp_path / "disk"
    where.mkdir()
    if not _mount("-t", "tmpfs", "-o", "size=3m", "tmpfs", str(where)):
        pytest.skip("mounting a tmpfs is not permitted here")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], capture_output=True)


@pytest.fixture
def remount():
    """``remount(folder, "ro" | "rw")``: mount a test's tmpfs read-only or writable again."""

    def remount(folder: Path, mode: str) -> bool:
        return _mount("-o", f"remount,{mode}", str(folder))

    return remount
