"""Exported runs re-execute in a fresh kernel: same value hash on an empty store, hits on
the original one."""

from __future__ import annotations

import json
import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell
from nbhelpers import KernelSession

import hitnb
from hitnb.core.record import result_of
from hitnb.core.run_files import RunFiles
from hitnb.store.local import LocalStore

pytestmark = pytest.mark.slow

SETUP = [
    "%load_ext hitnb",
    "import hitnb, pathlib\nimport numpy as np\nfrom hitnb import memo, experiment\n"
    "RAN = pathlib.Path('ran.log').resolve()",
]


def ran(project: Path) -> list[str]:
    log = project / "ran.log"
    return log.read_text().split() if log.exists() else []


def execute(path: Path, store: Path, *, check: str) -> str:
    """Run an exported notebook in a fresh kernel on ``store``; return what ``check`` prints."""
    notebook = nbformat.read(path, as_version=4)
    notebook.cells.append(new_code_cell(check))
    before = os.environ.get("HITNB_STORE")
    os.environ["HITNB_STORE"] = str(store)
    try:
        NotebookClient(
            notebook, timeout=120, kernel_name="python3",
            resources={"metadata": {"path": str(path.parent)}},
        ).execute()  # fmt: skip
    finally:
        os.environ["HITNB_STORE"] = before or ""
    return "".join(
        o.get("text", "") for o in notebook.cells[-1].outputs if o.output_type == "stream"
    )


def stored_hash(store: Path, key: str) -> str:
    local = LocalStore(store)
    return hitnb.hash_value(result_of(local.load(local.get(key))))


@pytest.fixture
def project(tmp_path: Path) -> Path:
    path = tmp_path / "project"
    path.mkdir()
    return path


def session(project: Path, store: Path) -> KernelSession:
    return KernelSession(project, {"HITNB_STORE": str(store), "PYTHONPATH": ""})


def test_function_with_notebook_helpers_a_class_and_a_global(project, isolated_store, tmp_path):
    with session(project, isolated_store) as kernel:
        for cell in SETUP:
            kernel.run(cell)
        kernel.run("THRESHOLD = 0.5\nWEIGHTS = np.linspace(0, 1, 5000)")
        kernel.run("def clean(values):\n    return [v for v in values if v > THRESHOLD]")
        kernel.run("class Scaler:\n    def __init__(self, k):\n        self.k = k\n"
                   "    def apply(self, xs):\n        return [x * self.k for x in xs]")  # fmt: skip
        kernel.run("@memo\ndef pipeline(values, factor=2):\n"
                   "    with RAN.open('a') as fh:\n        fh.write('pipeline\\n')\n"
                   "    return sum(Scaler(factor).apply(clean(values)))"
                   " + float(WEIGHTS.sum())")  # fmt: skip
        key = kernel.run("pipeline([0.2, 0.7, 0.9])\nprint(pipeline.runs()[0].key)").split()[-1]
        kernel.run(f"hitnb.export({key!r}, 'exports/pipeline.ipynb')")
    exported = project / "exports" / "pipeline.ipynb"
    meta = nbformat.read(exported, as_version=4).metadata["hitnb"]
    assert meta["keys"] == [key] and meta["store"] == str(isolated_store)
    empty = tmp_path / "empty-store"
    assert execute(exported, empty, check="print(hitnb.hash_value(result))").strip() == (
        stored_hash(isolated_store, key)
    )
    assert ran(project) == ["pipeline", "pipeline"]  # computed again on the empty store
    execute(exported, isolated_store, check="print(result)")
    assert ran(project) == ["pipeline", "pipeline"]  # a hit on the original store


def test_numpy_array_arguments_small_and_large(project, isolated_store, tmp_path):
    with session(project, isolated_store) as kernel:
        for cell in SETUP:
            kernel.run(cell)
        kernel.run(
            "@memo\ndef norm(a, b):\n    return float(np.linalg.norm(a) + np.linalg.norm(b))"
        )
        key = kernel.run(
            "norm(np.arange(6, dtype=np.float32), np.random.default_rng(0).random(100_000))\n"
            "print(norm.runs()[0].key)"
        ).split()[-1]
        kernel.run(f"hitnb.export({key!r}, 'norm.ipynb')")
    exported = project / "norm.ipynb"
    cells = "\n".join(c.source for c in nbformat.read(exported, as_version=4).cells)
    assert "a = np.array([0.0, 1.0, 2.0, 3.0, 4.0, 5.0], dtype='float32')" in cells
    assert 'b = hitnb.load("' in cells  # too large for a literal: loaded from the store
    check = "print(hitnb.hash_value(result))"
    assert execute(exported, tmp_path / "empty", check=check).strip() == stored_hash(
        isolated_store, key
    )


