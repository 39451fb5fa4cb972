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
