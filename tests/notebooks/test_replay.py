"""What a hit shows is what the run showed: a trailing `;` hides the value on both, and a
logging handler bound to the kernel's stream before the cell is replayed."""

from __future__ import annotations

from pathlib import Path

import pytest
from nbclient.exceptions import CellExecutionError
from nbhelpers import KernelSession, printed_in_fresh_kernels

pytestmark = pytest.mark.slow

SETUP = (
    "%load_ext hitnb\nimport logging, sys\nlog = logging.getLogger('demo')\n"
    "log.addHandler(logging.StreamHandler(sys.stderr))\nlog.setLevel(logging.INFO)"
)
CELL = "%%memo\nx = [1, 2, 3]\nlog.info('logged %d', len(x))\nx.copy();"


def _shown_outputs(cell) -> list:
    """Outputs other than hitnb's badge."""
    return [o for o in cell.outputs if not o.get("metadata", {}).get("hitnb", {}).get("badge")]


def _shown(cell) -> list[tuple[str, str]]:
    """Outputs other than hitnb's badge, as (kind, text)."""
    return [
        (o.output_type, o.get("text") or o.get("data", {}).get("text/plain", ""))
        for o in _shown_outputs(cell)
    ]


def _shown_in_two_sessions(folder: Path, store: Path, setup: str, cell: str) -> list:
    """What ``cell`` shows after ``setup`` in a kernel, then in a second one on the same
    store (a restart: the cell is a hit there)."""
    shown = []
    for _ in range(2):
        with KernelSession(folder, {"HITNB_STORE": str(store)}) as kernel:
            kernel.run(setup)
            kernel.run(cell)
            shown.append(_shown(kernel.notebook.cells[-1]))
    return shown


def test_semicolons_and_logging_replay_as_they_ran(tmp_path: Path, isolated_store):
    shown = _shown_in_two_sessions(tmp_path, isolated_store, SETUP, CELL)
    assert shown[0] == [("stream", "logged 3\n")]
    assert shown[1] == shown[0]


FIGURE = (
    "%%memo\nprint('drawing')\nfig, ax = plt.subplots()\nax.plot([1, 2, 3])\n"
    "ax.set_ylabel('Residual')"
)


def test_a_result_comes_before_its_figures_and_reads_as_plain(tmp_path: Path, isolated_store):
    """IPython shows a cell's value, then the inline figures; drawing moves a label, so a
    figure drawn first changes the value's text (Text(24.3, 0.5, ...) for Text(0, 0.5, ...))."""
    setup = "%load_ext hitnb\nimport matplotlib.pyplot as plt\n%matplotlib inline"
    shown = []
    for cell in (FIGURE.removeprefix("%%memo\n"), FIGURE, FIGURE):  # plain, miss, restart hit
        with KernelSession(tmp_path, {"HITNB_STORE": str(isolated_store)}) as kernel:
            kernel.run(setup)
            kernel.run(cell)
            outputs = kernel.notebook.cells[-1].outputs
            shown.append([(o.output_type, _text(o)) for o in outputs if not _badge(o)])
    plain = shown[0]
    assert [kind for kind, _ in plain] == ["stream", "execute_result", "display_data"]
    assert plain[1][1] == "Text(0, 0.5, 'Residual')"
    assert shown[1] == plain, "the miss shows what the plain cell shows, in its order"
    assert shown[2] == plain, "and so does the hit"


def test_a_figure_laid_out_by_its_engine_shows_as_plain(tmp_path: Path, isolated_store):
    """IPython draws every figure once more before the inline backend shows them, and a
    constrained layout moves the axes a little on that draw: shown without it, the image
    and the axes' position differed from a plain run's (found by the thirteenth corpus)."""
    cell = "%%memo\nfig, ax = plt.subplots(layout='constrained')\n_ = ax.plot([0, 1], [0, 480])"
    where = "print([float(v).hex() for v in ax.get_position().bounds])"
    seen = []
    for source in (cell.removeprefix("%%memo\n"), cell, cell):  # plain, miss, restart hit
        with KernelSession(tmp_path, {"HITNB_STORE": str(isolated_store)}) as kernel:
            kernel.run("%load_ext hitnb\nimport matplotlib.pyplot as plt\n%matplotlib inline")
            kernel.run(source)
            outputs = kernel.notebook.cells[-1].outputs
            images = [o["data"]["image/png"] for o in outputs if "image/png" in o.get("data", {})]
            seen.append((images, kernel.run(where)))
    plain = seen[0]
    assert len(plain[0]) == 1 and plain[1].startswith("['0x")
    assert seen[1] == plain, "the miss draws and places the figure as the plain cell does"
    assert seen[2] == plain, "and the hit shows that image, the axes where they were"


