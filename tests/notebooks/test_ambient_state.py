"""Ambient state in real kernels: random streams are read and advanced, library settings a
cached cell made are made again on a hit, so later plain cells see what an uncached run
would have left them."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from library_cases import install_numbered
from nbformat.v4 import new_code_cell, new_notebook
from nbhelpers import stream_text

pytestmark = pytest.mark.slow

CELLS = [
    "%%memo\nimport os, random\nimport numpy as np\nimport pandas as pd\n"
    "import matplotlib\nmatplotlib.use('Agg')\nimport matplotlib.pyplot as plt\n"
    "np.random.seed(0)\nrandom.seed(3)",
    "%%memo\nsample = np.random.normal(size=3).round(6)\npicked = random.random()\n"
    "print('sample', sample.tolist(), round(picked, 6))",
    "%%memo\npd.set_option('display.max_rows', 6)\npd.options.display.precision = 2\n"
    "os.environ['HITNB_TEST_FLAG'] = 'on'\nplt.style.use('ggplot')",
    "%%memo\nimport logging, sys\nos.makedirs('moved', exist_ok=True)\nos.chdir('moved')\n"
    "old_errors = np.seterr(divide='ignore')\nsys.setrecursionlimit(2345)\n"
    "logging.getLogger('chatty.library').setLevel(logging.ERROR)\n"
    "import plotly.io as pio\npio.templates.default = 'plotly_white'\n"
    "pio.renderers.default = 'png'",
    # plain cells: they run every time and must see what the cached cells left behind
    "print('after', np.random.normal(size=2).round(6).tolist(), round(random.random(), 6))",
    "print(pd.Series(range(100)) / 3)",
    "print(os.environ.get('HITNB_TEST_FLAG'), matplotlib.rcParams['axes.facecolor'])",
    "print(os.path.basename(os.getcwd()), np.geterr()['divide'], sys.getrecursionlimit(),\n"
    "      logging.getLogger('chatty.library').level, pio.templates.default,\n"
    "      pio.renderers.default)",
]


def _memoized() -> nbformat.NotebookNode:
    return new_notebook(cells=[new_code_cell("%load_ext hitnb"), *map(new_code_cell, CELLS)])


def _plain() -> nbformat.NotebookNode:
    plain = [c.removeprefix("%%memo\n") for c in CELLS]
    return new_notebook(cells=[new_code_cell(c) for c in plain])


def _printed(notebook: nbformat.NotebookNode) -> list[str]:
    """What each of CELLS printed (the memoized notebook has `%load_ext` first)."""
    return [stream_text(cell) for cell in notebook.cells[-len(CELLS) :]]


def test_a_hit_leaves_random_streams_and_settings_as_a_run_would(execute_notebook, tmp_path):
    plain = _printed(execute_notebook(_plain()))
    first = _printed(execute_notebook(_memoized()))
    second = _printed(execute_notebook(_memoized()))
    assert plain[1].startswith("sample [1.764052, 0.400157, 0.978738]")
    assert plain[6] == "on #E5E5E5\n" and "..." in plain[5]  # the settings took effect
    assert plain[7] == "moved ignore 2345 40 plotly_white png\n"
    assert first == plain
    assert second == plain, "the hits replay, and plain cells after them see the same state"


def test_reseeding_runs_a_random_cell_again(tmp_path: Path, isolated_store):
    from nbhelpers import KernelSession

    with KernelSession(tmp_path, {"HITNB_STORE": str(isolated_store)}) as kernel:
        kernel.run("%load_ext hitnb\nimport numpy as np")
        draw = "%%memo\nx = np.random.normal(size=2).round(6)\nprint(x.tolist())"
        kernel.run("np.random.seed(0)")
        zero = kernel.run(draw)
        kernel.run("np.random.seed(1)")
        one = kernel.run(draw)
        kernel.run("np.random.seed(0)")
        zero_again = kernel.run(draw)
    assert zero.startswith("[1.764052, 0.400157]")
    assert one.startswith("[1.624345, -0.611756]"), "a seed-0 sample must not come back"
    assert zero_again.startswith("[1.764052, 0.400157]")


def test_a_cell_that_seeds_the_stream_itself_hits_after_a_restart(tmp_path: Path,
                                                                  isolated_store):  # fmt: skip
    """numpy imported in a plain cell, seeded inside the memoized cell: the state before the
    seed came from entropy, so it is not an input; the next plain draw still continues the
    seeded stream."""
    from nbhelpers import printed_in_fresh_kernels

    cells = [
        "%load_ext hitnb\nimport numpy as np",
        "%%memo\nnp.random.seed(0)\nx = np.random.rand(2).round(6)\nprint(x.tolist())",
        "%hitnb why",
        "print(np.random.rand(1).round(6).tolist())",
    ]
    first, second = printed_in_fresh_kernels(tmp_path, {"HITNB_STORE": str(isolated_store)},
                                             cells)  # fmt: skip
    assert first[1] == second[1] == "[0.548814, 0.715189]\n"
    assert second[2] == "the last %%memo cell came from the cache\n"
    assert second[3] == first[3] == "[0.602763]\n"


def test_a_hit_numbers_later_objects_as_an_uncached_run_would(tmp_path: Path, isolated_store):
    """A hit brings the numbered objects back and moves the library's counter as the run
    did (it stayed at 0: the next system was a second ``sys[0]``); when other objects were
    numbered meanwhile, the cell that took the next numbers runs again."""
    from nbhelpers import KernelSession

    library = install_numbered(tmp_path, "numbered_systems")
    env = {"HITNB_STORE": str(isolated_store), "PYTHONPATH": str(library)}
    made = "%%memo\nmade = [ns.System() for _ in range(3)]"
    one = "%%memo\none = ns.System()"
    check = "print(*[s.name for s in made], one.name, ns.System().name)"
    sessions = [[made, one], [made, one], [made, "extra = ns.System()", one]]
    shown = []
    for cells in sessions:
        with KernelSession(tmp_path, env) as kernel:
            kernel.run("%load_ext hitnb\nimport numbered_systems as ns")
            for cell in cells:
                kernel.run(cell)
            shown.append((kernel.run(check), kernel.run("%hitnb why")))
    assert [printed for printed, _ in shown] == [
        "sys[0] sys[1] sys[2] sys[3] sys[4]\n",
        "sys[0] sys[1] sys[2] sys[3] sys[4]\n",
        "sys[0] sys[1] sys[2] sys[4] sys[5]\n",
    ]
    assert shown[1][1] == "the last %%memo cell came from the cache\n"
    assert "not where the stored run started from" in shown[2][1]


def test_a_cell_that_extended_pandas_runs_again_after_a_restart(tmp_path: Path, isolated_store):
    """``tqdm.pandas()`` gives DataFrame its ``progress_apply``; a hit of its cell added
    nothing, and the next cell failed with an AttributeError. The hit checks for the
    members the run added and, missing, runs the cell again."""
    from nbhelpers import printed_in_fresh_kernels

    cells = [
        "%load_ext hitnb\nimport pandas as pd",
        "%%memo\nfrom tqdm.auto import tqdm\ntqdm.pandas(disable=True)",
        "%hitnb why",
        "print(pd.DataFrame({'a': [1, 2]}).progress_apply(sum).tolist())",
    ]
    first, second = printed_in_fresh_kernels(tmp_path, {"HITNB_STORE": str(isolated_store)},
                                             cells)  # fmt: skip
    assert first[3] == second[3] == "[3]\n"
    assert second[2].startswith("it ran again: the stored run added progress_apply, ")
    assert "to class pandas:DataFrame, which a hit cannot add" in second[2]


PRETTY = '''
from IPython import get_ipython


class Point:
    def __init__(self, x):
        self.x = x


def init_printing():
    """Registers how IPython shows a Point, as sympy's init_printing() registers its PNGs."""
    html = get_ipython().display_formatter.formatters["text/html"]
    html.for_type(Point, lambda point: f"<b>{point.x}</b>")
