"""The shell's own settings and history in real kernels: which expressions a memoized cell
shows (IPython's ``ast_node_interactivity``), the last result a cell reads as ``_``, and
settings a cell makes on a library's module or class, or through scikit-learn's
``set_config`` and bokeh's ``output_notebook``: the same in a plain run, a memoized run
and a hit after a restart."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook
from nbhelpers import KernelSession, printed_in_fresh_kernels, stream_text

pytestmark = pytest.mark.slow

SHOWING = [
    'get_ipython().ast_node_interactivity = "all"',
    '1 + 1\nprint("between")\n2 + 2',
    "for i in range(2):\n    i * 10\nx = 5",
    "a = 10\na; a + 1;",
    'get_ipython().ast_node_interactivity = "last_expr_or_assign"',
    "y = 7",
    "z = [1]\nz += [2]",
    'get_ipython().ast_node_interactivity = "last_expr"',
]
"""Cells memoized in the test; the plain cell after each prints ``_`` and ``__``."""
AFTER = "print('after:', _, __)"


def _notebook(memo: bool) -> nbformat.NotebookNode:
    cells = ["%load_ext hitnb"] if memo else []
    for source in SHOWING:
        cells += [f"%%memo\n{source}" if memo else source, AFTER]
    return new_notebook(cells=[new_code_cell(c) for c in cells])


def _shown(notebook: nbformat.NotebookNode) -> list[list[str]]:
    """Per cell: what it showed, as ``type: text`` (hitnb's badges aside)."""
    cells = [c for c in notebook.cells if not c.source.startswith("%load_ext")]
    return [
        [
            f"{o.output_type}: {o.get('text') or o.get('data', {}).get('text/plain', '')}"
            for o in cell.outputs
            if not o.get("metadata", {}).get("hitnb")
        ]
        for cell in cells
    ]


def test_a_memoized_cell_shows_what_ast_node_interactivity_asks_before_and_after_a_restart(
    execute_notebook,
):
    """Set to "all", IPython shows every expression's value; hitnb showed only the last,
    in every session. A hit shows each again and binds ``_`` and ``__`` to them, and the
    setting itself, made by a cached cell, is made again on a hit."""
    plain = _shown(execute_notebook(_notebook(memo=False)))
    assert plain[2] == ["execute_result: 2", "stream: between\n", "execute_result: 4"]
    assert plain[3] == ["stream: after: 4 2\n"]
    assert plain[4] == ["execute_result: 0", "execute_result: 10"]
    assert plain[5] == ["stream: after: 10 0\n"]
    assert plain[6] == [] and plain[7] == ["stream: after: 10 0\n"]  # `;` hides them all
    assert plain[10] == ["execute_result: 7"] and plain[12] == ["execute_result: [1, 2]"]
    first = _shown(execute_notebook(_notebook(memo=True)))
    second = _shown(execute_notebook(_notebook(memo=True)))
    assert first == plain
    assert second == plain


def test_a_cell_reading_the_last_result_has_it_as_an_input(tmp_path: Path, isolated_store):
    """``y = _ + 1`` was keyed without ``_``: after the cell before it changed, the hit
    printed the sum of the old result."""
    env = {"HITNB_STORE": str(isolated_store)}
    reader = "%%memo\ny = _ + 1\nprint(y)"
    nine = printed_in_fresh_kernels(tmp_path, env, ["%load_ext hitnb", "3 * 3", reader], 1)
    twelve = printed_in_fresh_kernels(tmp_path, env, ["%load_ext hitnb", "3 * 4", reader], 1)
    assert nine[0][2] == "10\n"
    assert twelve[0][2] == "13\n"
    bound = ["%load_ext hitnb", "%%memo\n_, b = 'x', 2", "%%memo\nc = _ * b\nprint(c)"]
    first, second = printed_in_fresh_kernels(tmp_path, env, bound)
    assert first[2] == second[2] == "xx\n", "a hit binds the `_` its cell bound"


def test_settings_made_on_a_library_module_or_by_set_config_hold_after_a_restart(
    tmp_path: Path, isolated_store
):
    """An attribute set on a library's module (``torch.backends.cudnn.deterministic =
    True`` is the common case) cannot be set again by a hit: the cell runs every session,
    saying why. scikit-learn's configuration and bokeh's output are ambient states: a hit
    sets them again (else transformers return arrays, and ``show(p)`` writes a file and
    shows nothing)."""
    cells = [
        "%load_ext hitnb\nimport json\nimport numpy as np\nfrom sklearn import set_config\n"
        "from sklearn.preprocessing import StandardScaler\nfrom bokeh.io import output_notebook\n"
        "from bokeh.io.state import curstate",
        "%%memo\njson.hitnb_test_setting = 5\nset_it = 1",
        "%hitnb why",
        "%%memo\nset_config(transform_output='pandas')\noutput_notebook(hide_banner=True)\n"
        "configured = 1",
        "print(getattr(json, 'hitnb_test_setting', None),\n"
        "      type(StandardScaler().fit_transform(np.ones((3, 2)))).__name__,\n"
        "      curstate().notebook)",
    ]
    env = {"HITNB_STORE": str(isolated_store)}
    first, second = printed_in_fresh_kernels(tmp_path, env, cells)
    assert first[4] == second[4] == "5 DataFrame True\n"
    assert "`json.hitnb_test_setting` (an attribute of module `json`)" in second[2]


def test_a_cell_that_swaps_a_library_attribute_and_puts_it_back_hits(
    tmp_path: Path, isolated_store
):
    """``orig = mod.f; mod.f = stub; ...; mod.f = orig`` leaves the module as the session
    had it, so a hit has nothing to set again (jacobi's diagonal notebook times a function
    with one step stubbed out this way; the cell ran every session). A set that leaves the
    value the attribute happened to hold is no swap: a later session where an earlier cell
    set ``False`` must end on the cell's ``True``, as a plain run does."""
    swap = (
        "%%memo\nimport json\norig = json.dumps\njson.dumps = None\ntry:\n"
        "    stubbed = json.dumps is None\nfinally:\n    json.dumps = orig\n"
    )
    cells = [
        "%load_ext hitnb\nimport logging\nlogging.raiseExceptions = False",
        swap,
        "%hitnb why",
        "print(stubbed, json.dumps([1]))",
        "%%memo\nlogging.raiseExceptions = True\nraised = 1",
        "print(logging.raiseExceptions)",
    ]
    env = {"HITNB_STORE": str(isolated_store)}
    first, second = printed_in_fresh_kernels(tmp_path, env, cells)
    assert second[2] == "the last %%memo cell came from the cache\n"
    assert first[3] == second[3] == "True [1]\n"
    assert first[5] == second[5] == "True\n"


def test_a_cell_stored_before_a_setting_changed_runs_again(tmp_path: Path, isolated_store):
    """A user adds ``set_config(transform_output="pandas")``, a pandas display option or
    numpy print options above cells already stored, and runs them all again: each stored
    cell replayed the array, the wide frame and the long floats the old settings gave.
    Settings are reads of every cell; a session that changed none still hits."""
    setup = (
        "%load_ext hitnb\n%hitnb auto\nimport numpy as np, pandas as pd\n"
        "from sklearn.preprocessing import StandardScaler\nimport matplotlib.pyplot as plt\n"
        "plt.style.use('ggplot')"
    )
    cells = [
        "Xt = StandardScaler().fit_transform(np.ones((3, 2)))\nprint(type(Xt).__name__)",
        "print('...' in repr(pd.DataFrame(np.zeros((2, 10), dtype=int))))",
        "print(np.array([1 / 3]))",
    ]
    setting = (
        "import sklearn\nsklearn.set_config(transform_output='pandas')\n"
        "pd.set_option('display.max_columns', 4)\nnp.set_printoptions(precision=2)"
    )
    env = {"HITNB_STORE": str(isolated_store)}
    before = printed_in_fresh_kernels(tmp_path, env, [setup, *cells, "%hitnb why"], 1)[0]
    assert before[1:4] == ["ndarray\n", "False\n", "[0.33333333]\n"]
    again = printed_in_fresh_kernels(tmp_path, env, [setup, *cells, "%hitnb why"], 1)[0]
    assert again[1:4] == before[1:4] and "came from the cache" in again[4]
    after = printed_in_fresh_kernels(tmp_path, env, [setup, setting, *cells, "%hitnb why"], 1)[0]
    assert after[2:5] == ["DataFrame\n", "True\n", "[0.33]\n"]
    assert "numpy print options changed since the cell was stored" in after[5]


def test_precision_and_display_settings_added_above_stored_cells_are_read(execute_notebook):
    """A user adds ``getcontext().prec = 50``, ``mp.dps = 40``, ``%precision 3`` or a
    printer of their own above cells already stored: each stored cell replayed the 28-digit
    quotient, the 15-digit root, the long float and the old display, and a hit of the cell
    setting the precision left it unset for every cell after it. Settings are reads of
    every cell, and a hit sets them again."""
    setup = "%load_ext hitnb\n%hitnb auto\nfrom decimal import Decimal, getcontext\nimport mpmath"
    cells = ["print(Decimal(1) / Decimal(7))", "print(mpmath.sqrt(2))", "x = 1 / 3\nx", "1j"]
    settings = [
        "getcontext().prec = 50\nmpmath.mp.dps = 40",
        "%precision 3",
        "get_ipython().display_formatter.formatters['text/plain'].for_type(\n"
        "    complex, lambda value, printer, cycle: printer.text('a complex'))",
    ]
    after = "print(Decimal(1) / Decimal(3), mpmath.pi)"

    def run(*sources: str) -> list[list[str]]:
        notebook = new_notebook(cells=[new_code_cell(c) for c in (setup, *sources)])
        return _shown(execute_notebook(notebook))[:]

    stored = run(*cells)
    assert stored[:4] == [
        ["stream: 0.1428571428571428571428571429\n"], ["stream: 1.4142135623731\n"],
        ["execute_result: 0.3333333333333333"], ["execute_result: 1j"],
    ]  # fmt: skip
    plain_after = [
        ["stream: 0.14285714285714285714285714285714285714285714285714\n"],
        ["stream: 1.41421356237309504880168872420969807857\n"],
        ["execute_result: 0.333"], ["execute_result: a complex"],
        ["stream: 0.33333333333333333333333333333333333333333333333333 "
         "3.141592653589793238462643383279502884197\n"],
    ]  # fmt: skip
    assert run(*settings, *cells, after)[3:] == plain_after  # stored before the settings
    assert run(*settings, *cells, after)[3:] == plain_after  # every cell a hit


def test_a_setting_changed_later_leaves_the_cells_above_it_alone(tmp_path: Path, isolated_store):
    """Every cell read the ``decimal`` context and IPython's display settings, so with
    ``getcontext().prec = 50`` and ``%precision 3`` late in a notebook, running it again in
    the same kernel ran every cell above them again. A cell reads the display settings only
    when it shows something through the display formatter, and a library's setting only
    when it touches the library."""
    cells = [
        "a = sum(range(1000))\nprint(a)",
        "def quotient():\n    return Decimal(1) / 7",
        "from decimal import getcontext, Decimal\ngetcontext().prec = 50",
        "%precision 3",
        "print(quotient())",
    ]
    env = {"HITNB_STORE": str(isolated_store)}
    with KernelSession(tmp_path, env) as kernel:
        kernel.run("%load_ext hitnb\n%hitnb auto\nimport decimal")  # as numpy does
        printed = [[kernel.run(cell), kernel.run("%hitnb why")] for _ in range(2) for cell in cells]
    whys = [why for _, why in printed]
    assert "came from the cache" in whys[5], whys[5]  # above the settings
    assert "came from the cache" in whys[9], whys[9]  # below: it met them as it did before
    assert printed[4][0] == printed[9][0] == f"0.{'142857' * 8}14\n"


def test_a_figure_format_set_above_a_stored_figure_is_read(execute_notebook):
    """``%config InlineBackend.figure_format = "retina"`` added above a stored figure cell:
    the hit replayed the standard PNG. The inline backend's formats are a display setting
    (its printer is not: matplotlib registers it when the first figure is made)."""

    def figure(*above: str) -> dict[str, Any]:
        sources = [
            "%load_ext hitnb\n%hitnb auto",
            "%matplotlib inline\nimport matplotlib.pyplot as plt",
        ]
        sources += [*above, "plt.plot([1, 2, 3])\nplt.show()"]
        notebook = execute_notebook(new_notebook(cells=[new_code_cell(c) for c in sources]))
        (shown,) = [o for o in notebook.cells[-1].outputs if "image/png" in o.get("data", {})]
        return dict(shown.get("metadata", {}).get("image/png", {}))

    assert figure() == {}
    assert figure('%config InlineBackend.figure_format = "retina"').keys() == {"width", "height"}


def test_settings_are_read_as_the_cell_starts_not_after_its_record_loads(
    tmp_path: Path, isolated_store
):
    """Loading a stored record imports the modules its values need, and a module may change
    a setting as it is imported: a cell holding an object of such a module, checked after
    its record loaded, found "pandas options changed since the cell was stored" and ran
    again in every session after the first."""
    (tmp_path / "tables.py").write_text(
        "import pandas as pd\npd.set_option('display.max_rows', 7)\n\nclass Table:\n    pass\n"
    )
    cells = [
        "%load_ext hitnb\n%hitnb auto\nimport pandas as pd",
        "import tables\ntable = tables.Table()\nprint(pd.get_option('display.max_rows'))",
        "%hitnb why",
    ]
    env = {"HITNB_STORE": str(isolated_store)}
    second = printed_in_fresh_kernels(tmp_path, env, cells)[1]
    assert second[1] == "7\n" and "came from the cache" in second[2], second[2]


def test_display_settings_are_the_same_in_a_session_that_imports_numpy_sooner(
    tmp_path: Path, isolated_store
):
    """IPython makes its plain-text printers when they are first looked at, with one for
    ``numpy.float64`` if numpy is imported by then; a session after the first imports it
    sooner (loading what the store holds), and its import cell ran again every session:
    "IPython display settings changed since the cell was stored"."""
    cells = ["%load_ext hitnb\n%hitnb auto", "import numpy as np\nimport pandas as pd"]
    cells.append("%hitnb why")
    env = {"HITNB_STORE": str(isolated_store)}
    second = printed_in_fresh_kernels(tmp_path, env, cells)[1]
    assert "came from the cache" in second[2], second[2]


def test_a_printer_registered_by_name_is_the_same_setting_once_ipython_meets_its_type(
    tmp_path: Path, isolated_store
):
    """IPython moves a printer registered by name to the type the first time it shows one;
    a hit shows stored output and moves nothing. Named otherwise before and after the move
    (a nested class's qualified name), the printer the stored run left was missing after
    the hit, and the cell that showed one ran again in every session."""
    (tmp_path / "shapes.py").write_text("class Outer:\n    class Inner:\n        pass\n")
    cells = [
        "%load_ext hitnb\n%hitnb auto\nimport shapes\n"
        "get_ipython().display_formatter.formatters['text/plain'].for_type_by_name(\n"
        "    'shapes', 'Inner', lambda value, printer, cycle: printer.text('an inner'))",
        "shapes.Outer.Inner()",
        "%hitnb why",
        "n = 2\nprint(n)",
        "%hitnb why",
    ]
    env = {"HITNB_STORE": str(isolated_store)}
    second = printed_in_fresh_kernels(tmp_path, env, cells)[1]
    assert "came from the cache" in second[2], second[2]
    assert second[3] == "2\n" and "came from the cache" in second[4], second[4]


def test_future_imports_work_after_magics_and_hold_after_a_hit(tmp_path: Path, isolated_store):
    """A ``from __future__`` import after a magic's line (george's notebooks start so) failed
    with a SyntaxError through hitnb: the cell was compiled as one module, where IPython
    compiles each statement. And a hit did not import the feature: a definition made again,
    and a cell after it, evaluated annotations that ``annotations`` leaves as text."""
    cells = [
        "%load_ext hitnb",
        "%%memo\n%config InlineBackend.figure_format = 'png'\n"
        "from __future__ import annotations\n"
        "def f(a: NotDefined) -> int:\n    return 1",
        "%hitnb why",
        "def g(b: AlsoNotDefined) -> int:\n    return 2\n"
        "print(f.__annotations__, g.__annotations__)",
    ]
    env = {"HITNB_STORE": str(isolated_store)}
    first, second = printed_in_fresh_kernels(tmp_path, env, cells)
    shown = "{'a': 'NotDefined', 'return': 'int'} {'b': 'AlsoNotDefined', 'return': 'int'}\n"
    assert first[3] == second[3] == shown
    assert second[2] == "the last %%memo cell came from the cache\n"


DOUBLING = """import ast
class Doubling(ast.NodeTransformer):
    def visit_Constant(self, node):
        if type(node.value) is int:
            return ast.copy_location(ast.Constant(node.value * 2), node)
        return node
"""


def test_a_memoized_cell_runs_through_the_ast_transformers_ipython_applies(
    tmp_path: Path, isolated_store
):
    """IPython applies the AST transformers an extension registers (SymPy's
    ``init_session`` turns integer literals into SymPy integers) to every cell; hitnb ran
    the cell's code untransformed. The transformers are part of the cell's key."""
    env = {"HITNB_STORE": str(isolated_store)}
    code = "x = 2 + 3\nprint(x)"
    register = [DOUBLING, "get_ipython().ast_transformers.append(Doubling())"]
    plain = printed_in_fresh_kernels(tmp_path, env, [*register, code], 1)
    memoized = ["%load_ext hitnb", *register, f"%%memo\n{code}"]
    first, second = printed_in_fresh_kernels(tmp_path, env, memoized)
    without = printed_in_fresh_kernels(tmp_path, env, ["%load_ext hitnb", f"%%memo\n{code}"], 1)
    tripling = [DOUBLING.replace("* 2", "* 3"), "get_ipython().ast_transformers[:] = [Doubling()]"]
    redefined = printed_in_fresh_kernels(tmp_path, env, [*memoized, *tripling, memoized[-1]], 1)
    plainly = printed_in_fresh_kernels(tmp_path, env, [*register, code, *tripling, code], 1)
    assert plain[0][2] == first[3] == second[3] == "10\n"
    assert without[0][1] == "5\n"
    assert redefined[0][-1] == plainly[0][-1] != "10\n", "a redefined transformer: a new key"


def test_a_cell_reading_an_environment_variable_runs_again_when_it_changed(
    tmp_path: Path, isolated_store
):
    """``os.path.expandvars("$DATA_DIR/...")`` reads the environment where no syntax shows
    it (``os.getenv("NAME")`` in the cell itself is in its key): a session started with
    another value got the path of the old one from the cache."""
    cells = ["%load_ext hitnb\n%hitnb auto",
             "import os\npath = os.path.expandvars('$DATA_DIR/x.csv')\nprint(path)",
             "%hitnb why"]  # fmt: skip
    store = {"HITNB_STORE": str(isolated_store)}
    first, second = printed_in_fresh_kernels(tmp_path, {**store, "DATA_DIR": "/a"}, cells)
    assert first[1] == second[1] == "/a/x.csv\n" and "came from the cache" in second[2]
    (other,) = printed_in_fresh_kernels(tmp_path, {**store, "DATA_DIR": "/b"}, cells, 1)
    assert other[1] == "/b/x.csv\n"
    assert "environment variable DATA_DIR changed since it was stored" in other[2]


def test_a_hit_of_an_estimator_diagram_numbers_the_next_one_after_it(
    tmp_path: Path, isolated_store
):
    """scikit-learn numbers its HTML diagrams (their checkboxes toggle by id); a hit left
    the count at 0, so the next diagram reused the id the replayed one shows."""
    cells = [
        "%load_ext hitnb",
        "%%memo\nfrom sklearn.linear_model import LinearRegression\nLinearRegression()",
        "import re\nhtml = LinearRegression()._repr_html_()\n"
        "print(re.findall(r'sk-container-id-\\d+', html)[0])",
    ]
    first, second = printed_in_fresh_kernels(tmp_path, {"HITNB_STORE": str(isolated_store)}, cells)
    assert first[2] == second[2] == "sk-container-id-2\n"


def test_sympy_s_printing_settings_are_read_by_the_cells_that_touch_sympy(execute_notebook):
    """``sympy.init_printing(use_unicode=False)`` where a session had ``True``: a stored cell
    printing an expression replayed the unicode drawing (the printers init_printing gives
    IPython are the same functions either way; the setting is sympy's own)."""

    def printed(unicode: bool) -> str:
        sources = [
            "%load_ext hitnb\n%hitnb auto",
            "import sympy\nx = sympy.Symbol('x')",
            f"sympy.init_printing(use_unicode={unicode})",
            "sympy.pprint(sympy.sqrt(x))",
        ]
        notebook = execute_notebook(new_notebook(cells=[new_code_cell(c) for c in sources]))
        return stream_text(notebook.cells[-1])

    assert "√x" in printed(True)
    assert "\\/ x" in printed(False)
    assert "√x" in printed(True)
