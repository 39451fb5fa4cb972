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
which :meth:`LocalStore.get` and ``hitnb verify --repair`` pick up again.
"""

from __future__ import annotations

import atexit
import base64
import contextlib
import functools
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
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import xxhash

from hitnb.errors import CodecError, CorruptEntryError, CorruptEntryWarning, HitnbWarning
from hitnb.store.blobs import BlobStore, Encoded, make_dirs
from hitnb.store.codecs import BlobData, codec_named, codecs_for, pickle_stream
from hitnb.store.index import Entry, Index, Listed, Stored
from hitnb.store.locks import KeyLocks
from hitnb.store.remote import Remote, RemoteUnavailable

__all__ = ["BlobData", "Entry", "LocalStore", "open_store"]

STORE_FORMAT = 1


_INDEX_LOCK = "index-open"
_INDEX_OPEN_TIMEOUT = 120.0


def _is_busy(exc: sqlite3.DatabaseError) -> bool:
    """SQLite's "database is locked": another process is busy with the file, nothing is wrong."""
    return isinstance(exc, sqlite3.OperationalError) and (
        "locked" in str(exc) or "busy" in str(exc)
    )


class LocalStore:
    """A store in a local folder; safe to share between threads and processes."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._prepare_root()
        self.read_only = not os.access(root, os.W_OK)
        """On a read-only file system hits are served and writes fail (callers warn)."""
        self.blobs = BlobStore(root)
        self.manifests = root / "entries"
        self._made: set[Path] = set()
        self.locks = KeyLocks(root)
        self.remote: Remote | None = None
        """The shared store behind this one, when the settings name one (see remote.py)."""
        self.index = self._open_index(root / "index.sqlite")

    def __repr__(self) -> str:
        return f"LocalStore({str(self.root)!r})"

    def _open_index(self, path: Path) -> Index:
        """Open the index; rebuild it from the manifests when it is missing or unreadable.

        Processes opening one store at once (a cluster's workers starting) take turns, so
        only one creates the file, and another's lock is never mistaken for damage.
        """
        if self.read_only:
            return self._read_only_index(path)
        with self.locks.hold(_INDEX_LOCK, timeout=_INDEX_OPEN_TIMEOUT):
            existed = path.exists()
            try:
                index = Index(path)
            except sqlite3.DatabaseError as exc:
                if _is_busy(exc):
                    raise
                aside = path.with_name(f"{path.name}.corrupt-{int(time.time())}")
                warnings.warn(
                    f"the index of the hitnb store at {self.root} is unreadable ({exc}); it was "
                    f"moved to {aside.name} and is being rebuilt from the entries' manifests",
                    CorruptEntryWarning,
                    stacklevel=5,
                )
                path.replace(aside)
                for suffix in ("-wal", "-shm"):
                    Path(f"{path}{suffix}").unlink(missing_ok=True)
                index = Index(path)
                existed = False
            if not existed and any(self.manifests.glob("??/*.json")):
                self.rebuild_index(index)
        return index

    def _read_only_index(self, path: Path) -> Index:
        """The index of a store this process cannot write, opened as it is; when the last
        writer did not close it (its write-ahead log is still there, which an immutable
        open would ignore) or it cannot be read, a private copy rebuilt from the manifests."""
        wal = Path(f"{path}-wal")
        unclosed = wal.exists() and wal.stat().st_size > 0
        if not unclosed:
            index = Index(path, read_only=True)
            try:
                index.conn.execute("SELECT key FROM entries LIMIT 1").fetchall()
                return index
            except sqlite3.DatabaseError:
                index.close()
        copy = Path(tempfile.mkdtemp(prefix="hitnb-index-"))
        atexit.register(shutil.rmtree, copy, ignore_errors=True)
        index = Index(copy / "index.sqlite")
        count = self.rebuild_index(index)
        why = "was not closed by the last process that wrote it" if unclosed else "is unreadable"
        _warn_once(
            f"the hitnb store at {self.root} is read-only and its index {why}; this process "
            f"reads its {count} entries from their manifests instead. Fix: open the store "
            f"once with write access (run `hitnb verify` as its owner, or mount it "
            f"read-write), which completes the index"
        )
        return index

    def rebuild_index(self, index: Index | None = None) -> int:
        """Index every readable manifest (rows already there are replaced); return how many."""
        index = index or self.index
        entries = []
        for path in sorted(self.manifests.glob("??/*.json")):
            try:
                entry = self.read_manifest(path.stem)
            except CorruptEntryError:
                continue
            if entry is not None:
                entries.append(entry)
        index.put_many(entries)
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
            (self.root / ".gitignore").write_text("# hitnb store: never commit it\n*\n")
            (self.root / "store.json").write_text(json.dumps({"format": STORE_FORMAT}) + "\n")
        elif self.root.stat().st_mode & (stat.S_IWGRP | stat.S_IWOTH):
            warnings.warn(
                f"the hitnb store at {self.root} is writable by other users; whoever can write "
                f"it can run code in your kernel through pickled results. "
                f"Fix: chmod 700 {self.root}",
                HitnbWarning,
                stacklevel=4,
            )

    # -- reading ---------------------------------------------------------------------------
    def get(self, key: str) -> Entry | None:
        """The entry for ``key``; a manifest the index lacks is indexed again on the way, and
        one only the shared store has is brought here."""
        return self.index.get(key) or self._reindex(key) or self.from_remote(key)

    def lookup(self, key: str) -> Stored | Entry | None:
        """Like :meth:`get`, reading only what loading the value needs (the hit path)."""
        return self.index.find(key) or self._reindex(key) or self.from_remote(key)

    def from_remote(self, key: str, record: dict[str, Any] | None = None) -> Entry | None:
        """Read-through: the shared store's entry for ``key``, kept here once checked.

        ``record`` is its manifest when the caller has already fetched it (as ``pull`` has)."""
        remote = self.remote
        if remote is None or not remote.available:
            return None
        try:
            if record is None:
                record = remote.manifest(key)
            if record is None or record.get("status") != "ok":
                return None
            recipe = record.pop("recipe", None)
            entry = _entry_of(record)
            if entry.blob is not None and not self.blobs.exists(entry.blob):
                self.blobs.write_verified(entry.blob, remote.blob(entry.blob))
        except RemoteUnavailable:
            return None
        except CorruptEntryError as exc:
            remote.mark_bad(entry.blob)
            warnings.warn(f"{exc}; it is computed here", CorruptEntryWarning, stacklevel=5)
            return None
        self.write_manifest(entry, recipe)
        self.index.put(entry, recipe)
        return entry

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
        if not self.manifest_path(key).exists():  # the usual miss: a stat, not a failed open
            return None
        entry = self.read_manifest(key)
        if entry is not None:
            self.index.put(entry)
        return entry

    def contains(self, key: str) -> bool:
        if self.index.contains(key) or self.manifest_path(key).exists():
            return True
        if self.remote is None or not self.remote.available:
            return False
        try:
            return self.remote.manifest(key) is not None
        except RemoteUnavailable:
            return False

    def load(self, entry: Entry | Stored, *, mmap: bool = False) -> Any:
        """Decode an entry's value, checking its bytes; raises :class:`CorruptEntryError`."""
        data = self.read_bytes(entry, mmap=mmap)
        codec = codec_named(entry.codec)
        try:
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
        """
        if entry.inline is not None and entry.codec == "pickle":
            stream = pickle_stream(self.read_bytes(entry).buffer)
            if stream is not None:
                return functools.partial(pickle.loads, stream)
        return functools.partial(self.load, entry)

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
        limit: int | None = None,
    ) -> list[Entry]:
        """Entries, newest first, read from the index only (no blob is loaded)."""
        return self.index.entries(function, experiment=experiment, limit=limit)

    def note_hit(self, key: str) -> None:
        self.index.note_hit(key)

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
        reasons = []
        for candidate in codecs_for(value, codec):
            with self.blobs.writer() as writer:
                try:
                    meta = candidate.save(value, writer) or {}
                except OSError:
                    raise
                except Exception as exc:
                    writer.discard()
                    reasons.append(f"{candidate.name}: {type(exc).__name__}: {exc}")
                    continue
                return candidate.name, meta, self.blobs.commit(writer)
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
        **info: Any,
    ) -> Entry:
        """Store ``value`` under ``key`` with the metadata in ``info`` (see :class:`Entry`) and,
        for export, the ``recipe`` that makes it again."""
        codec_name, meta, encoded = self.encode(value, codec=codec)
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
        self.write_manifest(entry, recipe)
        self.index.put(entry, recipe)
        self.upload(entry, recipe)
        return entry

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

    def delete(self, keys: Iterable[str]) -> list[Entry]:
        """Remove entries and the blobs no other entry uses; return the removed entries."""
        removed = self.index.delete(keys)
        for entry in removed:
            self.manifest_path(entry.key).unlink(missing_ok=True)
            if entry.blob and not self.index.blob_in_use(entry.blob):
                self.blobs.delete(entry.blob)
        return removed

    def drop_corrupt(self, key: str) -> None:
        """Forget an entry found corrupt, keeping its blob only if another entry uses it."""
        with contextlib.suppress(OSError):
            self.delete([key])
        self.manifest_path(key).unlink(missing_ok=True)

    # -- manifests -------------------------------------------------------------------------
    def manifest_path(self, key: str) -> Path:
        if len(key) != 32 or not all(c in "0123456789abcdef" for c in key):
            raise CorruptEntryError(f"{key!r} is not an entry key (32 lowercase hex digits)")
        return self.manifests / key[:2] / f"{key}.json"

    def write_manifest(self, entry: Entry, recipe: dict[str, Any] | None = None) -> None:
        path = self.manifest_path(entry.key)
        if path.parent not in self._made:
            make_dirs(path.parent)
            self._made.add(path.parent)
        record = _manifest_record(entry, recipe)
        try:
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{os.getpid()}-", suffix=".part")
        except FileNotFoundError:  # the folder was removed since: make it again
            make_dirs(path.parent)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{os.getpid()}-", suffix=".part")
        try:
            with os.fdopen(fd, "w") as fh:
                fh.write(json.dumps(record, default=str))  # json.dump would not use the C encoder
            Path(tmp).replace(path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def read_manifest(self, key: str) -> Entry | None:
        try:
            with self.manifest_path(key).open() as fh:
                record = json.load(fh)
            record.pop("recipe", None)
            return _entry_of(record)
        except FileNotFoundError:
            return None
        except (OSError, ValueError, TypeError) as exc:
            raise CorruptEntryError(f"manifest of entry {key} cannot be read: {exc}") from exc

    def close(self) -> None:
        self.index.close()


def _manifest_record(entry: Entry, recipe: dict[str, Any] | None) -> dict[str, Any]:
    """An entry as its manifest holds it: JSON-able, inline bytes in base64, recipe inside."""
    record: dict[str, Any] = entry.fields()
    if recipe is not None:
        record["recipe"] = recipe
    if entry.inline is not None:
        record["inline"] = base64.b64encode(entry.inline).decode()
    return record


def _entry_of(record: dict[str, Any]) -> Entry:
    """The entry in a manifest's record (read back from :func:`_manifest_record`)."""
    fields = {k: v for k, v in record.items() if k not in ("recipe", "signature")}
    if fields.get("inline") is not None:
        fields["inline"] = base64.b64decode(fields["inline"])
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
    root: Path, *, remote: str | None = None, signing_key: str | None = None
) -> LocalStore:
    """The store at ``root``, opened once per process and shared by every caller; with
    ``remote`` (an fsspec URL), the local store caches that shared store."""
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
