"""Failures of the index are told apart before anything is done about them.

A full disk, a read-only file and an I/O error are not damage: the index is kept, results
are returned with one warning. Damage (garbage in the file), met at opening or by any later
query, makes the index be rebuilt from the manifests; nothing raises, nothing is wrong.
"""

from __future__ import annotations

import os
import random
import shutil
import sqlite3
import subprocess
import sys
import textwrap
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

import hitnb
from hitnb import config
from hitnb.cli import main
from hitnb.errors import CorruptEntryWarning, HitnbWarning
from hitnb.store import local, maintenance
from hitnb.store.index import Index
from hitnb.store.local import LocalStore

pytestmark = [pytest.mark.slow, pytest.mark.faults]

MAKE = textwrap.dedent(
    """
    import hitnb

    @hitnb.memo
    def square(x):
        return x * x

    @hitnb.experiment
    def train(lr):
        return {"accuracy": lr}

    for i in range(16):
        square(i)
    for lr in range(4):
        train(lr)
    """
)
CALL = textwrap.dedent(
    """
    import warnings
    import hitnb
    warnings.simplefilter("always")

    @hitnb.memo
    def square(x):
        return x * x

    @hitnb.experiment
    def train(lr):
        return {"accuracy": lr}

    print(square(3), square(99), square(99), train(9)["accuracy"])
    """
)


def rows(store: Path) -> tuple[int, int]:
    conn = sqlite3.connect(f"file:{store / 'index.sqlite'}?mode=ro", uri=True)
    count, experiments = conn.execute("SELECT COUNT(*), SUM(experiment) FROM entries").fetchone()
    conn.close()
    return int(count), int(experiments or 0)


def closed() -> None:
    for opened in list(local._open.values()):
        opened.close()
    local._open.clear()


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    where = tmp_path / "disk"
    where.mkdir()
    mount = ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(where)]
    if subprocess.run(mount, capture_output=True).returncode != 0:
        pytest.skip("mounting a tmpfs is not permitted here")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], capture_output=True)


def python(code: str, store: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HITNB_STORE": str(store), "HITNB_CONFIG": str(tmp_path / "c.toml")}
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)


def fill(disk: Path) -> None:
    with open(disk / "filler", "wb") as fh:
        try:
            while True:
                fh.write(b"x" * 65536)
                fh.flush()
        except OSError:
            pass


def test_classification() -> None:
    import errno

    from hitnb.store.failures import classify

    assert classify(sqlite3.OperationalError("database or disk is full")) == "full"
    assert classify(sqlite3.OperationalError("database is locked")) == "busy"
    assert classify(sqlite3.OperationalError("attempt to write a readonly database")) == "read-only"
    assert classify(sqlite3.OperationalError("disk I/O error")) == "io"
    assert classify(sqlite3.DatabaseError("database disk image is malformed")) == "corrupt"
    assert classify(sqlite3.DatabaseError("file is not a database")) == "corrupt"
    undecodable = "Could not decode to UTF-8 column 'key' with text '\ufffd'"
    assert classify(sqlite3.OperationalError(undecodable)) == "corrupt"
    assert classify(OSError(errno.ENOSPC, "No space left on device")) == "full"
    assert classify(OSError(errno.EROFS, "Read-only file system")) == "read-only"


