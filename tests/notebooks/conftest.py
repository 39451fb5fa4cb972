"""Run notebooks in real kernels (nbclient) against the test's store."""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient


@pytest.fixture
def execute_notebook(isolated_store: Path, tmp_path: Path):
    """Execute a notebook in a fresh kernel whose HITNB_STORE is the test's store."""

    def execute(notebook: nbformat.NotebookNode | Path, **kw: object) -> nbformat.NotebookNode:
        nb = nbformat.read(notebook, as_version=4) if isinstance(notebook, Path) else notebook
        env_before = os.environ.get("HITNB_STORE")
        os.environ["HITNB_STORE"] = str(isolated_store)
        try:
            NotebookClient(
                nb,
                timeout=300,
                kernel_name="python3",
                resources={"metadata": {"path": str(tmp_path)}},
                **kw,
            ).execute()
        finally:
            if env_before is None:
                os.environ.pop("HITNB_STORE", None)
            else:
                os.environ["HITNB_STORE"] = env_before
        return nb

    return execute