def test_a_cell_drawing_on_an_earlier_cells_figure_runs_uncached_and_draws_as_plain(
    tmp_path: Path, isolated_store
):
    """``for ax in axes.ravel(): ax.set_axis_off()`` under ``plt.subplots(6, 3)``: 3 ms
    plainly, and a hit took a second, mostly walking the figure's artists to key it and to
    check who shares them (the fourteenth corpus). Such a cell runs as plainly, saying so
    once; the cell making the figure is cached as before."""
    cells = [
        "%load_ext hitnb\nimport matplotlib.pyplot as plt\n%matplotlib inline",
        "%%memo\nfig, axes = plt.subplots(3, 2)\nfor ax in axes.ravel():\n    ax.plot([0, 1])",
        "%%memo\naxes[0][0].set_title('drawn')\naxes[1][1].set_axis_off()\nfig",
        "print(axes[0][0].get_title(), axes[1][1].axison, len(fig.axes))",
    ]
    sessions = []
    for memoized in (False, True, True):
        with KernelSession(tmp_path, {"HITNB_STORE": str(isolated_store)}) as kernel:
            shown = []
            for cell in cells:
                source = cell if memoized else cell.removeprefix("%%memo\n")
                shown.append(kernel.run(source))
            outputs = kernel.notebook.cells[2].outputs
            images = [o["data"]["image/png"] for o in outputs if "image/png" in o.get("data", {})]
            sessions.append((shown, images))
    (plain, plain_images), first, second = sessions
    assert plain[3] == "drawn False 6\n" and len(plain_images) == 1
    for shown, images in (first, second):
        assert "it draws on `axes`, a figure an earlier cell made" in shown[2]
        assert shown[3] == plain[3] and images == plain_images
    assert "hitnb" not in second[0][1], "the cell making the figure: a hit, as before"


def _text(output) -> str:
    if "text" in output:
        return output["text"]
    return output.get("data", {}).get("text/plain", "")


def _badge(output) -> bool:
    return bool(output.get("metadata", {}).get("hitnb", {}).get("badge"))


WARNED = (
    "%%memo\nimport time, warnings\nwarnings.warn('did not converge')\n{between}"
    "print('summary')\n{after}"
)


SLOW_TO_STORE = (
    "import time\n"
    "class SlowToStore:\n"
    "    def __reduce__(self):\n"
    "        time.sleep(0.5)  # hashing and storing it take half a second each\n"
    "        return SlowToStore, ()"
)


@pytest.mark.parametrize(
    ("between", "after", "order"),
    [
        ("time.sleep(0.5)\n", "", ["stderr", "stdout"]),
        ("", "", ["stdout", "stderr"]),
        ("", "time.sleep(0.5)\ndisplay('figure')", ["stderr", "stdout", None]),
        ("", "slow = SlowToStore()\n", ["stdout", "stderr"]),
    ],
    ids=[
        "warning-well-before",
        "same-instant",
        "same-instant-then-a-slow-figure",
        "same-instant-then-a-slow-store",
    ],
)
def test_a_warning_and_a_summary_replay_in_the_order_the_kernel_showed(
    tmp_path: Path, isolated_store, between: str, after: str, order: list[str | None]
):
    """The kernel buffers stdout and stderr apart, sends each 0.2 s after its first write and
    both (stdout first) before rich output and when the cell ends: statsmodels' fits print a
    ConvergenceWarning and a summary, which show in either order. A hit shows them in the
    order the run did, and so does the miss, however long storing its outputs takes after
    the cell's code has ended (the kernel's timer would send the text meanwhile)."""
    cell = WARNED.format(between=between, after=after)
    shown = []
    for source in (cell.removeprefix("%%memo\n"), cell, cell):  # plain, miss, restart hit
        with KernelSession(tmp_path, {"HITNB_STORE": str(isolated_store)}) as kernel:
            kernel.run("%load_ext hitnb\n" + SLOW_TO_STORE)
            kernel.run(source)
            shown.append([o.get("name") for o in _shown_outputs(kernel.notebook.cells[-1])])
    assert shown[0] == order
    assert shown[1] == shown[0] and shown[2] == shown[0]


