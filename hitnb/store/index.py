"""The SQLite index of entries: one row per stored call, queried without loading blobs.

WAL mode lets many kernels read while one writes; each thread has its own
connection and a forked child opens new ones. Hits are counted in memory and
written in batches, so a hit costs a point query and no write transaction.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import json
import os
import sqlite3
import threading
import time
import weakref
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Concatenate, NamedTuple, ParamSpec, TypeVar

from hitnb.store.failures import IndexUnavailable, classify

SCHEMA_VERSION = 2
_HIT_FLUSH_SECONDS = 2.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (
    key TEXT PRIMARY KEY,
    function TEXT NOT NULL,
    code TEXT NOT NULL,
    args TEXT NOT NULL,
    codec TEXT NOT NULL,
    codec_meta TEXT NOT NULL DEFAULT '{}',
    blob TEXT,
    inline BLOB,
    checksum TEXT NOT NULL,
    size INTEGER NOT NULL,
    created REAL NOT NULL,
    duration REAL NOT NULL,
    hits INTEGER NOT NULL DEFAULT 0,
    last_access REAL NOT NULL,
    experiment INTEGER NOT NULL DEFAULT 0,
    params TEXT NOT NULL DEFAULT '{}',
    metrics TEXT NOT NULL DEFAULT '{}',
    parts TEXT NOT NULL DEFAULT '{}',
    origin TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'ok',
    error TEXT,
    series TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS entries_by_function ON entries (function, created);
CREATE INDEX IF NOT EXISTS entries_by_access ON entries (last_access);
CREATE INDEX IF NOT EXISTS entries_by_blob ON entries (blob);
CREATE INDEX IF NOT EXISTS entries_by_created ON entries (created);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS recipes (key TEXT PRIMARY KEY, recipe TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS output_digests (
    key TEXT NOT NULL,
    checksum TEXT NOT NULL,
    name TEXT NOT NULL,
    digest TEXT NOT NULL,
    PRIMARY KEY (key, name)
) WITHOUT ROWID;
"""

JSON_FIELDS = ("codec_meta", "params", "metrics", "parts", "series")
_encode_json = json.JSONEncoder(default=str).encode
"""``json.dumps(value, default=str)``, without making an encoder at every call (``dumps``
makes one whenever it is given ``default``: a microsecond, several times a miss)."""


def json_text(value: Any) -> str:
    """``value`` as JSON text, exactly as ``json.dumps(value, default=str)`` writes it; an
    empty dict (most entries' metrics, series and codec meta) without the encoder."""
    if type(value) is dict and not value:
        return "{}"
    return _encode_json(value)


_ADDED_COLUMNS = {"series": "series TEXT NOT NULL DEFAULT '{}'"}  # by schema version 2
COLUMNS = (
    "key", "function", "code", "args", "codec", "codec_meta", "blob", "inline", "checksum",
    "size", "created", "duration", "hits", "last_access", "experiment", "params", "metrics",
    "parts", "origin", "status", "error", "series",
)  # fmt: skip


class Stored(NamedTuple):
    """The part of an entry needed to load its value: what a hit reads from the index."""

    key: str
    codec: str
    codec_meta_json: str
    blob: str | None
    inline: bytes | None
    checksum: str
    size: int
    status: str

    @property
    def codec_meta(self) -> dict[str, Any]:
        if self.codec_meta_json == "{}":
            return {}
        meta: dict[str, Any] = json.loads(self.codec_meta_json)
        return meta


class Listed(NamedTuple):
    """One line of a listing."""

    key: str
    function: str
    created: float
    duration: float
    size: int
    hits: int
    experiment: int
    status: str


_SANE = (
    "(typeof(key) = 'text' AND length(key) = 32 AND typeof(function) = 'text'"
    " AND typeof(created) IN ('real', 'integer') AND created BETWEEN 0 AND 1e11"
    " AND typeof(duration) IN ('real', 'integer') AND typeof(size) = 'integer' AND size >= 0"
    " AND typeof(hits) = 'integer' AND typeof(last_access) IN ('real', 'integer')"
    " AND last_access BETWEEN 0 AND 1e11 AND experiment IN (0, 1) AND typeof(codec) = 'text'"
    " AND typeof(checksum) = 'text' AND length(checksum) = 32 AND typeof(status) = 'text'"
    " AND (blob IS NULL OR (typeof(blob) = 'text' AND length(blob) = 32)))"
)
"""True for a row whose values have the types and ranges hitnb writes. Garbage written into
the middle of the file can leave SQLite's structure intact and change values; such a row is
damage, met by whichever query reads it, and handled like damage found at opening."""

