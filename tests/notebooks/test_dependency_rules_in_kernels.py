"""Every rule of invalidation in a real notebook kernel: define, call, edit, call again."""

from __future__ import annotations

from pathlib import Path

import pytest
from dependency_cases import CASES, MARK, Case
from nbhelpers import KernelSession

pytestmark = pytest.mark.slow


def write_files(root: Path, files: dict[str, str | None]) -> None:
    for name, text in files.items():
        path = root / name
        if text is None:
            path.unlink()
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)


def computes(kernel: KernelSession, cells: list[str]) -> int:
    return sum(kernel.run(cell).count(MARK) for cell in cells)


def rerun_edited(kernel: KernelSession, case: Case) -> int:
    """Re-run the cells the edit changed or added, then the call; if none changed, all."""
    body = case.edited[:-1]
    changed = [cell for cell in body if cell not in case.cells]
    return computes(kernel, [*(changed or body), case.edited[-1]])


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_rule_in_a_kernel(case: Case, tmp_path: Path, isolated_store: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    write_files(project, dict(case.files))
    env = {"HITNB_STORE": str(isolated_store), "PYTHONPATH": str(project / "site-packages")}
    with KernelSession(project, env) as kernel:
        assert computes(kernel, case.cells) >= 1
        write_files(project, dict(case.edited_files))
        if not case.restart:
            after = rerun_edited(kernel, case)
            again = computes(kernel, [case.edited[-1]])
    if case.restart:
        with KernelSession(project, env) as fresh:
            after = computes(fresh, case.edited)
            again = computes(fresh, [case.edited[-1]])
    assert after > 0 if case.recompute else after == 0
    assert again == 0, "calling again after the edit must hit"


def test_the_same_notebook_in_a_second_fresh_kernel_hits_every_call(
    tmp_path: Path, isolated_store: Path
) -> None:
    project = tmp_path / "project"
    project.mkdir()
    env = {"HITNB_STORE": str(isolated_store), "PYTHONPATH": ""}
    cells = [  # every self-contained case's notebook, one after another, each its own target
        cell.replace("target", f"target_{i}")
        for i, case in enumerate(CASES)
        if not case.files
        for cell in case.edited
    ]
    with KernelSession(project, env) as first:
        assert computes(first, cells) > 0
    with KernelSession(project, env) as second:
        assert computes(second, cells) == 0


def test_a_miss_in_a_notebook_says_why_in_one_line(tmp_path: Path, isolated_store: Path) -> None:
    env = {"HITNB_STORE": str(isolated_store), "PYTHONPATH": ""}
    with KernelSession(tmp_path, env) as kernel:
        kernel.run("from hitnb import memo\nTHRESHOLD = 0.5")
        kernel.run("@memo\ndef target(x):\n    print('COMPUTE')\n    return x > THRESHOLD")
        first = kernel.run("target(1)")
        assert first == "COMPUTE\n"  # a first call has nothing to explain
        kernel.run("THRESHOLD = 0.7")
        changed = kernel.run("target(1)")
        assert changed == (
            "hitnb: recomputing target: global `THRESHOLD` changed 0.5 -> 0.7\nCOMPUTE\n"
        )
        assert kernel.run("target(2)") == "COMPUTE\n"  # new arguments are no news
        kernel.run("import hitnb\nhitnb.configure(quiet=True)\nTHRESHOLD = 0.9")
        assert kernel.run("target(1)") == "COMPUTE\n"
