"""Reads that a cell's names do not show, in real kernels: ``@name`` inside ``.query`` and
``.eval`` strings, and the modules a cell imports (a user module by its source even when it
was imported before the cell ran; a library by its installed version)."""

from __future__ import annotations

from pathlib import Path

import pytest
from nbhelpers import KernelSession, printed_in_fresh_kernels

pytestmark = pytest.mark.slow


def _session(cwd: Path, store: Path, **env: str) -> KernelSession:
    return KernelSession(cwd, {"HITNB_STORE": str(store), **env})


def test_names_read_by_query_and_eval_strings_are_inputs(tmp_path: Path, isolated_store: Path):
    with _session(tmp_path, isolated_store) as kernel:
        kernel.run("%load_ext hitnb\nimport pandas as pd\nfrom hitnb import memo")
        kernel.run("df = pd.DataFrame({'v': [1, 5, 9]})")
        query = "%%memo\nbig = df.query('v > @min_v')\nprint(len(big), df.eval('v * @k').sum())"
        kernel.run("min_v = 4\nk = 2")
        first = kernel.run(query)
        kernel.run("min_v = 8")
        fewer = kernel.run(query)
        kernel.run("k = 3")
        scaled = kernel.run(query)
        kernel.run("@memo\ndef count_above(frame):\n    return len(frame.query('v > @min_v'))")
        before = kernel.run("print(count_above(df))")
        kernel.run("min_v = 0")
        after = kernel.run("print(count_above(df))")
    assert first.strip() == "2 30"
    assert fewer.splitlines()[-1] == "1 30", "min_v changed: the cell runs again"
    assert scaled.splitlines()[-1] == "1 45", "k changed: the cell runs again"
    assert (before.strip(), after.splitlines()[-1]) == ("1", "3")


def test_a_user_module_imported_before_the_cell_still_counts(tmp_path: Path, isolated_store):
    module = tmp_path / "cleaning.py"
    module.write_text("def drop_small(values):\n    return [v for v in values if v >= 2]\n")
    cells = [
        "%load_ext hitnb\nimport cleaning",  # imported by a plain cell first
        "%%memo\nfrom cleaning import drop_small\nkept = drop_small([1, 2, 3])\nprint(kept)",
    ]
    printed = []
    for edit in (None, "def drop_small(values):\n    return [v for v in values if v >= 3]\n"):
        if edit:
            module.write_text(edit)
        with _session(tmp_path, isolated_store) as kernel:
            printed.append([kernel.run(cell) for cell in cells][-1])
    assert printed[0].strip() == "[2, 3]"
    assert printed[1].splitlines()[-1] == "[3]", "cleaning.py changed: the cell runs again"


def test_what_a_user_module_read_when_imported_counts(tmp_path: Path, isolated_store):
    """``settings.py`` loads ``config.json`` when imported; the config is edited between
    sessions. Cells that read ``settings.CONFIG``, call a function of it reading the config,
    or import a name from it printed the old config again: the module counted by its
    source only. With the config as it was, they hit."""
    (tmp_path / "settings.py").write_text(
        "import json\nwith open('config.json') as f:\n    CONFIG = json.load(f)\n"
        "def scale(x):\n    return x * CONFIG['factor']\n"
    )
    cells = [
        "%load_ext hitnb\nimport settings",
        "%%memo\nlr = settings.CONFIG['lr']\nprint('lr', lr)",
        "%%memo\ny = settings.scale(3)\nprint('y', y)",
        "%%memo\nfrom settings import CONFIG\nprint(CONFIG['factor'])",
        "%hitnb why",
    ]
    printed = []
    for lr, factor in ((0.1, 2), (0.5, 10), (0.5, 10)):
        (tmp_path / "config.json").write_text(f'{{"lr": {lr}, "factor": {factor}}}')
        with _session(tmp_path, isolated_store) as kernel:
            printed.append([kernel.run(cell).splitlines() for cell in cells][1:])
    shown = [[lines[-1] for lines in run[:3]] for run in printed]
    assert shown[0] == ["lr 0.1", "y 6", "2"]
    assert shown[1] == shown[2] == ["lr 0.5", "y 30", "10"], "the config changed: they run again"
    assert printed[2][3][0] == "the last %%memo cell came from the cache", "no change: a hit"


def test_a_library_a_cell_imports_counts_by_its_version(tmp_path: Path, isolated_store: Path):
    site = tmp_path / "site-packages"
    (site / "fakelib").mkdir(parents=True)
    (site / "fakelib" / "__init__.py").write_text("VALUE = 1\n")

    def install(version: str, value: int) -> None:
        for old in site.glob("fakelib-*.dist-info"):
            for f in old.iterdir():
                f.unlink()
            old.rmdir()
        info = site / f"fakelib-{version}.dist-info"
        info.mkdir()
        metadata = f"Metadata-Version: 2.1\nName: fakelib\nVersion: {version}\n"
        (info / "METADATA").write_text(metadata)
        (info / "top_level.txt").write_text("fakelib\n")
        (site / "fakelib" / "__init__.py").write_text(f"VALUE = {value}\n")

    cell = "%%memo -n fake\nimport fakelib\nprint('value', fakelib.VALUE)"
    printed = []
    for version, value in (("1.0", 1), ("1.0", 1), ("2.0", 2)):
        install(version, value)
        with _session(tmp_path, isolated_store, PYTHONPATH=str(site)) as kernel:
            kernel.run("%load_ext hitnb")
            printed.append(kernel.run(cell))
            why = kernel.run("%hitnb why")
    assert printed[0] == printed[1] == "value 1\n"
    assert printed[2].splitlines()[-1] == "value 2", "an upgraded library runs the cell again"
    assert "fakelib 1.0 -> 2.0" in why


def test_a_library_object_counts_by_name_not_by_its_state(tmp_path: Path, isolated_store: Path):
    """scipy's ``norm`` holds the global random state: hashed by value it changed with every
    unseeded draw, so every cell that read it (or a function using it) ran again after a
    restart. It counts as ``scipy.stats...norm`` of that scipy version, and a hit binds the
    library's own object."""
    cells = [
        "%load_ext hitnb",
        "%%memo\nimport numpy as np\nfrom scipy.stats.distributions import norm",
        "%%memo\nx = np.random.normal(size=5)",  # unseeded: the global state moves
        "%%memo\ndef tail(v):\n    return norm.sf(v)",
        "%%memo\nprint(float(tail(x).sum() > 0), norm.mean())",
        "print(norm is __import__('scipy').stats.norm)",
    ]
    env = {"HITNB_STORE": str(isolated_store)}
    first, second = printed_in_fresh_kernels(tmp_path, env, [*cells, "%hitnb why"])
    assert second[-2].strip() == "True", "the restored name is scipy's own object"
    assert second[-3] == first[-3]
    assert "ran" not in second[-1] and "recomput" not in second[-1], second[-1]
