"""Repeat hits in one process (the fast path that skips the store's index) check the files
a run read and put back those it wrote, as the first hit does."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

import hitnb

CALLS: list[str] = []


@hitnb.memo
def total(path):
    CALLS.append(path)
    values = [int(v) for v in Path(path).read_text().split()]
    Path("total.txt").write_text(str(sum(values)))
    return sum(values)


def test_repeat_hits_see_a_changed_file_and_put_back_a_deleted_one(tmp_path):
    CALLS.clear()
    data = tmp_path / "numbers.txt"
    data.write_text("1 2\n")
    assert [total("numbers.txt") for _ in range(3)] == [3, 3, 3]
    assert CALLS == ["numbers.txt"]

    (tmp_path / "total.txt").unlink()
    assert total("numbers.txt") == 3
    assert (tmp_path / "total.txt").read_text() == "3"
    os.utime(data)  # a touch: still a hit
    assert total("numbers.txt") == 3
    assert CALLS == ["numbers.txt"]

    data.write_text("1 2 30\n")
    assert total("numbers.txt") == 33
    assert CALLS == ["numbers.txt", "numbers.txt"]
    assert total("numbers.txt") == 33
    assert len(CALLS) == 2


def test_a_file_replaced_by_one_of_the_same_size_and_time_is_a_change(tmp_path):
    """Extracted from an archive whose members carry one mtime (or copied with ``cp -p``),
    the new data had the old file's size and mtime, and the call hit with the old total."""
    CALLS.clear()
    data = tmp_path / "numbers.txt"
    data.write_text("1 2\n")
    stamp = data.stat().st_mtime_ns
    assert total("numbers.txt") == 3
    data.write_text("7 2\n")
    os.utime(data, ns=(stamp, stamp))
    assert total("numbers.txt") == 9
    assert CALLS == ["numbers.txt", "numbers.txt"]


@hitnb.memo
def settings():
    CALLS.append("settings")
    os.makedirs("made", exist_ok=True)  # not there when asked, made: not a read
    found = {"lr": 0.1}
    if os.path.exists("override.txt"):
        found["lr"] = float(Path("override.txt").read_text())
    try:
        found["extra"] = Path("extra.txt").read_text()
    except FileNotFoundError:
        found["extra"] = None
    return found


def test_a_file_the_call_looked_for_and_did_not_find_counts_once_it_is_there(tmp_path):
    """``os.path.exists("override.txt")``, ``try: read ... except FileNotFoundError``: with
    the optional file created since, the call hit with the settings of its absence."""
    CALLS.clear()
    assert settings() == {"lr": 0.1, "extra": None}
    assert settings() == {"lr": 0.1, "extra": None}
    assert CALLS == ["settings"]
    (tmp_path / "override.txt").write_text("0.5")
    assert settings() == {"lr": 0.5, "extra": None}
    (tmp_path / "extra.txt").write_text("yes")
    assert settings() == {"lr": 0.5, "extra": "yes"}
    assert len(CALLS) == 3


def test_a_folder_named_as_data_counts_by_the_files_under_it(tmp_path):
    """``pd.read_parquet("sales")`` on a dataset folder: pyarrow opens its part files in
    C, unseen, and the folder counted by its file names alone; a part rewritten in place
    left the call a hit with the old sum."""
    pd = pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    folder = tmp_path / "sales"
    folder.mkdir()
    pd.DataFrame({"v": [1.0, 2.0]}).to_parquet(folder / "part-0.parquet")
    pd.DataFrame({"v": [3.0]}).to_parquet(folder / "part-1.parquet")

    @hitnb.memo
    def total(path):
        CALLS.append(path)
        return float(pd.read_parquet(path).v.sum())

    CALLS.clear()
    assert total("sales") == total("sales") == 6.0
    pd.DataFrame({"v": [30.0]}).to_parquet(folder / "part-1.parquet")
    assert total("sales") == 33.0
    assert len(CALLS) == 2


def test_files_a_reader_in_c_opens_count_however_the_path_was_made(run_python, tmp_path):
    """``pd.read_parquet`` opens its file in C, unseen by the audit hook: a path written
    in the function, made by an f-string or held in a dict, and an sqlite database it
    connects to, were not inputs, and a call hit with the old data. The first Parquet read
    of a process imports pyarrow's reader inside the run."""
    pd = pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    (tmp_path / "data").mkdir()
    program = """
        import sqlite3
        import pandas as pd
        from hitnb import memo
        @memo
        def literal():
            return int(pd.read_parquet("data/sales.parquet").a.sum())
        @memo
        def made(cfg):
            return int(pd.read_parquet(f"data/{cfg['name']}.parquet").a.sum())
        @memo
        def query():
            return pd.read_sql("select a from t", sqlite3.connect("shop.db")).a.sum()
        print(literal(), made({"name": "sales"}), query())
    """
    outputs = []
    for last in (3, 30):
        pd.DataFrame({"a": [1, 2, last]}).to_parquet(tmp_path / "data" / "sales.parquet")
        (tmp_path / "shop.db").unlink(missing_ok=True)
        with sqlite3.connect(tmp_path / "shop.db") as db:
            db.execute("create table t(a int)")
            db.executemany("insert into t values (?)", [(1,), (last,)])
        outputs.append(run_python(program))
    assert outputs == ["6 6 4\n", "33 33 31\n"]


def test_a_link_switched_to_another_file_is_a_change(tmp_path):
    """``ln -sf v2/data.txt latest.txt``: the run kept the file the link named, unchanged,
    and the call hit with v1's numbers."""
    for version, numbers in (("v1", "1 2\n"), ("v2", "7 2\n")):
        (tmp_path / version).mkdir()
        (tmp_path / version / "data.txt").write_text(numbers)
    CALLS.clear()
    (tmp_path / "latest.txt").symlink_to(tmp_path / "v1" / "data.txt")
    assert total("latest.txt") == total("latest.txt") == 3
    (tmp_path / "latest.txt").unlink()
    (tmp_path / "latest.txt").symlink_to(tmp_path / "v2" / "data.txt")
    assert total("latest.txt") == 9
    assert len(CALLS) == 2


def test_a_folder_a_cell_only_names_counts_by_its_listing_not_its_tree(tmp_path):
    """A literal naming a folder (``'a/b'.split('/')`` names ``/``) was walked to its last
    file on every run and hit; only a folder given to a reader in C counts by its files."""
    from hitnb.core import files

    (tmp_path / "deep" / "er").mkdir(parents=True)
    (tmp_path / "deep" / "er" / "x.txt").write_text("x")
    with files.observing() as observed:
        pass
    reads, _ = files.reads_and_writes(observed, ["deep", "/"], (), str(tmp_path))
    assert {r.path: r.folder for r in reads} == {"deep": True, "/": True}
    assert not any(r.digest.startswith(files.TREE) for r in reads)