def test_a_full_disk_keeps_the_index_and_returns_results(small_disk: Path, tmp_path: Path):
    """Before: the index was moved aside as "unreadable" and replaced by an empty one (20 rows
    -> 1, 4 experiment runs -> 0) and the call raised "database or disk is full"."""
    store = small_disk / "store"
    assert python(MAKE, store, tmp_path).returncode == 0
    assert rows(store) == (20, 4)
    fill(small_disk)
    done = python(CALL, store, tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["9", "9801", "9801", "9"]
    assert done.stderr.count("Warning:") <= 3  # one per result that could not be kept
    assert "No space left" in done.stderr and "Corrupt" not in done.stderr
    (small_disk / "filler").unlink()
    assert rows(store) == (20, 4)
    assert not list(store.glob("index.sqlite.corrupt-*"))
    report = maintenance.verify(LocalStore(store))
    assert report.ok, report.problems


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="POSIX users")
def test_a_read_only_index_file_is_not_taken_for_damage(tmp_path: Path):
    """Before: "attempt to write a readonly database" moved the index aside as corrupt."""
    import tempfile

    store = Path(tempfile.mkdtemp(prefix="hitnb-ro-")) / "store"  # reachable by another user
    store.parent.chmod(0o1777)  # like /tmp: anyone may create, only owners rename
    as_user: list[str] = []
    if os.getuid() == 0:  # root writes any file: run the calls as another user
        if shutil.which("setpriv") is None:
            pytest.skip("no setpriv to drop root")
        as_user = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
    env = {**os.environ, "HITNB_STORE": str(store), "HITNB_CONFIG": str(store.parent / "c.toml"),
           "HOME": str(store.parent)}  # fmt: skip

    def run(code: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*as_user, sys.executable, "-c", code], env=env,
                              capture_output=True, text=True, cwd=store.parent)  # fmt: skip

    made = run(MAKE)
    assert made.returncode == 0, made.stderr
    (store / "index.sqlite").chmod(0o444)
    done = run(CALL)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["9", "9801", "9801", "9"]
    assert "Corrupt" not in done.stderr and done.stderr.count("Warning:") == 1, done.stderr
    assert not list(store.glob("index.sqlite.corrupt-*"))
    assert rows(store) == (20, 4)
    shutil.rmtree(store.parent)


def test_an_empty_index_is_filled_from_the_manifests(isolated_store: Path):
    """Before: an index emptied (by the misclassification above, or by hand) was accepted,
    and `hitnb gc` then deleted every entry's blob."""

    @hitnb.memo
    def big(i):
        return "x" * 40_000 + str(i)

    for i in range(5):
        big(i)
    closed()
    for name in ("index.sqlite", "index.sqlite-wal", "index.sqlite-shm"):
        (isolated_store / name).unlink(missing_ok=True)
    Index(isolated_store / "index.sqlite").close()  # a valid, empty index
    assert rows(isolated_store) == (0, 0)
    store = LocalStore(isolated_store)
    assert store.index.count() == 5


def test_an_index_that_cannot_be_read_is_passed_by(isolated_store: Path):
    """A query failing for a reason that is not damage (here: the index is locked by another
    process for longer than the wait) never fails the call; the manifest answers."""

    @hitnb.memo
    def square(x):
        return x * x

    assert square(4) == 16
    store = local._open[isolated_store]
    store.index.close()
    blocker = sqlite3.connect(isolated_store / "index.sqlite", isolation_level=None)
    blocker.execute("PRAGMA locking_mode=EXCLUSIVE")
    blocker.execute("BEGIN EXCLUSIVE")
    original = sqlite3.connect

    def impatient(*args, **kwargs):  # the store waits 60 s on a lock; make it 0.1 s here
        kwargs["timeout"] = 0.1
        return original(*args, **kwargs)

    sqlite3.connect = impatient  # type: ignore[assignment]
    try:
        with pytest.warns(HitnbWarning, match="another process is using it") as caught:
            assert square(4) == 16  # read from its manifest
            assert square(5) == 25  # stored as a manifest, indexed later
        assert len(caught) == 1
    finally:
        sqlite3.connect = original  # type: ignore[assignment]
        blocker.execute("ROLLBACK")
        blocker.close()
    assert not list(isolated_store.glob("index.sqlite.corrupt-*"))
    assert store.get(square.key(5)) is not None


# -- garbage in the middle of the file ------------------------------------------------------
def _dump(path: Path) -> object:
    try:
        conn = sqlite3.connect(path)
        return (
            conn.execute("SELECT * FROM entries ORDER BY key").fetchall(),
            conn.execute("SELECT * FROM recipes ORDER BY key").fetchall(),
        )
    except sqlite3.Error as exc:
        return repr(exc)


@pytest.fixture(scope="module")
def seed_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("seed")
    store = base / "store"
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(
            """
            import hitnb

            @hitnb.memo
            def square(x):
                return {"x": x, "square": x * x, "pad": "p" * 300}

            for i in range(300):
                square(i)
            """
        )],
        env={**os.environ, "HITNB_STORE": str(store), "HITNB_CONFIG": str(base / "c.toml")},
        capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return store