_STORED_SQL = f"SELECT {', '.join(Stored._fields).replace('_json', '')} FROM entries WHERE key = ?"


def _malformed(what: str) -> sqlite3.DatabaseError:
    """Damage found in a row's values (SQLite's own word for damage, so it is classified so)."""
    return sqlite3.DatabaseError(f"database disk image is malformed: {what}")


def _stored(row: tuple[Any, ...], key: str) -> Stored:
    """The hit's part of ``key``'s row, its values checked as ``_SANE`` checks them (in
    Python: the check in SQL reads every column of the row, and cost a twentieth of a hit)."""
    found, codec, meta, blob, inline, checksum, size, status = row
    if not (
        found == key
        and type(codec) is str
        and type(meta) is str
        and (blob is None or (type(blob) is str and len(blob) == 32))
        and (inline is None or type(inline) is bytes)
        and type(checksum) is str
        and len(checksum) == 32
        and type(size) is int
        and size >= 0
        and type(status) is str
    ):
        raise _malformed(f"the row found for entry {key} holds impossible values")
    return Stored(found, codec, meta, blob, inline, checksum, size, status)


_open_indexes: weakref.WeakSet[Index] = weakref.WeakSet()


def _after_fork() -> None:
    for index in list(_open_indexes):
        index._forget_after_fork()


os.register_at_fork(after_in_child=_after_fork)


@dataclass
class Entry:
    """One stored call: what was called, how it was stored, and what it cost."""

    key: str
    function: str
    code: str
    args: str
    codec: str
    checksum: str
    size: int
    created: float
    duration: float
    blob: str | None = None
    inline: bytes | None = None
    codec_meta: dict[str, Any] = field(default_factory=dict)
    hits: int = 0
    last_access: float = 0.0
    experiment: bool = False
    params: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    parts: dict[str, Any] = field(default_factory=dict)
    origin: str = ""
    status: str = "ok"
    error: str | None = None
    series: dict[str, list[list[float]]] = field(default_factory=dict)
    """Metric series logged during the call: name -> [[step, value], ...]."""

    def fields(self) -> dict[str, Any]:
        """The entry as a flat dict (``dataclasses.asdict`` would deep-copy every value)."""
        return {name: getattr(self, name) for name in COLUMNS}

    def row(self) -> tuple[Any, ...]:
        values = self.fields()
        for name in JSON_FIELDS:
            values[name] = json_text(values[name])
        values["experiment"] = int(self.experiment)
        return tuple(values[c] for c in COLUMNS)

    @classmethod
    def from_row(cls, row: Iterable[Any]) -> Entry:
        """The entry in a row selected with ``COLUMNS`` and then ``_SANE``."""
        *columns, sane = row
        values = dict(zip(COLUMNS, columns, strict=True))
        if not sane:
            raise _malformed(f"the row of entry {values['key']!r} holds impossible values")
        try:
            for name in JSON_FIELDS:
                values[name] = json.loads(values[name] or "{}")
        except (ValueError, TypeError) as exc:
            raise _malformed(f"the row of entry {values['key']!r}: {exc}") from exc
        values["experiment"] = bool(values["experiment"])
        return cls(**values)


class EncodedEntry(NamedTuple):
    """An entry as the index stores it, encoded once: the row, and the recipe as JSON text.
    Its manifest reuses the same texts (see :func:`hitnb.store.local.manifest_bytes`), where
    they were encoded twice, for a quarter of a small miss's time in Python."""

    key: str
    row: tuple[Any, ...]
    recipe: str | None

    @classmethod
    def of(cls, entry: Entry, recipe: dict[str, Any] | None) -> EncodedEntry:
        """Raises TypeError or ValueError when the recipe is not JSON (its index row, as
        :meth:`Index.put_many` writes it, could not be written either)."""
        return cls(entry.key, entry.row(), None if recipe is None else json.dumps(recipe))

    def json_field(self, name: str) -> str:
        """The JSON text of one of the entry's JSON fields (``parts``, ``params``, ...)."""
        return str(self.row[_COLUMN_AT[name]])

    def recipe_rows(self) -> list[tuple[str, str]]:
        return [] if self.recipe is None else [(self.key, self.recipe)]