def test_a_warning_due_but_not_yet_sent_before_a_figure_replays_as_the_run_showed_it(
    tmp_path: Path, isolated_store
):
    """A warning's 0.2 s timer is due when a figure is shown but has not fired yet (the
    kernel's thread waits for the interpreter): the kernel would send the summary printed
    after it first, while the record, going by the times, has the warning first. The run
    and its replay must show one order (metaanalysis1's forest plot showed two)."""
    cell = WARNED.format(  # holding the interpreter delays the timer's start, as a busy fit does
        between="started = time.monotonic()\nimport sys\nsys.setswitchinterval(0.1)\n",
        after="while time.monotonic() < started + 0.2005:\n    pass\n"
        "sys.setswitchinterval(0.005)\ndisplay('figure')\n"
        "del started",  # (a reading of the clock: bound, the cell would not be cached)
    )
    shown = []
    for _ in range(2):  # the miss, then a hit after a restart
        with KernelSession(tmp_path, {"HITNB_STORE": str(isolated_store)}) as kernel:
            kernel.run("%load_ext hitnb")
            kernel.run(cell)
            shown.append([o.get("name") for o in _shown_outputs(kernel.notebook.cells[-1])])
    assert shown[0] == shown[1]
    assert sorted(shown[0], key=str) == [None, "stderr", "stdout"]


def test_text_a_timer_left_by_the_cell_before_sends_early_replays_as_the_run_showed_it(
    tmp_path: Path, isolated_store
):
    """A timer the kernel set for text of the cell before still fires after that text was
    sent at the cell's end, and sends what is written by then: here a warning and a summary
    printed in one instant, 0.1 s after they were written, warning first (the order of the
    timers). Going by the times of the writes, neither was due when the cell ended, and the
    record had the summary first; the replay showed another order than the run and the
    plain cell (metaanalysis1's forest plot)."""
    before = "import sys, time\nprint('a', file=sys.stderr)\nprint('a')\ntime.sleep(0.1)"
    cell = WARNED.format(between="", after="time.sleep(0.15)\n")
    shown = []
    for source in (cell.removeprefix("%%memo\n"), cell, cell):  # plain, miss, restart hit
        with KernelSession(tmp_path, {"HITNB_STORE": str(isolated_store)}) as kernel:
            kernel.run("%load_ext hitnb")
            kernel.run(before)
            kernel.run(source)
            shown.append([o.get("name") for o in _shown_outputs(kernel.notebook.cells[-1])])
    assert shown[0] == ["stderr", "stdout"]
    assert shown[1] == shown[0] and shown[2] == shown[0]


WIDGET_SETUP = (
    "%load_ext hitnb\nimport ipywidgets as w\nfrom IPython.display import display, clear_output\n"
    "def work():\n    out = w.Output()\n    display(out)\n    with out:\n"
    "        print('progress 1')\n        clear_output()\n        print('progress 2')\n"
    "    return 42"
)
WIDGET_CELL = "%%memo\nprint('before')\nr = work()\nprint('after', r)"


def test_what_an_output_widget_captures_is_not_the_cells_output(tmp_path: Path, isolated_store):
    # skore draws progress bars into Output widgets: what went into the widget was recorded
    # as the cell's, and the widget's clear_output cleared what the cell had shown, so a
    # hit showed "progress 2" and "after 42" only.
    shown = _shown_in_two_sessions(tmp_path, isolated_store, WIDGET_SETUP, WIDGET_CELL)
    text = [t for kind, t in shown[1] if kind == "stream"]
    assert "".join(text) == "before\nafter 42\n", shown[1]
    assert [t for kind, t in shown[1] if kind == "display_data"] == ["Output()"]


def test_a_figure_an_interactive_backend_keeps_open_adds_nothing_on_a_hit(
    tmp_path: Path, isolated_store
):
    # `%matplotlib notebook` keeps figures open, so an Axes in a cell's outputs is pickled
    # with its figure still managed by pyplot; unpickled on a hit, the figure was managed
    # again and that backend showed it at once: a PNG (or a second live figure) that the
    # run never showed.
    setup = "%load_ext hitnb\n%matplotlib notebook\nimport matplotlib.pyplot as plt"
    cell = "%%memo\nplt.plot([1, 2, 3])\nframe = plt.gca()"
    shown = _shown_in_two_sessions(tmp_path, isolated_store, setup, cell)
    assert [kind for kind, _ in shown[0]] == ["display_data", "display_data"]  # script, div
    assert shown[1] == shown[0]


