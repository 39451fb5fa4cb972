"""Helpers for notebook tests: where the examples are, and what a cell printed."""

from __future__ import annotations

from pathlib import Path

import nbformat

EXAMPLES = Path(__file__).resolve().parents[2] / "example_notebooks"


def stream_text(cell: nbformat.NotebookNode) -> str:
    """Everything a cell printed to stdout."""
    return "".join(o.get("text", "") for o in cell.get("outputs", []) if o.output_type == "stream")
