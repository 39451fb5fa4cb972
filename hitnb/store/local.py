"""The embedded store: a local folder with blobs, manifests and a SQLite index.

Layout::

    <root>/
      index.sqlite          one row per entry, for queries (rebuildable)
      entries/ab/<key>.json the manifest of each entry: the source of truth
      objects/ab/<rest>     content-addressed blobs
      tmp/                  temp files of writes in progress
      .gitignore            ``*``, so a store inside a repository is never committed

A write goes blob, then manifest (temp + rename), then index row; a crash between
them leaves at worst an orphan blob or a manifest the index does not know yet,
which :meth:`LocalStore.get` and ``hitnb verify --repair`` pick up again. The row of a
new small entry is written after the caller has moved on (:mod:`hitnb.store.row_writer`).
"""

from __future__ import annotations

import atexit
import base64
import contextlib
import dataclasses
import functools
import itertools
import json
import os
import pickle
import shutil
import sqlite3
import stat
import sys
import tempfile
import threading
import time
import warnings
from collections.abc import Callable, Collection, Iterable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import xxhash

from hitnb.errors import (
    CodecError,
    CorruptEntryError,
    CorruptEntryWarning,
    HitnbWarning,
    StoreWriteWarning,
)
from hitnb.notes import speaking
from hitnb.store.blobs import BlobStore, Encoded, is_digest, make_dirs, write_private
from hitnb.store.codecs import BlobData, codec_named, codecs_for, pickle_stream
from hitnb.store.failures import DESCRIPTIONS, IndexUnavailable, classify
from hitnb.store.index import (
    COLUMNS,
    JSON_FIELDS,
    EncodedEntry,
    Entry,
    Index,
    Listed,
    Stored,
    json_text,
)
from hitnb.store.locks import KeyLocks
from hitnb.store.remote import Remote, RemoteUnavailable
from hitnb.store.row_writer import Row, RowWriter

__all__ = ["BlobData", "Entry", "LocalStore", "open_store"]

STORE_FORMAT = 1


def unsafe_levels(root: Path) -> list[str]:
    """What in the store, at every level hitnb uses, another user could change: a folder or
    file writable by group or others or owned by someone else, a symbolic link inside, and
    a parent folder anyone may rename things in (world-writable without the sticky bit)."""
    found = []
    uid = os.getuid()
    inside = [
        root / name
        for name in (
            "entries",
            "objects",
            "tmp",
            "locks",
            "store.json",
            "index.sqlite",
            "index.sqlite-wal",
            "index.sqlite-shm",
        )
    ]
    for folder in ("entries", "objects", "locks"):
        inside += sorted((root / folder).glob("??"))
    for path in (root, *inside):
        try:
            st = path.lstat()
        except FileNotFoundError:
            continue
        name = str(path.relative_to(root.parent))
        if path != root and stat.S_ISLNK(st.st_mode):
            found.append(f"{name} is a symbolic link")
        elif st.st_uid != uid:
            found.append(f"{name} is owned by user {st.st_uid}")
        elif st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
            found.append(f"{name} is writable by {'others' if st.st_mode & 2 else 'its group'}")
    for parent in root.resolve().parents:
        st = parent.stat()
        if st.st_mode & stat.S_IWOTH and not st.st_mode & stat.S_ISVTX:
            found.append(f"{parent} is writable by anyone (no sticky bit)")
    return found


