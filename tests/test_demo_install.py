"""The newcomer's path: ``make demo`` leaves JupyterLab with the hitnb panel, and the built
wheel installed into a fresh virtualenv gives an enabled server extension and lab
extension, and runs the quickstart without kernel warnings."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _run(*args: str | Path, env: dict[str, str] | None = None, timeout: float = 900) -> str:
    proc = subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, env=env, timeout=timeout
    )
    output = _ANSI.sub("", proc.stdout + proc.stderr)
    assert proc.returncode == 0, output
    return output


def test_make_demo_links_the_labextension():
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    plan = _run("make", "-n", "-C", ROOT, "demo")
    assert "share/jupyter/labextensions/hitnb-labextension" in plan
    assert plan.index("hitnb-labextension") < plan.index("run_demo.py")


@pytest.mark.slow
def test_the_built_wheel_in_a_fresh_virtualenv(tmp_path):
    dist = tmp_path / "dist"
    _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", dist, ROOT)
    (wheel,) = dist.glob("hitnb-*.whl")
    venv = tmp_path / "venv"
    _run(sys.executable, "-m", "venv", venv)
    python = venv / "bin" / "python"
    _run(
        python, "-m", "pip", "install", "-q", f"{wheel}[server]", "jupyterlab", "nbclient",
        "ipykernel",
    )  # fmt: skip
    home = tmp_path / "home"
    home.mkdir()
    env = {
        "PATH": f"{venv / 'bin'}:/usr/bin:/bin",
        "HOME": str(home),  # no user-level Jupyter config or extensions leak in
        "JUPYTER_PLATFORM_DIRS": "1",
    }
    lab = _run(venv / "bin" / "jupyter", "labextension", "list", env=env)
    assert re.search(r"hitnb-labextension v\S+ enabled OK", lab), lab
    server = _run(venv / "bin" / "jupyter", "server", "extension", "list", env=env)
    assert re.search(r"hitnb\.server enabled", server), server
    assert re.search(r"hitnb\.server\s+OK", server), server

    hook = _run(
        python, "-c",
        "from hitnb.core import files\nwith files.observing(): pass\nprint(files.hook)",
    )  # fmt: skip
    assert hook.strip() == "compiled"

    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    shutil.copy(ROOT / "example_notebooks" / "quickstart.ipynb", notebooks)
    demo = _run(
        python, ROOT / "example_notebooks" / "run_demo.py", notebooks / "quickstart.ipynb",
        env={**env, "HITNB_CONFIG": str(tmp_path / "hitnb.toml")},
    )  # fmt: skip
    assert "second run (served by the store)" in demo
    assert "WARNING" not in demo and "Warning" not in demo, demo  # no kernel warnings
    assert sorted(p.name for p in notebooks.iterdir()) == ["quickstart.ipynb"]  # no sockets


@pytest.mark.slow
def test_the_demo_prints_no_kernel_warnings(tmp_path):
    shutil.copy(ROOT / "example_notebooks" / "quickstart.ipynb", tmp_path)
    output = _run(
        sys.executable, ROOT / "example_notebooks" / "run_demo.py", tmp_path / "quickstart.ipynb",
        env={**os.environ, "HITNB_CONFIG": str(tmp_path / "hitnb.toml")},
    )  # fmt: skip
    assert "without encryption" not in output, output
    assert "time saved by the cache" in output