TRIALS = [(where, seed) for where in (0.2, 0.4, 0.6, 0.8) for seed in range(6)]


@pytest.mark.parametrize(("where", "seed"), TRIALS)
def test_garbage_in_the_middle_of_the_index(seed_store: Path, tmp_path: Path, where, seed):
    """512 random bytes written at a random place in the file. Before: the call raised in 5
    of 81 trials, `ls`/`verify`/`verify --repair`/`gc`/`stats` died with a traceback in 44
    of 81, and 0 of 81 were detected. Now every call returns the right value, no command
    dies, and every trial either is detected (a warning, or `verify` failing) or changed
    nothing any query returns."""
    store = tmp_path / "store"
    shutil.copytree(seed_store, store)
    rng = random.Random(seed)
    data = bytearray((store / "index.sqlite").read_bytes())
    at = int(len(data) * where) + rng.randrange(4096)
    data[at : at + 512] = rng.randbytes(512)
    (store / "index.sqlite").write_bytes(data)
    harmless = _dump(store / "index.sqlite") == _dump(seed_store / "index.sqlite")
    os.environ["HITNB_STORE"] = str(store)
    config.reset()
    detected = False

    @hitnb.memo
    def square(x):
        return {"x": x, "square": x * x, "pad": "p" * 300}

    runner = CliRunner()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for i in (1, 150, 299, 1000):
            assert square(i)["square"] == i * i
        for args in (["verify"], ["ls"], ["verify", "--repair"], ["gc"], ["stats"], ["verify"]):
            closed()
            result = runner.invoke(main, ["--store", str(store), *args])
            assert result.exception is None or isinstance(result.exception, SystemExit), (
                args,
                result.output,
            )
            if args == ["verify"] and result.exit_code == 1:
                detected = True
        assert result.exit_code == 0, result.output  # the last verify: repaired
    detected |= any("index" in str(w.message) for w in caught)
    assert detected or harmless
    closed()
    assert LocalStore(store).index.count() >= 300  # nothing lost


