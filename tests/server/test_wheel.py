"""The wheel carries everything a user needs: the server extension's config, the prebuilt
JupyterLab extension and the audit hook's C filter, so `pip install hitnb` is the whole
installation."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_wheel_ships_the_server_config_and_the_built_labextension(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
        capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    (wheel,) = tmp_path.glob("hitnb-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    data = next(n.split("/data/")[0] for n in names if "/data/" in n) + "/data/"
    assert f"{data}etc/jupyter/jupyter_server_config.d/hitnb.json" in names
    lab = f"{data}share/jupyter/labextensions/hitnb-labextension/"
    assert f"{lab}package.json" in names
    assert any(n.startswith(f"{lab}static/remoteEntry.") for n in names)
    assert not any(n.startswith("hitnb/labextension/") for n in names)  # not twice
    for helper in ("hitnb/core/_file_events.", "hitnb/hashing/_shared."):
        assert any(n.startswith(helper) and n.endswith(".so") for n in names)
    assert not wheel.name.endswith("-py3-none-any.whl")  # it holds compiled code: tagged so


@pytest.mark.slow
def test_without_a_working_compiler_the_wheel_is_pure_and_says_so(tmp_path):
    """``CC`` names the compiler, as for setuptools; one that fails leaves a pure wheel with
    the hook written in Python, and a line saying so."""
    env = {**os.environ, "CC": "false"}
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-v", "-w", str(tmp_path), str(ROOT)],
        capture_output=True, text=True, timeout=900, env=env,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    (wheel,) = tmp_path.glob("hitnb-*.whl")
    assert wheel.name.endswith("-py3-none-any.whl")
    assert not any(n.endswith(".so") for n in zipfile.ZipFile(wheel).namelist())
    assert "files are observed by a hook written in Python" in proc.stdout + proc.stderr
    assert "long lists are looked at in Python" in proc.stdout + proc.stderr
