"""The ``hitnb`` command through its real entry point, as a user types it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import hitnb

HITNB = shutil.which("hitnb", path=str(Path(sys.executable).parent))


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    assert HITNB, "the hitnb console script is installed with the package"
    return subprocess.run(
        [HITNB, *args], capture_output=True, text=True, input=stdin, env=dict(os.environ)
    )


@pytest.fixture
def filled(isolated_store: Path) -> dict[str, list[str]]:
    @hitnb.memo
    def square(x):
        return x * x

    @hitnb.experiment
    def train(lr):
        return {"accuracy": 1 - lr}

    @hitnb.memo
    def big(n):
        return np.arange(n)

    for x in (1, 2, 3):
        square(x)
    train(0.1)
    big(50_000)
    return {f.__name__: [r.key for r in f.runs()] for f in (square, train, big)}


def test_ls_and_json(filled):
    out = run("ls")
    assert out.returncode == 0, out.stderr
    assert out.stdout.count("square") == 3 and "train" in out.stdout
    assert " *" in out.stdout  # the experiment is marked
    rows = json.loads(run("ls", "--json").stdout)
    assert len(rows) == 5
    assert {r["function"].rsplit(".", 1)[-1] for r in rows} == {"square", "train", "big"}
    only = json.loads(run("ls", "square", "--json").stdout)
    assert sorted(r["arguments"]["x"] for r in only) == [1, 2, 3]
    experiments = json.loads(run("ls", "--experiments", "--json").stdout)
    assert [r["arguments"] for r in experiments] == [{"lr": 0.1}]
    assert json.loads(run("ls", "--since", "1h", "--json").stdout) == rows
    assert run("ls", "--since", "2099-01-01").stdout.strip() == "no entries"
    bad = run("ls", "--since", "whenever")
    assert bad.returncode == 1 and "neither an age" in bad.stderr


def test_show_why_and_key_prefixes(filled):
    key = filled["square"][0]
    info = json.loads(run("show", key[:8], "--json").stdout)
    assert info["key"] == key and info["codec"] == "pickle"
    assert "code" in info["dependencies"]
    why = run("why", key[:10])
    assert why.returncode == 0
    assert "argument `x` changed" in why.stdout
    missing = run("show", "abcdef12")
    assert missing.returncode == 1
    assert "no entry with key 'abcdef12'" in missing.stderr and missing.stdout == ""


def test_why_and_show_name_the_files_a_run_read_and_wrote(isolated_store, tmp_path):
    data = tmp_path / "data.csv"
    data.write_text("a,b\n1,2\n")

    @hitnb.memo
    def summarize(path):
        text = Path(path).read_text()
        Path("summary.txt").write_text(str(len(text)))
        return len(text)

    summarize("data.csv")
    key = summarize.runs()[0].key
    why = run("why", key[:10]).stdout.splitlines()
    digest = json.loads(run("show", key, "--json").stdout)["files"]["read"][0]["digest"]
    assert why[1] == f"  read data.csv (8 bytes, xxh3 {digest[:12]})"
    assert why[2].startswith("  wrote summary.txt (1 byte, xxh3 ")
    assert len(why) == 3
    data.write_text("a,b\n1,23\n")
    why = run("why", key[:10]).stdout.splitlines()
    assert why[3] == "  since then: file data.csv changed; a call would run again"
    shown = run("show", key[:10]).stdout
    assert f"files:\n  read data.csv (8 bytes, xxh3 {digest[:12]})\n  wrote summary.txt" in shown
    files = json.loads(run("show", key, "--json").stdout)["files"]
    assert files["read"] == [  # as the call named them: from the folder it ran in
        {"path": "data.csv", "size": 8, "mtime_ns": files["read"][0]["mtime_ns"],
         "digest": digest, "ctime_ns": files["read"][0]["ctime_ns"]}
    ]  # fmt: skip
    assert [w["path"] for w in files["written"]] == ["summary.txt"]


def test_stats_verify_and_exit_codes(filled, isolated_store):
    stats = json.loads(run("stats", "--json").stdout)
    assert stats["entries"] == 5 and stats["experiments"] == 1 and stats["bytes"] > 400_000
    assert run("verify").stdout.strip().endswith("all good")
    blob = next((isolated_store / "objects").glob("*/*"))
    blob.write_bytes(b"damaged")
    damaged = run("verify")
    assert damaged.returncode == 1
    assert "does not match its checksum" in damaged.stdout
    repaired = run("verify", "--repair")
    assert repaired.returncode == 0 and "removed:" in repaired.stdout
    assert run("verify").returncode == 0
    assert json.loads(run("stats", "--json").stdout)["entries"] == 4


def test_clear_and_gc(filled):
    assert run("clear").returncode == 2  # nothing named: a usage error
    refused = run("clear", "--all")
    assert refused.returncode == 2 and "--yes" in refused.stderr
    assert run("clear", "square").stdout.strip() == "removed 3 entries"
    unknown = run("clear", "nonesuch")
    assert unknown.returncode == 1 and "neither a function" in unknown.stderr
    dry = run("gc", "--max-size", "0", "--dry-run")
    assert dry.stdout.startswith("would remove 1 items")  # big; the experiment is kept
    assert len(json.loads(run("ls", "--json").stdout)) == 2
    assert run("gc", "--max-size", "0").stdout.startswith("removed 1 items")
    assert run("clear", "--all", "--keep-experiments", "--yes").stdout.strip() == (
        "removed 0 entries (kept 1 experiments)"
    )


def test_config_commands(isolated_store, tmp_path):
    listed = run("config", "list").stdout
    assert "max_size" in listed and "(default)" in listed
    assert "the environment" in listed  # HITNB_STORE is set by the test fixture
    assert run("config", "set", "max_size", "20GB").returncode == 0
    assert run("config", "get", "max_size").stdout.strip() == str(20 * 10**9)
    bad = run("config", "set", "mode", "sometimes")
    assert bad.returncode == 1 and "unknown cache mode 'sometimes'" in bad.stderr
    assert run("config", "get", "colour").returncode == 2
    assert run("config", "unset", "max_size").returncode == 0
    assert run("config", "get", "max_size").stdout.strip() == "None"


def test_help_version_and_python_m(isolated_store):
    assert "verify" in run("--help").stdout and "gc" in run("--help").stdout
    for verb in ("ls", "show", "why", "gc", "verify", "clear", "stats", "config"):
        assert run(verb, "--help").returncode == 0
    assert run("--version").stdout.strip() == f"hitnb, version {hitnb.__version__}"
    module = subprocess.run([sys.executable, "-m", "hitnb", "ls"], capture_output=True, text=True)
    assert module.returncode == 0 and module.stdout.strip() == "no entries"
    assert run("frobnicate").returncode == 2


def test_export(filled, tmp_path):
    key = filled["square"][0]
    target = tmp_path / "out" / "square.ipynb"
    out = run("export", key[:10], "-o", str(target))
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == str(target)
    import nbformat

    notebook = nbformat.read(target, as_version=4)
    assert notebook.metadata["hitnb"]["keys"] == [key]
    assert any(c.source.startswith("result = square(x=x)") for c in notebook.cells)
    several = run("export", *filled["square"], "-o", str(tmp_path / "all.ipynb"))
    assert several.returncode == 0
    assert (
        nbformat.read(tmp_path / "all.ipynb", as_version=4)
        .cells[0]
        .source.startswith("# 3 runs of `")
    )
    missing = run("export", "abcdef12")
    assert missing.returncode == 1 and "no entry with key" in missing.stderr
