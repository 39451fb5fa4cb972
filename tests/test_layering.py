"""The layers stay apart and `import hitnb` stays cheap."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEAVY = (
    "IPython", "numpy", "pandas", "ipywidgets", "nbformat", "jupyter_server", "plotly", "dill",
    "click", "tqdm",
)  # fmt: skip


def test_import_hitnb_loads_no_heavy_module():
    code = f"import sys, hitnb; print([m for m in {HEAVY!r} if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_a_plain_memo_call_loads_no_heavy_module(tmp_path):
    code = (
        "import sys, hitnb\n"
        "@hitnb.memo\n"
        "def f(x): return {'x': x}\n"
        "f(1); f(1)\n"
        f"print([m for m in {HEAVY!r} if m in sys.modules])\n"
    )
    env = {"HITNB_STORE": str(tmp_path / "s"), "PATH": ""}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_import_contracts_hold():
    lint = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert lint, "import-linter is part of the dev extra"
    out = subprocess.run([lint], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "broken" not in out.stdout.lower() or "0 broken" in out.stdout.lower()


def test_loading_the_extension_leaves_the_command_line_until_a_verb_needs_it(tmp_path):
    # Every kernel pays for %load_ext at each restart; click and hitnb's command line serve
    # only `%hitnb <verb>`.
    code = (
        "import sys\n"
        "from IPython.core.interactiveshell import InteractiveShell\n"
        "shell = InteractiveShell.instance()\n"
        "shell.run_cell('%load_ext hitnb', silent=True)\n"
        "print(sorted(m for m in ('click', 'hitnb.cli') if m in sys.modules))\n"
        "shell.run_cell('%hitnb ls', silent=True)\n"
        "print(sorted(m for m in ('click', 'hitnb.cli') if m in sys.modules))\n"
    )
    env = {"HITNB_STORE": str(tmp_path / "s"), "PATH": "", "HOME": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.strip().splitlines()
    assert lines[0] == "[]"
    assert lines[-1] == "['click', 'hitnb.cli']"