def _file_state(path: str) -> tuple[int, int] | None:
    try:
        st = os.stat(path)  # noqa: PTH116 (a str path: this runs on every repeat hit)
    except OSError:
        return None
    return st.st_ino, st.st_mtime_ns


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` is running (one of another user counts as running)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _remove_database(path: Path) -> None:
    """Remove an SQLite file and its ``-wal`` and ``-shm``, as far as they exist and can go."""
    for name in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        with contextlib.suppress(OSError):
            name.unlink(missing_ok=True)


def _drop_damaged(path: Path, keep: int, *, dry_run: bool = False) -> list[tuple[str, int]]:
    """Remove the damaged copies of the index at ``path`` kept aside (with their WAL), all
    but the ``keep`` newest; return the name and bytes of each removed. They serve a
    post-mortem only: a full disk needs their room for a working index before anything."""
    damaged = sorted(path.parent.glob(f"{path.name}.corrupt-*[0-9]"), key=_mtime)
    dropped = []
    for old in damaged[: max(0, len(damaged) - keep)]:
        size = sum(_size(Path(f"{old}{suffix}")) for suffix in ("", "-wal", "-shm"))
        if not dry_run:
            _remove_database(old)
        dropped.append((old.name, size))
    return dropped


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


KEEP_DAMAGED = 2
"""Damaged index files kept aside (the newest ones); older ones are removed."""

_T = TypeVar("_T")
_INDEX_LOCK = "index-open"
BLOB_LOCK_TIMEOUT = 30.0
"""How long a writer or a deleter waits for a blob's lock before going on without it."""


def blob_lock(blob_id: str) -> str:
    """The name of the lock of a blob (in the store's lock folder, next to the keys')."""
    return f"blob-{blob_id}"


_INDEX_OPEN_TIMEOUT = 120.0


def _is_busy(exc: sqlite3.DatabaseError) -> bool:
    """SQLite's "database is locked": another process is busy with the file, nothing is wrong."""
    return classify(exc) == "busy"


_parts = itertools.count()
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)


def _create_part(folder: str) -> tuple[int, str]:
    """A new temporary file in ``folder``, named ``.<pid>-<thread>-<n>.part`` so maintenance knows
    whose it is (mkstemp's random names cost 20 us more, in Python, on every miss)."""
    for _ in range(3):
        name = f"{folder}{os.sep}.{os.getpid()}-{threading.get_ident()}-{next(_parts)}.part"
        try:
            return os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _CLOEXEC, 0o600), name
        except FileExistsError:  # left by a dead process whose pid was reused
            continue
    return tempfile.mkstemp(dir=folder, prefix=f".{os.getpid()}-", suffix=".part")


class LocalStore:
    """A store in a local folder; safe to share between threads and processes."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._prepare_root()
        self.read_only = not os.access(root, os.W_OK)
        """On a read-only file system hits are served and writes fail (callers warn)."""
        self.blobs = BlobStore(root)
        self.manifests = root / "entries"
        self._manifests_text = f"{self.manifests}{os.sep}"
        self._made: set[str] = set()
        self._warned: set[str] = set()
        self.bytes_written = 0
        """Bytes this process stored here (for keeping under a size limit between checks)."""
        self.index_events: list[str] = []
        """What happened to the index in this process (rebuilt, kept in memory), for verify."""
        self._index_lock_depth = threading.local()
        self._recover_lock = threading.RLock()
        self.locks = KeyLocks(root)
        self.remote: Remote | None = None
        """The shared store behind this one, when the settings name one (see remote.py)."""
        self._rows = RowWriter(self._write_rows, release=self._release_index)
        self._index = self._open_index(root / "index.sqlite")

    @property
    def index(self) -> Index:
        """The index, holding every row this process has stored (queued rows are written
        first: see :mod:`hitnb.store.row_writer`)."""
        self._rows.flush()
        return self._index

    @index.setter
    def index(self, index: Index) -> None:
        self._index = index

    def __repr__(self) -> str:
        return f"LocalStore({str(self.root)!r})"

    # -- the index: opened, checked, rebuilt -------------------------------------------------
    @contextlib.contextmanager
    def _holding_index_lock(self) -> Iterator[None]:
        """The store-wide lock of opening and rebuilding the index (re-entrant per thread:
        an flock taken twice by one process would wait for itself)."""
        depth = getattr(self._index_lock_depth, "n", 0)
        if depth:
            self._index_lock_depth.n = depth + 1
            try:
                yield
            finally:
                self._index_lock_depth.n = depth
            return
        with self.locks.hold(_INDEX_LOCK, timeout=_INDEX_OPEN_TIMEOUT):
            self._index_lock_depth.n = 1
            try:
                yield
            finally:
                self._index_lock_depth.n = 0

    def _open_index(self, path: Path) -> Index:
        """Open the index, deciding what any failure is before acting on it.

        - damaged (and only then): rebuilt from the manifests in a new file, which replaces
          the damaged one (kept aside) once complete;
        - missing, or empty while manifests exist: filled from the manifests;
        - full disk, read-only file, I/O error: opened for reading only (results are still
          served, new ones kept as manifests), or kept in memory, with one warning.

        Processes opening one store at once (a cluster's workers starting) take turns, so
        only one creates the file, and another's lock is never mistaken for damage.
        """
        if self.read_only:  # a read-only mount: the WAL is read too (mode=ro) where it can be
            wal = Path(f"{path}-wal")
            if wal.exists() and wal.stat().st_size > 0:
                self._warn_once(
                    "read-only-unclosed",
                    f"the hitnb store at {self.root} is read-only and its index was not closed "
                    "by the last process that wrote it; entries the index lacks are read from "
                    "their manifests. Fix: open the store once with write access (run `hitnb "
                    "verify` as its owner, or mount it read-write), which completes the index",
                    StoreWriteWarning,
                )
            return self._readable_index(path)
        with self._holding_index_lock():
            try:
                index = Index(path, on_damage=self._index_damaged)
            except sqlite3.Error as exc:
                kind = classify(exc)
                if kind == "busy":
                    raise
                if kind == "corrupt":
                    return self._replace_damaged(path, exc)
                return self._read_only_index(path, exc)
            try:
                if index.count() == 0 and self._has_manifests():
                    self.rebuild_index(index)
            except sqlite3.Error as exc:  # the index can be read but not filled (a full disk)
                self._fall_back_to_memory(index, exc)
        return index

    def _has_manifests(self) -> bool:
        return any(True for _ in self.manifests.glob("??/*.json"))

    def _read_only_index(self, path: Path, exc: BaseException) -> Index:
        """The index of a store whose file cannot be written now (full, read-only, I/O)."""
        self._warn_once(
            "index-read-only",
            f"the index of the hitnb store at {self.root} cannot be written: "
            f"{DESCRIPTIONS[classify(exc, self.root)]} ({exc}). Stored results are still "
            "returned; new ones are kept as manifests and indexed when the index can be "
            "written again",
            StoreWriteWarning,
        )
        return self._readable_index(path)

    def _readable_index(self, path: Path) -> Index:
        """The index opened for reading only: with its WAL (``mode=ro``) where SQLite can,
        else the main file alone (``immutable``), else one in memory from the manifests."""
        for immutable in (False, True):
            try:
                index = Index(path, read_only=True, immutable=immutable,
                              on_damage=self._index_damaged)  # fmt: skip
                index.count()
                return index
            except sqlite3.Error:
                continue
        index = Index(path, memory=True, on_damage=self._index_damaged)
        self.rebuild_index(index)
        return index

    def _fall_back_to_memory(self, index: Index, exc: BaseException) -> None:
        """Keep the index in this process's memory, filled from the manifests (nothing lost)."""
        self._warn_once(
            "index-memory",
            f"the index of the hitnb store at {self.root} cannot be used: "
            f"{DESCRIPTIONS[classify(exc, self.root)]} ({exc}); this process keeps one in "
            "memory, made from the entries' manifests, and nothing stored is lost. `hitnb "
            "verify --repair` rebuilds the file once the cause is gone",
            CorruptEntryWarning if classify(exc) == "corrupt" else StoreWriteWarning,
        )
        self.index_events.append(f"the index cannot be used ({exc}); kept in memory")
        index.use_memory()
        self.rebuild_index(index)

    def _build_index_file(self, path: Path) -> tuple[Path | None, int, BaseException | None]:
        """A complete new index made from the manifests next to ``path``: (its path, entries
        in it, None), or (None, 0, the error) when it cannot be written."""
        for left in path.parent.glob(f"{path.name}.rebuild-*"):  # by rebuilds that died
            pid = left.name.removeprefix(f"{path.name}.rebuild-").partition("-")[0]
            if pid.isdigit() and not pid_alive(int(pid)):
                with contextlib.suppress(OSError):
                    left.unlink()
        fresh = path.with_name(f"{path.name}.rebuild-{os.getpid()}")
        built = self._write_index(fresh)
        full = built[2] is not None and classify(built[2], self.root) == "full"
        if full and _drop_damaged(path, keep=0):
            built = self._write_index(fresh)  # the copies kept for a post-mortem made room
        return built

    def _write_index(self, fresh: Path) -> tuple[Path | None, int, BaseException | None]:
        """Write an index at ``fresh`` from the manifests (see :meth:`_build_index_file`)."""
        _remove_database(fresh)
        try:
            index = Index(fresh)
            count = self.rebuild_index(index)
            index.close()
            return fresh, count, None
        except (sqlite3.Error, OSError) as exc:
            _remove_database(fresh)
            return None, 0, exc

    def _swap_in(self, path: Path, fresh: Path) -> Path:
        """Put the rebuilt index in place; the damaged one (and its WAL) is kept aside."""
        aside = path.with_name(f"{path.name}.corrupt-{time.time_ns()}")
        with contextlib.suppress(FileNotFoundError):
            path.replace(aside)
        for suffix in ("-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                Path(f"{path}{suffix}").replace(f"{aside}{suffix}")
        fresh.replace(path)
        _drop_damaged(path, keep=KEEP_DAMAGED)  # kept for a post-mortem, not without bound
        return aside

    def _replace_damaged(self, path: Path, exc: BaseException) -> Index:
        """At opening: the index is damaged; rebuild it (or work from memory)."""
        fresh, count, failure = self._build_index_file(path)
        if fresh is not None:
            try:
                aside = self._swap_in(path, fresh)
            except OSError as swap_failure:
                fresh, failure = None, swap_failure
        if fresh is None:
            index = Index(path, memory=True, on_damage=self._index_damaged)
            self._fall_back_to_memory(index, failure or exc)
            return index
        self._warn_rebuilt(exc, aside, count)
        return Index(path, on_damage=self._index_damaged)

    def _index_damaged(self, index: Index, exc: BaseException) -> None:
        """After opening: a query met damage. Rebuild the file as at opening, unless another
        process did already; if it cannot be written, keep the index in memory."""
        with self._recover_lock, self._holding_index_lock():
            if index.memory_uri is not None:
                raise exc
            if index.replaced():  # another process rebuilt it: use the new file
                index.reopen()
                return
            if self.read_only or (index.read_only and index.immutable):
                self._fall_back_to_memory(index, exc)  # nothing may be written here
                return
            fresh, count, failure = self._build_index_file(index.path)
            if fresh is not None:
                try:
                    aside = self._swap_in(index.path, fresh)
                except OSError as swap_failure:  # the file system turned read-only, ...
                    fresh, failure = None, swap_failure
            if fresh is None:
                self._fall_back_to_memory(index, failure or exc)
                return
            index.reopen()
            self._warn_rebuilt(exc, aside, count)

    def _warn_rebuilt(self, exc: BaseException, aside: Path, count: int) -> None:
        self.index_events.append(
            f"the index was damaged ({exc}); rebuilt from {count} manifests, the damaged file "
            f"kept as {aside.name}"
        )
        self._warn_once(
            f"index-rebuilt-{aside.name}",
            f"the index of the hitnb store at {self.root} is unreadable ({exc}); it was moved "
            f"to {aside.name} and rebuilt from the entries' manifests ({count} entries)",
            CorruptEntryWarning,
        )

    def _warn_once(self, topic: str, message: str, category: type[Warning]) -> None:
        if topic not in self._warned:
            self._warned.add(topic)
            with speaking():
                warnings.warn(message, category, stacklevel=4)

    def _index_failed(self, exc: BaseException) -> None:
        """An index query failed for a reason that is not damage: say so once, go on."""
        self._warn_once(
            f"index-failed-{classify(exc, self.root)}",
            f"hitnb store at {self.root}: {exc}; stored results are read from the entries' "
            "manifests meanwhile",
            StoreWriteWarning,
        )

    @property
    def index_state(self) -> str:
        """``"file"``, ``"read-only"`` (cannot be written now) or ``"memory"`` (the file
        cannot be used; this process keeps one made from the manifests)."""
        if self.index.memory_uri is not None:
            return "memory"
        return "read-only" if self.index.read_only else "file"

    def replace_index(self) -> int:
        """Rebuild the index file from the manifests and put it in place of the current one
        (kept aside); return how many entries it holds. For ``hitnb verify --repair``."""
        self._rows.flush()  # not under the locks: the row writer may need them to recover
        with self._recover_lock, self._holding_index_lock():
            index = self._index
            fresh, count, failure = self._build_index_file(index.path)
            if fresh is None:
                raise IndexUnavailable("be rebuilt", failure or OSError("unknown"))
            self._swap_in(index.path, fresh)
            if index.memory_uri is not None or index.read_only:
                self._index = Index(index.path, on_damage=self._index_damaged)
            else:
                index.reopen()
            return count

    def drop_damaged_indexes(self, *, dry_run: bool = False) -> list[tuple[str, int]]:
        """Remove every damaged index kept aside for a post-mortem (``hitnb gc``); return
        the name and bytes of each (with ``dry_run``, of each that would go)."""
        with self._recover_lock, self._holding_index_lock():
            return _drop_damaged(self._index.path, keep=0, dry_run=dry_run)

    def reopen_index(self) -> None:
        """Open the index file again if this process had to read it only, or keep one in
        memory (a full disk at opening), now that the cause may be gone (``hitnb gc`` made
        room); it may fall back again, with its warning."""
        if self.read_only or self.index_state == "file":
            return
        with self._recover_lock, self._holding_index_lock():
            old, self._index = self._index, self._open_index(self._index.path)
            old.close()

    def free_blob_files(self, keys: list[str], keep: Collection[str]) -> int:
        """Remove the blob files of the entries ``keys`` that no other entry uses, before
        their rows, which a full disk does not let go; return the bytes freed.

        Only for eviction on a full disk (see :func:`hitnb.store.maintenance.evict`): until
        the rows go, a reader of these entries finds their bytes missing and computes them
        again, as for any entry found damaged. Never a wrong value. The blobs ``keep`` (that
        other entries' manifests name) stay."""
        doomed = set(keys)
        freed = 0
        for blob_id in dict.fromkeys(e.blob for e in self.index.entries(keys=keys) if e.blob):
            size = _size(self.blobs.path(blob_id))
            if blob_id not in keep and self.delete_blob_if_unused(blob_id, besides=doomed):
                freed += size
        return freed

    def manifest_records(self) -> Iterator[tuple[Entry, dict[str, Any] | None]]:
        """Every readable manifest, as (entry, recipe); unreadable ones are skipped."""
        for path in sorted(self.manifests.glob("??/*.json")):
            try:
                found = self.read_record(path.stem)
            except CorruptEntryError:
                continue
            if found is not None:
                yield found

    def rebuild_index(self, index: Index | None = None) -> int:
        """Index every readable manifest (rows already there are replaced); return how many."""
        index = index or self.index
        entries, recipes = [], {}
        for entry, recipe in self.manifest_records():
            entries.append(entry)
            if recipe is not None:
                recipes[entry.key] = recipe
        index.put_many(entries, recipes)
        return len(entries)

    def _prepare_root(self) -> None:
        fresh = not self.root.exists()
        if not fresh and not self.root.is_dir():
            raise StoreLocationError(self.root, "is a file, not a folder")
        try:
            make_dirs(self.root)
        except OSError as exc:
            raise StoreLocationError(self.root, f"cannot be made ({exc.strerror})") from exc
        if fresh:
            write_private(self.root / ".gitignore", "# hitnb store: never commit it\n*\n")
            write_private(self.root / "store.json", json.dumps({"format": STORE_FORMAT}) + "\n")
            return
        unsafe = unsafe_levels(self.root)
        if unsafe:
            warnings.warn(
                f"the hitnb store at {self.root} can be changed by other users "
                f"({'; '.join(unsafe[:3])}{'; ...' if len(unsafe) > 3 else ''}); whoever can "
                "write it can run code in your kernel through pickled results. Fix: "
                f"chmod -R go-rwx {self.root} (and chown what you do not own)",
                HitnbWarning,
                stacklevel=4,
            )

    # -- reading ---------------------------------------------------------------------------
    def get(self, key: str) -> Entry | None:
        """The entry for ``key``; a manifest the index lacks is indexed again on the way, and
        one only the shared store has is brought here. An index that cannot be read (a
        failing disk) is passed by: the manifest answers, with one warning."""
        found = self._queued(key)
        if found is not None:
            return found
        try:
            found = self._index.get(key)
        except sqlite3.Error as exc:
            self._index_failed(exc)
            found = None
        return found or self._reindex(key) or self.from_remote(key)

    def lookup(self, key: str) -> Stored | Entry | None:
        """Like :meth:`get`, reading only what loading the value needs (the hit path)."""
        found: Stored | Entry | None = self._queued(key)
        if found is not None:
            return found
        try:
            found = self._index.find(key)
        except sqlite3.Error as exc:
            self._index_failed(exc)
            found = None
        return found or self._reindex(key) or self.from_remote(key)

    def from_remote(self, key: str, record: dict[str, Any] | None = None) -> Entry | None:
        """Read-through: the shared store's entry for ``key``, kept here once checked.

        ``record`` is its manifest when the caller has already fetched it (as ``pull`` has)."""
        remote = self.remote
        if remote is None or not remote.available:
            return None
        entry: Entry | None = None
        try:
            if record is None:
                record = remote.manifest(key)
            if record is None or record.get("status") != "ok":
                return None
            recipe = record.pop("recipe", None)
            entry = _entry_of(record, key)
            if entry.blob is not None and not self.blobs.exists(entry.blob):
                self.blobs.write_verified(entry.blob, remote.blob(entry.blob))
        except RemoteUnavailable:
            return None
        except CorruptEntryError as exc:
            remote.mark_bad(entry.blob if entry is not None else None)
            warnings.warn(f"{exc}; it is computed here", CorruptEntryWarning, stacklevel=5)
            return None
        self.write_manifest(entry, recipe)
        self._index_put(entry, recipe)
        return entry

    def _queued(self, key: str) -> Entry | None:
        """This process's entry of ``key`` whose row is queued, while its manifest is still
        the one written with it (another process may have stored the key since)."""
        row = self._rows.pending(key)
        if row is None or self._manifest_state(key) != row.manifest:
            return None
        return row.entry

    def _manifest_state(self, key: str) -> tuple[int, int] | None:
        return _file_state(self._manifest_file(key))

    def _release_index(self) -> None:
        """Close the row writer thread's index connection once it has written."""
        self._index.release_connection()

    def _write_rows(self, rows: list[Row]) -> None:
        """Index entries whose manifests are written, in one transaction (the row writer's
        work). Then each row must agree with its manifest as it is now: one removed meanwhile
        (another process evicted the entry) takes the row with it, and one another process
        wrote since (it stored the key again) replaces the row. A row the index cannot take is
        left to its manifest. The hits counted in memory wait for the process's own next
        write: thousands of them, written from the thread, slowed the hits being counted."""
        try:
            index = self._index
            ours = [row for row in rows if self._manifest_state(row.entry.key) == row.manifest]
            encoded = [row.encoded or EncodedEntry.of(row.entry, row.recipe) for row in ours]
            recipes = [  # an empty recipe is not indexed here (the manifest has it)
                recipe
                for row, e in zip(ours, encoded, strict=True)
                if row.recipe
                for recipe in e.recipe_rows()
            ]
            index.put_rows([e.row for e in encoded], recipes, counts=False)  # (docstring)
            for entry, _, manifest, _ in rows:  # and if another writer came in between:
                now = self._manifest_state(entry.key)
                if now is None:
                    index.delete([entry.key])
                elif now != manifest:
                    found = self.read_record(entry.key)
                    if found is not None:
                        index.put_many([found[0]], {entry.key: found[1]} if found[1] else None)
        except Exception as exc:  # never lose the thread: the manifests keep the entries
            self._index_failed(exc)

    def _index_put(
        self,
        entry: Entry,
        recipe: dict[str, Any] | None = None,
        encoded: EncodedEntry | None = None,
    ) -> None:
        """Index an entry whose manifest is written (``encoded``: its row, when the caller
        has it); if the index cannot take it now (a full disk, a read-only file) the
        manifest keeps it, and it is indexed again on use."""
        try:
            if encoded is None:
                self._index.put(entry, recipe)
            else:
                self._index.put_rows([encoded.row], encoded.recipe_rows())
        except sqlite3.Error as exc:
            self._index_failed(exc)

    def upload(self, entry: Entry, recipe: dict[str, Any] | None = None) -> bool:
        """Write-through: give the shared store this entry; False if it could not be reached."""
        if self.remote is None:
            return True
        blob = str(self.blobs.path(entry.blob)) if entry.blob is not None else None
        try:
            self.remote.upload(_manifest_record(entry, recipe), blob)
        except RemoteUnavailable:
            return False
        return True

    def _reindex(self, key: str) -> Entry | None:
        """An entry whose manifest exists but whose index row does not (a crash, a lost index)."""
        if not self.has_manifest(key):  # the usual miss: a stat, not a failed open
            return None
        found = self.read_record(key)
        if found is None:
            return None
        entry, recipe = found
        try:  # a row written meanwhile by the entry's writer is newer: keep it
            self._index.put_many([entry], {key: recipe} if recipe else None, replace=False)
            if not self.has_manifest(key):  # removed meanwhile (an eviction):
                self._index.delete([key])  # the row must not outlive it
                return None
        except sqlite3.Error as exc:
            self._index_failed(exc)
        return entry

    def has_manifest(self, key: str) -> bool:
        """Whether entry ``key`` has its manifest here (one ``stat``). Every writer writes the
        manifest before it lets go of the key's lock, so a caller that waited for the lock
        learns this way whether the holder stored the entry, whenever its row is written."""
        return os.path.exists(self._manifest_file(key))  # noqa: PTH110 (one stat per miss)

    def contains(self, key: str) -> bool:
        if self._queued(key) is not None:
            return True
        try:
            indexed = self._index.contains(key)
        except sqlite3.Error as exc:
            self._index_failed(exc)
            indexed = False
        if indexed or self.manifest_path(key).exists():
            return True
        if self.remote is None or not self.remote.available:
            return False
        try:
            return self.remote.manifest(key) is not None
        except RemoteUnavailable:
            return False

    def load(
        self, entry: Entry | Stored, *, mmap: bool = False, namespace: dict[str, Any] | None = None
    ) -> Any:
        """Decode an entry's value, checking its bytes; raises :class:`CorruptEntryError`.

        ``namespace``: the globals of the code the value is for (a notebook's), which some
        values read while they are unpickled (see :func:`~hitnb.store.codecs.loads_in`)."""
        data = self.read_bytes(entry, mmap=mmap)
        codec = codec_named(entry.codec)
        try:
            if namespace is not None:
                return codec.load_in(data, entry.codec_meta, namespace)
            return codec.load(data, entry.codec_meta)
        except CodecError:
            raise
        except Exception as exc:
            raise CodecError(
                f"{entry.codec} codec could not decode entry {entry.key}: {exc}"
            ) from exc

    def decoder(self, entry: Entry | Stored) -> Callable[[], Any]:
        """A function that decodes the entry again each time it is called (a fresh object).

        A small pickled value is verified once here and then only unpickled, which is what
        makes a repeat hit in one process cheap; anything else goes through :meth:`load`.

        The manifest's file state (inode, mtime) is taken first and checked at every call,
        a ``stat`` (about a microsecond): once another process has deleted the entry or
        stored it again, the decoder raises and the caller looks the key up again, instead
        of serving the copy it kept.
        """
        manifest = str(self.manifest_path(entry.key))
        seen = _file_state(manifest)
        if seen is not None:  # the entry may have been stored again since it was looked up
            found = self.read_record(entry.key)
            if found is None or found[0].checksum != entry.checksum:
                raise CorruptEntryError(f"entry {entry.key} was changed or removed meanwhile")
        decode: Callable[[], Any] = functools.partial(self.load, entry)
        if entry.inline is not None and entry.codec == "pickle":
            stream = pickle_stream(self.read_bytes(entry).buffer)
            if stream is not None:
                decode = functools.partial(pickle.loads, stream)

        def checked() -> Any:
            if _file_state(manifest) != seen:
                raise CorruptEntryError(f"entry {entry.key} was changed or removed meanwhile")
            return decode()

        return checked

    def read_bytes(self, entry: Entry | Stored, *, mmap: bool = False) -> BlobData:
        if entry.inline is not None:
            if xxhash.xxh3_128_hexdigest(entry.inline) != entry.checksum:
                raise CorruptEntryError(f"entry {entry.key} does not match its checksum")
            return BlobData(bytearray(entry.inline))
        if entry.blob is None:
            raise CorruptEntryError(f"entry {entry.key} has neither inline data nor a blob")
        if mmap:
            return BlobData(self.blobs.map(entry.blob, entry.size), mapped=True)
        return BlobData(self.blobs.read(entry.blob))

    def entries(
        self,
        function: str | None = None,
        *,
        experiment: bool | None = None,
        code: str | None = None,
        limit: int | None = None,
    ) -> list[Entry]:
        """Entries, newest first, read from the index only (no blob is loaded); from the
        manifests, with one warning, when the index cannot be read. ``code`` keeps only
        entries of that code version."""
        try:
            return self.index.entries(function, experiment=experiment, code=code, limit=limit)
        except sqlite3.Error as exc:
            self._index_failed(exc)
        found = [
            entry
            for entry, _ in self.manifest_records()
            if (function is None or entry.function == function)
            and (experiment is None or entry.experiment == experiment)
            and (code is None or entry.code == code)
        ]
        found.sort(key=lambda e: e.created, reverse=True)
        return found if limit is None else found[:limit]

    def note_hit(self, key: str) -> None:
        """Count a hit, in memory: the index writes counts after the rows of its next write
        (queued rows included) or a couple of seconds on. A hit on an entry whose row is still
        queued then may go uncounted, which only ages it for eviction by a tenth of a second;
        flushing the queue for it cost the hit the whole batch of counts."""
        self._index.note_hit(key)

    def keys_with_prefix(self, prefix: str, *, limit: int = 2) -> list[str]:
        """Indexed keys starting with ``prefix``, at most ``limit`` (to resolve short keys)."""
        return self.index.keys_with_prefix(prefix, limit=limit)

    def listing(self, *, experiment: bool | None = None) -> list[Listed]:
        """A row per entry for listings, newest first, without reading any JSON column."""
        return self.index.listing(experiment=experiment)

    def count(self) -> int:
        """How many entries the index holds."""
        return self.index.count()

    def by_function(self) -> list[tuple[str, int, int, int]]:
        """Per function: (name, entries, experiments, bytes)."""
        return self.index.by_function()

    # -- writing ---------------------------------------------------------------------------
    def encode(
        self, value: Any, *, codec: str | None = None
    ) -> tuple[str, dict[str, Any], Encoded]:
        """Encode ``value`` with the first codec that takes it; return (codec, meta, where).

        Raises :class:`CodecError` naming the type and every codec's reason when none can;
        an OSError (disk full, read-only store) propagates. Nothing half-written stays.
        """
        return self._encode(value, codec, lambda name, meta, encoded: (name, meta, encoded))

    def _encode(
        self,
        value: Any,
        codec: str | None,
        finish: Callable[[str, dict[str, Any], Encoded], _T],
        instead: Callable[[int, float], Any] | None = None,
    ) -> _T:
        """Encode ``value``, commit its blob and call ``finish`` with where it went.

        A blob file is committed and ``finish`` runs while holding the blob's lock, which
        :meth:`delete` takes too before removing a blob no row names: so a writer that
        finds its bytes already stored (and keeps them) cannot have them removed before its
        own row names them.

        ``instead``, given the size the value encoded to and the seconds encoding took, may
        return another value to store in its place (None keeps it); the bytes encoded are
        then dropped before any reached the disk (the writer holds them until then).
        """
        reasons = []
        for candidate in codecs_for(value, codec):
            with self.blobs.writer(held=instead is not None) as writer:
                started = time.perf_counter()
                try:
                    meta = candidate.save(value, writer) or {}
                except OSError:
                    raise
                except Exception as exc:
                    writer.discard()
                    reasons.append(f"{candidate.name}: {type(exc).__name__}: {exc}")
                    continue
                took = time.perf_counter() - started
                replacement = None if instead is None else instead(writer.size, took)
                if replacement is not None:  # held: nothing was written to disk
                    writer.discard()
                    return self._encode(replacement, None, finish)
                try:
                    writer.release()
                except CodecError:  # the codec changed a buffer it had written: again, as is
                    writer.discard()
                    return self._encode(value, codec, finish)
                if writer.inline:
                    return finish(candidate.name, meta, self.blobs.commit(writer))
                with self.locks.hold(blob_lock(writer.checksum), BLOB_LOCK_TIMEOUT):
                    return finish(candidate.name, meta, self.blobs.commit(writer))
        raise CodecError(
            f"cannot store a value of type {type(value).__module__}.{type(value).__qualname__}: "
            + "; ".join(reasons)
            + ". Register a codec for it with hitnb.register_codec(...)"
        )

    def put(
        self,
        key: str,
        value: Any,
        *,
        codec: str | None = None,
        recipe: dict[str, Any] | None = None,
        instead: Callable[[int, float], Any] | None = None,
        **info: Any,
    ) -> Entry:
        """Store ``value`` under ``key`` with the metadata in ``info`` (see :class:`Entry`) and,
        for export, the ``recipe`` that makes it again. ``instead`` may put another value in
        its place once its encoded size is known (see :meth:`_encode`).

        Blob, then manifest (the entry exists from then on), then index row; the row of a
        new entry whose value is held inline (no blob) is written behind the caller (see
        :mod:`hitnb.store.row_writer`), while a row that replaces another process's is
        written at once, so no process goes on reading the row it replaces. If the index
        cannot take the row (a full disk) the manifest keeps the entry and it is indexed on
        use, with one warning."""

        def record(codec_name: str, meta: dict[str, Any], encoded: Encoded) -> Entry:
            now = time.time()
            entry = Entry(
                key=key,
                codec=codec_name,
                codec_meta=meta,
                checksum=encoded.checksum,
                size=encoded.size,
                blob=encoded.blob,
                inline=encoded.inline,
                created=now,
                last_access=now,
                **info,
            )
            new = entry.blob is None and not self.has_manifest(key)
            try:
                row: EncodedEntry | None = EncodedEntry.of(entry, recipe)
            except (TypeError, ValueError):  # a recipe that is not JSON: as before, the
                row = None  # manifest takes it as text and the index refuses it
            manifest = self.write_manifest(entry, recipe, row)
            if new:
                self._rows.submit(entry, recipe, manifest, row)
            else:  # a blob an eviction elsewhere must see named, or a row to replace now
                self._index_put(entry, recipe, row)
            return entry

        entry = self._encode(value, codec, record, instead)
        self.bytes_written += entry.size
        self.upload(entry, recipe)
        return entry

    def learn_digests(self, rows: list[tuple[str, str, str, str]]) -> None:
        """Keep digests of entries' outputs learned after they were stored (see
        :meth:`Index.learn_digests`); a cache: an index that cannot take them drops them."""
        if rows and not self._index.read_only:
            with contextlib.suppress(sqlite3.Error):
                self._index.learn_digests(rows)

    def learned_digests(self, key: str, checksum: str) -> dict[str, str]:
        """Digests learned for the outputs of entry ``key`` with these bytes; none when the
        index cannot be read."""
        try:
            found = self._index.learned_digests(key, checksum)
        except sqlite3.Error:
            return {}
        return {name: digest for name, digest in found.items() if is_digest(digest)}

    def recipe(self, key: str) -> dict[str, Any] | None:
        """The recipe stored with an entry (from the index, else its manifest)."""
        found = self.index.recipe(key)
        if found is None:
            try:
                with self.manifest_path(key).open() as fh:
                    found = json.load(fh).get("recipe")
            except (OSError, ValueError):
                return None
        return found

    def delete(self, keys: Iterable[str], keep: Collection[str] = ()) -> list[Entry]:
        """Remove entries and the blobs no other entry uses; return the removed entries.

        In the reverse order of a write, so a kill at any point leaves a consistent store:
        index rows first, then manifests, then blobs. Killed after the rows, the manifests
        left are entries the index lacks (found on use; ``hitnb gc`` indexes them again
        and finishes the job). A blob goes last, under its lock (see :meth:`_encode`),
        and only when no row names it (nor is it in ``keep``: blobs of entries the index
        may lack, named by their manifests).
        """
        removed = self.index.delete(keys)
        for entry in removed:
            self.manifest_path(entry.key).unlink(missing_ok=True)
        for blob_id in dict.fromkeys(e.blob for e in removed if e.blob):
            if blob_id not in keep:
                self.delete_blob_if_unused(blob_id)
        return removed

    def delete_blob_if_unused(
        self, blob_id: str, *, wait: float = BLOB_LOCK_TIMEOUT, besides: Collection[str] = ()
    ) -> bool:
        """Remove a blob no index row names (but those of the entries ``besides``, about to
        go), unless a writer is committing it right now; return whether it was removed."""
        with self.locks.hold(blob_lock(blob_id), wait) as acquired:
            if not acquired or self.index.blob_in_use(blob_id, besides):
                return False
            self.blobs.delete(blob_id)
            return True

    def drop_corrupt(self, key: str) -> None:
        """Forget an entry found corrupt, keeping its blob only if another entry uses it."""
        with contextlib.suppress(OSError, sqlite3.Error):
            self.delete([key])
        self.manifest_path(key).unlink(missing_ok=True)

    # -- manifests -------------------------------------------------------------------------
    def manifest_path(self, key: str) -> Path:
        return Path(self._manifest_file(key))

    def _manifest_file(self, key: str) -> str:
        """The manifest's path as text (a miss asks for it several times, and building a
        ``Path`` costs 5 us each)."""
        if not is_digest(key):
            raise CorruptEntryError(f"{key!r} is not an entry key (32 lowercase hex digits)")
        return f"{self._manifests_text}{key[:2]}{os.sep}{key}.json"

    def write_manifest(
        self,
        entry: Entry,
        recipe: dict[str, Any] | None = None,
        encoded: EncodedEntry | None = None,
    ) -> tuple[int, int]:
        """Write the manifest of ``entry`` (a temp file, renamed); return its inode and
        mtime, by which a later reader knows whether another writer replaced it.
        ``encoded``: the entry's index row and recipe, when the caller has encoded them
        (their JSON texts are reused)."""
        path = self._manifest_file(entry.key)
        folder = os.path.dirname(path)  # noqa: PTH120 (str paths: this runs on every miss)
        if folder not in self._made:
            make_dirs(Path(folder))
            self._made.add(folder)
        if encoded is None:
            data = json.dumps(_manifest_record(entry, recipe), default=str).encode()
        else:
            data = manifest_bytes(entry, encoded)
        try:
            fd, tmp = _create_part(folder)
        except FileNotFoundError:  # the folder was removed since: make it again
            make_dirs(Path(folder))
            fd, tmp = _create_part(folder)
        try:
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
                written = os.fstat(fd)
            finally:
                os.close(fd)
            os.replace(tmp, path)  # noqa: PTH105 (str paths: this runs on every miss)
            return written.st_ino, written.st_mtime_ns
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)  # noqa: PTH108
            raise

    def read_manifest(self, key: str) -> Entry | None:
        found = self.read_record(key)
        return None if found is None else found[0]

    def read_record(self, key: str) -> tuple[Entry, dict[str, Any] | None] | None:
        """The entry and recipe in the manifest of ``key``; None if there is none."""
        try:
            with self.manifest_path(key).open() as fh:
                record = json.load(fh)
            recipe = record.pop("recipe", None) if isinstance(record, dict) else None
            return _entry_of(record, key), recipe
        except FileNotFoundError:
            return None
        except (OSError, ValueError, TypeError) as exc:
            raise CorruptEntryError(f"manifest of entry {key} cannot be read: {exc}") from exc

    def close(self) -> None:
        """Write the rows queued, and close the index: no file of the store stays open in
        this process (a store reopened later reconnects)."""
        self._rows.settle()
        self._index.close()