def test_a_hit_makes_the_settings_the_cells_magics_made(tmp_path: Path, isolated_store):
    # `%config`, `%matplotlib` and `%load_ext` may stand in a memoized cell: they change no
    # value. But a hit that skipped them left the session unlike the run: later figures in
    # another format, an extension's magics missing (`%autoreload`: UsageError).
    cell = (
        "%%memo\n%matplotlib inline\n%config InlineBackend.figure_format = 'svg'\n"
        "%load_ext autoreload\nimport matplotlib.pyplot as plt"
    )
    later = "%autoreload 2\nplt.plot([1, 2])\nplt.show()"
    outputs = []
    for _ in range(2):
        with KernelSession(tmp_path, {"HITNB_STORE": str(isolated_store)}) as kernel:
            kernel.run("%load_ext hitnb")
            kernel.run(cell)
            kernel.run(later)
            outputs.append(
                [
                    (o.output_type, sorted(o.get("data", {})))
                    for o in kernel.notebook.cells[-1].outputs
                ]
            )
    assert outputs[0] == [("display_data", ["image/svg+xml", "text/plain"])]
    assert outputs[1] == outputs[0]


NOISY = "import warnings\nprint('loading noisy')\nwarnings.warn('noisy at import')\n"
WARNS = (
    "import warnings\n\ndef f():\n    warnings.warn('careful')\n\n"
    "def scaler(k):\n    return lambda x: x * k\n"
)


def test_a_hit_shows_what_the_run_showed_once_not_what_making_it_again_prints_or_warns(
    tmp_path: Path, isolated_store
):
    # A hit imports again the modules the run imported: what that prints or warns was shown
    # a second time (tqdm.auto's TqdmExperimentalWarning, which the run's import had
    # silenced). And storing a closure (dill) made Python forget which warnings it had
    # shown: a warning shown once by the run's first cell showed again in its third.
    (tmp_path / "noisy.py").write_text(NOISY)
    (tmp_path / "warns.py").write_text(WARNS)
    cells = [
        "%%memo\nimport noisy",
        "import warns\nwarns.f()",
        "%%memo\ntriple = warns.scaler(3)",
        "warns.f()\nprint(triple(2))",
    ]
    shown = []
    for _ in range(2):
        with KernelSession(
            tmp_path, {"HITNB_STORE": str(isolated_store), "PYTHONPATH": str(tmp_path)}
        ) as kernel:
            kernel.run("%load_ext hitnb")
            for cell in cells:
                kernel.run(cell)
            shown.append([_shown(c) for c in kernel.notebook.cells[1:]])
    texts = [["".join(text for _, text in cell) for cell in run] for run in shown]
    assert (
        texts[0][0].count("loading noisy") == 1
        and texts[0][0].count("UserWarning: noisy at import") == 1
    )
    assert texts[0][1].count("UserWarning: careful") == 1
    assert texts[0][3] == "6\n"
    assert texts[1] == texts[0]


MYLOG = (
    "import logging, sys\nlog = logging.getLogger('mylog')\n"
    "log.addHandler(logging.StreamHandler(sys.stderr))\nlog.setLevel(logging.INFO)\n"
)


def test_a_handler_a_hit_makes_again_writes_to_the_notebook_afterwards(
    tmp_path: Path, isolated_store
):
    # A hit imports again what the run imported, and shows nothing of it: by dropping the
    # streams' writes for the while, not by swapping sys.stderr for a buffer, which the
    # handler made at import would have kept for the rest of the session.
    (tmp_path / "mylog.py").write_text(MYLOG)
    shown = []
    for _ in range(2):
        env = {"HITNB_STORE": str(isolated_store), "PYTHONPATH": str(tmp_path)}
        with KernelSession(tmp_path, env) as kernel:
            kernel.run("%load_ext hitnb")
            kernel.run("%%memo\nimport mylog")
            shown.append(kernel.run("mylog.log.info('LOGGED')"))
    assert shown == ["LOGGED\n", "LOGGED\n"]