_COLUMN_AT = {name: at for at, name in enumerate(COLUMNS)}

_T = TypeVar("_T")
_P = ParamSpec("_P")
_memory_ids = itertools.count()

OnDamage = Callable[["Index", BaseException], None]
"""Called when a query meets a damaged database; it replaces the database (or raises)."""


def _guarded(
    action: str,
) -> Callable[[Callable[Concatenate[Index, _P], _T]], Callable[Concatenate[Index, _P], _T]]:
    """Run an index method so that damage met by any query is handled like damage at
    opening (the index is rebuilt, then the query runs once more), and every other SQLite
    failure is raised as :class:`IndexUnavailable`, never taken for damage."""

    def wrap(method: Callable[Concatenate[Index, _P], _T]) -> Callable[Concatenate[Index, _P], _T]:
        @functools.wraps(method)
        def run(self: Index, /, *args: _P.args, **kwargs: _P.kwargs) -> _T:
            generation = self._generation
            try:
                return method(self, *args, **kwargs)
            except IndexUnavailable:
                raise
            except sqlite3.Error as exc:
                kind = classify(exc)
                if kind != "corrupt":
                    raise IndexUnavailable(action, exc, self.path.parent) from exc
                state = self._thread_state
                if generation != self._generation:  # another thread has rebuilt it meanwhile
                    return method(self, *args, **kwargs)
                if self.on_damage is None or getattr(state, "recovering", False):
                    raise
                state.recovering = True
                try:
                    self.on_damage(self, exc)
                except OSError as failure:  # the rebuild itself could not be done
                    raise IndexUnavailable("be rebuilt", failure) from exc
                finally:
                    state.recovering = False
                return method(self, *args, **kwargs)

        return run

    return wrap


