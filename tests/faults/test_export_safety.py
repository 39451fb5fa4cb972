"""An exported notebook never runs a name as code, never lets text out of its markdown, and
never replaces an existing file unless asked."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import mistune
import nbformat
import pytest
from click.testing import CliRunner

import hitnb
from hitnb.cli import main
from hitnb.exporting.notebook import export

pytestmark = [
    pytest.mark.slow,
    pytest.mark.faults,
    pytest.mark.filterwarnings("ignore:exported to .* was defined inside"),  # test-made
]

EVIL = "double(0) or __import__('os').system('touch PWNED') or double"


def run_code_cells(notebook: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run the notebook's code cells in order in a fresh interpreter, as a kernel would
    (magics left out), and return how it went."""
    cells = nbformat.read(notebook, as_version=4).cells
    code = "\n\n".join(
        "\n".join(line for line in c.source.splitlines() if not line.startswith("%"))
        for c in cells
        if c.cell_type == "code"
    )
    script = cwd / "exported.py"
    script.write_text(code)
    return subprocess.run([sys.executable, str(script)], cwd=cwd, capture_output=True,
                          text=True, env={**os.environ})  # fmt: skip


def test_a_function_name_carrying_code_never_runs_it(tmp_path: Path):
    """Before: the code in ``__name__`` ran when the exported notebook was executed."""

    def double(x):
        return 2 * x

    double.__name__ = EVIL
    memoized = hitnb.memo(double)
    assert memoized(21) == 42
    path = export(memoized.runs()[0].key, tmp_path / "run.ipynb")
    work = tmp_path / "work"
    work.mkdir()
    run_code_cells(path, work)
    assert not (work / "PWNED").exists()
    source = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells)
    assert f"globals()[{EVIL!r}]" in source


@pytest.mark.parametrize(
    "name",
    ["a`b", "x` <script>alert(1)</script> `y", "``", "| pipe | table |", "**bold** _it_"],
)
def test_names_stay_inside_the_header_markdown(tmp_path: Path, name: str):
    """Before: a ``name=`` with a backtick broke out of the export's markdown."""

    @hitnb.memo(name=name)
    def step(x):
        return x + 1

    assert step(1) == 2
    path = export(step.runs()[0].key, tmp_path / "run.ipynb")
    header = nbformat.read(path, as_version=4).cells[0].source
    title = mistune.html(header.splitlines()[0])
    assert "<script>" not in title
    code = title.split("<code>", 1)[1].split("</code>", 1)[0]
    assert title.count("<code>") == 1 and code.replace("\\|", "|") == " ".join(
        name.split()
    ).replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def stored_run() -> str:
    @hitnb.memo
    def triple(x):
        return 3 * x

    triple(2)
    return triple.runs()[0].key


def test_the_cli_never_replaces_an_existing_notebook_unless_forced(tmp_path: Path):
    """Before: `hitnb export -o analysis.py` silently replaced an existing analysis.ipynb."""
    key = stored_run()
    mine = tmp_path / "analysis.ipynb"
    mine.write_text("my own notebook")
    runner = CliRunner()
    refused = runner.invoke(main, ["export", key, "-o", str(tmp_path / "analysis.py")])
    assert refused.exit_code == 1 and "exists already" in refused.output
    assert mine.read_text() == "my own notebook"
    forced = runner.invoke(main, ["export", key, "-o", str(mine), "--force"])
    assert forced.exit_code == 0, forced.output
    assert nbformat.read(mine, as_version=4).cells


def test_the_default_name_is_never_one_taken(tmp_path: Path):
    key = stored_run()
    runner = CliRunner()
    first = runner.invoke(main, ["export", key]).output.strip().splitlines()[-1]
    second = runner.invoke(main, ["export", key]).output.strip().splitlines()[-1]
    assert first != second and Path(first).exists() and Path(second).exists()
