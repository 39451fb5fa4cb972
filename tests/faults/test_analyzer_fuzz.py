"""The cell analyzer on code it has never seen: generated programs and the whole standard
library cut into cells. It must answer for every cell and never fall back to its safety net."""

from __future__ import annotations

import ast
import sysconfig
from pathlib import Path

import hypothesmith
import pytest
from hypothesis import HealthCheck, given, settings

from hitnb.core.cells import analyze_cell

pytestmark = [
    pytest.mark.slow,
    pytest.mark.faults,
    pytest.mark.filterwarnings("ignore::SyntaxWarning"),  # old escapes in some stdlib modules
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
]
SAFETY_NET = "hitnb could not analyze it"


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(hypothesmith.from_grammar())
def test_generated_programs(source):
    analysis = analyze_cell(source)
    assert not (analysis.reason or "").startswith(SAFETY_NET), analysis.reason


def cells_of(path: Path) -> list[str]:
    """A module cut into cells, one per top-level statement, as a notebook would hold it."""
    text = path.read_text(encoding="utf-8", errors="surrogateescape")
    tree = ast.parse(text)
    lines = text.splitlines(keepends=True)
    return ["".join(lines[node.lineno - 1 : node.end_lineno]) for node in tree.body]


def test_every_standard_library_module_cut_into_cells():
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    files = sorted(p for p in stdlib.rglob("*.py") if "site-packages" not in p.parts)
    analyzed = cacheable = modules = 0
    for path in files:
        try:
            cells = cells_of(path)
        except (SyntaxError, ValueError):
            continue  # test files written to be invalid, or for another version
        modules += 1
        for cell in cells:
            analysis = analyze_cell(cell)
            assert not (analysis.reason or "").startswith(SAFETY_NET), (
                path,
                cell[:200],
                analysis.reason,
            )
            analyzed += 1
            cacheable += analysis.cacheable
    assert modules > 1000 and analyzed > 20_000
    print(f"{modules} modules, {analyzed} cells analyzed, {cacheable} cacheable")
