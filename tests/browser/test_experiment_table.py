"""The experiment table and its comparison plot render in a real JupyterLab."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
from conftest import ARTIFACTS, KERNELSPEC, open_notebook, run_all_cells
from nbformat.v4 import new_code_cell, new_notebook
from playwright.sync_api import expect

pytestmark = [pytest.mark.slow, pytest.mark.browser]

CELLS = [
    "%load_ext hitnb",
    "import hitnb\n\n@hitnb.experiment\ndef train(lr, batch_size=32):\n"
    "    accuracy = 0.5\n    for epoch in range(4):\n"
    "        accuracy += lr * (1 - accuracy) * batch_size / 64\n"
    "        hitnb.log('accuracy', accuracy, step=epoch)\n"
    "    return {'accuracy': accuracy}",
    "for lr in [0.05, 0.1, 0.3]:\n    for batch_size in [32, 64]:\n        train(lr, batch_size)",
    "table = hitnb.table(train)\ntable.select()\nfigure = table.compare('accuracy')\ntable",
]


def test_table_and_plot_render(lab, page) -> None:
    path = Path(lab.root) / "sweep.ipynb"
    nbformat.write(new_notebook(cells=[new_code_cell(c) for c in CELLS], metadata=KERNELSPEC), path)
    open_notebook(lab, page, "sweep.ipynb")
    run_all_cells(page)
    table = page.locator(".hitnb-experiment-table")
    table.wait_for(timeout=60_000)
    title = table.locator("b", has_text="train").first
    title.wait_for()
    assert re.search(r"6 runs, 6 ticked", table.inner_text())
    plot = table.locator(".js-plotly-plot")
    plot.wait_for(timeout=30_000)
    assert plot.locator(".scatterlayer .trace").count() == 6
    assert table.locator(".hitnb-sort").count() == 7  # a sort button per column
    table.locator(".hitnb-sort", has_text="lr").click()
    expect(table.locator(".hitnb-sort", has_text="lr")).to_contain_text("\u25b2")  # ascending
    first_lr = table.locator(".widget-html").nth(4)  # the title, created, status, duration, lr
    expect(first_lr).to_have_text("0.05")
    table.screenshot(path=str(ARTIFACTS / "experiment-table.png"))