class Index:
    """The ``index.sqlite`` of a store.

    ``read_only`` opens it without writing (``immutable`` when nothing else can change the
    file, as on a read-only mount); ``memory`` keeps it in this process only, for a store
    whose file cannot be used (it is filled from the manifests by the caller).
    """

    def __init__(
        self,
        path: Path,
        *,
        read_only: bool = False,
        immutable: bool = True,
        memory: bool = False,
        on_damage: OnDamage | None = None,
    ) -> None:
        self.path = path
        self.read_only = read_only
        """Opened without writing: writes raise, hit counts are dropped."""
        self.immutable = immutable
        self.on_damage = on_damage
        self.memory_uri: str | None = None
        """Set when the index lives in this process's memory only (see :meth:`use_memory`)."""
        self._keeper: sqlite3.Connection | None = None
        self._thread_state = threading.local()
        self._generation = 0
        self._local = threading.local()
        self._connections: set[sqlite3.Connection] = set()
        """Every connection open, on any thread (each thread's is in :attr:`_local`)."""
        self._connections_lock = threading.Lock()
        self._hits: dict[str, tuple[int, float]] = {}
        self._hits_lock = threading.Lock()
        self._last_flush = time.monotonic()
        self.identity = self._file_identity()
        _open_indexes.add(self)
        if memory:
            self.use_memory()
        elif not read_only:
            self.conn.executescript(_SCHEMA)  # idempotent; executescript commits by itself
            self._migrate()

    def _file_identity(self) -> tuple[int, int] | None:
        try:
            st = self.path.stat()
        except OSError:
            return None
        return st.st_dev, st.st_ino

    def replaced(self) -> bool:
        """Whether the file at :attr:`path` is no longer the one this index opened (another
        process rebuilt it)."""
        return self.memory_uri is None and self._file_identity() != self.identity

    def reopen(self) -> None:
        """Use the file now at :attr:`path` (after it was rebuilt): every thread reconnects."""
        self._generation += 1
        self.release_connection()
        self.identity = self._file_identity()

    def use_memory(self) -> None:
        """Keep the index in this process's memory from now on (the file cannot be used)."""
        self.memory_uri = (
            f"file:hitnb-index-{os.getpid()}-{next(_memory_ids)}?mode=memory&cache=shared"
        )
        self.read_only = False
        self._generation += 1
        self.release_connection()
        self._keeper = sqlite3.connect(self.memory_uri, uri=True, isolation_level=None,
                                       check_same_thread=False)  # fmt: skip
        self._keeper.executescript(_SCHEMA)

    # -- connections ----------------------------------------------------------------------
    def _migrate(self) -> None:
        """Bring an index written by an older hitnb up to this schema (columns only grow).

        Nothing is written when it is up to date, so a full disk does not stop opening."""
        present = {row[1] for row in self.conn.execute("PRAGMA table_info(entries)")}
        row = self.conn.execute("SELECT value FROM meta WHERE name = 'schema_version'").fetchone()
        if row is not None and row[0] == str(SCHEMA_VERSION) and present >= set(COLUMNS):
            return
        with self.transaction() as conn:
            for name, definition in _ADDED_COLUMNS.items():
                if name not in present:
                    conn.execute(f"ALTER TABLE entries ADD COLUMN {definition}")
            conn.execute(
                "INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),)
            )

    @property
    def conn(self) -> sqlite3.Connection:
        """This thread's connection; a forked child gets new ones (see :func:`_after_fork`),
        and every thread a new one after :meth:`reopen` or :meth:`close`."""
        local = self._local
        conn: sqlite3.Connection | None = getattr(local, "conn", None)
        if conn is None or local.generation != self._generation:
            if conn is not None:
                self._close(conn)
            conn = local.conn = self._connect()
            local.generation = self._generation
            with self._connections_lock:
                self._connections.add(conn)
        return conn

    def _forget_after_fork(self) -> None:
        """In a forked child: drop the parent's connections (unclosed: they are the
        parent's), pending hits and lock state."""
        self._local = threading.local()
        self._connections = set()
        self._connections_lock = threading.Lock()
        self._hits = {}
        self._hits_lock = threading.Lock()

    def _connect(self) -> sqlite3.Connection:
        """A new connection, which any thread may close (see :meth:`close`)."""
        if self.memory_uri is not None:
            return sqlite3.connect(self.memory_uri, uri=True, timeout=60.0, isolation_level=None,
                                   check_same_thread=False)  # fmt: skip
        if self.read_only:  # immutable: no -wal/-shm can be made, and nobody changes the file
            uri = f"file:{self.path}?{'immutable=1' if self.immutable else 'mode=ro'}"
            return sqlite3.connect(uri, uri=True, timeout=60.0, isolation_level=None,
                                   check_same_thread=False)  # fmt: skip
        existed = self.path.exists()
        conn = sqlite3.connect(self.path, timeout=60.0, isolation_level=None,
                               check_same_thread=False)  # fmt: skip
        if not existed:
            self.path.chmod(0o600)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        return conn

    def _close(self, conn: sqlite3.Connection) -> None:
        """Close ``conn`` and forget it. Closed it must be: a ``sqlite3.Connection`` sits in
        a reference cycle with its statement cache, so one merely dropped keeps its files
        open until the garbage collector runs."""
        with self._connections_lock:
            self._connections.discard(conn)
        with contextlib.suppress(sqlite3.Error):
            conn.close()

    def close(self) -> None:
        """Write the hits counted and close every connection, on every thread: no file of
        the index stays open (a store closed can be unmounted). Threads querying the index
        meanwhile must be done; the next query of any thread opens a new connection."""
        self.flush_hits()
        self._generation += 1
        with self._connections_lock:
            opened, self._connections = self._connections, set()
        for conn in opened:
            self._close(conn)
        self._local = threading.local()

    def release_connection(self) -> None:
        """Close this thread's connection, if it has one; its next query opens another. A
        thread that writes now and then (the row writer) keeps no file open meanwhile."""
        local = self._local
        conn = getattr(local, "conn", None)
        if conn is not None:
            local.conn = None
            self._close(conn)

    class _Transaction:
        def __init__(self, conn: sqlite3.Connection) -> None:
            self.conn = conn

        def __enter__(self) -> sqlite3.Connection:
            self.conn.execute("BEGIN IMMEDIATE")
            return self.conn

        def __exit__(self, exc_type: object, *_: object) -> None:
            if exc_type is None:
                self.conn.execute("COMMIT")
            elif self.conn.in_transaction:
                with contextlib.suppress(sqlite3.Error):  # the error that made us roll back
                    self.conn.execute("ROLLBACK")  # is the one to report

    def transaction(self) -> Index._Transaction:
        """A write transaction, taken up front so concurrent writers queue instead of failing.

        A write never goes to a file another process has replaced (after rebuilding a damaged
        index): that costs a ``stat`` per write, nothing per read."""
        if self.replaced():
            self.reopen()
        return Index._Transaction(self.conn)

    # -- health ---------------------------------------------------------------------------
    @_guarded("be checked")
    def check(self) -> list[str]:
        """SQLite's own consistency check (``PRAGMA integrity_check``) and hitnb's of the
        values in every row: an empty list if both pass."""
        rows = [str(r[0]) for r in self.conn.execute("PRAGMA integrity_check").fetchall()]
        problems = [] if rows == ["ok"] else rows
        bad = self.conn.execute(f"SELECT key FROM entries WHERE NOT {_SANE} LIMIT 5").fetchall()
        problems += [f"the row of entry {r[0]!r} holds impossible values" for r in bad]
        bad = self.conn.execute(
            "SELECT key FROM recipes WHERE NOT json_valid(recipe) LIMIT 5"
        ).fetchall()
        problems += [f"the recipe of entry {r[0]!r} is not JSON" for r in bad]
        return problems + self._undecodable()

    def _undecodable(self) -> list[str]:
        """Tables holding text that is not UTF-8: garbage SQLite's check lets pass, which
        Python's sqlite3 refuses to read (every row is read once)."""
        problems = []
        for table in ("entries", "recipes", "output_digests", "meta"):
            try:
                for _ in self.conn.execute(f"SELECT * FROM {table}"):
                    pass
            except sqlite3.OperationalError as exc:
                if classify(exc) != "corrupt":
                    raise
                problems.append(f"a row of the table {table} holds text that is not UTF-8 ({exc})")
        return problems

    @_guarded("list keys")
    def keys(self) -> set[str]:
        """Every key with a row."""
        return {r[0] for r in self.conn.execute("SELECT key FROM entries")}

    @_guarded("look up a key prefix")
    def keys_with_prefix(self, prefix: str, *, limit: int = 2) -> list[str]:
        """Up to ``limit`` keys starting with ``prefix`` (to resolve a short key)."""
        rows = self.conn.execute(
            "SELECT key FROM entries WHERE key >= ? AND key < ? ORDER BY key LIMIT ?",
            (prefix, prefix + "g", int(limit)),
        ).fetchall()
        return [str(r[0]) for r in rows]

    # -- reads ----------------------------------------------------------------------------
    @_guarded("read an entry")
    def get(self, key: str) -> Entry | None:
        row = self.conn.execute(
            f"SELECT {', '.join(COLUMNS)}, {_SANE} FROM entries WHERE key = ?", (key,)
        ).fetchone()
        if row is None:
            return None
        entry = Entry.from_row(row)
        if entry.key != key:
            raise _malformed(f"the row found for entry {key} is not that entry's")
        return entry

    @_guarded("read an entry")
    def find(self, key: str) -> Stored | None:
        """What loading the value of ``key`` needs, in one cheap point query."""
        row = self.conn.execute(_STORED_SQL, (key,)).fetchone()
        return None if row is None else _stored(row, key)

    @_guarded("look up an entry")
    def contains(self, key: str) -> bool:
        return (
            self.conn.execute("SELECT 1 FROM entries WHERE key = ?", (key,)).fetchone() is not None
        )

    @_guarded("list entries")
    def entries(
        self,
        function: str | None = None,
        *,
        experiment: bool | None = None,
        keys: Iterable[str] | None = None,
        code: str | None = None,
        limit: int | None = None,
    ) -> list[Entry]:
        """Entries, newest first, filtered by function name, experiment flag, keys or code
        version."""
        where: list[str] = []
        params: list[Any] = []
        if function is not None:
            where.append("function = ?")
            params.append(function)
        if code is not None:
            where.append("code = ?")
            params.append(code)
        if experiment is not None:
            where.append("experiment = ?")
            params.append(int(experiment))
        if keys is not None:
            key_list = list(keys)
            where.append(f"key IN ({', '.join('?' * len(key_list))})")
            params.extend(key_list)
        sql = f"SELECT {', '.join(COLUMNS)}, {_SANE} FROM entries"
        if where:
            sql += " WHERE " + " AND ".join(where)
        self.flush_hits()
        sql += " ORDER BY created DESC"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        rows = self.conn.execute(sql, params).fetchall()
        return [Entry.from_row(r) for r in rows]

    @_guarded("list entries")
    def listing(self, *, experiment: bool | None = None) -> list[Listed]:
        """What a listing shows of every entry, newest first: cheap even for 100,000 rows,
        since no JSON column is read."""
        self.flush_hits()
        where = "" if experiment is None else f"WHERE experiment = {int(experiment)}"
        sql = (
            f"SELECT key, function, created, duration, size, hits, experiment, status, {_SANE} "
            f"FROM entries {where} ORDER BY created DESC"
        )
        rows = self.conn.execute(sql).fetchall()
        for row in rows:
            if not row[-1]:
                raise _malformed(f"the row of entry {row[0]!r} holds impossible values")
        return [Listed._make(row[:-1]) for row in rows]

    @_guarded("look up a blob")
    def blob_in_use(self, blob_id: str, besides: Collection[str] = ()) -> bool:
        """Whether a row names the blob, the rows of the entries ``besides`` aside."""
        sql = "SELECT key FROM entries WHERE blob = ? LIMIT ?"
        rows = self.conn.execute(sql, (blob_id, len(besides) + 1))
        return any(key not in besides for (key,) in rows)

    def __iter__(self) -> Iterator[Entry]:
        return iter(self.entries())

    def _check_values(self) -> None:
        """Raise (as damage) if any row holds values hitnb never writes (one scan)."""
        row = self.conn.execute(f"SELECT key FROM entries WHERE NOT {_SANE} LIMIT 1").fetchone()
        if row is not None:
            raise _malformed(f"the row of entry {row[0]!r} holds impossible values")

    @_guarded("count entries")
    def count(self) -> int:
        return int(self.conn.execute("SELECT COUNT(*) FROM entries").fetchone()[0])

    @_guarded("sum sizes")
    def total_size(self) -> int:
        """Bytes the entries take: inline data, plus each distinct blob once."""
        inline, blobs = self.conn.execute(
            "SELECT (SELECT COALESCE(SUM(size), 0) FROM entries WHERE blob IS NULL),"
            " (SELECT COALESCE(SUM(size), 0) FROM"
            "  (SELECT blob, MAX(size) AS size FROM entries WHERE blob IS NOT NULL GROUP BY blob))"
        ).fetchone()
        return int(inline) + int(blobs)

    @_guarded("sum sizes")
    def bytes_since(self, created: float) -> int:
        """Bytes of the entries created at or after ``created`` (an upper bound of what was
        added since: an indexed range, cheap enough to ask after every write)."""
        row = self.conn.execute(
            "SELECT COALESCE(SUM(size), 0) FROM entries WHERE created >= ?", (created,)
        ).fetchone()
        return int(row[0])

    @_guarded("sum sizes")
    def by_function(self) -> list[tuple[str, int, int, int]]:
        """(function, entries, experiments, bytes) for every function, most bytes first."""
        self._check_values()
        rows = self.conn.execute(
            "SELECT function, COUNT(*), SUM(experiment), SUM(size) FROM entries"
            " GROUP BY function ORDER BY SUM(size) DESC"
        ).fetchall()
        return [(f, int(n), int(e), int(s)) for f, n, e, s in rows]

    @_guarded("list entries")
    def least_recently_used(self, *, include_experiments: bool) -> list[tuple[str, int, float]]:
        """(key, size, last access) of evictable entries, least recently used first."""
        self.flush_hits()
        self._check_values()
        where = "" if include_experiments else "WHERE experiment = 0"
        sql = f"SELECT key, size, last_access FROM entries {where} ORDER BY last_access, created"
        return [(k, int(s), float(t)) for k, s, t in self.conn.execute(sql).fetchall()]

    # -- writes ---------------------------------------------------------------------------
    def put(self, entry: Entry, recipe: dict[str, Any] | None = None) -> None:
        """Insert or replace one entry (and its recipe) in one transaction."""
        self.put_many([entry], {entry.key: recipe} if recipe is not None else None)

    @_guarded("store a recipe")
    def put_recipe(self, key: str, recipe: dict[str, Any]) -> None:
        """How to make entry ``key`` again (see :mod:`hitnb.core.recipe`); kept apart from the
        entries so listing them never reads sources."""
        with self.transaction() as conn:
            conn.execute("INSERT OR REPLACE INTO recipes VALUES (?, ?)", (key, json.dumps(recipe)))

    @_guarded("read a recipe")
    def recipe(self, key: str) -> dict[str, Any] | None:
        row = self.conn.execute("SELECT recipe FROM recipes WHERE key = ?", (key,)).fetchone()
        if row is None:
            return None
        try:
            recipe: dict[str, Any] = json.loads(row[0])
        except (ValueError, TypeError) as exc:
            raise _malformed(f"the recipe of entry {key}: {exc}") from exc
        return recipe

    def put_many(
        self,
        entries: Iterable[Entry],
        recipes: dict[str, dict[str, Any]] | None = None,
        *,
        replace: bool = True,
        counts: bool = True,
    ) -> None:
        """Insert or replace entries (and recipes, by key) in one transaction; with
        ``replace=False`` a row already there is kept (it may be newer than the caller's).
        The hits counted in memory are written after them, unless ``counts`` is False."""
        rows = [e.row() for e in entries]
        recipe_rows = [(key, json.dumps(recipe)) for key, recipe in (recipes or {}).items()]
        self.put_rows(rows, recipe_rows, replace=replace, counts=counts)

    @_guarded("store entries")
    def put_rows(
        self,
        rows: list[tuple[Any, ...]],
        recipes: list[tuple[str, str]],
        *,
        replace: bool = True,
        counts: bool = True,
    ) -> None:
        """:meth:`put_many` of rows encoded already (:meth:`Entry.row`, and each recipe as
        ``(key, JSON text)``): a new entry's are encoded once, for its manifest and its row
        (see :class:`EncodedEntry`), and outside the write transaction."""
        placeholders = ", ".join("?" * len(COLUMNS))
        verb = "INSERT OR REPLACE" if replace else "INSERT OR IGNORE"
        with self.transaction() as conn:
            sql = f"{verb} INTO entries ({', '.join(COLUMNS)}) VALUES ({placeholders})"
            conn.executemany(sql, rows)
            if recipes:
                conn.executemany(f"{verb} INTO recipes VALUES (?, ?)", recipes)
        if counts:
            self.flush_hits()

    @_guarded("store digests")
    def learn_digests(self, rows: Iterable[tuple[str, str, str, str]]) -> None:
        """Keep ``(key, checksum, name, digest)``: the digest of output ``name`` of the entry
        ``key`` whose bytes have ``checksum``, learned after it was stored."""
        with self.transaction() as conn:
            conn.executemany("INSERT OR REPLACE INTO output_digests VALUES (?, ?, ?, ?)", rows)

    @_guarded("read digests")
    def learned_digests(self, key: str, checksum: str) -> dict[str, str]:
        """The digests learned for the outputs of entry ``key`` as its bytes are now (rows
        learned for bytes stored before under the same key do not count)."""
        rows = self.conn.execute(
            "SELECT name, digest FROM output_digests WHERE key = ? AND checksum = ?",
            (key, checksum),
        ).fetchall()
        return {str(name): str(digest) for name, digest in rows}

    @_guarded("remove entries")
    def delete(self, keys: Iterable[str]) -> list[Entry]:
        """Remove entries; return what was removed so the caller can free their blobs."""
        key_list = list(keys)
        if not key_list:
            return []
        removed = self.entries(keys=key_list)
        with self.transaction() as conn:
            conn.executemany("DELETE FROM entries WHERE key = ?", [(k,) for k in key_list])
            conn.executemany("DELETE FROM recipes WHERE key = ?", [(k,) for k in key_list])
            conn.executemany("DELETE FROM output_digests WHERE key = ?", [(k,) for k in key_list])
        return removed

    def note_hit(self, key: str) -> None:
        """Count a hit in memory; written with the next write or every couple of seconds."""
        now = time.time()
        with self._hits_lock:
            count = self._hits.get(key, (0, 0.0))[0]
            self._hits[key] = (count + 1, now)
        if time.monotonic() - self._last_flush > _HIT_FLUSH_SECONDS:
            self.flush_hits()

    def flush_hits(self) -> None:
        with self._hits_lock:
            pending, self._hits = self._hits, {}
            self._last_flush = time.monotonic()
        if not pending or self.read_only:
            return
        try:
            with self.transaction() as conn:
                conn.executemany(
                    "UPDATE entries SET hits = hits + ?, last_access = max(last_access, ?) "
                    "WHERE key = ?",
                    [(n, t, k) for k, (n, t) in pending.items()],
                )
        except sqlite3.Error:
            pass  # counts are a convenience: a full disk or a busy file drops them, no more
