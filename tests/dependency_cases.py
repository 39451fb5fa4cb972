"""The rules of invalidation, as cases that run both as Python programs and as notebooks.

Each case is a notebook: cells that define a memoized ``target`` (which prints COMPUTE
when it runs) and end with a cell that calls it. The case then edits the notebook
(cells, project files) and says whether the next call must recompute.

- As a Python program, the cells are joined into ``main.py`` and run in a fresh
  interpreter before and after the edit (and once more after, which must hit).
- As a notebook, the cells run in one kernel; after the edit, the changed cells and the
  call cell run again, the way a user re-runs what they edited (a case marked
  ``restart`` runs the edited notebook in a fresh kernel instead).
"""

from __future__ import annotations

from dataclasses import dataclass, field

MARK = "COMPUTE"


@dataclass(frozen=True)
class Case:
    name: str
    cells: list[str]
    edited: list[str]
    recompute: bool
    files: dict[str, str] = field(default_factory=dict)
    edited_files: dict[str, str] = field(default_factory=dict)
    restart: bool = False


CALL = "print('result', target(3))"


def target(body: str, *, params: str = "x", decorator: str = "@memo") -> str:
    return f"{decorator}\ndef target({params}):\n    print('{MARK}')\n{body}"


HEAD = "from hitnb import memo"

