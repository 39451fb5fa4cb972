"""What a run changed is measured, not guessed from syntax: a method call alone is not a write,
and a change made through called code or through a view comes back on a hit (real kernels,
the second one a restart on the same store)."""

from __future__ import annotations

import json

import pytest
from nbformat.v4 import new_code_cell, new_notebook
from nbhelpers import printed_in_fresh_kernels, stream_text

from hitnb.store.local import open_store

pytestmark = pytest.mark.slow

CELLS = [
    "%load_ext hitnb",
    "import json, warnings\nimport numpy as np\nimport pandas as pd\nimport hitnb\n"
    "def add_ratio(frame):\n    frame['ratio'] = frame['a'] / frame['b']",
    "%%memo\nlabels = pd.Series(np.arange(1_000_000) % 7)\n"
    "df = pd.DataFrame({'a': [1.0, 2.0], 'b': [4.0, 8.0]})\n"
    "x2 = np.arange(16).reshape(4, 4)\nidx = np.arange(6)",
    "labels_id = id(labels)",
    "%%memo\nused = int(labels.memory_usage(deep=True))\nadd_ratio(df)",
    "%%memo\nsub = x2[:2, :2]\nsub[0, 0] = 99\nnp.random.seed(5)\nnp.random.shuffle(idx)",
    "@hitnb.memo\ndef widen(frame):\n    frame['c'] = 1\n    return len(frame)\n"
    "other = pd.DataFrame({'a': [1]})\n"
    "with warnings.catch_warnings(record=True) as caught:\n"
    "    warnings.simplefilter('always')\n    widen(other)\n"
    "print(json.dumps([list(df.columns), int(x2[0, 0]), idx.tolist(), id(labels) == labels_id,"
    " list(other.columns), [str(w.message) for w in caught]]))",
]


def test_changes_are_measured_and_replayed(execute_notebook, isolated_store):
    notebook = new_notebook(cells=[new_code_cell(c) for c in CELLS])
    first = json.loads(stream_text(execute_notebook(notebook).cells[-1]))
    notebook = new_notebook(cells=[new_code_cell(c) for c in CELLS])
    second = json.loads(stream_text(execute_notebook(notebook).cells[-1]))
    columns, corner, shuffled, same_labels, widened, warned = second
    assert columns == ["a", "b", "ratio"], "a column added by a called function comes back"
    assert corner == 99, "a change made through a view comes back"
    assert shuffled == first[2] and sorted(shuffled) == list(range(6)) != shuffled
    assert same_labels, "a method call is not a write: labels is neither stored nor replaced"
    assert widened == ["a", "c"]
    assert any("changed its argument `frame` in place" in w for w in warned)
    assert first[:5] == second[:5]
    cells = [row.size for row in open_store(isolated_store).listing() if row.function == "cell"]
    assert sum(cells) < 12_000_000  # labels (8 MB) was stored once, not again as a "write"


RECEIVER_CELLS = [
    "%load_ext hitnb",
    "import json\nimport pandas as pd\n"
    "class Results:\n    def __init__(self):\n        self.cache = {}\n        self.shown = 0\n"
    "    def summary(self):\n        self.shown += 1\n"
    "        return self.cache.setdefault('table', f'table {self.shown}')",
    "%%memo\nres = Results()\nframe = pd.DataFrame({'a': [1, 2]})",
    "%%memo\nres.summary()",
    "%%memo\nframe.head()",
    "print(json.dumps([res.shown, res.cache]))",
]


def test_a_method_pure_for_pandas_that_changes_a_notebook_object_is_replayed(
    execute_notebook, isolated_store
):
    """``summary`` leaves a pandas value as it was, but a class of the notebook's (or of a
    library, such as statsmodels' results filling their caches) may change itself in it: the
    change is measured and comes back on a hit, so the restarted notebook shows what the first
    session showed."""
    shown = []
    for _ in range(2):
        notebook = execute_notebook(new_notebook(cells=[new_code_cell(c) for c in RECEIVER_CELLS]))
        shown.append(json.loads(stream_text(notebook.cells[-1])))
    assert shown[0] == [1, {"table": "table 1"}]
    assert shown[1] == shown[0], "summary() changed `res`; a hit must restore that change"


AUGMENTED_CELLS = [
    "%load_ext hitnb",
    "import json\n"
    "class Network:\n    def __init__(self, lines):\n"
    "        self.lines = lines\n        self.parts = len(lines)",
    "%%memo\nlines = [[1, 2], [3, 4]]",
    "%%memo\nnetwork = Network(lines)",
    "%%memo\nmore = [[5, 6]]\nlines += more",
    "%%memo\nnetwork = Network(lines)",
    "print(json.dumps([network.parts, len(lines), len(network.lines)]))",
]


def test_a_list_extended_in_place_is_a_new_input_for_the_cells_after(
    execute_notebook, isolated_store
):
    # spaghetti's connected-components notebook: `lines += new_lines` extends the list an
    # earlier network holds; the digest kept for that list was the one from before, so a
    # cell making a network of `lines` again hit the first one's stored run (2 components
    # shown where the notebook has 3).
    for _ in range(2):  # then a restart on the same store
        notebook = new_notebook(cells=[new_code_cell(c) for c in AUGMENTED_CELLS])
        assert json.loads(stream_text(execute_notebook(notebook).cells[-1])) == [3, 3, 3]


@pytest.mark.parametrize(
    "loop",
    [
        "for name, model in models.items():\n    model.fit(X, y)",
        "for model in sorted(models.values(), key=lambda m: type(m).__name__):\n"
        "    model.fit(X, y)",
        "fitted = [model.fit(X, y) for model in models.values()]",
        "for name in models:\n    models[name].fit(X, y)",
        "ms = list(models.values())\nfor model in ms:\n    model.fit(X, y)",
        "r = [*map(lambda kv: kv[1].fit(X, y), models.items())]",
        "def fit_all(*ms):\n    for m in ms:\n        m.fit(X, y)\nfit_all(*models.values())",
        "groups = {'g': list(models.values())}\n"
        "r = [[m.fit(X, y) for m in ms] for ms in groups.values()]",
        "def fit_all(ms):\n    for m in ms:\n        m.fit(X, y)\n"
        "fit_all([models['ridge'], models['lasso']])",
    ],
    ids=[
        "for-items",
        "for-sorted",
        "comprehension",
        "by-key",
        "listed-first",
        "map",
        "spread",
        "nested",
        "list-given",
    ],
)
def test_models_fitted_in_a_loop_over_their_dict_come_back_fitted(tmp_path, isolated_store, loop):
    """``for name, model in models.items(): model.fit(X, y)`` changes the models the dict
    holds, through a method syntax takes for a read (``items``): the dict was not measured
    after the run, and after a restart its hit left the models unfitted (a review's case,
    older than this change)."""
    cells = [
        "%load_ext hitnb\n%hitnb auto\nimport numpy as np\n"
        "from sklearn.linear_model import Lasso, Ridge\n"
        "X = np.arange(20.0).reshape(10, 2)\ny = X @ [1.0, 2.0]\n"
        "models = {'ridge': Ridge(), 'lasso': Lasso(alpha=0.01)}",
        loop,
        "%hitnb why",
        "%hitnb auto off",
        "print({name: hasattr(model, 'coef_') for name, model in models.items()})",
    ]
    env = {"HITNB_STORE": str(isolated_store)}
    first, second = printed_in_fresh_kernels(tmp_path, env, cells)
    assert first[-1] == second[-1] == "{'ridge': True, 'lasso': True}\n"
    assert "came from the cache" in second[2], second[2]
