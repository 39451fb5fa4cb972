"""Running one benchmark probe in a fresh interpreter: the shared part of every benchmark.

A probe is a small program that prints its figure as JSON on its last line. Each run gets an
interpreter of its own (no cache, import or allocation of another probe helps it) and a new
temporary folder as ``sys.argv[1]``, removed afterwards.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from typing import Any


def run_fresh(name: str, program: str, *args: str) -> Any:
    """What probe ``name`` (the source ``program``) printed last, parsed as JSON; exits the
    benchmark with the probe's error output when it fails."""
    with tempfile.TemporaryDirectory(prefix="hitnb-bench-") as folder:
        out = subprocess.run(
            [sys.executable, "-c", program, folder, *args],
            capture_output=True,
            text=True,
            check=False,
        )
    if out.returncode != 0:
        raise SystemExit(f"benchmark {name} failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])
