"""The example notebooks, executed in real kernels as a newcomer would run them."""

from __future__ import annotations

import re

import pytest
from nbhelpers import EXAMPLES, printed

pytestmark = pytest.mark.slow


def computed_per_cell(nb) -> list[list[str]]:
    """What the ETL notebook's ``computed: [...]`` lines report, in order."""
    return [
        re.findall(r"'(\w+)'", line)
        for line in printed(nb).splitlines()
        if line.startswith("computed:")
    ]


def test_etl_pipeline_recomputes_from_the_changed_step_on(execute_notebook):
    first = execute_notebook(EXAMPLES / "etl_pipeline.ipynb")
    assert computed_per_cell(first) == [
        ["extract", "clean", "enrich", "report"],  # first run
        [],  # the same pipeline again
        ["report"],  # the last step edited
        ["clean", "enrich", "report"],  # a helper of `clean` edited
    ]
    assert "recomputing clean: helper `is_valid` changed" in printed(first)
    second = execute_notebook(EXAMPLES / "etl_pipeline.ipynb")  # a new session, same store
    assert computed_per_cell(second) == [[], [], [], []]


def plotly_outputs(nb) -> int:
    return sum(
        "application/vnd.plotly.v1+json" in o.get("data", {})
        for c in nb.cells
        for o in c.get("outputs", [])
    )


def test_hyperparameter_sweep_stores_runs_once_and_exports_the_best(execute_notebook, tmp_path):
    import hitnb

    first = execute_notebook(EXAMPLES / "hyperparameter_sweep.ipynb")
    second = execute_notebook(EXAMPLES / "hyperparameter_sweep.ipynb")
    runs = hitnb.runs("train_model", experiments_only=True)
    assert len(runs) == 8  # 4 learning rates x 2 batch sizes, not duplicated by the second session
    assert all(len(r.series["accuracy"]) == 15 for r in runs)
    best = max(runs, key=lambda r: r.metrics["accuracy"])
    assert best.metrics["accuracy"] > 0.85
    for nb in (first, second):
        assert plotly_outputs(nb) >= 3  # the best run's figure, the comparison, the sweep view
        assert any(
            "application/vnd.jupyter.widget-view+json" in o.get("data", {})
            for c in nb.cells
            for o in c.get("outputs", [])
        )  # the inline table
        assert f"exported {best.key[:10]}" in printed(nb)


def test_shared_cache_fills_a_bucket_from_dask_and_serves_a_colleague(execute_notebook):
    nb = execute_notebook(EXAMPLES / "shared_cache.ipynb")
    text = printed(nb)
    assert "24 calls, 12 computed" in text  # each distinct call once, across two workers
    assert "12 results from the bucket" in text
    assert "CorruptEntryWarning" not in text
