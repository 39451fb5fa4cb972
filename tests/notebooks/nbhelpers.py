"""Helpers for notebook tests: where the examples are, and what a cell printed."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import nbformat

EXAMPLES = Path(__file__).resolve().parents[2] / "example_notebooks"


def stream_text(cell: nbformat.NotebookNode) -> str:
    """Everything a cell printed to stdout."""
    return "".join(o.get("text", "") for o in cell.get("outputs", []) if o.output_type == "stream")


def printed(notebook: nbformat.NotebookNode) -> str:
    """Everything a notebook's cells printed, in order."""
    return "".join(stream_text(c) for c in notebook.cells)


class KernelSession:
    """A live notebook in a fresh kernel: ``run(source)`` executes one more cell in it.

    Cells run exactly as a user's would (nbclient drives a real ipykernel), and the
    notebook they build up is kept in ``notebook``.
    """

    def __init__(self, cwd: Path, env: dict[str, str]) -> None:
        from nbclient import NotebookClient
        from nbformat.v4 import new_notebook

        self.notebook = new_notebook()
        self._env = env
        self._client = NotebookClient(
            self.notebook,
            timeout=120,
            kernel_name="python3",
            resources={"metadata": {"path": str(cwd)}},
        )
        self._context: Any = None

    def __enter__(self) -> KernelSession:
        saved = {name: os.environ.get(name) for name in self._env}
        os.environ.update(self._env)  # the kernel process inherits our environment
        try:
            self._context = self._client.setup_kernel()
            self._context.__enter__()
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
        return self

    def __exit__(self, *exc: object) -> None:
        self._context.__exit__(*exc)

    def run(self, source: str) -> str:
        """Execute one cell; return what it printed. Errors raise CellExecutionError."""
        from nbformat.v4 import new_code_cell

        cell = new_code_cell(source)
        self.notebook.cells.append(cell)
        self._client.execute_cell(cell, len(self.notebook.cells) - 1)
        return stream_text(cell)


def printed_in_fresh_kernels(
    cwd: Path, env: dict[str, str], cells: list[str], kernels: int = 2
) -> list[list[str]]:
    """Run ``cells`` in ``kernels`` fresh kernels one after the other (a restart between
    them); what each cell printed, per kernel."""
    runs = []
    for _ in range(kernels):
        with KernelSession(cwd, env) as kernel:
            runs.append([kernel.run(cell) for cell in cells])
    return runs