'''


def test_printers_and_logging_handlers_a_cell_set_up_are_there_after_a_restart(
    tmp_path: Path, isolated_store
):
    """Two set-ups a hit of their cell lost: a library registering how IPython shows its
    objects (sympy's ``init_printing()``: later cells showed no PNG), and
    ``logging.basicConfig``'s handler (a library's log lines were not shown). The first is
    checked on a hit and the cell runs again; the second is made again."""
    from nbhelpers import KernelSession

    library = tmp_path / "site-packages"
    library.mkdir()
    (library / "pretty_points.py").write_text(PRETTY)
    env = {"HITNB_STORE": str(isolated_store), "PYTHONPATH": str(library)}
    shown = []
    for _ in range(2):
        with KernelSession(tmp_path, env) as kernel:
            kernel.run("%load_ext hitnb")
            kernel.run("%%memo\nimport pretty_points\npretty_points.init_printing()")
            why = kernel.run("%hitnb why")
            kernel.run(
                "%%memo\nimport logging\n"
                "logging.basicConfig(level=logging.INFO, format='%(levelname)s:%(message)s')"
            )
            kernel.run("pretty_points.Point(3)")
            html = kernel.notebook.cells[-1].outputs[0]["data"].get("text/html")
            kernel.run("logging.getLogger('some.library').info('fitted')")
            logged = [
                output.text
                for output in kernel.notebook.cells[-1].outputs
                if output.output_type == "stream"
            ]
            shown.append((html, logged, why))
    assert [(html, logged) for html, logged, _ in shown] == [("<b>3</b>", ["INFO:fitted\n"])] * 2
    assert shown[1][2].startswith("it ran again: the stored run registered how IPython shows ")


def test_an_environment_variable_a_cell_reads_is_part_of_its_key(tmp_path: Path, isolated_store):
    """A cached ``os.environ.get("DATA_DIR")`` printed the first session's folder in a
    session started with another one."""
    from nbhelpers import KernelSession

    shown = []
    for folder in ("first", "second", "second"):
        env = {"HITNB_STORE": str(isolated_store), "HITNB_TEST_DATA_DIR": folder}
        with KernelSession(tmp_path, env) as kernel:
            kernel.run("%load_ext hitnb")
            kernel.run("%%memo\nimport os\ndata_dir = os.environ.get('HITNB_TEST_DATA_DIR')")
            shown.append((kernel.run("print(data_dir)"), kernel.run("%hitnb why")))
    assert [printed for printed, _ in shown] == ["first\n", "second\n", "second\n"]
    assert shown[2][1] == "the last %%memo cell came from the cache\n"
