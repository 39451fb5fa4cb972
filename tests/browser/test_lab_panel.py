"""The JupyterLab side panel over the store, in a real JupyterLab and Chromium.

Needs the built extension (``make labextension``, which ``make test`` runs first).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
from conftest import ARTIFACTS
from playwright.sync_api import expect

import hitnb

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def _extension_installed() -> bool:
    return (
        Path(sys.prefix) / "share/jupyter/labextensions/hitnb-labextension/package.json"
    ).exists()


@pytest.fixture
def filled(isolated_store):
    @hitnb.experiment
    def train(lr, batch_size=32):
        return {"accuracy": round(0.5 + lr, 3)}

    @hitnb.memo
    def prepare(n):
        return list(range(n))

    for lr in (0.1, 0.3, 0.2):
        train(lr)
    prepare(3)
    prepare(5)
    return {"train": train, "prepare": prepare}


def test_panel_lists_exports_and_deletes(lab, page, filled) -> None:
    if not _extension_installed():
        pytest.skip("the labextension is not built (make labextension)")
    page.goto(lab.page_url("lab"))
    tab = page.locator(".lm-TabBar-tab[data-id='hitnb-panel']")
    tab.wait_for(timeout=60_000)
    tab.click()
    panel = page.locator("#hitnb-panel")
    expect(panel.locator(".hitnb-Usage")).to_contain_text(
        "5 entries, 3 experiment runs", timeout=30_000
    )
    functions = panel.locator(".hitnb-Functions tr[data-function]")
    expect(functions).to_have_count(2)
    expect(panel.locator(".hitnb-Functions")).to_contain_text("train")
    expect(panel.locator(".hitnb-Functions")).to_contain_text("prepare")

    # an experiment's runs, sorted by a metric
    panel.locator(".hitnb-Experiment", has_text="train").click()
    runs = panel.locator(".hitnb-Runs tr[data-key]")
    expect(runs).to_have_count(3)
    panel.locator(".hitnb-Runs th", has_text="accuracy").click()
    expect(runs.first).to_contain_text("0.6")  # lr 0.1 first, ascending
    panel.locator(".hitnb-Runs th", has_text="accuracy").click()
    expect(runs.first).to_contain_text("0.8")  # and descending
    page.screenshot(path=str(ARTIFACTS / "lab-panel.png"))

    # export the best run: the notebook is written in the workspace and opens in a tab
    best = max(filled["train"].runs(), key=lambda r: r.metrics["accuracy"])
    runs.first.get_by_role("button", name="Export").click()
    notebook = page.locator(".jp-NotebookPanel")
    expect(notebook).to_be_visible(timeout=60_000)
    exported = list((Path(lab.root) / "hitnb-exports").glob("*.ipynb"))
    assert len(exported) == 1 and exported[0].name.endswith(f"train-{best.key[:10]}.ipynb")
    expect(page.locator(".lm-TabBar-tab.jp-mod-current", has_text=best.key[:10])).to_be_visible()
    expect(notebook).to_contain_text("train(")
    page.screenshot(path=str(ARTIFACTS / "lab-panel-export.png"))

    # delete one of prepare's entries, confirming in JupyterLab's dialog
    if not panel.is_visible():
        tab.click()
    panel.locator(".hitnb-Functions tr", has_text="prepare").click()
    entries = panel.locator(".hitnb-Entries tr[data-key]")
    expect(entries).to_have_count(2)
    doomed = entries.first.get_attribute("data-key")
    entries.first.locator(".hitnb-delete").click()
    page.locator(".jp-Dialog").get_by_role("button", name="Delete").click()
    expect(entries).to_have_count(1)
    assert doomed not in {r.key for r in filled["prepare"].runs()}
    expect(panel.locator(".hitnb-Usage")).to_contain_text("4 entries")
    assert page.locator(".jp-Dialog").count() == 0  # no error dialog along the way

    # the dark theme: the panel follows JupyterLab's theme variables
    light = _luminance(panel.evaluate("n => getComputedStyle(n).backgroundColor"))
    page.get_by_role("menuitem", name="Settings", exact=True).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Theme$")).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^JupyterLab Dark$")).click()
    page.locator("body[data-jp-theme-light='false']").wait_for(state="attached", timeout=30_000)
    page.wait_for_timeout(500)  # the theme's stylesheet is swapped in
    dark = _luminance(panel.evaluate("n => getComputedStyle(n).backgroundColor"))
    text = _luminance(panel.locator(".hitnb-Usage").evaluate("n => getComputedStyle(n).color"))
    assert light > 0.8 and dark < 0.3 and text > 0.6, (light, dark, text)
    page.screenshot(path=str(ARTIFACTS / "lab-panel-dark.png"))


def _luminance(css_color: str) -> float:
    """0 (black) to 1 (white), from a computed ``rgb(r, g, b)``."""
    r, g, b = (int(c) for c in css_color[css_color.index("(") + 1 : -1].split(",")[:3])
    return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255
