"""The table model: rows, sorting, filtering, paging and selection, with no widget at all."""

from __future__ import annotations

import datetime as dt

import pytest

from hitnb.core.runs import Run
from hitnb.widgets.model import RunTable


def run(i: int, lr: float, status: str = "ok", **metrics: float) -> Run:
    return Run(
        key=f"{i:032x}",
        function="__main__.train",
        arguments={"lr": lr, "optimizer": "adam" if i % 2 else "sgd"},
        created=dt.datetime(2026, 11, 1, 12, 0, i % 60, tzinfo=dt.UTC),
        duration=float(i),
        experiment=True,
        hits=0,
        size=10,
        codec="pickle",
        status=status,
        metrics=metrics,
    )


@pytest.fixture
def table() -> RunTable:
    runs = [run(i, lr=i / 100, accuracy=1 - i / 100) for i in range(45)]
    runs.append(run(45, lr=0.5, status="failed"))
    return RunTable.from_runs(runs, page_size=10)


def test_rows_and_columns(table):
    assert len(table.rows) == 46
    assert table.columns[:4] == ["key", "created", "status", "duration"]
    assert table.parameter_columns == ["lr", "optimizer"]
    assert table.metric_columns == ["accuracy"]


def test_sorting_flips_and_keeps_missing_values_last(table):
    assert table.sort_column == "created" and table.descending
    table.sort("accuracy")
    values = [r.get("accuracy") for r in table.visible()]
    assert values[0] == pytest.approx(0.56) and values[-1] is None
    table.sort("accuracy")
    values = [r.get("accuracy") for r in table.visible()]
    assert values[0] == 1.0 and values[-1] is None
    with pytest.raises(KeyError, match="no column 'colour'"):
        table.sort("colour")


def test_filtering_by_terms_and_words(table):
    table.set_filter("lr<0.05")
    assert sorted(r["lr"] for r in table.visible()) == [0.0, 0.01, 0.02, 0.03, 0.04]
    table.set_filter("lr<0.05 optimizer=adam")
    assert sorted(r["lr"] for r in table.visible()) == [0.01, 0.03]
    table.set_filter("status=failed")
    assert [r["lr"] for r in table.visible()] == [0.5]
    table.set_filter("SGD")
    assert {r["optimizer"] for r in table.visible()} == {"sgd"}
    table.set_filter("accuracy>=0.99, lr != 0")
    assert [r["lr"] for r in table.visible()] == [0.01]
    table.set_filter("nosuchcolumn>1")
    assert table.visible() == []


def test_paging_stays_in_bounds_and_the_filter_resets_it(table):
    assert table.pages == 5
    assert len(table.page_rows()) == 10
    table.go_to(4)
    assert len(table.page_rows()) == 6
    table.go_to(99)
    assert table.page == 4
    table.go_to(-3)
    assert table.page == 0
    table.go_to(2)
    table.set_filter("adam")
    assert table.page == 0 and table.pages == 3


def test_selection_and_refresh(table):
    first, second = table.rows[0]["key"], table.rows[1]["key"]
    table.toggle(first)
    table.toggle(second)
    table.toggle(first)
    assert table.selected == [second]
    with pytest.raises(KeyError, match="no run with key"):
        table.toggle("f" * 32)
    table.set_filter("adam")
    table.replace_runs([run(1, lr=0.01), run(99, lr=0.9)])
    assert table.selected == [second] and table.filter_text == "adam"
    table.replace_runs([run(2, lr=0.02)])
    assert table.selected == []  # the ticked run is gone