_PLAIN_FIELDS = tuple(name for name in COLUMNS if name not in JSON_FIELDS)


def manifest_bytes(entry: Entry, encoded: EncodedEntry) -> bytes:
    """The manifest of ``entry``: the JSON of :func:`_manifest_record`, with the texts of its
    JSON fields and recipe taken from its index row (``encoded``) rather than encoded again.
    The same object, its plain fields first (readers look fields up by name)."""
    plain = {name: getattr(entry, name) for name in _PLAIN_FIELDS}
    if entry.inline is not None:
        plain["inline"] = base64.b64encode(entry.inline).decode()
    texts = [f'"{name}": {encoded.json_field(name)}' for name in JSON_FIELDS]
    if encoded.recipe is not None:
        texts.append(f'"recipe": {encoded.recipe}')
    return f"{json_text(plain)[:-1]}, {', '.join(texts)}}}".encode()


def _manifest_record(entry: Entry, recipe: dict[str, Any] | None) -> dict[str, Any]:
    """An entry as its manifest holds it: JSON-able, inline bytes in base64, recipe inside."""
    record: dict[str, Any] = entry.fields()
    if recipe is not None:
        record["recipe"] = recipe
    if entry.inline is not None:
        record["inline"] = base64.b64encode(entry.inline).decode()
    return record


