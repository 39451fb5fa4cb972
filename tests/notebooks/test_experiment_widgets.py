"""A sweep in a real kernel: the saved widget state holds the table, and the comparison plot."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell, new_notebook

pytestmark = pytest.mark.slow

SWEEP = [
    "%load_ext hitnb",
    "import hitnb\nimport plotly.express as px\n\n"
    "@hitnb.experiment\n"
    "def train(lr, batch_size=32):\n"
    "    accuracy, history = 0.5, []\n"
    "    for epoch in range(4):\n"
    "        accuracy += lr * (1 - accuracy) * batch_size / 64\n"
    "        hitnb.log('accuracy', accuracy, step=epoch)\n"
    "        history.append({'epoch': epoch, 'accuracy': accuracy})\n"
    "    return {'accuracy': accuracy}, px.line(history, x='epoch', y='accuracy')",
    "for lr in [0.05, 0.1, 0.3]:\n    for batch_size in [32, 64]:\n        train(lr, batch_size)",
    "table = hitnb.table(train)\ntable.select()\nfigure = table.compare('accuracy')\ntable",
    "%experiments train",
    "hitnb.experiments(train)[['lr', 'batch_size', 'accuracy']].round(3)",
]


def widget_states(notebook: nbformat.NotebookNode) -> list[dict]:
    saved = notebook.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]
    return [model["state"] for model in saved["state"].values()]


def test_sweep_table_and_comparison_are_saved(tmp_path: Path, isolated_store: Path, monkeypatch):
    monkeypatch.setenv("HITNB_STORE", str(isolated_store))
    notebook = new_notebook(cells=[new_code_cell(source) for source in SWEEP])
    NotebookClient(
        notebook,
        timeout=300,
        kernel_name="python3",
        store_widget_state=True,
        resources={"metadata": {"path": str(tmp_path)}},
    ).execute()
    states = widget_states(notebook)
    titles = [
        s["value"]
        for s in states
        if s.get("_model_name") == "HTMLModel" and "runs" in s.get("value", "")
    ]
    assert any("<b>train</b>: 6 runs" in t and "6 ticked" in t for t in titles)
    cells_text = " ".join(
        str(s.get("value", "")) for s in states if s.get("_model_name") == "HTMLModel"
    )
    for lr in ("0.05", "0.1", "0.3"):
        assert lr in cells_text
    outputs = [
        o for s in states if s.get("_model_name") == "OutputModel" for o in s.get("outputs", [])
    ]
    plots = [o["data"]["application/vnd.plotly.v1+json"] for o in outputs
             if "application/vnd.plotly.v1+json" in o.get("data", {})]  # fmt: skip
    assert plots, "the comparison plot is in the saved widget state"
    traces = plots[0]["data"]
    assert len(traces) == 6 and all(len(t["y"]) == 4 for t in traces)
    assert plots[0]["layout"]["title"]["text"] == "accuracy of 6 runs"
    table_cell, magic_cell = notebook.cells[3], notebook.cells[4]
    for cell in (table_cell, magic_cell):
        views = [
            o
            for o in cell.outputs
            if "application/vnd.jupyter.widget-view+json" in o.get("data", {})
        ]
        assert views
    frame = notebook.cells[5].outputs[0]["data"]["text/plain"]
    assert frame.count("\n") == 7  # the header, the index name, six runs


def test_a_run_detail_opened_in_a_kernel_lists_its_files(tmp_path: Path, isolated_store: Path,
                                                         monkeypatch):  # fmt: skip
    monkeypatch.setenv("HITNB_STORE", str(isolated_store))
    (tmp_path / "weights.txt").write_text("0.5\n")
    cells = [
        "%load_ext hitnb",
        "import hitnb\n\n@hitnb.experiment\ndef fit(lr):\n"
        "    scale = float(open('weights.txt').read())\n"
        "    with open('model.txt', 'w') as fh:\n        fh.write(str(lr * scale))\n"
        "    return {'loss': lr * scale}",
        "fit(0.1)\ntable = hitnb.table(fit)\ntable.show(fit.runs()[0].key)\ntable",
    ]
    notebook = new_notebook(cells=[new_code_cell(source) for source in cells])
    NotebookClient(
        notebook, timeout=300, kernel_name="python3", store_widget_state=True,
        resources={"metadata": {"path": str(tmp_path)}},
    ).execute()  # fmt: skip
    details = [
        s["value"] for s in widget_states(notebook)
        if s.get("_model_name") == "HTMLModel" and "<h4>Run " in s.get("value", "")
    ]  # fmt: skip
    assert len(details) == 1
    detail = details[0]
    assert "<h5>Files read</h5>" in detail and "<h5>Files written</h5>" in detail
    assert ">weights.txt<" in detail and ">model.txt<" in detail
    assert detail.count("4 bytes") == 2 and detail.count("xxh3 ") == 2


def test_cells_plotting_into_the_table_finish_under_cpu_load(tmp_path: Path, isolated_store: Path,
                                                              monkeypatch):  # fmt: skip
    """compare, sweep and a run's detail, cell after cell, while two busy processes hold the
    CPUs: each cell's reply arrives promptly. When the plots were captured with
    ``with output:``, nbclient answered with widget updates while the cell ran, and under
    ipykernel 7 about one such cell in ten waited out the whole timeout for its reply."""
    import subprocess
    import sys
    import time

    monkeypatch.setenv("HITNB_STORE", str(isolated_store))
    cells = [
        "%load_ext hitnb",
        "import hitnb\n\n@hitnb.experiment\ndef fit(lr, batch):\n"
        "    for step in range(5):\n        hitnb.log('loss', lr / (step + 1), step=step)\n"
        "    return {'loss': lr / 5}\n\n"
        "for lr in (0.1, 0.2):\n    for batch in (16, 32):\n        fit(lr, batch)\n"
        "table = hitnb.table(fit)\ntable",
    ]
    cells += ["table.compare('loss')", "table.sweep('loss')", "table.show(fit.runs()[0].key)"] * 5
    notebook = new_notebook(cells=[new_code_cell(source) for source in cells])
    took: dict[int, float] = {}
    started: dict[int, float] = {}
    busy = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(2)]
    try:
        NotebookClient(
            notebook, timeout=30, kernel_name="python3", store_widget_state=True,
            resources={"metadata": {"path": str(tmp_path)}},
            on_cell_start=lambda cell, cell_index: started.__setitem__(cell_index, time.time()),
            on_cell_executed=lambda cell, cell_index, execute_reply: took.__setitem__(
                cell_index, time.time() - started[cell_index]),
        ).execute()  # fmt: skip
    finally:
        for process in busy:
            process.kill()
    slow = {index: round(seconds, 1) for index, seconds in took.items() if seconds > 10}
    assert len(took) == len(cells) and not slow
    plots = [
        o for s in widget_states(notebook) if s.get("_model_name") == "OutputModel"
        for o in s.get("outputs", []) if "application/vnd.plotly.v1+json" in o.get("data", {})
    ]  # fmt: skip
    assert plots  # the figures are in the table's outputs, not only in the cells
