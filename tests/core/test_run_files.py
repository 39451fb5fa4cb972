"""The files an entry keeps: as columns in its parts, read back as records, and entries kept
by earlier versions (paths alone) still shown. Paths show relative to the working folder."""

from __future__ import annotations

from hitnb.core.files import FileRead
from hitnb.core.run_files import UNKNOWN, FileWritten, RunFiles


def test_columns_read_back_as_the_same_files(tmp_path):
    d = str(tmp_path)
    files = RunFiles(
        (FileRead(f"{d}/a.csv", 8, 1, "a" * 32), FileRead(f"{d}/raw", 0, 2, "b" * 32, folder=True)),
        (FileWritten(f"{d}/out.csv", 1, "c" * 32),),
    )
    assert RunFiles.from_parts({"files": files.to_parts()}) == files
    assert RunFiles.from_json(files.to_json()) == files
    assert files.lines() == [
        f"read a.csv (8 bytes, xxh3 {'a' * 12})",
        "listed folder raw",
        f"wrote out.csv (1 byte, xxh3 {'c' * 12})",
    ]


def test_paths_alone_are_shown_and_never_called_changed(tmp_path):
    parts = {"files": {"read": [f"{tmp_path}/gone.csv"], "written": [f"{tmp_path}/o.txt"]}}
    files = RunFiles.from_parts(parts)
    assert files.read[0].digest == UNKNOWN
    assert files.lines() == ["read gone.csv", "wrote o.txt"]
    assert files.changed() == []
    assert not RunFiles.from_parts({})


def test_files_named_in_quotes_count_as_named(tmp_path, monkeypatch):
    """A query names its files in quotes (DuckDB reads them in C); a pattern names the
    files it matches and their folder."""
    from hitnb.core.files import named_paths

    monkeypatch.chdir(tmp_path)
    (tmp_path / "logs").mkdir()
    for name in ("logs/a.csv", "logs/b.csv", "sales.parquet"):
        (tmp_path / name).write_text("v\n1\n")
    query = "SELECT * FROM 'sales.parquet' JOIN read_csv(\"logs/*.csv\") USING (v)"
    assert sorted(named_paths([query, "select 'gone.csv'", "sales.parquet"], quoted=True)) == [
        "logs",
        "logs/a.csv",
        "logs/b.csv",
        "sales.parquet",
        "sales.parquet",
    ]
    not_paths = ["print('*', '[INFO]')", "replace(name, '.', '_')", "ls 'logs/'", "'?'"]
    assert named_paths(not_paths, quoted=True) == [], "a folder's listing would change"
    assert named_paths([query]) == [], "an argument's quotes are data (a JSON string)"