def test_damage_met_after_opening_is_rebuilt(isolated_store: Path):
    """The index breaks while a process has it open; its next query rebuilds it."""

    @hitnb.memo
    def square(x):
        return {"x": x, "pad": "p" * 300}

    for i in range(200):
        square(i)
    store = local._open[isolated_store]
    store.index.flush_hits()
    conn = sqlite3.connect(isolated_store / "index.sqlite")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    path = isolated_store / "index.sqlite"
    data = bytearray(path.read_bytes())
    for page in range(2, len(data) // 4096):  # every page but the first: all b-trees broken
        data[page * 4096 + 8 : page * 4096 + 200] = b"\xff" * 192
    with open(path, "r+b") as fh:  # in place: the open connections see it
        fh.write(data)
    with pytest.warns(CorruptEntryWarning, match=r"rebuilt .*\(200 entries\)") as caught:
        assert [square(i)["x"] for i in (0, 100, 199)] == [0, 100, 199]
    assert len([w for w in caught if "index" in str(w.message)]) == 1
    assert store.index.count() == 200 and store.index.check() == []
    assert len(list(isolated_store.glob("index.sqlite.corrupt-*[0-9]"))) == 1


@pytest.mark.parametrize(
    ("column", "value"),
    [("checksum", "abc"), ("size", -1), ("codec", b"\x00"), ("blob", "short"), ("status", b"\x01")],
)
def test_a_hit_on_a_row_with_impossible_values_rebuilds_the_index(
    isolated_store: Path, column: str, value: object
):
    """A row whose values SQLite keeps intact but hitnb never writes (garbage that changed
    a value) is damage to the hit that reads it: the index is rebuilt from the manifests
    and the call returns the stored value, as for damage met at opening."""

    @hitnb.memo
    def square(x):
        return {"x": x, "pad": "p" * 30}

    assert square(3)["x"] == 3
    store = local._open[isolated_store]
    key = square.key(3)
    store.index.flush_hits()
    store.index.conn.execute(f"UPDATE entries SET {column} = ? WHERE key = ?", (value, key))
    store.index.conn.commit()
    square._hot.clear()
    with pytest.warns(CorruptEntryWarning, match="rebuilt"):
        assert square(3) == {"x": 3, "pad": "p" * 30}
    assert store.index.check() == []
    assert store.lookup(key) is not None


_NOT_UTF8 = "CAST(x'fffe41' AS TEXT)"


@pytest.mark.parametrize(
    ("verb", "garbage"),
    [
        ("gc", f"UPDATE entries SET key = {_NOT_UTF8} WHERE rowid = 3"),
        ("ls", f"UPDATE entries SET function = {_NOT_UTF8} WHERE rowid = 3"),
        ("verify", f"UPDATE entries SET code = {_NOT_UTF8} WHERE rowid = 3"),
        ("verify", f"INSERT INTO output_digests VALUES ('k', 'c', 'x', {_NOT_UTF8})"),
    ],
)
def test_text_that_is_not_utf8_in_a_row_is_damage(isolated_store: Path, verb: str, garbage: str):
    """Garbage can leave a row SQLite finds sound whose text is not UTF-8, which Python's
    sqlite3 refuses to read. Before: `hitnb gc` and `hitnb ls` failed with "an unexpected
    error (Could not decode to UTF-8 column ...)" (the stress test's CI failure), and
    `hitnb verify` passed such text in the digests a cell learned. Now it is damage: verify
    names it, the commands rebuild the index from the manifests and go on."""

    @hitnb.memo
    def square(x):
        return {"x": x}

    for i in range(5):
        square(i)
    keys = {square.key(i) for i in range(5)}
    local._open[isolated_store].index.flush_hits()
    local._open.clear()
    conn = sqlite3.connect(isolated_store / "index.sqlite")
    conn.execute(garbage)
    conn.commit()
    conn.close()
    runner = CliRunner()
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        done = runner.invoke(main, [verb])
    assert "unexpected" not in done.output, done.output
    if verb == "verify":
        assert "UTF-8" in done.output and done.exit_code == 1, done.output
        assert runner.invoke(main, ["verify", "--repair"]).exit_code == 0
    else:
        assert done.exit_code == 0, done.output
    local._open.clear()
    again = runner.invoke(main, ["verify"])
    assert again.exit_code == 0, again.output
    listed = {row.key: row.function for row in LocalStore(isolated_store).index.listing()}
    assert set(listed) == keys and all(name.endswith("square") for name in listed.values())


def test_a_damaged_index_on_a_full_disk_is_kept_in_memory(small_disk: Path, tmp_path: Path):
    """The rebuilt index cannot be written: the process keeps one in memory, made from the
    manifests, serves every stored result, and `verify --repair` rebuilds the file later."""
    store = small_disk / "store"
    assert python(MAKE, store, tmp_path).returncode == 0
    path = store / "index.sqlite"
    data = bytearray(path.read_bytes())
    for page in range(1, len(data) // 4096):
        data[page * 4096 : page * 4096 + 512] = b"\xee" * 512
    path.write_bytes(data)
    fill(small_disk)
    done = python(CALL, store, tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["9", "9801", "9801", "9"]
    assert "keeps one in memory" in done.stderr
    (small_disk / "filler").unlink()
    closed()
    repaired = CliRunner().invoke(main, ["--store", str(store), "verify", "--repair"])
    assert repaired.exit_code == 0, repaired.output
    assert rows(store) == (20, 4)


def test_leftovers_of_rebuilds_are_bounded(isolated_store: Path):
    """Damaged copies kept aside are at most two; a rebuild killed half way leaves a file
    that the next rebuild (or gc) removes. Before, both piled up until the disk was full."""

    @hitnb.memo
    def square(x):
        return x * x

    square(2)
    closed()
    dead = isolated_store / "index.sqlite.rebuild-999999999"
    dead.write_bytes(b"half a rebuild")
    for round_ in range(4):
        (isolated_store / "index.sqlite").write_bytes(b"\x00garbage" * 512)
        for suffix in ("-wal", "-shm"):
            (isolated_store / f"index.sqlite{suffix}").unlink(missing_ok=True)
        with pytest.warns(CorruptEntryWarning):
            assert LocalStore(isolated_store).index.count() == 1
        assert len(list(isolated_store.glob("index.sqlite.corrupt-*[0-9]"))) == min(round_ + 1, 2)
    assert len(list(isolated_store.glob("index.sqlite.corrupt-*[0-9]"))) <= 2
    assert not dead.exists()


def test_writes_failing_on_a_full_disk_leave_no_temp_file(small_disk: Path):
    """A write whose last buffered bytes cannot be flushed (the disk filled up) removes its
    temp file all the same. Before: closing the file retried the flush and raised first, so
    each such write left its temp file, and they filled the disk for good (seen in the
    stress test: thousands of them)."""
    store = LocalStore(small_disk / "store")
    store.blobs.tmp.mkdir(exist_ok=True)
    failed = 0
    for room in range(16_384, 40_960, 4096):  # free space around what the first part takes
        (small_disk / "filler").unlink(missing_ok=True)
        fd = os.open(small_disk / "filler", os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            while os.write(fd, b"\0" * 65536):
                pass
        except OSError:
            pass
        os.ftruncate(fd, max(0, os.fstat(fd).st_size - room))
        os.close(fd)
        try:
            with store.blobs.writer() as writer:
                writer.write(b"x" * 17_000)  # spilled to a temp file, written through
                writer.write(b"y" * 4_000)  # buffered: flushed when committing
                store.blobs.commit(writer)
        except OSError:
            failed += 1
        assert list(store.blobs.tmp.glob("*")) == [], room
    assert failed >= 1


def test_a_store_on_a_file_system_turned_read_only_serves_every_result(
    small_disk: Path, tmp_path: Path
):
    """A process opening the store after the file system went read-only reads the index
    with its WAL (mode=ro); damage met there is handled in memory, never by writing.
    Before (seen in the stress test): the index was opened without its WAL, met as damaged,
    and the rebuild tried to write: every call raised `Read-only file system`."""
    store = small_disk / "store"
    many = MAKE.replace("range(16)", "range(400)")
    assert python(many, store, tmp_path).returncode == 0
    if not _remount(small_disk, "ro"):
        pytest.skip("the kernel refused the read-only remount")
    try:
        done = python(CALL.replace("square(99), square(99)", "square(399), square(399)"),
                      store, tmp_path)  # fmt: skip
    finally:
        _remount(small_disk, "rw")
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["9", "159201", "159201", "9"]
    assert "Traceback" not in done.stderr


def _remount(where: Path, mode: str) -> bool:
    return subprocess.run(["mount", "-o", f"remount,{mode}", str(where)],
                          capture_output=True).returncode == 0  # fmt: skip


def test_damaged_copies_make_room_for_the_rebuild_on_a_full_disk(small_disk: Path, tmp_path: Path):
    """The copies of damaged indexes kept for a post-mortem filled the disk the rebuild
    needed (the stress test's final `hitnb gc` failed so, now and then): they go first."""
    store = small_disk / "store"
    assert python(MAKE, store, tmp_path).returncode == 0
    closed()
    kept = store / "index.sqlite.corrupt-1"
    fill(small_disk)
    (small_disk / "filler").rename(kept)  # a damaged copy kept aside fills the disk
    (store / "index.sqlite").write_bytes(b"\x00garbage" * 512)
    for suffix in ("-wal", "-shm"):
        (store / f"index.sqlite{suffix}").unlink(missing_ok=True)
    done = python(CALL, store, tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["9", "9801", "9801", "9"]
    assert "keeps one in memory" not in done.stderr and "rebuilt" in done.stderr
    assert not kept.exists()
    assert rows(store) == (22, 5)  # the 20 made, and what the calls stored in the new file


def _drop_rows(store: Path, count: int) -> None:
    """Rows lost from the index (an eviction or write killed half way): manifests remain."""
    conn = sqlite3.connect(store / "index.sqlite")
    conn.execute("DELETE FROM entries WHERE rowid IN (SELECT rowid FROM entries LIMIT ?)",
                 (count,))  # fmt: skip
    conn.commit()
    conn.close()


def _cli(store: Path, tmp_path: Path, *verb: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HITNB_CONFIG": str(tmp_path / "c.toml")}
    return subprocess.run([sys.executable, "-m", "hitnb", "--store", str(store), *verb],
                          env=env, capture_output=True, text=True)  # fmt: skip


@pytest.mark.parametrize("verb", [["gc"], ["verify", "--repair"]])
def test_gc_and_repair_work_on_a_disk_that_damaged_copies_filled(
    small_disk: Path, tmp_path: Path, verb: list[str]
):
    """The stress test's final `hitnb gc` failed, now and then, with "the disk is full":
    copies of damaged indexes (each with its WAL, megabytes) had filled it, and gc began
    by writing to the index. What needs no index goes first now."""
    store = small_disk / "store"
    assert python(MAKE, store, tmp_path).returncode == 0
    closed()
    _drop_rows(store, 3)
    kept = store / "index.sqlite.corrupt-1"
    fill(small_disk)
    (small_disk / "filler").rename(kept)
    if verb == ["gc"]:
        said = _cli(store, tmp_path, "gc", "--dry-run").stdout
        assert said.startswith("would remove 1 items, ") and "0 B" not in said, said
        assert kept.exists()
    done = _cli(store, tmp_path, *verb)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "index.sqlite.corrupt-1" in done.stdout or verb == ["gc"]  # gc prints a count
    assert not kept.exists()
    assert rows(store) == (20, 4)  # the rows lost are indexed again
    assert "all good" in _cli(store, tmp_path, "verify").stdout


BIG = textwrap.dedent(
    """
    import numpy as np
    import hitnb

    @hitnb.memo
    def block(i):
        return np.full(8000, float(i))  # 64 kB, a file of its own

    print(sum(float(block(i)[0]) for i in range(int(__import__("sys").argv[1]))))
    """
)


def test_gc_max_size_frees_a_disk_that_something_else_filled(small_disk: Path, tmp_path: Path):
    """The fix every "disk is full" message gives is `hitnb gc --max-size ...`: it must work
    when the disk has no byte left, with no leftovers to remove (the index cannot be written
    until some blob files are gone)."""
    store = small_disk / "store"
    env = {**os.environ, "HITNB_STORE": str(store), "HITNB_CONFIG": str(tmp_path / "c.toml")}
    made = subprocess.run([sys.executable, "-c", BIG, "30"], env=env, capture_output=True,
                          text=True)  # fmt: skip
    assert made.returncode == 0, made.stderr
    closed()
    fill(small_disk)  # another program's file, outside the store
    assert shutil.disk_usage(small_disk).free < 65536
    done = _cli(store, tmp_path, "gc", "--max-size", "600KB")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "read-only" not in done.stderr
    assert shutil.disk_usage(small_disk).free > 1_000_000
    assert _cli(store, tmp_path, "verify").returncode == 0
    kept = LocalStore(store)
    assert 0 < kept.count() <= 9 and kept.index.total_size() <= 600_000
    again = subprocess.run([sys.executable, "-c", BIG, "30"], env=env, capture_output=True,
                           text=True)  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert again.stdout.split() == [str(float(sum(range(30))))]


def test_gc_on_a_full_disk_keeps_a_blob_an_entry_the_index_lacks_shares(
    small_disk: Path, tmp_path: Path
):
    """Freeing blob files before their rows asked only the index who else used a blob; on a
    full disk the index lacks the entries stored while it could not be written, and a blob
    one of them shared with an evicted entry went (a review found it)."""
    root = small_disk / "store"
    store = LocalStore(root)
    value = lambda i: i.to_bytes(4, "little") * 25_000  # noqa: E731  (100 kB)
    keys = [f"{i:032x}" for i in range(8)]
    for i, key in enumerate(keys):  # the oldest entry and the newest share one blob
        store.put(key, value(0 if i in (0, 7) else i), function="mod.f", code="c",
                  args=str(i), duration=0.1)  # fmt: skip
    shared = store.get(keys[7])
    assert shared is not None and shared.blob == store.get(keys[0]).blob  # type: ignore[union-attr]
    closed()
    conn = sqlite3.connect(root / "index.sqlite")
    conn.execute("DELETE FROM entries WHERE key = ?", (keys[7],))  # a manifest only
    conn.commit()
    conn.close()
    fill(small_disk)
    done = _cli(root, tmp_path, "gc", "--max-size", "450KB")
    assert done.returncode == 0, done.stdout + done.stderr
    assert store.blobs.path(shared.blob).exists()
    assert "all good" in _cli(root, tmp_path, "verify").stdout
