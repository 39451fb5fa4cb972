"""A real JupyterLab on loopback and Debian's Chromium driven by Playwright.

The browser is /usr/bin/chromium (``make test`` installs it with apt-get); Playwright
never downloads one. Screenshots go to ``test-artifacts/``.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Lab:
    """A running ``jupyter lab`` server."""

    def __init__(self, root: Path, store: Path) -> None:
        self.root = root
        self.token = secrets.token_hex(16)
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {
            **os.environ,
            "HITNB_STORE": str(store),
            "JUPYTER_CONFIG_DIR": str(root / ".jupyter"),
            "JUPYTER_RUNTIME_DIR": str(root / ".runtime"),
        }
        as_root = ["--allow-root"] if os.geteuid() == 0 else []
        settings = root / ".lab-settings" / "@jupyterlab" / "apputils-extension"
        settings.mkdir(parents=True)
        (settings / "notification.jupyterlab-settings").write_text('{"fetchNews": "false"}')
        self.log = (root / "lab.log").open("w")
        self.process = subprocess.Popen(
            [
                sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1",
                f"--port={self.port}", f"--IdentityProvider.token={self.token}",
                f"--ServerApp.root_dir={root}", "--LabApp.news_url=",
                "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
                f"--LabApp.user_settings_dir={root / '.lab-settings'}", *as_root,
            ],
            env=env, stdout=self.log, stderr=subprocess.STDOUT, cwd=root,
        )  # fmt: skip
        self._wait_ready()

    def _wait_ready(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"jupyter lab exited: {(self.root / 'lab.log').read_text()}")
            try:
                with urllib.request.urlopen(f"{self.url}/api/status?token={self.token}", timeout=2):
                    return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError("jupyter lab did not start in time")

    def api(self, path: str) -> Any:
        with urllib.request.urlopen(f"{self.url}/{path}?token={self.token}", timeout=5) as reply:
            return json.load(reply)

    def wait_for_kernel(self, notebook: str, timeout: float = 90) -> None:
        """Until the notebook's kernel has started and is idle (the server knows for sure)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for session in self.api("api/sessions"):
                kernel = session.get("kernel") or {}
                if session.get("path") == notebook and kernel.get("execution_state") == "idle":
                    return
            time.sleep(0.3)
        raise RuntimeError(f"the kernel of {notebook} did not become idle in time")

    def page_url(self, path: str) -> str:
        return f"{self.url}/{path}?token={self.token}"

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


@pytest.fixture
def lab(tmp_path: Path, isolated_store: Path) -> Iterator[Lab]:
    root = tmp_path / "lab"
    root.mkdir()
    server = Lab(root, isolated_store)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def page() -> Iterator[object]:
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (make test installs it)")
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        try:
            yield context.new_page()
        finally:
            context.close()
            browser.close()


KERNELSPEC = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}
"""Notebook metadata naming the kernel, so JupyterLab starts it without asking."""


def open_notebook(lab: Lab, page: Any, name: str) -> None:
    """Open a notebook in JupyterLab and wait until its kernel is ready."""
    page.goto(lab.page_url(f"lab/tree/{name}"))
    page.locator(".jp-Notebook").wait_for(timeout=60_000)
    lab.wait_for_kernel(name)
    page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").wait_for(timeout=30_000)


def run_all_cells(page: object) -> None:
    """Run > Run All Cells, from JupyterLab's own menu."""
    page.get_by_role("menuitem", name="Run", exact=True).click()  # type: ignore[attr-defined]
    page.get_by_role("menuitem", name="Run All Cells", exact=True).click()  # type: ignore[attr-defined]