_ENTRY_FIELDS = frozenset(f.name for f in dataclasses.fields(Entry))
_REQUIRED: dict[str, type | tuple[type, ...]] = {
    "key": str, "function": str, "code": str, "args": str, "codec": str, "checksum": str,
    "size": int, "created": (int, float), "duration": (int, float),
}  # fmt: skip
_OPTIONAL: dict[str, type | tuple[type, ...]] = {
    "blob": (str, type(None)), "inline": (str, type(None)), "codec_meta": dict,
    "hits": int, "last_access": (int, float), "experiment": (bool, int), "params": dict,
    "metrics": dict, "parts": dict, "origin": str, "status": str,
    "error": (str, type(None)), "series": dict,
}  # fmt: skip
_unknown_warned: set[frozenset[str]] = set()


def _entry_of(record: Any, key: str | None = None) -> Entry:
    """The entry in a manifest's record (read back from :func:`_manifest_record`).

    Raises :class:`CorruptEntryError` when a field is missing or of the wrong type, or when
    the record is another key's (a manifest copied to the wrong path would otherwise serve
    that entry's value). Fields this hitnb does not know (a newer one wrote them) are left
    out, with one warning."""
    if not isinstance(record, dict):
        raise CorruptEntryError(f"manifest of entry {key} is not a JSON object")
    if key is not None and record.get("key") != key:
        raise CorruptEntryError(
            f"manifest at the path of entry {key} is that of entry {record.get('key')!r}; "
            "refused (it would give another call's value)"
        )
    for name, kinds in (*_REQUIRED.items(), *_OPTIONAL.items()):
        if (name in _REQUIRED or name in record) and not isinstance(record.get(name), kinds):
            raise CorruptEntryError(
                f"manifest of entry {record.get('key', key)} has no valid {name!r} field"
            )
    unknown = frozenset(record) - _ENTRY_FIELDS - {"recipe", "signature"}
    if unknown and unknown not in _unknown_warned:
        _unknown_warned.add(unknown)
        warnings.warn(
            f"manifest of entry {record['key']} has fields this hitnb does not know "
            f"({', '.join(sorted(unknown))}); they are ignored. A newer hitnb wrote it: "
            "upgrade to use them",
            HitnbWarning,
            stacklevel=4,
        )
    fields = {k: v for k, v in record.items() if k in _ENTRY_FIELDS}
    if fields.get("inline") is not None:
        try:
            fields["inline"] = base64.b64decode(fields["inline"], validate=True)
        except ValueError as exc:
            raise CorruptEntryError(f"manifest of entry {record['key']}: {exc}") from exc
    fields["experiment"] = bool(fields.get("experiment", False))
    return Entry(**fields)


