"""Every rule of invalidation, as plain Python programs in a temp project (fresh processes)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from dependency_cases import CASES, MARK, Case


def write_project(root: Path, cells: list[str], files: dict[str, str | None]) -> None:
    for name, text in files.items():
        path = root / name
        if text is None:
            path.unlink()
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    (root / "main.py").write_text("\n\n".join(cells) + "\n")


def computes(root: Path, store: Path) -> int:
    env = {
        **os.environ,
        "HITNB_STORE": str(store),
        "PYTHONPATH": str(root / "site-packages"),
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    proc = subprocess.run(
        [sys.executable, "main.py"], cwd=root, env=env, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    assert "result" in proc.stdout
    return proc.stdout.count(MARK)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_rule(case: Case, tmp_path: Path, isolated_store: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    write_project(project, case.cells, dict(case.files))
    assert computes(project, isolated_store) >= 1
    write_project(project, case.edited, dict(case.edited_files))
    recomputed = computes(project, isolated_store)
    assert recomputed > 0 if case.recompute else recomputed == 0
    assert computes(project, isolated_store) == 0, "the edited program must hit when run again"