CASES: list[Case] = [
    # -- must recompute -----------------------------------------------------------------------
    Case(
        "own body changed",
        [HEAD, target("    return x + 1"), CALL],
        [HEAD, target("    return x + 2"), CALL],
        recompute=True,
    ),
    Case(
        "signature changed",
        [HEAD, target("    return x", params="x"), CALL],
        [HEAD, target("    return x", params="x, scale=1"), CALL],
        recompute=True,
    ),
    Case(
        "default argument value changed",
        [HEAD, target("    return x * k", params="x, k=1"), CALL],
        [HEAD, target("    return x * k", params="x, k=2"), CALL],
        recompute=True,
    ),
    Case(
        "helper in another cell changed",
        [HEAD, "def helper(v):\n    return v + 1", target("    return helper(x)"), CALL],
        [HEAD, "def helper(v):\n    return v + 10", target("    return helper(x)"), CALL],
        recompute=True,
    ),
    Case(
        "helper of a helper changed",
        [
            HEAD,
            "def inner(v):\n    return v * 2",
            "def helper(v):\n    return inner(v) + 1",
            target("    return helper(x)"),
            CALL,
        ],
        [
            HEAD,
            "def inner(v):\n    return v * 3",
            "def helper(v):\n    return inner(v) + 1",
            target("    return helper(x)"),
            CALL,
        ],
        recompute=True,
    ),
    Case(
        "helper defined after the function changed",
        [HEAD, target("    return helper(x)"), "def helper(v):\n    return v", CALL],
        [HEAD, target("    return helper(x)"), "def helper(v):\n    return -v", CALL],
        recompute=True,
    ),
    Case(
        "method of a class changed",
        [
            HEAD,
            "class Model:\n    def predict(self, v):\n        return v + 1",
            target("    return Model().predict(x)"),
            CALL,
        ],
        [
            HEAD,
            "class Model:\n    def predict(self, v):\n        return v + 2",
            target("    return Model().predict(x)"),
            CALL,
        ],
        recompute=True,
    ),
    Case(
        "base class changed",
        [
            HEAD,
            "class Base:\n    def scale(self):\n        return 2\n\n"
            "class Model(Base):\n    def predict(self, v):\n        return v * self.scale()",
            target("    return Model().predict(x)"),
            CALL,
        ],
        [
            HEAD,
            "class Base:\n    def scale(self):\n        return 3\n\n"
            "class Model(Base):\n    def predict(self, v):\n        return v * self.scale()",
            target("    return Model().predict(x)"),
            CALL,
        ],
        recompute=True,
    ),
    Case(
        "property changed",
        [
            HEAD,
            "class Box:\n    @property\n    def size(self):\n        return 4",
            target("    return Box().size * x"),
            CALL,
        ],
        [
            HEAD,
            "class Box:\n    @property\n    def size(self):\n        return 5",
            target("    return Box().size * x"),
            CALL,
        ],
        recompute=True,
    ),
    Case(
        "decorated helper changed (__wrapped__)",
        [
            HEAD + "\nimport functools",
            "def logged(f):\n    @functools.wraps(f)\n    def wrapper(*a):\n        return f(*a)\n"
            "    return wrapper",
            "@logged\ndef helper(v):\n    return v + 1",
            target("    return helper(x)"),
            CALL,
        ],
        [
            HEAD + "\nimport functools",
            "def logged(f):\n    @functools.wraps(f)\n    def wrapper(*a):\n        return f(*a)\n"
            "    return wrapper",
            "@logged\ndef helper(v):\n    return v + 2",
            target("    return helper(x)"),
            CALL,
        ],
        recompute=True,
    ),
    Case(
        "memoized helper changed",
        [HEAD, "@memo\ndef helper(v):\n    return v + 1", target("    return helper(x)"), CALL],
        [HEAD, "@memo\ndef helper(v):\n    return v - 1", target("    return helper(x)"), CALL],
        recompute=True,
    ),
    Case(
        "functools.partial changed",
        [
            HEAD + "\nimport functools",
            "def power(v, k):\n    return v ** k\nsquare = functools.partial(power, k=2)",
            target("    return square(x)"),
            CALL,
        ],
        [
            HEAD + "\nimport functools",
            "def power(v, k):\n    return v ** k\nsquare = functools.partial(power, k=3)",
            target("    return square(x)"),
            CALL,
        ],
        recompute=True,
    ),
    Case(
        "lambda bound to a global changed",
        [HEAD, "double = lambda v: v * 2", target("    return double(x)"), CALL],
        [HEAD, "double = lambda v: v * 2 + 1", target("    return double(x)"), CALL],
        recompute=True,
    ),
    Case(
        "global number changed",
        [HEAD, "THRESHOLD = 0.5", target("    return x > THRESHOLD"), CALL],
        [HEAD, "THRESHOLD = 0.7", target("    return x > THRESHOLD"), CALL],
        recompute=True,
    ),
    Case(
        "global string changed",
        [HEAD, "PREFIX = 'a'", target("    return PREFIX * x"), CALL],
        [HEAD, "PREFIX = 'b'", target("    return PREFIX * x"), CALL],
        recompute=True,
    ),
    Case(
        "global list mutated in place",
        [HEAD, "ITEMS = [1, 2]", target("    return sum(ITEMS) + x"), CALL],
        [HEAD, "ITEMS = [1, 2]", target("    return sum(ITEMS) + x"), "ITEMS.append(3)", CALL],
        recompute=True,
    ),
    Case(
        "global dict changed",
        [HEAD, "CONFIG = {'a': 1, 'b': 2}", target("    return CONFIG['a'] + x"), CALL],
        [HEAD, "CONFIG = {'a': 1, 'b': 3}", target("    return CONFIG['a'] + x"), CALL],
        recompute=True,
    ),
    Case(
        "global numpy array mutated in place",
        [
            HEAD + "\nimport numpy as np",
            "ARR = np.arange(5.0)",
            target("    return float(ARR.sum())"),
            CALL,
        ],
        [
            HEAD + "\nimport numpy as np",
            "ARR = np.arange(5.0)",
            target("    return float(ARR.sum())"),
            "ARR[0] = 9.0",
            CALL,
        ],
        recompute=True,
    ),
    Case(
        "global DataFrame changed in place",
        [
            HEAD + "\nimport pandas as pd",
            "DF = pd.DataFrame({'a': [1, 2]})",
            target("    return int(DF['a'].sum())"),
            CALL,
        ],
        [
            HEAD + "\nimport pandas as pd",
            "DF = pd.DataFrame({'a': [1, 2]})",
            target("    return int(DF['a'].sum())"),
            "DF.loc[0, 'a'] = 5",
            CALL,
        ],
        recompute=True,
    ),
    Case(
        "global dataclass instance changed in place",
        [
            HEAD + "\nimport dataclasses",
            "@dataclasses.dataclass\nclass Config:\n    lr: float\nCFG = Config(lr=0.1)",
            target("    return CFG.lr * x"),
            CALL,
        ],
        [
            HEAD + "\nimport dataclasses",
            "@dataclasses.dataclass\nclass Config:\n    lr: float\nCFG = Config(lr=0.1)",
            target("    return CFG.lr * x"),
            "CFG.lr = 0.2",
            CALL,
        ],
        recompute=True,
    ),
    Case(
        "closure value changed",
        [
            HEAD,
            "def make(k):\n    @memo\n    def target(x):\n        print('COMPUTE')\n"
            "        return x * k\n    return target\ntarget = make(2)",
            CALL,
        ],
        [
            HEAD,
            "def make(k):\n    @memo\n    def target(x):\n        print('COMPUTE')\n"
            "        return x * k\n    return target\ntarget = make(3)",
            CALL,
        ],
        recompute=True,
    ),
    Case(
        "function of a user module changed (reloaded)",
        [HEAD + "\nimport importlib\nimport utils", target("    return utils.scale(x)"), CALL],
        [
            HEAD + "\nimport importlib\nimport utils",
            target("    return utils.scale(x)"),
            "importlib.reload(utils)",
            CALL,
        ],
        recompute=True,
        files={"utils.py": "def scale(v):\n    return v * 2\n"},
        edited_files={"utils.py": "def scale(v):\n    return v * 4\n"},
    ),
    Case(
        "helper reached through a relative import changed",
        [HEAD + "\nimport importlib\nfrom pkg.core import run", target("    return run(x)"), CALL],
        [
            HEAD + "\nimport importlib\nfrom pkg.core import run",
            target("    return run(x)"),
            "import pkg.helpers, pkg.core\nimportlib.reload(pkg.helpers)\n"
            "importlib.reload(pkg.core)\nfrom pkg.core import run",
            CALL,
        ],
        recompute=True,
        files={
            "pkg/__init__.py": "",
            "pkg/helpers.py": "def bump(v):\n    return v + 1\n",
            "pkg/core.py": "from .helpers import bump\n\n\ndef run(v):\n    return bump(v) * 2\n",
        },
        edited_files={"pkg/helpers.py": "def bump(v):\n    return v + 100\n"},
    ),
    Case(
        "installed package version changed",
        [HEAD + "\nimport fakepkg", target("    return fakepkg.twice(x)"), CALL],
        [HEAD + "\nimport fakepkg", target("    return fakepkg.twice(x)"), CALL],
        recompute=True,
        restart=True,
        files={
            "site-packages/fakepkg/__init__.py": "def twice(v):\n    return 2 * v\n",
            "site-packages/fakepkg-1.0.0.dist-info/METADATA": "Metadata-Version: 2.1\n"
            "Name: fakepkg\nVersion: 1.0.0\n",
            "site-packages/fakepkg-1.0.0.dist-info/top_level.txt": "fakepkg\n",
        },
        edited_files={
            "site-packages/fakepkg-1.0.0.dist-info/METADATA": None,  # type: ignore[dict-item]
            "site-packages/fakepkg-1.0.0.dist-info/top_level.txt": None,  # type: ignore[dict-item]
            "site-packages/fakepkg-1.1.0.dist-info/METADATA": "Metadata-Version: 2.1\n"
            "Name: fakepkg\nVersion: 1.1.0\n",
            "site-packages/fakepkg-1.1.0.dist-info/top_level.txt": "fakepkg\n",
        },
    ),
    Case(
        "recursive function changed",
        [
            HEAD,
            "@memo\ndef target(x):\n    print('COMPUTE')\n"
            "    return 1 if x < 1 else target(x - 1) + 1",
            CALL,
        ],
        [
            HEAD,
            "@memo\ndef target(x):\n    print('COMPUTE')\n"
            "    return 1 if x < 1 else target(x - 1) + 2",
            CALL,
        ],
        recompute=True,
    ),
    Case(
        "mutually recursive helper changed",
        [
            HEAD,
            "def is_even(n):\n    return True if n == 0 else is_odd(n - 1)",
            "def is_odd(n):\n    return False if n == 0 else is_even(n - 1)",
            target("    return is_even(x)"),
            CALL,
        ],
        [
            HEAD,
            "def is_even(n):\n    return True if n == 0 else is_odd(n - 1)",
            "def is_odd(n):\n    return n != 0 and is_even(n - 1)",
            target("    return is_even(x)"),
            CALL,
        ],
        recompute=True,
    ),
    # -- must hit ---------------------------------------------------------------------------
    Case(
        "defining cell re-run unchanged",
        [HEAD, "def helper(v):\n    return v + 1", target("    return helper(x)"), CALL],
        [HEAD, "def helper(v):\n    return v + 1", target("    return helper(x)"), CALL],
        recompute=False,
    ),
    Case(
        "function moved to another cell",
        [HEAD, "def helper(v):\n    return v + 1\n\n" + target("    return helper(x)"), CALL],
        [HEAD, "def helper(v):\n    return v + 1", "A = 1", target("    return helper(x)"), CALL],
        recompute=False,
    ),
    Case(
        "cells reordered",
        [HEAD, "def helper(v):\n    return v + 1", target("    return helper(x)"), CALL],
        [HEAD, target("    return helper(x)"), "def helper(v):\n    return v + 1", CALL],
        recompute=False,
    ),
    Case(
        "comments, blank lines, formatting and docstrings changed",
        [HEAD, "def helper(v):\n    return v+1", target("    return helper(x)"), CALL],
        [
            HEAD,
            'def helper(v):\n    """Add one."""\n\n    # the classic\n    return (v +\n        1)',
            target("    # a comment\n\n    return helper( x )"),
            CALL,
        ],
        recompute=False,
    ),
    Case(
        "unrelated function, global and cell changed",
        [HEAD, "UNUSED = 1\ndef other(v):\n    return v", target("    return x"), CALL],
        [
            HEAD,
            "UNUSED = 2\ndef other(v):\n    return -v",
            "print('new cell')",
            target("    return x"),
            CALL,
        ],
        recompute=False,
    ),
    Case(
        "user module touched and reloaded with identical code",
        [HEAD + "\nimport importlib\nimport utils", target("    return utils.scale(x)"), CALL],
        [
            HEAD + "\nimport importlib\nimport utils",
            target("    return utils.scale(x)"),
            "importlib.reload(utils)",
            CALL,
        ],
        recompute=False,
        files={"utils.py": "def scale(v):\n    return v * 2\n"},
        edited_files={"utils.py": "# touched\ndef scale(v):\n    return v * 2\n"},
    ),
    Case(
        "builtins and C functions used",
        [HEAD + "\nimport math", target("    return math.sqrt(len([x] * 4))"), CALL],
        [HEAD + "\nimport math", target("    return math.sqrt(len([x] * 4))"), CALL],
        recompute=False,
    ),
    Case(
        "globals written as a side effect are not inputs",
        [
            HEAD,
            "CALLS = 0\nLOG = []",
            target("    global CALLS\n    CALLS += 1\n    LOG.append(x)\n    return x"),
            CALL,
        ],
        [
            HEAD,
            "CALLS = 0\nLOG = []",
            target("    global CALLS\n    CALLS += 1\n    LOG.append(x)\n    return x"),
            CALL,
        ],
        recompute=False,
    ),
    Case(
        "a tracker object the function updates is state, not input",
        [
            HEAD,
            "class Tracker:\n    def __init__(self):\n        self.n = 0\n"
            "    def hit(self):\n        self.n += 1\nTRACKER = Tracker()",
            target("    TRACKER.hit()\n    return x"),
            CALL,
        ],
        [
            HEAD,
            "class Tracker:\n    def __init__(self):\n        self.n = 0\n"
            "    def hit(self):\n        self.n += 1\nTRACKER = Tracker()",
            target("    TRACKER.hit()\n    return x"),
            CALL,
        ],
        recompute=False,
    ),
]