def test_a_memo_cell(project, isolated_store, tmp_path):
    with session(project, isolated_store) as kernel:
        for cell in SETUP:
            kernel.run(cell)
        kernel.run("N = 12\ndef square(v):\n    return v * v")
        kernel.run(
            "%%memo -n table\nsquares = [square(i) for i in range(N)]\nprint('built')\nsum(squares)"
        )
        key = kernel.run("print(hitnb.runs('table')[0].key)").split()[-1]
        kernel.run(f"hitnb.export({key!r}, 'cell.ipynb')")
    exported = project / "cell.ipynb"
    notebook = nbformat.read(exported, as_version=4)
    last = notebook.cells[-1]
    assert last.source.startswith("%%memo -n table\n")
    assert [o.output_type for o in last.outputs] == ["stream", "execute_result"]
    assert last.outputs[1]["data"]["text/plain"] == str(sum(i * i for i in range(12)))
    printed = execute(exported, tmp_path / "empty", check="print(hitnb.hash_value(squares))")
    stored = LocalStore(isolated_store)
    record = result_of(stored.load(stored.get(key)))
    assert printed.strip() == hitnb.hash_value(record.outputs["squares"])


def test_a_memo_cell_exports_inputs_it_left_as_they_were_whole(project, isolated_store, tmp_path):
    """The record refers to the inputs a run left unchanged, and the inputs kept for the
    export were stored under the same references: a dict holding an instance came back
    holding a reference where the instance was, and the export failed."""
    with session(project, isolated_store) as kernel:
        for cell in SETUP:
            kernel.run(cell)
        kernel.run(
            "import types\nbig = list(range(30_000))\nbox = {'k': types.SimpleNamespace(v=3)}"
        )
        kernel.run("%%memo -n tot\ntotal = sum(big) + box['k'].v")
        key = kernel.run("print(hitnb.runs('tot')[0].key)").split()[-1]
        kernel.run(f"hitnb.export({key!r}, 'tot.ipynb')")
    printed = execute(project / "tot.ipynb", tmp_path / "empty", check="print(total)")
    assert printed == f"{sum(range(30_000)) + 3}\n"


def test_a_memo_cell_exports_the_inputs_it_started_from(project, isolated_store, tmp_path):
    # A cell that binds an input again exports it as it was before the run; one that changed
    # an input in place cannot (that value is gone), and its export says so rather than
    # running the cell on what the cell made (the list would be appended to twice).
    with session(project, isolated_store) as kernel:
        for cell in SETUP:
            kernel.run(cell)
        kernel.run("xs = [1, 2, 3]\nitems = list(range(30_000))")
        kernel.run("%%memo -n step\nxs = xs + [len(xs)]")
        kernel.run("%%memo -n grow\nitems.append(len(items))")
        keys = kernel.run("print(hitnb.runs('step')[0].key, hitnb.runs('grow')[0].key)").split()
        kernel.run(
            f"hitnb.export({keys[0]!r}, 'step.ipynb')\nhitnb.export({keys[1]!r}, 'grow.ipynb')"
        )
    printed = execute(project / "step.ipynb", tmp_path / "empty", check="print(xs)")
    assert printed == "[1, 2, 3, 3]\n"
    grow = "\n".join(c.source for c in nbformat.read(project / "grow.ipynb", as_version=4).cells)
    assert "items = None  # not kept: a list this cell changed in place" in grow
    assert "items = hitnb.load(" not in grow


