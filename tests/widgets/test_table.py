"""The experiment table widget, driven in-process the way a user's clicks drive it."""

from __future__ import annotations

from pathlib import Path

import pytest

import hitnb
from hitnb.widgets import table as table_module
from hitnb.widgets.table import ExperimentTable, detail_html


@hitnb.experiment
def train(lr, batch_size=32):
    accuracy = 0.5
    for epoch in range(3):
        accuracy += lr * (1 - accuracy)
        hitnb.log("accuracy", accuracy, step=epoch)
    return {"accuracy": accuracy}


@pytest.fixture
def swept():
    for lr in (0.01, 0.05, 0.1, 0.2, 0.3):
        for batch_size in (16, 32, 64):
            train(lr, batch_size)
    return train


def cells(table: ExperimentTable) -> list[str]:
    """The text of every grid cell, header included."""
    out = []
    for child in table.grid.children:
        out.append(getattr(child, "description", None) or getattr(child, "value", ""))
    return [str(c) for c in out]


def test_the_table_shows_a_page_of_runs(swept):
    table = hitnb.table(swept, page_size=10)
    columns = table.model.columns
    assert columns == ["key", "created", "status", "duration", "lr", "batch_size", "accuracy"]
    assert len(table.grid.children) == (len(columns) + 1) * (10 + 1)
    assert "15 runs" in table.title.value
    assert table.page_label.value == "page 1 of 2"
    assert list(table.metric.options) == ["accuracy"]


def test_headers_sort_and_the_filter_filters(swept):
    table = hitnb.table(swept, page_size=20)
    header = {b.description.split(" ")[0]: b for b in table.grid.children[1:8]}
    header["lr"].click()
    assert [r["lr"] for r in table.model.page_rows()][:3] == [0.01, 0.01, 0.01]
    header = {b.description.split(" ")[0]: b for b in table.grid.children[1:8]}
    assert header["lr"].description == "lr \u25b2"
    header["lr"].click()
    assert table.model.page_rows()[0]["lr"] == 0.3
    table.filter_box.value = "lr < 0.1 batch_size=64"
    assert sorted(r["lr"] for r in table.model.visible()) == [0.01, 0.05]
    assert "2 shown" in table.title.value


def test_paging_buttons(swept):
    table = hitnb.table(swept, page_size=4)
    table.next.click()
    table.next.click()
    assert table.page_label.value == "page 3 of 4"
    table.next.click()
    table.next.click()
    assert table.page_label.value == "page 4 of 4"
    table.previous.click()
    assert table.model.page == 2


def test_ticking_and_comparing(swept):
    table = hitnb.table(swept, page_size=20)
    ticks = [c for c in table.grid.children if c.__class__.__name__ == "Checkbox"]
    ticks[0].value = True
    ticks[3].value = True
    assert len(table.model.selected) == 2
    assert "2 ticked" in table.title.value
    figure = table.compare("accuracy")
    assert len(figure.data) == 2
    assert all(len(trace.x) == 3 for trace in figure.data)  # the logged curves, three epochs
    sweep = table.sweep("accuracy")
    assert sweep.data[0].type == "parcoords"
    assert [d["label"] for d in sweep.data[0].dimensions] == ["lr", "batch_size", "accuracy"]


def test_the_table_refreshes_while_a_sweep_runs(swept, monkeypatch):
    monkeypatch.setattr(table_module, "_REFRESH_SECONDS", 0.0)
    table = hitnb.table(swept)
    assert len(table.model.rows) == 15
    train(0.7, 8)
    assert len(table.model.rows) == 16
    table.close()
    train(0.8, 8)
    assert len(table.model.rows) == 16  # a closed table no longer listens


def test_detail_of_a_run(swept):
    run = train.runs()[0]
    text = detail_html(run)
    assert run.key[:12] in text and "accuracy" in text and "batch_size" in text


def test_all_experiments_and_a_function_without_metrics():
    @hitnb.experiment
    def plain(x):
        return x

    plain(1)
    table = ExperimentTable()
    assert "all experiments" in table.title.value
    with pytest.raises(ValueError, match="no metrics to plot"):
        table.compare()


def test_export_from_the_table(swept, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    table = hitnb.table(swept)
    with pytest.raises(ValueError, match="tick the runs to export"):
        table.export()
    table.select([r["key"] for r in table.model.rows[:2]])
    path = table.export()
    assert path.exists() and path.name == "test_table_train-2-runs.ipynb"


def test_a_run_detail_lists_the_files_it_read_and_wrote(tmp_path):
    (tmp_path / "weights.txt").write_text("0.5\n")

    @hitnb.experiment
    def fit(lr):
        scale = float(Path("weights.txt").read_text())
        with open("model.txt", "w") as fh:
            fh.write(str(lr * scale))
        return {"loss": lr * scale}

    fit(0.1)
    run = fit.runs()[0]
    detail = detail_html(run)
    read, written = run.files.read[0], run.files.written[0]
    assert "<h5>Files read</h5>" in detail and "<h5>Files written</h5>" in detail
    assert 'weights.txt</span></td><td><span style="white-space:nowrap">4 bytes' in detail
    assert f"xxh3 {read.digest[:12]}" in detail
    assert 'model.txt</span></td><td><span style="white-space:nowrap">4 bytes' in detail
    assert f"xxh3 {written.digest[:12]}" in detail
