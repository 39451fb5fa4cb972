"""Functions and classes a cached cell defines behave like the originals after a hit: they
read the notebook's live globals, instances stay instances of the class, and the next cell
that uses them hits after a restart."""

from __future__ import annotations

import json

import pytest
from nbformat.v4 import new_code_cell, new_notebook
from nbhelpers import stream_text

pytestmark = pytest.mark.slow

CELLS = [
    "%load_ext hitnb",
    "import pathlib\n"
    "def ran(name):\n"
    "    with pathlib.Path('executions.log').open('a') as fh:\n"
    "        fh.write(name + '\\n')",
    "%%memo\nran('define')\nRATE = 0.1\ncount = 0\n"
    "def with_tax(x):\n    return round(x * (1 + RATE), 6)\n\n"
    "def bump():\n    global count\n    count += 1\n    return count\n\n"
    "class Circle:\n    def __init__(self, r):\n        self.r = r\n\n"
    "shape = Circle(2.0)",
    "%%memo\nran('use')\narea = round(3.14159 * shape.r ** 2, 4)\ntaxed = with_tax(100)",
    "RATE = 0.25\nbump()\nbump()",
    "print(json.dumps([with_tax(100), count, isinstance(shape, Circle), area, taxed]))",
]


def _notebook():
    cells = [c.replace("import pathlib", "import json, pathlib") for c in CELLS]
    return new_notebook(cells=[new_code_cell(c) for c in cells])


def test_restored_definitions_use_live_globals_and_stay_consistent(execute_notebook, tmp_path):
    log = tmp_path / "executions.log"
    first = execute_notebook(_notebook())
    assert log.read_text().split() == ["define", "use"]
    log.unlink()
    second = execute_notebook(_notebook())
    assert not log.exists(), "after a restart both cells come from the store"
    expected = [125.0, 2, True, 12.5664, 110.0]
    assert json.loads(stream_text(first.cells[-1])) == expected
    assert json.loads(stream_text(second.cells[-1])) == expected


SETUP_CELLS = [
    "%load_ext hitnb",
    "import pathlib\nimport pandas as pd\nimport statsmodels.formula.api as smf\n"
    "data = pd.DataFrame({'x': [1.0, 2.0, 3.0, 4.0, 5.0], 'y': [2.1, 3.9, 6.2, 7.8, 10.1]})",
]
HELPER = "def double_it(x):\n    return 2 * x\n\n"
FIT = (
    "%%memo\npathlib.Path('executions.log').open('a').write('fit\\n')\n"
    "fit = smf.ols('y ~ double_it(x)', data=data).fit()"
)
CHECKS = ["print(round(fit.params['double_it(x)'], 6))", "%hitnb why"]


@pytest.mark.parametrize(
    "cells",
    [
        [*SETUP_CELLS, FIT.replace("%%memo\n", "%%memo\n" + HELPER), *CHECKS],
        [*SETUP_CELLS, HELPER, FIT, *CHECKS],
    ],
    ids=["helper-in-the-cell", "helper-in-a-cell-before"],
)
def test_a_model_that_evaluates_its_formula_when_loaded_finds_the_notebooks_function(
    execute_notebook, tmp_path, cells
):
    """statsmodels evaluates a formula model's formula again when it is unpickled, in the
    namespace of the code that unpickles it; a hit must load it as a cell would, where the
    notebook's function is found, whichever cell defined it."""
    log = tmp_path / "executions.log"
    first = execute_notebook(new_notebook(cells=[new_code_cell(c) for c in cells]))
    second = execute_notebook(new_notebook(cells=[new_code_cell(c) for c in cells]))
    fitted = next(i for i, c in enumerate(cells) if "fit()" in c)
    assert log.read_text().split() == ["fit"], stream_text(second.cells[fitted])
    slope = stream_text(first.cells[-2])
    assert abs(float(slope) - 0.995) < 1e-3  # half the slope of y on x: the formula ran
    assert stream_text(second.cells[-2]) == slope
    assert "came from the cache" in stream_text(second.cells[-1])