def check_cell(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The exported notebook's cell that checks the files the run read."""
    return next(c for c in notebook.cells if "RunFiles(read=(" in c.source)


def check_output(notebook: nbformat.NotebookNode) -> str:
    """What the exported notebook's check of the files read printed."""
    check = check_cell(notebook)
    return "".join(o.get("text", "") for o in check.outputs if o.output_type == "stream")


def test_an_export_lists_the_files_and_checks_those_read(project, isolated_store):
    data = project / "data.csv"
    data.write_text("v\n1\n2\n")
    with session(project, isolated_store) as kernel:
        for cell in SETUP:
            kernel.run(cell)
        kernel.run("@memo\ndef total(path):\n"
                   "    with RAN.open('a') as fh:\n        fh.write('total\\n')\n"
                   "    rows = pathlib.Path(path).read_text().split()[1:]\n"
                   "    pathlib.Path('total.txt').write_text(str(sum(map(int, rows))))\n"
                   "    return sum(map(int, rows))")  # fmt: skip
        key = kernel.run("total('data.csv')\nprint(total.runs()[0].key)").split()[-1]
        kernel.run(f"hitnb.export({key!r}, 'total.ipynb')")
        kernel.run("%%memo -n rows\nrows = open('data.csv').read().split()")
        cell_key = kernel.run("print(hitnb.runs('rows')[0].key)").split()[-1]
        kernel.run(f"hitnb.export({cell_key!r}, 'rows.ipynb')")
    exported = project / "total.ipynb"
    notebook = nbformat.read(exported, as_version=4)
    header = notebook.cells[0].source
    files = RunFiles.from_parts(LocalStore(isolated_store).get(key).parts)
    read, written = files.to_json()["read"][0], files.to_json()["written"][0]
    # named as the run named them, from the folder it ran in (which the export runs in)
    assert (read["path"], written["path"]) == ("data.csv", "total.txt")
    assert f"| `data.csv` | 6 bytes | `{read['digest']}` |" in header
    assert f"| `total.txt` | 1 byte | `{written['digest']}` |" in header
    assert header.index("Read (an input of the run)") < header.index("Written (a hit puts")
    cell_export = nbformat.read(project / "rows.ipynb", as_version=4)
    assert f"| `data.csv` | 6 bytes | `{read['digest']}` |" in cell_export.cells[0].source
    assert "Written (a hit puts" not in cell_export.cells[0].source
    assert "FileRead('data.csv', size=6" in check_cell(cell_export).source

    (project / "total.txt").unlink()
    executed = nbformat.read(exported, as_version=4)
    execute_in_place(executed, exported, isolated_store)
    assert check_output(executed) == "the files the run read are unchanged\n"
    assert ran(project) == ["total"]  # a hit, which put back what the run wrote
    assert (project / "total.txt").read_text() == "3"

    data.write_text("v\n1\n2\n4\n")
    execute_in_place(executed, exported, isolated_store)
    assert check_output(executed) == "file data.csv changed\n"
    assert ran(project) == ["total", "total"]  # computed again from the new data
    assert (project / "total.txt").read_text() == "7"


def execute_in_place(notebook: nbformat.NotebookNode, path: Path, store: Path) -> None:
    """Run ``notebook`` (read from ``path``) in a fresh kernel on ``store``, where it lies."""
    before = os.environ.get("HITNB_STORE")
    os.environ["HITNB_STORE"] = str(store)
    try:
        NotebookClient(
            notebook, timeout=120, kernel_name="python3",
            resources={"metadata": {"path": str(path.parent)}},
        ).execute()  # fmt: skip
    finally:
        os.environ["HITNB_STORE"] = before or ""


def test_an_experiment_sweep_with_a_comparison(project, isolated_store, tmp_path):
    with session(project, isolated_store) as kernel:
        for cell in SETUP:
            kernel.run(cell)
        kernel.run("@experiment\ndef train(lr, epochs=3):\n    acc = 0.5\n"
                   "    for e in range(epochs):\n        acc += lr * (1 - acc)\n"
                   "        hitnb.log('accuracy', acc, step=e)\n"
                   "    return {'accuracy': acc}")  # fmt: skip
        kernel.run("for lr in [0.1, 0.2, 0.4]:\n    train(lr)")
        keys = json.loads(
            kernel.run("import json\nprint(json.dumps([r.key for r in train.runs()]))")
        )
        kernel.run(f"hitnb.export({keys!r}, 'sweep.ipynb')")
    exported = project / "sweep.ipynb"
    notebook = nbformat.read(exported, as_version=4)
    assert notebook.cells[0].source.startswith("# 3 runs of `train`")
    plots = [
        o
        for c in notebook.cells
        for o in c.get("outputs", [])
        if "application/vnd.plotly.v1+json" in o.get("data", {})
    ]
    assert len(plots) == 1 and len(plots[0]["data"]["application/vnd.plotly.v1+json"]["data"]) == 3
    printed = execute(
        exported, tmp_path / "empty",
        check="print(sorted(hitnb.hash_value(r) for r in results))",
    )  # fmt: skip
    assert printed.strip() == str(sorted(stored_hash(isolated_store, k) for k in keys))


NESTED = """
import hitnb

SCALE = 2


def make():
    @hitnb.experiment
    def train(lr, batch_size=32):
        return {"accuracy": round(0.5 + lr * SCALE, 3)}

    return train
"""


def test_a_function_defined_inside_another_is_copied_not_imported(
    project, isolated_store, tmp_path, monkeypatch
):
    (project / "nested_mod.py").write_text(NESTED)
    monkeypatch.syspath_prepend(str(project))
    import nested_mod

    train = nested_mod.make()
    assert train(0.1) == {"accuracy": 0.7}
    with pytest.warns(hitnb.HitnbWarning, match="defined inside `make` in nested_mod"):
        path = hitnb.export(train.runs()[0].key, str(tmp_path / "nested.ipynb"))
    source = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells)
    assert "from nested_mod import" not in source  # it could not be imported by that name
    (tmp_path / "other").mkdir()  # the notebook runs where nested_mod is not importable
    fresh = tmp_path / "other" / "nested.ipynb"
    fresh.write_text(Path(path).read_text())
    assert execute(fresh, tmp_path / "other-store", check="print(result)") == (
        "{'accuracy': 0.7}\n"
    )
