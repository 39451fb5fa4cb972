"""What a ``@memo`` function writes, in real kernels: random generators it draws from are
inputs and effects (never "written state" the key leaves out), and what it learned to leave
out belongs to its code, not to its name, and never hides a value the caller changed."""

from __future__ import annotations

from pathlib import Path

import pytest
from nbhelpers import KernelSession, printed_in_fresh_kernels

pytestmark = pytest.mark.slow

PREPARE = """%%capture
from hitnb import memo
import numpy as np
SEED = {seed}
rng = np.random.default_rng(SEED)

@memo
def prepare(n):
    return rng.normal(size=n).round(6).tolist()
"""


def _session(tmp_path: Path, store: Path, mode: str = "on") -> KernelSession:
    env = {"HITNB_STORE": str(store), "HITNB_QUIET": "1", "HITNB_MODE": mode}
    return KernelSession(tmp_path, env)


def test_a_global_generator_is_keyed_by_its_state_and_advanced_on_a_hit(
    tmp_path: Path, isolated_store: Path
):
    plain = []
    with _session(tmp_path, isolated_store, mode="off") as kernel:  # the same, uncached
        kernel.run("%load_ext hitnb")
        kernel.run(PREPARE.format(seed=0))
        plain = [kernel.run("print(prepare(2), round(rng.random(), 6))") for _ in range(2)]
    runs = []
    for seed in (0, 0, 1):  # a fresh kernel each time, on one store
        with _session(tmp_path, isolated_store) as kernel:
            kernel.run("%load_ext hitnb")
            kernel.run(PREPARE.format(seed=seed))
            first = kernel.run("print(prepare(2), round(rng.random(), 6))")
            again = kernel.run("print(prepare(2), round(rng.random(), 6))")
            runs.append((first, again, kernel.run("print(prepare.runs()[0].hits)")))
    assert runs[0][:2] == tuple(plain), "an uncached run prints the same"
    assert runs[1][:2] == tuple(plain), "a hit leaves the generator where the run left it"
    assert runs[1][2].strip() != "0", "the restart hit"
    assert runs[2][0] != plain[0], "reseeding with 1 must not return the seed-0 sample"


def test_a_generator_argument_is_advanced_on_a_hit(tmp_path: Path, isolated_store: Path):
    cells = [
        "%load_ext hitnb\nfrom hitnb import memo\nimport random",
        "@memo\ndef pick(rng, k):\n    return [rng.randint(0, 99) for _ in range(k)]",
        "rng = random.Random(7)\nprint(pick(rng, 3), rng.random())",
    ]
    env = {"HITNB_STORE": str(isolated_store), "HITNB_QUIET": "1"}
    first, second = printed_in_fresh_kernels(tmp_path, env, [*cells, "print(pick.runs()[0].hits)"])
    assert first[2] == second[2], "the draw after the hit is the uncached draw"
    assert second[3].strip() == "1"


def test_written_state_is_learned_per_code_version_not_per_name(
    tmp_path: Path, isolated_store: Path
):
    """One notebook's ``prepare`` writes a global ``rng`` (a counter); another notebook's
    ``prepare``, on the same store, reads a global of that name: it must not inherit the
    first one's exemption."""
    with _session(tmp_path, isolated_store) as kernel:
        kernel.run("%load_ext hitnb\nfrom hitnb import memo")
        kernel.run("rng = 0\n@memo\ndef prepare(n):\n    global rng\n    rng += 1\n    return n")
        kernel.run("prepare(1); prepare(2)")
    with _session(tmp_path, isolated_store) as kernel:
        kernel.run("%load_ext hitnb")
        kernel.run(PREPARE.format(seed=0))
        zero = kernel.run("print(prepare(2))")
        kernel.run("rng = np.random.default_rng(1)")
        one = kernel.run("print(prepare(2))")
    assert zero != one, "reseeding the generator prepare reads gives another sample"


def test_a_written_value_the_caller_changes_is_an_input(tmp_path: Path, isolated_store: Path):
    """The function counts its calls in CONFIG (state) but also reads CONFIG["scale"]."""
    with _session(tmp_path, isolated_store) as kernel:
        kernel.run("%load_ext hitnb\nfrom hitnb import memo")
        kernel.run(
            'CONFIG = {"scale": 2, "calls": 0}\n@memo\ndef scaled(x):\n'
            '    CONFIG["calls"] += 1\n    return x * CONFIG["scale"]'
        )
        first = kernel.run("print(scaled(1), scaled(2), scaled(1))")
        kernel.run('CONFIG["scale"] = 10')
        changed = kernel.run("print(scaled(1))")
        calls = kernel.run('print(CONFIG["calls"])')
    assert first.strip() == "2 4 2"
    assert changed.strip() == "10", "the caller's change to CONFIG must not be left out"
    assert calls.strip() == "3", "scaled(1) hit once, then ran again with the new scale"


def test_functions_passed_as_arguments_count_with_their_defaults(tmp_path: Path, isolated_store):
    with _session(tmp_path, isolated_store) as kernel:
        kernel.run("%load_ext hitnb\nfrom hitnb import memo")
        kernel.run("@memo\ndef apply(g, v):\n    return g(v)")
        printed = kernel.run("print([apply(lambda x, k=k: x + k, 10) for k in range(3)])")
    assert printed.strip() == "[10, 11, 12]"


def test_a_repeat_hit_in_the_same_kernel_advances_the_generator_too(
    tmp_path: Path, isolated_store: Path
):
    with _session(tmp_path, isolated_store) as kernel:
        kernel.run("%load_ext hitnb")
        kernel.run(PREPARE.format(seed=0))
        first = kernel.run("print(prepare(2), round(rng.random(), 6))")
        kernel.run("rng = np.random.default_rng(SEED)")
        second = kernel.run("print(prepare(2), round(rng.random(), 6))")  # engine path hit
        kernel.run("rng = np.random.default_rng(SEED)")
        third = kernel.run("print(prepare(2), round(rng.random(), 6))")  # repeat hit
    assert first == second == third