def test_a_memo_function_returning_such_a_model_is_a_hit_after_a_restart(
    execute_notebook, tmp_path
):
    """The same for a ``@memo`` function's result: loaded where the function's own code
    would find the notebook's helper."""
    cells = [
        *SETUP_CELLS,
        HELPER,
        "import time\nfrom hitnb import memo\n\n@memo\ndef fitted(data):\n"
        "    pathlib.Path('executions.log').open('a').write('fit\\n')\n"
        "    time.sleep(0.2)\n"
        "    return smf.ols('y ~ double_it(x)', data=data).fit()",
        "fit = fitted(data)",
        "print(round(fit.params['double_it(x)'], 6))",
    ]
    log = tmp_path / "executions.log"
    first = execute_notebook(new_notebook(cells=[new_code_cell(c) for c in cells]))
    second = execute_notebook(new_notebook(cells=[new_code_cell(c) for c in cells]))
    assert log.read_text().split() == ["fit"], stream_text(second.cells[-2])
    assert stream_text(second.cells[-1]) == stream_text(first.cells[-1])
    assert "cannot be loaded" not in stream_text(second.cells[-2])


def test_values_holding_a_cells_own_code_are_restored_after_a_restart(tmp_path, isolated_store):
    """Cells whose stored runs never loaded in a later kernel, so they ran every time (the
    eighth corpus): a last value that is an instance of the cell's class (``p = P(1); p``);
    values holding a function defined in a loop, not by a top-level ``def`` (they were
    stored raw beside it); and, in a cell that also defines at top level, values loaded
    before that function, in an order that followed string hashing (PYTHONHASHSEED=0)."""
    from nbhelpers import printed_in_fresh_kernels

    cells = [
        "%load_ext hitnb\nimport functools",
        "%%memo\nclass P:\n    def __init__(self, v):\n        self.v = v\n"
        "    def __repr__(self):\n        return f'P({self.v})'\np = P(1)\np",
        "%hitnb why",
        "%%memo\nfor j in range(2):\n    def h(x):\n        return x + j\n"
        "    b = functools.partial(h, 1)",
        "%hitnb why",
        "%%memo\ndef g():\n    return 0\n\nfor k in range(2):\n    def fn(x):\n"
        "        return x + k\n    a = functools.partial(fn, 1)\n    z = functools.partial(fn, 10)",
        "%hitnb why",
        "print(p, _2 is p, b(), a(), z(), g())",
    ]
    env = {"HITNB_STORE": str(isolated_store), "PYTHONHASHSEED": "0"}
    first, second = printed_in_fresh_kernels(tmp_path, env, cells)
    assert first[-1] == second[-1] == "P(1) True 2 2 11 0\n"
    assert second[2] == second[4] == second[6] == "the last %%memo cell came from the cache\n"


def test_a_restored_lambda_hashes_as_it_did_so_its_readers_hit(tmp_path, isolated_store):
    """A lambda is stored by value; restored, its cell's source was not in ``linecache``, so
    it hashed by its bytecode instead, and the cell reading it ran again once after each
    restart (hyperopt's ``fmin(objective, ...)``, unseeded: other numbers each time)."""
    from nbhelpers import printed_in_fresh_kernels

    cells = [
        "%load_ext hitnb",
        "%%memo\nf = lambda x: x + 1",
        "%%memo\nimport random\ny = f(random.random())\nprint(y > 1)",
        "%hitnb why",
    ]
    printed = printed_in_fresh_kernels(tmp_path, {"HITNB_STORE": str(isolated_store)}, cells, 3)
    assert [run[2] for run in printed] == ["True\n"] * 3
    assert [run[3] for run in printed[1:]] == ["the last %%memo cell came from the cache\n"] * 2


def test_a_model_nested_past_the_recursion_limit_is_stored_and_restored(tmp_path, isolated_store):
    """A mesa model (agents holding the model and one another) went past the recursion
    limit when pickled: "output `model` (a MoneyModel) cannot be stored", and every cell
    after it ran again. It is pickled, and unpickled, on a deep stack instead."""
    from nbhelpers import printed_in_fresh_kernels

    cells = [
        "%load_ext hitnb",
        "%%memo\nclass Agent:\n    def __init__(self, model, after):\n"
        "        self.model, self.after = model, after\n\nclass Model:\n"
        "    def __init__(self, n):\n        self.first = None\n        for _ in range(n):\n"
        "            self.first = Agent(self, self.first)\n\nmodel = Model(5000)",
        "%hitnb why",
        "count, agent = 0, model.first\nwhile agent is not None:\n"
        "    assert agent.model is model\n    count, agent = count + 1, agent.after\nprint(count)",
    ]
    first, second = printed_in_fresh_kernels(tmp_path, {"HITNB_STORE": str(isolated_store)},
                                             cells)  # fmt: skip
    assert first[3] == second[3] == "5000\n"
    assert second[2] == "the last %%memo cell came from the cache\n"