_open: dict[Path, LocalStore] = {}
_open_lock = threading.Lock()
_warned: set[str] = set()


class StoreLocationError(OSError):
    """The store's folder cannot be used: a file is there, or it cannot be made."""

    def __init__(self, root: Path, problem: str) -> None:
        super().__init__(f"the hitnb store at {root} {problem}")
        self.root = root
        self.problem = problem


def _warn_once(message: str) -> None:
    """One message per problem and process, attributed to the user's line."""
    if message in _warned:
        return
    _warned.add(message)
    frame, level = sys._getframe(1), 2
    package = str(Path(__file__).resolve().parent.parent)
    while frame.f_back is not None and frame.f_code.co_filename.startswith(package):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, HitnbWarning, stacklevel=level)


def _fallback_store(root: Path, error: StoreLocationError) -> LocalStore:
    """A temporary store for this process, when the configured one cannot be used, so
    the user's code still runs (and hits within this process); said once."""
    folder = Path(tempfile.mkdtemp(prefix="hitnb-fallback-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    _warn_once(
        f"{error}, so results are kept in a temporary store until this process ends. "
        f"Fix: point HITNB_STORE (or hitnb.configure(store=...), or [tool.hitnb] store in "
        f"pyproject.toml) at a folder, or move what is at {root} away"
    )
    return LocalStore(folder)


def open_store(
    root: str | os.PathLike[str], *, remote: str | None = None, signing_key: str | None = None
) -> LocalStore:
    """The store at ``root``, opened once per process and shared by every caller; with
    ``remote`` (an fsspec URL), the local store caches that shared store."""
    if not isinstance(root, Path):  # (a Path made on every call costs 10 us: the hit path)
        root = Path(root)
    store = _open.get(root)
    if store is not None and store.read_only and os.access(root, os.W_OK):
        store = None  # the file system became writable again: open it for writing
    if store is None:
        with _open_lock:
            store = _open.get(root)
            if store is None or (store.read_only and os.access(root, os.W_OK)):
                try:
                    store = LocalStore(root)
                except StoreLocationError as exc:
                    store = _fallback_store(root, exc)
                _open[root] = store
    if remote is not None and (store.remote is None or store.remote.url != remote.rstrip("/")):
        store.remote = Remote(remote, signing_key)
    elif remote is None and store.remote is not None:
        store.remote = None
    return store


@atexit.register
def close_stores() -> None:
    """Close every store this process opened and forget them: the next :func:`open_store`
    reads the folder afresh (after its files were changed behind this process's back)."""
    with _open_lock:
        opened = list(_open.values())
        _open.clear()
    for store in opened:
        with contextlib.suppress(Exception):
            store.close()