def test_an_error_a_failing_repr_showed_is_shown_again_by_a_hit(tmp_path: Path, isolated_store):
    """A value whose repr raises: IPython's display formatter shows the error and the cell
    goes on (PDSH's 03.06 shows `pd.concat` errors that way). A hit showed nothing."""
    setup = (
        "%load_ext hitnb\nclass Bad:\n    def __repr__(self):\n"
        "        raise ValueError('no repr for you')"
    )
    cell = "%%memo\nprint('before')\nvalue = Bad()\nvalue"
    shown = []
    for _ in range(2):
        with KernelSession(tmp_path, {"HITNB_STORE": str(isolated_store)}) as kernel:
            kernel.run(setup)
            kernel.run(cell)
            outputs = _shown_outputs(kernel.notebook.cells[-1])
            shown.append([(o.output_type, o.get("text") or o.get("evalue")) for o in outputs])
            why = kernel.run("%hitnb why")
    assert shown[0] == [("stream", "before\n"), ("error", "no repr for you")]
    assert shown[1] == shown[0]
    assert why == "the last %%memo cell came from the cache\n"


def test_a_traceback_handler_a_library_installed_stays_after_a_memoized_cell(
    tmp_path: Path, isolated_store
):
    """rich's ``traceback.install()`` sets the shell's ``_showtraceback``; the recording of
    the next memoized cell put the class's method back, for the rest of the session."""
    with KernelSession(tmp_path, {"HITNB_STORE": str(isolated_store)}) as kernel:
        kernel.run("%load_ext hitnb")
        kernel.run(
            "get_ipython()._showtraceback = "
            "lambda kind, value, stb: print('handled', kind.__name__)"
        )
        kernel.run("%%memo\nx = 1")
        with pytest.raises(CellExecutionError):
            kernel.run("1 / 0")
        assert _shown(kernel.notebook.cells[-1]) == [("stream", "handled ZeroDivisionError\n")]


LOADER = (
    "%load_ext hitnb\nimport hitnb\n@hitnb.memo\ndef load():\n"
    "    return open('data.txt').read().strip()"
)
"""A memoized function reading a file of the notebook's folder."""


def test_a_hit_does_not_show_again_what_hitnb_said_during_the_run(tmp_path: Path, isolated_store):
    """A memoized function inside a memoized cell ran again because its file changed, and
    said so (``hitnb: recomputing load: file data.txt changed``): the cell recorded that
    note as its own output, and every later session's hit showed it, though nothing was
    recomputed there."""
    cells = [LOADER, "%%memo\nv = load() + '!'\nprint(v)"]
    env = {"HITNB_STORE": str(isolated_store)}
    (tmp_path / "data.txt").write_text("1\n")
    printed_in_fresh_kernels(tmp_path, env, cells, 1)
    (tmp_path / "data.txt").write_text("2\n")
    changed, replayed = printed_in_fresh_kernels(tmp_path, env, cells)
    assert changed[1] == "hitnb: recomputing load: file data.txt changed\n2!\n"
    assert replayed[1] == "2!\n"


def test_a_cell_whose_memoized_call_was_a_hit_reads_the_calls_file(tmp_path: Path, isolated_store):
    """The call was stored before the cell ran (a hit inside the cell's run): the cell was
    stored without the file the call had read, and kept its old result when it changed."""
    cells = [LOADER + "\nload()", "%%memo\nv = 'A ' + load()\nprint(v)"]
    env = {"HITNB_STORE": str(isolated_store)}
    (tmp_path / "data.txt").write_text("one\n")
    (first,) = printed_in_fresh_kernels(tmp_path, env, cells, 1)
    (tmp_path / "data.txt").write_text("two\n")
    (second,) = printed_in_fresh_kernels(tmp_path, env, cells, 1)
    assert (first[1], second[1]) == ("A one\n", "A two\n")


def test_a_cell_defining_a_memoized_function_hits_after_a_restart(tmp_path: Path, isolated_store):
    """``@hitnb.memo def f`` in a cell: the wrapper (no plain function) was stored as a
    pickle naming ``__main__.f``, which a new session lacks, so the cell ran uncached in
    every session after the first, with a note. Like any definition, its source runs again."""
    cells = [
        "%load_ext hitnb\n%hitnb auto",
        "import hitnb\n@hitnb.memo\ndef double(x):\n    return x * 2",
        "%hitnb why",
        "print(double(21), double.__name__)",
    ]
    first, second = printed_in_fresh_kernels(tmp_path, {"HITNB_STORE": str(isolated_store)}, cells)
    assert first[3] == second[3] == "42 double\n"
    assert "came from the cache" in second[2] and "uncached" not in second[1]
